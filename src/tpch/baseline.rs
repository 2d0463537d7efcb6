//! The yardstick lakegate is measured against: single-node DataFusion reading the very Parquet
//! files of each table's current snapshot, listed by iceberg, with no gateway in between. The
//! tests check answers against it; `benches/peers` compares times with it.

use std::sync::Arc;

use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::TryStreamExt;
use iceberg::scan::FileScanTask;
use iceberg::{Catalog, TableIdent};

use super::TpchTable;

/// Why the baseline could not be set up, naming the table.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("listing the files of {table}: {source}")]
    Iceberg {
        table: String,
        source: iceberg::Error,
    },
    #[error("registering {table} with DataFusion: {source}")]
    DataFusion {
        table: String,
        source: DataFusionError,
    },
}

/// A DataFusion context with the eight TPC-H tables of `namespace` registered under their bare
/// names, each over the data files of its current snapshot.
pub async fn baseline_context(
    catalog: &dyn Catalog,
    namespace: &str,
    config: SessionConfig,
) -> Result<SessionContext, BaselineError> {
    let ctx = SessionContext::new_with_config(config);
    for table in TpchTable::ALL {
        let name = table.name();
        let df = |source| BaselineError::DataFusion {
            table: name.to_string(),
            source,
        };
        let urls = current_files(catalog, namespace, name)
            .await?
            .iter()
            .map(|t| ListingTableUrl::parse(&t.data_file_path))
            .collect::<Result<Vec<_>, _>>()
            .map_err(df)?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .infer_schema(&ctx.state())
            .await
            .map_err(df)?;
        let provider = ListingTable::try_new(config).map_err(df)?;
        ctx.register_table(name, Arc::new(provider)).map_err(df)?;
    }
    Ok(ctx)
}

/// The data files of a table's current snapshot, as iceberg plans them.
pub async fn current_files(
    catalog: &dyn Catalog,
    namespace: &str,
    table: &str,
) -> Result<Vec<FileScanTask>, BaselineError> {
    let iceberg = |source| BaselineError::Iceberg {
        table: table.to_string(),
        source,
    };
    let ident = TableIdent::from_strs([namespace, table]).map_err(iceberg)?;
    let loaded = catalog.load_table(&ident).await.map_err(iceberg)?;
    loaded
        .scan()
        .build()
        .map_err(iceberg)?
        .plan_files()
        .await
        .map_err(iceberg)?
        .try_collect()
        .await
        .map_err(iceberg)
}
