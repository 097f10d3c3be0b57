//! A mock WeChat Pay server for tests and examples (feature `mock`).
//!
//! A real HTTP server on `127.0.0.1`, on a thread of its own, that checks every request the
//! way WeChat Pay does. Tests register answers per method and path, inject faults, and read
//! back what was received.
//!
//! * APIv3 (a path with a `v3` segment): the `Authorization` format, merchant id, merchant
//!   serial, a timestamp within 300 s, and the RSA signature over the exact method, target
//!   and body (the `meta` JSON for media uploads); a failure is answered `401 SIGN_ERROR`.
//!   Answers are signed with the mock platform key ([`PLATFORM_KEY_ID`]), or with a platform
//!   certificate ([`MockServer::sign_answers_with`]).
//! * `GET /v3/certificates` (unless a rule answers it) lists the mock's platform certificates,
//!   encrypted under [`APIV3_KEY`] as WeChat Pay does; the mock can rotate to a second
//!   certificate, move to the public key ([`Signing::Migrating`]), and play a forger
//!   ([`Forgery`]).
//! * APIv2 (a documented APIv2 path): the fields of the XML body (the query for `GET`), whose
//!   `mch_id` / `mchid` / `combine_mch_id` must be [`MCHID`] when present and whose `sign`
//!   must match under [`SECRET`] and the request's `sign_type`; a failure is answered
//!   `<xml><return_code>FAIL</return_code><return_msg>签名错误…</return_msg></xml>`. Answers
//!   made with [`Reply::xml`] are signed like WeChat Pay's, with the request's `sign_type`.
//! * Before any check, as WeChat Pay does (unless a rule answers the path): `/` and any other
//!   path that is neither APIv3 nor a documented APIv2 operation are answered `404
//!   NOT_FOUND` (JSON), and an APIv2 operation that needs the merchant certificate (mutual
//!   TLS, `security: true`) called without one, on the plain port, is answered nginx's `400
//!   No required SSL certificate was sent`.
//! * The same service is also served over TLS on a second port ([`MockServer::tls_uri`]),
//!   with a certificate for `127.0.0.1` and `localhost` from a mock CA, and it requires a
//!   client certificate from that CA: the mutual TLS of APIv2 `security: true` calls.
//!   [`MockServer::client_builder`] trusts the mock CA and carries the mock merchant
//!   certificate ([`MERCHANT_TLS_CERTIFICATE_PEM`]).
//! * It plays the network too: an outage and the return on the same ports
//!   ([`MockServer::refuse_connections`], [`MockServer::accept_connections`]), connections
//!   closed after an idle time ([`MockServer::close_idle_connections_after`]), resets
//!   ([`Fault::Reset`]), silence ([`Fault::Stall`]), and bodies of any size made as they are
//!   sent ([`Reply::generated`]).
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

mod body;
mod certificates;
mod checks;
#[cfg(feature = "sandbox")]
pub(crate) mod engine;
mod fidelity;
mod h2;
mod keys;
mod network;
mod notify;
mod notify_v2;
mod recorded;
pub(crate) mod ring;
mod rules;
mod server;
mod signing;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use http::Method;
use tokio::sync::oneshot;

use crate::client::ClientBuilder;
use crate::crypto::PublicKey;
use crate::error::Result;
use crate::toolkit;

pub use certificates::{Forgery, Signing};
#[cfg(feature = "sandbox")]
pub(crate) use fidelity::not_found;
pub use h2::MockH2;
pub use keys::*;
pub use recorded::{RecordedMedia, RecordedRequest, percent_decode};
pub use rules::{Fault, Reply};

use certificates::Platform;
use rules::{Rule, State};
use signing::CachedSignature;

