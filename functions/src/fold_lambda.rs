//! Trino's lambdas that fold or order an array: `reduce(a, s0, (s, x) -> s2, s -> r)` and
//! `array_sort(a, (x, y) -> -1 | 0 | 1)` (planned as `array_sort_by`, since DataFusion's
//! `array_sort` takes no lambda). Each runs its lambda over whole batches: `reduce` once per
//! element position across every row, `array_sort_by` once over every pair of elements.

use std::sync::Arc;

use arrow::array::{Array, AsArray, ListArray, UInt32Array, new_null_array};
use arrow::buffer::OffsetBuffer;
use arrow::compute::{cast, interleave, take};
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaParametersProgress, ValueOrLambda,
};

use crate::udf::{lambda_signature, spread};

/// The name `array_sort(a, comparator)` is planned under.
pub const ARRAY_SORT_BY: &str = "array_sort_by";

/// The most elements `array_sort_by` orders in one array: it compares every pair in one
/// evaluation, so an array of n elements makes n² lambda rows (a million at most).
const MAX_SORTED: usize = 1_000;

pub fn functions() -> Vec<Arc<HigherOrderUDF>> {
    vec![
        Arc::new(HigherOrderUDF::new_from_impl(Reduce {
            signature: lambda_signature(2, 2),
        })),
        Arc::new(HigherOrderUDF::new_from_impl(SortBy {
            signature: lambda_signature(1, 1),
        })),
    ]
}

fn element(data_type: &DataType, function: &str) -> Result<FieldRef> {
    match data_type {
        DataType::List(field) => Ok(Arc::new(field.as_ref().clone().with_nullable(true))),
        DataType::Null => Ok(Arc::new(Field::new("item", DataType::Null, true))),
        other => plan_err!("{function} takes an array, got {other}"),
    }
}

fn as_list(data_type: &DataType, function: &str) -> Result<DataType> {
    match data_type {
        DataType::List(_) => Ok(data_type.clone()),
        DataType::FixedSizeList(field, _) | DataType::LargeList(field) => {
            Ok(DataType::List(Arc::clone(field)))
        }
        DataType::Null => Ok(DataType::new_list(DataType::Null, true)),
        other => plan_err!("{function} takes an array, got {other}"),
    }
}

