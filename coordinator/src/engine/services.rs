//! Narrow services the front ends use besides running statements: browsing the catalog as a
//! session may see it, listing and cancelling queries, and the coordinator's health.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::CatalogProvider;

use super::Engine;
use crate::auth::Principal;
use crate::cache::CacheStats;
use crate::catalog::{LakeCatalogProvider, Listing, TableRef, visible_listing};
use crate::error::EngineError;
use crate::query::QueryId;
use crate::registry::ExecutorInfo;
use crate::session::Session;
use crate::tracker::{CancelOutcome, QueryInfo, QueryMetrics, QueryTracker};

/// The lake as one session may see it: Flight SQL metadata, HTTP browsing and (through the
/// same access view) `information_schema` and `pg_catalog` list the same catalogs, schemas
/// and tables, filtered by access control in one place.
pub struct CatalogBrowser<'a> {
    engine: &'a Engine,
    session: &'a Session,
}

impl CatalogBrowser<'_> {
    /// The catalogs of the lake a session browses.
    pub fn catalogs(&self) -> Vec<String> {
        vec![self.engine.lake.name().to_string()]
    }

    /// Whether `catalog` is one the session can browse.
    pub fn has_catalog(&self, catalog: &str) -> bool {
        catalog == self.engine.lake.name()
    }

    /// The lake's schemas and tables the session's user may read.
    pub async fn listing(&self) -> Result<Listing, EngineError> {
        let engine = self.engine;
        let listing = engine.lake.listing().await?;
        Ok(visible_listing(
            &listing,
            engine.lake.name(),
            &engine.access_view(&self.session.vars()),
        ))
    }

    /// The columns of lake table `table` as `session`'s user reads them (hidden columns left
    /// out), or `None` for a table that does not exist (metadata tables are not lake tables);
    /// a table the user may not read is refused, naming it.
    pub async fn columns(&self, table: &TableRef) -> Result<Option<SchemaRef>, EngineError> {
        let engine = self.engine;
        let vars = self.session.vars();
        let listing = engine.lake.listing().await?;
        let exists = listing
            .schemas
            .get(&table.schema)
            .is_some_and(|tables| tables.contains(&table.table));
        if !exists {
            return Ok(None);
        }
        let provider = LakeCatalogProvider::new(
            engine.lake.clone(),
            listing,
            Arc::default(),
            vars.max_staleness(),
        )
        .with_access(engine.access_view(&vars));
        let Some(schema) = provider.schema(&table.schema) else {
            return Ok(None);
        };
        let resolved = schema
            .table(&table.table)
            .await
            .map_err(EngineError::planning)?;
        Ok(resolved.map(|t| t.schema()))
    }
}

/// Running and recent queries of every client: listing, details, cancelling, counts.
#[derive(Clone)]
pub struct QueryAdmin(Arc<QueryTracker>);

impl QueryAdmin {
    pub fn list(&self) -> Vec<QueryInfo> {
        self.0.list()
    }

    pub fn get(&self, id: QueryId) -> Option<QueryInfo> {
        self.0.get(id)
    }

    /// Cancels query `id` if `caller` owns it or is an `operator`.
    pub fn cancel(&self, id: QueryId, caller: &Principal, operator: bool) -> CancelOutcome {
        self.0.cancel(id, caller, operator)
    }

    pub fn metrics(&self) -> QueryMetrics {
        self.0.metrics()
    }
}

/// The coordinator's state as probes and metrics report it.
#[derive(Debug, Clone)]
pub struct Health {
    /// Stopping (SIGTERM): new queries are refused.
    pub stopping: bool,
    /// Queries planned and not yet finished.
    pub running: usize,
    /// Executors that take work, when queries are distributed.
    pub executors: Option<usize>,
    /// Every executor heard from (draining ones too), with the work it reports.
    pub executor_details: Vec<ExecutorInfo>,
    /// Times each executor (by URL) was lost under a query.
    pub executor_losses: Vec<(String, u64)>,
    /// Queries rerun after a lost or hung executor: `(before any row was sent, after)`.
    pub reruns: (u64, u64),
    /// Data files the scans of planned queries read, and those planning left out.
    pub scan_files: (u64, u64),
    /// Rows and data-file bytes read by scans that ran in the coordinator itself.
    pub local_scan_reads: (u64, u64),
    /// The result cache's counters, when it is on.
    pub cache: Option<CacheStats>,
}

impl Health {
    /// Whether new queries are taken; `Err` says why not.
    pub fn ready(&self) -> Result<(), &'static str> {
        if self.stopping {
            return Err("stopping: this coordinator takes no new queries");
        }
        if self.executors == Some(0) {
            return Err("no executor is registered yet");
        }
        Ok(())
    }
}

impl Engine {
    /// The lake as `session` may see it.
    pub fn browse<'a>(&'a self, session: &'a Session) -> CatalogBrowser<'a> {
        CatalogBrowser {
            engine: self,
            session,
        }
    }

    /// Running and recent queries.
    pub fn queries(&self) -> QueryAdmin {
        QueryAdmin(self.tracker.clone())
    }

    pub fn health(&self) -> Health {
        Health {
            stopping: self.lifecycle.is_stopping(),
            running: self.lifecycle.running(),
            executors: self.registry().map(|r| r.placement().len()),
            executor_details: self.registry().map(|r| r.executors()).unwrap_or_default(),
            executor_losses: self.registry().map(|r| r.losses()).unwrap_or_default(),
            reruns: self.reruns.counts(),
            scan_files: self.scans.counts(),
            local_scan_reads: (self.local_scans.rows_read(), self.local_scans.bytes_read()),
            cache: self.cache.as_ref().map(|c| c.stats()),
        }
    }
}
