//! The mock's HTTP and TLS servers: accept, check, record, answer.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio_rustls::TlsAcceptor;

use super::body::MockBody;
use super::certificates;
use super::checks::{check_v2, check_v3};
#[cfg(feature = "sandbox")]
use super::engine::{Engine, Exchange, Inbound};
use super::fidelity::v2_refusal;
#[cfg(feature = "sandbox")]
use super::handle::{Attach, MockHandle};
use super::keys::{
    MERCHANT_PUBLIC_KEY_PEM, TLS_CA_CERTIFICATE_PEM, TLS_SERVER_CERTIFICATE_PEM, TLS_SERVER_KEY_PEM,
};
use super::mock_server::MockServer;
use super::network;
use super::platform::Platform;
use super::recorded::{RecordedRequest, multipart_media};
use super::ring::Ring;
use super::rules::State;
use super::rules::{Fault, Reply};
use super::shared::Shared;
use super::signing::sign_reply;
use crate::crypto::PublicKey;
use crate::error::{Error, ErrorKind, Result};
use crate::protocol::Api;
use crate::toolkit::SignType;
use crate::transport::{TlsIdentity, certificates_from_pem, provider};
use crate::v2;

/// Starting a mock.
impl MockServer {
    /// Starts a mock on `127.0.0.1` with two free ports (plain HTTP, and TLS with client
    /// certificates), on a thread of its own.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transport`](crate::ErrorKind::Transport) when no port can be bound or no thread
    /// started.
    pub fn start() -> Result<Self> {
        Self::start_on(0, 0)
    }

    /// Starts a mock on `127.0.0.1` with the given ports (plain HTTP, and TLS); `0` picks a
    /// free one. For a standalone mock that other programs reach at a known address
    /// (`wechatpay mock --port 8080`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transport`](crate::ErrorKind::Transport) when a port cannot be bound (in use?)
    /// or no thread started.
    pub fn start_on(port: u16, tls_port: u16) -> Result<Self> {
        start(port, tls_port, None)
    }

    /// Starts a mock with `engine` plugged in (the sandbox).
    #[cfg(feature = "sandbox")]
    pub(crate) fn start_with(port: u16, tls_port: u16, engine: Arc<dyn Attach>) -> Result<Self> {
        start(port, tls_port, Some(engine))
    }
}

/// Binds both ports on `127.0.0.1` and serves them on a thread of its own, with `engine`
/// plugged in (see [`MockServer::start_on`]).
pub(super) fn start(
    port: u16,
    tls_port: u16,
    #[cfg(feature = "sandbox")] engine: Option<Arc<dyn Attach>>,
    #[cfg(not(feature = "sandbox"))] _engine: Option<std::convert::Infallible>,
) -> Result<MockServer> {
    let io_error = |what: &str, e: std::io::Error| {
        Error::new(ErrorKind::Transport, format!("mock server: {what}: {e}")).with_source(e)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| io_error("cannot start a runtime", e))?;
    // Bound with std so that `start` also works inside an async runtime; tokio takes the
    // sockets over on the mock's own thread.
    let bind = |port: u16| {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| io_error(&format!("cannot bind 127.0.0.1:{port}"), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| io_error("cannot make the socket non-blocking", e))?;
        let address = listener
            .local_addr()
            .map_err(|e| io_error("no local address", e))?;
        Ok::<_, Error>((listener, address))
    };
    let (listener, address) = bind(port)?;
    let (tls_listener, tls_address) = bind(tls_port)?;
    let acceptor = tls_acceptor()?;
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            rules: Vec::new(),
            fallback: Reply::error(404, "RESOURCE_NOT_EXISTS", "no reply registered"),
            requests: Ring::new(RECORDED_REQUESTS, RECORDED_BYTES),
            recording: true,
        }),
        network: Arc::new(network::Network::new()),
        merchant_key: PublicKey::from_pem(MERCHANT_PUBLIC_KEY_PEM)?,
        merchants: Mutex::new(HashMap::new()),
        platform: Mutex::new(Platform::new()?),
        reuse_signatures: AtomicBool::new(false),
        clock_offset: AtomicI64::new(0),
        last_signature: Mutex::new(None),
        #[cfg(feature = "sandbox")]
        engine: engine.clone().map(|engine| engine as Arc<dyn Engine>),
    });
    #[cfg(feature = "sandbox")]
    let beside = match engine {
        Some(engine) => {
            engine.attach(MockHandle::new(&shared, address, tls_address));
            (engine as Arc<dyn Engine>).run()
        }
        None => Box::pin(std::future::pending()),
    };
    #[cfg(not(feature = "sandbox"))]
    let beside = std::future::pending::<()>();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let serving = shared.clone();
    std::thread::Builder::new()
        .name("wechatpay-mock".into())
        .spawn(move || {
            runtime.block_on(async move {
                let (Ok(listener), Ok(tls_listener)) = (
                    TcpListener::from_std(listener),
                    TcpListener::from_std(tls_listener),
                ) else {
                    return;
                };
                tokio::select! {
                    _ = stopped => {}
                    _ = accept_loop(listener, serving.clone()) => {}
                    _ = accept_tls_loop(tls_listener, acceptor, serving) => {}
                    _ = beside => {}
                }
            });
        })
        .map_err(|e| io_error("cannot start a thread", e))?;
    Ok(MockServer {
        address,
        tls_address,
        shared,
        _shutdown: shutdown,
    })
}

