//! Trino's time travel syntax, rewritten into table names the catalog resolves.
//!
//! ```text
//!   FROM orders FOR VERSION AS OF 8954597067493422955      -- a snapshot id
//!   FROM orders FOR VERSION AS OF 'audit-branch'           -- a branch or tag
//!   FROM orders FOR TIMESTAMP AS OF TIMESTAMP '2024-05-01 09:00:00 UTC'
//!   FROM orders FOR TIMESTAMP AS OF DATE '2024-05-01'
//!     ──▶ FROM "orders$version=8954597067493422955" AS "orders"   (and so on)
//! ```
//!
//! The parser DataFusion uses knows none of this, so the clause is taken out of the text before
//! parsing and folded into the table's name (see [`crate::catalog::TableName`]); an alias keeps
//! the table's own name for qualified columns unless the query gives one. Only the tokens of
//! the clause and its table name change, so quotes, comments and everything else stay as
//! written.

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Word};

use crate::catalog::{TableName, TableVersion};
use crate::statement::{Position, StatementError};

/// `sql` with every `FOR VERSION|TIMESTAMP AS OF` clause folded into its table's name; the
/// text unchanged when it has none (or does not tokenize: the parser then says why).
pub fn rewrite_time_travel(sql: &str) -> Result<String, StatementError> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location() else {
        return Ok(sql.to_string());
    };
    let offsets = Offsets::new(sql);
    let mut out = String::with_capacity(sql.len() + 32);
    let mut copied = 0;
    let mut i = 0;
    while i < tokens.len() {
        let Some(clause) = clause_at(&tokens, i)? else {
            i += 1;
            continue;
        };
        let last_part = &tokens[clause.name_last];
        out.push_str(&sql[copied..offsets.at(last_part.span.start)]);
        let Token::Word(table) = &last_part.token else {
            unreachable!("clause_at only accepts a word as the table name")
        };
        out.push_str(&quoted(&TableName::versioned(
            &table.value,
            &clause.version,
        )));
        if !clause.has_alias {
            out.push_str(" AS ");
            out.push_str(&quoted(&table.value));
        }
        copied = tokens
            .get(clause.end)
            .map_or(sql.len(), |t| offsets.at(t.span.start));
        i = clause.end;
    }
    if copied == 0 {
        return Ok(sql.to_string());
    }
    out.push_str(&sql[copied..]);
    Ok(out)
}

/// A time travel clause found in the token stream.
struct Clause {
    /// The token of the table's own name (the last part of a qualified name).
    name_last: usize,
    version: TableVersion,
    /// The first token after the clause's value.
    end: usize,
    /// Whether the query names the reference itself (`... AS o`, `... o`).
    has_alias: bool,
}

/// The clause starting at token `i` (`FOR`), if one does.
fn clause_at(tokens: &[TokenWithSpan], i: usize) -> Result<Option<Clause>, StatementError> {
    if !is_keyword(&tokens[i].token, Keyword::FOR) {
        return Ok(None);
    }
    let mut next = i + 1;
    let mut word = |keyword: Keyword| {
        let at = skip_blank(tokens, next);
        let found = tokens
            .get(at)
            .is_some_and(|t| is_keyword(&t.token, keyword));
        if found {
            next = at + 1;
        }
        found
    };
    let by_version = word(Keyword::VERSION);
    if !by_version && !word(Keyword::TIMESTAMP) {
        return Ok(None);
    }
    if !word(Keyword::AS) || !word(Keyword::OF) {
        return Ok(None);
    }
    // The table name right before FOR (its last part, when qualified).
    let Some(name_last) = previous_token(tokens, i) else {
        return Ok(None);
    };
    if !matches!(tokens[name_last].token, Token::Word(_)) {
        return Ok(None);
    }
    let value_at = skip_blank(tokens, next);
    let (version, end) = if by_version {
        version_value(tokens, value_at)?
    } else {
        timestamp_value(tokens, value_at)?
    };
    let after = skip_blank(tokens, end);
    let has_alias = tokens.get(after).is_some_and(|t| match &t.token {
        Token::Word(w) => w.keyword == Keyword::AS || w.keyword == Keyword::NoKeyword,
        _ => false,
    });
    Ok(Some(Clause {
        name_last,
        version,
        end,
        has_alias,
    }))
}

