//! The default transport: hyper-util's pooled client over rustls (HTTP/1.1 and HTTP/2,
//! Mozilla's root certificates), through a proxy when one is set.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::Full;
use hyper_util::client::legacy::connect::capture_connection;

use super::body::{idle_limited, read_body, stream_body};
use super::connector::{CONNECT_LIMIT, OpenedAt};
use super::pools::{Pools, TransportSettings};
use super::proxy;
use super::seam::{Reading, SendOptions, Transport};
use crate::error::{Error, ErrorKind, Result};

/// The default [`Transport`]: hyper-util's pooled client with rustls.
///
/// It honours every field of [`SendOptions`]; its connect timeout covers the TCP connect and
/// the TLS handshake (and the proxy's CONNECT). It reads an answer's body as
/// [`SendOptions::reading`] says: a whole body over the limit is an error
/// ([`ErrorKind::Transport`]) as soon as its `Content-Length` or its bytes say so, a prefix
/// stops the reading, and a sink gets the body as it arrives.
///
/// Connections are tuned for WeChat Pay, which closes idle connections after about 8 s:
/// idle ones are closed after [`pool_idle_timeout`](crate::ClientBuilder::pool_idle_timeout)
/// (7 s, as the official Java SDK does), and at most
/// [`max_connections_per_host`](crate::ClientBuilder::max_connections_per_host) requests
/// (so connections) are in flight per host over plain TLS, and as many over mutual TLS; more
/// wait their turn.
///
/// Connections belong to the tokio runtime that opened them, so the transport keeps one
/// connection pool per runtime it is used from (callers' runtimes, the runtime thread) and
/// forgets a pool when its runtime shuts down. Transports with equal settings (TLS identity,
/// extra roots, proxy, timeouts, limits) share their pools, whichever client made them;
/// transports whose settings differ only in the TLS identity (a merchant certificate each,
/// for APIv2 `security: true`) share their plain connections (and their cap), and every
/// transport shares one store of Mozilla's roots.
#[derive(Clone)]
pub struct HttpsTransport {
    pools: Arc<Pools>,
}

impl std::fmt::Debug for HttpsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsTransport")
            .field("proxies", &self.pools.proxies)
            .finish_non_exhaustive()
    }
}

impl HttpsTransport {
    /// The default transport with default settings (Mozilla roots, a 10 s connect timeout,
    /// no client certificate, proxies from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
    /// `NO_PROXY`), e.g. to wrap in a [`Transport`] of your own that adds tracing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) if TLS cannot be set up, or a proxy
    /// from the environment cannot be used.
    pub fn new() -> Result<Self> {
        Self::with_settings(&TransportSettings::default())
    }

    /// Builds the TLS configuration(s), or finds those of a transport with equal settings. No
    /// connection is made until the first request.
    pub(crate) fn with_settings(settings: &TransportSettings) -> Result<Self> {
        Ok(Self {
            pools: Pools::for_settings(settings)?,
        })
    }

    /// The proxy a request to `uri` goes through, as `http://host:port` (never with its
    /// credentials); `None` when it goes directly.
    pub fn proxy_for(&self, uri: &http::Uri) -> Option<String> {
        self.pools.proxies.shown_for(uri)
    }

    /// Whether `self` and `other` share all their connection pools (equal settings). Transports
    /// whose settings differ only in the TLS identity share their plain connections alone.
    pub fn shares_pools_with(&self, other: &HttpsTransport) -> bool {
        Arc::ptr_eq(&self.pools, &other.pools)
    }
}

