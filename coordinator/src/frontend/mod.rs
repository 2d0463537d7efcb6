//! Front ends: each turns one client protocol into [`crate::Engine`] calls and engine results
//! and errors back into that protocol. None of them plans SQL itself.

pub mod flight_sql;
pub mod http;
pub mod postgres;
pub mod trino;
