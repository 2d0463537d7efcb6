//! Trino's JSON functions over JSON text (a `json` value is its compact text here):
//! `json_parse`, `json_format`, `json_extract`, `json_extract_scalar`, `json_array_*`,
//! `is_json_scalar`, with Trino's JSONPath subset (`$.a.b`, `$[0]`, `$["a b"]`, `$.a[b]`);
//! and `json_cast(json, typed_null)`, `CAST(json AS ARRAY(...))` in Trino, which reads the
//! JSON as the type of its second argument with Arrow's JSON decoder.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanBuilder, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{Field, Schema};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::args::{integers, strings};
use crate::udf::{ArrayFunction, bigint, boolean, text};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        ArrayFunction::udf("json_parse", &[1], text, json_text),
        ArrayFunction::udf("json_format", &[1], text, json_text),
        ArrayFunction::udf("to_json", &[1], text, to_json),
        ArrayFunction::udf("json_extract", &[2], text, json_extract),
        ArrayFunction::udf("json_extract_scalar", &[2], text, json_extract_scalar),
        ArrayFunction::udf("json_array_length", &[1], bigint, json_array_length),
        ArrayFunction::udf("json_array_get", &[2], text, json_array_get),
        ArrayFunction::udf("json_array_contains", &[2], boolean, json_array_contains),
        ArrayFunction::udf("is_json_scalar", &[1], boolean, is_json_scalar),
        ArrayFunction::udf("json_cast", &[2], second_type, json_cast),
    ]
}

/// The type of the second argument: the typed NULL naming the cast's target.
fn second_type(args: &[arrow::datatypes::DataType]) -> Result<arrow::datatypes::DataType> {
    match args.get(1) {
        Some(t) => Ok(t.clone()),
        None => exec_err!("json_cast takes JSON and a typed NULL"),
    }
}

/// Each row's JSON decoded as the second argument's type; a value of another shape is an
/// error naming it, as Trino's cast fails.
fn json_cast(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let target = args[1].data_type().clone();
    let schema = Arc::new(Schema::new(vec![Field::new("v", target, true)]));
    let mut decoder = arrow::json::ReaderBuilder::new(schema)
        .with_batch_size(texts.len().max(1))
        .build_decoder()?;
    let mut lines = String::new();
    for i in 0..texts.len() {
        if texts.is_null(i) {
            lines.push_str("{}\n");
            continue;
        }
        let value = parsed(&texts, i, "CAST")?.unwrap_or(Value::Null);
        lines.push_str(&serde_json::json!({ "v": value }).to_string());
        lines.push('\n');
    }
    decoder.decode(lines.as_bytes())?;
    let batch: Option<RecordBatch> = decoder.flush()?;
    match batch {
        Some(batch) if batch.num_rows() == texts.len() => Ok(Arc::clone(batch.column(0))),
        _ => exec_err!("CAST from JSON read a different number of rows"),
    }
}

/// Row `i` parsed, `None` for a null row; text that is not JSON is an error naming it.
fn parsed(texts: &arrow::array::StringArray, i: usize, function: &str) -> Result<Option<Value>> {
    if texts.is_null(i) {
        return Ok(None);
    }
    match serde_json::from_str(texts.value(i)) {
        Ok(value) => Ok(Some(value)),
        Err(e) => exec_err!("{function}: {:?} is not JSON: {e}", texts.value(i)),
    }
}

/// A JSONPath step: a member name or an array index.
enum Step {
    Member(String),
    Index(usize),
}

