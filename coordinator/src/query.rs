//! A query's identity and the result the engine hands a front end.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};

use crate::catalog::{SnapshotId, TableRef};

/// Identifies one query from planning to its last batch (logs, tickets, cancellation).
///
/// A random (v4) UUID whose first 4 bytes are this process's start stamp: a ticket or a
/// result URI naming a query of a coordinator since restarted is told from one that never
/// existed, and the client learns its query was lost rather than that it made it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueryId(uuid::Uuid);

/// Drawn once per process.
fn start_stamp() -> [u8; 4] {
    static STAMP: std::sync::OnceLock<[u8; 4]> = std::sync::OnceLock::new();
    *STAMP.get_or_init(rand::random)
}

impl QueryId {
    pub fn new() -> Self {
        let mut bytes: [u8; 16] = rand::random();
        bytes[..4].copy_from_slice(&start_stamp());
        Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    /// Whether this process made the id (so a query it does not know ended or expired here,
    /// rather than with a coordinator that restarted).
    pub fn began_here(&self) -> bool {
        self.0.as_bytes()[..4] == start_stamp()
    }

    /// The 16 bytes of the id, for binary handles such as Flight tickets.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        uuid::Uuid::from_slice(bytes).ok().map(Self)
    }
}

impl std::str::FromStr for QueryId {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(text).map(Self)
    }
}

impl Default for QueryId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for QueryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A planned statement, ready to stream. Planning (and so snapshot pinning and file planning)
/// is done; rows are produced as `stream` is polled.
pub struct QueryResult {
    pub id: QueryId,
    pub schema: SchemaRef,
    pub stream: SendableRecordBatchStream,
    /// The physical plan being run; its metrics fill in as the stream is consumed.
    pub plan: Option<Arc<dyn ExecutionPlan>>,
    /// Every table the query reads, at the snapshot it reads.
    pub snapshots: Vec<(TableRef, Option<SnapshotId>)>,
}

impl fmt::Debug for QueryResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryResult")
            .field("id", &self.id)
            .field("schema", &self.schema)
            .field("snapshots", &self.snapshots)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_tell_this_process_from_another() {
        let id = QueryId::new();
        assert!(id.began_here());
        assert_ne!(id, QueryId::new());
        assert_eq!(id.to_string().parse::<QueryId>().ok(), Some(id));
        let mut other = *id.as_bytes();
        other[0] ^= 0xff;
        let other = QueryId::from_bytes(&other).expect("16 bytes");
        assert!(!other.began_here());
    }
}
