//! Trino spellings DataFusion plans differently, rewritten in the parsed statement:
//! `if(c, a[, b])` and `count_if(x)` as the `CASE` they mean, `TIMESTAMP '2012-08-08 01:00'`
//! (no seconds) completed, `JSON '...'` literals as `json_parse('...')`, `DECIMAL '...'` with
//! the precision and scale its digits give, the convenience extraction functions
//! (`day_of_week`, `year`, ...) as `date_part` with Trino's numbering, and `array_sort` with a
//! comparator as `array_sort_by`.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, DataType, ExactNumberInfo, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, LambdaFunction, Statement, Subscript, TimezoneInfo, Value, Visit, VisitMut,
    Visitor, VisitorMut,
};

use super::syntax::parse_expr;

/// Rewrites every Trino spelling in `statement`.
pub fn rewrite(statement: &mut Statement) {
    let _ = statement.visit(&mut TrinoSpellings);
}

struct TrinoSpellings;

impl VisitorMut for TrinoSpellings {
    type Break = ();

    fn pre_visit_query(
        &mut self,
        query: &mut datafusion::sql::sqlparser::ast::Query,
    ) -> ControlFlow<()> {
        if let datafusion::sql::sqlparser::ast::SetExpr::Select(select) = query.body.as_mut() {
            for filter in [&mut select.selection, &mut select.having]
                .into_iter()
                .flatten()
            {
                memberships(filter);
            }
        }
        ControlFlow::Continue(())
    }

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
        Expr::Lambda(lambda) => {
            let mut lambda = lambda.clone();
            let fields = parameter_fields(&mut lambda);
            every_parameter_used(&lambda).or(fields.then_some(Expr::Lambda(lambda)))
        }
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } => cast(inner, data_type),
        Expr::CompoundFieldAccess { root, access_chain } => row_field(root, access_chain),
        Expr::AnyOp {
            left,
            compare_op,
            right,
            ..
        } => quantified(left, compare_op, right, Quantifier::Any),
        Expr::AllOp {
            left,
            compare_op,
            right,
        } => quantified(left, compare_op, right, Quantifier::All),
        Expr::TypedString(typed) => {
            let text = typed.value.value.clone().into_string()?;
            match &typed.data_type {
                DataType::Timestamp(None, TimezoneInfo::None) => timestamp_literal(&text),
                DataType::Decimal(ExactNumberInfo::None) => decimal_literal(&text),
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

/// In a filter's top-level conjuncts, where NULL and false both drop the row, `x = ANY (q)`
/// as `x IN (q)` and `x <> ALL (q)` as `x NOT IN (q)`: DataFusion runs those as (anti) joins,
/// where elsewhere it cannot plan them at all.
fn memberships(filter: &mut Expr) {
    use datafusion::sql::sqlparser::ast::BinaryOperator as Op;
    let negated = matches!(filter, Expr::AllOp { .. });
    match filter {
        Expr::BinaryOp {
            left,
            op: Op::And,
            right,
        } => {
            memberships(left);
            memberships(right);
        }
        Expr::Nested(inner) => memberships(inner),
        Expr::AnyOp {
            left,
            compare_op: Op::Eq,
            right,
            ..
        }
        | Expr::AllOp {
            left,
            compare_op: Op::NotEq,
            right,
        } => {
            if let Expr::Subquery(query) = right.as_ref() {
                *filter = Expr::InSubquery {
                    expr: left.clone(),
                    subquery: query.clone(),
                    negated,
                };
            }
        }
        _ => {}
    }
}

enum Quantifier {
    Any,
    All,
}

/// `x op ANY (subquery)` / `x op ALL (subquery)` outside a filter's conjuncts (see
/// [`memberships`]), which DataFusion 54 fails to plan: compared against the subquery's least
/// or greatest value (`= ANY`: its values as one array) with SQL's three values kept: ANY is true when some comparison is, else NULL
/// when `x` or some value is NULL, else false (so over no rows); ALL is false when some
/// comparison is false, else NULL likewise, else true. The subquery's aggregates are scalar
/// subqueries that do not name `x`, so they plan whether or not `x` is an outer column.
fn quantified(
    left: &Expr,
    op: &datafusion::sql::sqlparser::ast::BinaryOperator,
    right: &Expr,
    quantifier: Quantifier,
) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::BinaryOperator as Op;
    let Expr::Subquery(query) = right else {
        return None;
    };
    let of_rows = |what: &str| format!("(SELECT {what} FROM ({query}) AS __lg_q(__lg_v))");
    let (min, max) = (of_rows("min(__lg_v)"), of_rows("max(__lg_v)"));
    let x = format!("({left})");
    let hit = match (&quantifier, op) {
        (Quantifier::Any, Op::Eq) => format!("array_has({}, {x})", of_rows("array_agg(__lg_v)")),
        (Quantifier::All, Op::NotEq) => {
            format!("NOT array_has({}, {x})", of_rows("array_agg(__lg_v)"))
        }
        (Quantifier::Any, Op::Lt | Op::LtEq) | (Quantifier::All, Op::Gt | Op::GtEq) => {
            format!("{x} {op} {max}")
        }
        (Quantifier::Any, Op::Gt | Op::GtEq) | (Quantifier::All, Op::Lt | Op::LtEq) => {
            format!("{x} {op} {min}")
        }
        (Quantifier::Any, Op::NotEq) => format!("({x} <> {min} OR {x} <> {max})"),
        (Quantifier::All, Op::Eq) => format!("({x} = {min} AND {x} = {max})"),
        _ => return None,
    };
    let (rows, values) = (of_rows("count(*)"), of_rows("count(__lg_v)"));
    let unknown = format!("{x} IS NULL OR {rows} > {values}");
    parse_expr(&match quantifier {
        Quantifier::Any => format!(
            "CASE WHEN {rows} = 0 THEN false WHEN {hit} THEN true WHEN {unknown} THEN NULL \
             ELSE false END"
        ),
        Quantifier::All => format!(
            "CASE WHEN {rows} = 0 THEN true WHEN NOT {hit} THEN false WHEN {unknown} THEN NULL \
             ELSE true END"
        ),
    })
}

/// `DECIMAL '0012.340'`: Trino types the literal by its digits, leading and trailing zeros
/// included: precision 7, scale 3.
fn decimal_literal(text: &str) -> Option<Expr> {
    let digits = text.trim().trim_start_matches(['+', '-']);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if !(whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let precision = (whole.len() + fraction.len()).max(1);
    if precision > 38 {
        return None;
    }
    parse_expr(&format!(
        "CAST({} AS DECIMAL({precision}, {}))",
        quoted(text.trim()),
        fraction.len()
    ))
}

/// A lambda whose body leaves parameters unused, its body wrapped in
/// [`lakegate_functions::LAMBDA_BODY`] naming them (see there why).
fn every_parameter_used(lambda: &LambdaFunction) -> Option<Expr> {
    let mut used = Vec::new();
    let _ = lambda.body.visit(&mut Identifiers(&mut used));
    let unused: Vec<String> = lambda
        .params
        .iter()
        .map(|p| p.name.value.clone())
        .filter(|name| !used.iter().any(|u| u.eq_ignore_ascii_case(name)))
        .collect();
    if unused.is_empty() {
        return None;
    }
    let params: Vec<String> = lambda.params.iter().map(|p| p.name.to_string()).collect();
    parse_expr(&format!(
        "({}) -> {}({}, {})",
        params.join(", "),
        lakegate_functions::LAMBDA_BODY,
        lambda.body,
        unused.join(", ")
    ))
}

/// Collects the bare identifiers an expression names.
struct Identifiers<'a>(&'a mut Vec<String>);

impl Visitor for Identifiers<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Identifier(ident) = expr {
            self.0.push(ident.value.clone());
        }
        ControlFlow::Continue(())
    }
}

