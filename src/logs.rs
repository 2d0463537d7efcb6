//! Where a server's spans and events go: log lines on stderr, and, with
//! `telemetry.otlp_endpoint` set, spans to an OpenTelemetry collector over OTLP/gRPC.
//!
//! Logs are filtered by `LAKEGATE_LOG` (default `warn`) and written as text or, with
//! `LAKEGATE_LOG_FORMAT=json`, one JSON object per line for a log pipeline: every line written
//! while a query runs carries its `query_id` (the span's fields, flattened in `span`). Traces
//! take lakegate's own spans at `info` and above whatever the log filter says: the query on the
//! coordinator, each plan fragment and each scan on the executors, tied into one trace by the
//! `traceparent` header fragments carry ([`lakegate_proto::trace_context`]).

use std::time::Duration;

use lakegate_coordinator::config::TelemetryConfig;
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    #[error("LAKEGATE_LOG_FORMAT={0:?}: expected \"text\" or \"json\"")]
    Format(String),
    #[error("LAKEGATE_LOG_FORMAT is not UTF-8")]
    FormatNotUnicode,
    #[error("telemetry.sample_ratio = {0}: expected a number from 0 to 1")]
    SampleRatio(f64),
    #[error("telemetry.otlp_endpoint = {endpoint:?}: {message}")]
    Exporter { endpoint: String, message: String },
    #[error("logging was already set up: {0}")]
    Init(String),
}

/// Keeps the trace exporter running; dropping it sends the spans still batched.
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            let _ = provider.shutdown();
        }
    }
}

/// The process's role, named in its traces' `service.name` (`lakegate-coordinator`, ...).
#[derive(Debug, Clone, Copy)]
pub enum Service {
    Local,
    Coordinator,
    Executor,
    /// Commands that serve nothing (the shell, the TPC-H writer): logs only.
    Tool,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Local => "lakegate",
            Service::Coordinator => "lakegate-coordinator",
            Service::Executor => "lakegate-executor",
            Service::Tool => "lakegate-tool",
        }
    }
}

/// Sets up logs, and traces when `telemetry` names a collector. Call once, inside the tokio
/// runtime (the exporter's connection lives on it).
pub fn init(service: Service, telemetry: Option<&TelemetryConfig>) -> Result<Telemetry, LogsError> {
    let filter = EnvFilter::try_from_env("LAKEGATE_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs: Box<dyn Layer<Registry> + Send + Sync> =
        match std::env::var("LAKEGATE_LOG_FORMAT").as_deref() {
            Ok("json") => logs
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_filter(filter)
                .boxed(),
            Ok("text") | Err(std::env::VarError::NotPresent) => logs.with_filter(filter).boxed(),
            Ok(other) => return Err(LogsError::Format(other.to_string())),
            Err(std::env::VarError::NotUnicode(_)) => return Err(LogsError::FormatNotUnicode),
        };
    let mut layers = vec![logs];
    let provider = match telemetry.filter(|t| !t.otlp_endpoint.is_empty()) {
        Some(config) => {
            let provider = tracer_provider(service, config)?;
            let tracer = provider.tracer("lakegate");
            let ours = filter_fn(|meta| {
                meta.target().starts_with("lakegate") && *meta.level() <= Level::INFO
            });
            layers.push(
                tracing_opentelemetry::layer()
                    .with_tracer(tracer)
                    .with_filter(ours)
                    .boxed(),
            );
            Some(provider)
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|e| LogsError::Init(e.to_string()))?;
    Ok(Telemetry(provider))
}

fn tracer_provider(
    service: Service,
    config: &TelemetryConfig,
) -> Result<SdkTracerProvider, LogsError> {
    if !(0.0..=1.0).contains(&config.sample_ratio) {
        return Err(LogsError::SampleRatio(config.sample_ratio));
    }
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(config.otlp_endpoint.clone())
        .build()
        .map_err(|e| LogsError::Exporter {
            endpoint: config.otlp_endpoint.clone(),
            message: e.to_string(),
        })?;
    let batches = BatchConfigBuilder::default()
        .with_scheduled_delay(Duration::from_millis(config.export_interval_ms.max(1)))
        .build();
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(batches)
        .build();
    let resource = Resource::builder()
        .with_service_name(service.name())
        .with_attribute(KeyValue::new(
            "service.instance.id",
            format!("{}-{}", service.name(), std::process::id()),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        // A fragment is traced when its query is: executors follow the coordinator's choice.
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            config.sample_ratio,
        ))))
        .with_resource(resource)
        .build())
}
