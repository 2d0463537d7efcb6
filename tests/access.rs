//! Trino's file-based access control in a real `lakegate local`, through Flight SQL, HTTP,
//! PostgreSQL (psycopg) and the Trino client: a row filter and column masks from the rules,
//! refused and unlisted tables, results cached per policy, reloads (a broken file keeps the
//! previous rules), a broken file refused at start, and the audit log's line per statement.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use arrow_flight::sql::CommandGetTables;
use arrow_flight::sql::client::FlightSqlServiceClient;
use base64::Engine as _;
use common::{
    LocalServer, assert_same_rows, assert_same_text_rows, baseline_context, baseline_rows,
    collect_info, collect_query, python, rows, shared_lake,
};
use tonic::transport::Channel;

/// Merchants read their own orders (`o_custkey % 100` is the number in their name), with
/// the clerk masked and the comment hidden, and the two small dimension tables; admins read
/// everything; nobody else reads anything.
const RULES: &str = r#"{
  "catalogs": [{"user": "nobody", "allow": "none"}, {"allow": "all"}],
  "tables": [
    {"group": "admins", "privileges": ["SELECT"]},
    {"group": "merchants", "schema": "tpch", "table": "orders", "privileges": ["SELECT"],
     "filter": "o_custkey % 100 = CAST(substr(current_user, 2) AS BIGINT)",
     "columns": [{"name": "o_clerk", "mask": "'***'"}, {"name": "o_comment", "allow": false}]},
    {"group": "merchants", "schema": "tpch", "table": "nation|region", "privileges": ["SELECT"]}
  ]
}"#;

const GROUPS: &str = "admins:admin\nmerchants:m7,m8\n";

/// What the rules let each merchant read, for the baseline: the same query over the same
/// files with the filter and mask written out.
const SQL: &str = "SELECT o_orderkey, o_custkey, o_clerk FROM tpch.orders \
                   WHERE o_orderdate < DATE '1993-01-01'";

fn merchant_sql(number: u32) -> String {
    format!(
        "SELECT o_orderkey, o_custkey, '***' AS o_clerk FROM orders \
         WHERE o_orderdate < DATE '1993-01-01' AND o_custkey % 100 = {number}"
    )
}

const SUMMARY: &str = "SELECT count(*), sum(o_custkey), min(o_clerk) FROM tpch.orders \
                       WHERE o_orderdate < DATE '1993-01-01'";

/// Open mode takes any password; this one must never be written anywhere.
const PASSWORD: &str = "never-in-the-audit-log";

async fn client_as(server: &LocalServer, user: &str) -> FlightSqlServiceClient<Channel> {
    let mut client = server.flight_client().await;
    client.handshake(user, PASSWORD).await.expect("login");
    client
}

async fn tables_listed(client: &mut FlightSqlServiceClient<Channel>) -> Vec<String> {
    let info = client
        .get_tables(CommandGetTables {
            db_schema_filter_pattern: Some("tpch".into()),
            ..Default::default()
        })
        .await
        .expect("GetTables");
    let batches = collect_info(client, info).await.expect("tables");
    let mut names: Vec<String> = rows(&batches).into_iter().map(|r| r[2].clone()).collect();
    names.sort();
    names
}

