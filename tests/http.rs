//! The HTTP front end with a real HTTP/1.1 client over loopback: probes, catalog browsing with
//! its JSON errors, and authentication.

mod common;

use common::{LocalServer, shared_lake};
use lakegate::tpch::TpchTable;
use serde_json::Value;

async fn get_json(server: &LocalServer, path: &str) -> (u16, Value) {
    let (status, body) = server.http_get(path).await;
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body:?}"));
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogs_schemas_tables_and_columns_are_browsable() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    assert_eq!(server.http_get("/healthz").await.0, 200);

    let (status, body) = get_json(&server, "/v1/catalogs").await;
    assert_eq!(
        (status, &body["catalogs"]),
        (200, &serde_json::json!(["lake"]))
    );

    let (status, body) = get_json(&server, "/v1/catalogs/lake/schemas").await;
    assert_eq!(status, 200);
    assert!(
        body["schemas"]
            .as_array()
            .expect("list")
            .contains(&"tpch".into())
    );

    let (status, body) = get_json(&server, "/v1/catalogs/lake/schemas/tpch/tables").await;
    assert_eq!(status, 200);
    let tables = body["tables"].as_array().expect("list");
    for table in TpchTable::ALL {
        assert!(tables.contains(&table.name().into()), "{}", table.name());
    }

    let (status, body) = get_json(&server, "/v1/catalogs/lake/schemas/tpch/tables/nation").await;
    assert_eq!(status, 200);
    let columns: Vec<_> = body["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default(),
                c["type"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(columns[0].0, "n_nationkey");
    assert_eq!(columns.len(), 4, "{columns:?}");

    for (path, code) in [
        ("/v1/catalogs/nope/schemas", "CATALOG_NOT_FOUND"),
        ("/v1/catalogs/lake/schemas/nope/tables", "SCHEMA_NOT_FOUND"),
        (
            "/v1/catalogs/lake/schemas/tpch/tables/nope",
            "TABLE_NOT_FOUND",
        ),
    ] {
        let (status, body) = get_json(&server, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("message")
                .contains("nope")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_other_than_health_need_credentials_in_users_mode() {
    let lake = shared_lake().await;
    let (server, _users) = LocalServer::start_with_user(&lake.warehouse, "ana", "pa55");
    assert_eq!(server.http_get("/healthz").await.0, 200);
    let (status, body) = get_json(&server, "/v1/catalogs").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
    let (status, _) = server.http("POST", "/v1/admin/refresh").await;
    assert_eq!(status, 401);
}
