//! The `lakegate` command: the local cluster, the TPC-H lake writer and the shell client.
//!
//! The server side lives in the workspace crates: `lakegate-coordinator` (front ends, engine,
//! catalog) and `lakegate-executor` (the Iceberg scan).

pub mod local;
pub mod logs;
pub mod shell;
pub mod tpch;
