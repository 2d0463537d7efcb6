//! Arguments as the types a function computes with: whatever type the caller passed is cast
//! once per batch (a `VARCHAR` literal may arrive as `Utf8View`, an integer as `Int32`).

use arrow::array::{ArrayRef, AsArray, Float64Array, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, exec_err};
use regex::Regex;

pub fn strings(array: &ArrayRef) -> Result<StringArray> {
    Ok(cast(array, &DataType::Utf8)?.as_string::<i32>().clone())
}

pub fn integers(array: &ArrayRef) -> Result<Int64Array> {
    Ok(cast(array, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

pub fn doubles(array: &ArrayRef) -> Result<Float64Array> {
    Ok(cast(array, &DataType::Float64)?
        .as_primitive::<Float64Type>()
        .clone())
}

/// Compiles patterns as rows need them; a batch whose pattern is one literal compiles it once.
#[derive(Default)]
pub struct Patterns {
    last: Option<(String, Regex)>,
}

impl Patterns {
    pub fn get(&mut self, pattern: &str) -> Result<&Regex> {
        if self.last.as_ref().is_none_or(|(p, _)| p != pattern) {
            let regex = match Regex::new(pattern) {
                Ok(regex) => regex,
                Err(e) => return exec_err!("invalid regular expression {pattern:?}: {e}"),
            };
            self.last = Some((pattern.to_string(), regex));
        }
        match &self.last {
            Some((_, regex)) => Ok(regex),
            None => exec_err!("no pattern"),
        }
    }
}
