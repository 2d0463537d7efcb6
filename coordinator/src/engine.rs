//! [`Engine`]: the one place SQL is classified, planned and run. Every front end turns its
//! protocol into [`Engine::execute`] calls and the results back into its protocol.
//!
//! ```text
//!  sql ─▶ statement::classify ─▶ SET / USE: change the Session
//!                 │
//!                 ▼ read
//!   per-query SessionState (session vars, LakeCatalogProvider over one listing)
//!                 │  logical plan: tables resolved and pinned to snapshots (SnapshotPins)
//!                 ▼  physical plan: IcebergScanExec plans files at the pinned snapshots
//!   QueryResult { id, schema, stream }
//! ```

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{CatalogProvider, CatalogProviderList, MemoryCatalogProviderList};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::TreeNode;
use datafusion::config::ConfigOptions;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::context::SessionState;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{EmptyRecordBatchStream, execute_stream};
use datafusion::prelude::SessionConfig;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion_distributed::{DistributedExt, SessionStateBuilderExt, display_plan_ascii};
use futures::StreamExt;
use http::{HeaderMap, HeaderValue};
use iceberg::io::FileIO;
use lakegate_executor::memory::{MEMORY_LIMIT_HEADER, QUERY_ID_HEADER};
use lakegate_executor::scan::{HiddenColumn, IcebergScanOptions, desired_task_count, scale_up};
use lakegate_executor::tls_channels::TlsChannels;
use lakegate_executor::{IcebergScanCodec, IcebergScanExec};
use lakegate_proto::cluster_secret::{CLUSTER_SECRET_HEADER, ClusterSecret};
use tracing::Instrument;

use crate::access::{AccessControl, AccessView, TableAccess, TablePolicy, fingerprint};
use crate::admission::{Admission, AdmissionError, Requester, Slot};
use crate::audit::{AuditLog, AuditPolicy, AuditTable};
use crate::auth::Principal;
use crate::cache::{CachedResult, Lookup, ResultCache, StatementKey, cacheable, replay};
use crate::catalog::{
    Lake, LakeCatalogProvider, Listing, SYSTEM_CATALOG, SnapshotId, SnapshotPins, TableRef,
    connect_catalog, file_io, system_catalog, visible_listing,
};
use crate::config::Config;
use crate::error::EngineError;
use crate::guard::{Rerun, guard};
use crate::lifecycle::Lifecycle;
use crate::params::number_placeholders;
use crate::pg_compat::{self, PgCatalog};
use crate::query::{QueryId, QueryResult};
use crate::registry::{ExecutorRegistry, RegistryWorkers};
use crate::session::{CacheMode, Session, SessionVars, SqlDialect, check_setting};
use crate::statement::{
    Classified, SetVariable, StatementError, StatementKind, classify, explained,
};
use crate::time_travel::rewrite_time_travel;
use crate::tracker::{FrontEnd, QueryTracker};

/// Plans and runs statements over the lake. Cloning is cheap: every part is shared.
#[derive(Debug, Clone)]
pub struct Engine {
    lake: Arc<Lake>,
    default_schema: String,
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
    cluster: Option<Cluster>,
    limits: RunLimits,
    lifecycle: Arc<Lifecycle>,
    /// Results of reads, shared by every front end; `None` with `cache.enabled = false`.
    cache: Option<Arc<ResultCache>>,
    /// Running and recent queries of every front end.
    tracker: Arc<QueryTracker>,
    /// What PostgreSQL clients' sessions see besides the lake (their oids live as long as
    /// the engine).
    pg_catalog: Arc<PgCatalog>,
    /// Who may read what, for every query, listing and cached answer.
    access: Arc<AccessControl>,
    /// How many queries run and wait at once, per resource group.
    admission: Arc<Admission>,
}

/// What one query may use: time, runs and memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunLimits {
    /// `query.timeout_secs`; `None` is no deadline.
    pub timeout: Option<Duration>,
    /// Runs in all, reruns after a lost executor included.
    pub max_attempts: usize,
    /// `query.memory_limit_bytes` per executor; `None` is unbounded.
    pub memory_limit_bytes: Option<usize>,
}

/// The executors queries are distributed over, and how.
#[derive(Debug, Clone)]
struct Cluster {
    registry: Arc<ExecutorRegistry>,
    /// Encodes scans into plan fragments; executors decode with their own storage access.
    file_io: FileIO,
    bytes_per_task: usize,
    /// Presented with every fragment: executors run nothing without it.
    secret: ClusterSecret,
    /// How fragments reach executors when the cluster speaks TLS (`cluster.tls_ca`).
    channels: Option<TlsChannels>,
}

