//! TPC-H on 1, 2, ... executor processes, each pinned to a core of its own: the speed-up that
//! adding executors (and their cores) buys.
//!
//! ```text
//! cargo bench --bench scaling -- --scale 1 --executors 1,2 --iterations 3
//! ```
//!
//! For each count N it starts `lakegate coordinator` and N `lakegate executor` processes
//! (the release binary), executor i pinned to core i with `taskset` and one plan thread, the
//! coordinator pinned to the same N cores (it runs each plan's last stage, and the whole plan
//! when one task suffices), the result cache off. Every query runs once untimed, then
//! `--iterations` times; the median is reported per N, with the speed-up of the largest N
//! over the smallest. On a bigger machine `--executors 1,2,4,8` takes more cores.

#[path = "../common/flight.rs"]
mod flight;
#[path = "../common/lake.rs"]
mod lake;
#[path = "../common/process.rs"]
mod process;

use std::process::Command;
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use clap::Parser;
use lake::bench_lake;
use lakegate::tpch::QUERIES;
use process::{KillOnDrop, coordinator_args, spawn_until, with_args};
use tonic::transport::{Channel, Endpoint};

#[derive(Debug, Parser)]
#[command(about = "TPC-H speed-up from 1 to N executors, each pinned to its own core")]
struct Args {
    /// TPC-H scale factor of the lake.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Where the lake is (written there when missing).
    #[arg(long)]
    warehouse: Option<std::path::PathBuf>,
    /// The executor counts compared, in order.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    executors: Vec<usize>,
    /// Timed runs per query and count; the median is reported.
    #[arg(long, default_value_t = 3)]
    iterations: usize,
    /// Bytes of data files one scan task reads (`cluster.bytes_per_task`): small enough that
    /// every table of the lake spreads over every executor.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    bytes_per_task: usize,
    /// Only these queries (`q01,q18`); default all 22.
    #[arg(long, value_delimiter = ',')]
    queries: Vec<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One cluster: a coordinator and its pinned executors.
struct Cluster {
    _coordinator: KillOnDrop,
    _executors: Vec<KillOnDrop>,
    client: FlightSqlServiceClient<Channel>,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.iterations == 0 || args.executors.is_empty() {
        return Err("--iterations and --executors must not be empty".into());
    }
    if let Some(n) = args.executors.iter().find(|n| **n == 0 || **n > cores) {
        return Err(format!(
            "{n} executors cannot each have one of {cores} cores"
        ));
    }
    let warehouse = bench_lake(args.scale, args.warehouse.clone()).await?;
    let warehouse = warehouse.display().to_string();
    let queries: Vec<(&str, &str)> = QUERIES
        .iter()
        .filter(|(name, _)| args.queries.is_empty() || args.queries.iter().any(|q| q == name))
        .copied()
        .collect();

    let mut medians: Vec<Vec<Duration>> = Vec::new();
    for &n in &args.executors {
        let mut cluster = Cluster::start(&warehouse, n, args.bytes_per_task).await?;
        let mut times = Vec::new();
        for (name, sql) in &queries {
            let time = median(&mut cluster.client, sql, args.iterations)
                .await
                .map_err(|e| format!("{name} on {n} executors: {e}"))?;
            times.push(time);
        }
        medians.push(times);
    }

    println!(
        "TPC-H scale {} · executors pinned to one core each · median of {} · ms",
        args.scale, args.iterations
    );
    let header: Vec<String> = args.executors.iter().map(|n| format!("{n} exec")).collect();
    println!("{:<6} {:>10} {:>9}", "query", header.join("  "), "speed-up");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let row = |name: &str, times: Vec<Duration>| {
        let cells: Vec<String> = times.iter().map(|t| format!("{:>8.1}", ms(*t))).collect();
        let first = times.first().copied().unwrap_or_default();
        let last = times.last().copied().unwrap_or_default();
        println!(
            "{name:<6} {}  {:>8.2}x",
            cells.join("  "),
            first.as_secs_f64() / last.as_secs_f64().max(1e-9)
        );
    };
    for (i, (name, _)) in queries.iter().enumerate() {
        row(name, medians.iter().map(|m| m[i]).collect());
    }
    row("total", medians.iter().map(|m| m.iter().sum()).collect());
    Ok(())
}

impl Cluster {
    async fn start(
        warehouse: &str,
        executors: usize,
        bytes_per_task: usize,
    ) -> Result<Self, String> {
        let bin = env!("CARGO_BIN_EXE_lakegate");
        let cores = format!("0-{}", executors - 1);
        let threads = format!("query.cpu_threads={executors}");
        let bytes = format!("cluster.bytes_per_task={bytes_per_task}");
        let (coordinator, lines) = spawn_until(
            pinned(
                &cores,
                bin,
                &coordinator_args(
                    warehouse,
                    &[
                        "--set",
                        "cache.enabled=false",
                        "--set",
                        &threads,
                        "--set",
                        &bytes,
                        "--set",
                        "cluster.heartbeat_interval_ms=500",
                    ],
                ),
            ),
            "Flight SQL listening on ",
        )?;
        let flight = lines
            .last()
            .and_then(|l| l.strip_prefix("Flight SQL listening on "))
            .ok_or("no Flight SQL address")?
            .trim()
            .to_string();
        let mut running = Vec::new();
        for core in 0..executors {
            let (child, _) = spawn_until(
                pinned(
                    &core.to_string(),
                    bin,
                    &[
                        "executor",
                        "--warehouse",
                        warehouse,
                        "--coordinator",
                        &format!("http://{flight}"),
                        "--listen",
                        "127.0.0.1:0",
                        "--set",
                        "query.cpu_threads=1",
                        "--set",
                        "cluster.heartbeat_interval_ms=500",
                    ],
                ),
                "executor listening on ",
            )?;
            running.push(child);
        }
        let channel = Endpoint::from_shared(format!("http://{flight}"))
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| format!("connecting to {flight}: {e}"))?;
        let mut client = FlightSqlServiceClient::new(channel);
        let deadline = Instant::now() + Duration::from_secs(20);
        let registered = "SELECT count(*) FROM system.runtime.executors";
        loop {
            let batches = flight::fetch(&mut client, registered).await?;
            let count = batches
                .first()
                .and_then(|b| {
                    b.column(0)
                        .as_any()
                        .downcast_ref::<arrow::array::Int64Array>()
                })
                .map_or(0, |c| c.value(0));
            if count as usize == executors {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{count} of {executors} executors registered after 20 s"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Cluster {
            _coordinator: coordinator,
            _executors: running,
            client,
        })
    }
}

/// Runs `sql` once untimed, then `iterations` times; the median time.
async fn median(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
    iterations: usize,
) -> Result<Duration, String> {
    flight::fetch(client, sql).await?;
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        flight::fetch(client, sql).await?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[(times.len() - 1) / 2])
}

/// `bin args` pinned to `cores` (a `taskset` list).
fn pinned(cores: &str, bin: &str, args: &[&str]) -> Command {
    let mut all = vec!["-c", cores, bin];
    all.extend_from_slice(args);
    with_args("taskset", &all)
}
