//! Counting the lake reads an executor serves: scan streams open now and started so far, and
//! the rows and bytes they read. The heartbeat reports them, so the coordinator (its
//! `/metrics` and `system.runtime.executors`) can tell which executors did leaf work.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How many scan streams are open on this executor, and how many it ever started.
#[derive(Debug, Clone, Default)]
pub struct RunningTasks {
    alive: Arc<AtomicUsize>,
    started: Arc<AtomicUsize>,
    /// Rows and bytes of data files read by scans that finished.
    rows: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

impl RunningTasks {
    pub fn count(&self) -> usize {
        self.alive.load(Ordering::SeqCst)
    }

    pub fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }

    /// Rows scans here read, over this process's life.
    pub fn rows_read(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// Bytes of data files scans here read, over this process's life.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Counts one stream until the returned guard is dropped.
    pub fn start(&self) -> RunningGuard {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.alive.fetch_add(1, Ordering::SeqCst);
        RunningGuard(self.clone())
    }
}

/// Decrements the count when the stream it lives in is dropped: finished, failed or cancelled.
pub struct RunningGuard(RunningTasks);

impl RunningGuard {
    /// Adds what the stream read to the totals.
    pub fn read(&self, rows: u64, bytes: u64) {
        self.0.rows.fetch_add(rows, Ordering::Relaxed);
        self.0.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::SeqCst);
    }
}
