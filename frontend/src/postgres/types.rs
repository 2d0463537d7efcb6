//! Arrow columns as PostgreSQL columns: the type OID a client decodes with, and each value
//! encoded (text or binary, as the client asked) by pgwire's encoder from a Rust value of the
//! matching type. Types PostgreSQL has no counterpart for are sent as `text` holding the value
//! Arrow prints: never a failure.

use std::sync::Arc;

use crate::temporal::datetime_at;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldInfo};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;

/// The PostgreSQL type of an Arrow type.
pub fn pg_type(data_type: &DataType) -> Type {
    match data_type {
        DataType::Boolean => Type::BOOL,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => Type::INT2,
        DataType::Int32 | DataType::UInt16 => Type::INT4,
        DataType::Int64 | DataType::UInt32 => Type::INT8,
        DataType::UInt64 => Type::NUMERIC,
        DataType::Float16 | DataType::Float32 => Type::FLOAT4,
        DataType::Float64 => Type::FLOAT8,
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Type::NUMERIC,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Type::VARCHAR,
        DataType::Date32 => Type::DATE,
        DataType::Timestamp(_, None) => Type::TIMESTAMP,
        DataType::Timestamp(_, Some(_)) => Type::TIMESTAMPTZ,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Type::BYTEA,
        DataType::List(item) => match item.data_type() {
            DataType::Boolean => Type::BOOL_ARRAY,
            DataType::Int16 => Type::INT2_ARRAY,
            DataType::Int32 => Type::INT4_ARRAY,
            DataType::Int64 => Type::INT8_ARRAY,
            DataType::Float32 => Type::FLOAT4_ARRAY,
            DataType::Float64 => Type::FLOAT8_ARRAY,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Type::VARCHAR_ARRAY,
            DataType::Date32 => Type::DATE_ARRAY,
            DataType::Decimal128(_, scale) if (0..=28).contains(scale) => Type::NUMERIC_ARRAY,
            DataType::Timestamp(_, None) => Type::TIMESTAMP_ARRAY,
            DataType::Timestamp(_, Some(_)) => Type::TIMESTAMPTZ_ARRAY,
            // Arrays of other items are sent as the text Arrow prints.
            _ => Type::TEXT,
        },
        _ => Type::TEXT,
    }
}

/// The row description of `schema` in `format`.
pub fn fields(schema: &arrow::datatypes::Schema, format: &Format) -> Vec<FieldInfo> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            FieldInfo::new(
                f.name().clone(),
                None,
                None,
                pg_type(f.data_type()),
                format.format_for(i),
            )
            .with_type_modifier(type_modifier(f.data_type()))
        })
        .collect()
}

/// The type modifier PostgreSQL gives a column (`atttypmod`): `numeric(p,s)` is
/// `((p << 16) | s) + 4`, so drivers report precision and scale (JDBC's `getScale`, psycopg's
/// `Column.scale`) instead of an unconstrained numeric. `-1` is none.
pub fn type_modifier(data_type: &DataType) -> i32 {
    match data_type {
        DataType::Decimal32(precision, scale)
        | DataType::Decimal64(precision, scale)
        | DataType::Decimal128(precision, scale)
        | DataType::Decimal256(precision, scale)
            if *scale >= 0 && i32::from(*scale) <= i32::from(*precision) =>
        {
            ((i32::from(*precision) << 16) | i32::from(*scale)) + 4
        }
        _ => -1,
    }
}

/// The rows of `batch`, encoded for `fields`.
pub fn rows(batch: &RecordBatch, fields: &Arc<Vec<FieldInfo>>) -> PgWireResult<Vec<DataRow>> {
    let options = FormatOptions::default();
    let formatters: Vec<Option<ArrayFormatter>> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).ok())
        .collect();
    let mut out = Vec::with_capacity(batch.num_rows());
    let mut encoder = DataRowEncoder::new(fields.clone());
    for row in 0..batch.num_rows() {
        for (column, formatter) in batch.columns().iter().zip(&formatters) {
            encode(&mut encoder, column.as_ref(), formatter.as_ref(), row)?;
        }
        out.push(encoder.take_row());
    }
    Ok(out)
}

