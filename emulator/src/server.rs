//! Our own accept loop (hyper per connection) so faults can reset a connection mid-request.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub type Body = BoxBody<Bytes, io::Error>;

/// Per-connection handle the handlers use to make the close abrupt.
pub struct ConnInfo {
    /// A duplicate of the socket: lets us set SO_LINGER while hyper owns the stream.
    socket: Option<socket2::Socket>,
}

impl ConnInfo {
    /// With SO_LINGER 0 the close that follows sends RST instead of FIN.
    pub fn abort_with_rst(&self) {
        if let Some(s) = &self.socket {
            let _ = s.set_linger(Some(Duration::ZERO));
        }
    }
}

/// The error that makes hyper drop the connection without answering.
pub fn connection_reset() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "fault injected: reset")
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

/// A body that yields `first`, pauses so it is flushed, then fails (hyper aborts the connection).
pub fn truncated(first: Bytes) -> Body {
    let stream = futures_util::stream::unfold(0u8, move |step| {
        let first = first.clone();
        async move {
            match step {
                0 => Some((Ok(Frame::data(first)), 1)),
                1 => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((Err(connection_reset()), 2))
                }
                _ => None,
            }
        }
    });
    StreamBody::new(stream).boxed()
}

/// Reads a whole request body, refusing more than `cap` bytes or a body still
/// incomplete after `timeout`.
pub async fn read_body(body: Incoming, cap: usize, timeout: Duration) -> io::Result<Bytes> {
    let limited = http_body_util::Limited::new(body, cap);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) => Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "request body timed out")),
    }
}

pub struct ServerHandle {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// Stops accepting, lets open connections finish briefly, then drops them.
    pub async fn shutdown(&mut self) {
        let _ = self.shutdown.send(true);
        let _ = (&mut self.task).await;
    }

    pub fn abort(&self) {
        self.task.abort();
    }
}

pub async fn bind(port: u16) -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await
}

/// Serves `handler` on every accepted connection until shut down; a request
/// whose head has not fully arrived within `header_timeout` is dropped
/// (a stalled or slowloris client cannot hold a connection forever).
pub fn spawn<F, Fut>(listener: TcpListener, header_timeout: Duration, handler: F) -> io::Result<ServerHandle>
where
    F: Fn(Request<Incoming>, Arc<ConnInfo>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Body>, io::Error>> + Send + 'static,
{
    let addr = listener.local_addr()?;
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, handler, rx, header_timeout));
    Ok(ServerHandle { addr, shutdown: tx, task })
}

async fn accept_loop<F, Fut>(listener: TcpListener, handler: F, mut rx: watch::Receiver<bool>, header_timeout: Duration)
where
    F: Fn(Request<Incoming>, Arc<ConnInfo>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Body>, io::Error>> + Send + 'static,
{
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = rx.changed() => break,
            a = listener.accept() => a,
        };
        while conns.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Usually EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let info = Arc::new(ConnInfo { socket: socket2::SockRef::from(&stream).try_clone().ok() });
        let handler = handler.clone();
        let mut conn_rx = rx.clone();
        conns.spawn(async move {
            let svc = service_fn(move |req| handler(req, info.clone()));
            let conn = http1::Builder::new()
                .keep_alive(true)
                // hyper enforces the header timeout only with a timer.
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                _ = conn_rx.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(1), conn).await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(2), async { while conns.join_next().await.is_some() {} }).await;
}
