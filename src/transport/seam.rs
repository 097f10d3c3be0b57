//! The seam between the client and a transport: [`Transport`], and [`SendOptions`], how to
//! send one request, with the client's rule for the body of its answer ([`Reading`]).

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, StatusCode};

use super::sink::{BodySink, StreamTo};
use crate::config::{DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_READ_TIMEOUT};
use crate::error::Result;

/// Sends a signed request and returns the whole answer.
///
/// The default is [`HttpsTransport`](super::HttpsTransport), a pooled HTTPS client; replace
/// it with [`ClientBuilder::transport`](crate::ClientBuilder::transport) to add tracing or a
/// test double (see the [module docs](crate::transport): this seam may change before 1.0).
/// The future always runs inside a tokio runtime (the caller's for the async verbs, else the
/// client's own runtime thread), so it may use tokio.
///
/// [`SendOptions`] say how to send the request (mutual TLS, timeouts) and how to read the
/// body of its answer ([`SendOptions::reading`]). An error that happened before anything was
/// sent must be marked with [`Error::nothing_sent`](crate::Error::nothing_sent): the client
/// then sends the request again (to the backup domain first), whatever its method (unless it
/// is an [`ErrorKind::Config`](crate::ErrorKind::Config) error, which every try would
/// repeat). Errors of
/// yours that are not so marked count as "may have reached WeChat Pay", and only `GET`s and
/// calls marked safe to repeat are retried after an
/// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) one.
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` as `options` say; the body of the answer is read as
    /// [`SendOptions::reading`] says once its head is known.
    fn send(
        &self,
        request: http::Request<Bytes>,
        options: SendOptions,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>>>;

    /// Checks that `origin` (`https://host[:port]`) can be reached, cheaply and without
    /// sending a request: the client probes its primary domain this way while it uses the
    /// backup ([`FailoverPolicy`](crate::resilience::FailoverPolicy)).
    ///
    /// The default answers `Ok` without looking: the client then moves back to the primary
    /// after each probe interval and finds out with its next request (which goes to the
    /// backup at once if the primary still cannot be reached). [`HttpsTransport`](super::HttpsTransport) opens a TCP
    /// and TLS connection and closes it.
    fn probe(&self, origin: &http::Uri) -> BoxFuture<'static, Result<()>> {
        let _ = origin;
        Box::pin(async { Ok(()) })
    }
}

/// How to send one request: what the client hands a [`Transport`] with it.
///
/// [`SendOptions::default`] is a plain request with the client's default limits (for a test
/// calling a transport directly).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SendOptions {
    /// Send it over mutual TLS, presenting the merchant certificate (APIv2 `security: true`;
    /// see [`ClientBuilder::merchant_identity`](crate::ClientBuilder::merchant_identity)).
    pub mutual_tls: bool,
    /// The time allowed to connect (TCP, TLS and a proxy's `CONNECT`): the request's
    /// `connect_timeout` option, [`Duration::MAX`] for no limit (`connect_timeout: 0`); `None`
    /// when it has none, and the transport's own applies.
    pub connect_timeout: Option<Duration>,
    /// The longest wait for the next bytes of the answer (its head, then each piece of its
    /// body), whatever the request's total `timeout`
    /// ([`ClientBuilder::read_timeout`](crate::ClientBuilder::read_timeout)): a request
    /// without a total limit still never hangs on a silent server.
    pub read_timeout: Duration,
    /// When the whole request (all its tries) must be over, if it has a `timeout`. The client
    /// enforces it around any transport; a transport may use it to skip timers of its own
    /// that would fire later anyway.
    pub deadline: Option<Instant>,
    body: BodyRule,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            mutual_tls: false,
            connect_timeout: None,
            read_timeout: DEFAULT_READ_TIMEOUT,
            deadline: None,
            body: BodyRule::new(DEFAULT_MAX_RESPONSE_SIZE, whole),
        }
    }
}

impl SendOptions {
    /// How to read the body of the answer, now that its `status` and `headers` are known: the
    /// client's decision (how much it accepts, whether an answer is an error whatever the rest
    /// of its body says, whether the body goes into the request's sink). Call it once per
    /// answer: a [`Reading::Stream`] hands over the sink.
    pub fn reading(&self, status: StatusCode, headers: &HeaderMap) -> Reading {
        (self.body.decide)(&self.body, status, headers)
    }

    /// The options of a try, with the client's rule for the body (`decide`, given `body`).
    pub(crate) fn new(
        mutual_tls: bool,
        connect_timeout: Option<Duration>,
        read_timeout: Duration,
        deadline: Option<Instant>,
        body: BodyRule,
    ) -> Self {
        Self {
            mutual_tls,
            connect_timeout,
            read_timeout,
            deadline,
            body,
        }
    }
}

/// How a transport reads the body of an answer ([`SendOptions::reading`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Reading {
    /// Read it all, up to this many bytes; a longer body is an error (and nothing of it is
    /// handed back).
    Whole(usize),
    /// Read this many bytes at most, hand them back, and stop reading: the answer is an error
    /// whatever the rest holds.
    Prefix(usize),
    /// Write the body into this sink as it arrives ([`BodySink::write`] each piece, then
    /// [`BodySink::finish`]) and hand back an empty body. A transport that cannot stream may
    /// return the body whole instead: the client then writes it itself.
    Stream(BodySink),
}

/// The client's rule for the body of an answer, decided above the transport: the data it
/// needs and the function that applies it (the transport only calls it, through
/// [`SendOptions::reading`]).
#[derive(Clone)]
pub(crate) struct BodyRule {
    /// The most bytes of a body the client accepts.
    pub max: usize,
    /// The client's own flag for `decide` (whether a success answer must be signed).
    pub signed: bool,
    /// The request's sink, when its answer may stream into it.
    pub sink: Option<StreamTo>,
    pub decide: fn(&BodyRule, StatusCode, &HeaderMap) -> Reading,
}

impl BodyRule {
    /// A rule for at most `max` bytes, applied by `decide`.
    pub(crate) fn new(
        max: usize,
        decide: fn(&BodyRule, StatusCode, &HeaderMap) -> Reading,
    ) -> Self {
        Self {
            max,
            signed: false,
            sink: None,
            decide,
        }
    }
}

impl std::fmt::Debug for BodyRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyRule")
            .field("max", &self.max)
            .field("signed", &self.signed)
            .field("sink", &self.sink.is_some())
            .finish_non_exhaustive()
    }
}

/// The rule without a client: every body whole, up to the limit.
fn whole(rule: &BodyRule, _: StatusCode, _: &HeaderMap) -> Reading {
    Reading::Whole(rule.max)
}
