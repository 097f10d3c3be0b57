//! One request's tries: sign, send, look at what happened, and send again (signed afresh) when
//! the retry rule allows, to the backup domain when the primary cannot be reached. The rules
//! are the pure [`resilience`](crate::resilience) ones; this is where they meet the clock, the
//! random jitter and the transport. Runs inside a tokio runtime.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;

use super::shared::Shared;
use super::signing;
use super::trace::{self, Trace};
use super::wire::{self, Delivery};
use crate::crypto::PUBLIC_KEY_ID_PREFIX;
use crate::error::{Error, ErrorKind, Result};
use crate::plan::Plan;
use crate::request::{self, Check, Pending, Prepared};
use crate::resilience::{Decision, Outcome, Route, Stop, answer_outcome, error_outcome};
use crate::toolkit;
use crate::transport::{SendOptions, StreamTo, Transport};
use crate::uri::BaseUri;
use crate::v3::verify::HEADER_SERIAL;

/// Which domain a try goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    /// The client's base URI, with the backup to fall back on.
    Primary,
    /// The backup base URI.
    Backup,
    /// A base URI of the request's own (`base_uri` option), or a client without a backup:
    /// no failover.
    Fixed,
}

/// The first try, prepared where the request was made (signing is the costly part, and the
/// caller's thread does it; with an asynchronous signer its signature is pending, awaited in
/// [`exchange`]), where it goes, and when the request's time is up.
pub(crate) struct First {
    pub prepared: Prepared,
    pub host: Host,
    pub deadline: Option<Instant>,
}

/// When a request of `plan` made now runs out of time: its `timeout` (or the client's) from
/// now; `None` without a limit.
pub(crate) fn deadline(shared: &Shared, plan: &Plan) -> Option<Instant> {
    let limit = plan.timeout.unwrap_or(shared.config.timeout)?;
    Instant::now().checked_add(limit)
}

/// `work`, given up with an [`ErrorKind::Timeout`] error saying that `what` did not finish
/// when `deadline` passes. Runs inside a tokio runtime.
pub(crate) async fn within<T>(
    deadline: Option<Instant>,
    what: &str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let Some(deadline) = deadline else {
        return work.await;
    };
    match tokio::time::timeout_at(deadline.into(), work).await {
        Ok(result) => result,
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "{what} did not finish within the request's timeout; WeChat Pay may still have \
                 processed the request, so retry with the same merchant order number (it \
                 deduplicates) or query it first"
            ),
        )),
    }
}

/// The answer of the last try, and what checking it needs.
pub(crate) struct Exchanged {
    pub response: http::Response<Bytes>,
    pub check: Check,
    /// A sentence for the error `finish` makes of this answer (why it was not sent again).
    pub note: Option<String>,
    pub delivery: Option<Delivery>,
    /// The last try named the WeChat Pay public key while a rollout of it is set: its
    /// answer tells whether WeChat Pay signs with it.
    pub named_public_key: bool,
}

/// Picks the domain of the first try and signs it; the request ends at `deadline`
/// ([`deadline`]).
pub(crate) fn first(
    shared: &Arc<Shared>,
    method: &Method,
    plan: &Plan,
    deadline: Option<Instant>,
) -> Result<First> {
    let host = route(shared, plan);
    let prepared = sign(shared, host, method, plan)?;
    let host = settled(shared, plan, host, &prepared);
    Ok(First {
        prepared,
        host,
        deadline,
    })
}

/// Where the first try of `plan` goes.
fn route(shared: &Arc<Shared>, plan: &Plan) -> Host {
    match (&plan.base_uri, &shared.failover) {
        (None, Some(failover)) => match failover.route(&shared.transport, &shared.runtime) {
            Route::Primary => Host::Primary,
            Route::Backup => Host::Backup,
        },
        _ => Host::Fixed,
    }
}

/// `host`, unless the first try goes elsewhere: a template that is an absolute URI goes where
/// it says, with no failover.
fn settled(shared: &Shared, plan: &Plan, host: Host, prepared: &Prepared) -> Host {
    match host {
        Host::Fixed => Host::Fixed,
        _ if !same_origin(&prepared.request, base_for(shared, plan, host).origin()) => Host::Fixed,
        other => other,
    }
}

/// Signs a try for `host`, with a fresh nonce and the time now (with an asynchronous signer:
/// builds it, its signature [pending](Prepared::pending) until [`exchange`] awaits it).
fn sign(shared: &Shared, host: Host, method: &Method, plan: &Plan) -> Result<Prepared> {
    let base = base_for(shared, plan, host);
    if shared.config.async_signer.is_some() {
        return signing::prepare_pending(&shared.config, base, method, plan);
    }
    let nonce = toolkit::nonce(32)?;
    request::prepare_at(
        &shared.config,
        base,
        method.clone(),
        plan,
        toolkit::timestamp(),
        &nonce,
    )
}

