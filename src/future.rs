//! [`ResponseFuture`]: the one place that reads the clock, draws nonces and hands a signed
//! request to the transport, and [`Shared`], what every chain of a client shares. Its
//! children: [`exchange`] (the tries of one request: retries and the backup domain),
//! [`failover`] (the route between the primary and the backup), [`refresh`] (the platform
//! keys of automatic mode) and [`trace`] (what a request tells `tracing`).

mod answer;
pub(crate) mod exchange;
pub(crate) mod failover;
pub(crate) mod refresh;
pub(crate) mod trace;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::Method;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::plan::Plan;
use crate::protocol::Api;
use crate::request::Prepared;
use crate::response::Response;
use crate::runtime::RuntimeThread;
use crate::transport::{
    ConnectTimeout, HttpsTransport, MaxResponseSize, MutualTls, ReadTimeout, SignedAnswer,
    Transport,
};
use answer::{AfterRefresh, Next, checked, deliver, verify_again};
use exchange::Exchanged;
use failover::FailoverShell;
use refresh::Refresher;
use trace::Trace;

/// What every chain of a client shares: the checked configuration, the transport, the
/// process's runtime thread behind blocking calls, the route to the backup domain, and
/// (automatic mode) what keeps the platform keys current.
pub(crate) struct Shared {
    pub config: Config,
    pub transport: Arc<dyn Transport>,
    /// The default transport, when it is the one in use (it knows the proxies).
    pub https: Option<HttpsTransport>,
    runtime: OnceLock<std::result::Result<Arc<RuntimeThread>, String>>,
    pub refresher: Option<Refresher>,
    pub failover: Option<Arc<FailoverShell>>,
}

impl Shared {
    pub(crate) fn new(
        config: Config,
        transport: Arc<dyn Transport>,
        https: Option<HttpsTransport>,
        refresher: Option<Refresher>,
    ) -> Self {
        let failover = config.backup_base_uri.clone().map(|backup| {
            Arc::new(FailoverShell::new(
                config.failover,
                config.base_uri.clone(),
                backup,
            ))
        });
        Self {
            config,
            transport,
            https,
            runtime: OnceLock::new(),
            refresher,
            failover,
        }
    }

    /// The process's runtime thread, taken at the first request that needs it.
    pub(crate) fn runtime(&self) -> Result<&RuntimeThread> {
        self.runtime
            .get_or_init(|| RuntimeThread::shared().map_err(|e| e.to_string()))
            .as_ref()
            .map(|runtime| &**runtime)
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

/// Sends `request` with `transport`, within `remaining` when there is a limit (`total` is
/// the request's whole limit, for the error). Runs inside a tokio runtime.
pub(crate) async fn send(
    transport: Arc<dyn Transport>,
    request: http::Request<Bytes>,
    remaining: Option<Duration>,
    total: Option<Duration>,
) -> Result<http::Response<Bytes>> {
    let sending = transport.send(request);
    match remaining {
        Some(limit) => tokio::time::timeout(limit, sending)
            .await
            .unwrap_or_else(|_| Err(timed_out(total.unwrap_or(limit)))),
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
    /// On the process's runtime thread.
    #[cfg(feature = "blocking")]
    RuntimeThread,
}

/// Work being awaited.
enum Answer<T> {
    /// Polled by this future, on the caller's runtime.
    Inline(BoxFuture<'static, T>),
    /// Running on the runtime thread (or a blocking pool).
    Remote(JoinHandle<T>),
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
        trace: Trace,
    },
    Failed(Error, Trace),
    /// Automatic mode: waiting for the first download of the platform certificates.
    Seeding {
        shared: Arc<Shared>,
        method: Method,
        plan: Plan,
        placement: Placement,
        seed: BoxFuture<'static, Result<()>>,
        trace: Trace,
    },
    Sending {
        shared: Arc<Shared>,
        placement: Placement,
        answer: Answer<Result<Exchanged>>,
        trace: Trace,
    },
    /// Automatic mode: the answer named an unknown serial; waiting for a refresh before
    /// verifying it once more.
    Refreshing {
        shared: Arc<Shared>,
        placement: Placement,
        after: AfterRefresh,
        refresh: BoxFuture<'static, Result<()>>,
        trace: Trace,
    },
    /// Writing a verified body into the request's sink.
    Sinking {
        answer: Answer<Result<Response>>,
        trace: Trace,
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
        trace: Trace,
    ) -> Self {
        let state = match plan {
            Ok(plan) => State::Start {
                shared,
                method,
                plan,
                placement,
                trace,
            },
            Err(error) => State::Failed(error, trace),
        };
        Self { state }
    }

    /// Signs the first try here (the caller's thread) and starts the tries where `placement`
    /// says.
    fn start(
        shared: Arc<Shared>,
        method: Method,
        plan: Plan,
        placement: Placement,
        trace: Trace,
    ) -> Result<State> {
        let first = exchange::first(&shared, &method, &plan)?;
        let exchanging = trace.instrument(exchange::exchange(
            shared.clone(),
            method,
            plan,
            first,
            trace.clone(),
        ));
        let answer = placed(&shared, placement, exchanging)?;
        Ok(State::Sending {
            shared,
            placement,
            answer,
            trace,
        })
    }
}

/// Runs `work` on the caller's tokio runtime when `placement` allows and there is one, else
/// on the runtime thread (as a task of its own: one allocation, not a boxed future in a task).
fn placed<T: Send + 'static>(
    shared: &Shared,
    placement: Placement,
    work: impl Future<Output = T> + Send + 'static,
) -> Result<Answer<T>> {
    let in_tokio = tokio::runtime::Handle::try_current().is_ok();
    Ok(if placement == Placement::Caller && in_tokio {
        Answer::Inline(Box::pin(work))
    } else {
        Answer::Remote(shared.runtime()?.spawn(work))
    })
}

fn timed_out(limit: Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "no answer within {limit:?} (the request's timeout, over all its tries); WeChat Pay \
             may still have processed the request, so retry with the same merchant order number \
             (it deduplicates) or query it first"
        ),
    )
}

