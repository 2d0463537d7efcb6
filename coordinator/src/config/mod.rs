//! Configuration: one TOML file, every key overridable by a `LAKEGATE_<SECTION>_<KEY>`
//! environment variable and then by command-line flags. Defaults serve the local demo.
//!
//! All three sources go through one path: they are merged as TOML values and deserialised
//! once, so an unknown key or a wrong type is reported the same way wherever it came from.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use lakegate_proto::cluster_secret::ClusterSecret;

use crate::session::DialectName;
use serde::Deserialize;

mod loader;

pub use loader::{ConfigError, ConfigLoader};

/// Prefix of environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "LAKEGATE_";

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub catalog: CatalogConfig,
    pub storage: StorageConfig,
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub query: QueryConfig,
    pub cluster: ClusterConfig,
    pub cache: CacheConfig,
    pub telemetry: TelemetryConfig,
}

/// OpenTelemetry traces: one trace per query, spanning the coordinator and its executors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// The OTLP/gRPC collector spans are sent to (`http://collector:4317`). Empty: off.
    pub otlp_endpoint: String,
    /// How often finished spans are sent (they are batched in between).
    pub export_interval_ms: u64,
    /// The share of queries traced, from 0 to 1; an executor follows the coordinator's choice.
    pub sample_ratio: f64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: String::new(),
            export_interval_ms: 5_000,
            sample_ratio: 1.0,
        }
    }
}

/// The result cache.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    pub enabled: bool,
    /// Total bytes of cached results.
    pub max_bytes: u64,
    /// A larger result is streamed and not cached.
    pub max_entry_bytes: u64,
    /// Entries older than this are dropped; 0 keeps them until evicted.
    pub ttl_secs: u64,
    /// Entries not read for this long are dropped; 0 never.
    pub idle_secs: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_bytes: 256 * 1024 * 1024,
            max_entry_bytes: 16 * 1024 * 1024,
            ttl_secs: 3600,
            idle_secs: 600,
        }
    }
}

/// Where the Iceberg catalog is.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// The name the catalog is loaded with and shown as in SQL (`lake.tpch.lineitem`). A SQL
    /// catalog keys tables by this name: it must equal the name the writer used.
    pub name: String,
    /// `sqlite:PATH`, `postgres://...` (SQL catalog) or `http(s)://...` (REST catalog). Empty:
    /// the SQLite catalog inside `warehouse`.
    pub uri: String,
    /// Root of the table data: a local directory or an `s3://bucket/prefix` URL.
    pub warehouse: String,
    /// Namespace that unqualified table names resolve in.
    pub default_schema: String,
    /// How long listed namespaces and tables are reused before the catalog is asked again.
    pub refresh_interval_ms: u64,
    /// REST catalogs: OAuth2 client credentials (`CLIENT_ID:SECRET`), exchanged for a token
    /// at `oauth2_server_uri` (default: the catalog's own `/v1/oauth/tokens`).
    pub credential: Option<String>,
    /// REST catalogs: a bearer token, when the catalog takes one instead of credentials.
    pub token: Option<String>,
    pub oauth2_server_uri: Option<String>,
    /// REST catalogs over https: PEM certificates trusted besides the system's (a private CA).
    pub tls_ca: Option<PathBuf>,
}

/// A password in the catalog URI (`postgres://user:PASSWORD@host/db`) is never printed.
impl std::fmt::Debug for CatalogConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let uri = match url::Url::parse(&self.uri) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("<hidden>"));
                url.to_string()
            }
            _ => self.uri.clone(),
        };
        f.debug_struct("CatalogConfig")
            .field("name", &self.name)
            .field("uri", &uri)
            .field("warehouse", &self.warehouse)
            .field("default_schema", &self.default_schema)
            .field("refresh_interval_ms", &self.refresh_interval_ms)
            .field("credential", &self.credential.as_ref().map(|_| "<set>"))
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("oauth2_server_uri", &self.oauth2_server_uri)
            .field("tls_ca", &self.tls_ca)
            .finish()
    }
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            name: "lake".into(),
            uri: String::new(),
            warehouse: "./lakegate-data".into(),
            default_schema: "tpch".into(),
            refresh_interval_ms: 1000,
            credential: None,
            token: None,
            oauth2_server_uri: None,
            tls_ca: None,
        }
    }
}