/// `(start, end)` of each row's elements.
fn bounds(list: &ListArray, row: usize) -> (usize, usize) {
    let offsets = list.value_offsets();
    (offsets[row] as usize, offsets[row + 1] as usize)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Reduce {
    signature: HigherOrderSignature,
}

impl HigherOrderUDFImpl for Reduce {
    fn name(&self) -> &str {
        "reduce"
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [list, state] => Ok(vec![as_list(list, "reduce")?, state.clone()]),
            _ => plan_err!("reduce takes an array, a start state and two lambdas"),
        }
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let [
            ValueOrLambda::Value(list),
            ValueOrLambda::Value(start),
            _,
            _,
        ] = fields
        else {
            return plan_err!("reduce takes an array, a start state and two lambdas");
        };
        let state = Arc::new(start.as_ref().clone().with_nullable(true));
        Ok(LambdaParametersProgress::Complete(vec![
            vec![Arc::clone(&state), element(list.data_type(), "reduce")?],
            vec![state],
        ]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let [_, _, _, ValueOrLambda::Lambda(output)] = args.arg_fields else {
            return plan_err!("reduce takes an array, a start state and two lambdas");
        };
        Ok(Arc::new(Field::new(
            "reduce",
            output.data_type().clone(),
            true,
        )))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let [
            ValueOrLambda::Value(list),
            ValueOrLambda::Value(start),
            ValueOrLambda::Lambda(input),
            ValueOrLambda::Lambda(output),
        ] = args.args.as_slice()
        else {
            return exec_err!("reduce takes an array, a start state and two lambdas");
        };
        let rows = args.number_rows;
        let list = list.to_array(rows)?;
        let Some(list) = list.as_list_opt::<i32>() else {
            return exec_err!("reduce takes an array");
        };
        let mut state = start.to_array(rows)?;
        let state_type = state.data_type().clone();
        let longest = (0..rows)
            .map(|r| bounds(list, r))
            .map(|(a, b)| b - a)
            .max()
            .unwrap_or(0);
        // Position by position: every row with an element there steps its state once.
        for position in 0..longest {
            let (live, at): (Vec<u32>, Vec<u32>) = (0..rows)
                .filter(|&r| list.is_valid(r))
                .filter_map(|r| {
                    let (a, b) = bounds(list, r);
                    (a + position < b).then_some((r as u32, (a + position) as u32))
                })
                .unzip();
            let (live, at) = (UInt32Array::from(live), UInt32Array::from(at));
            let states = take(state.as_ref(), &live, None)?;
            let xs = take(list.values().as_ref(), &at, None)?;
            let stepped = input
                .evaluate(
                    &[&|| Ok(Arc::clone(&states)), &|| Ok(Arc::clone(&xs))],
                    |captured| spread(captured, &live),
                )?
                .into_array(live.len())?;
            let stepped = cast(&stepped, &state_type)?;
            // Each row keeps its state or takes its stepped one.
            let mut next = 0;
            let picks: Vec<(usize, usize)> = (0..rows)
                .map(|r| {
                    if live.values().get(next).is_some_and(|&l| l as usize == r) {
                        next += 1;
                        (1, next - 1)
                    } else {
                        (0, r)
                    }
                })
                .collect();
            state = interleave(&[state.as_ref(), stepped.as_ref()], &picks)?;
        }
        let all = UInt32Array::from_iter_values(0..rows as u32);
        let result = output
            .evaluate(&[&|| Ok(Arc::clone(&state))], |captured| {
                spread(captured, &all)
            })?
            .into_array(rows)?;
        // A NULL array reduces to NULL.
        let kept: UInt32Array = (0..rows)
            .map(|r| list.is_valid(r).then_some(r as u32))
            .collect();
        Ok(ColumnarValue::Array(take(result.as_ref(), &kept, None)?))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SortBy {
    signature: HigherOrderSignature,
}

impl HigherOrderUDFImpl for SortBy {
    fn name(&self) -> &str {
        ARRAY_SORT_BY
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        arg_types.iter().map(|t| as_list(t, "array_sort")).collect()
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let [ValueOrLambda::Value(list), _] = fields else {
            return plan_err!("array_sort takes an array and a comparator");
        };
        let x = element(list.data_type(), "array_sort")?;
        Ok(LambdaParametersProgress::Complete(vec![vec![
            Arc::clone(&x),
            x,
        ]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let [ValueOrLambda::Value(list), _] = args.arg_fields else {
            return plan_err!("array_sort takes an array and a comparator");
        };
        Ok(Arc::new(Field::new(
            "array_sort",
            list.data_type().clone(),
            true,
        )))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let [
            ValueOrLambda::Value(list),
            ValueOrLambda::Lambda(comparator),
        ] = args.args.as_slice()
        else {
            return exec_err!("array_sort takes an array and a comparator");
        };
        let rows = args.number_rows;
        let list = list.to_array(rows)?;
        let Some(list) = list.as_list_opt::<i32>() else {
            return exec_err!("array_sort takes an array");
        };
        // Every ordered pair of each row's elements, compared in one evaluation.
        let (mut left, mut right, mut row_of) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..rows {
            let (a, b) = bounds(list, r);
            if b - a > MAX_SORTED {
                return exec_err!(
                    "array_sort with a comparator orders at most {MAX_SORTED} elements, got {}",
                    b - a
                );
            }
            for i in a..b {
                for j in a..b {
                    left.push(i as u32);
                    right.push(j as u32);
                    row_of.push(r as u32);
                }
            }
        }
        let (left, right) = (UInt32Array::from(left), UInt32Array::from(right));
        let xs = take(list.values().as_ref(), &left, None)?;
        let ys = take(list.values().as_ref(), &right, None)?;
        let row_of = UInt32Array::from(row_of);
        let order = comparator
            .evaluate(
                &[&|| Ok(Arc::clone(&xs)), &|| Ok(Arc::clone(&ys))],
                |captured| spread(captured, &row_of),
            )?
            .into_array(xs.len())?;
        let order = cast(&order, &DataType::Int64)?;
        let order = order.as_primitive::<Int64Type>();
        if let Some(bad) = (0..order.len()).find(|&k| order.is_null(k) || order.value(k).abs() > 1)
        {
            return exec_err!(
                "array_sort: the comparator must return -1, 0 or 1, got {}",
                if order.is_null(bad) {
                    "NULL".to_string()
                } else {
                    order.value(bad).to_string()
                }
            );
        }
        let mut sorted = Vec::with_capacity(list.values().len());
        let mut pair = 0;
        for r in 0..rows {
            let (a, b) = bounds(list, r);
            let n = b - a;
            let mut indices: Vec<usize> = (0..n).collect();
            let base = pair;
            indices.sort_by(|&i, &j| order.value(base + i * n + j).cmp(&0));
            sorted.extend(indices.into_iter().map(|i| (a + i) as u32));
            pair += n * n;
        }
        let values = if list.values().is_empty() {
            new_null_array(list.values().data_type(), 0)
        } else {
            take(list.values().as_ref(), &UInt32Array::from(sorted), None)?
        };
        let DataType::List(field) = list.data_type() else {
            return exec_err!("array_sort returns an array");
        };
        let lengths = (0..rows).map(|r| {
            let (a, b) = bounds(list, r);
            b - a
        });
        Ok(ColumnarValue::Array(Arc::new(ListArray::try_new(
            Arc::clone(field),
            OffsetBuffer::from_lengths(lengths),
            values,
            list.nulls().cloned(),
        )?)))
    }
}
