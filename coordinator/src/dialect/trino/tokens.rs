//! Trino syntax sqlparser has no parse for, respelled token by token before parsing:
//! `VALUES 1, 2` (rows without parentheses) as `VALUES (1), (2)`, and the type `ARRAY(T)` as
//! `ARRAY<T>`. Text with neither is returned as it came, so error positions stay exact.

use std::borrow::Cow;

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use super::syntax::TrinoSyntax;

/// Keywords that end a `VALUES` list written without parentheses.
const ENDS_VALUES: &[Keyword] = &[
    Keyword::ORDER,
    Keyword::LIMIT,
    Keyword::OFFSET,
    Keyword::FETCH,
    Keyword::UNION,
    Keyword::EXCEPT,
    Keyword::INTERSECT,
];

pub fn respelled(sql: &str) -> Cow<'_, str> {
    let Ok(tokens) = Tokenizer::new(&TrinoSyntax, sql).tokenize() else {
        // Let the parser report the error, with its position.
        return Cow::Borrowed(sql);
    };
    // Each token's text; a rewrite replaces or wraps texts.
    let mut out: Vec<String> = tokens.iter().map(ToString::to_string).collect();
    let mut changed = false;
    let code: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i], Token::Whitespace(_)))
        .collect();
    for (k, &i) in code.iter().enumerate() {
        let Some(&next) = code.get(k + 1) else {
            continue;
        };
        let Token::Word(word) = &tokens[i] else {
            continue;
        };
        if word.keyword == Keyword::ARRAY && tokens[next] == Token::LParen {
            if let Some(close) = matching(&tokens, &code[k + 1..]) {
                out[next] = "<".into();
                out[close] = ">".into();
                changed = true;
            }
        } else if word.keyword == Keyword::VALUES && tokens[next] != Token::LParen {
            wrap_rows(&tokens, &code[k + 1..], &mut out);
            changed = true;
        }
    }
    if !changed {
        return Cow::Borrowed(sql);
    }
    Cow::Owned(out.concat())
}

/// The index of the `)` closing the `(` at `code[0]`.
fn matching(tokens: &[Token], code: &[usize]) -> Option<usize> {
    let mut depth = 0usize;
    for &i in code {
        match tokens[i] {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Puts parentheses around each comma-separated row from `code[0]` to the end of the list.
fn wrap_rows(tokens: &[Token], code: &[usize], out: &mut [String]) {
    let mut depth = 0usize;
    let mut start = code.first().copied();
    let mut last = None;
    let close = |first: Option<usize>, last: Option<usize>, out: &mut [String]| {
        if let (Some(first), Some(last)) = (first, last) {
            out[first].insert(0, '(');
            out[last].push(')');
        }
    };
    for &i in code {
        match &tokens[i] {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket if depth == 0 => break,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::SemiColon | Token::EOF if depth == 0 => break,
            Token::Word(w) if depth == 0 && ENDS_VALUES.contains(&w.keyword) => break,
            Token::Comma if depth == 0 => {
                close(start, last, out);
                start = None;
                last = None;
                continue;
            }
            _ => {}
        }
        start = start.or(Some(i));
        last = Some(i);
    }
    close(start, last, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_without_parentheses_and_array_types() {
        assert_eq!(
            respelled("SELECT * FROM (VALUES 'a', 'c') t(v)"),
            "SELECT * FROM (VALUES ('a'), ('c')) t(v)"
        );
        assert_eq!(
            respelled("VALUES 1, abs(-2) ORDER BY 1"),
            "VALUES (1), (abs(-2)) ORDER BY 1"
        );
        assert_eq!(
            respelled("SELECT CAST(x AS ARRAY(ARRAY(INTEGER)))"),
            "SELECT CAST(x AS ARRAY<ARRAY<INTEGER>>)"
        );
        assert_eq!(respelled("SELECT ARRAY[1, 2]"), "SELECT ARRAY[1, 2]");
        assert_eq!(respelled("VALUES (1), (2)"), "VALUES (1), (2)");
    }
}