impl Engine {
    /// Connects to the catalog in `config`. With a registry, queries are distributed over the
    /// executors in it; without one they run in this process.
    pub async fn connect(
        config: &Config,
        registry: Option<Arc<ExecutorRegistry>>,
    ) -> Result<Self, EngineError> {
        let access =
            AccessControl::from_config(&config.auth).map_err(|e| EngineError::Setting {
                name: "auth.access_control_file".into(),
                message: e.to_string(),
            })?;
        Self::connect_with(config, registry, Arc::new(access)).await
    }

    /// [`Engine::connect`] under access control already read; it is reloaded every
    /// `auth.access_control_refresh_secs` while the engine lives.
    pub async fn connect_with(
        config: &Config,
        registry: Option<Arc<ExecutorRegistry>>,
        access: Arc<AccessControl>,
    ) -> Result<Self, EngineError> {
        let catalog = connect_catalog(config, false).await?;
        let lake = Lake::new(
            config.catalog.name.clone(),
            catalog,
            Duration::from_millis(config.catalog.refresh_interval_ms),
        );
        access.watch(Duration::from_secs(config.auth.access_control_refresh_secs));
        let audit = match &config.server.audit_log {
            Some(path) => AuditLog::open(path).map_err(|e| EngineError::Setting {
                name: "server.audit_log".into(),
                message: e.to_string(),
            })?,
            None => AuditLog::off(),
        };
        let admission = match &config.auth.resource_groups_file {
            Some(path) => Admission::from_file(path).map_err(|e| EngineError::Setting {
                name: "auth.resource_groups_file".into(),
                message: e.to_string(),
            })?,
            None => Admission::default(),
        };
        let mut engine = Self::new(Arc::new(lake), config, registry, access);
        if let (Some(cluster), Some(ca)) = (engine.cluster.as_mut(), &config.cluster.tls_ca) {
            let pem = std::fs::read(ca).map_err(|e| EngineError::Setting {
                name: "cluster.tls_ca".into(),
                message: format!("{}: {e}", ca.display()),
            })?;
            cluster.channels = Some(TlsChannels::new(pem));
        }
        engine.tracker = Arc::new(QueryTracker::with_audit(audit));
        engine.admission = Arc::new(admission);
        Ok(engine)
    }

    /// An engine over an already connected lake.
    pub fn new(
        lake: Arc<Lake>,
        config: &Config,
        registry: Option<Arc<ExecutorRegistry>>,
        access: Arc<AccessControl>,
    ) -> Self {
        let mut session_config = SessionConfig::new()
            .with_information_schema(true)
            .with_create_default_catalog_and_schema(false)
            .with_batch_size(config.query.batch_size);
        if config.query.target_partitions > 0 {
            session_config = session_config.with_target_partitions(config.query.target_partitions);
        }
        // Spans let planning errors point at the offending line and column.
        session_config.options_mut().sql_parser.collect_spans = true;
        Self {
            pg_catalog: Arc::new(PgCatalog::new(lake.clone(), access.clone())),
            access,
            admission: Arc::default(),
            lake,
            default_schema: config.catalog.default_schema.clone(),
            config: session_config,
            runtime: Arc::new(RuntimeEnv::default()),
            cluster: registry.map(|registry| Cluster {
                registry,
                file_io: file_io(config),
                bytes_per_task: config.cluster.bytes_per_task,
                secret: config.cluster.secret(),
                channels: None,
            }),
            lifecycle: Arc::default(),
            tracker: Arc::default(),
            cache: config
                .cache
                .enabled
                .then(|| Arc::new(ResultCache::new(&config.cache))),
            limits: RunLimits {
                timeout: (config.query.timeout_secs > 0)
                    .then(|| Duration::from_secs(config.query.timeout_secs)),
                max_attempts: config.query.max_attempts.max(1),
                memory_limit_bytes: (config.query.memory_limit_bytes > 0)
                    .then_some(config.query.memory_limit_bytes),
            },
        }
    }

    /// The result cache, when enabled.
    pub fn cache(&self) -> Option<&Arc<ResultCache>> {
        self.cache.as_ref()
    }

    /// Running and recent queries, for listing and cancelling.
    pub fn tracker(&self) -> &Arc<QueryTracker> {
        &self.tracker
    }

    /// Serving or stopping, and the queries running now.
    pub fn lifecycle(&self) -> &Arc<Lifecycle> {
        &self.lifecycle
    }

    /// Limits on one query's run: its deadline and how often it may be rerun after losing an
    /// executor.
    pub(crate) fn run_limits(&self) -> RunLimits {
        self.limits
    }

    /// The executor registry, when queries are distributed.
    pub fn registry(&self) -> Option<&Arc<ExecutorRegistry>> {
        self.cluster.as_ref().map(|c| &c.registry)
    }

    pub fn lake(&self) -> &Arc<Lake> {
        &self.lake
    }

    /// The rules `vars`' user reads under now.
    fn access_view(&self, vars: &SessionVars) -> AccessView {
        self.access.view(&vars.user, &vars.groups)
    }

