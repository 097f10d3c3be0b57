//! [`MockServer`], the handle on a running mock: its addresses, the answers it gives, what
//! it received, and a client builder set to talk to it.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::Method;
use tokio::sync::oneshot;

use super::keys::{
    APIV3_KEY, MCHID, MERCHANT_KEY_PEM, MERCHANT_SERIAL, MERCHANT_TLS_CERTIFICATE_PEM,
    PLATFORM_KEY_ID, SECRET, TLS_CA_CERTIFICATE_PEM, merchant_private_key, platform_public_key,
};
use super::recorded::RecordedRequest;
use super::rules::{Reply, Rule};
use super::shared::Shared;
use crate::client::ClientBuilder;
use crate::crypto::PublicKey;

/// The mock WeChat Pay server. It stops when dropped.
pub struct MockServer {
    pub(super) address: SocketAddr,
    pub(super) tls_address: SocketAddr,
    pub(super) shared: Arc<Shared>,
    pub(super) _shutdown: oneshot::Sender<()>,
}

impl MockServer {
    /// The base URI, `http://127.0.0.1:{port}/`.
    pub fn uri(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// The address the mock listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The base URI of the TLS port, `https://127.0.0.1:{port}/`: the same mock, served over
    /// TLS with the certificate of [`TLS_SERVER_CERTIFICATE_PEM`](super::TLS_SERVER_CERTIFICATE_PEM), requiring a client
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
pub(super) fn client_builder_without_platform_keys(base_uri: &str) -> ClientBuilder {
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
