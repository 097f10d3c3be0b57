//! A local WeChat Pay with state, callbacks and a virtual clock (feature `sandbox`): rehearse
//! the whole payment flow, from Rust or from any language (`wechatpay sandbox`).
//!
//! The sandbox is the [mock server](crate::mock) with state: it checks every request's
//! signature as WeChat Pay does, then
//!
//! * keeps **payments** (`v3/pay/transactions/{jsapi,app,h5,native}`, their partner forms,
//!   queries by id and `out-trade-no`, close; `NOTPAY → SUCCESS | PAYERROR | CLOSED`, `REFUND`
//!   once refunded, closed at `time_expire`), **refunds** (`PROCESSING → SUCCESS | ABNORMAL |
//!   CLOSED`, amounts checked against what was paid), **combined payments**, **PayScore
//!   service orders** (with the once-per-order `send-prepaidmessage`), **transfer bills**
//!   (`WAIT_USER_CONFIRM → SUCCESS | FAIL | CANCELLED`), **bills** made from its own payments
//!   (gzip too, with their SHA-1), and APIv2 `pay/unifiedorder`, `pay/orderquery`,
//!   `pay/closeorder`, `secapi/pay/refund` and `pay/refundquery` on the same orders;
//! * answers every other documented operation with a signed body of its documented shape
//!   (or `400 PARAM_ERROR` naming the field that breaks a documented rule), and any other
//!   path with WeChat Pay's `404`;
//! * **calls the merchant back**: each state change WeChat Pay notifies is POSTed to the
//!   `notify_url` the merchant gave, signed and encrypted as WeChat Pay does, and retried on
//!   WeChat Pay's schedule (15 s, 15 s, 30 s, 3 min, … 6 h) until the merchant answers `200`
//!   or `204` within 5 s; every attempt is kept;
//! * runs a **business clock** that can be moved ahead or run faster, so expiries and the
//!   24-hour retry schedule pass in milliseconds; signatures and the request timestamp check
//!   stay on the real clock;
//! * is driven by a **control API** on the same port, under `/_sandbox/` (below), which the
//!   in-process [`Sandbox`] calls directly;
//! * shows it all in a **web console** at the same address (open [`Sandbox::uri`] in a
//!   browser): the orders with buttons to pay, fail, close, complete or confirm them, the
//!   request log with each verdict, headers and bodies, the callbacks with resend and a form
//!   to fire any notification, and the settings a client needs, updated live.
//!
//! ```
//! use serde_json::json;
//! use wechatpay::sandbox::Sandbox;
//!
//! # fn main() -> wechatpay::Result<()> {
//! let sandbox = Sandbox::start()?;
//! let client = sandbox.client_builder().build()?;
//! client["v3/pay/transactions/jsapi"].post(json!({"json": {
//!     "appid": "wxd678efh567hg6787", "mchid": "1900000109", "description": "Image形象店-深圳腾大-QQ公仔",
//!     "out_trade_no": "1217752501201407033233368018", "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
//!     "amount": {"total": 100, "currency": "CNY"}, "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
//! }}))?;
//! sandbox.pay("1217752501201407033233368018", "SUCCESS")?; // the payer pays
//! let order: serde_json::Value = client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
//!     .get(json!({"out_trade_no": "1217752501201407033233368018", "query": {"mchid": "1900000109"}}))?
//!     .json()?;
//! assert_eq!(order["trade_state"], "SUCCESS");
//! # Ok(())
//! # }
//! ```
//!
//! The keys are the mock's public test keys: never use them outside tests.
#![doc = include_str!("control_api.md")]

mod bills;
mod call;
mod changes;
mod clock;
mod combine;
mod console;
mod control;
mod core;
mod deliver;
mod deliveries;
mod dispatch;
mod engine;
mod entities;
mod feed;
mod fire;
mod log;
mod notices;
mod orders;
mod payscore;
mod refunds;
mod routes;
mod samples;
mod shapes;
mod summary;
mod table;
mod transfers;
mod v2;
mod views;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use serde_json::Value;

use self::core::{Core, Settings};
use crate::client::ClientBuilder;
use crate::crypto::PublicKey;
use crate::error::{Error, ErrorKind, Result};
use crate::mock::{MockServer, Reply, Signing};

