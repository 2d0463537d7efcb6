//! The HTTP front end with a real HTTP/1.1 client over loopback: probes, catalog browsing with
//! its JSON errors, and authentication.

mod common;

use common::{LocalServer, shared_lake};
use lakegate::tpch::TpchTable;
use serde_json::Value;

async fn get_json(server: &LocalServer, path: &str) -> (u16, Value) {
    let (status, body) = server.http_get(path).await;
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body:?}"));
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogs_schemas_tables_and_columns_are_browsable() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    assert_eq!(server.http_get("/healthz").await.0, 200);

    let (status, body) = get_json(&server, "/v1/catalogs").await;
    assert_eq!(
        (status, &body["catalogs"]),
        (200, &serde_json::json!(["lake"]))
    );

    let (status, body) = get_json(&server, "/v1/catalogs/lake/schemas").await;
    assert_eq!(status, 200);
    assert!(
        body["schemas"]
            .as_array()
            .expect("list")
            .contains(&"tpch".into())
    );

    let (status, body) = get_json(&server, "/v1/catalogs/lake/schemas/tpch/tables").await;
    assert_eq!(status, 200);
    let tables = body["tables"].as_array().expect("list");
    for table in TpchTable::ALL {
        assert!(tables.contains(&table.name().into()), "{}", table.name());
    }

    let (status, body) = get_json(&server, "/v1/catalogs/lake/schemas/tpch/tables/nation").await;
    assert_eq!(status, 200);
    let columns: Vec<_> = body["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default(),
                c["type"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(columns[0].0, "n_nationkey");
    assert_eq!(columns.len(), 4, "{columns:?}");

    for (path, code) in [
        ("/v1/catalogs/nope/schemas", "CATALOG_NOT_FOUND"),
        ("/v1/catalogs/lake/schemas/nope/tables", "SCHEMA_NOT_FOUND"),
        (
            "/v1/catalogs/lake/schemas/tpch/tables/nope",
            "TABLE_NOT_FOUND",
        ),
    ] {
        let (status, body) = get_json(&server, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("message")
                .contains("nope")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_other_than_health_need_credentials_in_users_mode() {
    let lake = shared_lake().await;
    let (server, _users) = LocalServer::start_with_user(&lake.warehouse, "ana", "pa55");
    assert_eq!(server.http_get("/healthz").await.0, 200);
    let (status, body) = get_json(&server, "/v1/catalogs").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
    let (status, _) = server.http("POST", "/v1/admin/refresh").await;
    assert_eq!(status, 401);
}

async fn post_query(server: &LocalServer, accept: Option<&str>, body: &str) -> (u16, Vec<u8>) {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(accept) = accept {
        headers.push(("Accept", accept));
    }
    server
        .http_request("POST", "/v1/query", &headers, body.as_bytes())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_stream_in_every_format_with_the_rust_clients_answer() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let sql = "SELECT n_nationkey, n_name, n_regionkey FROM nation WHERE n_regionkey = ? ORDER BY n_nationkey";
    let body =
        serde_json::json!({ "sql": sql, "params": [1], "catalog": "lake", "schema": "tpch" })
            .to_string();
    let literal = sql.replace('?', "1");
    let expected = common::rows(
        &common::collect_query(server.flight_client().await, &literal)
            .await
            .expect("Rust client answer"),
    );

    // Arrow IPC stream is the default.
    let (status, bytes) = post_query(&server, None, &body).await;
    assert_eq!(status, 200);
    let reader = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .expect("an Arrow IPC stream");
    let batches: Vec<_> = reader.collect::<Result<_, _>>().expect("batches");
    assert_eq!(common::rows(&batches), expected);

    let (status, bytes) = post_query(&server, Some("application/json"), &body).await;
    assert_eq!(status, 200);
    let json: Value = serde_json::from_slice(&bytes).expect("JSON body");
    assert_eq!(json["columns"][1]["name"], "n_name");
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), expected.len());
    assert_eq!(rows[0][0], expected[0][0].parse::<i64>().expect("int"));
    assert_eq!(rows[0][1], expected[0][1].as_str());

    let (status, bytes) = post_query(&server, Some("application/x-ndjson"), &body).await;
    assert_eq!(status, 200);
    let lines: Vec<Value> = String::from_utf8(bytes)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), expected.len());
    assert_eq!(lines[0]["n_name"], expected[0][1].as_str());

    let (status, bytes) = post_query(&server, Some("text/csv"), &body).await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(bytes).expect("utf8");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("n_nationkey,n_name,n_regionkey"));
    assert_eq!(lines.count(), expected.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_requests_get_4xx_json_errors() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let cases = [
        (None, "{not json", 400, "MALFORMED_REQUEST"),
        (
            Some("image/png"),
            r#"{"sql": "SELECT 1"}"#,
            406,
            "UNSUPPORTED_FORMAT",
        ),
        (None, r#"{"sql": "SELEC 1"}"#, 400, "INVALID_SQL"),
        (None, r#"{"sql": "SELECT * FROM nope"}"#, 404, "NOT_FOUND"),
        (None, r#"{"sql": "DELETE FROM nation"}"#, 403, "READ_ONLY"),
        (
            None,
            r#"{"sql": "SELECT ?", "params": [[1]]}"#,
            400,
            "BAD_PARAMETER",
        ),
    ];
    for (accept, body, status, code) in cases {
        let (got, bytes) = post_query(&server, accept, body).await;
        let json: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{body}: {e}: {}", String::from_utf8_lossy(&bytes)));
        assert_eq!(
            (got, json["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {json}"
        );
        assert!(!json["error"]["message"].as_str().unwrap_or("").is_empty());
    }
    // The server is unharmed.
    assert_eq!(server.http_get("/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text_with_cache_counters() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let body = r#"{"sql": "SELECT count(*) FROM region"}"#;
    for _ in 0..2 {
        assert_eq!(
            post_query(&server, Some("application/json"), body).await.0,
            200
        );
    }
    let (status, text) = server.http_get("/metrics").await;
    assert_eq!(status, 200);
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} in\n{text}"))
            .trim()
            .parse()
            .expect("a number")
    };
    assert_eq!(value("lakegate_cache_hits_total"), 1);
    assert_eq!(value("lakegate_cache_misses_total"), 1);
    assert_eq!(value("lakegate_executors"), 2);
    assert_eq!(value("lakegate_queries_running"), 0);
    assert!(text.contains("# TYPE lakegate_cache_hits_total counter"));
}
