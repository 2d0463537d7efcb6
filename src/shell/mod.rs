//! `lakegate shell`: the analyst's client. It talks Flight SQL to the coordinator like any BI
//! tool would. Input is split into statements and meta-commands ([`script`]), results are
//! printed in the session's format ([`output`]), and meta-commands (`\dt`, `\d`, `\x`,
//! `\timing`, `\pset`, `\i`, `\o`) are answered by [`Runner`].

mod interactive;
mod output;
mod script;

use std::io::Write;
use std::time::Instant;

pub use interactive::run as interactive;
pub use output::Output;
pub use script::{Splitter, Unit, split};

use arrow::record_batch::RecordBatch;
use arrow::util::pretty::pretty_format_batches;
use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// Why a shell command failed: the message is what the server or network said.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        source: tonic::transport::Error,
    },
    #[error("{0}")]
    Flight(String),
    #[error("login as {user} failed: {message}")]
    Login { user: String, message: String },
}

impl From<FlightError> for ShellError {
    /// The user reads the server's own words, not the transport's wrapping of them.
    fn from(err: FlightError) -> Self {
        match err {
            FlightError::Tonic(status) => ShellError::Flight(status.message().to_string()),
            other => ShellError::Flight(other.to_string()),
        }
    }
}

impl From<arrow::error::ArrowError> for ShellError {
    fn from(err: arrow::error::ArrowError) -> Self {
        ShellError::Flight(err.to_string())
    }
}

/// A connected Flight SQL client.
pub struct Shell {
    client: FlightSqlServiceClient<Channel>,
}

impl Shell {
    /// Connects to `host:port`, over TLS trusting `tls_ca` (PEM) when given; with a user,
    /// logs in with the password first.
    pub async fn connect(
        host: &str,
        port: u16,
        tls_ca: Option<&[u8]>,
        login: Option<(&str, &str)>,
    ) -> Result<Self, ShellError> {
        let scheme = if tls_ca.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{host}:{port}");
        let fail = |source| ShellError::Connect {
            url: url.clone(),
            source,
        };
        let mut endpoint = Endpoint::from_shared(url.clone()).map_err(fail)?;
        if let Some(ca) = tls_ca {
            let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
            endpoint = endpoint.tls_config(tls).map_err(fail)?;
        }
        let channel = endpoint.connect().await.map_err(fail)?;
        let mut client = FlightSqlServiceClient::new(channel);
        if let Some((user, password)) = login {
            client
                .handshake(user, password)
                .await
                .map_err(|e| ShellError::Login {
                    user: user.to_string(),
                    message: e.to_string(),
                })?;
        }
        Ok(Self { client })
    }

    /// Runs one statement and collects its rows. With `progress`, a query still running
    /// after a second shows rows, bytes and elapsed time on standard error as they arrive.
    pub async fn query(
        &mut self,
        sql: &str,
        progress: bool,
    ) -> Result<Vec<RecordBatch>, ShellError> {
        let started = Instant::now();
        let info = self.client.execute(sql.to_string(), None).await?;
        let mut batches = Vec::new();
        let (mut rows, mut bytes, mut shown) = (0usize, 0usize, false);
        for endpoint in info.endpoint {
            let ticket = endpoint.ticket.ok_or_else(|| {
                ShellError::Flight("server sent an endpoint without a ticket".into())
            })?;
            let mut stream = self.client.do_get(ticket).await?;
            while let Some(batch) = stream.try_next().await? {
                rows += batch.num_rows();
                bytes += batch.get_array_memory_size();
                if progress && started.elapsed().as_secs_f64() > 1.0 {
                    eprint!(
                        "\r{rows} rows, {bytes} bytes, {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                    shown = true;
                }
                batches.push(batch);
            }
        }
        if shown {
            eprint!("\r\x1b[K");
        }
        Ok(batches)
    }
}

/// Batches as a bordered text table.
pub fn render_table(batches: &[RecordBatch]) -> Result<String, ShellError> {
    Ok(pretty_format_batches(batches)?.to_string())
}

/// What a unit asks of the session loop.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    Quit,
}

