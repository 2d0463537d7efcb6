//! Values as Trino's JSON protocol writes them, so clients decode them with the decoders they
//! pick from [`super::types`]: integers and booleans as JSON, doubles as numbers or
//! `"NaN"`/`"Infinity"`, decimals as strings (no precision lost), dates `2024-01-31`,
//! timestamps `2024-01-31 12:00:00.000000` with as many fraction digits as the type's
//! precision, intervals `3-5` (years to months) and `2 03:00:00.000` (days to seconds),
//! varbinary base64, arrays as arrays, rows as positional arrays, maps as objects.

use arrow::array::timezone::Tz;
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType, TimeUnit,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use base64::Engine as _;
use chrono::TimeZone as _;
use serde_json::{Map, Value};

use crate::temporal::datetime_at;

use super::types::precision_of;

/// The rows of `batch`, each a JSON array of its values.
pub fn rows(batch: &RecordBatch) -> Vec<Value> {
    let columns: Vec<Vec<Value>> = batch.columns().iter().map(column_values).collect();
    (0..batch.num_rows())
        .map(|row| Value::Array(columns.iter().map(|c| c[row].clone()).collect()))
        .collect()
}

/// Every value of `array`, in order.
fn column_values(array: &ArrayRef) -> Vec<Value> {
    let array = array.as_ref();
    let values = |f: &dyn Fn(usize) -> Value| -> Vec<Value> {
        (0..array.len())
            .map(|i| if array.is_null(i) { Value::Null } else { f(i) })
            .collect()
    };
    match array.data_type() {
        DataType::Null => vec![Value::Null; array.len()],
        DataType::Boolean => values(&|i| Value::Bool(array.as_boolean().value(i))),
        DataType::Int8 => values(&|i| array.as_primitive::<Int8Type>().value(i).into()),
        DataType::Int16 => values(&|i| array.as_primitive::<Int16Type>().value(i).into()),
        DataType::Int32 => values(&|i| array.as_primitive::<Int32Type>().value(i).into()),
        DataType::Int64 => values(&|i| array.as_primitive::<Int64Type>().value(i).into()),
        DataType::UInt8 => values(&|i| array.as_primitive::<UInt8Type>().value(i).into()),
        DataType::UInt16 => values(&|i| array.as_primitive::<UInt16Type>().value(i).into()),
        DataType::UInt32 => values(&|i| array.as_primitive::<UInt32Type>().value(i).into()),
        // decimal(20,0): sent as its digits, like every decimal.
        DataType::UInt64 => {
            values(&|i| Value::String(array.as_primitive::<UInt64Type>().value(i).to_string()))
        }
        DataType::Float16 => {
            values(&|i| double(f64::from(array.as_primitive::<Float16Type>().value(i))))
        }
        DataType::Float32 => {
            values(&|i| double(f64::from(array.as_primitive::<Float32Type>().value(i))))
        }
        DataType::Float64 => values(&|i| double(array.as_primitive::<Float64Type>().value(i))),
        DataType::Timestamp(unit, None) => values(&|i| match timestamp(array, unit, i) {
            Some(text) => Value::String(text),
            None => Value::Null,
        }),
        // Trino shows a zoned timestamp as its local time in its zone, then the zone's name.
        DataType::Timestamp(unit, Some(zone)) => {
            let tz = zone.parse::<Tz>().ok();
            values(&|i| match (datetime_at(array, unit, i), &tz) {
                (Some(utc), Some(tz)) => {
                    let local = tz.from_utc_datetime(&utc).naive_local();
                    Value::String(format!("{} {zone}", local.format(pattern_of(unit))))
                }
                (Some(utc), None) => Value::String(format!("{} UTC", utc.format(pattern_of(unit)))),
                (None, _) => Value::Null,
            })
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            values(&|i| interval(array.as_primitive::<IntervalYearMonthType>().value(i), 0, 0))
        }
        DataType::Interval(IntervalUnit::DayTime) => values(&|i| {
            let v = array.as_primitive::<IntervalDayTimeType>().value(i);
            interval(0, v.days, i64::from(v.milliseconds) * 1_000_000)
        }),
        DataType::Interval(IntervalUnit::MonthDayNano) => values(&|i| {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(i);
            interval(v.months, v.days, v.nanoseconds)
        }),
        DataType::Binary => values(&|i| base64(array.as_binary::<i32>().value(i))),
        DataType::LargeBinary => values(&|i| base64(array.as_binary::<i64>().value(i))),
        DataType::BinaryView => values(&|i| base64(array.as_binary_view().value(i))),
        DataType::FixedSizeBinary(_) => values(&|i| base64(array.as_fixed_size_binary().value(i))),
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            values(&|i| Value::Array(column_values(&list.value(i))))
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            values(&|i| Value::Array(column_values(&list.value(i))))
        }
        DataType::FixedSizeList(_, _) => {
            let list = array.as_fixed_size_list();
            values(&|i| Value::Array(column_values(&list.value(i))))
        }
        DataType::Struct(_) => {
            let fields: Vec<Vec<Value>> = array
                .as_struct()
                .columns()
                .iter()
                .map(column_values)
                .collect();
            values(&|i| Value::Array(fields.iter().map(|f| f[i].clone()).collect()))
        }
        DataType::Map(_, _) => {
            let map = array.as_map();
            values(&|i| {
                let entries = map.value(i);
                let keys = column_values(entries.column(0));
                let items = column_values(entries.column(1));
                let object: Map<String, Value> = keys
                    .into_iter()
                    .zip(items)
                    .map(|(k, v)| match k {
                        Value::String(s) => (s, v),
                        other => (other.to_string(), v),
                    })
                    .collect();
                Value::Object(object)
            })
        }
        // Strings, and decimals, dates, times, intervals and anything else: the text Arrow
        // prints, which for these types is the form Trino prints.
        _ => match ArrayFormatter::try_new(array, &FormatOptions::default()) {
            Ok(formatter) => values(&|i| Value::String(formatter.value(i).to_string())),
            // A type Arrow cannot print at all: nulls rather than a failed query.
            Err(_) => vec![Value::Null; array.len()],
        },
    }
}