/// The error for a request that could not be completed, naming the root cause (DNS, TLS,
/// refused, reset, …); a connect timeout is [`ErrorKind::Timeout`].
fn sending_failed(
    host: &str,
    through: Option<&str>,
    reused: bool,
    error: hyper_util::client::legacy::Error,
) -> Error {
    let mut root: &(dyn std::error::Error + 'static) = &error;
    while let Some(source) = root.source() {
        root = source;
    }
    let timed_out = root
        .downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
    let via = through.map_or(String::new(), |proxy| format!(" through the proxy {proxy}"));
    let hyper_errors = || {
        std::iter::successors(Some(&error as &(dyn std::error::Error + 'static)), |e| {
            e.source()
        })
        .filter_map(|e| e.downcast_ref::<hyper::Error>())
    };
    if let Some(refusal) = h2_refusal(&error) {
        return Error::new(
            ErrorKind::Transport,
            format!(
                "{host}{via} refused the request before processing it ({refusal}); nothing was \
                 processed, so it is safe to send again"
            ),
        )
        .with_source(error)
        .unprocessed();
    }
    // hyper hands a request back "canceled" only when it was never started on its
    // connection (a kept-alive connection closed before it was written), and "channel closed"
    // when the connection's task had already ended when the request was handed to it (an
    // HTTP/2 connection closed by a GOAWAY that came first): nothing was sent either way.
    // hyper-util tries such a request again by itself on another pooled connection; when
    // the connection was a fresh one it reports it, and the client's own retry takes over.
    if hyper_errors().any(|e| e.is_canceled() || e.is_closed()) {
        return Error::new(
            ErrorKind::Transport,
            format!(
                "the connection to {host}{via} closed before the request was written ({root}); \
                 nothing was sent"
            ),
        )
        .with_source(error)
        .nothing_sent();
    }
    if error.is_connect() {
        // A configuration error of ours (mutual TLS, an unusable proxy) travels as the root.
        if let Some(ours) = root.downcast_ref::<Error>() {
            return Error::new(ours.kind(), ours.to_string()).nothing_sent();
        }
        let kind = if timed_out {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        return Error::new(
            kind,
            format!("cannot connect to {host}{via}: {root}; nothing was sent"),
        )
        .with_source(error)
        .nothing_sent();
    }
    let closed_early =
        std::iter::successors(Some(&error as &(dyn std::error::Error + 'static)), |e| {
            e.source()
        })
        .filter_map(|e| e.downcast_ref::<hyper::Error>())
        .any(hyper::Error::is_incomplete_message);
    let message = if closed_early && reused {
        format!(
            "{host} closed the kept-alive connection{via} as the request went out, before any \
             answer (servers close idle connections: WeChat Pay after about 8 s, which is why \
             ClientBuilder::pool_idle_timeout is 7 s); the request most likely never reached \
             WeChat Pay, but that cannot be proven, so query it (or send it again with the same \
             merchant order number) before sending it again"
        )
    } else {
        format!(
            "the exchange with {host}{via} broke off ({root}); WeChat Pay may still have \
             processed the request, so query it (or retry with the same merchant order number) \
             before sending it again"
        )
    };
    Error::new(ErrorKind::Transport, message)
        .with_source(error)
        .transient()
}

/// What an HTTP/2 error in `error`'s chain says when the server did not process the request
/// (RFC 9113 §8.7): its stream reset by the server with `REFUSED_STREAM`, or a `GOAWAY` from
/// the server whose last stream id is below the stream's. (h2 fails with the `GOAWAY`'s own
/// error only the streams above that id; a stream it kept that then breaks off ends with an
/// I/O error, which stays "may have been processed".)
fn h2_refusal(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let h2 = std::iter::successors(Some(error), |e| e.source())
        .find_map(|e| e.downcast_ref::<h2::Error>())?;
    if !h2.is_remote() {
        return None;
    }
    if h2.is_go_away() {
        return Some("an HTTP/2 GOAWAY that left its stream out");
    }
    (h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM))
        .then_some("HTTP/2 REFUSED_STREAM")
}

impl Transport for HttpsTransport {
    fn send(
        &self,
        mut request: http::Request<Bytes>,
        options: SendOptions,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>>> {
        let mutual = options.mutual_tls;
        // `Duration::MAX`: no limit at all.
        let connect_limit = options
            .connect_timeout
            .map(|limit| (limit != Duration::MAX).then_some(limit));
        // When the request's own deadline comes before the read-idle limit could end it, the
        // client's timer of that deadline is the only one needed.
        let idle = match options.deadline {
            Some(deadline) if deadline <= Instant::now() + options.read_timeout => None,
            _ => Some(options.read_timeout),
        };
        let intercept = self.pools.proxies.intercept(request.uri());
        let through = intercept.as_ref().map(proxy::shown);
        if request.uri().scheme_str() == Some("http")
            && let Some(auth) = intercept.as_ref().and_then(proxy::authorization)
        {
            // Forwarded plain-HTTP requests carry the proxy's credentials themselves.
            request
                .headers_mut()
                .insert(http::header::PROXY_AUTHORIZATION, auth);
        }
        let side = match self.pools.side(mutual) {
            Ok(side) => side,
            Err(error) => return Box::pin(async move { Err(error) }),
        };
        let uri = request.uri();
        let host = side.host(
            uri.authority().map_or("", |authority| authority.as_str()),
            uri.host().unwrap_or_default(),
        );
        let pools = self.pools.clone();
        let mut request = request.map(Full::new);
        Box::pin(async move {
            // `side` again: the future owns the pools, not a borrow of them.
            let pool = pools.side(mutual)?.pool()?;
            let permit =
                host.limit.acquire().await.map_err(|_| {
                    Error::new(ErrorKind::Transport, "the connection cap was closed")
                })?;
            let host = host.name.as_str();
            let connection = capture_connection(&mut request);
            let started = Instant::now();
            let sending = pool.request(request);
            let answered = match connect_limit {
                Some(limit) => {
                    idle_limited(idle, host, CONNECT_LIMIT.scope(limit, sending)).await?
                }
                None => idle_limited(idle, host, sending).await?,
            };
            let response = answered.map_err(|e| {
                let reused = connection.connection_metadata().as_ref().is_some_and(|c| {
                    let mut extras = http::Extensions::new();
                    c.get_extras(&mut extras);
                    extras
                        .get::<OpenedAt>()
                        .is_some_and(|opened| opened.0 < started)
                });
                sending_failed(host, through.as_deref(), reused, e)
            })?;
            let (parts, body) = response.into_parts();
            let body = match options.reading(parts.status, &parts.headers) {
                Reading::Stream(sink) => {
                    stream_body(body, sink, idle, host).await?;
                    Bytes::new()
                }
                reading => read_body(body, reading, &parts.headers, idle, host).await?,
            };
            drop(permit);
            Ok(http::Response::from_parts(parts, body))
        })
    }

    fn probe(&self, origin: &http::Uri) -> BoxFuture<'static, Result<()>> {
        let pools = self.pools.clone();
        let origin = origin.clone();
        Box::pin(async move {
            let host = origin.host().unwrap_or_default().to_owned();
            pools.plain.connector.probe(origin).await.map_err(|e| {
                Error::new(
                    ErrorKind::Transport,
                    format!("cannot connect to {host}: {e}; nothing was sent"),
                )
                .with_source(e)
                .nothing_sent()
            })
        })
    }
}
