//! The Trino client protocol: the real `trino` Python client and its SQLAlchemy dialect
//! against `lakegate local` (checks in `tests/python/trino_client.py`, TPC-H answers compared
//! here with the Rust Flight SQL client's), and the protocol itself with a raw HTTP client:
//! paging and retries, session headers, error objects, cancellation and authentication.

mod common;

use std::process::Command;

use common::{LocalServer, shared_lake};
use lakegate::tpch::QUERIES;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trino_python_client_and_sqlalchemy_work_unmodified() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let mut queries = serde_json::Map::new();
    for name in ["q01", "q06"] {
        let (_, sql) = QUERIES.iter().find(|(n, _)| *n == name).expect("query");
        queries.insert(name.to_string(), Value::String(sql.to_string()));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("queries.json");
    std::fs::write(&file, Value::Object(queries.clone()).to_string()).expect("queries file");

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/trino_client.py");
    let output = Command::new(common::python())
        .arg(script)
        .args(["--port", &server.http_port.to_string()])
        .arg("--queries")
        .arg(&file)
        .output()
        .expect("run the trino client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "trino client checks failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    println!("{stdout}");
    let answers: Value = serde_json::from_str(stdout.lines().last().expect("answers"))
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let text_rows = |value: &Value| -> Vec<Vec<String>> {
        value
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                row.as_array()
                    .expect("row")
                    .iter()
                    .map(|v| v.as_str().expect("text").to_string())
                    .collect()
            })
            .collect()
    };
    for (name, sql) in &queries {
        let sql = sql.as_str().expect("sql");
        let expected = common::collect_query(server.flight_client().await, sql)
            .await
            .expect("the Rust client's answer");
        common::assert_same_text_rows(
            name,
            sql,
            common::rows(&expected),
            text_rows(&answers[name]),
        );
    }
    let literal = "SELECT count(*) FROM lake.tpch.lineitem WHERE l_quantity < 10 \
                   AND l_shipdate >= DATE '1995-01-01' AND l_returnflag = 'N'";
    let expected = common::collect_query(server.flight_client().await, literal)
        .await
        .expect("count");
    common::assert_same_text_rows(
        "params",
        literal,
        common::rows(&expected),
        text_rows(&answers["params"]),
    );
}

/// A POST to `/v1/statement`: status, response head (lower case) and JSON body.
async fn statement(
    server: &LocalServer,
    sql: &str,
    headers: &[(&str, &str)],
) -> (u16, String, Value) {
    let mut all = vec![
        ("X-Trino-User", "ana"),
        ("X-Trino-Catalog", "lake"),
        ("X-Trino-Schema", "tpch"),
    ];
    all.extend_from_slice(headers);
    let (status, head, body) = server
        .http_exchange("POST", "/v1/statement", &all, sql.as_bytes())
        .await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, head, json)
}