fn base_for<'a>(shared: &'a Shared, plan: &'a Plan, host: Host) -> &'a BaseUri {
    match host {
        Host::Backup => shared
            .config
            .backup_base_uri
            .as_ref()
            .unwrap_or(&shared.config.base_uri),
        Host::Primary => &shared.config.base_uri,
        Host::Fixed => plan.base_uri.as_ref().unwrap_or(&shared.config.base_uri),
    }
}

/// Whether `request` goes to `origin` (`scheme://authority`).
fn same_origin(request: &http::Request<Bytes>, origin: &str) -> bool {
    let uri = request.uri();
    origin
        .strip_prefix(uri.scheme_str().unwrap_or_default())
        .and_then(|rest| rest.strip_prefix("://"))
        == Some(uri.authority().map_or("", |authority| authority.as_str()))
}

/// Writes the `Authorization` header of `prepared` with the asynchronous signer's signature
/// of `pending`.
async fn authorize(shared: &Shared, prepared: &mut Prepared, pending: Pending) -> Result<()> {
    match &shared.config.async_signer {
        Some(signer) => signing::authorize(&shared.config, signer, prepared, pending).await,
        None => Err(Error::config(
            "a request was built for an asynchronous signer the client lacks",
        )),
    }
}

/// Whether `request` names a WeChat Pay public key in `Wechatpay-Serial`.
fn names_public_key(request: &http::Request<Bytes>) -> bool {
    request
        .headers()
        .get(HEADER_SERIAL)
        .is_some_and(|id| id.as_bytes().starts_with(PUBLIC_KEY_ID_PREFIX.as_bytes()))
}

