//! A mock WeChat Pay server for tests and examples (feature `mock`).
//!
//! A real HTTP server on `127.0.0.1`, on a thread of its own, that checks every request the
//! way WeChat Pay does. Tests register answers per method and path, inject faults, and read
//! back what was received.
//!
//! * APIv3 (a path with a `v3` segment): the `Authorization` format, merchant id, merchant
//!   serial, a timestamp within 300 s, and the RSA signature over the exact method, target
//!   and body (the `meta` JSON for media uploads); a failure is answered `401 SIGN_ERROR`.
//!   Answers are signed with the mock platform key ([`PLATFORM_KEY_ID`]).
//! * APIv2 (every other path): the fields of the XML body (the query for `GET`), whose
//!   `mch_id` / `mchid` / `combine_mch_id` must be [`MCHID`] when present and whose `sign`
//!   must match under [`SECRET`] and the request's `sign_type`; a failure is answered
//!   `<xml><return_code>FAIL</return_code><return_msg>签名错误…</return_msg></xml>`. Answers
//!   made with [`Reply::xml`] are signed like WeChat Pay's, with the request's `sign_type`.
//! * The same service is also served over TLS on a second port ([`MockServer::tls_uri`]),
//!   with a certificate for `127.0.0.1` and `localhost` from a mock CA, and it requires a
//!   client certificate from that CA: the mutual TLS of APIv2 `security: true` calls.
//!   [`MockServer::client_builder`] trusts the mock CA and carries the mock merchant
//!   certificate ([`MERCHANT_TLS_CERTIFICATE_PEM`]).
//!
//! It ships test-only keys, so neither the examples nor your own tests need files:
//!
//! ```
//! use serde_json::json;
//! use wechatpay::mock::{MockServer, Reply};
//!
//! # fn main() -> wechatpay::Result<()> {
//! let mock = MockServer::start()?;
//! mock.on("POST", "/v3/pay/transactions/native", Reply::json(200, json!({"code_url": "weixin://wxpay/bizpayurl?pr=x"})));
//! let client = mock.client_builder().build()?;
//! let res = client["v3/pay/transactions/native"].post(json!({"json": {"appid": "wxd678efh567hg6787"}}))?;
//! assert_eq!(res.status(), 200);
//! assert_eq!(mock.requests()[0].json(), Some(json!({"appid": "wxd678efh567hg6787"})));
//! # Ok(())
//! # }
//! ```
//!
//! The keys here are public: never use them outside tests.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::client::ClientBuilder;
use crate::crypto::{PrivateKey, PublicKey};
use crate::error::{Error, ErrorKind, Result};
use crate::sign;
use crate::v2;
use crate::v2::sign::SignType;
use crate::v2::xml::XmlMap;

/// The merchant id the mock expects (the conformance corpus uses it too).
pub const MCHID: &str = "1900000109";
/// The serial of the mock merchant certificate ([`MERCHANT_CERTIFICATE_PEM`]).
pub const MERCHANT_SERIAL: &str = "4A7F3C2D1E0B9A8877665544332211AABBCCDDEE";
/// The id of the mock's WeChat Pay public key, sent in `Wechatpay-Serial`.
pub const PLATFORM_KEY_ID: &str = "PUB_KEY_ID_0119000001092026112700000000000000";
/// The serial of the mock platform certificate ([`PLATFORM_CERTIFICATE_PEM`]), for tests of
/// the certificate mode.
pub const PLATFORM_CERTIFICATE_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// The mock APIv3 key.
pub const APIV3_KEY: &str = "mock-apiv3-key-0123456789abcdefg";
/// The mock APIv2 key.
pub const SECRET: &str = "mock-apiv2-secret-0123456789abcd";

