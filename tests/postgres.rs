//! The PostgreSQL wire protocol with the real `psql` and `psycopg` against `lakegate local`: TPC-H Q1 equal
//! to the Rust Flight SQL client's answer, SQLSTATE codes for a refused write and a wrong
//! password, and per-connection sessions.

mod common;

use std::process::{Command, Output};

use common::{LocalServer, shared_lake};
use lakegate::tpch::QUERIES;

/// `psql` on the server's PostgreSQL port, unaligned, tuples only, verbose errors (with their
/// SQLSTATE), one `-c` per statement.
fn psql(server: &LocalServer, password: Option<&str>, statements: &[&str]) -> Output {
    let mut command = Command::new("psql");
    command
        .args(["-h", "127.0.0.1", "-p", &server.postgres_port.to_string()])
        .args(["-U", "ana", "-d", "lake", "-X", "-A", "-t", "-F", "|"])
        .args(["-v", "VERBOSITY=verbose", "-v", "ON_ERROR_STOP=1"])
        .env("PGCONNECT_TIMEOUT", "10");
    match password {
        Some(password) => command.env("PGPASSWORD", password),
        None => command.env_remove("PGPASSWORD"),
    };
    for statement in statements {
        command.args(["-c", statement]);
    }
    command.output().expect("run psql (postgresql-client)")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_runs_tpch_q1_with_the_rust_clients_answer() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let (_, sql) = QUERIES.iter().find(|(n, _)| *n == "q01").expect("q01");
    let output = psql(&server, None, &[sql]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let actual: Vec<Vec<String>> = stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect();
    let expected = common::collect_query(server.flight_client().await, sql)
        .await
        .expect("Q1");
    common::assert_same_text_rows("q01", sql, common::rows(&expected), actual);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_errors_carry_sqlstate_codes() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let cases = [
        ("INSERT INTO tpch.nation VALUES (1, 'x', 1, 'x')", "25006"),
        ("SELEC 1", "42601"),
        ("SELECT * FROM tpch.nowhere", "42P01"),
    ];
    for (sql, code) in cases {
        let output = psql(&server, None, &[sql]);
        let (_, stderr) = text(&output);
        assert!(!output.status.success(), "{sql} succeeded");
        assert!(stderr.contains(code), "{sql}: expected {code} in {stderr}");
    }
    // BEGIN/COMMIT are accepted around a read.
    let output = psql(
        &server,
        None,
        &["BEGIN", "SELECT count(*) FROM tpch.region", "COMMIT"],
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.lines().any(|l| l == "5"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_connection_has_its_own_search_path() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let output = psql(
        &server,
        None,
        &[
            "SET search_path = tpch",
            "SHOW search_path",
            "SELECT count(*) FROM nation",
        ],
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("tpch") && stdout.lines().any(|l| l == "25"),
        "{stdout}"
    );
    // Another connection did not see that SET.
    let output = psql(&server, None, &["SHOW search_path"]);
    let (stdout, _) = text(&output);
    assert!(!stdout.contains("search_path = tpch"), "{stdout}");
    let output = psql(&server, None, &["SET search_path = nowhere"]);
    assert!(!output.status.success(), "an unknown schema is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_with_28p01() {
    let lake = shared_lake().await;
    let (server, _users) = LocalServer::start_with_user(&lake.warehouse, "ana", "pa55");
    let output = psql(&server, Some("wrong"), &["SELECT 1"]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    // libpq shows the server's message for a failed login (its SQLSTATE, 28P01, is not
    // printed by psql for connection errors).
    assert!(
        stderr.contains("28P01")
            || stderr
                .to_ascii_lowercase()
                .contains("password authentication failed"),
        "{stderr}"
    );
    let output = psql(&server, Some("pa55"), &["SELECT 1"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_binds_parameters_on_the_server_and_gets_the_rust_answer() {
    let lake = shared_lake().await;
    let (server, _users) = LocalServer::start_with_user(&lake.warehouse, "ana", "pa55");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/psycopg_client.py"
    );
    let output = Command::new(common::python())
        .arg(script)
        .args(["--port", &server.postgres_port.to_string()])
        .args(["--user", "ana", "--password", "pa55"])
        .output()
        .expect("run the psycopg client");
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "psycopg checks failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    println!("{stdout}");
    let actual: Vec<Vec<String>> =
        serde_json::from_str(stdout.lines().last().expect("rows")).expect("JSON rows");
    let sql = "SELECT o_orderkey, o_totalprice, o_orderdate FROM lake.tpch.orders \
               WHERE o_orderdate >= DATE '1996-01-01' AND o_totalprice > 100000 \
               ORDER BY o_orderkey LIMIT 20";
    let mut client = server.flight_client().await;
    client.handshake("ana", "pa55").await.expect("login");
    let expected = common::collect_query(client, sql).await.expect("orders");
    common::assert_same_text_rows("psycopg", sql, common::rows(&expected), actual);
}
