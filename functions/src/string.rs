//! Trino's string functions DataFusion lacks: `luhn_check`, `title_case`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanBuilder};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::args::strings;
use crate::udf::{ArrayFunction, boolean, map_texts, text};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("luhn_check", &[1], boolean, luhn_check),
        ArrayFunction::udf("title_case", &[1], text, title_case),
    ]
}

/// Whether a string of digits passes the Luhn checksum; NULL for anything but digits.
fn luhn(digits: &str) -> Option<bool> {
    if digits.is_empty() {
        return None;
    }
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let d = c.to_digit(10)?;
        sum += if i % 2 == 1 {
            let doubled = d * 2;
            if doubled > 9 { doubled - 9 } else { doubled }
        } else {
            d
        };
    }
    Some(sum % 10 == 0)
}

fn luhn_check(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = BooleanBuilder::new();
    for i in 0..texts.len() {
        out.append_option(if texts.is_null(i) {
            None
        } else {
            luhn(texts.value(i))
        });
    }
    Ok(Arc::new(out.finish()))
}

/// The first letter of each word upper case, the rest lower case; words are separated by
/// anything not alphanumeric.
fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphanumeric();
    }
    out
}

fn title_case(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_texts(&args[0], |text| Ok(title(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_title_case() {
        assert_eq!(luhn("79927398713"), Some(true));
        assert_eq!(luhn("79927398714"), Some(false));
        assert_eq!(luhn("12a"), None);
        assert_eq!(title("hello wORLD-again"), "Hello World-Again");
    }
}
