//! What the tracker counts for `/metrics`: outcomes and latency histograms by client, live
//! queries by state, queue waits.

use std::collections::BTreeMap;

use super::QueryState;
use crate::session::ClientLabel;

/// Upper bounds (seconds) of the latency histogram's buckets.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// Latencies and outcomes of finished queries, by front end.
#[derive(Debug, Clone, Default)]
pub struct QueryMetrics {
    /// Finished queries by front end and final state.
    pub outcomes: BTreeMap<(ClientLabel, QueryState), u64>,
    /// Per front end: counts per bucket of [`LATENCY_BUCKETS`] (not cumulative) and one more
    /// for slower queries, the sum of seconds and the count.
    pub latency: BTreeMap<ClientLabel, Histogram>,
    /// Queries not yet done, by state.
    pub live: BTreeMap<QueryState, u64>,
    /// Queries that waited for a resource group slot, and their seconds of waiting in all.
    pub queued_total: u64,
    pub queued_secs: f64,
    /// Rows and Arrow bytes of results sent to clients, by queries that ended.
    pub result_rows: u64,
    pub result_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct Histogram {
    pub buckets: [u64; LATENCY_BUCKETS.len() + 1],
    pub sum_secs: f64,
    pub count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: [0; LATENCY_BUCKETS.len() + 1],
            sum_secs: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    pub(super) fn observe(&mut self, secs: f64) {
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[bucket] += 1;
        self.sum_secs += secs;
        self.count += 1;
    }
}
