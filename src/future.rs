//! [`ResponseFuture`]: the one place that reads the clock, draws nonces and hands a signed
//! request to the transport, and [`Shared`], what every chain of a client shares. Its child
//! [`refresh`] downloads and refreshes the platform keys in automatic mode.

pub(crate) mod refresh;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::Method;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::crypto::Verified;
use crate::error::{Error, ErrorKind, Result, Verification};
use crate::plan::Plan;
use crate::protocol::Api;
use crate::request::{self, Check, Prepared};
use crate::response::Response;
use crate::runtime::RuntimeThread;
use crate::toolkit;
use crate::transport::{
    ConnectTimeout, MaxResponseSize, MutualTls, ReadTimeout, SignedAnswer, Transport,
};
use crate::v3::verify::HEADER_SERIAL;
use refresh::Refresher;

/// What every chain of a client shares: the checked configuration, the transport, the
/// runtime thread behind blocking calls, and (automatic mode) what keeps the platform keys
/// current.
pub(crate) struct Shared {
    pub config: Config,
    pub transport: Arc<dyn Transport>,
    runtime: OnceLock<std::result::Result<RuntimeThread, String>>,
    pub refresher: Option<Refresher>,
}

impl Shared {
    pub(crate) fn new(
        config: Config,
        transport: Arc<dyn Transport>,
        refresher: Option<Refresher>,
    ) -> Self {
        Self {
            config,
            transport,
            runtime: OnceLock::new(),
            refresher,
        }
    }

    /// The runtime thread, started at the first request that needs it.
    pub(crate) fn runtime(&self) -> Result<&RuntimeThread> {
        self.runtime
            .get_or_init(|| RuntimeThread::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|message| Error::new(ErrorKind::Transport, message.clone()))
    }
}

/// The request as the transport receives it: the signed request, with the extensions that
/// tell the transport how to send it ([`MutualTls`], [`ConnectTimeout`], [`ReadTimeout`],
/// [`MaxResponseSize`], [`SignedAnswer`]).
pub(crate) fn wire_request(prepared: Prepared) -> http::Request<Bytes> {
    let mut request = prepared.request;
    let extensions = request.extensions_mut();
    if prepared.mutual_tls {
        extensions.insert(MutualTls);
    }
    if let Some(limit) = prepared.connect_timeout {
        extensions.insert(ConnectTimeout(limit));
    }
    extensions.insert(ReadTimeout(prepared.limits.read_timeout));
    extensions.insert(MaxResponseSize(prepared.limits.max_response_size));
    if prepared.check.needs_signed_answer() {
        extensions.insert(SignedAnswer);
    }
    request
}

/// Sends `request` with `transport`, within `timeout` when there is one. Runs inside a tokio
/// runtime.
pub(crate) async fn send(
    transport: Arc<dyn Transport>,
    request: http::Request<Bytes>,
    timeout: Option<std::time::Duration>,
) -> Result<http::Response<Bytes>> {
    let sending = transport.send(request);
    match timeout {
        Some(limit) => tokio::time::timeout(limit, sending)
            .await
            .unwrap_or_else(|_| Err(timed_out(limit))),
        None => sending.await,
    }
}

/// The answer of an async verb. Nothing happens until it is first polled; dropping it
/// cancels the request.
#[must_use = "a request is only sent when its future is awaited"]
pub struct ResponseFuture {
    state: State,
}

/// Where a request's I/O runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// On the tokio runtime polling the future, if there is one, else the runtime thread.
    Caller,
    /// On the client's runtime thread.
    #[cfg(feature = "blocking")]
    RuntimeThread,
}

