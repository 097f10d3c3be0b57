//! When a request may be sent again: the rule, the attempt budget, and the backoff; and
//! what an answer or an error means for it ([`answer_outcome`], [`error_outcome`]).

use std::time::Duration;

use http::{HeaderMap, StatusCode};

use crate::error::ErrorKind;

/// The default most tries of one request, the first included.
pub(crate) const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The default delay before the second try; it doubles for each further try.
pub(crate) const DEFAULT_FIRST_DELAY: Duration = Duration::from_millis(200);

/// The default longest delay between two tries.
pub(crate) const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(2);

/// How often and how patiently a client sends a request again (see the
/// [module docs](super) for which requests qualify).
///
/// ```
/// use std::time::Duration;
/// use wechatpay::resilience::RetryPolicy;
///
/// let patient = RetryPolicy::default().max_attempts(5).backoff(Duration::from_millis(100), Duration::from_secs(5));
/// let never = RetryPolicy::none(); // one try, whatever happens
/// # let _ = (patient, never);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    first_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 3 tries, 200 ms before the second, doubling up to 2 s.
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            first_delay: DEFAULT_FIRST_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
        }
    }
}

/// What became of one try, as the retry rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nothing was sent: the connection failed (DNS, refused, TLS handshake, connect
    /// timeout). WeChat Pay never saw the request.
    NothingSent,
    /// The request was sent (or may have been), then the exchange broke off: a timeout, a
    /// reset, a connection closed before the answer. WeChat Pay may have processed it.
    BrokeOff,
    /// WeChat Pay answered `500`, `502`, `503` or `504`: it may or may not have processed the
    /// request.
    ServerError,
    /// WeChat Pay received the request and refused it unprocessed: its rate limit (`429`, or
    /// a code of [`RATE_LIMIT_CODES`]), or an HTTP/2 stream refused before any processing
    /// (`REFUSED_STREAM`, or a `GOAWAY` whose last stream id is below the request's). Safe to
    /// send again on any verb, to the same host, after `retry_after` (its `Retry-After`) or
    /// the backoff.
    NotProcessed {
        /// How long WeChat Pay asked to wait (`Retry-After`, in seconds), if it said.
        retry_after: Option<Duration>,
    },
    /// Anything else: an answer (success or error), or an error another try would repeat.
    Final,
}

/// Why a request is not sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The outcome is final.
    Done,
    /// The request may have reached WeChat Pay and its method is not safe to repeat (a
    /// `POST`, `PUT`, `PATCH` or `DELETE` not marked with `Options::retry`).
    NotSafeToRepeat,
    /// The tries allowed by [`RetryPolicy::max_attempts`] are used up.
    OutOfAttempts,
}

/// What to do after a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Keep the outcome.
    Stop(Stop),
    /// Send the request again (signed afresh) after `delay`; to the other host (primary or
    /// backup) when `other_host`.
    Retry {
        /// How long to wait first.
        delay: Duration,
        /// Whether to go to the other domain.
        other_host: bool,
    },
}

impl RetryPolicy {
    /// The default policy (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// One try, never sent again (the backup domain is still used when the primary cannot be
    /// reached: that is a different try of the same budget, so with one try it is not).
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    /// The most tries of one request, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The delay before the second try, and the longest delay; each try waits twice as long
    /// as the one before, drawn between half and all of it.
    pub fn backoff(mut self, first: Duration, max: Duration) -> Self {
        self.first_delay = first;
        self.max_delay = max.max(first);
        self
    }

    /// The most tries.
    #[cfg(test)]
    pub(crate) fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delay after try number `attempt` (1 for the first): `first × 2^(attempt − 1)`,
    /// at most the longest delay, scaled by `0.5 + random / 2` (`random` in `[0, 1]`).
    pub(crate) fn delay(&self, attempt: u32, random: f64) -> Duration {
        let doubling = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        let full = self
            .first_delay
            .checked_mul(doubling)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        full.mul_f64(0.5 + random.clamp(0.0, 1.0) / 2.0)
    }

