//! Who a Flight SQL call comes from: the `authorization` header (Basic or Bearer), resolved to a
//! [`Session`] through the central [`Authenticator`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tonic::Status;
use tonic::metadata::MetadataMap;

use super::status::auth_status;
use lakegate_coordinator::auth::{AuthError, Authenticator, BearerToken, Credentials, Principal};
use lakegate_coordinator::engine::Engine;
use lakegate_coordinator::session::Session;

/// How metrics and the query list label Flight SQL clients.
pub const CLIENT: ClientLabel = ClientLabel::new("flight_sql");
use lakegate_coordinator::session::ClientLabel;

/// Sessions by bearer token, so `SET` and `USE` carry from call to call of one client.
#[derive(Debug)]
pub struct FlightSessions {
    auth: Arc<Authenticator>,
    by_token: Mutex<HashMap<String, Arc<Session>>>,
}

impl FlightSessions {
    pub fn new(auth: Arc<Authenticator>) -> Self {
        Self {
            auth,
            by_token: Mutex::new(HashMap::new()),
        }
    }

    /// Checks a handshake's Basic credentials (or, in open mode, none) and opens a session.
    pub fn login(
        &self,
        engine: &Engine,
        headers: &MetadataMap,
        client: Option<SocketAddr>,
    ) -> Result<BearerToken, Status> {
        let principal = match credentials(headers)? {
            Credentials::Basic { user, password } => self.auth.login(&user, &password),
            Credentials::Bearer(token) => self.auth.check_bearer(&token),
            Credentials::None => self.auth.anonymous(),
        }
        .map_err(auth_status)?;
        let token = self.auth.issue_token(&principal);
        let session = Arc::new(
            engine
                .session_for(principal, CLIENT, engine.default_dialect())
                .with_client_address(client),
        );
        let mut sessions = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|token, _| self.auth.check_token(token).is_ok());
        sessions.insert(token.0.clone(), session);
        Ok(token)
    }

    /// The session of a call: its bearer token's, or a new one for Basic credentials or (open
    /// mode) no credentials.
    pub fn session(
        &self,
        engine: &Engine,
        headers: &MetadataMap,
        client: Option<SocketAddr>,
    ) -> Result<Arc<Session>, Status> {
        let principal: Principal = match credentials(headers)? {
            Credentials::Bearer(token) => {
                if self.auth.check_token(&token).is_ok() {
                    let sessions = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
                    return sessions
                        .get(&token)
                        .cloned()
                        .ok_or_else(|| auth_status(AuthError::BadToken));
                }
                // An identity provider's JWT, presented on every call: a session per call.
                self.auth.check_bearer(&token)
            }
            Credentials::Basic { user, password } => self.auth.login(&user, &password),
            Credentials::None => self.auth.anonymous(),
        }
        .map_err(auth_status)?;
        Ok(Arc::new(
            engine
                .session_for(principal, CLIENT, engine.default_dialect())
                .with_client_address(client),
        ))
    }
}

fn credentials(headers: &MetadataMap) -> Result<Credentials, Status> {
    Credentials::from_header_value(headers.get("authorization").map(|v| v.as_bytes()))
        .map_err(auth_status)
}