    /// The lake's schemas and tables that `session`'s user may read: what every front end's
    /// catalog browsing lists.
    pub async fn listing(&self, session: &Session) -> Result<Listing, EngineError> {
        let listing = self.lake.listing().await?;
        Ok(visible_listing(
            &listing,
            self.lake.name(),
            &self.access_view(&session.vars()),
        ))
    }

    /// The columns of lake table `table` as `session`'s user reads them (hidden columns left
    /// out), or `None` for a table that does not exist (metadata tables are not lake tables);
    /// a table the user may not read is refused, naming it.
    pub async fn table_schema(
        &self,
        session: &Session,
        table: &TableRef,
    ) -> Result<Option<SchemaRef>, EngineError> {
        let vars = session.vars();
        let listing = self.lake.listing().await?;
        let exists = listing
            .schemas
            .get(&table.schema)
            .is_some_and(|tables| tables.contains(&table.table));
        if !exists {
            return Ok(None);
        }
        let provider = LakeCatalogProvider::new(
            self.lake.clone(),
            listing,
            Arc::default(),
            vars.max_staleness(),
        )
        .with_access(self.access_view(&vars));
        let Some(schema) = provider.schema(&table.schema) else {
            return Ok(None);
        };
        let resolved = schema
            .table(&table.table)
            .await
            .map_err(EngineError::planning)?;
        Ok(resolved.map(|t| t.schema()))
    }

    /// A new session for `principal`, starting in the configured catalog and schema.
    pub fn new_session(&self, principal: Principal) -> Session {
        Session::new(principal, self.lake.name(), self.default_schema.clone())
    }

    /// A new session of a client of `front_end`.
    pub fn session_for(&self, principal: Principal, front_end: FrontEnd) -> Session {
        self.new_session(principal).with_front_end(front_end)
    }

    /// Classifies, plans and starts one statement. Snapshots are pinned and files planned
    /// before this returns; rows flow as the returned stream is polled.
    pub async fn execute(&self, session: &Session, sql: &str) -> Result<QueryResult, EngineError> {
        self.execute_with(session, sql, Vec::new()).await
    }

    /// [`Engine::execute`] with values for the statement's parameters (`?` or `$n`), by
    /// position.
    pub async fn execute_with(
        &self,
        session: &Session,
        sql: &str,
        params: Vec<ScalarValue>,
    ) -> Result<QueryResult, EngineError> {
        if self.lifecycle.is_stopping() {
            return Err(EngineError::ShuttingDown);
        }
        let id = QueryId::new();
        let span = tracing::info_span!(
            "query",
            %id,
            user = %session.principal(),
            front_end = %session.front_end()
        );
        let tracked = self
            .tracker
            .begin(id, session.principal(), session.front_end(), sql);
        // One reading of the access rules per query: its cache key, plan, slot and audit line
        // all answer to the same policy, even if the rules are reloaded meanwhile.
        let access = self.access_view(&session.vars());
        if self.tracker.audits() {
            let groups = access.subject().groups.clone();
            let client_address = session.client_address().map(|a| a.to_string());
            self.tracker.annotate(id, |details| {
                details.groups = groups;
                details.client_address = client_address;
            });
        }
        match self
            .execute_as(id, session, &access, sql, params)
            .instrument(span)
            .await
        {
            Ok(mut result) => {
                if self.tracker.audits() {
                    self.audit_reads(id, &access, &result.snapshots).await;
                }
                result.stream = tracked.watch(result.stream);
                Ok(result)
            }
            Err(e) => {
                tracked.failed(&e);
                Err(e)
            }
        }
    }

    /// The snapshot of every table `sql` would read if it ran now, found by planning it (no
    /// scan starts): what a dashboard's ETag is made of.
    pub async fn snapshots_now(
        &self,
        session: &Session,
        sql: &str,
        params: &[ScalarValue],
    ) -> Result<Vec<(TableRef, Option<SnapshotId>)>, EngineError> {
        let mut classified = classify_in(&session.vars(), sql)?;
        number_placeholders(&mut classified.statement);
        if classified.kind != StatementKind::Read {
            return Ok(Vec::new());
        }
        let vars = session.vars();
        let planned = self
            .plan_read(
                QueryId::new(),
                &vars,
                &self.access_view(&vars),
                classified.statement,
                params,
            )
            .await?;
        Ok(planned.pins.snapshots())
    }