pub use deliver::{Delivered, deliver};
pub use fire::{Firing, events};

/// A running sandbox, on `127.0.0.1`, on a thread of its own. It stops when dropped.
///
/// Its methods are the control API's actions, called in-process: they take and return the
/// same JSON (see the [module docs](self)).
pub struct Sandbox {
    mock: MockServer,
    core: Arc<Core>,
}

/// How to start a [`Sandbox`].
#[derive(Debug)]
pub struct SandboxBuilder {
    port: u16,
    tls_port: u16,
    signing: Signing,
    time_scale: f64,
    stateful: bool,
    fallback: Option<Reply>,
    merchants: Vec<(String, String, PublicKey)>,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            port: 0,
            tls_port: 0,
            signing: Signing::PublicKey,
            time_scale: 1.0,
            stateful: true,
            fallback: None,
            merchants: Vec::new(),
        }
    }
}

impl SandboxBuilder {
    /// The plain HTTP port (`0`, the default: a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The TLS port, which requires the merchant's client certificate (`0`: a free one).
    pub fn tls_port(mut self, port: u16) -> Self {
        self.tls_port = port;
        self
    }

    /// Which platform key signs the answers and notifications ([`Signing::PublicKey`] unless
    /// set).
    pub fn signing(mut self, signing: Signing) -> Self {
        self.signing = signing;
        self
    }

    /// How many times as fast as the real clock the business clock runs (1 unless set).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }

    /// Without state (what `wechatpay mock` runs): every documented operation is answered
    /// with a body of its documented shape, nothing is kept, nobody is called back.
    pub fn stateless(mut self) -> Self {
        self.stateful = false;
        self
    }

    /// What to answer a correctly signed request to a path that is no documented operation,
    /// instead of WeChat Pay's `404`.
    pub fn fallback(mut self, reply: Reply) -> Self {
        self.fallback = Some(reply);
        self
    }

    /// Also accepts the requests of merchant `mchid`, signed with the private key of
    /// `public_key` under the certificate serial `serial` (a merchant's own
    /// `apiclient_cert.pem`); see [`MockServer::add_merchant`].
    pub fn merchant(mut self, mchid: &str, serial: &str, public_key: PublicKey) -> Self {
        self.merchants
            .push((mchid.to_owned(), serial.to_owned(), public_key));
        self
    }

    /// Starts the sandbox.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transport`] when a port cannot be bound (in use?) or no thread started.
    pub fn start(self) -> Result<Sandbox> {
        let core = Arc::new(Core::new(
            Settings {
                stateful: self.stateful,
                fallback: self.fallback,
            },
            self.time_scale,
        ));
        let mock = MockServer::start_with(self.port, self.tls_port, core.clone())?;
        mock.sign_answers_with(self.signing);
        // The request log is the record: the mock's own would hold the same bodies twice.
        mock.record_requests(false);
        for (mchid, serial, key) in self.merchants {
            mock.add_merchant(&mchid, &serial, key);
        }
        Ok(Sandbox { mock, core })
    }
}

impl Sandbox {
    /// Starts a sandbox with the default settings on free ports.
    ///
    /// # Errors
    ///
    /// As [`SandboxBuilder::start`].
    pub fn start() -> Result<Self> {
        SandboxBuilder::default().start()
    }

    /// A builder, to choose ports, the signing mode, the clock's speed or extra merchants.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The base URI, `http://127.0.0.1:{port}/`.
    pub fn uri(&self) -> String {
        self.mock.uri()
    }

    /// A client builder with everything set to talk to this sandbox (see
    /// [`MockServer::client_builder`]).
    pub fn client_builder(&self) -> ClientBuilder {
        self.mock.client_builder()
    }

    /// The mock server underneath: rules, faults, outages, platform keys.
    pub fn mock(&self) -> &MockServer {
        &self.mock
    }

