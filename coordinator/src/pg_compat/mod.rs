//! What PostgreSQL clients expect beyond the SQL every front end speaks: the `pg_catalog`
//! schema and catalog functions ([`catalog`]), and their catalog queries rewritten into SQL
//! DataFusion plans ([`sql`]). Sessions of the PostgreSQL front end use both
//! ([`crate::session::SqlDialect::Postgres`]).

pub mod catalog;
pub mod sql;

pub use catalog::{PG_CATALOG_SCHEMA, PgCatalog, SERVER_VERSION};
