//! Trino's `UNNEST` in `FROM`, which DataFusion 54 plans only as a standalone table of plain
//! arrays: a lateral `CROSS JOIN UNNEST(t.a) AS u(x)` (or `, UNNEST(...)`, or `LEFT JOIN
//! UNNEST(...) ON TRUE`) has no physical plan, and `WITH ORDINALITY` none at all. Each becomes
//! a derived table that calls `unnest` in its select list, which DataFusion runs row by row:
//! `(SELECT t.*, unnest(t.a) AS x FROM t) AS t`. Several arrays are padded with NULLs to the
//! longest, as Trino pads them; the ordinality is one more `unnest` of `range(1, n + 1)`;
//! a `LEFT JOIN` keeps a row with an empty or NULL array by unnesting `[NULL]` for it.
//! A map or an array of rows unnests into several columns, one `unnest` of
//! `unnest_field(x, i)` each; which argument takes how many of the names is read from the
//! names' count when there is one argument, else from `ARRAY[ROW(...), ...]` literals.
//!
//! The unnested columns join the left relation's name (`t.x` as well as `x`), since the
//! derived table takes that name; the `UNNEST` alias itself names no relation any more.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArguments, Join, JoinConstraint, JoinOperator, Query, SetExpr, TableFactor,
    TableWithJoins, Value, VisitMut, VisitorMut,
};

use super::syntax::parse_table_factor;

/// Rewrites every `UNNEST` relation of `statement` as a derived table.
pub fn rewrite(statement: &mut Statement) {
    let _ = statement.visit(&mut Unnests);
}

struct Unnests;

impl VisitorMut for Unnests {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        set_expr(&mut query.body);
        ControlFlow::Continue(())
    }
}

fn set_expr(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => from(&mut select.from),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr(left);
            set_expr(right);
        }
        _ => {}
    }
}

fn from(relations: &mut Vec<TableWithJoins>) {
    // `FROM t, UNNEST(t.a)`: the comma is a cross join of the lateral kind.
    let mut i = 1;
    while i < relations.len() {
        if matches!(relations[i].relation, TableFactor::UNNEST { .. })
            && relations[i].joins.is_empty()
        {
            let unnest = relations.remove(i);
            relations[i - 1].joins.insert(
                0,
                Join {
                    relation: unnest.relation,
                    global: false,
                    join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
                },
            );
        } else {
            i += 1;
        }
    }
    for relation in relations.iter_mut() {
        with_joins(relation);
    }
}

/// The `UNNEST` of `factor`: its arrays (each with the number of columns it makes when it is
/// a map or an array of rows), output names and whether it counts ordinality.
struct Unnest {
    arrays: Vec<(String, Option<usize>)>,
    names: Vec<String>,
    ordinality: bool,
}

fn unnest_of(factor: &TableFactor) -> Option<(Unnest, Option<String>)> {
    let TableFactor::UNNEST {
        alias,
        array_exprs,
        with_offset: false,
        with_ordinality,
        ..
    } = factor
    else {
        return None;
    };
    let mut names: Vec<String> = alias
        .iter()
        .flat_map(|a| a.columns.iter().map(|c| c.name.to_string()))
        .collect();
    let ordinality = usize::from(*with_ordinality);
    let widths: Vec<Option<usize>> = match array_exprs.as_slice() {
        [_] if names.len() > 1 + ordinality => vec![Some(names.len() - ordinality)],
        many => many.iter().map(row_width).collect(),
    };
    let wanted = widths.iter().map(|w| w.unwrap_or(1)).sum::<usize>() + ordinality;
    if names.len() != wanted {
        if !names.is_empty() {
            // Let DataFusion report the mismatch.
            return None;
        }
        names = (0..wanted).map(|i| format!("_col{i}")).collect();
    }
    let arrays = array_exprs
        .iter()
        .map(ToString::to_string)
        .zip(widths)
        .collect();
    let alias = alias.as_ref().map(|a| a.name.to_string());
    Some((
        Unnest {
            arrays,
            names,
            ordinality: *with_ordinality,
        },
        alias,
    ))
}

/// The number of columns an `UNNEST` argument makes when its text shows it is an array of
/// rows (an `ARRAY[ROW(...), ...]` literal): its first row's fields.
fn row_width(array: &Expr) -> Option<usize> {
    let Expr::Array(array) = array else {
        return None;
    };
    match array.elem.first()? {
        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("row") => match &f.args {
            FunctionArguments::List(list) if !list.args.is_empty() => Some(list.args.len()),
            _ => None,
        },
        Expr::Tuple(fields) if !fields.is_empty() => Some(fields.len()),
        _ => None,
    }
}

