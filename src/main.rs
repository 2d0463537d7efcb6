//! The `lakegate` command line.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lakegate::local::{self, Role};
use lakegate::logs::Service;

use lakegate::shell::{Next, Runner, Shell, ShellError, Splitter};
use lakegate::tpch::{TpchOptions, write_lake};
use lakegate_coordinator::config::{Config, ConfigLoader, TelemetryConfig};
use lakegate_executor::{CpuRuntime, run_executor};
use tokio::net::TcpListener;

/// A distributed SQL gateway over an Apache Iceberg lake.
#[derive(Debug, Parser)]
#[command(name = "lakegate", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway on this machine (writes a TPC-H demo lake on first start).
    Local(ServerArgs),
    /// Run the coordinator; executors run as separate processes and register with it.
    Coordinator(ServerArgs),
    /// Run an executor that registers with a coordinator.
    Executor(ServerArgs),
    /// Write the TPC-H tables as an Iceberg lake.
    Tpch(TpchArgs),
    /// Run SQL against a running gateway over Flight SQL.
    Shell(ShellArgs),
    /// Print an argon2id hash of a password (read from stdin) for the users file.
    HashPassword(HashPasswordArgs),
}

/// Configuration sources shared by server commands: file, then `LAKEGATE_*`, then flags.
#[derive(Debug, Args)]
struct ServerArgs {
    /// TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Lake directory (or s3:// URL); `catalog.warehouse`.
    #[arg(long)]
    warehouse: Option<String>,
    /// Catalog URI (`sqlite:PATH`, `postgres://...`, `http(s)://...`); `catalog.uri`.
    #[arg(long)]
    catalog_uri: Option<String>,
    /// Flight SQL listen address; `server.flight_sql_addr`.
    #[arg(long)]
    flight_sql_addr: Option<String>,
    /// HTTP (API, Trino protocol, probes) listen address; `server.http_addr`.
    #[arg(long)]
    http_addr: Option<String>,
    /// PostgreSQL wire protocol listen address; `server.postgres_addr`.
    #[arg(long)]
    postgres_addr: Option<String>,
    /// Executors `lakegate local` starts in-process; 0 runs queries in the coordinator alone.
    #[arg(long)]
    executors: Option<String>,
    /// The coordinator an executor registers with (`http://host:port`); `cluster.coordinator_url`.
    #[arg(long)]
    coordinator: Option<String>,
    /// Where an executor listens; `cluster.executor_addr`.
    #[arg(long)]
    listen: Option<String>,
    /// Any configuration key, as `section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Check the configuration, print it and exit.
    #[arg(long)]
    check_config: bool,
}

/// Connects the shell, logging in as `--user` with LAKEGATE_PASSWORD or, at a terminal, a
/// password typed without echo: up front with `-W`, else once the server refuses the login.
async fn connect_shell(args: &ShellArgs) -> Result<Shell, String> {
    let tls_ca = match &args.tls_ca {
        Some(path) => {
            Some(std::fs::read(path).map_err(|e| format!("--tls-ca {}: {e}", path.display()))?)
        }
        None => None,
    };
    let tls_ca = tls_ca.as_deref();
    let Some(user) = args.user.as_deref() else {
        return Shell::connect(&args.host, args.port, tls_ca, None)
            .await
            .map_err(|e| e.to_string());
    };
    let from_env = std::env::var("LAKEGATE_PASSWORD").ok();
    let can_ask = from_env.is_none() && std::io::stdin().is_terminal();
    let mut password = match (&from_env, args.password_prompt && can_ask) {
        (Some(password), _) => password.clone(),
        (None, true) => ask_password(user)?,
        (None, false) => String::new(),
    };
    let mut asked = args.password_prompt && can_ask;
    loop {
        match Shell::connect(&args.host, args.port, tls_ca, Some((user, &password))).await {
            Err(ShellError::Login { .. }) if can_ask && !asked => {
                password = ask_password(user)?;
                asked = true;
            }
            result => return result.map_err(|e| e.to_string()),
        }
    }
}

