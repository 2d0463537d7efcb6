//! The Helm chart, rendered by Helm's own engine (helm-python-sdk) for the default values and
//! for HPA + S3 + REST catalog + users auth: lint clean, every manifest valid Kubernetes, and
//! the rendered lakegate.toml accepted by lakegate's own config loader in both roles. The chart
//! checks are in `tests/python/chart_check.py`.

mod common;

use std::process::Command;

#[test]
fn the_chart_renders_valid_manifests_and_a_config_lakegate_loads() {
    let out = tempfile::tempdir().expect("temp dir");
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/lakegate");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/chart_check.py");
    let output = Command::new(common::python())
        .arg(script)
        .args(["--chart", chart])
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run the chart checks");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "chart checks failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{stdout}");

    for values in ["default", "s3-rest-hpa"] {
        let config = out.path().join(format!("{values}.toml"));
        assert!(config.exists(), "{values}: no rendered config");
        for role in ["coordinator", "executor"] {
            let checked = Command::new(common::lakegate_bin())
                .arg(role)
                .arg("--config")
                .arg(&config)
                .arg("--check-config")
                .output()
                .expect("run lakegate --check-config");
            assert!(
                checked.status.success()
                    && String::from_utf8_lossy(&checked.stdout).contains("configuration OK"),
                "{values} as {role}: {}",
                String::from_utf8_lossy(&checked.stderr)
            );
        }
    }
}
