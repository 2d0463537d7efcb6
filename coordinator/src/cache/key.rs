//! What decides a cached answer, and which statements may be cached at all.

use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use std::ops::ControlFlow;

use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, Ident, ObjectName, ObjectNamePart, visit_expressions_mut, visit_relations_mut,
};

use crate::catalog::{IcebergTableProvider, SnapshotId, TableRef};
use crate::session::SessionVars;

/// Everything a result depends on, as one string: compared whole, so two different queries
/// never share an entry by a hash collision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

/// The part of a key known before planning: the statement (already parsed: the re-printed AST
/// drops whitespace, comments and keyword case), its parameters, the settings that change
/// answers, the default catalog and schema, and the user when the statement names them
/// (`current_user`). With the snapshots of the tables the statement reads and what the
/// caller may read of them it makes the [`CacheKey`]: users share a cached answer exactly
/// when they would read the same rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatementKey(String);

impl StatementKey {
    pub fn new(statement: &DfStatement, params: &[ScalarValue], vars: &SessionVars) -> Self {
        // Settings that only steer the cache itself do not change the answer.
        let settings: Vec<_> = vars
            .settings
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "cache" | "max_staleness"))
            .collect();
        let params: Vec<String> = params.iter().map(|p| format!("{p:?}")).collect();
        let text = normalized(statement);
        let user = if names_user(&text) {
            vars.user.as_str()
        } else {
            ""
        };
        // The dialect decides how names resolve (PostgreSQL sessions also see `pg_catalog`).
        StatementKey(format!(
            "{text}\u{0}{params:?}\u{0}{}.{}\u{0}{settings:?}\u{0}{user}\u{0}{}",
            vars.catalog, vars.schema, vars.dialect,
        ))
    }

    /// The key of this statement reading `snapshots`, the caller reading them under `policy`
    /// (see [`crate::access::AccessView::fingerprint`]).
    pub fn with_snapshots(
        &self,
        snapshots: &[(TableRef, Option<SnapshotId>)],
        policy: &str,
    ) -> CacheKey {
        let snapshots: Vec<String> = snapshots
            .iter()
            .map(|(table, snapshot)| format!("{table}@{snapshot:?}"))
            .collect();
        CacheKey(format!("{}\u{0}{snapshots:?}\u{0}{policy}", self.0))
    }
}

/// Whether a statement's answer may depend on who asks it (`current_user`, `session_user`,
/// `user`): then the user is part of its key. Matched on words of the normalized text, which
/// may over-match (a column named `user`) and so only costs sharing, never correctness.
fn names_user(normalized: &str) -> bool {
    normalized
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| {
            matches!(
                word.to_ascii_lowercase().as_str(),
                "current_user" | "session_user" | "user" | "current_role"
            )
        })
}

/// The statement as the parser re-prints it, unquoted identifiers (columns, tables, function
/// names) folded to lower case as SQL resolves them: `COUNT(*)` and `count(*)` are one query.
/// Aliases keep their case, since they name the result's columns.
fn normalized(statement: &DfStatement) -> String {
    let mut statement = statement.clone();
    if let DfStatement::Statement(inner) = &mut statement {
        let _ = visit_expressions_mut(inner.as_mut(), |expr| {
            match expr {
                SqlExpr::Identifier(ident) => fold(ident),
                SqlExpr::CompoundIdentifier(idents) => idents.iter_mut().for_each(fold),
                SqlExpr::Function(function) => fold_name(&mut function.name),
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        let _ = visit_relations_mut(inner.as_mut(), |name| {
            fold_name(name);
            ControlFlow::<()>::Continue(())
        });
    }
    statement.to_string()
}

fn fold(ident: &mut Ident) {
    if ident.quote_style.is_none() {
        ident.value = ident.value.to_lowercase();
    }
}

fn fold_name(name: &mut ObjectName) {
    for part in &mut name.0 {
        if let ObjectNamePart::Identifier(ident) = part {
            fold(ident);
        }
    }
}

/// A plan may be cached when it reads lake tables and nothing else (other tables are cheap and
/// hold state no snapshot describes: `information_schema`, `system.*`, metadata tables such as
/// `"t$refs"`, which change without a new snapshot) and calls no function whose answer can
/// change between calls with the same input (`now()`, `random()`, `uuid()`, ...).
pub fn cacheable(plan: &LogicalPlan) -> bool {
    let mut reads_lake = false;
    let mut volatile = false;
    let walked = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let lake = source_as_provider(&scan.source)
                .is_ok_and(|p| p.downcast_ref::<IcebergTableProvider>().is_some());
            reads_lake |= lake;
            volatile |= !lake;
        }
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
    reads_lake && !volatile
}

fn is_unstable(expr: &Expr) -> bool {
    match expr {
        Expr::ScalarFunction(f) => f.func.signature().volatility != Volatility::Immutable,
        Expr::AggregateFunction(f) => f.func.signature().volatility == Volatility::Volatile,
        Expr::WindowFunction(_) => false,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::parser::DFParser;

    use super::*;

    fn key(sql: &str) -> String {
        normalized(&DFParser::parse_sql(sql).unwrap().pop_front().unwrap())
    }

    #[test]
    fn spelling_does_not_change_the_key_but_meaning_does() {
        let a = key("SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1");
        let b = key("select L_RETURNFLAG,\n  COUNT(*) -- comment\nFROM LineItem group by 1");
        assert_eq!(a, b);
        assert_ne!(
            a,
            key("SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1 LIMIT 1")
        );
        assert_ne!(
            key("SELECT 1 AS A"),
            key("SELECT 1 AS a"),
            "aliases name columns"
        );
        assert_ne!(
            key("SELECT \"X\" FROM t"),
            key("SELECT x FROM t"),
            "quoted keeps case"
        );
    }
}