/// Object-store settings, handed to iceberg's `FileIO` (keys as in the Iceberg S3 spec).
#[derive(Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    pub s3_session_token: Option<String>,
    pub s3_path_style_access: Option<bool>,
}

/// Credentials are shown as set or not, never their value: `--check-config` and logs print
/// the configuration.
impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |secret: &Option<String>| secret.as_ref().map(|_| "<set>");
        f.debug_struct("StorageConfig")
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .field("s3_access_key_id", &hidden(&self.s3_access_key_id))
            .field("s3_secret_access_key", &hidden(&self.s3_secret_access_key))
            .field("s3_session_token", &hidden(&self.s3_session_token))
            .field("s3_path_style_access", &self.s3_path_style_access)
            .finish()
    }
}

/// Listening addresses of the front ends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub flight_sql_addr: SocketAddr,
    /// HTTP: the JSON/Arrow API, the Trino protocol, `/healthz`, `/readyz` and `/metrics`.
    pub http_addr: SocketAddr,
    /// The PostgreSQL wire protocol.
    pub postgres_addr: SocketAddr,
    /// PEM certificate chain and private key for TLS on Flight SQL and HTTP (both or
    /// neither); plaintext is then refused there. PostgreSQL offers TLS with them too unless
    /// `postgres_tls_*` are set.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Refuse PostgreSQL clients that do not ask for TLS (as `hostssl` lines do), or serve
    /// them in the clear (as `host` lines allow). Unset: refused when the port's TLS comes
    /// from `tls_cert`/`tls_key` (every listener is a TLS port then), served when it comes
    /// from `postgres_tls_*` alone.
    pub postgres_require_tls: Option<bool>,
    /// PEM certificate chain and private key for TLS on the PostgreSQL port (both or neither).
    pub postgres_tls_cert: Option<PathBuf>,
    pub postgres_tls_key: Option<PathBuf>,
    /// The largest HTTP request body taken (`/v1/query`, `/v1/statement`, saved queries);
    /// larger ones are answered 413 naming this limit.
    pub max_request_bytes: usize,
    /// How long a stopping coordinator (SIGTERM) lets running queries finish before it closes.
    pub shutdown_grace_secs: u64,
    /// One JSON line per statement (who, from where, what, which snapshots, under which
    /// filters, how it ended): a file appended to, or `stdout`. Unset: no audit log.
    pub audit_log: Option<PathBuf>,
    /// Where the coordinator keeps what it must not lose on restart (saved queries). Unset:
    /// `.lakegate` inside a local warehouse directory, else `lakegate-state` in the working
    /// directory.
    pub state_dir: Option<PathBuf>,
}

impl ServerConfig {
    /// Whether PostgreSQL clients must use TLS (see `postgres_require_tls`).
    pub fn postgres_requires_tls(&self) -> bool {
        self.postgres_require_tls
            .unwrap_or(self.postgres_tls_cert.is_none() && self.tls_cert.is_some())
    }
}

impl Config {
    /// `server.state_dir`, or its default next to a local lake.
    pub fn state_dir(&self) -> PathBuf {
        if let Some(dir) = &self.server.state_dir {
            return dir.clone();
        }
        let warehouse = &self.catalog.warehouse;
        if !warehouse.is_empty() && !warehouse.contains("://") {
            return PathBuf::from(warehouse).join(".lakegate");
        }
        PathBuf::from("lakegate-state")
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            flight_sql_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            postgres_addr: SocketAddr::from(([127, 0, 0, 1], 5433)),
            tls_cert: None,
            tls_key: None,
            postgres_require_tls: None,
            postgres_tls_cert: None,
            postgres_tls_key: None,
            max_request_bytes: 4 * 1024 * 1024,
            shutdown_grace_secs: 60,
            audit_log: None,
            state_dir: None,
        }
    }
}