/// What the mock's servers share with its handle.
struct Shared {
    state: Mutex<State>,
    network: Arc<network::Network>,
    merchant_key: PublicKey,
    /// Merchants besides [`MCHID`]: their certificate serial and public key, by merchant id.
    merchants: Mutex<HashMap<String, (String, PublicKey)>>,
    platform: Mutex<Platform>,
    reuse_signatures: AtomicBool,
    last_signature: Mutex<Option<CachedSignature>>,
    /// Seconds the mock's clock runs ahead of (or, negative, behind) the system clock.
    clock_offset: AtomicI64,
    /// The stateful WeChat Pay plugged in (the sandbox), if any.
    #[cfg(feature = "sandbox")]
    engine: Option<Arc<dyn engine::Engine>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written: recover it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn platform(&self) -> MutexGuard<'_, Platform> {
        self.platform
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn merchants(&self) -> MutexGuard<'_, HashMap<String, (String, PublicKey)>> {
        self.merchants
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The mock's clock, in Unix seconds: the system clock plus the offset set with
    /// [`MockServer::set_clock_offset`].
    fn now(&self) -> u64 {
        toolkit::timestamp().saturating_add_signed(self.clock_offset.load(Ordering::Relaxed))
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
        server::start(port, tls_port, None)
    }

    /// Starts a mock with `engine` plugged in (the sandbox).
    #[cfg(feature = "sandbox")]
    pub(crate) fn start_with(
        port: u16,
        tls_port: u16,
        engine: Arc<dyn engine::Engine>,
    ) -> Result<Self> {
        server::start(port, tls_port, Some(engine))
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

    /// Runs the mock's clock `seconds` ahead of the system clock (behind when negative), as if
    /// the merchant's machine were that far off: the mock checks request timestamps, signs
    /// its answers and notifications, and writes its `Date` header with its own clock. More
    /// than 300 seconds either way and WeChat Pay would refuse every request
    /// (`SIGN_ERROR`) and the client every answer.
    pub fn set_clock_offset(&self, seconds: i64) {
        self.shared.clock_offset.store(seconds, Ordering::Relaxed);
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

    /// Also accepts APIv3 requests of merchant `mchid`, signed with the private key of
    /// `public_key` under the merchant certificate serial `serial`, as WeChat Pay serves many
    /// merchants (a platform of many shops; a benchmark of many clients). The mock merchant
    /// ([`MCHID`]) stays; adding a merchant again replaces its serial and key.
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay::mock::{self, MockServer, Reply};
    /// use wechatpay::{Client, PrivateKey, PublicKey};
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let mock = MockServer::start()?;
    /// mock.on("GET", "/v3/certificates", Reply::json(200, json!({"data": []})));
    /// // In a real test: another merchant's own key pair.
    /// mock.add_merchant("1900000200", "SHOP200", PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM)?);
    /// let shop = Client::builder()
    ///     .mchid("1900000200")
    ///     .serial("SHOP200")
    ///     .private_key(PrivateKey::from_pem(mock::MERCHANT_KEY_PEM)?)
    ///     .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
    ///     .base_uri(&mock.uri())
    ///     .build()?;
    /// assert_eq!(shop["v3/certificates"].get(())?.status(), 200);
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_merchant(&self, mchid: &str, serial: &str, public_key: PublicKey) {
        self.shared
            .merchants()
            .insert(mchid.to_owned(), (serial.to_owned(), public_key));
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

    /// The requests received so far: the newest 10,000 within 16 MiB of bodies and headers
    /// (the newest is always kept), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.iter().cloned().collect()
    }

    /// The requests received so far (as [`MockServer::requests`]), forgetting them.
    pub fn take_requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.take()
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
    client_builder_without_platform_keys(base_uri)
        .platform_key(PLATFORM_KEY_ID, platform_public_key())
}

/// [`client_builder`] without the platform key.
fn client_builder_without_platform_keys(base_uri: &str) -> ClientBuilder {
    ClientBuilder::default()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(merchant_private_key())
        .apiv3_key(APIV3_KEY)
        .apiv2_key(SECRET)
        .merchant_identity(MERCHANT_TLS_CERTIFICATE_PEM, MERCHANT_KEY_PEM)
        .tls_root_certificate(TLS_CA_CERTIFICATE_PEM)
        .base_uri(base_uri)
        // The mock is on this machine: a proxy from the environment must not see its traffic.
        .no_proxy()
}
