//! A coordinator and executors as separate processes on loopback: TPC-H answers with 1, 2 and
//! 3 executors, leaf work on several of them, a killed or hung executor costing a retry (also
//! after rows were sent), a restarted coordinator finding its executors again and its lost
//! queries reported as such, a cancelled query leaving no task behind,
//! and a cluster secret guarding executors and the registry.

mod common;

use std::time::Duration;

use arrow::record_batch::RecordBatch;
use common::{Cluster, assert_same_rows, baseline_context, baseline_rows, shared_lake};
use futures::{StreamExt, TryStreamExt};
use lakegate::tpch::QUERIES;

/// Long enough (seconds in a debug build) to be caught running: every line joined with every
/// line of the same line number, about 650 million pairs at scale 0.01.
const LONG_QUERY: &str = "SELECT count(*) AS pairs, sum(a.l_quantity * b.l_discount) AS total \
                          FROM lineitem a JOIN lineitem b ON a.l_linenumber = b.l_linenumber";

/// Runs for minutes: billions of joined pairs. Only ever cancelled or timed out, so a test that
/// sees its tasks gone knows they were stopped, not finished.
const ENDLESS_QUERY: &str = "SELECT count(*) FROM lineitem a \
                             JOIN lineitem b ON a.l_linestatus = b.l_linestatus \
                             JOIN nation n ON n.n_regionkey = a.l_linenumber % 5";