/// The answer being awaited.
enum Answer {
    /// Polled by this future, on the caller's runtime.
    Inline(BoxFuture<'static, Result<http::Response<Bytes>>>),
    /// Running on the client's runtime thread.
    Remote(JoinHandle<Result<http::Response<Bytes>>>),
}

// The plan is kept inline: a future is moved once, into place, and boxing it would add an
// allocation to every request.
#[allow(clippy::large_enum_variant)]
enum State {
    Start {
        shared: Arc<Shared>,
        method: Method,
        plan: Plan,
        placement: Placement,
    },
    Failed(Error),
    /// Automatic mode: waiting for the first download of the platform certificates.
    Seeding {
        shared: Arc<Shared>,
        method: Method,
        plan: Plan,
        placement: Placement,
        seed: BoxFuture<'static, Result<()>>,
    },
    Sending {
        shared: Arc<Shared>,
        check: Check,
        answer: Answer,
    },
    /// Automatic mode: the answer named an unknown serial; waiting for a refresh before
    /// verifying it once more.
    Refreshing {
        shared: Arc<Shared>,
        check: Check,
        error: Error,
        refresh: BoxFuture<'static, Result<()>>,
    },
    Done,
}

impl ResponseFuture {
    /// A request of `plan` (or the error decoding it gave), sent when first polled.
    pub(crate) fn new(
        shared: Arc<Shared>,
        method: Method,
        plan: Result<Plan>,
        placement: Placement,
    ) -> Self {
        let state = match plan {
            Ok(plan) => State::Start {
                shared,
                method,
                plan,
                placement,
            },
            Err(error) => State::Failed(error),
        };
        Self { state }
    }

    fn start(
        shared: Arc<Shared>,
        method: Method,
        plan: &Plan,
        placement: Placement,
    ) -> Result<State> {
        let nonce = toolkit::nonce(32)?;
        let prepared =
            request::prepare(&shared.config, method, plan, toolkit::timestamp(), &nonce)?;
        let timeout = prepared.timeout;
        let check = prepared.check.clone();
        let request = wire_request(prepared);
        let sending: BoxFuture<'static, _> =
            Box::pin(send(shared.transport.clone(), request, timeout));
        let in_tokio = tokio::runtime::Handle::try_current().is_ok();
        let answer = if placement == Placement::Caller && in_tokio {
            Answer::Inline(sending)
        } else {
            Answer::Remote(shared.runtime()?.spawn(sending))
        };
        Ok(State::Sending {
            shared,
            check,
            answer,
        })
    }
}

/// Counts which key verified `response`.
fn counted(shared: &Shared, response: Response, now: u64) -> Response {
    if let Some(id) = response.verified_by().key_id() {
        shared
            .config
            .platform_keys
            .record(id, Verified::Answer, now);
    }
    response
}

/// The serial of an answer refused as [`Verification::UnknownSerial`].
fn unknown_serial(error: &Error) -> Option<&str> {
    if error.kind() != ErrorKind::Verification(Verification::UnknownSerial) {
        return None;
    }
    error
        .response()?
        .headers()
        .get(HEADER_SERIAL)?
        .to_str()
        .ok()
}

/// Verifies the answer behind `error` once more, with the keys as they are after a refresh.
fn verify_again(
    shared: &Shared,
    check: &Check,
    error: Error,
    refreshed: Result<()>,
) -> Result<Response> {
    let Some(answer) = error.response() else {
        return Err(error);
    };
    let mut response = http::Response::new(answer.body().clone());
    *response.status_mut() = answer.status();
    *response.headers_mut() = answer.headers().clone();
    let now = toolkit::timestamp();
    match request::finish(&shared.config, check, response, now) {
        Ok(response) => Ok(counted(shared, response, now)),
        Err(again) => Err(match refreshed {
            Ok(()) => again.with_note(
                "; the platform certificates were refreshed (at most once a minute for unknown \
                 serials) and do not include it: the answer is not from WeChat Pay, or the \
                 key is missing from the configuration",
            ),
            Err(failed) => again.with_note(format!(
                "; refreshing the platform certificates first failed: {failed}"
            )),
        }),
    }
}

fn timed_out(limit: std::time::Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "no answer within {limit:?}; WeChat Pay may still have processed the request, so \
             retry with the same merchant order number (it deduplicates) or query it first"
        ),
    )
}

