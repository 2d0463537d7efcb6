//! JWT bearer tokens from an identity provider, checked against its published keys (a JWKS
//! file, `auth.jwt_jwks_file`, or its URL, `auth.jwt_jwks_url`, fetched again periodically): RS256 and ES256 signatures, `exp`/`nbf` with a little clock
//! skew, and the configured issuer and audience. The user comes from `auth.jwt_user_claim`
//! (`sub` by default), the groups from `auth.jwt_groups_claim` when set.

use std::sync::{Arc, RwLock};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};

use super::{AuthError, Principal};
use crate::config::AuthConfig;

/// Seconds of clock difference between the token's issuer and this server that are forgiven.
const LEEWAY_SECS: u64 = 30;

/// Checks JWTs against one key set and the configured claims.
#[derive(Debug)]
pub struct JwtVerifier {
    keys: RwLock<Arc<JwkSet>>,
    /// Where the keys come from again: the provider rotates them.
    url: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
    user_claim: String,
    groups_claim: Option<String>,
}

impl JwtVerifier {
    /// The verifier `config` describes; `None` without `auth.jwt_jwks_file`.
    /// With `auth.jwt_jwks_url` the key set starts empty: [`JwtVerifier::fetch`] loads it.
    pub fn from_config(config: &AuthConfig) -> Result<Option<Self>, AuthError> {
        let keys = match (&config.jwt_jwks_file, &config.jwt_jwks_url) {
            (Some(_), Some(_)) => {
                return Err(AuthError::Jwks {
                    path: "auth.jwt_jwks_url".into(),
                    message: "set auth.jwt_jwks_file or auth.jwt_jwks_url, not both".into(),
                });
            }
            (Some(path), None) => {
                let text = std::fs::read_to_string(path).map_err(|e| AuthError::Jwks {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                parse_jwks(&path.display().to_string(), &text)?
            }
            (None, Some(_)) => JwkSet { keys: Vec::new() },
            (None, None) => return Ok(None),
        };
        Ok(Some(Self {
            keys: RwLock::new(Arc::new(keys)),
            url: config.jwt_jwks_url.clone(),
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            user_claim: config.jwt_user_claim.clone(),
            groups_claim: config.jwt_groups_claim.clone(),
        }))
    }

    /// Whether `token` is shaped like a JWT (three base64url parts, a JSON header), as opposed
    /// to a token this server issued or a password.
    pub fn looks_like_jwt(token: &str) -> bool {
        token.starts_with("eyJ") && token.split('.').count() == 3
    }

    /// The principal a valid token names, or why the token is refused.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let refused = |reason: String| AuthError::Jwt(reason);
        let header = decode_header(token).map_err(|e| refused(format!("malformed: {e}")))?;
        let family = match header.alg {
            Algorithm::RS256 => "RSA",
            Algorithm::ES256 => "EC",
            other => {
                return Err(refused(format!(
                    "algorithm {other:?} is not accepted (RS256 or ES256)"
                )));
            }
        };
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner()).clone();
        let jwk = match &header.kid {
            Some(kid) => keys
                .find(kid)
                .ok_or_else(|| refused(format!("no key with kid {kid:?} in the key set")))?,
            None => keys
                .keys
                .iter()
                .find(|k| key_family(k) == Some(family))
                .ok_or_else(|| refused(format!("no {family} key in the key set")))?,
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| refused(format!("key: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
        }
        let claims = decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| refused(self.reason(e.kind())))?
            .claims;
        let user = claims
            .get(&self.user_claim)
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| refused(format!("no user in claim {:?}", self.user_claim)))?;
        let groups = match self.groups_claim.as_ref().and_then(|c| claims.get(c)) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(group)) => vec![group.clone()],
            _ => Vec::new(),
        };
        Ok(Principal {
            name: user.to_string(),
            groups,
        })
    }

    fn reason(&self, kind: &ErrorKind) -> String {
        match kind {
            ErrorKind::ExpiredSignature => "the token has expired".into(),
            ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
            ErrorKind::InvalidSignature => "bad signature".into(),
            ErrorKind::InvalidAudience => format!(
                "wrong audience (expected {})",
                self.audience.as_deref().unwrap_or("")
            ),
            ErrorKind::InvalidIssuer => format!(
                "wrong issuer (expected {})",
                self.issuer.as_deref().unwrap_or("")
            ),
            ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
            ErrorKind::InvalidAlgorithm => "the algorithm does not match the key".into(),
            other => format!("{other:?}"),
        }
    }
}

fn key_family(jwk: &Jwk) -> Option<&'static str> {
    match jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some("RSA"),
        AlgorithmParameters::EllipticCurve(_) => Some("EC"),
        _ => None,
    }
}

impl JwtVerifier {
    /// Loads the key set from `auth.jwt_jwks_url` (nothing to do for a file). A set that
    /// does not load leaves the previous one in force.
    pub async fn fetch(&self) -> Result<(), AuthError> {
        let Some(url) = &self.url else {
            return Ok(());
        };
        let error = |message: String| AuthError::Jwks {
            path: url.clone(),
            message,
        };
        let response = reqwest::get(url.as_str())
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| error(e.to_string()))?;
        let text = response.text().await.map_err(|e| error(e.to_string()))?;
        let keys = parse_jwks(url, &text)?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        Ok(())
    }

    /// Whether the key set comes from a URL, and so is fetched (again).
    pub fn refreshes(&self) -> bool {
        self.url.is_some()
    }
}

fn parse_jwks(source: &str, text: &str) -> Result<JwkSet, AuthError> {
    let error = |message: String| AuthError::Jwks {
        path: source.to_string(),
        message,
    };
    let keys: JwkSet = serde_json::from_str(text).map_err(|e| error(e.to_string()))?;
    if keys.keys.is_empty() {
        return Err(error("the key set has no keys".into()));
    }
    for (index, key) in keys.keys.iter().enumerate() {
        DecodingKey::from_jwk(key).map_err(|e| error(format!("key {index}: {e}")))?;
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jwt_shaped_tokens_are_tried_as_jwts() {
        assert!(JwtVerifier::looks_like_jwt("eyJhbGciOi.eyJzdWIi.c2ln"));
        assert!(!JwtVerifier::looks_like_jwt("pa55"));
        assert!(!JwtVerifier::looks_like_jwt("Zm9vYmFy-issued-token"));
    }

    #[test]
    fn a_bad_key_set_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, r#"{"keys": []}"#).expect("write");
        let config = AuthConfig {
            jwt_jwks_file: Some(path.clone()),
            ..AuthConfig::default()
        };
        let error = JwtVerifier::from_config(&config).unwrap_err().to_string();
        assert!(
            error.contains("jwks.json") && error.contains("no keys"),
            "{error}"
        );
        std::fs::write(&path, "not json").expect("write");
        let error = JwtVerifier::from_config(&config).unwrap_err().to_string();
        assert!(error.contains("jwks.json"), "{error}");
    }
}
