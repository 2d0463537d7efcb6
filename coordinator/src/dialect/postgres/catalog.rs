//! `pg_catalog` over the lake, and the PostgreSQL catalog functions clients call.
//!
//! The tables come from `datafusion-pg-catalog`: `pg_class`, `pg_namespace`, `pg_attribute`
//! and `pg_database` are generated from the lake's listing and table schemas, the rest
//! (`pg_type`, `pg_am`, `pg_settings`, ...) are PostgreSQL's own contents. One [`PgCatalog`]
//! lives as long as the engine: it numbers every schema and table (their oids) once, and psql
//! looks a table's oid up in one query and reads its columns by that oid in the next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, ListBuilder, StringBuilder, StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, SchemaRef};
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::empty::EmptyTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::planner::TypePlanner;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, TableType, Volatility, create_udf};
use datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::oid_type_planner::PgOidTypePlanner;
use datafusion_pg_catalog::pg_catalog::{
    self as pg, PgCatalogSchemaProvider, PgCatalogStaticTables, array_bounds_udf, format_type,
    has_privilege_udf, pg_get_expr_udf, quote_ident_udf,
};

use crate::access::{AccessControl, AccessView, Subject};
use crate::catalog::{Lake, LakeCatalogProvider, Listing, visible_listing};
use crate::session::SessionVars;

/// The schema PostgreSQL clients find the system catalog in.
pub const PG_CATALOG_SCHEMA: &str = "pg_catalog";

/// The server version PostgreSQL clients are told (they choose their catalog queries by it).
pub const SERVER_VERSION: &str = "16.0";

/// `pg_catalog` for one lake, and the catalog functions that do not depend on the session.
///
/// Under access control each user (with their groups) has their own `pg_catalog`, listing only
/// what they may read; its oids stay stable for as long as the engine lives, as one shared
/// `pg_catalog`'s would.
#[derive(Debug)]
pub struct PgCatalog {
    lake: Arc<Lake>,
    access: Arc<AccessControl>,
    /// Made on the first PostgreSQL query: loading PostgreSQL's static tables takes a moment
    /// that engines without PostgreSQL clients need not spend.
    built: Mutex<Option<Arc<Built>>>,
    /// `pg_catalog` per subject (user and groups); one entry without access control.
    schemas: Mutex<HashMap<String, Arc<dyn SchemaProvider>>>,
}

#[derive(Debug)]
struct Built {
    static_tables: Arc<PgCatalogStaticTables>,
    keywords: Arc<dyn TableFunctionImpl>,
    functions: Vec<Arc<ScalarUDF>>,
}

impl PgCatalog {
    pub fn new(lake: Arc<Lake>, access: Arc<AccessControl>) -> Self {
        Self {
            lake,
            access,
            built: Mutex::new(None),
            schemas: Mutex::new(HashMap::new()),
        }
    }

    fn built(&self) -> Result<Arc<Built>> {
        let mut slot = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(built) = slot.as_ref() {
            return Ok(built.clone());
        }
        let static_tables = Arc::new(PgCatalogStaticTables::try_new()?);
        let built = Arc::new(Built {
            keywords: static_tables.pg_get_keywords.clone(),
            static_tables,
            functions: fixed_functions().into_iter().map(Arc::new).collect(),
        });
        *slot = Some(built.clone());
        Ok(built)
    }

    /// The `pg_catalog` schema `access`'s subject sees.
    fn schema_for(&self, access: &AccessView) -> Result<Arc<dyn SchemaProvider>> {
        let subject = access.subject();
        let key = if self.access.is_configured() {
            format!("{}\u{0}{:?}", subject.user, subject.groups)
        } else {
            String::new()
        };
        let mut schemas = self.schemas.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(schema) = schemas.get(&key) {
            return Ok(schema.clone());
        }
        let schema = PgCatalogSchemaProvider::try_new(
            LakeTables {
                lake: self.lake.clone(),
                access: self.access.clone(),
                subject: subject.clone(),
            },
            self.built()?.static_tables.clone(),
            EmptyContextProvider,
        )?;
        let schema: Arc<dyn SchemaProvider> = Arc::new(WithoutSystemIndexes(Arc::new(schema)));
        schemas.insert(key, schema.clone());
        Ok(schema)
    }

    /// `catalog` with `pg_catalog` as one more schema, as `access`'s subject sees it.
    pub fn around(
        &self,
        catalog: Arc<dyn CatalogProvider>,
        access: &AccessView,
    ) -> Result<Arc<dyn CatalogProvider>> {
        Ok(Arc::new(WithPgCatalog {
            inner: catalog,
            pg_catalog: self.schema_for(access)?,
        }))
    }

    /// Lets the SQL planner read PostgreSQL's object-id alias types (`regclass`, `regtype`,
    /// ...) as the integers they are.
    pub fn type_planner() -> Arc<dyn TypePlanner> {
        Arc::new(PgOidTypePlanner)
    }

