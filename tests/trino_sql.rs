//! Trino SQL conformance: the examples of Trino's function documentation (`tests/trino_sql/`,
//! each a query and the result the documentation states) run against `lakegate local` through
//! the Trino protocol (the `trino` client) and through Flight SQL (ADBC, `SET dialect =
//! trino`). The script prints passed/total per function family and front end, and every case
//! that failed with what came back.

mod common;

use std::process::Command;

use common::{LocalServer, shared_lake};

/// The share of the corpus each front end must pass. It only rises: the goal is 0.95,
/// and the note of each stop lists the cases still failing and why.
const MIN_PASS_RATE: f64 = 0.74;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trino_documentation_examples_give_the_documented_answers() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/trino_conformance.py"
    );
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/trino_sql");
    let output = Command::new(common::python())
        .arg(script)
        .args(["--corpus", corpus])
        .args(["--http-port", &server.http_port.to_string()])
        .args(["--flight-port", &server.port.to_string()])
        .args(["--min-pass-rate", &MIN_PASS_RATE.to_string()])
        .output()
        .expect("run the conformance script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the Trino SQL corpus passed less than {MIN_PASS_RATE} on a front end\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}
