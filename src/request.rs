//! One request, one straight path: a plan and the configuration become a signed
//! `http::Request` (APIv3 or APIv2), and the answer becomes a verified [`Response`].
//!
//! Pure functions: the timestamp and the nonce are inputs; nothing here sends anything.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use crate::config::{Config, ResponseLimits};
use crate::crypto::Signer;
use crate::error::{Error, ErrorKind, Result};
use crate::plan::Plan;
use crate::protocol::{self, Api};
use crate::response::Response;
use crate::uri::{BaseUri, Destination, check_secure_origin};
use crate::{v2, v3};

/// How much of an error answer (or of a success answer without its required signature) is
/// read: enough for WeChat Pay's `{"code":…,"message":…}` or APIv2 XML.
pub(crate) const ERROR_BODY_PREFIX: usize = 64 * 1024;

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
    /// How much of the answer to read, and how long to wait for its next bytes.
    pub limits: ResponseLimits,
    pub check: Check,
    /// Built for an asynchronous signer: the `Authorization` header is still to be written
    /// with the signature of this message.
    pub pending: Option<Box<Pending>>,
}

/// What an asynchronous signer signs for a prepared request, and the stamp it was built with.
/// Its `Debug` output shows the message's size only (it holds the body).
pub(crate) struct Pending {
    pub message: Vec<u8>,
    pub timestamp: u64,
    pub nonce: String,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("message", &crate::error::Size(self.message.len()))
            .finish_non_exhaustive()
    }
}

/// How to check the answer: which API, the request path, and whether a success answer must
/// be signed.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    api: Api,
    path: String,
    signed: bool,
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
    prepare_at(config, base, method, plan, timestamp, nonce)
}

/// [`prepare`] against `base` instead of the plan's or the client's base URI: a try sent to
/// the backup domain.
///
/// # Errors
///
/// As [`prepare`].
pub(crate) fn prepare_at(
    config: &Config,
    base: &BaseUri,
    method: Method,
    plan: &Plan,
    timestamp: u64,
    nonce: &str,
) -> Result<Prepared> {
    let stamp = Stamp { timestamp, nonce };
    prepare_signed_by(config, config.signer.as_ref(), base, method, plan, stamp)
}

/// When and with which nonce a request is signed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp<'a> {
    pub timestamp: u64,
    pub nonce: &'a str,
}

/// [`prepare_at`] with `signer` in place of the configured one (an APIv3 request's
/// `Authorization`; APIv2 requests are signed with the APIv2 key).
///
/// # Errors
///
/// As [`prepare`].
pub(crate) fn prepare_signed_by(
    config: &Config,
    signer: &dyn Signer,
    base: &BaseUri,
    method: Method,
    plan: &Plan,
    Stamp { timestamp, nonce }: Stamp<'_>,
) -> Result<Prepared> {
    let destination = Destination::resolve(base, &plan.path, plan.query.as_deref())?;
    if !config.allow_http {
        check_secure_origin(&destination.origin)?;
    }
    protocol::check(plan.api, destination.path())?;
    let request = match plan.api {
        Api::V3 => {
            let stamp = (timestamp, nonce);
            v3::request::build(config, signer, method, plan, &destination, stamp)?
        }
        Api::V2 => v2::request::build(config, method, plan, &destination, nonce)?,
    };
    Ok(Prepared {
        request,
        timeout: plan.timeout.unwrap_or(config.timeout),
        connect_timeout: plan.connect_timeout,
        mutual_tls: plan.security,
        limits: config.limits,
        check: Check {
            api: plan.api,
            signed: plan.api == Api::V3 && !v3::verify::is_unsigned_download(destination.path()),
            path: destination.path().to_owned(),
        },
        pending: None,
    })
}

impl Check {
    /// Whether a success answer must carry `Wechatpay-Signature`: APIv3, except the unsigned
    /// downloads.
    pub(crate) fn must_be_signed(&self) -> bool {
        self.signed
    }

