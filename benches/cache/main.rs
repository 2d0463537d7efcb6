//! The result cache, server side: latency of hits (p50/p99) for results of about 1 KB,
//! 100 KB and 1 MB beside the latency of running the same query (a miss), and hits per second
//! from 16 concurrent clients, all in one run over the Engine every front end uses; then the
//! same hits for a user whose reads go through a row filter and a column mask (access control)
//! beside an unrestricted user, as the ratio of their p50 and p99.
//!
//! ```text
//! cargo bench --bench cache -- --scale 0.1
//! ```

#[path = "../common/lake.rs"]
mod lake;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures::TryStreamExt;
use lake::bench_lake;
use lakegate::tpch::lake_config;
use lakegate_coordinator::{Engine, Principal, Session};

#[derive(Debug, Parser)]
struct Args {
    /// TPC-H scale of the lake (0.1 has enough orders for the 1 MB result).
    #[arg(long, default_value_t = 0.1)]
    scale: f64,
    #[arg(long)]
    warehouse: Option<PathBuf>,
    /// Timed hits per result size.
    #[arg(long, default_value_t = 2000)]
    hits: usize,
    /// Timed misses per result size.
    #[arg(long, default_value_t = 10)]
    misses: usize,
    /// Seconds of the concurrent-hits run.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const SIZES: [(&str, &str); 3] = [
    (
        "~1 KB",
        "SELECT l_returnflag, l_linestatus, count(*) AS n, sum(l_quantity) AS q \
         FROM lineitem GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    (
        "~100 KB",
        "SELECT o_orderkey, o_totalprice FROM orders ORDER BY o_orderkey LIMIT 6000",
    ),
    (
        "~1 MB",
        "SELECT o_orderkey, o_totalprice FROM orders ORDER BY o_orderkey LIMIT 65000",
    ),
];

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let warehouse = bench_lake(args.scale, args.warehouse.clone()).await?;
    let mut config = lake_config(&warehouse, "lake");
    let policy_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let rules = policy_dir.path().join("rules.json");
    std::fs::write(&rules, RULES).map_err(|e| e.to_string())?;
    config.auth.access_control_file = Some(rules);
    let engine = Arc::new(
        Engine::connect(&config, None)
            .await
            .map_err(|e| e.to_string())?,
    );
    let session = engine.new_session(Principal::new("bench"));
    let refresh = engine.new_session(Principal::new("bench"));
    let filtered = engine.new_session(Principal::new("m7"));
    run(&engine, &refresh, "SET cache = refresh").await?;

    println!(
        "result cache, server side (Engine::execute + collect), {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<8} {:>10} {:>12} {:>12} {:>12} {:>9}",
        "result", "bytes", "miss p50 ms", "hit p50 ms", "hit p99 ms", "speedup"
    );
    for (name, sql) in SIZES {
        let bytes = run(&engine, &session, sql).await?;
        let mut misses = Vec::new();
        for _ in 0..args.misses {
            misses.push(timed(run(&engine, &refresh, sql)).await?);
        }
        let mut hits = Vec::new();
        for _ in 0..args.hits {
            hits.push(timed(run(&engine, &session, sql)).await?);
        }
        let miss = percentile(&mut misses, 0.5);
        let hit = percentile(&mut hits, 0.5);
        println!(
            "{:<8} {:>10} {:>12.3} {:>12.3} {:>12.3} {:>8.0}x",
            name,
            bytes,
            ms(miss),
            ms(hit),
            ms(percentile(&mut hits, 0.99)),
            miss.as_secs_f64() / hit.as_secs_f64().max(1e-9)
        );
    }

    let (_, small) = SIZES[0];
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let session = engine.new_session(Principal::new("bench"));
                let mut done = 0u64;
                while Instant::now() < deadline {
                    run(&engine, &session, small).await?;
                    done += 1;
                }
                Ok::<_, String>(done)
            })
        })
        .collect();
    let mut total = 0;
    for client in clients {
        total += client.await.map_err(|e| e.to_string())??;
    }
    println!(
        "16 concurrent clients, ~1 KB hits: {:.0} hits/s",
        total as f64 / args.seconds as f64
    );

    // The same hits for a user under a row filter and a mask: the key carries their policy.
    println!(
        "{:<8} {:>16} {:>16} {:>9} {:>9}",
        "result", "plain hit p50", "filtered p50", "p50 x", "p99 x"
    );
    for (name, sql) in SIZES {
        run(&engine, &session, sql).await?;
        run(&engine, &filtered, sql).await?;
        let (mut plain, mut masked) = (Vec::new(), Vec::new());
        // Interleaved, so both see the same machine.
        for _ in 0..args.hits {
            plain.push(timed(run(&engine, &session, sql)).await?);
            masked.push(timed(run(&engine, &filtered, sql)).await?);
        }
        let ratio = |p: f64, plain: &mut [Duration], masked: &mut [Duration]| {
            percentile(masked, p).as_secs_f64() / percentile(plain, p).as_secs_f64().max(1e-9)
        };
        println!(
            "{:<8} {:>13.3} ms {:>13.3} ms {:>8.2}x {:>8.2}x",
            name,
            ms(percentile(&mut plain, 0.5)),
            ms(percentile(&mut masked, 0.5)),
            ratio(0.5, &mut plain, &mut masked),
            ratio(0.99, &mut plain, &mut masked),
        );
    }
    let stats = engine.health().cache;
    println!("cache: {stats:?}");
    Ok(())
}

/// `bench` reads everything; `m7` reads orders through a row filter naming `current_user` and
/// with the clerk masked, and lineitem whole. The filter keeps every row, so both users'
/// results are the same size and what differs is the cost of the policy on a hit.
const RULES: &str = r#"{
  "tables": [
    {"user": "bench", "privileges": ["SELECT"]},
    {"user": "m7", "table": "orders", "privileges": ["SELECT"],
     "filter": "o_custkey >= CAST(substr(current_user, 2) AS BIGINT) - 7",
     "columns": [{"name": "o_clerk", "mask": "'***'"}]},
    {"user": "m7", "table": "lineitem", "privileges": ["SELECT"]}
  ]
}"#;

/// Runs `sql` and collects its rows; the result's Arrow size in bytes.
async fn run(engine: &Engine, session: &Session, sql: &str) -> Result<usize, String> {
    let result = engine
        .execute(session, sql)
        .await
        .map_err(|e| format!("{sql}: {e}"))?
        .into_result();
    let batches: Vec<_> = result
        .stream
        .try_collect()
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    Ok(batches.iter().map(|b| b.get_array_memory_size()).sum())
}

async fn timed(run: impl Future<Output = Result<usize, String>>) -> Result<Duration, String> {
    let start = Instant::now();
    run.await?;
    Ok(start.elapsed())
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    let index = ((times.len() as f64 - 1.0) * p).round() as usize;
    times[index.min(times.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