/// A shell session: the connection, the output settings and where output goes.
pub struct Runner {
    shell: Shell,
    output: Output,
    timing: bool,
    /// `\o FILE`: results go there instead of stdout.
    sink: Option<std::fs::File>,
    /// At a terminal: Ctrl-C cancels the running query, and long queries show progress.
    interactive: bool,
}

const HELP: &str = "\\q                 quit
\\dt [SCHEMA]       list tables
\\dn                list schemas
\\d [NAME]          list tables, or describe table NAME
\\x [on|off|auto]   expanded output
\\timing [on|off]   show how long each statement took
\\pset format F     table, csv, json or markdown
\\i FILE            run the statements in FILE
\\o [FILE]          send results to FILE (no FILE: back to the terminal)
\\?                 this help
SQL statements end with ;";

impl Runner {
    pub fn new(shell: Shell) -> Self {
        Self {
            shell,
            output: Output::default(),
            timing: false,
            sink: None,
            interactive: false,
        }
    }

    /// Runs every unit of `text`, stopping at the first failure (its message returned).
    pub async fn run_text(&mut self, text: &str) -> Result<Next, String> {
        for unit in split(text) {
            if self.run(unit).await? == Next::Quit {
                return Ok(Next::Quit);
            }
        }
        Ok(Next::Continue)
    }

    /// Runs one unit; a failure is returned as the text to show the user.
    pub async fn run(&mut self, unit: Unit) -> Result<Next, String> {
        match unit {
            Unit::Sql(sql) => {
                self.sql(&sql).await?;
                Ok(Next::Continue)
            }
            Unit::Meta { name, args } => Box::pin(self.meta(&name, &args)).await,
        }
    }

