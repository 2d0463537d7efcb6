//! Counting the lake reads an executor serves: scan streams open now and started so far. The
//! heartbeat reports them, so the coordinator (and `system.runtime.executors`) can tell which
//! executors did leaf work.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many scan streams are open on this executor, and how many it ever started.
#[derive(Debug, Clone, Default)]
pub struct RunningTasks {
    alive: Arc<AtomicUsize>,
    started: Arc<AtomicUsize>,
}

impl RunningTasks {
    pub fn count(&self) -> usize {
        self.alive.load(Ordering::SeqCst)
    }

    pub fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }

    /// Counts one stream until the returned guard is dropped.
    pub fn start(&self) -> RunningGuard {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.alive.fetch_add(1, Ordering::SeqCst);
        RunningGuard(self.alive.clone())
    }
}

/// Decrements the count when the stream it lives in is dropped: finished, failed or cancelled.
pub struct RunningGuard(Arc<AtomicUsize>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
