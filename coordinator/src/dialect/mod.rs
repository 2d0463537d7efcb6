//! SQL dialects: how one family of clients writes SQL and what it expects to find besides the
//! lake. The engine plans every statement through its session's dialect and never asks which
//! front end a client came through; a front end only picks the dialect its clients speak.
//!
//! * [`standard`]: DataFusion's SQL, for Flight SQL, HTTP and the shell.
//! * [`postgres`]: `pg_catalog`, PostgreSQL's catalog functions and types, psql's and PgJDBC's
//!   catalog queries, `SHOW` of server variables.
//! * [`trino`]: Trino's session statements and `SHOW` family (the Trino dialect proper grows
//!   here).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::CatalogProvider;
use datafusion::error::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;

use crate::access::{AccessControl, AccessView};
use crate::catalog::Lake;
pub use crate::session::DialectName;
use crate::session::SessionVars;
use crate::statement::{Classified, StatementError};

pub mod postgres;
pub mod standard;
pub mod trino;

/// One dialect: each hook has the standard behaviour unless the dialect differs.
pub trait SqlDialect: fmt::Debug + Send + Sync {
    /// Parses and classifies one statement as this dialect's clients write it (`vars`: the
    /// session's current catalog and schema, for statements that default to them).
    fn parse(&self, sql: &str, vars: &SessionVars) -> Result<Classified, StatementError>;

    /// The lake's catalog as this dialect's clients see it (PostgreSQL adds `pg_catalog`).
    fn decorate_catalog(
        &self,
        lake: Arc<dyn CatalogProvider>,
        _access: &AccessView,
    ) -> Result<Arc<dyn CatalogProvider>> {
        Ok(lake)
    }

    /// Planner settings of the dialect (type planners).
    fn configure(&self, builder: SessionStateBuilder) -> SessionStateBuilder {
        builder
    }

    /// Functions the dialect's clients call, some answering for the session in `vars`.
    fn register_functions(&self, _state: &mut SessionState, _vars: &SessionVars) -> Result<()> {
        Ok(())
    }

    /// How the dialect names a column type (`SHOW COLUMNS`, `DESCRIBE`).
    fn type_name(&self, data_type: &DataType) -> String {
        data_type.to_string()
    }

    /// The value `SHOW name` answers for a variable the session has not set.
    fn variable_default(&self, _name: &str, _vars: &SessionVars) -> Option<String> {
        None
    }
}

/// One instance of every dialect, for the life of the engine (PostgreSQL's object ids live as
/// long as it does).
#[derive(Debug)]
pub struct Dialects {
    standard: standard::Standard,
    postgres: postgres::Postgres,
    trino: trino::Trino,
}

impl Dialects {
    pub fn new(lake: Arc<Lake>, access: Arc<AccessControl>) -> Self {
        Self {
            standard: standard::Standard,
            postgres: postgres::Postgres::new(lake, access),
            trino: trino::Trino,
        }
    }

    pub fn get(&self, name: DialectName) -> &dyn SqlDialect {
        match name {
            DialectName::Standard => &self.standard,
            DialectName::Postgres => &self.postgres,
            DialectName::Trino => &self.trino,
        }
    }
}
