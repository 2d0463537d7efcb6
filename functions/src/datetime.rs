//! Trino's date and time functions DataFusion lacks or spells differently: `date_diff` by
//! calendar unit, MySQL-style `date_format`/`date_parse`, ISO 8601 dates,
//! `last_day_of_month`, `human_readable_seconds`, `from_unixtime_nanos`.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Builder, Int64Array, Int64Builder, StringBuilder,
    TimestampNanosecondBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampNanosecondType};
use chrono::format::{Parsed, StrftimeItems};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Weekday};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use crate::args::{doubles, strings};
use crate::udf::{ArrayFunction, bigint, date, text};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("date_diff", &[3], bigint, date_diff),
        ArrayFunction::udf("trino_date_trunc", &[2], second, date_trunc),
        ArrayFunction::udf("date_format", &[2], text, date_format),
        ArrayFunction::udf("date_parse", &[2], timestamp, date_parse),
        ArrayFunction::udf("from_iso8601_date", &[1], date, from_iso8601_date),
        ArrayFunction::udf("last_day_of_month", &[1], date, last_day_of_month),
        ArrayFunction::udf("human_readable_seconds", &[1], text, human_readable_seconds),
        ArrayFunction::udf("timezone", &[1], text, timezone),
        ArrayFunction::udf("from_unixtime_nanos", &[1], utc_nanos, from_unixtime_nanos),
    ]
}

/// `timestamp(9) with time zone` in UTC.
fn utc_nanos(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Timestamp(
        TimeUnit::Nanosecond,
        Some("UTC".into()),
    ))
}

/// Nanoseconds since the epoch as an instant in UTC: the integers themselves, relabelled.
fn from_unixtime_nanos(args: &[ArrayRef]) -> Result<ArrayRef> {
    let nanos = cast(&args[0], &DataType::Int64)?;
    let nanos = nanos.as_primitive::<arrow::datatypes::Int64Type>();
    let instants =
        arrow::array::TimestampNanosecondArray::new(nanos.values().clone(), nanos.nulls().cloned())
            .with_timezone("UTC");
    Ok(Arc::new(instants))
}

/// The type of the second argument: `date_trunc` keeps a date a date.
fn second(args: &[DataType]) -> Result<DataType> {
    match args.get(1) {
        Some(t) => Ok(t.clone()),
        None => exec_err!("date_trunc takes a unit and a value"),
    }
}

/// `t` truncated to `unit` (Monday starts a week).
fn truncated(t: NaiveDateTime, unit: &str) -> Result<NaiveDateTime> {
    let day = t.date();
    let date = |d: Option<NaiveDate>| d.and_then(|d| d.and_hms_opt(0, 0, 0));
    let value = match unit {
        "millisecond" => t.with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000),
        "second" => t.with_nanosecond(0),
        "minute" => t.with_nanosecond(0).and_then(|t| t.with_second(0)),
        "hour" => t
            .with_nanosecond(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_minute(0)),
        "day" => date(Some(day)),
        "week" => date(day.checked_sub_days(chrono::Days::new(u64::from(
            day.weekday().num_days_from_monday(),
        )))),
        "month" => date(day.with_day(1)),
        "quarter" => date(NaiveDate::from_ymd_opt(
            day.year(),
            (day.month0() / 3) * 3 + 1,
            1,
        )),
        "year" => date(NaiveDate::from_ymd_opt(day.year(), 1, 1)),
        other => {
            return exec_err!(
                "date_trunc: {other:?} is not a unit (millisecond, second, minute, hour, day, week, month, quarter, year)"
            );
        }
    };
    match value {
        Some(v) => Ok(v),
        None => exec_err!("date_trunc: {t} cannot be truncated to {unit}"),
    }
}

