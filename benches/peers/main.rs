//! TPC-H through lakegate, DuckDB on the same Iceberg tables and single-node DataFusion on the
//! same Parquet files, in one run.
//!
//! ```text
//! cargo bench --bench peers -- --scale 1 --executors 2 --iterations 3
//! ```
//!
//! Writes the lake once (or reuses it), starts `lakegate local` in this process with N
//! executors on loopback gRPC ports and the result cache off, and times every query through the
//! Flight SQL front end, through a plain DataFusion context over the data files of the same
//! snapshots, and through DuckDB (the venv's `duckdb` + Iceberg extension, `$LAKEGATE_PYTHON`)
//! over the same metadata files: one untimed warm-up run each, then the median of K runs. The
//! engines take turns query by query, so a machine that slows down slows all three alike.
//! Prints per-query medians, totals and lakegate's ratio to each peer.

#[path = "duckdb.rs"]
mod duckdb;
#[path = "../common/flight.rs"]
mod flight;
#[path = "../common/gateway.rs"]
mod gateway;
#[path = "../common/lake.rs"]
mod lake;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use clap::Parser;
use datafusion::prelude::{SessionConfig, SessionContext};
use duckdb::DuckDb;
use gateway::Gateway;
use lake::bench_lake;
use lakegate::tpch::{QUERIES, baseline_context, lake_config};
use lakegate_coordinator::catalog::connect_catalog;
use tonic::transport::Channel;

#[derive(Debug, Parser)]
#[command(about = "TPC-H: lakegate local vs DuckDB and single-node DataFusion on the same lake")]
struct Args {
    /// TPC-H scale factor of the lake.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Where the lake is (written there when missing); default: a folder per scale under the
    /// system temp dir, so reruns reuse it.
    #[arg(long)]
    warehouse: Option<PathBuf>,
    /// Executors `lakegate local` starts in-process.
    #[arg(long, default_value_t = 2)]
    executors: usize,
    /// `cluster.max_tasks_per_stage`: 0 keeps local mode's (plans whole in the coordinator,
    /// its executors sharing its cores); 2 spreads stages over two in-process executors.
    #[arg(long, default_value_t = 0)]
    max_tasks_per_stage: usize,
    /// Timed runs per query and engine; the median is reported.
    #[arg(long, default_value_t = 3)]
    iterations: usize,
    /// Only these queries (`q01,q18`); default all 22.
    #[arg(long, value_delimiter = ',')]
    queries: Vec<String>,
    /// The Python with `duckdb` and `duckdb-extension-iceberg`; DuckDB is left out when empty.
    #[arg(long, env = "LAKEGATE_PYTHON", default_value = "python3")]
    python: String,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One query's medians.
struct Timing {
    name: &'static str,
    datafusion: Duration,
    duckdb: Option<Duration>,
    lakegate: Duration,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    if args.iterations == 0 {
        return Err("--iterations must be at least 1".into());
    }
    let warehouse = bench_lake(args.scale, args.warehouse.clone()).await?;
    let config = lake_config(&warehouse, "lake");

    let catalog = connect_catalog(&config, false)
        .await
        .map_err(|e| e.to_string())?;
    let baseline = baseline_context(catalog.as_ref(), "tpch", SessionConfig::new())
        .await
        .map_err(|e| e.to_string())?;
    let mut duckdb = if args.python.is_empty() {
        None
    } else {
        Some(DuckDb::start(&args.python, catalog.as_ref(), "tpch").await?)
    };

    let mut settings = config.clone();
    settings.cluster.local_executors = args.executors;
    settings.cluster.max_tasks_per_stage = args.max_tasks_per_stage;
    settings.cache.enabled = false;
    let gateway = Gateway::start(settings).await?;
    let client = gateway.flight().await?;

    println!(
        "TPC-H scale {} · lakegate local with {} executors, max tasks per stage {} (result cache off) vs DataFusion and DuckDB · {} cores · median of {}",
        args.scale,
        args.executors,
        args.max_tasks_per_stage,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.iterations
    );
    println!(
        "{:<6} {:>13} {:>13} {:>13} {:>10} {:>10}",
        "query", "datafusion ms", "duckdb ms", "lakegate ms", "÷ df", "÷ duckdb"
    );
    let mut timings = Vec::new();
    for (name, sql) in QUERIES {
        if !args.queries.is_empty() && !args.queries.iter().any(|q| q == name) {
            continue;
        }
        let (datafusion, rows) = median(args.iterations, || run_datafusion(&baseline, sql)).await?;
        let (lakegate, lakegate_rows) =
            median(args.iterations, || run_lakegate(client.clone(), sql))
                .await
                .map_err(|e| format!("{name} through lakegate: {e}"))?;
        let duckdb = match duckdb.as_mut() {
            Some(peer) => {
                let timing = peer.time(name, sql, args.iterations).await?;
                if timing.rows != rows {
                    eprintln!(
                        "{name}: DuckDB answered {} rows, DataFusion {rows}",
                        timing.rows
                    );
                }
                Some(timing.median)
            }
            None => None,
        };
        if lakegate_rows != rows {
            return Err(format!(
                "{name}: lakegate answered {lakegate_rows} rows, DataFusion {rows}"
            ));
        }
        let timing = Timing {
            name,
            datafusion,
            duckdb,
            lakegate,
        };
        print_row(&timing);
        timings.push(timing);
    }
    let total = Timing {
        name: "total",
        datafusion: timings.iter().map(|t| t.datafusion).sum(),
        duckdb: timings.iter().map(|t| t.duckdb).sum(),
        lakegate: timings.iter().map(|t| t.lakegate).sum(),
    };
    print_row(&total);
    let over: Vec<&str> = timings
        .iter()
        .filter(|t| t.duckdb.is_some_and(|d| ratio(t.lakegate, d) > 1.5))
        .map(|t| t.name)
        .collect();
    if total.duckdb.is_some() {
        println!(
            "over 1.5x DuckDB: {}",
            if over.is_empty() {
                "none".to_string()
            } else {
                over.join(", ")
            }
        );
    }

    gateway.stop().await;
    Ok(())
}

/// Runs `run` once untimed, then `iterations` times; the median time and the rows answered.
async fn median<F, Fut>(iterations: usize, mut run: F) -> Result<(Duration, usize), String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, String>>,
{
    let rows = run().await?;
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        run().await?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok((times[(times.len() - 1) / 2], rows))
}

async fn run_datafusion(ctx: &SessionContext, sql: &str) -> Result<usize, String> {
    let batches = ctx
        .sql(sql)
        .await
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(batches.iter().map(|b| b.num_rows()).sum())
}

async fn run_lakegate(
    mut client: FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<usize, String> {
    let batches = flight::fetch(&mut client, sql).await?;
    Ok(batches.iter().map(|b| b.num_rows()).sum())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn print_row(t: &Timing) {
    if t.name == "total" {
        println!("{:-<70}", "");
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (duckdb_ms, versus_duckdb) = match t.duckdb {
        Some(d) => (
            format!("{:.1}", ms(d)),
            format!("{:.2}x", ratio(t.lakegate, d)),
        ),
        None => ("-".into(), "-".into()),
    };
    println!(
        "{:<6} {:>13.1} {:>13} {:>13.1} {:>9.2}x {:>10}",
        t.name,
        ms(t.datafusion),
        duckdb_ms,
        ms(t.lakegate),
        ratio(t.lakegate, t.datafusion),
        versus_duckdb
    );
}
