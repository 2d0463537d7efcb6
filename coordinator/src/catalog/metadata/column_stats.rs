//! Trino's `$partitions.data`: per column of the current schema, the smallest lower bound,
//! the largest upper bound and the summed null and NaN counts of a partition's data files.
//!
//! A statistic is shown only when every file that could affect it reported it: one file
//! without a bound (while holding non-null values) or without a count makes the partition's
//! value unknown (NULL) rather than a confident wrong number.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StructArray};
use arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::ScalarValue;
use iceberg::spec::{DataFile, Datum, PrimitiveLiteral, PrimitiveType, Schema, Type};

use super::values::{arrow_type, scalar};
use crate::catalog::CatalogError;

/// A top-level primitive column of the current schema.
#[derive(Debug, Clone)]
pub struct StatsColumn {
    pub field_id: i32,
    pub name: String,
    pub ty: PrimitiveType,
}

/// The columns `data` reports on: Trino leaves out nested columns, as does this.
pub fn stats_columns(schema: &Schema) -> Vec<StatsColumn> {
    schema
        .as_struct()
        .fields()
        .iter()
        .filter_map(|field| match field.field_type.as_ref() {
            Type::Primitive(ty) => Some(StatsColumn {
                field_id: field.id,
                name: field.name.clone(),
                ty: ty.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// One column's statistics over the files of one partition.
#[derive(Debug, Clone)]
pub struct ColumnStats {
    /// `None` once a file left the bound unknown; `Some(None)` while no file had a value.
    min: Option<Option<Datum>>,
    max: Option<Option<Datum>>,
    null_count: Option<i64>,
    nan_count: Option<i64>,
}

impl Default for ColumnStats {
    fn default() -> Self {
        Self {
            min: Some(None),
            max: Some(None),
            null_count: Some(0),
            nan_count: Some(0),
        }
    }
}

impl ColumnStats {
    /// The smallest value, when every file reported its bound and one held a value.
    pub fn min(&self) -> Option<&Datum> {
        self.min.as_ref().and_then(Option::as_ref)
    }

    /// The largest value, as [`Self::min`].
    pub fn max(&self) -> Option<&Datum> {
        self.max.as_ref().and_then(Option::as_ref)
    }

    /// The NULLs counted, when every file reported its count.
    pub fn null_count(&self) -> Option<i64> {
        self.null_count
    }

    /// Folds in one data file's statistics for `column`.
    pub fn add(&mut self, column: &StatsColumn, file: &DataFile) {
        let id = column.field_id;
        let nulls = file.null_value_counts().get(&id).copied();
        self.null_count = sum(self.null_count, nulls);
        let floating = matches!(column.ty, PrimitiveType::Float | PrimitiveType::Double);
        let nans = match file.nan_value_counts().get(&id) {
            Some(n) => Some(*n),
            // Only floating columns can hold NaN, so elsewhere a missing count is zero.
            None if !floating => Some(0),
            None => None,
        };
        self.nan_count = sum(self.nan_count, nans);
        // A file whose values are all NULL has no bounds and needs none.
        let all_null = matches!(
            (file.value_counts().get(&id), nulls),
            (Some(values), Some(nulls)) if values == &nulls
        );
        if all_null {
            return;
        }
        let lower = file
            .lower_bounds()
            .get(&id)
            .and_then(|d| widen(d, &column.ty));
        let upper = file
            .upper_bounds()
            .get(&id)
            .and_then(|d| widen(d, &column.ty));
        self.min = fold(self.min.take(), lower, |new, old| new < old);
        self.max = fold(self.max.take(), upper, |new, old| new > old);
    }
}

fn sum(total: Option<i64>, file: Option<u64>) -> Option<i64> {
    Some(total? + i64::try_from(file?).ok()?)
}

fn fold(
    current: Option<Option<Datum>>,
    bound: Option<Datum>,
    better: impl Fn(&Datum, &Datum) -> bool,
) -> Option<Option<Datum>> {
    let bound = bound?;
    Some(match current? {
        Some(old) if !better(&bound, &old) => Some(old),
        _ => Some(bound),
    })
}

/// A bound written under an older type of the column (promoted since) as a value of its type
/// today; `None` where no lossless conversion exists.
fn widen(bound: &Datum, ty: &PrimitiveType) -> Option<Datum> {
    if bound.data_type() == ty {
        return Some(bound.clone());
    }
    match (bound.literal(), ty) {
        (PrimitiveLiteral::Float(v), PrimitiveType::Double) => Some(Datum::double(v.0 as f64)),
        _ => bound.clone().to(&Type::Primitive(ty.clone())).ok(),
    }
}

/// The `data` column: one struct per partition, a field per column, each a struct of `min`,
/// `max`, `null_count` and `nan_count`. `None` when the table has no primitive column.
pub fn data_column(
    columns: &[StatsColumn],
    groups: &[Vec<ColumnStats>],
) -> Result<Option<(Field, ArrayRef)>, CatalogError> {
    if columns.is_empty() {
        return Ok(None);
    }
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays = Vec::with_capacity(columns.len());
    for (i, column) in columns.iter().enumerate() {
        let stats: Vec<&ColumnStats> = groups.iter().map(|g| &g[i]).collect();
        let bound = |pick: fn(&ColumnStats) -> Option<&Datum>| {
            bounds_array(&column.ty, stats.iter().map(|s| pick(s)))
        };
        let value_type = arrow_type(&column.ty);
        let inner = Fields::from(vec![
            Field::new("min", value_type.clone(), true),
            Field::new("max", value_type, true),
            Field::new("null_count", DataType::Int64, true),
            Field::new("nan_count", DataType::Int64, true),
        ]);
        let array = StructArray::try_new(
            inner.clone(),
            vec![
                bound(ColumnStats::min)?,
                bound(ColumnStats::max)?,
                Arc::new(Int64Array::from_iter(stats.iter().map(|s| s.null_count))),
                Arc::new(Int64Array::from_iter(stats.iter().map(|s| s.nan_count))),
            ],
            None,
        )
        .map_err(|e| CatalogError::Metadata(format!("statistics of {}: {e}", column.name)))?;
        fields.push(Field::new(&column.name, DataType::Struct(inner), true));
        arrays.push(Arc::new(array) as ArrayRef);
    }
    let fields = Fields::from(fields);
    let data = StructArray::try_new(fields.clone(), arrays, None)
        .map_err(|e| CatalogError::Metadata(format!("partition statistics: {e}")))?;
    Ok(Some((
        Field::new("data", DataType::Struct(fields), true),
        Arc::new(data),
    )))
}

fn bounds_array<'a>(
    ty: &PrimitiveType,
    bounds: impl Iterator<Item = Option<&'a Datum>>,
) -> Result<ArrayRef, CatalogError> {
    let target = arrow_type(ty);
    let values: Vec<ScalarValue> = bounds.map(|b| scalar(ty, b.map(Datum::literal))).collect();
    if values.is_empty() {
        return Ok(arrow::array::new_empty_array(&target));
    }
    ScalarValue::iter_to_array(values)
        .and_then(|array| arrow::compute::cast(&array, &target).map_err(Into::into))
        .map_err(|e| CatalogError::Metadata(format!("column bounds: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_int_bound_widens_to_long_and_a_float_to_double() {
        let long = widen(&Datum::int(7), &PrimitiveType::Long);
        assert_eq!(long, Some(Datum::long(7)));
        let double = widen(&Datum::float(1.5), &PrimitiveType::Double);
        assert_eq!(double, Some(Datum::double(1.5)));
        assert_eq!(widen(&Datum::string("x"), &PrimitiveType::Long), None);
    }

    #[test]
    fn an_unknown_bound_stays_unknown() {
        let min = fold(Some(None), Some(Datum::int(3)), |n, o| n < o);
        let min = fold(min, Some(Datum::int(1)), |n, o| n < o);
        assert_eq!(min, Some(Some(Datum::int(1))));
        let min = fold(min, None, |n, o| n < o);
        assert_eq!(fold(min, Some(Datum::int(0)), |n, o| n < o), None);
    }
}