    /// Plans `sql` without running it: the schema of its rows and of its parameters, for a
    /// prepared statement.
    pub async fn describe(&self, session: &Session, sql: &str) -> Result<Described, EngineError> {
        let mut classified = classify_in(&session.vars(), sql)?;
        let count = number_placeholders(&mut classified.statement);
        if !matches!(
            classified.kind,
            StatementKind::Read | StatementKind::Explain | StatementKind::ExplainAnalyze
        ) {
            return Ok(Described {
                dataset: Arc::new(Schema::empty()),
                parameters: Arc::new(Schema::empty()),
            });
        }
        let hidden = names_hidden_columns(&classified.statement);
        let vars = session.vars();
        let access = self.access_view(&vars);
        let state = self
            .query_state(QueryId::new(), &vars, &access, Arc::default(), hidden)
            .await?;
        let plan = state
            .statement_to_plan(classified.statement)
            .await
            .map_err(EngineError::planning)?;
        let mut fields = plan
            .get_parameter_fields()
            .map_err(EngineError::planning)?
            .into_iter()
            .filter_map(|(name, field)| {
                let position = name.strip_prefix('$')?.parse::<usize>().ok()?;
                let data_type = field.map_or(DataType::Null, |f| f.data_type().clone());
                Some((position, Field::new(name, data_type, true)))
            })
            .collect::<Vec<_>>();
        fields.sort_by_key(|(position, _)| *position);
        debug_assert!(count == 0 || fields.len() <= count);
        Ok(Described {
            dataset: Arc::new(plan.schema().as_arrow().clone()),
            parameters: Arc::new(Schema::new(
                fields.into_iter().map(|(_, f)| f).collect::<Vec<_>>(),
            )),
        })
    }

    async fn execute_as(
        &self,
        id: QueryId,
        session: &Session,
        access: &AccessView,
        sql: &str,
        params: Vec<ScalarValue>,
    ) -> Result<QueryResult, EngineError> {
        let mut classified = classify_in(&session.vars(), sql)?;
        number_placeholders(&mut classified.statement);
        tracing::debug!(kind = ?classified.kind, "classified");
        match classified.kind {
            StatementKind::Set(variable) => {
                self.set_variable(session, variable)?;
                Ok(empty_result(id))
            }
            StatementKind::Use { catalog, schema } => {
                self.use_schema(session, catalog, schema).await?;
                Ok(empty_result(id))
            }
            StatementKind::Explain if self.cluster.is_some() => {
                let vars = session.vars();
                self.explain_distributed(id, &vars, access, &classified.statement, &params)
                    .await
            }
            StatementKind::Read => {
                self.read_through_cache(id, session, access, classified.statement, params)
                    .await
            }
            StatementKind::Explain | StatementKind::ExplainAnalyze => {
                let vars = session.vars();
                let slot = self.admit(id, session, &vars, access).await?;
                let first = self
                    .run_read(id, &vars, access, classified.statement.clone(), &params)
                    .await?;
                let run = Rerun {
                    vars,
                    access: access.clone(),
                    statement: classified.statement,
                    params,
                };
                let result = guard(self.clone(), run, first);
                Ok(holding(result, slot))
            }
        }
    }

    /// A read answered from the result cache when it can be: a stored result, or the
    /// batches of an identical query running now; otherwise run (and stored when it fits).
    async fn read_through_cache(
        &self,
        id: QueryId,
        session: &Session,
        access: &AccessView,
        statement: DfStatement,
        params: Vec<ScalarValue>,
    ) -> Result<QueryResult, EngineError> {
        let vars = session.vars();
        let mode = vars.cache_mode();
        let statement_key = self
            .cache
            .as_ref()
            .filter(|_| mode != CacheMode::Off)
            .map(|_| StatementKey::new(&statement, &params, &vars));
        // A repeat of a cached statement: its tables' current snapshots and what the caller
        // may read of them give the key, and a stored result is returned without planning.
        // A table the caller may not read gives no key: planning refuses it below.
        if let (Some(cache), Some(statement_key), CacheMode::On) =
            (&self.cache, &statement_key, mode)
            && let Some(tables) = cache.tables_of(statement_key).await
            && let Some(snapshots) = self.current_snapshots(&tables, vars.max_staleness()).await
            && let Some(policy) = self.policy_key(access, &tables).await
            && let Some(hit) = cache
                .get(&statement_key.with_snapshots(&snapshots, &policy))
                .await
        {
            self.tracker.annotate(id, |d| d.cache_hit = true);
            return hit_result(id, &hit);
        }
        // Only queries that run wait for a slot: the cache hit above took none.
        let slot = self.admit(id, session, &vars, access).await?;
        let planned = self
            .plan_read(id, &vars, access, statement.clone(), &params)
            .await?;
        let snapshots = planned.pins.snapshots();
        let tables: Vec<TableRef> = snapshots.iter().map(|(t, _)| t.clone()).collect();
        let policy = self.policy_key(access, &tables).await;
        let keyed = match (&self.cache, statement_key, policy) {
            (Some(cache), Some(statement_key), Some(policy)) if cacheable(&planned.plan) => {
                let key = statement_key.with_snapshots(&snapshots, &policy);
                cache.learn_tables(statement_key, tables).await;
                Some((cache.clone(), key))
            }
            _ => None,
        };
        let mut leader = None;
        if let Some((cache, key)) = &keyed {
            let schema = Arc::new(planned.plan.schema().as_arrow().clone());
            match cache.lookup(key, mode == CacheMode::On, schema).await {
                Lookup::Hit(hit) => {
                    self.tracker.annotate(id, |d| d.cache_hit = true);
                    return hit_result(id, &hit);
                }
                Lookup::Joined(schema, stream) => {
                    tracing::debug!("joined an identical running query");
                    self.tracker.annotate(id, |d| d.cache_hit = true);
                    return Ok(QueryResult {
                        id,
                        schema,
                        stream,
                        plan: None,
                        snapshots,
                    });
                }
                Lookup::Lead(lead) => leader = Some(lead),
            }
        }
        let first = self.start_planned(id, planned).await?;
        let run = Rerun {
            vars,
            access: access.clone(),
            statement,
            params,
        };
        let mut result = guard(self.clone(), run, first);
        if let Some(leader) = leader {
            result.stream = leader.start(result.stream, result.snapshots.clone());
        }
        Ok(holding(result, slot))
    }