/// The mock merchant private key (PKCS#8). Test-only.
pub const MERCHANT_KEY_PEM: &str = include_str!("mock/merchant_key.pem");
/// The mock merchant public key.
pub const MERCHANT_PUBLIC_KEY_PEM: &str = include_str!("mock/merchant_pub.pem");
/// The mock merchant certificate, serial [`MERCHANT_SERIAL`].
pub const MERCHANT_CERTIFICATE_PEM: &str = include_str!("mock/merchant_cert.pem");
/// The mock platform private key: signs the mock's answers. Test-only.
pub const PLATFORM_KEY_PEM: &str = include_str!("mock/platform_key.pem");
/// The mock WeChat Pay public key (`pub_key.pem` of [`PLATFORM_KEY_ID`]).
pub const PLATFORM_PUBLIC_KEY_PEM: &str = include_str!("mock/platform_pub.pem");
/// A mock platform certificate for the platform key, serial
/// [`PLATFORM_CERTIFICATE_SERIAL`].
pub const PLATFORM_CERTIFICATE_PEM: &str = include_str!("mock/platform_cert.pem");
/// The mock merchant's TLS client certificate (its `apiclient_cert.pem` for APIv2 mutual
/// TLS): the key [`MERCHANT_KEY_PEM`], serial [`MERCHANT_SERIAL`], issued by
/// [`TLS_CA_CERTIFICATE_PEM`].
pub const MERCHANT_TLS_CERTIFICATE_PEM: &str = include_str!("mock/merchant_tls_cert.pem");
/// The mock TLS certificate authority: issues the mock's server certificate and the mock
/// merchant's client certificate. Trust it with
/// [`ClientBuilder::tls_root_certificate`](crate::ClientBuilder::tls_root_certificate).
pub const TLS_CA_CERTIFICATE_PEM: &str = include_str!("mock/tls_ca_cert.pem");
/// The certificate of the mock's TLS port, for `127.0.0.1` and `localhost`.
pub const TLS_SERVER_CERTIFICATE_PEM: &str = include_str!("mock/tls_server_cert.pem");
/// The private key of the mock's TLS port. Test-only.
pub const TLS_SERVER_KEY_PEM: &str = include_str!("mock/tls_server_key.pem");

/// A fault to inject into an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// No `Wechatpay-*` headers (APIv3), no `sign` field ([`Reply::xml`]).
    Unsigned,
    /// A signature that does not match the body (APIv3), a `sign` that does not match the
    /// fields ([`Reply::xml`]).
    BadSignature,
    /// Signed ten minutes ago.
    StaleTimestamp,
    /// Signed with a key id the client does not know.
    UnknownSerial,
    /// A `WECHATPAY/SIGNTEST/` probe signature, which a client must reject.
    Probe,
    /// Closes the connection without answering.
    DropConnection,
}

/// What the mock answers.
#[derive(Debug, Clone)]
pub struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    xml: Option<Value>,
    fault: Option<Fault>,
    delay: Option<Duration>,
}

impl Reply {
    /// An answer with `status` and an empty body (e.g. `204`); a number that is not an HTTP
    /// status (below 100 or above 999) becomes `500`.
    pub fn status(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            xml: None,
            fault: None,
            delay: None,
        }
    }

    /// An APIv2 answer: `fields` (a JSON object; values written as
    /// [`v2::fields_from_json`] does) as `<xml>…</xml>`, plus a `sign` computed when
    /// answering, with [`SECRET`] and the request's `sign_type` (`HMAC-SHA256` when the
    /// request used it, else `MD5`), like WeChat Pay. [`Fault::Unsigned`] leaves the `sign`
    /// out; [`Fault::BadSignature`] makes it wrong.
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay::mock::Reply;
    ///
    /// let reply = Reply::xml(200, json!({"return_code": "SUCCESS", "return_msg": "OK"}));
    /// # let _ = reply;
    /// ```
    pub fn xml(status: u16, fields: Value) -> Self {
        let mut reply = Self::status(status).header("Content-Type", "text/xml; charset=utf-8");
        reply.xml = Some(fields);
        reply
    }

    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Self::status(status)
            .header("Content-Type", "application/json")
            .body(body.to_string())
    }

    /// A WeChat Pay error answer: `{"code": code, "message": message}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(status, json!({"code": code, "message": message}))
    }

    /// Sets the body, sent verbatim (replacing the fields of [`Reply::xml`]).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self.xml = None;
        self
    }

    /// Adds a header. An invalid name or value is ignored.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.insert(name, value);
        }
        self
    }

    /// Injects a fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// Sends no `Wechatpay-*` signature headers (like the bill download).
    pub fn unsigned(self) -> Self {
        self.fault(Fault::Unsigned)
    }

    /// Waits before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// A request the mock received, with its verdict.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The request target as received: percent-encoded path and `?query`.
    pub target: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as received.
    pub body: Bytes,
    /// `Ok` when the request passed WeChat Pay's checks, else why not.
    pub verdict: std::result::Result<(), String>,
    /// For a multipart media upload: the parts.
    pub media: Option<RecordedMedia>,
    /// For a request to the TLS port ([`MockServer::tls_uri`]): the DER of the client
    /// certificate it presented.
    pub client_certificate: Option<Bytes>,
}

