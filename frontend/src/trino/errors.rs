//! [`EngineError`] as a Trino `QueryError` object: `message`, `errorCode`, `errorName`,
//! `errorType`, `errorLocation` and `failureInfo`. Names are Trino's standard error names,
//! which is what clients (and SQLAlchemy's dialect) match on.

use serde_json::{Value, json};

use lakegate_coordinator::error::EngineError;
use lakegate_coordinator::statement::StatementError;

/// The error object of a failed query.
pub fn query_error(err: &EngineError) -> Value {
    let (code, name, kind) = classify(err);
    let message = err.to_string();
    let mut error = json!({
        "message": message,
        "errorCode": code,
        "errorName": name,
        "errorType": kind,
        "failureInfo": {
            "type": format!("io.lakegate.{name}"),
            "message": message,
            "suppressed": [],
            "stack": [],
        },
    });
    if let Some(position) = err.position() {
        let location = json!({ "lineNumber": position.line, "columnNumber": position.column });
        error["errorLocation"] = location.clone();
        error["failureInfo"]["errorLocation"] = location;
    }
    error
}

fn classify(err: &EngineError) -> (i64, &'static str, &'static str) {
    let user = |name: &'static str| (code_of(name), name, "USER_ERROR");
    match err {
        EngineError::Statement(StatementError::Syntax { .. }) => user("SYNTAX_ERROR"),
        EngineError::Statement(StatementError::ReadOnly { .. })
        | EngineError::AccessDenied { .. } => user("PERMISSION_DENIED"),
        EngineError::Statement(
            StatementError::TooLarge { .. }
            | StatementError::TooDeep { .. }
            | StatementError::NestedTooDeep { .. },
        ) => user("QUERY_TEXT_TOO_LARGE"),
        EngineError::Statement(_) => user("NOT_SUPPORTED"),
        EngineError::Plan { .. } => user("GENERIC_USER_ERROR"),
        EngineError::UnknownTable { .. } => user("TABLE_NOT_FOUND"),
        EngineError::UnknownFunction { .. } => user("FUNCTION_NOT_FOUND"),
        EngineError::UnknownColumn { .. } => user("COLUMN_NOT_FOUND"),
        EngineError::DivisionByZero => user("DIVISION_BY_ZERO"),
        EngineError::InvalidCast { .. } => user("INVALID_CAST_ARGUMENT"),
        EngineError::OutOfRange { .. } => user("NUMERIC_VALUE_OUT_OF_RANGE"),
        EngineError::TypeMismatch { .. } => user("TYPE_MISMATCH"),
        EngineError::UnknownSchema { .. } => user("SCHEMA_NOT_FOUND"),
        EngineError::Setting { .. } => user("INVALID_SESSION_PROPERTY"),
        EngineError::UnknownPrepared { .. } => user("NOT_FOUND"),
        EngineError::Parameter { .. } => user("INVALID_PARAMETER_USAGE"),
        EngineError::Cancelled { .. } => user("USER_CANCELED"),
        EngineError::TimedOut { .. } => (131_075, "EXCEEDED_TIME_LIMIT", "INSUFFICIENT_RESOURCES"),
        EngineError::QueueFull { .. } => (131_074, "QUERY_QUEUE_FULL", "INSUFFICIENT_RESOURCES"),
        EngineError::MemoryLimit { .. } => (
            131_079,
            "EXCEEDED_LOCAL_MEMORY_LIMIT",
            "INSUFFICIENT_RESOURCES",
        ),
        EngineError::Catalog { .. } => (16_777_216, "CATALOG_UNAVAILABLE", "EXTERNAL"),
        EngineError::ShuttingDown => (65_545, "SERVER_SHUTTING_DOWN", "INTERNAL_ERROR"),
        EngineError::NoExecutors => (65_541, "NO_NODES_AVAILABLE", "INTERNAL_ERROR"),
        EngineError::QueryLost { .. } => (65_558, "REMOTE_HOST_GONE", "INTERNAL_ERROR"),
        EngineError::Execution { .. } | EngineError::Internal(_) => {
            (65_536, "GENERIC_INTERNAL_ERROR", "INTERNAL_ERROR")
        }
    }
}

/// Codes of the user errors named above.
fn code_of(name: &str) -> i64 {
    match name {
        "GENERIC_USER_ERROR" => 0,
        "SYNTAX_ERROR" => 1,
        "USER_CANCELED" => 3,
        "PERMISSION_DENIED" => 4,
        "NOT_FOUND" => 5,
        "FUNCTION_NOT_FOUND" => 6,
        "DIVISION_BY_ZERO" => 8,
        "INVALID_CAST_ARGUMENT" => 9,
        "NUMERIC_VALUE_OUT_OF_RANGE" => 19,
        "TYPE_MISMATCH" => 58,
        "COLUMN_NOT_FOUND" => 47,
        "NOT_SUPPORTED" => 13,
        "QUERY_TEXT_TOO_LARGE" => 35,
        "INVALID_SESSION_PROPERTY" => 14,
        "SCHEMA_NOT_FOUND" => 45,
        "TABLE_NOT_FOUND" => 46,
        _ => 0,
    }
}
