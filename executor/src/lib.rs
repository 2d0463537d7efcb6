//! lakegate executor: where the lake is read.
//!
//! * [`scan`]: the Iceberg scan node, planned on the coordinator against a pinned snapshot and
//!   executed wherever its splits land.
//! * [`codec`]: the `PhysicalExtensionCodec` that carries the scan inside serialised plans.
//! * [`worker`]: the executor runtime, a datafusion-distributed worker reporting to the
//!   coordinator; [`tracking`] counts the fragments it runs and [`memory`] gives each query
//!   one memory pool; [`flight`] answers Arrow Flight `health` and `identity` actions;
//!   [`net`] accepts connections as every lakegate server wants them.

pub mod codec;
pub mod error;
pub mod flight;
pub mod memory;
pub mod net;
pub mod scan;
pub mod tls_channels;
pub mod tracking;
pub mod worker;

pub use codec::IcebergScanCodec;
pub use error::ScanError;
pub use scan::IcebergScanExec;
pub use worker::{ExecutorHandle, ExecutorOptions, run_executor};
