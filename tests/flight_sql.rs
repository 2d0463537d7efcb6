//! The Flight SQL front end with the real `arrow-flight` client: login, catalog metadata, and
//! errors with their gRPC codes and SQL positions.

mod common;

use arrow::array::{Array, StringArray};
use arrow::record_batch::RecordBatch;
use arrow_flight::FlightInfo;
use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandGetDbSchemas, CommandGetTables};
use common::{LocalServer, shared_lake};
use futures::TryStreamExt;
use lakegate::tpch::TpchTable;
use tonic::transport::Channel;

async fn fetch(client: &mut FlightSqlServiceClient<Channel>, info: FlightInfo) -> Vec<RecordBatch> {
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let stream = client
            .do_get(endpoint.ticket.expect("ticket"))
            .await
            .expect("do_get");
        batches.extend(stream.try_collect::<Vec<_>>().await.expect("stream"));
    }
    batches
}

fn strings(batches: &[RecordBatch], column: &str) -> Vec<String> {
    let mut out = Vec::new();
    for batch in batches {
        let array = batch.column_by_name(column).expect("column");
        let array = array
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("utf8 column");
        out.extend((0..array.len()).map(|i| array.value(i).to_string()));
    }
    out
}

fn status_of(result: Result<FlightInfo, FlightError>) -> tonic::Status {
    match result {
        Err(FlightError::Tonic(status)) => *status,
        other => panic!("expected an error status, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogs_schemas_and_tables_are_listed() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let mut client = server.flight_client().await;

    let info = client.get_catalogs().await.expect("catalogs");
    assert_eq!(
        strings(&fetch(&mut client, info).await, "catalog_name"),
        vec!["lake"]
    );

    let request = CommandGetDbSchemas {
        catalog: None,
        db_schema_filter_pattern: None,
    };
    let info = client.get_db_schemas(request).await.expect("schemas");
    assert!(
        strings(&fetch(&mut client, info).await, "db_schema_name").contains(&"tpch".to_string())
    );

    let request = CommandGetTables {
        catalog: None,
        db_schema_filter_pattern: Some("tpch".into()),
        table_name_filter_pattern: Some("%".into()),
        table_types: vec![],
        include_schema: true,
    };
    let info = client.get_tables(request).await.expect("tables");
    let batches = fetch(&mut client, info).await;
    let mut tables = strings(&batches, "table_name");
    tables.sort();
    let mut expected: Vec<String> = TpchTable::ALL
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    expected.sort();
    assert_eq!(tables, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_codes_and_positions() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let mut client = server.flight_client().await;

    let status = status_of(
        client
            .execute("SELECT * FROM no_such_table".into(), None)
            .await,
    );
    assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}");
    assert!(
        status.message().contains("line 1, column 15"),
        "{}",
        status.message()
    );

    let status = status_of(
        client
            .execute("SELECT nope\nFROM lineitem".into(), None)
            .await,
    );
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("line 1, column 8"),
        "{}",
        status.message()
    );

    let status = status_of(client.execute("SELEC 1".into(), None).await);
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("syntax error"),
        "{}",
        status.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_mode_needs_the_right_password() {
    let lake = shared_lake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let users = dir.path().join("users.toml");
    let hash = lakegate_coordinator::auth::hash_password("pa55").expect("hash");
    std::fs::write(
        &users,
        format!("[[users]]\nname = \"ana\"\npassword_hash = \"{hash}\"\n"),
    )
    .expect("users file");
    let users_file = format!("auth.users_file={}", users.display());
    let server = LocalServer::start(
        &lake.warehouse,
        &["--set", "auth.mode=users", "--set", &users_file],
    );

    let mut anonymous = server.flight_client().await;
    let status = status_of(anonymous.execute("SELECT 1".into(), None).await);
    assert_eq!(status.code(), tonic::Code::Unauthenticated);

    let mut wrong = server.flight_client().await;
    match wrong.handshake("ana", "wrong").await {
        Err(e) => assert!(
            e.to_string().contains("invalid username or password"),
            "{e}"
        ),
        Ok(_) => panic!("a wrong password was accepted"),
    }

    let mut ana = server.flight_client().await;
    ana.handshake("ana", "pa55").await.expect("login");
    let info = ana
        .execute("SELECT count(*) AS n FROM region".into(), None)
        .await
        .expect("query");
    let batches = fetch(&mut ana, info).await;
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
}
