//! [`Engine`]: the one place SQL is classified, planned and run. Every front end turns its
//! protocol into [`Engine::execute`] calls and renders the [`Outcome`] in its protocol.
//!
//! ```text
//!  sql ─▶ session's dialect: parse + classify ─▶ command: SET / USE / PREPARE / ... (command.rs)
//!                 │                                 └▶ Outcome::SessionChanged / Transaction
//!                 ▼ read
//!   per-query SessionState (state.rs): settings, dialect, lake over one listing, access view
//!                 │  logical plan: tables resolved and pinned to snapshots (SnapshotPins)
//!                 ▼  result cache read-through, then physical plan (read.rs)
//!   QueryRun (run.rs): deadline, rerun on a lost executor, slot, cache lead ─▶ Outcome::Rows
//! ```

mod command;
mod liveness;
mod outcome;
mod panics;
mod policy;
mod read;
mod resume;
mod run;
mod services;
mod state;
mod unknown;

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::prelude::SessionConfig;
use datafusion_distributed::display_plan_ascii;
use iceberg::io::FileIO;
use lakegate_iceberg::RunningTasks;
use lakegate_proto::cluster_secret::ClusterSecret;
use lakegate_proto::tls_channels::TlsChannels;
use tracing::Instrument;

pub use outcome::{Outcome, SessionChange, SessionCommand, SessionUpdate};
pub use read::{Described, ScanFiles};
pub use run::{Reruns, RunLimits};
pub use services::{CatalogBrowser, Health, QueryAdmin};

use crate::access::{AccessControl, AccessView};
use crate::admission::Admission;
use crate::audit::AuditLog;
use crate::auth::Principal;
use crate::cache::ResultCache;
use crate::catalog::{Lake, SnapshotPins, connect_catalog, file_io};
use crate::config::Config;
use crate::dialect::{DialectName, Dialects};
use crate::error::EngineError;
use crate::lifecycle::Lifecycle;
use crate::params::number_placeholders;
use crate::query::{QueryId, QueryResult};
use crate::registry::ExecutorRegistry;
use crate::session::{ClientLabel, Session, SessionVars};
use crate::sql_limits::SqlLimits;
use crate::statement::{Classified, ExplainType, StatementError};
use crate::time_travel::rewrite_time_travel;
use crate::tracker::QueryTracker;

/// Plans and runs statements over the lake. Cloning is cheap: every part is shared.
#[derive(Debug, Clone)]
pub struct Engine {
    lake: Arc<Lake>,
    default_schema: String,
    /// What sessions of front ends without a dialect of their own speak (`query.default_dialect`).
    default_dialect: DialectName,
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
    cluster: Option<Cluster>,
    limits: RunLimits,
    lifecycle: Arc<Lifecycle>,
    /// Results of reads, shared by every front end; `None` with `cache.enabled = false`.
    cache: Option<Arc<ResultCache>>,
    /// Running and recent queries of every front end.
    tracker: Arc<QueryTracker>,
    /// Every dialect sessions may speak (PostgreSQL's oids live as long as the engine).
    dialects: Arc<Dialects>,
    /// Who may read what, for every query, listing and cached answer.
    access: Arc<AccessControl>,
    /// How many queries run and wait at once, per resource group.
    admission: Arc<Admission>,
    /// How large and deep a statement may be.
    sql_limits: SqlLimits,
    /// Reruns after lost executors, counted for `/metrics`.
    reruns: Arc<Reruns>,
    /// Data files planned queries read and left out, for `/metrics`.
    scans: Arc<ScanFiles>,
    /// Rows and bytes read by scans run in this process, for `/metrics`.
    local_scans: RunningTasks,
    /// Where plans run (a [`lakegate_executor::CpuRuntime`]'s handle), apart from the runtime
    /// serving clients; `None` runs them on the caller's runtime.
    plan_runtime: Option<tokio::runtime::Handle>,
}

