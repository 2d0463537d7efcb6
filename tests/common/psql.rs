//! `psql`, PostgreSQL's own client, against a [`LocalServer`]'s PostgreSQL port.

use std::process::{Command, Output};

use super::*;

/// `psql` on the server's PostgreSQL port, unaligned, tuples only, verbose errors (with their
/// SQLSTATE), one `-c` per statement.
pub fn psql(server: &LocalServer, password: Option<&str>, statements: &[&str]) -> Output {
    let mut command = Command::new("psql");
    command
        .args(["-h", "127.0.0.1", "-p", &server.postgres_port.to_string()])
        .args(["-U", "ana", "-d", "lake", "-X", "-A", "-t", "-F", "|"])
        .args(["-v", "VERBOSITY=verbose", "-v", "ON_ERROR_STOP=1"])
        .env("PGCONNECT_TIMEOUT", "10");
    match password {
        Some(password) => command.env("PGPASSWORD", password),
        None => command.env_remove("PGPASSWORD"),
    };
    for statement in statements {
        command.args(["-c", statement]);
    }
    command.output().expect("run psql (postgresql-client)")
}

/// A run's stdout and stderr as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
