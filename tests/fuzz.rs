//! Hostile and broken input at every front door, generated: the SQL classifier and the
//! dialect rewrites (every dialect), parameter binding, the split codec and deletion vectors
//! in-process; PostgreSQL messages, Trino headers and bodies, Flight SQL tickets and commands
//! against a real server. Nothing may panic or take a server down, and every refusal is an
//! answer, never a hang.
//!
//! Cases come from a seeded generator (proptest strategies), so a run is repeatable:
//! `LAKEGATE_FUZZ_CASES` (default 48 per target, what CI runs) and `LAKEGATE_FUZZ_SEED`
//! choose how many and which. A longer hunt on demand:
//! `LAKEGATE_FUZZ_CASES=20000 LAKEGATE_FUZZ_SEED=$RANDOM cargo test --test fuzz`.
//! A failing case is printed with the target's name before the panic.

mod common;

use std::time::Duration;

use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, Any, CommandPreparedStatementQuery, CommandStatementQuery,
    ProstMessageExt,
};
use arrow_flight::{Action, FlightDescriptor, Ticket};
use common::{LocalServer, collect_query, session, shared_lake};
use datafusion::common::ScalarValue;
use datafusion::execution::TaskContext;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use futures::StreamExt;
use lakegate_coordinator::DialectName;
use lakegate_iceberg::scan::{decode_vector, task_from_split};
use lakegate_iceberg::{IcebergScanCodec, IcebergScanExec};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How many cases each target runs.
fn cases() -> usize {
    std::env::var("LAKEGATE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// `count` values of `strategy`, from the seed in `LAKEGATE_FUZZ_SEED` (default 0) mixed with
/// the target's name, so targets differ and a run is repeatable.
fn generate<S: Strategy>(target: &str, strategy: S, count: usize) -> Vec<S::Value> {
    let seed: u64 = std::env::var("LAKEGATE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut bytes = [0u8; 32];
    let mixed = target.bytes().fold(seed ^ 0x9e37_79b9_7f4a_7c15, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    bytes[..8].copy_from_slice(&mixed.to_le_bytes());
    bytes[8..16].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    (0..count)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("strategy makes a value")
                .current()
        })
        .collect()
}

/// Words of the SQL the front doors see, every dialect's: keywords, names of the test lake,
/// literals, operators, Trino's lambdas and literals, time travel, placeholders.
const VOCABULARY: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "FETCH FIRST",
    "ROWS ONLY",
    "JOIN",
    "LEFT JOIN",
    "CROSS JOIN UNNEST",
    "ON",
    "USING",
    "AS",
    "WITH",
    "UNION ALL",
    "EXCEPT",
    "INTERSECT",
    "VALUES",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS NULL",
    "BETWEEN",
    "LIKE",
    "EXISTS",
    "DISTINCT",
    "OVER",
    "PARTITION BY",
    "CAST",
    "TRY_CAST",
    "TRY",
    "AT TIME ZONE",
    "INTERVAL '1' DAY",
    "INTERVAL '2' MONTH",
    "DATE '1995-01-01'",
    "TIMESTAMP '2020-01-01 00:00:00 UTC'",
    "ARRAY[1, 2]",
    "ARRAY",
    "MAP",
    "ROW",
    "x -> x + 1",
    "(k, v) -> v",
    "->",
    "FOR VERSION AS OF",
    "FOR TIMESTAMP AS OF",
    "1",
    "0",
    "-1",
    "1e308",
    "99999999999999999999999",
    "0.5",
    "'a'",
    "''",
    "'%'",
    "NULL",
    "TRUE",
    "?",
    "$1",
    "$2",
    "lineitem",
    "orders",
    "nation",
    "region",
    "l_quantity",
    "o_orderdate",
    "n_name",
    "*",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    ";",
    "+",
    "-",
    "/",
    "%",
    "||",
    "=",
    "<>",
    "<",
    ">=",
    "::",
    "\"",
    "`",
    "count(*)",
    "sum(",
    "date_trunc('day', ",
    "json_extract_scalar(",
    "regexp_replace(",
    "transform(",
    "element_at(",
    "approx_percentile(",
    "SHOW TABLES",
    "SHOW SCHEMAS",
    "SHOW COLUMNS FROM",
    "DESCRIBE",
    "EXPLAIN",
    "EXPLAIN ANALYZE",
    "SET",
    "SET SESSION",
    "RESET",
    "USE",
    "PREPARE p FROM",
    "EXECUTE p USING",
    "DEALLOCATE PREPARE p",
    "START TRANSACTION",
    "COMMIT",
    "INSERT INTO",
    "DELETE FROM",
    "DROP TABLE",
    "CREATE TABLE",
    "COPY",
    "lake.tpch.",
    "system.runtime.queries",
    "pg_catalog.pg_class",
    "information_schema.tables",
    "--",
    "/*",
    "*/",
    "\n",
    "é",
    "\u{0}",
];

/// Queries that parse, for mutation: the Trino conformance corpus and TPC-H.
fn seed_queries() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/trino_sql");
    let mut queries: Vec<String> = lakegate::tpch::QUERIES
        .iter()
        .map(|(_, sql)| sql.to_string())
        .collect();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the conformance corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a corpus file");
        queries.extend(
            text.split(";\n")
                .map(|q| q.trim().to_string())
                .filter(|q| q.to_uppercase().contains("SELECT")),
        );
    }
    queries
}

