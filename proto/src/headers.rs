//! Headers every plan fragment carries from the coordinator to its executors (the cluster
//! secret's is [`crate::cluster_secret::CLUSTER_SECRET_HEADER`]).

/// The query a fragment belongs to: its fragments on one executor share one memory pool.
pub const QUERY_ID_HEADER: &str = "x-lakegate-query-id";
/// Bytes the query may hold on each executor.
pub const MEMORY_LIMIT_HEADER: &str = "x-lakegate-memory-limit";
