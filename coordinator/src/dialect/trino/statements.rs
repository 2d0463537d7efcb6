//! Statements of Trino's dialect that sqlparser does not read as Trino means them:
//! `SET/RESET SESSION`, `PREPARE ... FROM`, `EXECUTE [IMMEDIATE] ... USING`, `DEALLOCATE
//! PREPARE`, the `SHOW` family (Trino's column names), `DESCRIBE` and transaction statements.
//! They are recognised by their leading words; everything else is parsed as standard SQL.

use crate::statement::{ExplainType, TransactionOp};

/// A statement, recognised by its leading words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrinoStatement<'a> {
    SetSession {
        name: String,
        value: String,
    },
    ResetSession {
        name: String,
    },
    Prepare {
        name: String,
        sql: &'a str,
    },
    Execute {
        name: String,
        using: Option<&'a str>,
    },
    ExecuteImmediate {
        sql: String,
        using: Option<&'a str>,
    },
    Deallocate {
        name: String,
    },
    ShowCatalogs {
        like: Option<String>,
    },
    ShowSchemas {
        catalog: Option<String>,
        like: Option<String>,
    },
    ShowTables {
        from: Vec<String>,
        like: Option<String>,
    },
    ShowColumns {
        table: Vec<String>,
    },
    ShowStats {
        table: Vec<String>,
    },
    ShowCreateTable {
        table: Vec<String>,
    },
    Transaction(TransactionOp),
    /// `EXPLAIN (TYPE ..., FORMAT TEXT) statement`: the statement, and which plan to show.
    Explain {
        shown: ExplainType,
        sql: &'a str,
    },
    /// Anything else: SQL for the engine.
    Sql(&'a str),
}

/// A statement Trino's dialect would take but this text does not form; names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyntaxError(pub String);

