//! Sending requests: the [`Transport`] seam, the extensions that tell a transport how to send
//! a request, and the default transport, a pooled hyper-util client over rustls with proxy
//! support.
//!
//! Only this module and the request future know about hyper and tokio; everything the
//! transport receives is a signed `http::Request<Bytes>`.

mod body;
mod connector;
mod https;
mod pools;
mod proxy;
mod sink;
mod tls;

use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, StatusCode};

use crate::config::DEFAULT_MAX_RESPONSE_SIZE;
use crate::error::Result;

pub use crate::response::Truncated;
pub use https::HttpsTransport;
pub(crate) use pools::TransportSettings;
pub(crate) use proxy::ProxySetting;
pub use sink::{BodySink, StreamTo, StreamedBody};
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
/// merchant's client certificate), [`ConnectTimeout`] (the time allowed to connect),
/// [`ReadTimeout`] (the longest silence while waiting for the answer) and
/// [`MaxResponseSize`] with [`SignedAnswer`] (how much of the answer to read:
/// [`BodyLimit::for_answer`] decides it; mark a cut body with [`Truncated`]), and
/// [`StreamTo`] (stream a download into the request's sink instead). An error that happened
/// before anything was sent must be marked with
/// [`Error::nothing_sent`](crate::Error::nothing_sent): the client then sends the request
/// again (to the backup domain first), whatever its method. Errors of yours that are not so
/// marked count as "may have reached WeChat Pay", and only `GET`s and calls marked safe to
/// repeat are retried after an [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) one.
pub trait Transport: Send + Sync + 'static {
    /// Sends `request`; the body of the answer is read completely (or streamed into its
    /// [`StreamTo`] sink).
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>>>;

    /// Checks that `origin` (`https://host[:port]`) can be reached, cheaply and without
    /// sending a request: the client probes its primary domain this way while it uses the
    /// backup ([`FailoverPolicy`](crate::resilience::FailoverPolicy)).
    ///
    /// The default answers `Ok` without looking: the client then moves back to the primary
    /// after each probe interval and finds out with its next request (which goes to the
    /// backup at once if the primary still cannot be reached). [`HttpsTransport`] opens a TCP
    /// and TLS connection and closes it.
    fn probe(&self, origin: &http::Uri) -> BoxFuture<'static, Result<()>> {
        let _ = origin;
        Box::pin(async { Ok(()) })
    }
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

/// Request extension: the most bytes of an answer's body the client accepts
/// ([`ClientBuilder::max_response_size`](crate::ClientBuilder::max_response_size),
/// [`DEFAULT_MAX_RESPONSE_SIZE`] unless set). A transport stops reading a larger body and
/// fails; see [`BodyLimit::for_answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxResponseSize(pub usize);

/// Request extension: the longest wait for the next bytes of the answer (its head, then each
/// piece of its body), whatever the total `timeout` of the request
/// ([`ClientBuilder::read_timeout`](crate::ClientBuilder::read_timeout),
/// [`DEFAULT_READ_TIMEOUT`](crate::config::DEFAULT_READ_TIMEOUT) unless set). A request without
/// a total limit (`timeout: 0`) still never hangs on a silent server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTimeout(pub Duration);

/// Request extension: a success answer to this request must carry `Wechatpay-Signature`
/// (every APIv3 call but the unsigned downloads), so a success answer without it will be
/// refused and only the start of its body is worth reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedAnswer;

/// How much of an error answer (or of a success answer without its required signature) the
/// transport reads: enough for WeChat Pay's `{"code":…,"message":…}` or APIv2 XML.
pub const ERROR_BODY_PREFIX: usize = 64 * 1024;

/// How much of an answer's body a transport reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// Read it all, up to this many bytes; a longer body is an error (and nothing of it is
    /// handed back).
    Whole(usize),
    /// Read this many bytes at most and hand them back, marked [`Truncated`] when there was
    /// more: the answer is an error whatever the rest holds.
    Prefix(usize),
}

impl BodyLimit {
    /// The limit for an answer with `status` and `headers` to a request with `extensions`:
    /// [`BodyLimit::Prefix`] of [`ERROR_BODY_PREFIX`] for a status other than 2xx, and for a
    /// 2xx answer without `Wechatpay-Signature` to a [`SignedAnswer`] request; else
    /// [`BodyLimit::Whole`] of the request's [`MaxResponseSize`] (default
    /// [`DEFAULT_MAX_RESPONSE_SIZE`]).
    pub fn for_answer(
        extensions: &http::Extensions,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> BodyLimit {
        AnswerRules::of(extensions).limit(status, headers)
    }
}

/// Request extension of the client's own: when the whole request (all its tries) must be
/// over. The client enforces it around any transport; the default transport reads it to
/// skip its read-idle timer when the deadline comes first anyway (one timer per request
/// instead of two).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TotalDeadline(pub std::time::Instant);

/// What [`BodyLimit::for_answer`] reads of a request's extensions, taken before the request
/// goes (so that its extensions need not be kept).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnswerRules {
    max: usize,
    signed: bool,
}

impl AnswerRules {
    pub(crate) fn of(extensions: &http::Extensions) -> Self {
        Self {
            max: extensions
                .get::<MaxResponseSize>()
                .map_or(DEFAULT_MAX_RESPONSE_SIZE, |max| max.0),
            signed: extensions.get::<SignedAnswer>().is_some(),
        }
    }

    /// See [`BodyLimit::for_answer`].
    pub(crate) fn limit(self, status: StatusCode, headers: &HeaderMap) -> BodyLimit {
        let unsigned = self.signed && !headers.contains_key(crate::v3::verify::HEADER_SIGNATURE);
        if !status.is_success() || unsigned {
            BodyLimit::Prefix(ERROR_BODY_PREFIX.min(self.max))
        } else {
            BodyLimit::Whole(self.max)
        }
    }
}
