//! Counting the scan streams an executor is running, so the coordinator (heartbeats) and
//! operators can see that a cancelled or finished query left nothing reading the lake.
//!
//! The count is kept at the scan rather than at each fragment's root: the distributed planner
//! maps metrics onto worker plans by their shape, so a wrapper node would shift them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many scan output streams are alive on this executor.
#[derive(Debug, Clone, Default)]
pub struct RunningTasks(Arc<AtomicUsize>);

impl RunningTasks {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Counts one stream until the returned guard is dropped.
    pub fn start(&self) -> RunningGuard {
        self.0.fetch_add(1, Ordering::SeqCst);
        RunningGuard(self.0.clone())
    }
}

/// Decrements the count when the stream it lives in is dropped: finished, failed or cancelled.
pub struct RunningGuard(Arc<AtomicUsize>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
