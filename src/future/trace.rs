//! What a request tells `tracing` (feature `tracing`): one span per request, and events for
//! retries, failover and certificate refreshes. Without the feature every function here is
//! empty and [`Trace`] has no size.
//!
//! The span is `wechatpay.request` (target `wechatpay`, level INFO) with the fields `method`,
//! `path` (the template, never its values), `host`, `attempt`, `status`, `request_id`,
//! `elapsed_ms`, `verified_by`, and `error` (the [`ErrorKind`](crate::ErrorKind) of a failure).
//! Nothing else of a request is recorded: never a key, a signature, the `Authorization`
//! header, a body or a path variable's value.

#[cfg(feature = "tracing")]
mod on {
    use std::time::{Duration, Instant};

    use bytes::Bytes;
    use http::Method;
    use tracing::field::Empty;

    use crate::error::{Error, ErrorKind, Result};
    use crate::response::Response;

    /// A request's span, and when it started (only when someone listens).
    #[derive(Clone)]
    pub(crate) struct Trace {
        span: tracing::Span,
        started: Option<Instant>,
    }

    impl Trace {
        /// The span of a request of `template`.
        pub(crate) fn request(method: &Method, template: &str) -> Self {
            let span = tracing::info_span!(
                target: "wechatpay",
                "wechatpay.request",
                method = method.as_str(),
                path = template,
                host = Empty,
                attempt = Empty,
                status = Empty,
                request_id = Empty,
                elapsed_ms = Empty,
                verified_by = Empty,
                error = Empty,
            );
            let started = (!span.is_disabled()).then(Instant::now);
            Self { span, started }
        }

        /// No span.
        pub(crate) fn none() -> Self {
            Self {
                span: tracing::Span::none(),
                started: None,
            }
        }

        /// `future`, running inside the span.
        pub(crate) fn instrument<F>(&self, future: F) -> tracing::instrument::Instrumented<F> {
            tracing::Instrument::instrument(future, self.span.clone())
        }
    }

    /// Try number `attempt` goes out.
    pub(crate) fn attempt(trace: &Trace, attempt: u32, request: &http::Request<Bytes>) {
        if trace.span.is_disabled() {
            return;
        }
        trace.span.record("attempt", attempt);
        if let Some(host) = request.uri().host() {
            trace.span.record("host", host);
        }
    }

    /// The request is sent again after `delay`.
    pub(crate) fn retrying(
        trace: &Trace,
        attempt: u32,
        result: &Result<http::Response<Bytes>>,
        delay: Duration,
        other_host: bool,
    ) {
        let reason = match result {
            Err(error) if error.is_unprocessed() => {
                "the server refused it before processing it (HTTP/2)"
            }
            Err(error) if error.is_connect() => "nothing was sent (the connection failed)",
            Err(error) if error.is_timeout() => "timed out after sending",
            Err(_) => "the exchange broke off after sending",
            Ok(response) if response.status().is_server_error() => {
                "WeChat Pay answered with a server error"
            }
            Ok(_) => "WeChat Pay's rate limit refused it unprocessed",
        };
        let status = result
            .as_ref()
            .ok()
            .map(|response| response.status().as_u16());
        tracing::warn!(
            target: "wechatpay",
            parent: &trace.span,
            attempt,
            status,
            delay_ms = delay.as_millis() as u64,
            other_host,
            reason,
            "sending the request again"
        );
    }

    /// A rollout of the public key went back to 0 %: an answer to a request that named it
    /// was verified by `verified_by` instead (`None`: it failed verification).
    pub(crate) fn rolled_back(verified_by: Option<&str>) {
        tracing::warn!(
            target: "wechatpay",
            verified_by,
            "an answer to a request that named the WeChat Pay public key was not signed by it \
             (or did not verify): the public-key rollout is back to 0 %, requests name the \
             platform certificate (Client::set_public_key_rollout to try again)"
        );
    }

