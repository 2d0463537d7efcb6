//! The audit log: one JSON line per statement, whatever front end sent it and however it
//! ended (`server.audit_log`: a file appended to, or `stdout`).
//!
//! Lines are written by a thread of their own, so a slow disk never holds up a query; the
//! thread ends when the last engine holding the log is dropped. Credentials never reach it:
//! a line holds who ran what, never how they proved it.

use std::fs::OpenOptions;
use std::io::{LineWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::Serialize;

/// A file the audit log cannot be written to.
#[derive(Debug, thiserror::Error)]
#[error("audit log {path}: {source}")]
pub struct AuditError {
    path: PathBuf,
    source: std::io::Error,
}

/// Where finished statements are recorded; [`AuditLog::off`] records nothing.
#[derive(Debug, Clone, Default)]
pub struct AuditLog {
    lines: Option<mpsc::Sender<String>>,
}

impl AuditLog {
    pub fn off() -> Self {
        Self::default()
    }

    /// The log `target` names: `stdout` (or `-`), or a file appended to (created if missing).
    pub fn open(target: &Path) -> Result<Self, AuditError> {
        let out: Box<dyn Write + Send> =
            if target == Path::new("stdout") || target == Path::new("-") {
                Box::new(std::io::stdout())
            } else {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(target)
                    .map_err(|source| AuditError {
                        path: target.to_path_buf(),
                        source,
                    })?;
                Box::new(file)
            };
        let (sender, receiver) = mpsc::channel::<String>();
        let path = target.display().to_string();
        std::thread::Builder::new()
            .name("audit-log".into())
            .spawn(move || {
                let mut out = LineWriter::new(out);
                for line in receiver {
                    if let Err(e) = writeln!(out, "{line}") {
                        tracing::error!(path, error = %e, "audit log line not written");
                    }
                }
            })
            .map_err(|source| AuditError {
                path: target.to_path_buf(),
                source,
            })?;
        Ok(Self {
            lines: Some(sender),
        })
    }

    pub fn is_on(&self) -> bool {
        self.lines.is_some()
    }

    /// Records one finished statement.
    pub fn record(&self, entry: &AuditEntry) {
        let Some(lines) = &self.lines else { return };
        match serde_json::to_string(entry) {
            Ok(line) => {
                let _ = lines.send(line);
            }
            Err(e) => tracing::error!(error = %e, "audit entry not serialised"),
        }
    }
}

/// One statement as the audit log records it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// When it started, RFC 3339 in UTC.
    pub time: String,
    pub query_id: String,
    pub user: String,
    pub groups: Vec<String>,
    pub front_end: &'static str,
    pub client_address: Option<String>,
    pub sql: String,
    /// Every table read, at the snapshot it was read at.
    pub tables: Vec<AuditTable>,
    /// The row filters and column masks the statement ran under.
    pub filters: Vec<AuditPolicy>,
    /// `FINISHED`, `FAILED` or `CANCELLED`.
    pub state: &'static str,
    pub rows: u64,
    pub bytes: u64,
    pub elapsed_ms: u64,
    pub error: Option<String>,
    pub cache_hit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditTable {
    pub table: String,
    pub snapshot: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditPolicy {
    pub table: String,
    /// The filter and masks as evaluated for this user (`current_user` bound).
    pub policy: String,
}