/// The clusters of these tests each load both cores; run one at a time so heartbeats are not
/// starved into false executor losses.
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run_flight(cluster: &Cluster, sql: &str) -> Vec<arrow::record_batch::RecordBatch> {
    let client = cluster.coordinator.flight_client().await;
    common::collect_query(client, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpch_on_one_two_and_three_executor_processes_matches_datafusion() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let baseline = baseline_context(lake).await;
    for executors in [1, 2, 3] {
        let cluster = Cluster::start(&lake.warehouse, executors, &[]).await;
        for (name, sql) in QUERIES {
            let expected = baseline_rows(&baseline, sql).await;
            let actual = run_flight(&cluster, sql).await;
            assert_same_rows(
                &format!("{name} on {executors} executors"),
                sql,
                &expected,
                &actual,
            );
        }
        // With several executors, leaf work (scan streams) ran on every one of them, as their
        // heartbeats report. A single executor adds nothing to spread over: the planner keeps
        // such plans whole.
        if executors > 1 {
            cluster
                .wait_until("every executor has run scans", |r| {
                    r.len() == executors && r.iter().all(|(_, _, started)| *started > 0)
                })
                .await;
            explain_shows_stages(&cluster).await;
        }
    }
}

/// EXPLAIN shows the distributed plan stage by stage; EXPLAIN ANALYZE runs it and shows each
/// stage's tasks with their metrics.
async fn explain_shows_stages(cluster: &Cluster) {
    let sql = "SELECT l_returnflag, count(*) FROM lineitem GROUP BY l_returnflag";
    let plan = common::rows(&run_flight(cluster, &format!("EXPLAIN {sql}")).await);
    let distributed = plan
        .iter()
        .find(|row| row[0] == "distributed_plan")
        .map(|row| row[1].clone())
        .expect("a distributed_plan row");
    for part in [
        "Path: distributed, ",
        "DistributedExec",
        "Stage 1",
        "IcebergScanExec",
        "NetworkShuffleExec",
    ] {
        assert!(distributed.contains(part), "{part} in\n{distributed}");
    }
    let analyzed = common::rows(&run_flight(cluster, &format!("EXPLAIN ANALYZE {sql}")).await);
    let text = analyzed
        .iter()
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    for part in ["Stage 1", "tasks=", "IcebergScanExec", "output_rows="] {
        assert!(text.contains(part), "{part} in\n{text}");
    }
}

/// Starts [`LONG_QUERY`] over Flight SQL; returns once executors run it.
async fn start_long_query(
    cluster: &Cluster,
) -> tokio::task::JoinHandle<Result<Vec<RecordBatch>, String>> {
    let port = cluster.coordinator.port;
    let query = tokio::spawn(async move {
        let client = common::LocalServer::client_for(port).await;
        common::collect_query(client, LONG_QUERY).await
    });
    cluster
        .wait_until("the query is running on the executors", |r| {
            r.iter().any(|(_, running, _)| *running > 0)
        })
        .await;
    query
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_executor_costs_a_retry_not_a_wrong_answer() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let expected = baseline_rows(&baseline_context(lake).await, LONG_QUERY).await;
    let mut cluster = Cluster::start(&lake.warehouse, 3, &[]).await;

    let query = start_long_query(&cluster).await;
    let (mut victim, victim_url) = cluster.executors.remove(0);
    victim.kill().expect("SIGKILL the executor");
    let _ = victim.wait();

    let actual = query
        .await
        .expect("query task")
        .expect("the query survives losing an executor");
    assert_same_rows("killed executor", LONG_QUERY, &expected, &actual);
    cluster
        .wait_until("the dead executor is gone", |r| {
            r.iter().all(|(url, _, _)| *url != victim_url)
        })
        .await;
}

/// Streams its rows over seconds in a debug build from join tasks on every executor: each
/// line's comment, made long and scrubbed by a regular expression after the join. (A plain
/// scan would stay whole on the coordinator: nothing to shuffle.)
const STREAMING_QUERY: &str = "SELECT l.l_orderkey, l.l_linenumber, o.o_orderstatus, \
                               length(regexp_replace(repeat(l.l_comment, 300), '[aeiou]+', '-')) AS n \
                               FROM lineitem l JOIN orders o ON l.l_orderkey = o.o_orderkey";

/// An executor killed after the client has read rows: the query is rerun at the same snapshots
/// on the executors left and carries on after the rows already sent, so the client ends with
/// the whole answer, each row once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_killed_after_rows_were_sent_still_gives_the_whole_answer() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let expected = baseline_rows(&baseline_context(lake).await, STREAMING_QUERY).await;
    let mut cluster = Cluster::start(&lake.warehouse, 3, &["--set", "query.batch_size=256"]).await;

    // A kill can land just after the victim's last task ended (heartbeats are 200 ms apart):
    // then nothing was lost and the query simply answers. Tried until a kill cost a rerun.
    for attempt in 1..=ATTEMPTS {
        let (first, rest) = kill_a_busy_executor_after_the_first_batch(&mut cluster).await;
        let mut actual = vec![first];
        actual.extend(rest.expect("the query survives losing an executor after rows were sent"));
        assert_same_rows(
            "executor killed after rows",
            STREAMING_QUERY,
            &expected,
            &actual,
        );
        let (status, metrics) = cluster.coordinator.http_get("/metrics").await;
        assert_eq!(status, 200);
        if metrics.contains("lakegate_query_reruns_total{after_rows=\"true\"} 1") {
            return;
        }
        assert!(
            attempt < ATTEMPTS,
            "no kill landed while the victim still ran tasks; no rerun after rows in\n{metrics}"
        );
    }
}

/// Kills tried, each of one of the test cluster's 3 executors, to catch one mid-query.
const ATTEMPTS: usize = 2;

/// With `query.resume_max_rows = 0` nothing sent is remembered: the same loss ends the query
/// with an error telling the client it was lost and may be run again (gRPC UNAVAILABLE).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_that_cannot_resume_fails_as_lost_and_retryable() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let mut cluster = Cluster::start(
        &lake.warehouse,
        3,
        &[
            "--set",
            "query.batch_size=256",
            "--set",
            "query.resume_max_rows=0",
        ],
    )
    .await;
    for attempt in 1..=ATTEMPTS {
        let (_, rest) = kill_a_busy_executor_after_the_first_batch(&mut cluster).await;
        match rest {
            Err(arrow_flight::error::FlightError::Tonic(status)) => {
                assert!(
                    status.code() == tonic::Code::Unavailable
                        && status.message().contains("was lost")
                        && status.message().contains("query.resume_max_rows"),
                    "{status}"
                );
                return;
            }
            Err(other) => panic!("not a gRPC status: {other}"),
            // The kill landed after the victim's last task (see above): nothing was lost.
            Ok(_) => assert!(
                attempt < ATTEMPTS,
                "no kill landed while the victim still ran tasks"
            ),
        }
    }
}

