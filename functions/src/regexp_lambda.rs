//! `regexp_replace(s, pattern, groups -> text)`, planned as `regexp_replace_with` (DataFusion's
//! `regexp_replace` takes no lambda): every match is replaced by what the lambda makes of its
//! capturing groups (an array, group 1 first). The lambda runs once per batch over every match
//! of every row.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ListBuilder, StringBuilder, UInt32Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaParametersProgress, ValueOrLambda,
};

use crate::args::{Patterns, strings};
use crate::udf::{lambda_signature, spread};

/// The name `regexp_replace(s, pattern, lambda)` is planned under.
pub const REGEXP_REPLACE_WITH: &str = "regexp_replace_with";

pub fn functions() -> Vec<Arc<HigherOrderUDF>> {
    vec![Arc::new(HigherOrderUDF::new_from_impl(ReplaceWith {
        signature: lambda_signature(2, 1),
    }))]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ReplaceWith {
    signature: HigherOrderSignature,
}

impl HigherOrderUDFImpl for ReplaceWith {
    fn name(&self) -> &str {
        REGEXP_REPLACE_WITH
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        Ok(vec![DataType::Utf8; arg_types.len()])
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        _fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        Ok(LambdaParametersProgress::Complete(vec![vec![Arc::new(
            Field::new("groups", DataType::new_list(DataType::Utf8, true), true),
        )]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        if args.arg_fields.len() != 3 {
            return plan_err!("regexp_replace takes a string, a pattern and a lambda");
        }
        Ok(Arc::new(Field::new("regexp_replace", DataType::Utf8, true)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let [
            ValueOrLambda::Value(texts),
            ValueOrLambda::Value(patterns),
            ValueOrLambda::Lambda(lambda),
        ] = args.args.as_slice()
        else {
            return exec_err!("regexp_replace takes a string, a pattern and a lambda");
        };
        let rows = args.number_rows;
        let (texts, patterns) = (
            strings(&texts.to_array(rows)?)?,
            strings(&patterns.to_array(rows)?)?,
        );
        let mut compiled = Patterns::default();
        // Every match: its row and byte range; its groups go to the lambda.
        let mut matches: Vec<(usize, usize, usize)> = Vec::new();
        let mut groups = ListBuilder::new(StringBuilder::new());
        for row in 0..rows {
            if texts.is_null(row) || patterns.is_null(row) {
                continue;
            }
            let regex = compiled.get(patterns.value(row))?;
            for found in regex.captures_iter(texts.value(row)) {
                let Some(whole) = found.get(0) else { continue };
                for g in 1..found.len() {
                    groups
                        .values()
                        .append_option(found.get(g).map(|m| m.as_str()));
                }
                groups.append(true);
                matches.push((row, whole.start(), whole.end()));
            }
        }
        let groups: ArrayRef = Arc::new(groups.finish());
        let row_of = UInt32Array::from_iter_values(matches.iter().map(|m| m.0 as u32));
        let replaced = lambda
            .evaluate(&[&|| Ok(Arc::clone(&groups))], |captured| {
                spread(captured, &row_of)
            })?
            .into_array(matches.len())?;
        let replaced = strings(&cast(&replaced, &DataType::Utf8)?)?;
        let mut out = StringBuilder::new();
        let mut next = 0;
        for row in 0..rows {
            if texts.is_null(row) || patterns.is_null(row) {
                out.append_null();
                continue;
            }
            let text = texts.value(row);
            let mut result = String::with_capacity(text.len());
            let mut at = 0;
            let mut null = false;
            while next < matches.len() && matches[next].0 == row {
                let (_, start, end) = matches[next];
                result.push_str(&text[at..start]);
                if replaced.is_null(next) {
                    null = true;
                } else {
                    result.push_str(replaced.value(next));
                }
                at = end;
                next += 1;
            }
            result.push_str(&text[at..]);
            // A NULL replacement makes the whole result NULL, as in Trino.
            out.append_option((!null).then_some(result));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
