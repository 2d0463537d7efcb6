//! Who may read what: Trino's file-based access control (`auth.access_control_file`) and
//! group file (`auth.groups_file`), enforced once, in the engine, for every front end.
//!
//! The engine asks an [`AccessView`] (the rules in force and the caller) when a query resolves
//! a table: a table the caller may not read is refused by name and left out of every listing,
//! and a table read under a row filter or column masks is resolved to a plan that applies
//! them above the scan (see [`policy`]), so the filter runs on the executors with the scan and
//! no filtered row ever leaves one. The files are read again when they change; a file that no
//! longer parses is reported and the rules before it stay in force.

mod groups;
mod policy;
mod rules;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

pub use groups::Groups;
pub use policy::{PolicyTable, restrict};
pub use rules::{ColumnPolicy, PolicyExpr, Rules, Subject, TableAccess, TablePolicy};

use crate::config::AuthConfig;

/// A policy file that cannot be used, naming the file, the rule and the reason.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AccessError {
    #[error("access control file {path}{}: {message}", rule.as_ref().map(|r| format!(", rule {r}")).unwrap_or_default())]
    Rules {
        path: String,
        rule: Option<String>,
        message: String,
    },
    #[error("groups file {path}, line {line}: {message}")]
    Groups {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Read { path: String, message: String },
}

/// The rules and groups in force, reloaded from their files when these change.
#[derive(Debug)]
pub struct AccessControl {
    rules_file: Option<PathBuf>,
    groups_file: Option<PathBuf>,
    state: RwLock<Loaded>,
}

/// One consistent reading of both files, with the modification times it was read at.
#[derive(Debug, Clone)]
struct Loaded {
    rules: Arc<Rules>,
    groups: Arc<Groups>,
    stamps: (Option<SystemTime>, Option<SystemTime>),
}

impl AccessControl {
    /// Everyone reads everything: no access control file.
    pub fn allow_all() -> Self {
        Self {
            rules_file: None,
            groups_file: None,
            state: RwLock::new(Loaded {
                rules: Arc::new(Rules::default()),
                groups: Arc::new(Groups::default()),
                stamps: (None, None),
            }),
        }
    }

    /// Reads the files `auth` names; a file that cannot be used stops the start.
    pub fn from_config(auth: &AuthConfig) -> Result<Self, AccessError> {
        let rules_file = auth.access_control_file.clone();
        let groups_file = auth.groups_file.clone();
        let loaded = load(rules_file.as_deref(), groups_file.as_deref())?;
        Ok(Self {
            rules_file,
            groups_file,
            state: RwLock::new(loaded),
        })
    }

    /// Whether any file restricts access (without one, every user reads everything).
    pub fn is_configured(&self) -> bool {
        self.rules_file.is_some()
    }

    /// The rules in force now, for `user` (in `groups` besides those of the group file). The
    /// engine asks once per query and hands the answer to its cache key, plan, reruns and
    /// audit line, so a reload half-way through never mixes two policies in one query.
    pub fn view(&self, user: &str, groups: &[String]) -> AccessView {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let mut groups = groups.to_vec();
        for group in state.groups.of(user) {
            if !groups.contains(group) {
                groups.push(group.clone());
            }
        }
        AccessView {
            rules: state.rules.clone(),
            subject: Subject {
                user: user.to_string(),
                groups,
            },
        }
    }

    /// Reads the files again if either changed since the last reading. A file that no longer
    /// parses leaves the previous rules in force and is reported.
    pub fn reload(&self) -> Result<bool, AccessError> {
        let stamps = (
            self.rules_file.as_deref().and_then(modified),
            self.groups_file.as_deref().and_then(modified),
        );
        if self.state.read().unwrap_or_else(|e| e.into_inner()).stamps == stamps {
            return Ok(false);
        }
        let loaded = load(self.rules_file.as_deref(), self.groups_file.as_deref())?;
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        Ok(true)
    }

    /// Checks the files every `interval` while the access control lives.
    pub fn watch(self: &Arc<Self>, interval: Duration) {
        if self.rules_file.is_none() && self.groups_file.is_none() {
            return;
        }
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(100)));
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(access) = weak.upgrade() else { return };
                match access.reload() {
                    Ok(true) => tracing::info!("access control reloaded"),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "access control not reloaded; the previous rules stay in force");
                        // Not retried until a file changes again.
                        let mut state = access.state.write().unwrap_or_else(|e| e.into_inner());
                        state.stamps = (
                            access.rules_file.as_deref().and_then(modified),
                            access.groups_file.as_deref().and_then(modified),
                        );
                    }
                }
            }
        });
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read(path: &Path) -> Result<String, AccessError> {
    std::fs::read_to_string(path).map_err(|e| AccessError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn load(rules_file: Option<&Path>, groups_file: Option<&Path>) -> Result<Loaded, AccessError> {
    let stamps = (
        rules_file.and_then(modified),
        groups_file.and_then(modified),
    );
    let rules = match rules_file {
        Some(path) => Rules::parse(&path.display().to_string(), &read(path)?)?,
        None => Rules::default(),
    };
    let groups = match groups_file {
        Some(path) => Groups::parse(&path.display().to_string(), &read(path)?)?,
        None => Groups::default(),
    };
    Ok(Loaded {
        rules: Arc::new(rules),
        groups: Arc::new(groups),
        stamps,
    })
}

/// The rules one query runs under, and who runs it.
#[derive(Debug, Clone)]
pub struct AccessView {
    rules: Arc<Rules>,
    subject: Subject,
}

impl AccessView {
    /// A view that lets everyone read everything, for internal lookups.
    pub fn unrestricted(user: &str) -> Self {
        Self {
            rules: Arc::new(Rules::default()),
            subject: Subject {
                user: user.to_string(),
                groups: Vec::new(),
            },
        }
    }

    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// Whether the rules name tables at all (with no `tables` section, every table of a
    /// readable catalog is readable).
    pub fn restricts_tables(&self) -> bool {
        self.rules.restricts_tables()
    }

    /// Whether the caller owns `catalog.schema` (listed even with no readable table).
    pub fn owns_schema(&self, catalog: &str, schema: &str) -> bool {
        self.rules.owns_schema(&self.subject, catalog, schema)
    }

    pub fn can_read_catalog(&self, catalog: &str) -> bool {
        self.rules.can_read_catalog(&self.subject, catalog)
    }

    pub fn table(&self, catalog: &str, schema: &str, table: &str) -> TableAccess {
        self.rules.table(&self.subject, catalog, schema, table)
    }
}

/// What a caller reads of each table, as text for a cache key: two callers share a cached
/// result only when every table reads the same for both (same filter, as evaluated for each,
/// same masks and hidden columns).
pub fn fingerprint<T: std::fmt::Display>(policies: &[(T, TablePolicy)]) -> String {
    policies
        .iter()
        .filter(|(_, policy)| !policy.is_unrestricted())
        .map(|(table, policy)| format!("{table}:{}\u{1}", policy.key))
        .collect()
}
