//! The ADBC Flight SQL driver (Python, as BI tools and notebooks use it) against `lakegate
//! local`: login, get_objects, get_table_schema, `?` parameters, a TPC-H answer equal to the
//! Rust client's, and refusals. The checks are in `tests/python/adbc_client.py`.

mod common;

use std::process::Command;

use arrow::ipc::writer::FileWriter;
use common::{LocalServer, shared_lake};
use lakegate::tpch::QUERIES;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adbc_driver_works_unmodified() {
    let lake = shared_lake().await;
    let (server, dir) = LocalServer::start_with_user(&lake.warehouse, "ana", "pa55");

    // Q3: decimals, dates, a join and ORDER BY ... LIMIT, so the comparison is exact.
    let (_, sql) = QUERIES
        .iter()
        .find(|(name, _)| *name == "q03")
        .expect("q03");
    let mut client = server.flight_client().await;
    client.handshake("ana", "pa55").await.expect("login");
    let batches = common::collect_query(client, sql).await.expect("q03");
    assert!(!batches.is_empty());
    let expected = dir.path().join("q03.arrow");
    let file = std::fs::File::create(&expected).expect("expected file");
    let mut writer = FileWriter::try_new(file, &batches[0].schema()).expect("IPC writer");
    for batch in &batches {
        writer.write(batch).expect("write batch");
    }
    writer.finish().expect("finish IPC file");
    let sql_file = dir.path().join("q03.sql");
    std::fs::write(&sql_file, sql).expect("sql file");

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/adbc_client.py");
    let output = Command::new(common::python())
        .arg(script)
        .args(["--port", &server.port.to_string()])
        .args(["--user", "ana", "--password", "pa55"])
        .arg("--tpch-sql")
        .arg(&sql_file)
        .arg("--expected")
        .arg(&expected)
        .output()
        .expect("run the ADBC client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ADBC checks failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    println!("{stdout}");
    assert!(stdout.contains("a wrong password is refused"), "{stdout}");
}
