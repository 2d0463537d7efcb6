//! Trino query clauses DataFusion 54 does not plan, rewritten in the parsed query:
//! `FETCH FIRST n ROWS ONLY` as `LIMIT n` (DataFusion refuses every `FETCH`), and the column
//! names of `WITH RECURSIVE t(n) AS (base UNION ALL step)` put on the base term, since
//! DataFusion resolves the step's `n` before it applies a CTE's column list.
//! `FETCH ... WITH TIES` stays as it is and is refused with DataFusion's error.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, LimitClause, Query, SetExpr, Statement, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::syntax::TrinoSyntax;

pub fn rewrite(statement: &mut Statement) {
    let _ = statement.visit(&mut Clauses);
}

struct Clauses;

impl VisitorMut for Clauses {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        fetch_as_limit(query);
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

/// `base UNION [ALL] step` with `base` as `SELECT * FROM (base) AS _base(names)`; whether
/// the body had that shape.
fn name_base_term(body: &mut SetExpr, names: &[String]) -> bool {
    let SetExpr::SetOperation { left, .. } = body else {
        return false;
    };
    let sql = format!("SELECT * FROM ({left}) AS _base({})", names.join(", "));
    let Ok(named) = Parser::new(&TrinoSyntax)
        .try_with_sql(&sql)
        .and_then(|mut parser| parser.parse_query())
    else {
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
        assert!(rewritten("SELECT a FROM t ORDER BY a FETCH FIRST ROW WITH TIES").contains("TIES"));
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
