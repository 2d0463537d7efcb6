//! `GET /metrics`: Prometheus text exposition (version 0.0.4). Like the probes it needs no
//! credentials: scrapers reach it on the cluster network.

use std::fmt::Write as _;

use axum::extract::State;

use super::Shared;
use lakegate_coordinator::engine::Health;
use lakegate_coordinator::tracker::{LATENCY_BUCKETS, QueryMetrics};

pub async fn metrics(
    State(shared): State<Shared>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let engine = &shared.engine;
    let health = engine.health();
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, kind: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    gauge(
        "lakegate_queries_running",
        "Queries not yet ended: queued, planning, running or streaming.",
        "gauge",
        health.running as u64,
    );
    gauge(
        "lakegate_stopping",
        "1 while the coordinator stops (SIGTERM) and refuses new queries.",
        "gauge",
        u64::from(health.stopping),
    );
    if let Some(executors) = health.executors {
        gauge(
            "lakegate_executors",
            "Executors that take work (registered, heard from, not draining).",
            "gauge",
            executors as u64,
        );
    }
    if let Some(stats) = health.cache {
        gauge(
            "lakegate_cache_hits_total",
            "Reads answered from the result cache.",
            "counter",
            stats.hits,
        );
        gauge(
            "lakegate_cache_misses_total",
            "Cacheable reads that ran.",
            "counter",
            stats.misses,
        );
        gauge(
            "lakegate_cache_coalesced_total",
            "Reads that joined an identical running read.",
            "counter",
            stats.coalesced,
        );
        gauge(
            "lakegate_cache_evictions_total",
            "Results evicted for space.",
            "counter",
            stats.evictions,
        );
        gauge(
            "lakegate_cache_bytes",
            "Bytes of cached results.",
            "gauge",
            stats.bytes,
        );
        gauge(
            "lakegate_cache_entries",
            "Cached results.",
            "gauge",
            stats.entries,
        );
    }
    if let Some(stats) = &health.cache {
        let lookups = stats.hits + stats.misses;
        let ratio = if lookups == 0 {
            0.0
        } else {
            stats.hits as f64 / lookups as f64
        };
        let _ = writeln!(
            out,
            "# HELP lakegate_cache_hit_ratio Share of cacheable reads answered from the cache.\n\
             # TYPE lakegate_cache_hit_ratio gauge\nlakegate_cache_hit_ratio {ratio}"
        );
    }
    executors(&mut out, &health);
    scans_and_reruns(&mut out, &health);
    queries(&mut out, &engine.queries().metrics());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
}

/// Per executor: tasks running now and scan streams started (from its heartbeats), and how
/// often a query found it unreachable.
fn executors(out: &mut String, health: &Health) {
    if health.executors.is_none() {
        return;
    }
    let details = &health.executor_details;
    let series = [
        (
            "lakegate_executor_running_tasks",
            "Plan fragments an executor runs now.",
            "gauge",
            details
                .iter()
                .map(|e| (e.url.to_string(), u64::from(e.running_tasks)))
                .collect::<Vec<_>>(),
        ),
        (
            "lakegate_executor_scans_started_total",
            "Scan streams an executor started.",
            "counter",
            details
                .iter()
                .map(|e| (e.url.to_string(), e.scans_started))
                .collect(),
        ),
        (
            "lakegate_executor_scan_rows_total",
            "Rows an executor's finished scans read.",
            "counter",
            details
                .iter()
                .map(|e| (e.url.to_string(), e.rows_scanned))
                .collect(),
        ),
        (
            "lakegate_executor_scan_bytes_total",
            "Data-file bytes an executor's finished scans read.",
            "counter",
            details
                .iter()
                .map(|e| (e.url.to_string(), e.bytes_scanned))
                .collect(),
        ),
        (
            "lakegate_executor_lost_total",
            "Times a query found an executor unreachable.",
            "counter",
            health.executor_losses.clone(),
        ),
    ];
    for (name, help, kind, values) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (executor, value) in values {
            let _ = writeln!(out, "{name}{{executor=\"{executor}\"}} {value}");
        }
    }
}

