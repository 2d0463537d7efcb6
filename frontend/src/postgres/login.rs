//! How a PostgreSQL client gets in: trusted by name in the open demo mode; with a users file,
//! SCRAM-SHA-256 for users that have a verifier in it and a cleartext password otherwise
//! (the password goes to the central [`Authenticator`]; use TLS across a network).
//!
//! One [`Login`] serves every connection: the per-connection state of an exchange lives in
//! the connection (pgwire's [`AuthDriver`] keeps the running mechanism there).

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::cleartext::CleartextPasswordAuth;
use pgwire::api::auth::driver::AuthOutcome;
use pgwire::api::auth::mechanism::{AuthMechanism, AuthMechanismFactory, AuthState};
use pgwire::api::auth::sasl::scram::{ScramAuth, ScramSecret, gen_salted_password};
use pgwire::api::auth::{
    AuthDriver, AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
    protocol_negotiation, save_startup_parameters_to_metadata,
};
use pgwire::api::{ClientInfo, ConnectionManager, METADATA_USER};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::PasswordMessageFamily;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use rand::RngCore;

use lakegate_coordinator::auth::{AuthError, Authenticator, ScramVerifier};
use lakegate_coordinator::dialect::postgres::SERVER_VERSION;

/// SCRAM iterations for new verifiers: PostgreSQL's default.
const SCRAM_ITERATIONS: usize = 4096;

/// The startup handler of every PostgreSQL connection.
pub struct Login {
    auth: Arc<Authenticator>,
    /// Refuse clients that did not negotiate TLS (`server.postgres_require_tls`).
    require_tls: bool,
    driver: AuthDriver<DefaultServerParameterProvider>,
    cleartext: CleartextPasswordAuth<Passwords>,
    scram: ScramAuth,
}

impl Login {
    /// Cancel requests find connections through `cancels`, where each login registers.
    pub fn new(
        auth: Arc<Authenticator>,
        cancels: Arc<ConnectionManager>,
        require_tls: bool,
    ) -> Self {
        let passwords = Arc::new(Passwords(auth.clone()));
        Self {
            require_tls,
            driver: AuthDriver::new(server_parameters()).with_connection_manager(cancels),
            cleartext: CleartextPasswordAuth::new(passwords.clone()),
            scram: ScramAuth::new(passwords),
            auth,
        }
    }

    fn mechanism_for<C: ClientInfo>(&self, client: &C) -> Box<dyn AuthMechanism> {
        if self.auth.is_open() {
            return Box::new(Trust);
        }
        let user = client.metadata().get(METADATA_USER).map(String::as_str);
        match user.and_then(|u| self.auth.scram_verifier(u)) {
            Some(_) => self.scram.create(),
            None => self.cleartext.create(),
        }
    }

    async fn finish<C>(&self, client: &mut C, outcome: AuthOutcome) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match outcome {
            AuthOutcome::InProgress => Ok(()),
            AuthOutcome::Authenticated { final_message, .. } => {
                self.driver
                    .complete_authentication(client, final_message)
                    .await
            }
        }
    }
}

#[async_trait]
impl StartupHandler for Login {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                if self.require_tls && !client.is_secure() {
                    // As PostgreSQL answers a client that no `hostssl` line lets in.
                    return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                        "FATAL".into(),
                        "28000".into(),
                        "this server accepts only TLS connections (sslmode=require)".into(),
                    ))));
                }
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                let mechanism = self.mechanism_for(client);
                let outcome = self.driver.begin_authentication(client, mechanism).await?;
                self.finish(client, outcome).await
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                let outcome = match self.driver.advance_authentication(client, message).await {
                    // SCRAM's messages carry no user name (it came with the startup message):
                    // name the user the client logged in as.
                    Err(PgWireError::InvalidPassword(name)) if name.is_empty() => {
                        let user = client.metadata().get(METADATA_USER).cloned();
                        return Err(PgWireError::InvalidPassword(user.unwrap_or_default()));
                    }
                    outcome => outcome?,
                };
                self.finish(client, outcome).await
            }
            _ => Ok(()),
        }
    }
}

