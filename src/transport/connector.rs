//! Opening connections: TCP, then TLS with the client's roots (and the merchant certificate
//! for mutual TLS), directly or through a proxy (a CONNECT tunnel for `https`, plain
//! forwarding for `http`), all within the connect timeout.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::proxy::{self, Proxies};

pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

tokio::task_local! {
    /// The `connect_timeout` of the request being sent, read by [`Connector`] when the pool
    /// opens a connection for it.
    pub(super) static CONNECT_LIMIT: Option<Duration>;
}

/// The connector of a pool: TCP and TLS, direct or through the proxy, with a time limit over
/// the whole of it (the request's [`ConnectTimeout`](super::ConnectTimeout) when it has one,
/// else the transport's).
///
/// hyper-util clones its client, so the connector, for every request: a clone is one
/// reference count.
#[derive(Clone)]
pub(super) struct Connector {
    inner: Arc<Settings>,
}

/// What a connector opens connections with.
struct Settings {
    http: HttpConnector,
    tls: Arc<rustls::ClientConfig>,
    proxies: Proxies,
    limit: Option<Duration>,
}

/// Connection extra: when the connection was opened. A request that started before it was
/// opened got a fresh connection; one that started after reused a kept-alive one.
#[derive(Debug, Clone, Copy)]
pub(super) struct OpenedAt(pub Instant);

impl Connector {
    pub(super) fn new(
        tls: rustls::ClientConfig,
        proxies: Proxies,
        limit: Option<Duration>,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let mut tls = tls;
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Self {
            inner: Arc::new(Settings {
                http,
                tls: Arc::new(tls),
                proxies,
                limit,
            }),
        }
    }

    /// Opens a connection to `uri`'s origin and drops it: the cheap probe of a domain.
    pub(super) async fn probe(&self, uri: http::Uri) -> Result<(), BoxError> {
        let mut connector = self.clone();
        tower_service::Service::call(&mut connector, uri)
            .await
            .map(drop)
    }

    fn open(&self, dst: http::Uri) -> Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>> {
        let settings = &*self.inner;
        let Some(intercept) = settings.proxies.intercept(&dst) else {
            let mut direct = HttpsConnector::from((settings.http.clone(), settings.tls.clone()));
            let connecting = tower_service::Service::call(&mut direct, dst);
            return Box::pin(async move { Ok(Conn::new(connecting.await?, false)) });
        };
        if intercept.uri().scheme_str() != Some("http") {
            let error = proxy::unsupported(&intercept);
            return Box::pin(async move { Err(Box::new(error) as BoxError) });
        }
        let through = proxy::shown(&intercept);
        if dst.scheme_str() == Some("https") {
            let mut tunnel = Tunnel::new(intercept.uri().clone(), settings.http.clone());
            if let Some(auth) = proxy::authorization(&intercept) {
                tunnel = tunnel.with_auth(auth);
            }
            let mut tunnelled = HttpsConnector::from((tunnel, settings.tls.clone()));
            let connecting = tower_service::Service::call(&mut tunnelled, dst);
            return Box::pin(async move {
                let stream = connecting.await.map_err(|e| via(&through, e))?;
                Ok(Conn::new(stream, false))
            });
        }
        let mut http = settings.http.clone();
        let connecting = tower_service::Service::call(&mut http, intercept.uri().clone());
        Box::pin(async move {
            let stream = connecting.await.map_err(|e| via(&through, e.into()))?;
            Ok(Conn::new(MaybeHttpsStream::Http(stream), true))
        })
    }
}

/// The error of a connection through `proxy`, naming it (never its credentials).
fn via(proxy: &str, error: BoxError) -> BoxError {
    Box::new(ThroughProxy {
        proxy: proxy.to_owned(),
        error,
    })
}

/// A failure to connect through a proxy.
#[derive(Debug)]
pub(super) struct ThroughProxy {
    proxy: String,
    error: BoxError,
}

impl std::fmt::Display for ThroughProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "through the proxy {}: {}", self.proxy, self.error)
    }
}

impl std::error::Error for ThroughProxy {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let limit = CONNECT_LIMIT
            .try_with(|limit| *limit)
            .unwrap_or(self.inner.limit);
        let connecting = self.open(uri);
        Box::pin(async move {
            match limit {
                Some(limit) => match tokio::time::timeout(limit, connecting).await {
                    Ok(connected) => connected,
                    Err(_) => Err(Box::new(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no connection (TCP and TLS) within {limit:?}"),
                    )) as BoxError),
                },
                None => connecting.await,
            }
        })
    }
}

/// A connection: TCP or TLS, and whether it goes to a proxy that forwards plain-HTTP
/// requests (which then carry absolute URIs).
pub(super) struct Conn {
    inner: MaybeHttpsStream<TokioIo<TcpStream>>,
    forwarded: bool,
    opened: Instant,
}

impl Conn {
    fn new(inner: MaybeHttpsStream<TokioIo<TcpStream>>, forwarded: bool) -> Self {
        Self {
            inner,
            forwarded,
            opened: Instant::now(),
        }
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.inner
            .connected()
            .proxy(self.forwarded)
            .extra(OpenedAt(self.opened))
    }
}

impl Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}
