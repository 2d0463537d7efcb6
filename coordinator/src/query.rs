//! A query's identity and the result the engine hands a front end.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};

use crate::catalog::{SnapshotId, TableRef};

/// Identifies one query from planning to its last batch (logs, tickets, cancellation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueryId(uuid::Uuid);

impl QueryId {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
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
