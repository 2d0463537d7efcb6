//! Who a Flight SQL call comes from: the `authorization` header (Basic or Bearer), resolved to a
//! [`Session`] through the central [`Authenticator`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::status::auth_status;
use crate::auth::{AuthError, Authenticator, BearerToken, Principal};
use crate::engine::Engine;
use crate::session::Session;

/// Sessions by bearer token, so `SET` and `USE` carry from call to call of one client.
#[derive(Debug)]
pub struct FlightSessions {
    auth: Arc<Authenticator>,
    by_token: Mutex<HashMap<String, Arc<Session>>>,
}

/// Credentials found in a call's headers.
enum Credentials {
    Basic { user: String, password: String },
    Bearer(String),
    None,
}

impl FlightSessions {
    pub fn new(auth: Arc<Authenticator>) -> Self {
        Self {
            auth,
            by_token: Mutex::new(HashMap::new()),
        }
    }

    /// Checks a handshake's Basic credentials (or, in open mode, none) and opens a session.
    pub fn login(&self, engine: &Engine, headers: &MetadataMap) -> Result<BearerToken, Status> {
        let principal = match credentials(headers)? {
            Credentials::Basic { user, password } => self.auth.login(&user, &password),
            Credentials::Bearer(token) => self.auth.check_token(&token),
            Credentials::None => self.auth.anonymous(),
        }
        .map_err(auth_status)?;
        let token = self.auth.issue_token(&principal);
        let session = Arc::new(engine.new_session(principal));
        let mut sessions = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|token, _| self.auth.check_token(token).is_ok());
        sessions.insert(token.0.clone(), session);
        Ok(token)
    }

    /// The session of a call: its bearer token's, or a new one for Basic credentials or (open
    /// mode) no credentials.
    pub fn session(&self, engine: &Engine, headers: &MetadataMap) -> Result<Arc<Session>, Status> {
        let principal: Principal = match credentials(headers)? {
            Credentials::Bearer(token) => {
                self.auth.check_token(&token).map_err(auth_status)?;
                let sessions = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
                return sessions
                    .get(&token)
                    .cloned()
                    .ok_or_else(|| auth_status(AuthError::BadToken));
            }
            Credentials::Basic { user, password } => self.auth.login(&user, &password),
            Credentials::None => self.auth.anonymous(),
        }
        .map_err(auth_status)?;
        Ok(Arc::new(engine.new_session(principal)))
    }
}

/// Base64 with or without padding: arrow-go's Flight client (under the ADBC driver) sends
/// Basic credentials unpadded, most others padded.
const BASIC_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn credentials(headers: &MetadataMap) -> Result<Credentials, Status> {
    let Some(value) = headers.get("authorization") else {
        return Ok(Credentials::None);
    };
    let value = value
        .to_str()
        .map_err(|_| Status::unauthenticated("authorization header is not ASCII"))?;
    if let Some(token) = strip_scheme(value, "bearer") {
        return Ok(Credentials::Bearer(token.to_string()));
    }
    if let Some(encoded) = strip_scheme(value, "basic") {
        let decoded = BASIC_BASE64
            .decode(encoded)
            .map_err(|_| Status::unauthenticated("Basic credentials are not base64"))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| Status::unauthenticated("Basic credentials are not UTF-8"))?;
        let (user, password) = text
            .split_once(':')
            .ok_or_else(|| Status::unauthenticated("Basic credentials need user:password"))?;
        return Ok(Credentials::Basic {
            user: user.to_string(),
            password: password.to_string(),
        });
    }
    Err(Status::unauthenticated(
        "authorization header must be Basic or Bearer",
    ))
}

/// `scheme` matched case-insensitively (RFC 9110 section 11.1).
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(encoded: &str) -> Credentials {
        let mut headers = MetadataMap::new();
        headers.insert("authorization", format!("Basic {encoded}").parse().unwrap());
        credentials(&headers).unwrap()
    }

    #[test]
    fn basic_credentials_are_read_padded_or_not() {
        // "ana:pa5" encodes to a padded form; arrow-go sends it without the padding.
        for encoded in ["YW5hOnBhNQ==", "YW5hOnBhNQ"] {
            match basic(encoded) {
                Credentials::Basic { user, password } => {
                    assert_eq!((user.as_str(), password.as_str()), ("ana", "pa5"))
                }
                _ => panic!("{encoded} is not read as Basic credentials"),
            }
        }
    }
}
