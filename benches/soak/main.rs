//! Soak: clients over all four front ends (Flight SQL, HTTP, the Trino protocol, PostgreSQL
//! through `psql`) against a coordinator and two executor processes, for minutes, while commits
//! land on `lineitem` and an executor is SIGKILLed and replaced on a schedule. Dashboard
//! repeats are checked against single-node DataFusion over the data files of every snapshot
//! `lineitem` had while the query ran (computed here as each commit lands); heavy queries vary
//! a literal so the result cache does not answer them.
//!
//! Reports queries and errors by front end and kind (lost and retryable, or not), wrong
//! answers, p50/p99 latency, and the coordinator's RSS over time.
//!
//! ```text
//! cargo bench --bench soak -- --seconds 600 --clients 64
//! ```

#[path = "../common/flight.rs"]
mod flight;
#[path = "../common/lake.rs"]
mod lake;
#[path = "../common/process.rs"]
mod process;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_flight::sql::client::FlightSqlServiceClient;
use clap::Parser;
use lakegate::tpch::{TpchTable, append_batches, arrow_schema_with_ids, lake_config};
use lakegate_coordinator::catalog::connect_catalog;
use process::{KillOnDrop, coordinator_args, spawn_until, with_args};
use tonic::transport::Endpoint;

#[derive(Debug, Parser)]
struct Args {
    /// TPC-H scale of the lake (written fresh: commits change it).
    #[arg(long, default_value_t = 0.01)]
    scale: f64,
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds between commits to `lineitem`.
    #[arg(long, default_value_t = 10)]
    commit_every: u64,
    /// Seconds between executor kills (each replaced at once).
    #[arg(long, default_value_t = 60)]
    kill_every: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The dashboard every client repeats: checked against DataFusion at each snapshot.
const DASHBOARD: &str = "SELECT l_returnflag, l_linestatus, count(*) AS n, sum(l_quantity) AS q \
                         FROM lineitem GROUP BY l_returnflag, l_linestatus \
                         ORDER BY l_returnflag, l_linestatus";

/// Heavy queries, `{k}` varied per run so the cache cannot answer them.
const HEAVY: [&str; 2] = [
    "SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem \
     JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
     JOIN nation ON c_nationkey = n_nationkey WHERE l_quantity > {k} GROUP BY n_name",
    "SELECT l_orderkey, sum(l_extendedprice) AS total FROM lineitem WHERE l_quantity > {k} \
     GROUP BY l_orderkey ORDER BY total DESC LIMIT 20",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FrontEnd {
    Flight,
    Http,
    Trino,
    Postgres,
}

/// Where the coordinator listens.
#[derive(Debug, Clone, Copy)]
struct Ports {
    flight: u16,
    http: u16,
    postgres: u16,
}

/// Each `lineitem` state the soak committed: from when, and the dashboard's rows then.
type States = Arc<Mutex<Vec<(Instant, Vec<Vec<String>>)>>>;

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    queries: BTreeMap<FrontEnd, u64>,
    errors: BTreeMap<(FrontEnd, String), u64>,
    checked: u64,
    wrong: Vec<String>,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let warehouse = lake::bench_lake(args.scale, Some(dir.path().join("lake"))).await?;
    let bin = env!("CARGO_BIN_EXE_lakegate");
    let warehouse_arg = warehouse.display().to_string();
    let (coordinator, ports) = start_coordinator(bin, &warehouse_arg)?;
    let coordinator_url = format!("http://127.0.0.1:{}", ports.flight);
    let executors = Arc::new(Mutex::new(vec![
        start_executor(bin, &warehouse_arg, &coordinator_url)?,
        start_executor(bin, &warehouse_arg, &coordinator_url)?,
    ]));
    tokio::time::sleep(Duration::from_secs(3)).await;

    let catalog = connect_catalog(&lake_config(&warehouse, "lake"), false)
        .await
        .map_err(|e| e.to_string())?;
    let states: States = Arc::new(Mutex::new(vec![(
        Instant::now(),
        expected_dashboard(catalog.as_ref()).await?,
    )]));
    let psql = Command::new("psql").arg("--version").output().is_ok();
    if !psql {
        println!("psql not found: PostgreSQL clients run over Flight SQL instead");
    }

    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut clients = Vec::new();
    for client in 0..args.clients {
        let front_end = match client % 4 {
            0 => FrontEnd::Flight,
            1 => FrontEnd::Http,
            2 => FrontEnd::Trino,
            _ if psql => FrontEnd::Postgres,
            _ => FrontEnd::Flight,
        };
        let (tally, states) = (tally.clone(), states.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = client;
            while Instant::now() < deadline {
                n += args.clients;
                let heavy = n.is_multiple_of(5);
                let sql = if heavy {
                    HEAVY[n % HEAVY.len()].replace("{k}", &(n % 50).to_string())
                } else {
                    DASHBOARD.to_string()
                };
                let began = Instant::now();
                let answer = run(front_end, ports, &http, &sql).await;
                let ended = Instant::now();
                let mut tally = tally.lock().unwrap_or_else(|e| e.into_inner());
                tally.latencies.push(ended - began);
                *tally.queries.entry(front_end).or_default() += 1;
                match answer {
                    Ok(rows) if !heavy => {
                        tally.checked += 1;
                        if !matches_a_state(&states, began, ended, &rows) {
                            tally
                                .wrong
                                .push(format!("{front_end:?} at {:?}: {rows:?}", began - start));
                        }
                    }
                    Ok(_) => {}
                    Err(message) => {
                        *tally.errors.entry((front_end, kind(&message))).or_default() += 1;
                    }
                }
            }
        }));
    }

    // Commits, executor kills and RSS samples, until the deadline.
    let mut next_commit = start + Duration::from_secs(args.commit_every);
    let mut next_kill = start + Duration::from_secs(args.kill_every);
    let mut next_sample = start;
    let mut rss = Vec::new();
    let (mut commits, mut kills) = (0, 0);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = Instant::now();
        if now >= next_sample {
            next_sample = now + Duration::from_secs(10);
            rss.push(((now - start).as_secs(), rss_kib(coordinator.0.id())));
        }
        if now >= next_commit {
            next_commit = now + Duration::from_secs(args.commit_every);
            // The new snapshot may be read from the moment the commit starts.
            let committing = Instant::now();
            commit(catalog.as_ref(), args.scale).await?;
            let rows = expected_dashboard(catalog.as_ref()).await?;
            states
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((committing, rows));
            commits += 1;
        }
        if now >= next_kill {
            next_kill = now + Duration::from_secs(args.kill_every);
            let mut executors = executors.lock().unwrap_or_else(|e| e.into_inner());
            let mut victim = executors.remove(0);
            let _ = victim.0.kill();
            let _ = victim.0.wait();
            executors.push(start_executor(bin, &warehouse_arg, &coordinator_url)?);
            kills += 1;
        }
    }
    for client in clients {
        let _ = client.await;
    }
    report(&args, &tally, commits, kills, &rss);
    Ok(())
}

