//! `"t$ddl"`, what Trino's `SHOW CREATE TABLE t` answers for an Iceberg table: one row, one
//! column `Create Table`, the statement that would make the table as it is now (columns with
//! Trino's type names, then `format`, `format_version`, `location`, `partitioning` and
//! `sorted_by` as the Iceberg connector's table properties).

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use iceberg::spec::{
    NullOrder, PrimitiveType, Schema as IcebergSchema, SortDirection, TableMetadata, Transform,
    Type,
};

use super::batch;
use crate::catalog::{CatalogError, TableRef};

pub fn ddl(table_ref: &TableRef, metadata: &TableMetadata) -> Result<RecordBatch, CatalogError> {
    let schema = metadata.current_schema();
    let columns: Vec<String> = schema
        .as_struct()
        .fields()
        .iter()
        .map(|field| {
            let not_null = if field.required { " NOT NULL" } else { "" };
            let comment = field
                .doc
                .as_ref()
                .map(|doc| format!(" COMMENT {}", quoted(doc)))
                .unwrap_or_default();
            format!(
                "   {} {}{not_null}{comment}",
                identifier(&field.name),
                trino_type(&field.field_type)
            )
        })
        .collect();
    let mut properties = vec![
        format!("   format = {}", quoted(&file_format(metadata))),
        format!("   format_version = {}", metadata.format_version() as u8),
        format!("   location = {}", quoted(metadata.location())),
    ];
    let partitioning = partitioning(metadata, schema);
    if !partitioning.is_empty() {
        properties.push(format!(
            "   partitioning = ARRAY[{}]",
            partitioning.join(", ")
        ));
    }
    let sorted_by = sorted_by(metadata, schema);
    if !sorted_by.is_empty() {
        properties.push(format!("   sorted_by = ARRAY[{}]", sorted_by.join(", ")));
    }
    // The name the query gave is this metadata table's; the statement names the table.
    let table = table_ref
        .table
        .strip_suffix("$ddl")
        .unwrap_or(&table_ref.table);
    let name = [table_ref.catalog.as_str(), table_ref.schema.as_str(), table]
        .map(identifier)
        .join(".");
    let text = format!(
        "CREATE TABLE {name} (\n{}\n)\nWITH (\n{}\n)",
        columns.join(",\n"),
        properties.join(",\n")
    );
    let schema = Arc::new(Schema::new(vec![Field::new(
        "Create Table",
        DataType::Utf8,
        false,
    )]));
    batch(
        schema,
        vec![Arc::new(StringArray::from(vec![text])) as ArrayRef],
    )
}

/// The data file format new files are written in (Iceberg's default is Parquet).
fn file_format(metadata: &TableMetadata) -> String {
    metadata
        .properties()
        .get("write.format.default")
        .map_or_else(|| "PARQUET".into(), |f| f.to_ascii_uppercase())
}

/// The default partition spec's fields as Trino writes them: `day(ts)`, `bucket(id, 16)`.
fn partitioning(metadata: &TableMetadata, schema: &IcebergSchema) -> Vec<String> {
    metadata
        .default_partition_spec()
        .fields()
        .iter()
        .filter_map(|field| {
            let column = identifier(&schema.field_by_id(field.source_id)?.name);
            transformed(&column, &field.transform).map(|text| quoted(&text))
        })
        .collect()
}

/// The default sort order as Trino writes it: `name`, `ts DESC NULLS LAST`.
fn sorted_by(metadata: &TableMetadata, schema: &IcebergSchema) -> Vec<String> {
    metadata
        .default_sort_order()
        .fields
        .iter()
        .filter_map(|field| {
            let column = identifier(&schema.field_by_id(field.source_id)?.name);
            let key = transformed(&column, &field.transform)?;
            let order = match (field.direction, field.null_order) {
                (SortDirection::Ascending, NullOrder::First) => "",
                (SortDirection::Ascending, NullOrder::Last) => " ASC NULLS LAST",
                (SortDirection::Descending, NullOrder::Last) => " DESC",
                (SortDirection::Descending, NullOrder::First) => " DESC NULLS FIRST",
            };
            Some(quoted(&format!("{key}{order}")))
        })
        .collect()
}

/// A column under a partition or sort transform; `None` for a transform Trino cannot write.
fn transformed(column: &str, transform: &Transform) -> Option<String> {
    Some(match transform {
        Transform::Identity => column.to_string(),
        Transform::Year => format!("year({column})"),
        Transform::Month => format!("month({column})"),
        Transform::Day => format!("day({column})"),
        Transform::Hour => format!("hour({column})"),
        Transform::Bucket(n) => format!("bucket({column}, {n})"),
        Transform::Truncate(w) => format!("truncate({column}, {w})"),
        Transform::Void => format!("void({column})"),
        Transform::Unknown => return None,
    })
}

/// An Iceberg type by the name Trino's Iceberg connector gives it.
pub fn trino_type(ty: &Type) -> String {
    match ty {
        Type::Primitive(p) => match p {
            PrimitiveType::Boolean => "boolean".into(),
            PrimitiveType::Int => "integer".into(),
            PrimitiveType::Long => "bigint".into(),
            PrimitiveType::Float => "real".into(),
            PrimitiveType::Double => "double".into(),
            PrimitiveType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            PrimitiveType::Date => "date".into(),
            PrimitiveType::Time => "time(6)".into(),
            PrimitiveType::Timestamp => "timestamp(6)".into(),
            PrimitiveType::Timestamptz => "timestamp(6) with time zone".into(),
            PrimitiveType::TimestampNs => "timestamp(9)".into(),
            PrimitiveType::TimestamptzNs => "timestamp(9) with time zone".into(),
            PrimitiveType::String => "varchar".into(),
            PrimitiveType::Uuid => "uuid".into(),
            PrimitiveType::Fixed(_) | PrimitiveType::Binary => "varbinary".into(),
        },
        Type::List(list) => format!("array({})", trino_type(&list.element_field.field_type)),
        Type::Map(map) => format!(
            "map({}, {})",
            trino_type(&map.key_field.field_type),
            trino_type(&map.value_field.field_type)
        ),
        Type::Struct(fields) => format!(
            "row({})",
            fields
                .fields()
                .iter()
                .map(|f| format!("{} {}", identifier(&f.name), trino_type(&f.field_type)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A name as Trino prints it: bare when it is a plain lower-case identifier, else quoted.
fn identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iceberg::spec::{ListType, NestedField};

    #[test]
    fn types_and_names_as_trino_prints_them() {
        let list = Type::List(ListType::new(Arc::new(NestedField::list_element(
            1,
            Type::Primitive(PrimitiveType::Decimal {
                precision: 12,
                scale: 2,
            }),
            false,
        ))));
        assert_eq!(trino_type(&list), "array(decimal(12,2))");
        assert_eq!(
            trino_type(&Type::Primitive(PrimitiveType::Timestamptz)),
            "timestamp(6) with time zone"
        );
        assert_eq!(identifier("o_orderkey"), "o_orderkey");
        assert_eq!(identifier("Order Key"), "\"Order Key\"");
        assert_eq!(
            transformed("ts", &Transform::Bucket(16)).as_deref(),
            Some("bucket(ts, 16)")
        );
    }
}
