//! How the distributed planner spreads an Iceberg scan over tasks: how many tasks a scan wants
//! (by bytes, at most one per file) and which splits each task reads (balanced by bytes).

use std::sync::Arc;

use datafusion::common::extensions_options;
use datafusion::config::ConfigExtension;
use datafusion::error::Result;
use datafusion_distributed::{
    DesiredTaskCountEvent, DesiredTaskCountEventResponse, ScaleUpLeafNodeEvent,
    ScaleUpLeafNodeEventResponse,
};

use crate::scan::exec::IcebergScanExec;
use crate::scan::split::balance_by_bytes;

extensions_options! {
    /// Session options of the Iceberg scan (`SET iceberg_scan.bytes_per_task = ...`).
    pub struct IcebergScanOptions {
        /// Bytes of data files one task of a scan should read.
        pub bytes_per_task: usize, default = 64 * 1024 * 1024
    }
}

impl ConfigExtension for IcebergScanOptions {
    const PREFIX: &'static str = "iceberg_scan";
}

/// A scan wants one task per `bytes_per_task` of data files, and never more tasks than files.
pub fn desired_task_count(
    event: DesiredTaskCountEvent,
) -> Option<Result<DesiredTaskCountEventResponse>> {
    let scan = event.plan.downcast_ref::<IcebergScanExec>()?;
    let bytes_per_task = event
        .session_config
        .options()
        .extensions
        .get::<IcebergScanOptions>()
        .map_or(IcebergScanOptions::default().bytes_per_task, |o| {
            o.bytes_per_task
        })
        .max(1) as u64;
    let bytes: u64 = scan.splits().map(|s| s.length).sum();
    let tasks = (bytes.div_ceil(bytes_per_task) as usize).clamp(1, scan.file_count().max(1));
    Some(Ok(DesiredTaskCountEventResponse::desired(tasks)))
}

/// Gives each of the stage's tasks its share of the splits, balanced by bytes, each share spread
/// over the scan's output partitions.
pub fn scale_up(event: ScaleUpLeafNodeEvent) -> Option<Result<ScaleUpLeafNodeEventResponse>> {
    let scan = event.plan.downcast_ref::<IcebergScanExec>()?;
    let splits = scan.splits().cloned().collect();
    let partitions = scan.partition_count();
    let tasks = balance_by_bytes(splits, event.task_count)
        .into_iter()
        .map(|share| balance_by_bytes(share, partitions))
        .collect();
    Some(Ok(ScaleUpLeafNodeEventResponse::new(Arc::new(
        scan.with_tasks(tasks),
    ))))
}
