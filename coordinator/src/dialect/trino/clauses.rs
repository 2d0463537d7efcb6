//! Trino query clauses DataFusion 54 does not plan, rewritten in the parsed query:
//! `FETCH FIRST n ROWS ONLY` as `LIMIT n` (DataFusion refuses every `FETCH`), and the column
//! names of `WITH RECURSIVE t(n) AS (base UNION ALL step)` put on the base term, since
//! DataFusion resolves the step's `n` before it applies a CTE's column list.
//! `ORDER BY k FETCH FIRST n ROWS WITH TIES` keeps the rows ranked at most `n` (plus the
//! offset) by `rank() OVER (ORDER BY k)`: a row ties with the n-th exactly when its rank is
//! at most n, since rank counts the rows strictly before it.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, LimitClause, OrderByExpr, OrderByKind, Query, Select, SelectItem, SetExpr, Statement,
    TableFactor, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::syntax::parse_query;

pub fn rewrite(statement: &mut Statement) {
    let _ = statement.visit(&mut Clauses);
}

struct Clauses;

impl VisitorMut for Clauses {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        fetch_as_limit(query);
        fetch_with_ties(query);
        if let Some(with) = query.with.as_mut().filter(|w| w.recursive) {
            for cte in &mut with.cte_tables {
                if cte.alias.columns.is_empty() {
                    continue;
                }
                let names: Vec<String> = cte
                    .alias
                    .columns
                    .iter()
                    .map(|c| c.name.to_string())
                    .collect();
                if name_base_term(&mut cte.query.body, &names) {
                    cte.alias.columns.clear();
                }
            }
        }
        ControlFlow::Continue(())
    }
}

fn fetch_as_limit(query: &mut Query) {
    let Some(fetch) = query.fetch.as_ref() else {
        return;
    };
    if fetch.with_ties || fetch.percent {
        return;
    }
    let quantity = fetch
        .quantity
        .clone()
        .unwrap_or_else(|| Expr::value(Value::Number("1".into(), false)));
    match query.limit_clause.as_mut() {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(quantity),
                offset: None,
                limit_by: Vec::new(),
            });
        }
        Some(LimitClause::LimitOffset {
            limit: limit @ None,
            ..
        }) => *limit = Some(quantity),
        // A query with both a LIMIT and a FETCH is left for DataFusion to refuse.
        Some(_) => return,
    }
    query.fetch = None;
}

/// The column a `WITH TIES` rewrite ranks rows by; the outer query leaves it out.
const RANK: &str = "__lg_rank";

/// `body ORDER BY k [OFFSET o] FETCH FIRST n ROWS WITH TIES` as
/// `SELECT * EXCLUDE (rank) FROM (body + rank() OVER (ORDER BY k)) WHERE rank <= o + n
/// ORDER BY rank [OFFSET o]`. A query this cannot read (no ORDER BY, a LIMIT too, ordinals
/// over a body that is not a plain SELECT) is left for DataFusion to refuse.
fn fetch_with_ties(query: &mut Query) {
    let Some(fetch) = query.fetch.as_ref().filter(|f| f.with_ties && !f.percent) else {
        return;
    };
    let Some(OrderByKind::Expressions(keys)) = query.order_by.as_ref().map(|o| &o.kind) else {
        return;
    };
    let offset = match &query.limit_clause {
        None => None,
        Some(LimitClause::LimitOffset {
            limit: None,
            offset,
            limit_by,
        }) if limit_by.is_empty() => offset.as_ref().map(|o| o.value.clone()),
        Some(_) => return,
    };
    let count = fetch
        .quantity
        .as_ref()
        .map_or_else(|| "1".to_string(), ToString::to_string);
    let Some(mut ranked) = ranked_body(&query.body, keys) else {
        return;
    };
    let bound = match &offset {
        Some(o) => format!("({o}) + ({count})"),
        None => count,
    };
    let offset_sql = offset.map(|o| format!(" OFFSET {o}")).unwrap_or_default();
    let sql = format!(
        "SELECT * EXCLUDE ({RANK}) FROM (SELECT 1) AS __lg_ties \
         WHERE {RANK} <= {bound} ORDER BY {RANK}{offset_sql}"
    );
    let Ok(mut outer) = Parser::new(&GenericDialect {})
        .try_with_sql(&sql)
        .and_then(|mut parser| parser.parse_query())
    else {
        return;
    };
    let SetExpr::Select(select) = outer.body.as_mut() else {
        return;
    };
    let Some(TableFactor::Derived { subquery, .. }) =
        select.from.first_mut().map(|from| &mut from.relation)
    else {
        return;
    };
    std::mem::swap(subquery.body.as_mut(), &mut ranked);
    outer.with = query.with.take();
    *query = *outer;
}

