//! All 22 TPC-H queries through the Engine and through a real Flight SQL client against
//! `lakegate local`, each answer checked against single-node DataFusion on the same files.

mod common;

use common::{
    LocalServer, assert_same_rows, baseline_context, baseline_rows, engine_rows, session,
    shared_lake,
};
use futures::TryStreamExt;
use lakegate::tpch::QUERIES;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpch_through_the_engine_matches_datafusion() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let session = session(&engine);
    let baseline = baseline_context(lake).await;
    for (name, sql) in QUERIES {
        let expected = baseline_rows(&baseline, sql).await;
        let actual = engine_rows(&engine, &session, sql).await;
        assert_same_rows(name, sql, &expected, &actual);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpch_through_flight_sql_matches_datafusion() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let baseline = baseline_context(lake).await;
    let mut client = server.flight_client().await;
    client
        .handshake("analyst", "")
        .await
        .expect("handshake in open mode");
    for (name, sql) in QUERIES {
        let expected = baseline_rows(&baseline, sql).await;
        let info = client
            .execute(sql.to_string(), None)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut actual = Vec::new();
        for endpoint in info.endpoint {
            let ticket = endpoint.ticket.expect("ticket");
            let batches: Vec<_> = client
                .do_get(ticket)
                .await
                .expect("do_get")
                .try_collect()
                .await
                .expect("stream");
            actual.extend(batches);
        }
        assert_same_rows(name, sql, &expected, &actual);
    }
}
