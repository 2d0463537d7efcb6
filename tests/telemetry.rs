//! OpenTelemetry traces: a coordinator and two executors as separate processes send their
//! spans over OTLP/gRPC to a collector in this test; one distributed TPC-H query is one trace
//! holding the coordinator's query span and, under it, every executor's scan spans saying what
//! they read.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Cluster, assert_same_rows, baseline_context, baseline_rows, shared_lake};
use lakegate::tpch::QUERIES;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::Span;

/// A span as received, with the process that sent it.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    instance: String,
    span: Span,
}

#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Received>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = self.0.lock().expect("collector lock");
        for resource_spans in request.into_inner().resource_spans {
            let attributes = resource_spans
                .resource
                .map(|r| r.attributes)
                .unwrap_or_default();
            let service = text(&attributes, "service.name").unwrap_or_default();
            let instance = text(&attributes, "service.instance.id").unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    received.push(Received {
                        service: service.clone(),
                        instance: instance.clone(),
                        span,
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .map(|value| match value {
            Value::StringValue(s) => s.clone(),
            Value::IntValue(i) => i.to_string(),
            other => format!("{other:?}"),
        })
}

/// Starts the collector on a loopback port; returns its endpoint.
async fn start_collector(collector: Collector) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the collector");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    endpoint
}

/// The trace of the query whose fragments ran on `executors` executors, once all of it came.
fn distributed_trace(spans: &[Received], executors: usize) -> Option<Vec<Received>> {
    let mut traces: HashMap<&[u8], Vec<&Received>> = HashMap::new();
    for received in spans {
        traces
            .entry(received.span.trace_id.as_slice())
            .or_default()
            .push(received);
    }
    traces.into_values().find_map(|trace| {
        let has_query = trace
            .iter()
            .any(|r| r.span.name == "query" && r.service == "lakegate-coordinator");
        let executors_seen: HashSet<&str> = trace
            .iter()
            .filter(|r| r.service == "lakegate-executor" && r.span.name == "scan")
            .map(|r| r.instance.as_str())
            .collect();
        (has_query && executors_seen.len() == executors)
            .then(|| trace.into_iter().cloned().collect())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_distributed_query_is_one_trace_with_spans_from_every_executor() {
    let lake = shared_lake().await;
    let collector = Collector::default();
    let endpoint = start_collector(collector.clone()).await;
    let shared = [
        "--set".to_string(),
        format!("telemetry.otlp_endpoint={endpoint}"),
        "--set".to_string(),
        "telemetry.export_interval_ms=200".to_string(),
    ];
    let cluster = Cluster::start_with(&lake.warehouse.display().to_string(), 2, &[], &shared).await;
    let (_, sql) = QUERIES
        .iter()
        .find(|(name, _)| *name == "q05")
        .expect("TPC-H q5");
    let expected = baseline_rows(&baseline_context(lake).await, sql).await;
    let client = cluster.coordinator.flight_client().await;
    let actual = common::collect_query(client, sql)
        .await
        .unwrap_or_else(|e| panic!("q5: {e}"));
    assert_same_rows("q5 traced", sql, &expected, &actual);

    let deadline = Instant::now() + Duration::from_secs(30);
    let trace = loop {
        let spans = collector.0.lock().expect("collector lock").clone();
        if let Some(trace) = distributed_trace(&spans, 2) {
            break trace;
        }
        assert!(
            Instant::now() < deadline,
            "no trace of q5 with spans from both executors among {} spans: {:?}",
            spans.len(),
            spans
                .iter()
                .map(|r| (&r.service, &r.span.name))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // Executors' scans hang under a coordinator span of the query.
    let coordinator_spans: HashSet<&[u8]> = trace
        .iter()
        .filter(|r| r.service == "lakegate-coordinator")
        .map(|r| r.span.span_id.as_slice())
        .collect();
    for received in trace.iter().filter(|r| r.service == "lakegate-executor") {
        assert!(
            coordinator_spans.contains(received.span.parent_span_id.as_slice()),
            "an executor's span has a coordinator span of the query as its parent: {received:?}"
        );
    }
    let rows_read: i64 = trace
        .iter()
        .filter(|r| r.span.name == "scan")
        .filter_map(|r| text(&r.span.attributes, "rows")?.parse::<i64>().ok())
        .sum();
    assert!(rows_read > 0, "scan spans record the rows they read");
    let query = trace
        .iter()
        .find(|r| r.span.name == "query")
        .expect("the query span");
    assert!(
        text(&query.span.attributes, "query_id").is_some(),
        "the query span names its query: {query:?}"
    );
}