/// `METHOD uri` for a URI from a response (`nextUri`).
async fn follow(server: &LocalServer, method: &str, uri: &str) -> (u16, Value) {
    let path = &uri[uri.find("/v1/").expect("a lakegate URI")..];
    let (status, _, body) = server.http_exchange(method, path, &[], b"").await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_retries_session_headers_errors_and_cancel() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);

    // Paging: every row once, in pages; a repeated GET of a page serves it again.
    let (status, _, first) = statement(&server, "SELECT l_orderkey FROM lineitem", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(first["columns"][0]["type"], "bigint");
    assert_eq!(first["columns"][0]["typeSignature"]["rawType"], "bigint");
    assert!(first["infoUri"].as_str().is_some());
    let mut next = first["nextUri"].as_str().expect("nextUri").to_string();
    let (mut rows, mut pages) = (0, 0);
    let state = loop {
        let (status, page) = follow(&server, "GET", &next).await;
        assert_eq!(status, 200, "{page}");
        if pages == 0 {
            let (_, again) = follow(&server, "GET", &next).await;
            assert_eq!(
                again["data"], page["data"],
                "a retried page is the same page"
            );
        }
        let page_rows = page["data"].as_array().map_or(0, Vec::len);
        // A page holds at most 16,384 rows (the front end's `PAGE_ROWS`), however large the
        // result: clients and proxies never see an unbounded response.
        assert!(page_rows <= 16_384, "a page of {page_rows} rows");
        rows += page_rows;
        pages += 1;
        match page["nextUri"].as_str() {
            Some(uri) => next = uri.to_string(),
            None => break page["stats"]["state"].as_str().unwrap_or("").to_string(),
        }
    };
    let expected = common::collect_query(
        server.flight_client().await,
        "SELECT count(*) FROM lake.tpch.lineitem",
    )
    .await
    .expect("count");
    assert_eq!(rows.to_string(), common::rows(&expected)[0][0]);
    assert!(pages > 1, "{rows} rows came in {pages} page(s)");
    assert_eq!(state, "FINISHED");
    // The last page again is served again; a page past it is gone.
    assert_eq!(follow(&server, "GET", &next).await.0, 200);
    let (base, token) = next.rsplit_once('/').expect("token");
    let ahead = format!("{base}/{}", token.parse::<u64>().expect("token") + 5);
    assert_eq!(follow(&server, "GET", &ahead).await.0, 410);

    // Session statements answer with the headers that change the client's session.
    let (_, head, body) = statement(&server, "SET SESSION max_staleness = '30s'", &[]).await;
    assert_eq!(body["updateType"], "SET SESSION");
    assert_eq!(
        header(&head, "x-trino-set-session"),
        Some("max_staleness=30s")
    );
    let (_, _, body) = statement(&server, "SET SESSION cache = 'maybe'", &[]).await;
    assert_eq!(body["error"]["errorName"], "INVALID_SESSION_PROPERTY");
    let (_, head, _) = statement(&server, "PREPARE st FROM SELECT ? + 1", &[]).await;
    assert_eq!(
        header(&head, "x-trino-added-prepare"),
        Some("st=select+%3f+%2b+1")
    );
    let prepared = [("X-Trino-Prepared-Statement", "st=SELECT+%3F+%2B+1")];
    let (_, _, body) = statement(&server, "EXECUTE st USING 41", &prepared).await;
    let (_, page) = follow(&server, "GET", body["nextUri"].as_str().expect("next")).await;
    assert_eq!(page["data"], serde_json::json!([[42]]));
    let (_, head, body) = statement(&server, "USE lake.tpch", &[]).await;
    assert_eq!(body["updateType"], "USE", "{body}");
    assert_eq!(header(&head, "x-trino-set-schema"), Some("tpch"));
    assert_eq!(header(&head, "x-trino-set-catalog"), Some("lake"));
    let session = [("X-Trino-Session", "datafusion.execution.batch_size=nope")];
    let (_, _, body) = statement(&server, "SELECT 1", &session).await;
    assert_eq!(body["error"]["errorName"], "INVALID_SESSION_PROPERTY");

    // Errors: Trino's error object, with the position of a syntax error.
    let (status, _, body) = statement(&server, "SELECT 1\nFROM nation WHERE )", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["error"]["errorName"], "SYNTAX_ERROR");
    assert_eq!(body["error"]["errorType"], "USER_ERROR");
    assert_eq!(body["error"]["errorLocation"]["lineNumber"], 2);
    assert!(body.get("nextUri").is_none());
    let (_, _, body) = statement(&server, "SELECT * FROM nowhere", &[]).await;
    assert_eq!(body["error"]["errorName"], "TABLE_NOT_FOUND");
    // Trino's names for a misspelt function (with what was meant), a missing column and a
    // division by zero while running.
    let (_, _, body) = statement(&server, "SELECT\n  lenght(n_name) FROM nation", &[]).await;
    assert_eq!(body["error"]["errorName"], "FUNCTION_NOT_FOUND");
    assert_eq!(body["error"]["errorLocation"]["lineNumber"], 2);
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("length"), "{message}");
    let (_, _, body) = statement(&server, "SELECT n_nmae FROM nation", &[]).await;
    assert_eq!(body["error"]["errorName"], "COLUMN_NOT_FOUND");
    let sql = "SELECT n_nationkey / (n_regionkey - n_regionkey) FROM nation";
    let (_, _, body) = statement(&server, sql, &[]).await;
    let body = match body.get("error") {
        Some(_) => body,
        None => {
            let next = body["nextUri"].as_str().unwrap_or_default().to_string();
            let mut page = follow(&server, "GET", &next).await.1;
            while page.get("error").is_none() {
                let Some(next) = page["nextUri"].as_str().map(str::to_string) else {
                    break;
                };
                page = follow(&server, "GET", &next).await.1;
            }
            page
        }
    };
    assert_eq!(body["error"]["errorName"], "DIVISION_BY_ZERO", "{body}");
    let (_, _, body) = statement(&server, "DELETE FROM nation", &[]).await;
    assert_eq!(body["error"]["errorName"], "PERMISSION_DENIED");
    let (_, _, body) = statement(&server, "EXECUTE missing USING 1", &[]).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing"))
    );
    let (status, _, _) = statement(&server, "", &[]).await;
    assert_eq!(status, 400);

    // DELETE nextUri cancels: 204, the query is recorded cancelled, its pages are gone.
    let (_, _, body) = statement(&server, "SELECT * FROM lineitem", &[]).await;
    let next = body["nextUri"].as_str().expect("next").to_string();
    assert_eq!(follow(&server, "DELETE", &next).await.0, 204);
    assert_eq!(follow(&server, "GET", &next).await.0, 410);
    let id = body["id"].as_str().expect("id");
    let (_, info) = follow(&server, "GET", &format!("/v1/query/{id}")).await;
    assert_eq!(info["state"], "CANCELLED", "{info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_need_credentials_in_users_mode() {
    let lake = shared_lake().await;
    let (server, _users) = LocalServer::start_with_user(&lake.warehouse, "ana", "pa55");
    let (status, _, body) = statement(&server, "SELECT 1", &[]).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().is_some());
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "ana:wrong")
    );
    let (status, _, _) = statement(&server, "SELECT 1", &[("Authorization", &basic)]).await;
    assert_eq!(status, 401);
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "ana:pa55")
    );
    let (status, _, body) = statement(&server, "SELECT 1", &[("Authorization", &basic)]).await;
    assert_eq!(status, 200);
    assert!(body.get("error").is_none(), "{body}");
}

