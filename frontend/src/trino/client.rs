//! What a Trino client says about itself in request headers (`X-Trino-User`, `-Catalog`,
//! `-Schema`, `-Source`, `-Session`, `-Prepared-Statement`), and the headers that tell it to
//! change its session (`X-Trino-Set-Catalog`, `-Set-Schema`, `-Set-Session`,
//! `-Clear-Session`, `-Added-Prepare`, `-Deallocated-Prepare`). Trino clients keep the
//! session; the server holds none between requests.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

pub const USER: &str = "x-trino-user";
pub const CATALOG: &str = "x-trino-catalog";
pub const SCHEMA: &str = "x-trino-schema";
pub const SOURCE: &str = "x-trino-source";
pub const SESSION: &str = "x-trino-session";
pub const PREPARED_STATEMENT: &str = "x-trino-prepared-statement";

pub const SET_CATALOG: &str = "x-trino-set-catalog";
pub const SET_SCHEMA: &str = "x-trino-set-schema";
pub const SET_SESSION: &str = "x-trino-set-session";
pub const CLEAR_SESSION: &str = "x-trino-clear-session";
pub const ADDED_PREPARE: &str = "x-trino-added-prepare";
pub const DEALLOCATED_PREPARE: &str = "x-trino-deallocated-prepare";

/// The client's session as its headers describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSession {
    pub user: Option<String>,
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub source: Option<String>,
    pub properties: BTreeMap<String, String>,
    pub prepared: BTreeMap<String, String>,
}

impl ClientSession {
    /// Reads the headers; a header that is not text is named in the error.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, String> {
        let text = |name: &str| -> Result<Option<String>, String> {
            headers
                .get(name)
                .map(|v| {
                    v.to_str()
                        .map(|s| s.trim().to_string())
                        .map_err(|_| format!("header {name} is not ASCII text"))
                })
                .transpose()
                .map(|v| v.filter(|s| !s.is_empty()))
        };
        Ok(Self {
            user: text(USER)?,
            catalog: text(CATALOG)?,
            schema: text(SCHEMA)?,
            source: text(SOURCE)?,
            properties: pairs(headers, SESSION)?,
            prepared: pairs(headers, PREPARED_STATEMENT)?,
        })
    }
}

/// `name=value,name=value` over every occurrence of header `name`, values URL-encoded.
fn pairs(headers: &HeaderMap, name: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for value in headers.get_all(name) {
        let value = value
            .to_str()
            .map_err(|_| format!("header {name} is not ASCII text"))?;
        for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, encoded)) = pair.split_once('=') else {
                return Err(format!("header {name}: {pair:?} is not name=value"));
            };
            out.insert(key.trim().to_string(), decode(encoded.trim()));
        }
    }
    Ok(out)
}

/// Percent-decoding with `+` as a space: what `quote` and `quote_plus` both round-trip to.
fn decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("v={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `value` URL-encoded, as clients decode it.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Adds `name: value` to `headers` (skipping a value that cannot be a header).
pub fn add(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.append(HeaderName::from_static(name), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_prepared_statements_are_decoded() {
        let mut headers = HeaderMap::new();
        headers.insert(USER, HeaderValue::from_static("ana"));
        headers.insert(
            SESSION,
            HeaderValue::from_static("cache=off, max_staleness=30"),
        );
        headers.insert(
            PREPARED_STATEMENT,
            HeaderValue::from_static("st_1=SELECT+%3F+%2C+1"),
        );
        let session = ClientSession::from_headers(&headers).unwrap();
        assert_eq!(session.user.as_deref(), Some("ana"));
        assert_eq!(session.properties["max_staleness"], "30");
        assert_eq!(session.prepared["st_1"], "SELECT ? , 1");
        assert_eq!(encode("SELECT ?, 1"), "SELECT+%3F%2C+1");
    }
}
