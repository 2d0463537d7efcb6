//! Authentication, once for every front end: who is calling ([`Principal`]), checked against a
//! users file of argon2id hashes or accepted as-is in the open local demo, and bearer tokens
//! so a client that logged in once need not send its password on every call.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use rand::RngCore;
use serde::Deserialize;

use crate::config::{AuthConfig, AuthMode};

mod jwt;

pub use jwt::JwtVerifier;

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    pub name: String,
    /// Groups the credentials carried (a token's groups claim); the group file adds more.
    pub groups: Vec<String>,
}

impl Principal {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            groups: Vec::new(),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// An opaque bearer token issued at login.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BearerToken(pub String);

/// Why a caller was not let in. Messages never say whether the user or the password was wrong.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid username or password")]
    BadCredentials,
    #[error("credentials required")]
    Missing,
    #[error("invalid or expired bearer token")]
    BadToken,
    #[error("users file {path}: {message}")]
    UsersFile { path: String, message: String },
    #[error("auth.mode = \"users\" needs auth.users_file")]
    NoUsersFile,
    #[error("authorization header: {0}")]
    BadHeader(&'static str),
    /// A JWT was presented and is not accepted; the reason is safe to tell the caller.
    #[error("JWT refused: {0}")]
    Jwt(String),
    #[error("JWKS file {path}: {message}")]
    Jwks { path: String, message: String },
}

/// Credentials as a request carries them in its `authorization` header, whatever the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic { user: String, password: String },
    Bearer(String),
    None,
}

/// Base64 with or without padding: arrow-go's Flight client (under the ADBC driver) sends
/// Basic credentials unpadded, most others padded.
const BASIC_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

impl Credentials {
    /// Reads an `authorization` header as it arrives, in bytes (HTTP, gRPC metadata): every
    /// front end's one way in; a value that is not ASCII is refused.
    pub fn from_header_value(value: Option<&[u8]>) -> Result<Self, AuthError> {
        let text = value
            .map(|bytes| {
                std::str::from_utf8(bytes)
                    .ok()
                    .filter(|text| text.is_ascii())
                    .ok_or(AuthError::BadHeader("not ASCII"))
            })
            .transpose()?;
        Self::from_header(text)
    }

    /// Reads an `authorization` header value (`Basic base64(user:password)` or `Bearer
    /// token`, scheme in any case); no header is no credentials.
    pub fn from_header(value: Option<&str>) -> Result<Self, AuthError> {
        use base64::Engine as _;
        let Some(value) = value else {
            return Ok(Credentials::None);
        };
        if let Some(token) = strip_scheme(value, "bearer") {
            return Ok(Credentials::Bearer(token.to_string()));
        }
        let Some(encoded) = strip_scheme(value, "basic") else {
            return Err(AuthError::BadHeader("must be Basic or Bearer"));
        };
        let decoded = BASIC_BASE64
            .decode(encoded)
            .map_err(|_| AuthError::BadHeader("Basic credentials are not base64"))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| AuthError::BadHeader("Basic credentials are not UTF-8"))?;
        let (user, password) = text
            .split_once(':')
            .ok_or(AuthError::BadHeader("Basic credentials need user:password"))?;
        Ok(Credentials::Basic {
            user: user.to_string(),
            password: password.to_string(),
        })
    }
}

/// `scheme` matched case-insensitively (RFC 9110 section 11.1).
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    users: Vec<UserEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    /// PHC string of an argon2id hash (`lakegate hash-password` prints one).
    password_hash: String,
    /// A PostgreSQL SCRAM-SHA-256 verifier of the same password (`lakegate hash-password
    /// --scram` prints one): with it, PostgreSQL clients log in by SCRAM instead of sending
    /// the password itself.
    #[serde(default)]
    scram_sha_256: Option<String>,
}

/// What the server keeps of a password for SCRAM-SHA-256 (RFC 5802/7677), in PostgreSQL's
/// `pg_authid` format `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64):
/// enough to check a client's proof, not enough to log in as the user.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    pub iterations: usize,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramVerifier")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b64 = &base64::engine::general_purpose::STANDARD;
        write!(
            f,
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            b64.encode(&self.salt),
            b64.encode(&self.stored_key),
            b64.encode(&self.server_key)
        )
    }
}

