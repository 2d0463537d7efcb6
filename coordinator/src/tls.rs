//! TLS for the coordinator's listeners, from one PEM certificate chain and key.
//!
//! `server.tls_cert` and `server.tls_key` turn TLS on for Flight SQL (`grpc+tls`) and HTTP
//! (https, Trino clients included), where plaintext is then refused: a client that does not
//! speak TLS fails its handshake. The PostgreSQL port offers TLS with the same files unless
//! `server.postgres_tls_cert` / `server.postgres_tls_key` name others.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::ServerConfig as Listeners;

/// Makes ring the process's TLS provider. Crates in this process enable both of rustls'
/// providers, and a TLS client or server that does not name one (tonic's) refuses to guess;
/// every binary calls this once at start. Later calls change nothing.
pub fn install_crypto_provider() {
    let _ = ring::default_provider().install_default();
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{present} and {missing} go together; {missing} is unset")]
    Incomplete {
        present: &'static str,
        missing: &'static str,
    },
    #[error("{setting} {path}: {message}")]
    File {
        setting: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("TLS certificate {cert} with key {key}: {message}")]
    Config {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
}

/// A certificate chain and its key, read and checked.
#[derive(Debug, Clone)]
pub struct TlsIdentity {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    config: Arc<ServerConfig>,
}

impl TlsIdentity {
    /// A rustls server configuration offering `alpn` protocols (most preferred first).
    pub fn server_config(&self, alpn: &[&[u8]]) -> Arc<ServerConfig> {
        let mut config = (*self.config).clone();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

/// The identity for Flight SQL and HTTP (`server.tls_*`); `None` without TLS.
pub fn listener_identity(server: &Listeners) -> Result<Option<TlsIdentity>, TlsError> {
    identity(
        ("server.tls_cert", server.tls_cert.as_deref()),
        ("server.tls_key", server.tls_key.as_deref()),
    )
}

/// The identity for PostgreSQL: its own files when set, else the listeners'.
pub fn postgres_identity(server: &Listeners) -> Result<Option<TlsIdentity>, TlsError> {
    match identity(
        (
            "server.postgres_tls_cert",
            server.postgres_tls_cert.as_deref(),
        ),
        (
            "server.postgres_tls_key",
            server.postgres_tls_key.as_deref(),
        ),
    )? {
        Some(own) => Ok(Some(own)),
        None => listener_identity(server),
    }
}

/// Reads a certificate chain and key named by two settings; neither set is no TLS.
fn identity(
    cert: (&'static str, Option<&Path>),
    key: (&'static str, Option<&Path>),
) -> Result<Option<TlsIdentity>, TlsError> {
    let ((cert_setting, cert), (key_setting, key)) = match (cert, key) {
        ((_, None), (_, None)) => return Ok(None),
        ((present, Some(_)), (missing, None)) | ((missing, None), (present, Some(_))) => {
            return Err(TlsError::Incomplete { present, missing });
        }
        ((c, Some(cert)), (k, Some(key))) => ((c, cert), (k, key)),
    };
    let cert_pem = read(cert_setting, cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(cert_setting, cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(file_error(
            cert_setting,
            cert,
            "no PEM certificate in the file".into(),
        ));
    }
    let key_pem = read(key_setting, key)?;
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| file_error(key_setting, key, e.to_string()))?;
    // The ring provider named explicitly: other crates in the process enable aws-lc-rs too, and
    // rustls will not guess between two.
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(chain, private_key)
        })
        .map_err(|e| TlsError::Config {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(Some(TlsIdentity {
        cert_pem,
        key_pem,
        config: Arc::new(config),
    }))
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| file_error(setting, path, e.to_string()))
}

fn file_error(setting: &'static str, path: &Path, message: String) -> TlsError {
    TlsError::File {
        setting,
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listeners(cert: Option<&Path>, key: Option<&Path>) -> Listeners {
        Listeners {
            tls_cert: cert.map(Path::to_path_buf),
            tls_key: key.map(Path::to_path_buf),
            ..Listeners::default()
        }
    }

    fn error_of(cert: Option<&Path>, key: Option<&Path>) -> TlsError {
        match listener_identity(&listeners(cert, key)) {
            Ok(_) => panic!("expected an error for {cert:?} / {key:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn no_files_means_no_tls_and_half_a_pair_is_an_error() {
        assert!(matches!(
            listener_identity(&listeners(None, None)),
            Ok(None)
        ));
        let err = error_of(Some(Path::new("cert.pem")), None);
        assert!(err.to_string().contains("server.tls_key is unset"), "{err}");
        let mut server = listeners(None, None);
        server.postgres_tls_key = Some("key.pem".into());
        let err = postgres_identity(&server).unwrap_err();
        assert!(
            err.to_string()
                .contains("server.postgres_tls_cert is unset"),
            "{err}"
        );
    }

    #[test]
    fn unreadable_or_empty_files_are_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing.pem");
        let err = error_of(Some(&missing), Some(&missing));
        assert!(err.to_string().contains("missing.pem"), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").expect("write");
        let err = error_of(Some(&empty), Some(&empty));
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }
}
