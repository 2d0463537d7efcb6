//! The DataFusion state each query plans with: the session's settings and dialect, a view of
//! the lake over one listing with the query's snapshot pins and access rules, and, with
//! executors, the distributed planner and the headers its fragments carry.

use std::sync::Arc;

use datafusion::catalog::{CatalogProvider, CatalogProviderList, MemoryCatalogProviderList};
use datafusion::config::ConfigOptions;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion_distributed::{DistributedExt, SessionStateBuilderExt};
use http::{HeaderMap, HeaderValue};
use lakegate_iceberg::IcebergScanCodec;
use lakegate_iceberg::scan::{IcebergScanOptions, desired_task_count, scale_up};
use lakegate_proto::cluster_secret::{CLUSTER_SECRET_HEADER, ClusterSecret};
use lakegate_proto::headers::{MEMORY_LIMIT_HEADER, QUERY_ID_HEADER};

use super::Engine;
use super::run::RunLimits;
use crate::access::AccessView;
use crate::catalog::{LakeCatalogProvider, SnapshotPins};
use crate::error::EngineError;
use crate::query::QueryId;
use crate::registry::RegistryWorkers;
use crate::session::SessionVars;
use crate::system_catalog::{SYSTEM_CATALOG, system_catalog};

impl Engine {
    /// The DataFusion state one query plans with: the session's variables and a view of the
    /// lake over one listing, with its own snapshot pins (and the tables' hidden columns when
    /// the query names one).
    pub(super) async fn query_state(
        &self,
        id: QueryId,
        vars: &SessionVars,
        access: &AccessView,
        pins: Arc<SnapshotPins>,
        hidden_columns: bool,
    ) -> Result<SessionState, EngineError> {
        let mut config = self
            .config
            .clone()
            .with_default_catalog_and_schema(&vars.catalog, &vars.schema);
        set_options(config.options_mut(), vars, &["datafusion."])?;
        let listing = self.lake.listing().await?;
        let dialect = self.dialects.get(vars.dialect);
        let lake: Arc<dyn CatalogProvider> = Arc::new(
            LakeCatalogProvider::new(self.lake.clone(), listing, pins, vars.max_staleness())
                .with_hidden_columns(hidden_columns)
                .with_access(access.clone()),
        );
        let lake = dialect
            .decorate_catalog(lake, access)
            .map_err(EngineError::planning)?;
        let catalogs = MemoryCatalogProviderList::new();
        catalogs.register_catalog(self.lake.name().to_string(), lake);
        if access.can_read_catalog(SYSTEM_CATALOG) {
            let system = system_catalog(
                self.registry().map(Arc::as_ref),
                self.cache.as_ref().map(|c| c.stats()),
            )
            .map_err(EngineError::planning)?;
            catalogs.register_catalog(SYSTEM_CATALOG.to_string(), system);
        }
        let builder = dialect.configure(
            SessionStateBuilder::new()
                .with_config(config)
                .with_runtime_env(self.runtime.clone())
                .with_catalog_list(Arc::new(catalogs))
                .with_default_features(),
        );
        let mut state = match &self.cluster {
            None => builder.build(),
            Some(cluster) => {
                let mut scan_options = IcebergScanOptions::default();
                scan_options.bytes_per_task = cluster.bytes_per_task;
                let mut builder = builder
                    .with_distributed_passthrough_headers(fragment_headers(
                        id,
                        &self.limits,
                        &cluster.secret,
                    )?)
                    .map_err(EngineError::planning)?
                    .with_distributed_worker_resolver(RegistryWorkers(cluster.registry.clone()));
                if let Some(channels) = &cluster.channels {
                    builder = builder.with_distributed_channel_resolver(channels.clone());
                }
                let mut state = builder
                    .with_distributed_planner()
                    .with_distributed_user_codec(IcebergScanCodec::new(cluster.file_io.clone()))
                    .with_distributed_option_extension(scan_options)
                    .with_distributed_desired_task_count_handler(desired_task_count)
                    .with_distributed_scale_up_leaf_node_handler(scale_up)
                    .build();
                if cluster.max_tasks_per_stage > 0 {
                    state
                        .set_distributed_max_tasks_per_stage(cluster.max_tasks_per_stage)
                        .map_err(EngineError::planning)?;
                }
                if all_on_loopback(&cluster.registry.placement()) {
                    // Compressing shuffles spends cores to save network bytes; between
                    // processes of one machine there is no network to save.
                    state
                        .set_distributed_compression(None)
                        .map_err(EngineError::planning)?;
                }
                // The distributed planner's and the scan's options exist only now.
                apply_settings(&mut state, vars, &["distributed.", "iceberg_scan."])?;
                state
            }
        };
        lakegate_functions::register_checked_arithmetic(&mut state)
            .map_err(EngineError::planning)?;
        dialect
            .register_functions(&mut state, vars)
            .map_err(EngineError::planning)?;
        // The query's start time: `now()` and `current_date` are folded to it when planned
        // (DataFusion's SessionContext does this in `sql()`; a hand-built state must too).
        state.mark_start_execution();
        Ok(state)
    }
}