/// Runs `sql` on `front_end`: its rows as text, or the error.
async fn run(
    front_end: FrontEnd,
    ports: Ports,
    http: &reqwest::Client,
    sql: &str,
) -> Result<Vec<Vec<String>>, String> {
    match front_end {
        FrontEnd::Flight => flight(ports.flight, sql).await,
        FrontEnd::Http => {
            let body = serde_json::json!({ "sql": sql }).to_string();
            let response = http
                .post(format!("http://127.0.0.1:{}/v1/query", ports.http))
                .header("Accept", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let text = response.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("HTTP {status}: {text}"));
            }
            let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            Ok(json_rows(&json["rows"]))
        }
        FrontEnd::Trino => trino(http, ports.http, sql).await,
        FrontEnd::Postgres => {
            let output = tokio::process::Command::new("psql")
                .args(["-h", "127.0.0.1", "-p", &ports.postgres.to_string()])
                .args(["-U", "soak", "-d", "lake", "-X", "-A", "-t", "-F", "|"])
                .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
                .env("PGCONNECT_TIMEOUT", "10")
                .output()
                .await
                .map_err(|e| e.to_string())?;
            if !output.status.success() {
                return Err(String::from_utf8_lossy(&output.stderr).into_owned());
            }
            Ok(String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(|line| line.split('|').map(str::to_string).collect())
                .collect())
        }
    }
}

async fn flight(port: u16, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let channel = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let mut client = FlightSqlServiceClient::new(channel);
    text_rows(&flight::fetch(&mut client, sql).await?)
}

/// Every row of `batches` as text cells.
fn text_rows(batches: &[arrow::record_batch::RecordBatch]) -> Result<Vec<Vec<String>>, String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// The Trino client protocol: submit, then follow `nextUri` collecting `data`.
async fn trino(http: &reqwest::Client, port: u16, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let mut response = http
        .post(format!("http://127.0.0.1:{port}/v1/statement"))
        .header("X-Trino-User", "soak")
        .body(sql.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    loop {
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {text}"));
        }
        let page: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if let Some(error) = page.get("error") {
            return Err(format!("{} {}", error["errorName"], error["message"]));
        }
        rows.extend(json_rows(&page["data"]));
        let Some(next) = page["nextUri"].as_str() else {
            return Ok(rows);
        };
        response = http
            .get(next)
            .header("X-Trino-User", "soak")
            .send()
            .await
            .map_err(|e| e.to_string())?;
    }
}

