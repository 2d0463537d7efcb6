//! Trino's array functions DataFusion lacks: `trim_array`, `ngrams`, `combinations`,
//! `array_histogram`, `multimap_from_entries`. Each picks elements by index and gathers them with one `take` per batch.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, UInt32Array};
use arrow::buffer::OffsetBuffer;
use arrow::compute::take;
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use crate::args::integers;
use crate::udf::{ArrayFunction, first};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("trim_array", &[2], first, trim_array),
        ArrayFunction::udf("ngrams", &[2], nested, ngrams),
        ArrayFunction::udf("combinations", &[2], nested, combinations),
        ArrayFunction::udf("map_from_entries", &[1], entries_map, map_from_entries),
        ArrayFunction::udf("array_histogram", &[1], histogram_map, array_histogram),
        ArrayFunction::udf(
            "multimap_from_entries",
            &[1],
            multimap_type,
            multimap_from_entries,
        ),
    ]
}

/// An array of arrays of the first argument's elements.
fn nested(args: &[DataType]) -> Result<DataType> {
    match args.first() {
        Some(list @ DataType::List(_)) => Ok(DataType::new_list(list.clone(), true)),
        other => exec_err!("expected an array, got {other:?}"),
    }
}

fn list_of(array: &ArrayRef) -> Result<&ListArray> {
    match array.as_list_opt::<i32>() {
        Some(list) => Ok(list),
        None => exec_err!("expected an array, got {}", array.data_type()),
    }
}

fn element_field(list: &ListArray) -> Arc<Field> {
    match list.data_type() {
        DataType::List(field) => Arc::clone(field),
        other => Arc::new(Field::new("item", other.clone(), true)),
    }
}

/// The rows of `list` made of the elements at the given indices (`None`: a null row).
fn gather(list: &ListArray, rows: &[Option<Vec<u32>>]) -> Result<ListArray> {
    let indices: UInt32Array = rows.iter().flatten().flatten().copied().collect();
    let values = take(list.values().as_ref(), &indices, None)?;
    let lengths = rows.iter().map(|r| r.as_ref().map_or(0, Vec::len));
    let nulls = rows.iter().map(Option::is_some).collect();
    Ok(ListArray::try_new(
        element_field(list),
        OffsetBuffer::from_lengths(lengths),
        values,
        Some(nulls),
    )?)
}

/// Rows of arrays: `groups[row]` lists the index groups that become the inner arrays.
fn gather_nested(list: &ListArray, groups: Vec<Option<Vec<Vec<u32>>>>) -> Result<ArrayRef> {
    let inner_rows: Vec<Option<Vec<u32>>> = groups
        .iter()
        .flatten()
        .flatten()
        .cloned()
        .map(Some)
        .collect();
    let inner = gather(list, &inner_rows)?;
    let lengths = groups.iter().map(|g| g.as_ref().map_or(0, Vec::len));
    let nulls = groups.iter().map(Option::is_some).collect();
    Ok(Arc::new(ListArray::try_new(
        Arc::new(Field::new("item", inner.data_type().clone(), true)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(inner),
        Some(nulls),
    )?))
}

/// The index range of row `i`'s elements, `None` when the row or `n` is null.
fn row_range(
    list: &ListArray,
    counts: &arrow::array::Int64Array,
    i: usize,
) -> Option<(u32, u32, i64)> {
    if list.is_null(i) || counts.is_null(i) {
        return None;
    }
    let offsets = list.value_offsets();
    let (start, end) = (
        u32::try_from(offsets[i]).ok()?,
        u32::try_from(offsets[i + 1]).ok()?,
    );
    Some((start, end, counts.value(i)))
}

fn trim_array(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (list, counts) = (list_of(&args[0])?, integers(&args[1])?);
    let mut rows = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        let Some((start, end, n)) = row_range(list, &counts, i) else {
            rows.push(None);
            continue;
        };
        let len = i64::from(end - start);
        if n < 0 || n > len {
            return exec_err!("trim_array: cannot remove {n} elements from an array of {len}");
        }
        rows.push(Some((start..end - n as u32).collect()));
    }
    Ok(Arc::new(gather(list, &rows)?))
}

/// A nested array per row: `groups(start, end, n)` picks the index groups of a row's
/// elements `start..end`.
fn nested_rows(
    args: &[ArrayRef],
    groups: impl Fn(u32, u32, i64) -> Result<Vec<Vec<u32>>>,
) -> Result<ArrayRef> {
    let (list, counts) = (list_of(&args[0])?, integers(&args[1])?);
    let rows = (0..list.len())
        .map(|i| {
            row_range(list, &counts, i)
                .map(|(start, end, n)| groups(start, end, n))
                .transpose()
        })
        .collect::<Result<Vec<_>>>()?;
    gather_nested(list, rows)
}

fn ngrams(args: &[ArrayRef]) -> Result<ArrayRef> {
    nested_rows(args, |start, end, n| {
        if n < 1 {
            return exec_err!("ngrams: n must be positive, got {n}");
        }
        let width = u32::try_from(n).unwrap_or(u32::MAX).min(end - start);
        Ok((start..=end - width)
            .map(|s| (s..s + width).collect())
            .collect())
    })
}