/// What clients are told about the server at login; they pick catalog queries and features
/// by `server_version`.
fn server_parameters() -> DefaultServerParameterProvider {
    let mut parameters = DefaultServerParameterProvider::default();
    parameters.server_version =
        format!("{SERVER_VERSION} (lakegate {})", env!("CARGO_PKG_VERSION"));
    parameters
}

/// The open demo mode: the user name the client sends is who it is.
struct Trust;

#[async_trait]
impl AuthMechanism for Trust {
    async fn begin(&mut self, _client: &(dyn ClientInfo + Send + Sync)) -> PgWireResult<AuthState> {
        Ok(AuthState::Ok {
            final_message: None,
            identity: None,
        })
    }

    async fn next(
        &mut self,
        _client: &(dyn ClientInfo + Send + Sync),
        _message: PasswordMessageFamily,
    ) -> PgWireResult<AuthState> {
        Err(PgWireError::NoAuthenticationInProgress)
    }
}

/// Passwords and SCRAM verifiers from the users file.
#[derive(Debug)]
struct Passwords(Arc<Authenticator>);

#[async_trait]
impl AuthSource for Passwords {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        // Hashes never leave the authenticator; `verify_password` checks instead.
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_string(),
        ))
    }

    async fn verify_password(
        &self,
        login: &LoginInfo,
        password: &[u8],
    ) -> PgWireResult<Option<()>> {
        let user = login.user().unwrap_or_default().to_string();
        let password = String::from_utf8_lossy(password);
        let password = password.trim_end_matches('\0');
        match self.0.login(&user, password) {
            Ok(_) => Ok(Some(())),
            // A refused identity-provider token says why (expired, audience, signature).
            Err(e @ AuthError::Jwt(_)) => Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".into(),
                "28000".into(),
                e.to_string(),
            )))),
            Err(_) => Err(PgWireError::InvalidPassword(user)),
        }
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let user = login.user().unwrap_or_default();
        let verifier = self
            .0
            .scram_verifier(user)
            .ok_or_else(|| PgWireError::InvalidPassword(user.to_string()))?;
        Ok((
            ScramSecret::Verifier {
                salt: verifier.salt.clone(),
                iterations: verifier.iterations,
                stored_key: verifier.stored_key.clone(),
                server_key: verifier.server_key.clone(),
            },
            None,
        ))
    }
}

/// A new SCRAM-SHA-256 verifier of `password`, with a random salt, for the users file.
pub fn scram_verifier(password: &str) -> ScramVerifier {
    let mut salt = vec![0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salted = gen_salted_password(password, &salt, SCRAM_ITERATIONS);
    match ScramSecret::verifier_from_salted_password(salt.clone(), salted, SCRAM_ITERATIONS) {
        ScramSecret::Verifier {
            salt,
            iterations,
            stored_key,
            server_key,
        } => ScramVerifier {
            iterations,
            salt,
            stored_key,
            server_key,
        },
        ScramSecret::SaltedPassword { .. } => {
            unreachable!("verifier_from_salted_password returns a verifier")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_prints_in_postgres_format_and_reads_back() {
        let verifier = scram_verifier("pa55");
        let text = verifier.to_string();
        assert!(text.starts_with("SCRAM-SHA-256$4096:"), "{text}");
        assert_eq!(text.parse::<ScramVerifier>(), Ok(verifier));
    }

    #[test]
    fn malformed_verifiers_say_what_is_wrong() {
        for (text, expected) in [
            ("md5abc", "expected SCRAM-SHA-256$"),
            ("SCRAM-SHA-256$12:AAAA$AAAA:AAAA", "iteration count"),
            ("SCRAM-SHA-256$4096:!!$AAAA:AAAA", "salt is not base64"),
            ("SCRAM-SHA-256$4096:AAAA$AAAA:AAAA", "32-byte"),
        ] {
            let err = text.parse::<ScramVerifier>().expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