/// `FOR VERSION AS OF` takes a snapshot id or a quoted branch or tag name.
fn version_value(
    tokens: &[TokenWithSpan],
    at: usize,
) -> Result<(TableVersion, usize), StatementError> {
    let (negative, at) = match tokens.get(at).map(|t| &t.token) {
        Some(Token::Minus) => (true, skip_blank(tokens, at + 1)),
        _ => (false, at),
    };
    match tokens.get(at).map(|t| &t.token) {
        Some(Token::Number(digits, _)) => {
            let text = if negative {
                format!("-{digits}")
            } else {
                digits.clone()
            };
            let id = text.parse::<i64>().map_err(|_| {
                bad_clause(
                    tokens,
                    at,
                    format!("FOR VERSION AS OF {text}: a snapshot id is a 64-bit integer"),
                )
            })?;
            Ok((TableVersion::Snapshot(id), at + 1))
        }
        Some(Token::SingleQuotedString(name)) if !negative => {
            Ok((TableVersion::Ref(name.clone()), at + 1))
        }
        _ => Err(bad_clause(
            tokens,
            at,
            "FOR VERSION AS OF takes a snapshot id or a quoted branch or tag name".into(),
        )),
    }
}

/// `FOR TIMESTAMP AS OF` takes `TIMESTAMP '...'`, `DATE '...'` or a quoted timestamp.
fn timestamp_value(
    tokens: &[TokenWithSpan],
    at: usize,
) -> Result<(TableVersion, usize), StatementError> {
    let (typed_date, literal_at) = match tokens.get(at).map(|t| &t.token) {
        Some(t) if is_keyword(t, Keyword::TIMESTAMP) => (false, skip_blank(tokens, at + 1)),
        Some(t) if is_keyword(t, Keyword::DATE) => (true, skip_blank(tokens, at + 1)),
        _ => (false, at),
    };
    let Some(Token::SingleQuotedString(text)) = tokens.get(literal_at).map(|t| &t.token) else {
        return Err(bad_clause(
            tokens,
            at,
            "FOR TIMESTAMP AS OF takes TIMESTAMP '...' or DATE '...'".into(),
        ));
    };
    let millis = if typed_date {
        parse_date(text)
    } else {
        parse_timestamp(text)
    }
    .ok_or_else(|| {
        bad_clause(
            tokens,
            literal_at,
            format!(
                "FOR TIMESTAMP AS OF: '{text}' is not a date or a timestamp \
                 (YYYY-MM-DD[ HH:MM:SS[.fff]][ UTC|Z|+HH:MM])"
            ),
        )
    })?;
    Ok((TableVersion::AsOf(millis), literal_at + 1))
}

/// Milliseconds since the epoch of a timestamp in UTC, or with `Z`, `UTC` or an offset.
fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let (local, offset_secs) = split_zone(text)?;
    let local = local.trim();
    let naive = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(local, format).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(local, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    Some(naive.and_utc().timestamp_millis() - offset_secs * 1000)
}

/// The local part and the zone's offset from UTC in seconds.
fn split_zone(text: &str) -> Option<(&str, i64)> {
    for suffix in [" UTC", "UTC", "Z"] {
        if let Some(local) = text.strip_suffix(suffix) {
            return Some((local, 0));
        }
    }
    // `+02:00` / `-05:30` after the time (a date's own dashes come before the space or T).
    if let Some(at) = text.rfind(['+', '-'])
        && at > 10
    {
        let (local, zone) = text.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
        let hours: i64 = hours.trim().parse().ok()?;
        let minutes: i64 = minutes.trim().parse().ok()?;
        return Some((local, sign * (hours * 3600 + minutes * 60)));
    }
    Some((text, 0))
}