/// The executors queries are distributed over, and how.
#[derive(Debug, Clone)]
struct Cluster {
    registry: Arc<ExecutorRegistry>,
    /// Encodes scans into plan fragments; executors decode with their own storage access.
    file_io: FileIO,
    bytes_per_task: usize,
    /// `cluster.max_tasks_per_stage`; 0: one per executor.
    max_tasks_per_stage: usize,
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
        engine.lifecycle = Arc::new(Lifecycle::new(engine.tracker.clone()));
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
        // Scans planned here count what they read when they run here (not distributed).
        let local_scans = RunningTasks::default();
        session_config.set_extension(Arc::new(local_scans.clone()));
        let tracker = Arc::<QueryTracker>::default();
        Self {
            dialects: Arc::new(Dialects::new(lake.clone(), access.clone())),
            access,
            admission: Arc::default(),
            lake,
            default_schema: config.catalog.default_schema.clone(),
            default_dialect: config.query.default_dialect,
            config: session_config,
            runtime: Arc::new(RuntimeEnv::default()),
            cluster: registry.map(|registry| Cluster {
                registry,
                file_io: file_io(config),
                bytes_per_task: config.cluster.bytes_per_task,
                max_tasks_per_stage: config.cluster.max_tasks_per_stage,
                secret: config.cluster.secret(),
                channels: None,
            }),
            lifecycle: Arc::new(Lifecycle::new(tracker.clone())),
            tracker,
            cache: config
                .cache
                .enabled
                .then(|| Arc::new(ResultCache::new(&config.cache))),
            sql_limits: SqlLimits {
                max_bytes: config.query.max_sql_bytes,
                max_depth: config.query.max_expression_depth,
            },
            limits: RunLimits {
                timeout: (config.query.timeout_secs > 0)
                    .then(|| Duration::from_secs(config.query.timeout_secs)),
                max_attempts: config.query.max_attempts.max(1),
                memory_limit_bytes: (config.query.memory_limit_bytes > 0)
                    .then_some(config.query.memory_limit_bytes),
                resume_max_rows: config.query.resume_max_rows,
            },
            reruns: Arc::default(),
            scans: Arc::default(),
            local_scans,
            plan_runtime: None,
        }
    }

    /// Runs this engine's plans on `cpu`: the front ends, cancels and cache hits then keep the
    /// runtime they are served on to themselves.
    pub fn with_plan_runtime(mut self, cpu: tokio::runtime::Handle) -> Self {
        self.plan_runtime = Some(cpu);
        self
    }

    /// Serving or stopping, and the queries running now.
    pub fn lifecycle(&self) -> &Arc<Lifecycle> {
        &self.lifecycle
    }

    /// The executor registry, when queries are distributed.
    pub fn registry(&self) -> Option<&Arc<ExecutorRegistry>> {
        self.cluster.as_ref().map(|c| &c.registry)
    }

    /// Forgets cached catalog listings and table metadata, so the next query sees the latest
    /// snapshots without waiting for the refresh interval.
    pub async fn forget_metadata(&self) {
        self.lake.invalidate().await;
    }

    /// The rules `vars`' user reads under now.
    pub(super) fn access_view(&self, vars: &SessionVars) -> AccessView {
        self.access.view(&vars.user, &vars.groups)
    }

    /// A new session for `principal`, starting in the configured catalog and schema.
    pub fn new_session(&self, principal: Principal) -> Session {
        Session::new(principal, self.lake.name(), self.default_schema.clone())
    }

    /// The dialect of a front end whose protocol implies none (`query.default_dialect`).
    pub fn default_dialect(&self) -> DialectName {
        self.default_dialect
    }

    /// A new session of a `client` that writes `dialect`.
    pub fn session_for(
        &self,
        principal: Principal,
        client: ClientLabel,
        dialect: DialectName,
    ) -> Session {
        self.new_session(principal)
            .with_client(client)
            .with_dialect(dialect)
    }

    /// Classifies, plans and starts one statement. Snapshots are pinned and files planned
    /// before this returns; rows flow as a returned result's stream is polled.
    pub async fn execute(&self, session: &Session, sql: &str) -> Result<Outcome, EngineError> {
        self.execute_with(session, sql, Vec::new()).await
    }

    /// [`Engine::execute`] with values for the statement's parameters (`?` or `$n`), by
    /// position.
    pub async fn execute_with(
        &self,
        session: &Session,
        sql: &str,
        params: Vec<ScalarValue>,
    ) -> Result<Outcome, EngineError> {
        self.execute_expecting(session, sql, params, Expect::Any)
            .await
    }

    /// Runs a statement a client sent as an update (Flight SQL's `CommandStatementUpdate`,
    /// which JDBC uses for `SET` and `USE`): anything that would return rows is refused before
    /// it runs, telling the client to send it as a query.
    pub async fn execute_update(
        &self,
        session: &Session,
        sql: &str,
    ) -> Result<Outcome, EngineError> {
        self.execute_expecting(session, sql, Vec::new(), Expect::NoRows)
            .await
    }

    /// Whether `sql` is one read (a query, `SHOW`, `DESCRIBE`) as `session` writes it,
    /// found without planning it: for saving a query to run later. Bad SQL is an error.
    pub fn is_read(&self, session: &Session, sql: &str) -> Result<bool, EngineError> {
        Ok(matches!(
            self.classify(&session.vars(), sql)?,
            Classified::Read(_)
        ))
    }

    async fn execute_expecting(
        &self,
        session: &Session,
        sql: &str,
        params: Vec<ScalarValue>,
        expect: Expect,
    ) -> Result<Outcome, EngineError> {
        if self.lifecycle.is_stopping() {
            return Err(EngineError::ShuttingDown);
        }
        let id = QueryId::new();
        let span = tracing::info_span!(
            "query",
            query_id = %id,
            user = %session.principal(),
            client = %session.client()
        );
        let tracked = self
            .tracker
            .begin(id, session.principal(), session.client(), sql);
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
        let outcome = async {
            let classified = self.classify(&session.vars(), sql)?;
            self.run_classified(id, session, &access, classified, params, expect)
                .await
        }
        .instrument(span.clone())
        .await;
        match outcome {
            Ok(Outcome::Rows(mut result)) => {
                // Drawn now, and again with its metrics when the rows end; the executed plan
                // is not kept past them (its nodes may hold a join's build side).
                if let Some(plan) = &result.plan {
                    self.tracker
                        .set_plan(id, display_plan_ascii(plan.as_ref(), false));
                }
                if self.tracker.audits() {
                    self.audit_reads(id, &access, &result.snapshots).await;
                }
                let plan = result.plan.clone();
                result.stream = in_span(tracked.watch(result.stream, plan), span);
                Ok(Outcome::Rows(result))
            }
            Ok(other) => {
                tracked.finished();
                Ok(other)
            }
            Err(e) => {
                tracked.failed(&e);
                Err(e)
            }
        }
    }

    /// Runs a classified statement as query `id`.
    async fn run_classified(
        &self,
        id: QueryId,
        session: &Session,
        access: &AccessView,
        classified: Classified,
        params: Vec<ScalarValue>,
        expect: Expect,
    ) -> Result<Outcome, EngineError> {
        tracing::debug!(kind = classified.kind(), "classified");
        let statement = match classified {
            Classified::Command(command) => {
                return self.command(id, session, access, command, expect).await;
            }
            _ if expect == Expect::NoRows => {
                return Err(EngineError::Statement(StatementError::Unsupported {
                    what: "a query sent as an update (send it with CommandStatementQuery)".into(),
                }));
            }
            Classified::Read(statement) => {
                let result = self.read(id, session, access, statement, params).await?;
                return Ok(Outcome::Rows(result));
            }
            Classified::Explain(statement, shown)
                if self.cluster.is_some() || shown != ExplainType::Both =>
            {
                let vars = session.vars();
                let result = self
                    .explain_distributed(id, &vars, access, &statement, &params, shown)
                    .await?;
                return Ok(Outcome::Rows(result));
            }
            Classified::Explain(statement, _) | Classified::ExplainAnalyze(statement) => statement,
        };
        let vars = session.vars();
        let slot = self.admit(id, session, &vars, access).await?;
        let pins = Arc::new(SnapshotPins::default());
        let first = self
            .run_read(id, &vars, access, statement.clone(), &params, pins.clone())
            .await?;
        let run = self.query_run(id, vars, access, statement, params, pins, slot);
        Ok(Outcome::Rows(run.start(first)))
    }

    /// Parses and classifies `sql` in the session's dialect, time travel clauses folded into
    /// table names first and placeholders numbered.
    fn classify(&self, vars: &SessionVars, sql: &str) -> Result<Classified, StatementError> {
        self.sql_limits.check(sql)?;
        let sql = rewrite_time_travel(sql)?;
        let mut classified = self.dialects.get(vars.dialect).parse(&sql, vars)?;
        if let Some(statement) = classified.statement_mut() {
            number_placeholders(statement);
        }
        Ok(classified)
    }
}