/// A number in `[0, 1]` for the jitter.
fn random_fraction() -> f64 {
    let mut random = [0u8; 8];
    match crate::crypto::random::fill(&mut random) {
        Ok(()) => (u64::from_le_bytes(random) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

/// What became of a try, for the retry rule (the pure
/// [`answer_outcome`] and [`error_outcome`]), and the rate-limit code of an answer.
fn outcome(
    result: &Result<http::Response<Bytes>>,
    sink_used: bool,
    check: &Check,
) -> (Outcome, Option<String>) {
    let outcome = match result {
        Err(error) => error_outcome(
            error.kind(),
            error.is_connect(),
            error.is_unprocessed(),
            error.broke_off(),
        ),
        // The common case, decided at once: an APIv3 success (no rate limit answers 2xx).
        Ok(response) if response.status().is_success() && check.must_be_signed() => {
            return (Outcome::Final, None);
        }
        Ok(response) => {
            let code = request::answer_code(check, response.status(), response.body());
            let outcome = answer_outcome(response.status(), code.as_deref(), response.headers());
            return match outcome {
                // Bytes may have gone into the caller's sink: never start it over.
                _ if sink_used => (Outcome::Final, None),
                // Named by its code, else by its status.
                Outcome::NotProcessed { .. } => {
                    let named = code.unwrap_or_else(|| response.status().to_string());
                    (outcome, Some(named))
                }
                _ => (outcome, None),
            };
        }
    };
    match outcome {
        Outcome::NothingSent | Outcome::NotProcessed { .. } => (outcome, None),
        _ if sink_used => (Outcome::Final, None),
        _ => (outcome, None),
    }
}

/// Sends `plan`'s request: the first try as prepared, then as many more as the retry rule
/// allows, each signed afresh (the signature of an asynchronous signer awaited here), all
/// within the request's `timeout`.
pub(crate) async fn exchange(
    shared: Arc<Shared>,
    method: Method,
    plan: Plan,
    first: First,
    trace: Trace,
) -> Result<Exchanged> {
    let First {
        mut prepared,
        mut host,
        deadline,
    } = first;
    let total = prepared.timeout;
    let safe_to_repeat = method == Method::GET || plan.retry;
    let check = prepared.check.clone();
    let delivery = wire::delivery(&plan, &check)?;
    let policy = shared.config.retry;
    let rollout = shared.config.platform_keys.rollout().is_some();
    let mut attempt = 1;
    let mut reached = false;
    let mut switched = false;
    loop {
        if let Some(pending) = prepared.pending.take() {
            authorize(&shared, &mut prepared, *pending).await?;
        }
        trace::attempt(&trace, attempt, &prepared.request);
        let named_public_key = rollout && names_public_key(&prepared.request);
        let options = wire::send_options(&prepared, delivery.as_ref(), deadline);
        let remaining = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        let result = send(
            &shared.transport,
            prepared.request,
            options,
            remaining,
            total,
        )
        .await;
        let sink_used = delivery
            .as_ref()
            .and_then(|delivery| delivery.stream_to.as_ref())
            .is_some_and(StreamTo::taken);
        let (outcome, limit) = outcome(&result, sink_used, &check);
        if let Some(failover) = &shared.failover
            && host == Host::Primary
        {
            if outcome == Outcome::NothingSent {
                failover.primary_unreachable(&trace);
            } else {
                failover.primary_reachable(&trace);
            }
        }
        let other_host = host != Host::Fixed;
        // The jitter is only needed when another try may follow.
        let random = if outcome == Outcome::Final {
            0.5
        } else {
            random_fraction()
        };
        let decision = policy.decide(
            attempt,
            outcome,
            safe_to_repeat,
            other_host,
            !switched,
            random,
        );
        reached |= !matches!(outcome, Outcome::NothingSent | Outcome::NotProcessed { .. });
        let refused = match outcome {
            Outcome::NotProcessed { retry_after } => limit.map(|code| (code, retry_after)),
            _ => None,
        };
        let ended = |stop, past_deadline| Ended {
            stop,
            attempts: attempt,
            reached,
            refused: refused.clone(),
            past_deadline,
            named_public_key,
        };
        let (delay, move_host) = match decision {
            Decision::Retry { delay, other_host }
                if deadline.is_none_or(|deadline| Instant::now() + delay < deadline) =>
            {
                (delay, other_host)
            }
            Decision::Retry { .. } => {
                let ended = ended(Stop::OutOfAttempts, true);
                return finished(result, ended, &method, check, delivery);
            }
            Decision::Stop(stop) => {
                return finished(result, ended(stop, false), &method, check, delivery);
            }
        };
        let next = match (move_host, host) {
            (true, Host::Primary) => Host::Backup,
            (true, Host::Backup) => Host::Primary,
            (_, same) => same,
        };
        switched |= next != host;
        trace::retrying(&trace, attempt, &result, delay, host != next);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        host = next;
        attempt += 1;
        prepared = sign(&shared, host, &method, &plan)?;
    }
}

/// Sends `request` with `transport`, within `remaining` when there is a limit (`total` is
/// the request's whole limit, for the error). Runs inside a tokio runtime.
async fn send(
    transport: &Arc<dyn Transport>,
    request: http::Request<Bytes>,
    options: SendOptions,
    remaining: Option<Duration>,
    total: Option<Duration>,
) -> Result<http::Response<Bytes>> {
    let sending = transport.send(request, options);
    match remaining {
        Some(limit) => tokio::time::timeout(limit, sending)
            .await
            .unwrap_or_else(|_| Err(timed_out(total.unwrap_or(limit)))),
        None => sending.await,
    }
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

/// How the tries of a request ended.
struct Ended {
    stop: Stop,
    attempts: u32,
    /// Some try may have reached WeChat Pay.
    reached: bool,
    /// The last answer was a rate limit: its code, and the `Retry-After` it asked for.
    refused: Option<(String, Option<Duration>)>,
    /// Another try was due, but its wait would have ended past the request's deadline.
    past_deadline: bool,
    /// See [`Exchanged::named_public_key`].
    named_public_key: bool,
}

/// The sentence for an answer refused by WeChat Pay's rate limit, naming the limit.
fn rate_limit_note(ended: &Ended, code: &str, retry_after: Option<Duration>) -> String {
    let Ended {
        attempts,
        past_deadline,
        ..
    } = *ended;
    let tries = if attempts > 1 {
        format!("all {attempts} tries")
    } else {
        "the request".to_owned()
    };
    let wait = match retry_after {
        Some(wait) if past_deadline => format!(
            "; it asked to wait {} s (Retry-After) before the next try, which would end past              the request's timeout",
            wait.as_secs()
        ),
        _ => String::new(),
    };
    format!(
        "; WeChat Pay's rate limit ({code}) refused {tries} without processing it{wait}:          nothing was charged or changed, so send it again later, more slowly          (ClientBuilder::retry_policy sets how many tries)"
    )
}

/// The result of the last try, with what the caller should know about the tries before.
fn finished(
    result: Result<http::Response<Bytes>>,
    ended: Ended,
    method: &Method,
    check: Check,
    delivery: Option<Delivery>,
) -> Result<Exchanged> {
    let (attempts, reached) = (ended.attempts, ended.reached);
    let note = match ended.stop {
        _ if let Some((code, retry_after)) = &ended.refused => {
            Some(rate_limit_note(&ended, code, *retry_after))
        }
        Stop::Done => None,
        Stop::NotSafeToRepeat => Some(format!(
            "; it was not sent again: a {method} is only repeated automatically when the call \
             is marked safe to repeat (Options::retry, or `\"retry\": true`), which WeChat \
             Pay's deduplication by merchant order number (out_trade_no, out_refund_no) makes \
             it"
        )),
        Stop::OutOfAttempts if attempts > 1 => Some(format!(
            "; {attempts} tries, the last one's error shown (ClientBuilder::retry_policy, and \
             the request's timeout, bound them)"
        )),
        Stop::OutOfAttempts => None,
    };
    match result {
        Ok(response) => Ok(Exchanged {
            response,
            check,
            note,
            delivery,
            named_public_key: ended.named_public_key,
        }),
        Err(mut error) => {
            if reached {
                error = error.reached_before();
            }
            if let Some(note) = note {
                error = error.with_note(note);
            } else if attempts > 1 {
                error = error.with_note(format!("; after {attempts} tries"));
            }
            Err(error)
        }
    }
}
