//! The Arrow schema a scan produces, derived from the Iceberg schema in one place so the table
//! provider, the scan node and the codec always agree on it.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};

use crate::error::ScanError;
use crate::scan::hidden::HiddenColumn;

/// Arrow schema of a whole Iceberg schema, without iceberg's field-id metadata: clients see
/// plain column names and types, and batches from files written by other tools compare equal.
pub fn arrow_schema(table_schema: &iceberg::spec::Schema) -> Result<SchemaRef, ScanError> {
    let with_ids = iceberg::arrow::schema_to_arrow_schema(table_schema)?;
    let fields: Vec<Field> = with_ids
        .fields()
        .iter()
        .map(|f| strip_metadata(f.as_ref().clone()))
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}

/// Arrow schema of the top-level columns with the given field ids, in that order.
pub fn projected_arrow_schema(
    table: &str,
    table_schema: &iceberg::spec::Schema,
    field_ids: &[i32],
) -> Result<SchemaRef, ScanError> {
    let full = arrow_schema(table_schema)?;
    let top_level = table_schema.as_struct().fields();
    let fields = field_ids
        .iter()
        .map(|id| {
            if let Some(hidden) = HiddenColumn::of(*id) {
                return Ok(Arc::new(hidden.field()));
            }
            top_level
                .iter()
                .position(|f| f.id == *id)
                .map(|at| full.fields()[at].clone())
                .ok_or(ScanError::UnknownField {
                    table: table.to_string(),
                    field_id: *id,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// [`arrow_schema`] followed by the hidden columns (`"$path"`, `"$file_modified_time"`), for
/// queries that name them.
pub fn arrow_schema_with_hidden(
    table_schema: &iceberg::spec::Schema,
) -> Result<SchemaRef, ScanError> {
    let visible = arrow_schema(table_schema)?;
    let mut fields: Vec<Field> = visible
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.extend(HiddenColumn::ALL.iter().map(|c| c.field()));
    Ok(Arc::new(Schema::new(fields)))
}

/// Field ids of the columns at `indices` of [`arrow_schema_with_hidden`] (indices past the
/// table's own columns name the hidden ones).
pub fn field_ids_at(table_schema: &iceberg::spec::Schema, indices: &[usize]) -> Vec<i32> {
    let top_level = table_schema.as_struct().fields();
    indices
        .iter()
        .filter_map(|i| match top_level.get(*i) {
            Some(field) => Some(field.id),
            None => HiddenColumn::ALL
                .get(*i - top_level.len())
                .map(|c| c.field_id()),
        })
        .collect()
}

fn strip_metadata(field: Field) -> Field {
    use arrow::datatypes::DataType;
    let data_type = match field.data_type() {
        DataType::List(inner) => DataType::List(Arc::new(strip_metadata(inner.as_ref().clone()))),
        DataType::LargeList(inner) => {
            DataType::LargeList(Arc::new(strip_metadata(inner.as_ref().clone())))
        }
        DataType::Struct(children) => DataType::Struct(
            children
                .iter()
                .map(|c| strip_metadata(c.as_ref().clone()))
                .collect(),
        ),
        DataType::Map(entries, sorted) => {
            DataType::Map(Arc::new(strip_metadata(entries.as_ref().clone())), *sorted)
        }
        other => other.clone(),
    };
    field
        .with_data_type(data_type)
        .with_metadata(Default::default())
}
