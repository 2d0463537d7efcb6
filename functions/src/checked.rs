//! Integer `+`, `-` and `*` that fail on overflow, as Trino's (`bigint addition overflow`)
//! and PostgreSQL's (`bigint out of range`) do: DataFusion 54 wraps around, so
//! `9223372036854775807 + 1` answers a large negative number, a wrong answer given with
//! confidence. A rewrite registered with every session ([`rewrite`])
//! turns the operator on integer operands into [`CHECKED_ADD`] (and the others) before type
//! coercion; they run Arrow's checked kernels, vectorised as the wrapping ones are.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::compute::cast;
use arrow::compute::kernels::numeric::{add, mul, sub};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{Expr, ExprSchemable, Operator, ScalarUDF};

use crate::operators::OperatorRewrite;
use crate::udf::ArrayFunction;

pub const CHECKED_ADD: &str = "checked_add";
pub const CHECKED_SUBTRACT: &str = "checked_subtract";
pub const CHECKED_MULTIPLY: &str = "checked_multiply";

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf(
            CHECKED_ADD,
            &[2],
            |t| common(t, Operator::Plus),
            |a| checked(a, Operator::Plus),
        ),
        ArrayFunction::udf(
            CHECKED_SUBTRACT,
            &[2],
            |t| common(t, Operator::Minus),
            |a| checked(a, Operator::Minus),
        ),
        ArrayFunction::udf(
            CHECKED_MULTIPLY,
            &[2],
            |t| common(t, Operator::Multiply),
            |a| checked(a, Operator::Multiply),
        ),
    ]
}

/// The type both operands are computed in: DataFusion's own choice for the operator.
fn common(types: &[DataType], op: Operator) -> Result<DataType> {
    let [left, right] = types else {
        return exec_err!("{op} takes two operands");
    };
    BinaryTypeCoercer::new(left, &op, right).get_result_type()
}

fn checked(args: &[ArrayRef], op: Operator) -> Result<ArrayRef> {
    let types = [args[0].data_type().clone(), args[1].data_type().clone()];
    let wanted = common(&types, op)?;
    let (left, right) = (cast(&args[0], &wanted)?, cast(&args[1], &wanted)?);
    Ok(match op {
        Operator::Plus => add(&left, &right)?,
        Operator::Minus => sub(&left, &right)?,
        _ => mul(&left, &right)?,
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

    #[test]
    fn overflow_fails_and_mixed_widths_meet_in_the_wider() {
        let big: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, 1]));
        let one: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let error = checked(&[big.clone(), one.clone()], Operator::Plus).expect_err("overflow");
        assert!(error.to_string().contains("Overflow"), "{error}");
        let two: ArrayRef = Arc::new(Int32Array::from(vec![2, 2]));
        assert!(checked(&[two, big], Operator::Multiply).is_err());
        let small: ArrayRef = Arc::new(Int64Array::from(vec![5, 1]));
        let sum = checked(&[small, one], Operator::Minus).expect("fits");
        assert_eq!(sum.data_type(), &DataType::Int64);
        assert_eq!(sum.as_primitive::<Int64Type>().values(), &[4, -1]);
    }
}
