//! The secret a cluster's coordinator and executors share (`cluster.shared_secret`).
//!
//! An executor runs plan fragments only for a caller presenting it (the coordinator, or
//! another executor fetching a stage's output), and the coordinator registers only executors
//! presenting it: otherwise anyone reaching an executor's port could run plans that read the
//! lake with the executor's storage credentials, and anyone reaching the coordinator could
//! register as an executor and be sent fragments. Without a secret, both accept anyone.

use std::fmt;
use std::sync::Arc;

use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Request, Status};

/// The gRPC header the secret travels in.
pub const CLUSTER_SECRET_HEADER: &str = "x-lakegate-cluster-secret";

/// The shared secret, or none (an open cluster). Its `Debug` never shows the value.
#[derive(Clone, Default)]
pub struct ClusterSecret(Option<Arc<str>>);

impl fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("ClusterSecret(<set>)"),
            None => f.write_str("ClusterSecret(<none>)"),
        }
    }
}

impl ClusterSecret {
    /// `secret`, where an empty one is none.
    pub fn new(secret: Option<&str>) -> Self {
        Self(secret.filter(|s| !s.is_empty()).map(Arc::from))
    }

    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// The header value to send, when there is a secret.
    pub fn header_value(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Adds the secret to an outgoing call's metadata.
    pub fn attach(&self, metadata: &mut MetadataMap) -> Result<(), Status> {
        if let Some(secret) = &self.0 {
            let value = MetadataValue::try_from(secret.as_ref()).map_err(|_| {
                Status::internal("cluster.shared_secret is not a valid header value")
            })?;
            metadata.insert(CLUSTER_SECRET_HEADER, value);
        }
        Ok(())
    }

    /// Whether an incoming call presents the secret (always, without one).
    pub fn check(&self, metadata: &MetadataMap) -> Result<(), Status> {
        let Some(secret) = &self.0 else {
            return Ok(());
        };
        let presented = metadata
            .get(CLUSTER_SECRET_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if same(presented, secret.as_bytes()) {
            Ok(())
        } else {
            Err(Status::unauthenticated(
                "this lakegate node accepts cluster calls only with cluster.shared_secret \
                 (header x-lakegate-cluster-secret)",
            ))
        }
    }
}

/// Refuses calls without the secret, as a tonic interceptor.
impl tonic::service::Interceptor for ClusterSecret {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.check(request.metadata())?;
        Ok(request)
    }
}

/// Equality in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_secret_passes() {
        let secret = ClusterSecret::new(Some("s3cr3t"));
        let mut metadata = MetadataMap::new();
        assert!(secret.check(&metadata).is_err());
        metadata.insert(CLUSTER_SECRET_HEADER, MetadataValue::from_static("s3cr3x"));
        assert!(secret.check(&metadata).is_err());
        let mut sent = MetadataMap::new();
        secret.attach(&mut sent).unwrap();
        assert!(secret.check(&sent).is_ok());
        assert!(
            ClusterSecret::new(Some(""))
                .check(&MetadataMap::new())
                .is_ok()
        );
        assert!(!format!("{secret:?}").contains("s3cr3t"));
    }
}
