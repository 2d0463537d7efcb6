//! The Flight SQL front end with the real `arrow-flight` client: login, catalog metadata, and
//! errors with their gRPC codes and SQL positions.

mod common;

use std::sync::Arc;

use arrow::array::{Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{
    ActionCancelQueryRequest, ActionCancelQueryResult, Any, CommandGetCrossReference,
    CommandGetDbSchemas, CommandGetExportedKeys, CommandGetImportedKeys, CommandGetPrimaryKeys,
    CommandGetTables, CommandGetXdbcTypeInfo, ProstMessageExt, SqlInfo,
};
use arrow_flight::{CancelStatus, FlightInfo};
use common::{LocalServer, shared_lake};
use futures::TryStreamExt;
use lakegate::tpch::TpchTable;
use prost::Message;
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
    let (server, _users) = LocalServer::start_with_user(&lake.warehouse, "ana", "pa55");

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

fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_bind_parameters_by_position() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let mut client = server.flight_client().await;

    let sql = "SELECT n_name, n_regionkey FROM nation \
               WHERE n_regionkey = ? AND n_nationkey < ? ORDER BY n_name";
    let mut prepared = client.prepare(sql.into(), None).await.expect("prepare");
    let parameters = prepared
        .parameter_schema()
        .expect("parameter schema")
        .clone();
    assert_eq!(
        parameters
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>(),
        ["$1", "$2"]
    );
    let dataset = prepared.dataset_schema().expect("dataset schema").clone();
    assert_eq!(dataset.field(0).name(), "n_name");

    let values = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Int64, false),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(Int64Array::from(vec![20])),
        ],
    )
    .expect("parameter batch");
    prepared.set_parameters(values).expect("bind");
    let info = prepared.execute().await.expect("execute prepared");
    let actual = fetch(&mut client, info).await;

    let literal = "SELECT n_name, n_regionkey FROM nation \
                   WHERE n_regionkey = 1 AND n_nationkey < 20 ORDER BY n_name";
    let info = client.execute(literal.into(), None).await.expect("query");
    let expected = fetch(&mut client, info).await;
    assert_eq!(common::rows(&actual), common::rows(&expected));
    assert!(row_count(&actual) > 0);
    // The schema promised at prepare time is the one delivered, nullability included.
    assert_eq!(actual[0].schema().as_ref(), &dataset);
    prepared.close().await.expect("close");

    // Too few values is refused before anything runs.
    let mut short = client.prepare(sql.into(), None).await.expect("prepare");
    let one = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false)])),
        vec![Arc::new(Int64Array::from(vec![1]))],
    )
    .expect("batch");
    short.set_parameters(one).expect("bind");
    let status = status_of(short.execute().await);
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status
            .message()
            .contains("2 parameter(s) but 1 value(s) were bound"),
        "{}",
        status.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_refused_through_every_statement_path() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let mut client = server.flight_client().await;

    let insert = "INSERT INTO nation VALUES (99, 'X', 0, 'x')";
    match client.execute_update(insert.into(), None).await {
        Err(FlightError::Tonic(status)) => {
            assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}")
        }
        other => panic!("an update was not refused: {other:?}"),
    }
    match client.prepare(insert.into(), None).await {
        Err(FlightError::Tonic(status)) => {
            assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
            assert!(status.message().contains("read-only"), "{status:?}");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("an INSERT was prepared"),
    }
    // Session statements have no columns, so JDBC runs them as updates: they work.
    let set = "SET datafusion.execution.batch_size = 1024";
    assert_eq!(
        client.execute_update(set.into(), None).await.expect("SET"),
        0
    );
    let mut prepared_set = client.prepare(set.into(), None).await.expect("prepare SET");
    assert!(
        prepared_set
            .dataset_schema()
            .expect("schema")
            .fields()
            .is_empty()
    );
    assert_eq!(
        prepared_set.execute_update().await.expect("prepared SET"),
        0
    );
    // A read prepared and then run as an update is told to run as a query.
    let mut read = client
        .prepare("SELECT 1".into(), None)
        .await
        .expect("prepare");
    match read.execute_update().await {
        Err(FlightError::Tonic(status)) => {
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}")
        }
        other => panic!("a read ran as an update: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_key_metadata_answer_with_the_flight_sql_schemas() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let mut client = server.flight_client().await;

    let info = client.get_table_types().await.expect("table types");
    assert_eq!(
        strings(&fetch(&mut client, info).await, "table_type"),
        ["TABLE"]
    );

    let info = client
        .get_sql_info(vec![
            SqlInfo::FlightSqlServerName,
            SqlInfo::FlightSqlServerReadOnly,
        ])
        .await
        .expect("sql info");
    let batches = fetch(&mut client, info).await;
    assert_eq!(row_count(&batches), 2);

    let info = client
        .get_xdbc_type_info(CommandGetXdbcTypeInfo { data_type: None })
        .await
        .expect("type info");
    let types = strings(&fetch(&mut client, info).await, "type_name");
    for name in ["BIGINT", "DECIMAL", "VARCHAR", "DATE"] {
        assert!(types.contains(&name.to_string()), "{name} in {types:?}");
    }

    let table = |name: &str| CommandGetPrimaryKeys {
        catalog: Some("lake".into()),
        db_schema: Some("tpch".into()),
        table: name.into(),
    };
    let info = client
        .get_primary_keys(table("nation"))
        .await
        .expect("primary keys");
    let batches = fetch(&mut client, info.clone()).await;
    assert_eq!(row_count(&batches), 0);
    let schema = info.try_decode_schema().expect("schema");
    assert_eq!(schema.field(2).name(), "table_name");
    assert_eq!(schema.field(5).name(), "key_sequence");

    let info = client
        .get_imported_keys(CommandGetImportedKeys {
            catalog: None,
            db_schema: None,
            table: "nation".into(),
        })
        .await
        .expect("imported keys");
    assert_eq!(row_count(&fetch(&mut client, info.clone()).await), 0);
    assert_eq!(info.try_decode_schema().expect("schema").fields().len(), 13);
    let info = client
        .get_exported_keys(CommandGetExportedKeys {
            catalog: None,
            db_schema: None,
            table: "nation".into(),
        })
        .await
        .expect("exported keys");
    assert_eq!(row_count(&fetch(&mut client, info).await), 0);
    let info = client
        .get_cross_reference(CommandGetCrossReference {
            pk_catalog: None,
            pk_db_schema: None,
            pk_table: "nation".into(),
            fk_catalog: None,
            fk_db_schema: None,
            fk_table: "customer".into(),
        })
        .await
        .expect("cross reference");
    assert_eq!(row_count(&fetch(&mut client, info).await), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_are_filtered_by_pattern_and_type_across_all_catalogs() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let mut client = server.flight_client().await;
    let mut tables = async |table: &str, types: &[&str]| {
        let request = CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: None,
            table_name_filter_pattern: Some(table.into()),
            table_types: types.iter().map(|t| t.to_string()).collect(),
            include_schema: false,
        };
        let info = client.get_tables(request).await.expect("tables");
        let mut names = strings(&fetch(&mut client, info).await, "table_name");
        names.sort();
        names
    };
    assert_eq!(tables("line%", &[]).await, ["lineitem"]);
    assert_eq!(tables("_ation", &["TABLE"]).await, ["nation"]);
    assert_eq!(tables("%", &["TABLE"]).await.len(), 8);
    assert!(tables("%", &["VIEW"]).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_cancelled_before_its_fetch_is_gone() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let mut client = server.flight_client().await;
    let info = client
        .execute("SELECT count(*) FROM lineitem".into(), None)
        .await
        .expect("plan");
    let result = common::cancel_flight_info(&mut client, &info).await;
    assert_eq!(result, CancelStatus::Cancelled);
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    match client.do_get(ticket).await {
        Err(FlightError::Tonic(status)) => {
            assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}")
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a cancelled ticket was served"),
    }
    // Cancelling again finds nothing to cancel.
    assert_eq!(
        common::cancel_flight_info(&mut client, &info).await,
        CancelStatus::NotCancellable
    );

    // The deprecated Flight SQL CancelQuery action (older JDBC drivers) works the same way.
    let info = client
        .execute("SELECT count(*) FROM orders".into(), None)
        .await
        .expect("plan");
    let request = ActionCancelQueryRequest {
        info: info.encode_to_vec().into(),
    };
    let action = arrow_flight::Action::new("CancelQuery", request.as_any().encode_to_vec());
    let answers: Vec<_> = client
        .do_action(action)
        .await
        .expect("CancelQuery")
        .try_collect()
        .await
        .expect("answer");
    let result: ActionCancelQueryResult = Any::decode(answers[0].body.clone())
        .expect("Any")
        .unpack()
        .expect("unpack")
        .expect("a CancelQuery result");
    assert_eq!(result.result, 1, "CANCEL_RESULT_CANCELLED");
}
