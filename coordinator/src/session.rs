//! [`Session`]: one client connection's state, the same whichever front end it came through.

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::auth::Principal;

/// Who is asking and what they have set: default catalog and schema, and session variables.
/// `SET` and `USE` change it; each connection has its own.
#[derive(Debug)]
pub struct Session {
    principal: Principal,
    vars: RwLock<SessionVars>,
}

/// The changeable part of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionVars {
    pub catalog: String,
    pub schema: String,
    /// Variables set with `SET`; `datafusion.*` ones are applied to every query's config.
    pub settings: BTreeMap<String, String>,
}

impl Session {
    pub fn new(
        principal: Principal,
        catalog: impl Into<String>,
        schema: impl Into<String>,
    ) -> Self {
        let vars = SessionVars {
            catalog: catalog.into(),
            schema: schema.into(),
            settings: BTreeMap::new(),
        };
        Self {
            principal,
            vars: RwLock::new(vars),
        }
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// A copy of the current variables, taken once per query so a concurrent `SET` cannot
    /// change a query half-way.
    pub fn vars(&self) -> SessionVars {
        self.vars.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes the variables.
    pub fn update(&self, change: impl FnOnce(&mut SessionVars)) {
        change(&mut self.vars.write().unwrap_or_else(|e| e.into_inner()));
    }
}
