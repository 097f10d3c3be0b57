//! A chain: one API path template and its ten verbs.

use std::fmt;
use std::future::Future;
use std::ops::Index;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use elsa::sync::FrozenMap;
use futures::future::BoxFuture;
use http::Method;
use tokio::task::JoinHandle;

use crate::client::Inner;
use crate::error::{Error, ErrorKind, Result};
use crate::normalize::{normalized_len, push_normalized};
use crate::options::Options;
use crate::pipeline::{self, Check, Stamp};
use crate::response::Response;
use crate::sign;

/// An API path template such as `v3/pay/transactions/id/{transaction_id}`, with the verbs
/// that call it.
///
/// Make one with [`Client::chain`](crate::Client::chain), `client["…"]` or
/// [`chain!`](crate::chain!); extend it with [`Chain::chain`] or `chain["…"]`.
///
/// The blocking verbs (`get`, `put`, `post`, `patch`, `delete`; feature `blocking`) work from
/// any thread; the `*_async` verbs return a `Send + 'static` [`ResponseFuture`] that runs
/// under any executor. Both take anything that converts into [`Options`]: a
/// `serde_json::Value`, an [`Options`] built with methods, or `()` for none.
pub struct Chain {
    inner: Arc<Inner>,
    path: String,
    children: FrozenMap<String, Box<Chain>>,
}

impl Chain {
    pub(crate) fn root(inner: Arc<Inner>, path: &str, normalize: bool) -> Self {
        let path = if normalize {
            let mut normalized = String::with_capacity(normalized_len(path));
            push_normalized(&mut normalized, path);
            normalized
        } else {
            path.to_owned()
        };
        Self::with_path(inner, path)
    }

    fn with_path(inner: Arc<Inner>, path: String) -> Self {
        Self {
            inner,
            path,
            children: FrozenMap::new(),
        }
    }

    /// This chain plus one more segment, normalised like PHP (see
    /// [`Client::chain`](crate::Client::chain)).
    pub fn chain(&self, segment: &str) -> Chain {
        let mut path = String::with_capacity(self.path.len() + 1 + normalized_len(segment));
        path.push_str(&self.path);
        path.push('/');
        push_normalized(&mut path, segment);
        Self::with_path(self.inner.clone(), path)
    }

    /// This chain plus `path`, appended exactly as written.
    pub fn chain_raw(&self, path: &str) -> Chain {
        let mut joined = String::with_capacity(self.path.len() + 1 + path.len());
        joined.push_str(&self.path);
        joined.push('/');
        joined.push_str(path);
        Self::with_path(self.inner.clone(), joined)
    }

    /// The path template, e.g. `v3/pay/transactions/id/{transaction_id}`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The methods the WeChat Pay docs give for this chain's path, empty when it is not a
    /// documented endpoint (see [`endpoints::methods`](crate::endpoints::methods)).
    pub fn documented_methods(&self) -> Vec<Method> {
        crate::endpoints::methods(&self.path)
    }

    /// Sends a request with any method and returns its future.
    ///
    /// The path template is expanded now (a missing variable is reported when the future is
    /// first polled); signing and sending wait for the first poll.
    ///
    /// Polled inside a tokio runtime (which needs IO and time enabled, as `#[tokio::main]` and
    /// `#[tokio::test]` have), the request's I/O runs right there, on pooled connections of
    /// that runtime; under any other executor it runs on the client's own runtime thread. Do
    /// not `futures::executor::block_on` it inside a tokio task: await it.
    pub fn request_async(&self, method: Method, options: impl Into<Options>) -> ResponseFuture {
        self.future(method, options.into(), Placement::Caller)
    }

    fn future(&self, method: Method, options: Options, placement: Placement) -> ResponseFuture {
        let state = match pipeline::expand(&self.path, &options) {
            Ok(expanded) => State::Start {
                inner: self.inner.clone(),
                method,
                expanded,
                options,
                placement,
            },
            Err(error) => State::Failed(error),
        };
        ResponseFuture { state }
    }

    /// The signed request this chain would send with `options`, the timestamp and the nonce
    /// given, without sending it. Pure: useful to inspect or log a request (its
    /// `Authorization` header is a secret-free signature), or to send it yourself.
    ///
    /// # Errors
    ///
    /// As the verbs, before anything would be sent.
    pub fn build_request(
        &self,
        method: Method,
        options: impl Into<Options>,
        timestamp: u64,
        nonce: &str,
    ) -> Result<http::Request<Bytes>> {
        let options = options.into();
        let stamp = Stamp { timestamp, nonce };
        pipeline::prepare(&self.inner.config, method, &self.path, &options, stamp)
            .map(|prepared| prepared.request)
    }

