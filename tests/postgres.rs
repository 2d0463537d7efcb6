//! The PostgreSQL wire protocol with the real `psql`, `psycopg` and PgJDBC against `lakegate
//! local`: TPC-H Q1 equal to the Rust Flight SQL client's answer, psql's `\dt` and `\d` read
//! from `pg_catalog`, JDBC metadata and a prepared query equal to single-node DataFusion,
//! SCRAM and password logins, SQLSTATE codes for a refused write and a wrong password, and
//! per-connection sessions.

mod common;

use std::path::Path;
use std::process::Command;

use common::{LocalServer, psql, shared_lake, text};
use iceberg::spec::{PrimitiveType, Type};
use iceberg::{Catalog, NamespaceIdent, TableIdent};
use lakegate::tpch::QUERIES;

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
        ("SELECT lenght(n_name) FROM tpch.nation", "42883"),
        ("SELECT n_nmae FROM tpch.nation", "42703"),
        ("SELECT n_nationkey / 0 FROM tpch.nation", "22012"),
        ("SELECT CAST(n_name AS integer) FROM tpch.nation", "22P02"),
        (
            "SELECT 9223372036854775807 + n_nationkey FROM tpch.nation",
            "22003",
        ),
        ("SELECT n_name + 1 FROM tpch.nation", "42804"),
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
    // SQL-level prepared statements run in the engine; an unknown one is 26000.
    let output = psql(
        &server,
        None,
        &[
            "PREPARE by_region AS SELECT count(*) FROM tpch.nation WHERE n_regionkey = $1",
            "EXECUTE by_region(1)",
            "DEALLOCATE by_region",
        ],
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.lines().any(|l| l == "5"), "{stdout}");
    let output = psql(&server, None, &["EXECUTE nowhere(1)"]);
    let (_, stderr) = text(&output);
    assert!(stderr.contains("26000"), "{stderr}");
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

/// The lake's tables in schema `tpch`, sorted, as the Iceberg catalog lists them.
async fn lake_tables(catalog: &dyn Catalog) -> Vec<String> {
    let namespace = NamespaceIdent::new("tpch".to_string());
    let mut tables: Vec<String> = catalog
        .list_tables(&namespace)
        .await
        .expect("list tables")
        .into_iter()
        .map(|t| t.name().to_string())
        .collect();
    tables.sort();
    tables
}