    async fn sql(&mut self, sql: &str) -> Result<(), String> {
        let started = Instant::now();
        let query = self.shell.query(sql, self.interactive);
        let batches = if self.interactive {
            // Dropping the query's streams ends it on the server, on every executor.
            tokio::select! {
                batches = query => batches,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!();
                    return Err("query cancelled".into());
                }
            }
        } else {
            query.await
        }
        .map_err(|e| with_caret(sql, &e.to_string()))?;
        let text = self.output.render(&batches)?;
        self.print(&text)?;
        if self.timing {
            self.print(&format!(
                "Time: {:.3} ms",
                started.elapsed().as_secs_f64() * 1000.0
            ))?;
        }
        Ok(())
    }

    /// Schema, table and column names for completion (none if the catalog cannot be read).
    async fn catalog_names(&mut self) -> Vec<String> {
        let sql = "SELECT table_schema, table_name, column_name FROM information_schema.columns";
        let Ok(batches) = self.shell.query(sql, false).await else {
            return Vec::new();
        };
        let Ok((_, rows)) = output::cells(&batches) else {
            return Vec::new();
        };
        let mut names: Vec<String> = rows.into_iter().flatten().flatten().collect();
        names.sort();
        names.dedup();
        names
    }

    async fn meta(&mut self, name: &str, args: &[String]) -> Result<Next, String> {
        let arg = args.first().map(String::as_str);
        match name {
            "q" | "quit" => return Ok(Next::Quit),
            "?" => self.print(HELP)?,
            "dt" => {
                let filter = arg.map_or(String::new(), |schema| {
                    format!(" AND table_schema = {}", quote(schema))
                });
                self.sql(&format!(
                    "SELECT table_schema AS \"Schema\", table_name AS \"Name\" \
                     FROM information_schema.tables WHERE table_schema <> 'information_schema'\
                     {filter} ORDER BY 1, 2"
                ))
                .await?;
            }
            "dn" => {
                self.sql(
                    "SELECT DISTINCT table_schema AS \"Name\" FROM information_schema.tables \
                     WHERE table_schema <> 'information_schema' ORDER BY 1",
                )
                .await?;
            }
            "d" => match arg {
                None => Box::pin(self.meta("dt", &[])).await.map(|_| ())?,
                Some(table) => {
                    let (schema, name) = match table.rsplit_once('.') {
                        Some((schema, name)) => {
                            (Some(schema.rsplit('.').next().unwrap_or(schema)), name)
                        }
                        None => (None, table),
                    };
                    let schema_filter = schema
                        .map(|s| format!(" AND table_schema = {}", quote(s)))
                        .unwrap_or_default();
                    self.sql(&format!(
                        "SELECT column_name AS \"Column\", data_type AS \"Type\", \
                         is_nullable AS \"Nullable\" FROM information_schema.columns \
                         WHERE table_name = {}{schema_filter} ORDER BY ordinal_position",
                        quote(name)
                    ))
                    .await?;
                }
            },
            "x" => {
                self.output.expanded = match arg {
                    Some("on") => output::Expanded::On,
                    Some("off") => output::Expanded::Off,
                    Some("auto") => output::Expanded::Auto,
                    None if self.output.expanded == output::Expanded::On => output::Expanded::Off,
                    None => output::Expanded::On,
                    Some(other) => {
                        return Err(format!("\\x: expected on, off or auto, got {other:?}"));
                    }
                };
                self.print(&format!(
                    "Expanded display is {}.",
                    match self.output.expanded {
                        output::Expanded::On => "on",
                        output::Expanded::Off => "off",
                        output::Expanded::Auto => "auto",
                    }
                ))?;
            }
            "timing" => {
                self.timing = match arg {
                    Some("on") => true,
                    Some("off") => false,
                    None => !self.timing,
                    Some(other) => {
                        return Err(format!("\\timing: expected on or off, got {other:?}"));
                    }
                };
                self.print(if self.timing {
                    "Timing is on."
                } else {
                    "Timing is off."
                })?;
            }
            "pset" => match (arg, args.get(1)) {
                (Some("format"), Some(format)) => {
                    self.output.format = output::Format::parse(format)?;
                    self.print(&format!("Output format is {format}."))?;
                }
                _ => return Err("\\pset: use \\pset format table|csv|json|markdown".into()),
            },
            "i" | "include" => {
                let path = arg.ok_or("\\i needs a file name")?;
                let text = std::fs::read_to_string(path).map_err(|e| format!("\\i {path}: {e}"))?;
                return Box::pin(self.run_text(&text)).await;
            }
            "o" | "out" => {
                self.sink = match arg {
                    Some(path) => {
                        Some(std::fs::File::create(path).map_err(|e| format!("\\o {path}: {e}"))?)
                    }
                    None => None,
                };
            }
            other => {
                return Err(format!("invalid command \\{other}; try \\? for help"));
            }
        }
        Ok(Next::Continue)
    }

    fn print(&mut self, text: &str) -> Result<(), String> {
        match self.sink.as_mut() {
            Some(file) => writeln!(file, "{text}").map_err(|e| format!("\\o: {e}")),
            None => {
                println!("{text}");
                Ok(())
            }
        }
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The server's message, and when it names a position (`line L, column C`), the statement's
/// line with a caret under that column.
fn with_caret(sql: &str, message: &str) -> String {
    let position = message.rfind("line ").and_then(|at| {
        let rest = &message[at + 5..];
        let (line, rest) = rest.split_once(", column ")?;
        let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((
            line.trim().parse::<usize>().ok()?,
            column.parse::<usize>().ok()?,
        ))
    });
    match position.and_then(|(line, column)| Some((sql.lines().nth(line.checked_sub(1)?)?, column)))
    {
        Some((text, column)) => format!(
            "ERROR: {message}\n{text}\n{}^",
            " ".repeat(column.saturating_sub(1))
        ),
        None => format!("ERROR: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caret_points_at_the_failing_column() {
        let shown = with_caret(
            "SELECT 1\nFROM nation WHERE )",
            "syntax error (line 2, column 19)",
        );
        assert!(
            shown.ends_with("FROM nation WHERE )\n                  ^"),
            "{shown}"
        );
        assert_eq!(with_caret("SELECT", "boom"), "ERROR: boom");
    }
}
