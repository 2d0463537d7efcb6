//! `map_zip_with(m1, m2, (k, v1, v2) -> v)`: one entry per key of either map (the first map's
//! keys in order, then the second's new ones), its value what the lambda makes of the two
//! values, NULL where a map lacks the key. Keys are matched in Arrow's row format; the lambda
//! runs once per batch over every merged entry.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, MapArray, StructArray, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{interleave, take};
use arrow::datatypes::{DataType, Field, FieldRef};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaParametersProgress, ValueOrLambda,
};

use crate::map_lambda::{entry_fields, map_type};
use crate::udf::{lambda_signature, spread};

pub fn functions() -> Vec<Arc<HigherOrderUDF>> {
    vec![Arc::new(HigherOrderUDF::new_from_impl(MapZipWith {
        signature: lambda_signature(2, 1),
    }))]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MapZipWith {
    signature: HigherOrderSignature,
}

fn nullable(field: FieldRef) -> FieldRef {
    Arc::new(field.as_ref().clone().with_nullable(true))
}

impl HigherOrderUDFImpl for MapZipWith {
    fn name(&self) -> &str {
        "map_zip_with"
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a @ DataType::Map(..), b @ DataType::Map(..)] => Ok(vec![a.clone(), b.clone()]),
            other => plan_err!("map_zip_with takes two maps and a lambda, got {other:?}"),
        }
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let [ValueOrLambda::Value(a), ValueOrLambda::Value(b), _] = fields else {
            return plan_err!("map_zip_with takes two maps and a lambda");
        };
        let ((_, key, v1), (_, key2, v2)) =
            (entry_fields(a.data_type())?, entry_fields(b.data_type())?);
        if key.data_type() != key2.data_type() {
            return plan_err!(
                "map_zip_with takes maps with keys of one type, got {} and {}",
                key.data_type(),
                key2.data_type()
            );
        }
        Ok(LambdaParametersProgress::Complete(vec![vec![
            key,
            nullable(v1),
            nullable(v2),
        ]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let [ValueOrLambda::Value(a), _, ValueOrLambda::Lambda(lambda)] = args.arg_fields else {
            return plan_err!("map_zip_with takes two maps and a lambda");
        };
        let (entries, key, value) = entry_fields(a.data_type())?;
        let value = Arc::new(Field::new(value.name(), lambda.data_type().clone(), true));
        Ok(Arc::new(Field::new(
            "map_zip_with",
            map_type(&entries, key, value),
            true,
        )))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let [
            ValueOrLambda::Value(a),
            ValueOrLambda::Value(b),
            ValueOrLambda::Lambda(lambda),
        ] = args.args.as_slice()
        else {
            return exec_err!("map_zip_with takes two maps and a lambda");
        };
        let rows = args.number_rows;
        let (a, b) = (a.to_array(rows)?, b.to_array(rows)?);
        let (Some(a), Some(b)) = (a.as_map_opt(), b.as_map_opt()) else {
            return exec_err!("map_zip_with takes two maps");
        };
        let converter = RowConverter::new(vec![SortField::new(a.keys().data_type().clone())])?;
        let (a_keys, b_keys) = (
            converter.convert_columns(&[Arc::clone(a.keys())])?,
            converter.convert_columns(&[Arc::clone(b.keys())])?,
        );
        // Per merged entry: where its key comes from, and each map's value for it.
        let (mut key_from, mut from_a, mut from_b, mut row_of, mut lengths) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in 0..rows {
            if a.is_null(row) || b.is_null(row) {
                lengths.push(0);
                continue;
            }
            let (ao, bo) = (a.value_offsets(), b.value_offsets());
            let (a_range, b_range) = (
                ao[row] as usize..ao[row + 1] as usize,
                bo[row] as usize..bo[row + 1] as usize,
            );
            let in_b: HashMap<_, usize> = b_range.clone().map(|j| (b_keys.row(j), j)).collect();
            let mut count = 0;
            for i in a_range.clone() {
                key_from.push((0, i));
                from_a.push(Some(i as u32));
                from_b.push(in_b.get(&a_keys.row(i)).map(|&j| j as u32));
                count += 1;
            }
            let in_a: std::collections::HashSet<_> = a_range.map(|i| a_keys.row(i)).collect();
            for j in b_range.filter(|&j| !in_a.contains(&b_keys.row(j))) {
                key_from.push((1, j));
                from_a.push(None);
                from_b.push(Some(j as u32));
                count += 1;
            }
            row_of.extend(std::iter::repeat_n(row as u32, count));
            lengths.push(count);
        }
        let keys = interleave(&[a.keys().as_ref(), b.keys().as_ref()], &key_from)?;
        let v1 = take(a.values().as_ref(), &UInt32Array::from(from_a), None)?;
        let v2 = take(b.values().as_ref(), &UInt32Array::from(from_b), None)?;
        let row_of = UInt32Array::from(row_of);
        let values: ArrayRef = lambda
            .evaluate(
                &[&|| Ok(Arc::clone(&keys)), &|| Ok(Arc::clone(&v1)), &|| {
                    Ok(Arc::clone(&v2))
                }],
                |captured| spread(captured, &row_of),
            )?
            .into_array(keys.len())?;
        let DataType::Map(entries_field, _) = args.return_field.data_type() else {
            return exec_err!("map_zip_with returns a map");
        };
        let DataType::Struct(fields) = entries_field.data_type() else {
            return exec_err!("map_zip_with returns a map of entries");
        };
        let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)?;
        Ok(ColumnarValue::Array(Arc::new(MapArray::try_new(
            Arc::clone(entries_field),
            OffsetBuffer::from_lengths(lengths),
            entries,
            NullBuffer::union(a.nulls(), b.nulls()),
            false,
        )?)))
    }
}