impl Future for ResponseFuture {
    type Output = Result<Response>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Start {
                    shared,
                    method,
                    plan,
                    placement,
                } => {
                    let seed = match plan.api {
                        Api::V3 => refresh::seed(&shared),
                        Api::V2 => None,
                    };
                    this.state = match seed {
                        Some(seed) => State::Seeding {
                            shared,
                            method,
                            plan,
                            placement,
                            seed,
                        },
                        None => match ResponseFuture::start(shared, method, &plan, placement) {
                            Ok(sending) => sending,
                            Err(error) => return Poll::Ready(Err(error)),
                        },
                    };
                }
                State::Seeding {
                    shared,
                    method,
                    plan,
                    placement,
                    mut seed,
                } => {
                    let Poll::Ready(seeded) = seed.as_mut().poll(cx) else {
                        this.state = State::Seeding {
                            shared,
                            method,
                            plan,
                            placement,
                            seed,
                        };
                        return Poll::Pending;
                    };
                    // A failed download is only fatal without any key to verify with.
                    if let Err(error) = seeded
                        && shared.config.platform_keys.snapshot().is_empty()
                    {
                        return Poll::Ready(Err(error));
                    }
                    match ResponseFuture::start(shared, method, &plan, placement) {
                        Ok(sending) => this.state = sending,
                        Err(error) => return Poll::Ready(Err(error)),
                    }
                }
                State::Failed(error) => return Poll::Ready(Err(error)),
                State::Sending {
                    shared,
                    check,
                    mut answer,
                } => {
                    let Poll::Ready(answered) = answer.poll(cx) else {
                        this.state = State::Sending {
                            shared,
                            check,
                            answer,
                        };
                        return Poll::Pending;
                    };
                    let now = toolkit::timestamp();
                    let checked = answered.and_then(|response| {
                        request::finish(&shared.config, &check, response, now)
                    });
                    let error = match checked {
                        Ok(response) => return Poll::Ready(Ok(counted(&shared, response, now))),
                        Err(error) => error,
                    };
                    let refresh = unknown_serial(&error)
                        .and_then(|serial| refresh::after_unknown_serial(&shared, serial));
                    match refresh {
                        Some(refresh) => {
                            this.state = State::Refreshing {
                                shared,
                                check,
                                error,
                                refresh,
                            }
                        }
                        None => return Poll::Ready(Err(error)),
                    }
                }
                State::Refreshing {
                    shared,
                    check,
                    error,
                    mut refresh,
                } => {
                    let Poll::Ready(refreshed) = refresh.as_mut().poll(cx) else {
                        this.state = State::Refreshing {
                            shared,
                            check,
                            error,
                            refresh,
                        };
                        return Poll::Pending;
                    };
                    return Poll::Ready(verify_again(&shared, &check, error, refreshed));
                }
                State::Done => {
                    return Poll::Ready(Err(Error::invalid(
                        "this ResponseFuture already completed; send the request again",
                    )));
                }
            }
        }
    }
}

impl Answer {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<http::Response<Bytes>>> {
        match self {
            Answer::Inline(sending) => sending.as_mut().poll(cx),
            Answer::Remote(handle) => Pin::new(handle).poll(cx).map(|joined| {
                joined.unwrap_or_else(|join_error| {
                    Err(Error::new(
                        ErrorKind::Transport,
                        "the client's runtime stopped before the answer arrived",
                    )
                    .with_source(join_error))
                })
            }),
        }
    }
}

impl Drop for ResponseFuture {
    fn drop(&mut self) {
        if let State::Sending {
            answer: Answer::Remote(handle),
            ..
        } = &self.state
        {
            handle.abort();
        }
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Start { .. } | State::Failed(_) => "not started",
            State::Seeding { .. } => "downloading the platform certificates",
            State::Refreshing { .. } => "refreshing the platform certificates",
            State::Sending { .. } => "sending",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
