//! A table read under a policy: the table's scan with the row filter above it and each column
//! replaced by its mask (or left out), as one logical plan that DataFusion inlines where the
//! query names the table. The filter thus sits directly on the scan in the plan the executors
//! run (and is pushed into it for pruning); masks are computed there too.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::{Arc, LazyLock};

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider, view::ViewTable};
use datafusion::common::{Column, TableReference};
use datafusion::datasource::provider_as_source;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, TableType, cast};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, ExprWithAlias, Value, visit_expressions_mut,
};

use super::rules::{ColumnPolicy, PolicyExpr, TablePolicy};

impl PolicyExpr {
    /// The expression with `current_user` (and `session_user`) replaced by the user it is
    /// evaluated as.
    pub fn bound(&self) -> SqlExpr {
        let mut expr = (*self.sql).clone();
        let _ = visit_expressions_mut(&mut expr, |e| {
            let names_user = match e {
                SqlExpr::Identifier(ident) => {
                    ident.quote_style.is_none() && is_user_function(&ident.value)
                }
                SqlExpr::Function(function) => {
                    function.name.0.len() == 1 && is_user_function(&function.name.to_string())
                }
                _ => false,
            };
            if names_user {
                *e = SqlExpr::value(Value::SingleQuotedString(self.user.clone()));
            }
            ControlFlow::<()>::Continue(())
        });
        expr
    }
}

fn is_user_function(name: &str) -> bool {
    name.eq_ignore_ascii_case("current_user") || name.eq_ignore_ascii_case("session_user")
}

impl TablePolicy {
    /// The policy as text, `current_user` already bound, for the audit log.
    pub fn describe(&self) -> String {
        let mut text = match &self.filter {
            Some(filter) => format!("filter {}", filter.bound()),
            None => String::new(),
        };
        for (column, policy) in &self.columns {
            match policy {
                ColumnPolicy::Hidden => text.push_str(&format!("; {column} hidden")),
                ColumnPolicy::Masked(mask) => {
                    text.push_str(&format!("; {column} masked {}", mask.bound()))
                }
            }
        }
        text
    }
}

/// Planning of filter and mask expressions needs DataFusion's functions, not a session.
static EXPRESSIONS: LazyLock<SessionState> =
    LazyLock::new(|| SessionStateBuilder::new().with_default_features().build());

/// `table` as `policy` lets it be read: `inner` (its provider) under the filter, with masked
/// columns computed and hidden ones gone. A filter or mask that does not fit the table (an
/// unknown column, a type that does not cast) is an error naming the table and the rule part.
pub fn restrict(
    table: &TableReference,
    inner: Arc<dyn TableProvider>,
    policy: &TablePolicy,
) -> Result<Arc<dyn TableProvider>> {
    let fail = |what: String, e: DataFusionError| {
        DataFusionError::Plan(format!(
            "access control {what} of table {table}: {}",
            e.message()
        ))
    };
    let mut builder = LogicalPlanBuilder::scan(table.clone(), provider_as_source(inner), None)?;
    let planning = |expr: SqlExpr, schema: &datafusion::common::DFSchema| {
        EXPRESSIONS.create_logical_expr_from_sql_expr(ExprWithAlias { expr, alias: None }, schema)
    };
    if let Some(filter) = &policy.filter {
        let expr =
            planning(filter.bound(), builder.schema()).map_err(|e| fail("row filter".into(), e))?;
        builder = builder
            .filter(expr)
            .map_err(|e| fail("row filter".into(), e))?;
    }
    let schema = builder.schema().clone();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (qualifier, field) in schema.iter() {
        let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
        match policy.columns.get(field.name()) {
            None => columns.push(column),
            Some(ColumnPolicy::Hidden) => {}
            Some(ColumnPolicy::Masked(mask)) => {
                let what = || format!("mask of column {}", field.name());
                let expr = planning(mask.bound(), &schema).map_err(|e| fail(what(), e))?;
                columns.push(cast(expr, field.data_type().clone()).alias(field.name()));
            }
        }
    }
    let plan = builder.project(columns)?.build()?;
    Ok(Arc::new(PolicyTable {
        view: ViewTable::new(plan, None),
    }))
}

/// A table read through a policy. It is a view underneath, but it is still the user's table:
/// listings show it as a base table, as they show the table itself.
#[derive(Debug)]
pub struct PolicyTable {
    view: ViewTable,
}

#[async_trait]
impl TableProvider for PolicyTable {
    fn schema(&self) -> SchemaRef {
        self.view.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_logical_plan(&'_ self) -> Option<Cow<'_, LogicalPlan>> {
        self.view.get_logical_plan()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.view.scan(state, projection, filters, limit).await
    }
}