/// Data files planned and pruned; reruns after lost executors.
fn scans_and_reruns(out: &mut String, health: &Health) {
    let (planned, pruned) = health.scan_files;
    let _ = writeln!(
        out,
        "# HELP lakegate_scan_files_planned_total Data files the scans of planned queries read.\n\
         # TYPE lakegate_scan_files_planned_total counter\n\
         lakegate_scan_files_planned_total {planned}\n\
         # HELP lakegate_scan_files_pruned_total Data files of the snapshots read that planning \
         left out (partition and column statistics ruling the filters out).\n\
         # TYPE lakegate_scan_files_pruned_total counter\n\
         lakegate_scan_files_pruned_total {pruned}"
    );
    let (rows, bytes) = health.local_scan_reads;
    let _ = writeln!(
        out,
        "# HELP lakegate_coordinator_scan_rows_total Rows read by scans the coordinator ran \
         itself (plans too small to distribute); executors report their own.\n\
         # TYPE lakegate_coordinator_scan_rows_total counter\n\
         lakegate_coordinator_scan_rows_total {rows}\n\
         # HELP lakegate_coordinator_scan_bytes_total Data-file bytes read by scans the \
         coordinator ran itself.\n\
         # TYPE lakegate_coordinator_scan_bytes_total counter\n\
         lakegate_coordinator_scan_bytes_total {bytes}"
    );
    let (before_rows, after_rows) = health.reruns;
    let _ = writeln!(
        out,
        "# HELP lakegate_query_reruns_total Queries rerun after a lost or hung executor, by \
         whether rows had been sent (then the rerun carried on after them).\n\
         # TYPE lakegate_query_reruns_total counter\n\
         lakegate_query_reruns_total{{after_rows=\"false\"}} {before_rows}\n\
         lakegate_query_reruns_total{{after_rows=\"true\"}} {after_rows}"
    );
}

/// Queries by front end and outcome, live queries by state, result sizes, and latency
/// histograms by front end.
fn queries(out: &mut String, metrics: &QueryMetrics) {
    let _ = writeln!(
        out,
        "# HELP lakegate_result_rows_total Rows sent to clients by queries that ended.\n\
         # TYPE lakegate_result_rows_total counter\nlakegate_result_rows_total {}\n\
         # HELP lakegate_result_bytes_total Arrow bytes sent to clients by queries that ended.\n\
         # TYPE lakegate_result_bytes_total counter\nlakegate_result_bytes_total {}",
        metrics.result_rows, metrics.result_bytes
    );
    let _ = writeln!(
        out,
        "# HELP lakegate_queries_total Queries ended, by front end and final state.\n\
         # TYPE lakegate_queries_total counter"
    );
    for ((front_end, state), count) in &metrics.outcomes {
        let _ = writeln!(
            out,
            "lakegate_queries_total{{front_end=\"{front_end}\",state=\"{}\"}} {count}",
            state.as_str()
        );
    }
    let _ = writeln!(
        out,
        "# HELP lakegate_queries Queries not yet ended, by state.\n# TYPE lakegate_queries gauge"
    );
    for (state, count) in &metrics.live {
        let _ = writeln!(
            out,
            "lakegate_queries{{state=\"{}\"}} {count}",
            state.as_str()
        );
    }
    let _ = writeln!(
        out,
        "# HELP lakegate_queue_wait_seconds Time queries waited for a resource group slot.\n\
         # TYPE lakegate_queue_wait_seconds summary\n\
         lakegate_queue_wait_seconds_sum {}\nlakegate_queue_wait_seconds_count {}",
        metrics.queued_secs, metrics.queued_total
    );
    let _ = writeln!(
        out,
        "# HELP lakegate_query_duration_seconds Time from a query's arrival to its end, by \
         front end.\n# TYPE lakegate_query_duration_seconds histogram"
    );
    for (front_end, histogram) in &metrics.latency {
        let mut cumulative = 0;
        for (bound, count) in LATENCY_BUCKETS.iter().zip(&histogram.buckets) {
            cumulative += count;
            let _ = writeln!(
                out,
                "lakegate_query_duration_seconds_bucket{{front_end=\"{front_end}\",le=\"{bound}\"}} \
                 {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "lakegate_query_duration_seconds_bucket{{front_end=\"{front_end}\",le=\"+Inf\"}} {}\n\
             lakegate_query_duration_seconds_sum{{front_end=\"{front_end}\"}} {}\n\
             lakegate_query_duration_seconds_count{{front_end=\"{front_end}\"}} {}",
            histogram.count, histogram.sum_secs, histogram.count
        );
    }
}
