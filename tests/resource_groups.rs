//! Resource groups (Trino's JSON, `auth.resource_groups_file`) in a real `lakegate local`: a
//! group running its one query queues the next in order and refuses the one after at once
//! through every front end (Flight SQL RESOURCE_EXHAUSTED, HTTP 429 with Retry-After,
//! PostgreSQL 53300, Trino QUERY_QUEUE_FULL); cache hits take no slot; queue time shows in
//! `/v1/queries` and `/metrics`.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{LocalServer, collect_info, collect_query, rows, shared_lake};

const GROUPS: &str = r#"{
  "rootGroups": [
    {"name": "global", "hardConcurrencyLimit": 1, "maxQueued": 1},
    {"name": "dashboards", "hardConcurrencyLimit": 4, "maxQueued": 10}
  ],
  "selectors": [{"source": "superset", "group": "dashboards"}, {"group": "global"}]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_group_queues_then_refuses_on_every_front_end() {
    let lake = shared_lake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("resource-groups.json");
    std::fs::write(&file, GROUPS).expect("resource groups");
    let setting = format!("auth.resource_groups_file={}", file.display());
    let server = LocalServer::start(&lake.warehouse, &["--set", &setting]);

    // A cached answer, served later while the group is full.
    let cached = "SELECT count(*) FROM tpch.region";
    collect_query(server.flight_client().await, cached)
        .await
        .expect("prime the cache");

    // The group's one slot: a Flight SQL query planned and not yet fetched holds it.
    let mut holder = server.flight_client().await;
    let held = holder
        .execute("SELECT count(*) FROM tpch.nation".to_string(), None)
        .await
        .expect("the first query runs");

    // The next waits in the queue ...
    let port = server.port;
    let waiting = tokio::spawn(async move {
        let client = LocalServer::client_for(port).await;
        collect_query(client, "SELECT count(*) FROM tpch.supplier").await
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = server.http_get("/v1/queries").await;
        if body.contains("\"QUEUED\"") {
            break;
        }
        assert!(Instant::now() < deadline, "no query shown QUEUED: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // ... and with the queue full every front end refuses at once, saying so.
    let refused = collect_query(server.flight_client().await, "SELECT 1 FROM tpch.customer")
        .await
        .expect_err("refused");
    assert!(refused.contains("resource has been exhausted"), "{refused}");
    assert!(refused.contains("maxQueued 1"), "{refused}");
    let (head, body) = {
        let (status, head, body) = server
            .http_exchange(
                "POST",
                "/v1/query",
                &[
                    ("content-type", "application/json"),
                    ("accept", "application/json"),
                ],
                br#"{"sql": "SELECT 1 FROM tpch.customer"}"#,
            )
            .await;
        assert_eq!(status, 429, "{}", String::from_utf8_lossy(&body));
        (head, body)
    };
    assert!(head.contains("retry-after: 1"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("QUERY_QUEUE_FULL"));
    let (_, trino) = server
        .http_request(
            "POST",
            "/v1/statement",
            &[("x-trino-user", "ana")],
            b"SELECT 1 FROM tpch.customer",
        )
        .await;
    let trino = String::from_utf8_lossy(&trino);
    assert!(
        trino.contains("QUERY_QUEUE_FULL") && trino.contains("INSUFFICIENT_RESOURCES"),
        "{trino}"
    );
    // A dashboard naming itself (X-Trino-Source) is selected into its own group, with room.
    let (_, dashboard) = server
        .http_request(
            "POST",
            "/v1/statement",
            &[("x-trino-user", "ana"), ("x-trino-source", "superset")],
            b"SELECT 1 FROM tpch.customer LIMIT 1",
        )
        .await;
    let dashboard = String::from_utf8_lossy(&dashboard);
    assert!(
        !dashboard.contains("QUERY_QUEUE_FULL") && !dashboard.contains("\"error\""),
        "{dashboard}"
    );
    let psql = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &server.postgres_port.to_string()])
        .args(["-U", "ana", "-d", "lake", "-X", "-A", "-t"])
        .args([
            "-v",
            "VERBOSITY=verbose",
            "-c",
            "SELECT 1 FROM tpch.customer",
        ])
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("run psql");
    let stderr = String::from_utf8_lossy(&psql.stderr);
    assert!(
        !psql.status.success() && stderr.contains("53300"),
        "{stderr}"
    );

    // A cache hit takes no slot, so it is answered while the group is full.
    let hit = collect_query(server.flight_client().await, cached)
        .await
        .expect("a cache hit is not queued");
    assert_eq!(rows(&hit), vec![vec!["5".to_string()]]);

    // Fetching the first query's rows ends it: the queued one runs.
    let first = collect_info(&mut holder, held).await.expect("first rows");
    assert_eq!(rows(&first), vec![vec!["25".to_string()]]);
    let second = waiting.await.expect("task").expect("the queued query ran");
    assert_eq!(rows(&second).len(), 1);

    let (_, queries) = server.http_get("/v1/queries").await;
    let queries: serde_json::Value = serde_json::from_str(&queries).expect("JSON");
    let queued = queries["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .find(|q| q["sql"] == "SELECT count(*) FROM tpch.supplier")
        .expect("the queued query is listed");
    assert_eq!(queued["state"], "FINISHED");
    assert!(
        queued["queued_ms"].as_u64().is_some_and(|ms| ms > 0),
        "{queued}"
    );
    let (_, metrics) = server.http_get("/metrics").await;
    assert!(
        metrics.contains("lakegate_queue_wait_seconds_count 1"),
        "{metrics}"
    );
}
