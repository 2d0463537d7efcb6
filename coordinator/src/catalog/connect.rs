//! Connecting to the Iceberg catalog named in the configuration: a SQL catalog (SQLite or
//! PostgreSQL) or a REST catalog, with storage picked from each path's scheme.

use std::collections::HashMap;
use std::sync::{Arc, Once};

use iceberg::io::{FileIO, FileIOBuilder};
use iceberg::{Catalog, CatalogBuilder};
use iceberg_catalog_rest::{
    REST_CATALOG_PROP_URI, REST_CATALOG_PROP_WAREHOUSE, RestCatalogBuilder,
};
use iceberg_catalog_sql::{SqlBindStyle, SqlCatalogBuilder};
use iceberg_storage_opendal::OpenDalResolvingStorageFactory;

use crate::config::Config;

/// A catalog that could not be reached or answered with an error.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog uri {uri:?} is neither sqlite:, postgres:// nor http(s)://")]
    UnsupportedUri { uri: String },
    #[error("{table}: {source}")]
    Scan {
        table: String,
        #[source]
        source: Box<lakegate_iceberg::ScanError>,
    },
    #[error("table {table} has no {version}: {detail}")]
    UnknownVersion {
        table: super::TableRef,
        version: super::TableVersion,
        detail: String,
    },
    /// The access control rules do not let the caller read the table (Trino's wording).
    #[error("Access Denied: Cannot select from table {table}{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    AccessDenied {
        table: super::TableRef,
        reason: Option<String>,
    },
    /// A metadata table (`t$files`, ...) could not be built.
    #[error("metadata table {0}")]
    Metadata(String),
    #[error("{what}: {source}")]
    Iceberg {
        what: String,
        #[source]
        source: Box<iceberg::Error>,
    },
}

impl CatalogError {
    /// An iceberg error while doing `what`.
    pub fn iceberg(what: impl Into<String>, source: iceberg::Error) -> Self {
        CatalogError::Iceberg {
            what: what.into(),
            source: Box::new(source),
        }
    }
}

/// What kind of catalog a URI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CatalogKind {
    Sqlite,
    Postgres,
    Rest,
}

fn kind_of(uri: &str) -> Option<CatalogKind> {
    if uri.starts_with("sqlite:") {
        Some(CatalogKind::Sqlite)
    } else if uri.starts_with("postgres://") || uri.starts_with("postgresql://") {
        Some(CatalogKind::Postgres)
    } else if uri.starts_with("http://") || uri.starts_with("https://") {
        Some(CatalogKind::Rest)
    } else {
        None
    }
}

/// iceberg-catalog-sql uses sqlx's `Any` driver, which panics on first use unless the concrete
/// drivers were installed once in the process.
fn install_sql_drivers() {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

/// Connects to the catalog in `config`. With `create`, a missing SQLite database file is created
/// (the TPC-H writer); readers never create one.
pub async fn connect_catalog(
    config: &Config,
    create: bool,
) -> Result<Arc<dyn Catalog>, CatalogError> {
    let uri = config.catalog_uri();
    let kind = kind_of(&uri).ok_or_else(|| CatalogError::UnsupportedUri { uri: uri.clone() })?;
    let name = config.catalog.name.clone();
    let storage = Arc::new(OpenDalResolvingStorageFactory::new());
    let iceberg_err =
        |source| CatalogError::iceberg(format!("connecting to catalog {uri}"), source);
    match kind {
        CatalogKind::Sqlite | CatalogKind::Postgres => {
            install_sql_drivers();
            let (uri, bind) = if kind == CatalogKind::Sqlite {
                let mode = if create { "rwc" } else { "rw" };
                let sep = if uri.contains('?') { '&' } else { '?' };
                (format!("{uri}{sep}mode={mode}"), SqlBindStyle::QMark)
            } else {
                (uri.clone(), SqlBindStyle::DollarNumeric)
            };
            let catalog = SqlCatalogBuilder::default()
                .uri(uri)
                .warehouse_location(config.warehouse_url())
                .sql_bind_style(bind)
                .props(config.storage_props())
                .with_storage_factory(storage)
                .load(name, HashMap::new())
                .await
                .map_err(iceberg_err)?;
            Ok(Arc::new(catalog))
        }
        CatalogKind::Rest => {
            let mut props = config.storage_props();
            props.insert(REST_CATALOG_PROP_URI.to_string(), uri.clone());
            if config.catalog.warehouse.contains("://") {
                props.insert(
                    REST_CATALOG_PROP_WAREHOUSE.to_string(),
                    config.catalog.warehouse.clone(),
                );
            }
            // iceberg-catalog-rest's property names.
            let catalog = &config.catalog;
            for (key, value) in [
                ("credential", &catalog.credential),
                ("token", &catalog.token),
                ("oauth2-server-uri", &catalog.oauth2_server_uri),
            ] {
                if let Some(value) = value {
                    props.insert(key.to_string(), value.clone());
                }
            }
            let catalog = RestCatalogBuilder::default()
                .with_client(rest_client(config)?)
                .with_storage_factory(storage)
                .load(name, props)
                .await
                .map_err(iceberg_err)?;
            Ok(Arc::new(catalog))
        }
    }
}

/// The REST catalog's HTTP client: TLS with the system's roots and `catalog.tls_ca`'s.
fn rest_client(config: &Config) -> Result<reqwest::Client, CatalogError> {
    let failed = |what: String| CatalogError::Iceberg {
        what,
        source: Box::new(iceberg::Error::new(
            iceberg::ErrorKind::DataInvalid,
            "REST catalog client",
        )),
    };
    let mut builder = reqwest::Client::builder().use_rustls_tls();
    if let Some(path) = &config.catalog.tls_ca {
        let pem = std::fs::read(path)
            .map_err(|e| failed(format!("catalog.tls_ca {}: {e}", path.display())))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| failed(format!("catalog.tls_ca {}: {e}", path.display())))?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder
        .build()
        .map_err(|e| failed(format!("REST catalog HTTP client: {e}")))
}

/// The `FileIO` this process reads the lake with, from its own storage settings. Decoded scans
/// use it, so credentials never travel inside plans.
pub fn file_io(config: &Config) -> FileIO {
    FileIOBuilder::new(Arc::new(OpenDalResolvingStorageFactory::new()))
        .with_props(config.storage_props())
        .build()
}
