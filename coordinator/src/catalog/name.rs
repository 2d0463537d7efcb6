//! Table names that say more than which table: Trino's metadata tables (`"orders$snapshots"`)
//! and a table read at another version.
//!
//! DataFusion resolves every table of a query by name through the catalog before planning, so
//! what SQL says about a table reference travels in its name. `orders FOR VERSION AS OF 7` is
//! rewritten (see [`crate::time_travel`]) to the name `"orders$version=7"`, which resolves here
//! to `orders` pinned at snapshot 7; each spelling is its own pin, so one query can join a
//! table with its own past.

use std::fmt;

/// Which version of a table a reference reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableVersion {
    /// The snapshot current when the query resolves the table.
    Current,
    /// `FOR VERSION AS OF 8237489` (a snapshot id).
    Snapshot(i64),
    /// `FOR VERSION AS OF 'audit'` (a branch or a tag).
    Ref(String),
    /// `FOR TIMESTAMP AS OF ...`: the snapshot current at this instant (ms since the epoch).
    AsOf(i64),
}

impl fmt::Display for TableVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableVersion::Current => write!(f, "current version"),
            TableVersion::Snapshot(id) => write!(f, "version {id}"),
            TableVersion::Ref(name) => write!(f, "version '{name}'"),
            TableVersion::AsOf(millis) => match chrono::DateTime::from_timestamp_millis(*millis) {
                Some(at) => write!(f, "timestamp {}", at.format("%Y-%m-%d %H:%M:%S%.3f UTC")),
                None => write!(f, "timestamp {millis} ms"),
            },
        }
    }
}

/// Trino's metadata tables of an Iceberg table (`"t$snapshots"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetadataTable {
    Snapshots,
    History,
    Files,
    Manifests,
    Partitions,
    Refs,
    Properties,
    /// Trino's `SHOW STATS FOR t`.
    Stats,
    /// Trino's `SHOW CREATE TABLE t`.
    Ddl,
}

impl MetadataTable {
    pub const ALL: [MetadataTable; 9] = [
        MetadataTable::Snapshots,
        MetadataTable::History,
        MetadataTable::Files,
        MetadataTable::Manifests,
        MetadataTable::Partitions,
        MetadataTable::Refs,
        MetadataTable::Properties,
        MetadataTable::Stats,
        MetadataTable::Ddl,
    ];

    /// The suffix after `$`.
    pub fn suffix(self) -> &'static str {
        match self {
            MetadataTable::Snapshots => "snapshots",
            MetadataTable::History => "history",
            MetadataTable::Files => "files",
            MetadataTable::Manifests => "manifests",
            MetadataTable::Partitions => "partitions",
            MetadataTable::Refs => "refs",
            MetadataTable::Properties => "properties",
            MetadataTable::Stats => "stats",
            MetadataTable::Ddl => "ddl",
        }
    }

    fn from_suffix(suffix: &str) -> Option<MetadataTable> {
        MetadataTable::ALL
            .into_iter()
            .find(|m| m.suffix() == suffix)
    }
}

/// What a table name asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableName {
    /// Rows of `table` at `version`.
    Data {
        table: String,
        version: TableVersion,
    },
    /// A metadata table of `table`.
    Metadata { table: String, kind: MetadataTable },
}

const VERSION: &str = "version=";
const REF: &str = "ref=";
const TIMESTAMP: &str = "timestamp=";

impl TableName {
    /// Reads a name as SQL gave it. A name without a recognised `$` suffix is a plain table
    /// (a real table whose name contains `$` is looked up by the caller first).
    pub fn parse(name: &str) -> TableName {
        for (at, _) in name.match_indices('$') {
            let (table, suffix) = (&name[..at], &name[at + 1..]);
            if table.is_empty() {
                continue;
            }
            if let Some(kind) = MetadataTable::from_suffix(suffix) {
                return TableName::Metadata {
                    table: table.to_string(),
                    kind,
                };
            }
            let version = if let Some(id) = suffix.strip_prefix(VERSION) {
                id.parse().ok().map(TableVersion::Snapshot)
            } else if let Some(reference) = suffix.strip_prefix(REF) {
                Some(TableVersion::Ref(reference.to_string()))
            } else if let Some(millis) = suffix.strip_prefix(TIMESTAMP) {
                millis.parse().ok().map(TableVersion::AsOf)
            } else {
                None
            };
            if let Some(version) = version {
                return TableName::Data {
                    table: table.to_string(),
                    version,
                };
            }
        }
        TableName::Data {
            table: name.to_string(),
            version: TableVersion::Current,
        }
    }

    /// The table whose data or metadata the name reads.
    pub fn table(&self) -> &str {
        match self {
            TableName::Data { table, .. } | TableName::Metadata { table, .. } => table,
        }
    }

    /// The name that reads `table` at `version`; [`TableName::parse`] reads it back.
    pub fn versioned(table: &str, version: &TableVersion) -> String {
        match version {
            TableVersion::Current => table.to_string(),
            TableVersion::Snapshot(id) => format!("{table}${VERSION}{id}"),
            TableVersion::Ref(name) => format!("{table}${REF}{name}"),
            TableVersion::AsOf(millis) => format!("{table}${TIMESTAMP}{millis}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_through_names() {
        for version in [
            TableVersion::Current,
            TableVersion::Snapshot(-42),
            TableVersion::Ref("audit$branch".into()),
            TableVersion::AsOf(1_700_000_000_123),
        ] {
            let name = TableName::versioned("orders", &version);
            assert_eq!(
                TableName::parse(&name),
                TableName::Data {
                    table: "orders".into(),
                    version
                }
            );
        }
    }

    #[test]
    fn metadata_tables_and_plain_names() {
        assert_eq!(
            TableName::parse("orders$files"),
            TableName::Metadata {
                table: "orders".into(),
                kind: MetadataTable::Files
            }
        );
        for plain in ["orders", "$files", "orders$nothing", "orders$version=x"] {
            assert_eq!(
                TableName::parse(plain),
                TableName::Data {
                    table: plain.into(),
                    version: TableVersion::Current
                }
            );
        }
    }
}
