//! The README's first command: `lakegate local` on a fresh directory writes the demo lake and
//! answers through `lakegate shell -c`.

mod common;

use common::LocalServer;
use tpchgen::generators::LineItemGenerator;

#[test]
fn local_writes_the_demo_lake_and_the_shell_counts_lineitem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let warehouse = dir.path().join("lakegate-data");
    let server = LocalServer::start(&warehouse, &[]);
    let output = server.shell("SELECT count(*) FROM lake.tpch.lineitem");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "shell failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = LineItemGenerator::new(lakegate::local::DEMO_SCALE, 1, 1)
        .iter()
        .count();
    assert!(
        stdout.contains(&format!("| {expected}")),
        "expected {expected} rows in:\n{stdout}"
    );
    assert!(warehouse.join("catalog.db").exists());
}