/// SQL-ish text: free bytes, words of the vocabulary in any order, and real queries with a
/// span cut out, repeated or replaced by vocabulary (the broken edits a person makes).
fn sql_strategy() -> BoxedStrategy<String> {
    let seeds = seed_queries();
    let words = prop::collection::vec(prop::sample::select(VOCABULARY), 0..40)
        .prop_map(|words| words.join(" "));
    let mutated = (
        prop::sample::select(seeds),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        prop::sample::select(VOCABULARY),
        0..3u8,
    )
        .prop_map(|(sql, a, b, word, edit)| {
            let cut: Vec<usize> = sql.char_indices().map(|(i, _)| i).collect();
            if cut.is_empty() {
                return sql;
            }
            let (mut from, mut to) = (cut[a.index(cut.len())], cut[b.index(cut.len())]);
            if from > to {
                std::mem::swap(&mut from, &mut to);
            }
            match edit {
                0 => format!("{}{}", &sql[..from], &sql[to..]),
                1 => format!("{}{}{}", &sql[..to], &sql[from..to], &sql[from..]),
                _ => format!("{} {word} {}", &sql[..from], &sql[to..]),
            }
        });
    prop_oneof![
        1 => any::<String>(),
        1 => "[ -~\n]{0,200}",
        3 => words,
        5 => mutated,
    ]
    .boxed()
}

/// Classification and planning never panic, in any dialect, whatever the text: every case
/// ends in a plan or an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sql_front_door_refuses_garbage_without_panicking() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let statements = generate("sql", sql_strategy(), cases() * 4);
    for dialect in [
        DialectName::Standard,
        DialectName::Trino,
        DialectName::Postgres,
    ] {
        let session = session(&engine).with_dialect(dialect);
        for sql in &statements {
            println!("fuzz sql ({dialect:?}): {sql:?}");
            let classified = engine.is_read(&session, sql);
            // Planning (not running) what classifies as a read exercises the rewrites and the
            // planner on the same text; either answer is fine, a panic is not.
            if matches!(classified, Ok(true)) {
                let _ = engine.describe(&session, sql).await;
            }
        }
    }
}

fn scalar_strategy() -> impl Strategy<Value = ScalarValue> {
    prop_oneof![
        any::<i64>().prop_map(|v| ScalarValue::Int64(Some(v))),
        any::<i32>().prop_map(|v| ScalarValue::Int32(Some(v))),
        any::<f64>().prop_map(|v| ScalarValue::Float64(Some(v))),
        any::<bool>().prop_map(|v| ScalarValue::Boolean(Some(v))),
        any::<String>().prop_map(|v| ScalarValue::Utf8(Some(v))),
        Just(ScalarValue::Null),
        Just(ScalarValue::Utf8(None)),
        any::<i32>().prop_map(|v| ScalarValue::Date32(Some(v))),
        any::<i64>().prop_map(|v| ScalarValue::TimestampMicrosecond(Some(v), None)),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(|v| ScalarValue::Binary(Some(v))),
    ]
}

/// Parameters of any type and count, bound to statements that use them in arithmetic,
/// comparisons, LIMIT and function calls: an answer or an error naming the parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_binding_takes_any_values_without_panicking() {
    let lake = shared_lake().await;
    let engine = lake.engine().await;
    let session = session(&engine);
    const STATEMENTS: &[&str] = &[
        "SELECT $1 AS a",
        "SELECT $1 + 1, $2 || 'x'",
        "SELECT count(*) FROM nation WHERE n_nationkey < $1 AND n_name <> $2",
        "SELECT n_name FROM nation LIMIT $1",
        "SELECT ? , ?, ?",
        "SELECT substr($1, $2, $3)",
        "SELECT CAST($1 AS DATE), $2 / $3",
    ];
    let cases = generate(
        "params",
        (
            prop::sample::select(STATEMENTS),
            prop::collection::vec(scalar_strategy(), 0..4),
        ),
        cases() * 2,
    );
    for (sql, params) in cases {
        println!("fuzz params: {sql} with {params:?}");
        if let Ok(outcome) = engine.execute_with(&session, sql, params).await {
            let mut stream = outcome.into_result().stream;
            while let Some(batch) = stream.next().await {
                if batch.is_err() {
                    break;
                }
            }
        }
    }
}

