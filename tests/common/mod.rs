//! The harness every end-to-end test shares, by concern: the lake and its baseline
//! ([`lake`]), answer comparison ([`compare`]), real processes ([`server`]) and how tests talk to
//! them ([`http`], [`flight`], [`psql`]), TLS material ([`certificates`]), the S3 + REST lake
//! ([`seaweedfs`]).
// Each test binary uses its own subset of the harness and of these re-exports.
#![allow(dead_code, unused_imports)]

pub mod certificates;
pub mod compare;
pub mod flight;
pub mod http;
pub mod lake;
pub mod psql;
pub mod seaweedfs;
pub mod server;

pub use certificates::*;
pub use compare::*;
pub use flight::*;
pub use lake::*;
pub use psql::*;
pub use server::*;
