//! Flight SQL clients of a [`LocalServer`] and what they collect.

use arrow::array::RecordBatch;
use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use tonic::transport::{Channel, Endpoint};

use super::*;

impl LocalServer {
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
