//! The rules of a client that survives the real network, as pure functions and state
//! machines: when a request may be sent again ([`RetryPolicy`]), and when the client moves
//! to the backup domain and back ([`FailoverPolicy`]).
//!
//! Nothing here sends, sleeps or reads the clock: time and randomness are inputs, so every
//! rule has fixed test vectors. The request future is the shell that applies them.
//!
//! # Retries that never charge twice
//!
//! | what happened to an attempt | `GET` | `POST`, `PUT`, `PATCH`, `DELETE` |
//! |---|---|---|
//! | nothing was sent (DNS, refused, TLS handshake, connect timeout: [`Error::is_connect`](crate::Error::is_connect)) | sent again | sent again |
//! | sent, then a timeout, a reset or a connection closed before the answer | sent again | only when marked safe to repeat |
//! | sent, answered `500`, `502`, `503` or `504` | sent again | only when marked safe to repeat |
//! | refused unprocessed: `429` or a rate-limit code ([`RATE_LIMIT_CODES`]), HTTP/2 `REFUSED_STREAM`, a `GOAWAY` below its stream | sent again, after `Retry-After` | sent again, after `Retry-After` |
//! | refused by the client itself (a configuration error: `security: true` without a merchant certificate) | returned | returned |
//! | any other answer, or an error that another try would repeat | returned | returned |
//!
//! A call is marked safe to repeat with [`Options::retry`](crate::Options::retry) (or the
//! option `"retry": true`). WeChat Pay deduplicates by the merchant's numbers: an order sent
//! again with the same `out_trade_no`, or a refund with the same `out_refund_no`, is not
//! made twice, so such calls may be marked. Every try is signed afresh (a new nonce and
//! timestamp), within the request's one `timeout`, with a delay that doubles from try to try
//! and is drawn between half and all of it ("equal jitter"), so that many clients do not
//! retry in step.
//!
//! A rate limit is the one answer that a payment may be sent again after: WeChat Pay says
//! with it that it did not accept the request ("该笔退款未受理，请降低频率后重试"), so sending it
//! again cannot charge twice. The client waits the answer's `Retry-After` seconds when it
//! gives them (and stops at once when that wait would end past the request's `timeout`),
//! else the backoff; the error after the last try names the limit. HTTP/2 says the same of
//! a stream refused with `REFUSED_STREAM` or left out by a `GOAWAY` (RFC 9113 §8.7).
//!
//! # The backup domain
//!
//! WeChat Pay serves the same API on `api2.mch.weixin.qq.com` for when
//! `api.mch.weixin.qq.com` cannot be reached. A request whose connection to the primary fails
//! (nothing sent) goes to the backup at once; after [`FailoverPolicy::after`] such failures in
//! a row every request goes to the backup, and the client probes the primary every
//! [`FailoverPolicy::probe_interval`] (a TCP and TLS handshake, no request) and moves back
//! when it answers.

mod failover;
mod retry;

pub use failover::FailoverPolicy;
pub(crate) use failover::{Change, Failover, Route};
pub(crate) use retry::{Decision, Outcome, Stop};
pub use retry::{RATE_LIMIT_CODES, RetryPolicy};
pub(crate) use retry::{answer_outcome, error_outcome};

#[cfg(test)]
mod tests;
