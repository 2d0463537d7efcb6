//! The coordinator's lifecycle: serving, then stopping. A stopping coordinator (SIGTERM) takes
//! no new query, telling the client why, and waits for the queries it runs to finish, up to a
//! grace period, before its servers close.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// Whether the coordinator takes queries, and how many it runs.
#[derive(Debug, Default)]
pub struct Lifecycle {
    stopping: AtomicBool,
    running: AtomicUsize,
    changed: Notify,
}

impl Lifecycle {
    /// From now on new queries are refused.
    pub fn begin_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Queries planned and not yet finished, failed or dropped.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Counts one query until the returned guard is dropped.
    pub fn track(self: &Arc<Self>) -> RunningQuery {
        self.running.fetch_add(1, Ordering::SeqCst);
        RunningQuery(self.clone())
    }

    /// Waits until no query runs or `grace` passed; says whether all finished.
    pub async fn wait_idle(&self, grace: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let changed = self.changed.notified();
            if self.running() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.running() == 0;
            }
        }
    }
}

/// One running query; dropping it (the query's stream ended or was dropped) uncounts it.
#[derive(Debug)]
pub struct RunningQuery(Arc<Lifecycle>);

impl Drop for RunningQuery {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_running_queries_then_for_nothing() {
        let lifecycle = Arc::new(Lifecycle::default());
        let query = lifecycle.track();
        lifecycle.begin_stop();
        assert!(lifecycle.is_stopping());
        assert!(!lifecycle.wait_idle(Duration::from_millis(20)).await);
        let waiter = {
            let lifecycle = lifecycle.clone();
            tokio::spawn(async move { lifecycle.wait_idle(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(query);
        assert!(waiter.await.unwrap());
        assert_eq!(lifecycle.running(), 0);
    }
}
