//! Trino's bitwise functions on 64-bit two's complement integers: shifts by 64 or more give
//! 0 (or -1 for an arithmetic shift of a negative value) instead of wrapping.
//!
//! The two-argument ones are their own UDF rather than an [`ArrayFunction`]: their second
//! argument is nearly always a constant (`bitwise_and(flags, 255)`), and repeating it into a
//! batch-sized array on every batch made them 2.9x DataFusion's `&`; a constant stays a
//! scalar here, as Arrow's unary kernel takes it.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array};
use arrow::compute::kernels::arity::{binary, unary};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::args::integers;
use crate::udf::{ArrayFunction, bigint};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Bitwise::udf("bitwise_and", |x, y| x & y),
        Bitwise::udf("bitwise_or", |x, y| x | y),
        Bitwise::udf("bitwise_xor", |x, y| x ^ y),
        ArrayFunction::udf("bitwise_not", &[1], bigint, not),
        Bitwise::udf("bitwise_left_shift", |x, s| {
            shifted(s).map_or(0, |s| x << s)
        }),
        Bitwise::udf("bitwise_right_shift", |x, s| {
            shifted(s).map_or(0, |s| ((x as u64) >> s) as i64)
        }),
        Bitwise::udf("bitwise_right_shift_arithmetic", |x, s| {
            shifted(s).map_or(if x < 0 { -1 } else { 0 }, |s| x >> s)
        }),
    ]
}

/// A two-argument bitwise function: `op` over the rows, a NULL on either side giving NULL.
#[derive(Debug)]
struct Bitwise {
    name: &'static str,
    signature: Signature,
    op: fn(i64, i64) -> i64,
}

/// Names are unique in the library.
impl PartialEq for Bitwise {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Bitwise {}

impl Hash for Bitwise {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl Bitwise {
    fn udf(name: &'static str, op: fn(i64, i64) -> i64) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(Bitwise {
            name,
            signature: Signature::any(2, Volatility::Immutable),
            op,
        }))
    }
}

impl ScalarUDFImpl for Bitwise {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let op = self.op;
        let [x, y] = [&args.args[0], &args.args[1]].map(Operand::of);
        let out: Int64Array = match (x?, y?) {
            (Operand::Rows(x), Operand::Rows(y)) => binary(&x, &y, op)?,
            (Operand::Rows(x), Operand::Constant(Some(y))) => unary(&x, |x| op(x, y)),
            (Operand::Constant(Some(x)), Operand::Rows(y)) => unary(&y, |y| op(x, y)),
            (Operand::Constant(Some(x)), Operand::Constant(Some(y))) => {
                return Ok(ColumnarValue::Scalar(ScalarValue::Int64(Some(op(x, y)))));
            }
            (Operand::Constant(None), Operand::Constant(_))
            | (Operand::Constant(_), Operand::Constant(None)) => {
                return Ok(ColumnarValue::Scalar(ScalarValue::Int64(None)));
            }
            (Operand::Constant(None), Operand::Rows(_))
            | (Operand::Rows(_), Operand::Constant(None)) => Int64Array::new_null(args.number_rows),
        };
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}

/// One argument, as 64-bit integers.
enum Operand {
    Rows(Int64Array),
    Constant(Option<i64>),
}

impl Operand {
    fn of(value: &ColumnarValue) -> Result<Operand> {
        Ok(match value {
            ColumnarValue::Array(array) => Operand::Rows(integers(array)?),
            ColumnarValue::Scalar(scalar) => {
                let one = integers(&scalar.to_array()?)?;
                Operand::Constant(one.is_valid(0).then(|| one.value(0)))
            }
        })
    }
}

/// A shift that keeps some bits (0..64); `None` when every bit is shifted out.
fn shifted(shift: i64) -> Option<u32> {
    u32::try_from(shift).ok().filter(|s| *s < 64)
}

fn not(args: &[ArrayRef]) -> Result<ArrayRef> {
    let x = integers(&args[0])?;
    let out: Int64Array = unary(&x, |v| !v);
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::Field;
    use datafusion::config::ConfigOptions;

    use super::*;

    fn call(name: &str, args: Vec<ColumnarValue>, rows: usize) -> ColumnarValue {
        let udf = functions()
            .into_iter()
            .find(|f| f.name() == name)
            .expect("the function");
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
            .collect();
        udf.invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows: rows,
            return_field: Arc::new(Field::new(name, DataType::Int64, true)),
            config_options: Arc::new(ConfigOptions::default()),
        })
        .expect("evaluates")
    }

    fn rows(value: ColumnarValue) -> Vec<Option<i64>> {
        let array = value.to_array(3).expect("an array");
        integers(&array).expect("integers").iter().collect()
    }

    #[test]
    fn constants_stay_scalar_on_either_side_and_null_gives_null() {
        let x = || ColumnarValue::Array(Arc::new(Int64Array::from(vec![Some(6), None, Some(-1)])));
        let c = |v: Option<i64>| ColumnarValue::Scalar(ScalarValue::Int64(v));
        assert_eq!(
            rows(call("bitwise_and", vec![x(), c(Some(3))], 3)),
            [Some(2), None, Some(3)]
        );
        assert_eq!(
            rows(call("bitwise_or", vec![c(Some(1)), x()], 3)),
            [Some(7), None, Some(-1)]
        );
        assert_eq!(
            rows(call("bitwise_xor", vec![x(), x()], 3)),
            [Some(0), None, Some(0)]
        );
        assert_eq!(
            rows(call("bitwise_and", vec![x(), c(None)], 3)),
            [None, None, None]
        );
        assert!(matches!(
            call("bitwise_left_shift", vec![c(Some(1)), c(Some(64))], 1),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(0)))
        ));
        assert!(matches!(
            call(
                "bitwise_right_shift_arithmetic",
                vec![c(Some(-8)), c(Some(1))],
                1
            ),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(-4)))
        ));
    }
}
