//! [`IcebergScanCodec`]: ships an [`IcebergScanExec`] inside a serialised DataFusion plan.
//!
//! The node travels as its splits and scan context (`lakegate.scan.IcebergScanNode`), never as a
//! table handle. Storage credentials do not travel either: the decoding side reads with its own
//! `FileIO`, built from its own storage configuration.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use iceberg::expr::BoundPredicate;
use iceberg::io::FileIO;
use iceberg::spec::{NameMapping, PartitionSpec, Schema};
use lakegate_proto::scan as pb;
use prost::Message;

use crate::error::ScanError;
use crate::scan::{IcebergScanExec, IcebergScanParts, ScanContext, projected_arrow_schema};
use crate::tracking::RunningTasks;

/// Encodes and decodes lakegate's plan nodes; today that is the Iceberg scan.
#[derive(Debug, Clone)]
pub struct IcebergScanCodec {
    file_io: FileIO,
    running: Option<RunningTasks>,
}

impl IcebergScanCodec {
    /// A codec whose decoded scans read through `file_io`.
    pub fn new(file_io: FileIO) -> Self {
        Self {
            file_io,
            running: None,
        }
    }

    /// Decoded scans count their live streams in `running`.
    pub fn counting(mut self, running: RunningTasks) -> Self {
        self.running = Some(running);
        self
    }
}

impl PhysicalExtensionCodec for IcebergScanCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !inputs.is_empty() {
            return Err(DataFusionError::Internal(format!(
                "IcebergScanExec takes no inputs, the plan gave it {}",
                inputs.len()
            )));
        }
        let node = pb::IcebergScanNode::decode(buf).map_err(ScanError::from)?;
        let scan = decode_scan(node, self.file_io.clone())?;
        Ok(Arc::new(match &self.running {
            Some(running) => scan.counting(running.clone()),
            None => scan,
        }))
    }

    fn try_encode(&self, node: Arc<dyn ExecutionPlan>, buf: &mut Vec<u8>) -> Result<()> {
        let Some(scan) = node.downcast_ref::<IcebergScanExec>() else {
            return Err(DataFusionError::Internal(format!(
                "IcebergScanCodec cannot encode {}",
                node.name()
            )));
        };
        encode_scan(scan)?
            .encode(buf)
            .map_err(|e| DataFusionError::Internal(e.to_string()))
    }
}

fn to_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String, ScanError> {
    serde_json::to_string(value).map_err(|source| ScanError::Json { what, source })
}

fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    json: &str,
) -> Result<T, ScanError> {
    serde_json::from_str(json).map_err(|source| ScanError::Json { what, source })
}

/// The scan as a message.
pub fn encode_scan(scan: &IcebergScanExec) -> Result<pb::IcebergScanNode, ScanError> {
    let ctx = scan.context();
    Ok(pb::IcebergScanNode {
        table: scan.table().to_string(),
        snapshot_id: scan.snapshot_id(),
        table_schema_json: to_json("table schema", ctx.table_schema.as_ref())?,
        projected_field_ids: ctx.projected_field_ids.clone(),
        predicate_json: ctx
            .predicate
            .as_ref()
            .map(|p| to_json("predicate", p))
            .transpose()?,
        limit: scan.limit().map(|l| l as u64),
        partition_specs_json: ctx
            .partition_specs
            .iter()
            .map(|(id, spec)| Ok((*id, to_json("partition spec", spec.as_ref())?)))
            .collect::<Result<HashMap<_, _>, ScanError>>()?,
        name_mapping_json: ctx
            .name_mapping
            .as_ref()
            .map(|m| to_json("name mapping", m.as_ref()))
            .transpose()?,
        case_sensitive: ctx.case_sensitive,
        tasks: scan
            .tasks()
            .iter()
            .map(|partitions| pb::ScanTask {
                partitions: partitions
                    .iter()
                    .map(|splits| pb::ScanPartition {
                        splits: splits.clone(),
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// The scan a message describes, reading through `file_io`.
pub fn decode_scan(
    node: pb::IcebergScanNode,
    file_io: FileIO,
) -> Result<IcebergScanExec, ScanError> {
    let table_schema: Arc<Schema> = Arc::new(from_json("table schema", &node.table_schema_json)?);
    let predicate: Option<BoundPredicate> = node
        .predicate_json
        .as_deref()
        .map(|j| from_json("predicate", j))
        .transpose()?;
    let partition_specs = node
        .partition_specs_json
        .iter()
        .map(|(id, json)| {
            Ok((
                *id,
                Arc::new(from_json::<PartitionSpec>("partition spec", json)?),
            ))
        })
        .collect::<Result<HashMap<_, _>, ScanError>>()?;
    let name_mapping: Option<NameMapping> = node
        .name_mapping_json
        .as_deref()
        .map(|j| from_json("name mapping", j))
        .transpose()?;
    let schema = projected_arrow_schema(&node.table, &table_schema, &node.projected_field_ids)?;
    Ok(IcebergScanExec::new(IcebergScanParts {
        table: node.table,
        snapshot_id: node.snapshot_id,
        context: ScanContext {
            table_schema,
            projected_field_ids: node.projected_field_ids,
            predicate,
            partition_specs,
            name_mapping: name_mapping.map(Arc::new),
            case_sensitive: node.case_sensitive,
        },
        tasks: node
            .tasks
            .into_iter()
            .map(|t| t.partitions.into_iter().map(|p| p.splits).collect())
            .collect(),
        limit: node.limit.map(|l| l as usize),
        schema,
        file_io,
    }))
}
