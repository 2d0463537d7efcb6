//! [`OperatorRewrite`]: an operator DataFusion answers differently from Trino (time plus
//! interval, integer overflow), turned into a call of one of the library's functions before
//! type coercion sees it. Each rewrite says only which calls it makes of which operands.

use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, ScalarUDF};

/// Which of `functions` to call, with which arguments, for `left op right`; `None` leaves
/// the operator as it is.
pub type Choose = fn(&Expr, Operator, &Expr, &DFSchema) -> Option<(usize, Vec<Expr>)>;

#[derive(Debug)]
pub struct OperatorRewrite {
    name: &'static str,
    functions: Vec<Arc<ScalarUDF>>,
    choose: Choose,
}

impl OperatorRewrite {
    pub fn new(name: &'static str, functions: Vec<Arc<ScalarUDF>>, choose: Choose) -> Self {
        Self {
            name,
            functions,
            choose,
        }
    }
}

impl FunctionRewrite for OperatorRewrite {
    fn name(&self) -> &str {
        self.name
    }

    fn rewrite(
        &self,
        expr: Expr,
        schema: &DFSchema,
        _config: &ConfigOptions,
    ) -> Result<Transformed<Expr>> {
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
            return Ok(Transformed::no(expr));
        };
        let Some((index, args)) = (self.choose)(left, *op, right, schema) else {
            return Ok(Transformed::no(expr));
        };
        let Some(function) = self.functions.get(index) else {
            return Ok(Transformed::no(expr));
        };
        Ok(Transformed::yes(Expr::ScalarFunction(
            ScalarFunction::new_udf(Arc::clone(function), args),
        )))
    }
}