/// Every page of `sql`'s answer: the column names and the rows, or the error object.
async fn answer(server: &LocalServer, sql: &str) -> Result<(Vec<String>, Vec<Value>), Value> {
    let (status, _, mut page) = statement(server, sql, &[]).await;
    assert_eq!(status, 200, "{sql}: {page}");
    let (mut columns, mut rows) = (Vec::new(), Vec::new());
    loop {
        if let Some(error) = page.get("error") {
            return Err(error.clone());
        }
        if let (true, Some(names)) = (columns.is_empty(), page["columns"].as_array()) {
            columns = names
                .iter()
                .map(|c| c["name"].as_str().unwrap_or_default().to_string())
                .collect();
        }
        rows.extend(page["data"].as_array().cloned().unwrap_or_default());
        let Some(next) = page["nextUri"].as_str().map(str::to_string) else {
            return Ok((columns, rows));
        };
        let (status, next_page) = follow(server, "GET", &next).await;
        assert_eq!(status, 200, "{sql}: {next_page}");
        page = next_page;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_types_and_table_samples_as_trino_has_them() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let count = |rows: &[Value]| rows[0][0].as_i64().expect("a count");

    // EXPLAIN (TYPE ...): one plan under `Query Plan`, or whether the statement plans.
    let sql = "SELECT o_orderstatus, count(*) FROM orders GROUP BY 1";
    let (columns, rows) = answer(&server, &format!("EXPLAIN (TYPE DISTRIBUTED) {sql}"))
        .await
        .expect("distributed plan");
    assert_eq!(columns, ["Query Plan"]);
    let plan = rows[0][0].as_str().expect("plan text");
    assert!(plan.contains("IcebergScanExec"), "{plan}");
    // It says first whether it runs whole on the coordinator or in stages on executors.
    assert!(
        plan.starts_with("Path: single stage on the coordinator")
            || plan.starts_with("Path: distributed, "),
        "{plan}"
    );
    let (_, rows) = answer(
        &server,
        &format!("EXPLAIN (TYPE LOGICAL, FORMAT TEXT) {sql}"),
    )
    .await
    .expect("logical plan");
    let plan = rows[0][0].as_str().expect("plan text");
    assert!(plan.contains("Aggregate"), "{plan}");
    let (columns, rows) = answer(&server, &format!("EXPLAIN (TYPE VALIDATE) {sql}"))
        .await
        .expect("validate");
    assert_eq!(
        (columns, rows),
        (vec!["Valid".to_string()], vec![serde_json::json!([true])])
    );
    let error = answer(&server, &format!("EXPLAIN (TYPE IO) {sql}"))
        .await
        .expect_err("TYPE IO is refused");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("TYPE IO"),
        "{error}"
    );
    let error = answer(
        &server,
        "EXPLAIN (TYPE VALIDATE) SELECT nothing FROM orders",
    )
    .await
    .expect_err("an invalid statement does not validate");
    assert_eq!(error["errorName"], "COLUMN_NOT_FOUND", "{error}");

    // TABLESAMPLE: all rows at 100 percent, none at 0, some at 50, on either method.
    let (_, rows) = answer(&server, "SELECT count(*) FROM lineitem")
        .await
        .expect("count");
    let all = count(&rows);
    let sampled = |method: &str, percent: u32| {
        format!(
            "SELECT count(*) FROM lineitem AS l TABLESAMPLE {method} ({percent}) WHERE l.l_quantity > 0"
        )
    };
    for method in ["BERNOULLI", "SYSTEM"] {
        let (_, rows) = answer(&server, &sampled(method, 100)).await.expect("100%");
        assert_eq!(count(&rows), all, "{method} (100)");
        let (_, rows) = answer(&server, &sampled(method, 0)).await.expect("0%");
        assert_eq!(count(&rows), 0, "{method} (0)");
        let (_, rows) = answer(&server, &sampled(method, 50)).await.expect("50%");
        let half = count(&rows);
        assert!(half > 0 && half < all, "{method} (50): {half} of {all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_of_values_and_types_carry_trinos_names() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    for (sql, name, code) in [
        ("SELECT 'a' + 1", "TYPE_MISMATCH", 58),
        (
            "SELECT CAST(o_comment AS integer) FROM orders",
            "INVALID_CAST_ARGUMENT",
            9,
        ),
        ("SELECT CAST('x' AS integer)", "INVALID_CAST_ARGUMENT", 9),
        // Integer overflow fails, as in Trino; DataFusion alone wraps around to a negative sum.
        (
            "SELECT max(9223372036854775807 + o_orderkey) FROM orders",
            "NUMERIC_VALUE_OUT_OF_RANGE",
            19,
        ),
        (
            "SELECT 3037000500 * 3037000500",
            "NUMERIC_VALUE_OUT_OF_RANGE",
            19,
        ),
    ] {
        let error = answer(&server, sql).await.expect_err(sql);
        assert_eq!(error["errorName"], name, "{sql}: {error}");
        assert_eq!(error["errorCode"], code, "{sql}: {error}");
        assert_eq!(error["errorType"], "USER_ERROR", "{sql}: {error}");
    }
    // TRY turns the same failures into NULL; arithmetic that fits is unchanged.
    let (_, rows) = answer(
        &server,
        "SELECT TRY(9223372036854775807 + o_orderkey), TRY(CAST(o_comment AS integer)), \
         o_orderkey * 2 - 1 FROM orders WHERE o_orderkey = 1",
    )
    .await
    .expect("TRY");
    assert_eq!(rows, [serde_json::json!([null, null, 1])]);
}
