//! The result cache: hits run nothing, commits are seen within the refresh interval, identical
//! concurrent queries run once, failures and volatile functions are never served from it, and
//! users share an entry when they read the same rows (tests/access.rs: and only then).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    LocalServer, TestLake, assert_same_rows, baseline_context, baseline_rows, engine_rows, rows,
    session, shared_lake,
};
use lakegate_coordinator::cache::CacheStats;
use lakegate_coordinator::{Engine, Principal};

fn stats(engine: &Engine) -> CacheStats {
    engine.health().cache.expect("the cache is on by default")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_query_is_a_hit_and_no_executor_scans_anything() {
    let lake = shared_lake().await;
    // Scans spread over the in-process executors, which report the scans they start.
    let server = LocalServer::start(
        &lake.warehouse,
        &[
            "--set",
            "cluster.bytes_per_task=1",
            "--set",
            "cluster.max_tasks_per_stage=2",
            "--set",
            "cluster.heartbeat_interval_ms=100",
        ],
    );
    let query = |sql: &'static str| async move {
        let client = LocalServer::client_for(server.port).await;
        common::collect_query(client, sql).await.expect(sql)
    };
    let scans = || async {
        let batches = query("SELECT sum(scans_started) FROM system.runtime.executors").await;
        rows(&batches)[0][0].clone()
    };
    let cache = || async { rows(&query("SELECT hits, misses FROM system.runtime.cache").await) };

    let first = query("SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1 ORDER BY 1").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let scanned = scans().await;
    assert_ne!(scanned, "0", "the miss ran on the executors");
    assert_eq!(cache().await, [["0", "1"]]);

    // The same statement, written differently: whitespace, keyword case, a comment.
    let again =
        query("select l_returnflag,   COUNT(*) -- flags\n from lineitem group by 1 order by 1")
            .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rows(&again), rows(&first));
    assert_eq!(cache().await, [["1", "1"]], "a hit, no new miss");
    assert_eq!(
        scans().await,
        scanned,
        "a hit starts no scan on any executor"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_is_seen_within_the_refresh_interval_and_other_tables_stay_hits() {
    let lake = TestLake::write(common::TEST_SCALE).await;
    let engine = lake.engine().await;
    let session = session(&engine);
    let lineitems = "SELECT count(*) FROM lineitem";
    let orders = "SELECT count(*) FROM orders";
    let before = rows(&engine_rows(&engine, &session, lineitems).await)[0][0].clone();
    engine_rows(&engine, &session, orders).await;
    engine_rows(&engine, &session, lineitems).await;
    assert_eq!(stats(&engine).hits, 1);

    let appended = lake.append_lineitems().await;
    let committed = Instant::now();

    let expected = (before.parse::<usize>().expect("count") + appended).to_string();
    let misses_before = stats(&engine).misses;
    let seen = loop {
        let now = rows(&engine_rows(&engine, &session, lineitems).await)[0][0].clone();
        if now == expected || committed.elapsed() > Duration::from_secs(3) {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(seen, expected, "the new snapshot's answer");
    assert!(
        committed.elapsed() < Duration::from_millis(1000 + 500),
        "seen within the 1 s refresh interval (took {:?})",
        committed.elapsed()
    );
    assert!(
        stats(&engine).misses > misses_before,
        "the new snapshot was a miss"
    );

    let hits = stats(&engine).hits;
    engine_rows(&engine, &session, orders).await;
    assert_eq!(
        stats(&engine).hits,
        hits + 1,
        "the unchanged table is still a hit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_identical_concurrent_queries_run_once() {
    let lake = shared_lake().await;
    let engine = Arc::new(lake.engine().await);
    let sql = "SELECT l_shipmode, sum(l_quantity), count(*) FROM lineitem GROUP BY 1";
    let expected = baseline_rows(&baseline_context(lake).await, sql).await;
    let before = stats(&engine);
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let session = session(&engine);
                engine_rows(&engine, &session, sql).await
            })
        })
        .collect();
    for task in tasks {
        let actual = task.await.expect("query task");
        assert_same_rows("concurrent", sql, &expected, &actual);
    }
    let after = stats(&engine);
    assert_eq!(after.misses - before.misses, 1, "exactly one execution");
    assert_eq!(
        (after.hits - before.hits) + (after.coalesced - before.coalesced),
        199,
        "the others joined it or read its result"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_volatile_functions_are_never_served_from_the_cache() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let session = session(&engine);

    let failing = "SELECT l_orderkey / (l_linenumber - l_linenumber) FROM lineitem";
    for _ in 0..2 {
        let result = engine
            .execute(&session, failing)
            .await
            .expect("plans")
            .into_result();
        let rows: Result<Vec<_>, _> =
            futures::TryStreamExt::try_collect::<Vec<_>>(result.stream).await;
        assert!(rows.is_err(), "division by zero fails");
    }
    assert_eq!(stats(&engine).hits, 0, "a failure is not cached");

    let volatile = "SELECT count(*), now() FROM nation";
    let first = rows(&engine_rows(&engine, &session, volatile).await);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = rows(&engine_rows(&engine, &session, volatile).await);
    assert_eq!(stats(&engine).hits, 0, "now() is never a hit");
    assert_ne!(first[0][1], second[0][1], "each run has its own now()");

    // SET cache = off bypasses it; refresh runs again and replaces the entry.
    let sql = "SELECT count(*) FROM region";
    engine_rows(&engine, &session, sql).await;
    engine
        .execute(&session, "SET cache = off")
        .await
        .expect("SET");
    engine_rows(&engine, &session, sql).await;
    assert_eq!(stats(&engine).hits, 0, "cache = off reads nothing");
    engine
        .execute(&session, "SET cache = refresh")
        .await
        .expect("SET");
    let misses = stats(&engine).misses;
    engine_rows(&engine, &session, sql).await;
    assert_eq!(stats(&engine).misses, misses + 1, "refresh runs the query");
    assert!(
        engine
            .execute(&session, "SET cache = sometimes")
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_who_read_the_same_rows_share_an_entry() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let ana = engine.new_session(Principal::new("ana"));
    let bob = engine.new_session(Principal::new("bob"));
    // Without access control both read every row of supplier: one answer serves both.
    let sql = "SELECT count(*) FROM supplier";
    // A result is stored as its stream ends, a moment after the last batch reached ana:
    // ana repeats until she reads her own entry, so it is there before bob asks.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats(&engine).hits == 0 {
        assert!(Instant::now() < deadline, "ana's answer was never stored");
        engine_rows(&engine, &ana, sql).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = stats(&engine).hits;
    engine_rows(&engine, &bob, sql).await;
    assert_eq!(stats(&engine).hits, before + 1, "bob reads ana's entry");
}

/// Rows of `lineitem` at `snapshot`, from its data files' record counts.
async fn rows_at(lake: &TestLake, snapshot: i64) -> u64 {
    use futures::TryStreamExt;
    let catalog = lake.catalog().await;
    let ident = iceberg::TableIdent::from_strs(["tpch", "lineitem"]).expect("ident");
    let table = catalog.load_table(&ident).await.expect("load");
    let tasks: Vec<_> = table
        .scan()
        .snapshot_id(snapshot)
        .build()
        .expect("scan")
        .plan_files()
        .await
        .expect("plan")
        .try_collect()
        .await
        .expect("files");
    tasks
        .iter()
        .map(|t| t.record_count.expect("record count"))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_always_match_the_snapshot_they_read_while_commits_land() {
    let lake = Arc::new(TestLake::write(common::TEST_SCALE).await);
    let engine = Arc::new(lake.engine().await);
    let writer = {
        let lake = lake.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                lake.append_lineitems().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let session = session(&engine);
                let mut answers = Vec::new();
                for _ in 0..500 {
                    let result = engine
                        .execute(&session, "SELECT count(*) FROM lineitem")
                        .await
                        .expect("plan")
                        .into_result();
                    let snapshot = result.snapshots[0].1.expect("a snapshot").0;
                    let batches: Vec<_> = futures::TryStreamExt::try_collect(result.stream)
                        .await
                        .expect("rows");
                    let count: u64 = rows(&batches)[0][0].parse().expect("count");
                    answers.push((snapshot, count));
                    // Spread the queries over the time the commits take.
                    tokio::time::sleep(Duration::from_millis(8)).await;
                }
                answers
            })
        })
        .collect();
    writer.await.expect("writer");
    let mut expected = std::collections::HashMap::new();
    let mut stale = 0;
    let mut seen = 0;
    for reader in readers {
        for (snapshot, count) in reader.await.expect("reader") {
            seen += 1;
            if let std::collections::hash_map::Entry::Vacant(entry) = expected.entry(snapshot) {
                entry.insert(rows_at(&lake, snapshot).await);
            }
            if expected[&snapshot] != count {
                stale += 1;
            }
        }
    }
    assert_eq!(seen, 2000);
    assert_eq!(
        stale, 0,
        "answers that differ from the snapshot they report reading"
    );
    assert!(expected.len() > 1, "the queries saw several snapshots");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_refresh_shows_a_commit_before_the_refresh_interval() {
    let lake = TestLake::write(common::TEST_SCALE).await;
    // Metadata is reused for a minute: only the admin call can show the commit sooner.
    let server = LocalServer::start(
        &lake.warehouse,
        &["--set", "catalog.refresh_interval_ms=60000"],
    );
    let count = || async {
        let client = server.flight_client().await;
        let batches = common::collect_query(client, "SELECT count(*) FROM lineitem")
            .await
            .expect("count");
        rows(&batches)[0][0].parse::<usize>().expect("count")
    };
    let before = count().await;
    let appended = lake.append_lineitems().await;
    assert_eq!(
        count().await,
        before,
        "within the refresh interval, the pinned metadata"
    );
    let (status, body) = server.http("POST", "/v1/admin/refresh").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        count().await,
        before + appended,
        "after the refresh, the new snapshot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_staleness_lets_a_dashboard_keep_older_metadata() {
    let lake = TestLake::write(common::TEST_SCALE).await;
    let engine = lake.engine().await;
    let dashboard = session(&engine);
    let analyst = session(&engine);
    engine
        .execute(&dashboard, "SET max_staleness = 60")
        .await
        .expect("SET");
    assert!(
        engine
            .execute(&dashboard, "SET max_staleness = soon")
            .await
            .is_err()
    );
    let sql = "SELECT count(*) FROM lineitem";
    let before = rows(&engine_rows(&engine, &dashboard, sql).await)[0][0].clone();
    lake.append_lineitems().await;
    // Past the 1 s refresh interval: the analyst sees the commit, the dashboard accepts the
    // metadata it has (up to 60 s old) and keeps its answer.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let dashboard_now = rows(&engine_rows(&engine, &dashboard, sql).await)[0][0].clone();
    let analyst_now = rows(&engine_rows(&engine, &analyst, sql).await)[0][0].clone();
    assert_eq!(dashboard_now, before);
    assert_ne!(analyst_now, before);
}
