//! Limits on the SQL text itself, checked before it is parsed: its size, and how deep its
//! expressions chain.
//!
//! The parser, the planner, the optimiser and expression evaluation each recurse once per level
//! of an expression, and `a OR b OR c ...` is one level per operator: a dashboard's generated
//! `WHERE` of ten thousand `OR`s is ten thousand levels. Deep enough, a thread's stack runs out
//! and the process aborts, taking every other query with it. So the depth is estimated from the
//! tokens (a flat pass that cannot overflow) and a statement over the limit is refused with an
//! error naming where; the server's threads have stacks sized to hold the limit (`main.rs`).
//! Parentheses, subqueries and function calls nest in the parser, which refuses more than 50
//! levels of them on its own ([`StatementError::NestedTooDeep`]).

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::statement::{Position, StatementError};

/// What one statement may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLimits {
    /// Bytes of SQL text (`query.max_sql_bytes`).
    pub max_bytes: usize,
    /// Operators chained in one expression, plus the levels around it
    /// (`query.max_expression_depth`).
    pub max_depth: usize,
}

impl SqlLimits {
    /// Refuses `sql` if it is over either limit.
    pub fn check(&self, sql: &str) -> Result<(), StatementError> {
        if sql.len() > self.max_bytes {
            return Err(StatementError::TooLarge {
                bytes: sql.len(),
                limit: self.max_bytes,
            });
        }
        match deepest(sql) {
            Some((depth, position)) if depth > self.max_depth => Err(StatementError::TooDeep {
                depth,
                limit: self.max_depth,
                position,
            }),
            _ => Ok(()),
        }
    }
}

/// The deepest expression in `sql` by the estimate below, and where it got that deep; `None`
/// when the text does not tokenize (the parser then says why).
///
/// Each open parenthesis or bracket is a level holding a count of the operators chained in it
/// since the last comma or clause keyword; an expression's depth is the sum of the counts of
/// the levels it sits in, plus how many there are.
fn deepest(sql: &str) -> Option<(usize, Position)> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    let mut chains: Vec<usize> = vec![0];
    let mut total = 0usize;
    let mut deepest = (0, Position { line: 1, column: 1 });
    for token in tokens {
        match &token.token {
            Token::LParen | Token::LBracket | Token::LBrace => chains.push(0),
            Token::RParen | Token::RBracket | Token::RBrace => {
                if chains.len() > 1 {
                    total -= chains.pop().unwrap_or(0);
                }
            }
            Token::Comma | Token::SemiColon => reset(&mut chains, &mut total),
            Token::Word(word) if starts_clause(word.keyword) => reset(&mut chains, &mut total),
            Token::Word(word) if is_operator(word.keyword) => chain(&mut chains, &mut total),
            token if is_symbol_operator(token) => chain(&mut chains, &mut total),
            _ => continue,
        }
        let depth = total + chains.len() - 1;
        if depth > deepest.0 {
            let start = token.span.start;
            deepest = (
                depth,
                Position {
                    line: start.line,
                    column: start.column,
                },
            );
        }
    }
    Some(deepest)
}

fn chain(chains: &mut [usize], total: &mut usize) {
    if let Some(current) = chains.last_mut() {
        *current += 1;
        *total += 1;
    }
}

fn reset(chains: &mut [usize], total: &mut usize) {
    if let Some(current) = chains.last_mut() {
        *total -= *current;
        *current = 0;
    }
}

/// Keywords that start a new expression rather than continue one.
fn starts_clause(keyword: Keyword) -> bool {
    matches!(
        keyword,
        Keyword::SELECT
            | Keyword::FROM
            | Keyword::WHERE
            | Keyword::GROUP
            | Keyword::ORDER
            | Keyword::HAVING
            | Keyword::LIMIT
            | Keyword::OFFSET
            | Keyword::JOIN
            | Keyword::ON
            | Keyword::USING
            | Keyword::UNION
            | Keyword::EXCEPT
            | Keyword::INTERSECT
            | Keyword::WITH
            | Keyword::CASE
            | Keyword::WHEN
            | Keyword::THEN
            | Keyword::ELSE
            | Keyword::END
            | Keyword::VALUES
            | Keyword::QUALIFY
            | Keyword::WINDOW
    )
}

/// Keywords that chain one expression onto another.
fn is_operator(keyword: Keyword) -> bool {
    matches!(
        keyword,
        Keyword::AND
            | Keyword::OR
            | Keyword::XOR
            | Keyword::NOT
            | Keyword::IS
            | Keyword::IN
            | Keyword::LIKE
            | Keyword::ILIKE
            | Keyword::SIMILAR
            | Keyword::BETWEEN
            | Keyword::AT
            | Keyword::COLLATE
            | Keyword::DIV
            | Keyword::MOD
    )
}

/// Symbols that chain one expression onto another (every token that is not a name, a literal,
/// punctuation or space).
fn is_symbol_operator(token: &Token) -> bool {
    !matches!(
        token,
        Token::EOF
            | Token::Word(_)
            | Token::Number(..)
            | Token::Char(_)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::QuoteDelimitedStringLiteral(_)
            | Token::NationalQuoteDelimitedStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::Comma
            | Token::Whitespace(_)
            | Token::Period
            | Token::SemiColon
            | Token::LParen
            | Token::RParen
            | Token::LBracket
            | Token::RBracket
            | Token::LBrace
            | Token::RBrace
            | Token::Placeholder(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SqlLimits = SqlLimits {
        max_bytes: 1000,
        max_depth: 10,
    };

    fn or_chain(terms: usize) -> String {
        let terms: Vec<String> = (0..terms).map(|i| format!("x = {i}")).collect();
        format!("SELECT 1 FROM t WHERE {}", terms.join(" OR "))
    }

    #[test]
    fn chained_operators_count_and_commas_and_clauses_start_over() {
        assert_eq!(deepest("SELECT 1").map(|d| d.0), Some(0));
        assert_eq!(deepest("SELECT a + b + c").map(|d| d.0), Some(2));
        // Two columns of two operators each are not a chain of four.
        assert_eq!(deepest("SELECT a + b, c + d").map(|d| d.0), Some(1));
        assert_eq!(
            deepest("SELECT a + b FROM t WHERE c = 1").map(|d| d.0),
            Some(1)
        );
        // Inside parentheses: each level counts, with what chains in and around it.
        assert_eq!(deepest("SELECT a + (b * (c - d))").map(|d| d.0), Some(5));
        // `x = 0 OR x = 1 OR x = 2`: five operators in one chain.
        assert_eq!(deepest(&or_chain(3)).map(|d| d.0), Some(5));
    }

    #[test]
    fn a_statement_over_a_limit_is_refused_naming_it_and_where() {
        assert_eq!(LIMITS.check(&or_chain(5)), Ok(()));
        let Err(StatementError::TooDeep {
            depth,
            limit,
            position,
        }) = LIMITS.check(&or_chain(6))
        else {
            panic!("expected the chain to be refused");
        };
        assert_eq!((depth, limit), (11, 10));
        assert_eq!(position.line, 1);
        let long = format!("SELECT '{}'", "x".repeat(1000));
        assert_eq!(
            LIMITS.check(&long),
            Err(StatementError::TooLarge {
                bytes: 1009,
                limit: 1000
            })
        );
        // Text that does not tokenize is the parser's to explain.
        assert_eq!(LIMITS.check("SELECT 'unterminated"), Ok(()));
    }
}