    /// Calls a control route in-process: `method` and `path` as under `/_sandbox/`
    /// (`"transactions/T1/pay"`), `body` the JSON body (`Value::Null` for none). Returns the
    /// JSON the control API answers.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] with the control API's `code` and `message` when it
    /// refuses (an unknown order, a state that does not allow the action, …).
    pub fn control(&self, method: &str, path: &str, body: Value) -> Result<Value> {
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| Error::invalid(format!("`{method}` is not an HTTP method")))?;
        let call = control::invoke(&self.core, method, path, body);
        futures::executor::block_on(call)
            .map(|(_, body)| body)
            .map_err(|refused| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{}: {}", refused.code, refused.message),
                )
            })
    }

    /// The payer acts on the unpaid order `out_trade_no` (or combined order):
    /// `"SUCCESS"` pays it (and `TRANSACTION.SUCCESS` is sent), `"PAYERROR"`, `"CLOSED"`.
    ///
    /// # Errors
    ///
    /// As [`Sandbox::control`]: no such order, or one already paid or closed.
    pub fn pay(&self, out_trade_no: &str, result: &str) -> Result<Value> {
        let path = format!(
            "transactions/{}/pay",
            crate::uri::rawurlencode(out_trade_no)
        );
        self.control("POST", &path, serde_json::json!({"result": result}))
    }

    /// WeChat Pay settles the refund `out_refund_no`: `"SUCCESS"`, `"ABNORMAL"` or
    /// `"CLOSED"` (and its notification is sent).
    ///
    /// # Errors
    ///
    /// As [`Sandbox::control`].
    pub fn complete_refund(&self, out_refund_no: &str, result: &str) -> Result<Value> {
        let path = format!(
            "refunds/{}/complete",
            crate::uri::rawurlencode(out_refund_no)
        );
        self.control("POST", &path, serde_json::json!({"result": result}))
    }

    /// The recipient of the transfer bill `out_bill_no` accepts it (`"SUCCESS"`) or refuses it
    /// (`"FAIL"`); `MCHTRANSFER.BILL.FINISHED` is sent.
    ///
    /// # Errors
    ///
    /// As [`Sandbox::control`].
    pub fn confirm_transfer(&self, out_bill_no: &str, result: &str) -> Result<Value> {
        let path = format!(
            "transfer-bills/{}/confirm",
            crate::uri::rawurlencode(out_bill_no)
        );
        self.control("POST", &path, serde_json::json!({"result": result}))
    }

    /// Moves the business clock `by` ahead: expiries and due retries happen now.
    pub fn advance_clock(&self, by: Duration) {
        let body = serde_json::json!({"advance_seconds": by.as_secs_f64()});
        let _ = self.control("POST", "clock", body);
    }

    /// The request log, oldest first: every request to WeChat Pay's API, its verdict and the
    /// answer, headers and bodies included (the newest 1,000 within 8 MiB).
    pub fn requests(&self) -> Vec<Value> {
        self.core
            .log
            .with(|ring| ring.iter().map(|entry| entry.to_json(false)).collect())
    }

    /// The deliveries of notifications, oldest first, each with its attempts (the newest
    /// 2,000 within 8 MiB).
    pub fn deliveries(&self) -> Vec<Value> {
        self.core
            .deliveries
            .with(|ring| ring.iter().map(views::delivery).collect())
    }

    /// Delivers the notification `id` again, now.
    ///
    /// # Errors
    ///
    /// As [`Sandbox::control`]: no such delivery (any more).
    pub fn resend(&self, id: u64) -> Result<Value> {
        self.control("POST", &format!("notifications/{id}/resend"), Value::Null)
    }

    /// What changed after the change `since` (`0`: everything kept), waiting up to `wait` for
    /// a change when there is none yet; `seq` in the answer is the number to ask from next
    /// time. Blocks the calling thread: do not call it with a `wait` from async code.
    pub fn changes(&self, since: u64, wait: Duration) -> Value {
        let path = format!("changes?since={since}&wait={}", wait.as_secs());
        let call = control::invoke(&self.core, Method::GET, &path, Value::Null);
        let answer = if wait.is_zero() {
            futures::executor::block_on(call)
        } else {
            match tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
            {
                Ok(runtime) => runtime.block_on(call),
                Err(_) => futures::executor::block_on(call),
            }
        };
        answer.map(|(_, body)| body).unwrap_or_default()
    }

    /// What a client needs (base URIs, merchant, keys) and how the sandbox runs, as
    /// `GET /_sandbox/settings` answers it.
    pub fn settings(&self) -> Value {
        views::settings(&self.core)
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("uri", &self.mock.uri())
            .finish_non_exhaustive()
    }
}
