//! Trino's functions whose result zone comes from a constant argument:
//! `from_iso8601_timestamp[_nanos](text)` (the zone the text names, else UTC) and
//! `with_timezone(timestamp, zone)` (the wall time read in `zone`); and `parse_duration`.
//! An Arrow timestamp carries one zone per column, so the zone is read from the constant
//! while planning; a column of zones is an error that says so.

use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use arrow::array::timezone::Tz;
use arrow::array::{
    Array, ArrayRef, AsArray, IntervalMonthDayNanoBuilder, PrimitiveArray, TimestampNanosecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Field, FieldRef, IntervalMonthDayNano, IntervalUnit, TimeUnit,
    TimestampNanosecondType,
};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

use crate::args::strings;
use crate::udf::ArrayFunction;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Zoned::udf(
            "from_iso8601_timestamp",
            1,
            Kind::Iso8601(TimeUnit::Millisecond),
        ),
        Zoned::udf(
            "from_iso8601_timestamp_nanos",
            1,
            Kind::Iso8601(TimeUnit::Nanosecond),
        ),
        Zoned::udf("with_timezone", 2, Kind::WithTimezone),
        ArrayFunction::udf("parse_duration", &[1], day_to_second, parse_duration),
    ]
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Kind {
    /// Text in ISO 8601, parsed to an instant of this precision.
    Iso8601(TimeUnit),
    /// A timestamp's wall time read in the zone of the second argument.
    WithTimezone,
}

#[derive(Debug)]
struct Zoned {
    name: &'static str,
    kind: Kind,
    signature: Signature,
}

impl Zoned {
    fn udf(name: &'static str, arity: usize, kind: Kind) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(Zoned {
            name,
            kind,
            signature: Signature::new(TypeSignature::Any(arity), Volatility::Immutable),
        }))
    }
}

