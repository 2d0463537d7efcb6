//! The lake as SQL sees it: information_schema, SHOW, DESCRIBE, and session SET / USE.

mod common;

use common::{engine_rows, rows, session, shared_lake};
use lakegate::tpch::TpchTable;
use lakegate_coordinator::EngineError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_describe_and_information_schema_list_the_lake() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let session = session(&engine);

    let tables = rows(&engine_rows(&engine, &session, "SHOW TABLES").await);
    for table in TpchTable::ALL {
        assert!(
            tables
                .iter()
                .any(|r| r[1] == "tpch" && r[2] == table.name()),
            "SHOW TABLES lacks {}",
            table.name()
        );
    }

    let described = rows(&engine_rows(&engine, &session, "DESCRIBE lake.tpch.region").await);
    let columns: Vec<&str> = described.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(columns, ["r_regionkey", "r_name", "r_comment"]);

    let shown = rows(&engine_rows(&engine, &session, "SHOW COLUMNS FROM nation").await);
    assert_eq!(shown.len(), 4);

    let sql = "SELECT column_name, data_type FROM information_schema.columns \
               WHERE table_name = 'lineitem' AND column_name = 'l_shipdate'";
    assert_eq!(
        rows(&engine_rows(&engine, &session, sql).await),
        [["l_shipdate", "Date32"]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_use_change_only_their_own_session() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let first = session(&engine);
    let second = session(&engine);

    engine_rows(&engine, &first, "SET datafusion.execution.batch_size = 100").await;
    let setting = "SELECT value FROM information_schema.df_settings \
                   WHERE name = 'datafusion.execution.batch_size'";
    assert_eq!(
        rows(&engine_rows(&engine, &first, setting).await),
        [["100"]]
    );
    assert_ne!(
        rows(&engine_rows(&engine, &second, setting).await),
        [["100"]]
    );

    let err = engine
        .execute(&first, "SET datafusion.execution.batch_size = 'many'")
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Setting { .. }), "{err:?}");

    engine_rows(&engine, &first, "USE lake.tpch").await;
    let err = engine.execute(&first, "USE lake.nope").await.unwrap_err();
    assert!(matches!(err, EngineError::UnknownSchema { .. }), "{err:?}");
}