pub fn parse(sql: &str) -> Result<TrinoStatement<'_>, SyntaxError> {
    let mut words = Words::new(sql);
    if words.keyword("SET") {
        if !words.keyword("SESSION") {
            return Ok(TrinoStatement::Sql(sql));
        }
        let name = words.qualified_name()?.join(".");
        words.expect_symbol('=')?;
        let value = literal_text(words.rest().trim().trim_end_matches(';').trim())?;
        return Ok(TrinoStatement::SetSession { name, value });
    }
    if words.keyword("RESET") {
        words.expect_keyword("SESSION")?;
        let name = words.qualified_name()?.join(".");
        words.end()?;
        return Ok(TrinoStatement::ResetSession { name });
    }
    if words.keyword("PREPARE") {
        let name = words.identifier()?;
        words.expect_keyword("FROM")?;
        let sql = words.rest().trim();
        if sql.is_empty() {
            return Err(SyntaxError(format!(
                "PREPARE {name} FROM: the statement is missing"
            )));
        }
        return Ok(TrinoStatement::Prepare { name, sql });
    }
    if words.keyword("DEALLOCATE") {
        words.expect_keyword("PREPARE")?;
        let name = words.identifier()?;
        words.end()?;
        return Ok(TrinoStatement::Deallocate { name });
    }
    if words.keyword("EXECUTE") {
        if words.keyword("IMMEDIATE") {
            let sql = words.string_literal()?;
            let using = words.using()?;
            return Ok(TrinoStatement::ExecuteImmediate { sql, using });
        }
        let name = words.identifier()?;
        let using = words.using()?;
        return Ok(TrinoStatement::Execute { name, using });
    }
    if words.keyword("EXPLAIN") {
        let mut options = Words { rest: words.rest };
        if options.rest.starts_with('(') {
            options.rest = &options.rest[1..];
            options.skip_space();
            if options.keyword("TYPE") || options.keyword("FORMAT") {
                let (shown, sql) = explain_options(&words.rest[1..])?;
                return Ok(TrinoStatement::Explain { shown, sql });
            }
        }
        return Ok(TrinoStatement::Sql(sql));
    }
    if words.keyword("DESCRIBE") {
        if words.keyword("INPUT") || words.keyword("OUTPUT") {
            return Err(SyntaxError(
                "DESCRIBE INPUT/OUTPUT is not supported; prepare the statement over Flight SQL \
                 to learn its parameters and columns"
                    .into(),
            ));
        }
        let table = words.qualified_name()?;
        words.end()?;
        return Ok(TrinoStatement::ShowColumns { table });
    }
    if words.keyword("START") {
        words.expect_keyword("TRANSACTION")?;
        return Ok(TrinoStatement::Transaction(TransactionOp::Begin));
    }
    if words.keyword("COMMIT") {
        return Ok(TrinoStatement::Transaction(TransactionOp::Commit));
    }
    if words.keyword("ROLLBACK") {
        return Ok(TrinoStatement::Transaction(TransactionOp::Rollback));
    }
    if words.keyword("SHOW") {
        if words.keyword("CATALOGS") {
            let like = words.like()?;
            words.end()?;
            return Ok(TrinoStatement::ShowCatalogs { like });
        }
        if words.keyword("SCHEMAS") {
            let catalog = if words.keyword("FROM") || words.keyword("IN") {
                Some(words.identifier()?)
            } else {
                None
            };
            let like = words.like()?;
            words.end()?;
            return Ok(TrinoStatement::ShowSchemas { catalog, like });
        }
        if words.keyword("TABLES") {
            let from = if words.keyword("FROM") || words.keyword("IN") {
                words.qualified_name()?
            } else {
                Vec::new()
            };
            let like = words.like()?;
            words.end()?;
            return Ok(TrinoStatement::ShowTables { from, like });
        }
        if words.keyword("STATS") {
            words.expect_keyword("FOR")?;
            if words.rest().trim_start().starts_with('(') {
                return Err(SyntaxError(
                    "SHOW STATS FOR (query) is not supported; SHOW STATS FOR <table> is".into(),
                ));
            }
            let table = words.qualified_name()?;
            words.end()?;
            return Ok(TrinoStatement::ShowStats { table });
        }
        if words.keyword("CREATE") {
            if !words.keyword("TABLE") {
                return Err(SyntaxError(
                    "SHOW CREATE supports TABLE; there are no views or materialized views here"
                        .into(),
                ));
            }
            let table = words.qualified_name()?;
            words.end()?;
            return Ok(TrinoStatement::ShowCreateTable { table });
        }
        if words.keyword("COLUMNS") {
            if !(words.keyword("FROM") || words.keyword("IN")) {
                return Err(SyntaxError("SHOW COLUMNS needs FROM <table>".into()));
            }
            let table = words.qualified_name()?;
            words.end()?;
            return Ok(TrinoStatement::ShowColumns { table });
        }
    }
    Ok(TrinoStatement::Sql(sql))
}

/// `TYPE x, FORMAT y) statement` (after `EXPLAIN (`): which plan to show, and the statement.
fn explain_options(text: &str) -> Result<(ExplainType, &str), SyntaxError> {
    let mut words = Words::new(text);
    let mut shown = ExplainType::Distributed;
    loop {
        if words.keyword("TYPE") {
            shown = match words.identifier()?.as_str() {
                "distributed" => ExplainType::Distributed,
                "logical" => ExplainType::Logical,
                "validate" => ExplainType::Validate,
                other => {
                    return Err(SyntaxError(format!(
                        "EXPLAIN (TYPE {}) is not supported; TYPE takes DISTRIBUTED, LOGICAL \
                         or VALIDATE",
                        other.to_ascii_uppercase()
                    )));
                }
            };
        } else if words.keyword("FORMAT") {
            let format = words.identifier()?;
            if format != "text" {
                return Err(SyntaxError(format!(
                    "EXPLAIN (FORMAT {}) is not supported; plans are shown as TEXT",
                    format.to_ascii_uppercase()
                )));
            }
        } else {
            return Err(words.unexpected("TYPE or FORMAT"));
        }
        if words.rest.starts_with(',') {
            words.expect_symbol(',')?;
            continue;
        }
        words.expect_symbol(')')?;
        break;
    }
    let sql = words.rest().trim();
    if sql.is_empty() {
        return Err(SyntaxError("EXPLAIN: the statement is missing".into()));
    }
    Ok((shown, sql))
}

