//! Queries between GetFlightInfo and their DoGet. A ticket names a query planned in
//! GetFlightInfo, so the rows fetched are from the snapshots pinned then; a ticket nobody
//! fetches expires. A parked query cancelled before its fetch is dropped here; once fetched it
//! streams under the engine's [`lakegate_coordinator::tracker::QueryTracker`], which cancels it like a query
//! of any other front end.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use datafusion::physical_plan::SendableRecordBatchStream;

use lakegate_coordinator::auth::Principal;
use lakegate_coordinator::query::{QueryId, QueryResult};

struct Pending {
    owner: Principal,
    planned_at: Instant,
    result: QueryResult,
}

/// Planned queries waiting for their DoGet.
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

    /// Takes the query for its owner (a ticket is good for one fetch): its schema and rows.
    pub fn claim(
        &self,
        id: QueryId,
        caller: &Principal,
    ) -> Option<(SchemaRef, SendableRecordBatchStream)> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.get(&id) {
            Some(p) if &p.owner == caller && p.planned_at.elapsed() < self.ttl => pending
                .remove(&id)
                .map(|p| (p.result.schema, p.result.stream)),
            _ => None,
        }
    }

    /// Drops the caller's parked query `id`, if it is still waiting for its fetch; says
    /// whether it was.
    pub fn drop_pending(&self, id: QueryId, caller: &Principal) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.get(&id).is_some_and(|p| &p.owner == caller) {
            pending.remove(&id);
            return true;
        }
        false
    }
}
