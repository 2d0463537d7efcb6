//! Trino's formatting functions: `format` (Java's `Formatter`: `%s %d %f %x %%`, argument
//! indexes, `-`, `0`, `,` and `+` flags, width and precision), `format_number` and
//! `parse_data_size`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Decimal128Builder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ScalarUDF;

use crate::args::{doubles, strings};
use crate::udf::{ArrayFunction, text};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("format", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], text, format),
        ArrayFunction::udf("format_number", &[1], text, format_number),
        ArrayFunction::udf("parse_data_size", &[1], decimal, parse_data_size),
    ]
}

fn decimal(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Decimal128(38, 0))
}

/// One `%...` specifier.
#[derive(Default)]
struct Spec {
    index: Option<usize>,
    left: bool,
    zero: bool,
    grouping: bool,
    plus: bool,
    width: usize,
    precision: Option<usize>,
}

fn format(args: &[ArrayRef]) -> Result<ArrayRef> {
    let formats = strings(&args[0])?;
    let mut out = StringBuilder::new();
    for row in 0..formats.len() {
        if formats.is_null(row) {
            out.append_null();
            continue;
        }
        let values = args[1..]
            .iter()
            .map(|a| ScalarValue::try_from_array(a, row))
            .collect::<Result<Vec<_>>>()?;
        out.append_value(java_format(formats.value(row), &values)?);
    }
    Ok(Arc::new(out.finish()))
}

fn java_format(format: &str, values: &[ScalarValue]) -> Result<String> {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        if chars.peek() == Some(&'$') {
            chars.next();
            spec.index = digits.parse::<usize>().ok().and_then(|i| i.checked_sub(1));
            digits.clear();
        }
        if digits.is_empty() {
            while let Some(flag) = chars.peek().copied().filter(|f| "-0,+ ".contains(*f)) {
                match flag {
                    '-' => spec.left = true,
                    '0' => spec.zero = true,
                    ',' => spec.grouping = true,
                    '+' => spec.plus = true,
                    _ => {}
                }
                chars.next();
            }
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
        } else if let Some(rest) = digits.strip_prefix('0') {
            spec.zero = true;
            digits = rest.to_string();
        }
        spec.width = digits.parse().unwrap_or(0);
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut precision = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                precision.push(*d);
                chars.next();
            }
            spec.precision = precision.parse().ok();
        }
        let Some(conversion) = chars.next() else {
            return exec_err!("format: {format:?} ends inside a % specifier");
        };
        let body = match conversion {
            '%' => "%".to_string(),
            'n' => "\n".to_string(),
            's' | 'S' | 'd' | 'f' | 'x' | 'X' | 'b' => {
                let index = spec.index.unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                let Some(value) = values.get(index) else {
                    return exec_err!("format: {format:?} needs argument {}", index + 1);
                };
                converted(conversion, value, &spec)?
            }
            't' | 'T' => {
                let Some(field) = chars.next() else {
                    return exec_err!("format: {format:?} ends inside a %t specifier");
                };
                let index = spec.index.unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                let Some(value) = values.get(index) else {
                    return exec_err!("format: {format:?} needs argument {}", index + 1);
                };
                let text = date_field(value, field)?;
                if conversion == 'T' {
                    text.to_uppercase()
                } else {
                    text
                }
            }
            other => return exec_err!("format: %{other} is not supported"),
        };
        out.push_str(&padded(body, &spec, matches!(conversion, 'd' | 'f')));
    }
    Ok(out)
}

/// Java's `%t` date and time conversions (`%tA` the weekday, `%tB` the month, `%te` the day,
/// `%tY` the year, ...) of a date or timestamp.
fn date_field(value: &ScalarValue, field: char) -> Result<String> {
    if value.is_null() {
        return Ok("null".into());
    }
    let pattern = match field {
        'A' => "%A",
        'a' => "%a",
        'B' => "%B",
        'b' | 'h' => "%b",
        'e' => "%-d",
        'd' => "%d",
        'Y' => "%Y",
        'y' => "%y",
        'm' => "%m",
        'j' => "%j",
        'H' => "%H",
        'I' => "%I",
        'M' => "%M",
        'S' => "%S",
        'p' => "%P",
        'F' => "%Y-%m-%d",
        'D' => "%m/%d/%y",
        'T' => "%H:%M:%S",
        'R' => "%H:%M",
        other => return exec_err!("format: %t{other} is not supported"),
    };
    let nanos = match value.cast_to(&DataType::Timestamp(
        arrow::datatypes::TimeUnit::Nanosecond,
        None,
    )) {
        Ok(ScalarValue::TimestampNanosecond(Some(n), _)) => n,
        _ => return exec_err!("format: %t{field} takes a date or timestamp, got {value}"),
    };
    let moment = chrono::DateTime::from_timestamp_nanos(nanos).naive_utc();
    Ok(moment.format(pattern).to_string())
}

