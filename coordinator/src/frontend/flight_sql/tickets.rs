//! Planned queries waiting for their DoGet. A ticket names a query planned in GetFlightInfo, so
//! the rows fetched are from the snapshots pinned then; a ticket nobody fetches expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::Principal;
use crate::query::{QueryId, QueryResult};

struct Pending {
    owner: Principal,
    planned_at: Instant,
    result: QueryResult,
}

/// Planned, not yet fetched queries.
pub struct Tickets {
    ttl: Duration,
    pending: Mutex<HashMap<QueryId, Pending>>,
}

impl Tickets {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Parks a planned query and drops any that waited longer than the ticket lifetime.
    pub fn park(&self, owner: Principal, result: QueryResult) -> QueryId {
        let id = result.id;
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let ttl = self.ttl;
        pending.retain(|_, p| p.planned_at.elapsed() < ttl);
        pending.insert(
            id,
            Pending {
                owner,
                planned_at: Instant::now(),
                result,
            },
        );
        id
    }

    /// Takes the query for its owner; a ticket is good for one fetch.
    pub fn claim(&self, id: QueryId, caller: &Principal) -> Option<QueryResult> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.get(&id) {
            Some(p) if &p.owner == caller && p.planned_at.elapsed() < self.ttl => {
                pending.remove(&id).map(|p| p.result)
            }
            _ => None,
        }
    }
}
