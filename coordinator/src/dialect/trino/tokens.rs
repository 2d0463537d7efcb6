//! Trino syntax sqlparser has no parse for, respelled token by token before parsing:
//! `VALUES 1, 2` (rows without parentheses) as `VALUES (1), (2)`, the type `ARRAY(T)` as
//! `ARRAY<T>`, `trim(LEADING FROM s)` (no characters named: spaces) as
//! `trim(LEADING ' ' FROM s)`, and `10_000` as `10000`. Text with none of them is returned as it
//! came, so error positions stay exact.

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
        if let Token::Number(digits, _) = &tokens[i]
            && digits.contains('_')
        {
            // `10_000_000`: the tokenizer takes the underscores, the planner would not.
            out[i] = digits.replace('_', "");
            changed = true;
            continue;
        }
        let Some(&next) = code.get(k + 1) else {
            continue;
        };
        let Token::Word(word) = &tokens[i] else {
            continue;
        };
        if matches!(
            word.keyword,
            Keyword::LEADING | Keyword::TRAILING | Keyword::BOTH
        ) && matches!(&tokens[next], Token::Word(w) if w.keyword == Keyword::FROM)
            && k >= 2
            && tokens[code[k - 1]] == Token::LParen
            && matches!(&tokens[code[k - 2]], Token::Word(w) if w.keyword == Keyword::TRIM)
        {
            // `trim(LEADING FROM s)`: Trino trims spaces when no characters are named.
            out[i] = format!("{word} ' '");
            changed = true;
        } else if word.keyword == Keyword::ARRAY && tokens[next] == Token::LParen {
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
        assert_eq!(
            respelled("SELECT trim(LEADING FROM '  a'), trim(both FROM s)"),
            "SELECT trim(LEADING ' ' FROM '  a'), trim(both ' ' FROM s)"
        );
        assert_eq!(
            respelled("SELECT 13_700_000 >= 1_0.5"),
            "SELECT 13700000 >= 10.5"
        );
        assert_eq!(
            respelled("SELECT trim(TRAILING 'x' FROM s)"),
            "SELECT trim(TRAILING 'x' FROM s)"
        );
    }
}