fn json_rows(rows: &serde_json::Value) -> Vec<Vec<String>> {
    rows.as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .map(|cells| {
                            cells
                                .iter()
                                .map(|c| match c {
                                    serde_json::Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A cell as compared: numbers to two decimals (front ends render decimals differently).
fn normal(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|cell| match cell.parse::<f64>() {
                    Ok(number) => format!("{number:.2}"),
                    Err(_) => cell.clone(),
                })
                .collect()
        })
        .collect()
}

/// Whether `rows` are the dashboard's answer at a snapshot `lineitem` had between `began`
/// (less the catalog's refresh interval, within which a query may read the one before) and
/// `ended`.
fn matches_a_state(states: &States, began: Instant, ended: Instant, rows: &[Vec<String>]) -> bool {
    let states = states.lock().unwrap_or_else(|e| e.into_inner());
    let from = began.checked_sub(Duration::from_secs(3)).unwrap_or(began);
    let got = normal(rows);
    states.iter().enumerate().any(|(i, (since, expected))| {
        let until = states.get(i + 1).map_or(ended, |(next, _)| *next);
        *since <= ended && until >= from && normal(expected) == got
    })
}

async fn expected_dashboard(catalog: &dyn iceberg::Catalog) -> Result<Vec<Vec<String>>, String> {
    let ctx = lakegate::tpch::baseline_context(
        catalog,
        "tpch",
        datafusion::prelude::SessionConfig::new(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let batches = ctx
        .sql(DASHBOARD)
        .await
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    text_rows(&batches)
}

/// Appends a quarter of the scale's lines to `lineitem`, as a writer would.
async fn commit(catalog: &dyn iceberg::Catalog, scale: f64) -> Result<(), String> {
    let ident = iceberg::TableIdent::from_strs(["tpch", "lineitem"]).map_err(|e| e.to_string())?;
    let table = catalog
        .load_table(&ident)
        .await
        .map_err(|e| e.to_string())?;
    let schema = arrow_schema_with_ids(&table).map_err(|e| e.to_string())?;
    let batches = TpchTable::LineItem
        .generate(scale, 1, 4, schema, 8192)
        .map_err(|e| e.to_string())?;
    append_batches(catalog, &table, batches)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Errors by kind: a lost query the client may run again, or anything else (by its start).
fn kind(message: &str) -> String {
    let retryable = [
        "was lost",
        "UNAVAILABLE",
        "Unavailable",
        "REMOTE_HOST_GONE",
        "40001",
    ];
    if retryable.iter().any(|m| message.contains(m)) {
        return "retryable: lost".into();
    }
    let short: String = message.chars().take(90).collect();
    format!("other: {}", short.replace('\n', " "))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn report(args: &Args, tally: &Mutex<Tally>, commits: u32, kills: u32, rss: &[(u64, u64)]) {
    let mut tally = tally.lock().unwrap_or_else(|e| e.into_inner());
    tally.latencies.sort();
    let at = |p: f64| {
        let times = &tally.latencies;
        if times.is_empty() {
            return 0.0;
        }
        let i = ((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1;
        times[i].as_secs_f64() * 1000.0
    };
    let (p50, p99) = (at(0.50), at(0.99));
    println!(
        "\nsoak: {} s, {} clients, {commits} commits, {kills} executor kills",
        args.seconds, args.clients
    );
    println!("| front end | queries |\n|---|---|");
    for (front_end, n) in &tally.queries {
        println!("| {front_end:?} | {n} |");
    }
    println!("\n| front end | error kind | count |\n|---|---|---|");
    for ((front_end, kind), n) in &tally.errors {
        println!("| {front_end:?} | {kind} | {n} |");
    }
    println!(
        "\ndashboard answers checked: {}, wrong: {}",
        tally.checked,
        tally.wrong.len()
    );
    for wrong in tally.wrong.iter().take(5) {
        println!("  wrong: {wrong}");
    }
    println!("latency p50 {p50:.1} ms, p99 {p99:.1} ms");
    let series: Vec<String> = rss
        .iter()
        .map(|(s, kib)| format!("{s}s:{}MiB", kib / 1024))
        .collect();
    println!("coordinator RSS: {}", series.join(" "));
}

/// Starts `lakegate coordinator` on loopback ports; returns it and its ports.
fn start_coordinator(bin: &str, warehouse: &str) -> Result<(KillOnDrop, Ports), String> {
    let (child, lines) = spawn_until(
        with_args(
            bin,
            &coordinator_args(
                warehouse,
                &[
                    "--set",
                    "cluster.heartbeat_interval_ms=500",
                    "--set",
                    "cluster.heartbeat_timeout_ms=5000",
                ],
            ),
        ),
        "Flight SQL listening on ",
    )?;
    let port = |prefix: &str| -> Result<u16, String> {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|addr| addr.trim().rsplit(':').next()?.parse().ok())
            .ok_or_else(|| format!("no {prefix:?} line in {lines:?}"))
    };
    let ports = Ports {
        flight: port("Flight SQL listening on ")?,
        http: port("HTTP listening on ")?,
        postgres: port("PostgreSQL listening on ")?,
    };
    Ok((child, ports))
}

fn start_executor(bin: &str, warehouse: &str, coordinator: &str) -> Result<KillOnDrop, String> {
    let (child, _) = spawn_until(
        with_args(
            bin,
            &[
                "executor",
                "--warehouse",
                warehouse,
                "--coordinator",
                coordinator,
                "--listen",
                "127.0.0.1:0",
                "--set",
                "cluster.heartbeat_interval_ms=500",
            ],
        ),
        "executor listening on ",
    )?;
    Ok(child)
}
