//! [`SavedQueries`]: named, parameterised SQL texts that dashboards run by name. Each is one
//! JSON file under `<server.state_dir>/saved/`, written whole to a temporary file and renamed
//! into place, so a crash never leaves half a definition and every definition survives a
//! restart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

/// One saved query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedQuery {
    pub name: String,
    /// The SQL text, with `?` or `$n` placeholders for its parameters.
    pub sql: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it was last stored (RFC 3339).
    pub updated: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error(
        "saved query name {0:?} is not valid: use 1 to 128 letters, digits, '_', '-' or '.', \
         starting with a letter or digit"
    )]
    BadName(String),
    #[error("saved query {0:?} does not exist")]
    NotFound(String),
    #[error("saved queries directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("saved query file {path}: {message}")]
    BadFile { path: String, message: String },
}

/// The saved queries of this coordinator, in memory and on disk.
#[derive(Debug)]
pub struct SavedQueries {
    dir: PathBuf,
    queries: RwLock<BTreeMap<String, SavedQuery>>,
}

impl SavedQueries {
    /// Opens (creating it if needed) the directory `dir` and reads every definition in it. A
    /// file that cannot be read is an error naming it, not a silently missing query.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, SavedError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| io_error(&dir, source))?;
        let mut queries = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).map_err(|source| io_error(&dir, source))? {
            let path = entry.map_err(|source| io_error(&dir, source))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|source| io_error(&path, source))?;
            let query: SavedQuery =
                serde_json::from_str(&text).map_err(|e| SavedError::BadFile {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
            queries.insert(query.name.clone(), query);
        }
        Ok(Self {
            dir,
            queries: RwLock::new(queries),
        })
    }

    pub fn get(&self, name: &str) -> Result<SavedQuery, SavedError> {
        check_name(name)?;
        self.queries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| SavedError::NotFound(name.to_string()))
    }

    pub fn list(&self) -> Vec<SavedQuery> {
        self.queries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Stores `sql` as `name`; says whether it replaced an existing definition.
    pub fn put(
        &self,
        name: &str,
        sql: String,
        description: Option<String>,
    ) -> Result<(SavedQuery, bool), SavedError> {
        check_name(name)?;
        let query = SavedQuery {
            name: name.to_string(),
            sql,
            description,
            updated: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        let text = serde_json::to_string_pretty(&query).map_err(|e| SavedError::BadFile {
            path: self.path_of(name).display().to_string(),
            message: e.to_string(),
        })?;
        let path = self.path_of(name);
        let temporary = self.dir.join(format!(".{name}.json.tmp"));
        std::fs::write(&temporary, text).map_err(|source| io_error(&temporary, source))?;
        std::fs::rename(&temporary, &path).map_err(|source| io_error(&path, source))?;
        let replaced = self
            .queries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), query.clone())
            .is_some();
        Ok((query, replaced))
    }

    pub fn delete(&self, name: &str) -> Result<(), SavedError> {
        check_name(name)?;
        let mut queries = self.queries.write().unwrap_or_else(|e| e.into_inner());
        if queries.remove(name).is_none() {
            return Err(SavedError::NotFound(name.to_string()));
        }
        let path = self.path_of(name);
        std::fs::remove_file(&path).map_err(|source| io_error(&path, source))
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }
}

/// Names become file names, so only a safe alphabet is taken.
fn check_name(name: &str) -> Result<(), SavedError> {
    let ok = (1..=128).contains(&name.len())
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(SavedError::BadName(name.to_string()))
    }
}

fn io_error(path: &Path, source: std::io::Error) -> SavedError {
    SavedError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_survive_a_reopen_and_names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let saved = SavedQueries::open(dir.path()).unwrap();
        let (_, replaced) = saved
            .put("revenue-by-year", "SELECT ?".into(), None)
            .unwrap();
        assert!(!replaced);
        let (_, replaced) = saved
            .put("revenue-by-year", "SELECT $1".into(), Some("d".into()))
            .unwrap();
        assert!(replaced);
        assert!(matches!(
            saved.put("../etc", "SELECT 1".into(), None),
            Err(SavedError::BadName(_))
        ));
        let reopened = SavedQueries::open(dir.path()).unwrap();
        assert_eq!(reopened.get("revenue-by-year").unwrap().sql, "SELECT $1");
        reopened.delete("revenue-by-year").unwrap();
        assert!(matches!(
            SavedQueries::open(dir.path())
                .unwrap()
                .get("revenue-by-year"),
            Err(SavedError::NotFound(_))
        ));
    }
}
