//! Arrow Flight SQL, for BI tools (ADBC, JDBC) and `lakegate shell`.
//!
//! ```text
//!  Handshake  Basic user:pass ──▶ Authenticator ──▶ Bearer token (one Session per token)
//!  GetFlightInfo(CommandStatementQuery) ──▶ Engine::execute ──▶ ticket = query id
//!  DoGet(ticket) ──▶ the planned query's stream (never re-planned: same snapshots)
//!  CreatePreparedStatement ──▶ Engine::describe ──▶ handle = SQL (+ bound row after DoPut)
//!  CancelFlightInfo(ticket) ──▶ the pending or streaming query is dropped everywhere
//! ```

mod auth;
mod metadata;
mod prepared;
mod server_info;
mod service;
mod status;
mod tickets;

pub use service::FlightSqlFrontend;
