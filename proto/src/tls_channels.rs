//! Connections to workers when the cluster speaks TLS (`cluster.tls_*`): an `https://` worker
//! is reached over TLS trusting the cluster's CA, an `http://` one in the clear. Used by the
//! coordinator sending fragments and by executors reading other executors' stages, so every
//! hop verifies the peer. One channel per worker is kept and shared: tonic multiplexes calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion_distributed::grpc::{BoxCloneSyncChannel, create_worker_client};
use datafusion_distributed::{ChannelResolver, WorkerChannel};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use url::Url;

/// Channels to workers, over TLS for `https` URLs.
#[derive(Debug, Clone)]
pub struct TlsChannels {
    ca: Arc<Vec<u8>>,
    channels: Arc<Mutex<HashMap<Url, Channel>>>,
}

impl TlsChannels {
    /// Trusting the PEM certificates `ca` for `https` workers.
    pub fn new(ca: Vec<u8>) -> Self {
        Self {
            ca: Arc::new(ca),
            channels: Arc::default(),
        }
    }

    /// A (shared) channel to `url`.
    pub async fn channel(&self, url: &Url) -> Result<Channel, tonic::transport::Error> {
        if let Some(channel) = self.cached(url) {
            return Ok(channel);
        }
        let mut endpoint = Endpoint::from_shared(url.to_string())?;
        if url.scheme() == "https" {
            let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&*self.ca));
            endpoint = endpoint.tls_config(tls)?;
        }
        let channel = endpoint.connect().await?;
        self.channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(url.clone(), channel.clone());
        Ok(channel)
    }

    fn cached(&self, url: &Url) -> Option<Channel> {
        self.channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(url)
            .cloned()
    }
}

#[async_trait]
impl ChannelResolver for TlsChannels {
    async fn get_worker_client_for_url(
        &self,
        url: &Url,
    ) -> Result<Box<dyn WorkerChannel>, DataFusionError> {
        let channel = self.channel(url).await.map_err(|e| {
            DataFusionError::Execution(format!("connecting to worker {url}: {e:?}"))
        })?;
        Ok(create_worker_client(BoxCloneSyncChannel::new(channel)))
    }
}