impl std::str::FromStr for ScramVerifier {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let shape = "expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>";
        let rest = text
            .strip_prefix("SCRAM-SHA-256$")
            .ok_or_else(|| shape.to_string())?;
        let (params, keys) = rest.split_once('$').ok_or_else(|| shape.to_string())?;
        let (iterations, salt) = params.split_once(':').ok_or_else(|| shape.to_string())?;
        let (stored_key, server_key) = keys.split_once(':').ok_or_else(|| shape.to_string())?;
        let iterations = iterations
            .parse::<usize>()
            .ok()
            .filter(|i| *i >= 4096)
            .ok_or_else(|| format!("iteration count {iterations:?} is not a number >= 4096"))?;
        let b64 = &base64::engine::general_purpose::STANDARD;
        let decode = |what: &str, value: &str| {
            b64.decode(value)
                .map_err(|e| format!("{what} is not base64: {e}"))
        };
        let verifier = ScramVerifier {
            iterations,
            salt: decode("salt", salt)?,
            stored_key: decode("StoredKey", stored_key)?,
            server_key: decode("ServerKey", server_key)?,
        };
        if verifier.stored_key.len() != 32 || verifier.server_key.len() != 32 {
            return Err("StoredKey and ServerKey must be 32-byte SHA-256 values".into());
        }
        Ok(verifier)
    }
}

/// Checks credentials and issues and checks bearer tokens.
#[derive(Debug)]
pub struct Authenticator {
    mode: AuthMode,
    users: HashMap<String, String>,
    scram: HashMap<String, ScramVerifier>,
    operators: Vec<String>,
    token_ttl: Duration,
    tokens: Mutex<HashMap<String, (Principal, Instant)>>,
    /// Identity-provider tokens, when `auth.jwt_jwks_file` is set.
    jwt: Option<JwtVerifier>,
    /// The groups of each user's latest valid JWT login, for protocols whose sessions are
    /// made apart from the login (PostgreSQL).
    jwt_groups: Mutex<HashMap<String, Vec<String>>>,
}

impl Authenticator {
    pub fn from_config(config: &AuthConfig) -> Result<Self, AuthError> {
        let (users, scram) = match config.mode {
            AuthMode::Open => Default::default(),
            AuthMode::Users => {
                load_users(config.users_file.as_deref().ok_or(AuthError::NoUsersFile)?)?
            }
        };
        Ok(Self {
            mode: config.mode,
            users,
            scram,
            operators: config.operators.clone(),
            token_ttl: Duration::from_secs(config.token_ttl_secs),
            tokens: Mutex::new(HashMap::new()),
            jwt: JwtVerifier::from_config(config)?,
            jwt_groups: Mutex::new(HashMap::new()),
        })
    }

    /// Anyone may connect without credentials (the local demo).
    pub fn is_open(&self) -> bool {
        self.mode == AuthMode::Open
    }

    /// Whether `principal` sees and may cancel every user's queries.
    pub fn is_operator(&self, principal: &Principal) -> bool {
        self.is_open() || self.operators.contains(&principal.name)
    }

    /// The caller who sent no credentials: allowed only in open mode.
    pub fn anonymous(&self) -> Result<Principal, AuthError> {
        if self.is_open() {
            Ok(Principal::new("anonymous"))
        } else {
            Err(AuthError::Missing)
        }
    }

    /// Checks a username and password. In open mode any password is accepted for any name.
    /// A JWT in the password field (PostgreSQL clients send tokens there) is checked as a
    /// bearer token naming `user`.
    pub fn login(&self, user: &str, password: &str) -> Result<Principal, AuthError> {
        if let Some(jwt) = &self.jwt
            && JwtVerifier::looks_like_jwt(password)
        {
            let principal = jwt.verify(password)?;
            if !user.is_empty() && principal.name != user {
                return Err(AuthError::Jwt(format!(
                    "the token is for {}, not {user}",
                    principal.name
                )));
            }
            self.jwt_groups
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(principal.name.clone(), principal.groups.clone());
            return Ok(principal);
        }
        if self.is_open() {
            return Ok(Principal::new(if user.is_empty() {
                "anonymous"
            } else {
                user
            }));
        }
        let hash = self.users.get(user).ok_or(AuthError::BadCredentials)?;
        let parsed = PasswordHash::new(hash).map_err(|_| AuthError::BadCredentials)?;
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .map_err(|_| AuthError::BadCredentials)?;
        Ok(Principal::new(user))
    }

    /// The SCRAM verifier of `user`'s password, when the users file has one.
    pub fn scram_verifier(&self, user: &str) -> Option<&ScramVerifier> {
        self.scram.get(user)
    }

    /// Who `credentials` belong to: a user checked against the users file, a token's owner,
    /// or (open mode only) anonymous.
    pub fn principal(&self, credentials: &Credentials) -> Result<Principal, AuthError> {
        match credentials {
            Credentials::Basic { user, password } => self.login(user, password),
            Credentials::Bearer(token) => self.check_bearer(token),
            Credentials::None => self.anonymous(),
        }
    }

