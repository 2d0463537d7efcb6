//! Resource groups: how many queries run at once and how many wait, per group, from Trino's
//! resource groups JSON (`auth.resource_groups_file`): `rootGroups` with `hardConcurrencyLimit`,
//! `maxQueued` and nested `subGroups` (names may hold `${USER}` and `${SOURCE}`), and
//! `selectors` matched in order by `user`, `userGroup` and `source` regexes naming the group
//! (the source is what the client calls itself: `X-Trino-Source`, PostgreSQL's
//! `application_name`, else the front end's name).
//!
//! A query is admitted when it and every group above it have room; otherwise it waits, in
//! arrival order, unless its group (or one above) already has `maxQueued` waiting: then it is
//! refused at once, so a burst from one tenant never piles up unbounded. Cache hits are never
//! queued: only queries that run take a slot, and they hold it until their last batch.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regex::Regex;
use serde::Deserialize;
use tokio::sync::oneshot;

/// A resource groups file that cannot be used, naming the file and the part at fault.
#[derive(Debug, thiserror::Error)]
#[error("resource groups file {path}: {message}")]
pub struct ResourceGroupsError {
    path: String,
    message: String,
}

/// Why a query was not admitted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AdmissionError {
    #[error(
        "too many queries are queued in resource group {group} (maxQueued {max_queued}); retry later"
    )]
    QueueFull { group: String, max_queued: usize },
    #[error("no resource group selector matches user {user} (source {from})")]
    NoGroup { user: String, from: String },
}

/// Who is asking, as selectors see them.
#[derive(Debug, Clone)]
pub struct Requester<'a> {
    pub user: &'a str,
    pub groups: &'a [String],
    pub source: &'a str,
}

/// The resource groups in force; without a file every query is admitted at once.
#[derive(Debug, Default)]
pub struct Admission {
    spec: Option<Spec>,
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct Spec {
    roots: Vec<GroupSpec>,
    selectors: Vec<Selector>,
}

#[derive(Debug, Clone)]
struct GroupSpec {
    name: String,
    hard_concurrency_limit: usize,
    max_queued: usize,
    sub_groups: Vec<GroupSpec>,
}

#[derive(Debug)]
struct Selector {
    user: Option<Regex>,
    user_group: Option<Regex>,
    source: Option<Regex>,
    /// The group's path, dot-separated, templates not yet expanded.
    group: Vec<String>,
}

/// One group on a query's path: its expanded full name and limits.
#[derive(Debug, Clone)]
struct Level {
    name: String,
    hard_concurrency_limit: usize,
    max_queued: usize,
}

#[derive(Debug, Default)]
struct State {
    running: HashMap<String, usize>,
    queued: HashMap<String, usize>,
    waiting: VecDeque<Waiter>,
    next_waiter: u64,
    /// Waiters given a slot whose query has not yet picked it up.
    admitted: HashMap<u64, Vec<Level>>,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    path: Vec<Level>,
    admit: oneshot::Sender<()>,
}

/// Takes a waiter out of the queue if its query stops waiting (cancelled, or its client
/// gone) before it was admitted, so it holds no place in the queue.
struct Abandon {
    id: u64,
    state: Arc<Mutex<State>>,
    armed: bool,
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = state.waiting.iter().position(|w| w.id == self.id) {
            if let Some(waiter) = state.waiting.remove(at) {
                unqueue(&mut state, &waiter.path);
            }
        } else if let Some(path) = state.admitted.remove(&self.id) {
            // Admitted as it gave up: the slot it was given goes back.
            release(&mut state, &path);
        }
    }
}

/// A running query's place in its groups; dropping it lets the next query in.
#[derive(Debug)]
pub struct Slot {
    path: Vec<Level>,
    state: Arc<Mutex<State>>,
    /// How long the query waited for it.
    pub queued: Duration,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        release(&mut state, &self.path);
    }
}

impl Admission {
    /// Reads Trino's resource groups JSON at `path`.
    pub fn from_file(path: &Path) -> Result<Self, ResourceGroupsError> {
        let error = |message: String| ResourceGroupsError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let spec = parse(&text).map_err(error)?;
        Ok(Self {
            spec: Some(spec),
            state: Arc::default(),
        })
    }

    /// Whether any limit applies.
    pub fn is_limited(&self) -> bool {
        self.spec.is_some()
    }

