//! `zip_with(a, b, (x, y) -> ...)`: the lambda runs once per batch over the two arrays'
//! elements paired by position, the shorter array padded with NULLs, as Trino pads it.

use std::sync::Arc;

use arrow::array::{Array, AsArray, ListArray, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::take;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, exec_err, plan_err};

use crate::udf::{lambda_signature, spread};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaParametersProgress, ValueOrLambda,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct ZipWith {
    signature: HigherOrderSignature,
}

pub fn functions() -> Vec<Arc<HigherOrderUDF>> {
    vec![Arc::new(HigherOrderUDF::new_from_impl(ZipWith {
        signature: lambda_signature(2, 1),
    }))]
}

fn element(data_type: &DataType) -> Result<FieldRef> {
    match data_type {
        DataType::List(field) => Ok(Arc::new(field.as_ref().clone().with_nullable(true))),
        other => plan_err!("zip_with takes two arrays, got {other}"),
    }
}

impl HigherOrderUDFImpl for ZipWith {
    fn name(&self) -> &str {
        "zip_with"
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        arg_types
            .iter()
            .map(|t| match t {
                DataType::List(_) => Ok(t.clone()),
                DataType::FixedSizeList(field, _) | DataType::LargeList(field) => {
                    Ok(DataType::List(Arc::clone(field)))
                }
                DataType::Null => Ok(DataType::new_list(DataType::Null, true)),
                other => plan_err!("zip_with takes two arrays, got {other}"),
            })
            .collect()
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let [ValueOrLambda::Value(a), ValueOrLambda::Value(b), _] = fields else {
            return plan_err!("zip_with takes two arrays and a lambda");
        };
        Ok(LambdaParametersProgress::Complete(vec![vec![
            element(a.data_type())?,
            element(b.data_type())?,
        ]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let [_, _, ValueOrLambda::Lambda(lambda)] = args.arg_fields else {
            return plan_err!("zip_with takes two arrays and a lambda");
        };
        Ok(Arc::new(Field::new(
            "zip_with",
            DataType::new_list(lambda.data_type().clone(), true),
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
            return exec_err!("zip_with takes two arrays and a lambda");
        };
        let (a, b) = (a.to_array(args.number_rows)?, b.to_array(args.number_rows)?);
        let (Some(a), Some(b)) = (a.as_list_opt::<i32>(), b.as_list_opt::<i32>()) else {
            return exec_err!("zip_with takes two arrays");
        };
        let mut left = Vec::new();
        let mut right = Vec::new();
        let mut row_of = Vec::new();
        let mut lengths = Vec::with_capacity(a.len());
        for row in 0..a.len() {
            if a.is_null(row) || b.is_null(row) {
                lengths.push(0);
                continue;
            }
            let (ao, bo) = (a.value_offsets(), b.value_offsets());
            let (la, lb) = (
                (ao[row + 1] - ao[row]) as u32,
                (bo[row + 1] - bo[row]) as u32,
            );
            let width = la.max(lb);
            for j in 0..width {
                left.push((j < la).then_some(ao[row] as u32 + j));
                right.push((j < lb).then_some(bo[row] as u32 + j));
                row_of.push(row as u32);
            }
            lengths.push(width as usize);
        }
        let (left, right) = (UInt32Array::from(left), UInt32Array::from(right));
        let xs = take(a.values().as_ref(), &left, None)?;
        let ys = take(b.values().as_ref(), &right, None)?;
        let row_of = UInt32Array::from(row_of);
        let values = lambda
            .evaluate(
                &[&|| Ok(Arc::clone(&xs)), &|| Ok(Arc::clone(&ys))],
                |captured| spread(captured, &row_of),
            )?
            .into_array(xs.len())?;
        let nulls = NullBuffer::union(a.nulls(), b.nulls());
        let DataType::List(field) = args.return_field.data_type() else {
            return exec_err!("zip_with returns an array");
        };
        Ok(ColumnarValue::Array(Arc::new(ListArray::try_new(
            Arc::clone(field),
            OffsetBuffer::from_lengths(lengths),
            values,
            nulls,
        )?)))
    }
}
