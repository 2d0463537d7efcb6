//! What a query reads, as access control and the audit log see it: the policy of every
//! table it reads (part of its cache key) and the audit line's tables, snapshots and filters.

use std::time::Duration;

use super::Engine;
use crate::access::{AccessView, TableAccess, TablePolicy, fingerprint};
use crate::audit::{AuditPolicy, AuditTable};
use crate::catalog::{SnapshotId, TableRef};
use crate::query::QueryId;

impl Engine {
    /// What `access` lets its user read of each of `tables` (time travel names resolved to
    /// their table); `None` when one is refused or cannot be named.
    async fn read_policies(
        &self,
        access: &AccessView,
        tables: &[TableRef],
    ) -> Option<Vec<(TableRef, TablePolicy)>> {
        let mut policies = Vec::with_capacity(tables.len());
        for table in tables {
            let parsed = self.lake.parse_name(table).await.ok()?;
            let base = TableRef::new(&table.catalog, &table.schema, parsed.table());
            match access.table(&base.catalog, &base.schema, &base.table) {
                TableAccess::Denied => return None,
                TableAccess::Read(policy) => policies.push((base, policy)),
            }
        }
        Some(policies)
    }

    /// What `access` lets its user read of each of `tables`, as a cache key part.
    pub(super) async fn policy_key(
        &self,
        access: &AccessView,
        tables: &[TableRef],
    ) -> Option<String> {
        let policies = self.read_policies(access, tables).await?;
        Some(fingerprint(&policies))
    }

    /// Records in the audit log's entry for query `id` what it read, at which snapshots, and
    /// under which filters and masks.
    pub(super) async fn audit_reads(
        &self,
        id: QueryId,
        access: &AccessView,
        snapshots: &[(TableRef, Option<SnapshotId>)],
    ) {
        let tables: Vec<AuditTable> = snapshots
            .iter()
            .map(|(table, snapshot)| AuditTable {
                table: table.to_string(),
                snapshot: snapshot.map(|s| s.0),
            })
            .collect();
        let read: Vec<TableRef> = snapshots.iter().map(|(t, _)| t.clone()).collect();
        let policies = self.read_policies(access, &read).await.unwrap_or_default();
        let mut filters: Vec<AuditPolicy> = policies
            .into_iter()
            .filter(|(_, policy)| !policy.is_unrestricted())
            .map(|(table, policy)| AuditPolicy {
                table: table.to_string(),
                policy: policy.describe(),
            })
            .collect();
        filters.dedup();
        self.tracker.annotate(id, |details| {
            details.tables = tables;
            details.filters = filters;
        });
    }

    /// The snapshot a query planned now would pin for each of `tables`; `None` if one cannot
    /// be loaded (planning then reports why).
    pub(super) async fn current_snapshots(
        &self,
        tables: &[TableRef],
        max_age: Duration,
    ) -> Option<Vec<(TableRef, Option<SnapshotId>)>> {
        let mut snapshots = Vec::with_capacity(tables.len());
        for table in tables {
            let (_, snapshot) = self.lake.pin(table, max_age).await.ok()?;
            snapshots.push((table.clone(), snapshot));
        }
        Some(snapshots)
    }
}
