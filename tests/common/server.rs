//! Real `lakegate` processes on loopback ports: `local`, a coordinator with executors, and
//! the Python clients' interpreter.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// The `lakegate` binary under test.
pub fn lakegate_bin() -> &'static str {
    env!("CARGO_BIN_EXE_lakegate")
}

/// A `lakegate local` process on an ephemeral loopback port; killed when dropped.
pub struct LocalServer {
    child: Child,
    pub port: u16,
    /// The HTTP port (`/healthz`, `/readyz`).
    pub http_port: u16,
    /// The PostgreSQL wire protocol port.
    pub postgres_port: u16,
}

/// Spawns `lakegate ARGS` and waits for the stdout line starting with `prefix`; returns the
/// process and the rest of that line. The rest of stdout is drained in the background.
pub fn spawn_until(args: &[&str], prefix: &'static str) -> (Child, String) {
    let (child, mut lines) = spawn_collecting(args, prefix);
    let last = lines.pop().unwrap_or_default();
    (child, last[prefix.len()..].trim().to_string())
}

/// Spawns `lakegate ARGS`; returns the process and every stdout line up to and including the
/// first one starting with `prefix`.
pub fn spawn_collecting(args: &[&str], prefix: &'static str) -> (Child, Vec<String>) {
    spawn_collecting_with(args, prefix, |_| {})
}

/// [`spawn_collecting`] with the command adjusted first (environment, where stderr goes).
pub fn spawn_collecting_with(
    args: &[&str],
    prefix: &'static str,
    configure: impl FnOnce(&mut Command),
) -> (Child, Vec<String>) {
    let mut command = Command::new(lakegate_bin());
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    configure(&mut command);
    let mut child = command.spawn().expect("spawn lakegate");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut lines = Vec::new();
    loop {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let done = line.starts_with(prefix);
            lines.push(line);
            if done {
                return (child, lines);
            }
            continue;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("lakegate {args:?} exited early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "lakegate {args:?} did not start in time"
        );
    }
}

fn port_of(addr: &str) -> u16 {
    addr.trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port in address")
}

impl LocalServer {
    /// Starts `lakegate local` with `args` and waits for it to report its Flight SQL address.
    pub fn start(warehouse: &Path, args: &[&str]) -> LocalServer {
        LocalServer::start_with(warehouse, args, |_| {})
    }

    /// [`LocalServer::start`] with `env` set and stderr (its log) written to `log`.
    pub fn start_logging(
        warehouse: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        log: &Path,
    ) -> LocalServer {
        let file = std::fs::File::create(log).expect("a log file");
        LocalServer::start_with(warehouse, args, |command| {
            command.envs(env.iter().copied()).stderr(file);
        })
    }

    fn start_with(
        warehouse: &Path,
        args: &[&str],
        configure: impl FnOnce(&mut Command),
    ) -> LocalServer {
        let warehouse = warehouse.display().to_string();
        let mut all = vec![
            "local",
            "--warehouse",
            &warehouse,
            "--flight-sql-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--postgres-addr",
            "127.0.0.1:0",
        ];
        all.extend_from_slice(args);
        LocalServer::spawn_with(&all, configure)
    }

    /// Spawns `lakegate ARGS` and reads the ports it reports.
    fn spawn(args: &[&str]) -> LocalServer {
        LocalServer::spawn_with(args, |_| {})
    }

    fn spawn_with(args: &[&str], configure: impl FnOnce(&mut Command)) -> LocalServer {
        let (child, lines) = spawn_collecting_with(args, "Flight SQL listening on ", configure);
        let reported = |prefix: &str| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix(prefix))
                .map(port_of)
                .unwrap_or_else(|| panic!("lakegate did not report {prefix:?}: {lines:?}"))
        };
        LocalServer {
            child,
            port: reported("Flight SQL listening on "),
            http_port: reported("HTTP listening on "),
            postgres_port: reported("PostgreSQL listening on "),
        }
    }

    /// Starts `lakegate local` in users mode with one user, `user` / `password`; the users file
    /// lives in the returned directory.
    pub fn start_with_user(
        warehouse: &Path,
        user: &str,
        password: &str,
    ) -> (LocalServer, tempfile::TempDir) {
        LocalServer::start_with_users(warehouse, &[(user, password, false)])
    }

    /// [`LocalServer::start_with_user`] with several `(user, password, scram)` users; those
    /// with `scram` also get a SCRAM-SHA-256 verifier (PostgreSQL clients log in by SCRAM).
    pub fn start_with_users(
        warehouse: &Path,
        users: &[(&str, &str, bool)],
    ) -> (LocalServer, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("users.toml");
        let mut file = String::new();
        for (user, password, scram) in users {
            let hash = lakegate_coordinator::auth::hash_password(password).expect("hash");
            file.push_str(&format!(
                "[[users]]\nname = \"{user}\"\npassword_hash = \"{hash}\"\n"
            ));
            if *scram {
                let verifier = lakegate_frontend::postgres::scram_verifier(password);
                file.push_str(&format!("scram_sha_256 = \"{verifier}\"\n"));
            }
        }
        std::fs::write(&path, file).expect("users file");
        let users_file = format!("auth.users_file={}", path.display());
        let server = LocalServer::start(
            warehouse,
            &["--set", "auth.mode=users", "--set", &users_file],
        );
        (server, dir)
    }

    /// Sends SIGTERM, as an orchestrator stopping the process does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits (up to `limit`) for the process to exit; its exit status.
    pub async fn exited_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for lakegate") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "lakegate did not exit within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `lakegate shell -c SQL` against this server.
    pub fn shell(&self, sql: &str) -> std::process::Output {
        Command::new(lakegate_bin())
            .args(["shell", "--port", &self.port.to_string(), "-c", sql])
            .output()
            .expect("run lakegate shell")
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python with the real clients (ADBC, psycopg, trino) that `.ci/run` installs:
/// `LAKEGATE_PYTHON`, or the venv `.ci/run` makes.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("LAKEGATE_PYTHON") {
        return PathBuf::from(python);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let venv = home.join(".cache/lakegate-venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with the client drivers: run .ci/run once (it makes {}) or set LAKEGATE_PYTHON",
        venv.display()
    );
    venv
}

