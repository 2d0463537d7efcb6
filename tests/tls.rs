//! TLS on every coordinator listener from one certificate (`server.tls_cert`/`tls_key`):
//! Flight SQL, HTTP (API and Trino protocol) and PostgreSQL answer real clients that trust
//! only that certificate, plaintext is refused on the Flight SQL and HTTP ports, and the
//! executors register over the encrypted coordinator port and serve their own worker ports
//! over TLS (`cluster.tls_*`), the coordinator and each other verifying them.

mod common;

use std::process::Command;

use arrow_flight::sql::client::FlightSqlServiceClient;
use common::{LocalServer, TestCertificates, collect_query, python, rows, shared_lake};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listener_speaks_tls_and_refuses_plaintext() {
    lakegate_coordinator::tls::install_crypto_provider();
    let lake = shared_lake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let TestCertificates { cert, key, ca } = TestCertificates::make(dir.path());
    let cert_setting = format!("server.tls_cert={}", cert.display());
    let key_setting = format!("server.tls_key={}", key.display());
    let ca_setting = format!("cluster.tls_ca={}", ca.display());
    let worker_cert = format!("cluster.tls_cert={}", cert.display());
    let worker_key = format!("cluster.tls_key={}", key.display());
    let server = LocalServer::start(
        &lake.warehouse,
        &[
            "--set",
            &cert_setting,
            "--set",
            &key_setting,
            "--set",
            &ca_setting,
            "--set",
            &worker_cert,
            "--set",
            &worker_key,
            "--set",
            "cluster.bytes_per_task=1",
            "--set",
            "cluster.max_tasks_per_stage=2",
        ],
    );

    // The Rust Flight SQL client, trusting the certificate: a lake query, so the in-process
    // executors (registered over TLS) did the reading.
    let pem = std::fs::read(&ca).expect("CA certificate");
    let channel = Endpoint::from_shared(format!("https://localhost:{}", server.port))
        .expect("endpoint")
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&pem)))
        .expect("TLS config")
        .connect()
        .await
        .expect("connect over TLS");
    let sql = "SELECT url FROM system.runtime.executors";
    let executors = collect_query(FlightSqlServiceClient::new(channel.clone()), sql)
        .await
        .expect("executors over TLS");
    let urls: Vec<String> = rows(&executors).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(
        urls.iter().all(|u| u.starts_with("https://localhost:")),
        "{urls:?}"
    );
    // Stages on both executors, fragments and shuffles over TLS: the answer is DataFusion's.
    let sql = "SELECT l_returnflag, count(*), sum(l_quantity) FROM tpch.lineitem GROUP BY 1";
    let answer = collect_query(FlightSqlServiceClient::new(channel), sql)
        .await
        .expect("query over TLS");
    let baseline = common::baseline_context(lake).await;
    let expected = common::baseline_rows(&baseline, &sql.replace("tpch.", "")).await;
    common::assert_same_rows("over TLS", sql, &expected, &answer);
    // An executor's worker port refuses plaintext too.
    let worker = urls[0].replace("https://", "http://");
    let plain_worker = match Endpoint::from_shared(worker)
        .expect("endpoint")
        .connect()
        .await
    {
        Ok(channel) => {
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.is_ok()
                && grpc
                    .unary(
                        tonic::Request::new(()),
                        "/worker.WorkerService/GetWorkerInfo".parse().expect("path"),
                        tonic_prost::ProstCodec::<(), ()>::default(),
                    )
                    .await
                    .is_ok()
        }
        Err(_) => false,
    };
    assert!(!plain_worker, "an executor answered in plaintext");
    let plain = match Endpoint::from_shared(format!("http://127.0.0.1:{}", server.port))
        .expect("endpoint")
        .connect()
        .await
    {
        Ok(channel) => collect_query(FlightSqlServiceClient::new(channel), "SELECT 1")
            .await
            .is_ok(),
        Err(_) => false,
    };
    assert!(!plain, "plaintext Flight SQL was served");

    // `lakegate shell` over TLS, as an analyst connects.
    let shell = Command::new(common::lakegate_bin())
        .args(["shell", "--port", &server.port.to_string(), "--tls-ca"])
        .arg(&ca)
        .args(["-c", "SELECT count(*) FROM tpch.region"])
        .output()
        .expect("run lakegate shell");
    let shell_out = String::from_utf8_lossy(&shell.stdout);
    assert!(
        shell.status.success() && shell_out.contains('5'),
        "{shell_out}\n{}",
        String::from_utf8_lossy(&shell.stderr)
    );

    let output = Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/tls_client.py"
        ))
        .args(["--flight", &server.port.to_string()])
        .args(["--http", &server.http_port.to_string()])
        .args(["--postgres", &server.postgres_port.to_string()])
        .arg("--ca")
        .arg(&ca)
        .output()
        .expect("run tls_client.py");
    assert!(
        output.status.success(),
        "tls_client.py failed\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A REST catalog over https with a private CA (`catalog.tls_ca`): the shim of the replica
/// tests serving the shared lake's catalog over TLS, lakegate reading through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_catalog_over_https_with_a_private_ca() {
    lakegate_coordinator::tls::install_crypto_provider();
    let lake = shared_lake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let TestCertificates { cert, key, ca } = TestCertificates::make(dir.path());
    let catalog_db = lake.warehouse.join("catalog.db");
    let mut shim = std::process::Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/iceberg_rest.py"
        ))
        .arg("--uri")
        .arg(format!("sqlite:///{}", catalog_db.display()))
        .arg("--warehouse")
        .arg(format!("file://{}", lake.warehouse.display()))
        .args(["--name", "lake", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the REST catalog");
    let stdout = shim.stdout.take().expect("stdout");
    let _shim = common::KillOnDrop(shim);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("the catalog's port");
    let port = line
        .trim()
        .strip_prefix("listening ")
        .expect("listening PORT")
        .to_string();
    let uri = format!("catalog.uri=https://localhost:{port}");
    let trust = format!("catalog.tls_ca={}", ca.display());
    let server = LocalServer::start(&lake.warehouse, &["--set", &uri, "--set", &trust]);
    let answer = collect_query(
        server.flight_client().await,
        "SELECT count(*) FROM tpch.nation",
    )
    .await
    .expect("a query through the https catalog");
    assert_eq!(rows(&answer), vec![vec!["25".to_string()]]);
}