/// How callers are authenticated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub mode: AuthMode,
    /// TOML file of `[[users]]` with `name` and an argon2id `password_hash` (`users` mode).
    pub users_file: Option<PathBuf>,
    /// Lifetime of bearer tokens issued at handshake.
    pub token_ttl_secs: u64,
    /// Trino's file-based access control JSON (`catalogs`, `schemas`, `tables` rules with row
    /// filters and column masks). Without it every user reads every table.
    pub access_control_file: Option<PathBuf>,
    /// Trino's group file (`group:user1,user2` lines): groups for access control rules.
    pub groups_file: Option<PathBuf>,
    /// Trino's resource groups JSON: how many queries run and wait per group of users.
    /// Unset: every query runs at once.
    pub resource_groups_file: Option<PathBuf>,
    /// How often the two files are checked for changes and read again.
    pub access_control_refresh_secs: u64,
    /// The identity provider's public keys (a JWKS JSON file): JWT bearer tokens signed
    /// RS256/ES256 by them are accepted on every front end, next to the users file.
    pub jwt_jwks_file: Option<PathBuf>,
    /// The identity provider's JWKS URL, fetched at start and every
    /// `jwt_jwks_refresh_secs` (instead of `jwt_jwks_file`).
    pub jwt_jwks_url: Option<String>,
    pub jwt_jwks_refresh_secs: u64,
    /// The `iss` a JWT must carry; unset: any.
    pub jwt_issuer: Option<String>,
    /// An `aud` a JWT must carry; unset: any.
    pub jwt_audience: Option<String>,
    /// The claim naming the user.
    pub jwt_user_claim: String,
    /// The claim listing the user's groups (an array of strings); unset: none from tokens.
    pub jwt_groups_claim: Option<String>,
    /// Users who see and may cancel every user's queries (`GET /v1/queries`,
    /// `DELETE /v1/queries/{id}`); others see their own. In open mode everyone is one.
    pub operators: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::Open,
            users_file: None,
            token_ttl_secs: 12 * 3600,
            operators: Vec::new(),
            jwt_jwks_file: None,
            jwt_jwks_url: None,
            jwt_jwks_refresh_secs: 300,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_user_claim: "sub".into(),
            jwt_groups_claim: None,
            access_control_file: None,
            groups_file: None,
            resource_groups_file: None,
            access_control_refresh_secs: 10,
        }
    }
}

/// `open` accepts everyone (the local demo); `users` checks the users file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    Open,
    Users,
}

/// Limits and knobs of query execution.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueryConfig {
    /// Partitions per scan and per repartition; 0 means the number of cores.
    pub target_partitions: usize,
    /// Threads that run plans, apart from those serving clients, heartbeats and cancels (so
    /// these stay quick while queries use every core); 0 means one per core.
    pub cpu_threads: usize,
    pub batch_size: usize,
    /// How long a planned Flight SQL ticket waits to be fetched before it is dropped.
    pub ticket_ttl_secs: u64,
    /// A query running longer is cancelled; 0 means no limit.
    pub timeout_secs: u64,
    /// Runs of a query that lost an executor, the first included.
    pub max_attempts: usize,
    /// Rows of a result remembered (a 16-byte fingerprint each, while the query runs) so that
    /// a rerun after a lost executor carries on after those already sent; a query that sent
    /// more fails instead. 0: rerun only before the first row.
    pub resume_max_rows: usize,
    /// Memory one query may hold on each executor (all its fragments there together) before
    /// it fails or spills; 0 is unbounded. The coordinator sends it with every fragment; an
    /// executor uses its own value only for a coordinator that sends none.
    pub memory_limit_bytes: usize,
    /// The SQL dialect of sessions whose front end has none of its own (Flight SQL, HTTP,
    /// the shell): `standard` (DataFusion's), `trino` or `postgres`. Trino-protocol and
    /// PostgreSQL-wire sessions speak their own; any session may `SET dialect = ...`.
    pub default_dialect: DialectName,
    /// The longest SQL text taken, in bytes (Trino's `query.max-length` is a million
    /// characters).
    pub max_sql_bytes: usize,
    /// How many operators one expression may chain (`a OR b OR ...`), counting the levels of
    /// parentheses around it. Deeper expressions are refused before they are parsed: planning
    /// recurses once per level, and the server's thread stacks are sized for this limit.
    pub max_expression_depth: usize,
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            target_partitions: 0,
            cpu_threads: 0,
            batch_size: 8192,
            ticket_ttl_secs: 300,
            timeout_secs: 0,
            max_attempts: 3,
            resume_max_rows: 1_000_000,
            memory_limit_bytes: 0,
            default_dialect: DialectName::Standard,
            max_sql_bytes: 1_000_000,
            max_expression_depth: 3_000,
        }
    }
}