    /// Waits for a slot for `requester`'s query, or refuses it at once when its queue is full.
    pub async fn admit(&self, requester: &Requester<'_>) -> Result<Option<Slot>, AdmissionError> {
        let Some(spec) = &self.spec else {
            return Ok(None);
        };
        let path = spec.path_for(requester)?;
        let started = Instant::now();
        let waiting = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if has_room(&state, &path) && !has_waiting(&state, &path) {
                take(&mut state, &path);
                None
            } else {
                if let Some(full) = path
                    .iter()
                    .find(|l| state.queued.get(&l.name).copied().unwrap_or(0) >= l.max_queued)
                {
                    return Err(AdmissionError::QueueFull {
                        group: full.name.clone(),
                        max_queued: full.max_queued,
                    });
                }
                let (admit, admitted) = oneshot::channel();
                for level in &path {
                    *state.queued.entry(level.name.clone()).or_default() += 1;
                }
                let id = state.next_waiter;
                state.next_waiter += 1;
                state.waiting.push_back(Waiter {
                    id,
                    path: path.clone(),
                    admit,
                });
                Some((id, admitted))
            }
        };
        let mut queued = Duration::ZERO;
        if let Some((id, admitted)) = waiting {
            let mut abandon = Abandon {
                id,
                state: self.state.clone(),
                armed: true,
            };
            let _ = admitted.await;
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.admitted.remove(&id);
            abandon.armed = false;
            queued = started.elapsed();
        }
        Ok(Some(Slot {
            path,
            state: self.state.clone(),
            queued,
        }))
    }
}

fn has_room(state: &State, path: &[Level]) -> bool {
    path.iter()
        .all(|l| state.running.get(&l.name).copied().unwrap_or(0) < l.hard_concurrency_limit)
}

/// Whether an earlier query waits in one of `path`'s groups (it goes first).
fn has_waiting(state: &State, path: &[Level]) -> bool {
    path.iter()
        .any(|l| state.queued.get(&l.name).copied().unwrap_or(0) > 0)
}

fn take(state: &mut State, path: &[Level]) {
    for level in path {
        *state.running.entry(level.name.clone()).or_default() += 1;
    }
}

fn unqueue(state: &mut State, path: &[Level]) {
    for level in path {
        if let Some(queued) = state.queued.get_mut(&level.name) {
            *queued = queued.saturating_sub(1);
        }
    }
}

/// Gives back a slot on every group of `path` and lets waiting queries in.
fn release(state: &mut State, path: &[Level]) {
    for level in path {
        if let Some(running) = state.running.get_mut(&level.name) {
            *running = running.saturating_sub(1);
        }
    }
    admit_waiting(state);
}

/// Admits waiting queries in arrival order while their groups have room.
fn admit_waiting(state: &mut State) {
    let mut index = 0;
    while index < state.waiting.len() {
        if !has_room(state, &state.waiting[index].path) {
            index += 1;
            continue;
        }
        let Some(waiter) = state.waiting.remove(index) else {
            break;
        };
        unqueue(state, &waiter.path);
        // A waiter that gave up (its query was cancelled) takes no slot.
        if waiter.admit.send(()).is_ok() {
            take(state, &waiter.path);
            state.admitted.insert(waiter.id, waiter.path);
        }
    }
}

impl Spec {
    /// The groups, root first, that `requester`'s query runs in.
    fn path_for(&self, requester: &Requester<'_>) -> Result<Vec<Level>, AdmissionError> {
        let no_group = || AdmissionError::NoGroup {
            user: requester.user.to_string(),
            from: requester.source.to_string(),
        };
        let selector = self
            .selectors
            .iter()
            .find(|s| s.matches(requester))
            .ok_or_else(no_group)?;
        let mut groups = &self.roots;
        let mut path = Vec::with_capacity(selector.group.len());
        let mut full_name = String::new();
        for part in &selector.group {
            let spec = groups
                .iter()
                .find(|g| g.name == *part)
                .ok_or_else(no_group)?;
            let name = expand(&spec.name, requester);
            full_name = if full_name.is_empty() {
                name
            } else {
                format!("{full_name}.{name}")
            };
            path.push(Level {
                name: full_name.clone(),
                hard_concurrency_limit: spec.hard_concurrency_limit,
                max_queued: spec.max_queued,
            });
            groups = &spec.sub_groups;
        }
        Ok(path)
    }
}

impl Selector {
    fn matches(&self, requester: &Requester<'_>) -> bool {
        self.user
            .as_ref()
            .is_none_or(|r| r.is_match(requester.user))
            && self
                .user_group
                .as_ref()
                .is_none_or(|r| requester.groups.iter().any(|g| r.is_match(g)))
            && self
                .source
                .as_ref()
                .is_none_or(|r| r.is_match(requester.source))
    }
}

