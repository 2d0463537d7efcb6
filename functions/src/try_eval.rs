//! Trino's `TRY(expr)`: `expr`, or NULL on the rows where evaluating it fails with an error of
//! the data (division by zero, a cast or parse of a bad value, an argument out of range).
//!
//! A scalar function's arguments are evaluated before it runs, so `TRY` cannot be one: the
//! Trino dialect writes `TRY(expr)` as `try_eval(NULL, p -> expr)`, and this function runs
//! the lambda over the whole batch first. Only when that fails does it run the lambda row by
//! row, so a batch without a bad row costs one evaluation. Errors of the engine rather than
//! of the data (memory, I/O, internal) still fail the query, as in Trino.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, NullArray, UInt32Array, new_null_array};
use arrow::compute::concat;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaArgument, LambdaParametersProgress, ValueOrLambda,
};

use crate::udf::{lambda_signature, spread};

/// The function the Trino dialect writes `TRY(expr)` as.
pub const TRY_EVAL: &str = "try_eval";

#[derive(Debug, PartialEq, Eq, Hash)]
struct TryEval {
    signature: HigherOrderSignature,
}

pub fn functions() -> Vec<Arc<HigherOrderUDF>> {
    vec![Arc::new(HigherOrderUDF::new_from_impl(TryEval {
        signature: lambda_signature(1, 1),
    }))]
}

impl HigherOrderUDFImpl for TryEval {
    fn name(&self) -> &str {
        TRY_EVAL
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    /// The body must stay inside: an optimizer that lifts a common subexpression out of it
    /// (`COALESCE(TRY(a / b), 0)` names the body twice) would evaluate it unguarded.
    fn short_circuits(&self) -> bool {
        true
    }

    fn coerce_value_types(&self, _arg_types: &[DataType]) -> Result<Vec<DataType>> {
        Ok(vec![DataType::Null])
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let [ValueOrLambda::Value(_), ValueOrLambda::Lambda(_)] = fields else {
            return plan_err!("try_eval takes a placeholder and a lambda");
        };
        Ok(LambdaParametersProgress::Complete(vec![vec![Arc::new(
            Field::new("try", DataType::Null, true),
        )]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let [_, ValueOrLambda::Lambda(body)] = args.arg_fields else {
            return plan_err!("try_eval takes a placeholder and a lambda");
        };
        Ok(Arc::new(Field::new("try", body.data_type().clone(), true)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let [_, ValueOrLambda::Lambda(body)] = args.args.as_slice() else {
            return exec_err!("try_eval takes a placeholder and a lambda");
        };
        let rows = args.number_rows;
        match evaluate(body, rows, |captured| Ok(captured.to_vec())) {
            Ok(values) => Ok(ColumnarValue::Array(values)),
            Err(e) if !of_the_data(&e) => Err(e),
            Err(_) => {
                let data_type = args.return_field.data_type();
                let one_by_one = (0..rows as u32)
                    .map(|row| {
                        let one = UInt32Array::from(vec![row]);
                        evaluate(body, 1, |captured| spread(captured, &one))
                    })
                    .map(|evaluated| match evaluated {
                        Ok(value) => Ok(value),
                        Err(e) if of_the_data(&e) => Ok(new_null_array(data_type, 1)),
                        Err(e) => Err(e),
                    })
                    .collect::<Result<Vec<_>>>()?;
                let parts: Vec<&dyn Array> = one_by_one.iter().map(AsRef::as_ref).collect();
                if parts.is_empty() {
                    return Ok(ColumnarValue::Array(new_null_array(data_type, 0)));
                }
                Ok(ColumnarValue::Array(concat(&parts)?))
            }
        }
    }
}

/// The body over `rows` outer rows, the captured columns taken by `captures`: as they are
/// for the whole batch, one row of them when retrying row by row.
fn evaluate(
    body: &LambdaArgument,
    rows: usize,
    captures: impl FnOnce(&[ArrayRef]) -> Result<Vec<ArrayRef>>,
) -> Result<ArrayRef> {
    let placeholder: ArrayRef = Arc::new(NullArray::new(rows));
    body.evaluate(&[&|| Ok(Arc::clone(&placeholder))], captures)?
        .into_array(rows)
}

/// Whether an error comes from a value being evaluated (TRY answers NULL for the row) rather
/// than from the engine (TRY lets it fail the query).
fn of_the_data(error: &DataFusionError) -> bool {
    match error {
        DataFusionError::Context(_, inner) => of_the_data(inner),
        DataFusionError::Shared(inner) => of_the_data(inner),
        DataFusionError::Diagnostic(_, inner) => of_the_data(inner),
        DataFusionError::ArrowError(inner, _) => !matches!(
            inner.as_ref(),
            arrow::error::ArrowError::IoError(..)
                | arrow::error::ArrowError::MemoryError(_)
                | arrow::error::ArrowError::ExternalError(_)
        ),
        DataFusionError::Execution(_) => true,
        _ => false,
    }
}
