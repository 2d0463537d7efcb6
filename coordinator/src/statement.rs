//! The statement classifier: what a SQL text asks for, decided before anything is planned.
//!
//! lakegate serves reads only. Queries, `EXPLAIN`, `SHOW`, `DESCRIBE`, `SET`, `RESET` and `USE`
//! are served; every other statement is refused by name. The list is an allow-list, so a
//! statement kind added to the parser later is refused until someone decides otherwise.

use std::fmt;

use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{Expr, ObjectName, Set, Statement, Use, Value};
use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::parser::ParserError;

use crate::session::TIME_ZONE_SETTING;

/// A line and column (1-based) in the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A statement that will not be run, and why.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StatementError {
    #[error("syntax error: {message}")]
    Syntax {
        message: String,
        position: Option<Position>,
    },
    #[error("no SQL statement given")]
    Empty,
    #[error("one statement at a time, got {count}")]
    Multiple { count: usize },
    #[error("lakegate is read-only: {kind} statements are not allowed")]
    ReadOnly { kind: String },
    #[error("{what} is not supported")]
    Unsupported { what: String },
    #[error("the statement is {bytes} bytes, over the limit of {limit} (query.max_sql_bytes)")]
    TooLarge { bytes: usize, limit: usize },
    #[error(
        "an expression chains {depth} operators deep, over the limit of {limit} \
         (query.max_expression_depth); split it, or use IN (...) for a list of values"
    )]
    TooDeep {
        depth: usize,
        limit: usize,
        position: Position,
    },
    #[error(
        "the statement nests parentheses, subqueries or function calls more than {limit} levels \
         deep"
    )]
    NestedTooDeep { limit: usize },
}

/// A session variable assignment (`SET name = value`, `RESET name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetVariable {
    /// Lower-cased variable name, e.g. `datafusion.execution.batch_size`.
    pub name: String,
    /// `None` resets the variable to its default.
    pub value: Option<String>,
}

/// A transaction statement: accepted and answered, changing nothing (every read is
/// autocommit against pinned snapshots).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionOp {
    Begin,
    Commit,
    Rollback,
}

/// A statement the engine answers itself rather than DataFusion: about the session, its
/// prepared statements, or how one dialect's clients ask about the lake.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Set(SetVariable),
    /// `USE schema`, `USE catalog.schema` or `USE CATALOG c` (then `schema` is empty).
    Use {
        catalog: Option<String>,
        schema: String,
    },
    /// `SHOW name` of a session variable, in dialects whose clients expect their server's
    /// variables to answer.
    Show {
        name: String,
    },
    /// The columns of a table with the dialect's type names (`SHOW COLUMNS`, `DESCRIBE`).
    ShowColumns {
        table: Vec<String>,
    },
    /// `PREPARE name FROM|AS statement`: kept in the session under `name`.
    Prepare {
        name: String,
        sql: String,
    },
    /// `EXECUTE name [USING v, ...]` or `EXECUTE name(v, ...)`: a prepared statement run with
    /// parameter values, each an expression evaluated before it is bound.
    Execute {
        name: String,
        params: Vec<Expr>,
    },
    /// `EXECUTE IMMEDIATE 'sql' [USING v, ...]`.
    ExecuteImmediate {
        sql: String,
        params: Vec<Expr>,
    },
    /// `DEALLOCATE [PREPARE] name`.
    Deallocate {
        name: String,
    },
    Transaction(TransactionOp),
}

/// What an `EXPLAIN` shows: both plans (the default), or as Trino's `EXPLAIN (TYPE ...)` asks,
/// one plan under `Query Plan`, or only whether the statement plans (`Valid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExplainType {
    #[default]
    Both,
    Logical,
    Distributed,
    Validate,
}

/// A parsed statement that may be served, by who serves it.
#[derive(Debug, Clone)]
pub enum Classified {
    /// A query, or `SHOW` / `DESCRIBE` of the lake: planned and run by DataFusion.
    Read(DfStatement),
    /// `EXPLAIN` of a query: planned, not run; which plans it shows.
    Explain(DfStatement, ExplainType),
    /// `EXPLAIN ANALYZE`: runs the query.
    ExplainAnalyze(DfStatement),
    /// Answered by the engine itself.
    Command(Command),
}