/// A timestamp literal's precision is its number of fraction digits (Trino's rule), rounded
/// up to one DataFusion has (0, 3, 6 or 9).
fn precision_of(text: &str) -> u8 {
    let digits = text.split_once('.').map_or(0, |(_, f)| {
        f.chars().take_while(char::is_ascii_digit).count()
    });
    match digits {
        0 => 0,
        1..=3 => 3,
        4..=6 => 6,
        _ => 9,
    }
}

/// `CAST(x AS JSON)` writes `x` as JSON; `CAST(json AS type)` reads a JSON scalar as the
/// type (a JSON string loses its quotes, JSON `null` is NULL).
fn cast(inner: &Expr, data_type: &DataType) -> Option<Expr> {
    let is_json = |t: &DataType| match t {
        DataType::JSON => true,
        DataType::Custom(name, _) => name.to_string().eq_ignore_ascii_case("json"),
        _ => false,
    };
    if is_json(data_type) {
        return parse_expr(&format!("to_json({inner})"));
    }
    if let DataType::Timestamp(Some(p), TimezoneInfo::None) = data_type
        && ![0, 3, 6, 9].contains(p)
    {
        return timestamp_precision(inner, *p);
    }
    if let Some(named) = row_cast(inner, data_type) {
        return Some(named);
    }
    // Types DataFusion lacks, carried as their canonical text.
    match data_type {
        DataType::Uuid => return parse_expr(&format!("uuid_value({inner})")),
        DataType::Custom(name, _) if name.to_string().eq_ignore_ascii_case("ipaddress") => {
            return parse_expr(&format!("ipaddress({inner})"));
        }
        _ => {}
    }
    let reads_json = matches!(inner, Expr::Function(f)
        if ["json_parse", "json_extract", "to_json"]
            .contains(&f.name.to_string().to_ascii_lowercase().as_str()));
    if reads_json && matches!(data_type, DataType::Array(_)) {
        // The typed NULL carries the target type to the function.
        return parse_expr(&format!("json_cast({inner}, CAST(NULL AS {data_type}))"));
    }
    if reads_json && let DataType::Map(key, value) = data_type {
        // DataFusion has no MAP type in SQL: an empty map of the two types carries it.
        return parse_expr(&format!(
            "json_cast({inner}, MAP(CAST(ARRAY[] AS ARRAY<{key}>), CAST(ARRAY[] AS ARRAY<{value}>)))"
        ));
    }
    if reads_json
        && !matches!(
            data_type,
            DataType::Array(_) | DataType::Map(..) | DataType::Struct(..)
        )
    {
        return parse_expr(&format!(
            "CAST(json_extract_scalar({inner}, '$') AS {data_type})"
        ));
    }
    None
}

