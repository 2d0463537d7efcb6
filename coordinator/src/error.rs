//! [`EngineError`]: every way a statement can fail, in one enum that each front end maps to its
//! protocol (gRPC status, SQLSTATE, HTTP/Trino error JSON) in exactly one function.

use std::sync::Arc;

use datafusion::arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;

use crate::catalog::CatalogError;
use crate::statement::{Position, StatementError, position_in};

/// The error an engine error came from, kept for logs and callers that walk `source()`;
/// shared, as one error may reach every reader of a shared run.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// Why a statement failed, with the position in the SQL where one is known.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// Syntax errors, refused writes and unsupported statements.
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// The statement parsed but cannot be planned (unknown column, type mismatch, ...).
    #[error("{message}")]
    Plan {
        message: String,
        position: Option<Position>,
    },
    #[error("table {name} not found")]
    UnknownTable {
        name: String,
        position: Option<Position>,
    },
    /// A function no registry of the session knows, with the names it may have meant.
    #[error("function {name} not registered{}", did_you_mean(candidates))]
    UnknownFunction {
        name: String,
        candidates: Vec<String>,
        position: Option<Position>,
    },
    #[error("column {name} not found")]
    UnknownColumn {
        name: String,
        position: Option<Position>,
    },
    /// A division or modulo by zero, while planning (constants) or running.
    #[error("division by zero")]
    DivisionByZero,
    /// A value that cannot be cast or parsed to the type asked for (`CAST('x' AS integer)`),
    /// while planning (constants) or running: the data's fault, not the engine's.
    #[error("{message}")]
    InvalidCast { message: String },
    /// Arithmetic whose result does not fit its type (`9223372036854775807 + 1`).
    #[error("{message}")]
    OutOfRange { message: String },
    /// Operands of types an operator cannot take together (`'a' + 1`).
    #[error("{message}")]
    TypeMismatch {
        message: String,
        position: Option<Position>,
    },
    #[error("schema {schema} not found in catalog {catalog}")]
    UnknownSchema { catalog: String, schema: String },
    /// The caller's resource group has as many queries waiting as it allows (or none fits).
    #[error("{message}")]
    QueueFull { message: String },
    /// The access control rules refuse the caller what the statement reads.
    #[error("{message}")]
    AccessDenied { message: String },
    #[error("invalid value for {name}: {message}")]
    Setting { name: String, message: String },
    /// `EXECUTE` of a name the session has not prepared.
    #[error("prepared statement {name} is not in this session")]
    UnknownPrepared { name: String },
    /// A parameter value (`EXECUTE ... USING`) that cannot be computed or bound.
    #[error("{message}")]
    Parameter { message: String },
    /// The query failed while running (division by zero, a file that cannot be read, ...).
    #[error("query failed: {message}")]
    Execution {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// The catalog could not be reached or refused.
    #[error("catalog: {message}")]
    Catalog {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// The client (or an operator) cancelled the query.
    #[error("query {query} was cancelled")]
    Cancelled { query: String },
    /// The query ran past `query.timeout_secs` and was stopped.
    #[error("query {query} exceeded its time limit of {limit_secs} s (query.timeout_secs)")]
    TimedOut { query: String, limit_secs: u64 },
    /// The query needed more memory on an executor than `query.memory_limit_bytes` allows.
    #[error(
        "query {query} exceeded its memory limit of {limit_bytes} bytes per executor \
         (query.memory_limit_bytes): {message}"
    )]
    MemoryLimit {
        query: String,
        limit_bytes: usize,
        message: String,
    },
    /// The coordinator is stopping (SIGTERM) and takes no new query.
    #[error(
        "this lakegate coordinator is shutting down and takes no new queries; \
         retry on another coordinator or after it restarts"
    )]
    ShuttingDown,
    /// Queries are distributed and no executor is registered and healthy.
    #[error("no executor is available to run the query")]
    NoExecutors,
    /// The query cannot go on through no fault of its own (a restarted coordinator, an
    /// executor lost past what a rerun can make good): running it again will do.
    #[error("query {query} was lost: {reason}; run it again")]
    QueryLost { query: String, reason: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// Where in the SQL text the error is, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            EngineError::Statement(StatementError::Syntax { position, .. })
            | EngineError::Plan { position, .. }
            | EngineError::UnknownTable { position, .. }
            | EngineError::UnknownFunction { position, .. }
            | EngineError::UnknownColumn { position, .. }
            | EngineError::TypeMismatch { position, .. } => *position,
            EngineError::Statement(StatementError::TooDeep { position, .. }) => Some(*position),
            _ => None,
        }
    }

    /// What a client asking for query `id` gets where the id is unknown because the coordinator
    /// that made it restarted; `None` for an id of this process (it ended or expired).
    pub fn lost_in_restart(id: crate::query::QueryId) -> Option<Self> {
        (!id.began_here()).then(|| EngineError::QueryLost {
            query: id.to_string(),
            reason: "the coordinator that planned it restarted".into(),
        })
    }

    /// Classifies an error DataFusion raised while planning.
    pub fn planning(err: DataFusionError) -> Self {
        let position = err.diagnostic().and_then(|d| d.span).map(|span| Position {
            line: span.start.line,
            column: span.start.column,
        });
        let root = err.find_root();
        if let DataFusionError::External(inner) = root
            && let Some(e) = inner.downcast_ref::<CatalogError>()
        {
            let classified = EngineError::from_catalog(e, position);
            return match classified {
                EngineError::Catalog { message, .. } => EngineError::Catalog {
                    message,
                    cause: Some(Arc::new(err)),
                },
                other => other,
            };
        }
        if let Some(by_value) = of_a_value(&err) {
            return by_value;
        }
        if let DataFusionError::SchemaError(schema, _) = root
            && let SchemaError::FieldNotFound { field, .. } = schema.as_ref()
        {
            return EngineError::UnknownColumn {
                name: field.name().to_string(),
                position,
            };
        }
        let message = root.message().to_string();
        if matches!(root, DataFusionError::SQL(..)) {
            return EngineError::Statement(StatementError::Syntax {
                position: position.or_else(|| position_in(&message)),
                message,
            });
        }
        if matches!(root, DataFusionError::Plan(_)) && mismatched_types(&message) {
            return EngineError::TypeMismatch { message, position };
        }
        match root {
            DataFusionError::Plan(_)
            | DataFusionError::SchemaError(..)
            | DataFusionError::NotImplemented(_)
            | DataFusionError::Configuration(_) => EngineError::Plan { message, position },
            _ => EngineError::Execution {
                message,
                cause: Some(Arc::new(err)),
            },
        }
    }

    /// Classifies an error raised while a result streams. The query's guard raises engine
    /// errors of its own (time and memory limits) inside the stream; they come out as they are.
    pub fn running(err: DataFusionError) -> Self {
        if let Some(engine) = engine_error_in(&err) {
            return engine.clone();
        }
        if let Some(by_value) = of_a_value(&err) {
            return by_value;
        }
        let message = match err.find_root() {
            DataFusionError::Internal(m) => return EngineError::Internal(m.clone()),
            root => root.message().to_string(),
        };
        EngineError::Execution {
            message,
            cause: Some(Arc::new(err)),
        }
    }
}

