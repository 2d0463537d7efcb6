//! Trino's `IPADDRESS` and `UUID` values (carried as their canonical text) and
//! `contains(network, address)`, which shares its name with the array `contains`: one function
//! serves both, by the type of its first argument ([`Overloaded`]).

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::functions_nested::array_has::array_has_udf;
use datafusion::logical_expr::ScalarUDF;

use crate::args::strings;
use crate::udf::{ArrayFunction, Overloaded, boolean, map_texts, text};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("ipaddress", &[1], text, ipaddress),
        ArrayFunction::udf("uuid_value", &[1], text, uuid_value),
        // Trino's one `contains` serves arrays (DataFusion's `array_has`) and networks; its own
        // name keeps DataFusion's string `contains` for the other dialects.
        Overloaded::udf(
            "trino_contains",
            array_has_udf(),
            network_arguments,
            boolean,
            network_contains,
        ),
    ]
}

/// An address as Trino keeps it: IPv6, with IPv4 in the IPv4-mapped range.
fn address(text: &str) -> Option<Ipv6Addr> {
    match text.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => Some(v6),
    }
}

/// An address as Trino writes it: IPv4 for the mapped range, else RFC 5952's IPv6 form.
fn canonical(address: Ipv6Addr) -> String {
    match address.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => address.to_string(),
    }
}

/// `IPADDRESS 'text'`: the address in canonical form; text that is no address is an error
/// naming it.
fn ipaddress(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_texts(&args[0], |text| match address(text) {
        Some(a) => Ok(canonical(a)),
        None => exec_err!("cannot cast {text:?} to IPADDRESS"),
    })
}

/// `UUID 'text'`: the UUID in lower case; anything but 32 hex digits in 8-4-4-4-12 groups is
/// an error naming it.
fn uuid_value(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_texts(&args[0], |text| {
        let text = text.trim();
        let groups: Vec<&str> = text.split('-').collect();
        let shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && groups
                .iter()
                .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
        if !shaped {
            return exec_err!("cannot cast {text:?} to UUID");
        }
        Ok(text.to_ascii_lowercase())
    })
}

/// A CIDR network: its address (IPv6, IPv4 mapped) and the prefix length over 128 bits.
fn network(text: &str) -> Result<(u128, u32)> {
    let Some((base, bits)) = text.trim().split_once('/') else {
        return exec_err!("invalid CIDR network {text:?}: no /prefix");
    };
    let (Some(base), Ok(bits)) = (address(base), bits.parse::<u32>()) else {
        return exec_err!("invalid CIDR network {text:?}");
    };
    let is_v4 = base.to_ipv4_mapped().is_some() && !text.contains(':');
    let prefix = if is_v4 { bits + 96 } else { bits };
    if prefix > 128 || (is_v4 && bits > 32) {
        return exec_err!("invalid CIDR network {text:?}: prefix /{bits} is too long");
    }
    Ok((u128::from(base), prefix))
}

fn in_network(network_text: &str, address_text: &str) -> Result<bool> {
    let (base, prefix) = network(network_text)?;
    let Some(address) = address(address_text) else {
        return exec_err!("contains: {address_text:?} is not an IP address");
    };
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    Ok(u128::from(address) & mask == base & mask)
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// `contains(network, address)`: a text first argument is a network; any other is an array.
fn network_arguments(types: &[DataType]) -> Option<Vec<DataType>> {
    match types {
        [network, _] if is_text(network) => Some(vec![DataType::Utf8, DataType::Utf8]),
        _ => None,
    }
}

fn network_contains(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (networks, addresses) = (strings(&args[0])?, strings(&args[1])?);
    let mut out = BooleanBuilder::new();
    for i in 0..networks.len() {
        if networks.is_null(i) || addresses.is_null(i) {
            out.append_null();
        } else {
            out.append_value(in_network(networks.value(i), addresses.value(i))?);
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_hold_their_addresses() {
        assert_eq!(in_network("10.0.0.0/8", "10.255.255.255").ok(), Some(true));
        assert_eq!(in_network("10.0.0.0/8", "11.255.255.255").ok(), Some(false));
        let v6 = "2001:0db8:0:0:0:ff00:0042:8329";
        assert_eq!(in_network(&format!("{v6}/128"), v6).ok(), Some(true));
        assert_eq!(
            in_network(&format!("{v6}/128"), "2001:0db8:0:0:0:ff00:0042:8328").ok(),
            Some(false)
        );
        assert!(in_network("10.0.0.0", "10.0.0.1").is_err());
        assert_eq!(
            address("10.0.0.1").map(canonical).as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(
            address("2001:db8:0::1").map(canonical).as_deref(),
            Some("2001:db8::1")
        );
    }
}
