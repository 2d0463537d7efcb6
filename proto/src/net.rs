//! Accepting gRPC connections. Every lakegate server (the coordinator's Flight SQL port, each
//! executor's worker port) serves its own listener, and tonic sets `TCP_NODELAY` only on
//! listeners it binds itself. Without it a small reply (a FlightInfo, a plan fragment, the last
//! batch of a stream) waits for the peer's delayed ACK: about 40 ms per round trip on Linux.

use futures::{Stream, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::TcpListenerStream;

/// The connections `listener` accepts, each with `TCP_NODELAY` set.
pub fn incoming(listener: TcpListener) -> impl Stream<Item = std::io::Result<TcpStream>> {
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}
