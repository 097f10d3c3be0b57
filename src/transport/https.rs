//! The default transport: hyper-util's pooled client over rustls (HTTP/1.1 and HTTP/2,
//! Mozilla's root certificates), one pool per tokio runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::CertificateDer;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use super::tls::{TlsIdentity, provider};
use super::{BodyLimit, ConnectTimeout, MutualTls, ReadTimeout, Transport, Truncated};
use crate::config::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT};
use crate::error::{Error, ErrorKind, Result};

type Pool = HyperClient<Connector, Full<Bytes>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

tokio::task_local! {
    /// The `connect_timeout` of the request being sent, read by [`Connector`] when the pool
    /// opens a connection for it.
    static CONNECT_LIMIT: Option<Duration>;
}

/// The HTTPS connector with a time limit over TCP connect *and* TLS handshake: the request's
/// [`ConnectTimeout`] when it has one, else the transport's.
#[derive(Clone)]
struct Connector {
    inner: HttpsConnector<HttpConnector>,
    limit: Option<Duration>,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = MaybeHttpsStream<TokioIo<TcpStream>>;
    type Error = BoxError;
    type Future =
        Pin<Box<dyn Future<Output = std::result::Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let limit = CONNECT_LIMIT.try_with(|limit| *limit).unwrap_or(self.limit);
        let connecting = self.inner.call(uri);
        Box::pin(async move {
            match limit {
                Some(limit) => match tokio::time::timeout(limit, connecting).await {
                    Ok(connected) => connected,
                    Err(_) => Err(Box::new(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no connection (TCP and TLS) within {limit:?}"),
                    )) as BoxError),
                },
                None => connecting.await,
            }
        })
    }
}

/// The default [`Transport`]: hyper-util's pooled client with rustls.
///
/// It honours the [`MutualTls`], [`ConnectTimeout`], [`ReadTimeout`] and
/// [`MaxResponseSize`](super::MaxResponseSize) extensions of a request; its connect timeout
/// covers the TCP connect and the TLS handshake. It reads an answer's body only as far as
/// [`BodyLimit::for_answer`] allows: a success body over the limit is an error
/// ([`ErrorKind::Transport`]) as soon as its `Content-Length` or its bytes say so, and an error
/// answer is cut after [`ERROR_BODY_PREFIX`](super::ERROR_BODY_PREFIX) bytes.
///
/// Connections belong to the tokio runtime that opened them, so the transport keeps one
/// connection pool per runtime it is used from (callers' runtimes, the client's runtime
/// thread) and forgets a pool when its runtime shuts down. The TLS configuration is built once
/// and shared by all pools.
#[derive(Clone)]
pub struct HttpsTransport {
    shared: Arc<Pools>,
}

struct Pools {
    plain: Connector,
    mutual: Option<Connector>,
    by_runtime: Mutex<Vec<RuntimePool>>,
}

/// The pool of one runtime.
struct RuntimePool {
    runtime: tokio::runtime::Id,
    mutual: bool,
    pool: Pool,
    alive: Arc<AtomicBool>,
    // Dropping this ends the runtime's sentinel task.
    _stop: oneshot::Sender<()>,
}