/// Starts [`STREAMING_QUERY`] over Flight SQL, reads its first batch, SIGKILLs an executor
/// still running tasks, and reads the rest.
async fn kill_a_busy_executor_after_the_first_batch(
    cluster: &mut Cluster,
) -> (
    RecordBatch,
    Result<Vec<RecordBatch>, arrow_flight::error::FlightError>,
) {
    let mut client = cluster.coordinator.flight_client().await;
    let info = client
        .execute(STREAMING_QUERY.to_string(), None)
        .await
        .expect("plan");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut stream = client.do_get(ticket).await.expect("do_get");
    let first = stream
        .next()
        .await
        .expect("a first batch")
        .expect("the first batch reads");
    assert!(first.num_rows() > 0);

    // Heartbeats report running tasks; the first batch can come before the next one does.
    // The registry that showed a busy executor names it (asked again, the tasks may be done).
    let registry = cluster
        .wait_until("an executor reports the query's tasks", |r| {
            r.iter().any(|(_, running, _)| *running > 0)
        })
        .await;
    let busy = registry
        .iter()
        .find(|(_, running, _)| *running > 0)
        .map(|(url, _, _)| url.clone())
        .unwrap_or_else(|| panic!("an executor still busy after the first batch: {registry:?}"));
    let at = cluster
        .executors
        .iter()
        .position(|(_, url)| *url == busy)
        .unwrap_or_else(|| panic!("{busy} among {:?}", cluster.executors));
    let (mut victim, _) = cluster.executors.remove(at);
    victim.kill().expect("SIGKILL the executor");
    let _ = victim.wait();
    let rest = stream.try_collect::<Vec<_>>().await;
    (first, rest)
}