/// The arguments of a `ROW(a, b, ...)` constructor, as SQL text.
fn row_constructor(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("row") => plain_args(f),
        Expr::Tuple(items) => Some(items.iter().map(ToString::to_string).collect()),
        _ => None,
    }
}

/// `s.sum` in a lambda whose parameter `s` is a row, as `get_field(s, 'sum')`: the planner
/// would look for a column `sum` of a relation `s`. Whether anything was rewritten.
fn parameter_fields(lambda: &mut LambdaFunction) -> bool {
    struct Fields<'a>(&'a [String], bool);
    impl VisitorMut for Fields<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(parts) = expr
                && parts.len() > 1
                && self
                    .0
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&parts[0].value))
            {
                let mut sql = parts[0].to_string();
                for part in &parts[1..] {
                    sql = format!("get_field({sql}, {})", quoted(&part.value));
                }
                if let Some(replacement) = parse_expr(&sql) {
                    *expr = replacement;
                    self.1 = true;
                }
            }
            ControlFlow::Continue(())
        }
    }
    let params: Vec<String> = lambda.params.iter().map(|p| p.name.value.clone()).collect();
    let mut fields = Fields(&params, false);
    let _ = VisitMut::visit(lambda.body.as_mut(), &mut fields);
    fields.1
}