    /// [`prefix`] for an answer to this request.
    pub(crate) fn prefix(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        max: usize,
    ) -> Option<usize> {
        prefix(self.signed, status, headers, max)
    }

    /// Whether a success answer may be streamed into a sink as it arrives, unverified: the
    /// downloads WeChat Pay does not sign (APIv3 bills, images, …; the APIv2
    /// [`NO_SIGNATURE_PATHS`](crate::v2::NO_SIGNATURE_PATHS)). Any other answer must be
    /// verified whole first.
    pub(crate) fn may_stream(&self) -> bool {
        match self.api {
            Api::V3 => v3::verify::is_unsigned_download(&self.path),
            Api::V2 => v2::is_unsigned_path(&self.path),
        }
    }
}

/// WeChat Pay's error code in an answer, for the retry rule: the JSON `code` of an APIv3
/// answer that is not a success, or the `err_code` of an APIv2 answer that names a limit
/// (`…LIMIT…`; other APIv2 answers are not parsed here). `None` otherwise.
pub(crate) fn answer_code(check: &Check, status: StatusCode, body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Coded {
        code: Option<String>,
    }
    match check.api {
        Api::V3 if status.is_success() => None,
        Api::V3 => serde_json::from_slice::<Coded>(body).ok()?.code,
        Api::V2 => {
            let names_a_limit = body.windows(5).any(|window| window == b"LIMIT");
            if !names_a_limit {
                return None;
            }
            let fields = crate::xml::parse(body).ok()?;
            fields.get_str("err_code").map(str::to_owned)
        }
    }
}

/// How many bytes of the body of an answer with `status` and `headers` are worth reading, when
/// not all of them are: an error status, or a success without the signature it must carry
/// (`signed`), makes an error whatever the rest of the body holds ([`ERROR_BODY_PREFIX`], or
/// `max` if smaller). `None`: the whole body, up to `max`.
pub(crate) fn prefix(
    signed: bool,
    status: StatusCode,
    headers: &HeaderMap,
    max: usize,
) -> Option<usize> {
    let unsigned = signed && !headers.contains_key(v3::verify::names::SIGNATURE);
    (!status.is_success() || unsigned).then(|| ERROR_BODY_PREFIX.min(max))
}

/// Checks the answer to a prepared request; `now` is the Unix time in seconds.
///
/// # Errors
///
/// An API error for a status that is not a success (or an APIv2 `FAIL`), a verification error
/// for an answer that must not be trusted, a decode error for an APIv2 answer that is not XML,
/// a transport error for a body over the client's `max_response_size` (a transport that did
/// not honour it). An answer of which only a [`Check::prefix`] was read (the transport is asked
/// for one byte more, to tell whether there was more) is never accepted.
pub(crate) fn finish(
    config: &Config,
    check: &Check,
    mut response: http::Response<Bytes>,
    now: u64,
) -> Result<Response> {
    let max = config.limits.max_response_size;
    let prefix = check.prefix(response.status(), response.headers(), max);
    let truncated = prefix.filter(|&kept| response.body().len() > kept);
    if let Some(kept) = truncated {
        response.body_mut().truncate(kept);
    }
    if truncated.is_none() && response.body().len() > max {
        return Err(Error::new(
            ErrorKind::Transport,
            format!(
                "the answer's body has {} bytes, more than this client's max_response_size \
                 ({max}); the transport did not stop reading at the limit",
                response.body().len()
            ),
        ));
    }
    let checked = match check.api {
        Api::V3 => v3::response::check(config, &check.path, response, now),
        Api::V2 => v2::check(config, &check.path, response),
    };
    let Some(kept) = truncated else {
        return checked;
    };
    let note = format!(
        " (only the first {kept} bytes of the body were read: the rest cannot change the \
         outcome)"
    );
    match checked {
        Err(error) => Err(error.with_note(note)),
        Ok(_) => Err(Error::new(
            ErrorKind::Transport,
            format!("the transport cut the body of a success answer{note}"),
        )),
    }
}
