//! The request pipeline, shared by the blocking and async verbs: pure functions from
//! (template, options, clock, nonce) to a signed `http::Request`, and from an
//! `http::Response` to a verified [`Response`] or an [`Error`].

use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use crate::client::Config;
use crate::error::{Error, ErrorKind, ErrorResponse, Result, preview};
use crate::media;
use crate::options::Options;
use crate::response::Response;
use crate::sign::{self, RequestToSign};
use crate::template;
use crate::uri::{BaseUri, build_query};
use crate::v2;
use crate::verify::{self, Verified};

/// The `Accept` header the PHP SDK sends to APIv3.
const V3_ACCEPT: &str =
    "application/json, text/plain, application/x-gzip, application/pdf, image/png, image/*;q=0.5";
/// The `Content-Type` the PHP SDK sends to APIv3 when there is no JSON body.
const V3_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A request ready to send, and what is needed to check its answer.
pub(crate) struct Prepared {
    pub request: http::Request<Bytes>,
    pub timeout: Option<Duration>,
    pub check: Check,
}

/// How to check the answer.
pub(crate) enum Check {
    /// APIv3: verify the `Wechatpay-*` signature of a request to this path.
    V3 { path: String },
    /// APIv2: check `return_code`, `result_code` and `sign`.
    V2(v2::AnswerCheck),
}

/// The timestamp and nonce of one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp<'a> {
    pub timestamp: u64,
    pub nonce: &'a str,
}

/// Expands `template` with `options` and builds the signed request.
pub(crate) fn prepare(
    config: &Config,
    method: Method,
    template: &str,
    options: &Options,
    stamp: Stamp<'_>,
) -> Result<Prepared> {
    let expanded = expand(template, options)?;
    prepare_expanded(config, method, &expanded, options, stamp)
}

/// Checks the options and expands the path template with them.
pub(crate) fn expand(template: &str, options: &Options) -> Result<String> {
    options.check_shape()?;
    template::expand(template, &options.map)
}

/// Builds the signed request for an expanded path.
pub(crate) fn prepare_expanded(
    config: &Config,
    method: Method,
    expanded: &str,
    options: &Options,
    stamp: Stamp<'_>,
) -> Result<Prepared> {
    match v2::strip_prefix(expanded) {
        Some(path) => v2::prepare(config, method, path, options, stamp),
        None => prepare_v3(config, method, expanded, options, stamp),
    }
}

/// Where a request goes: `scheme://authority` and the request target (`path[?query]`), with
/// the `base_uri` and `query` options applied.
pub(crate) struct Destination {
    pub origin: String,
    pub target: String,
}

impl Destination {
    pub(crate) fn resolve(config: &Config, path: &str, options: &Options) -> Result<Self> {
        let per_request;
        let base = match options.base_uri_option()? {
            Some(uri) => {
                per_request = BaseUri::parse(uri)?;
                &per_request
            }
            None => &config.base_uri,
        };
        let (origin, mut target) = base.resolve(path)?;
        if let Some(query) = options.map.get("query").filter(|query| !query.is_null()) {
            let query = build_query(query)?;
            target.truncate(target.find('?').unwrap_or(target.len()));
            if !query.is_empty() {
                target.push('?');
                target.push_str(&query);
            }
        }
        Ok(Self { origin, target })
    }

    /// The path part of the target.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub(crate) fn uri(&self) -> Result<http::Uri> {
        let uri = format!("{}{}", self.origin, self.target);
        http::Uri::try_from(uri.as_str()).map_err(|e| {
            Error::invalid(format!("`{uri}` is not a valid request URI")).with_source(e)
        })
    }
}

/// The body to send and the bytes its signature covers.
struct Body {
    wire: Bytes,
    signed: Bytes,
    content_type: Option<String>,
}

fn v3_body(options: &Options) -> Result<Body> {
    let json = options.map.get("json").filter(|json| !json.is_null());
    let raw = options.raw_body()?;
    let given = [json.is_some(), raw.is_some(), options.media.is_some()];
    if given.iter().filter(|given| **given).count() > 1 {
        return Err(Error::invalid(
            "give only one of the `json`, `body` and media options: they all set the body",
        ));
    }
    if let Some(media) = &options.media {
        let boundary = media::boundary()?;
        return Ok(Body {
            wire: media.multipart_body(&boundary),
            signed: Bytes::from(media.meta().to_owned()),
            content_type: Some(format!("multipart/form-data; boundary={boundary}")),
        });
    }
    if let Some(json) = json {
        let bytes = Bytes::from(serde_json::to_vec(json).map_err(|e| {
            Error::invalid("the `json` option cannot be serialised").with_source(e)
        })?);
        return Ok(Body {
            wire: bytes.clone(),
            signed: bytes,
            content_type: Some("application/json".to_owned()),
        });
    }
    let raw = raw.unwrap_or_default();
    Ok(Body {
        wire: raw.clone(),
        signed: raw,
        content_type: None,
    })
}

