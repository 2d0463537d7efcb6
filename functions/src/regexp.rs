//! Trino's regular expression functions (`regexp_extract`, `_extract_all`, `_replace`,
//! `_position`, `_split`): every match, Java's `$g` group references, 1-based positions.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Builder, ListBuilder, StringBuilder};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use crate::args::{Patterns, integers, strings};
use crate::udf::{ArrayFunction, bigint, text, text_array};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("regexp_extract", &[2, 3], text, extract),
        ArrayFunction::udf("regexp_extract_all", &[2, 3], text_array, extract_all),
        ArrayFunction::udf("trino_regexp_replace", &[2, 3], text, replace),
        ArrayFunction::udf("regexp_position", &[2, 3, 4], bigint, position),
        ArrayFunction::udf("regexp_split", &[2], text_array, split),
    ]
}

/// The capture group a call asks for (0, the whole match, when it names none).
fn group_of(args: &[ArrayRef], i: usize) -> Result<Option<usize>> {
    let Some(groups) = args.get(2) else {
        return Ok(Some(0));
    };
    let groups = integers(groups)?;
    if groups.is_null(i) {
        return Ok(None);
    }
    match usize::try_from(groups.value(i)) {
        Ok(g) => Ok(Some(g)),
        Err(_) => exec_err!("regexp group {} is negative", groups.value(i)),
    }
}

fn check_group(regex: &regex::Regex, group: usize) -> Result<()> {
    if group >= regex.captures_len() {
        return exec_err!(
            "pattern {:?} has {} groups, not {group}",
            regex.as_str(),
            regex.captures_len() - 1
        );
    }
    Ok(())
}

/// Runs `each` on every row's text, compiled pattern and group; rows with a null argument
/// get `null`.
fn per_match_row(
    args: &[ArrayRef],
    mut each: impl FnMut(&regex::Regex, &str, usize),
    mut null: impl FnMut(),
) -> Result<()> {
    let (text, pattern) = (strings(&args[0])?, strings(&args[1])?);
    let mut patterns = Patterns::default();
    for i in 0..text.len() {
        match group_of(args, i)? {
            Some(group) if !text.is_null(i) && !pattern.is_null(i) => {
                let regex = patterns.get(pattern.value(i))?;
                check_group(regex, group)?;
                each(regex, text.value(i), group);
            }
            _ => null(),
        }
    }
    Ok(())
}

fn extract(args: &[ArrayRef]) -> Result<ArrayRef> {
    let out = std::cell::RefCell::new(StringBuilder::new());
    per_match_row(
        args,
        |regex, text, group| {
            let found = regex.captures(text).and_then(|c| c.get(group));
            out.borrow_mut().append_option(found.map(|m| m.as_str()));
        },
        || out.borrow_mut().append_null(),
    )?;
    Ok(Arc::new(out.into_inner().finish()))
}

fn extract_all(args: &[ArrayRef]) -> Result<ArrayRef> {
    let out = std::cell::RefCell::new(ListBuilder::new(StringBuilder::new()));
    per_match_row(
        args,
        |regex, text, group| {
            let mut out = out.borrow_mut();
            for captures in regex.captures_iter(text) {
                out.values()
                    .append_option(captures.get(group).map(|m| m.as_str()));
            }
            out.append(true);
        },
        || out.borrow_mut().append_null(),
    )?;
    Ok(Arc::new(out.into_inner().finish()))
}

/// Java's replacement syntax (`$1`, `${name}`, `\$`) in the regex crate's (`${1}`, `$$`).
fn replacement(java: &str) -> String {
    let mut out = String::with_capacity(java.len() + 4);
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '$' if chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                out.push_str("${");
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    out.push(*d);
                    chars.next();
                }
                out.push('}');
            }
            other => out.push(other),
        }
    }
    out
}

fn replace(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (text, pattern) = (strings(&args[0])?, strings(&args[1])?);
    let with = args.get(2).map(strings).transpose()?;
    let mut patterns = Patterns::default();
    let mut out = StringBuilder::new();
    for i in 0..text.len() {
        let with = match &with {
            Some(w) if w.is_null(i) => None,
            Some(w) => Some(replacement(w.value(i))),
            None => Some(String::new()),
        };
        match with {
            Some(with) if !text.is_null(i) && !pattern.is_null(i) => {
                let regex = patterns.get(pattern.value(i))?;
                out.append_value(regex.replace_all(text.value(i), with.as_str()));
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn position(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (text, pattern) = (strings(&args[0])?, strings(&args[1])?);
    let start = args.get(2).map(integers).transpose()?;
    let occurrence = args.get(3).map(integers).transpose()?;
    let mut patterns = Patterns::default();
    let mut out = Int64Builder::new();
    for i in 0..text.len() {
        let start = start.as_ref().map(|s| (!s.is_null(i)).then(|| s.value(i)));
        let nth = occurrence
            .as_ref()
            .map(|o| (!o.is_null(i)).then(|| o.value(i)));
        let (Some(start), Some(nth)) = (start.unwrap_or(Some(1)), nth.unwrap_or(Some(1))) else {
            out.append_null();
            continue;
        };
        if text.is_null(i) || pattern.is_null(i) {
            out.append_null();
            continue;
        }
        if start < 1 || nth < 1 {
            return exec_err!("regexp_position: start and occurrence must be positive");
        }
        let value = text.value(i);
        let regex = patterns.get(pattern.value(i))?;
        // Positions count characters; the regex works on bytes.
        let from = value
            .char_indices()
            .nth(usize::try_from(start - 1).unwrap_or(usize::MAX))
            .map(|(b, _)| b);
        let found = from.and_then(|from| {
            regex
                .find_iter(&value[from..])
                .nth(usize::try_from(nth - 1).unwrap_or(usize::MAX))
                .map(|m| value[..from + m.start()].chars().count() as i64 + 1)
        });
        out.append_value(found.unwrap_or(-1));
    }
    Ok(Arc::new(out.finish()))
}

fn split(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (text, pattern) = (strings(&args[0])?, strings(&args[1])?);
    let mut patterns = Patterns::default();
    let mut out = ListBuilder::new(StringBuilder::new());
    for i in 0..text.len() {
        if text.is_null(i) || pattern.is_null(i) {
            out.append_null();
            continue;
        }
        let regex = patterns.get(pattern.value(i))?;
        for part in regex.split(text.value(i)) {
            out.values().append_value(part);
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_replacements_become_the_regex_crates() {
        assert_eq!(replacement("3c$2 "), "3c${2} ");
        assert_eq!(replacement(r"\$1"), "$$1");
        assert_eq!(replacement("${name}"), "${name}");
    }
}
