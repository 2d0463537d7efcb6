//! Trino's function library for DataFusion.
//!
//! Functions are registered two ways. Every executor registers [`library`] under the
//! functions' own names, so that a plan fragment naming one decodes there whatever dialect
//! planned it; a name that would shadow a DataFusion function with other semantics is
//! prefixed (`trino_regexp_replace`). A Trino-dialect session registers [`register_trino`]:
//! the library plus Trino's names for it and for DataFusion functions that already behave as
//! Trino's do (`transform` is `array_transform`). Plans carry a function's own name, never the
//! alias, so an executor never needs to know the dialect.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::ScalarUDF;

mod args;
mod array;
mod binary;
mod bitwise;
mod checked;
mod datetime;
mod fold_lambda;
mod format;
mod json;
mod list_lambda;
mod map_lambda;
mod map_zip;
mod network;
mod operators;
mod regexp;
mod regexp_lambda;
mod setdigest;
mod string;
mod time_arith;
mod try_eval;
mod unnest_field;
pub use fold_lambda::ARRAY_SORT_BY;
pub use regexp_lambda::REGEXP_REPLACE_WITH;
pub use try_eval::TRY_EVAL;
pub use unnest_field::UNNEST_FIELD;
pub mod types;
mod udf;
mod url;
mod vector;
mod zoned;

/// Every function of the library, by its own name.
pub fn library() -> Vec<Arc<ScalarUDF>> {
    [
        regexp::functions(),
        datetime::functions(),
        array::functions(),
        json::functions(),
        string::functions(),
        bitwise::functions(),
        format::functions(),
        url::functions(),
        binary::functions(),
        network::functions(),
        zoned::functions(),
        vector::functions(),
        setdigest::functions(),
        unnest_field::functions(),
        time_arith::functions(),
        checked::functions(),
        vec![
            udf::ArrayFunction::udf("typeof", &[1], udf::text, type_of),
            udf::ArrayFunction::udf(LAMBDA_BODY, &[2, 3, 4, 5, 6], udf::first, |args| {
                Ok(std::sync::Arc::clone(&args[0]))
            }),
        ],
    ]
    .concat()
}

/// `lambda_body(body, p, ...)` is `body`. A Trino-dialect rewrite wraps a lambda body that
/// leaves a parameter unused in it, naming the parameter: DataFusion 54 evaluates a lambda on
/// every parameter but numbers the body's columns by the ones it uses, so an unused parameter
/// before a used one makes the lambda read the wrong column.
pub const LAMBDA_BODY: &str = "lambda_body";

/// Registers the library by the functions' own names (executors, every session).
pub fn register_library(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for udf in library() {
        registry.register_udf(udf)?;
    }
    for aggregate in setdigest::aggregates() {
        registry.register_udaf(aggregate)?;
    }
    for function in map_lambda::functions()
        .into_iter()
        .chain(list_lambda::functions())
        .chain(fold_lambda::functions())
        .chain(regexp_lambda::functions())
        .chain(map_zip::functions())
        .chain(try_eval::functions())
    {
        registry.register_higher_order_function(function)?;
    }
    Ok(())
}

/// Trino's name for a function registered under another.
const TRINO_NAMES: &[(&str, &str)] = &[
    ("regexp_replace", "trino_regexp_replace"),
    ("contains", "trino_contains"),
    ("date_trunc", "trino_date_trunc"),
    ("transform", "array_transform"),
    ("filter", "array_filter"),
    ("split", "string_to_array"),
    ("codepoint", "ascii"),
    ("truncate", "trunc"),
    ("every", "bool_and"),
    ("approx_percentile", "approx_percentile_cont"),
    ("arbitrary", "first_value"),
    ("zip", "arrays_zip"),
    ("euclidean_distance", "array_distance"),
];

/// Registers the library and Trino's names for it and for DataFusion's equivalents, in a
/// Trino-dialect session. A name whose target the registry lacks is skipped.
pub fn register_trino(registry: &mut dyn FunctionRegistry) -> Result<()> {
    register_library(registry)?;
    registry.register_function_rewrite(Arc::new(time_arith::rewrite()))?;
    for &(alias, target) in TRINO_NAMES {
        if let Ok(udf) = registry.udf(target) {
            registry.register_udf(Arc::new(udf.as_ref().clone().with_aliases([alias])))?;
        } else if let Ok(udaf) = registry.udaf(target) {
            registry.register_udaf(Arc::new(udaf.as_ref().clone().with_aliases([alias])))?;
        } else if let Ok(hof) = registry.higher_order_function(target) {
            registry.register_higher_order_function(Arc::new(
                hof.as_ref().clone().with_aliases([alias]),
            ))?;
        }
    }
    Ok(())
}

/// Integer arithmetic that fails on overflow rather than wrapping around (see [`checked`]),
/// in every session: Trino, PostgreSQL and standard SQL all say overflow is an error.
pub fn register_checked_arithmetic(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for udf in checked::functions() {
        registry.register_udf(udf)?;
    }
    registry.register_function_rewrite(Arc::new(checked::rewrite()))
}

/// `typeof(x)`: Trino's name for the argument's type.
fn type_of(args: &[arrow::array::ArrayRef]) -> Result<arrow::array::ArrayRef> {
    let name = types::type_name(args[0].data_type());
    Ok(std::sync::Arc::new(arrow::array::StringArray::from(vec![
        name;
        args[0].len()
    ])))
}
