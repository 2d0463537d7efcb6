//! Reads: planned against pinned snapshots, answered through the result cache, started under
//! a [`QueryRun`]; `EXPLAIN` on a cluster shows the distributed plan the same planning makes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionState};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion_distributed::{NetworkBoundaryExt, display_plan_ascii};
use lakegate_executor::cpu::run_on;
use lakegate_iceberg::IcebergScanExec;
use lakegate_iceberg::scan::HiddenColumn;
use lakegate_iceberg::scan::IcebergScanOptions;

use tracing::Instrument;

use super::panics::{caught, caught_sync};
use super::run::{QueryRun, Replan};
use super::unknown;
use super::{Engine, batch_rows, text_rows};
use crate::access::AccessView;
use crate::admission::{AdmissionError, Requester, Slot};
use crate::cache::{CachedResult, Planned as CachePlanned, ReadThrough};
use crate::catalog::{SnapshotId, SnapshotPins, TableRef};
use crate::error::EngineError;
use crate::query::{QueryId, QueryResult};
use crate::session::{Session, SessionVars};
use crate::statement::{Classified, ExplainType, explained};

impl Engine {
    /// The snapshot of every table `sql` would read if it ran now, found by planning it (no
    /// scan starts): what a dashboard's ETag is made of.
    pub async fn snapshots_now(
        &self,
        session: &Session,
        sql: &str,
        params: &[ScalarValue],
    ) -> Result<Vec<(TableRef, Option<SnapshotId>)>, EngineError> {
        let vars = session.vars();
        let Classified::Read(statement) = self.classify(&vars, sql)? else {
            return Ok(Vec::new());
        };
        let planned = self
            .plan_read(
                QueryId::new(),
                &vars,
                &self.access_view(&vars),
                statement,
                params,
                Arc::default(),
            )
            .await?;
        Ok(planned.pins.snapshots())
    }

    /// Plans `sql` without running it: the schema of its rows and of its parameters, for a
    /// prepared statement.
    pub async fn describe(&self, session: &Session, sql: &str) -> Result<Described, EngineError> {
        let vars = session.vars();
        let (Classified::Read(statement)
        | Classified::Explain(statement, _)
        | Classified::ExplainAnalyze(statement)) = self.classify(&vars, sql)?
        else {
            return Ok(Described {
                dataset: Arc::new(Schema::empty()),
                parameters: Arc::new(Schema::empty()),
            });
        };
        let hidden = names_hidden_columns(&statement);
        let access = self.access_view(&vars);
        let state = self
            .query_state(QueryId::new(), &vars, &access, Arc::default(), hidden)
            .await?;
        let plan = to_plan(&state, statement).await?;
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
        Ok(Described {
            dataset: Arc::new(plan.schema().as_arrow().clone()),
            parameters: Arc::new(Schema::new(
                fields.into_iter().map(|(_, f)| f).collect::<Vec<_>>(),
            )),
        })
    }

    /// A read answered from the result cache when it can be: a stored result, or the
    /// batches of an identical query running now; otherwise run (and stored when it fits).
    pub(super) async fn read(
        &self,
        id: QueryId,
        session: &Session,
        access: &AccessView,
        statement: DfStatement,
        params: Vec<ScalarValue>,
    ) -> Result<QueryResult, EngineError> {
        let vars = session.vars();
        let through = ReadThrough::new(self.cache.as_ref(), &statement, &params, &vars);
        // A repeat of a cached statement: its tables' current snapshots and what the caller
        // may read of them give the key, and a stored result is returned without planning.
        // A table the caller may not read gives no key: planning refuses it below.
        let max_age = vars.max_staleness();
        if let Some(through) = &through
            && let Some(hit) = through
                .before_planning(|tables| async move {
                    let snapshots = self.current_snapshots(&tables, max_age).await?;
                    let policy = self.policy_key(access, &tables).await?;
                    Some((snapshots, policy))
                })
                .await
        {
            return self.cache_hit(id, &hit);
        }
        // Only queries that run wait for a slot: the cache hit above took none.
        let slot = self.admit(id, session, &vars, access).await?;
        let planned = self
            .plan_read(
                id,
                &vars,
                access,
                statement.clone(),
                &params,
                Arc::default(),
            )
            .await?;
        let snapshots = planned.pins.snapshots();
        let mut leader = None;
        if let Some(through) = through {
            let tables: Vec<TableRef> = snapshots.iter().map(|(t, _)| t.clone()).collect();
            let policy = self.policy_key(access, &tables).await;
            match through
                .after_planning(&planned.plan, tables, &snapshots, policy)
                .await
            {
                CachePlanned::Stored(hit) => return self.cache_hit(id, &hit),
                CachePlanned::Joined(stream) => {
                    tracing::debug!("joined an identical running query");
                    self.tracker.annotate(id, |d| d.cache_hit = true);
                    return Ok(QueryResult {
                        id,
                        schema: stream.schema(),
                        stream,
                        plan: None,
                        snapshots,
                    });
                }
                CachePlanned::Lead(lead) => leader = Some(lead),
                CachePlanned::Uncached => {}
            }
        }
        let pins = planned.pins.clone();
        let first = self.start_planned(id, planned).await?;
        let mut run = self.query_run(id, vars, access, statement, params, pins, slot);
        run.leader = leader;
        Ok(run.start(first))
    }