/// Trino's JSONPath subset: `$`, `.name`, `[n]`, `["name"]`, `[name]`.
fn path(text: &str) -> Result<Vec<Step>> {
    let Some(mut rest) = text.trim().strip_prefix('$') else {
        return exec_err!("invalid JSON path {text:?}: it must start with $");
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            steps.push(Step::Member(after[..end].to_string()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(end) = after.find(']') else {
                return exec_err!("invalid JSON path {text:?}: unclosed [");
            };
            let inner = after[..end].trim();
            steps.push(match inner.parse::<usize>() {
                Ok(index) => Step::Index(index),
                Err(_) => Step::Member(inner.trim_matches(['"', '\'']).to_string()),
            });
            rest = &after[end + 1..];
        } else {
            return exec_err!("invalid JSON path {text:?} at {rest:?}");
        }
    }
    Ok(steps)
}

/// `json_extract`/`json_extract_scalar`: the value at a path, as `render` makes it text.
fn extract_with(
    args: &[ArrayRef],
    function: &str,
    render: fn(&Value) -> Option<String>,
) -> Result<ArrayRef> {
    let (texts, paths) = (strings(&args[0])?, strings(&args[1])?);
    let mut out = StringBuilder::new();
    let mut compiled: Option<(String, Vec<Step>)> = None;
    for i in 0..texts.len() {
        if paths.is_null(i) {
            out.append_null();
            continue;
        }
        if compiled.as_ref().is_none_or(|(p, _)| p != paths.value(i)) {
            compiled = Some((paths.value(i).to_string(), path(paths.value(i))?));
        }
        let steps = compiled
            .as_ref()
            .map(|(_, s)| s.as_slice())
            .unwrap_or_default();
        if texts.is_null(i) {
            out.append_null();
            continue;
        }
        let value = match pick(texts.value(i), steps) {
            Ok(value) => value,
            Err(e) => return exec_err!("{function}: {:?} is not JSON: {e}", texts.value(i)),
        };
        out.append_option(value.as_ref().and_then(render));
    }
    Ok(Arc::new(out.finish()))
}

/// The value at `steps` in one JSON text, read in one pass: members and elements off the path
/// are skipped without being built (`IgnoredAny`), so only the value found is allocated,
/// where parsing the whole document built every member of it. The text is still checked as
/// JSON to its end, and a member named twice answers its last value, as a full parse does.
fn pick(text: &str, steps: &[Step]) -> serde_json::Result<Option<Value>> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let found = Pick(steps).deserialize(&mut reader)?;
    reader.end()?;
    Ok(found)
}

