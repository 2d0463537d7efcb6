//! [`Outcome`]: what a statement did, for front ends to render in their protocol without
//! reading its SQL.

use std::sync::Arc;

use arrow::datatypes::Schema;
use datafusion::physical_plan::EmptyRecordBatchStream;

use crate::query::{QueryId, QueryResult};
use crate::statement::TransactionOp;

/// What one statement did.
#[derive(Debug)]
pub enum Outcome {
    /// Rows to stream: a query, `SHOW`, `EXPLAIN`, `EXECUTE`.
    Rows(QueryResult),
    /// The session changed (`SET`, `RESET`, `USE`, `PREPARE`, `DEALLOCATE`).
    SessionChanged(SessionUpdate),
    /// A transaction statement, accepted and answered: every read is autocommit.
    Transaction { id: QueryId, op: TransactionOp },
}

/// A session statement and every change it made, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUpdate {
    pub id: QueryId,
    pub command: SessionCommand,
    pub changes: Vec<SessionChange>,
}

/// Which session statement ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCommand {
    Set,
    Reset,
    Use,
    Prepare,
    Deallocate,
}

/// One change to a session, as a client that keeps its session itself (Trino's) must apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionChange {
    Catalog(String),
    Schema(String),
    Setting { name: String, value: String },
    SettingCleared(String),
    TimeZone(String),
    PreparedAdded { name: String, sql: String },
    PreparedRemoved(String),
}

impl Outcome {
    /// The query id the statement ran as.
    pub fn id(&self) -> QueryId {
        match self {
            Outcome::Rows(result) => result.id,
            Outcome::SessionChanged(update) => update.id,
            Outcome::Transaction { id, .. } => *id,
        }
    }

    /// The statement's command tag, as SQL names it (PostgreSQL's `CommandComplete`, Trino's
    /// `updateType`).
    pub fn command_tag(&self) -> &'static str {
        match self {
            Outcome::Rows(_) => "SELECT",
            Outcome::SessionChanged(update) => match update.command {
                SessionCommand::Set => "SET",
                SessionCommand::Reset => "RESET",
                SessionCommand::Use => "USE",
                SessionCommand::Prepare => "PREPARE",
                SessionCommand::Deallocate => "DEALLOCATE",
            },
            Outcome::Transaction { op, .. } => match op {
                TransactionOp::Begin => "BEGIN",
                TransactionOp::Commit => "COMMIT",
                TransactionOp::Rollback => "ROLLBACK",
            },
        }
    }

    /// The outcome as a result set, one with no columns when the statement returns no rows:
    /// for protocols that answer every statement with rows (Flight SQL queries, HTTP).
    pub fn into_result(self) -> QueryResult {
        match self {
            Outcome::Rows(result) => result,
            other => {
                let schema = Arc::new(Schema::empty());
                QueryResult {
                    id: other.id(),
                    schema: schema.clone(),
                    stream: Box::pin(EmptyRecordBatchStream::new(schema)),
                    plan: None,
                    snapshots: Vec::new(),
                }
            }
        }
    }
}