fn parse_date(text: &str) -> Option<i64> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

fn is_keyword(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(Word { keyword: k, quote_style: None, .. }) if *k == keyword)
}

fn skip_blank(tokens: &[TokenWithSpan], mut at: usize) -> usize {
    while tokens
        .get(at)
        .is_some_and(|t| matches!(t.token, Token::Whitespace(_)))
    {
        at += 1;
    }
    at
}

fn previous_token(tokens: &[TokenWithSpan], before: usize) -> Option<usize> {
    (0..before)
        .rev()
        .find(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn bad_clause(tokens: &[TokenWithSpan], at: usize, message: String) -> StatementError {
    let location = tokens
        .get(at)
        .or(tokens.last())
        .map(|t| t.span.start)
        .unwrap_or(Location { line: 1, column: 1 });
    StatementError::Syntax {
        message,
        position: Some(Position {
            line: location.line,
            column: location.column,
        }),
    }
}

/// Byte offsets of token locations (lines and columns count characters from 1).
struct Offsets<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(sql: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(sql.match_indices('\n').map(|(at, _)| at + 1));
        Self { sql, line_starts }
    }

    fn at(&self, location: Location) -> usize {
        let line = (location.line.max(1) - 1) as usize;
        let start = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.sql.len());
        self.sql[start..]
            .char_indices()
            .nth((location.column.max(1) - 1) as usize)
            .map_or(self.sql.len(), |(at, _)| start + at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(sql: &str) -> String {
        rewrite_time_travel(sql).expect("rewrites")
    }

    #[test]
    fn versions_become_table_names_with_the_table_as_alias() {
        assert_eq!(
            rewrite("SELECT o.x FROM lake.tpch.orders FOR VERSION AS OF 42 WHERE 1 = 1"),
            "SELECT o.x FROM lake.tpch.\"orders$version=42\" AS \"orders\" WHERE 1 = 1"
        );
        assert_eq!(
            rewrite("select * from orders for version as of 'audit' o join t on true"),
            "select * from \"orders$ref=audit\" o join t on true"
        );
        assert_eq!(
            rewrite(
                "SELECT 1 FROM \"Orders\" FOR TIMESTAMP AS OF TIMESTAMP '2024-01-02 03:04:05.5 UTC' AS x"
            ),
            "SELECT 1 FROM \"Orders$timestamp=1704164645500\" AS x"
        );
        assert_eq!(
            rewrite("SELECT 1 FROM t FOR TIMESTAMP AS OF DATE '2024-01-02'"),
            "SELECT 1 FROM \"t$timestamp=1704153600000\" AS \"t\""
        );
    }

    #[test]
    fn zones_and_untouched_text() {
        assert_eq!(
            parse_timestamp("2024-01-02 03:00:00 +02:00"),
            parse_timestamp("2024-01-02 01:00:00 UTC")
        );
        let plain = "SELECT 'FOR VERSION AS OF 1' -- FOR VERSION AS OF 2\nFROM t";
        assert_eq!(rewrite(plain), plain);
        assert_eq!(
            rewrite("SELECT * FROM t FOR UPDATE"),
            "SELECT * FROM t FOR UPDATE"
        );
    }

    #[test]
    fn bad_values_are_syntax_errors_at_the_value() {
        let err = rewrite_time_travel("SELECT * FROM t FOR VERSION AS OF now()").unwrap_err();
        assert!(matches!(
            err,
            StatementError::Syntax {
                position: Some(Position {
                    line: 1,
                    column: 35
                }),
                ..
            }
        ));
        assert!(
            rewrite_time_travel("SELECT * FROM t FOR TIMESTAMP AS OF TIMESTAMP 'yesterday'")
                .unwrap_err()
                .to_string()
                .contains("'yesterday'")
        );
    }
}