    /// A fresh token for `principal`, valid for the configured lifetime.
    pub fn issue_token(&self, principal: &Principal) -> BearerToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        tokens.retain(|_, (_, expires)| *expires > now);
        tokens.insert(token.clone(), (principal.clone(), now + self.token_ttl));
        BearerToken(token)
    }

    /// The principal of a bearer token: one this server issued at login, or an identity
    /// provider's JWT.
    pub fn check_bearer(&self, token: &str) -> Result<Principal, AuthError> {
        match (self.check_token(token), &self.jwt) {
            (Ok(principal), _) => Ok(principal),
            (Err(_), Some(jwt)) if JwtVerifier::looks_like_jwt(token) => jwt.verify(token),
            (Err(e), _) => Err(e),
        }
    }

    /// Loads the identity provider's key set when it comes from a URL, then fetches it again
    /// every `refresh` while the authenticator lives: a start fails on a URL that does not
    /// answer, a later failed fetch keeps the keys in force.
    pub async fn load_jwks(self: &Arc<Self>, refresh: Duration) -> Result<(), AuthError> {
        let Some(jwt) = self.jwt.as_ref().filter(|j| j.refreshes()) else {
            return Ok(());
        };
        jwt.fetch().await?;
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(refresh.max(Duration::from_secs(1))).await;
                let Some(auth) = weak.upgrade() else { return };
                if let Some(jwt) = &auth.jwt
                    && let Err(e) = jwt.fetch().await
                {
                    tracing::warn!(error = %e, "JWKS not refreshed; the previous keys stay in force");
                }
            }
        });
        Ok(())
    }

    /// `user` with the groups of their latest JWT login (none without one).
    pub fn logged_in(&self, user: &str) -> Principal {
        let groups = self
            .jwt_groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(user)
            .cloned()
            .unwrap_or_default();
        Principal {
            name: user.to_string(),
            groups,
        }
    }

    /// The principal a token was issued to, while it is valid.
    pub fn check_token(&self, token: &str) -> Result<Principal, AuthError> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        match tokens.get(token) {
            Some((principal, expires)) if *expires > Instant::now() => Ok(principal.clone()),
            _ => Err(AuthError::BadToken),
        }
    }
}

type Users = (HashMap<String, String>, HashMap<String, ScramVerifier>);

fn load_users(path: &Path) -> Result<Users, AuthError> {
    let err = |message: String| AuthError::UsersFile {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let file: UsersFile = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
    let mut users = HashMap::new();
    let mut scram = HashMap::new();
    for user in file.users {
        PasswordHash::new(&user.password_hash).map_err(|e| {
            err(format!(
                "user {}: password_hash is not a PHC hash: {e}",
                user.name
            ))
        })?;
        if let Some(verifier) = &user.scram_sha_256 {
            let verifier = verifier
                .parse::<ScramVerifier>()
                .map_err(|e| err(format!("user {}: scram_sha_256: {e}", user.name)))?;
            scram.insert(user.name.clone(), verifier);
        }
        users.insert(user.name, user.password_hash);
    }
    Ok((users, scram))
}

/// An argon2id PHC hash of `password` for the users file.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::UsersFile {
        path: "<salt>".into(),
        message: e.to_string(),
    })?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::UsersFile {
            path: "<hash>".into(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_read_padded_or_not() {
        // "ana:pa5" encodes to a padded form; arrow-go sends it without the padding.
        for encoded in ["YW5hOnBhNQ==", "YW5hOnBhNQ"] {
            let header = format!("Basic {encoded}");
            assert_eq!(
                Credentials::from_header(Some(&header)).unwrap(),
                Credentials::Basic {
                    user: "ana".into(),
                    password: "pa5".into()
                }
            );
        }
        assert!(Credentials::from_header(Some("Digest x")).is_err());
        assert_eq!(Credentials::from_header(None).unwrap(), Credentials::None);
    }

    fn users_auth() -> Authenticator {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        let hash = hash_password("s3cret").unwrap();
        std::fs::write(
            &path,
            format!("[[users]]\nname = \"alice\"\npassword_hash = \"{hash}\"\n"),
        )
        .unwrap();
        let config = AuthConfig {
            mode: AuthMode::Users,
            users_file: Some(path),
            token_ttl_secs: 60,
            ..AuthConfig::default()
        };
        Authenticator::from_config(&config).unwrap()
    }

    #[test]
    fn users_mode_checks_passwords_and_tokens() {
        let auth = users_auth();
        let alice = auth.login("alice", "s3cret").unwrap();
        assert_eq!(alice.name, "alice");
        assert!(matches!(
            auth.login("alice", "wrong"),
            Err(AuthError::BadCredentials)
        ));
        assert!(matches!(
            auth.login("bob", "s3cret"),
            Err(AuthError::BadCredentials)
        ));
        assert!(matches!(auth.anonymous(), Err(AuthError::Missing)));
        let token = auth.issue_token(&alice);
        assert_eq!(auth.check_token(&token.0).unwrap(), alice);
        assert!(matches!(
            auth.check_token("forged"),
            Err(AuthError::BadToken)
        ));
    }

    #[test]
    fn open_mode_lets_everyone_in() {
        let auth = Authenticator::from_config(&AuthConfig::default()).unwrap();
        assert_eq!(auth.anonymous().unwrap().name, "anonymous");
        assert_eq!(auth.login("bob", "anything").unwrap().name, "bob");
    }
}
