//! Trino's SQL: its session statements (`SET SESSION`, `PREPARE ... FROM`, `EXECUTE ...
//! USING`, ...), its `SHOW` family with Trino's column names (`SHOW STATS` and `SHOW CREATE
//! TABLE` read the table's `$stats` and `$ddl` metadata tables), `DESCRIBE` with Trino's type
//! names ([`types`]), and queries with Trino's spellings rewritten for DataFusion.

use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::execution::context::SessionState;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Expr;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::SqlDialect;
use crate::session::SessionVars;
use crate::statement::{Classified, Command, SetVariable, StatementError, classify};

mod clauses;
mod rewrite;
mod sample;
mod statements;
mod syntax;
mod tokens;
mod unnest;
pub use lakegate_functions::types;

use syntax::TrinoSyntax;

use statements::TrinoStatement;

#[derive(Debug, Default)]
pub struct Trino;

impl SqlDialect for Trino {
    fn parse(&self, sql: &str, vars: &SessionVars) -> Result<Classified, StatementError> {
        let syntax = |message: String| StatementError::Syntax {
            message,
            position: None,
        };
        let command = match statements::parse(sql).map_err(|e| syntax(e.0))? {
            TrinoStatement::Sql(sql) => {
                return classify(&tokens::respelled(sql), &TrinoSyntax).map(respelled);
            }
            TrinoStatement::SetSession { name, value } => Command::Set(SetVariable {
                name,
                value: Some(value),
            }),
            TrinoStatement::ResetSession { name } => {
                Command::Set(SetVariable { name, value: None })
            }
            TrinoStatement::Prepare { name, sql } => Command::Prepare {
                name,
                sql: sql.to_string(),
            },
            TrinoStatement::Execute { name, using } => Command::Execute {
                name,
                params: expressions(using)?,
            },
            TrinoStatement::ExecuteImmediate { sql, using } => Command::ExecuteImmediate {
                sql,
                params: expressions(using)?,
            },
            TrinoStatement::Deallocate { name } => Command::Deallocate { name },
            TrinoStatement::Transaction(op) => Command::Transaction(op),
            TrinoStatement::ShowColumns { table } => Command::ShowColumns { table },
            TrinoStatement::Explain { shown, sql } => {
                return match self.parse(sql, vars)? {
                    Classified::Read(statement) => {
                        Ok(Classified::Explain(explain_of(statement)?, shown))
                    }
                    _ => Err(StatementError::Unsupported {
                        what: "EXPLAIN of anything but a query".into(),
                    }),
                };
            }
            TrinoStatement::ShowStats { table } => {
                return read(&format!("SELECT * FROM {}", metadata_of(&table, "stats")));
            }
            TrinoStatement::ShowCreateTable { table } => {
                return read(&format!("SELECT * FROM {}", metadata_of(&table, "ddl")));
            }
            TrinoStatement::ShowCatalogs { like } => {
                return read(&format!(
                    "SELECT DISTINCT catalog_name AS \"Catalog\" \
                     FROM information_schema.schemata{} ORDER BY 1",
                    like_filter("catalog_name", like.as_deref(), "WHERE")
                ));
            }
            TrinoStatement::ShowSchemas { catalog, like } => {
                let catalog = quote(catalog.as_deref().unwrap_or(&vars.catalog));
                return read(&format!(
                    "SELECT schema_name AS \"Schema\" FROM information_schema.schemata \
                     WHERE catalog_name = {catalog}{} ORDER BY 1",
                    like_filter("schema_name", like.as_deref(), "AND")
                ));
            }
            TrinoStatement::ShowTables { from, like } => {
                let (catalog, schema) = match from.as_slice() {
                    [] => (quote(&vars.catalog), quote(&vars.schema)),
                    [schema] => (quote(&vars.catalog), quote(schema)),
                    [catalog, schema] => (quote(catalog), quote(schema)),
                    _ => {
                        return Err(syntax(
                            "SHOW TABLES FROM takes a schema or catalog.schema".into(),
                        ));
                    }
                };
                return read(&format!(
                    "SELECT table_name AS \"Table\" FROM information_schema.tables \
                     WHERE table_catalog = {catalog} AND table_schema = {schema}{} ORDER BY 1",
                    like_filter("table_name", like.as_deref(), "AND")
                ));
            }
        };
        Ok(Classified::Command(command))
    }

    fn register_functions(&self, state: &mut SessionState, _vars: &SessionVars) -> Result<()> {
        lakegate_functions::register_trino(state)
    }

    fn type_name(&self, data_type: &DataType) -> String {
        types::type_name(data_type)
    }
}

/// A read (or its `EXPLAIN`) with Trino's spellings made DataFusion's.
/// `sql` parsed as Trino SQL, rewritten by `rewrite`, written back (for the rewrites' tests).
#[cfg(test)]
fn rewritten_by(sql: &str, rewrite: fn(&mut datafusion::sql::sqlparser::ast::Statement)) -> String {
    let mut statements = Parser::parse_sql(&TrinoSyntax, sql).expect("parses");
    let mut statement = statements.remove(0);
    rewrite(&mut statement);
    statement.to_string()
}

