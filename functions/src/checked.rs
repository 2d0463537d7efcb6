//! Integer `+`, `-` and `*` that fail on overflow, as Trino's (`bigint addition overflow`)
//! and PostgreSQL's (`bigint out of range`) do: DataFusion 54 wraps around, so
//! `9223372036854775807 + 1` answers a large negative number, a wrong answer given with
//! confidence. A rewrite registered with every session ([`rewrite`])
//! turns the operator on integer operands into [`CHECKED_ADD`] (and the others) before type
//! coercion; they run Arrow's checked kernels, vectorised as the wrapping ones are.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Datum};
use arrow::compute::cast;
use arrow::compute::kernels::numeric::{add, mul, sub};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};

use crate::operators::OperatorRewrite;

pub const CHECKED_ADD: &str = "checked_add";
pub const CHECKED_SUBTRACT: &str = "checked_subtract";
pub const CHECKED_MULTIPLY: &str = "checked_multiply";

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [
        (CHECKED_ADD, Operator::Plus),
        (CHECKED_SUBTRACT, Operator::Minus),
        (CHECKED_MULTIPLY, Operator::Multiply),
    ]
    .into_iter()
    .map(|(name, op)| {
        Arc::new(ScalarUDF::new_from_impl(Checked {
            name,
            op,
            signature: Signature::any(2, Volatility::Immutable),
        }))
    })
    .collect()
}

/// One checked operator. A constant operand (`n + 1`) stays an Arrow scalar, as the kernels
/// take it, rather than being repeated into an array for every batch.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Checked {
    name: &'static str,
    op: Operator,
    signature: Signature,
}

impl ScalarUDFImpl for Checked {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        common(types, self.op)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [left, right] = args.args.as_slice() else {
            return exec_err!("{} takes two operands", self.name);
        };
        let wanted = args.return_field.data_type();
        let operand = |value: &ColumnarValue| -> Result<(ArrayRef, bool)> {
            Ok(match value {
                ColumnarValue::Array(array) => (cast(array, wanted)?, false),
                ColumnarValue::Scalar(scalar) => {
                    (cast(&scalar.to_array_of_size(1)?, wanted)?, true)
                }
            })
        };
        let (left, left_scalar) = operand(left)?;
        let (right, right_scalar) = operand(right)?;
        let result = checked(
            &Operand(&left, left_scalar),
            &Operand(&right, right_scalar),
            self.op,
        )?;
        Ok(if left_scalar && right_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?)
        } else {
            ColumnarValue::Array(result)
        })
    }
}

/// The type both operands are computed in: DataFusion's own choice for the operator.
fn common(types: &[DataType], op: Operator) -> Result<DataType> {
    let [left, right] = types else {
        return exec_err!("{op} takes two operands");
    };
    BinaryTypeCoercer::new(left, &op, right).get_result_type()
}

/// An operand of the common type: an array, or a one-value array standing for a scalar.
struct Operand<'a>(&'a ArrayRef, bool);

impl Datum for Operand<'_> {
    fn get(&self) -> (&dyn Array, bool) {
        (self.0.as_ref(), self.1)
    }
}

fn checked(left: &Operand, right: &Operand, op: Operator) -> Result<ArrayRef> {
    Ok(match op {
        Operator::Plus => add(left, right)?,
        Operator::Minus => sub(left, right)?,
        _ => mul(left, right)?,
    })
}

/// Rewrites `a + b`, `a - b` and `a * b` of two integers as the checked functions.
pub fn rewrite() -> OperatorRewrite {
    OperatorRewrite::new(
        "checked_arithmetic",
        functions(),
        |left, op, right, schema| {
            let index = match op {
                Operator::Plus => 0,
                Operator::Minus => 1,
                Operator::Multiply => 2,
                _ => return None,
            };
            let integer = |e: &Expr| e.get_type(schema).is_ok_and(|t| t.is_integer());
            (integer(left) && integer(right)).then(|| (index, vec![left.clone(), right.clone()]))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray, Int32Array, Int64Array};
    use arrow::datatypes::Int64Type;

    fn run(left: ArrayRef, right: ArrayRef, op: Operator) -> Result<ArrayRef> {
        let types = [left.data_type().clone(), right.data_type().clone()];
        let wanted = common(&types, op)?;
        let (left, right) = (cast(&left, &wanted)?, cast(&right, &wanted)?);
        checked(&Operand(&left, false), &Operand(&right, false), op)
    }

    #[test]
    fn overflow_fails_and_mixed_widths_meet_in_the_wider() {
        let big: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, 1]));
        let one: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let error = run(big.clone(), one.clone(), Operator::Plus).expect_err("overflow");
        assert!(error.to_string().contains("Overflow"), "{error}");
        let two: ArrayRef = Arc::new(Int32Array::from(vec![2, 2]));
        assert!(run(two, big.clone(), Operator::Multiply).is_err());
        let small: ArrayRef = Arc::new(Int64Array::from(vec![5, 1]));
        let sum = run(small.clone(), one, Operator::Minus).expect("fits");
        assert_eq!(sum.data_type(), &DataType::Int64);
        assert_eq!(sum.as_primitive::<Int64Type>().values(), &[4, -1]);
        // A scalar operand applies to every row.
        let three: ArrayRef = Arc::new(Int64Array::from(vec![3]));
        let scaled = checked(
            &Operand(&small, false),
            &Operand(&three, true),
            Operator::Multiply,
        )
        .expect("fits");
        assert_eq!(scaled.as_primitive::<Int64Type>().values(), &[15, 3]);
        let max: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX]));
        assert!(
            checked(
                &Operand(&small, false),
                &Operand(&max, true),
                Operator::Plus
            )
            .is_err()
        );
    }
}