impl Classified {
    /// What serves the statement, for logs: `read`, `explain`, `explain analyze`, `command`.
    pub fn kind(&self) -> &'static str {
        match self {
            Classified::Read(_) => "read",
            Classified::Explain(..) => "explain",
            Classified::ExplainAnalyze(_) => "explain analyze",
            Classified::Command(_) => "command",
        }
    }

    /// The statement DataFusion plans, for reads and `EXPLAIN`s.
    pub fn statement_mut(&mut self) -> Option<&mut DfStatement> {
        match self {
            Classified::Read(s) | Classified::Explain(s, _) | Classified::ExplainAnalyze(s) => {
                Some(s)
            }
            Classified::Command(_) => None,
        }
    }
}

/// Levels of parentheses, subqueries and function calls DataFusion's parser takes.
pub const PARSER_NESTING_LIMIT: usize = 50;

/// Parses `sql` (exactly one statement) and decides whether and how it is served.
pub fn classify(sql: &str, dialect: &dyn Dialect) -> Result<Classified, StatementError> {
    let mut statements = DFParser::parse_sql_with_dialect(sql, dialect).map_err(syntax_error)?;
    let statement = match statements.len() {
        0 => return Err(StatementError::Empty),
        1 => statements.pop_front().ok_or(StatementError::Empty)?,
        count => return Err(StatementError::Multiple { count }),
    };
    classify_parsed(statement)
}

/// Decides whether and how an already parsed statement is served.
pub fn classify_parsed(statement: DfStatement) -> Result<Classified, StatementError> {
    match &statement {
        DfStatement::Statement(s) => sql_statement(s, &statement),
        DfStatement::Explain(explain) => {
            // EXPLAIN of a write is refused too: EXPLAIN ANALYZE would run it.
            if let Classified::Command(_) = classify_parsed(explain.statement.as_ref().clone())? {
                return Err(StatementError::Unsupported {
                    what: "EXPLAIN of a session statement".into(),
                });
            }
            Ok(if explain.analyze {
                Classified::ExplainAnalyze(statement)
            } else {
                Classified::Explain(statement, ExplainType::Both)
            })
        }
        DfStatement::CreateExternalTable(_) => read_only("CREATE EXTERNAL TABLE"),
        DfStatement::CopyTo(_) => read_only("COPY"),
        DfStatement::Reset(reset) => Ok(Classified::Command(Command::Set(SetVariable {
            name: reset_name(&reset.to_string()),
            value: None,
        }))),
    }
}

fn sql_statement(s: &Statement, whole: &DfStatement) -> Result<Classified, StatementError> {
    match s {
        Statement::Query(_)
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowViews { .. }
        | Statement::ExplainTable { .. } => Ok(Classified::Read(whole.clone())),
        Statement::Explain {
            statement, analyze, ..
        } => {
            if let Classified::Command(_) =
                sql_statement(statement, &DfStatement::Statement(statement.clone()))?
            {
                return Err(StatementError::Unsupported {
                    what: "EXPLAIN of a session statement".into(),
                });
            }
            Ok(if *analyze {
                Classified::ExplainAnalyze(whole.clone())
            } else {
                Classified::Explain(whole.clone(), ExplainType::Both)
            })
        }
        Statement::Set(set) => set_kind(set).map(Classified::Command),
        Statement::Use(target) => use_kind(target).map(Classified::Command),
        Statement::StartTransaction { .. } => Ok(Classified::Command(Command::Transaction(
            TransactionOp::Begin,
        ))),
        Statement::Commit { .. } => Ok(Classified::Command(Command::Transaction(
            TransactionOp::Commit,
        ))),
        Statement::Rollback { .. } => Ok(Classified::Command(Command::Transaction(
            TransactionOp::Rollback,
        ))),
        Statement::Prepare {
            name, statement, ..
        } => {
            let sql = statement.to_string();
            Ok(Classified::Command(Command::Prepare {
                name: name.value.clone(),
                sql,
            }))
        }
        Statement::Execute {
            name: Some(name),
            parameters,
            using,
            immediate: false,
            ..
        } => Ok(Classified::Command(Command::Execute {
            name: object_name(name).trim_matches('"').to_string(),
            params: parameters
                .iter()
                .cloned()
                .chain(using.iter().map(|u| u.expr.clone()))
                .collect(),
        })),
        Statement::Deallocate { name, .. } => Ok(Classified::Command(Command::Deallocate {
            name: name.value.clone(),
        })),
        other => read_only(&statement_name(other)),
    }
}

