//! Panics in planning, turned into errors.
//!
//! DataFusion's planner still indexes out of bounds on some statements it should refuse
//! (`HAVING x > (SELECT FROM t)` in DataFusion 54, found by `tests/fuzz.rs`). Uncaught, the
//! panic ends the task serving the request: the client sees its connection or stream cut with
//! no reason. Planning runs behind [`caught`] instead, and the client gets an error saying the
//! statement could not be planned.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use datafusion::error::{DataFusionError, Result};
use futures::FutureExt;
use lakegate_executor::cpu::panic_message;

/// `planning`, with a panic in it as an internal error naming the panic.
pub(super) async fn caught<T>(planning: impl Future<Output = Result<T>>) -> Result<T> {
    AssertUnwindSafe(planning)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(panicked(panic)))
}

/// [`caught`] for planning steps that do not wait.
pub(super) fn caught_sync<T>(planning: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(planning))
        .unwrap_or_else(|panic| Err(panicked(panic)))
}

fn panicked(panic: Box<dyn Any + Send>) -> DataFusionError {
    let message = panic_message(panic.as_ref());
    tracing::error!(%message, "the planner panicked");
    DataFusionError::Internal(format!("the planner failed on this statement: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_in_planning_is_an_error_naming_it() {
        let err = caught(async {
            let empty: Vec<u8> = Vec::new();
            Ok(empty[usize::from(empty.is_empty())])
        })
        .await
        .expect_err("the panic is an error");
        assert!(err.to_string().contains("index out of bounds"), "{err}");
        assert!(caught_sync(|| Ok(1)).is_ok());
    }
}
