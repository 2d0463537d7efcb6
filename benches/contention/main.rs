//! How quickly the gateway answers while queries use every core: cache hits and cancels.
//!
//! ```text
//! cargo bench --bench contention -- --scale 1 --heavy 2 --hits 300 --cancels 5
//! ```
//!
//! Starts `lakegate local` in this process on the TPC-H lake (result cache on), fills the cache
//! with a dashboard query, and times Flight SQL cache hits of it, first on an idle gateway,
//! then while `--heavy` clients run heavy TPC-H queries back to back through the Trino
//! protocol with the cache off (the cores are then busy with plans). Under the same load it starts a heavy query through the Trino protocol,
//! cancels it with `DELETE /v1/queries/{id}` and times the cancel's answer and how long until
//! the query is reported cancelled. The idle figures are the baseline of the loaded ones.

#[path = "../common/flight.rs"]
mod flight;
#[path = "../common/gateway.rs"]
mod gateway;
#[path = "../common/lake.rs"]
mod lake;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use clap::Parser;
use gateway::Gateway;
use lake::bench_lake;
use lakegate::tpch::{QUERIES, lake_config};
use tonic::transport::Channel;

#[derive(Debug, Parser)]
#[command(about = "Cache-hit and cancel latency while heavy queries use every core")]
struct Args {
    /// TPC-H scale factor of the lake.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Where the lake is (written there when missing).
    #[arg(long)]
    warehouse: Option<std::path::PathBuf>,
    /// Clients running heavy queries back to back.
    #[arg(long, default_value_t = 2)]
    heavy: usize,
    /// Cache hits timed per phase.
    #[arg(long, default_value_t = 300)]
    hits: usize,
    /// Cancels timed.
    #[arg(long, default_value_t = 5)]
    cancels: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Answered from the cache after its first run.
const DASHBOARD: &str =
    "SELECT l_returnflag, l_linestatus, count(*) AS n FROM lineitem GROUP BY 1, 2";
/// The heavy queries: each holds both cores for about a second at scale 1.
const HEAVY: [&str; 3] = ["q09", "q18", "q21"];

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let warehouse = bench_lake(args.scale, args.warehouse.clone()).await?;
    let gateway = Gateway::start(lake_config(&warehouse, "lake")).await?;
    let client = gateway.flight().await?;
    let http = format!("http://{}", gateway.ready.http);

    flight::fetch(&mut client.clone(), DASHBOARD).await?;
    println!(
        "TPC-H scale {} · {} cores · {} heavy clients ({})",
        args.scale,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.heavy,
        HEAVY.join(", ")
    );
    let idle = cache_hits(&client, args.hits).await?;
    report("cache hit, idle", &idle);

    let web = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));
    let mut heavy = Vec::new();
    for n in 0..args.heavy {
        let (web, http, stop, finished) =
            (web.clone(), http.clone(), stop.clone(), finished.clone());
        heavy.push(tokio::spawn(async move {
            let mut i = n;
            while !stop.load(Ordering::Relaxed) {
                trino_run(&web, &http, heavy_sql(HEAVY[i % HEAVY.len()])).await?;
                finished.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            Ok::<(), String>(())
        }));
    }
    // Let the heavy queries reach their scans and joins.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let loaded = cache_hits(&client, args.hits).await?;
    report("cache hit, loaded", &loaded);

    let mut answered = Vec::new();
    let mut cancelled = Vec::new();
    for n in 0..args.cancels {
        let (answer, reported) = cancel_one(&web, &http, heavy_sql(HEAVY[n % HEAVY.len()])).await?;
        answered.push(answer);
        cancelled.push(reported);
    }
    report("cancel answered, loaded", &answered);
    report("cancel reported, loaded", &cancelled);

    stop.store(true, Ordering::Relaxed);
    for task in heavy {
        task.await.map_err(|e| e.to_string())??;
    }
    println!(
        "heavy queries finished meanwhile: {}",
        finished.load(Ordering::Relaxed)
    );
    gateway.stop().await;
    Ok(())
}

fn heavy_sql(name: &str) -> &'static str {
    QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(QUERIES[0].1, |(_, sql)| *sql)
}

/// Starts `sql` through the Trino protocol with the result cache off (so it runs every time),
/// in the standard dialect the TPC-H queries are written in: its first page.
async fn trino_start(
    web: &reqwest::Client,
    http: &str,
    sql: &str,
) -> Result<serde_json::Value, String> {
    let request = web
        .post(format!("{http}/v1/statement"))
        .header("X-Trino-User", "bench")
        .header("X-Trino-Session", "cache=off,dialect=standard")
        .body(sql.to_string());
    json(request).await
}

/// Sends `request`; its answer's JSON body.
async fn json(request: reqwest::RequestBuilder) -> Result<serde_json::Value, String> {
    let body = request
        .send()
        .await
        .map_err(|e| e.to_string())?
        .bytes()
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

/// Runs `sql` through the Trino protocol to its last page.
async fn trino_run(web: &reqwest::Client, http: &str, sql: &str) -> Result<(), String> {
    let mut page = trino_start(web, http, sql).await?;
    loop {
        if let Some(error) = page.get("error") {
            return Err(format!("heavy query failed: {error}"));
        }
        let Some(next) = page["nextUri"].as_str() else {
            return Ok(());
        };
        page = json(web.get(next)).await?;
    }
}

async fn cache_hits(
    client: &FlightSqlServiceClient<Channel>,
    hits: usize,
) -> Result<Vec<Duration>, String> {
    let mut times = Vec::with_capacity(hits);
    for _ in 0..hits {
        let start = Instant::now();
        flight::fetch(&mut client.clone(), DASHBOARD).await?;
        times.push(start.elapsed());
    }
    Ok(times)
}

/// Starts `sql` through the Trino protocol, lets it run, cancels it: how long the cancel took
/// to answer, and until the query was reported cancelled.
async fn cancel_one(
    web: &reqwest::Client,
    http: &str,
    sql: &str,
) -> Result<(Duration, Duration), String> {
    let first = trino_start(web, http, sql).await?;
    let id = first["id"]
        .as_str()
        .ok_or_else(|| format!("no query id in {first}"))?
        .to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = Instant::now();
    let status = web
        .delete(format!("{http}/v1/queries/{id}"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .status();
    let answered = start.elapsed();
    if !status.is_success() {
        return Err(format!("cancelling {id}: HTTP {status}"));
    }
    loop {
        let listed = json(web.get(format!("{http}/v1/queries/{id}"))).await?;
        if listed["state"] == "CANCELLED" {
            return Ok((answered, start.elapsed()));
        }
        if start.elapsed() > Duration::from_secs(60) {
            return Err(format!("{id} not cancelled after 60 s: {listed}"));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn report(what: &str, times: &[Duration]) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let at = |q: f64| {
        let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i].as_secs_f64() * 1000.0
    };
    println!(
        "{what:<26} n={:<4} p50 {:>8.2} ms   p99 {:>8.2} ms   max {:>8.2} ms",
        sorted.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