/// `batch` as query `id`'s whole result.
pub(super) fn batch_rows(id: QueryId, batch: RecordBatch) -> Result<QueryResult, EngineError> {
    let schema = batch.schema();
    let stream = MemoryStream::try_new(vec![batch], schema.clone(), None)
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    Ok(QueryResult {
        id,
        schema,
        stream: Box::pin(stream),
        plan: None,
        snapshots: Vec::new(),
    })
}

/// Rows of text under `columns`, as query `id`'s result.
pub(super) fn text_rows(
    id: QueryId,
    columns: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<QueryResult, EngineError> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|name| Field::new(*name, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let arrays = (0..columns.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|row| row[i].as_str()),
            )) as _
        })
        .collect();
    let batch =
        RecordBatch::try_new(schema, arrays).map_err(|e| EngineError::Internal(e.to_string()))?;
    batch_rows(id, batch)
}

/// Whether a caller can take rows back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Any,
    /// An update: only statements that return no rows are run.
    NoRows,
}

/// `stream` polled inside `span`, which lasts until the stream is dropped: the query's span
/// (and its trace) covers streaming the rows, and whatever starts while they are read (a
/// scan in this process, a rerun) is its child.
fn in_span(
    mut stream: datafusion::physical_plan::SendableRecordBatchStream,
    span: tracing::Span,
) -> datafusion::physical_plan::SendableRecordBatchStream {
    let schema = stream.schema();
    let polled = futures::stream::poll_fn(move |cx| {
        let _entered = span.enter();
        stream.as_mut().poll_next(cx)
    });
    Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, polled))
}
