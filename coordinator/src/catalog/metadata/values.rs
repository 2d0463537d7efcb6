//! Iceberg values in metadata (partition tuples, column bounds) as Arrow values.

use std::sync::Arc;

use arrow::array::{ArrayRef, StructArray};
use arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::ScalarValue;
use iceberg::spec::{Datum, Literal, PrimitiveLiteral, PrimitiveType, Type};

use crate::catalog::CatalogError;

/// The Arrow value of a primitive literal of type `ty`; NULL for `None`.
pub fn scalar(ty: &PrimitiveType, value: Option<&PrimitiveLiteral>) -> ScalarValue {
    use PrimitiveLiteral as L;
    use PrimitiveType as T;
    let Some(value) = value else {
        return ScalarValue::try_from(arrow_type(ty)).unwrap_or(ScalarValue::Null);
    };
    match (ty, value) {
        (T::Boolean, L::Boolean(b)) => ScalarValue::Boolean(Some(*b)),
        (T::Int, L::Int(v)) => ScalarValue::Int32(Some(*v)),
        (T::Long, L::Long(v)) => ScalarValue::Int64(Some(*v)),
        (T::Float, L::Float(v)) => ScalarValue::Float32(Some(v.0)),
        (T::Double, L::Double(v)) => ScalarValue::Float64(Some(v.0)),
        (T::Decimal { precision, scale }, L::Int128(v)) => {
            ScalarValue::Decimal128(Some(*v), *precision as u8, *scale as i8)
        }
        (T::Date, L::Int(days)) => ScalarValue::Date32(Some(*days)),
        (T::Time, L::Long(micros)) => ScalarValue::Time64Microsecond(Some(*micros)),
        (T::Timestamp, L::Long(micros)) => ScalarValue::TimestampMicrosecond(Some(*micros), None),
        (T::Timestamptz, L::Long(micros)) => {
            ScalarValue::TimestampMicrosecond(Some(*micros), Some("+00:00".into()))
        }
        (T::TimestampNs, L::Long(nanos)) => ScalarValue::TimestampNanosecond(Some(*nanos), None),
        (T::TimestamptzNs, L::Long(nanos)) => {
            ScalarValue::TimestampNanosecond(Some(*nanos), Some("+00:00".into()))
        }
        (T::String, L::String(s)) => ScalarValue::Utf8(Some(s.clone())),
        (T::Uuid, L::UInt128(v)) => ScalarValue::FixedSizeBinary(16, Some(v.to_be_bytes().into())),
        (T::Fixed(len), L::Binary(b)) => ScalarValue::FixedSizeBinary(*len as i32, Some(b.clone())),
        (T::Binary, L::Binary(b)) => ScalarValue::LargeBinary(Some(b.clone())),
        // A value that does not fit its declared type: shown as text rather than dropped.
        (_, other) => ScalarValue::Utf8(Some(format!("{other:?}"))),
    }
}

/// The Arrow type metadata tables give a primitive Iceberg type.
pub fn arrow_type(ty: &PrimitiveType) -> DataType {
    match ty {
        PrimitiveType::Binary => DataType::LargeBinary,
        other => iceberg::arrow::type_to_arrow_type(&Type::Primitive(other.clone()))
            .unwrap_or(DataType::Utf8),
    }
}

/// A bound as metadata tables show it (Trino renders bounds as text).
pub fn bound_text(datum: &Datum) -> String {
    datum.to_human_string()
}

/// A bound's single-value bytes (manifest list partition summaries) as text.
pub fn bytes_text(bytes: &[u8], ty: &PrimitiveType) -> Option<String> {
    Datum::try_from_bytes(bytes, ty.clone())
        .ok()
        .map(|d| bound_text(&d))
}

/// A column of structs, one per row, from the values of each field.
pub fn struct_column(
    fields: &[(String, PrimitiveType)],
    rows: &[Vec<ScalarValue>],
) -> Result<ArrayRef, CatalogError> {
    let arrow_fields: Fields = fields
        .iter()
        .map(|(name, ty)| Field::new(name, arrow_type(ty), true))
        .collect();
    let columns = (0..fields.len())
        .map(|i| {
            let values = rows.iter().map(|row| row[i].clone());
            if rows.is_empty() {
                return Ok(arrow::array::new_empty_array(arrow_fields[i].data_type()));
            }
            ScalarValue::iter_to_array(values)
                .and_then(|array| {
                    arrow::compute::cast(&array, arrow_fields[i].data_type()).map_err(Into::into)
                })
                .map_err(|e| CatalogError::Metadata(format!("partition column: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(
        StructArray::try_new(arrow_fields, columns, None)
            .map_err(|e| CatalogError::Metadata(format!("partition column: {e}")))?,
    ))
}

/// The partition tuple of a file as values of the table's partition columns, `None` where
/// the file's spec has no such column.
pub fn partition_values(
    columns: &[PartitionColumn],
    spec_field_ids: &[i32],
    tuple: &iceberg::spec::Struct,
) -> Vec<ScalarValue> {
    columns
        .iter()
        .map(|column| {
            let value = spec_field_ids
                .iter()
                .position(|id| *id == column.field_id)
                .and_then(|at| tuple.iter().nth(at).flatten());
            let primitive = match value {
                Some(Literal::Primitive(p)) => Some(p),
                _ => None,
            };
            scalar(&column.ty, primitive)
        })
        .collect()
}

/// One column of the partition struct: a partition field of any of the table's specs.
#[derive(Debug, Clone)]
pub struct PartitionColumn {
    pub field_id: i32,
    pub name: String,
    pub ty: PrimitiveType,
}