    /// Waits for query `id`'s slot in its resource group (shown as QUEUED meanwhile), or
    /// refuses it when the group's queue is full.
    async fn admit(
        &self,
        id: QueryId,
        session: &Session,
        vars: &SessionVars,
        access: &AccessView,
    ) -> Result<Option<Slot>, EngineError> {
        if !self.admission.is_limited() {
            return Ok(None);
        }
        let requester = Requester {
            user: &vars.user,
            groups: &access.subject().groups,
            source: session.source(),
        };
        self.tracker.set_queued(id);
        let slot = self
            .admission
            .admit(&requester)
            .await
            .map_err(|e| match e {
                AdmissionError::QueueFull { .. } => EngineError::QueueFull {
                    message: e.to_string(),
                },
                AdmissionError::NoGroup { .. } => EngineError::AccessDenied {
                    message: e.to_string(),
                },
            })?;
        let queued = slot.as_ref().map_or(Duration::ZERO, |s| s.queued);
        self.tracker.set_admitted(id, queued);
        Ok(slot)
    }

    /// What `access` lets its user read of each of `tables` (time travel names resolved to
    /// their table); `None` when one is refused or cannot be named.
    async fn read_policies(
        &self,
        access: &AccessView,
        tables: &[TableRef],
    ) -> Option<Vec<(TableRef, TablePolicy)>> {
        let mut policies = Vec::with_capacity(tables.len());
        for table in tables {
            let parsed = self.lake.parse_name(table).await.ok()?;
            let base = TableRef::new(&table.catalog, &table.schema, parsed.table());
            match access.table(&base.catalog, &base.schema, &base.table) {
                TableAccess::Denied => return None,
                TableAccess::Read(policy) => policies.push((base, policy)),
            }
        }
        Some(policies)
    }

    /// What `access` lets its user read of each of `tables`, as a cache key part.
    async fn policy_key(&self, access: &AccessView, tables: &[TableRef]) -> Option<String> {
        let policies = self.read_policies(access, tables).await?;
        Some(fingerprint(&policies))
    }

    /// Records in the audit log's entry for query `id` what it read, at which snapshots, and
    /// under which filters and masks.
    async fn audit_reads(
        &self,
        id: QueryId,
        access: &AccessView,
        snapshots: &[(TableRef, Option<SnapshotId>)],
    ) {
        let tables: Vec<AuditTable> = snapshots
            .iter()
            .map(|(table, snapshot)| AuditTable {
                table: table.to_string(),
                snapshot: snapshot.map(|s| s.0),
            })
            .collect();
        let read: Vec<TableRef> = snapshots.iter().map(|(t, _)| t.clone()).collect();
        let policies = self.read_policies(access, &read).await.unwrap_or_default();
        let mut filters: Vec<AuditPolicy> = policies
            .into_iter()
            .filter(|(_, policy)| !policy.is_unrestricted())
            .map(|(table, policy)| AuditPolicy {
                table: table.to_string(),
                policy: policy.describe(),
            })
            .collect();
        filters.dedup();
        self.tracker.annotate(id, |details| {
            details.tables = tables;
            details.filters = filters;
        });
    }

    /// The snapshot a query planned now would pin for each of `tables`; `None` if one cannot
    /// be loaded (planning then reports why).
    async fn current_snapshots(
        &self,
        tables: &[TableRef],
        max_age: Duration,
    ) -> Option<Vec<(TableRef, Option<SnapshotId>)>> {
        let mut snapshots = Vec::with_capacity(tables.len());
        for table in tables {
            let (_, snapshot) = self.lake.pin(table, max_age).await.ok()?;
            snapshots.push((table.clone(), snapshot));
        }
        Some(snapshots)
    }

