//! Reading a [`Config`] from its three sources. They are merged as TOML values and
//! deserialised once, so an unknown key or a wrong type is reported the same way wherever it
//! came from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Config, ENV_PREFIX};

/// A configuration that could not be read, naming the file, variable or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error(
        "{origin}: {key} is not a configuration key (keys look like section.key, e.g. catalog.uri)"
    )]
    UnknownKey { origin: String, key: String },
    #[error("invalid configuration: {0}")]
    Invalid(Box<toml::de::Error>),
}

/// Builds a [`Config`] from the file, the environment and overrides, in that order of precedence
/// (later wins).
#[derive(Debug, Default)]
pub struct ConfigLoader {
    value: toml::Table,
}

const SECTIONS: [&str; 8] = [
    "catalog",
    "storage",
    "server",
    "auth",
    "query",
    "cluster",
    "cache",
    "telemetry",
];

impl ConfigLoader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts from a TOML file.
    pub fn file(mut self, path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.value = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        Ok(self)
    }

    /// Applies `LAKEGATE_<SECTION>_<KEY>` variables from `vars` (pass `std::env::vars()`).
    /// Variables naming no section (`LAKEGATE_LOG`, `LAKEGATE_PASSWORD`) are not configuration;
    /// an unknown key within a section is an error.
    pub fn env(
        mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let rest = rest.to_ascii_lowercase();
            let Some((section, key)) = rest.split_once('_') else {
                continue;
            };
            if !SECTIONS.contains(&section) {
                continue;
            }
            self = self.set(
                &format!("{section}.{key}"),
                &value,
                &format!("environment variable {name}"),
            )?;
        }
        Ok(self)
    }

    /// Sets `section.key` from a string; numbers and booleans are recognised.
    pub fn set(mut self, key: &str, value: &str, origin: &str) -> Result<Self, ConfigError> {
        let unknown = || ConfigError::UnknownKey {
            origin: origin.to_string(),
            key: key.to_string(),
        };
        let (section, field) = key.split_once('.').ok_or_else(unknown)?;
        if !SECTIONS.contains(&section) {
            return Err(unknown());
        }
        let parsed = scalar(value);
        let table = self
            .value
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match table {
            toml::Value::Table(t) => {
                t.insert(field.to_string(), parsed);
            }
            _ => return Err(unknown()),
        }
        Ok(self)
    }

    /// Applies several overrides (command-line flags).
    pub fn overrides(mut self, pairs: &HashMap<String, String>) -> Result<Self, ConfigError> {
        for (key, value) in pairs {
            self = self.set(key, value, "command-line flag")?;
        }
        Ok(self)
    }

    pub fn load(self) -> Result<Config, ConfigError> {
        Config::deserialize(toml::Value::Table(self.value))
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }
}

/// A string as TOML would read it when it is a number or boolean, else the string itself.
fn scalar(value: &str) -> toml::Value {
    if let Ok(b) = value.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    if let Ok(i) = value.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = value.parse::<f64>() {
        return toml::Value::Float(f);
    }
    toml::Value::String(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_and_types() {
        let config = ConfigLoader::new()
            .env([
                ("LAKEGATE_CATALOG_NAME".to_string(), "prod".to_string()),
                (
                    "LAKEGATE_STORAGE_S3_PATH_STYLE_ACCESS".to_string(),
                    "true".to_string(),
                ),
                ("OTHER".to_string(), "x".to_string()),
                ("LAKEGATE_LOG".to_string(), "debug".to_string()),
            ])
            .unwrap()
            .load()
            .unwrap();
        assert_eq!(config.catalog.name, "prod");
        assert_eq!(config.storage.s3_path_style_access, Some(true));
    }

    #[test]
    fn unknown_key_is_named() {
        let err = ConfigLoader::new()
            .env([("LAKEGATE_CATALOG_URL".to_string(), "x".to_string())])
            .unwrap()
            .load()
            .unwrap_err();
        assert!(err.to_string().contains("url"), "{err}");
        let err = ConfigLoader::new()
            .set("nope.key", "1", "flag")
            .unwrap_err();
        assert!(err.to_string().contains("nope.key"), "{err}");
    }

    #[test]
    fn default_catalog_is_sqlite_in_the_warehouse() {
        let config = Config::default();
        assert_eq!(config.catalog_uri(), "sqlite:./lakegate-data/catalog.db");
        assert!(config.warehouse_url().starts_with("file:///"));
    }
}