/// The value of a `SET SESSION` literal: a quoted string unquoted, a number or boolean as
/// written.
fn literal_text(text: &str) -> Result<String, SyntaxError> {
    if text.starts_with('\'') {
        let mut words = Words::new(text);
        let value = words.string_literal()?;
        words.end()?;
        return Ok(value);
    }
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'));
    if plain {
        Ok(text.to_string())
    } else {
        Err(SyntaxError(format!(
            "SET SESSION takes a string, number or boolean literal, got {text:?}"
        )))
    }
}

/// A cursor over the leading words of a statement.
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Self {
        let mut words = Self { rest: text };
        words.skip_space();
        words
    }

    fn rest(&self) -> &'a str {
        self.rest
    }

    /// Skips whitespace and `--` / `/* */` comments.
    fn skip_space(&mut self) {
        loop {
            let trimmed = self.rest.trim_start();
            if let Some(after) = trimmed.strip_prefix("--") {
                self.rest = after.find('\n').map_or("", |end| &after[end..]);
            } else if let Some(after) = trimmed.strip_prefix("/*") {
                self.rest = after.find("*/").map_or("", |end| &after[end + 2..]);
            } else {
                self.rest = trimmed;
                return;
            }
        }
    }

    /// Consumes `word` (any case) if it is next and whole.
    fn keyword(&mut self, word: &str) -> bool {
        let Some(head) = self.rest.get(..word.len()) else {
            return false;
        };
        let whole = self.rest[word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_identifier_char(c));
        if head.eq_ignore_ascii_case(word) && whole {
            self.rest = &self.rest[word.len()..];
            self.skip_space();
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), SyntaxError> {
        if self.keyword(word) {
            Ok(())
        } else {
            Err(self.unexpected(word))
        }
    }

    fn expect_symbol(&mut self, symbol: char) -> Result<(), SyntaxError> {
        match self.rest.strip_prefix(symbol) {
            Some(after) => {
                self.rest = after;
                self.skip_space();
                Ok(())
            }
            None => Err(self.unexpected(&symbol.to_string())),
        }
    }

    /// An identifier: unquoted ones fold to lower case, as Trino folds them; `"quoted"` ones
    /// keep their case.
    fn identifier(&mut self) -> Result<String, SyntaxError> {
        if let Some(after) = self.rest.strip_prefix('"') {
            let mut name = String::new();
            let mut chars = after.char_indices();
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if after[i + 1..].starts_with('"') {
                        name.push('"');
                        chars.next();
                        continue;
                    }
                    self.rest = &after[i + 1..];
                    self.skip_space();
                    return Ok(name);
                }
                name.push(c);
            }
            return Err(SyntaxError("a quoted identifier is not closed".into()));
        }
        let end = self
            .rest
            .find(|c: char| !is_identifier_char(c))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return Err(self.unexpected("an identifier"));
        }
        let name = self.rest[..end].to_ascii_lowercase();
        self.rest = &self.rest[end..];
        self.skip_space();
        Ok(name)
    }

    /// `a`, `a.b` or `a.b.c`.
    fn qualified_name(&mut self) -> Result<Vec<String>, SyntaxError> {
        let mut parts = vec![self.identifier()?];
        while let Some(after) = self.rest.strip_prefix('.') {
            self.rest = after;
            parts.push(self.identifier()?);
        }
        Ok(parts)
    }

    /// A `'single quoted'` string, `''` standing for one quote.
    fn string_literal(&mut self) -> Result<String, SyntaxError> {
        let Some(after) = self.rest.strip_prefix('\'') else {
            return Err(self.unexpected("a string literal"));
        };
        let mut value = String::new();
        let mut chars = after.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if after[i + 1..].starts_with('\'') {
                    value.push('\'');
                    chars.next();
                    continue;
                }
                self.rest = &after[i + 1..];
                self.skip_space();
                return Ok(value);
            }
            value.push(c);
        }
        Err(SyntaxError("a string literal is not closed".into()))
    }

    /// `USING expr, ...` up to the end, if present.
    fn using(&mut self) -> Result<Option<&'a str>, SyntaxError> {
        if self.keyword("USING") {
            let list = self.rest.trim().trim_end_matches(';').trim();
            if list.is_empty() {
                return Err(SyntaxError("USING needs at least one value".into()));
            }
            self.rest = "";
            return Ok(Some(list));
        }
        self.end()?;
        Ok(None)
    }

    fn like(&mut self) -> Result<Option<String>, SyntaxError> {
        if self.keyword("LIKE") {
            return self.string_literal().map(Some);
        }
        Ok(None)
    }

    /// Nothing but an optional `;` is left.
    fn end(&mut self) -> Result<(), SyntaxError> {
        let rest = self.rest.trim().trim_end_matches(';').trim();
        if rest.is_empty() {
            Ok(())
        } else {
            Err(SyntaxError(format!("unexpected {:?}", shorten(rest))))
        }
    }

    fn unexpected(&self, wanted: &str) -> SyntaxError {
        let found = if self.rest.is_empty() {
            "the end of the statement".to_string()
        } else {
            format!("{:?}", shorten(self.rest))
        };
        SyntaxError(format!("expected {wanted}, found {found}"))
    }
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_prepared_statements_are_recognised() {
        assert_eq!(
            parse("SET SESSION query_max_run_time = '10m'").unwrap(),
            TrinoStatement::SetSession {
                name: "query_max_run_time".into(),
                value: "10m".into()
            }
        );
        assert_eq!(
            parse("prepare st_1 FROM SELECT ? + 1").unwrap(),
            TrinoStatement::Prepare {
                name: "st_1".into(),
                sql: "SELECT ? + 1"
            }
        );
        assert_eq!(
            parse("EXECUTE IMMEDIATE 'SELECT ''a'', ?' USING 1").unwrap(),
            TrinoStatement::ExecuteImmediate {
                sql: "SELECT 'a', ?".into(),
                using: Some("1")
            }
        );
        assert_eq!(
            parse("EXECUTE st_1 USING DATE '2024-01-01', 'x'").unwrap(),
            TrinoStatement::Execute {
                name: "st_1".into(),
                using: Some("DATE '2024-01-01', 'x'")
            }
        );
        assert_eq!(
            parse("DEALLOCATE PREPARE st_1").unwrap(),
            TrinoStatement::Deallocate {
                name: "st_1".into()
            }
        );
    }

    #[test]
    fn show_statements_and_plain_sql() {
        assert_eq!(
            parse("SHOW TABLES FROM lake.tpch LIKE 'line%'").unwrap(),
            TrinoStatement::ShowTables {
                from: vec!["lake".into(), "tpch".into()],
                like: Some("line%".into())
            }
        );
        assert_eq!(
            parse("describe \"TPCH\".lineitem").unwrap(),
            TrinoStatement::ShowColumns {
                table: vec!["TPCH".into(), "lineitem".into()]
            }
        );
        assert_eq!(parse("SELECT 1").unwrap(), TrinoStatement::Sql("SELECT 1"));
        assert_eq!(
            parse("SET TIME ZONE 'UTC'").unwrap(),
            TrinoStatement::Sql("SET TIME ZONE 'UTC'")
        );
        let err = parse("SHOW TABLES FROM tpch extra").unwrap_err();
        assert!(err.0.contains("extra"), "{err}");
        assert!(parse("EXECUTE IMMEDIATE 'SELECT 1").is_err());
    }
}
