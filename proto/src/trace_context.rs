//! One trace per query across processes: the coordinator writes its query span's W3C
//! `traceparent` into the headers every plan fragment carries; an executor keeps it with the
//! fragment's session ([`RemoteParent`]) and the fragment's scans start their spans as that
//! span's children. With no OpenTelemetry layer installed (telemetry off) spans have no trace
//! context and nothing is written.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Writes `span`'s trace context into `headers`.
pub fn inject(span: &tracing::Span, headers: &mut HeaderMap) {
    TraceContextPropagator::new().inject_context(&span.context(), &mut Headers(headers));
}

/// The trace context a plan fragment arrived with: set on the fragment's session by an
/// executor, read by what runs in it. (Not a span kept open for the fragment: a task's
/// session outlives its streams by an unknown while, and a span is sent only once closed.)
#[derive(Debug, Clone)]
pub struct RemoteParent(HeaderMap);

impl RemoteParent {
    /// The trace context in a fragment's `headers`, if they carry one.
    pub fn of(headers: &HeaderMap) -> Option<Self> {
        let mut kept = HeaderMap::new();
        for name in TraceContextPropagator::new().fields() {
            if let Some(value) = headers.get(name) {
                kept.insert(HeaderName::from_bytes(name.as_bytes()).ok()?, value.clone());
            }
        }
        (!kept.is_empty()).then_some(RemoteParent(kept))
    }

    /// Makes `span` a child of the remote span.
    pub fn adopt(&self, span: &tracing::Span) {
        let parent = TraceContextPropagator::new().extract(&ReadHeaders(&self.0));
        if opentelemetry::trace::TraceContextExt::has_active_span(&parent) {
            let _ = span.set_parent(parent);
        }
    }
}

struct Headers<'a>(&'a mut HeaderMap);

impl Injector for Headers<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct ReadHeaders<'a>(&'a HeaderMap);

impl Extractor for ReadHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}
