//! lakegate coordinator: where a query is classified, planned and answered, whichever front
//! end (the `lakegate-frontend` crate) it came through.
//!
//! * [`auth`] and [`session`]: who is asking and what they have set; [`access`]: what they
//!   may read (Trino's file-based access control, row filters and column masks).
//! * [`statement`]: what a SQL text asks for; writes are refused here; [`sql_limits`]: how
//!   large and deep it may be. [`dialect`]: how each
//!   family of clients writes SQL (standard, PostgreSQL with `pg_catalog`, Trino).
//!   [`params`]: numbering a statement's `?` / `$n` placeholders.
//! * [`catalog`]: the Iceberg catalog as DataFusion catalogs, with per-query snapshot pins.
//! * [`engine`]: classify, plan, run, and say what a statement did ([`Outcome`]);
//!   distributed over the executors in the [`registry`];
//!   [`cache`]: results of unchanged tables served again, identical queries run once.
//! * [`lifecycle`]: serving, then stopping without cutting running queries off;
//!   [`tracker`]: running and recent queries of every client, their cancellation and counts;
//!   `audit`: one JSON line per statement; `admission`: resource groups.

pub mod access;
mod admission;
mod audit;
pub mod auth;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod dialect;
pub mod engine;
pub mod error;
pub mod lifecycle;
pub mod params;
pub mod query;
pub mod registry;
pub mod saved;
pub mod session;
pub mod sql_limits;
pub mod statement;
mod system_catalog;
mod time_travel;
pub mod tls;
pub mod tracker;

pub use auth::{Authenticator, Principal};
pub use config::{Config, ConfigLoader};
pub use engine::{Described, Engine, Outcome, SessionChange, SessionCommand, SessionUpdate};
pub use error::EngineError;
pub use query::{QueryId, QueryResult};
pub use session::{ClientLabel, DialectName, Session};
