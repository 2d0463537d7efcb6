//! lakegate's wire messages.
//!
//! * [`scan`]: an Iceberg scan planned by the coordinator against one pinned snapshot, split into
//!   byte ranges of data files that executors read.
//! * [`registry`]: executors registering with the coordinator and sending heartbeats.

/// Iceberg scan splits (`proto/lakegate/scan.proto`).
pub mod scan {
    include!(concat!(env!("OUT_DIR"), "/lakegate.scan.rs"));
}

/// Executor registration and heartbeats (`proto/lakegate/registry.proto`).
pub mod registry {
    include!(concat!(env!("OUT_DIR"), "/lakegate.registry.rs"));
}
