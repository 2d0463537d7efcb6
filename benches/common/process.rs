//! `lakegate` processes a benchmark starts: read until they say they listen, killed when
//! dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A child process killed (and reaped) when dropped, so a failing benchmark leaves none behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `command` and reads its stdout until a line starting with `last`: the process and
/// the lines read. The rest of its output is drained so it never blocks on a full pipe.
pub fn spawn_until(mut command: Command, last: &str) -> Result<(KillOnDrop, Vec<String>), String> {
    let shown = format!("{command:?}");
    let mut child = KillOnDrop(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{shown}: {e}"))?,
    );
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let mut lines = Vec::new();
    let mut reader = BufReader::new(stdout);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err(format!("{shown} exited before {last:?}"));
        }
        let done = line.starts_with(last);
        lines.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    std::thread::spawn(move || for _ in reader.lines() {});
    Ok((child, lines))
}

/// `lakegate coordinator` over `warehouse` with every front end on an ephemeral loopback port,
/// then `settings` (`--set key=value` pairs and the like).
pub fn coordinator_args<'a>(warehouse: &'a str, settings: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "coordinator",
        "--warehouse",
        warehouse,
        "--flight-sql-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
        "--postgres-addr",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(settings);
    args
}

/// `bin args` as a command.
pub fn with_args(bin: &str, args: &[&str]) -> Command {
    let mut command = Command::new(bin);
    command.args(args);
    command
}