    /// What to do after try number `attempt` (1 for the first) ended with `outcome`.
    ///
    /// * `safe_to_repeat`: a `GET`, or a call marked with `Options::retry`.
    /// * `other_host`: there is another domain to try (the backup, or the primary when the
    ///   try went to the backup).
    /// * `first_switch`: no earlier try of this request moved to the other host; the first
    ///   move after nothing was sent waits for nothing.
    /// * `random`: a number in `[0, 1]` for the jitter.
    pub(crate) fn decide(
        &self,
        attempt: u32,
        outcome: Outcome,
        safe_to_repeat: bool,
        other_host: bool,
        first_switch: bool,
        random: f64,
    ) -> Decision {
        let stop = match outcome {
            Outcome::Final => Some(Stop::Done),
            // `NothingSent` and `NotProcessed` are safe on any verb.
            Outcome::BrokeOff | Outcome::ServerError if !safe_to_repeat => {
                Some(Stop::NotSafeToRepeat)
            }
            _ if attempt >= self.max_attempts => Some(Stop::OutOfAttempts),
            _ => None,
        };
        if let Some(stop) = stop {
            return Decision::Stop(stop);
        }
        match outcome {
            Outcome::NothingSent if other_host && first_switch => Decision::Retry {
                delay: Duration::ZERO,
                other_host: true,
            },
            Outcome::NothingSent => Decision::Retry {
                delay: self.delay(attempt, random),
                other_host,
            },
            // The host answered: it is reachable, and asked for patience, not another host.
            Outcome::NotProcessed { retry_after } => Decision::Retry {
                delay: retry_after.unwrap_or_else(|| self.delay(attempt, random)),
                other_host: false,
            },
            _ => Decision::Retry {
                delay: self.delay(attempt, random),
                other_host: false,
            },
        }
    }
}

/// Whether an answer's status counts as [`Outcome::ServerError`]: `500`, `502`, `503`, `504`.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// WeChat Pay's error codes for a request its rate limit refused without processing it
/// ("该笔退款未受理，请降低频率后重试": not accepted, send it again more slowly):
/// `FREQUENCY_LIMITED` (APIv3 `429`, and APIv2 `err_code` of refunds and other calls),
/// `FREQUENCY_LIMIT_EXCEED` (APIv3 `429` of the marketing calls) and `FREQ_LIMIT` (APIv2
/// `err_code` of red packets and transfers).
pub const RATE_LIMIT_CODES: [&str; 3] =
    ["FREQUENCY_LIMITED", "FREQUENCY_LIMIT_EXCEED", "FREQ_LIMIT"];

/// What an answer means for the retry rule: `status` and WeChat Pay's error `code` (APIv3
/// JSON `code`, APIv2 `err_code`), when there is one.
///
/// * `500`, `502`, `503`, `504`: [`Outcome::ServerError`] (maybe processed);
/// * `429` whatever the code (HTTP's "too many requests": refused before processing), or a
///   code of [`RATE_LIMIT_CODES`] with any status (APIv2 answers `200` with it):
///   [`Outcome::NotProcessed`], after the `Retry-After` seconds of `headers` if given;
/// * anything else: [`Outcome::Final`].
pub(crate) fn answer_outcome(
    status: StatusCode,
    code: Option<&str>,
    headers: &HeaderMap,
) -> Outcome {
    if is_retryable_status(status) {
        return Outcome::ServerError;
    }
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || code.is_some_and(|code| RATE_LIMIT_CODES.contains(&code));
    if rate_limited {
        return Outcome::NotProcessed {
            retry_after: retry_after(headers),
        };
    }
    Outcome::Final
}

/// The `Retry-After` of `headers` in whole seconds (`Retry-After: 1`); `None` when absent or
/// not a number of seconds (an HTTP date is not honoured: the backoff applies instead).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// What an error of a try means for the retry rule: of `kind`, marked nothing sent
/// (`nothing_sent`, [`Error::is_connect`](crate::Error::is_connect)), refused unprocessed by
/// the server (`unprocessed`: an HTTP/2 `REFUSED_STREAM` or `GOAWAY` before it), or broken
/// off after sending (`broke_off`).
///
/// A configuration or argument error is [`Outcome::Final`] whatever else it is marked: a
/// request refused by the client itself (`security: true` without a merchant certificate)
/// fails the same way on every try, so it is never sent again.
pub(crate) fn error_outcome(
    kind: ErrorKind,
    nothing_sent: bool,
    unprocessed: bool,
    broke_off: bool,
) -> Outcome {
    match kind {
        ErrorKind::Config | ErrorKind::InvalidArgument | ErrorKind::MissingPathVariable => {
            Outcome::Final
        }
        _ if unprocessed => Outcome::NotProcessed { retry_after: None },
        _ if nothing_sent => Outcome::NothingSent,
        _ if broke_off || kind == ErrorKind::Timeout => Outcome::BrokeOff,
        _ => Outcome::Final,
    }
}