/// The query's body with the rank column added: to its select list when it is a plain
/// `SELECT` (the keys may name its input and its aliases), else over it as a derived table.
fn ranked_body(body: &SetExpr, keys: &[OrderByExpr]) -> Option<SetExpr> {
    match body {
        SetExpr::Select(select) if select.distinct.is_none() => {
            let keys: Vec<String> = keys
                .iter()
                .map(|key| {
                    let mut key = key.clone();
                    key.expr = select_expr(select, &key.expr)?;
                    Some(key.to_string())
                })
                .collect::<Option<_>>()?;
            let item = parse_select_item(&keys)?;
            let mut select = select.clone();
            select.projection.push(item);
            Some(SetExpr::Select(select))
        }
        _ => {
            if keys.iter().any(
                |k| matches!(k.expr, Expr::Value(ref v) if matches!(v.value, Value::Number(..))),
            ) {
                return None;
            }
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            let sql = format!(
                "SELECT *, rank() OVER (ORDER BY {}) AS {RANK} FROM ({body}) AS __lg_body",
                keys.join(", ")
            );
            Some(*parse_query(&sql)?.body)
        }
    }
}

/// An ORDER BY key as the select's own expression: an ordinal or an output alias becomes
/// the expression it names; anything else names the select's input already.
fn select_expr(select: &Select, key: &Expr) -> Option<Expr> {
    let item_expr = |item: &SelectItem| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e.clone()),
        _ => None,
    };
    match key {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => {
                let index: usize = n.parse().ok()?;
                item_expr(select.projection.get(index.checked_sub(1)?)?)
            }
            _ => Some(key.clone()),
        },
        Expr::Identifier(name) => Some(
            select
                .projection
                .iter()
                .find_map(|item| match item {
                    SelectItem::ExprWithAlias { expr, alias }
                        if alias.value.eq_ignore_ascii_case(&name.value) =>
                    {
                        Some(expr.clone())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| key.clone()),
        ),
        _ => Some(key.clone()),
    }
}

fn parse_select_item(keys: &[String]) -> Option<SelectItem> {
    let sql = format!(
        "SELECT rank() OVER (ORDER BY {}) AS {RANK}",
        keys.join(", ")
    );
    match *parse_query(&sql)?.body {
        SetExpr::Select(mut select) => select.projection.pop(),
        _ => None,
    }
}

/// `base UNION [ALL] step` with `base` as `SELECT * FROM (base) AS _base(names)`; whether
/// the body had that shape.
fn name_base_term(body: &mut SetExpr, names: &[String]) -> bool {
    let SetExpr::SetOperation { left, .. } = body else {
        return false;
    };
    let sql = format!("SELECT * FROM ({left}) AS _base({})", names.join(", "));
    let Some(named) = parse_query(&sql) else {
        return false;
    };
    **left = *named.body;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        super::super::rewritten_by(sql, rewrite)
    }

    #[test]
    fn fetch_and_recursive_column_names() {
        assert_eq!(
            rewritten("SELECT a FROM t ORDER BY a FETCH FIRST 3 ROWS ONLY"),
            "SELECT a FROM t ORDER BY a LIMIT 3"
        );
        assert_eq!(
            rewritten("SELECT a FROM t OFFSET 2 ROWS FETCH NEXT ROW ONLY"),
            "SELECT a FROM t LIMIT 1 OFFSET 2 ROWS"
        );
        assert_eq!(
            rewritten("SELECT a AS k, b FROM t ORDER BY k DESC FETCH FIRST 2 ROWS WITH TIES"),
            "SELECT * EXCLUDE (__lg_rank) FROM (SELECT a AS k, b, rank() OVER (ORDER BY a DESC) \
             AS __lg_rank FROM t) AS __lg_ties WHERE __lg_rank <= 2 ORDER BY __lg_rank"
        );
        assert_eq!(
            rewritten(
                "SELECT a FROM t UNION SELECT b FROM u ORDER BY a OFFSET 1 FETCH FIRST ROW WITH TIES"
            ),
            "SELECT * EXCLUDE (__lg_rank) FROM (SELECT *, rank() OVER (ORDER BY a) AS __lg_rank \
             FROM (SELECT a FROM t UNION SELECT b FROM u) AS __lg_body) AS __lg_ties \
             WHERE __lg_rank <= (1) + (1) ORDER BY __lg_rank OFFSET 1"
        );
        // A LIMIT beside WITH TIES stays for DataFusion to refuse.
        assert!(
            rewritten("SELECT a FROM t ORDER BY a LIMIT 3 FETCH FIRST ROW WITH TIES")
                .contains("TIES")
        );
        assert_eq!(
            rewritten(
                "WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 4) \
                 SELECT sum(n) FROM t"
            ),
            "WITH RECURSIVE t AS (SELECT * FROM (VALUES (1)) AS _base (n) UNION ALL \
             SELECT n + 1 FROM t WHERE n < 4) SELECT sum(n) FROM t"
        );
    }
}
