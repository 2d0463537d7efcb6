//! Statements the engine answers itself: session variables, `USE`, `SHOW` of a variable,
//! `DESCRIBE` in the dialect's type names, prepared statements and transactions. Each reports
//! what it changed as an [`Outcome`]; none is left to a front end to interpret.

use datafusion::common::ScalarValue;
use datafusion::config::ConfigOptions;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::collect;
use datafusion::sql::sqlparser::ast::Expr;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion_distributed::DistributedConfig;
use lakegate_iceberg::scan::IcebergScanOptions;

use super::outcome::{Outcome, SessionChange, SessionCommand, SessionUpdate};
use super::{Engine, Expect, text_rows};
use crate::access::AccessView;
use crate::error::EngineError;
use crate::query::QueryId;
use crate::session::{DIALECT_SETTING, Session, TIME_ZONE_SETTING, check_setting};
use crate::statement::{Classified, Command, SetVariable, StatementError, classify};

/// Schemas a PostgreSQL `search_path` names that are not lake schemas.
const NOT_LAKE_SCHEMAS: [&str; 3] = ["$user", "public", "pg_catalog"];

impl Engine {
    /// Runs `command` for `session` as query `id`.
    pub(super) async fn command(
        &self,
        id: QueryId,
        session: &Session,
        access: &AccessView,
        command: Command,
        expect: Expect,
    ) -> Result<Outcome, EngineError> {
        let changed = |command: SessionCommand, changes: Vec<SessionChange>| {
            Outcome::SessionChanged(SessionUpdate {
                id,
                command,
                changes,
            })
        };
        match command {
            Command::Set(variable) => {
                let command = if variable.value.is_some() {
                    SessionCommand::Set
                } else {
                    SessionCommand::Reset
                };
                let changes = self.set_variable(session, variable).await?;
                Ok(changed(command, changes))
            }
            Command::Use { catalog, schema } => {
                let changes = self.use_schema(session, catalog, schema).await?;
                Ok(changed(SessionCommand::Use, changes))
            }
            Command::Prepare { name, sql } => {
                runnable(&self.classify(&session.vars(), &sql)?)?;
                session.update(|vars| {
                    vars.prepared.insert(name.clone(), sql.clone());
                });
                Ok(changed(
                    SessionCommand::Prepare,
                    vec![SessionChange::PreparedAdded { name, sql }],
                ))
            }
            Command::Deallocate { name } => {
                let mut known = false;
                session.update(|vars| known = vars.prepared.remove(&name).is_some());
                if !known {
                    return Err(EngineError::UnknownPrepared { name });
                }
                Ok(changed(
                    SessionCommand::Deallocate,
                    vec![SessionChange::PreparedRemoved(name)],
                ))
            }
            Command::Transaction(op) => Ok(Outcome::Transaction { id, op }),
            Command::Show { name } => {
                let vars = session.vars();
                let value = vars.settings.get(&name).cloned().or_else(|| {
                    self.dialects
                        .get(vars.dialect)
                        .variable_default(&name, &vars)
                });
                let value = value.ok_or_else(|| EngineError::Setting {
                    name: name.clone(),
                    message: "no such session variable".into(),
                })?;
                let rows = text_rows(id, &[name.as_str()], vec![vec![value]])?;
                Ok(Outcome::Rows(rows))
            }
            Command::ShowColumns { table } => {
                let name = table
                    .iter()
                    .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(".");
                let described = self
                    .describe(session, &format!("SELECT * FROM {name}"))
                    .await?;
                let dialect = self.dialects.get(session.vars().dialect);
                let rows = described
                    .dataset
                    .fields()
                    .iter()
                    .map(|f| {
                        vec![
                            f.name().clone(),
                            dialect.type_name(f.data_type()),
                            String::new(),
                            String::new(),
                        ]
                    })
                    .collect();
                let rows = text_rows(id, &["Column", "Type", "Extra", "Comment"], rows)?;
                Ok(Outcome::Rows(rows))
            }
            Command::Execute { name, params } => {
                let sql = session
                    .vars()
                    .prepared
                    .get(&name)
                    .cloned()
                    .ok_or(EngineError::UnknownPrepared { name })?;
                self.execute_prepared(id, session, access, &sql, &params, expect)
                    .await
            }
            Command::ExecuteImmediate { sql, params } => {
                self.execute_prepared(id, session, access, &sql, &params, expect)
                    .await
            }
        }
    }

    /// Runs the statement `sql` with the values of `params`, as query `id`.
    async fn execute_prepared(
        &self,
        id: QueryId,
        session: &Session,
        access: &AccessView,
        sql: &str,
        params: &[Expr],
        expect: Expect,
    ) -> Result<Outcome, EngineError> {
        let classified = self.classify(&session.vars(), sql)?;
        runnable(&classified)?;
        let values = self.evaluate(params).await?;
        Box::pin(self.run_classified(id, session, access, classified, values, expect)).await
    }

