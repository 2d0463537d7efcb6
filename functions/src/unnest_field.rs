//! `unnest_field(x, i)`: the i-th column Trino's `UNNEST` makes of each element of `x`, as
//! an array per row: the keys (1) or values (2) of a map, or field i of an array of rows.
//! The Trino dialect unnests `UNNEST(m) AS t(k, v)` as `unnest(unnest_field(m, 1)) AS k,
//! unnest(unnest_field(m, 2)) AS v`, since DataFusion's `unnest` takes no map and makes one
//! struct column of a row; the dialect's rewrite cannot tell a map from an array of rows (it
//! sees no types), so one function serves both.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// The function the Trino dialect unnests a map or an array of rows through.
pub const UNNEST_FIELD: &str = "unnest_field";

#[derive(Debug, PartialEq, Eq, Hash)]
struct UnnestField {
    signature: Signature,
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::new_from_impl(UnnestField {
        signature: Signature::any(2, Volatility::Immutable),
    }))]
}

/// The element type's columns: a map's key and value, a row's fields.
fn columns(data_type: &DataType) -> Result<Vec<FieldRef>> {
    match data_type {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) => Ok(fields.iter().cloned().collect()),
            other => plan_err!("a map's entries are a struct, got {other}"),
        },
        DataType::List(element) => match element.data_type() {
            DataType::Struct(fields) => Ok(fields.iter().cloned().collect()),
            other => plan_err!(
                "UNNEST makes several columns of a map or an array of rows, not of an array of {other}"
            ),
        },
        other => {
            plan_err!("UNNEST makes several columns of a map or an array of rows, not of {other}")
        }
    }
}

/// The 1-based column index, a constant.
fn index(scalar: Option<&ScalarValue>, width: usize) -> Result<usize> {
    let i = match scalar {
        Some(ScalarValue::Int64(Some(i))) => *i,
        Some(ScalarValue::Int32(Some(i))) => i64::from(*i),
        _ => return plan_err!("unnest_field takes a constant column number"),
    };
    match usize::try_from(i) {
        Ok(i) if (1..=width).contains(&i) => Ok(i),
        _ => plan_err!("UNNEST has {width} columns here, not {i}"),
    }
}

impl ScalarUDFImpl for UnnestField {
    fn name(&self) -> &str {
        UNNEST_FIELD
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("unnest_field has its type from its arguments")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let fields = columns(args.arg_fields[0].data_type())?;
        let i = index(
            args.scalar_arguments.get(1).copied().flatten(),
            fields.len(),
        )?;
        let element = fields[i - 1].as_ref().clone().with_nullable(true);
        Ok(Arc::new(Field::new(
            UNNEST_FIELD,
            DataType::List(Arc::new(element)),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let source = args.args[0].to_array(args.number_rows)?;
        let ColumnarValue::Scalar(i) = &args.args[1] else {
            return exec_err!("unnest_field takes a constant column number");
        };
        let DataType::List(element) = args.return_field.data_type() else {
            return exec_err!("unnest_field returns an array");
        };
        let (offsets, entries, nulls) = match source.data_type() {
            DataType::Map(..) => {
                let map = source.as_map();
                (
                    map.offsets().clone(),
                    map.entries().clone(),
                    map.nulls().cloned(),
                )
            }
            DataType::List(_) => {
                let list = source.as_list::<i32>();
                let Some(rows) = list.values().as_struct_opt() else {
                    return exec_err!("unnest_field takes an array of rows");
                };
                (list.offsets().clone(), rows.clone(), list.nulls().cloned())
            }
            other => return exec_err!("unnest_field takes a map or an array of rows, not {other}"),
        };
        let i = index(Some(i), entries.num_columns())?;
        let column: ArrayRef = entries.column(i - 1).clone();
        // A NULL row unnests to NULL in every column.
        let column = match NullBuffer::union(entries.nulls(), column.nulls()) {
            Some(combined) if entries.nulls().is_some() => arrow::array::make_array(
                column
                    .to_data()
                    .into_builder()
                    .nulls(Some(combined))
                    .build()?,
            ),
            _ => column,
        };
        Ok(ColumnarValue::Array(Arc::new(ListArray::try_new(
            Arc::clone(element),
            offsets,
            column,
            nulls,
        )?)))
    }
}
