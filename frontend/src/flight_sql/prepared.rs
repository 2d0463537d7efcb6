//! Prepared statement handles. The handle carries the statement and its bound parameters, so
//! the coordinator keeps nothing between CreatePreparedStatement, DoPut and GetFlightInfo: a
//! client's handle stays good across a coordinator restart and on any coordinator replica.

use std::io::Cursor;

use arrow::datatypes::Schema;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow::record_batch::RecordBatch;
use arrow_flight::{IpcMessage, SchemaAsIpc};
use bytes::Bytes;
use lakegate_proto::flight_sql::PreparedStatementHandle;
use prost::Message;
use tonic::Status;

/// A decoded handle: the statement and the parameter row bound to it, if any.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub sql: String,
    pub parameters: Option<RecordBatch>,
}

impl Prepared {
    pub fn new(sql: String) -> Self {
        Self {
            sql,
            parameters: None,
        }
    }

    pub fn encode(&self) -> Result<Bytes, Status> {
        let parameters = match &self.parameters {
            Some(batch) => ipc_bytes(batch)?,
            None => Vec::new(),
        };
        let handle = PreparedStatementHandle {
            sql: self.sql.clone(),
            parameters,
        };
        Ok(handle.encode_to_vec().into())
    }

    pub fn decode(handle: &[u8]) -> Result<Self, Status> {
        let handle = PreparedStatementHandle::decode(handle).map_err(|e| {
            Status::invalid_argument(format!("not a lakegate prepared statement handle: {e}"))
        })?;
        let parameters = if handle.parameters.is_empty() {
            None
        } else {
            Some(batch_from_ipc(&handle.parameters)?)
        };
        Ok(Self {
            sql: handle.sql,
            parameters,
        })
    }
}

fn ipc_bytes(batch: &RecordBatch) -> Result<Vec<u8>, Status> {
    let encode = |e: arrow::error::ArrowError| {
        Status::internal(format!("encoding bound parameters into the handle: {e}"))
    };
    let mut writer = StreamWriter::try_new(Vec::new(), &batch.schema()).map_err(encode)?;
    writer.write(batch).map_err(encode)?;
    writer.into_inner().map_err(encode)
}

fn batch_from_ipc(bytes: &[u8]) -> Result<RecordBatch, Status> {
    let invalid = |e: arrow::error::ArrowError| {
        Status::invalid_argument(format!("the handle's bound parameters are unreadable: {e}"))
    };
    let mut reader = StreamReader::try_new(Cursor::new(bytes), None).map_err(invalid)?;
    match reader.next() {
        Some(batch) => batch.map_err(invalid),
        None => Err(Status::invalid_argument(
            "the handle's bound parameters hold no row",
        )),
    }
}

/// A schema as Flight SQL sends it in prepared statement results: an IPC schema message.
pub fn schema_bytes(schema: &Schema) -> Result<Bytes, Status> {
    let message: IpcMessage = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e| Status::internal(format!("encoding schema: {e}")))?;
    Ok(message.0)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field};

    use super::*;

    #[test]
    fn a_handle_round_trips_with_and_without_parameters() {
        let bare = Prepared::new("SELECT 1".into());
        let decoded = Prepared::decode(&bare.encode().unwrap()).unwrap();
        assert_eq!(decoded.sql, "SELECT 1");
        assert!(decoded.parameters.is_none());

        let schema = Arc::new(Schema::new(vec![Field::new("0", DataType::Int64, true)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![42]))]).unwrap();
        let bound = Prepared {
            sql: "SELECT ?".into(),
            parameters: Some(batch.clone()),
        };
        let decoded = Prepared::decode(&bound.encode().unwrap()).unwrap();
        assert_eq!(decoded.parameters, Some(batch));
    }

    #[test]
    fn garbage_is_refused_clearly() {
        let err = Prepared::decode(b"\xff\xff\xff").unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }
}