fn ask_password(user: &str) -> Result<String, String> {
    rpassword::prompt_password(format!("Password for user {user}: "))
        .map_err(|e| format!("reading the password: {e}"))
}

#[derive(Debug, Args)]
struct HashPasswordArgs {
    /// Print a PostgreSQL SCRAM-SHA-256 verifier (the users file's `scram_sha_256`) instead
    #[arg(long)]
    scram: bool,
}

#[derive(Debug, Args)]
struct TpchArgs {
    /// TPC-H scale factor (1 is about 1 GB of raw data).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Lake directory: the SQLite catalog and table data are written here.
    #[arg(long, default_value = "./lakegate-data")]
    warehouse: PathBuf,
    /// Iceberg namespace for the tables.
    #[arg(long, default_value = "tpch")]
    namespace: String,
    /// Catalog name recorded in the SQL catalog.
    #[arg(long, default_value = "lake")]
    catalog_name: String,
    /// Replace tables that already exist.
    #[arg(long)]
    overwrite: bool,
}

#[derive(Debug, Args)]
struct ShellArgs {
    /// Run these statements (and meta-commands) and exit; may be given more than once.
    #[arg(short = 'c', long = "command")]
    command: Vec<String>,
    /// Run the statements in this file and exit.
    #[arg(short = 'f', long = "file")]
    file: Option<std::path::PathBuf>,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 50051)]
    port: u16,
    /// Log in as this user. The password comes from LAKEGATE_PASSWORD, else it is asked for
    /// at the terminal when the server wants one.
    #[arg(short = 'U', long)]
    user: Option<String>,
    /// Ask for the password before connecting (as psql's -W).
    #[arg(short = 'W', long = "password")]
    password_prompt: bool,
    /// Connect over TLS (grpc+tls), trusting the CA certificates in this PEM file: for a
    /// server with `server.tls_cert`.
    #[arg(long, value_name = "PEM")]
    tls_ca: Option<std::path::PathBuf>,
}

