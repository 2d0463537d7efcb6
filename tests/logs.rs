//! The log as an operator's pipeline reads it: `LAKEGATE_LOG_FORMAT=json` makes every line one
//! JSON object, lines written while a query runs carry its id, and each query ends with one
//! `query ended` line naming the id the client was given, its state and its size.

mod common;

use common::{LocalServer, shared_lake};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_query_id_on_every_line_of_a_query() {
    let lake = shared_lake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("lakegate.log");
    let mut server = LocalServer::start_logging(
        &lake.warehouse,
        &[],
        &[
            ("LAKEGATE_LOG_FORMAT", "json"),
            ("LAKEGATE_LOG", "warn,lakegate_coordinator=debug"),
        ],
        &log,
    );
    let headers = [("X-Trino-User", "ana"), ("X-Trino-Schema", "tpch")];
    let sql = "SELECT count(*) FROM nation";
    let (status, body) = server
        .http_request("POST", "/v1/statement", &headers, sql.as_bytes())
        .await;
    assert_eq!(status, 200);
    let mut body: Value = serde_json::from_slice(&body).expect("JSON");
    let id = body["id"].as_str().expect("a query id").to_string();
    while let Some(next) = body["nextUri"].as_str().map(str::to_string) {
        let path = &next[next.find("/v1/").expect("a lakegate URI")..];
        let (_, page) = server.http_request("GET", path, &[], b"").await;
        body = serde_json::from_slice(&page).expect("JSON");
    }
    assert_eq!(body["stats"]["state"], "FINISHED", "{body}");
    server.terminate();
    server
        .exited_within(std::time::Duration::from_secs(30))
        .await;

    let text = std::fs::read_to_string(&log).expect("the log");
    let lines: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let of_query: Vec<&Value> = lines
        .iter()
        .filter(|line| line["span"]["query_id"] == id.as_str())
        .collect();
    assert!(
        of_query.iter().any(|line| line["message"] == "classified"),
        "no line of query {id} inside its span:\n{text}"
    );
    let ended = lines
        .iter()
        .find(|line| line["message"] == "query ended" && line["query_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no `query ended` line for {id}:\n{text}"));
    assert_eq!(ended["state"], "Finished");
    assert_eq!(ended["rows"], 1);
    assert_eq!(ended["user"], "ana");
}
