//! The HTTP front end with a real HTTP/1.1 client over loopback: probes, catalog browsing with
//! its JSON errors, authentication, queries in every format, saved queries with their ETags,
//! the query list, cancellation, the page at `/` and metrics.

mod common;

use common::{LocalServer, baseline_context, baseline_rows, shared_lake};
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

/// The value of the unlabelled series `name` in a `/metrics` text.
fn metric_value(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in\n{text}"))
        .trim()
        .parse()
        .expect("a number")
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
    let value = |name: &str| metric_value(&text, name);
    assert_eq!(value("lakegate_cache_hits_total"), 1);
    assert_eq!(value("lakegate_cache_misses_total"), 1);
    assert_eq!(value("lakegate_executors"), 2);
    assert_eq!(value("lakegate_queries_running"), 0);
    assert!(text.contains("# TYPE lakegate_cache_hits_total counter"));
    assert_eq!(
        value("lakegate_queries_total{front_end=\"http\",state=\"FINISHED\"}"),
        2
    );
    assert_eq!(
        value("lakegate_query_duration_seconds_count{front_end=\"http\"}"),
        2
    );
    assert_eq!(
        value("lakegate_query_duration_seconds_bucket{front_end=\"http\",le=\"+Inf\"}"),
        2
    );
    assert!(text.contains("# TYPE lakegate_query_duration_seconds histogram"));
    assert!(text.contains("\nlakegate_cache_hit_ratio 0.5\n"), "{text}");
    // Each answer was one row.
    assert_eq!(value("lakegate_result_rows_total"), 2);
    assert!(value("lakegate_result_bytes_total") > 0);
    // Both in-process executors, by URL, with the work their heartbeats report.
    let per_executor = |metric: &str| {
        text.lines()
            .filter(|line| line.starts_with(&format!("{metric}{{executor=\"http")))
            .count()
    };
    assert_eq!(per_executor("lakegate_executor_running_tasks"), 2, "{text}");
    assert_eq!(per_executor("lakegate_executor_scans_started_total"), 2);
    assert!(text.contains("# TYPE lakegate_executor_lost_total counter"));
    assert!(text.contains("\nlakegate_query_reruns_total{after_rows=\"true\"} 0\n"));

    // What scans read: files planned and pruned on the coordinator, rows and bytes read where
    // the scans ran (executors report theirs with their next heartbeat; plans this small may
    // also stay whole on the coordinator).
    let body = r#"{"sql": "SELECT sum(l_quantity) FROM lineitem"}"#;
    assert_eq!(
        post_query(&server, Some("application/json"), body).await.0,
        200
    );
    let scanned = |text: &str, what: &str| -> u64 {
        let executors = format!("lakegate_executor_scan_{what}_total{{executor=");
        let coordinator = format!("lakegate_coordinator_scan_{what}_total ");
        text.lines()
            .filter(|line| line.starts_with(&executors) || line.starts_with(&coordinator))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let text = loop {
        let (_, text) = server.http_get("/metrics").await;
        if scanned(&text, "rows") > 0 {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scanned rows reported:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let counted = baseline_rows(
        &baseline_context(lake).await,
        "SELECT count(*) FROM lineitem",
    )
    .await;
    let lineitem_rows = common::rows(&counted)[0][0]
        .parse::<u64>()
        .expect("a count");
    // Every line at least once (the region count before may have scanned too).
    assert!(
        scanned(&text, "rows") >= lineitem_rows,
        "{lineitem_rows} lines in\n{text}"
    );
    assert!(scanned(&text, "bytes") > 0);
    let value = |name: &str| metric_value(&text, name);
    assert!(value("lakegate_scan_files_planned_total") >= 1, "{text}");
    assert!(text.contains("# TYPE lakegate_scan_files_pruned_total counter"));

    // Every series the chart's Grafana dashboard plots is one this server exports.
    let dashboard = include_str!("../charts/lakegate/dashboards/lakegate.json");
    let dashboard: serde_json::Value = serde_json::from_str(dashboard).expect("dashboard JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut plotted = 0;
    for target in panels
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
    {
        let expr = target["expr"].as_str().expect("a PromQL expression");
        for (at, _) in expr.match_indices("lakegate_") {
            let name: String = expr[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|base| text.contains(&format!("# TYPE {base} ")))
                .unwrap_or(&name);
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "the dashboard plots {name}, which /metrics does not export"
            );
            plotted += 1;
        }
    }
    assert!(plotted >= 15, "{plotted} series plotted");
}

/// A request with `headers` and a text body; the status, the response head (lower case) and
/// the body.
async fn exchange(
    server: &LocalServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, Vec<u8>) {
    server
        .http_exchange(method, path, headers, body.as_bytes())
        .await
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

/// How many queries the tracker lists whose SQL is `sql`.
async fn runs_of(server: &LocalServer, sql: &str) -> usize {
    let (_, body) = get_json(server, "/v1/queries").await;
    body["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .filter(|q| q["sql"] == sql)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_queries_revalidate_by_etag_until_a_new_snapshot() {
    let lake = common::TestLake::write(common::TEST_SCALE).await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let sql = "SELECT count(*) AS n FROM lake.tpch.lineitem WHERE l_quantity < ?";
    let put = serde_json::json!({ "sql": sql, "description": "small lines" }).to_string();
    let json = [("Content-Type", "application/json")];
    let (status, _, _) = exchange(&server, "PUT", "/v1/saved/small-lines", &json, &put).await;
    assert_eq!(status, 201);
    let (status, _, _) = exchange(&server, "PUT", "/v1/saved/small-lines", &json, &put).await;
    assert_eq!(status, 200, "a second PUT replaces");
    let (status, body) = get_json(&server, "/v1/saved/small-lines").await;
    assert_eq!((status, body["sql"].as_str()), (200, Some(sql)));
    let (_, body) = get_json(&server, "/v1/saved").await;
    assert_eq!(body["saved"][0]["name"], "small-lines");

    // The answer equals the engine's, with an ETag and Cache-Control.
    let engine = lake.engine().await;
    let expected =
        common::engine_rows(&engine, &common::session(&engine), &sql.replace('?', "10")).await;
    let accept = [("Accept", "application/json")];
    let path = "/v1/saved/small-lines/result?param=10";
    let (status, head, body) = exchange(&server, "GET", path, &accept, "").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    let n = common::rows(&expected)[0][0].parse::<i64>().expect("count");
    assert_eq!(body["rows"][0][0], n);
    let etag = header(&head, "etag").expect("an ETag").to_string();
    assert_eq!(header(&head, "cache-control"), Some("private, no-cache"));

    // A matching If-None-Match: 304 without running the query.
    let runs = runs_of(&server, sql).await;
    let conditional = [
        ("Accept", "application/json"),
        ("If-None-Match", etag.as_str()),
    ];
    let (status, head, body) = exchange(&server, "GET", path, &conditional, "").await;
    assert_eq!(status, 304);
    assert!(body.is_empty());
    assert_eq!(header(&head, "etag"), Some(etag.as_str()));
    assert_eq!(runs_of(&server, sql).await, runs, "a 304 runs nothing");
    // Other parameters or another format are another representation.
    let other = "/v1/saved/small-lines/result?param=20";
    assert_eq!(
        exchange(&server, "GET", other, &conditional, "").await.0,
        200
    );
    let csv = [("Accept", "text/csv"), ("If-None-Match", etag.as_str())];
    assert_eq!(exchange(&server, "GET", path, &csv, "").await.0, 200);

    // A new snapshot of lineitem: the same request gets the new answer and a new tag (the
    // coordinator sees the commit within its 1 s refresh interval).
    lake.append_lineitems().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, head, _) = exchange(&server, "GET", path, &conditional, "").await;
        if status == 200 {
            assert_ne!(header(&head, "etag"), Some(etag.as_str()));
            break;
        }
        assert_eq!(status, 304);
        assert!(
            std::time::Instant::now() < deadline,
            "the commit was never seen"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // The definition survives a restart.
    drop(server);
    let server = LocalServer::start(&lake.warehouse, &[]);
    let (status, body) = get_json(&server, "/v1/saved/small-lines").await;
    assert_eq!(
        (status, body["description"].as_str()),
        (200, Some("small lines"))
    );
    assert_eq!(
        exchange(&server, "DELETE", "/v1/saved/small-lines", &[], "")
            .await
            .0,
        204
    );
    assert_eq!(server.http_get("/v1/saved/small-lines").await.0, 404);
}

/// Method, path, headers, body, expected status and error code.
type Case<'a> = (
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a str,
    u16,
    &'a str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_saved_query_requests_get_4xx_json_errors() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let json = [("Content-Type", "application/json")];
    let cases: [Case; 6] = [
        (
            "GET",
            "/v1/saved/nothing-here/result",
            &[],
            "",
            404,
            "SAVED_QUERY_NOT_FOUND",
        ),
        (
            "PUT",
            "/v1/saved/bad%20name",
            &[],
            "SELECT 1",
            400,
            "BAD_NAME",
        ),
        (
            "PUT",
            "/v1/saved/w",
            &[],
            "INSERT INTO lake.tpch.nation VALUES (1)",
            403,
            "READ_ONLY",
        ),
        (
            "PUT",
            "/v1/saved/b",
            &json,
            "{\"sql\": ",
            400,
            "MALFORMED_REQUEST",
        ),
        ("PUT", "/v1/saved/s", &[], "SELEC 1", 400, "INVALID_SQL"),
        (
            "DELETE",
            "/v1/queries/not-a-uuid",
            &[],
            "",
            400,
            "BAD_QUERY_ID",
        ),
    ];
    for (method, path, headers, body, status, code) in cases {
        let (got, _, body) = exchange(&server, method, path, headers, body).await;
        let body: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}: {body:?}"));
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {body}"
        );
        assert!(!body["error"]["message"].as_str().unwrap_or("").is_empty());
    }
    // A plain-text PUT stores the SQL; an unknown query-string key is named.
    assert_eq!(
        exchange(&server, "PUT", "/v1/saved/plain", &[], "SELECT 1 AS one")
            .await
            .0,
        201
    );
    let (status, _, body) =
        exchange(&server, "GET", "/v1/saved/plain/result?parm=1", &[], "").await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("parm"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_are_listed_cancelled_and_shown_on_the_page() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let sql = "SELECT n_name FROM lake.tpch.nation WHERE n_name <> '<b>'";
    let body = serde_json::json!({ "sql": sql }).to_string();
    assert_eq!(
        post_query(&server, Some("application/json"), &body).await.0,
        200
    );
    let (status, body) = get_json(&server, "/v1/queries").await;
    assert_eq!(status, 200);
    let query = body["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .find(|q| q["sql"] == sql)
        .expect("the query is listed")
        .clone();
    assert_eq!(query["state"], "FINISHED");
    assert_eq!(query["rows"], 25);
    assert_eq!(query["front_end"], "http");
    let id = query["id"].as_str().expect("id");
    let (status, one) = get_json(&server, &format!("/v1/queries/{id}")).await;
    assert_eq!((status, &one["id"]), (200, &query["id"]));
    // Once its rows ended, the plan is drawn again with what each operator did.
    let plan = one["plan"].as_str().expect("plan");
    assert!(plan.contains("output_rows="), "{plan}");
    let (_, _, html) = exchange(&server, "GET", &format!("/ui/query/{id}"), &[], "").await;
    let html = String::from_utf8_lossy(&html);
    assert!(
        html.contains("output_rows=") && html.contains("elapsed_compute="),
        "{html}"
    );
    // Cancelling a finished query says so.
    let (status, _) = server.http("DELETE", &format!("/v1/queries/{id}")).await;
    assert_eq!(status, 409);

    // A Trino query planned and not fetched is running; DELETE stops it, and its client's
    // next page reports the cancellation.
    let long = "SELECT l_orderkey, l_comment FROM lake.tpch.lineitem";
    let (status, _, body) = exchange(
        &server,
        "POST",
        "/v1/statement",
        &[("X-Trino-User", "ana")],
        long,
    )
    .await;
    assert_eq!(status, 200);
    let first: Value = serde_json::from_slice(&body).expect("JSON");
    let id = first["id"].as_str().expect("id").to_string();
    let (_, listed) = get_json(&server, &format!("/v1/queries/{id}")).await;
    assert_eq!(listed["state"], "RUNNING");
    let (status, _) = server.http("DELETE", &format!("/v1/queries/{id}")).await;
    assert_eq!(status, 200);
    let next = first["nextUri"].as_str().expect("nextUri");
    let path = &next[next.find("/v1/").expect("path")..];
    let (_, page) = get_json(&server, path).await;
    assert_eq!(page["error"]["errorName"], "USER_CANCELED", "{page}");
    assert!(page.get("nextUri").is_none());
    let (_, listed) = get_json(&server, &format!("/v1/queries/{id}")).await;
    assert_eq!(listed["state"], "CANCELLED");
    assert_eq!(
        server
            .http("DELETE", "/v1/queries/00000000-0000-0000-0000-000000000000")
            .await
            .0,
        404
    );

    // The page lists both, the SQL escaped.
    let (status, head, html) = exchange(&server, "GET", "/", &[], "").await;
    let html = String::from_utf8_lossy(&html);
    assert_eq!(status, 200);
    assert!(header(&head, "content-type").is_some_and(|t| t.starts_with("text/html")));
    assert!(
        html.contains("n_name &lt;&gt; &#39;&lt;b&gt;&#39;"),
        "{html}"
    );
    assert!(html.contains(&id) && html.contains("CANCELLED"));
    assert!(html.contains(&format!("href=\"/ui/query/{id}\"")), "{html}");

    // Each query's page: who, how it ended, its SQL and the plan it ran (distributed when
    // the scans are big enough to spread; this one is kept whole).
    let (status, head, html) = exchange(&server, "GET", &format!("/ui/query/{id}"), &[], "").await;
    let html = String::from_utf8_lossy(&html);
    assert_eq!(status, 200);
    assert!(header(&head, "content-type").is_some_and(|t| t.starts_with("text/html")));
    for part in ["CANCELLED", "l_comment", "IcebergScanExec", "snapshot="] {
        assert!(html.contains(part), "{part} in\n{html}");
    }
    assert!(
        listed["plan"]
            .as_str()
            .is_some_and(|p| p.contains("IcebergScanExec"))
    );
    // The polled list leaves plans out.
    let (_, all) = get_json(&server, "/v1/queries").await;
    let all = all["queries"].as_array().expect("queries");
    assert!(!all.is_empty() && all.iter().all(|q| q.get("plan").is_none()));
    let unknown = "/ui/query/00000000-0000-0000-0000-000000000000";
    assert_eq!(exchange(&server, "GET", unknown, &[], "").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_operations_need_credentials_in_users_mode() {
    let lake = shared_lake().await;
    let (server, _users) = LocalServer::start_with_user(&lake.warehouse, "ana", "pa55");
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "ana:pa55")
    );
    let auth = [("Authorization", basic.as_str())];
    assert_eq!(
        exchange(&server, "GET", "/v1/queries", &[], "").await.0,
        401
    );
    let (status, head, _) = exchange(&server, "GET", "/", &[], "").await;
    assert_eq!(status, 401);
    assert!(header(&head, "www-authenticate").is_some_and(|v| v.contains("basic")));
    let (status, _, body) = exchange(&server, "GET", "/v1/queries", &auth, "").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(exchange(&server, "GET", "/", &auth, "").await.0, 200);
}