impl From<CatalogError> for EngineError {
    fn from(err: CatalogError) -> Self {
        match EngineError::from_catalog(&err, None) {
            EngineError::Catalog { message, .. } => EngineError::Catalog {
                message,
                cause: Some(Arc::new(err)),
            },
            other => other,
        }
    }
}

impl EngineError {
    /// A version the query named that the table does not have is the user's mistake, as an
    /// unknown column is; anything else went wrong in the catalog.
    fn from_catalog(err: &CatalogError, position: Option<Position>) -> Self {
        match err {
            CatalogError::UnknownVersion { .. } => EngineError::Plan {
                message: err.to_string(),
                position,
            },
            CatalogError::AccessDenied { .. } => EngineError::AccessDenied {
                message: err.to_string(),
            },
            _ => EngineError::Catalog {
                message: err.to_string(),
                cause: None,
            },
        }
    }
}

/// The error of a value that an Arrow kernel refused somewhere in `err`'s chain: a zero
/// divisor, a cast or parse of a bad value, an overflow.
fn of_a_value(err: &DataFusionError) -> Option<EngineError> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = next {
        let arrow = error.downcast_ref::<ArrowError>().or_else(|| {
            match error.downcast_ref::<DataFusionError>() {
                Some(DataFusionError::ArrowError(inner, _)) => Some(inner.as_ref()),
                _ => None,
            }
        });
        match arrow {
            Some(ArrowError::DivideByZero) => return Some(EngineError::DivisionByZero),
            Some(e @ (ArrowError::CastError(_) | ArrowError::ParseError(_))) => {
                return Some(EngineError::InvalidCast {
                    message: e.to_string(),
                });
            }
            Some(e @ ArrowError::ArithmeticOverflow(_)) => {
                return Some(EngineError::OutOfRange {
                    message: e.to_string(),
                });
            }
            _ => {}
        }
        next = error.source();
    }
    None
}

/// Whether a planning error says the operands' types do not go together. DataFusion raises
/// these as plain plan errors, so its wording is what tells them apart.
fn mismatched_types(message: &str) -> bool {
    ["Cannot coerce", "Cannot infer common", "cannot be coerced"]
        .iter()
        .any(|words| message.contains(words))
}

fn did_you_mean(candidates: &[String]) -> String {
    match candidates {
        [] => String::new(),
        names => format!("; did you mean {}?", names.join(", ")),
    }
}

/// An engine error raised inside a stream, through the wrappers it may travel in (a shared
/// execution hands one error to every reader).
fn engine_error_in(err: &DataFusionError) -> Option<&EngineError> {
    match err {
        DataFusionError::External(inner) => inner.downcast_ref::<EngineError>(),
        DataFusionError::Shared(inner) => engine_error_in(inner),
        DataFusionError::Context(_, inner) => engine_error_in(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_keep_their_cause() {
        let err = EngineError::running(DataFusionError::Execution("disk on fire".into()));
        assert_eq!(err.to_string(), "query failed: disk on fire");
        let cause = std::error::Error::source(&err).expect("the DataFusion error is kept");
        assert!(cause.to_string().contains("disk on fire"), "{cause}");
        let planning = EngineError::planning(DataFusionError::ResourcesExhausted("1 GB".into()));
        assert!(std::error::Error::source(&planning).is_some());
    }
}
