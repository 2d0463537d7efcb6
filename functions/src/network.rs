//! Trino's `IPADDRESS` and `UUID` values (carried as their canonical text) and
//! `contains(network, address)`, which shares its name with the array `contains`: one function
//! serves both, by the type of its first argument.

use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanBuilder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::functions_nested::array_has::array_has_udf;
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::args::strings;
use crate::udf::{ArrayFunction, text};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("ipaddress", &[1], text, ipaddress),
        ArrayFunction::udf("uuid_value", &[1], text, uuid_value),
        Arc::new(ScalarUDF::new_from_impl(Contains::new())),
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
    let texts = strings(&args[0])?;
    let mut out = StringBuilder::new();
    for i in 0..texts.len() {
        if texts.is_null(i) {
            out.append_null();
            continue;
        }
        match address(texts.value(i)) {
            Some(a) => out.append_value(canonical(a)),
            None => return exec_err!("cannot cast {:?} to IPADDRESS", texts.value(i)),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `UUID 'text'`: the UUID in lower case; anything but 32 hex digits in 8-4-4-4-12 groups is
/// an error naming it.
fn uuid_value(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = StringBuilder::new();
    for i in 0..texts.len() {
        if texts.is_null(i) {
            out.append_null();
            continue;
        }
        let text = texts.value(i).trim();
        let groups: Vec<&str> = text.split('-').collect();
        let shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && groups
                .iter()
                .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
        if !shaped {
            return exec_err!("cannot cast {text:?} to UUID");
        }
        out.append_value(text.to_ascii_lowercase());
    }
    Ok(Arc::new(out.finish()))
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

/// `contains(array, element)` (DataFusion's `array_has`) and `contains(network, address)`.
#[derive(Debug)]
struct Contains {
    array_has: Arc<ScalarUDF>,
    signature: Signature,
}

impl Contains {
    fn new() -> Self {
        Contains {
            array_has: array_has_udf(),
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl PartialEq for Contains {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Contains {}

impl Hash for Contains {
    fn hash<H: Hasher>(&self, state: &mut H) {
        "contains".hash(state);
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

impl ScalarUDFImpl for Contains {
    fn name(&self) -> &str {
        "contains"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [network, _] if is_text(network) => Ok(vec![DataType::Utf8, DataType::Utf8]),
            _ => {
                let fields: Vec<_> = arg_types
                    .iter()
                    .map(|t| Arc::new(arrow::datatypes::Field::new("arg", t.clone(), true)))
                    .collect();
                Ok(fields_with_udf(&fields, self.array_has.as_ref())?
                    .iter()
                    .map(|f| f.data_type().clone())
                    .collect())
            }
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let first = args.args.first().map(ColumnarValue::data_type);
        if !first.as_ref().is_some_and(is_text) {
            return self.array_has.invoke_with_args(args);
        }
        let rows = args.number_rows;
        let [network, address] = args.args.as_slice() else {
            return exec_err!("contains takes a network and an address");
        };
        let (networks, addresses) = (
            strings(&network.to_array(rows)?)?,
            strings(&address.to_array(rows)?)?,
        );
        let mut out = BooleanBuilder::new();
        for i in 0..rows {
            if networks.is_null(i) || addresses.is_null(i) {
                out.append_null();
            } else {
                out.append_value(in_network(networks.value(i), addresses.value(i))?);
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
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