/// Sets the session's variables named with one of `prefixes` on `state`.
fn apply_settings(
    state: &mut SessionState,
    vars: &SessionVars,
    prefixes: &[&str],
) -> Result<(), EngineError> {
    set_options(state.config_mut().options_mut(), vars, prefixes)
}

/// Sets the session's variables named with one of `prefixes` in `options`, naming a bad one.
fn set_options(
    options: &mut ConfigOptions,
    vars: &SessionVars,
    prefixes: &[&str],
) -> Result<(), EngineError> {
    let chosen = vars
        .settings
        .iter()
        .filter(|(name, _)| prefixes.iter().any(|p| name.starts_with(p)));
    for (name, value) in chosen {
        options.set(name, value).map_err(|e| EngineError::Setting {
            name: name.clone(),
            message: e.message().to_string(),
        })?;
    }
    Ok(())
}

/// Whether every executor is reached on a loopback address (`lakegate local`, or a cluster
/// on one machine).
fn all_on_loopback(executors: &[url::Url]) -> bool {
    executors.iter().all(|url| match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    })
}

/// Headers every plan fragment of query `id` carries to its executor: which query it belongs
/// to, so its fragments there share one memory pool, that pool's size, the cluster's secret,
/// and the query's trace context (planning runs inside the query's span).
fn fragment_headers(
    id: QueryId,
    limits: &RunLimits,
    secret: &ClusterSecret,
) -> Result<HeaderMap, EngineError> {
    let value = |text: String| {
        HeaderValue::from_str(&text)
            .map_err(|e| EngineError::Internal(format!("fragment header {text:?}: {e}")))
    };
    let mut headers = HeaderMap::new();
    headers.insert(QUERY_ID_HEADER, value(id.to_string())?);
    if let Some(limit) = limits.memory_limit_bytes {
        headers.insert(MEMORY_LIMIT_HEADER, value(limit.to_string())?);
    }
    lakegate_proto::trace_context::inject(&tracing::Span::current(), &mut headers);
    if let Some(secret) = secret.header_value() {
        headers.insert(
            CLUSTER_SECRET_HEADER,
            HeaderValue::from_str(secret).map_err(|_| {
                EngineError::Internal("cluster.shared_secret is not a valid header value".into())
            })?,
        );
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_executors_are_told_apart_from_remote_ones() {
        let urls = |list: &[&str]| -> Vec<url::Url> {
            list.iter()
                .map(|u| url::Url::parse(u).expect("a URL"))
                .collect()
        };
        assert!(all_on_loopback(&urls(&[
            "http://127.0.0.1:5001",
            "http://[::1]:5002",
            "https://localhost:5003"
        ])));
        assert!(!all_on_loopback(&urls(&[
            "http://127.0.0.1:5001",
            "http://10.0.0.7:5002"
        ])));
        assert!(!all_on_loopback(&urls(&[
            "http://executor-0.lakegate:5001"
        ])));
    }
}