fn prepare_v3(
    config: &Config,
    method: Method,
    path: &str,
    options: &Options,
    stamp: Stamp<'_>,
) -> Result<Prepared> {
    let destination = Destination::resolve(config, path, options)?;
    let body = v3_body(options)?;

    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(ACCEPT, HeaderValue::from_static(V3_ACCEPT));
    headers.insert(
        CONTENT_TYPE,
        match &body.content_type {
            Some(content_type) => header_value(CONTENT_TYPE.as_str(), content_type)?,
            None => HeaderValue::from_static(V3_CONTENT_TYPE),
        },
    );
    headers.insert(USER_AGENT, config.user_agent.clone());
    apply_user_headers(&mut headers, options)?;
    add_wechatpay_serial(&mut headers, config)?;

    let authorization = sign::authorize(
        config.signer.as_ref(),
        &config.mchid,
        &config.serial,
        RequestToSign {
            method: method.as_str(),
            target: &destination.target,
            timestamp: stamp.timestamp,
            nonce: stamp.nonce,
            body: &body.signed,
        },
    )?;
    let mut authorization = header_value("Authorization", &authorization)?;
    // Keeps it out of `Debug` output of the request (logs, custom transports).
    authorization.set_sensitive(true);
    headers.insert(AUTHORIZATION, authorization);

    let request = build_request(method, destination.uri()?, headers, body.wire);
    Ok(Prepared {
        request,
        timeout: options.timeout_or(config.timeout)?,
        check: Check::V3 {
            path: destination.path().to_owned(),
        },
    })
}

/// Names the preferred platform key in `Wechatpay-Serial` unless the caller set the header:
/// the key that sensitive fields are encrypted with, and (during a migration to the WeChat
/// Pay public key) the key WeChat Pay should sign its answer with. The official Go SDK does
/// the same on every request.
fn add_wechatpay_serial(headers: &mut HeaderMap, config: &Config) -> Result<()> {
    if headers.contains_key(verify::HEADER_SERIAL) {
        return Ok(());
    }
    if let Some((id, _)) = config.platform_keys.preferred() {
        headers.insert(
            HeaderName::from_static(verify::HEADER_SERIAL),
            header_value("Wechatpay-Serial", id)?,
        );
    }
    Ok(())
}

/// Adds the `headers` option over the defaults (same names replace them).
pub(crate) fn apply_user_headers(headers: &mut HeaderMap, options: &Options) -> Result<()> {
    for (name, value) in options.headers()? {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
            Error::invalid(format!("`{name}` is not a valid header name")).with_source(e)
        })?;
        headers.insert(header, header_value(name, &value)?);
    }
    Ok(())
}

pub(crate) fn header_value(name: &str, value: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(value).map_err(|e| {
        Error::invalid(format!(
            "the `{name}` header value cannot be sent (control characters or line breaks)"
        ))
        .with_source(e)
    })
}

pub(crate) fn build_request(
    method: Method,
    uri: http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> http::Request<Bytes> {
    let mut request = http::Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    request
}

/// Checks the answer to a prepared request.
pub(crate) fn finish(
    config: &Config,
    check: &Check,
    response: http::Response<Bytes>,
    now: u64,
) -> Result<Response> {
    match check {
        Check::V3 { path } => finish_v3(config, path, response, now),
        Check::V2(check) => v2::finish(config, check, response),
    }
}

fn finish_v3(
    config: &Config,
    path: &str,
    response: http::Response<Bytes>,
    now: u64,
) -> Result<Response> {
    let (parts, body) = response.into_parts();
    if !parts.status.is_success() {
        return Err(status_error(parts.status, parts.headers, body));
    }
    match verify::verify_response(path, &parts.headers, &body, now, &config.platform_keys) {
        Ok(Verified::By(id)) => Ok(Response::new(parts.status, parts.headers, body, Some(id))),
        Ok(Verified::Exempt) => Ok(Response::new(parts.status, parts.headers, body, None)),
        Err(error) => {
            Err(error.with_response(ErrorResponse::new(parts.status, parts.headers, body)))
        }
    }
}

/// The error for an answer whose status is not a success.
pub(crate) fn status_error(status: StatusCode, headers: HeaderMap, body: Bytes) -> Error {
    let response = ErrorResponse::new(status, headers, body);
    let message = if status.is_client_error() || status.is_server_error() {
        match (response.code(), response.message()) {
            (Some(_), _) => format!("WeChat Pay answered {status}"),
            _ => format!(
                "WeChat Pay answered {status} with a body that is not a WeChat Pay error: {}",
                preview(response.body())
            ),
        }
    } else {
        format!("WeChat Pay answered {status}, which is not a success; redirects are not followed")
    };
    Error::new(ErrorKind::Api, message).with_response(response)
}