/// The parts of a media upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMedia {
    /// The `meta` part, as sent.
    pub meta: String,
    /// The `file` part's file name.
    pub filename: String,
    /// The `file` part's content type.
    pub content_type: String,
    /// The file's bytes.
    pub content: Bytes,
}

impl RecordedRequest {
    /// The percent-encoded path.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query, percent-decoded into pairs (a `+` stays a `+`).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        query_pairs(&self.target)
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The fields of an APIv2 request, in the order sent: the query for `GET`, else the XML
    /// body; `None` when the body is not XML.
    pub fn v2_fields(&self) -> Option<XmlMap> {
        if self.method == Method::GET {
            return Some(self.query_pairs().into_iter().collect());
        }
        v2::xml::parse(&self.body).ok()
    }
}

/// The query of `target`, percent-decoded into pairs.
fn query_pairs(target: &str) -> Vec<(String, String)> {
    let Some((_, query)) = target.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Plain percent-decoding (a `+` stays a `+`); invalid escapes are kept as they are.
pub fn percent_decode(text: &str) -> String {
    String::from_utf8_lossy(&crate::uri::percent_decode_bytes(text, false)).into_owned()
}

struct Rule {
    method: Method,
    path: String,
    reply: Reply,
    once: bool,
}

struct State {
    rules: Vec<Rule>,
    fallback: Reply,
    requests: Vec<RecordedRequest>,
    recording: bool,
}

struct Shared {
    state: Mutex<State>,
    merchant_key: PublicKey,
    platform_key: PrivateKey,
    reuse_signatures: AtomicBool,
    last_signature: Mutex<Option<CachedSignature>>,
}

/// The signature headers of the last answer, reusable within the same second.
struct CachedSignature {
    second: u64,
    body: Bytes,
    headers: Vec<(&'static str, String)>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written: recover it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The mock WeChat Pay server. It stops when dropped.
pub struct MockServer {
    address: SocketAddr,
    tls_address: SocketAddr,
    shared: Arc<Shared>,
    _shutdown: oneshot::Sender<()>,
}

impl MockServer {
    /// Starts a mock on `127.0.0.1` with two free ports (plain HTTP, and TLS with client
    /// certificates), on a thread of its own.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transport`] when no port can be bound or no thread started.
    pub fn start() -> Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                rules: Vec::new(),
                fallback: Reply::error(404, "RESOURCE_NOT_EXISTS", "no reply registered"),
                requests: Vec::new(),
                recording: true,
            }),
            merchant_key: PublicKey::from_pem(MERCHANT_PUBLIC_KEY_PEM)?,
            platform_key: PrivateKey::from_pem(PLATFORM_KEY_PEM)?,
            reuse_signatures: AtomicBool::new(false),
            last_signature: Mutex::new(None),
        });
        let io_error = |what: &str, e: std::io::Error| {
            Error::new(ErrorKind::Transport, format!("mock server: {what}: {e}")).with_source(e)
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| io_error("cannot start a runtime", e))?;
        // Bound with std so that `start` also works inside an async runtime; tokio takes the
        // sockets over on the mock's own thread.
        let bind = || {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")
                .map_err(|e| io_error("cannot bind 127.0.0.1", e))?;
            listener
                .set_nonblocking(true)
                .map_err(|e| io_error("cannot make the socket non-blocking", e))?;
            let address = listener
                .local_addr()
                .map_err(|e| io_error("no local address", e))?;
            Ok::<_, Error>((listener, address))
        };
        let (listener, address) = bind()?;
        let (tls_listener, tls_address) = bind()?;
        let acceptor = tls_acceptor()?;
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
                    }
                });
            })
            .map_err(|e| io_error("cannot start a thread", e))?;
        Ok(Self {
            address,
            tls_address,
            shared,
            _shutdown: shutdown,
        })
    }

    /// The base URI, `http://127.0.0.1:{port}/`.
    pub fn uri(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// `http://127.0.0.1:{port}`, without a trailing slash.
    pub fn origin(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address the mock listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The base URI of the TLS port, `https://127.0.0.1:{port}/`: the same mock, served over
    /// TLS with the certificate of [`TLS_SERVER_CERTIFICATE_PEM`], requiring a client
    /// certificate issued by [`TLS_CA_CERTIFICATE_PEM`] (a connection without one fails its
    /// handshake).
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay::mock::{MockServer, Reply};
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let mock = MockServer::start()?;
    /// mock.on("POST", "/secapi/pay/refund", Reply::xml(200, json!({"return_code": "SUCCESS", "result_code": "SUCCESS"})));
    /// let client = mock.client_builder().base_uri(&mock.tls_uri()).build()?;
    /// client["v2/secapi/pay/refund"].post(json!({
    ///     "security": true,
    ///     "xml": {"mch_id": "1900000109", "out_trade_no": "1217752501201407033233368018", "out_refund_no": "R1"},
    /// }))?;
    /// assert!(mock.requests()[0].client_certificate.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn tls_uri(&self) -> String {
        format!("https://{}/", self.tls_address)
    }

    /// The address of the TLS port.
    pub fn tls_address(&self) -> SocketAddr {
        self.tls_address
    }

    /// A builder with everything set to talk to this mock: [`MCHID`], [`MERCHANT_SERIAL`],
    /// the mock merchant key, the mock platform key under [`PLATFORM_KEY_ID`], the mock
    /// APIv3 and APIv2 keys, the mock merchant's TLS certificate
    /// ([`MERCHANT_TLS_CERTIFICATE_PEM`]), trust in the mock CA, and this mock's plain base
    /// URI (use [`MockServer::tls_uri`] for the TLS port).
    pub fn client_builder(&self) -> ClientBuilder {
        client_builder(&self.uri())
    }

    /// Signs an answer once per second and body and reuses that signature (with its nonce)
    /// for identical answers, instead of spending an RSA signature on each. For benchmarks,
    /// which then measure the client rather than the mock; WeChat Pay itself never reuses a
    /// nonce.
    pub fn reuse_answer_signatures(&self, reuse: bool) {
        self.shared.reuse_signatures.store(reuse, Ordering::Relaxed);
    }

    /// Whether received requests are kept for [`MockServer::requests`] (on by default). A
    /// long benchmark turns it off so that the mock's memory stays flat; the checks and
    /// their answers are the same either way.
    pub fn record_requests(&self, record: bool) {
        self.shared.state().recording = record;
    }

    /// Answers every `method` request to `path` (the percent-encoded path, without the
    /// query) with `reply`, until replaced. A later rule for the same request wins.
    pub fn on(&self, method: &str, path: &str, reply: Reply) {
        self.add_rule(method, path, reply, false);
    }

    /// Answers the next `method` request to `path` with `reply`, once.
    pub fn once(&self, method: &str, path: &str, reply: Reply) {
        self.add_rule(method, path, reply, true);
    }

    /// What to answer when no rule matches (by default `404 RESOURCE_NOT_EXISTS`).
    pub fn fallback(&self, reply: Reply) {
        self.shared.state().fallback = reply;
    }

    fn add_rule(&self, method: &str, path: &str, reply: Reply, once: bool) {
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap_or_default();
        self.shared.state().rules.push(Rule {
            method,
            path: path.to_owned(),
            reply,
            once,
        });
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// The requests received so far, forgetting them.
    pub fn take_requests(&self) -> Vec<RecordedRequest> {
        std::mem::take(&mut self.shared.state().requests)
    }

    /// Forgets rules and received requests.
    pub fn reset(&self) {
        let mut state = self.shared.state();
        state.rules.clear();
        state.requests.clear();
    }
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// A builder with everything set to talk to a mock at `base_uri` (see
/// [`MockServer::client_builder`]), e.g. one running in another process.
pub fn client_builder(base_uri: &str) -> ClientBuilder {
    ClientBuilder::default()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(merchant_private_key())
        .platform_key(PLATFORM_KEY_ID, platform_public_key())
        .apiv3_key(APIV3_KEY)
        .secret(SECRET)
        .merchant_identity(MERCHANT_TLS_CERTIFICATE_PEM, MERCHANT_KEY_PEM)
        .tls_root_certificate(TLS_CA_CERTIFICATE_PEM)
        .base_uri(base_uri)
}

/// The mock merchant private key, parsed.
pub fn merchant_private_key() -> PrivateKey {
    PrivateKey::from_pem(MERCHANT_KEY_PEM).expect("the bundled mock merchant key parses")
}

/// The mock WeChat Pay public key, parsed.
pub fn platform_public_key() -> PublicKey {
    PublicKey::from_pem(PLATFORM_PUBLIC_KEY_PEM).expect("the bundled mock platform key parses")
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or the like: wait instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream, shared.clone(), None));
    }
}

