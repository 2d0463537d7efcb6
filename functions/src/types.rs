//! Arrow types as Trino names them: the `type` string and the structured `typeSignature`
//! clients build their value decoders from (the Python client reads `rawType` and
//! `arguments`; JDBC the string).

use arrow::datatypes::{DataType, Field, TimeUnit};
use serde_json::{Value, json};

/// Trino's name for `data_type`: `bigint`, `decimal(15,2)`, `timestamp(6)`, `array(varchar)`,
/// `row(a bigint, b varchar)`. Types Trino has no counterpart for are sent as `varchar`
/// (their values as Arrow prints them), never refused.
pub fn type_name(data_type: &DataType) -> String {
    let signature = signature(data_type);
    name_of(&signature)
}

/// The `typeSignature` object of `data_type`.
pub fn signature(data_type: &DataType) -> Value {
    match data_type {
        DataType::Boolean => simple("boolean"),
        DataType::Int8 => simple("tinyint"),
        DataType::Int16 | DataType::UInt8 => simple("smallint"),
        DataType::Int32 | DataType::UInt16 => simple("integer"),
        DataType::Int64 | DataType::UInt32 => simple("bigint"),
        DataType::UInt64 => decimal(20, 0),
        DataType::Float16 | DataType::Float32 => simple("real"),
        DataType::Float64 => simple("double"),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            decimal(*p, *s)
        }
        // Trino's decimals stop at 38 digits; wider ones are carried as their text.
        DataType::Decimal256(p, s) if *p <= 38 => decimal(*p, *s),
        DataType::Date32 | DataType::Date64 => simple("date"),
        DataType::Time32(unit) | DataType::Time64(unit) => with_precision("time", unit),
        DataType::Timestamp(unit, None) => with_precision("timestamp", unit),
        DataType::Timestamp(unit, Some(_)) => with_precision("timestamp with time zone", unit),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => simple("varbinary"),
        DataType::Null => simple("unknown"),
        DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth) => {
            simple("interval year to month")
        }
        DataType::Interval(_) => simple("interval day to second"),
        DataType::List(field)
        | DataType::LargeList(field)
        | DataType::ListView(field)
        | DataType::LargeListView(field)
        | DataType::FixedSizeList(field, _) => json!({
            "rawType": "array",
            "arguments": [{ "kind": "TYPE", "value": signature(field.data_type()) }],
        }),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => json!({
                "rawType": "map",
                "arguments": [
                    { "kind": "TYPE", "value": signature(fields[0].data_type()) },
                    { "kind": "TYPE", "value": signature(fields[1].data_type()) },
                ],
            }),
            _ => varchar(),
        },
        DataType::Struct(fields) => json!({
            "rawType": "row",
            "arguments": fields.iter().map(|f| named(f)).collect::<Vec<_>>(),
        }),
        DataType::Dictionary(_, value) => signature(value),
        _ => varchar(),
    }
}

fn simple(raw: &str) -> Value {
    json!({ "rawType": raw, "arguments": [] })
}

fn varchar() -> Value {
    json!({
        "rawType": "varchar",
        "arguments": [{ "kind": "LONG", "value": i32::MAX }],
    })
}

fn decimal(precision: u8, scale: i8) -> Value {
    json!({
        "rawType": "decimal",
        "arguments": [
            { "kind": "LONG", "value": precision },
            { "kind": "LONG", "value": scale.max(0) },
        ],
    })
}

fn with_precision(raw: &str, unit: &TimeUnit) -> Value {
    json!({
        "rawType": raw,
        "arguments": [{ "kind": "LONG", "value": precision_of(unit) }],
    })
}

/// Digits after the second of a time unit.
pub fn precision_of(unit: &TimeUnit) -> usize {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

fn named(field: &Field) -> Value {
    json!({
        "kind": "NAMED_TYPE",
        "value": {
            "fieldName": { "name": field.name(), "delimited": false },
            "typeSignature": signature(field.data_type()),
        },
    })
}

/// The type string of a signature, as Trino prints it.
fn name_of(signature: &Value) -> String {
    let raw = signature["rawType"].as_str().unwrap_or("varchar");
    let arguments = signature["arguments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let unbounded_varchar = raw == "varchar"
        && arguments.first().and_then(|a| a["value"].as_i64()) == Some(i32::MAX.into());
    if arguments.is_empty() || unbounded_varchar {
        return raw.to_string();
    }
    let parts: Vec<String> = arguments
        .iter()
        .map(|argument| match argument["kind"].as_str() {
            Some("TYPE") => name_of(&argument["value"]),
            Some("NAMED_TYPE") => format!(
                "{} {}",
                argument["value"]["fieldName"]["name"]
                    .as_str()
                    .unwrap_or(""),
                name_of(&argument["value"]["typeSignature"])
            ),
            _ => argument["value"].to_string(),
        })
        .collect();
    // `timestamp(6) with time zone`: the precision goes after the first word.
    if let Some(base) = raw.strip_suffix(" with time zone") {
        return format!("{base}({}) with time zone", parts.join(","));
    }
    let separator = if matches!(raw, "array" | "map" | "row") {
        ", "
    } else {
        ","
    };
    format!("{raw}({})", parts.join(separator))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn names_match_trino() {
        assert_eq!(type_name(&DataType::Int64), "bigint");
        assert_eq!(type_name(&DataType::Utf8), "varchar");
        assert_eq!(type_name(&DataType::Decimal128(15, 2)), "decimal(15,2)");
        assert_eq!(
            type_name(&DataType::Timestamp(TimeUnit::Microsecond, None)),
            "timestamp(6)"
        );
        assert_eq!(
            type_name(&DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            )),
            "timestamp(6) with time zone"
        );
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int32, true)));
        assert_eq!(type_name(&list), "array(integer)");
        let row = DataType::Struct(
            vec![
                Field::new("a", DataType::Int64, true),
                Field::new("b", DataType::Boolean, true),
            ]
            .into(),
        );
        assert_eq!(type_name(&row), "row(a bigint, b boolean)");
    }
}
