//! The interactive shell: a line editor (rustyline) with a history file, statements over
//! several lines (the prompt says when one is open), tab completion of keywords, schemas,
//! tables and columns, Ctrl-C to drop the line being typed (or, while a query runs, to cancel
//! it) and Ctrl-D to leave.

use std::path::PathBuf;

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};

use super::{Next, Runner, Splitter};

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "LEFT JOIN",
    "INNER JOIN",
    "ON",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "EXISTS",
    "BETWEEN",
    "LIKE",
    "IS NULL",
    "DISTINCT",
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "WITH",
    "UNION ALL",
    "EXPLAIN",
    "ANALYZE",
    "SHOW",
    "SET",
    "USE",
    "DATE",
    "INTERVAL",
    "CAST",
    "DESC",
    "ASC",
];

/// Completes the word before the cursor from keywords and the catalog's names.
#[derive(Helper, Highlighter, Hinter, Validator)]
struct Completion {
    words: Vec<String>,
}

impl Completer for Completion {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + 1);
        let prefix = line[start..pos].to_ascii_lowercase();
        if prefix.is_empty() {
            return Ok((start, Vec::new()));
        }
        let mut candidates: Vec<String> = self
            .words
            .iter()
            .filter(|w| w.to_ascii_lowercase().starts_with(&prefix))
            .cloned()
            .collect();
        candidates.sort();
        candidates.dedup();
        Ok((start, candidates))
    }
}

/// Where the history is kept: `LAKEGATE_HISTORY`, else `~/.lakegate_history`.
fn history_file() -> Option<PathBuf> {
    std::env::var_os("LAKEGATE_HISTORY")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".lakegate_history"))
        })
}

/// Reads and runs statements until `\q` or Ctrl-D.
pub async fn run(runner: &mut Runner) -> Result<(), String> {
    runner.interactive = true;
    let mut words: Vec<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
    words.extend(runner.catalog_names().await);
    let mut editor: Editor<Completion, DefaultHistory> =
        Editor::new().map_err(|e| format!("cannot start the line editor: {e}"))?;
    editor.set_helper(Some(Completion { words }));
    let history = history_file();
    if let Some(history) = &history {
        let _ = editor.load_history(history);
    }
    println!("lakegate shell; \\? for help, \\q or Ctrl-D to quit.");
    let mut splitter = Splitter::default();
    loop {
        let prompt = if splitter.is_pending() {
            "lakegate-> "
        } else {
            "lakegate=> "
        };
        // The editor blocks on the terminal; the runtime keeps serving other tasks meanwhile.
        let line = tokio::task::block_in_place(|| editor.readline(prompt));
        match line {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                for unit in splitter.line(&line) {
                    match runner.run(unit).await {
                        Ok(Next::Quit) => {
                            save(&mut editor, &history);
                            return Ok(());
                        }
                        Ok(Next::Continue) => {}
                        Err(message) => eprintln!("{message}"),
                    }
                }
            }
            // Ctrl-C at the prompt drops what was typed, as psql does.
            Err(ReadlineError::Interrupted) => splitter = Splitter::default(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(format!("reading input: {e}")),
        }
    }
    save(&mut editor, &history);
    Ok(())
}

fn save(editor: &mut Editor<Completion, DefaultHistory>, history: &Option<PathBuf>) {
    if let Some(history) = history {
        let _ = editor.save_history(history);
    }
}
