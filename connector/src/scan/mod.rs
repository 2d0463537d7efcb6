//! The Iceberg scan: planning files against a pinned snapshot, the splits that carry them, and
//! the execution node that reads them with iceberg's Arrow reader and applies their deletes.

mod delete_index;
mod deletes;
mod distribute;
mod exec;
mod file_read;
mod file_stat;
mod hidden;
mod plan;
mod predicate;
mod read;
mod schema;
mod split;

pub use delete_index::DeleteIndex;
pub use deletes::decode_vector;
pub use distribute::{IcebergScanOptions, desired_task_count, scale_up};
pub use exec::{IcebergScanExec, IcebergScanParts};
pub use hidden::HiddenColumn;
pub use plan::{ScanRequest, plan_scan};
pub use predicate::to_iceberg_predicate;
pub use schema::{arrow_schema, arrow_schema_with_hidden, field_ids_at, projected_arrow_schema};
pub use split::{ScanContext, balance_by_bytes, split_from_task, task_from_split};
