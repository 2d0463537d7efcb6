//! lakegate's front ends: each turns one client protocol into [`lakegate_coordinator::Engine`]
//! calls and renders the engine's outcomes and errors in that protocol. None parses SQL or
//! plans anything; Cargo keeps them off the executor and the connector.
//!
//! * [`flight_sql`]: Arrow Flight SQL (ADBC, JDBC), on the port [`server`] also opens to
//!   executors' heartbeats.
//! * [`http`]: the JSON/Arrow API, saved queries, metrics and probes; it carries [`trino`],
//!   the Trino client protocol.
//! * [`postgres`]: the PostgreSQL wire protocol.

pub mod flight_sql;
pub mod http;
pub mod postgres;
pub mod server;
mod temporal;
pub mod trino;
