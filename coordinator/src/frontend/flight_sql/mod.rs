//! Arrow Flight SQL, for BI tools (ADBC, JDBC) and `lakegate shell`.
//!
//! ```text
//!  Handshake  Basic user:pass ──▶ Authenticator ──▶ Bearer token (one Session per token)
//!  GetFlightInfo(CommandStatementQuery) ──▶ Engine::execute ──▶ ticket = query id
//!  DoGet(ticket) ──▶ the planned query's stream (never re-planned: same snapshots)
//! ```

mod auth;
mod metadata;
mod service;
mod status;
mod tickets;

pub use service::FlightSqlFrontend;
