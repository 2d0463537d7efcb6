//! Trino syntax sqlparser has no parse for, respelled token by token before parsing:
//! `VALUES 1, 2` (rows without parentheses) as `VALUES (1), (2)` (and as a subquery after
//! `ANY`/`ALL`/`SOME`), the type `ARRAY(T)` as
//! `ARRAY<T>`, `trim(LEADING FROM s)` (no characters named: spaces) as
//! `trim(LEADING ' ' FROM s)`, `10_000` as `10000`, `0x1F`, `0o17` and `0b101` as decimal
//! integers, `U&'\2603'` (with or without `UESCAPE`) as the plain string it spells, and
//! `IPADDRESS '10.0.0.1'` / `UUID '...'` as `ipaddress('10.0.0.1')` / `uuid_value('...')`.
//! Text with none of them is returned as it came, so error positions stay exact.

use std::borrow::Cow;

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

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
    let Ok(located) = Tokenizer::new(&TrinoSyntax, sql).tokenize_with_location() else {
        // Let the parser report the error, with its position.
        return Cow::Borrowed(sql);
    };
    let lines: Vec<&str> = sql.split('\n').collect();
    // Whether the token starts with a digit in the text: `0x1F`, not `X'1F'`.
    let starts_with_digit = |t: &TokenWithSpan| {
        let start = t.span.start;
        let line = usize::try_from(start.line)
            .ok()
            .and_then(|l| lines.get(l.checked_sub(1)?));
        let column = usize::try_from(start.column)
            .ok()
            .and_then(|c| c.checked_sub(1));
        match (line, column) {
            (Some(line), Some(column)) => line.chars().nth(column).is_some_and(|c| c == '0'),
            _ => false,
        }
    };
    // Only hex literals are looked up in the text: a lookup walks its line.
    let radix_literal: Vec<bool> = located
        .iter()
        .map(|t| matches!(t.token, Token::HexStringLiteral(_)) && starts_with_digit(t))
        .collect();
    let tokens: Vec<Token> = located.into_iter().map(|t| t.token).collect();
    // Each token's text; a rewrite replaces or wraps texts.
    let mut out: Vec<String> = tokens.iter().map(ToString::to_string).collect();
    let mut changed = false;
    let code: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i], Token::Whitespace(_)))
        .collect();
    for (k, &i) in code.iter().enumerate() {
        if let Token::HexStringLiteral(digits) = &tokens[i]
            && radix_literal[i]
            && let Some(value) = integer(digits, 16)
        {
            out[i] = value;
            changed = true;
            continue;
        }
        if let (Token::Number(zero, _), Some(Token::Word(word))) = (&tokens[i], tokens.get(i + 1))
            && zero == "0"
            && word.quote_style.is_none()
        {
            // `0o17`, `0b101`: the tokenizer reads `0` and then a word.
            let radix = match word.value.chars().next() {
                Some('o' | 'O') => Some(8),
                Some('b' | 'B') => Some(2),
                Some('X') => Some(16),
                _ => None,
            };
            if let Some(value) = radix.and_then(|r| integer(&word.value[1..], r)) {
                out[i] = value;
                out[i + 1] = String::new();
                changed = true;
                continue;
            }
        }
        if let Token::UnicodeStringLiteral(text) = &tokens[i] {
            out[i] = unicode_string(text, &tokens, &code[k + 1..], &mut out);
            changed = true;
            continue;
        }
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
        } else if matches!(&tokens[next], Token::SingleQuotedString(_))
            && word.quote_style.is_none()
            && let Some(function) = literal_function(&word.value)
        {
            // `IPADDRESS '10.0.0.1'`: the value checked and written canonically.
            out[i] = function.to_string();
            out[next] = format!("({})", tokens[next]);
            changed = true;
        } else if matches!(word.keyword, Keyword::ANY | Keyword::ALL | Keyword::SOME)
            && tokens[next] == Token::LParen
            && matches!(code.get(k + 2).map(|&v| &tokens[v]), Some(Token::Word(w)) if w.keyword == Keyword::VALUES)
            && let Some(close) = matching(&tokens, &code[k + 1..])
        {
            // `= ANY (VALUES ...)`: sqlparser reads only a SELECT there as a subquery.
            out[next] = "(SELECT * FROM (".into();
            out[close] = "))".into();
            changed = true;
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

/// The function that reads a literal of a Trino type DataFusion lacks (`IPADDRESS '...'`).
fn literal_function(type_name: &str) -> Option<&'static str> {
    if type_name.eq_ignore_ascii_case("ipaddress") {
        Some("ipaddress")
    } else if type_name.eq_ignore_ascii_case("uuid") {
        Some("uuid_value")
    } else {
        None
    }
}

/// `digits` (underscores allowed between them) in `radix`, as decimal text.
fn integer(digits: &str, radix: u32) -> Option<String> {
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() {
        return None;
    }
    i128::from_str_radix(&digits, radix)
        .ok()
        .map(|v| v.to_string())
}

/// A `U&'...'` string as a plain literal. The tokenizer has decoded `\XXXX` escapes; with
/// `UESCAPE 'c'` after it (whose tokens are blanked here) the escapes written with `c` are
/// decoded instead.
fn unicode_string(decoded: &str, tokens: &[Token], code: &[usize], out: &mut [String]) -> String {
    let escape = match code {
        [word, quote, ..] if matches!(&tokens[*word], Token::Word(w) if w.value.eq_ignore_ascii_case("uescape")) => {
            match &tokens[*quote] {
                Token::SingleQuotedString(c) if c.chars().count() == 1 => {
                    out[*word] = String::new();
                    out[*quote] = String::new();
                    c.chars().next()
                }
                _ => None,
            }
        }
        _ => None,
    };
    let text = match escape {
        Some(escape) if escape != '\\' => unescaped(decoded, escape),
        _ => decoded.to_string(),
    };
    format!("'{}'", text.replace('\'', "''"))
}

/// `text` with `eXXXX` and `e+XXXXXX` (`e` the escape character) read as code points.
fn unescaped(text: &str, escape: char) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == escape {
            if chars.get(i + 1) == Some(&escape) {
                out.push(escape);
                i += 2;
                continue;
            }
            let (start, width) = if chars.get(i + 1) == Some(&'+') {
                (i + 2, 6)
            } else {
                (i + 1, 4)
            };
            let hex: String = chars.iter().skip(start).take(width).collect();
            if let Some(c) = (hex.len() == width)
                .then(|| u32::from_str_radix(&hex, 16).ok())
                .flatten()
                .and_then(char::from_u32)
            {
                out.push(c);
                i = start + width;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
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
            respelled("SELECT 21 < ALL (VALUES 19, 20)"),
            "SELECT 21 < ALL (SELECT * FROM (VALUES (19), (20)))"
        );
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
        assert_eq!(
            respelled("SELECT 0x0A, 0o40, 0b101010, X'0A'"),
            "SELECT 10, 32, 42, X'0A'"
        );
        assert_eq!(
            respelled("SELECT U&'a \\2603 b', U&'c #2603' UESCAPE '#'"),
            "SELECT 'a \u{2603} b', 'c \u{2603}'  "
        );
        assert_eq!(
            respelled("SELECT IPADDRESS '10.0.0.1', uuid 'x'"),
            "SELECT ipaddress ('10.0.0.1'), uuid_value ('x')"
        );
    }
}
