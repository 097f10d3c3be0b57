//! The seam a stateful WeChat Pay (the sandbox, feature `sandbox`) plugs into the mock server
//! with: it answers requests outside WeChat Pay's paths (its control API), answers the
//! correctly signed requests no rule answers, sees every exchange, and runs beside the server
//! (deliveries). Through a [`MockHandle`] it signs notifications with the mock's platform keys
//! and changes them (rotation, signing mode).

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

use super::certificates::Signing;
pub(crate) use super::notify::{Envelope, standalone_notification};
pub(crate) use super::notify_v2::{v2_notification, v2_refund_notification};
use super::rules::{Fault, Reply};
use super::{Shared, notify, notify_v2};
use crate::error::{Error, Result};
use crate::toolkit::SignType;

/// A request as the mock received it.
pub(crate) struct Inbound<'a> {
    pub method: &'a Method,
    /// The request target as received: percent-encoded path and `?query`.
    pub target: &'a str,
    /// The percent-encoded path, without the query.
    pub path: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    /// Whether it came over the TLS port with a client certificate.
    pub client_certificate: bool,
}

/// A request to WeChat Pay's API and what the mock answered, for a log.
pub(crate) struct Exchange {
    pub method: Method,
    pub target: String,
    pub request_headers: HeaderMap,
    pub request_body: Bytes,
    /// `Ok` when the request passed the checks, else why not.
    pub verdict: std::result::Result<(), String>,
    pub status: StatusCode,
    pub response_headers: HeaderMap,
    pub response_body: Bytes,
    /// The time from the whole request read to the answer signed.
    pub elapsed: Duration,
}

/// What a stateful WeChat Pay adds to the mock.
pub(crate) trait Engine: Send + Sync + 'static {
    /// Called once when the server starts, with a handle on it.
    fn attach(&self, mock: MockHandle);

    /// The answer to a request outside WeChat Pay's API (a control API, `/`), before any
    /// check and without a signature; `None` when it is WeChat Pay's.
    fn control(
        self: Arc<Self>,
        request: &Inbound<'_>,
    ) -> Option<BoxFuture<'static, http::Response<Bytes>>>;

    /// The answer to a correctly signed request that no rule answers (the mock's own
    /// certificate download aside); `None` leaves it to the fallback.
    fn answer(&self, request: &Inbound<'_>) -> Option<Reply>;

    /// Sees every request to WeChat Pay's API once it is answered.
    fn record(&self, exchange: Exchange);

    /// Work that runs beside the server and ends with it.
    fn run(self: Arc<Self>) -> BoxFuture<'static, ()>;
}

/// The mock seen from an [`Engine`]: its addresses, its platform keys, notifications signed
/// with them. It does not keep the mock alive.
#[derive(Clone)]
pub(crate) struct MockHandle {
    shared: Weak<Shared>,
    pub address: SocketAddr,
    pub tls_address: SocketAddr,
}

impl MockHandle {
    pub(super) fn new(shared: &Arc<Shared>, address: SocketAddr, tls_address: SocketAddr) -> Self {
        Self {
            shared: Arc::downgrade(shared),
            address,
            tls_address,
        }
    }

    fn shared(&self) -> Result<Arc<Shared>> {
        self.shared
            .upgrade()
            .ok_or_else(|| Error::invalid("the mock server has stopped"))
    }

    /// An APIv3 notification signed now by the platform key in use, its resource encrypted
    /// with the mock's APIv3 key (see `MockServer::notification_with`).
    pub(crate) fn notification(
        &self,
        envelope: &Envelope<'_>,
        plaintext: &Value,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        let shared = self.shared()?;
        notify::v3_notification(&shared, envelope, plaintext, fault)
    }

    /// An APIv2 notification (see `MockServer::v2_notification_with`).
    pub(crate) fn v2_notification(
        &self,
        fields: &Value,
        sign_type: SignType,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        notify_v2::v2_notification(fields, sign_type, fault)
    }

    /// An APIv2 refund notification (see `MockServer::v2_refund_notification_with`).
    pub(crate) fn v2_refund_notification(
        &self,
        fields: &Value,
        refund: &Value,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        notify_v2::v2_refund_notification(fields, refund, fault)
    }

    /// Which key signs the answers now.
    pub(crate) fn signing(&self) -> Result<Signing> {
        Ok(self.shared()?.platform().signing())
    }

    /// Signs the answers with `signing` from now on.
    pub(crate) fn set_signing(&self, signing: Signing) -> Result<()> {
        self.shared()?.platform().set_signing(signing);
        Ok(())
    }

    /// Rotates the platform certificate (see `MockServer::rotate_platform_certificate`).
    pub(crate) fn rotate(&self) -> Result<()> {
        self.shared()?.platform().rotate();
        Ok(())
    }

    /// The serial of the platform certificate in use, and the serials listed at
    /// `GET /v3/certificates`.
    pub(crate) fn certificates(&self) -> Result<(String, Vec<String>)> {
        Ok(self.shared()?.platform().serials())
    }

    /// The merchant ids the mock accepts requests from.
    pub(crate) fn merchants(&self) -> Result<Vec<String>> {
        let shared = self.shared()?;
        let mut ids = vec![super::MCHID.to_owned()];
        ids.extend(shared.merchants().keys().cloned());
        Ok(ids)
    }
}
