//! Trino spellings DataFusion plans differently, rewritten in the parsed statement:
//! `if(c, a[, b])` and `count_if(x)` as the `CASE` they mean, `TIMESTAMP '2012-08-08 01:00'`
//! (no seconds) completed, `JSON '...'` literals as `json_parse('...')`, and the convenience
//! extraction functions (`day_of_week`, `year`, ...) as `date_part` with Trino's numbering.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Statement, Value,
    VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::syntax::TrinoSyntax;

/// Rewrites every Trino spelling in `statement`.
pub fn rewrite(statement: &mut Statement) {
    let _ = statement.visit(&mut TrinoSpellings);
}

struct TrinoSpellings;

impl VisitorMut for TrinoSpellings {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(replacement) = respelled(expr) {
            *expr = replacement;
        }
        ControlFlow::Continue(())
    }
}

fn respelled(expr: &Expr) -> Option<Expr> {
    match expr {
        Expr::Function(function) => function_call(function),
        Expr::TypedString(typed) => {
            let text = typed.value.value.clone().into_string()?;
            match &typed.data_type {
                DataType::Timestamp(..) => {
                    let completed = complete_seconds(&text)?;
                    let mut typed = typed.clone();
                    typed.value.value = Value::SingleQuotedString(completed);
                    Some(Expr::TypedString(typed))
                }
                DataType::JSON => parse_expr(&format!("json_parse({})", quoted(&text))),
                DataType::Custom(name, _) if name.to_string().eq_ignore_ascii_case("json") => {
                    parse_expr(&format!("json_parse({})", quoted(&text)))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `2012-08-08 01:00` → `2012-08-08 01:00:00` (Trino accepts a timestamp without seconds).
fn complete_seconds(text: &str) -> Option<String> {
    let (date, rest) = text.trim().split_once(' ')?;
    let (time, zone) = match rest.split_once(' ') {
        Some((time, zone)) => (time, Some(zone)),
        None => (rest, None),
    };
    if time.matches(':').count() != 1 {
        return None;
    }
    Some(match zone {
        Some(zone) => format!("{date} {time}:00 {zone}"),
        None => format!("{date} {time}:00"),
    })
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&TrinoSyntax)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_expr())
        .ok()
}

/// The plain positional arguments of a call, as SQL text; `None` for anything else (named
/// arguments, `DISTINCT`, `ORDER BY` inside the call).
fn plain_args(function: &Function) -> Option<Vec<String>> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return None;
    }
    list.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.to_string()),
            _ => None,
        })
        .collect()
}

fn function_call(function: &Function) -> Option<Expr> {
    let name = function.name.to_string().to_ascii_lowercase();
    let args = plain_args(function)?;
    let sql = match (name.as_str(), args.as_slice()) {
        ("if", [c, a]) => format!("CASE WHEN {c} THEN {a} END"),
        ("if", [c, a, b]) => format!("CASE WHEN {c} THEN {a} ELSE {b} END"),
        ("count_if", [x]) if function.filter.is_none() && function.over.is_none() => {
            format!("count(CASE WHEN {x} THEN 1 END)")
        }
        ("day_of_week" | "dow", [x]) => format!("CAST(date_part('isodow', {x}) AS BIGINT) + 1"),
        ("day_of_year" | "doy", [x]) => format!("CAST(date_part('doy', {x}) AS BIGINT)"),
        ("day" | "day_of_month", [x]) => format!("CAST(date_part('day', {x}) AS BIGINT)"),
        ("week" | "week_of_year", [x]) => format!("CAST(date_part('week', {x}) AS BIGINT)"),
        ("year" | "quarter" | "month" | "hour" | "minute", [x]) => {
            format!("CAST(date_part('{name}', {x}) AS BIGINT)")
        }
        ("second", [x]) => format!("CAST(floor(date_part('second', {x})) AS BIGINT)"),
        ("millisecond", [x]) => format!("CAST(date_part('millisecond', {x}) AS BIGINT) % 1000"),
        ("to_unixtime", [x]) => format!("CAST(date_part('epoch', {x}) AS DOUBLE)"),
        ("date_add", [unit, n, x]) => {
            let unit = unit.trim_matches('\'').to_ascii_lowercase();
            let (count, unit) = match unit.as_str() {
                "week" => ("7", "DAY"),
                "quarter" => ("3", "MONTH"),
                "millisecond" => ("1", "MILLISECOND"),
                "second" | "minute" | "hour" | "day" | "month" | "year" => ("1", unit.as_str()),
                _ => return None,
            };
            format!("({x}) + ({n}) * INTERVAL '{count}' {unit}")
        }
        _ => return None,
    };
    parse_expr(&sql)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::parser::Parser;

    fn rewritten(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&TrinoSyntax, sql).expect("parses");
        let mut statement = statements.remove(0);
        rewrite(&mut statement);
        statement.to_string()
    }

    #[test]
    fn trino_spellings_become_datafusion_sql() {
        assert_eq!(
            rewritten("SELECT if(a > 1, 'x', 'y') FROM t"),
            "SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END FROM t"
        );
        assert_eq!(
            rewritten("SELECT count_if(a > 1) FROM t"),
            "SELECT count(CASE WHEN a > 1 THEN 1 END) FROM t"
        );
        assert_eq!(
            rewritten("SELECT TIMESTAMP '2012-08-08 01:00'"),
            "SELECT TIMESTAMP '2012-08-08 01:00:00'"
        );
        assert!(rewritten("SELECT transform(a, x -> x + 1) FROM t").contains("x -> x + 1"));
    }
}
