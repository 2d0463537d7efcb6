//! The harness every end-to-end test shares: a TPC-H lake written once per test binary, the
//! single-node DataFusion baseline over the same Parquet files, result comparison, and a real
//! `lakegate local` process on a loopback port.
#![allow(dead_code)] // each test binary uses its own subset of the harness

pub mod seaweedfs;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_flight::sql::client::FlightSqlServiceClient;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::TryStreamExt;
use iceberg::Catalog;
use lakegate::tpch::{TpchOptions, lake_config, write_lake};
use lakegate_coordinator::catalog::connect_catalog;
use lakegate_coordinator::{Config, Engine, Principal, Session};
use tokio::sync::OnceCell;
use tonic::transport::{Channel, Endpoint};

/// Scale of the lake the tests query.
pub const TEST_SCALE: f64 = 0.01;

/// A lake written for the tests, deleted when the test binary exits.
pub struct TestLake {
    _dir: tempfile::TempDir,
    pub warehouse: PathBuf,
}

impl TestLake {
    /// Writes a fresh TPC-H lake (for tests that change it).
    pub async fn write(scale: f64) -> TestLake {
        let dir = tempfile::tempdir().expect("temp dir");
        let warehouse = dir.path().join("lake");
        let options = TpchOptions {
            scale,
            warehouse: warehouse.clone(),
            namespace: "tpch".into(),
            catalog_name: "lake".into(),
            overwrite: false,
        };
        write_lake(&options, |_| {})
            .await
            .expect("write TPC-H lake");
        TestLake {
            _dir: dir,
            warehouse,
        }
    }

    pub fn config(&self) -> Config {
        lake_config(&self.warehouse, "lake")
    }

    pub async fn engine(&self) -> Engine {
        Engine::connect(&self.config(), None)
            .await
            .expect("engine connects")
    }

    /// Commits a new snapshot of `lineitem` with more rows (a fast append through the iceberg
    /// crate, as a writer would); returns how many.
    pub async fn append_lineitems(&self) -> usize {
        let catalog = self.catalog().await;
        let ident = iceberg::TableIdent::from_strs(["tpch", "lineitem"]).expect("ident");
        let table = catalog.load_table(&ident).await.expect("load");
        let schema = lakegate::tpch::arrow_schema_with_ids(&table).expect("schema");
        let extra = lakegate::tpch::TpchTable::LineItem
            .generate(0.01, 1, 4, schema, 8192)
            .expect("rows");
        let appended = extra.iter().map(|b| b.num_rows()).sum();
        lakegate::tpch::append_batches(catalog.as_ref(), &table, extra)
            .await
            .expect("append commits");
        appended
    }

    pub async fn catalog(&self) -> Arc<dyn Catalog> {
        connect_catalog(&self.config(), false)
            .await
            .expect("catalog connects")
    }
}

/// The shared read-only lake of this test binary, written on first use.
pub async fn shared_lake() -> &'static TestLake {
    static LAKE: OnceCell<TestLake> = OnceCell::const_new();
    LAKE.get_or_init(|| TestLake::write(TEST_SCALE)).await
}

pub fn session(engine: &Engine) -> Session {
    engine.new_session(Principal::new("test"))
}