    /// The run of query `id` that plans `statement` again, at the snapshots `pins` holds, when
    /// it must be rerun: a rerun reads what the first run read.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn query_run(
        &self,
        id: QueryId,
        vars: SessionVars,
        access: &AccessView,
        statement: DfStatement,
        params: Vec<ScalarValue>,
        pins: Arc<SnapshotPins>,
        slot: Option<Slot>,
    ) -> QueryRun {
        let engine = self.clone();
        let again = Arc::new((vars, access.clone(), statement, params, pins));
        let replan: Replan = Box::new(move || {
            let engine = engine.clone();
            let again = again.clone();
            Box::pin(async move {
                let (vars, access, statement, params, pins) = again.as_ref();
                engine
                    .run_read(id, vars, access, statement.clone(), params, pins.clone())
                    .await
            })
        });
        QueryRun {
            registry: self.registry().cloned(),
            limits: self.limits,
            replan,
            slot,
            leader: None,
            reruns: self.reruns.clone(),
        }
    }

    /// Query `id` answered from a stored result.
    fn cache_hit(&self, id: QueryId, hit: &CachedResult) -> Result<QueryResult, EngineError> {
        tracing::debug!("cache hit");
        self.tracker.annotate(id, |d| d.cache_hit = true);
        hit.answer(id).map_err(EngineError::planning)
    }

    /// Waits for query `id`'s slot in its resource group (shown as QUEUED meanwhile), or
    /// refuses it when the group's queue is full.
    pub(super) async fn admit(
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

    /// Plans `statement` with the session variables `vars`, its tables at the snapshots in
    /// `pins` (those not pinned yet at their current ones), and starts it.
    pub(super) async fn run_read(
        &self,
        id: QueryId,
        vars: &SessionVars,
        access: &AccessView,
        statement: DfStatement,
        params: &[ScalarValue],
        pins: Arc<SnapshotPins>,
    ) -> Result<QueryResult, EngineError> {
        let planned = self
            .plan_read(id, vars, access, statement, params, pins)
            .await?;
        self.start_planned(id, planned).await
    }

    /// The logical plan of a read, its tables' snapshots pinned in `pins`.
    async fn plan_read(
        &self,
        id: QueryId,
        vars: &SessionVars,
        access: &AccessView,
        statement: DfStatement,
        params: &[ScalarValue],
        pins: Arc<SnapshotPins>,
    ) -> Result<Planned, EngineError> {
        let hidden = names_hidden_columns(&statement);
        let mut state = self
            .query_state(id, vars, access, pins.clone(), hidden)
            .await?;
        let plan = to_plan(&state, statement)
            .instrument(tracing::info_span!("plan"))
            .await?;
        let plan = bind(plan, params)?;
        // The classifier already refused writes; this checks the plan DataFusion built agrees.
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(EngineError::planning)?;
        if calls_lambdas(&plan) {
            run_on_coordinator(&mut state);
        }
        Ok(Planned { state, plan, pins })
    }

    /// Plans the execution of a planned read and starts it.
    async fn start_planned(
        &self,
        id: QueryId,
        planned: Planned,
    ) -> Result<QueryResult, EngineError> {
        let Planned { state, plan, pins } = planned;
        let physical = caught(state.create_physical_plan(&plan))
            .await
            .map_err(EngineError::planning)?;
        self.scans.count(&physical);
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
        let execute = || execute_stream(physical.clone(), state.task_ctx());
        let stream = match &self.plan_runtime {
            Some(cpu) => {
                let cancelled = self.tracker.cancel_signal(id);
                let stopped = async move {
                    cancelled.await;
                    let query = id.to_string();
                    DataFusionError::External(Box::new(EngineError::Cancelled { query }))
                };
                run_on(cpu, execute, stopped)
            }
            None => execute(),
        }
        .map_err(EngineError::planning)?;
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
    /// the plan it would really run, stage by stage: both plans, or the one `shown` asks for.
    pub(super) async fn explain_distributed(
        &self,
        id: QueryId,
        vars: &SessionVars,
        access: &AccessView,
        statement: &DfStatement,
        params: &[ScalarValue],
        shown: ExplainType,
    ) -> Result<QueryResult, EngineError> {
        let inner = explained(statement)
            .ok_or_else(|| EngineError::Internal("EXPLAIN without a statement".into()))?;
        let Planned { state, plan, pins } = self
            .plan_read(id, vars, access, inner, params, Arc::default())
            .await?;
        let logical = caught_sync(|| state.optimize(&plan)).map_err(EngineError::planning)?;
        let physical = caught(state.create_physical_plan(&logical))
            .await
            .map_err(EngineError::planning)?;
        let logical_text = || logical.display_indent().to_string();
        let distributed_text = || {
            format!(
                "{}\n{}",
                execution_path(&physical),
                display_plan_ascii(physical.as_ref(), false)
            )
        };
        let mut result = match shown {
            ExplainType::Both => text_rows(
                id,
                &["plan_type", "plan"],
                vec![
                    vec!["logical_plan".into(), logical_text()],
                    vec!["distributed_plan".into(), distributed_text()],
                ],
            )?,
            ExplainType::Logical => text_rows(id, &["Query Plan"], vec![vec![logical_text()]])?,
            ExplainType::Distributed => {
                text_rows(id, &["Query Plan"], vec![vec![distributed_text()]])?
            }
            ExplainType::Validate => {
                let schema = Arc::new(Schema::new(vec![Field::new(
                    "Valid",
                    DataType::Boolean,
                    false,
                )]));
                let valid = BooleanArray::from(vec![true]);
                let batch = RecordBatch::try_new(schema, vec![Arc::new(valid)])
                    .map_err(|e| EngineError::Internal(e.to_string()))?;
                batch_rows(id, batch)?
            }
        };
        result.snapshots = pins.snapshots();
        Ok(result)
    }
}

/// The first line of EXPLAIN's distributed plan: whether the plan runs whole on the
/// coordinator (every stage fits one task: its scans are small, or local mode's executors
/// share the coordinator's cores) or in stages on the executors, and how many.
fn execution_path(plan: &Arc<dyn ExecutionPlan>) -> String {
    let (mut stages, mut tasks) = (0, 0);
    let _ = plan.apply(|node| {
        if let Some(boundary) = node.as_network_boundary() {
            stages += 1;
            tasks += boundary.input_stage().task_count();
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if stages == 0 {
        "Path: single stage on the coordinator, no shuffle".into()
    } else {
        format!(
            "Path: distributed, {stages} stages on executors ({tasks} tasks) below the coordinator's"
        )
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

/// Whether the plan evaluates a lambda (`transform(a, x -> ...)`) anywhere.
fn calls_lambdas(plan: &LogicalPlan) -> bool {
    plan.exists(|node| {
        Ok(node.expressions().iter().any(|expr| {
            expr.exists(|e| Ok(matches!(e, Expr::HigherOrderFunction(_))))
                .unwrap_or(false)
        }))
    })
    .unwrap_or(false)
}

/// Plan fragments cannot carry a lambda to an executor (datafusion-proto 54 has no encoding
/// for higher-order functions), so a query calling one reads its scans in one task, which
/// keeps every operator in the coordinator's own stage.
fn run_on_coordinator(state: &mut SessionState) {
    let options = state.config_mut().options_mut();
    let mut scan = options
        .extensions
        .get::<IcebergScanOptions>()
        .cloned()
        .unwrap_or_default();
    scan.bytes_per_task = usize::MAX;
    options.extensions.insert(scan);
}

/// Plans a statement. DataFusion says a table is unknown only in its message, so when planning
/// fails the catalog is asked whether each table the statement names exists: a missing one is
/// the error the user needs, whatever the planner's text.
async fn to_plan(state: &SessionState, statement: DfStatement) -> Result<LogicalPlan, EngineError> {
    let references = state
        .resolve_table_references(&statement)
        .unwrap_or_default();
    let calls = unknown::called_functions(&statement);
    let err = match caught(state.statement_to_plan(statement)).await {
        Ok(plan) => return Ok(plan),
        Err(err) => EngineError::planning(err),
    };
    let EngineError::Plan { position, .. } = &err else {
        return Err(err);
    };
    let defaults = &state.config_options().catalog;
    for reference in references {
        let resolved = reference.resolve(&defaults.default_catalog, &defaults.default_schema);
        let exists = match state.schema_for_ref(resolved.clone()) {
            Ok(schema) => !matches!(schema.table(&resolved.table).await, Ok(None)),
            Err(_) => false,
        };
        if !exists {
            return Err(EngineError::UnknownTable {
                name: resolved.to_string(),
                position: *position,
            });
        }
    }
    Err(unknown::unknown_function(state, &calls).unwrap_or(err))
}

/// Data files the scans of planned queries read and left out, for `/metrics`.
#[derive(Debug, Default)]
pub struct ScanFiles {
    planned: AtomicU64,
    pruned: AtomicU64,
}

impl ScanFiles {
    /// `(read, left out by planning)` over every query planned.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.planned.load(Ordering::Relaxed),
            self.pruned.load(Ordering::Relaxed),
        )
    }

    fn count(&self, plan: &Arc<dyn ExecutionPlan>) {
        let _ = plan.apply(|node| {
            if let Some(scan) = node.downcast_ref::<IcebergScanExec>() {
                self.planned
                    .fetch_add(scan.file_count() as u64, Ordering::Relaxed);
                self.pruned
                    .fetch_add(scan.files_pruned() as u64, Ordering::Relaxed);
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
}