impl PartialEq for Zoned {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zoned {}

impl Hash for Zoned {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The text of a constant string argument.
fn constant_text(value: Option<&ScalarValue>) -> Option<String> {
    match value? {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

/// A zone Arrow can carry, as Trino writes it (`UTC`, `+01:00`, `America/New_York`).
fn zone_named(text: &str) -> Result<String> {
    let text = text.trim();
    let zone = match text {
        "Z" | "UT" | "GMT" => "UTC",
        _ => text,
    };
    match Tz::from_str(zone) {
        Ok(_) => Ok(zone.to_string()),
        Err(_) => exec_err!("time zone {text:?} is not a zone name or a +hh:mm offset"),
    }
}

/// ISO 8601 text split into its local part and the zone it names, if any.
fn iso_parts(text: &str) -> (&str, Option<&str>) {
    let text = text.trim();
    let Some(t) = text.find('T') else {
        return (text, None);
    };
    if let Some(local) = text.strip_suffix('Z') {
        return (local, Some("Z"));
    }
    match text[t..].rfind(['+', '-']) {
        Some(at) => (&text[..t + at], Some(&text[t + at..])),
        None => (text, None),
    }
}

/// A `+hh[:mm]` offset as Arrow writes it, `+hh:mm`.
fn offset_zone(offset: &str) -> Option<String> {
    if offset == "Z" {
        return Some("UTC".into());
    }
    let (sign, digits) = offset.split_at(1);
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    let (hours, minutes) = match digits.len() {
        2 => (digits.as_str(), "00"),
        4 => digits.split_at(2),
        _ => return None,
    };
    let (h, m) = (hours.parse::<u32>().ok()?, minutes.parse::<u32>().ok()?);
    (h < 24 && m < 60).then(|| format!("{sign}{h:02}:{m:02}"))
}

fn iso_local(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
}

/// ISO 8601 text as nanoseconds since the epoch; its zone when it names one, else UTC.
fn iso_instant(text: &str) -> Result<i64> {
    let (local, zone) = iso_parts(text);
    let (Some(local), zone) = (iso_local(local), zone.map(offset_zone)) else {
        return exec_err!("{text:?} is not an ISO 8601 timestamp");
    };
    let offset = match zone {
        None => 0,
        Some(Some(zone)) if zone == "UTC" => 0,
        Some(Some(zone)) => match FixedOffset::from_str(&zone) {
            Ok(o) => o.local_minus_utc(),
            Err(_) => return exec_err!("{text:?} has an invalid zone offset"),
        },
        Some(None) => return exec_err!("{text:?} has an invalid zone offset"),
    };
    let utc = local - chrono::Duration::seconds(i64::from(offset));
    match utc.and_utc().timestamp_nanos_opt() {
        Some(n) => Ok(n),
        None => exec_err!("{text:?} is out of the timestamp range"),
    }
}

/// The wall time `local` (nanoseconds since the epoch read as UTC) in `zone`, as an instant.
fn in_zone(local: i64, zone: &Tz) -> Result<i64> {
    let wall = chrono::DateTime::from_timestamp_nanos(local).naive_utc();
    match zone.from_local_datetime(&wall).earliest() {
        Some(t) => match t.timestamp_nanos_opt() {
            Some(n) => Ok(n),
            None => exec_err!("{wall} is out of the timestamp range"),
        },
        None => exec_err!("{wall} does not exist in that zone"),
    }
}

impl ScalarUDFImpl for Zoned {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("{} has its type from its arguments", self.name)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let data_type = match self.kind {
            Kind::Iso8601(unit) => {
                let zone = constant_text(args.scalar_arguments.first().copied().flatten())
                    .and_then(|text| iso_parts(&text).1.and_then(offset_zone))
                    .unwrap_or_else(|| "UTC".into());
                DataType::Timestamp(unit, Some(zone.into()))
            }
            Kind::WithTimezone => {
                let unit = match args.arg_fields[0].data_type() {
                    DataType::Timestamp(unit, _) => *unit,
                    _ => TimeUnit::Millisecond,
                };
                let Some(zone) = constant_text(args.scalar_arguments.get(1).copied().flatten())
                else {
                    return plan_err!("with_timezone takes a constant zone name");
                };
                DataType::Timestamp(unit, Some(zone_named(&zone)?.into()))
            }
        };
        Ok(Arc::new(Field::new(self.name, data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let first = args.args[0].to_array(rows)?;
        let nanos: TimestampNanosecondArray = match self.kind {
            Kind::Iso8601(_) => {
                let texts = strings(&first)?;
                (0..texts.len())
                    .map(|i| {
                        (!texts.is_null(i))
                            .then(|| iso_instant(texts.value(i)))
                            .transpose()
                    })
                    .collect::<Result<_>>()?
            }
            Kind::WithTimezone => {
                let DataType::Timestamp(_, Some(zone)) = args.return_field.data_type() else {
                    return exec_err!("with_timezone returns a zoned timestamp");
                };
                let zone = match Tz::from_str(zone) {
                    Ok(zone) => zone,
                    Err(e) => return exec_err!("with_timezone: {e}"),
                };
                let local = match first.data_type() {
                    DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64 => {
                        cast(&first, &DataType::Timestamp(TimeUnit::Nanosecond, None))?
                    }
                    other => return exec_err!("with_timezone takes a timestamp, got {other}"),
                };
                let local = local.as_primitive::<TimestampNanosecondType>();
                local
                    .iter()
                    .map(|t| t.map(|t| in_zone(t, &zone)).transpose())
                    .collect::<Result<_>>()?
            }
        };
        let target = args.return_field.data_type();
        let DataType::Timestamp(unit, zone) = target else {
            return exec_err!("{} returns a timestamp", self.name);
        };
        let utc: PrimitiveArray<TimestampNanosecondType> = nanos.with_timezone("UTC");
        let out = cast(&utc, &DataType::Timestamp(*unit, Some("UTC".into())))?;
        let out = cast(&out, &DataType::Timestamp(*unit, zone.clone()))?;
        Ok(ColumnarValue::Array(out))
    }
}

fn day_to_second(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Interval(IntervalUnit::MonthDayNano))
}

/// `parse_duration('3.81 d')`: a number and a unit (`ns` to `d`) as a day-to-second
/// interval, rounded to milliseconds as Trino's interval keeps them.
fn parse_duration(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = IntervalMonthDayNanoBuilder::new();
    for i in 0..texts.len() {
        if texts.is_null(i) {
            out.append_null();
            continue;
        }
        let text = texts.value(i).trim();
        let split = text
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len());
        let (number, unit) = (text[..split].trim(), text[split..].trim());
        let nanos_per: f64 = match unit {
            "ns" => 1.0,
            "us" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            _ => return exec_err!("duration {text:?} has no unit of ns, us, ms, s, m, h or d"),
        };
        let Ok(value) = number.parse::<f64>() else {
            return exec_err!("duration {text:?} does not start with a number");
        };
        let millis = (value * nanos_per / 1e6).round();
        if !millis.is_finite() || millis.abs() > 9.2e12 {
            return exec_err!("duration {text:?} is out of range");
        }
        out.append_value(IntervalMonthDayNano::new(0, 0, millis as i64 * 1_000_000));
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_instants_keep_their_offsets() {
        assert_eq!(
            iso_parts("2020-05-11T11:15:05.055+01:00"),
            ("2020-05-11T11:15:05.055", Some("+01:00"))
        );
        assert_eq!(iso_parts("2020-05-11"), ("2020-05-11", None));
        assert_eq!(offset_zone("+0100").as_deref(), Some("+01:00"));
        let at = iso_instant("2020-05-11T11:15:05.055+01:00").ok();
        let utc = iso_instant("2020-05-11T10:15:05.055Z").ok();
        assert_eq!(at, utc);
        assert!(iso_instant("yesterday").is_err());
    }
}