/// `(expr).x.y`: fields of a row-valued expression, which the planner reads only on columns.
fn dotted_fields(root: &Expr, chain: &[AccessExpr]) -> Option<Expr> {
    if matches!(root, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
        return None;
    }
    let mut sql = root.to_string();
    for access in chain {
        let AccessExpr::Dot(Expr::Identifier(field)) = access else {
            return None;
        };
        sql = format!("get_field({sql}, {})", quoted(&field.value));
    }
    parse_expr(&sql)
}

/// `MAP(keys, values)[k]`: the value at a key that is not a constant (DataFusion's subscript
/// takes only constant keys), through `map_extract`.
fn map_value(root: &Expr, chain: &[AccessExpr]) -> Option<Expr> {
    let Expr::Function(f) = root else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case("map") {
        return None;
    }
    let [AccessExpr::Subscript(Subscript::Index { index })] = chain else {
        return None;
    };
    if matches!(index, Expr::Value(_)) {
        return None;
    }
    parse_expr(&format!("map_extract({root}, {index})[1]"))
}

/// `ROW(1, 2.0)[1]`: a row's field by position (its fields are `c0`, `c1`, ...), where
/// DataFusion would read the subscript as an array's.
fn row_field(root: &Expr, chain: &[AccessExpr]) -> Option<Expr> {
    if let Some(fields) = dotted_fields(root, chain) {
        return Some(fields);
    }
    if let Some(value) = map_value(root, chain) {
        return Some(value);
    }
    let fields = row_constructor(root)?;
    let [AccessExpr::Subscript(Subscript::Index { index })] = chain else {
        return None;
    };
    let position: usize = index.to_string().parse().ok()?;
    if position == 0 || position > fields.len() {
        return None;
    }
    parse_expr(&format!("get_field({root}, 'c{}')", position - 1))
}

/// `CAST(ROW(a, b) AS ROW(x T, y U))`: the row with its fields named and cast by position
/// (DataFusion casts a struct by field names, and a `ROW(...)` constructor has none).
fn row_cast(inner: &Expr, data_type: &DataType) -> Option<Expr> {
    let DataType::Custom(name, modifiers) = data_type else {
        return None;
    };
    if !name.to_string().eq_ignore_ascii_case("row") || modifiers.len() % 2 != 0 {
        return None;
    }
    let values = row_constructor(inner)?;
    if values.len() * 2 != modifiers.len() {
        return None;
    }
    let fields: Vec<String> = modifiers
        .chunks(2)
        .zip(&values)
        .map(|(pair, value)| format!("{}, CAST({value} AS {})", quoted(&pair[0]), pair[1]))
        .collect();
    parse_expr(&format!("named_struct({})", fields.join(", ")))
}

/// `CAST(x AS TIMESTAMP(p))` for a precision DataFusion lacks: rounded (half up, as Trino
/// rounds) to `p` fraction digits and kept at the next precision it has; beyond 9 digits,
/// nanoseconds (the digits past them are zeros).
fn timestamp_precision(inner: &Expr, p: u64) -> Option<Expr> {
    if p > 9 {
        return parse_expr(&format!("CAST({inner} AS TIMESTAMP(9))"));
    }
    let unit = 10i64.pow(9 - p as u32);
    let kept = match p {
        1 | 2 => 3,
        4 | 5 => 6,
        _ => 9,
    };
    let nanos = format!(
        "(CAST(CAST({inner} AS TIMESTAMP(9)) AS BIGINT) + {})",
        unit / 2
    );
    // Floor division: a timestamp before 1970 rounds the same way.
    parse_expr(&format!(
        "CAST(to_timestamp_nanos({nanos} - ({nanos} % {unit} + {unit}) % {unit}) AS TIMESTAMP({kept}))"
    ))
}

