//! Which snapshot a [`TableVersion`] names in a table's metadata.

use iceberg::spec::TableMetadata;

use super::name::TableVersion;
use super::{CatalogError, SnapshotId, TableRef};

/// The snapshot `version` reads; `None` for the current version of a table never written.
///
/// A snapshot id must still be in the metadata (not expired); a name must be a branch or a tag;
/// a timestamp reads the snapshot that was current then, from the table's snapshot log (as
/// Trino and Spark do), so a snapshot committed on a branch never counts.
pub fn resolve_version(
    table: &TableRef,
    metadata: &TableMetadata,
    version: &TableVersion,
) -> Result<Option<SnapshotId>, CatalogError> {
    let unknown = |detail: String| CatalogError::UnknownVersion {
        table: table.clone(),
        version: version.clone(),
        detail,
    };
    match version {
        TableVersion::Current => Ok(metadata.current_snapshot_id().map(SnapshotId)),
        TableVersion::Snapshot(id) => metadata
            .snapshot_by_id(*id)
            .map(|s| Some(SnapshotId(s.snapshot_id())))
            .ok_or_else(|| unknown("no such snapshot (it may have been expired)".into())),
        TableVersion::Ref(name) => metadata
            .snapshot_for_ref(name)
            .map(|s| Some(SnapshotId(s.snapshot_id())))
            .ok_or_else(|| unknown("no branch or tag has that name".into())),
        TableVersion::AsOf(millis) => {
            let current_then = metadata
                .history()
                .iter()
                .filter(|entry| entry.timestamp_ms <= *millis)
                .max_by_key(|entry| entry.timestamp_ms)
                .ok_or_else(|| unknown("the table has no snapshot that old".into()))?;
            metadata
                .snapshot_by_id(current_then.snapshot_id)
                .map(|s| Some(SnapshotId(s.snapshot_id())))
                .ok_or_else(|| {
                    unknown(format!(
                        "snapshot {} was current then but has been expired",
                        current_then.snapshot_id
                    ))
                })
        }
    }
}
