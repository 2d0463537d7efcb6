//! A read's way through the cache: a stored answer found before planning, then, once planned,
//! a stored answer, an identical running query to join, or the lead of a new run.

use std::future::Future;
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::sql::parser::Statement as DfStatement;

use super::{CacheKey, CachedResult, Leader, Lookup, ResultCache, StatementKey, cacheable};
use crate::catalog::{SnapshotId, TableRef};
use crate::session::{CacheMode, SessionVars};

/// The snapshots of a statement's tables, and the key part of what the caller may read of
/// them.
pub type Current = (Vec<(TableRef, Option<SnapshotId>)>, String);

/// One read's use of the cache, made when the session's cache mode lets it use one.
pub struct ReadThrough {
    cache: Arc<ResultCache>,
    statement: StatementKey,
    mode: CacheMode,
}

/// What a planned read found.
pub enum Planned {
    /// A complete result.
    Stored(Arc<CachedResult>),
    /// The batches of an identical query running now.
    Joined(SendableRecordBatchStream),
    /// Nothing: this read runs, for everyone asking the same meanwhile.
    Lead(Leader),
    /// Not to be cached (volatile functions, an unreadable policy).
    Uncached,
}

impl ReadThrough {
    pub fn new(
        cache: Option<&Arc<ResultCache>>,
        statement: &DfStatement,
        params: &[ScalarValue],
        vars: &SessionVars,
    ) -> Option<Self> {
        let mode = vars.cache_mode();
        let cache = cache.filter(|_| mode != CacheMode::Off)?;
        Some(Self {
            cache: cache.clone(),
            statement: StatementKey::new(statement, params, vars),
            mode,
        })
    }

    /// A stored answer to a repeat of a statement planned before, without planning it again:
    /// `current` gives its tables' snapshots now and the caller's policy key (`None` when one
    /// is refused or cannot be loaded: planning then says why).
    pub async fn before_planning<F, Fut>(&self, current: F) -> Option<Arc<CachedResult>>
    where
        F: FnOnce(Arc<Vec<TableRef>>) -> Fut,
        Fut: Future<Output = Option<Current>>,
    {
        if self.mode != CacheMode::On {
            return None;
        }
        let tables = self.cache.tables_of(&self.statement).await?;
        let (snapshots, policy) = current(tables).await?;
        self.cache
            .get(&self.statement.with_snapshots(&snapshots, &policy))
            .await
    }

    /// The cache's answer for the read planned as `plan`, reading `tables` at `snapshots`
    /// under `policy`.
    pub async fn after_planning(
        self,
        plan: &LogicalPlan,
        tables: Vec<TableRef>,
        snapshots: &[(TableRef, Option<SnapshotId>)],
        policy: Option<String>,
    ) -> Planned {
        let Some(policy) = policy.filter(|_| cacheable(plan)) else {
            return Planned::Uncached;
        };
        let key: CacheKey = self.statement.with_snapshots(snapshots, &policy);
        self.cache.learn_tables(self.statement, tables).await;
        let schema = Arc::new(plan.schema().as_arrow().clone());
        match self
            .cache
            .lookup(&key, self.mode == CacheMode::On, schema)
            .await
        {
            Lookup::Hit(hit) => Planned::Stored(hit),
            Lookup::Joined(_, stream) => Planned::Joined(stream),
            Lookup::Lead(lead) => Planned::Lead(lead),
        }
    }
}
