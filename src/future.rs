//! [`ResponseFuture`]: one request, as one `async` body: wait for the first download of the
//! platform keys (automatic mode), sign the first try, exchange (where the I/O runs:
//! [`ClientRuntime::placed`](crate::runtime::ClientRuntime::placed)), check the answer
//! (refreshing the keys when it names an unknown one), and deliver it into its sink.
//!
//! Its children: [`shared`] (what every chain of a client shares), [`exchange`] (the tries of
//! one request: retries and the backup domain), [`wire`] (what a try tells the transport),
//! [`finish`] (the answer checked and delivered), [`failover`] (the route between the primary
//! and the backup), [`refresher`], [`refresh`] and [`stored`] (the platform keys of automatic
//! mode, and what a key store's set is worth to them) and [`trace`] (what a request tells
//! `tracing`).

pub(crate) mod exchange;
pub(crate) mod expiry;
pub(crate) mod failover;
mod finish;
pub(crate) mod refresh;
pub(crate) mod refresher;
pub(crate) mod shared;
pub(crate) mod signing;
mod stored;
pub(crate) mod trace;
mod wire;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::Method;

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::protocol::Api;
use crate::response::Response;
use crate::runtime::Placement;
use shared::Shared;
use trace::Trace;

/// The answer of an async verb. Nothing happens until it is first polled; dropping it
/// cancels the request.
#[must_use = "a request is only sent when its future is awaited"]
pub struct ResponseFuture {
    /// The request's body; `None` once it has answered.
    body: Option<BoxFuture<'static, Result<Response>>>,
}

impl ResponseFuture {
    /// A request of `plan` (or the error decoding it gave), sent when first polled.
    pub(crate) fn new(
        shared: Arc<Shared>,
        method: Method,
        plan: Result<Plan>,
        placement: Placement,
        trace: Trace,
        undocumented: Option<String>,
    ) -> Self {
        Self {
            body: Some(Box::pin(async move {
                let result = match plan {
                    Ok(plan) => respond(&shared, method, plan, placement, &trace)
                        .await
                        .map_err(|error| match &undocumented {
                            Some(path) => crate::endpoints::hint_nearest(error, path),
                            None => error,
                        }),
                    Err(error) => Err(error),
                };
                trace::finished(&trace, &result);
                result
            })),
        }
    }
}

/// One request, start to end: the first download of the platform keys to wait for (automatic
/// mode), the first try signed here (the caller's thread does the costly part), the tries
/// where `placement` says, then the answer checked and delivered.
async fn respond(
    shared: &Arc<Shared>,
    method: Method,
    plan: Plan,
    placement: Placement,
    trace: &Trace,
) -> Result<Response> {
    // The request's timeout bounds everything from here: the wait for the keys, the tries,
    // a refresh on an unknown serial, a digest.
    let deadline = exchange::deadline(shared, &plan);
    if plan.api == Api::V3
        && let Some(seed) = refresh::seed(shared)
    {
        let waiting = exchange::within(deadline, "the first download of the platform keys", seed);
        let seeded = shared.runtime.placed(placement, waiting).await;
        // A failed download is only fatal without any key to verify with.
        if shared.config.platform_keys.snapshot().is_empty() {
            seeded?;
        }
    }
    let first = exchange::first(shared, &method, &plan, deadline)?;
    let exchanging = exchange::exchange(shared.clone(), method, plan, first, trace.clone());
    let exchanged = shared
        .runtime
        .placed(placement, trace.instrument(exchanging))
        .await?;
    finish::finish(shared, placement, exchanged, deadline).await
}

impl Future for ResponseFuture {
    type Output = Result<Response>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(Err(Error::invalid(
                "this ResponseFuture already completed; send the request again",
            )));
        };
        let answered = body.as_mut().poll(cx);
        if answered.is_ready() {
            self.body = None;
        }
        answered
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.body.is_some() {
            "pending"
        } else {
            "done"
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