fn encode(
    encoder: &mut DataRowEncoder,
    column: &dyn Array,
    formatter: Option<&ArrayFormatter>,
    row: usize,
) -> PgWireResult<()> {
    if column.is_null(row) {
        return encoder.encode_field(&None::<i32>);
    }
    match column.data_type() {
        DataType::Boolean => encoder.encode_field(&column.as_boolean().value(row)),
        DataType::Int8 => {
            encoder.encode_field(&i16::from(column.as_primitive::<Int8Type>().value(row)))
        }
        DataType::Int16 => encoder.encode_field(&column.as_primitive::<Int16Type>().value(row)),
        DataType::UInt8 => {
            encoder.encode_field(&i16::from(column.as_primitive::<UInt8Type>().value(row)))
        }
        DataType::Int32 => encoder.encode_field(&column.as_primitive::<Int32Type>().value(row)),
        DataType::UInt16 => {
            encoder.encode_field(&i32::from(column.as_primitive::<UInt16Type>().value(row)))
        }
        DataType::Int64 => encoder.encode_field(&column.as_primitive::<Int64Type>().value(row)),
        DataType::UInt32 => {
            encoder.encode_field(&i64::from(column.as_primitive::<UInt32Type>().value(row)))
        }
        DataType::UInt64 => encoder.encode_field(&rust_decimal::Decimal::from(
            column.as_primitive::<UInt64Type>().value(row),
        )),
        DataType::Float16 => {
            encoder.encode_field(&f32::from(column.as_primitive::<Float16Type>().value(row)))
        }
        DataType::Float32 => encoder.encode_field(&column.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => encoder.encode_field(&column.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, scale) if (0..=28).contains(scale) => {
            let value = column
                .as_primitive::<arrow::datatypes::Decimal128Type>()
                .value(row);
            match rust_decimal::Decimal::try_from_i128_with_scale(value, *scale as u32) {
                Ok(decimal) => encoder.encode_field(&decimal),
                // Wider than NUMERIC's binary form here: the exact digits as text.
                Err(_) => encode_text(encoder, formatter, row),
            }
        }
        DataType::Utf8 => encoder.encode_field(&column.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => encoder.encode_field(&column.as_string::<i64>().value(row)),
        DataType::Utf8View => encoder.encode_field(&column.as_string_view().value(row)),
        DataType::Date32 => {
            let days = column.as_primitive::<Date32Type>().value(row);
            match arrow::temporal_conversions::date32_to_datetime(days) {
                Some(datetime) => encoder.encode_field(&datetime.date()),
                None => encode_text(encoder, formatter, row),
            }
        }
        DataType::Timestamp(unit, zone) => match datetime_at(column, unit, row) {
            Some(datetime) if zone.is_some() => encoder.encode_field(&datetime.and_utc()),
            Some(datetime) => encoder.encode_field(&datetime),
            None => encode_text(encoder, formatter, row),
        },
        DataType::Binary => encoder.encode_field(&column.as_binary::<i32>().value(row)),
        DataType::LargeBinary => encoder.encode_field(&column.as_binary::<i64>().value(row)),
        DataType::BinaryView => encoder.encode_field(&column.as_binary_view().value(row)),
        DataType::List(item) => {
            let items = column.as_list::<i32>().value(row);
            match item.data_type() {
                DataType::Boolean => {
                    encoder.encode_field(&items_of(&items, |a, i| a.as_boolean().value(i)))
                }
                DataType::Int16 => encoder.encode_field(&items_of(&items, |a, i| {
                    a.as_primitive::<Int16Type>().value(i)
                })),
                DataType::Int32 => encoder.encode_field(&items_of(&items, |a, i| {
                    a.as_primitive::<Int32Type>().value(i)
                })),
                DataType::Int64 => encoder.encode_field(&items_of(&items, |a, i| {
                    a.as_primitive::<Int64Type>().value(i)
                })),
                DataType::Float32 => encoder.encode_field(&items_of(&items, |a, i| {
                    a.as_primitive::<Float32Type>().value(i)
                })),
                DataType::Float64 => encoder.encode_field(&items_of(&items, |a, i| {
                    a.as_primitive::<Float64Type>().value(i)
                })),
                DataType::Utf8 => encoder.encode_field(&items_of(&items, |a, i| {
                    a.as_string::<i32>().value(i).to_string()
                })),
                DataType::LargeUtf8 => encoder.encode_field(&items_of(&items, |a, i| {
                    a.as_string::<i64>().value(i).to_string()
                })),
                DataType::Utf8View => encoder.encode_field(&items_of(&items, |a, i| {
                    a.as_string_view().value(i).to_string()
                })),
                DataType::Date32 => encoder.encode_field(&checked_items(&items, |a, i| {
                    let days = a.as_primitive::<Date32Type>().value(i);
                    arrow::temporal_conversions::date32_to_datetime(days).map(|d| d.date())
                })?),
                DataType::Decimal128(_, scale) if (0..=28).contains(scale) => {
                    let scale = *scale as u32;
                    encoder.encode_field(&checked_items(&items, |a, i| {
                        let value = a
                            .as_primitive::<arrow::datatypes::Decimal128Type>()
                            .value(i);
                        rust_decimal::Decimal::try_from_i128_with_scale(value, scale).ok()
                    })?)
                }
                DataType::Timestamp(unit, None) => {
                    encoder.encode_field(&checked_items(&items, |a, i| datetime_at(a, unit, i))?)
                }
                DataType::Timestamp(unit, Some(_)) => encoder
                    .encode_field(&checked_items(&items, |a, i| {
                        datetime_at(a, unit, i).map(|t| t.and_utc())
                    })?),
                _ => encode_text(encoder, formatter, row),
            }
        }
        _ => encode_text(encoder, formatter, row),
    }
}

/// The items of one list value, nulls kept.
fn items_of<T>(
    items: &arrow::array::ArrayRef,
    value: impl Fn(&dyn Array, usize) -> T,
) -> Vec<Option<T>> {
    (0..items.len())
        .map(|i| (!items.is_null(i)).then(|| value(items.as_ref(), i)))
        .collect()
}

/// [`items_of`] for items whose conversion can fail (a date or decimal outside what
/// PostgreSQL's types hold): the row fails with an error naming the value rather than
/// showing a NULL that is not in the data.
fn checked_items<T>(
    items: &arrow::array::ArrayRef,
    value: impl Fn(&dyn Array, usize) -> Option<T>,
) -> PgWireResult<Vec<Option<T>>> {
    (0..items.len())
        .map(|i| {
            if items.is_null(i) {
                return Ok(None);
            }
            value(items.as_ref(), i).map(Some).ok_or_else(|| {
                let shown = arrow::util::display::array_value_to_string(items.as_ref(), i)
                    .unwrap_or_else(|_| "?".into());
                PgWireError::ApiError(
                    format!("array item {shown} does not fit the PostgreSQL type").into(),
                )
            })
        })
        .collect()
}

fn encode_text(
    encoder: &mut DataRowEncoder,
    formatter: Option<&ArrayFormatter>,
    row: usize,
) -> PgWireResult<()> {
    match formatter {
        Some(formatter) => encoder.encode_field(&formatter.value(row).to_string()),
        None => encoder.encode_field(&None::<String>),
    }
}
