//! [`Session`]: one client connection's state, the same whichever front end it came through.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::RwLock;

use crate::auth::Principal;

/// Who is asking and what they have set: default catalog and schema, and session variables.
/// `SET` and `USE` change it; each connection has its own.
#[derive(Debug)]
pub struct Session {
    principal: Principal,
    client: ClientLabel,
    /// Where the client connected from, when the front end knows (for the audit log).
    client_address: Option<SocketAddr>,
    /// What the client says it is (Trino's `X-Trino-Source`, PostgreSQL's
    /// `application_name`): resource group selectors match it.
    source: Option<String>,
    vars: RwLock<SessionVars>,
}

/// The changeable part of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionVars {
    pub catalog: String,
    pub schema: String,
    /// Variables set with `SET`; `datafusion.*` ones are applied to every query's config.
    pub settings: BTreeMap<String, String>,
    /// Who the session's queries run as, for SQL's `current_user` and `session_user`.
    pub user: String,
    /// The groups the caller's credentials carried, for access control rules.
    pub groups: Vec<String>,
    /// The SQL the client writes, and what it expects besides the lake.
    pub dialect: DialectName,
    /// The dialect the session started in, which `RESET dialect` returns to.
    pub home_dialect: DialectName,
    /// Prepared statements by name (`PREPARE`, or Trino's client headers), as SQL text.
    pub prepared: BTreeMap<String, String>,
}

/// Which dialect a session speaks: carried by the session, chosen by its front end or with
/// `SET dialect = ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DialectName {
    #[default]
    Standard,
    Postgres,
    Trino,
}

impl DialectName {
    pub fn as_str(self) -> &'static str {
        match self {
            DialectName::Standard => "standard",
            DialectName::Postgres => "postgres",
            DialectName::Trino => "trino",
        }
    }
}

impl std::str::FromStr for DialectName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().trim_matches('\'').to_ascii_lowercase().as_str() {
            "standard" => Ok(DialectName::Standard),
            "postgres" | "postgresql" => Ok(DialectName::Postgres),
            "trino" => Ok(DialectName::Trino),
            other => Err(format!(
                "expected trino, postgres or standard, got {other:?}"
            )),
        }
    }
}

impl std::fmt::Display for DialectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which kind of client a session serves (`flight_sql`, `postgres`, ...), as metrics, the
/// query list and resource group selectors name it. Opaque to the engine: it labels, never
/// decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientLabel(&'static str);

impl ClientLabel {
    /// Called from Rust in this process (tests, benchmarks, `lakegate tpch`).
    pub const EMBEDDED: ClientLabel = ClientLabel("embedded");