/// How many received requests the mock keeps, newest first.
const RECORDED_REQUESTS: usize = 10_000;
/// How many bytes of received requests (bodies and headers) the mock keeps.
const RECORDED_BYTES: usize = 16 << 20;

/// Serves plain-HTTP connections on `listener` (see [`network::accept_loop`]).
pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let network = shared.network.clone();
    network::accept_loop(listener, network, |stream, accepting| {
        let reset = stream.reset_flag();
        tokio::spawn(serve(stream, shared.clone(), None, reset, accepting));
    })
    .await;
}

/// Serves TLS connections (client certificates required) on `listener`.
pub(super) async fn accept_tls_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
) {
    let network = shared.network.clone();
    network::accept_loop(listener, network, |stream, accepting| {
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        let reset = stream.reset_flag();
        tokio::spawn(async move {
            // A failed handshake (no client certificate, an unknown CA) just closes.
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let certificate = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|certificate| Bytes::copy_from_slice(certificate.as_ref()));
            serve(stream, shared, certificate, reset, accepting).await;
        });
    })
    .await;
}

async fn serve<S>(
    stream: S,
    shared: Arc<Shared>,
    client_certificate: Option<Bytes>,
    reset: Arc<AtomicBool>,
    accepting: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let shared = shared.clone();
        let client_certificate = client_certificate.clone();
        let reset = reset.clone();
        async move { handle(&shared, request, client_certificate, &reset).await }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    // An outage closes open connections too.
    tokio::select! {
        _ = connection => {}
        () = network::outage(accepting) => {}
    }
}

/// The TLS side of the mock: its server certificate, and client certificates required.
pub(super) fn tls_acceptor() -> Result<TlsAcceptor> {
    let tls_error = |e: &dyn fmt::Display| {
        Error::new(
            ErrorKind::Transport,
            format!("mock server: cannot set up TLS: {e}"),
        )
    };
    let provider = provider()?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in certificates_from_pem(TLS_CA_CERTIFICATE_PEM)? {
        roots.add(ca).map_err(|e| tls_error(&e))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| tls_error(&e))?;
    let identity = TlsIdentity::from_pem(TLS_SERVER_CERTIFICATE_PEM, TLS_SERVER_KEY_PEM)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain, identity.key.clone_key())
        .map_err(|e| tls_error(&e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The error that makes hyper drop a connection without answering.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    shared: &Shared,
    request: http::Request<Incoming>,
    client_certificate: Option<Bytes>,
    reset: &AtomicBool,
) -> std::result::Result<http::Response<MockBody>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    #[cfg(feature = "sandbox")]
    if let Some(engine) = &shared.engine {
        let (target, path) = target_and_path(&parts);
        let inbound = Inbound {
            method: &parts.method,
            target: &target,
            path: &path,
            headers: &parts.headers,
            body: &body,
            client_certificate: client_certificate.is_some(),
        };
        if let Some(answer) = engine.clone().control(&inbound) {
            return Ok(answer.await.map(MockBody::whole));
        }
    }
    let answer = answer(shared, &parts, body, client_certificate);
    if let Some(delay) = answer.reply.delay {
        tokio::time::sleep(delay).await;
    }
    match answer.reply.fault {
        Some(Fault::DropConnection) => return Err(Dropped),
        Some(Fault::Reset) => {
            reset.store(true, Ordering::Release);
            return Err(Dropped);
        }
        Some(Fault::Stall) => std::future::pending::<()>().await,
        _ => {}
    }
    Ok(answer.signed(shared))
}