/// Trino's `date_trunc`: the result has the value's own type (a date stays a date; a
/// timestamp keeps its precision and zone).
fn date_trunc(args: &[ArrayRef]) -> Result<ArrayRef> {
    let units = strings(&args[0])?;
    let times = instants(&args[1])?;
    let mut nanos = TimestampNanosecondBuilder::new();
    for (i, time) in times.iter().enumerate() {
        match time {
            Some(t) if !units.is_null(i) => {
                let unit = units.value(i).to_ascii_lowercase();
                match truncated(*t, &unit)?.and_utc().timestamp_nanos_opt() {
                    Some(n) => nanos.append_value(n),
                    None => return exec_err!("date_trunc: {t} is out of range"),
                }
            }
            _ => nanos.append_null(),
        }
    }
    let wall: ArrayRef = Arc::new(nanos.finish());
    Ok(match args[1].data_type() {
        DataType::Timestamp(unit, Some(zone)) => {
            let local = cast(&wall, &DataType::Timestamp(*unit, None))?;
            cast(&local, &DataType::Timestamp(*unit, Some(Arc::clone(zone))))?
        }
        other => cast(&wall, other)?,
    })
}

fn timestamp(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Timestamp(TimeUnit::Nanosecond, None))
}

/// Any date or timestamp argument as nanoseconds since the epoch (wall-clock time, as Trino
/// computes calendar units in the value's own zone).
fn instants(array: &ArrayRef) -> Result<Vec<Option<NaiveDateTime>>> {
    let nanos = wall_nanos(array)?;
    let nanos = nanos.as_primitive::<TimestampNanosecondType>();
    Ok((0..nanos.len())
        .map(|i| {
            (!nanos.is_null(i)).then(|| DateTime::from_timestamp_nanos(nanos.value(i)).naive_utc())
        })
        .collect())
}

/// Whole months from `a` to `b`, counting a month only once its day and time are reached.
fn months_between(a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    let months = i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month());
    let within = |t: NaiveDateTime| (t.day(), t.time());
    if months > 0 && within(b) < within(a) {
        months - 1
    } else if months < 0 && within(b) > within(a) {
        months + 1
    } else {
        months
    }
}

/// Nanoseconds in one of the fixed-length units; `None` for calendar units.
fn unit_nanos(unit: &str) -> Option<i64> {
    Some(match unit {
        "millisecond" => 1_000_000,
        "second" => 1_000_000_000,
        "minute" => 60_000_000_000,
        "hour" => 3_600_000_000_000,
        "day" => 86_400_000_000_000,
        "week" => 7 * 86_400_000_000_000,
        _ => return None,
    })
}

/// Any date or timestamp argument as wall-clock nanoseconds since the epoch, in one cast.
fn wall_nanos(array: &ArrayRef) -> Result<ArrayRef> {
    let wall = match array.data_type() {
        DataType::Timestamp(unit, Some(_)) => cast(array, &DataType::Timestamp(*unit, None))?,
        _ => Arc::clone(array),
    };
    Ok(cast(
        &wall,
        &DataType::Timestamp(TimeUnit::Nanosecond, None),
    )?)
}

fn date_diff(args: &[ArrayRef]) -> Result<ArrayRef> {
    let units = strings(&args[0])?;
    // One unit for the whole batch (the usual literal): fixed units are a vectorised
    // subtraction and division; calendar units count months row by row.
    if units.null_count() == 0
        && let Some(first) = (!units.is_empty()).then(|| units.value(0))
        && units.iter().all(|u| u == Some(first))
        && let Some(size) = unit_nanos(&first.to_ascii_lowercase())
    {
        let (a, b) = (wall_nanos(&args[1])?, wall_nanos(&args[2])?);
        let (a, b) = (
            a.as_primitive::<TimestampNanosecondType>(),
            b.as_primitive::<TimestampNanosecondType>(),
        );
        let out: Int64Array =
            arrow::compute::kernels::arity::binary(a, b, |x, y| y.saturating_sub(x) / size)?;
        return Ok(Arc::new(out));
    }
    let (from, to) = (instants(&args[1])?, instants(&args[2])?);
    let mut out = Int64Builder::new();
    for i in 0..units.len() {
        let (Some(a), Some(b)) = (from[i], to[i]) else {
            out.append_null();
            continue;
        };
        if units.is_null(i) {
            out.append_null();
            continue;
        }
        let unit = units.value(i).to_ascii_lowercase();
        let value = match (unit_nanos(&unit), unit.as_str()) {
            (Some(size), _) => (b - a).num_nanoseconds().unwrap_or(i64::MAX) / size,
            (None, "month") => months_between(a, b),
            (None, "quarter") => months_between(a, b) / 3,
            (None, "year") => months_between(a, b) / 12,
            (None, other) => {
                return exec_err!(
                    "date_diff: {other:?} is not a unit (millisecond, second, minute, hour, day, week, month, quarter, year)"
                );
            }
        };
        out.append_value(value);
    }
    Ok(Arc::new(out.finish()))
}

