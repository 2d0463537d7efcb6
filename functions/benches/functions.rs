//! Trino functions against the closest DataFusion built-in, on the same generated columns in
//! one process: `cargo bench -p lakegate-functions --bench functions` (`ROWS=1000000` for a
//! quicker run). Prints each pair's median of 3 and the ratio; a ratio over 2 is a function
//! to make faster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Date32Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

/// (what is measured, Trino function's SQL, closest DataFusion built-in's SQL)
const PAIRS: [(&str, &str, &str); 10] = [
    (
        "date_trunc",
        "trino_date_trunc('month', ts)",
        "date_trunc('month', ts)",
    ),
    (
        "date_diff",
        "date_diff('day', d, d2)",
        "date_part('doy', d2)",
    ),
    (
        "date_format",
        "date_format(ts, '%Y-%m-%d')",
        "to_char(ts, '%Y-%m-%d')",
    ),
    (
        "regexp_extract",
        "regexp_extract(s, '(\\d+)', 1)",
        "regexp_match(s, '(\\d+)')",
    ),
    (
        "regexp_replace",
        "trino_regexp_replace(s, '\\d', 'x')",
        "regexp_replace(s, '\\d', 'x', 'g')",
    ),
    (
        "regexp_extract_all",
        "regexp_extract_all(s, '\\d+')",
        "regexp_count(s, '\\d+')",
    ),
    (
        "json_extract_scalar",
        "json_extract_scalar(j, '$.a')",
        "split_part(j, ':', 2)",
    ),
    (
        "url_extract_host",
        "url_extract_host(u)",
        "split_part(u, '/', 3)",
    ),
    ("bitwise_and", "bitwise_and(n, 255)", "n & 255"),
    (
        "last_day_of_month",
        "last_day_of_month(d)",
        "date_trunc('month', d)",
    ),
];

fn batch(rows: usize) -> RecordBatch {
    let n: Int64Array = (0..rows as i64).collect();
    let days = Date32Array::from_iter_values((0..rows as i32).map(|i| 8000 + i % 5000));
    let later = Date32Array::from_iter_values((0..rows as i32).map(|i| 8000 + i % 5000 + i % 97));
    let ts = TimestampNanosecondArray::from_iter_values(
        (0..rows as i64).map(|i| 1_600_000_000_000_000_000 + i * 7_919_000_000),
    );
    let s: StringArray = (0..rows)
        .map(|i| Some(format!("order {i} item {}", i % 13)))
        .collect();
    let j: StringArray = (0..rows)
        .map(|i| Some(format!("{{\"a\":{i},\"b\":\"x\"}}")))
        .collect();
    let u: StringArray = (0..rows)
        .map(|i| Some(format!("https://host{}.example.com:8080/p/{i}?q=1", i % 50)))
        .collect();
    let schema = Schema::new(vec![
        Field::new("n", DataType::Int64, false),
        Field::new("d", DataType::Date32, false),
        Field::new("d2", DataType::Date32, false),
        Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, None), false),
        Field::new("s", DataType::Utf8, false),
        Field::new("j", DataType::Utf8, false),
        Field::new("u", DataType::Utf8, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(n),
            Arc::new(days),
            Arc::new(later),
            Arc::new(ts),
            Arc::new(s),
            Arc::new(j),
            Arc::new(u),
        ],
    )
    .expect("columns match the schema")
}

async fn median(ctx: &SessionContext, expr: &str) -> Duration {
    let sql = format!("SELECT count({expr}) FROM t");
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let rows = async { ctx.sql(&sql).await?.collect().await }.await;
        rows.unwrap_or_else(|e| panic!("{sql}: {e}"));
        times.push(start.elapsed());
    }
    times.sort();
    times[1]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let rows: usize = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10_000_000);
    let data = batch(rows);
    let chunks: Vec<RecordBatch> = (0..rows)
        .step_by(8192)
        .map(|start| data.slice(start, 8192.min(rows - start)))
        .collect();
    let table = MemTable::try_new(data.schema(), vec![chunks]).expect("table");
    let mut state = SessionContext::new().state();
    lakegate_functions::register_library(&mut state).expect("register");
    let ctx = SessionContext::new_with_state(state);
    ctx.register_table("t", Arc::new(table))
        .expect("register t");

    println!("{rows} rows; median of 3 per expression");
    println!(
        "{:<22} {:>10} {:>10} {:>7}",
        "function", "trino ms", "builtin ms", "ratio"
    );
    for (name, ours, builtin) in PAIRS {
        let (a, b) = (median(&ctx, ours).await, median(&ctx, builtin).await);
        println!(
            "{name:<22} {:>10.1} {:>10.1} {:>7.2}",
            a.as_secs_f64() * 1e3,
            b.as_secs_f64() * 1e3,
            a.as_secs_f64() / b.as_secs_f64()
        );
    }
}
