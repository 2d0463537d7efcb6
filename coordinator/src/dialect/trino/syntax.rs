//! The sqlparser dialect Trino SQL is parsed with: the generic dialect (and everything sqlparser
//! decides by asking "is this the generic dialect"), plus lambdas (`x -> x + 1`), which the
//! generic dialect would read as the JSON arrow operator.

use std::any::TypeId;

use datafusion::sql::sqlparser::ast::{Expr, Query, TableFactor};
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect};
use datafusion::sql::sqlparser::parser::Parser;

#[derive(Debug, Default)]
pub struct TrinoSyntax;

/// The generic dialect's answer to each named question.
macro_rules! like_generic {
    ($($name:ident),* $(,)?) => {
        $(fn $name(&self) -> bool {
            GenericDialect {}.$name()
        })*
    };
}

impl Dialect for TrinoSyntax {
    fn dialect(&self) -> TypeId {
        TypeId::of::<GenericDialect>()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        GenericDialect {}.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        GenericDialect {}.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        GenericDialect {}.is_identifier_part(ch)
    }

    fn supports_lambda_functions(&self) -> bool {
        true
    }

    /// `10_000_000`.
    fn supports_numeric_literal_underscores(&self) -> bool {
        true
    }

    like_generic!(
        supports_unicode_string_literal,
        supports_group_by_expr,
        supports_window_function_null_treatment_arg,
        supports_window_clause_named_window_reference,
        supports_filter_during_aggregation,
        supports_named_fn_args_with_assignment_operator,
        supports_struct_literal,
        supports_nested_comments,
        supports_array_typedef_with_brackets,
        supports_start_transaction_modifier,
        supports_values_as_table_factor,
        supports_parens_around_table_factor,
        supports_explain_with_utility_options,
        supports_from_first_select,
        supports_projection_trailing_commas,
        supports_try_convert,
        supports_bitwise_shift_operators,
        supports_empty_projections,
        supports_comma_separated_trim,
        allow_extract_custom,
        allow_extract_single_quotes,
        supports_extract_comma_syntax,
        support_map_literal_syntax,
        supports_dictionary_syntax,
        supports_select_wildcard_except,
        supports_partition_by_after_order_by,
        supports_interval_options,
    );
}

/// SQL a rewrite wrote, read back as a query; `None` when it does not parse (the rewrite then
/// leaves the statement as it was, for DataFusion to report).
pub fn parse_query(sql: &str) -> Option<Box<Query>> {
    Parser::new(&TrinoSyntax)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_query())
        .ok()
}

/// SQL a rewrite wrote, read back as an expression, as [`parse_query`].
pub fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&TrinoSyntax)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_expr())
        .ok()
}

/// SQL a rewrite wrote, read back as a relation in `FROM`, as [`parse_query`].
pub fn parse_table_factor(sql: &str) -> Option<TableFactor> {
    Parser::new(&TrinoSyntax)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_table_factor())
        .ok()
}