/// Finds the value at its steps in the JSON value being read.
struct Pick<'s>(&'s [Step]);

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, reader: D) -> Result<Self::Value, D::Error> {
        match self.0 {
            [] => Value::deserialize(reader).map(Some),
            _ => reader.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (first, rest) = self.0.split_first().expect("a step to take");
        let mut found = None;
        while let Some(key) = map.next_key_seed(Key)? {
            match first {
                Step::Member(name) if *name == *key => {
                    found = map.next_value_seed(Pick(rest))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (first, rest) = self.0.split_first().expect("a step to take");
        let mut found = None;
        let mut index = 0;
        loop {
            if matches!(first, Step::Index(i) if *i == index) {
                match seq.next_element_seed(Pick(rest))? {
                    Some(value) => found = value,
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            index += 1;
        }
        Ok(found)
    }

    // A scalar has no member or element to step into.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A member name, borrowed from the text unless it has escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, reader: D) -> Result<Self::Value, D::Error> {
        reader.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(name))
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(name.to_string()))
    }
}

fn json_extract(args: &[ArrayRef]) -> Result<ArrayRef> {
    extract_with(args, "json_extract", |v| Some(v.to_string()))
}

fn json_extract_scalar(args: &[ArrayRef]) -> Result<ArrayRef> {
    extract_with(args, "json_extract_scalar", scalar_text)
}

/// A JSON scalar as SQL text (strings unquoted); arrays, objects and null have none.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One value per row computed from the parsed JSON.
fn per_value(args: &[ArrayRef], function: &str, mut each: impl FnMut(Value)) -> Result<()> {
    let texts = strings(&args[0])?;
    for i in 0..texts.len() {
        match parsed(&texts, i, function)? {
            Some(v) => each(v),
            None => each(Value::Null),
        }
    }
    Ok(())
}

/// `json_parse` and `json_format`: JSON text checked and made compact (a `json` value is its
/// compact text, so parsing and formatting are the same step).
fn json_text(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = StringBuilder::new();
    for i in 0..texts.len() {
        out.append_option(parsed(&texts, i, "json_parse")?.map(|v| v.to_string()));
    }
    Ok(Arc::new(out.finish()))
}

/// `CAST(x AS JSON)`: any value as JSON text, written by Arrow's JSON writer (arrays as
/// arrays, maps and rows as objects, SQL NULL as NULL).
fn to_json(args: &[ArrayRef]) -> Result<ArrayRef> {
    let column = Arc::clone(&args[0]);
    let schema = Arc::new(Schema::new(vec![Field::new(
        "v",
        column.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(schema, vec![column])?;
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    writer.write(&batch)?;
    writer.finish()?;
    let rows: Vec<Value> = match serde_json::from_slice(&writer.into_inner()) {
        Ok(Value::Array(rows)) => rows,
        Ok(_) | Err(_) => return exec_err!("CAST AS JSON: Arrow wrote something other than rows"),
    };
    let mut out = StringBuilder::new();
    for row in rows
        .iter()
        .chain(std::iter::repeat(&Value::Null))
        .take(batch.num_rows())
    {
        out.append_option(row.get("v").map(Value::to_string));
    }
    Ok(Arc::new(out.finish()))
}

fn json_array_length(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = Int64Builder::new();
    per_value(args, "json_array_length", |v| match v {
        Value::Array(items) => out.append_value(items.len() as i64),
        _ => out.append_null(),
    })?;
    Ok(Arc::new(out.finish()))
}

fn json_array_get(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let indices = integers(&args[1])?;
    let mut out = StringBuilder::new();
    for i in 0..texts.len() {
        let value = parsed(&texts, i, "json_array_get")?;
        let item = match (value, indices.is_null(i)) {
            (Some(Value::Array(items)), false) => {
                let index = indices.value(i);
                let at = if index < 0 {
                    items.len() as i64 + index
                } else {
                    index
                };
                usize::try_from(at)
                    .ok()
                    .and_then(|at| items.get(at).cloned())
            }
            _ => None,
        };
        out.append_option(item.map(|v| match v {
            // Trino's documented quirk: a string element comes back unquoted.
            Value::String(s) => s,
            other => other.to_string(),
        }));
    }
    Ok(Arc::new(out.finish()))
}

fn json_array_contains(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let wanted = strings(&args[1])?;
    let mut out = BooleanBuilder::new();
    for i in 0..texts.len() {
        match (parsed(&texts, i, "json_array_contains")?, wanted.is_null(i)) {
            (Some(Value::Array(items)), false) => {
                let wanted = wanted.value(i);
                let as_json = serde_json::from_str::<Value>(wanted).ok();
                out.append_value(items.iter().any(|item| match item {
                    Value::String(s) => s == wanted,
                    other => as_json.as_ref() == Some(other),
                }));
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn is_json_scalar(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = strings(&args[0])?;
    let mut out = BooleanBuilder::new();
    for i in 0..texts.len() {
        out.append_option(
            parsed(&texts, i, "is_json_scalar")?
                .map(|v| !matches!(v, Value::Array(_) | Value::Object(_))),
        );
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, path_text: &str) -> Option<String> {
        let steps = path(path_text).expect("a path");
        pick(text, &steps).expect("JSON").map(|v| v.to_string())
    }

    #[test]
    fn one_pass_finds_what_a_full_parse_finds() {
        let doc = r#"{"a": {"b": [10, {"c": "x"}]}, "k\"ey": 1, "a2": [1, 2]}"#;
        assert_eq!(at(doc, "$.a.b[1].c").as_deref(), Some("\"x\""));
        assert_eq!(at(doc, "$.a.b[0]").as_deref(), Some("10"));
        assert_eq!(at(doc, "$.a.b[5]"), None);
        assert_eq!(
            at(doc, "$[\"k\"ey\"]").as_deref(),
            Some("1"),
            "an escaped name"
        );
        assert_eq!(at(doc, "$.a2"), Some("[1,2]".into()));
        assert_eq!(at(doc, "$.a.b.c"), None, "a member of an array");
        assert_eq!(at(doc, "$.a2[0].x"), None, "a member of a number");
        assert_eq!(at(r#"{"k\u0065y": 7}"#, "$.key").as_deref(), Some("7"));
        assert_eq!(at(r#"{"a": 1, "a": 2}"#, "$.a").as_deref(), Some("2"));
        assert_eq!(at("[1, [2, 3]]", "$[1][1]").as_deref(), Some("3"));
        assert_eq!(at("5", "$").as_deref(), Some("5"));
        // Text after the value found is still read, and must be JSON.
        assert!(pick(r#"{"a": 1, "b": }"#, &path("$.a").expect("path")).is_err());
        assert!(pick(r#"{"a": 1} x"#, &path("$.a").expect("path")).is_err());
    }
}
