//! The TPC-H lake each test binary writes once, the engine over it, and the single-node
//! DataFusion baseline over the same Parquet files.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::TryStreamExt;
use iceberg::Catalog;
use lakegate::tpch::{TpchOptions, lake_config, write_lake};
use lakegate_coordinator::catalog::connect_catalog;
use lakegate_coordinator::{Config, Engine, Principal, Session};
use tokio::sync::OnceCell;

/// Scale of the lake the tests query.
pub const TEST_SCALE: f64 = 0.01;

/// A lake written for the tests, deleted when the test binary exits.
pub struct TestLake {
    _dir: tempfile::TempDir,
    pub warehouse: PathBuf,
}

impl TestLake {
    /// Writes a fresh TPC-H lake (for tests that change it).
    pub async fn write(scale: f64) -> TestLake {
        let dir = tempfile::tempdir().expect("temp dir");
        let warehouse = dir.path().join("lake");
        let options = TpchOptions {
            scale,
            warehouse: warehouse.clone(),
            namespace: "tpch".into(),
            catalog_name: "lake".into(),
            overwrite: false,
        };
        write_lake(&options, |_| {})
            .await
            .expect("write TPC-H lake");
        TestLake {
            _dir: dir,
            warehouse,
        }
    }

    pub fn config(&self) -> Config {
        lake_config(&self.warehouse, "lake")
    }

    pub async fn engine(&self) -> Engine {
        Engine::connect(&self.config(), None)
            .await
            .expect("engine connects")
    }

    /// Commits a new snapshot of `lineitem` with more rows (a fast append through the iceberg
    /// crate, as a writer would); returns how many.
    pub async fn append_lineitems(&self) -> usize {
        let catalog = self.catalog().await;
        let ident = iceberg::TableIdent::from_strs(["tpch", "lineitem"]).expect("ident");
        let table = catalog.load_table(&ident).await.expect("load");
        let schema = lakegate::tpch::arrow_schema_with_ids(&table).expect("schema");
        let extra = lakegate::tpch::TpchTable::LineItem
            .generate(0.01, 1, 4, schema, 8192)
            .expect("rows");
        let appended = extra.iter().map(|b| b.num_rows()).sum();
        lakegate::tpch::append_batches(catalog.as_ref(), &table, extra)
            .await
            .expect("append commits");
        appended
    }

    pub async fn catalog(&self) -> Arc<dyn Catalog> {
        connect_catalog(&self.config(), false)
            .await
            .expect("catalog connects")
    }
}

/// The shared read-only lake of this test binary, written on first use.
pub async fn shared_lake() -> &'static TestLake {
    static LAKE: OnceCell<TestLake> = OnceCell::const_new();
    LAKE.get_or_init(|| TestLake::write(TEST_SCALE)).await
}

pub fn session(engine: &Engine) -> Session {
    engine.new_session(Principal::new("test"))
}

/// Runs `sql` through the engine and collects every batch.
pub async fn engine_rows(engine: &Engine, session: &Session, sql: &str) -> Vec<RecordBatch> {
    let result = engine
        .execute(session, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"))
        .into_result();
    result
        .stream
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed while streaming: {e}"))
}

/// Single-node DataFusion over the data files of each table's current snapshot.
pub async fn baseline_context(lake: &TestLake) -> SessionContext {
    let catalog = lake.catalog().await;
    lakegate::tpch::baseline_context(
        catalog.as_ref(),
        "tpch",
        SessionConfig::new().with_target_partitions(4),
    )
    .await
    .expect("baseline context")
}

/// The data files of a table's current snapshot, as iceberg plans them.
pub async fn current_files(lake: &TestLake, table: &str) -> Vec<iceberg::scan::FileScanTask> {
    let catalog = lake.catalog().await;
    lakegate::tpch::current_files(catalog.as_ref(), "tpch", table)
        .await
        .expect("current files")
}

/// Runs `sql` through the engine; returns the physical plan (metrics filled in) and the rows.
pub async fn run_with_plan(
    engine: &Engine,
    session: &Session,
    sql: &str,
) -> (Arc<dyn ExecutionPlan>, Vec<RecordBatch>) {
    let result = engine
        .execute(session, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"))
        .into_result();
    let plan = result.plan.clone().expect("a read has a physical plan");
    let batches = result
        .stream
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"));
    (plan, batches)
}

pub async fn baseline_rows(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .expect("baseline plans")
        .collect()
        .await
        .expect("baseline runs")
}