fn write_rules(dir: &Path, text: &str) {
    // Written aside and renamed, so a reload never reads half a file.
    let staged = dir.join("rules.json.new");
    std::fs::write(&staged, text).expect("write rules");
    std::fs::rename(&staged, dir.join("rules.json")).expect("install rules");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_reads_what_the_rules_let_them_through_every_front_end() {
    let lake = shared_lake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    write_rules(dir.path(), RULES);
    std::fs::write(dir.path().join("groups.txt"), GROUPS).expect("groups");
    let rules_setting = format!(
        "auth.access_control_file={}",
        dir.path().join("rules.json").display()
    );
    let groups_setting = format!(
        "auth.groups_file={}",
        dir.path().join("groups.txt").display()
    );
    let audit_path = dir.path().join("audit.jsonl");
    let audit_setting = format!("server.audit_log={}", audit_path.display());
    let server = LocalServer::start(
        &lake.warehouse,
        &[
            "--set",
            &rules_setting,
            "--set",
            &groups_setting,
            "--set",
            "auth.access_control_refresh_secs=1",
            "--set",
            &audit_setting,
        ],
    );
    let baseline = baseline_context(lake).await;

    // The admin's unfiltered answer is cached first; merchants must not be served it.
    let admin = client_as(&server, "admin").await;
    let expected = baseline_rows(&baseline, &SQL.replace("tpch.", "")).await;
    let got = collect_query(admin.clone(), SQL)
        .await
        .expect("admin reads");
    assert_same_rows("admin", SQL, &expected, &got);
    for (user, number) in [("m7", 7), ("m8", 8), ("m7", 7)] {
        let expected = baseline_rows(&baseline, &merchant_sql(number)).await;
        let got = collect_query(client_as(&server, user).await, SQL)
            .await
            .unwrap_or_else(|e| panic!("{user} reads orders: {e}"));
        assert_same_rows(user, SQL, &expected, &got);
        assert!(got.iter().all(|b| b.num_columns() == 3));
    }

    // Only m7's repeat was a hit: the admin's and m8's answers were not served to the others.
    let hits = collect_query(admin.clone(), "SELECT hits FROM system.runtime.cache")
        .await
        .expect("cache statistics");
    assert_eq!(rows(&hits), vec![vec!["1".to_string()]]);

    let m7 = client_as(&server, "m7").await;
    for (sql, words) in [
        (
            "SELECT count(*) FROM tpch.lineitem",
            &["Access Denied", "lake.tpch.lineitem"][..],
        ),
        (
            "SELECT count(*) FROM tpch.\"orders$files\"",
            &["Access Denied", "lake.tpch.orders"][..],
        ),
        ("SELECT o_comment FROM tpch.orders", &["o_comment"][..]),
    ] {
        let error = collect_query(m7.clone(), sql).await.expect_err("refused");
        assert!(
            words.iter().all(|w| error.contains(w)),
            "{sql}: {error} should name {words:?}"
        );
    }
    let nobody = collect_query(client_as(&server, "nobody").await, SUMMARY)
        .await
        .expect_err("nobody reads nothing");
    assert!(nobody.contains("Access Denied"), "{nobody}");

    // Every listing shows a merchant the tables they read, and the columns they read.
    let readable = vec!["nation", "orders", "region"];
    assert_eq!(tables_listed(&mut m7.clone()).await, readable);
    let listed = collect_query(
        m7.clone(),
        "SELECT table_name FROM information_schema.tables \
         WHERE table_schema = 'tpch' ORDER BY table_name",
    )
    .await
    .expect("information_schema");
    let listed: Vec<String> = rows(&listed).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(listed, readable);
    let columns = collect_query(
        m7.clone(),
        "SELECT column_name FROM information_schema.columns \
         WHERE table_schema = 'tpch' AND table_name = 'orders'",
    )
    .await
    .expect("columns");
    let columns: Vec<String> = rows(&columns).into_iter().map(|r| r[0].clone()).collect();
    assert!(
        columns.contains(&"o_clerk".to_string()) && !columns.contains(&"o_comment".to_string()),
        "{columns:?}"
    );
    let basic = |user: &str| {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:any"));
        format!("Basic {encoded}")
    };
    let m7_basic = basic("m7");
    let (status, body) = server
        .http_request(
            "GET",
            "/v1/catalogs/lake/schemas/tpch/tables",
            &[("authorization", &m7_basic)],
            b"",
        )
        .await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("orders") && !body.contains("lineitem"),
        "HTTP lists {body}"
    );
    let (status, body) = server
        .http_request(
            "GET",
            "/v1/catalogs/lake/schemas/tpch/tables/lineitem",
            &[("authorization", &m7_basic)],
            b"",
        )
        .await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));

    // PostgreSQL and Trino clients, as m7.
    let output = Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/access_client.py"
        ))
        .args(["--postgres", &server.postgres_port.to_string()])
        .args(["--http", &server.http_port.to_string()])
        .args(["--user", "m7", "--sql", SUMMARY])
        .output()
        .expect("run access_client.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "access_client.py failed\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("JSON answer");
    let expected = rows(
        &baseline_rows(
            &baseline,
            "SELECT count(*), sum(o_custkey), '***' FROM orders \
             WHERE o_orderdate < DATE '1993-01-01' AND o_custkey % 100 = 7",
        )
        .await,
    );
    let text_rows = |key: &str| -> Vec<Vec<String>> {
        serde_json::from_value(answer[key].clone()).expect("rows of text")
    };
    assert_same_text_rows(
        "PostgreSQL",
        SUMMARY,
        expected.clone(),
        text_rows("postgres_rows"),
    );
    assert_same_text_rows("Trino", SUMMARY, expected, text_rows("trino_rows"));
    for key in ["postgres_tables", "trino_tables"] {
        let tables: Vec<String> = serde_json::from_value(answer[key].clone()).expect("names");
        assert_eq!(tables, readable, "{key}");
    }

    check_audit_log(&audit_path, &admin).await;

    // A file that no longer parses leaves the rules in force; a good one takes over.
    write_rules(dir.path(), "{\"tables\": [");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let still = collect_query(m7.clone(), SQL)
        .await
        .expect("m7 still reads");
    assert_same_rows(
        "after a broken reload",
        SQL,
        &baseline_rows(&baseline, &merchant_sql(7)).await,
        &still,
    );
    write_rules(
        dir.path(),
        &RULES.replace(
            "\"table\": \"nation|region\"",
            "\"table\": \"nation|region|lineitem\"",
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match collect_query(m7.clone(), "SELECT count(*) FROM tpch.lineitem").await {
            Ok(_) => break,
            Err(e) => {
                assert!(e.contains("Access Denied"), "{e}");
                assert!(Instant::now() < deadline, "the new rules were not loaded");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// The audit lines of the statements above, field by field: who (with the group file's
/// groups), from where, what, which snapshot, under which filter, how it ended, cache hits.
async fn check_audit_log(path: &Path, admin: &FlightSqlServiceClient<Channel>) {
    let snapshot = collect_query(
        admin.clone(),
        "SELECT snapshot_id FROM tpch.\"orders$snapshots\" ORDER BY committed_at DESC LIMIT 1",
    )
    .await
    .expect("orders' snapshot");
    let snapshot: i64 = rows(&snapshot)[0][0].parse().expect("snapshot id");
    let expected_rows = collect_query(
        admin.clone(),
        &format!("SELECT count(*) FROM ({}) WHERE o_custkey % 100 = 7", SQL),
    )
    .await
    .expect("count");
    let expected_rows: u64 = rows(&expected_rows)[0][0].parse().expect("count");
    // Lines are written by a thread of their own: wait for the last statement's.
    let deadline = Instant::now() + Duration::from_secs(10);
    let entries: Vec<serde_json::Value> = loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        assert!(!text.contains(PASSWORD), "a password reached the audit log");
        let entries: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each audit line is JSON"))
            .collect();
        if entries
            .iter()
            .any(|e| e["front_end"] == "trino" && e["state"] == "FAILED")
        {
            break entries;
        }
        assert!(Instant::now() < deadline, "audit log incomplete:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let m7_reads: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["user"] == "m7" && e["sql"] == SQL)
        .collect();
    assert_eq!(m7_reads.len(), 2, "{entries:#?}");
    for (entry, hit) in m7_reads.iter().zip([false, true]) {
        assert_eq!(entry["groups"], serde_json::json!(["merchants"]));
        assert_eq!(entry["front_end"], "flight_sql");
        let client = entry["client_address"].as_str().unwrap_or_default();
        assert!(client.starts_with("127.0.0.1:"), "{entry}");
        assert_eq!(
            entry["tables"],
            serde_json::json!([{"table": "lake.tpch.orders", "snapshot": snapshot}])
        );
        let filters = entry["filters"].as_array().expect("filters");
        assert_eq!(filters.len(), 1, "{entry}");
        assert_eq!(filters[0]["table"], "lake.tpch.orders");
        let policy = filters[0]["policy"].as_str().unwrap_or_default();
        assert!(
            policy.contains("SUBSTR('m7', 2)")
                && policy.contains("o_clerk masked")
                && policy.contains("o_comment hidden"),
            "{policy}"
        );
        assert_eq!(entry["state"], "FINISHED");
        assert_eq!(entry["rows"], expected_rows);
        assert!(entry["bytes"].as_u64().is_some_and(|b| b > 0), "{entry}");
        assert!(entry["error"].is_null());
        assert_eq!(entry["cache_hit"], hit, "{entry}");
        assert!(
            entry["time"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{entry}"
        );
        assert!(
            entry["query_id"].as_str().is_some_and(|q| q.len() == 36),
            "{entry}"
        );
    }
    let refused = entries
        .iter()
        .find(|e| e["user"] == "m7" && e["sql"] == "SELECT count(*) FROM tpch.lineitem")
        .expect("the refused read is logged");
    assert_eq!(refused["state"], "FAILED");
    let error = refused["error"].as_str().unwrap_or_default();
    assert!(error.contains("Access Denied"), "{refused}");
    for front_end in ["postgres", "trino"] {
        let entry = entries
            .iter()
            .find(|e| e["front_end"] == front_end && e["sql"] == SUMMARY)
            .unwrap_or_else(|| panic!("no {front_end} line in {entries:#?}"));
        assert_eq!(entry["user"], "m7");
        let client = entry["client_address"].as_str().unwrap_or_default();
        assert!(client.starts_with("127.0.0.1:"), "{entry}");
        assert_eq!(entry["state"], "FINISHED");
    }
}

#[test]
fn a_broken_rules_file_stops_the_start_naming_the_rule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"{"tables": [{"privileges": ["SELECT"]}, {"table": "orders(", "privileges": ["SELECT"]}]}"#,
    )
    .expect("rules");
    let setting = format!("auth.access_control_file={}", rules.display());
    let warehouse = dir.path().join("lake");
    let mut child = Command::new(common::lakegate_bin())
        .args(["local", "--warehouse"])
        .arg(&warehouse)
        .args([
            "--flight-sql-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .args(["--postgres-addr", "127.0.0.1:0", "--set", &setting])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn lakegate");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("lakegate started with a broken rules file");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("rules.json") && stderr.contains("tables[1]") && stderr.contains("regex"),
        "{stderr}"
    );
}