    /// A certificate expires soon.
    pub(crate) fn expiring(expiring: &crate::crypto::Expiring) {
        tracing::warn!(
            target: "wechatpay",
            serial = expiring.serial.as_str(),
            not_after = expiring.not_after,
            days_left = expiring.days_left,
            "{expiring}"
        );
    }

    /// Every request goes to the backup from now on.
    pub(crate) fn failover(trace: &Trace, primary: &str, backup: &str, failures: u32) {
        tracing::warn!(
            target: "wechatpay",
            parent: &trace.span,
            primary,
            backup,
            failures,
            "the primary domain cannot be reached: requests go to the backup domain, and the \
             primary is probed in the background"
        );
    }

    /// Requests go to the primary again.
    pub(crate) fn switched_back(trace: &Trace, primary: &str) {
        tracing::info!(
            target: "wechatpay",
            parent: &trace.span,
            primary,
            "the primary domain answers again: requests go back to it"
        );
    }

    /// A probe of the primary ended.
    pub(crate) fn probed(primary: &str, error: Option<&Error>) {
        match error {
            None => {
                tracing::info!(target: "wechatpay", primary, "the primary domain answered a probe")
            }
            Some(error) => tracing::debug!(
                target: "wechatpay",
                primary,
                error = ?error.kind(),
                "the primary domain still cannot be reached"
            ),
        }
    }

    /// The platform certificates were downloaded (or the download failed with `failed`).
    pub(crate) fn refreshed(reason: &str, failed: Option<ErrorKind>) {
        match failed {
            None => tracing::info!(
                target: "wechatpay",
                reason,
                "the platform certificates were refreshed"
            ),
            Some(kind) => tracing::warn!(
                target: "wechatpay",
                reason,
                error = ?kind,
                "refreshing the platform certificates failed"
            ),
        }
    }

    /// The request ended with `result`.
    pub(crate) fn finished(trace: &Trace, result: &Result<Response>) {
        if trace.span.is_disabled() {
            return;
        }
        let span = &trace.span;
        if let Some(started) = trace.started {
            span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        }
        let headers = match result {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                span.record("verified_by", response.verified_by().as_str());
                Some(response.headers())
            }
            Err(error) => {
                span.record("error", tracing::field::debug(error.kind()));
                if let Some(status) = error.status() {
                    span.record("status", status.as_u16());
                }
                error.response().map(crate::error::ErrorResponse::headers)
            }
        };
        let request_id = headers
            .and_then(|headers| headers.get(crate::error::HEADER_REQUEST_ID))
            .and_then(|value| value.to_str().ok());
        if let Some(request_id) = request_id {
            span.record("request_id", request_id);
        }
    }
}

#[cfg(not(feature = "tracing"))]
mod off {
    use std::time::Duration;

    use bytes::Bytes;
    use http::Method;

    use crate::error::{Error, ErrorKind, Result};
    use crate::response::Response;

    /// Nothing: the `tracing` feature is off.
    #[derive(Clone)]
    pub(crate) struct Trace;

    impl Trace {
        pub(crate) fn request(_: &Method, _: &str) -> Self {
            Self
        }

        pub(crate) fn none() -> Self {
            Self
        }

        pub(crate) fn instrument<F>(&self, future: F) -> F {
            future
        }
    }

    pub(crate) fn attempt(_: &Trace, _: u32, _: &http::Request<Bytes>) {}

    pub(crate) fn retrying(
        _: &Trace,
        _: u32,
        _: &Result<http::Response<Bytes>>,
        _: Duration,
        _: bool,
    ) {
    }

    pub(crate) fn failover(_: &Trace, _: &str, _: &str, _: u32) {}

    pub(crate) fn rolled_back(_: Option<&str>) {}

    pub(crate) fn expiring(_: &crate::crypto::Expiring) {}

    pub(crate) fn switched_back(_: &Trace, _: &str) {}

    pub(crate) fn probed(_: &str, _: Option<&Error>) {}

    pub(crate) fn refreshed(_: &str, _: Option<ErrorKind>) {}

    pub(crate) fn finished(_: &Trace, _: &Result<Response>) {}
}

#[cfg(feature = "tracing")]
pub(crate) use on::*;

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;
