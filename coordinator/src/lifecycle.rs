//! The coordinator's lifecycle: serving, then stopping. A stopping coordinator (SIGTERM) takes
//! no new query, telling the client why, and waits for the queries it runs to finish, up to a
//! grace period, before its servers close. Which queries run is the tracker's count: there is
//! one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::tracker::QueryTracker;

/// Whether the coordinator takes queries, and how many it runs.
#[derive(Debug)]
pub struct Lifecycle {
    stopping: AtomicBool,
    queries: Arc<QueryTracker>,
}

impl Lifecycle {
    /// The lifecycle of a coordinator whose queries `queries` tracks.
    pub fn new(queries: Arc<QueryTracker>) -> Self {
        Self {
            stopping: AtomicBool::new(false),
            queries,
        }
    }

    /// From now on new queries are refused.
    pub fn begin_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Queries registered and not yet ended.
    pub fn running(&self) -> usize {
        self.queries.running()
    }

    /// Waits until no query runs or `grace` passed; says whether all ended.
    pub async fn wait_idle(&self, grace: Duration) -> bool {
        self.queries.wait_idle(grace).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Principal;
    use crate::query::QueryId;
    use crate::session::ClientLabel;

    #[tokio::test]
    async fn waits_for_running_queries_then_for_nothing() {
        let tracker = Arc::new(QueryTracker::default());
        let lifecycle = Arc::new(Lifecycle::new(tracker.clone()));
        let query = tracker.begin(
            QueryId::new(),
            &Principal::new("ana"),
            ClientLabel::EMBEDDED,
            "SELECT 1",
        );
        lifecycle.begin_stop();
        assert!(lifecycle.is_stopping());
        assert!(!lifecycle.wait_idle(Duration::from_millis(20)).await);
        let waiter = {
            let lifecycle = lifecycle.clone();
            tokio::spawn(async move { lifecycle.wait_idle(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        query.finished();
        assert!(waiter.await.unwrap());
        assert_eq!(lifecycle.running(), 0);
    }
}