/// A coordinator and executors as separate OS processes on loopback, every scan spread over all
/// executors; killed when dropped.
pub struct Cluster {
    pub coordinator: LocalServer,
    pub executors: Vec<(Child, String)>,
    warehouse: String,
    /// The coordinator's arguments, its Flight SQL address left out (see `restart_coordinator`).
    coordinator_args: Vec<String>,
    /// Settings every process of the cluster gets (where the lake is, its credentials).
    shared: Vec<String>,
}

/// Settings every test cluster runs with: fast heartbeats, a short silence window, and one
/// byte per task so even the tiny test tables spread over every executor.
const CLUSTER_SETTINGS: [&str; 6] = [
    "--set",
    "cluster.heartbeat_interval_ms=200",
    "--set",
    "cluster.heartbeat_timeout_ms=5000",
    "--set",
    "cluster.bytes_per_task=1",
];

impl Cluster {
    pub async fn start(warehouse: &Path, executors: usize, coordinator_args: &[&str]) -> Cluster {
        Cluster::start_with(
            &warehouse.display().to_string(),
            executors,
            coordinator_args,
            &[],
        )
        .await
    }

    /// A cluster over the lake at `warehouse` (a directory or a URL), every process also
    /// started with `shared` arguments.
    pub async fn start_with(
        warehouse: &str,
        executors: usize,
        coordinator_args: &[&str],
        shared: &[String],
    ) -> Cluster {
        let warehouse = warehouse.to_string();
        let mut args = vec![
            "coordinator",
            "--warehouse",
            &warehouse,
            "--http-addr",
            "127.0.0.1:0",
            "--postgres-addr",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(&CLUSTER_SETTINGS);
        args.extend(shared.iter().map(String::as_str));
        args.extend_from_slice(coordinator_args);
        let coordinator_args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let coordinator = Cluster::spawn_coordinator(&coordinator_args, "127.0.0.1:0");
        let mut cluster = Cluster {
            coordinator,
            executors: Vec::new(),
            warehouse: warehouse.clone(),
            coordinator_args,
            shared: shared.to_vec(),
        };
        for _ in 0..executors {
            cluster.add_executor(&[]);
        }
        cluster.wait_for_executors(executors).await;
        cluster
    }

    fn spawn_coordinator(args: &[String], flight_sql_addr: &str) -> LocalServer {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend_from_slice(&["--flight-sql-addr", flight_sql_addr]);
        LocalServer::spawn(&all)
    }

    /// Kills the coordinator (SIGKILL, no goodbye to anyone) and starts a new one at the same
    /// Flight SQL address, as a crashed coordinator's replacement comes back; returns once the
    /// new one listens. Executors are left running.
    pub fn restart_coordinator(&mut self) {
        let address = format!("127.0.0.1:{}", self.coordinator.port);
        let _ = self.coordinator.child.kill();
        let _ = self.coordinator.child.wait();
        self.coordinator = Cluster::spawn_coordinator(&self.coordinator_args, &address);
    }

    /// Starts one more executor process with `args`.
    pub fn add_executor(&mut self, args: &[&str]) {
        let coordinator = format!("http://127.0.0.1:{}", self.coordinator.port);
        let mut all = vec![
            "executor",
            "--warehouse",
            &self.warehouse,
            "--coordinator",
            &coordinator,
        ];
        all.extend_from_slice(&["--listen", "127.0.0.1:0"]);
        all.extend_from_slice(&CLUSTER_SETTINGS);
        let shared = self.shared.clone();
        all.extend(shared.iter().map(String::as_str));
        all.extend_from_slice(args);
        let (child, url) = spawn_until(&all, "executor listening on ");
        self.executors.push((child, url));
    }

    /// Rows of `system.runtime.executors`: (url, running_tasks, scans_started).
    pub async fn registry(&self) -> Vec<(String, u64, u64)> {
        let client = self.coordinator.flight_client().await;
        let sql = "SELECT url, running_tasks, scans_started FROM system.runtime.executors";
        let batches = collect_query(client, sql).await.expect("registry query");
        rows(&batches)
            .into_iter()
            .map(|r| {
                (
                    r[0].clone(),
                    r[1].parse().expect("count"),
                    r[2].parse().expect("count"),
                )
            })
            .collect()
    }

    /// Waits (at most 20 s) until `predicate` holds for the registry; the registry it held for.
    pub async fn wait_until(
        &self,
        what: &str,
        predicate: impl Fn(&[(String, u64, u64)]) -> bool,
    ) -> Vec<(String, u64, u64)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let registry = self.registry().await;
            if predicate(&registry) {
                return registry;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}; registry: {registry:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_for_executors(&self, count: usize) {
        self.wait_until(&format!("{count} executors registered"), |r| {
            r.len() == count
        })
        .await;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (child, _) in &mut self.executors {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A helper process (a catalog, a key server) killed when the test ends, however it ends.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
