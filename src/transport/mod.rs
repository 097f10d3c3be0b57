//! Sending requests: the [`Transport`] seam, the extensions that tell a transport how to send
//! a request, and the default transport, a pooled hyper-util client over rustls.
//!
//! Only this module and the request future know about hyper and tokio; everything the
//! transport receives is a signed `http::Request<Bytes>`.

mod https;
mod tls;

use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;

use crate::error::Result;

pub use https::HttpsTransport;
pub(crate) use https::TransportSettings;
#[cfg(feature = "mock")]
pub(crate) use tls::provider;
pub(crate) use tls::{TlsIdentity, certificates_from_pem};

/// Sends a signed request and returns the whole answer.
///
/// The default is [`HttpsTransport`], a pooled HTTPS client; replace it with
/// [`ClientBuilder::transport`](crate::ClientBuilder::transport) to add a proxy, tracing or a
/// test double. The future always runs inside a tokio runtime (the caller's for the async
/// verbs, else the client's own runtime thread), so it may use tokio.
///
/// Requests carry extensions that say how to send them: [`MutualTls`] (send it with the
/// merchant's client certificate) and [`ConnectTimeout`] (the time allowed to connect). An
/// error that happened before anything was sent should be marked with
/// [`Error::nothing_sent`](crate::Error::nothing_sent), so that callers know a retry is safe.
pub trait Transport: Send + Sync + 'static {
    /// Sends `request`; the body of the answer is read completely.
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>>>;
}

/// Request extension: this request must be sent over mutual TLS with the merchant
/// certificate (APIv2 `security: true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MutualTls;

/// Request extension: the `connect_timeout` option of this request, the time allowed to
/// connect (TCP and TLS); `None` means no limit. Without it, the transport's own connect
/// timeout applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectTimeout(pub Option<Duration>);
