//! The TPC-H lake a benchmark runs on: written once per scale (or into `--warehouse`), then
//! reused by every later run.

use std::path::PathBuf;

use lakegate::local;
use lakegate::tpch::{TpchOptions, write_lake};

/// The warehouse of a TPC-H lake at `scale`, written now if it is not there yet.
pub async fn bench_lake(scale: f64, warehouse: Option<PathBuf>) -> Result<PathBuf, String> {
    let warehouse = warehouse
        .unwrap_or_else(|| std::env::temp_dir().join(format!("lakegate-bench-tpch-sf{scale}")));
    if warehouse.join("catalog.db").exists() {
        println!("reusing the lake in {}", warehouse.display());
        return Ok(warehouse);
    }
    println!(
        "writing TPC-H scale {scale} to {} (once)",
        warehouse.display()
    );
    let options = TpchOptions {
        scale,
        warehouse: warehouse.clone(),
        namespace: "tpch".into(),
        catalog_name: "lake".into(),
        overwrite: false,
    };
    write_lake(&options, local::print_progress)
        .await
        .map_err(|e| e.to_string())?;
    Ok(warehouse)
}