    /// Registers PostgreSQL's catalog functions in `state`, those naming the session's user,
    /// database and schema answering for `vars`.
    pub fn register_functions(&self, state: &mut SessionState, vars: &SessionVars) -> Result<()> {
        let built = self.built()?;
        for function in &built.functions {
            state.register_udf(function.clone())?;
        }
        for function in session_functions(vars) {
            state.register_udf(Arc::new(function))?;
        }
        state.register_udtf("pg_get_keywords", built.keywords.clone());
        Ok(())
    }
}

/// The catalog functions whose answers do not depend on the session: `datafusion-pg-catalog`'s
/// and our `_pg_expandarray`.
fn fixed_functions() -> Vec<ScalarUDF> {
    vec![
        pg::create_pg_get_userbyid_udf(),
        has_privilege_udf::create_has_privilege_udf("has_table_privilege"),
        has_privilege_udf::create_has_privilege_udf("has_schema_privilege"),
        has_privilege_udf::create_has_privilege_udf("has_database_privilege"),
        has_privilege_udf::create_has_privilege_udf("has_any_column_privilege"),
        pg::create_pg_table_is_visible(),
        format_type::create_format_type_udf(),
        pg_get_expr_udf::create_pg_get_expr_udf(),
        pg::create_pg_get_partkeydef_udf(),
        pg::create_pg_relation_is_publishable_udf(),
        pg::create_pg_get_statisticsobjdef_columns_udf(),
        pg::create_pg_encoding_to_char_udf(),
        pg::create_pg_backend_pid_udf(),
        pg::create_pg_relation_size_udf(),
        pg::create_pg_total_relation_size_udf(),
        pg::create_pg_stat_get_numscans(),
        pg::create_pg_get_constraintdef(),
        pg::create_pg_get_partition_ancestors_udf(),
        quote_ident_udf::create_quote_ident_udf(),
        quote_ident_udf::create_parse_ident_udf(),
        array_bounds_udf::create_array_upper_udf(),
        array_bounds_udf::create_array_lower_udf(),
        expand_array(),
    ]
}

/// `information_schema._pg_expandarray(int2vector)`, which PgJDBC's `getPrimaryKeys` and
/// `getIndexInfo` call on `pg_index.indkey`, as a scalar function giving the `(x, n)` record of
/// a one-element key. PostgreSQL's is set-returning; here it only ever sees the keys of indexes
/// of lake tables, and the lake has none, so those calls plan and answer no rows. A key of
/// several columns is an error, never a wrong row.
fn expand_array() -> ScalarUDF {
    let fields = Fields::from(vec![
        Field::new("x", DataType::Int32, true),
        Field::new("n", DataType::Int32, true),
    ]);
    let return_type = DataType::Struct(fields.clone());
    let expand = move |args: &[ColumnarValue]| -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let keys = arrays
            .first()
            .ok_or_else(|| DataFusionError::Plan("_pg_expandarray takes one argument".into()))?;
        let keys = arrow::compute::cast(keys, &DataType::Utf8)?;
        let keys = keys.as_string::<i32>();
        let (mut xs, mut ns) = (
            Vec::with_capacity(keys.len()),
            Vec::with_capacity(keys.len()),
        );
        for row in 0..keys.len() {
            let items: Vec<&str> = if keys.is_null(row) {
                Vec::new()
            } else {
                keys.value(row).split_whitespace().collect()
            };
            match items.as_slice() {
                [] => {
                    xs.push(None);
                    ns.push(None);
                }
                [one] => {
                    let x = one.parse::<i32>().map_err(|_| {
                        DataFusionError::Execution(format!("_pg_expandarray: {one:?} is not a key"))
                    })?;
                    xs.push(Some(x));
                    ns.push(Some(1));
                }
                _ => {
                    return Err(DataFusionError::NotImplemented(format!(
                        "_pg_expandarray over a key of {} columns",
                        items.len()
                    )));
                }
            }
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(xs)),
            Arc::new(Int32Array::from(ns)),
        ];
        Ok(ColumnarValue::Array(Arc::new(StructArray::try_new(
            fields.clone(),
            columns,
            None,
        )?)))
    };
    create_udf(
        "_pg_expandarray",
        vec![DataType::Utf8],
        return_type,
        Volatility::Immutable,
        Arc::new(expand),
    )
}

