//! Whether the executors a query uses are still there: after a transport failure, probes of
//! who is gone (a dead process breaks its streams a moment before its socket closes); while a
//! query waits, silence past the heartbeat window confirmed by an executor that does not answer
//! a connection (a stopped or hung process neither fails nor finishes its streams).

use std::sync::Arc;
use std::time::Duration;

use datafusion::error::DataFusionError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

use crate::registry::ExecutorRegistry;

/// How long an executor gets to accept a connection before it counts as dead.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often, and how far apart, executors are probed after a transport failure.
const PROBE_ROUNDS: usize = 5;
const PROBE_PAUSE: Duration = Duration::from_millis(200);

/// Completes when an executor of `placement` goes silent, checking once per heartbeat; never
/// where executors run in this process (see [`ExecutorRegistry::detecting_hangs`]).
pub(super) async fn silence(
    registry: Option<&Arc<ExecutorRegistry>>,
    placement: &[Url],
) -> (Url, Duration) {
    let Some(registry) = registry.filter(|r| r.detects_hangs()) else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(registry.heartbeat_interval()).await;
        if let Some((url, window)) = registry.silent_among(placement)
            && !answers(&url, window.min(MAX_ANSWER_WAIT)).await
        {
            return (url, window);
        }
    }
}

/// The longest a silent executor is given to answer before it counts as hung.
const MAX_ANSWER_WAIT: Duration = Duration::from_secs(5);

/// HTTP/2's client preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";

/// Whether the process at `url` answers at all within `wait`: its heartbeats may only be late
/// (a saturated executor), so silence alone does not condemn it. A stopped process still has
/// its connections accepted by the kernel, but sends nothing; a running one answers the
/// preface with its own SETTINGS (plaintext) or a TLS alert, or hangs up: any of those is an
/// answer.
async fn answers(url: &Url, wait: Duration) -> bool {
    let Some(addr) = url
        .socket_addrs(|| None)
        .ok()
        .and_then(|a| a.first().copied())
    else {
        return false;
    };
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(H2_PREFACE).await?;
        let mut reply = [0u8; 1];
        stream.read(&mut reply).await
    };
    matches!(tokio::time::timeout(wait, exchange).await, Ok(Ok(_)))
}

/// Whether an executor the failed run could have used is gone: silent long enough to have left
/// the registry, or not accepting connections (then it is dropped from placement now).
///
/// A process that dies breaks its open streams a moment before its listening socket closes, so
/// after a transport failure the executors are probed a few times before the query is given up.
pub(super) async fn lost_an_executor(
    registry: Option<&Arc<ExecutorRegistry>>,
    placement: &[Url],
    err: &DataFusionError,
) -> bool {
    let Some(registry) = registry else {
        return false;
    };
    let rounds = if is_transport_failure(err) {
        PROBE_ROUNDS
    } else {
        1
    };
    for round in 0..rounds {
        if round > 0 {
            tokio::time::sleep(PROBE_PAUSE).await;
        }
        if probe_placement(registry, placement).await {
            return true;
        }
    }
    false
}

/// Errors of the network between the processes rather than of the query: a peer that went
/// away. An executor's own failures travel as a `tonic::Status` it built (code `Internal`, no
/// source); a broken connection is a status tonic made from a transport error (it keeps that
/// error as its source, or says `Unavailable`), or an I/O error of the socket itself.
fn is_transport_failure(err: &DataFusionError) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = next {
        if let Some(status) = error.downcast_ref::<tonic::Status>()
            && (status.code() == tonic::Code::Unavailable
                || std::error::Error::source(status).is_some())
        {
            return true;
        }
        if error.is::<tonic::transport::Error>() {
            return true;
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        next = error.source();
    }
    false
}

/// Probes every executor in `placement`; drops those gone from the registry or refusing
/// connections, and says whether there were any.
async fn probe_placement(registry: &Arc<ExecutorRegistry>, placement: &[Url]) -> bool {
    let now = registry.placement();
    let probes = placement.iter().map(|url| async move {
        let reachable = match url.socket_addrs(|| None) {
            Ok(addrs) => match addrs.first() {
                Some(addr) => matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(addr)).await,
                    Ok(Ok(_))
                ),
                None => false,
            },
            Err(_) => false,
        };
        (url, reachable)
    });
    let mut lost = false;
    for (url, reachable) in futures::future::join_all(probes).await {
        tracing::debug!(executor = %url, reachable, registered = now.contains(url), "probed");
        if !reachable || !now.contains(url) {
            tracing::warn!(executor = %url, "executor lost; dropped from placement");
            ExecutorRegistry::remove(registry, url);
            lost = true;
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn url_of(listener: &TcpListener) -> Url {
        let addr = listener.local_addr().expect("bound address");
        Url::parse(&format!("http://{addr}/")).expect("a URL")
    }

    #[tokio::test]
    async fn a_process_that_accepts_but_never_answers_counts_as_hung() {
        // Bound and listening but never accepting: the kernel completes connections, nothing
        // is ever sent, as with a stopped process.
        let stopped = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        assert!(!answers(&url_of(&stopped), Duration::from_millis(300)).await);

        let alive = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = url_of(&alive);
        tokio::spawn(async move {
            if let Ok((mut socket, _)) = alive.accept().await {
                let _ = socket.write_all(b"\0").await;
            }
        });
        assert!(answers(&url, Duration::from_secs(5)).await);

        let gone = url_of(&stopped);
        drop(stopped);
        assert!(!answers(&gone, Duration::from_millis(300)).await);
    }
}