    /// Plans `statement` with the session variables `vars` and starts it.
    pub(crate) async fn run_read(
        &self,
        id: QueryId,
        vars: &SessionVars,
        access: &AccessView,
        statement: DfStatement,
        params: &[ScalarValue],
    ) -> Result<QueryResult, EngineError> {
        let planned = self.plan_read(id, vars, access, statement, params).await?;
        self.start_planned(id, planned).await
    }

    /// The logical plan of a read, its tables' snapshots pinned.
    async fn plan_read(
        &self,
        id: QueryId,
        vars: &SessionVars,
        access: &AccessView,
        statement: DfStatement,
        params: &[ScalarValue],
    ) -> Result<Planned, EngineError> {
        let pins = Arc::new(SnapshotPins::default());
        let hidden = names_hidden_columns(&statement);
        let state = self
            .query_state(id, vars, access, pins.clone(), hidden)
            .await?;
        let plan = state
            .statement_to_plan(statement)
            .await
            .map_err(EngineError::planning)?;
        let plan = bind(plan, params)?;
        // The classifier already refused writes; this checks the plan DataFusion built agrees.
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(EngineError::planning)?;
        Ok(Planned { state, plan, pins })
    }

    /// Plans the execution of a planned read and starts it.
    async fn start_planned(
        &self,
        id: QueryId,
        planned: Planned,
    ) -> Result<QueryResult, EngineError> {
        let Planned { state, plan, pins } = planned;
        let physical = state
            .create_physical_plan(&plan)
            .await
            .map_err(EngineError::planning)?;
        // With no executor to place work on, the distributed planner leaves plans whole: fine
        // for the system tables, but reading the lake needs executors.
        if let Some(cluster) = &self.cluster
            && cluster.registry.placement().is_empty()
            && physical
                .exists(|p| Ok(p.is::<IcebergScanExec>()))
                .unwrap_or(true)
        {
            return Err(EngineError::NoExecutors);
        }
        let schema = physical.schema();
        let stream =
            execute_stream(physical.clone(), state.task_ctx()).map_err(EngineError::planning)?;
        let snapshots = pins.snapshots();
        tracing::debug!(?snapshots, "planned");
        Ok(QueryResult {
            id,
            schema,
            stream,
            plan: Some(physical),
            snapshots,
        })
    }

    /// DataFusion's own EXPLAIN plans with the single-node planner; a distributed engine shows
    /// the plan it would really run, stage by stage.
    async fn explain_distributed(
        &self,
        id: QueryId,
        vars: &SessionVars,
        access: &AccessView,
        statement: &DfStatement,
        params: &[ScalarValue],
    ) -> Result<QueryResult, EngineError> {
        let inner = explained(statement)
            .ok_or_else(|| EngineError::Internal("EXPLAIN without a statement".into()))?;
        let pins = Arc::new(SnapshotPins::default());
        let hidden = names_hidden_columns(&inner);
        let state = self
            .query_state(id, vars, access, pins.clone(), hidden)
            .await?;
        let logical = state
            .statement_to_plan(inner)
            .await
            .map_err(EngineError::planning)?;
        let logical = bind(logical, params)?;
        let logical = state.optimize(&logical).map_err(EngineError::planning)?;
        let physical = state
            .create_physical_plan(&logical)
            .await
            .map_err(EngineError::planning)?;
        let schema = Arc::new(Schema::new(vec![
            Field::new("plan_type", DataType::Utf8, false),
            Field::new("plan", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["logical_plan", "distributed_plan"])),
                Arc::new(StringArray::from(vec![
                    logical.display_indent().to_string(),
                    display_plan_ascii(physical.as_ref(), false),
                ])),
            ],
        )
        .map_err(|e| EngineError::Internal(e.to_string()))?;
        let stream = MemoryStream::try_new(vec![batch], schema.clone(), None)
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok(QueryResult {
            id,
            schema,
            stream: Box::pin(stream),
            plan: None,
            snapshots: pins.snapshots(),
        })
    }