fn set_kind(set: &Set) -> Result<Command, StatementError> {
    match set {
        Set::SingleAssignment {
            variable, values, ..
        } => Ok(Command::Set(SetVariable {
            name: object_name(variable).to_ascii_lowercase(),
            value: Some(values.iter().map(value_text).collect::<Vec<_>>().join(",")),
        })),
        Set::SetTimeZone { value, .. } => Ok(Command::Set(SetVariable {
            name: TIME_ZONE_SETTING.into(),
            value: Some(value_text(value)),
        })),
        other => Err(StatementError::Unsupported {
            what: format!("`{other}`"),
        }),
    }
}

fn use_kind(target: &Use) -> Result<Command, StatementError> {
    let name = match target {
        Use::Object(name) | Use::Schema(name) | Use::Database(name) | Use::Catalog(name) => name,
        other => {
            return Err(StatementError::Unsupported {
                what: format!("`{other}`"),
            });
        }
    };
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| p.to_string().trim_matches('"').to_string())
        .collect();
    match parts.as_slice() {
        [schema] if matches!(target, Use::Catalog(_)) => Ok(Command::Use {
            catalog: Some(schema.clone()),
            schema: String::new(),
        }),
        [schema] => Ok(Command::Use {
            catalog: None,
            schema: schema.clone(),
        }),
        [catalog, schema] => Ok(Command::Use {
            catalog: Some(catalog.clone()),
            schema: schema.clone(),
        }),
        _ => Err(StatementError::Unsupported {
            what: format!("USE {name}"),
        }),
    }
}

fn object_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// A SET value as text: string literals without their quotes, anything else as written.
fn value_text(expr: &Expr) -> String {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        Expr::Identifier(ident) => ident.value.clone(),
        other => other.to_string(),
    }
}

fn reset_name(statement: &str) -> String {
    statement
        .trim_start_matches("RESET")
        .trim()
        .to_ascii_lowercase()
}

fn read_only<T>(kind: &str) -> Result<T, StatementError> {
    Err(StatementError::ReadOnly {
        kind: kind.to_string(),
    })
}