fn expand(name: &str, requester: &Requester<'_>) -> String {
    name.replace("${USER}", requester.user)
        .replace("${SOURCE}", requester.source)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileSpec {
    root_groups: Vec<FileGroup>,
    selectors: Vec<FileSelector>,
    // Trino's CPU quota period: accepted so its files load, unused here.
    #[allow(dead_code)]
    cpu_quota_period: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileGroup {
    name: String,
    hard_concurrency_limit: usize,
    max_queued: usize,
    #[serde(default)]
    sub_groups: Vec<FileGroup>,
    // Limits lakegate does not enforce yet, accepted so Trino's files load unchanged.
    #[allow(dead_code)]
    soft_memory_limit: Option<String>,
    #[allow(dead_code)]
    scheduling_policy: Option<String>,
    #[allow(dead_code)]
    scheduling_weight: Option<u64>,
    #[allow(dead_code)]
    soft_concurrency_limit: Option<usize>,
    #[allow(dead_code)]
    jmx_export: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileSelector {
    user: Option<String>,
    user_group: Option<String>,
    source: Option<String>,
    group: String,
}

fn parse(text: &str) -> Result<Spec, String> {
    let file: FileSpec = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let roots: Vec<GroupSpec> = file.root_groups.into_iter().map(group).collect();
    let regex = |what: &str, index: usize, text: Option<String>| {
        text.map(|t| {
            Regex::new(&format!("^(?:{t})$"))
                .map_err(|e| format!("selectors[{index}].{what} {t:?}: {e}"))
        })
        .transpose()
    };
    let mut selectors = Vec::with_capacity(file.selectors.len());
    for (index, s) in file.selectors.into_iter().enumerate() {
        let group: Vec<String> = s.group.split('.').map(str::to_string).collect();
        let mut level = &roots;
        for part in &group {
            let Some(found) = level.iter().find(|g| g.name == *part) else {
                return Err(format!(
                    "selectors[{index}] names group {:?}, which has no {part:?}",
                    s.group
                ));
            };
            level = &found.sub_groups;
        }
        selectors.push(Selector {
            user: regex("user", index, s.user)?,
            user_group: regex("userGroup", index, s.user_group)?,
            source: regex("source", index, s.source)?,
            group,
        });
    }
    Ok(Spec { roots, selectors })
}

fn group(file: FileGroup) -> GroupSpec {
    GroupSpec {
        name: file.name,
        hard_concurrency_limit: file.hard_concurrency_limit,
        max_queued: file.max_queued,
        sub_groups: file.sub_groups.into_iter().map(group).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
        "rootGroups": [{
            "name": "global", "hardConcurrencyLimit": 2, "maxQueued": 10,
            "subGroups": [
                {"name": "adhoc-${USER}", "hardConcurrencyLimit": 1, "maxQueued": 1},
                {"name": "dashboards", "hardConcurrencyLimit": 2, "maxQueued": 5}
            ]
        }],
        "selectors": [
            {"source": "trino", "group": "global.dashboards"},
            {"group": "global.adhoc-${USER}"}
        ]
    }"#;

    fn admission() -> Admission {
        Admission {
            spec: Some(parse(FILE).unwrap()),
            state: Arc::default(),
        }
    }

    fn ana() -> Requester<'static> {
        Requester {
            user: "ana",
            groups: &[],
            source: "flight_sql",
        }
    }

    #[tokio::test]
    async fn a_full_group_queues_then_refuses_and_a_release_admits_in_order() {
        let admission = admission();
        let first = admission.admit(&ana()).await.unwrap().expect("a slot");
        // ana's own group holds one: the next waits, the one after is refused.
        let waiting = tokio::spawn({
            let admission = Arc::new(admission);
            let clone = admission.clone();
            async move { (clone.admit(&ana()).await, admission) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        drop(first);
        let (second, admission) = waiting.await.unwrap();
        let second = second.unwrap().expect("admitted after the release");
        assert!(second.queued >= Duration::from_millis(40));
        // Another user's group has room.
        let bo = Requester {
            user: "bo",
            ..ana()
        };
        assert!(admission.admit(&bo).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn the_queue_limit_refuses_at_once() {
        let admission = Arc::new(admission());
        let _running = admission.admit(&ana()).await.unwrap();
        let queued = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit(&ana()).await.map(|s| s.is_some()) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = admission.admit(&ana()).await.unwrap_err();
        assert!(
            refused.to_string().contains("global.adhoc-ana")
                && refused.to_string().contains("maxQueued 1"),
            "{refused}"
        );
        queued.abort();
    }

    #[test]
    fn a_selector_naming_a_missing_group_is_refused() {
        let error =
            parse(r#"{"rootGroups": [], "selectors": [{"group": "nowhere"}]}"#).unwrap_err();
        assert!(
            error.contains("selectors[0]") && error.contains("nowhere"),
            "{error}"
        );
        let error = parse(
            r#"{"rootGroups": [{"name": "g", "hardConcurrencyLimit": 1, "maxQueued": 1}],
                "selectors": [{"user": "(", "group": "g"}]}"#,
        )
        .unwrap_err();
        assert!(error.contains("selectors[0].user"), "{error}");
    }
}