    /// Sends a request with any method and waits for the answer.
    ///
    /// It parks the calling thread: fine on any thread and in `spawn_blocking`; inside an
    /// `async fn` use the `*_async` verbs instead, or the executor thread stalls meanwhile.
    ///
    /// # Errors
    ///
    /// See [`Error`]: missing path variables and bad options before anything is sent,
    /// transport failures and timeouts, API errors, answers that fail verification.
    #[cfg(feature = "blocking")]
    pub fn request(&self, method: Method, options: impl Into<Options>) -> Result<Response> {
        crate::blocking::wait(self.future(method, options.into(), Placement::RuntimeThread))
    }
}

macro_rules! verbs {
    ($($method:ident $blocking:ident $nonblocking:ident;)*) => {
        impl Chain {
            $(
                #[doc = concat!("`", stringify!($method), "` and wait for the verified answer.")]
                ///
                /// # Errors
                ///
                /// See [`Chain::request`].
                #[cfg(feature = "blocking")]
                pub fn $blocking(&self, options: impl Into<Options>) -> Result<Response> {
                    self.request(Method::$method, options)
                }

                #[doc = concat!("`", stringify!($method), "`, as a `Send + 'static` future of the verified answer.")]
                pub fn $nonblocking(&self, options: impl Into<Options>) -> ResponseFuture {
                    self.request_async(Method::$method, options)
                }
            )*
        }
    };
}

verbs! {
    GET get get_async;
    PUT put put_async;
    POST post post_async;
    PATCH patch patch_async;
    DELETE delete delete_async;
}

impl Index<&str> for Chain {
    type Output = Chain;

    /// `chain["…"]`: this chain plus a normalised segment, built once and cached by this
    /// chain (see [`Client`](crate::Client)'s `Index` for the caching rule).
    fn index(&self, segment: &str) -> &Chain {
        if let Some(child) = self.children.get(segment) {
            return child;
        }
        self.children
            .insert_with(segment.to_owned(), || Box::new(self.chain(segment)))
    }
}

impl Clone for Chain {
    /// The same path; the clone starts with an empty child cache.
    fn clone(&self) -> Self {
        Self::with_path(self.inner.clone(), self.path.clone())
    }
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain").field("path", &self.path).finish()
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
    RuntimeThread,
}

/// The answer being awaited.
enum Answer {
    /// Polled by this future, on the caller's runtime.
    Inline(BoxFuture<'static, Result<http::Response<Bytes>>>),
    /// Running on the client's runtime thread.
    Remote(JoinHandle<Result<http::Response<Bytes>>>),
}

enum State {
    Start {
        inner: Arc<Inner>,
        method: Method,
        expanded: String,
        options: Options,
        placement: Placement,
    },
    Failed(Error),
    Sending {
        inner: Arc<Inner>,
        check: Check,
        answer: Answer,
    },
    Done,
}

impl ResponseFuture {
    fn start(
        inner: Arc<Inner>,
        method: Method,
        expanded: &str,
        options: &Options,
        placement: Placement,
    ) -> Result<State> {
        let nonce = sign::nonce(32)?;
        let stamp = Stamp {
            timestamp: sign::timestamp(),
            nonce: &nonce,
        };
        let prepared = pipeline::prepare_expanded(&inner.config, method, expanded, options, stamp)?;
        let transport = inner.transport.clone();
        let timeout = prepared.timeout;
        let request = prepared.request;
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
            Answer::Remote(inner.runtime()?.spawn(sending))
        };
        Ok(State::Sending {
            inner,
            check: prepared.check,
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
                    inner,
                    method,
                    expanded,
                    options,
                    placement,
                } => match ResponseFuture::start(inner, method, &expanded, &options, placement) {
                    Ok(sending) => this.state = sending,
                    Err(error) => return Poll::Ready(Err(error)),
                },
                State::Failed(error) => return Poll::Ready(Err(error)),
                State::Sending {
                    inner,
                    check,
                    mut answer,
                } => {
                    let Poll::Ready(answered) = answer.poll(cx) else {
                        this.state = State::Sending {
                            inner,
                            check,
                            answer,
                        };
                        return Poll::Pending;
                    };
                    return Poll::Ready(answered.and_then(|response| {
                        pipeline::finish(&inner.config, &check, response, sign::timestamp())
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