async fn accept_tls_loop(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or the like: wait instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
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
            serve(stream, shared, certificate).await;
        });
    }
}

async fn serve<S>(stream: S, shared: Arc<Shared>, client_certificate: Option<Bytes>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let shared = shared.clone();
        let client_certificate = client_certificate.clone();
        async move { handle(&shared, request, client_certificate).await }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The TLS side of the mock: its server certificate, and client certificates required.
fn tls_acceptor() -> Result<TlsAcceptor> {
    let tls_error = |e: &dyn fmt::Display| {
        Error::new(
            ErrorKind::Transport,
            format!("mock server: cannot set up TLS: {e}"),
        )
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(TLS_CA_CERTIFICATE_PEM.as_bytes()) {
        roots
            .add(ca.map_err(|e| tls_error(&e))?)
            .map_err(|e| tls_error(&e))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| tls_error(&e))?;
    let chain = CertificateDer::pem_slice_iter(TLS_SERVER_CERTIFICATE_PEM.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_error(&e))?;
    let key =
        PrivateKeyDer::from_pem_slice(TLS_SERVER_KEY_PEM.as_bytes()).map_err(|e| tls_error(&e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
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
) -> std::result::Result<http::Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let target = parts
        .uri
        .path_and_query()
        .map(|target| target.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let media = multipart_media(&parts.headers, &body);
    let v3 = is_v3(&path);
    let (verdict, sign_type) = if v3 {
        let verdict = check_v3(
            shared,
            &parts.method,
            &target,
            &parts.headers,
            &body,
            media.as_ref(),
        );
        (verdict, SignType::Md5)
    } else {
        check_v2(&parts.method, &target, &body)
    };
    let reply = {
        let mut state = shared.state();
        if state.recording {
            state.requests.push(RecordedRequest {
                method: parts.method.clone(),
                target: target.clone(),
                headers: redacted(&parts.headers),
                body: body.clone(),
                verdict: verdict.clone(),
                media,
                client_certificate,
            });
        }
        match verdict {
            Err(reason) if v3 => Reply::error(401, "SIGN_ERROR", &reason),
            Err(reason) => Reply::status(200)
                .header("Content-Type", "text/xml; charset=utf-8")
                .body(v2::reply(false, &reason)),
            Ok(()) => take_reply(&mut state, &parts.method, &path),
        }
    };
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    if reply.fault == Some(Fault::DropConnection) {
        return Err(Dropped);
    }
    Ok(sign_reply(shared, reply, v3, sign_type))
}

/// The headers with `Authorization` marked sensitive, so that `Debug` does not print it.
fn redacted(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    if let Some(value) = headers.get_mut(http::header::AUTHORIZATION) {
        value.set_sensitive(true);
    }
    headers
}

fn take_reply(state: &mut State, method: &Method, path: &str) -> Reply {
    let found = state
        .rules
        .iter()
        .rposition(|rule| rule.method == method && rule.path == path);
    match found {
        Some(index) if state.rules[index].once => state.rules.remove(index).reply,
        Some(index) => state.rules[index].reply.clone(),
        None => state.fallback.clone(),
    }
}

/// A path with a `v3` segment is APIv3 (`/v3/…`, `/hk/v3/…`, `/global/v3/…`).
fn is_v3(path: &str) -> bool {
    path.split('/').any(|segment| segment == "v3")
}

fn check_v3(
    shared: &Shared,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: &Bytes,
    media: Option<&RecordedMedia>,
) -> std::result::Result<(), String> {
    let authorization = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or("Http头缺少Authorization (no Authorization header)")?;
    let fields = authorization
        .strip_prefix(sign::AUTHORIZATION_SCHEME)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or("Authorization must start with `WECHATPAY2-SHA256-RSA2048 `")?;
    let field = |name: &str| -> std::result::Result<String, String> {
        fields
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| key.trim() == name)
            .and_then(|(_, value)| value.strip_prefix('"')?.strip_suffix('"'))
            .map(str::to_owned)
            .ok_or_else(|| format!("Authorization lacks {name}=\"…\""))
    };
    let (mchid, serial, timestamp, nonce, signature) = (
        field("mchid")?,
        field("serial_no")?,
        field("timestamp")?,
        field("nonce_str")?,
        field("signature")?,
    );
    if mchid != MCHID {
        return Err(format!(
            "mchid `{mchid}` is not the mock merchant `{MCHID}`"
        ));
    }
    if serial != MERCHANT_SERIAL {
        return Err(format!(
            "serial_no `{serial}` is not the mock merchant certificate"
        ));
    }
    let timestamp: u64 = timestamp
        .parse()
        .map_err(|_| format!("timestamp `{timestamp}` is not Unix seconds"))?;
    if timestamp.abs_diff(sign::timestamp()) > crate::verify::MAX_CLOCK_OFFSET {
        return Err("Http头Authorization中的timestamp与发起请求的时间不得超过5分钟".into());
    }
    let signed_body: &[u8] = match media {
        Some(media) => media.meta.as_bytes(),
        None => body,
    };
    let message = sign::request_message(method.as_str(), target, timestamp, &nonce, signed_body);
    let raw = STANDARD
        .decode(&signature)
        .map_err(|_| "signature is not base64".to_owned())?;
    shared.merchant_key.verify(&message, &raw).map_err(|_| {
        "签名错误: the signature does not match METHOD\\nTARGET\\nTIMESTAMP\\nNONCE\\nBODY\\n"
            .to_owned()
    })?;
    if let Some(media) = media {
        check_media(media)?;
    }
    Ok(())
}

/// Checks an APIv2 request like WeChat Pay: the merchant id and the `sign`. Also returns the
/// request's sign type, which signs the answer.
fn check_v2(
    method: &Method,
    target: &str,
    body: &[u8],
) -> (std::result::Result<(), String>, SignType) {
    let fields: XmlMap = if method == Method::GET {
        query_pairs(target).into_iter().collect()
    } else {
        match v2::xml::parse(body) {
            Ok(fields) => fields,
            Err(e) => {
                return (
                    Err(format!("XML格式错误: the body is not XML: {e}")),
                    SignType::Md5,
                );
            }
        }
    };
    let Some(sign_type) = SignType::from_field(fields.get_str("sign_type")) else {
        let name = fields.get_str("sign_type").unwrap_or_default();
        return (
            Err(format!(
                "签名类型错误: sign_type `{name}` is neither MD5 nor HMAC-SHA256"
            )),
            SignType::Md5,
        );
    };
    (check_v2_fields(&fields, sign_type), sign_type)
}

fn check_v2_fields(fields: &XmlMap, sign_type: SignType) -> std::result::Result<(), String> {
    let merchant = v2::MCHID_FIELDS
        .into_iter()
        .find_map(|key| Some((key, fields.get(key)?)));
    if let Some((key, value)) = merchant {
        if value.as_str() != Some(MCHID) {
            return Err(format!(
                "商户号错误: `{key}` {} is not the mock merchant `{MCHID}`",
                value.to_json()
            ));
        }
    }
    let given = fields
        .get_str("sign")
        .ok_or("签名错误: the request has no `sign`")?;
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(key, _)| *key != "sign")
        .map(|(key, value)| {
            value
                .as_str()
                .map(|text| (key, text))
                .ok_or_else(|| format!("签名错误: the field `{key}` is not text"))
        })
        .collect::<std::result::Result<_, _>>()?;
    match v2::sign::sign_matches(sign_type, pairs, SECRET, given) {
        Ok(true) => Ok(()),
        _ => Err(format!(
            "签名错误: the `sign` does not match the fields under {} with the mock APIv2 key",
            sign_type.name()
        )),
    }
}

/// The body of `reply`: its bytes, or for [`Reply::xml`] the fields with their `sign`.
fn reply_body(reply: &Reply, sign_type: SignType) -> Bytes {
    let Some(xml) = &reply.xml else {
        return reply.body.clone();
    };
    let mut fields = xml
        .as_object()
        .map(v2::fields_from_json)
        .unwrap_or_default();
    let key = match reply.fault {
        Some(Fault::Unsigned) => None,
        Some(Fault::BadSignature) => Some("not-the-mock-apiv2-secret-000000"),
        _ => Some(SECRET),
    };
    if let Some(key) = key {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?)))
            .collect();
        if let Ok(sign) = v2::sign::sign(sign_type, pairs, key) {
            fields.insert("sign", sign);
        }
    }
    Bytes::from(v2::xml::to_xml_from(&fields).unwrap_or_default())
}