fn converted(conversion: char, value: &ScalarValue, spec: &Spec) -> Result<String> {
    if value.is_null() {
        return Ok("null".into());
    }
    let number = |v: &ScalarValue| -> Result<f64> {
        match v.cast_to(&DataType::Float64)? {
            ScalarValue::Float64(Some(f)) => Ok(f),
            other => exec_err!("format: {other} is not a number"),
        }
    };
    Ok(match conversion {
        's' | 'S' => {
            let text = match value {
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)) => s.clone(),
                other => other.to_string(),
            };
            let text = match spec.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            };
            if conversion == 'S' {
                text.to_uppercase()
            } else {
                text
            }
        }
        'b' => (!matches!(value, ScalarValue::Boolean(Some(false)))).to_string(),
        'x' | 'X' => {
            let n = number(value)? as i64;
            let hex = format!("{n:x}");
            if conversion == 'X' {
                hex.to_uppercase()
            } else {
                hex
            }
        }
        'd' => {
            let n = number(value)?.trunc() as i128;
            signed(
                grouped(&n.unsigned_abs().to_string(), spec.grouping),
                n < 0,
                spec,
            )
        }
        _ => {
            let f = number(value)?;
            let text = format!("{:.*}", spec.precision.unwrap_or(6), f.abs());
            let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
            let int = grouped(int, spec.grouping);
            let body = if frac.is_empty() {
                int
            } else {
                format!("{int}.{frac}")
            };
            signed(body, f < 0.0, spec)
        }
    })
}

fn signed(body: String, negative: bool, spec: &Spec) -> String {
    if negative {
        format!("-{body}")
    } else if spec.plus {
        format!("+{body}")
    } else {
        body
    }
}

/// Digits with `,` between each group of three.
fn grouped(digits: &str, grouping: bool) -> String {
    if !grouping {
        return digits.to_string();
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn padded(body: String, spec: &Spec, numeric: bool) -> String {
    let len = body.chars().count();
    if len >= spec.width {
        return body;
    }
    let fill = spec.width - len;
    if spec.left {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        match body.strip_prefix(['-', '+']) {
            Some(digits) => format!("{}{}{digits}", &body[..1], "0".repeat(fill)),
            None => format!("{}{body}", "0".repeat(fill)),
        }
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

/// A number with a unit symbol (`123K`, `1.23M`), three significant digits.
fn with_unit(value: f64) -> String {
    let units = [(1e15, "Q"), (1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")];
    let (scaled, unit) = units
        .iter()
        .find(|(size, _)| value.abs() >= *size)
        .map_or((value, ""), |(size, unit)| (value / size, *unit));
    let decimals = match scaled.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    let text = format!("{scaled:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{unit}")
}

fn format_number(args: &[ArrayRef]) -> Result<ArrayRef> {
    let values = doubles(&args[0])?;
    let mut out = StringBuilder::new();
    for i in 0..values.len() {
        out.append_option((!values.is_null(i)).then(|| with_unit(values.value(i))));
    }
    Ok(Arc::new(out.finish()))
}

/// `2.3MB` → 2411724: the fractional count of binary units, truncated to whole bytes.
fn data_size(text: &str) -> Option<i128> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = (text[..split].trim(), &text[split..]);
    let power = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        .iter()
        .position(|u| *u == unit)?;
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    let scale = 10i128.checked_pow(u32::try_from(frac.len()).ok()?)?;
    digits
        .checked_mul(1024i128.checked_pow(u32::try_from(power).ok()?)?)?
        .checked_div(scale)
}

fn parse_data_size(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = Decimal128Builder::new().with_precision_and_scale(38, 0)?;
    for i in 0..texts.len() {
        if texts.is_null(i) {
            out.append_null();
            continue;
        }
        match data_size(texts.value(i)) {
            Some(bytes) => out.append_value(bytes),
            None => {
                return exec_err!(
                    "parse_data_size: {:?} is not a data size such as 2.3MB",
                    texts.value(i)
                );
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_format_strings() {
        let s = |v: &str| ScalarValue::Utf8(Some(v.into()));
        // 2006-07-04 is day 13333 after the epoch.
        assert_eq!(
            java_format(
                "%1$tA, %1$tB %1$te, %1$tY",
                &[ScalarValue::Date32(Some(13333))]
            )
            .ok(),
            Some("Tuesday, July 4, 2006".into())
        );
        assert_eq!(
            java_format("%s%%", &[ScalarValue::Int64(Some(123))]).ok(),
            Some("123%".into())
        );
        assert_eq!(
            java_format("%03d", &[ScalarValue::Int64(Some(8))]).ok(),
            Some("008".into())
        );
        assert_eq!(
            java_format("%,.2f", &[ScalarValue::Float64(Some(1234567.89))]).ok(),
            Some("1,234,567.89".into())
        );
        assert_eq!(
            java_format("%-7s,%7s", &[s("hello"), s("world")]).ok(),
            Some("hello  ,  world".into())
        );
        assert_eq!(
            java_format("%2$s %3$s %1$s", &[s("a"), s("b"), s("c")]).ok(),
            Some("b c a".into())
        );
    }

    #[test]
    fn units_and_sizes() {
        assert_eq!(with_unit(123456.0), "123K");
        assert_eq!(with_unit(1000000.0), "1M");
        assert_eq!(data_size("2.3MB"), Some(2411724));
        assert_eq!(data_size("1kB"), Some(1024));
        assert_eq!(data_size("1 parsec"), None);
    }
}