/// Marks its pool dead when dropped: by the sentinel task, when the runtime shuts down.
struct AliveGuard(Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Settings of the default transport.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransportSettings {
    pub connect_timeout: Option<Duration>,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub identity: Option<TlsIdentity>,
}

impl HttpsTransport {
    /// The default transport with default settings (Mozilla roots, a 10 s connect timeout,
    /// no client certificate), e.g. to wrap in a [`Transport`] of your own that adds tracing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) if TLS cannot be set up.
    pub fn new() -> Result<Self> {
        Self::with_settings(&TransportSettings {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            ..TransportSettings::default()
        })
    }

    /// Builds the TLS configuration(s). No connection is made until the first request.
    pub(crate) fn with_settings(settings: &TransportSettings) -> Result<Self> {
        let plain = build_connector(settings, None)?;
        let mutual = match &settings.identity {
            Some(identity) => Some(build_connector(settings, Some(identity))?),
            None => None,
        };
        Ok(Self {
            shared: Arc::new(Pools {
                plain,
                mutual,
                by_runtime: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The pool of the current tokio runtime, made at its first use there.
    fn pool(&self, mutual: bool) -> Result<Pool> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::new(
                ErrorKind::Transport,
                "HttpsTransport::send must be polled inside a tokio runtime",
            )
        })?;
        let id = runtime.id();
        let mut pools = self
            .shared
            .by_runtime
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        pools.retain(|pool| pool.alive.load(Ordering::Acquire));
        if let Some(found) = pools
            .iter()
            .find(|pool| pool.runtime == id && pool.mutual == mutual)
        {
            return Ok(found.pool.clone());
        }
        let connector = if mutual {
            self.shared.mutual.clone().ok_or_else(|| {
                Error::config(
                    "this APIv2 request asks for `security: true` (mutual TLS) but the client has \
                     no merchant certificate; set it with ClientBuilder::merchant_identity \
                     (apiclient_cert.pem and apiclient_key.pem)",
                )
                .nothing_sent()
            })?
        } else {
            self.shared.plain.clone()
        };
        let pool = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        let alive = Arc::new(AtomicBool::new(true));
        let (stop, stopped) = oneshot::channel::<()>();
        let guard = AliveGuard(alive.clone());
        runtime.spawn(async move {
            let _guard = guard;
            let _ = stopped.await;
        });
        pools.push(RuntimePool {
            runtime: id,
            mutual,
            pool: pool.clone(),
            alive,
            _stop: stop,
        });
        Ok(pool)
    }
}

fn build_connector(
    settings: &TransportSettings,
    identity: Option<&TlsIdentity>,
) -> Result<Connector> {
    let tls_error =
        |e: rustls::Error| Error::config(format!("cannot set up TLS: {e}")).with_source(e);
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for root in &settings.extra_roots {
        roots.add(root.clone()).map_err(tls_error)?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider()?)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots);
    let config = match identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(tls_error)?,
        None => builder.with_no_client_auth(),
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let inner = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(http);
    Ok(Connector {
        inner,
        limit: settings.connect_timeout,
    })
}

/// The error for a request that could not be completed, naming the root cause (DNS, TLS,
/// refused, reset, …); a connect timeout is [`ErrorKind::Timeout`].
fn sending_failed(
    host: &str,
    connecting: bool,
    error: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    let mut root: &(dyn std::error::Error + 'static) = &error;
    while let Some(source) = root.source() {
        root = source;
    }
    let timed_out = root
        .downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
    if connecting {
        let kind = if timed_out {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        return Error::new(
            kind,
            format!("cannot connect to {host}: {root}; nothing was sent"),
        )
        .with_source(error)
        .nothing_sent();
    }
    Error::new(
        ErrorKind::Transport,
        format!(
            "the exchange with {host} broke off ({root}); WeChat Pay may still have processed \
             the request, so query it (or retry with the same merchant order number) before \
             sending it again"
        ),
    )
    .with_source(error)
}

impl Transport for HttpsTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>>> {
        let mutual = request.extensions().get::<MutualTls>().is_some();
        let connect_limit = request.extensions().get::<ConnectTimeout>().copied();
        let idle = request
            .extensions()
            .get::<ReadTimeout>()
            .map_or(DEFAULT_READ_TIMEOUT, |limit| limit.0);
        let extensions = request.extensions().clone();
        let transport = self.clone();
        let request = request.map(Full::new);
        Box::pin(async move {
            let pool = transport.pool(mutual)?;
            let host = request.uri().host().unwrap_or_default().to_string();
            let sending = pool.request(request);
            let answered = match connect_limit {
                Some(ConnectTimeout(limit)) => {
                    idle_limited(idle, &host, CONNECT_LIMIT.scope(limit, sending)).await?
                }
                None => idle_limited(idle, &host, sending).await?,
            };
            let response = answered.map_err(|e| sending_failed(&host, e.is_connect(), e))?;
            let (mut parts, body) = response.into_parts();
            let limit = BodyLimit::for_answer(&extensions, parts.status, &parts.headers);
            let (body, truncated) = read_body(body, limit, &parts.headers, idle, &host).await?;
            if let Some(truncated) = truncated {
                parts.extensions.insert(truncated);
            }
            Ok(http::Response::from_parts(parts, body))
        })
    }
}

/// Waits for `step` no longer than the read-idle limit.
async fn idle_limited<T>(idle: Duration, host: &str, step: impl Future<Output = T>) -> Result<T> {
    tokio::time::timeout(idle, step).await.map_err(|_| {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{host} sent nothing for {idle:?} (ClientBuilder::read_timeout); WeChat Pay may \
                 still have processed the request, so query it (or retry with the same merchant \
                 order number) before sending it again"
            ),
        )
    })
}

/// Reads as much of `body` as `limit` allows, each piece within the read-idle limit.
async fn read_body(
    mut body: Incoming,
    limit: BodyLimit,
    headers: &http::HeaderMap,
    idle: Duration,
    host: &str,
) -> Result<(Bytes, Option<Truncated>)> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let (max, whole) = match limit {
        BodyLimit::Whole(max) => (max, true),
        BodyLimit::Prefix(max) => (max, false),
    };
    if whole && declared.is_some_and(|declared| declared > max as u64) {
        return Err(too_large(host, max));
    }
    let capacity = declared.map_or(0, |declared| declared.min(max as u64) as usize);
    let mut collected = BytesMut::with_capacity(capacity.min(super::ERROR_BODY_PREFIX * 16));
    while let Some(frame) = idle_limited(idle, host, body.frame()).await? {
        let frame = frame.map_err(|e| sending_failed(host, false, e))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if collected.len() + data.len() > max {
            if whole {
                return Err(too_large(host, max));
            }
            let room = max - collected.len();
            collected.extend_from_slice(&data[..room]);
            let kept = collected.len();
            return Ok((collected.freeze(), Some(Truncated { kept })));
        }
        collected.extend_from_slice(&data);
    }
    Ok((collected.freeze(), None))
}

fn too_large(host: &str, max: usize) -> Error {
    Error::new(
        ErrorKind::Transport,
        format!(
            "the answer from {host} is larger than {max} bytes, the most this client reads \
             (ClientBuilder::max_response_size); reading stopped there. WeChat Pay's answers are \
             small: if this is a large download, raise the limit"
        ),
    )
}
