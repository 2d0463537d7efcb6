//! `lakegate shell` in its scripted modes against `lakegate local`: several `-c`, `-f` with
//! `\i`, statements from standard input, meta-commands (`\dt`, `\d`, `\x`, `\timing`,
//! `\pset`, `\o`) and an error shown with a caret under its position.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{LocalServer, lakegate_bin, shared_lake};

fn shell(server: &LocalServer, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(lakegate_bin())
        .args(["shell", "--port", &server.port.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lakegate shell");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(input);
    let output = child.wait_with_output().expect("shell output");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_modes_run_statements_and_meta_commands() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);

    let (ok, stdout, stderr) = shell(
        &server,
        &[
            "-c",
            "\\dt tpch",
            "-c",
            "\\pset format csv",
            "-c",
            "SELECT r_regionkey, r_name FROM lake.tpch.region ORDER BY 1; SELECT 1 AS one;",
        ],
        None,
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("| tpch   | lineitem |"), "{stdout}");
    assert!(
        stdout.contains("r_regionkey,r_name\n0,AFRICA\n1,AMERICA"),
        "{stdout}"
    );
    assert!(stdout.contains("one\n1"), "{stdout}");

    // -f with \i, \d, \x and \timing; \o sends results to a file.
    let dir = tempfile::tempdir().expect("temp dir");
    let inner = dir.path().join("inner.sql");
    std::fs::write(&inner, "SELECT count(*) AS n\nFROM lake.tpch.nation;\n").expect("inner");
    let out = dir.path().join("out.txt");
    let script = dir.path().join("script.sql");
    std::fs::write(
        &script,
        format!(
            "\\d tpch.region\n\\x on\n\\timing on\n\\i {}\n\\x off\n\\o {}\nSELECT 42 AS answer;\n\\o\n",
            inner.display(),
            out.display()
        ),
    )
    .expect("script");
    let (ok, stdout, stderr) = shell(&server, &["-f", &script.display().to_string()], None);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("r_regionkey") && stdout.contains("r_comment"),
        "{stdout}"
    );
    assert!(stdout.contains("-[ RECORD 1 ]-\nn | 25"), "{stdout}");
    assert!(stdout.contains("Time: "), "{stdout}");
    assert!(!stdout.contains("answer"), "{stdout}");
    let written = std::fs::read_to_string(&out).expect("\\o file");
    assert!(
        written.contains("answer") && written.contains("42"),
        "{written}"
    );

    // Standard input: a statement over several lines, an error with a caret, and \q.
    let (ok, stdout, stderr) = shell(
        &server,
        &[],
        Some(
            "SELECT count(*)\n  FROM lake.tpch.region;\nSELECT 1\nFROM lake.tpch.nation WHERE );\n\\q\nSELECT 'not run';\n",
        ),
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("| 5 "), "{stdout}");
    assert!(
        stderr.contains("ERROR:") && stderr.contains("FROM lake.tpch.nation WHERE )\n"),
        "{stderr}"
    );
    let caret_line = stderr
        .lines()
        .skip_while(|l| !l.starts_with("FROM lake.tpch.nation"))
        .nth(1)
        .expect("a caret line");
    assert_eq!(caret_line.find('^'), Some(28), "{stderr}");
    assert!(!stdout.contains("not run"), "{stdout}");

    // A failure in -c mode exits non-zero with the server's message.
    let (ok, _, stderr) = shell(&server, &["-c", "SELECT * FROM lake.tpch.nowhere"], None);
    assert!(!ok);
    assert!(stderr.contains("nowhere"), "{stderr}");
}

/// Runs `tests/python/shell_pty.py` (the terminal driver) against `server` with `args`; panics
/// with its output unless every check passed.
fn drive_terminal(server: &LocalServer, history: &std::path::Path, args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/shell_pty.py");
    let output = Command::new(common::python())
        .arg(script)
        .args(["--lakegate", lakegate_bin()])
        .args(["--port", &server.port.to_string()])
        .arg("--history")
        .arg(history)
        .args(args)
        .env_remove("LAKEGATE_PASSWORD")
        .output()
        .expect("run the terminal driver");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "terminal checks failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    println!("{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interactive_shell_works_in_a_terminal() {
    let lake = shared_lake().await;
    let server = LocalServer::start(&lake.warehouse, &[]);
    let dir = tempfile::tempdir().expect("temp dir");
    drive_terminal(&server, &dir.path().join("history"), &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_asks_for_a_password_at_the_terminal() {
    let lake = shared_lake().await;
    let (server, users) = LocalServer::start_with_user(&lake.warehouse, "ana", "pa55");
    drive_terminal(
        &server,
        &users.path().join("history"),
        &["--login", "ana:pa55"],
    );
}