fn combinations(args: &[ArrayRef]) -> Result<ArrayRef> {
    nested_rows(args, |start, end, n| {
        if !(0..=5).contains(&n) {
            return exec_err!("combinations: n must be between 0 and 5, got {n}");
        }
        let mut found = Vec::new();
        choose(start, end, n as usize, &mut Vec::new(), &mut found);
        Ok(found)
    })
}

/// Every `n`-element subset of `from..to`, in order.
fn choose(from: u32, to: u32, n: usize, chosen: &mut Vec<u32>, found: &mut Vec<Vec<u32>>) {
    if chosen.len() == n {
        found.push(chosen.clone());
        return;
    }
    for i in from..to {
        chosen.push(i);
        choose(i + 1, to, n, chosen, found);
        chosen.pop();
    }
}

/// `map(element, bigint)` for an array argument.
fn histogram_map(args: &[DataType]) -> Result<DataType> {
    let element = match args.first() {
        // No element is ever counted: the keys need a type that has values.
        Some(DataType::List(field)) if field.data_type() == &DataType::Null => DataType::Int32,
        Some(DataType::List(field)) => field.data_type().clone(),
        other => return exec_err!("array_histogram takes an array, got {other:?}"),
    };
    Ok(map_of(element, DataType::Int64))
}

/// `array_histogram(x)`: each distinct non-null element (in order of first appearance) with
/// the number of times it appears; rows are compared in Arrow's row format.
fn array_histogram(args: &[ArrayRef]) -> Result<ArrayRef> {
    let list = list_of(&args[0])?;
    let (entries_field, fields) = entries_of(
        histogram_map(&[list.data_type().clone()])?,
        "array_histogram",
    )?;
    let values = list.values();
    let converter = arrow::row::RowConverter::new(vec![arrow::row::SortField::new(
        values.data_type().clone(),
    )])?;
    let encoded = converter.convert_columns(&[Arc::clone(values)])?;
    // Logical nulls: a NullArray's elements are null without a null buffer.
    let nulls = values.logical_nulls();
    let (mut firsts, mut counts, mut lengths) = (Vec::new(), Vec::new(), Vec::new());
    for row in 0..list.len() {
        let start = firsts.len();
        if list.is_valid(row) {
            let mut seen: std::collections::HashMap<arrow::row::Row<'_>, usize> =
                std::collections::HashMap::new();
            let offsets = list.value_offsets();
            for at in offsets[row] as usize..offsets[row + 1] as usize {
                if nulls.as_ref().is_some_and(|n| n.is_null(at)) {
                    continue;
                }
                match seen.entry(encoded.row(at)) {
                    std::collections::hash_map::Entry::Occupied(e) => counts[*e.get()] += 1,
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(counts.len());
                        firsts.push(at as u32);
                        counts.push(1i64);
                    }
                }
            }
        }
        lengths.push(firsts.len() - start);
    }
    let keys = take(values.as_ref(), &UInt32Array::from(firsts), None)?;
    let keys = arrow::compute::cast(&keys, fields[0].data_type())?;
    map_array(
        entries_field,
        fields,
        [keys, Arc::new(arrow::array::Int64Array::from(counts))],
        lengths,
        list,
    )
}

/// `map(K, array(V))` for an array of `(K, V)` rows.
fn multimap_type(args: &[DataType]) -> Result<DataType> {
    let (key, value) = entry_types(args, "multimap_from_entries")?;
    Ok(map_of(key, DataType::new_list(value, true)))
}

/// `multimap_from_entries(ARRAY[(k, v), ...])`: each distinct key (in order of first
/// appearance) with the array of its values in order.
fn multimap_from_entries(args: &[ArrayRef]) -> Result<ArrayRef> {
    let list = list_of(&args[0])?;
    let (entries_field, fields) = entries_of(
        multimap_type(&[list.data_type().clone()])?,
        "multimap_from_entries",
    )?;
    let Some(rows) = list.values().as_struct_opt() else {
        return exec_err!("multimap_from_entries takes an array of rows");
    };
    let (keys, values) = (rows.column(0), rows.column(1));
    let converter =
        arrow::row::RowConverter::new(vec![arrow::row::SortField::new(keys.data_type().clone())])?;
    let encoded = converter.convert_columns(&[Arc::clone(keys)])?;
    let (mut firsts, mut grouped, mut lengths) = (Vec::new(), Vec::new(), Vec::new());
    for row in 0..list.len() {
        let mut groups: Vec<(usize, Vec<u32>)> = Vec::new();
        if list.is_valid(row) {
            let mut seen: std::collections::HashMap<arrow::row::Row<'_>, usize> =
                std::collections::HashMap::new();
            let offsets = list.value_offsets();
            for at in offsets[row] as usize..offsets[row + 1] as usize {
                if keys.is_null(at) {
                    return exec_err!("multimap_from_entries: a map key cannot be NULL");
                }
                let group = *seen.entry(encoded.row(at)).or_insert_with(|| {
                    groups.push((at, Vec::new()));
                    groups.len() - 1
                });
                groups[group].1.push(at as u32);
            }
        }
        lengths.push(groups.len());
        for (first, members) in groups {
            firsts.push(first as u32);
            grouped.push(Some(members));
        }
    }
    let keys = take(keys.as_ref(), &UInt32Array::from(firsts), None)?;
    let indices: UInt32Array = grouped.iter().flatten().flatten().copied().collect();
    let value_lists = ListArray::try_new(
        Arc::new(Field::new("item", values.data_type().clone(), true)),
        OffsetBuffer::from_lengths(grouped.iter().map(|g| g.as_ref().map_or(0, Vec::len))),
        take(values.as_ref(), &indices, None)?,
        None,
    )?;
    map_array(
        entries_field,
        fields,
        [keys, Arc::new(value_lists)],
        lengths,
        list,
    )
}

