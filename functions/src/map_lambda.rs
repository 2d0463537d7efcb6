//! Trino's lambdas over maps: `map_filter(m, (k, v) -> bool)`, `transform_values(m, (k, v) ->
//! v2)` and `transform_keys(m, (k, v) -> k2)`. The lambda runs once per batch over every
//! entry's key and value arrays (captured columns repeated per entry), and the map is rebuilt
//! around the result.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, MapArray, StructArray, UInt32Array};
use arrow::buffer::OffsetBuffer;
use arrow::compute::filter;
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, exec_err, plan_err};

use crate::udf::{lambda_signature, spread};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaParametersProgress, ValueOrLambda,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Filter,
    TransformValues,
    TransformKeys,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MapLambda {
    name: &'static str,
    kind: Kind,
    signature: HigherOrderSignature,
}

pub fn functions() -> Vec<Arc<HigherOrderUDF>> {
    [
        ("map_filter", Kind::Filter),
        ("transform_values", Kind::TransformValues),
        ("transform_keys", Kind::TransformKeys),
    ]
    .into_iter()
    .map(|(name, kind)| {
        Arc::new(HigherOrderUDF::new_from_impl(MapLambda {
            name,
            kind,
            signature: lambda_signature(1, 1),
        }))
    })
    .collect()
}

/// The key and value fields of a map type.
pub(crate) fn entry_fields(data_type: &DataType) -> Result<(FieldRef, FieldRef, FieldRef)> {
    let DataType::Map(entries, _) = data_type else {
        return plan_err!("expected a map, got {data_type}");
    };
    let DataType::Struct(fields) = entries.data_type() else {
        return plan_err!("a map's entries are not a struct: {}", entries.data_type());
    };
    match fields.iter().as_slice() {
        [key, value] => Ok((Arc::clone(entries), Arc::clone(key), Arc::clone(value))),
        _ => plan_err!("a map's entries have {} fields, not 2", fields.len()),
    }
}

/// A map type with new key or value types.
pub(crate) fn map_type(entries: &FieldRef, key: FieldRef, value: FieldRef) -> DataType {
    let fields = Fields::from(vec![key, value]);
    DataType::Map(
        Arc::new(Field::new(entries.name(), DataType::Struct(fields), false)),
        false,
    )
}

impl HigherOrderUDFImpl for MapLambda {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [map @ DataType::Map(..)] => Ok(vec![map.clone()]),
            other => plan_err!("{} takes a map and a lambda, got {other:?}", self.name),
        }
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let Some(ValueOrLambda::Value(map)) = fields.first() else {
            return plan_err!("{} takes a map first", self.name);
        };
        let (_, key, value) = entry_fields(map.data_type())?;
        Ok(LambdaParametersProgress::Complete(vec![vec![key, value]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let [ValueOrLambda::Value(map), ValueOrLambda::Lambda(lambda)] = args.arg_fields else {
            return plan_err!("{} takes a map and a lambda", self.name);
        };
        let (entries, key, value) = entry_fields(map.data_type())?;
        let data_type = match self.kind {
            Kind::Filter => map.data_type().clone(),
            Kind::TransformValues => map_type(
                &entries,
                key,
                Arc::new(Field::new(value.name(), lambda.data_type().clone(), true)),
            ),
            Kind::TransformKeys => map_type(
                &entries,
                Arc::new(Field::new(key.name(), lambda.data_type().clone(), false)),
                value,
            ),
        };
        Ok(Arc::new(Field::new(
            self.name,
            data_type,
            map.is_nullable(),
        )))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let [ValueOrLambda::Value(map), ValueOrLambda::Lambda(lambda)] = args.args.as_slice()
        else {
            return exec_err!("{} takes a map and a lambda", self.name);
        };
        let array = map.to_array(args.number_rows)?;
        let Some(map) = array.as_map_opt() else {
            return exec_err!("{} takes a map, got {}", self.name, array.data_type());
        };
        // The entries of the rows in this (possibly sliced) array, offsets from zero.
        let offsets = map.value_offsets();
        let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
        let entries = map.entries().slice(first, last - first);
        let (keys, values) = (Arc::clone(entries.column(0)), Arc::clone(entries.column(1)));
        let rebased: Vec<i32> = offsets.iter().map(|o| o - offsets[0]).collect();
        let row_of_entry: UInt32Array = rebased
            .windows(2)
            .enumerate()
            .flat_map(|(row, w)| std::iter::repeat_n(row as u32, (w[1] - w[0]) as usize))
            .collect();
        let result = lambda
            .evaluate(
                &[&|| Ok(Arc::clone(&keys)), &|| Ok(Arc::clone(&values))],
                |captured| spread(captured, &row_of_entry),
            )?
            .into_array(entries.len())?;
        let DataType::Map(entries_field, _) = args.return_field.data_type() else {
            return exec_err!("{} returns a map", self.name);
        };
        let DataType::Struct(fields) = entries_field.data_type() else {
            return exec_err!("{} returns a map of entries", self.name);
        };
        let (columns, offsets): (Vec<ArrayRef>, OffsetBuffer<i32>) = match self.kind {
            Kind::Filter => {
                let Some(keep) = result.as_boolean_opt() else {
                    return exec_err!("map_filter's lambda must return a boolean");
                };
                // A NULL answer drops the entry, as false does.
                let keep: BooleanArray = keep.iter().map(|k| Some(k == Some(true))).collect();
                let kept = filter(&entries, &keep)?;
                let kept = kept.as_struct();
                let counts = rebased
                    .windows(2)
                    .map(|w| (w[0]..w[1]).filter(|&i| keep.value(i as usize)).count());
                (kept.columns().to_vec(), OffsetBuffer::from_lengths(counts))
            }
            Kind::TransformValues => (vec![keys, result], OffsetBuffer::new(rebased.into())),
            Kind::TransformKeys => (vec![result, values], OffsetBuffer::new(rebased.into())),
        };
        let entries = StructArray::try_new(fields.clone(), columns, None)?;
        let map = MapArray::try_new(
            Arc::clone(entries_field),
            offsets,
            entries,
            map.nulls().cloned(),
            false,
        )?;
        Ok(ColumnarValue::Array(Arc::new(map)))
    }
}