/// Runs `sql` through the engine and collects every batch.
pub async fn engine_rows(engine: &Engine, session: &Session, sql: &str) -> Vec<RecordBatch> {
    let result = engine
        .execute(session, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"))
        .into_result();
    result
        .stream
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed while streaming: {e}"))
}

/// Single-node DataFusion over the data files of each table's current snapshot.
pub async fn baseline_context(lake: &TestLake) -> SessionContext {
    let catalog = lake.catalog().await;
    lakegate::tpch::baseline_context(
        catalog.as_ref(),
        "tpch",
        SessionConfig::new().with_target_partitions(4),
    )
    .await
    .expect("baseline context")
}

/// The data files of a table's current snapshot, as iceberg plans them.
pub async fn current_files(lake: &TestLake, table: &str) -> Vec<iceberg::scan::FileScanTask> {
    let catalog = lake.catalog().await;
    lakegate::tpch::current_files(catalog.as_ref(), "tpch", table)
        .await
        .expect("current files")
}

/// Runs `sql` through the engine; returns the physical plan (metrics filled in) and the rows.
pub async fn run_with_plan(
    engine: &Engine,
    session: &Session,
    sql: &str,
) -> (Arc<dyn ExecutionPlan>, Vec<RecordBatch>) {
    let result = engine
        .execute(session, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"))
        .into_result();
    let plan = result.plan.clone().expect("a read has a physical plan");
    let batches = result
        .stream
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"));
    (plan, batches)
}

pub async fn baseline_rows(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .expect("baseline plans")
        .collect()
        .await
        .expect("baseline runs")
}

/// Every row as display strings.
pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for row in 0..batch.num_rows() {
            out.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    out
}

/// Two values equal as text, or as numbers within a relative tolerance (float sums differ in
/// the last digits with the order of addition).
fn values_match(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

/// Asserts two results hold the same rows: in order when the SQL orders them, else as sorted
/// multisets.
pub fn assert_same_rows(name: &str, sql: &str, expected: &[RecordBatch], actual: &[RecordBatch]) {
    assert_same_text_rows(name, sql, rows(expected), rows(actual));
}

/// [`assert_same_rows`] over rows already turned into text (by a client in another language).
pub fn assert_same_text_rows(
    name: &str,
    sql: &str,
    mut expected: Vec<Vec<String>>,
    mut actual: Vec<Vec<String>>,
) {
    if !sql.to_ascii_lowercase().contains("order by") {
        expected.sort();
        actual.sort();
    }
    assert_eq!(expected.len(), actual.len(), "{name}: row count differs");
    assert!(
        !expected.is_empty() || name.is_empty() || sql.contains("limit 0"),
        "{name}: baseline has no rows; the test would prove nothing"
    );
    for (i, (e, a)) in expected.iter().zip(&actual).enumerate() {
        let same = e.len() == a.len() && e.iter().zip(a).all(|(x, y)| values_match(x, y));
        assert!(
            same,
            "{name}: row {i} differs\nexpected {e:?}\nactual   {a:?}"
        );
    }
}

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
    let mut child = Command::new(lakegate_bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn lakegate");
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
        LocalServer::spawn(&all)
    }

    /// Spawns `lakegate ARGS` and reads the ports it reports.
    fn spawn(args: &[&str]) -> LocalServer {
        let (child, lines) = spawn_collecting(args, "Flight SQL listening on ");
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

    /// `GET path` on the HTTP port: the status code and the body.
    pub async fn http_get(&self, path: &str) -> (u16, String) {
        self.http("GET", path).await
    }

    /// `METHOD path` (no body) on the HTTP port: the status code and the body.
    pub async fn http(&self, method: &str, path: &str) -> (u16, String) {
        let (status, body) = self.http_request(method, path, &[], b"").await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// An HTTP/1.1 request with `headers` and `body`: the status and the (de-chunked) body.
    pub async fn http_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let (status, _, body) = self.http_exchange(method, path, headers, body).await;
        (status, body)
    }

    /// [`LocalServer::http_request`] that also returns the response head (status line and
    /// headers), lower-cased.
    pub async fn http_exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.http_port))
            .await
            .expect("connect to the HTTP port");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("send request");
        stream.write_all(body).await.expect("send body");
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .expect("read response");
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
        let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP status line: {head:?}"));
        let raw = &response[split + 4..];
        let body = if head.contains("transfer-encoding: chunked") {
            dechunk(raw)
        } else {
            raw.to_vec()
        };
        (status, head, body)
    }

    /// A Flight SQL client connected to this server (no login: open mode).
    pub async fn flight_client(&self) -> FlightSqlServiceClient<Channel> {
        Self::client_for(self.port).await
    }

    /// A Flight SQL client connected to the server on `port`.
    pub async fn client_for(port: u16) -> FlightSqlServiceClient<Channel> {
        let channel = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect to lakegate");
        FlightSqlServiceClient::new(channel)
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

/// The body of a `Transfer-Encoding: chunked` response.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return body;
        };
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        raw = &raw[line_end + 2..];
        if size == 0 || raw.len() < size {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[(size + 2).min(raw.len())..];
    }
}