    /// The DataFusion state one query plans with: the session's variables and a view of the
    /// lake over one listing, with its own snapshot pins (and the tables' hidden columns when
    /// the query names one).
    async fn query_state(
        &self,
        id: QueryId,
        vars: &SessionVars,
        access: &AccessView,
        pins: Arc<SnapshotPins>,
        hidden_columns: bool,
    ) -> Result<SessionState, EngineError> {
        let mut config = self
            .config
            .clone()
            .with_default_catalog_and_schema(&vars.catalog, &vars.schema);
        for (name, value) in vars
            .settings
            .iter()
            .filter(|(n, _)| n.starts_with("datafusion."))
        {
            config
                .options_mut()
                .set(name, value)
                .map_err(|e| EngineError::Setting {
                    name: name.clone(),
                    message: e.message().to_string(),
                })?;
        }
        let listing = self.lake.listing().await?;
        let postgres = vars.dialect == SqlDialect::Postgres;
        let mut lake: Arc<dyn CatalogProvider> = Arc::new(
            LakeCatalogProvider::new(self.lake.clone(), listing, pins, vars.max_staleness())
                .with_hidden_columns(hidden_columns)
                .with_access(access.clone()),
        );
        if postgres {
            lake = self
                .pg_catalog
                .around(lake, access)
                .map_err(EngineError::planning)?;
        }
        let catalogs = MemoryCatalogProviderList::new();
        catalogs.register_catalog(self.lake.name().to_string(), lake);
        if access.can_read_catalog(SYSTEM_CATALOG) {
            let system = system_catalog(
                self.registry().map(Arc::as_ref),
                self.cache.as_ref().map(|c| c.stats()),
            )
            .map_err(EngineError::planning)?;
            catalogs.register_catalog(SYSTEM_CATALOG.to_string(), system);
        }
        let mut builder = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(self.runtime.clone())
            .with_catalog_list(Arc::new(catalogs))
            .with_default_features();
        if postgres {
            builder = builder.with_type_planner(PgCatalog::type_planner());
        }
        let mut state = match &self.cluster {
            None => builder.build(),
            Some(cluster) => {
                let mut scan_options = IcebergScanOptions::default();
                scan_options.bytes_per_task = cluster.bytes_per_task;
                let mut builder = builder
                    .with_distributed_passthrough_headers(fragment_headers(
                        id,
                        &self.limits,
                        &cluster.secret,
                    )?)
                    .map_err(EngineError::planning)?
                    .with_distributed_worker_resolver(RegistryWorkers(cluster.registry.clone()));
                if let Some(channels) = &cluster.channels {
                    builder = builder.with_distributed_channel_resolver(channels.clone());
                }
                builder
                    .with_distributed_planner()
                    .with_distributed_user_codec(IcebergScanCodec::new(cluster.file_io.clone()))
                    .with_distributed_option_extension(scan_options)
                    .with_distributed_desired_task_count_handler(desired_task_count)
                    .with_distributed_scale_up_leaf_node_handler(scale_up)
                    .build()
            }
        };
        if postgres {
            self.pg_catalog
                .register_functions(&mut state, vars)
                .map_err(EngineError::planning)?;
        }
        // The query's start time: `now()` and `current_date` are folded to it when planned
        // (DataFusion's SessionContext does this in `sql()`; a hand-built state must too).
        state.mark_start_execution();
        Ok(state)
    }

    /// Sets (or with `None` clears) session variable `name`, checking its value as `SET`
    /// does: for front ends whose clients send session variables outside SQL.
    pub fn set(
        &self,
        session: &Session,
        name: &str,
        value: Option<String>,
    ) -> Result<(), EngineError> {
        self.set_variable(
            session,
            SetVariable {
                name: name.to_string(),
                value,
            },
        )
    }

    fn set_variable(&self, session: &Session, variable: SetVariable) -> Result<(), EngineError> {
        let SetVariable { name, value } = variable;
        if let Some(value) = &value {
            check_setting(&name, value).map_err(|message| EngineError::Setting {
                name: name.clone(),
                message,
            })?;
        }
        if let (true, Some(value)) = (name.starts_with("datafusion."), &value) {
            // Reject a bad value now rather than on every later query.
            ConfigOptions::default()
                .set(&name, value)
                .map_err(|e| EngineError::Setting {
                    name: name.clone(),
                    message: e.message().to_string(),
                })?;
        }
        session.update(|vars| match value {
            Some(value) => {
                vars.settings.insert(name, value);
            }
            None => {
                vars.settings.remove(&name);
            }
        });
        Ok(())
    }

    async fn use_schema(
        &self,
        session: &Session,
        catalog: Option<String>,
        schema: String,
    ) -> Result<(), EngineError> {
        let catalog = catalog.unwrap_or_else(|| session.vars().catalog);
        if catalog != self.lake.name() {
            return Err(EngineError::UnknownSchema { catalog, schema });
        }
        if !schema.is_empty() && !self.lake.listing().await?.schemas.contains_key(&schema) {
            return Err(EngineError::UnknownSchema { catalog, schema });
        }
        session.update(|vars| {
            vars.catalog = catalog;
            if !schema.is_empty() {
                vars.schema = schema;
            }
        });
        Ok(())
    }
}

/// Parses and classifies `sql` as the session's clients write it, time travel clauses
/// folded into table names first.
fn classify_in(vars: &SessionVars, sql: &str) -> Result<Classified, StatementError> {
    let sql = rewrite_time_travel(sql)?;
    match vars.dialect {
        SqlDialect::Standard => classify(&sql, &GenericDialect {}),
        SqlDialect::Postgres => pg_compat::sql::classify(&sql),
    }
}

