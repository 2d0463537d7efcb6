//! `time ± interval`: a time of day moved by the interval, wrapping at midnight
//! (`TIME '01:00' - INTERVAL '3' HOUR` is `22:00`), as Trino and PostgreSQL answer.
//! DataFusion 54 coerces both sides to an interval and answers an interval, so a rewrite
//! registered with the Trino session ([`rewrite`]) turns the operator into
//! [`TIME_PLUS`] before type coercion sees it.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, IntervalMonthDayNanoType, Time64NanosecondType, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{Expr, ExprSchemable, Operator, ScalarUDF};

use crate::operators::OperatorRewrite;
use crate::udf::ArrayFunction;

/// `time_plus(t, i)`: `t + i` for a time of day `t` and a day-to-second interval `i`.
pub const TIME_PLUS: &str = "time_plus";

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![ArrayFunction::udf(TIME_PLUS, &[2], same_time, time_plus)]
}

fn same_time(types: &[DataType]) -> Result<DataType> {
    match types.first() {
        Some(t @ (DataType::Time32(_) | DataType::Time64(_))) => Ok(t.clone()),
        _ => Ok(DataType::Time64(TimeUnit::Nanosecond)),
    }
}

fn time_plus(args: &[ArrayRef]) -> Result<ArrayRef> {
    let result_type = same_time(&[args[0].data_type().clone()])?;
    let times = cast(&args[0], &DataType::Time64(TimeUnit::Nanosecond))?;
    let times = times.as_primitive::<Time64NanosecondType>();
    let intervals = cast(
        &args[1],
        &DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano),
    )?;
    let intervals = intervals.as_primitive::<IntervalMonthDayNanoType>();
    let mut moved = Vec::with_capacity(times.len());
    for row in 0..times.len() {
        if times.is_null(row) || intervals.is_null(row) {
            moved.push(None);
            continue;
        }
        let interval = intervals.value(row);
        if interval.months != 0 {
            return exec_err!("a time of day cannot move by months or years (row {row})");
        }
        let shift = i128::from(interval.days) * i128::from(NANOS_PER_DAY)
            + i128::from(interval.nanoseconds);
        let day = i128::from(NANOS_PER_DAY);
        let wrapped = (i128::from(times.value(row)) + shift).rem_euclid(day);
        moved.push(Some(wrapped as i64));
    }
    let moved: PrimitiveArray<Time64NanosecondType> = moved.into_iter().collect();
    Ok(cast(&moved, &result_type)?)
}

/// Rewrites `time ± interval` and `interval + time` as [`TIME_PLUS`].
pub fn rewrite() -> OperatorRewrite {
    OperatorRewrite::new("time_arithmetic", functions(), |left, op, right, schema| {
        let is_time = |e: &Expr| {
            matches!(
                e.get_type(schema),
                Ok(DataType::Time32(_) | DataType::Time64(_))
            )
        };
        let is_interval = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Interval(_)));
        let (time, interval) = match op {
            Operator::Plus | Operator::Minus if is_time(left) && is_interval(right) => {
                (left, right)
            }
            Operator::Plus if is_interval(left) && is_time(right) => (right, left),
            _ => return None,
        };
        let interval = match op {
            Operator::Minus => Expr::Negative(Box::new(interval.clone())),
            _ => interval.clone(),
        };
        Some((0, vec![time.clone(), interval]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{IntervalMonthDayNanoArray, Time64NanosecondArray};
    use arrow::datatypes::IntervalMonthDayNano;

    #[test]
    fn moves_wrap_at_midnight_and_months_are_refused() {
        let hour = 3_600_000_000_000_i64;
        let times: ArrayRef = Arc::new(Time64NanosecondArray::from(vec![
            Some(hour),
            Some(23 * hour),
            None,
        ]));
        let by = |days, nanos| IntervalMonthDayNano::new(0, days, nanos);
        let intervals: ArrayRef = Arc::new(IntervalMonthDayNanoArray::from(vec![
            Some(by(0, -3 * hour)),
            Some(by(1, 2 * hour)),
            Some(by(0, hour)),
        ]));
        let moved = time_plus(&[times.clone(), intervals]).expect("moves");
        let moved = moved.as_primitive::<Time64NanosecondType>();
        assert_eq!(moved.value(0), 22 * hour);
        assert_eq!(moved.value(1), hour);
        assert!(moved.is_null(2));
        let months: ArrayRef = Arc::new(IntervalMonthDayNanoArray::from(vec![
            Some(
                IntervalMonthDayNano::new(1, 0, 0)
            );
            3
        ]));
        assert!(time_plus(&[times, months]).is_err());
    }
}