/// `TIMESTAMP '2012-08-08 01:00[:00[.fff]] [zone]'`: seconds may be left out; the precision
/// is the literal's; a zone (`UTC`, `Asia/Tokyo`, `+01:00`) makes it a timestamp with time
/// zone, shown in that zone.
fn timestamp_literal(text: &str) -> Option<Expr> {
    let mut parts = text.split_whitespace();
    let (date, time, zone) = (parts.next()?, parts.next(), parts.next());
    if parts.next().is_some() {
        return None;
    }
    let time = match time {
        Some(t) if t.matches(':').count() == 1 => format!("{t}:00"),
        Some(t) => t.to_string(),
        None => "00:00:00".to_string(),
    };
    let naive = format!("{date} {time}");
    let cast = format!(
        "CAST({} AS TIMESTAMP({}))",
        quoted(&naive),
        precision_of(&naive)
    );
    // `GMT-08:30`, `UTC+01:00`: the offset alone.
    let zone = zone.map(|z| {
        ["UTC", "GMT", "UT"]
            .iter()
            .find_map(|prefix| {
                z.strip_prefix(prefix)
                    .filter(|rest| rest.starts_with(['+', '-']))
            })
            .unwrap_or(z)
    });
    match zone {
        Some(zone) => parse_expr(&format!("({cast} AT TIME ZONE {})", quoted(zone))),
        None => parse_expr(&cast),
    }
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
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

/// `listagg(x, sep [ON OVERFLOW ...]) WITHIN GROUP (ORDER BY ...) [FILTER (...)]` as
/// `string_agg(x, sep ORDER BY ...)`; the overflow clause is dropped (results are not capped).
fn listagg(function: &Function) -> Option<Expr> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let args: Vec<String> = list
        .args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.to_string()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let (value, separator) = match args.as_slice() {
        [value] => (value.clone(), "''".to_string()),
        [value, separator] => (value.clone(), separator.clone()),
        _ => return None,
    };
    let order = match function.within_group.as_slice() {
        [] => String::new(),
        items => format!(
            " ORDER BY {}",
            items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let filter = function
        .filter
        .as_ref()
        .map(|f| format!(" FILTER (WHERE {f})"))
        .unwrap_or_default();
    parse_expr(&format!("string_agg({value}, {separator}{order}){filter}"))
}

/// `array_sort(a, (x, y) -> ...)` as `array_sort_by`, `regexp_replace(s, p, x -> ...)` as
/// `regexp_replace_with`: DataFusion's functions of those names take no lambda, and a call
/// naming a plain function is never planned as a lambda's.
fn with_lambda(function: &Function, name: &str) -> Option<Expr> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Lambda(_)))) = list.args.last()
    else {
        return None;
    };
    let mut renamed = function.clone();
    renamed.name = datafusion::sql::sqlparser::ast::ObjectName::from(vec![
        datafusion::sql::sqlparser::ast::Ident::new(name),
    ]);
    Some(Expr::Function(renamed))
}

/// `typeof` of a bare literal, typed as Trino types literals: an integer that fits 32 bits
/// is an `integer` and a string of n characters a `varchar(n)`, where DataFusion has
/// `bigint` and `varchar`. Other arguments keep the function, which names their type.
fn literal_type(function: &Function) -> Option<Expr> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(value)))] = list.args.as_slice()
    else {
        return None;
    };
    let name = match &value.value {
        Value::Number(n, _) if n.parse::<i32>().is_ok() => "integer".to_string(),
        Value::SingleQuotedString(s) => format!("varchar({})", s.chars().count()),
        _ => return None,
    };
    parse_expr(&quoted(&name))
}