/// Whether `statement` names one of Trino's hidden columns (`"$path"`,
/// `"$file_modified_time"`). Only then do tables show them, so `SELECT *` never does unless
/// the same query names one.
fn names_hidden_columns(statement: &DfStatement) -> bool {
    let text = statement.to_string();
    HiddenColumn::ALL
        .iter()
        .any(|c| text.contains(&format!("\"{}\"", c.name())))
}

/// `result`, holding its resource group slot until its last batch is read (or it is dropped).
fn holding(mut result: QueryResult, slot: Option<Slot>) -> QueryResult {
    let Some(slot) = slot else {
        return result;
    };
    let schema = result.stream.schema();
    let batches = result.stream.map(move |batch| {
        let _held = &slot;
        batch
    });
    result.stream = Box::pin(RecordBatchStreamAdapter::new(schema, batches));
    result
}

/// The result of a statement that returns no rows (`SET`, `USE`).
fn empty_result(id: QueryId) -> QueryResult {
    let schema = Arc::new(Schema::empty());
    QueryResult {
        id,
        schema: schema.clone(),
        stream: Box::pin(EmptyRecordBatchStream::new(schema)),
        plan: None,
        snapshots: Vec::new(),
    }
}

/// Query `id` answered from a stored result.
fn hit_result(id: QueryId, hit: &CachedResult) -> Result<QueryResult, EngineError> {
    tracing::debug!("cache hit");
    Ok(QueryResult {
        id,
        schema: hit.schema.clone(),
        stream: replay(hit).map_err(EngineError::planning)?,
        plan: None,
        snapshots: hit.snapshots.clone(),
    })
}

/// A read planned as far as its logical plan, with the state that plans it further.
struct Planned {
    state: SessionState,
    plan: LogicalPlan,
    pins: Arc<SnapshotPins>,
}

/// What a prepared statement returns and takes.
#[derive(Debug, Clone)]
pub struct Described {
    /// The schema of its rows.
    pub dataset: SchemaRef,
    /// One field per parameter (`$1`, `$2`, ...), typed where DataFusion could infer it and
    /// `Null` where any type is taken.
    pub parameters: SchemaRef,
}

/// Puts the parameter values into `plan`; a plan with placeholders and no values, or a
/// different number of them, is refused before anything runs.
fn bind(plan: LogicalPlan, params: &[ScalarValue]) -> Result<LogicalPlan, EngineError> {
    let expected = plan
        .get_parameter_names()
        .map_err(EngineError::planning)?
        .len();
    if expected != params.len() {
        return Err(EngineError::Plan {
            message: format!(
                "the statement has {expected} parameter(s) but {} value(s) were bound",
                params.len()
            ),
            position: None,
        });
    }
    if expected == 0 {
        return Ok(plan);
    }
    // Values come typed by the client's protocol (a JSON number, a Trino literal, PostgreSQL
    // text); each is cast to the type DataFusion inferred for its placeholder, so `$1` next
    // to a DATE column takes '1998-09-02' and one next to an INT takes 5 sent as text.
    let fields = plan.get_parameter_fields().map_err(EngineError::planning)?;
    let values = params
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let wanted = fields
                .get(&format!("${}", index + 1))
                .and_then(|f| f.as_ref())
                .map(|f| f.data_type().clone());
            match wanted {
                Some(wanted) if !value.is_null() && value.data_type() != wanted => {
                    value.cast_to(&wanted).map_err(|e| EngineError::Plan {
                        message: format!(
                            "parameter ${}: {value} cannot be used as {wanted}: {e}",
                            index + 1
                        ),
                        position: None,
                    })
                }
                _ => Ok(value.clone()),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    plan.with_param_values(values)
        .map_err(EngineError::planning)
}

/// Headers every plan fragment of query `id` carries to its executor: which query it belongs
/// to, so its fragments there share one memory pool, that pool's size, and the cluster's
/// secret.
fn fragment_headers(
    id: QueryId,
    limits: &RunLimits,
    secret: &ClusterSecret,
) -> Result<HeaderMap, EngineError> {
    let value = |text: String| {
        HeaderValue::from_str(&text)
            .map_err(|e| EngineError::Internal(format!("fragment header {text:?}: {e}")))
    };
    let mut headers = HeaderMap::new();
    headers.insert(QUERY_ID_HEADER, value(id.to_string())?);
    if let Some(limit) = limits.memory_limit_bytes {
        headers.insert(MEMORY_LIMIT_HEADER, value(limit.to_string())?);
    }
    if let Some(secret) = secret.header_value() {
        headers.insert(
            CLUSTER_SECRET_HEADER,
            HeaderValue::from_str(secret).map_err(|_| {
                EngineError::Internal("cluster.shared_secret is not a valid header value".into())
            })?,
        );
    }
    Ok(headers)
}
