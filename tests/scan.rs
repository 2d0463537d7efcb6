//! The Iceberg scan end to end: partition pruning, snapshot pinning, LIMIT, and the codec
//! round trip that ships a scan to executors.

mod common;

use std::sync::Arc;

use common::{
    TestLake, assert_same_rows, current_files, engine_rows, rows, run_with_plan, session,
    shared_lake,
};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, collect};
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use futures::TryStreamExt;
use iceberg::spec::Literal;
use lakegate_coordinator::catalog::file_io;
use lakegate_iceberg::{IcebergScanCodec, IcebergScanExec};

/// Every Iceberg scan in a plan.
fn scans(plan: &Arc<dyn ExecutionPlan>) -> Vec<Arc<dyn ExecutionPlan>> {
    let mut found = Vec::new();
    if plan.downcast_ref::<IcebergScanExec>().is_some() {
        found.push(plan.clone());
    }
    for child in plan.children() {
        found.extend(scans(child));
    }
    found
}

fn files_scanned(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let scans = scans(plan);
    assert_eq!(scans.len(), 1, "expected one scan in the plan");
    scans[0]
        .metrics()
        .and_then(|m| m.sum_by_name("files_scanned"))
        .map(|v| v.as_usize())
        .expect("files_scanned metric")
}

/// Data files of lineitem's current snapshot, and how many hold ship year `year`.
async fn lineitem_files(lake: &TestLake, year: i32) -> (usize, usize) {
    let tasks = current_files(lake, "lineitem").await;
    // The year transform stores years since 1970.
    let wanted = Literal::int(year - 1970);
    let in_year = tasks
        .iter()
        .filter(|t| t.partition.as_ref().and_then(|p| p.iter().next().flatten()) == Some(&wanted))
        .count();
    (tasks.len(), in_year)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_on_one_ship_year_reads_only_that_years_files() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let session = session(&engine);
    let (total, in_1994) = lineitem_files(lake, 1994).await;
    assert!(
        in_1994 > 0 && in_1994 < total,
        "lake layout: {in_1994} of {total} files in 1994"
    );

    let sql = "SELECT count(*) FROM lineitem \
               WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'";
    let (plan, _) = run_with_plan(&engine, &session, sql).await;
    assert_eq!(files_scanned(&plan), in_1994);

    let (plan, _) = run_with_plan(&engine, &session, "SELECT count(*) FROM lineitem").await;
    assert_eq!(files_scanned(&plan), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_planned_before_an_append_reads_the_snapshot_it_pinned() {
    let lake = TestLake::write(common::TEST_SCALE).await;
    let engine = lake.engine().await;
    let session = session(&engine);
    let count = "SELECT count(*) FROM lineitem";
    let before = rows(&engine_rows(&engine, &session, count).await)[0][0].clone();

    // Planned (snapshot pinned, files planned) but not yet read.
    let running = engine
        .execute(&session, count)
        .await
        .expect("plan")
        .into_result();

    let appended = lake.append_lineitems().await;

    let pinned: Vec<_> = running.stream.try_collect().await.expect("read");
    assert_eq!(
        rows(&pinned)[0][0],
        before,
        "the running query must not see the append"
    );

    // Table metadata is reused for the refresh interval (1 s): a new query sees the append
    // within it.
    let expected = before.parse::<usize>().expect("count") + appended;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let after = loop {
        let after: usize = rows(&engine_rows(&engine, &session, count).await)[0][0]
            .parse()
            .expect("count");
        if after == expected || std::time::Instant::now() > deadline {
            break after;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(after, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_stops_early_and_returns_that_many_rows() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let session = session(&engine);
    let sql = "SELECT l_orderkey FROM lineitem LIMIT 7";
    let (plan, batches) = run_with_plan(&engine, &session, sql).await;
    assert_eq!(rows(&batches).len(), 7);
    let (total, _) = lineitem_files(lake, 1994).await;
    assert!(
        files_scanned(&plan) < total,
        "LIMIT without a filter should not plan every file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_codec_round_trips_a_scan_that_reads_the_same_rows() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let session = session(&engine);
    let sql = "SELECT l_orderkey, l_linenumber, l_shipdate FROM lineitem WHERE l_shipdate < DATE '1993-01-01'";
    let result = engine
        .execute(&session, sql)
        .await
        .expect("plan")
        .into_result();
    let plan = result.plan.clone().expect("plan");
    let scan = scans(&plan).pop().expect("a scan");

    let codec = IcebergScanCodec::new(file_io(&lake.config()));
    let mut bytes = Vec::new();
    codec.try_encode(scan.clone(), &mut bytes).expect("encode");
    let ctx = Arc::new(TaskContext::default());
    let decoded = codec.try_decode(&bytes, &[], &ctx).expect("decode");
    assert_eq!(decoded.schema(), scan.schema());
    assert_eq!(
        decoded.output_partitioning().partition_count(),
        scan.output_partitioning().partition_count()
    );

    let original = collect(scan, ctx.clone())
        .await
        .expect("original scan runs");
    let round_tripped = collect(decoded, ctx).await.expect("decoded scan runs");
    assert!(!original.is_empty());
    assert_same_rows("codec", sql, &original, &round_tripped);
}
