//! lakegate executor: where the lake is read.
//!
//! * [`scan`]: the Iceberg scan node, planned on the coordinator against a pinned snapshot and
//!   executed wherever its splits land.
//! * [`codec`]: the `PhysicalExtensionCodec` that carries the scan inside serialised plans.

pub mod codec;
pub mod error;
pub mod scan;

pub use codec::IcebergScanCodec;
pub use error::ScanError;
pub use scan::IcebergScanExec;
