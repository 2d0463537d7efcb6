//! lakegate executor: the worker runtime that runs plan fragments where the lake is read.
//!
//! * [`worker`]: a datafusion-distributed worker reporting to the coordinator, decoding the
//!   scans of [`lakegate_iceberg`] with its own storage access.
//! * [`cpu`]: the runtime plans run on, apart from the one serving the network.
//! * [`memory`]: one memory pool per query; [`flight`]: Arrow Flight `health` and `identity`
//!   actions.

pub mod cpu;
mod flight;
mod memory;
pub mod worker;

pub use cpu::CpuRuntime;
pub use worker::{ExecutorHandle, ExecutorOptions, WorkerTls, run_executor};
