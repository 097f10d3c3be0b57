//! The seam a stateful WeChat Pay (the sandbox, feature `sandbox`) plugs into the mock server
//! with: it answers requests outside WeChat Pay's paths (its control API), answers the
//! correctly signed requests no rule answers, sees every exchange, and runs beside the server
//! (deliveries). It gets a [`MockHandle`](super::handle::MockHandle) when it is plugged in
//! ([`Attach`](super::handle::Attach)).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode};

use super::rules::Reply;

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