fn check_media(media: &RecordedMedia) -> std::result::Result<(), String> {
    let meta: Value =
        serde_json::from_str(&media.meta).map_err(|_| "the meta part is not JSON".to_owned())?;
    let sha256 = meta.get("sha256").and_then(Value::as_str);
    if sha256 != Some(crate::crypto::sha256_hex(&media.content).as_str()) {
        return Err("meta.sha256 is not the SHA-256 of the file part".into());
    }
    Ok(())
}

/// Splits a `multipart/form-data` body into its `meta` and `file` parts.
fn multipart_media(headers: &HeaderMap, body: &[u8]) -> Option<RecordedMedia> {
    let content_type = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let boundary = content_type
        .strip_prefix("multipart/form-data")?
        .split(';')
        .filter_map(|param| param.trim().strip_prefix("boundary="))
        .next()?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let mut media = RecordedMedia {
        meta: String::new(),
        filename: String::new(),
        content_type: String::new(),
        content: Bytes::new(),
    };
    for part in split_bytes(body, delimiter.as_bytes()).skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let header_end = find(part, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..header_end]).ok()?;
        let content = &part[header_end + 4..];
        let disposition = head
            .lines()
            .find(|line| line.to_ascii_lowercase().starts_with("content-disposition"))?;
        if disposition.contains("name=\"meta\"") {
            media.meta = String::from_utf8_lossy(content).into_owned();
        } else if disposition.contains("name=\"file\"") {
            media.filename = disposition
                .split("filename=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_owned();
            media.content_type = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-type")
                        .then(|| value.trim().to_owned())
                })
                .unwrap_or_default();
            media.content = Bytes::copy_from_slice(content);
        }
    }
    Some(media)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn split_bytes<'a>(body: &'a [u8], delimiter: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = Some(body);
    std::iter::from_fn(move || {
        let current = rest?;
        match find(current, delimiter) {
            Some(at) => {
                rest = Some(&current[at + delimiter.len()..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

fn sign_reply(
    shared: &Shared,
    reply: Reply,
    v3: bool,
    sign_type: SignType,
) -> http::Response<Full<Bytes>> {
    let body = reply_body(&reply, sign_type);
    let mut response = http::Response::new(Full::new(body.clone()));
    *response.status_mut() = reply.status;
    if v3 {
        insert_signature_headers(shared, &body, reply.fault, response.headers_mut());
    }
    // The reply's own headers win, so a test can send any `Wechatpay-*` value it wants.
    for (name, value) in &reply.headers {
        response.headers_mut().insert(name, value.clone());
    }
    response
}

/// Adds the `Wechatpay-*` headers for `body`, faults applied (none for [`Fault::Unsigned`]).
fn insert_signature_headers(
    shared: &Shared,
    body: &[u8],
    fault: Option<Fault>,
    headers: &mut HeaderMap,
) {
    if fault == Some(Fault::Unsigned) {
        return;
    }
    let signed = if fault.is_none() && shared.reuse_signatures.load(Ordering::Relaxed) {
        reused_signature_headers(shared, body)
    } else {
        signature_headers(shared, body, fault)
    };
    for (name, value) in signed {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
}

/// The `Wechatpay-*` headers for `body`, faults applied.
fn reused_signature_headers(shared: &Shared, body: &[u8]) -> Vec<(&'static str, String)> {
    let second = sign::timestamp();
    let mut last = shared
        .last_signature
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(cached) = last.as_ref() {
        if cached.second == second && cached.body.as_ref() == body {
            return cached.headers.clone();
        }
    }
    let headers = signature_headers(shared, body, None);
    *last = Some(CachedSignature {
        second,
        body: Bytes::copy_from_slice(body),
        headers: headers.clone(),
    });
    headers
}

fn signature_headers(
    shared: &Shared,
    body: &[u8],
    fault: Option<Fault>,
) -> Vec<(&'static str, String)> {
    let nonce = sign::nonce(32).unwrap_or_else(|_| "mocknonce".to_owned());
    let mut timestamp = sign::timestamp();
    if fault == Some(Fault::StaleTimestamp) {
        timestamp -= 600;
    }
    let timestamp = timestamp.to_string();
    let message = match fault {
        Some(Fault::BadSignature) => sign::response_message(&timestamp, &nonce, b"tampered"),
        _ => sign::response_message(&timestamp, &nonce, body),
    };
    let mut signature = sign::sign_base64(&shared.platform_key, &message).unwrap_or_default();
    if fault == Some(Fault::Probe) {
        signature.insert_str(0, crate::verify::PROBE_SIGNATURE_PREFIX);
    }
    let serial = match fault {
        Some(Fault::UnknownSerial) => "PUB_KEY_ID_0000000000000000000000000000000000",
        _ => PLATFORM_KEY_ID,
    };
    vec![
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Serial", serial.to_owned()),
        ("Wechatpay-Signature", signature),
        ("Wechatpay-Timestamp", timestamp),
        (
            "Wechatpay-Signature-Type",
            "WECHATPAY2-SHA256-RSA2048".to_owned(),
        ),
        (
            "Request-ID",
            format!("mock-{}", sign::nonce(16).unwrap_or_default()),
        ),
    ]
}

impl MockServer {
    /// A notification (回调通知) as WeChat Pay would POST it to a `notify_url`: the headers
    /// and the raw body, signed now with the mock platform key ([`PLATFORM_KEY_ID`]), the
    /// `plaintext` resource encrypted with [`APIV3_KEY`] (AEAD_AES_256_GCM, a fresh 12-byte
    /// nonce, `original_type` as the associated data).
    ///
    /// Feed them to [`Client::verify_notification`](crate::Client::verify_notification), or
    /// send them to your own handler.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Crypto`] if encryption or signing fails.
    pub fn notification(
        &self,
        event_type: &str,
        resource_type: &str,
        original_type: &str,
        plaintext: &Value,
    ) -> Result<(HeaderMap, Bytes)> {
        self.notification_with(event_type, resource_type, original_type, plaintext, None)
    }

    /// [`MockServer::notification`] with a fault injected: [`Fault::BadSignature`],
    /// [`Fault::StaleTimestamp`], [`Fault::UnknownSerial`], [`Fault::Probe`] (a
    /// `WECHATPAY/SIGNTEST/` signature) or [`Fault::Unsigned`] (no `Wechatpay-*` headers).
    /// [`Fault::DropConnection`] has no meaning here and is ignored.
    ///
    /// # Errors
    ///
    /// As [`MockServer::notification`].
    pub fn notification_with(
        &self,
        event_type: &str,
        resource_type: &str,
        original_type: &str,
        plaintext: &Value,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        let nonce = sign::nonce(12)?;
        let ciphertext = crate::crypto::aes_gcm_encrypt(
            APIV3_KEY.as_bytes(),
            nonce.as_bytes(),
            original_type.as_bytes(),
            plaintext.to_string().as_bytes(),
        )?;
        let now = sign::timestamp();
        let summary = match event_type {
            "TRANSACTION.SUCCESS" => "支付成功",
            "REFUND.SUCCESS" => "退款成功",
            _ => "mock notification",
        };
        let envelope = json!({
            "id": format!("EV-{}", sign::nonce(20)?),
            "create_time": rfc3339_beijing(now),
            "resource_type": resource_type,
            "event_type": event_type,
            "summary": summary,
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "associated_data": original_type,
                "nonce": nonce,
            },
        });
        let body = Bytes::from(envelope.to_string());
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let fault = fault.filter(|fault| *fault != Fault::DropConnection);
        insert_signature_headers(&self.shared, &body, fault, &mut headers);
        Ok((headers, body))
    }
}

/// `now` (Unix seconds) as RFC 3339 in Beijing time, e.g. `2015-05-20T13:29:35+08:00`.
fn rfc3339_beijing(now: u64) -> String {
    let local = now + 8 * 3600;
    let (days, seconds) = (local / 86_400, local % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+08:00",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days end each 400-year era's years.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_plus() {
        assert_eq!(percent_decode("a%20b+c%E4%B8%AD%zz"), "a b+c中%zz");
    }

    #[test]
    fn dates_are_beijing_time() {
        assert_eq!(rfc3339_beijing(0), "1970-01-01T08:00:00+08:00");
        assert_eq!(rfc3339_beijing(1_432_099_775), "2015-05-20T13:29:35+08:00");
        assert_eq!(rfc3339_beijing(951_782_400), "2000-02-29T08:00:00+08:00");
        assert_eq!(rfc3339_beijing(1_709_308_799), "2024-03-01T23:59:59+08:00");
    }

    #[test]
    fn v3_paths_have_a_v3_segment() {
        assert!(is_v3("/v3/certificates"));
        assert!(is_v3("/hk/v3/statements"));
        assert!(!is_v3("/pay/micropay"));
        assert!(!is_v3("/v30/x"));
    }
}