/// The split codec reads plan fragments from the network: random bytes, and real messages with
/// random JSON in them, are refused with an error; deletion vectors likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_split_codec_and_deletion_vectors_refuse_garbage_without_panicking() {
    let file_io = lakegate_coordinator::catalog::file_io(&Default::default());
    let codec = IcebergScanCodec::new(file_io);
    let ctx = TaskContext::default();
    let json = prop_oneof![
        "[ -~]{0,80}",
        Just(r#"{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"a","required":false,"type":"long"}]}"#.to_string()),
        Just(r#"{"type":"struct","fields":[{"id":1,"name":"a","required":true,"type":"decimal(99,99)"}]}"#.to_string()),
        Just(r#"{"spec-id":0,"fields":[{"source-id":7,"field-id":1000,"name":"p","transform":"bucket[0]"}]}"#.to_string()),
    ];
    let nodes = (
        json.clone(),
        prop::option::of(json.clone()),
        prop::collection::vec(any::<i32>(), 0..4),
        prop::collection::hash_map(any::<i32>(), json.clone(), 0..2),
        prop::collection::vec(
            (
                "[ -~]{0,20}",
                any::<u64>(),
                any::<i32>(),
                prop::option::of(json.clone()),
            ),
            0..3,
        ),
    )
        .prop_map(|(schema, predicate, fields, specs, splits)| {
            lakegate_proto::scan::IcebergScanNode {
                table: "t".into(),
                snapshot_id: 1,
                table_schema_json: schema,
                projected_field_ids: fields,
                predicate_json: predicate,
                partition_specs_json: specs,
                tasks: vec![lakegate_proto::scan::ScanTask {
                    partitions: vec![lakegate_proto::scan::ScanPartition {
                        splits: splits
                            .into_iter()
                            .map(
                                |(path, size, spec, partition)| lakegate_proto::scan::Split {
                                    data_file_path: path,
                                    file_size_in_bytes: size,
                                    length: size,
                                    partition_spec_id: spec,
                                    partition_json: partition,
                                    ..Default::default()
                                },
                            )
                            .collect(),
                    }],
                }],
                ..Default::default()
            }
            .encode_to_vec()
        });
    let inputs = generate(
        "codec",
        prop_oneof![prop::collection::vec(any::<u8>(), 0..256), nodes],
        cases() * 4,
    );
    for bytes in inputs {
        println!("fuzz codec: {} bytes", bytes.len());
        if let Ok(plan) = codec.try_decode(&bytes, &[], &ctx)
            && let Some(scan) = plan.downcast_ref::<IcebergScanExec>()
        {
            for split in scan.splits() {
                let _ = task_from_split(split, scan.context());
            }
        }
        let _ = decode_vector(&bytes);
    }
}

/// PostgreSQL messages: random bytes as the first packet, and random typed messages after a
/// real startup; then the server still answers psql and Flight SQL.
async fn postgres_garbage(server: &LocalServer) {
    let startup = {
        let mut body = Vec::new();
        body.extend_from_slice(&196_608u32.to_be_bytes());
        for part in ["user", "fuzz", "database", "lake"] {
            body.extend_from_slice(part.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut packet = ((body.len() + 4) as u32).to_be_bytes().to_vec();
        packet.extend(body);
        packet
    };
    let message = (
        prop::sample::select(&b"QPBEDSHCXFdcfp"[..]),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
    )
        .prop_map(|(tag, length, body, honest)| {
            let length = if honest {
                body.len() as u32 + 4
            } else {
                length
            };
            let mut bytes = vec![tag];
            bytes.extend_from_slice(&length.to_be_bytes());
            bytes.extend(body);
            bytes
        });
    let cases = generate(
        "postgres",
        (
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..128),
            prop::collection::vec(message, 1..4),
        ),
        cases(),
    );
    for (after_startup, raw, messages) in cases {
        println!("fuzz postgres: startup {after_startup}, {raw:?} / {messages:?}");
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", server.postgres_port)).await else {
            panic!("the PostgreSQL port stopped accepting connections");
        };
        let mut bytes = Vec::new();
        if after_startup {
            bytes.extend_from_slice(&startup);
            bytes.extend(messages.into_iter().flatten());
        } else {
            bytes.extend(raw);
        }
        let _ = stream.write_all(&bytes).await;
        // Whatever the server says, it says it promptly or waits for more: read briefly.
        let mut reply = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(50), stream.read(&mut reply)).await;
    }
    let output = common::psql(server, None, &["SELECT 41 + 1"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "42",
        "psql after the garbage: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Trino's protocol: random session headers and bodies on `POST /v1/statement` and random
/// result paths: answered (an error in Trino's shape or a 4xx), never a 5xx.
async fn trino_garbage(server: &LocalServer) {
    let header = prop::sample::select(
        &[
            "X-Trino-User",
            "X-Trino-Catalog",
            "X-Trino-Schema",
            "X-Trino-Session",
            "X-Trino-Time-Zone",
            "X-Trino-Prepared-Statement",
            "X-Trino-Client-Tags",
            "X-Trino-Source",
            "X-Trino-Transaction-Id",
            "X-Trino-Language",
            "Authorization",
            "Content-Type",
        ][..],
    );
    let cases = generate(
        "trino",
        (
            prop::collection::vec((header, "[ -~]{0,64}"), 0..5),
            sql_strategy(),
            "[a-z0-9/_.%-]{0,40}",
        ),
        cases(),
    );
    for (headers, sql, path) in cases {
        println!("fuzz trino: {headers:?} {sql:?} {path:?}");
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (status, body) = server
            .http_request("POST", "/v1/statement", &headers, sql.as_bytes())
            .await;
        assert!(
            status < 500,
            "POST /v1/statement answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        let (status, body) = server
            .http_request("GET", &format!("/v1/statement/{path}"), &headers, b"")
            .await;
        assert!(
            status < 500,
            "GET /v1/statement/{path} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        let (status, body) = server
            .http_request("POST", "/v1/query", &headers, sql.as_bytes())
            .await;
        assert!(
            status < 500,
            "POST /v1/query answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
}

/// Flight SQL: random tickets, descriptors and prepared statement handles, and statement
/// commands with random SQL: each an error status or a result, never a dropped connection.
async fn flight_garbage(server: &LocalServer) {
    let cases = generate(
        "flight",
        (
            prop::collection::vec(any::<u8>(), 0..96),
            sql_strategy(),
            "[ -~]{0,60}",
        ),
        cases(),
    );
    let client = server.flight_client().await;
    for (bytes, sql, type_url) in cases {
        println!("fuzz flight: {bytes:?} {sql:?} {type_url:?}");
        let mut raw = client.inner().clone();
        if let Ok(response) = raw.do_get(Ticket::new(bytes.clone())).await {
            let _ = response.into_inner().collect::<Vec<_>>().await;
        }
        let _ = raw
            .get_flight_info(FlightDescriptor::new_cmd(bytes.clone()))
            .await;
        let any = Any {
            type_url: type_url.clone(),
            value: bytes.clone().into(),
        };
        let _ = raw
            .get_flight_info(FlightDescriptor::new_cmd(any.encode_to_vec()))
            .await;
        // A prepared statement's handle is the client's to send back: any bytes may come.
        let prepared = CommandPreparedStatementQuery {
            prepared_statement_handle: bytes.clone().into(),
        };
        let _ = raw
            .get_flight_info(FlightDescriptor::new_cmd(prepared.as_any().encode_to_vec()))
            .await;
        let close = ActionClosePreparedStatementRequest {
            prepared_statement_handle: bytes.clone().into(),
        };
        let action = Action::new("ClosePreparedStatement", close.as_any().encode_to_vec());
        if let Ok(response) = raw.do_action(action).await {
            let _ = response.into_inner().collect::<Vec<_>>().await;
        }
        let command = CommandStatementQuery {
            query: sql,
            transaction_id: None,
        };
        let _ = raw
            .get_flight_info(FlightDescriptor::new_cmd(command.as_any().encode_to_vec()))
            .await;
    }
    let answer = collect_query(client, "SELECT 41 + 1 AS a")
        .await
        .expect("Flight SQL answers after the garbage");
    assert_eq!(common::rows(&answer), vec![vec!["42".to_string()]]);
}

/// One server takes garbage on every front end in turn and still answers each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_front_end_survives_garbage() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    postgres_garbage(&server).await;
    trino_garbage(&server).await;
    flight_garbage(&server).await;
    let answer = collect_query(server.flight_client().await, "SELECT count(*) FROM nation")
        .await
        .expect("a query after all the garbage");
    assert_eq!(common::rows(&answer), vec![vec!["25".to_string()]]);
}
