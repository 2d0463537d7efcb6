//! lakegate's Iceberg connector: what the coordinator plans and executors run to read the lake.
//!
//! * [`scan`]: the Iceberg scan node, planned on the coordinator against a pinned snapshot
//!   (files, splits, deletes) and executed wherever its splits land.
//! * [`codec`]: the `PhysicalExtensionCodec` that carries the scan inside serialised plans.
//! * [`tracking`]: counting the scan streams an executor serves.

pub mod codec;
pub mod error;
pub mod scan;
pub mod tracking;

pub use codec::IcebergScanCodec;
pub use error::ScanError;
pub use scan::IcebergScanExec;
pub use tracking::RunningTasks;