/// `current_user`, `current_database()`, `current_schema()`, `current_schemas(bool)` and
/// `version()` as this session sees them.
fn session_functions(vars: &SessionVars) -> Vec<ScalarUDF> {
    let schema = vars.schema.clone();
    let current_schemas = move |args: &[ColumnarValue]| -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let implicit = arrays
            .first()
            .ok_or_else(|| DataFusionError::Plan("current_schemas takes a boolean".into()))?
            .as_boolean_opt()
            .ok_or_else(|| DataFusionError::Plan("current_schemas takes a boolean".into()))?;
        let mut lists = ListBuilder::new(StringBuilder::new());
        for row in 0..implicit.len() {
            if implicit.is_valid(row) && implicit.value(row) {
                lists.values().append_value(PG_CATALOG_SCHEMA);
            }
            lists.values().append_value(&schema);
            lists.append(true);
        }
        let lists: ArrayRef = Arc::new(lists.finish());
        Ok(ColumnarValue::Array(lists))
    };
    vec![
        text_constant("session_user", &vars.user),
        text_constant("current_user", &vars.user),
        text_constant("current_database", &vars.catalog),
        text_constant("current_catalog", &vars.catalog),
        text_constant("current_schema", &vars.schema),
        text_constant(
            "version",
            &format!(
                "PostgreSQL {SERVER_VERSION} (lakegate {}, a read-only gateway over an Iceberg lake)",
                env!("CARGO_PKG_VERSION")
            ),
        ),
        create_udf(
            "current_schemas",
            vec![DataType::Boolean],
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            Volatility::Stable,
            Arc::new(current_schemas),
        ),
    ]
}

/// A function of no arguments that answers `value`.
fn text_constant(name: &str, value: &str) -> ScalarUDF {
    let value = ScalarValue::Utf8(Some(value.to_string()));
    create_udf(
        name,
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_: &[ColumnarValue]| Ok(ColumnarValue::Scalar(value.clone()))),
    )
}

/// A catalog with `pg_catalog` next to its own schemas.
#[derive(Debug)]
struct WithPgCatalog {
    inner: Arc<dyn CatalogProvider>,
    pg_catalog: Arc<dyn SchemaProvider>,
}

impl CatalogProvider for WithPgCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.inner.schema_names();
        names.push(PG_CATALOG_SCHEMA.to_string());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == PG_CATALOG_SCHEMA {
            Some(self.pg_catalog.clone())
        } else {
            self.inner.schema(name)
        }
    }
}

/// `pg_catalog` with `pg_index` empty: the crate's copy lists the indexes of a real
/// PostgreSQL's system tables, relations that do not exist here (lake tables have no indexes).
/// Left in, they would only make index lookups (PgJDBC's `getPrimaryKeys`) evaluate keys of
/// nothing.
#[derive(Debug)]
struct WithoutSystemIndexes(Arc<dyn SchemaProvider>);

#[async_trait]
impl SchemaProvider for WithoutSystemIndexes {
    fn table_names(&self) -> Vec<String> {
        self.0.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let table = self.0.table(name).await?;
        if name != "pg_index" {
            return Ok(table);
        }
        Ok(table.map(|t| Arc::new(EmptyTable::new(t.schema())) as Arc<dyn TableProvider>))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.0.table_exist(name)
    }
}

/// The lake's schemas and tables as `pg_class`, `pg_namespace` and `pg_attribute` list them
/// to one subject: those the access control rules in force let them read.
#[derive(Debug, Clone)]
struct LakeTables {
    lake: Arc<Lake>,
    access: Arc<AccessControl>,
    subject: Subject,
}

impl LakeTables {
    fn view(&self) -> AccessView {
        self.access.view(&self.subject.user, &self.subject.groups)
    }

    async fn listing(&self) -> Result<Arc<Listing>> {
        let listing = self
            .lake
            .listing()
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Arc::new(visible_listing(
            &listing,
            self.lake.name(),
            &self.view(),
        )))
    }

    fn is_lake(&self, catalog: &str) -> bool {
        catalog == self.lake.name()
    }
}

#[async_trait]
impl CatalogInfo for LakeTables {
    async fn catalog_names(&self) -> Result<Vec<String>> {
        Ok(vec![self.lake.name().to_string()])
    }

    async fn schema_names(&self, catalog: &str) -> Result<Option<Vec<String>>> {
        if !self.is_lake(catalog) {
            return Ok(None);
        }
        Ok(Some(
            self.listing().await?.schemas.keys().cloned().collect(),
        ))
    }

    async fn table_names(&self, catalog: &str, schema: &str) -> Result<Option<Vec<String>>> {
        if !self.is_lake(catalog) {
            return Ok(None);
        }
        Ok(self.listing().await?.schemas.get(schema).cloned())
    }

    async fn table_schema(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<SchemaRef>> {
        if !self.is_lake(catalog) {
            return Ok(None);
        }
        let lake = LakeCatalogProvider::new(
            self.lake.clone(),
            self.listing().await?,
            Arc::default(),
            Duration::ZERO,
        )
        .with_access(self.view());
        let Some(provider) = lake.schema(schema) else {
            return Ok(None);
        };
        // One table whose metadata cannot be read must not hide every other table from a
        // client's catalog browser: it is left out, and the log says why.
        match provider.table(table).await {
            Ok(table) => Ok(table.map(|t| t.schema())),
            Err(e) => {
                tracing::warn!(schema, table, error = %e, "table left out of pg_catalog");
                Ok(None)
            }
        }
    }

    async fn table_type(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<TableType>> {
        let exists = self
            .table_names(catalog, schema)
            .await?
            .is_some_and(|tables| tables.iter().any(|t| t == table));
        Ok(exists.then_some(TableType::Base))
    }
}
