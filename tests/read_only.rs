//! Every write is refused, on every path: the Engine, Flight SQL queries and updates, and
//! `lakegate shell`.

mod common;

use arrow_flight::error::FlightError;
use common::{LocalServer, session, shared_lake};
use lakegate_coordinator::EngineError;
use lakegate_coordinator::statement::StatementError;

const WRITES: [(&str, &str); 6] = [
    (
        "INSERT INTO lineitem SELECT * FROM lineitem LIMIT 1",
        "INSERT",
    ),
    ("DELETE FROM orders WHERE o_orderkey = 1", "DELETE"),
    ("UPDATE orders SET o_comment = 'x'", "UPDATE"),
    ("CREATE TABLE t (a INT)", "CREATE TABLE"),
    ("DROP TABLE lineitem", "DROP"),
    ("COPY lineitem TO '/tmp/lakegate-copy.parquet'", "COPY"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_refuses_writes_by_name() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let session = session(&engine);
    for (sql, kind) in WRITES {
        match engine.execute(&session, sql).await {
            Err(EngineError::Statement(StatementError::ReadOnly { kind: refused })) => {
                assert_eq!(refused, kind, "{sql}");
            }
            other => panic!("{sql}: expected a read-only refusal, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flight_sql_and_the_shell_refuse_writes() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let mut client = server.flight_client().await;
    for (sql, kind) in WRITES {
        match client.execute(sql.to_string(), None).await {
            Err(FlightError::Tonic(status)) => {
                assert_eq!(status.code(), tonic::Code::PermissionDenied, "{sql}");
                assert!(
                    status.message().contains(kind),
                    "{sql}: {}",
                    status.message()
                );
            }
            other => panic!("{sql}: expected PERMISSION_DENIED, got {other:?}"),
        }
        match client.execute_update(sql.to_string(), None).await {
            Err(FlightError::Tonic(status)) => {
                assert_eq!(
                    status.code(),
                    tonic::Code::PermissionDenied,
                    "{sql} as update"
                );
            }
            other => panic!("{sql} as update: expected PERMISSION_DENIED, got {other:?}"),
        }
        let output = server.shell(sql);
        assert!(!output.status.success(), "{sql}: shell should fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("read-only") && stderr.contains(kind),
            "{sql}: {stderr}"
        );
    }
    // The data is all still there.
    let output = server.shell("SELECT count(*) FROM lake.tpch.orders");
    assert!(output.status.success());
}
