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
#[cfg(feature = "sandbox")]
mod handle;
mod keys;
mod mock_server;
mod network;
mod notify;
mod notify_v2;
mod outages;
mod platform;
mod recorded;
pub(crate) mod ring;
mod rules;
mod server;
mod shared;
mod signing;

pub(crate) use fidelity::not_found;
pub use h2::MockH2;
#[cfg(feature = "sandbox")]
pub(crate) use handle::{Attach, MockHandle};
pub use keys::*;
pub use mock_server::{MockServer, client_builder};
#[cfg(feature = "sandbox")]
pub(crate) use notify::{Envelope, standalone_notification};
#[cfg(feature = "sandbox")]
pub(crate) use notify_v2::{v2_notification, v2_refund_notification};
pub use platform::{Forgery, Signing};
pub use recorded::{RecordedMedia, RecordedRequest};
pub use rules::{Fault, Reply};
