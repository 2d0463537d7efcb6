//! What PostgreSQL clients expect beyond the SQL every session speaks: the `pg_catalog`
//! schema and catalog functions ([`catalog`]), their catalog queries rewritten into SQL
//! DataFusion plans ([`rewrite`]), and `SHOW` of the server variables they read at connect.

use std::sync::Arc;

use datafusion::catalog::CatalogProvider;
use datafusion::error::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;

use super::SqlDialect;
use crate::access::{AccessControl, AccessView};
use crate::catalog::Lake;
use crate::session::SessionVars;
use crate::statement::{Classified, StatementError};

pub mod catalog;
pub mod rewrite;

pub use catalog::{PG_CATALOG_SCHEMA, PgCatalog, SERVER_VERSION};

#[derive(Debug)]
pub struct Postgres {
    catalog: PgCatalog,
}

impl Postgres {
    pub fn new(lake: Arc<Lake>, access: Arc<AccessControl>) -> Self {
        Self {
            catalog: PgCatalog::new(lake, access),
        }
    }
}

impl SqlDialect for Postgres {
    fn parse(&self, sql: &str, _vars: &SessionVars) -> Result<Classified, StatementError> {
        rewrite::classify(sql)
    }

    fn decorate_catalog(
        &self,
        lake: Arc<dyn CatalogProvider>,
        access: &AccessView,
    ) -> Result<Arc<dyn CatalogProvider>> {
        self.catalog.around(lake, access)
    }

    fn configure(&self, builder: SessionStateBuilder) -> SessionStateBuilder {
        builder.with_type_planner(PgCatalog::type_planner())
    }

    fn register_functions(&self, state: &mut SessionState, vars: &SessionVars) -> Result<()> {
        self.catalog.register_functions(state, vars)
    }

    /// PostgreSQL's answers for the variables clients read when they connect; any other
    /// variable the session has not set is empty, as PostgreSQL clients tolerate.
    fn variable_default(&self, name: &str, vars: &SessionVars) -> Option<String> {
        let value = match name {
            "search_path" => return Some(vars.schema.clone()),
            "server_version" => SERVER_VERSION,
            "transaction_isolation" | "default_transaction_isolation" => "read committed",
            "standard_conforming_strings" => "on",
            "client_encoding" | "server_encoding" => "UTF8",
            "datestyle" => "ISO, MDY",
            "timezone" => "UTC",
            "transaction_read_only" | "default_transaction_read_only" => "on",
            _ => "",
        };
        Some(value.to_string())
    }
}