/// A coordinator that crashes and is replaced at its address gets its executors back within
/// two heartbeats (each re-registers with its next heartbeat; nothing is persisted) and
/// answers right on them. Clients of queries the crashed one held get an error saying the
/// query was lost and may be run again (gRPC UNAVAILABLE; Trino's REMOTE_HOST_GONE, an
/// INTERNAL_ERROR), not "unknown query".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executors_come_back_to_a_restarted_coordinator_within_two_heartbeats() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let sql = "SELECT l_returnflag, count(*), sum(l_quantity) FROM lineitem GROUP BY 1";
    let expected = baseline_rows(&baseline_context(lake).await, sql).await;
    // One-second heartbeats, so two of them dwarf the time a poll of the registry takes.
    const HEARTBEAT_MS: u64 = 1_000;
    let heartbeat = format!("cluster.heartbeat_interval_ms={HEARTBEAT_MS}");
    let mut cluster = Cluster::start(&lake.warehouse, 0, &[]).await;
    for _ in 0..2 {
        cluster.add_executor(&["--set", &heartbeat]);
    }
    cluster
        .wait_until("two executors registered", |r| r.len() == 2)
        .await;
    // Held when the coordinator dies: a Flight ticket not fetched yet, a Trino query's next page.
    let mut flight = cluster.coordinator.flight_client().await;
    let info = flight.execute(sql.to_string(), None).await.expect("plan");
    let ticket = info.endpoint[0].ticket.clone().expect("a ticket");
    let (status, body) = cluster
        .coordinator
        .http_request(
            "POST",
            "/v1/statement",
            &[("X-Trino-User", "alice")],
            sql.as_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let submitted: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let next_uri = submitted["nextUri"]
        .as_str()
        .expect("a nextUri")
        .to_string();
    let next_path = &next_uri[next_uri.find("/v1/").expect("a /v1/ path")..];

    cluster.restart_coordinator();
    let restarted = std::time::Instant::now();
    cluster
        .wait_until("both executors back", |r| r.len() == 2)
        .await;
    let back = restarted.elapsed();
    assert!(
        back <= Duration::from_millis(2 * HEARTBEAT_MS),
        "the executors took {back:?} to come back, over two heartbeats"
    );
    let actual = run_flight(&cluster, sql).await;
    assert_same_rows("after a coordinator restart", sql, &expected, &actual);

    let mut flight = cluster.coordinator.flight_client().await;
    let error = match flight.do_get(ticket).await {
        Ok(stream) => match stream.try_collect::<Vec<_>>().await {
            Ok(_) => panic!("a ticket of the crashed coordinator was served"),
            Err(e) => e,
        },
        Err(e) => e,
    };
    match &error {
        arrow_flight::error::FlightError::Tonic(status) => assert!(
            status.code() == tonic::Code::Unavailable && status.message().contains("restarted"),
            "{status}"
        ),
        other => panic!("not a gRPC status: {other}"),
    }
    let (code, body) = cluster.coordinator.http_get(next_path).await;
    assert_eq!(code, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(page["stats"]["state"], "FAILED", "{page}");
    assert_eq!(page["error"]["errorName"], "REMOTE_HOST_GONE", "{page}");
    assert_eq!(page["error"]["errorType"], "INTERNAL_ERROR", "{page}");
    assert!(
        page["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("restarted")),
        "{page}"
    );
}

/// An executor that hangs mid-query (SIGSTOP: it neither fails nor finishes its streams, it
/// only stops heartbeating) is found silent after `cluster.heartbeat_timeout_ms`, and the query
/// is run again on the others: the right answer, not a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_executor_is_left_behind_and_the_query_still_answers() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let expected = baseline_rows(&baseline_context(lake).await, LONG_QUERY).await;
    let cluster = Cluster::start(
        &lake.warehouse,
        3,
        &["--set", "cluster.heartbeat_timeout_ms=2000"],
    )
    .await;
    let query = start_long_query(&cluster).await;
    let registry = cluster.registry().await;
    let busy = registry
        .iter()
        .find(|(_, running, _)| *running > 0)
        .map(|(url, _, _)| url.clone())
        .expect("a busy executor");
    let (victim, _) = cluster
        .executors
        .iter()
        .find(|(_, url)| *url == busy)
        .unwrap_or_else(|| panic!("{busy} among {:?}", cluster.executors));
    let pid = victim.id().to_string();
    let stopped = std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .expect("run kill");
    assert!(stopped.success(), "kill -STOP");

    let actual = tokio::time::timeout(Duration::from_secs(180), query)
        .await
        .expect("the query answers instead of hanging on the stopped executor")
        .expect("query task")
        .expect("the query survives a hung executor");
    assert_same_rows("hung executor", LONG_QUERY, &expected, &actual);
    cluster
        .wait_until("the hung executor is out of the registry", |r| {
            r.iter().all(|(url, _, _)| *url != busy)
        })
        .await;
    let _ = std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status();
}

/// Starts [`ENDLESS_QUERY`] and a reader of its first batch; returns once executors run it.
async fn start_endless_query(
    cluster: &Cluster,
) -> (
    arrow_flight::FlightInfo,
    tokio::task::JoinHandle<Option<Result<RecordBatch, arrow_flight::error::FlightError>>>,
) {
    let mut client = cluster.coordinator.flight_client().await;
    let info = client
        .execute(ENDLESS_QUERY.to_string(), None)
        .await
        .expect("plan");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut stream = client.do_get(ticket).await.expect("do_get");
    // The reader owns the client: aborting it is the client going away.
    let reading = tokio::spawn(async move {
        let _client = client;
        stream.next().await
    });
    cluster
        .wait_until("the query is running on the executors", |r| {
            r.iter().any(|(_, running, _)| *running > 0)
        })
        .await;
    (info, reading)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_query_leaves_no_task_on_any_executor() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let cluster = Cluster::start(&lake.warehouse, 2, &[]).await;
    let (_, reading) = start_endless_query(&cluster).await;
    // The client goes away mid-query.
    reading.abort();
    cluster
        .wait_until("no executor runs a task", |r| {
            r.iter().all(|(_, running, _)| *running == 0)
        })
        .await;
    // The executors are healthy and take the next query.
    let rows = run_flight(&cluster, "SELECT count(*) FROM region").await;
    assert_eq!(common::rows(&rows), [["5"]]);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_flight_info_stops_a_streaming_query_on_every_executor() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let cluster = Cluster::start(&lake.warehouse, 2, &[]).await;
    let (info, reading) = start_endless_query(&cluster).await;
    let mut canceller = cluster.coordinator.flight_client().await;
    assert_eq!(
        common::cancel_flight_info(&mut canceller, &info).await,
        arrow_flight::CancelStatus::Cancelled
    );
    match reading.await.expect("reader") {
        Some(Err(err)) => assert!(err.to_string().contains("was cancelled"), "{err}"),
        other => panic!("a cancelled stream went on: {other:?}"),
    }
    cluster
        .wait_until("no executor runs a task", |r| {
            r.iter().all(|(_, running, _)| *running == 0)
        })
        .await;
}

/// Builds a hash table of every line's order key: far more than 100 kB.
const MEMORY_HUNGRY: &str =
    "SELECT count(*) FROM lineitem a JOIN lineitem b ON a.l_orderkey = b.l_orderkey";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_its_memory_limit_fails_clearly_and_others_still_run() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let cluster = Cluster::start(
        &lake.warehouse,
        2,
        &["--set", "query.memory_limit_bytes=100000"],
    )
    .await;
    let client = cluster.coordinator.flight_client().await;
    let err = common::collect_query(client, MEMORY_HUNGRY)
        .await
        .expect_err("a hash join over the memory limit fails");
    assert!(
        err.contains("resource has been exhausted")
            && err.contains("exceeded its memory limit of 100000 bytes per executor")
            && err.contains("query.memory_limit_bytes"),
        "{err}"
    );
    // The limit is per query: the failed query's memory went back, a small one fits.
    let rows = run_flight(&cluster, "SELECT count(*) FROM nation").await;
    assert_eq!(common::rows(&rows), [["25"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_time_limit_is_stopped_on_every_executor() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let cluster = Cluster::start(&lake.warehouse, 2, &["--set", "query.timeout_secs=1"]).await;
    let client = cluster.coordinator.flight_client().await;
    let err = common::collect_query(client, ENDLESS_QUERY)
        .await
        .expect_err("the endless query outlives its time limit");
    assert!(
        err.contains("Deadline expired")
            && err.contains("exceeded its time limit of 1 s (query.timeout_secs)"),
        "{err}"
    );
    cluster
        .wait_until("no executor runs a task", |r| {
            r.iter().all(|(_, running, _)| *running == 0)
        })
        .await;
}

/// Asks an executor's Arrow Flight service for `action` and parses its JSON answer.
async fn executor_action(url: &str, action: &str) -> serde_json::Value {
    let channel = tonic::transport::Endpoint::from_shared(url.to_string())
        .expect("executor url")
        .connect()
        .await
        .expect("connect to executor");
    let mut client = arrow_flight::FlightClient::new(channel);
    let answers: Vec<_> = client
        .do_action(arrow_flight::Action::new(action, ""))
        .await
        .expect("do_action")
        .try_collect()
        .await
        .expect("action answer");
    assert_eq!(answers.len(), 1, "{action}: one answer");
    serde_json::from_slice(&answers[0]).expect("JSON answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_executor_drains_its_query_and_exits_cleanly() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let expected = baseline_rows(&baseline_context(lake).await, LONG_QUERY).await;
    let mut cluster = Cluster::start(&lake.warehouse, 2, &[]).await;
    let (_, victim_url) = &cluster.executors[0];
    let victim_url = victim_url.clone();

    let identity = executor_action(&victim_url, "identity").await;
    assert_eq!(identity["url"], victim_url.as_str());
    assert_eq!(identity["draining"], false);
    assert_eq!(
        executor_action(&victim_url, "health").await["status"],
        "serving"
    );

    let port = cluster.coordinator.port;
    let query = tokio::spawn(async move {
        let client = common::LocalServer::client_for(port).await;
        common::collect_query(client, LONG_QUERY).await
    });
    cluster
        .wait_until("the query is running on the victim", |r| {
            r.iter()
                .any(|(url, running, _)| *url == victim_url && *running > 0)
        })
        .await;
    let (mut victim, _) = cluster.executors.remove(0);
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &victim.id().to_string()])
        .status()
        .expect("run kill");
    assert!(terminated.success());

    // Draining, it still answers: the running query may need it.
    let mut health = serde_json::Value::Null;
    for _ in 0..50 {
        health = executor_action(&victim_url, "health").await;
        if health["status"] == "draining" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(health["status"], "draining");

    let actual = query
        .await
        .expect("query task")
        .expect("the query finishes on a draining executor");
    assert_same_rows("drained executor", LONG_QUERY, &expected, &actual);

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = victim.try_wait().expect("wait for executor") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the drained executor did not exit"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "drained executor exited with {status}");
    // New queries run on the executor left.
    let rows = run_flight(&cluster, "SELECT count(*) FROM region").await;
    assert_eq!(common::rows(&rows), [["5"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_coordinator_finishes_running_queries_and_refuses_new_ones() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let expected = baseline_rows(&baseline_context(lake).await, LONG_QUERY).await;
    let mut cluster = Cluster::start(&lake.warehouse, 2, &[]).await;
    assert_eq!(cluster.coordinator.http_get("/healthz").await.0, 200);
    assert_eq!(cluster.coordinator.http_get("/readyz").await.0, 200);

    let query = start_long_query(&cluster).await;
    let mut client = cluster.coordinator.flight_client().await;
    cluster.coordinator.terminate();

    // Stopping: not ready, and a new query is refused with the reason.
    let mut ready = 200;
    for _ in 0..50 {
        ready = cluster.coordinator.http_get("/readyz").await.0;
        if ready == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready, 503, "a stopping coordinator is not ready");
    match client
        .execute("SELECT count(*) FROM region".into(), None)
        .await
    {
        Err(arrow_flight::error::FlightError::Tonic(status)) => {
            assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
            assert!(status.message().contains("shutting down"), "{status:?}");
        }
        other => panic!("a stopping coordinator took a new query: {other:?}"),
    }

    // The query that was running finishes, right.
    let actual = query
        .await
        .expect("query task")
        .expect("the running query finishes on a stopping coordinator");
    assert_same_rows("stopping coordinator", LONG_QUERY, &expected, &actual);
    let status = cluster
        .coordinator
        .exited_within(Duration::from_secs(30))
        .await;
    assert!(status.success(), "the coordinator exited with {status}");
}

/// A raw unary call to an executor's worker service (`GetWorkerInfo`, an empty request), with
/// or without the cluster secret: the status code it gets.
async fn worker_call(url: &str, secret: Option<&str>) -> tonic::Code {
    let channel = tonic::transport::Endpoint::from_shared(url.to_string())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect to the executor");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let mut request = tonic::Request::new(());
    if let Some(secret) = secret {
        request.metadata_mut().insert(
            lakegate_proto::cluster_secret::CLUSTER_SECRET_HEADER,
            secret.parse().expect("header value"),
        );
    }
    let path = "/worker.WorkerService/GetWorkerInfo".parse().expect("path");
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    match grpc.unary(request, path, codec).await {
        Ok(_) => tonic::Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_secret_guards_executors_and_the_registry() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let lake = shared_lake().await;
    let baseline = baseline_context(lake).await;
    let secret = vec![
        "--set".to_string(),
        "cluster.shared_secret=s3cret".to_string(),
    ];
    let warehouse = lake.warehouse.display().to_string();
    let mut cluster = Cluster::start_with(&warehouse, 2, &[], &secret).await;

    // Stages on several executors exchange data with the secret: the answer is right.
    let sql = "SELECT l_returnflag, l_linestatus, count(*), sum(l_quantity) FROM lineitem \
               GROUP BY l_returnflag, l_linestatus";
    let expected = baseline_rows(&baseline, sql).await;
    assert_same_rows(
        "with a cluster secret",
        sql,
        &expected,
        &run_flight(&cluster, sql).await,
    );

    for (_, url) in &cluster.executors {
        assert_eq!(
            worker_call(url, None).await,
            tonic::Code::Unauthenticated,
            "{url} ran a call without the secret"
        );
        assert_eq!(
            worker_call(url, Some("guess")).await,
            tonic::Code::Unauthenticated,
            "{url} ran a call with a wrong secret"
        );
        assert_ne!(
            worker_call(url, Some("s3cret")).await,
            tonic::Code::Unauthenticated,
            "{url} refused the secret"
        );
    }

    // An executor without the secret is never registered, so it is sent nothing.
    cluster.add_executor(&["--set", "cluster.shared_secret="]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        cluster.registry().await.len(),
        2,
        "an executor without the secret registered"
    );
}
