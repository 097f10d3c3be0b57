//! One request, one straight path: a plan and the configuration become a signed
//! `http::Request` (APIv3 or APIv2), and the answer becomes a verified [`Response`].
//!
//! Pure functions: the timestamp and the nonce are inputs; nothing here sends anything.

use std::time::Duration;

use bytes::Bytes;
use http::Method;

use crate::config::Config;
use crate::error::Result;
use crate::plan::Plan;
use crate::protocol::{self, Api};
use crate::response::Response;
use crate::uri::Destination;
use crate::{v2, v3};

/// A request ready to send, and what the sender and the answer check need.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub request: http::Request<Bytes>,
    /// The time allowed for the whole request (`None`: no limit).
    pub timeout: Option<Duration>,
    /// The `connect_timeout` option, when given (`Some(None)`: no limit).
    pub connect_timeout: Option<Option<Duration>>,
    /// APIv2 `security: true`: send it with the merchant's client certificate.
    pub mutual_tls: bool,
    pub check: Check,
}

/// How to check the answer: which API, and the request path.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    api: Api,
    path: String,
}

/// Signs the request `plan` describes, at `timestamp` with `nonce`.
///
/// # Errors
///
/// Anything wrong with the plan against this configuration (a base URI that does not
/// resolve, a path of the other API, an APIv2 merchant id that is not the client's, …), or a
/// failing signer; nothing is sent in any case.
pub(crate) fn prepare(
    config: &Config,
    method: Method,
    plan: &Plan,
    timestamp: u64,
    nonce: &str,
) -> Result<Prepared> {
    let base = plan.base_uri.as_ref().unwrap_or(&config.base_uri);
    let destination = Destination::resolve(base, &plan.path, plan.query.as_deref())?;
    protocol::check(plan.api, destination.path())?;
    let request = match plan.api {
        Api::V3 => v3::request::build(config, method, plan, &destination, timestamp, nonce)?,
        Api::V2 => v2::request::build(config, method, plan, &destination, nonce)?,
    };
    Ok(Prepared {
        request,
        timeout: plan.timeout.unwrap_or(config.timeout),
        connect_timeout: plan.connect_timeout,
        mutual_tls: plan.security,
        check: Check {
            api: plan.api,
            path: destination.path().to_owned(),
        },
    })
}

/// Checks the answer to a prepared request; `now` is the Unix time in seconds.
///
/// # Errors
///
/// An API error for a status that is not a success (or an APIv2 `FAIL`), a verification error
/// for an answer that must not be trusted, a decode error for an APIv2 answer that is not XML.
pub(crate) fn finish(
    config: &Config,
    check: &Check,
    response: http::Response<Bytes>,
    now: u64,
) -> Result<Response> {
    match check.api {
        Api::V3 => v3::answer::check(config, &check.path, response, now),
        Api::V2 => v2::check(config, &check.path, response),
    }
}
