//! Every limit on what a client sends, through the front ends' real clients: SQL text size,
//! expression depth, parser nesting, HTTP body and header size. Each is refused with an error
//! naming the limit, and the server keeps answering; a statement just under a limit answers
//! right.

mod common;

use common::{LocalServer, collect_query, psql, rows, shared_lake, text};
use serde_json::Value;

/// Small enough to test cheaply, large enough for the chains below.
const MAX_SQL_BYTES: usize = 100_000;
const MAX_REQUEST_BYTES: usize = 1_000_000;

fn start(warehouse: &std::path::Path) -> LocalServer {
    LocalServer::start(
        warehouse,
        &[
            "--set",
            &format!("query.max_sql_bytes={MAX_SQL_BYTES}"),
            "--set",
            &format!("server.max_request_bytes={MAX_REQUEST_BYTES}"),
        ],
    )
}

/// `SELECT count(*) FROM nation WHERE n_nationkey = 0 OR ... OR n_nationkey = terms - 1`:
/// `2 * terms - 1` operators in one chain.
fn or_chain(terms: usize) -> String {
    let terms: Vec<String> = (0..terms).map(|i| format!("n_nationkey = {i}")).collect();
    format!("SELECT count(*) FROM nation WHERE {}", terms.join(" OR "))
}

async fn trino(server: &LocalServer, sql: &str) -> (u16, Value) {
    let headers = [("X-Trino-User", "ana"), ("X-Trino-Schema", "tpch")];
    let (status, body) = server
        .http_request("POST", "/v1/statement", &headers, sql.as_bytes())
        .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn still_answers(server: &LocalServer) {
    let answer = collect_query(server.flight_client().await, "SELECT count(*) FROM nation")
        .await
        .expect("the server answers");
    assert_eq!(rows(&answer), vec![vec!["25".to_string()]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_over_its_size_limit_is_refused_on_every_front_end() {
    let lake = shared_lake().await;
    let server = start(&lake.warehouse);
    let sql = format!("SELECT '{}' AS padding", "x".repeat(MAX_SQL_BYTES));

    let (status, body) = trino(&server, &sql).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["error"]["errorName"], "QUERY_TEXT_TOO_LARGE", "{body}");
    assert_eq!(body["error"]["errorCode"], 35);
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("query.max_sql_bytes"), "{message}");

    let err = collect_query(server.flight_client().await, &sql)
        .await
        .expect_err("too large over Flight SQL");
    assert!(
        err.contains("InvalidArgument") || err.contains("invalid argument"),
        "{err}"
    );
    assert!(
        err.contains(&format!("over the limit of {MAX_SQL_BYTES}")),
        "{err}"
    );

    let (_, stderr) = text(&psql(&server, None, &[&sql]));
    assert!(stderr.contains("54000"), "{stderr}");

    let request = serde_json::json!({ "sql": sql }).to_string();
    let (status, body) = server
        .http_request("POST", "/v1/query", &[], request.as_bytes())
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "QUERY_TEXT_TOO_LARGE");
    still_answers(&server).await;
}

/// A generated `WHERE` of a thousand `OR`s answers right (it once overflowed a thread's stack
/// and aborted the server); one over `query.max_expression_depth` is refused naming where.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_expressions_answer_up_to_the_limit_and_are_refused_past_it() {
    let lake = shared_lake().await;
    let server = start(&lake.warehouse);

    let answer = collect_query(server.flight_client().await, &or_chain(1_000))
        .await
        .expect("a thousand ORs");
    assert_eq!(rows(&answer), vec![vec!["25".to_string()]]);
    let (status, body) = trino(&server, &or_chain(1_000)).await;
    assert_eq!(status, 200);
    assert!(body.get("error").is_none(), "{body}");

    // 1,600 terms chain 3,199 operators: past the default limit of 3,000.
    let deep = or_chain(1_600);
    let err = collect_query(server.flight_client().await, &deep)
        .await
        .expect_err("too deep");
    assert!(err.contains("query.max_expression_depth"), "{err}");
    assert!(err.contains("line 1, column"), "{err}");
    let (_, body) = trino(&server, &deep).await;
    assert_eq!(body["error"]["errorName"], "QUERY_TEXT_TOO_LARGE", "{body}");
    assert_eq!(body["error"]["errorLocation"]["lineNumber"], 1);
    let (_, stderr) = text(&psql(&server, None, &[&deep]));
    assert!(stderr.contains("54001"), "{stderr}");

    // Parentheses nest in the parser, which takes 50 levels.
    let nested = format!("SELECT {}1{}", "(".repeat(60), ")".repeat(60));
    let err = collect_query(server.flight_client().await, &nested)
        .await
        .expect_err("nested too deep");
    assert!(err.contains("more than 50 levels"), "{err}");
    still_answers(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_bodies_and_headers_over_their_limits_are_refused() {
    let lake = shared_lake().await;
    let server = start(&lake.warehouse);
    let big = vec![b'x'; MAX_REQUEST_BYTES + 1];
    for path in ["/v1/query", "/v1/statement"] {
        let (status, body) = server
            .http_request("POST", path, &[("X-Trino-User", "ana")], &big)
            .await;
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(status, 413, "{path}: {body}");
        assert_eq!(body["error"]["code"], "REQUEST_TOO_LARGE", "{path}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("server.max_request_bytes"), "{message}");
    }
    // hyper's header limit (about 400 KiB in all): 431, and the connection is closed.
    let header = "y".repeat(512 * 1024);
    let (status, _) = server
        .http_request("GET", "/healthz", &[("X-Padding", &header)], b"")
        .await;
    assert_eq!(status, 431);
    assert_eq!(server.http_get("/healthz").await.0, 200);
    still_answers(&server).await;
}