/// `TRY(x)` as `try_eval(NULL, __try -> x)`, so that `x` is evaluated inside the function
/// (see [`lakegate_functions::TRY_EVAL`]). A cast of a literal in `x` reads the literal
/// through `lambda_body(literal, __try)`: DataFusion fails the plan on a cast of a bad
/// literal (`TRY(CAST('x' AS integer))`) before the function could answer NULL.
fn try_call(function: &Function) -> Option<Expr> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(body))] = list.args.as_slice() else {
        return None;
    };
    struct LiteralCasts;
    impl VisitorMut for LiteralCasts {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Cast { expr: inner, .. } = expr
                && let Expr::Value(_) = inner.as_ref()
                && let Some(deferred) = parse_expr(&format!(
                    "{}({inner}, __try)",
                    lakegate_functions::LAMBDA_BODY
                ))
            {
                **inner = deferred;
            }
            ControlFlow::Continue(())
        }
    }
    let mut body = body.clone();
    let _ = VisitMut::visit(&mut body, &mut LiteralCasts);
    parse_expr(&format!(
        "{}(NULL, __try -> {body})",
        lakegate_functions::TRY_EVAL
    ))
}

fn function_call(function: &Function) -> Option<Expr> {
    let name = function.name.to_string().to_ascii_lowercase();
    if name == "listagg" && function.over.is_none() {
        return listagg(function);
    }
    if name == "try" {
        return try_call(function);
    }
    if name == "typeof" {
        return literal_type(function);
    }
    if name == "array_sort" {
        return with_lambda(function, lakegate_functions::ARRAY_SORT_BY);
    }
    if name == "regexp_replace" {
        return with_lambda(function, lakegate_functions::REGEXP_REPLACE_WITH);
    }
    let args = plain_args(function)?;
    let sql = match (name.as_str(), args.as_slice()) {
        ("if", [c, a]) => format!("CASE WHEN {c} THEN {a} END"),
        ("if", [c, a, b]) => format!("CASE WHEN {c} THEN {a} ELSE {b} END"),
        ("count_if", [x]) if function.filter.is_none() && function.over.is_none() => {
            format!("count(CASE WHEN {x} THEN 1 END)")
        }
        ("day_of_week" | "dow", [x]) => format!("CAST(date_part('isodow', {x}) AS BIGINT)"),
        ("day_of_year" | "doy", [x]) => format!("CAST(date_part('doy', {x}) AS BIGINT)"),
        ("day" | "day_of_month", [x]) => format!("CAST(date_part('day', {x}) AS BIGINT)"),
        ("week" | "week_of_year", [x]) => format!("CAST(date_part('week', {x}) AS BIGINT)"),
        ("year" | "quarter" | "month" | "hour" | "minute", [x]) => {
            format!("CAST(date_part('{name}', {x}) AS BIGINT)")
        }
        ("second", [x]) => format!("CAST(floor(date_part('second', {x})) AS BIGINT)"),
        ("millisecond", [x]) => format!("CAST(date_part('millisecond', {x}) AS BIGINT) % 1000"),
        ("to_unixtime", [x]) => format!("CAST(date_part('epoch', {x}) AS DOUBLE)"),
        // The interval is built from the count as text, so a column count works too.
        ("date_add", [unit, n, x]) => {
            let unit = unit.trim_matches('\'').to_ascii_lowercase();
            let (times, unit) = match unit.as_str() {
                "week" => ("7", "day"),
                "quarter" => ("3", "month"),
                "millisecond" | "second" | "minute" | "hour" | "day" | "month" | "year" => {
                    ("1", unit.as_str())
                }
                _ => return None,
            };
            format!("({x}) + CAST(CAST(({n}) * {times} AS VARCHAR) || ' {unit}' AS INTERVAL)")
        }
        ("cosine_similarity", [a, b]) => format!("1 - cosine_distance({a}, {b})"),
        ("to_utf8", [x]) => format!("CAST({x} AS BYTEA)"),
        ("map", []) => "MAP {}".to_string(),
        // The value at the greatest (least) key; rows whose key is null never win.
        ("max_by", [x, y]) if function.over.is_none() && function.filter.is_none() => {
            format!("first_value({x} ORDER BY {y} DESC NULLS LAST)")
        }
        ("min_by", [x, y]) if function.over.is_none() && function.filter.is_none() => {
            format!("first_value({x} ORDER BY {y} ASC NULLS LAST)")
        }
        _ => return None,
    };
    parse_expr(&sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        super::super::rewritten_by(sql, rewrite)
    }

    #[test]
    fn trino_spellings_become_datafusion_sql() {
        assert_eq!(
            rewritten(
                "SELECT a FROM t WHERE a = ANY (SELECT b FROM u) AND a <> ALL (SELECT c FROM v)"
            ),
            "SELECT a FROM t WHERE a IN (SELECT b FROM u) AND a NOT IN (SELECT c FROM v)"
        );
        let any = rewritten("SELECT a < ANY (SELECT b FROM u) FROM t");
        assert!(
            any.contains("WHEN (a) < (SELECT max(__lg_v) FROM (SELECT b FROM u) AS __lg_q (__lg_v)) THEN true"),
            "{any}"
        );
        assert_eq!(
            rewritten("SELECT TRY(a / b), try(CAST('x' AS integer)) FROM t"),
            "SELECT try_eval(NULL, __try -> a / b), \
             try_eval(NULL, __try -> CAST(lambda_body('x', __try) AS INTEGER)) FROM t"
        );
        assert_eq!(
            rewritten("SELECT typeof(123), typeof('cat'), typeof(3000000000), typeof(a) FROM t"),
            "SELECT 'integer', 'varchar(3)', typeof(3000000000), typeof(a) FROM t"
        );
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
            "SELECT CAST('2012-08-08 01:00:00' AS TIMESTAMP(0))"
        );
        assert_eq!(
            rewritten("SELECT TIMESTAMP '2001-08-22 03:04:05.321'"),
            "SELECT CAST('2001-08-22 03:04:05.321' AS TIMESTAMP(3))"
        );
        assert_eq!(
            rewritten("SELECT TIMESTAMP '2012-10-31 01:00 UTC'"),
            "SELECT (CAST('2012-10-31 01:00:00' AS TIMESTAMP(0)) AT TIME ZONE 'UTC')"
        );
        assert!(rewritten("SELECT transform(a, x -> x + 1) FROM t").contains("x -> x + 1"));
        assert_eq!(
            rewritten("SELECT CAST(ROW(1, 2.0) AS ROW(x BIGINT, y DOUBLE)).x, ROW(1, 2)[2]"),
            "SELECT get_field(named_struct('x', CAST(1 AS BIGINT), 'y', CAST(2.0 AS DOUBLE)), 'x'), \
             get_field(ROW(1, 2), 'c1')"
        );
        assert_eq!(
            rewritten("SELECT transform_keys(m, (k, v) -> MAP(ARRAY[1], ARRAY['one'])[k])"),
            "SELECT transform_keys(m, (k, v) -> \
             lambda_body(map_extract(MAP(ARRAY[1], ARRAY['one']), k)[1], v))"
        );
        assert_eq!(
            rewritten("SELECT reduce(a, s0, (s, x) -> s.total + x, s -> s)"),
            "SELECT reduce(a, s0, (s, x) -> get_field(s, 'total') + x, s -> s)"
        );
        assert_eq!(
            rewritten("SELECT DECIMAL '0012.340', DECIMAL '0'"),
            "SELECT CAST('0012.340' AS DECIMAL(7,3)), CAST('0' AS DECIMAL(1,0))"
        );
        assert_eq!(
            rewritten("SELECT array_sort(a, (x, y) -> IF(x < y, 1, -1)) FROM t"),
            "SELECT array_sort_by(a, (x, y) -> CASE WHEN x < y THEN 1 ELSE -1 END) FROM t"
        );
        assert_eq!(
            rewritten("SELECT map_filter(m, (k, v) -> v > 10) FROM t"),
            "SELECT map_filter(m, (k, v) -> lambda_body(v > 10, k)) FROM t"
        );
    }
}