fn respelled(classified: Classified) -> Classified {
    fn statement(mut s: DfStatement) -> DfStatement {
        respell(&mut s);
        s
    }
    fn respell(s: &mut DfStatement) {
        match s {
            DfStatement::Statement(inner) => {
                clauses::rewrite(inner);
                sample::rewrite(inner);
                unnest::rewrite(inner);
                rewrite::rewrite(inner);
            }
            DfStatement::Explain(explain) => respell(&mut explain.statement),
            _ => {}
        }
    }
    match classified {
        Classified::Read(s) => Classified::Read(statement(s)),
        Classified::Explain(s, shown) => Classified::Explain(statement(s), shown),
        Classified::ExplainAnalyze(s) => Classified::ExplainAnalyze(statement(s)),
        other => other,
    }
}

/// `EXPLAIN statement`, as DataFusion's parser would have read it.
fn explain_of(statement: DfStatement) -> Result<DfStatement, StatementError> {
    let DfStatement::Statement(inner) = statement else {
        return Err(StatementError::Unsupported {
            what: "EXPLAIN of anything but a query".into(),
        });
    };
    Ok(DfStatement::Explain(
        datafusion::sql::parser::ExplainStatement {
            analyze: false,
            verbose: false,
            format: None,
            statement: Box::new(DfStatement::Statement(inner)),
        },
    ))
}

/// A statement this dialect writes for its clients' `SHOW`, as a read.
fn read(sql: &str) -> Result<Classified, StatementError> {
    match classify(sql, &GenericDialect {})? {
        read @ Classified::Read(DfStatement::Statement(_)) => Ok(read),
        _ => Err(StatementError::Unsupported {
            what: format!("`{sql}`"),
        }),
    }
}

/// The expressions of a `USING` list.
fn expressions(list: Option<&str>) -> Result<Vec<Expr>, StatementError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    Parser::new(&GenericDialect {})
        .try_with_sql(list)
        .and_then(|mut parser| parser.parse_comma_separated(Parser::parse_expr))
        .map_err(|e| StatementError::Syntax {
            message: format!("USING {list}: {e}"),
            position: None,
        })
}

/// The metadata table `kind` of `table` (`t$stats`), as a quoted SQL name.
fn metadata_of(table: &[String], kind: &str) -> String {
    let mut parts: Vec<String> = table.to_vec();
    if let Some(last) = parts.last_mut() {
        *last = format!("{last}${kind}");
    }
    parts
        .iter()
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn like_filter(column: &str, like: Option<&str>, joiner: &str) -> String {
    like.map(|pattern| format!(" {joiner} {column} LIKE {}", quote(pattern)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::TransactionOp;

    fn vars() -> SessionVars {
        crate::Session::new(crate::Principal::new("ana"), "lake", "tpch").vars()
    }

    #[test]
    fn session_statements_become_commands() {
        let parse = |sql: &str| Trino.parse(sql, &vars());
        let Ok(Classified::Command(Command::Execute { name, params })) =
            parse("EXECUTE st USING DATE '2024-01-01', 'x'")
        else {
            panic!("EXECUTE ... USING");
        };
        assert_eq!((name.as_str(), params.len()), ("st", 2));
        assert!(matches!(
            parse("RESET SESSION cache"),
            Ok(Classified::Command(Command::Set(SetVariable {
                value: None,
                ..
            })))
        ));
        assert!(matches!(
            parse("COMMIT"),
            Ok(Classified::Command(Command::Transaction(
                TransactionOp::Commit
            )))
        ));
        let Ok(Classified::Read(stats)) = parse("SHOW STATS FOR tpch.\"Orders\"") else {
            panic!("SHOW STATS is a read");
        };
        assert!(
            stats.to_string().contains("\"tpch\".\"Orders$stats\""),
            "{stats}"
        );
        assert!(parse("SHOW STATS FOR (SELECT 1)").is_err());
        assert!(matches!(
            parse("EXPLAIN (TYPE LOGICAL, FORMAT TEXT) SELECT 1"),
            Ok(Classified::Explain(
                _,
                crate::statement::ExplainType::Logical
            ))
        ));
        assert!(matches!(
            parse("EXPLAIN (FORMAT TEXT) SELECT 1"),
            Ok(Classified::Explain(
                _,
                crate::statement::ExplainType::Distributed
            ))
        ));
        assert!(parse("EXPLAIN (TYPE IO) SELECT 1").is_err());
        assert!(matches!(
            parse("EXPLAIN (SELECT 1)"),
            Ok(Classified::Explain(_, crate::statement::ExplainType::Both))
        ));
        assert!(matches!(
            parse("SHOW CREATE TABLE orders"),
            Ok(Classified::Read(_))
        ));
        // SHOW TABLES with no schema lists the session's.
        let Ok(Classified::Read(show)) = parse("SHOW TABLES LIKE 'line%'") else {
            panic!("SHOW TABLES is a read");
        };
        let text = show.to_string();
        assert!(
            text.contains("'tpch'") && text.contains("'line%'"),
            "{text}"
        );
    }
}