/// The statement's kind as SQL spells it (`CreateTable` becomes `CREATE TABLE`).
fn statement_name(statement: &Statement) -> String {
    let debug = format!("{statement:?}");
    let variant: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut name = String::new();
    for (i, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push(' ');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

fn syntax_error(err: datafusion::error::DataFusionError) -> StatementError {
    if let datafusion::error::DataFusionError::SQL(e, _) = err.find_root()
        && matches!(e.as_ref(), ParserError::RecursionLimitExceeded)
    {
        return StatementError::NestedTooDeep {
            limit: PARSER_NESTING_LIMIT,
        };
    }
    let message = match err.find_root() {
        datafusion::error::DataFusionError::SQL(e, _) => parser_message(e),
        other => other.message().to_string(),
    };
    StatementError::Syntax {
        position: position_in(&message),
        message,
    }
}

fn parser_message(err: &ParserError) -> String {
    match err {
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// sqlparser ends its messages with `at Line: L, Column: C`.
pub fn position_in(message: &str) -> Option<Position> {
    let rest = &message[message.rfind("Line: ")? + "Line: ".len()..];
    let (line, rest) = rest.split_once(',')?;
    let column = rest.trim().strip_prefix("Column: ")?;
    let column: String = column.chars().take_while(char::is_ascii_digit).collect();
    Some(Position {
        line: line.trim().parse().ok()?,
        column: column.parse().ok()?,
    })
}

/// The statement an `EXPLAIN` explains.
pub fn explained(statement: &DfStatement) -> Option<DfStatement> {
    match statement {
        DfStatement::Explain(explain) => Some(explain.statement.as_ref().clone()),
        DfStatement::Statement(s) => match s.as_ref() {
            Statement::Explain { statement, .. } => Some(DfStatement::Statement(statement.clone())),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::GenericDialect;

    use super::*;

    /// What serves `sql`: `read`, `explain`, `explain analyze`, or the command itself.
    fn kind(sql: &str) -> Result<String, StatementError> {
        classify(sql, &GenericDialect {}).map(|c| match c {
            Classified::Command(command) => format!("{command:?}"),
            other => other.kind().to_string(),
        })
    }

    #[test]
    fn reads_are_served() {
        for sql in [
            "SELECT 1",
            "WITH a AS (SELECT 1) SELECT * FROM a",
            "SHOW TABLES",
            "SHOW COLUMNS FROM t",
            "DESCRIBE t",
        ] {
            assert_eq!(kind(sql), Ok("read".into()), "{sql}");
        }
        assert_eq!(kind("EXPLAIN SELECT 1"), Ok("explain".into()));
        assert_eq!(
            kind("EXPLAIN ANALYZE SELECT 1"),
            Ok("explain analyze".into())
        );
    }

    #[test]
    fn writes_are_refused_by_name() {
        for (sql, name) in [
            ("INSERT INTO t VALUES (1)", "INSERT"),
            ("DELETE FROM t", "DELETE"),
            ("UPDATE t SET a = 1", "UPDATE"),
            ("CREATE TABLE t (a INT)", "CREATE TABLE"),
            ("DROP TABLE t", "DROP"),
            ("COPY t TO 'x.parquet'", "COPY"),
            (
                "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 'x'",
                "CREATE EXTERNAL TABLE",
            ),
            ("ALTER TABLE t ADD COLUMN b INT", "ALTER TABLE"),
            ("TRUNCATE TABLE t", "TRUNCATE"),
            ("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", "INSERT"),
        ] {
            assert_eq!(
                kind(sql),
                Err(StatementError::ReadOnly { kind: name.into() }),
                "{sql}"
            );
        }
    }

    #[test]
    fn set_and_use() {
        assert_eq!(
            kind("SET datafusion.execution.batch_size = 1024"),
            Ok(format!(
                "{:?}",
                Command::Set(SetVariable {
                    name: "datafusion.execution.batch_size".into(),
                    value: Some("1024".into())
                })
            ))
        );
        assert_eq!(
            kind("USE lake.tpch"),
            Ok(format!(
                "{:?}",
                Command::Use {
                    catalog: Some("lake".into()),
                    schema: "tpch".into()
                }
            ))
        );
    }

    #[test]
    fn syntax_errors_carry_the_position() {
        let Err(StatementError::Syntax { position, .. }) = kind("SELECT (1\nFROM t") else {
            panic!("expected a syntax error");
        };
        assert_eq!(position, Some(Position { line: 2, column: 1 }));
        assert_eq!(
            kind("SELECT 1; SELECT 2"),
            Err(StatementError::Multiple { count: 2 })
        );
        assert_eq!(kind("  "), Err(StatementError::Empty));
    }

    #[test]
    fn transactions_and_prepared_statements_are_commands() {
        assert_eq!(kind("BEGIN"), Ok("Transaction(Begin)".into()));
        assert_eq!(kind("START TRANSACTION"), Ok("Transaction(Begin)".into()));
        assert_eq!(kind("COMMIT"), Ok("Transaction(Commit)".into()));
        assert_eq!(kind("ROLLBACK"), Ok("Transaction(Rollback)".into()));
        let Ok(Classified::Command(Command::Prepare { name, sql })) =
            classify("PREPARE q AS SELECT $1 + 1", &GenericDialect {})
        else {
            panic!("PREPARE is a command");
        };
        assert_eq!((name.as_str(), sql.as_str()), ("q", "SELECT $1 + 1"));
        let Ok(Classified::Command(Command::Execute { name, params })) =
            classify("EXECUTE q(41, 'a')", &GenericDialect {})
        else {
            panic!("EXECUTE is a command");
        };
        assert_eq!(name, "q");
        assert_eq!(params.len(), 2);
        assert_eq!(
            kind("DEALLOCATE q"),
            Ok("Deallocate { name: \"q\" }".into())
        );
        assert!(matches!(
            kind("EXPLAIN SET x = 1"),
            Err(StatementError::Unsupported { .. }) | Err(StatementError::Syntax { .. })
        ));
    }
}
