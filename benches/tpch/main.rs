//! TPC-H through lakegate against single-node DataFusion on the same Parquet files, in one run.
//!
//! ```text
//! cargo bench --bench tpch -- --scale 1 --executors 2 --iterations 3
//! ```
//!
//! Writes the lake once (or reuses it), starts `lakegate local` in this process with N
//! executors on loopback gRPC ports, and runs every query K times through the Flight SQL
//! front end and K times through a plain DataFusion context over the data files of the same
//! snapshots, after one untimed warm-up run of each. Prints per-query medians, the totals and
//! lakegate ÷ DataFusion. On one machine distribution adds no cores, so the ratio is the cost
//! of the gateway: planning, the network path between processes and Arrow Flight encoding.

#[path = "../common/flight.rs"]
mod flight;
#[path = "../common/lake.rs"]
mod lake;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use clap::Parser;
use datafusion::prelude::{SessionConfig, SessionContext};
use lake::bench_lake;
use lakegate::local::{self, Role};
use lakegate::tpch::{QUERIES, baseline_context, lake_config};
use lakegate_coordinator::catalog::connect_catalog;
use tonic::transport::{Channel, Endpoint};

#[derive(Debug, Parser)]
#[command(about = "TPC-H: lakegate local vs single-node DataFusion on the same files")]
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
    /// Timed runs per query and engine; the median is reported.
    #[arg(long, default_value_t = 3)]
    iterations: usize,
    /// Only these queries (`q01,q18`); default all 22.
    #[arg(long, value_delimiter = ',')]
    queries: Vec<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One query's medians.
struct Timing {
    name: &'static str,
    datafusion: Duration,
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

    let mut gateway = config.clone();
    gateway.cluster.local_executors = args.executors;
    gateway.server.flight_sql_addr = ([127, 0, 0, 1], 0).into();
    gateway.server.http_addr = ([127, 0, 0, 1], 0).into();
    gateway.server.postgres_addr = ([127, 0, 0, 1], 0).into();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(local::run(
        gateway,
        Role::Local,
        async move {
            let _ = stop_rx.await;
        },
        move |ready| {
            let _ = ready_tx.send(ready.flight_sql);
        },
    ));
    let addr = ready_rx
        .await
        .map_err(|_| "lakegate local stopped before it was ready".to_string())?;
    let client = flight_client(&format!("http://{addr}")).await?;

    println!(
        "TPC-H scale {} · lakegate local with {} executors vs DataFusion · {} cores · median of {}",
        args.scale,
        args.executors,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.iterations
    );
    println!(
        "{:<6} {:>14} {:>14} {:>14}",
        "query", "datafusion ms", "lakegate ms", "ratio"
    );
    let mut timings = Vec::new();
    for (name, sql) in QUERIES {
        if !args.queries.is_empty() && !args.queries.iter().any(|q| q == name) {
            continue;
        }
        let datafusion = median(args.iterations, || run_datafusion(&baseline, sql)).await?;
        let lakegate = median(args.iterations, || run_lakegate(client.clone(), sql)).await;
        let lakegate = lakegate.map_err(|e| format!("{name} through lakegate: {e}"))?;
        let timing = Timing {
            name,
            datafusion,
            lakegate,
        };
        print_row(&timing);
        timings.push(timing);
    }
    let total = Timing {
        name: "total",
        datafusion: timings.iter().map(|t| t.datafusion).sum(),
        lakegate: timings.iter().map(|t| t.lakegate).sum(),
    };
    print_row(&total);

    let _ = stop_tx.send(());
    let _ = server.await;
    Ok(())
}

async fn flight_client(url: &str) -> Result<FlightSqlServiceClient<Channel>, String> {
    let channel = Endpoint::from_shared(url.to_string())
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    Ok(FlightSqlServiceClient::new(channel))
}

/// Runs `run` once untimed, then `iterations` times; the median time.
async fn median<F, Fut>(iterations: usize, mut run: F) -> Result<Duration, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, String>>,
{
    run().await?;
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        run().await?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
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

fn print_row(t: &Timing) {
    if t.name == "total" {
        println!("{:-<52}", "");
    }
    let ratio = t.lakegate.as_secs_f64() / t.datafusion.as_secs_f64().max(1e-9);
    println!(
        "{:<6} {:>14.1} {:>14.1} {:>13.2}x",
        t.name,
        t.datafusion.as_secs_f64() * 1000.0,
        t.lakegate.as_secs_f64() * 1000.0,
        ratio
    );
}