/// Executors: how many `lakegate local` starts, how they report, how work is spread over them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Executors `lakegate local` runs in-process, each on its own loopback port.
    pub local_executors: usize,
    /// The coordinator an executor reports to (`lakegate executor`).
    pub coordinator_url: String,
    /// Where `lakegate executor` listens.
    pub executor_addr: SocketAddr,
    /// The host an executor registers under when it listens on a wildcard address (on
    /// Kubernetes: the pod IP, from the downward API). Empty: the listen address.
    pub executor_advertise_host: String,
    pub heartbeat_interval_ms: u64,
    /// Silence after which an executor gets no new work.
    pub heartbeat_timeout_ms: u64,
    /// Bytes of data files one task of a scan reads; fewer means more tasks.
    pub bytes_per_task: usize,
    /// The most tasks one stage is spread over; 0: one per executor, except under
    /// `lakegate local`, whose in-process executors run on the coordinator's own cores: there
    /// a second task adds no core, only encoding batches between them, so 0 means 1 and every
    /// plan runs whole in the coordinator, as single-node DataFusion would.
    pub max_tasks_per_stage: usize,
    /// How long an executor told to stop (SIGTERM) waits for its running queries; keep it
    /// below the orchestrator's grace period (Kubernetes' `terminationGracePeriodSeconds`).
    pub drain_timeout_secs: u64,
    /// The secret coordinator and executors present to each other: executors run plan
    /// fragments only for callers that have it, the coordinator registers only executors that
    /// have it. Set it from the environment (`LAKEGATE_CLUSTER_SHARED_SECRET`). Unset: open.
    pub shared_secret: Option<Redacted>,
    /// PEM certificates an executor trusts for an `https://` coordinator_url (the
    /// coordinator's `server.tls_cert` or its CA). `lakegate local` falls back to
    /// `server.tls_cert` itself, which then has to name `localhost`.
    pub tls_ca: Option<PathBuf>,
    /// An executor's PEM certificate chain and key: its worker port then speaks only TLS,
    /// and the coordinator and other executors reach it trusting `tls_ca`.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// A credential in the configuration: read like a string, printed as `<set>`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<set>")
    }
}

impl ClusterConfig {
    /// The cluster's shared secret, as both sides check and present it.
    pub fn secret(&self) -> ClusterSecret {
        ClusterSecret::new(self.shared_secret.as_ref().map(|s| s.0.as_str()))
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            local_executors: 2,
            coordinator_url: "http://127.0.0.1:50051".into(),
            executor_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            executor_advertise_host: String::new(),
            heartbeat_interval_ms: 1000,
            heartbeat_timeout_ms: 10_000,
            bytes_per_task: 64 * 1024 * 1024,
            max_tasks_per_stage: 0,
            drain_timeout_secs: 60,
            shared_secret: None,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Config {
    /// The catalog URI, defaulting to the SQLite catalog in the warehouse directory.
    pub fn catalog_uri(&self) -> String {
        if self.catalog.uri.is_empty() {
            format!(
                "sqlite:{}/catalog.db",
                self.catalog.warehouse.trim_end_matches('/')
            )
        } else {
            self.catalog.uri.clone()
        }
    }

    /// The warehouse as a URL iceberg's storage understands (`file:///abs/dir` for local dirs).
    pub fn warehouse_url(&self) -> String {
        warehouse_url(&self.catalog.warehouse)
    }

    /// Properties for iceberg's `FileIO` and catalog builders.
    pub fn storage_props(&self) -> HashMap<String, String> {
        let s = &self.storage;
        let mut props = HashMap::new();
        let mut put = |key: &str, value: &Option<String>| {
            if let Some(v) = value {
                props.insert(key.to_string(), v.clone());
            }
        };
        put(iceberg::io::S3_ENDPOINT, &s.s3_endpoint);
        put(iceberg::io::S3_REGION, &s.s3_region);
        put(iceberg::io::S3_ACCESS_KEY_ID, &s.s3_access_key_id);
        put(iceberg::io::S3_SECRET_ACCESS_KEY, &s.s3_secret_access_key);
        put(iceberg::io::S3_SESSION_TOKEN, &s.s3_session_token);
        put(
            iceberg::io::S3_PATH_STYLE_ACCESS,
            &s.s3_path_style_access.map(|b| b.to_string()),
        );
        props
    }
}

/// A local directory becomes an absolute `file://` URL; anything with a scheme is kept.
pub fn warehouse_url(warehouse: &str) -> String {
    if warehouse.contains("://") {
        return warehouse.trim_end_matches('/').to_string();
    }
    let path = Path::new(warehouse);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let cleaned: PathBuf = absolute.components().collect();
    format!("file://{}", cleaned.display())
}
