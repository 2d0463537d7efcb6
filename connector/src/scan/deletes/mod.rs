//! Row-level deletes, applied where the data is read.
//!
//! A merge-on-read table carries three kinds of delete files, and a split lists the ones that
//! apply to its data file (the coordinator chose them by partition and sequence number):
//!
//! ```text
//!   position delete files (v2) ──┐
//!                                ├─▶ one bitmap of deleted positions ─┐
//!   deletion vector (v3 Puffin) ─┘                                    ├─▶ keep-mask per batch
//!   equality delete files ──────────▶ hash sets of deleted keys ──────┘
//! ```
//!
//! Loaded deletes are kept in one cache per process, keyed by what identifies their content
//! (delete files never change once written), because one delete file usually applies to many
//! data files: a partition's position deletes, a table's global equality deletes.

mod equality;
mod position;
mod vector;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use arrow::datatypes::DataType;
use futures::future::try_join_all;
use iceberg::io::FileIO;
use lakegate_proto::scan as pb;
use roaring::RoaringTreemap;

pub use equality::EqualityDeletes;
pub use vector::decode_vector;

use crate::error::ScanError;
use crate::scan::schema::projected_arrow_schema;
use crate::scan::split::ScanContext;
use equality::load_equality;
use position::{PositionsByFile, load_positions};
use vector::{VectorRef, load_vector};

/// Bytes of loaded deletes one process keeps.
const CACHE_BYTES: u64 = 256 * 1024 * 1024;
/// Loaded deletes no split asked for in this long are dropped.
const CACHE_IDLE: Duration = Duration::from_secs(600);

/// What a cache entry was loaded from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum DeleteKey {
    Positions(String),
    Vector(VectorRef),
    /// The same file read as different column types (after a type promotion) is another entry.
    Equality {
        path: String,
        field_ids: Vec<i32>,
        types: Vec<DataType>,
    },
}

#[derive(Debug, Clone)]
enum Loaded {
    Positions(Arc<PositionsByFile>),
    Vector(Arc<RoaringTreemap>),
    Equality(Arc<EqualityDeletes>),
}

impl Loaded {
    fn weight(&self) -> u32 {
        let bytes = match self {
            Loaded::Positions(files) => files
                .iter()
                .map(|(path, bitmap)| path.len() + bitmap.serialized_size())
                .sum(),
            Loaded::Vector(bitmap) => bitmap.serialized_size(),
            Loaded::Equality(deletes) => deletes.size_in_bytes(),
        };
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

static CACHE: LazyLock<moka::future::Cache<DeleteKey, Loaded>> = LazyLock::new(|| {
    moka::future::Cache::builder()
        .max_capacity(CACHE_BYTES)
        .weigher(|_, loaded: &Loaded| loaded.weight())
        .time_to_idle(CACHE_IDLE)
        .build()
});

/// Everything that deletes rows of one split's data file.
#[derive(Debug, Default)]
pub struct SplitDeletes {
    /// Deleted row positions of the data file (position delete files and deletion vector).
    pub positions: RoaringTreemap,
    /// Equality delete files that apply, each with its own columns.
    pub equality: Vec<Arc<EqualityDeletes>>,
}

impl SplitDeletes {
    /// Loads (or takes from the cache) every delete file of `split`, concurrently.
    pub async fn load(
        split: &pb::Split,
        ctx: &ScanContext,
        file_io: &FileIO,
    ) -> Result<SplitDeletes, ScanError> {
        let loads = split
            .deletes
            .iter()
            .map(|delete| load_one(delete, ctx, file_io));
        let mut out = SplitDeletes::default();
        for loaded in try_join_all(loads).await? {
            match loaded {
                Loaded::Positions(files) => {
                    if let Some(bitmap) = files.get(&split.data_file_path) {
                        out.positions |= bitmap;
                    }
                }
                Loaded::Vector(bitmap) => out.positions |= bitmap.as_ref(),
                Loaded::Equality(deletes) => out.equality.push(deletes),
            }
        }
        Ok(out)
    }

    /// Whether no row of the file is deleted.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty() && self.equality.is_empty()
    }
}

async fn load_one(
    delete: &pb::DeleteFile,
    ctx: &ScanContext,
    file_io: &FileIO,
) -> Result<Loaded, ScanError> {
    let path = delete.file_path.clone();
    let key = match delete.content() {
        pb::DeleteContent::PositionDeletes => DeleteKey::Positions(path),
        pb::DeleteContent::DeletionVector => DeleteKey::Vector(VectorRef {
            puffin_path: path,
            offset: delete.content_offset,
            length: delete.content_size_in_bytes,
        }),
        pb::DeleteContent::EqualityDeletes => DeleteKey::Equality {
            types: field_types(ctx, &delete.equality_ids).map_err(|e| ScanError::DeleteFile {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            path,
            field_ids: delete.equality_ids.clone(),
        },
    };
    let load = async {
        Ok::<_, ScanError>(match &key {
            DeleteKey::Positions(path) => {
                Loaded::Positions(Arc::new(load_positions(file_io, path).await?))
            }
            DeleteKey::Vector(at) => Loaded::Vector(Arc::new(load_vector(file_io, at).await?)),
            DeleteKey::Equality {
                path, field_ids, ..
            } => Loaded::Equality(Arc::new(
                load_equality(file_io, path, delete.file_size_in_bytes, field_ids, ctx).await?,
            )),
        })
    };
    Ok(CACHE.try_get_with(key.clone(), load).await?)
}

/// Arrow types of the top-level columns `field_ids` at the scan's snapshot.
fn field_types(ctx: &ScanContext, field_ids: &[i32]) -> Result<Vec<DataType>, ScanError> {
    let schema = projected_arrow_schema("equality delete", &ctx.table_schema, field_ids)?;
    Ok(schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect())
}