/// MySQL's format specifiers (Trino's `date_format`/`date_parse`) as chrono's.
fn chrono_format(mysql: &str) -> Result<String> {
    let mut out = String::with_capacity(mysql.len() * 2);
    let mut chars = mysql.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push_str("%%");
            break;
        };
        out.push_str(match spec {
            'a' => "%a",
            'b' => "%b",
            'c' => "%-m",
            'd' => "%d",
            'e' => "%-d",
            'f' => "%6f",
            'H' => "%H",
            'h' | 'I' => "%I",
            'i' => "%M",
            'j' => "%j",
            'k' => "%-H",
            'l' => "%-I",
            'M' => "%B",
            'm' => "%m",
            'p' => "%p",
            'r' => "%I:%M:%S %p",
            'S' | 's' => "%S",
            'T' => "%H:%M:%S",
            'v' => "%V",
            'W' => "%A",
            'x' => "%G",
            'Y' => "%Y",
            'y' => "%y",
            '%' => "%%",
            'D' | 'U' | 'u' | 'V' | 'w' | 'X' => {
                return exec_err!("date_format: %{spec} is not supported");
            }
            other => {
                out.push(other);
                continue;
            }
        });
    }
    Ok(out)
}

fn date_format(args: &[ArrayRef]) -> Result<ArrayRef> {
    let times = instants(&args[0])?;
    let formats = strings(&args[1])?;
    let mut out = StringBuilder::new();
    for (i, time) in times.iter().enumerate() {
        match time {
            Some(time) if !formats.is_null(i) => {
                let format = chrono_format(formats.value(i))?;
                out.append_value(time.format(&format).to_string());
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn date_parse(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (texts, formats) = (strings(&args[0])?, strings(&args[1])?);
    let mut out = TimestampNanosecondBuilder::new();
    for i in 0..texts.len() {
        if texts.is_null(i) || formats.is_null(i) {
            out.append_null();
            continue;
        }
        let (text, format) = (texts.value(i), formats.value(i));
        let mut parsed = Parsed::new();
        let fields = chrono::format::parse(
            &mut parsed,
            text,
            StrftimeItems::new(&chrono_format(format)?),
        );
        let value = fields.ok().and_then(|()| {
            let date = NaiveDate::from_ymd_opt(
                parsed.year().unwrap_or(1970),
                parsed.month().unwrap_or(1),
                parsed.day().unwrap_or(1),
            )?;
            let hour = parsed.hour_div_12().unwrap_or(0) * 12 + parsed.hour_mod_12().unwrap_or(0);
            date.and_hms_nano_opt(
                hour,
                parsed.minute().unwrap_or(0),
                parsed.second().unwrap_or(0),
                parsed.nanosecond().unwrap_or(0),
            )
        });
        match value.and_then(|t| t.and_utc().timestamp_nanos_opt()) {
            Some(nanos) => out.append_value(nanos),
            None => return exec_err!("date_parse: {text:?} does not match the format {format:?}"),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// Days since the epoch, as `Date32` stores them.
fn epoch_days(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((date - epoch).num_days()).unwrap_or(i32::MAX)
}

/// A calendar date (`2020-05-11`), a week date (`2020-W10`, `2020-W10-3`), an ordinal date
/// (`2020-123`), a month (`2020-05`) or a year.
fn iso8601_date(text: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = text.split('-').collect();
    let year: i32 = parts.first()?.parse().ok()?;
    match parts.as_slice() {
        [_] => NaiveDate::from_ymd_opt(year, 1, 1),
        [_, week] if week.starts_with('W') => {
            NaiveDate::from_isoywd_opt(year, week[1..].parse().ok()?, Weekday::Mon)
        }
        [_, week, day] if week.starts_with('W') => {
            let day: u8 = day.parse().ok()?;
            let weekday = Weekday::try_from(day.checked_sub(1)?).ok()?;
            NaiveDate::from_isoywd_opt(year, week[1..].parse().ok()?, weekday)
        }
        [_, ordinal] if ordinal.len() == 3 => NaiveDate::from_yo_opt(year, ordinal.parse().ok()?),
        [_, month] => NaiveDate::from_ymd_opt(year, month.parse().ok()?, 1),
        [_, month, day] => NaiveDate::from_ymd_opt(year, month.parse().ok()?, day.parse().ok()?),
        _ => None,
    }
}

fn from_iso8601_date(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = Date32Builder::new();
    for i in 0..texts.len() {
        if texts.is_null(i) {
            out.append_null();
            continue;
        }
        match iso8601_date(texts.value(i)) {
            Some(date) => out.append_value(epoch_days(date)),
            None => {
                return exec_err!(
                    "from_iso8601_date: {:?} is not an ISO 8601 date",
                    texts.value(i)
                );
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

fn last_day_of_month(args: &[ArrayRef]) -> Result<ArrayRef> {
    let times = instants(&args[0])?;
    let mut out = Date32Builder::new();
    for time in times {
        let last = time.and_then(|t| {
            let (year, month) = if t.month() == 12 {
                (t.year() + 1, 1)
            } else {
                (t.year(), t.month() + 1)
            };
            NaiveDate::from_ymd_opt(year, month, 1)?.pred_opt()
        });
        out.append_option(last.map(epoch_days));
    }
    Ok(Arc::new(out.finish()))
}

fn human_readable_seconds(args: &[ArrayRef]) -> Result<ArrayRef> {
    let seconds = doubles(&args[0])?;
    let mut out = StringBuilder::new();
    for i in 0..seconds.len() {
        if seconds.is_null(i) {
            out.append_null();
            continue;
        }
        let mut rest = seconds.value(i).round() as i64;
        let mut parts = Vec::new();
        for (unit, size) in [
            ("week", 604_800),
            ("day", 86_400),
            ("hour", 3_600),
            ("minute", 60),
            ("second", 1),
        ] {
            let count = rest / size;
            rest %= size;
            if count != 0 {
                parts.push(format!(
                    "{count} {unit}{}",
                    if count == 1 { "" } else { "s" }
                ));
            }
        }
        if parts.is_empty() {
            parts.push("0 seconds".into());
        }
        out.append_value(parts.join(", "));
    }
    Ok(Arc::new(out.finish()))
}

/// `timezone(ts)`: the zone a timestamp with time zone is in, as it was named.
fn timezone(args: &[ArrayRef]) -> Result<ArrayRef> {
    let DataType::Timestamp(_, Some(zone)) = args[0].data_type() else {
        return exec_err!(
            "timezone() takes a timestamp with time zone, got {}",
            args[0].data_type()
        );
    };
    let mut out = StringBuilder::new();
    for i in 0..args[0].len() {
        out.append_option((!args[0].is_null(i)).then_some(zone.as_ref()));
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_count_once_the_day_is_reached() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("time");
        assert_eq!(
            months_between(t("2020-01-31 00:00:00"), t("2020-02-29 00:00:00")),
            0
        );
        assert_eq!(
            months_between(t("2020-01-15 00:00:00"), t("2020-03-15 00:00:00")),
            2
        );
        assert_eq!(
            months_between(t("2020-03-15 00:00:00"), t("2020-01-16 00:00:00")),
            -1
        );
    }

    #[test]
    fn iso_dates_of_every_shape() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(iso8601_date("2020-W10"), d(2020, 3, 2));
        assert_eq!(iso8601_date("2020-123"), d(2020, 5, 2));
        assert_eq!(iso8601_date("2020-05-11"), d(2020, 5, 11));
        assert_eq!(iso8601_date("2020-13-01"), None);
    }
}