/// The map type of an array of two-field rows.
fn entries_map(args: &[DataType]) -> Result<DataType> {
    let (key, value) = entry_types(args, "map_from_entries")?;
    Ok(map_of(key, value))
}

/// The key and value types of an array of `(key, value)` rows.
fn entry_types(args: &[DataType], function: &str) -> Result<(DataType, DataType)> {
    let Some(DataType::List(field)) = args.first() else {
        return exec_err!("{function} takes an array of rows, got {:?}", args.first());
    };
    let DataType::Struct(fields) = field.data_type() else {
        return exec_err!(
            "{function} takes an array of rows, got {}",
            field.data_type()
        );
    };
    let [key, value] = fields.iter().as_slice() else {
        return exec_err!("{function} takes rows of a key and a value");
    };
    Ok((key.data_type().clone(), value.data_type().clone()))
}

/// One map per row of `list` (NULL where it is), of `lengths[row]` entries each.
fn map_array(
    entries_field: Arc<Field>,
    fields: arrow::datatypes::Fields,
    [keys, values]: [ArrayRef; 2],
    lengths: Vec<usize>,
    list: &ListArray,
) -> Result<ArrayRef> {
    let entries = arrow::array::StructArray::try_new(fields, vec![keys, values], None)?;
    Ok(Arc::new(arrow::array::MapArray::try_new(
        entries_field,
        OffsetBuffer::from_lengths(lengths),
        entries,
        list.nulls().cloned(),
        false,
    )?))
}

/// The entries field of a map type and its key and value fields.
fn entries_of(map: DataType, function: &str) -> Result<(Arc<Field>, arrow::datatypes::Fields)> {
    match map {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) => {
                let fields = fields.clone();
                Ok((entries, fields))
            }
            other => exec_err!("{function} builds map entries, not {other}"),
        },
        other => exec_err!("{function} builds a map, not {other}"),
    }
}

/// `map(key, value)` as Arrow writes a map: non-null keys, nullable values, unsorted.
fn map_of(key: DataType, value: DataType) -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "entries",
            DataType::Struct(
                vec![
                    Field::new("key", key, false),
                    Field::new("value", value, true),
                ]
                .into(),
            ),
            false,
        )),
        false,
    )
}

/// `map_from_entries(ARRAY[(k, v), ...])`: the rows become the map's entries as they are.
fn map_from_entries(args: &[ArrayRef]) -> Result<ArrayRef> {
    let list = list_of(&args[0])?;
    let (entries_field, fields) = entries_of(
        entries_map(&[list.data_type().clone()])?,
        "map_from_entries",
    )?;
    let Some(rows) = list.values().as_struct_opt() else {
        return exec_err!("map_from_entries takes an array of rows");
    };
    if rows.column(0).null_count() > 0 {
        return exec_err!("map_from_entries: a map key cannot be NULL");
    }
    let entries =
        arrow::array::StructArray::try_new(fields.clone(), rows.columns().to_vec(), None)?;
    Ok(Arc::new(arrow::array::MapArray::try_new(
        entries_field,
        list.offsets().clone(),
        entries,
        list.nulls().cloned(),
        false,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, MapArray, NullArray};

    fn list(values: ArrayRef, lengths: &[usize]) -> ArrayRef {
        let field = Arc::new(Field::new("item", values.data_type().clone(), true));
        Arc::new(
            ListArray::try_new(
                field,
                OffsetBuffer::from_lengths(lengths.iter().copied()),
                values,
                None,
            )
            .expect("a list"),
        )
    }

    #[test]
    fn histograms_count_each_element_once_per_value() {
        let values: ArrayRef = Arc::new(Int64Array::from(vec![Some(42), Some(7), Some(42), None]));
        let map = array_histogram(&[list(values, &[4])]).expect("histogram");
        let map = map.as_any().downcast_ref::<MapArray>().expect("a map");
        assert_eq!(map.value_length(0), 2);
        let nulls = array_histogram(&[list(Arc::new(NullArray::new(2)), &[2])]).expect("empty");
        assert_eq!(nulls.as_map().value_length(0), 0);
    }
}
