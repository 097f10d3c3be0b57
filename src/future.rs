//! [`ResponseFuture`]: the one place that reads the clock, draws nonces and hands a signed
//! request to the transport, and [`Shared`], what every chain of a client shares.

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
use crate::error::{Error, ErrorKind, Result};
use crate::plan::Plan;
use crate::request::{self, Check, Prepared};
use crate::response::Response;
use crate::runtime::RuntimeThread;
use crate::toolkit;
use crate::transport::{
    ConnectTimeout, MaxResponseSize, MutualTls, ReadTimeout, SignedAnswer, Transport,
};

/// What every chain of a client shares: the checked configuration, the transport, and the
/// runtime thread behind blocking calls.
pub(crate) struct Shared {
    pub config: Config,
    pub transport: Arc<dyn Transport>,
    runtime: OnceLock<std::result::Result<RuntimeThread, String>>,
}

impl Shared {
    pub(crate) fn new(config: Config, transport: Arc<dyn Transport>) -> Self {
        Self {
            config,
            transport,
            runtime: OnceLock::new(),
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
    Sending {
        shared: Arc<Shared>,
        check: Check,
        answer: Answer,
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
        let transport = shared.transport.clone();
        let timeout = prepared.timeout;
        let check = prepared.check.clone();
        let request = wire_request(prepared);
        let sending: BoxFuture<'static, _> = Box::pin(async move {
            let sending = transport.send(request);
            match timeout {
                Some(limit) => tokio::time::timeout(limit, sending)
                    .await
                    .unwrap_or_else(|_| Err(timed_out(limit))),
                None => sending.await,
            }
        });
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
                } => match ResponseFuture::start(shared, method, &plan, placement) {
                    Ok(sending) => this.state = sending,
                    Err(error) => return Poll::Ready(Err(error)),
                },
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
                    return Poll::Ready(answered.and_then(|response| {
                        request::finish(&shared.config, &check, response, toolkit::timestamp())
                    }));
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
            State::Sending { .. } => "sending",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