/// Runs `sql` over Flight SQL and collects every batch, or the error message.
pub async fn collect_query(
    mut client: FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<Vec<RecordBatch>, String> {
    let info = client
        .execute(sql.to_string(), None)
        .await
        .map_err(|e| e.to_string())?;
    collect_info(&mut client, info).await
}

/// Every batch of every endpoint of `info` (a query's, or a metadata command's).
pub async fn collect_info(
    client: &mut FlightSqlServiceClient<Channel>,
    info: arrow_flight::FlightInfo,
) -> Result<Vec<RecordBatch>, String> {
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.ok_or("endpoint without ticket")?;
        let stream = client.do_get(ticket).await.map_err(|e| e.to_string())?;
        batches.extend(
            stream
                .try_collect::<Vec<_>>()
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(batches)
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

/// Sends Flight's `CancelFlightInfo` action for `info`; the status the server answers.
pub async fn cancel_flight_info(
    client: &mut FlightSqlServiceClient<Channel>,
    info: &arrow_flight::FlightInfo,
) -> arrow_flight::CancelStatus {
    use prost::Message;
    let request = arrow_flight::CancelFlightInfoRequest::new(info.clone());
    let action = arrow_flight::Action::new("CancelFlightInfo", request.encode_to_vec());
    let answers = client.do_action(action).await.expect("CancelFlightInfo");
    let answers: Vec<_> = answers.try_collect().await.expect("cancel answer");
    let result = arrow_flight::CancelFlightInfoResult::decode(answers[0].body.clone())
        .expect("CancelFlightInfoResult");
    arrow_flight::CancelStatus::try_from(result.status).expect("cancel status")
}

/// A coordinator and executors as separate OS processes on loopback, every scan spread over all
/// executors; killed when dropped.
pub struct Cluster {
    pub coordinator: LocalServer,
    pub executors: Vec<(Child, String)>,
    warehouse: String,
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
            "--flight-sql-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--postgres-addr",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(&CLUSTER_SETTINGS);
        args.extend(shared.iter().map(String::as_str));
        args.extend_from_slice(coordinator_args);
        let coordinator = LocalServer::spawn(&args);
        let mut cluster = Cluster {
            coordinator,
            executors: Vec::new(),
            warehouse,
            shared: shared.to_vec(),
        };
        for _ in 0..executors {
            cluster.add_executor(&[]);
        }
        cluster.wait_for_executors(executors).await;
        cluster
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

    /// Waits (at most 20 s) until `predicate` holds for the registry.
    pub async fn wait_until(&self, what: &str, predicate: impl Fn(&[(String, u64, u64)]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let registry = self.registry().await;
            if predicate(&registry) {
                return;
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

fn openssl(args: &[&str], dir: &Path) {
    let made = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (.ci/run installs it)");
    assert!(
        made.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
}

/// A certificate authority and a server certificate it signed for `localhost` and 127.0.0.1,
/// valid for a day, as PEM files.
pub struct TestCertificates {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl TestCertificates {
    /// Makes them in `dir` with the `openssl` command.
    pub fn make(dir: &Path) -> TestCertificates {
        make_certificates(dir);
        TestCertificates {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            ca: dir.join("ca.pem"),
        }
    }
}

fn make_certificates(dir: &Path) {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=lakegate test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "key.pem",
            "-out",
            "cert.csr",
        ],
        dir,
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("extensions");
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "cert.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "san.ext",
            "-out",
            "cert.pem",
        ],
        dir,
    );
}

/// A helper process (a catalog, a key server) killed when the test ends, however it ends.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
