//! `lakegate shell`: the analyst's client. It talks Flight SQL to the coordinator like any BI
//! tool would.

use arrow::record_batch::RecordBatch;
use arrow::util::pretty::pretty_format_batches;
use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use tonic::transport::{Channel, Endpoint};

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
    /// Connects to `host:port`; with a user, logs in with the password first.
    pub async fn connect(
        host: &str,
        port: u16,
        login: Option<(&str, &str)>,
    ) -> Result<Self, ShellError> {
        let url = format!("http://{host}:{port}");
        let channel = Endpoint::from_shared(url.clone())
            .map_err(|source| ShellError::Connect {
                url: url.clone(),
                source,
            })?
            .connect()
            .await
            .map_err(|source| ShellError::Connect { url, source })?;
        let mut client = FlightSqlServiceClient::new(channel);
        if let Some((user, password)) = login {
            client.handshake(user, password).await?;
        }
        Ok(Self { client })
    }

    /// Runs one statement and collects its rows.
    pub async fn query(&mut self, sql: &str) -> Result<Vec<RecordBatch>, ShellError> {
        let info = self.client.execute(sql.to_string(), None).await?;
        let mut batches = Vec::new();
        for endpoint in info.endpoint {
            let ticket = endpoint.ticket.ok_or_else(|| {
                ShellError::Flight("server sent an endpoint without a ticket".into())
            })?;
            let stream = self.client.do_get(ticket).await?;
            let mut part: Vec<RecordBatch> = stream.try_collect().await?;
            batches.append(&mut part);
        }
        Ok(batches)
    }
}

/// Batches as a bordered text table.
pub fn render_table(batches: &[RecordBatch]) -> Result<String, ShellError> {
    Ok(pretty_format_batches(batches)?.to_string())
}