    pub const fn new(label: &'static str) -> Self {
        Self(label)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for ClientLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Session {
    pub fn new(
        principal: Principal,
        catalog: impl Into<String>,
        schema: impl Into<String>,
    ) -> Self {
        let vars = SessionVars {
            catalog: catalog.into(),
            schema: schema.into(),
            settings: BTreeMap::new(),
            user: principal.to_string(),
            groups: principal.groups.clone(),
            dialect: DialectName::Standard,
            home_dialect: DialectName::Standard,
            prepared: BTreeMap::new(),
        };
        Self {
            principal,
            client: ClientLabel::EMBEDDED,
            client_address: None,
            source: None,
            vars: RwLock::new(vars),
        }
    }

    /// The session of a `client` (queries are counted and listed by it).
    pub fn with_client(mut self, client: ClientLabel) -> Self {
        self.client = client;
        self
    }

    /// The session of a client that writes `dialect`.
    pub fn with_dialect(self, dialect: DialectName) -> Self {
        self.update(|vars| {
            vars.dialect = dialect;
            vars.home_dialect = dialect;
        });
        self
    }

    pub fn client(&self) -> ClientLabel {
        self.client
    }

    /// The session of a client connected from `address`.
    pub fn with_client_address(mut self, address: Option<SocketAddr>) -> Self {
        self.client_address = address;
        self
    }

    pub fn client_address(&self) -> Option<SocketAddr> {
        self.client_address
    }

    /// The session of a client that names itself `source`.
    pub fn with_source(mut self, source: Option<String>) -> Self {
        self.source = source.filter(|s| !s.is_empty());
        self
    }

    /// The client's own name, else its label (`flight_sql`, `http`, `trino`, `postgres`).
    pub fn source(&self) -> &str {
        self.source.as_deref().unwrap_or(self.client.as_str())
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// A copy of the current variables, taken once per query so a concurrent `SET` cannot
    /// change a query half-way.
    pub fn vars(&self) -> SessionVars {
        self.vars.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes the variables.
    pub fn update(&self, change: impl FnOnce(&mut SessionVars)) {
        change(&mut self.vars.write().unwrap_or_else(|e| e.into_inner()));
    }
}

/// How a session uses the result cache (`SET cache = on|off|refresh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheMode {
    /// Serve hits, store misses.
    #[default]
    On,
    /// Neither read nor write the cache.
    Off,
    /// Run every query and store its result, replacing what was cached.
    Refresh,
}

/// `SET dialect = trino|postgres|standard`: the SQL the session's next statements are in.
pub const DIALECT_SETTING: &str = "dialect";

/// The session variable that sets [`CacheMode`].
pub const CACHE_SETTING: &str = "cache";
/// The session variable that sets the time zone queries run in (`SET TIME ZONE`).
pub const TIME_ZONE_SETTING: &str = "datafusion.execution.time_zone";
/// The session variable that accepts table metadata (and so results) up to N seconds old.
pub const MAX_STALENESS_SETTING: &str = "max_staleness";

impl SessionVars {
    pub fn cache_mode(&self) -> CacheMode {
        self.settings
            .get(CACHE_SETTING)
            .and_then(|v| parse_cache_mode(v).ok())
            .unwrap_or_default()
    }

    /// `max_staleness`, or zero: only the catalog's refresh interval applies.
    pub fn max_staleness(&self) -> std::time::Duration {
        self.settings
            .get(MAX_STALENESS_SETTING)
            .and_then(|v| parse_seconds(v).ok())
            .unwrap_or_default()
    }
}

/// Checks a lakegate session variable's value; `Err` says what is accepted.
pub fn check_setting(name: &str, value: &str) -> Result<(), String> {
    match name {
        CACHE_SETTING => parse_cache_mode(value).map(|_| ()),
        MAX_STALENESS_SETTING => parse_seconds(value).map(|_| ()),
        DIALECT_SETTING => value.parse::<DialectName>().map(|_| ()),
        _ => Ok(()),
    }
}

fn parse_cache_mode(value: &str) -> Result<CacheMode, String> {
    match value
        .trim()
        .trim_matches('\'')
        .to_ascii_lowercase()
        .as_str()
    {
        "on" | "true" => Ok(CacheMode::On),
        "off" | "false" => Ok(CacheMode::Off),
        "refresh" => Ok(CacheMode::Refresh),
        other => Err(format!("expected on, off or refresh, got {other:?}")),
    }
}

/// Whole seconds, optionally with an `s` suffix: `30`, `30s`.
fn parse_seconds(value: &str) -> Result<std::time::Duration, String> {
    let text = value.trim().trim_matches('\'');
    let digits = text.strip_suffix('s').unwrap_or(text).trim();
    digits
        .parse::<u64>()
        .map(std::time::Duration::from_secs)
        .map_err(|_| format!("expected whole seconds such as 30 or 30s, got {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_and_staleness_settings_parse_or_say_what_is_expected() {
        assert_eq!(parse_cache_mode("OFF"), Ok(CacheMode::Off));
        assert_eq!(parse_cache_mode("'refresh'"), Ok(CacheMode::Refresh));
        assert!(
            check_setting("cache", "maybe")
                .unwrap_err()
                .contains("on, off or refresh")
        );
        assert_eq!(parse_seconds("30s"), Ok(std::time::Duration::from_secs(30)));
        assert!(check_setting("max_staleness", "soon").is_err());
        assert_eq!(check_setting("datafusion.x", "anything"), Ok(()));
    }
}
