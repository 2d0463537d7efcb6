//! What iceberg's planner forgets about delete files, read back from the delete manifests.
//!
//! iceberg 0.10 assigns delete files to data files (partition, sequence numbers) but hands each
//! over as a bare path: it drops the file format, the referenced data file and, for a v3
//! deletion vector, where its blob lies in the Puffin file. One Puffin file holds the vectors
//! of many data files, so the planner gives every data file of a partition every vector of
//! that file. This index, built from the same snapshot's delete manifests, says which entry of
//! a path belongs to which data file, so a split carries exactly its own deletes.

use std::collections::HashMap;

use futures::future::try_join_all;
use iceberg::spec::{DataContentType, DataFileFormat, ManifestContentType};
use iceberg::table::Table;

use crate::error::ScanError;

/// One live delete entry of the snapshot's delete manifests.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteEntry {
    pub format: DataFileFormat,
    pub content: DataContentType,
    pub referenced_data_file: Option<String>,
    /// Blob position in a Puffin file (deletion vectors).
    pub content_offset: Option<i64>,
    pub content_size_in_bytes: Option<i64>,
}

/// Live delete entries by file path (a Puffin path has one entry per deletion vector).
#[derive(Debug, Default)]
pub struct DeleteIndex {
    by_path: HashMap<String, Vec<DeleteEntry>>,
}

impl DeleteIndex {
    /// Reads every delete manifest of `snapshot_id` (in parallel).
    pub async fn load(table: &Table, snapshot_id: i64) -> Result<DeleteIndex, ScanError> {
        let metadata = table.metadata();
        let Some(snapshot) = metadata.snapshot_by_id(snapshot_id) else {
            return Ok(DeleteIndex::default());
        };
        let list = table.manifest_list_reader(snapshot).load().await?;
        let manifests = list
            .entries()
            .iter()
            .filter(|m| m.content == ManifestContentType::Deletes)
            .map(|m| m.load_manifest(table.file_io()));
        let mut index = DeleteIndex::default();
        for manifest in try_join_all(manifests).await? {
            for entry in manifest.entries().iter().filter(|e| e.is_alive()) {
                let file = entry.data_file();
                index
                    .by_path
                    .entry(file.file_path().to_string())
                    .or_default()
                    .push(DeleteEntry {
                        format: file.file_format(),
                        content: file.content_type(),
                        referenced_data_file: file.referenced_data_file(),
                        content_offset: file.content_offset(),
                        content_size_in_bytes: file.content_size_in_bytes(),
                    });
            }
        }
        Ok(index)
    }

    /// The entries of `path` that may apply to `data_file`: those that name no data file and
    /// those that name this one.
    pub fn entries_for<'a>(
        &'a self,
        path: &str,
        data_file: &'a str,
    ) -> impl Iterator<Item = &'a DeleteEntry> + 'a {
        self.by_path
            .get(path)
            .into_iter()
            .flatten()
            .filter(move |e| {
                e.referenced_data_file
                    .as_deref()
                    .is_none_or(|referenced| referenced == data_file)
            })
    }

    /// Whether `path` is known at all (a delete file missing from the index was planned from a
    /// manifest this index did not read, which would be a bug).
    pub fn knows(&self, path: &str) -> bool {
        self.by_path.contains_key(path)
    }
}