/// A double as Trino writes it: a JSON number, or the names of the non-finite values.
fn double(value: f64) -> Value {
    if value.is_nan() {
        Value::String("NaN".into())
    } else if value.is_infinite() {
        Value::String(if value > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}

/// An interval as Trino writes it: `Y-M` when it counts months only, else `D HH:MM:SS.mmm`
/// (days and time folded into one signed span; months, if any, lead as `Y-M`).
fn interval(months: i32, days: i32, nanos: i64) -> Value {
    let year_month = |m: i32| {
        let sign = if m < 0 { "-" } else { "" };
        format!("{sign}{}-{}", m.unsigned_abs() / 12, m.unsigned_abs() % 12)
    };
    if days == 0 && nanos == 0 {
        return Value::String(year_month(months));
    }
    let total = i128::from(days) * 86_400_000_000_000 + i128::from(nanos);
    let sign = if total < 0 { "-" } else { "" };
    let millis = total.unsigned_abs() / 1_000_000;
    let (seconds, millis) = (millis / 1000, millis % 1000);
    let day_second = format!(
        "{sign}{} {:02}:{:02}:{:02}.{millis:03}",
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60
    );
    Value::String(if months == 0 {
        day_second
    } else {
        format!("{} {day_second}", year_month(months))
    })
}

fn base64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `YYYY-MM-DD HH:MM:SS[.f...]` with the unit's number of fraction digits (in UTC for
/// zoned timestamps: the instant is exact, the zone shown is UTC).
fn timestamp(array: &dyn Array, unit: &TimeUnit, i: usize) -> Option<String> {
    let datetime = datetime_at(array, unit, i)?;
    Some(datetime.format(pattern_of(unit)).to_string())
}

/// `YYYY-MM-DD HH:MM:SS` with the unit's number of fraction digits.
fn pattern_of(unit: &TimeUnit) -> &'static str {
    match precision_of(unit) {
        0 => "%Y-%m-%d %H:%M:%S",
        3 => "%Y-%m-%d %H:%M:%S%.3f",
        6 => "%Y-%m-%d %H:%M:%S%.6f",
        _ => "%Y-%m-%d %H:%M:%S%.9f",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        BinaryArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
        TimestampMicrosecondArray,
    };
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn values_are_written_as_trino_writes_them() {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "i",
                Arc::new(Int64Array::from(vec![Some(7), None])) as ArrayRef,
            ),
            (
                "d",
                Arc::new(
                    Decimal128Array::from(vec![12345, -5])
                        .with_precision_and_scale(15, 2)
                        .unwrap(),
                ),
            ),
            ("f", Arc::new(Float64Array::from(vec![0.5, f64::NAN]))),
            ("s", Arc::new(StringArray::from(vec!["a", "b"]))),
            ("day", Arc::new(Date32Array::from(vec![0, 19000]))),
            (
                "ts",
                Arc::new(TimestampMicrosecondArray::from(vec![1_500_000, 0])),
            ),
            (
                "tz",
                Arc::new(TimestampMicrosecondArray::from(vec![0, 0]).with_timezone("UTC")),
            ),
            (
                "bin",
                Arc::new(BinaryArray::from(vec![b"hi".as_ref(), b"".as_ref()])),
            ),
        ])
        .unwrap();
        assert_eq!(
            rows(&batch),
            vec![
                json!([
                    7,
                    "123.45",
                    0.5,
                    "a",
                    "1970-01-01",
                    "1970-01-01 00:00:01.500000",
                    "1970-01-01 00:00:00.000000 UTC",
                    "aGk="
                ]),
                json!([
                    null,
                    "-0.05",
                    "NaN",
                    "b",
                    "2022-01-08",
                    "1970-01-01 00:00:00.000000",
                    "1970-01-01 00:00:00.000000 UTC",
                    ""
                ]),
            ]
        );
    }

    #[test]
    fn zoned_timestamps_show_their_local_time_and_zone() {
        let instant = 1_351_645_200_000; // 2012-10-31 01:00:00 UTC, in milliseconds
        let batch = RecordBatch::try_from_iter(vec![
            (
                "la",
                Arc::new(
                    arrow::array::TimestampMillisecondArray::from(vec![instant])
                        .with_timezone("America/Los_Angeles"),
                ) as ArrayRef,
            ),
            (
                "plus",
                Arc::new(
                    arrow::array::TimestampMillisecondArray::from(vec![instant])
                        .with_timezone("+01:00"),
                ),
            ),
        ])
        .unwrap();
        assert_eq!(
            rows(&batch),
            vec![json!([
                "2012-10-30 18:00:00.000 America/Los_Angeles",
                "2012-10-31 02:00:00.000 +01:00"
            ])]
        );
    }
}