impl ServerArgs {
    fn load(&self) -> Result<Config, String> {
        let mut loader = ConfigLoader::new();
        if let Some(path) = &self.config {
            loader = loader.file(path).map_err(|e| e.to_string())?;
        }
        loader = loader.env(std::env::vars()).map_err(|e| e.to_string())?;
        let mut flags = HashMap::new();
        let named = [
            ("catalog.warehouse", &self.warehouse),
            ("catalog.uri", &self.catalog_uri),
            ("server.flight_sql_addr", &self.flight_sql_addr),
            ("server.http_addr", &self.http_addr),
            ("server.postgres_addr", &self.postgres_addr),
            ("cluster.local_executors", &self.executors),
            ("cluster.coordinator_url", &self.coordinator),
            ("cluster.executor_addr", &self.listen),
        ];
        for (key, value) in named {
            if let Some(v) = value {
                flags.insert(key.to_string(), v.clone());
            }
        }
        for pair in &self.set {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("--set {pair:?}: expected section.key=value"))?;
            flags.insert(key.trim().to_string(), value.trim().to_string());
        }
        loader
            .overrides(&flags)
            .map_err(|e| e.to_string())?
            .load()
            .map_err(|e| e.to_string())
    }
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(lakegate_executor::cpu::THREAD_STACK_BYTES)
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(serve_main()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_main() -> ExitCode {
    lakegate_coordinator::tls::install_crypto_provider();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Sets up logs (and traces, for a server with `telemetry.otlp_endpoint`); the handle keeps
/// the trace exporter until the command ends.
fn init_logs(
    service: Service,
    telemetry: Option<&TelemetryConfig>,
) -> Result<lakegate::logs::Telemetry, String> {
    lakegate::logs::init(service, telemetry).map_err(|e| e.to_string())
}

/// Completes on Ctrl-C or SIGTERM: both stop the process gracefully.
async fn stop_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, the other signal still works.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    println!("lakegate: stopping");
}

async fn run_coordinator(args: ServerArgs, role: Role) -> Result<(), String> {
    let config = args.load()?;
    if args.check_config {
        println!("configuration OK: {config:#?}");
        return Ok(());
    }
    let service = match role {
        Role::Local => Service::Local,
        Role::Coordinator => Service::Coordinator,
    };
    let _telemetry = init_logs(service, Some(&config.telemetry))?;
    local::run(config, role, stop_signal(), |ready| {
        println!("lakegate is running.");
        for executor in &ready.executors {
            println!("executor listening on {}", executor.url);
        }
        println!("HTTP listening on {}", ready.http);
        println!("PostgreSQL listening on {}", ready.postgres);
        println!("Flight SQL listening on {}", ready.flight_sql);
        println!(
            "Try: lakegate shell --port {} -c \"SELECT count(*) FROM lake.tpch.lineitem\"",
            ready.flight_sql.port()
        );
    })
    .await
    .map_err(|e| e.to_string())
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Local(args) => run_coordinator(args, Role::Local).await,
        Command::Coordinator(args) => run_coordinator(args, Role::Coordinator).await,
        Command::Executor(args) => {
            let config = args.load()?;
            if args.check_config {
                println!("configuration OK: {config:#?}");
                return Ok(());
            }
            let _telemetry = init_logs(Service::Executor, Some(&config.telemetry))?;
            let addr = config.cluster.executor_addr;
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let mut options = local::executor_options(&config).map_err(|e| e.to_string())?;
            let threads = config.query.cpu_threads;
            let cpu = CpuRuntime::new(threads).map_err(|e| {
                format!("cannot start the plan runtime (query.cpu_threads = {threads}): {e}")
            })?;
            options.plan_runtime = Some(cpu.handle());
            run_executor(listener, options, stop_signal(), |handle| {
                println!("executor listening on {}", handle.url);
            })
            .await
            .map_err(|e| e.to_string())
        }
        Command::Tpch(args) => {
            let _logs = init_logs(Service::Tool, None)?;
            let options = TpchOptions {
                scale: args.scale,
                warehouse: args.warehouse,
                namespace: args.namespace,
                catalog_name: args.catalog_name,
                overwrite: args.overwrite,
            };
            write_lake(&options, local::print_progress)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "TPC-H scale {} written to {}",
                options.scale,
                options.warehouse.display()
            );
            Ok(())
        }
        Command::Shell(args) => {
            let _logs = init_logs(Service::Tool, None)?;
            let shell = connect_shell(&args).await?;
            let mut runner = Runner::new(shell);
            let mut texts = args.command.clone();
            if let Some(path) = &args.file {
                texts.push(
                    std::fs::read_to_string(path)
                        .map_err(|e| format!("-f {}: {e}", path.display()))?,
                );
            }
            if texts.is_empty() && std::io::stdin().is_terminal() {
                return lakegate::shell::interactive(&mut runner).await;
            }
            if texts.is_empty() {
                // Statements from standard input, one unit at a time as lines arrive.
                let mut splitter = Splitter::default();
                let mut line = String::new();
                loop {
                    line.clear();
                    let read = std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|e| e.to_string())?;
                    let units = if read == 0 {
                        splitter.finish().into_iter().collect()
                    } else {
                        splitter.line(line.trim_end_matches(['\r', '\n']))
                    };
                    for unit in units {
                        match runner.run(unit).await {
                            Ok(Next::Quit) => return Ok(()),
                            Ok(Next::Continue) => {}
                            Err(message) => eprintln!("{message}"),
                        }
                    }
                    if read == 0 {
                        return Ok(());
                    }
                }
            }
            for text in texts {
                if runner.run_text(&text).await? == Next::Quit {
                    break;
                }
            }
            Ok(())
        }
        Command::HashPassword(args) => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| e.to_string())?;
            let password = password.trim_end_matches(['\r', '\n']);
            if args.scram {
                println!("{}", lakegate_frontend::postgres::scram_verifier(password));
            } else {
                let hash = lakegate_coordinator::auth::hash_password(password)
                    .map_err(|e| e.to_string())?;
                println!("{hash}");
            }
            Ok(())
        }
    }
}
