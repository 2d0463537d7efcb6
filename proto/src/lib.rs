//! lakegate's wire messages.
//!
//! * [`scan`]: an Iceberg scan planned by the coordinator against one pinned snapshot, split into
//!   byte ranges of data files that executors read.
//! * [`registry`]: executors registering with the coordinator and sending heartbeats.
//! * [`flight_sql`]: handles the Flight SQL front end gives to clients.
//! * [`cluster_secret`]: the secret coordinator and executors present to each other;
//!   [`headers`]: what every plan fragment carries besides it, [`trace_context`] among it.
//! * [`net`]: accepting connections as every lakegate server wants them;
//!   [`tls_channels`]: reaching workers over TLS.

pub mod cluster_secret;
pub mod headers;
pub mod net;
pub mod tls_channels;
pub mod trace_context;

/// Iceberg scan splits (`proto/lakegate/scan.proto`).
pub mod scan {
    include!(concat!(env!("OUT_DIR"), "/lakegate.scan.rs"));
}

/// Executor registration and heartbeats (`proto/lakegate/registry.proto`).
pub mod registry {
    include!(concat!(env!("OUT_DIR"), "/lakegate.registry.rs"));
}

/// Flight SQL handles (`proto/lakegate/flight_sql.proto`).
pub mod flight_sql {
    include!(concat!(env!("OUT_DIR"), "/lakegate.flight_sql.rs"));
}