/// The raw target (path and query) and the path of a request.
fn target_and_path(parts: &http::request::Parts) -> (String, String) {
    let target = parts
        .uri
        .path_and_query()
        .map(|target| target.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let path = target.split('?').next().unwrap_or_default().to_owned();
    (target, path)
}

/// A request checked and recorded, and the reply the mock chose for it.
pub(super) struct Answer {
    pub(super) reply: Reply,
    path: String,
    v3: bool,
    sign_type: SignType,
    /// The request's `Wechatpay-Serial`, which picks the key of a migrating mock.
    serial: Option<String>,
    /// What the sandbox's log keeps of the exchange, when a sandbox is plugged in, and when
    /// the request arrived.
    #[cfg(feature = "sandbox")]
    exchange: Option<(Exchange, Instant)>,
}

/// Checks a request like WeChat Pay, records it, and picks the reply (any transport: the
/// HTTP/1.1 and TLS ports, and the HTTP/2 front).
pub(super) fn answer(
    shared: &Shared,
    parts: &http::request::Parts,
    body: Bytes,
    client_certificate: Option<Bytes>,
) -> Answer {
    let started = Instant::now();
    let (target, path) = target_and_path(parts);
    let media = multipart_media(&parts.headers, &body);
    let v3 = Api::of_wire_path(&path) == Api::V3;
    let (ruled, fallback) = {
        let mut state = shared.state();
        (
            state.take_rule(&parts.method, &path),
            state.fallback.clone(),
        )
    };
    // Before any check, WeChat Pay refuses a path that is no APIv2 operation, and a
    // mutual-TLS one without a certificate; a rule of the test's own answers it instead.
    let refusal = match (&ruled, v3) {
        (None, false) => v2_refusal(&parts.method, &path, client_certificate.is_some()),
        _ => None,
    };
    let (verdict, sign_type) = match (&refusal, v3) {
        (Some((why, _)), _) => (Err(why.clone()), SignType::Md5),
        (None, true) => (
            check_v3(
                shared,
                &parts.method,
                &target,
                &parts.headers,
                &body,
                media.as_ref(),
            ),
            SignType::Md5,
        ),
        (None, false) => check_v2(&parts.method, &target, &body),
    };
    let has_certificate = client_certificate.is_some();
    {
        let mut state = shared.state();
        if state.recording {
            state.requests.push(RecordedRequest {
                method: parts.method.clone(),
                target: target.clone(),
                version: parts.version,
                headers: redacted(&parts.headers),
                body: body.clone(),
                verdict: verdict.clone(),
                media,
                client_certificate,
            });
        }
    }
    let reply = match (refusal, &verdict) {
        (Some((_, reply)), _) => reply,
        (None, Err(reason)) if v3 => Reply::error(401, "SIGN_ERROR", reason),
        (None, Err(reason)) => Reply::status(200)
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(v2::reply(false, reason)),
        (None, Ok(())) => {
            match ruled.or_else(|| certificates::builtin(shared, &parts.method, &path)) {
                Some(reply) => reply,
                None => {
                    #[cfg(feature = "sandbox")]
                    let answered = shared.engine.as_ref().and_then(|engine| {
                        engine.answer(&Inbound {
                            method: &parts.method,
                            target: &target,
                            path: &path,
                            headers: &parts.headers,
                            body: &body,
                            client_certificate: has_certificate,
                        })
                    });
                    #[cfg(not(feature = "sandbox"))]
                    let answered = {
                        let _ = has_certificate;
                        None
                    };
                    answered.unwrap_or(fallback)
                }
            }
        }
    };
    let serial = certificates::request_serial(&parts.headers).map(str::to_owned);
    #[cfg(feature = "sandbox")]
    let exchange = shared
        .engine
        .as_ref()
        .map(|_| Exchange {
            method: parts.method.clone(),
            target,
            request_headers: parts.headers.clone(),
            request_body: body,
            verdict,
            status: reply.status,
            response_headers: HeaderMap::new(),
            response_body: Bytes::new(),
            elapsed: Duration::ZERO,
        })
        .map(|exchange| (exchange, started));
    #[cfg(not(feature = "sandbox"))]
    let _ = (started, verdict, target, body);
    Answer {
        reply,
        path,
        v3,
        sign_type,
        serial,
        #[cfg(feature = "sandbox")]
        exchange,
    }
}

impl Answer {
    /// The reply, signed now (after any delay: a rotation meanwhile changes the signer), and
    /// the exchange handed to the sandbox's log.
    pub(super) fn signed(self, shared: &Shared) -> http::Response<MockBody> {
        let key = shared.platform().request_answer_key(self.serial.as_deref());
        let response = sign_reply(
            shared,
            &key,
            self.reply,
            &self.path,
            self.v3,
            self.sign_type,
        );
        #[cfg(feature = "sandbox")]
        if let (Some(engine), Some((mut exchange, started))) = (&shared.engine, self.exchange) {
            exchange.elapsed = started.elapsed();
            exchange.status = response.status();
            exchange.response_headers = response.headers().clone();
            exchange.response_body = response.body().bytes().unwrap_or_default();
            engine.record(exchange);
        }
        response
    }
}

/// The headers with `Authorization` marked sensitive, so that `Debug` does not print it.
fn redacted(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    if let Some(value) = headers.get_mut(http::header::AUTHORIZATION) {
        value.set_sensitive(true);
    }
    headers
}
