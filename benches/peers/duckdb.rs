//! DuckDB as a peer: a Python process (the venv's `duckdb` with its Iceberg extension) that reads
//! the same Iceberg tables and times the queries this harness sends it, one JSON line each way.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use iceberg::{Catalog, TableIdent};
use lakegate::tpch::TpchTable;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/peers/duckdb_peer.py");

/// A running DuckDB peer.
pub struct DuckDb {
    _child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

/// A peer's timing of one query.
pub struct PeerTiming {
    pub median: Duration,
    pub rows: usize,
}

impl DuckDb {
    /// Starts the peer over the current metadata file of every TPC-H table in `namespace`.
    /// `python` is the interpreter with `duckdb` and `duckdb-extension-iceberg` installed.
    pub async fn start(
        python: &str,
        catalog: &dyn Catalog,
        namespace: &str,
    ) -> Result<DuckDb, String> {
        let mut tables = BTreeMap::new();
        for table in TpchTable::ALL {
            let ident =
                TableIdent::from_strs([namespace, table.name()]).map_err(|e| e.to_string())?;
            let loaded = catalog
                .load_table(&ident)
                .await
                .map_err(|e| format!("loading {ident}: {e}"))?;
            let location = loaded
                .metadata_location()
                .ok_or_else(|| format!("{ident} has no metadata file"))?;
            tables.insert(table.name(), location.to_string());
        }
        let mut child = Command::new(python)
            .arg(SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting DuckDB with {python} {SCRIPT}: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the DuckDB peer has no pipes".into());
        };
        let mut peer = DuckDb {
            _child: child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
        };
        peer.send(&serde_json::json!({ "tables": tables })).await?;
        peer.receive().await?;
        Ok(peer)
    }

    /// The median of `iterations` timed runs of `sql` after one untimed run.
    pub async fn time(
        &mut self,
        name: &str,
        sql: &str,
        iterations: usize,
    ) -> Result<PeerTiming, String> {
        self.send(&serde_json::json!({ "name": name, "sql": sql, "iterations": iterations }))
            .await?;
        let answer: serde_json::Value = serde_json::from_str(&self.receive().await?)
            .map_err(|e| format!("the DuckDB peer's answer: {e}"))?;
        if let Some(error) = answer["error"].as_str() {
            return Err(format!("DuckDB: {error}"));
        }
        match (answer["median_ms"].as_f64(), answer["rows"].as_u64()) {
            (Some(ms), Some(rows)) => Ok(PeerTiming {
                median: Duration::from_secs_f64(ms / 1000.0),
                rows: rows as usize,
            }),
            _ => Err(format!("the DuckDB peer answered without a time: {answer}")),
        }
    }

    async fn send(&mut self, message: &serde_json::Value) -> Result<(), String> {
        let line = format!("{message}\n");
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("writing to the DuckDB peer: {e}"))
    }

    async fn receive(&mut self) -> Result<String, String> {
        self.stdout
            .next_line()
            .await
            .map_err(|e| format!("reading the DuckDB peer: {e}"))?
            .ok_or_else(|| "the DuckDB peer stopped (see its stderr above)".to_string())
    }
}
