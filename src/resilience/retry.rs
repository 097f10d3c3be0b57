//! When a request may be sent again: the rule, the attempt budget, and the backoff.

use std::time::Duration;

/// The default most tries of one request, the first included.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The default delay before the second try; it doubles for each further try.
pub const DEFAULT_FIRST_DELAY: Duration = Duration::from_millis(200);

/// The default longest delay between two tries.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(2);

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
    /// [`DEFAULT_MAX_ATTEMPTS`] tries, [`DEFAULT_FIRST_DELAY`] doubling up to
    /// [`DEFAULT_MAX_DELAY`].
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
pub enum Outcome {
    /// Nothing was sent: the connection failed (DNS, refused, TLS handshake, connect
    /// timeout). WeChat Pay never saw the request.
    NothingSent,
    /// The request was sent (or may have been), then the exchange broke off: a timeout, a
    /// reset, a connection closed before the answer. WeChat Pay may have processed it.
    BrokeOff,
    /// WeChat Pay answered `500`, `502`, `503` or `504`: it may or may not have processed the
    /// request.
    ServerError,
    /// Anything else: an answer (success or error), or an error another try would repeat.
    Final,
}

/// Why a request is not sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
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
pub enum Decision {
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
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delay after try number `attempt` (1 for the first): `first × 2^(attempt − 1)`,
    /// at most the longest delay, scaled by `0.5 + random / 2` (`random` in `[0, 1]`).
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
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
    pub fn decide(
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
            _ => Decision::Retry {
                delay: self.delay(attempt, random),
                other_host: false,
            },
        }
    }
}

/// Whether an answer's status counts as [`Outcome::ServerError`]: `500`, `502`, `503`, `504`.
pub(crate) fn is_retryable_status(status: http::StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}
