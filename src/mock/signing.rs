//! Answers signed the way WeChat Pay signs them: `Wechatpay-*` headers for APIv3, a `sign`
//! field for APIv2, with faults applied on request.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::body::MockBody;
use super::keys::SECRET;
use super::platform::AnswerKey;
use super::rules::{Fault, Reply};
use super::shared::{CachedSignature, Shared};
use crate::crypto::sha1_hex;
use crate::toolkit::{self, SignType};
use crate::v2::fields_from_json;
use crate::v3::sign::{AUTHORIZATION_SCHEME, response_message, sign_base64};
use crate::v3::verify::{HEADER_STATEMENT_SHA1, PROBE_SIGNATURE_PREFIX};
use crate::xml::to_xml_from;

/// The body of `reply`: its bytes, or for [`Reply::xml`] the fields with their `sign`.
pub(super) fn reply_body(reply: &Reply, sign_type: SignType) -> Bytes {
    let Some(xml) = &reply.xml else {
        return reply.body.clone();
    };
    let mut fields = xml.as_object().map(fields_from_json).unwrap_or_default();
    let key = match reply.fault {
        Some(Fault::Unsigned) => None,
        Some(Fault::BadSignature) => Some("not-the-mock-apiv2-secret-000000"),
        _ => Some(SECRET),
    };
    if let Some(key) = key {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?)))
            .collect();
        if let Ok(sign) = toolkit::sign(sign_type, pairs, key) {
            fields.insert("sign", sign);
        }
    }
    if reply.fault == Some(Fault::TamperedBody) {
        let last = fields
            .iter()
            .filter(|(key, _)| *key != "sign")
            .filter_map(|(key, value)| Some((key.to_owned(), format!("{}0", value.as_str()?))))
            .last();
        if let Some((key, value)) = last {
            fields.insert(key, value);
        }
    }
    Bytes::from(to_xml_from(&fields).unwrap_or_default())
}

/// The answer to send for `reply` to a request for `path`, signed, faults applied.
pub(super) fn sign_reply(
    shared: &Shared,
    key: &AnswerKey,
    reply: Reply,
    path: &str,
    v3: bool,
    sign_type: SignType,
) -> http::Response<MockBody> {
    let body = reply_body(&reply, sign_type);
    let mut headers = HeaderMap::new();
    if v3 {
        let statement = path.eq_ignore_ascii_case("/v3/global/statements")
            || path.eq_ignore_ascii_case("/hk/v3/statements");
        let signed = match reply.fault {
            Some(Fault::OversizedBody(_)) => Bytes::new(),
            // Overseas statements are signed over the SHA-1 of the body.
            _ if statement => {
                let sha1 = match reply.fault {
                    Some(Fault::StatementSha1Mismatch) => sha1_hex(b"another statement"),
                    _ => sha1_hex(&body),
                };
                if let Ok(value) = HeaderValue::from_str(&sha1) {
                    headers.insert(HEADER_STATEMENT_SHA1, value);
                }
                Bytes::from(format!("{{\"sha1\":\"{sha1}\"}}"))
            }
            _ => body.clone(),
        };
        insert_signature_headers_by(shared, key, &signed, reply.fault, &mut headers);
    }
    let body = match reply.fault {
        _ if let Some((pattern, len)) = &reply.generated => MockBody::repeating(pattern, *len),
        Some(Fault::OversizedBody(len)) => MockBody::oversized(len),
        Some(Fault::TruncatedBody) => {
            headers.insert(
                http::header::CONTENT_LENGTH,
                HeaderValue::from(body.len() + 2),
            );
            MockBody::cut_after(body.slice(..body.len() / 2))
        }
        Some(Fault::TamperedBody) if v3 => {
            let mut tampered = body.to_vec();
            match tampered.last_mut() {
                Some(last) => *last ^= 0x01,
                None => tampered.push(b' '),
            }
            MockBody::whole(Bytes::from(tampered))
        }
        _ => MockBody::whole(body),
    };
    // The mock's own clock, which a test may set off (MockServer::set_clock_offset).
    let date = std::time::UNIX_EPOCH + std::time::Duration::from_secs(shared.now());
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(date)) {
        headers.insert(http::header::DATE, date);
    }
    let mut response = http::Response::new(body);
    *response.status_mut() = reply.status;
    *response.headers_mut() = headers;
    // The reply's own headers win, so a test can send any `Wechatpay-*` value it wants.
    for (name, value) in &reply.headers {
        response.headers_mut().insert(name, value.clone());
    }
    response
}

