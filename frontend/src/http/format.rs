//! Result formats of `POST /v1/query`, chosen by `Accept`, each written batch by batch so the
//! body streams: Arrow IPC stream (default), JSON (`{columns, rows}`), NDJSON and CSV.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use bytes::Bytes;
use serde_json::{Value, json};

/// A result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Arrow,
    Json,
    NdJson,
    Csv,
}

pub const ARROW: &str = "application/vnd.apache.arrow.stream";

impl Format {
    /// The format an `Accept` header asks for; none or `*/*` is Arrow. `Err` names what was
    /// asked.
    pub fn from_accept(accept: Option<&str>) -> Result<Self, String> {
        let Some(accept) = accept else {
            return Ok(Format::Arrow);
        };
        for wanted in accept
            .split(',')
            .map(|m| m.split(';').next().unwrap_or("").trim())
        {
            match wanted {
                ARROW | "*/*" | "application/*" => return Ok(Format::Arrow),
                "application/json" => return Ok(Format::Json),
                "application/x-ndjson" => return Ok(Format::NdJson),
                "text/csv" => return Ok(Format::Csv),
                _ => {}
            }
        }
        Err(format!(
            "no supported format in Accept: {accept:?}; use {ARROW}, application/json, \
             application/x-ndjson or text/csv"
        ))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Arrow => ARROW,
            Format::Json => "application/json",
            Format::NdJson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Turns batches into body chunks in one format.
pub struct Writer {
    format: Format,
    schema: SchemaRef,
    arrow: Option<StreamWriter<Vec<u8>>>,
    rows_written: usize,
}

impl Writer {
    pub fn new(format: Format, schema: SchemaRef) -> Result<Self, String> {
        let arrow = match format {
            Format::Arrow => {
                Some(StreamWriter::try_new(Vec::new(), &schema).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        Ok(Self {
            format,
            schema,
            arrow,
            rows_written: 0,
        })
    }

    /// What comes before the first batch.
    pub fn head(&mut self) -> Result<Bytes, String> {
        Ok(match self.format {
            Format::Arrow => self.drain_arrow(),
            Format::Json => {
                let columns: Vec<Value> = self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| json!({ "name": f.name(), "type": f.data_type().to_string() }))
                    .collect();
                let head = json!({ "columns": columns }).to_string();
                // `{"columns":[...]` then `,"rows":[`: the object is closed by `tail`.
                let open = head.strip_suffix('}').unwrap_or(&head).to_string();
                Bytes::from(format!("{open},\"rows\":["))
            }
            Format::NdJson => Bytes::new(),
            Format::Csv => {
                let names: Vec<String> = self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| csv_field(f.name()))
                    .collect();
                Bytes::from(format!("{}\n", names.join(",")))
            }
        })
    }

    pub fn batch(&mut self, batch: &RecordBatch) -> Result<Bytes, String> {
        if self.format == Format::Arrow {
            if let Some(writer) = self.arrow.as_mut() {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
            return Ok(self.drain_arrow());
        }
        let options = FormatOptions::default().with_null("");
        let cells = TextCells::new(batch, &options)?;
        let mut out = String::new();
        for row in 0..batch.num_rows() {
            match self.format {
                Format::Json => {
                    if self.rows_written > 0 {
                        out.push(',');
                    }
                    let values: Vec<Value> = batch
                        .columns()
                        .iter()
                        .zip(&cells.formatters)
                        .map(|(c, f)| json_value(c.as_ref(), f, row))
                        .collect();
                    out.push_str(&Value::Array(values).to_string());
                }
                Format::NdJson => {
                    let object: serde_json::Map<String, Value> = self
                        .schema
                        .fields()
                        .iter()
                        .zip(batch.columns().iter().zip(&cells.formatters))
                        .map(|(field, (c, f))| {
                            (field.name().clone(), json_value(c.as_ref(), f, row))
                        })
                        .collect();
                    out.push_str(&Value::Object(object).to_string());
                    out.push('\n');
                }
                Format::Csv => {
                    let fields: Vec<String> = cells
                        .row(row)
                        .into_iter()
                        .map(|value| value.as_deref().map(csv_field).unwrap_or_default())
                        .collect();
                    out.push_str(&fields.join(","));
                    out.push('\n');
                }
                Format::Arrow => {}
            }
            self.rows_written += 1;
        }
        Ok(Bytes::from(out))
    }

    /// What comes after the last batch.
    pub fn tail(&mut self) -> Result<Bytes, String> {
        Ok(match self.format {
            Format::Arrow => {
                if let Some(writer) = self.arrow.as_mut() {
                    writer.finish().map_err(|e| e.to_string())?;
                }
                self.drain_arrow()
            }
            Format::Json => Bytes::from_static(b"]}"),
            Format::NdJson | Format::Csv => Bytes::new(),
        })
    }

    fn drain_arrow(&mut self) -> Bytes {
        match self.arrow.as_mut() {
            Some(writer) => Bytes::from(std::mem::take(writer.get_mut())),
            None => Bytes::new(),
        }
    }
}

/// A JSON value: numbers and booleans as such, NULL as null, everything else (decimals,
/// dates, timestamps, ...) as the string Arrow prints, so no precision is lost.
/// A batch's values as display text, one formatter per column: what CSV, the JSON formats'
/// non-JSON types and the shell's tables all print.
pub struct TextCells<'a> {
    batch: &'a RecordBatch,
    formatters: Vec<ArrayFormatter<'a>>,
}

impl<'a> TextCells<'a> {
    pub fn new(batch: &'a RecordBatch, options: &'a FormatOptions<'a>) -> Result<Self, String> {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(Self { batch, formatters })
    }

    /// The values of `row`, `None` for NULL.
    pub fn row(&self, row: usize) -> Vec<Option<String>> {
        self.batch
            .columns()
            .iter()
            .zip(&self.formatters)
            .map(|(c, f)| (!c.is_null(row)).then(|| f.value(row).to_string()))
            .collect()
    }
}

fn json_value(column: &dyn Array, formatter: &ArrayFormatter, row: usize) -> Value {
    if column.is_null(row) {
        return Value::Null;
    }
    match column.data_type() {
        DataType::Boolean => Value::Bool(column.as_boolean().value(row)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64 => {
            let text = formatter.value(row).to_string();
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        _ => Value::String(formatter.value(row).to_string()),
    }
}

/// A CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