/// `(column, PostgreSQL type, "not null" or "")` of a lake table, from its Iceberg schema.
async fn lake_columns(catalog: &dyn Catalog, table: &str) -> Vec<(String, String, String)> {
    let ident = TableIdent::from_strs(["tpch", table]).expect("ident");
    let table = catalog.load_table(&ident).await.expect("load table");
    let schema = table.metadata().current_schema().clone();
    schema
        .as_struct()
        .fields()
        .iter()
        .map(|field| {
            let pg_type = match field.field_type.as_ref() {
                Type::Primitive(PrimitiveType::Long) => "bigint",
                Type::Primitive(PrimitiveType::Int) => "integer",
                Type::Primitive(PrimitiveType::Decimal { .. }) => "numeric",
                Type::Primitive(PrimitiveType::String) => "text",
                Type::Primitive(PrimitiveType::Date) => "date",
                other => panic!("no expectation for {other:?}"),
            };
            let not_null = if field.required { "not null" } else { "" };
            (
                field.name.clone(),
                pg_type.to_string(),
                not_null.to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_lists_and_describes_tables_from_pg_catalog() {
    let lake = shared_lake().await;
    let catalog = lake.catalog().await;
    let server = LocalServer::start(&lake.warehouse, &[]);

    let output = psql(&server, None, &["\\dt tpch.*"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "\\dt failed: {stderr}");
    let listed: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').collect())
        .collect();
    let expected = lake_tables(catalog.as_ref()).await;
    assert_eq!(expected.len(), 8, "the TPC-H lake has eight tables");
    assert_eq!(
        listed.iter().map(|r| r[1].to_string()).collect::<Vec<_>>(),
        expected,
        "{stdout}"
    );
    assert!(
        listed.iter().all(|r| r[0] == "tpch" && r[2] == "table"),
        "{stdout}"
    );

    for table in ["lineitem", "orders"] {
        let output = psql(&server, None, &[&format!("\\d tpch.{table}")]);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "\\d tpch.{table} failed: {stderr}");
        let described: Vec<(String, String, String)> = stdout
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let cells: Vec<&str> = l.split('|').collect();
                (cells[0].into(), cells[1].into(), cells[3].into())
            })
            .collect();
        assert_eq!(
            described,
            lake_columns(catalog.as_ref(), table).await,
            "\\d tpch.{table}:\n{stdout}"
        );
    }

    // \dn lists the lake's schema; an unknown table is reported as PostgreSQL does.
    let output = psql(&server, None, &["\\dn"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.lines().any(|l| l.starts_with("tpch|")), "{stdout}");
    let output = psql(&server, None, &["\\d tpch.nowhere"]);
    let (_, stderr) = text(&output);
    assert!(
        stderr.contains("Did not find any relation named \"tpch.nowhere\""),
        "{stderr}"
    );
    // Catalog functions answer for the session.
    let output = psql(
        &server,
        None,
        &["SELECT current_schema(), current_user, current_database(), version()"],
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.starts_with("tpch|ana|lake|PostgreSQL 16.0 (lakegate"),
        "{stdout}"
    );
}

/// Compiles `tests/java/PgJdbcCheck.java` against Debian's PgJDBC into `dir`.
fn compile_jdbc_check(dir: &Path) -> String {
    let jar = std::env::var("LAKEGATE_PGJDBC_JAR")
        .unwrap_or_else(|_| "/usr/share/java/postgresql.jar".to_string());
    assert!(
        Path::new(&jar).exists(),
        "PgJDBC not found at {jar} (.ci/run installs libpostgresql-jdbc-java)"
    );
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/java/PgJdbcCheck.java");
    let output = Command::new("javac")
        .args(["-d", &dir.display().to_string(), "-cp", &jar, source])
        .output()
        .expect("run javac (.ci/run installs a JDK)");
    assert!(
        output.status.success(),
        "javac failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    format!("{jar}:{}", dir.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgjdbc_reads_metadata_and_runs_a_prepared_query() {
    let lake = shared_lake().await;
    let catalog = lake.catalog().await;
    // "ana" logs in by SCRAM-SHA-256 (PgJDBC's default when the server asks for it).
    let (server, users) = LocalServer::start_with_users(&lake.warehouse, &[("ana", "pa55", true)]);
    let classpath = compile_jdbc_check(users.path());
    let output = Command::new("java")
        .args(["-cp", &classpath, "PgJdbcCheck"])
        .args([&server.postgres_port.to_string(), "ana", "pa55"])
        .output()
        .expect("run java");
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "PgJDBC check failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    let of_kind = |kind: &str| -> Vec<Vec<&str>> {
        lines
            .iter()
            .filter(|l| l[0] == kind)
            .map(|l| l[1..].to_vec())
            .collect()
    };
    let product = of_kind("product");
    assert_eq!(product[0][0], "PostgreSQL", "{stdout}");
    assert!(product[0][1].starts_with("16.0"), "{stdout}");

    let tables: Vec<String> = of_kind("table")
        .iter()
        .map(|t| {
            assert_eq!((t[0], t[2]), ("tpch", "TABLE"), "{stdout}");
            t[1].to_string()
        })
        .collect();
    assert_eq!(tables, lake_tables(catalog.as_ref()).await, "{stdout}");

    let columns: Vec<(String, String)> = of_kind("column")
        .iter()
        .map(|c| (c[1].to_string(), c[3].to_string()))
        .collect();
    let expected: Vec<(String, String)> = lake_columns(catalog.as_ref(), "nation")
        .await
        .into_iter()
        .map(|(name, _, not_null)| (name, if not_null.is_empty() { "YES" } else { "NO" }.into()))
        .collect();
    assert_eq!(columns, expected, "{stdout}");

    assert_eq!(
        of_kind("primary_keys"),
        vec![vec!["nation", "0"]],
        "{stdout}"
    );

    // The prepared query's rows equal single-node DataFusion's with the values inlined.
    let sql = "SELECT l_returnflag, l_linestatus, count(*) AS n, sum(l_quantity) AS qty \
               FROM lineitem WHERE l_shipdate <= DATE '1998-09-02' AND l_quantity < 30 \
               GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus";
    let baseline = common::baseline_context(lake).await;
    let expected = common::baseline_rows(&baseline, sql).await;
    // The decimal column keeps its precision and scale through the row description.
    let qty = expected[0].schema().field(3).data_type().clone();
    let arrow::datatypes::DataType::Decimal128(precision, scale) = qty else {
        panic!("sum(l_quantity) is a decimal, got {qty}");
    };
    assert_eq!(
        of_kind("scale"),
        vec![vec![
            "qty".to_string(),
            precision.to_string(),
            scale.to_string()
        ]],
        "{stdout}"
    );
    let actual: Vec<Vec<String>> = of_kind("row")
        .iter()
        .map(|r| r.iter().map(|v| v.to_string()).collect())
        .collect();
    common::assert_same_text_rows("pgjdbc", sql, common::rows(&expected), actual);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_users_log_in_by_scram_and_others_by_password() {
    let lake = shared_lake().await;
    let (server, _users) = LocalServer::start_with_users(
        &lake.warehouse,
        &[("ana", "pa55", true), ("bob", "b0b", false)],
    );
    // libpq's `require_auth` fails the login unless the server asks for that method, so each
    // success below proves which method the server chose.
    let script = r#"
import sys, psycopg
port = sys.argv[1]
def login(user, password, method):
    dsn = f"host=127.0.0.1 port={port} dbname=lake user={user} password={password} require_auth={method}"
    try:
        with psycopg.connect(dsn) as conn:
            return str(conn.execute("SELECT count(*) FROM tpch.region").fetchone()[0])
    except psycopg.OperationalError as e:
        return f"refused {e.sqlstate} {e}".replace("\n", " ")
print(login("ana", "pa55", "scram-sha-256"))
print(login("bob", "b0b", "password"))
print(login("ana", "wrong", "scram-sha-256"))
print(login("ana", "pa55", "password"))
"#;
    let output = Command::new(common::python())
        .args(["-c", script, &server.postgres_port.to_string()])
        .output()
        .expect("run python");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "5", "ana by SCRAM: {stdout}");
    assert_eq!(lines[1], "5", "bob by password: {stdout}");
    assert!(
        lines[2].starts_with("refused") && lines[2].contains("\"ana\""),
        "a wrong SCRAM password: {stdout}"
    );
    assert!(
        lines[3].contains("server requested SASL authentication"),
        "ana is asked for SCRAM, not a password: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_offered_with_a_configured_certificate() {
    let lake = shared_lake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let common::TestCertificates { cert, key, ca } = common::TestCertificates::make(dir.path());
    let cert_setting = format!("server.postgres_tls_cert={}", cert.display());
    let key_setting = format!("server.postgres_tls_key={}", key.display());
    let server = LocalServer::start(
        &lake.warehouse,
        &["--set", &cert_setting, "--set", &key_setting],
    );
    let connect = |options: &str| {
        let dsn = format!(
            "host=127.0.0.1 port={} user=ana dbname=lake {options}",
            server.postgres_port
        );
        let output = Command::new("psql")
            .args([&dsn, "-X", "-A", "-t", "-c", "\\conninfo"])
            .args(["-c", "SELECT count(*) FROM tpch.region"])
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("run psql");
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{options}: {stderr}");
        stdout
    };
    // The server's certificate checks out against the CA that signed it.
    let rootcert = format!("sslmode=verify-ca sslrootcert={}", ca.display());
    let stdout = connect(&rootcert);
    assert!(stdout.contains("SSL connection (protocol: TLS"), "{stdout}");
    assert!(stdout.lines().any(|l| l == "5"), "{stdout}");
    // A client that does not ask for TLS is still served.
    let stdout = connect("sslmode=disable");
    assert!(!stdout.contains("SSL connection"), "{stdout}");
    assert!(stdout.lines().any(|l| l == "5"), "{stdout}");

    // Unless TLS is required: then only a TLS client gets in.
    let strict = LocalServer::start(
        &lake.warehouse,
        &[
            "--set",
            &cert_setting,
            "--set",
            &key_setting,
            "--set",
            "server.postgres_require_tls=true",
        ],
    );
    let strict_psql = |options: &str| {
        Command::new("psql")
            .arg(format!(
                "host=127.0.0.1 port={} user=ana dbname=lake {options}",
                strict.postgres_port
            ))
            .args(["-X", "-A", "-t", "-c", "SELECT 1"])
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("run psql")
    };
    let refused = strict_psql("sslmode=disable");
    let (_, stderr) = text(&refused);
    assert!(
        !refused.status.success() && stderr.contains("only TLS"),
        "{stderr}"
    );
    let accepted = strict_psql(&rootcert);
    assert!(accepted.status.success(), "{}", text(&accepted).1);
}
