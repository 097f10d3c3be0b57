//! Building a signed APIv3 request from a plan.

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::sign::{self, RequestToSign};
use super::verify::HEADER_SERIAL;
use crate::config::Config;
use crate::crypto::Signer;
use crate::error::Result;
use crate::media;
use crate::plan::{Body, Plan, header_value};
use crate::uri::Destination;

/// The `Accept` header the PHP SDK sends to APIv3.
const ACCEPT_V3: &str =
    "application/json, text/plain, application/x-gzip, application/pdf, image/png, image/*;q=0.5";
/// The `Content-Type` the PHP SDK sends to APIv3 when there is no JSON body.
const CONTENT_TYPE_V3: &str = "application/json; charset=utf-8";

/// The body to send and the bytes its signature covers.
struct SignedBody {
    wire: Bytes,
    signed: Bytes,
    content_type: Option<HeaderValue>,
}

impl SignedBody {
    fn of(body: &Body) -> Result<Self> {
        Ok(match body {
            Body::Media(media) => {
                let boundary = media::boundary()?;
                SignedBody {
                    wire: media.multipart_body(&boundary),
                    signed: Bytes::from(media.meta().to_owned()),
                    content_type: Some(header_value(
                        CONTENT_TYPE.as_str(),
                        &format!("multipart/form-data; boundary={boundary}"),
                    )?),
                }
            }
            Body::Json(json) => SignedBody {
                wire: json.clone(),
                signed: json.clone(),
                content_type: Some(HeaderValue::from_static("application/json")),
            },
            Body::Raw(raw) => SignedBody {
                wire: raw.clone(),
                signed: raw.clone(),
                content_type: None,
            },
            // The plan never gives an APIv3 call XML fields.
            Body::None | Body::Xml(_) => SignedBody {
                wire: Bytes::new(),
                signed: Bytes::new(),
                content_type: None,
            },
        })
    }
}

/// The request of an APIv3 call to `destination`, at `timestamp` with `nonce`, signed by
/// `signer`.
pub(crate) fn build(
    config: &Config,
    signer: &dyn Signer,
    method: Method,
    plan: &Plan,
    destination: &Destination,
    (timestamp, nonce): (u64, &str),
) -> Result<http::Request<Bytes>> {
    let body = SignedBody::of(&plan.body)?;

    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_V3));
    headers.insert(
        CONTENT_TYPE,
        body.content_type
            .unwrap_or_else(|| HeaderValue::from_static(CONTENT_TYPE_V3)),
    );
    headers.insert(USER_AGENT, config.user_agent.clone());
    for (name, value) in &plan.headers {
        headers.insert(name, value.clone());
    }
    add_wechatpay_serial(&mut headers, config, timestamp, plan.encrypted)?;

    let authorization = sign::authorize(
        signer,
        &config.mchid,
        &config.serial,
        RequestToSign {
            method: method.as_str(),
            target: &destination.target,
            timestamp,
            nonce,
            body: &body.signed,
        },
    )?;
    // Handed over as it is, not copied.
    let mut authorization =
        HeaderValue::from_maybe_shared(Bytes::from(authorization)).map_err(|e| {
            crate::error::Error::invalid(
                "the `Authorization` header cannot be sent (control characters or line breaks \
                 in the merchant id or the serial)",
            )
            .with_source(e)
        })?;
    // Keeps it out of `Debug` output of the request (logs, custom transports).
    authorization.set_sensitive(true);
    headers.insert(AUTHORIZATION, authorization);

    destination.request(method, headers, body.wire)
}

/// Names a platform key at `now` in `Wechatpay-Serial` unless the caller set the header: the
/// preferred one, the key that sensitive fields are encrypted with (the newest valid
/// certificate during a rotation), and (during a migration to the WeChat Pay public key) the
/// key WeChat Pay should sign its answer with, on the share of requests a rollout says
/// ([`KeyRing::request_key`](crate::crypto::KeyRing::request_key); a request carrying
/// `encrypted` fields names the key they are encrypted with). The official Go SDK names the
/// preferred key on every request.
fn add_wechatpay_serial(
    headers: &mut HeaderMap,
    config: &Config,
    now: u64,
    encrypted: bool,
) -> Result<()> {
    if headers.contains_key(HEADER_SERIAL) {
        return Ok(());
    }
    let keys = config.platform_keys.snapshot();
    if let Some(id) = config.platform_keys.request_key(&keys, now, encrypted) {
        headers.insert(
            HeaderName::from_static(HEADER_SERIAL),
            header_value("Wechatpay-Serial", id)?,
        );
    }
    Ok(())
}