impl Future for ResponseFuture {
    type Output = Result<Response>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let (state, done) = match std::mem::replace(&mut this.state, State::Done) {
                State::Start {
                    shared,
                    method,
                    plan,
                    placement,
                    trace,
                } => {
                    let seed = match plan.api {
                        Api::V3 => refresh::seed(&shared),
                        Api::V2 => None,
                    };
                    match seed {
                        Some(seed) => (
                            State::Seeding {
                                shared,
                                method,
                                plan,
                                placement,
                                seed,
                                trace,
                            },
                            None,
                        ),
                        None => started(shared, method, plan, placement, trace),
                    }
                }
                State::Seeding {
                    shared,
                    method,
                    plan,
                    placement,
                    mut seed,
                    trace,
                } => {
                    let Poll::Ready(seeded) = seed.as_mut().poll(cx) else {
                        this.state = State::Seeding {
                            shared,
                            method,
                            plan,
                            placement,
                            seed,
                            trace,
                        };
                        return Poll::Pending;
                    };
                    // A failed download is only fatal without any key to verify with.
                    match seeded {
                        Err(error) if shared.config.platform_keys.snapshot().is_empty() => {
                            (State::Done, Some((Err(error), trace)))
                        }
                        _ => started(shared, method, plan, placement, trace),
                    }
                }
                State::Failed(error, trace) => (State::Done, Some((Err(error), trace))),
                State::Sending {
                    shared,
                    placement,
                    mut answer,
                    trace,
                } => {
                    let Poll::Ready(answered) = answer.poll(cx) else {
                        this.state = State::Sending {
                            shared,
                            placement,
                            answer,
                            trace,
                        };
                        return Poll::Pending;
                    };
                    match answered {
                        Err(error) => (State::Done, Some((Err(error), trace))),
                        Ok(exchanged) => {
                            match checked(shared, placement, exchanged, trace.clone()) {
                                Next::Wait(next) => (next, None),
                                Next::Done(result) => (State::Done, Some((result, trace))),
                            }
                        }
                    }
                }
                State::Refreshing {
                    shared,
                    placement,
                    after,
                    mut refresh,
                    trace,
                } => {
                    let Poll::Ready(refreshed) = refresh.as_mut().poll(cx) else {
                        this.state = State::Refreshing {
                            shared,
                            placement,
                            after,
                            refresh,
                            trace,
                        };
                        return Poll::Pending;
                    };
                    let AfterRefresh {
                        check,
                        error,
                        streamed,
                        delivery,
                    } = after;
                    match verify_again(&shared, &check, error, refreshed) {
                        Err(error) => (State::Done, Some((Err(error), trace))),
                        Ok(response) => {
                            let delivered = deliver(
                                &shared,
                                placement,
                                response,
                                streamed,
                                delivery,
                                trace.clone(),
                            );
                            match delivered {
                                Next::Wait(next) => (next, None),
                                Next::Done(result) => (State::Done, Some((result, trace))),
                            }
                        }
                    }
                }
                State::Sinking { mut answer, trace } => {
                    let Poll::Ready(written) = answer.poll(cx) else {
                        this.state = State::Sinking { answer, trace };
                        return Poll::Pending;
                    };
                    (State::Done, Some((written, trace)))
                }
                State::Done => {
                    return Poll::Ready(Err(Error::invalid(
                        "this ResponseFuture already completed; send the request again",
                    )));
                }
            };
            this.state = state;
            if let Some((result, trace)) = done {
                trace::finished(&trace, &result);
                return Poll::Ready(result);
            }
        }
    }
}

/// The state after the first try started, or the error that kept it from starting.
fn started(
    shared: Arc<Shared>,
    method: Method,
    plan: Plan,
    placement: Placement,
    trace: Trace,
) -> (State, Option<(Result<Response>, Trace)>) {
    match ResponseFuture::start(shared, method, plan, placement, trace.clone()) {
        Ok(sending) => (sending, None),
        Err(error) => (State::Done, Some((Err(error), trace))),
    }
}

impl<T> Answer<Result<T>> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<T>> {
        match self {
            Answer::Inline(work) => work.as_mut().poll(cx),
            Answer::Remote(handle) => Pin::new(handle).poll(cx).map(|joined| {
                joined.unwrap_or_else(|join_error| {
                    Err(Error::new(
                        ErrorKind::Transport,
                        "the runtime stopped before the answer arrived",
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
            State::Start { .. } | State::Failed(..) => "not started",
            State::Seeding { .. } => "downloading the platform certificates",
            State::Refreshing { .. } => "refreshing the platform certificates",
            State::Sending { .. } => "sending",
            State::Sinking { .. } => "writing the answer into its sink",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