impl Unnest {
    /// The select items producing the unnested columns; `keep_empty` unnests `[NULL]` for an
    /// empty or NULL array so its row survives (`LEFT JOIN`).
    fn items(&self, keep_empty: bool) -> String {
        let columns: Vec<String> = self
            .arrays
            .iter()
            .flat_map(|(a, width)| match width {
                None => vec![a.clone()],
                Some(n) => (1..=*n)
                    .map(|i| format!("{}({a}, {i})", lakegate_functions::UNNEST_FIELD))
                    .collect(),
            })
            .collect();
        let arrays: Vec<String> = columns
            .iter()
            .map(|a| {
                if keep_empty {
                    format!("CASE WHEN cardinality({a}) > 0 THEN {a} ELSE ARRAY[NULL] END")
                } else {
                    a.clone()
                }
            })
            .collect();
        let mut items: Vec<String> = arrays
            .iter()
            .zip(&self.names)
            .map(|(a, name)| format!("unnest({a}) AS {name}"))
            .collect();
        if self.ordinality {
            let sizes: Vec<String> = arrays
                .iter()
                .map(|a| format!("CAST(cardinality({a}) AS BIGINT)"))
                .collect();
            let longest = match sizes.as_slice() {
                [one] => one.clone(),
                many => format!("greatest({})", many.join(", ")),
            };
            let name = self.names.last().map_or("ordinality", String::as_str);
            items.push(format!("unnest(range(1, {longest} + 1)) AS {name}"));
        }
        items.join(", ")
    }
}

/// Whether a join to an `UNNEST` keeps left rows whose arrays are empty (`LEFT JOIN ... ON
/// TRUE`), drops them (`CROSS JOIN`, `JOIN ... ON TRUE`), or is not one Trino allows.
fn keeps_empty(operator: &JoinOperator) -> Option<bool> {
    let on_true = |c: &JoinConstraint| matches!(c, JoinConstraint::On(Expr::Value(v)) if v.value == Value::Boolean(true));
    match operator {
        JoinOperator::CrossJoin(JoinConstraint::None) => Some(false),
        JoinOperator::Join(c) | JoinOperator::Inner(c) if on_true(c) => Some(false),
        JoinOperator::Left(c) | JoinOperator::LeftOuter(c) if on_true(c) => Some(true),
        _ => None,
    }
}

/// The name a relation's columns are qualified by: its alias, else a table's last name part.
fn relation_name(factor: &TableFactor) -> Option<String> {
    match factor {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => {
            Some(a.name.to_string())
        }
        TableFactor::Table {
            name, alias: None, ..
        } => name.0.last().map(|part| part.to_string()),
        _ => None,
    }
}

fn with_joins(relation: &mut TableWithJoins) {
    if let Some((unnest, alias)) = unnest_of(&relation.relation) {
        let columns = unnest.names.join(", ");
        let alias = alias.unwrap_or_else(|| "unnest".into());
        if let Some(derived) = parse_table_factor(&format!(
            "(SELECT {}) AS {alias}({columns})",
            unnest.items(false)
        )) {
            relation.relation = derived;
        }
    }
    // Each lateral UNNEST right after the relation folds into it, left to right.
    while let Some(join) = relation.joins.first() {
        let (Some((unnest, _)), Some(keep_empty), Some(name)) = (
            unnest_of(&join.relation),
            keeps_empty(&join.join_operator),
            relation_name(&relation.relation),
        ) else {
            break;
        };
        let Some(derived) = parse_table_factor(&format!(
            "(SELECT {name}.*, {} FROM {}) AS {name}",
            unnest.items(keep_empty),
            relation.relation
        )) else {
            break;
        };
        relation.relation = derived;
        relation.joins.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        super::super::rewritten_by(sql, rewrite)
    }

    #[test]
    fn unnest_relations_become_derived_tables() {
        assert_eq!(
            rewritten("SELECT student, score FROM tests CROSS JOIN UNNEST(scores) AS t(score)"),
            "SELECT student, score FROM (SELECT tests.*, unnest(scores) AS score FROM tests) AS tests"
        );
        assert_eq!(
            rewritten("SELECT * FROM UNNEST(ARRAY[2, 5], ARRAY[7]) WITH ORDINALITY AS t(a, b, n)"),
            "SELECT * FROM (SELECT unnest(ARRAY[2, 5]) AS a, unnest(ARRAY[7]) AS b, \
             unnest(range(1, greatest(CAST(cardinality(ARRAY[2, 5]) AS BIGINT), \
             CAST(cardinality(ARRAY[7]) AS BIGINT)) + 1)) AS n) AS t (a, b, n)"
        );
        let left = rewritten("SELECT * FROM m AS x LEFT JOIN UNNEST(x.c) AS t(v) ON TRUE");
        assert!(
            left.contains("ELSE ARRAY[NULL] END) AS v FROM m AS x) AS x"),
            "{left}"
        );
        let comma = rewritten("SELECT * FROM m, UNNEST(c) AS t(v)");
        assert!(
            comma.contains("(SELECT m.*, unnest(c) AS v FROM m) AS m"),
            "{comma}"
        );
        assert_eq!(
            rewritten("SELECT * FROM UNNEST(m) AS t(k, v)"),
            "SELECT * FROM (SELECT unnest(unnest_field(m, 1)) AS k, \
             unnest(unnest_field(m, 2)) AS v) AS t (k, v)"
        );
        let rows =
            rewritten("SELECT * FROM UNNEST(ARRAY[ROW('a', 1)], ARRAY[ROW(true)]) AS t(s, n, b)");
        assert!(
            rows.contains("unnest(unnest_field(ARRAY[ROW('a', 1)], 2)) AS n, unnest(unnest_field(ARRAY[ROW(true)], 1)) AS b"),
            "{rows}"
        );
        // A join on anything but TRUE is left for DataFusion to refuse.
        let on = rewritten("SELECT * FROM m LEFT JOIN UNNEST(c) AS t(v) ON v > 1");
        assert!(on.contains("LEFT JOIN UNNEST"), "{on}");
    }
}
