//! TLS on the PostgreSQL port: with `server.postgres_tls_cert` and `server.postgres_tls_key`
//! set, a client that asks for it (`sslmode=require`, PgJDBC's `ssl=true`) gets an encrypted
//! connection, so passwords and rows do not cross the network in the clear. Clients that do
//! not ask are still served in plain text, as PostgreSQL's `host` lines allow.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::tokio_rustls::rustls::ServerConfig;
use pgwire::tokio::tokio_rustls::rustls::crypto::ring;
use pgwire::tokio::tokio_rustls::rustls::pki_types::pem::PemObject;
use pgwire::tokio::tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS for the PostgreSQL port could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("server.postgres_tls_cert and server.postgres_tls_key go together; {missing} is unset")]
    Incomplete { missing: &'static str },
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

/// The acceptor for the configured certificate chain and key; `None` when neither is set.
pub fn acceptor(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<TlsAcceptor>, TlsError> {
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(TlsError::Incomplete {
                missing: "server.postgres_tls_key",
            });
        }
        (None, Some(_)) => {
            return Err(TlsError::Incomplete {
                missing: "server.postgres_tls_cert",
            });
        }
        (Some(cert), Some(key)) => (cert, key),
    };
    let cert_pem = read("server.postgres_tls_cert", cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error("server.postgres_tls_cert", cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(file_error(
            "server.postgres_tls_cert",
            cert,
            "no PEM certificate in the file".into(),
        ));
    }
    let key_pem = read("server.postgres_tls_key", key)?;
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| file_error("server.postgres_tls_key", key, e.to_string()))?;
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
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
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

    fn error_of(cert: Option<&Path>, key: Option<&Path>) -> TlsError {
        match acceptor(cert, key) {
            Ok(_) => panic!("expected an error for {cert:?} / {key:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn no_files_means_no_tls_and_half_a_pair_is_an_error() {
        assert!(matches!(acceptor(None, None), Ok(None)));
        let err = error_of(Some(Path::new("cert.pem")), None);
        assert!(
            err.to_string().contains("server.postgres_tls_key is unset"),
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
