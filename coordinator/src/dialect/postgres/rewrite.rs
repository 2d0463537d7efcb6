//! PostgreSQL clients' SQL: their catalog queries made plannable by DataFusion, and
//! PostgreSQL's `SHOW name` of server variables.
//!
//! psql's `\d` family and PgJDBC's `DatabaseMetaData` send PostgreSQL-only SQL:
//! `OPERATOR(pg_catalog.~)`, `COLLATE pg_catalog.default`, `'pg_class'::regclass`, scalar
//! subqueries in the select list. `datafusion-pg-catalog`'s parser rewrites those (and swaps a
//! few whole client queries DataFusion cannot plan for equivalent ones). Only statements that
//! name the system catalog go through it: its rewrites (a correlated subquery in the select
//! list becomes NULL, an uncorrelated one gets `LIMIT 1`) suit catalog queries but would
//! silently change the answer of a query over the lake.

use std::ops::ControlFlow;
use std::sync::LazyLock;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{AccessExpr, Expr, Statement, Value, VisitMut, VisitorMut};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use datafusion_pg_catalog::pg_catalog::PG_CATALOG_TABLES;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;

use super::PG_CATALOG_SCHEMA;
use crate::statement::{self, Classified, Command, StatementError, classify_parsed};

static PARSER: LazyLock<PostgresCompatibilityParser> =
    LazyLock::new(PostgresCompatibilityParser::new);

/// [`statement::classify`] for a PostgreSQL client: a catalog query is rewritten first, and
/// `SHOW name` asks for a session variable (answered with PostgreSQL's defaults).
pub fn classify(sql: &str) -> Result<Classified, StatementError> {
    let classified = classify_sql(sql)?;
    if let Classified::Read(DfStatement::Statement(statement)) = &classified
        && let Statement::ShowVariable { variable } = statement.as_ref()
    {
        let name = variable
            .iter()
            .map(|part| part.value.to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(".");
        return Ok(Classified::Command(Command::Show { name }));
    }
    Ok(classified)
}

fn classify_sql(sql: &str) -> Result<Classified, StatementError> {
    if reads_pg_catalog(sql)
        && let Ok(mut statements) = PARSER.parse(sql)
        && statements.len() == 1
        && let Some(mut parsed) = statements.pop()
    {
        let _ = parsed.visit(&mut RecordFields);
        return classify_parsed(DfStatement::Statement(Box::new(parsed)));
    }
    // Everything else, and a catalog query the rewriting parser could not read: the standard
    // parser keeps token positions, so its error says where the problem is.
    statement::classify(sql, &PostgreSqlDialect {})
}

/// PostgreSQL's record field syntax `(expr).name` (PgJDBC's `(_pg_expandarray(k)).n`) as
/// DataFusion's struct field access `(expr).'name'`.
struct RecordFields;

impl VisitorMut for RecordFields {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundFieldAccess { root, access_chain } = expr
            && matches!(root.as_ref(), Expr::Nested(_))
        {
            for access in access_chain.iter_mut() {
                if let AccessExpr::Dot(Expr::Identifier(field)) = access {
                    let name = Value::SingleQuotedString(field.value.clone());
                    *access = AccessExpr::Dot(Expr::value(name));
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Whether `sql` names `pg_catalog` or one of its tables, or casts to an object-id alias type
/// (`::regclass`). A lake column that merely starts with `pg_` does not count.
fn reads_pg_catalog(sql: &str) -> bool {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else {
        return false;
    };
    tokens.iter().any(|token| match token {
        Token::Word(word) => {
            let word = word.value.to_ascii_lowercase();
            word == PG_CATALOG_SCHEMA
                || PG_CATALOG_TABLES.contains(&word.as_str())
                || matches!(
                    word.as_str(),
                    "regclass"
                        | "regtype"
                        | "regproc"
                        | "regprocedure"
                        | "regnamespace"
                        | "regrole"
                        | "regoper"
                        | "regoperator"
                )
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psql_table_lookup_is_rewritten() {
        let sql = "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c \
                   LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE c.relname OPERATOR(pg_catalog.~) '^(lineitem)$' COLLATE pg_catalog.default \
                   ORDER BY 2, 3";
        let Classified::Read(statement) = classify(sql).expect("psql's query is accepted") else {
            panic!("a read");
        };
        let text = statement.to_string();
        assert!(!text.contains("OPERATOR"), "{text}");
        assert!(!text.contains("COLLATE"), "{text}");
    }

    #[test]
    fn lake_queries_are_left_alone() {
        // A correlated subquery in the select list (the rewrite would make it NULL), even next
        // to a column whose name starts with pg_.
        let sql = "SELECT pg_score, (SELECT max(l_quantity) FROM lineitem l2 \
                   WHERE l2.l_orderkey = l.l_orderkey) FROM lineitem l";
        let Classified::Read(statement) = classify(sql).expect("parses") else {
            panic!("a read");
        };
        assert!(statement.to_string().contains("l2.l_orderkey"));
        assert!(!reads_pg_catalog(sql));
        assert!(reads_pg_catalog("SELECT relname FROM pg_class"));
        assert!(reads_pg_catalog("SELECT 'lineitem'::regclass"));
    }

    #[test]
    fn record_fields_become_struct_field_access() {
        let sql =
            "SELECT (information_schema._pg_expandarray(i.indkey)).n FROM pg_catalog.pg_index i";
        let Classified::Read(statement) = classify(sql).expect("PgJDBC's query") else {
            panic!("a read");
        };
        let text = statement.to_string();
        assert!(text.contains("(_pg_expandarray(i.indkey)).'n'"), "{text}");
    }

    #[test]
    fn writes_to_the_catalog_are_refused() {
        let err = classify("DELETE FROM pg_catalog.pg_class").expect_err("a write");
        assert!(matches!(err, StatementError::ReadOnly { .. }), "{err:?}");
    }

    #[test]
    fn syntax_errors_keep_their_position() {
        let err = classify("SELECT relname FROM pg_class WHERE )").expect_err("bad SQL");
        assert!(
            matches!(
                err,
                StatementError::Syntax {
                    position: Some(_),
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
