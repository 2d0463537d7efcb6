//! The one mapping from engine and auth errors to gRPC status codes.

use tonic::Status;

use lakegate_coordinator::auth::AuthError;
use lakegate_coordinator::error::EngineError;
use lakegate_coordinator::statement::StatementError;

/// The gRPC status a client gets for an engine error. SQL errors carry their position in the
/// message as `(line L, column C)`.
pub fn engine_status(err: EngineError) -> Status {
    let message = match err.position() {
        Some(position) => format!("{err} ({position})"),
        None => err.to_string(),
    };
    match err {
        EngineError::Statement(StatementError::ReadOnly { .. })
        | EngineError::AccessDenied { .. } => Status::permission_denied(message),
        EngineError::Statement(_)
        | EngineError::Plan { .. }
        | EngineError::Setting { .. }
        | EngineError::Parameter { .. }
        | EngineError::UnknownFunction { .. }
        | EngineError::UnknownColumn { .. }
        | EngineError::DivisionByZero
        | EngineError::InvalidCast { .. }
        | EngineError::OutOfRange { .. }
        | EngineError::TypeMismatch { .. } => Status::invalid_argument(message),
        EngineError::UnknownTable { .. }
        | EngineError::UnknownSchema { .. }
        | EngineError::UnknownPrepared { .. } => Status::not_found(message),
        EngineError::Catalog { .. }
        | EngineError::NoExecutors
        | EngineError::ShuttingDown
        | EngineError::QueryLost { .. } => Status::unavailable(message),
        EngineError::TimedOut { .. } => Status::deadline_exceeded(message),
        EngineError::Cancelled { .. } => Status::cancelled(message),
        EngineError::MemoryLimit { .. } | EngineError::QueueFull { .. } => {
            Status::resource_exhausted(message)
        }
        EngineError::Execution { .. } | EngineError::Internal(_) => Status::internal(message),
    }
}

/// Every failed authentication is UNAUTHENTICATED.
pub fn auth_status(err: AuthError) -> Status {
    match err {
        AuthError::UsersFile { .. } | AuthError::NoUsersFile | AuthError::Jwks { .. } => {
            Status::internal(err.to_string())
        }
        _ => Status::unauthenticated(err.to_string()),
    }
}
