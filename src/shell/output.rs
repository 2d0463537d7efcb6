//! How results are printed: `\pset format table|csv|json|markdown` and `\x on|off|auto`
//! (expanded: one `column | value` block per row; `auto` expands rows wider than the
//! terminal).

use arrow::record_batch::RecordBatch;
use arrow::util::display::FormatOptions;
use arrow::util::pretty::pretty_format_batches;
use lakegate_frontend::http::format::{TextCells, csv_field};

/// `\pset format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
    Markdown,
}

impl Format {
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "table" | "aligned" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "markdown" => Ok(Format::Markdown),
            other => Err(format!(
                "\\pset: unknown format {other:?}; use table, csv, json or markdown"
            )),
        }
    }
}

/// `\x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expanded {
    #[default]
    Off,
    On,
    Auto,
}

/// Output settings of a shell session.
#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    pub format: Format,
    pub expanded: Expanded,
}

/// The width `\x auto` compares rows against.
const TERMINAL_WIDTH: usize = 120;

impl Output {
    /// `batches` as text in the current settings.
    pub fn render(&self, batches: &[RecordBatch]) -> Result<String, String> {
        let (names, rows) = cells(batches)?;
        Ok(match self.format {
            Format::Csv => csv(&names, &rows),
            Format::Json => json(&names, &rows),
            Format::Markdown => markdown(&names, &rows),
            Format::Table => {
                let widest = rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|c| c.as_deref().map_or(4, str::len) + 3)
                            .sum::<usize>()
                    })
                    .max()
                    .unwrap_or(0);
                let expand = match self.expanded {
                    Expanded::On => true,
                    Expanded::Off => false,
                    Expanded::Auto => widest > TERMINAL_WIDTH,
                };
                if expand {
                    expanded(&names, &rows)
                } else {
                    let mut table = pretty_format_batches(batches)
                        .map_err(|e| e.to_string())?
                        .to_string();
                    table.push_str(&format!(
                        "\n({} row{})",
                        rows.len(),
                        if rows.len() == 1 { "" } else { "s" }
                    ));
                    table
                }
            }
        })
    }
}

/// Column names and every value as text (NULL as an empty cell in CSV, `null` in JSON).
pub(super) type Cells = (Vec<String>, Vec<Vec<Option<String>>>);

pub(super) fn cells(batches: &[RecordBatch]) -> Result<Cells, String> {
    let names = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in batches {
        let cells = TextCells::new(batch, &options)?;
        rows.extend((0..batch.num_rows()).map(|row| cells.row(row)));
    }
    Ok((names, rows))
}

fn csv(names: &[String], rows: &[Vec<Option<String>>]) -> String {
    let field = csv_field;
    let mut out = names.iter().map(|n| field(n)).collect::<Vec<_>>().join(",");
    for row in rows {
        out.push('\n');
        out.push_str(
            &row.iter()
                .map(|c| c.as_deref().map(field).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    out
}

fn json(names: &[String], rows: &[Vec<Option<String>>]) -> String {
    let objects: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            serde_json::Value::Object(
                names
                    .iter()
                    .zip(row)
                    .map(|(n, c)| {
                        let value = c
                            .as_ref()
                            .map_or(serde_json::Value::Null, |t| t.clone().into());
                        (n.clone(), value)
                    })
                    .collect(),
            )
        })
        .collect();
    serde_json::Value::Array(objects).to_string()
}

fn markdown(names: &[String], rows: &[Vec<Option<String>>]) -> String {
    let line = |cells: Vec<String>| format!("| {} |", cells.join(" | "));
    let mut out = vec![
        line(names.to_vec()),
        line(names.iter().map(|_| "---".to_string()).collect()),
    ];
    for row in rows {
        out.push(line(
            row.iter()
                .map(|c| c.as_deref().unwrap_or("NULL").replace('|', "\\|"))
                .collect(),
        ));
    }
    out.join("\n")
}

fn expanded(names: &[String], rows: &[Vec<Option<String>>]) -> String {
    let width = names.iter().map(String::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        out.push(format!("-[ RECORD {} ]-", i + 1));
        for (name, cell) in names.iter().zip(row) {
            out.push(format!(
                "{name:<width$} | {}",
                cell.as_deref().unwrap_or("NULL")
            ));
        }
    }
    if rows.is_empty() {
        out.push("(0 rows)".into());
    }
    out.join("\n")
}
