//! What decides a cached answer, and which statements may be cached at all.

use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::sql::parser::Statement as DfStatement;

use crate::auth::Principal;
use crate::catalog::{SnapshotId, TableRef};
use crate::session::SessionVars;

/// Everything a result depends on, as one string: compared whole, so two different queries
/// never share an entry by a hash collision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key of `statement` (already parsed: the re-printed AST drops whitespace, comments
    /// and keyword case) run with `params` in `vars` by `principal`, reading `snapshots`.
    pub fn new(
        statement: &DfStatement,
        params: &[ScalarValue],
        vars: &SessionVars,
        principal: &Principal,
        snapshots: &[(TableRef, Option<SnapshotId>)],
    ) -> Self {
        // Settings that only steer the cache itself do not change the answer.
        let settings: Vec<_> = vars
            .settings
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "cache" | "max_staleness"))
            .collect();
        let params: Vec<String> = params.iter().map(|p| format!("{p:?}")).collect();
        let snapshots: Vec<String> = snapshots
            .iter()
            .map(|(table, snapshot)| format!("{table}@{snapshot:?}"))
            .collect();
        CacheKey(format!(
            "{statement}\u{0}{params:?}\u{0}{}.{}\u{0}{settings:?}\u{0}{}\u{0}{snapshots:?}",
            vars.catalog,
            vars.schema,
            principal.scope(),
        ))
    }
}

/// A plan may be cached when it reads lake tables (others are cheap, and read state no
/// snapshot describes: `information_schema`, `system.*`) and calls no function whose answer
/// can change between calls with the same input (`now()`, `random()`, `uuid()`, ...).
pub fn cacheable(plan: &LogicalPlan, reads_lake: bool) -> bool {
    if !reads_lake {
        return false;
    }
    let mut volatile = false;
    let walked = plan.apply_with_subqueries(|node| {
        volatile |= node
            .expressions()
            .iter()
            .any(|e| e.exists(|e| Ok(is_unstable(e))).unwrap_or(true));
        Ok(if volatile {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    volatile |= walked.is_err();
    !volatile
}

fn is_unstable(expr: &Expr) -> bool {
    match expr {
        Expr::ScalarFunction(f) => f.func.signature().volatility != Volatility::Immutable,
        Expr::AggregateFunction(f) => f.func.signature().volatility == Volatility::Volatile,
        Expr::WindowFunction(_) => false,
        _ => false,
    }
}