    /// The values of `EXECUTE ... USING` expressions, computed with no table in reach: Trino's
    /// clients send parameters as literals (`DATE '2024-01-31'`, `DOUBLE '0.5'`, `X'00ff'`).
    async fn evaluate(&self, params: &[Expr]) -> Result<Vec<ScalarValue>, EngineError> {
        if params.is_empty() {
            return Ok(Vec::new());
        }
        let list = params
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let refuse = |message: String| EngineError::Parameter {
            message: format!("USING {list}: {message}"),
        };
        let Classified::Read(statement) = classify(&format!("SELECT {list}"), &GenericDialect {})?
        else {
            return Err(refuse("not a list of values".into()));
        };
        // No catalog at all: the expressions can only be constants.
        let state = SessionStateBuilder::new()
            .with_config(self.config.clone())
            .with_default_features()
            .build();
        let plan = state
            .statement_to_plan(statement)
            .await
            .map_err(|e| refuse(e.message().to_string()))?;
        let physical = state
            .create_physical_plan(&plan)
            .await
            .map_err(|e| refuse(e.message().to_string()))?;
        let batches = collect(physical, state.task_ctx())
            .await
            .map_err(|e| refuse(e.message().to_string()))?;
        let batch = batches
            .first()
            .filter(|b| b.num_rows() == 1)
            .ok_or_else(|| refuse("not one value per parameter".into()))?;
        batch
            .columns()
            .iter()
            .map(|column| ScalarValue::try_from_array(column, 0).map_err(|e| refuse(e.to_string())))
            .collect()
    }

    /// Sets (or with `None` clears) session variable `name`, checking its value as `SET`
    /// does: for clients that send session variables outside SQL (Trino's headers).
    pub fn set(
        &self,
        session: &Session,
        name: &str,
        value: Option<String>,
    ) -> Result<(), EngineError> {
        self.apply_setting(
            session,
            SetVariable {
                name: name.to_string(),
                value,
            },
        )
        .map(|_| ())
    }

    /// `SET name = value` / `RESET name`. PostgreSQL's `search_path` also moves the session
    /// to the first lake schema it names (checked to exist).
    async fn set_variable(
        &self,
        session: &Session,
        variable: SetVariable,
    ) -> Result<Vec<SessionChange>, EngineError> {
        let mut changes = Vec::new();
        if variable.name == "search_path"
            && let Some(value) = &variable.value
            && let Some(schema) = value
                .split(',')
                .map(|s| s.trim().trim_matches(['\'', '"']))
                .find(|s| !s.is_empty() && !NOT_LAKE_SCHEMAS.contains(s))
        {
            changes = self.use_schema(session, None, schema.to_string()).await?;
        }
        changes.push(self.apply_setting(session, variable)?);
        Ok(changes)
    }

    fn apply_setting(
        &self,
        session: &Session,
        variable: SetVariable,
    ) -> Result<SessionChange, EngineError> {
        let SetVariable { name, value } = variable;
        if let Some(value) = &value {
            check_setting(&name, value).map_err(|message| EngineError::Setting {
                name: name.clone(),
                message,
            })?;
        }
        let engine_option = ["datafusion.", "distributed.", "iceberg_scan."]
            .iter()
            .any(|prefix| name.starts_with(prefix));
        if let (true, Some(value)) = (engine_option, &value) {
            // Reject a bad value now rather than on every later query.
            let mut options = ConfigOptions::default();
            options.extensions.insert(DistributedConfig::default());
            options.extensions.insert(IcebergScanOptions::default());
            options
                .set(&name, value)
                .map_err(|e| EngineError::Setting {
                    name: name.clone(),
                    message: e.message().to_string(),
                })?;
        }
        if name == DIALECT_SETTING {
            session.update(|vars| {
                vars.dialect = match &value {
                    Some(value) => value.parse().unwrap_or(vars.dialect),
                    None => vars.home_dialect,
                }
            });
        }
        let change = match &value {
            Some(value) if name == TIME_ZONE_SETTING => SessionChange::TimeZone(value.clone()),
            Some(value) => SessionChange::Setting {
                name: name.clone(),
                value: value.clone(),
            },
            None => SessionChange::SettingCleared(name.clone()),
        };
        session.update(|vars| match value {
            Some(value) => {
                vars.settings.insert(name, value);
            }
            None => {
                vars.settings.remove(&name);
            }
        });
        Ok(change)
    }

    async fn use_schema(
        &self,
        session: &Session,
        catalog: Option<String>,
        schema: String,
    ) -> Result<Vec<SessionChange>, EngineError> {
        let catalog = catalog.unwrap_or_else(|| session.vars().catalog);
        if catalog != self.lake.name() {
            return Err(EngineError::UnknownSchema { catalog, schema });
        }
        if !schema.is_empty() && !self.lake.listing().await?.schemas.contains_key(&schema) {
            return Err(EngineError::UnknownSchema { catalog, schema });
        }
        let mut changes = vec![SessionChange::Catalog(catalog.clone())];
        session.update(|vars| {
            vars.catalog = catalog;
            if !schema.is_empty() {
                vars.schema = schema;
            }
            changes.push(SessionChange::Schema(vars.schema.clone()));
        });
        Ok(changes)
    }
}

/// Whether a prepared statement may run: any statement but one that prepares or executes
/// another (which could name itself).
fn runnable(classified: &Classified) -> Result<(), EngineError> {
    match classified {
        Classified::Command(
            Command::Prepare { .. }
            | Command::Execute { .. }
            | Command::ExecuteImmediate { .. }
            | Command::Deallocate { .. },
        ) => Err(EngineError::Statement(StatementError::Unsupported {
            what: "a prepared statement that prepares or executes another".into(),
        })),
        _ => Ok(()),
    }
}
