//! Trino's bitwise functions on 64-bit two's complement integers: shifts by 64 or more give
//! 0 (or -1 for an arithmetic shift of a negative value) instead of wrapping.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array};
use arrow::compute::kernels::arity::{binary, unary};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::args::integers;
use crate::udf::{ArrayFunction, bigint};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("bitwise_and", &[2], bigint, |a| pairwise(a, |x, y| x & y)),
        ArrayFunction::udf("bitwise_or", &[2], bigint, |a| pairwise(a, |x, y| x | y)),
        ArrayFunction::udf("bitwise_xor", &[2], bigint, |a| pairwise(a, |x, y| x ^ y)),
        ArrayFunction::udf("bitwise_not", &[1], bigint, not),
        ArrayFunction::udf("bitwise_left_shift", &[2], bigint, |a| {
            pairwise(a, |x, s| shifted(s).map_or(0, |s| x << s))
        }),
        ArrayFunction::udf("bitwise_right_shift", &[2], bigint, |a| {
            pairwise(a, |x, s| shifted(s).map_or(0, |s| ((x as u64) >> s) as i64))
        }),
        ArrayFunction::udf("bitwise_right_shift_arithmetic", &[2], bigint, |a| {
            pairwise(a, |x, s| {
                shifted(s).map_or(if x < 0 { -1 } else { 0 }, |s| x >> s)
            })
        }),
    ]
}

/// A shift that keeps some bits (0..64); `None` when every bit is shifted out.
fn shifted(shift: i64) -> Option<u32> {
    u32::try_from(shift).ok().filter(|s| *s < 64)
}

fn pairwise(args: &[ArrayRef], op: fn(i64, i64) -> i64) -> Result<ArrayRef> {
    let (x, y) = (integers(&args[0])?, integers(&args[1])?);
    let out: Int64Array = binary(&x, &y, op)?;
    Ok(Arc::new(out))
}

fn not(args: &[ArrayRef]) -> Result<ArrayRef> {
    let x = integers(&args[0])?;
    let out: Int64Array = unary(&x, |v| !v);
    Ok(Arc::new(out))
}
