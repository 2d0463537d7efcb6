//! Arrow timestamps as calendar date-times, shared by the protocols that write them as text or
//! as their own binary types (PostgreSQL, Trino).

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow::temporal_conversions::{
    timestamp_ms_to_datetime, timestamp_ns_to_datetime, timestamp_s_to_datetime,
    timestamp_us_to_datetime,
};

/// The value at `row` of a timestamp column of `unit` (UTC for zoned ones: the instant is
/// exact); `None` when it falls outside chrono's range.
pub fn datetime_at(
    column: &dyn Array,
    unit: &TimeUnit,
    row: usize,
) -> Option<chrono::NaiveDateTime> {
    match unit {
        TimeUnit::Second => {
            timestamp_s_to_datetime(column.as_primitive::<TimestampSecondType>().value(row))
        }
        TimeUnit::Millisecond => {
            timestamp_ms_to_datetime(column.as_primitive::<TimestampMillisecondType>().value(row))
        }
        TimeUnit::Microsecond => {
            timestamp_us_to_datetime(column.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        TimeUnit::Nanosecond => {
            timestamp_ns_to_datetime(column.as_primitive::<TimestampNanosecondType>().value(row))
        }
    }
}