/// Adds the `Wechatpay-*` headers of a notification for `body`, faults applied (none for
/// [`Fault::Unsigned`]).
pub(super) fn insert_signature_headers(
    shared: &Shared,
    body: &[u8],
    fault: Option<Fault>,
    headers: &mut HeaderMap,
) {
    let key = shared.platform().answer_key(None);
    insert_signature_headers_by(shared, &key, body, fault, headers);
}

/// Adds the `Wechatpay-*` headers for `body`, signed by `key`, faults applied (none for
/// [`Fault::Unsigned`]).
pub(super) fn insert_signature_headers_by(
    shared: &Shared,
    key: &AnswerKey,
    body: &[u8],
    fault: Option<Fault>,
    headers: &mut HeaderMap,
) {
    if fault == Some(Fault::Unsigned) {
        return;
    }
    let signed = if fault.is_none() && shared.reuse_signatures.load(Ordering::Relaxed) {
        reused_signature_headers(shared, key, body)
    } else {
        signature_headers(key, shared.now(), body, fault)
    };
    insert(signed, headers);
}

/// Adds the `Wechatpay-*` headers for `body`, signed by `key` at `now` (Unix seconds), faults
/// applied (none for [`Fault::Unsigned`]).
pub(super) fn insert_signature_headers_at(
    key: &AnswerKey,
    now: u64,
    body: &[u8],
    fault: Option<Fault>,
    headers: &mut HeaderMap,
) {
    if fault != Some(Fault::Unsigned) {
        insert(signature_headers(key, now, body, fault), headers);
    }
}

fn insert(signed: Vec<(&'static str, String)>, headers: &mut HeaderMap) {
    for (name, value) in signed {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
}

/// The `Wechatpay-*` headers for `body`, faults applied.
fn reused_signature_headers(
    shared: &Shared,
    key: &AnswerKey,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let second = shared.now();
    let mut last = shared
        .last_signature
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(cached) = last.as_ref()
        && cached.second == second
        && cached.key_id == key.id
        && cached.body.as_ref() == body
    {
        return cached.headers.clone();
    }
    let headers = signature_headers(key, second, body, None);
    *last = Some(CachedSignature {
        second,
        key_id: key.id.clone(),
        body: Bytes::copy_from_slice(body),
        headers: headers.clone(),
    });
    headers
}

fn signature_headers(
    key: &AnswerKey,
    now: u64,
    body: &[u8],
    fault: Option<Fault>,
) -> Vec<(&'static str, String)> {
    let nonce = toolkit::nonce(32).unwrap_or_else(|_| "mocknonce".to_owned());
    let mut timestamp = now;
    match fault {
        Some(Fault::StaleTimestamp) => timestamp -= 600,
        Some(Fault::FutureTimestamp) => timestamp += 600,
        _ => {}
    }
    let timestamp = timestamp.to_string();
    let message = match fault {
        Some(Fault::BadSignature) => response_message(&timestamp, &nonce, b"tampered"),
        _ => response_message(&timestamp, &nonce, body),
    };
    let mut signature = sign_base64(&key.key, &message).unwrap_or_default();
    if fault == Some(Fault::Probe) {
        signature.insert_str(0, PROBE_SIGNATURE_PREFIX);
    }
    let serial = match fault {
        Some(Fault::UnknownSerial) => "PUB_KEY_ID_0000000000000000000000000000000000",
        _ => key.id.as_str(),
    };
    vec![
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Serial", serial.to_owned()),
        ("Wechatpay-Signature", signature),
        ("Wechatpay-Timestamp", timestamp),
        (
            "Wechatpay-Signature-Type",
            match fault {
                Some(Fault::WrongSignatureType) => "WECHATPAY2-SM2-WITH-SM3".to_owned(),
                _ => AUTHORIZATION_SCHEME.to_owned(),
            },
        ),
        (
            "Request-ID",
            format!("mock-{}", toolkit::nonce(16).unwrap_or_default()),
        ),
    ]
}
