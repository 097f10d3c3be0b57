//! The checks WeChat Pay makes on a request, made by the mock with the client's own rules:
//! one `Authorization` parser, one query decoder, one rule for the fields a `sign` covers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, Method};
use serde_json::Value;

use super::keys::{MCHID, MERCHANT_SERIAL, SECRET};
use super::recorded::{RecordedMedia, query_pairs};
use super::shared::Shared;
use crate::crypto::sha256_hex;
use crate::toolkit::{self, SignType};
use crate::v2::{merchant_field, signed_fields};
use crate::v3::sign::{parse_authorization, request_message};
use crate::v3::verify::MAX_CLOCK_OFFSET;
use crate::xml::{self, XmlMap};

/// Checks an APIv3 request like WeChat Pay: the `Authorization` format, the merchant, its
/// certificate serial, the timestamp window and the signature over the exact method, target
/// and body (the `meta` JSON of a media upload).
pub(super) fn check_v3(
    shared: &Shared,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
    media: Option<&RecordedMedia>,
) -> Result<(), String> {
    let authorization = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or("Http头缺少Authorization (no Authorization header)")?;
    let fields = parse_authorization(authorization).map_err(|e| e.to_string())?;
    let (serial, merchant_key) = if fields.mchid == MCHID {
        (MERCHANT_SERIAL.to_owned(), shared.merchant_key.clone())
    } else {
        shared
            .merchants
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(fields.mchid)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "mchid `{}` is not the mock merchant `{MCHID}` nor one added with \
                     MockServer::add_merchant",
                    fields.mchid
                )
            })?
    };
    if fields.serial_no != serial {
        return Err(format!(
            "serial_no `{}` is not the certificate of merchant `{}`",
            fields.serial_no, fields.mchid
        ));
    }
    let timestamp: u64 = fields
        .timestamp
        .parse()
        .map_err(|_| format!("timestamp `{}` is not Unix seconds", fields.timestamp))?;
    if timestamp.abs_diff(shared.now()) > MAX_CLOCK_OFFSET {
        return Err("Http头Authorization中的timestamp与发起请求的时间不得超过5分钟".into());
    }
    let signed_body: &[u8] = match media {
        Some(media) => media.meta.as_bytes(),
        None => body,
    };
    let message = request_message(
        method.as_str(),
        target,
        timestamp,
        fields.nonce_str,
        signed_body,
    );
    let raw = STANDARD
        .decode(fields.signature)
        .map_err(|_| "signature is not base64".to_owned())?;
    merchant_key.verify(&message, &raw).map_err(|_| {
        "签名错误: the signature does not match METHOD\\nTARGET\\nTIMESTAMP\\nNONCE\\nBODY\\n"
            .to_owned()
    })?;
    if let Some(media) = media {
        check_media(media)?;
    }
    Ok(())
}

/// Checks an APIv2 request like WeChat Pay: the merchant id and the `sign`. Also returns the
/// request's sign type, which signs the answer.
pub(super) fn check_v2(
    method: &Method,
    target: &str,
    body: &[u8],
) -> (Result<(), String>, SignType) {
    let fields: XmlMap = if method == Method::GET {
        query_pairs(target)
            .map(|(key, value)| {
                (
                    String::from_utf8_lossy(&key).into_owned(),
                    String::from_utf8_lossy(&value).into_owned(),
                )
            })
            .collect()
    } else {
        match xml::parse(body) {
            Ok(fields) => fields,
            Err(e) => {
                return (
                    Err(format!("XML格式错误: the body is not XML: {e}")),
                    SignType::Md5,
                );
            }
        }
    };
    let Some(sign_type) = SignType::from_field(fields.get_str("sign_type")) else {
        let name = fields.get_str("sign_type").unwrap_or_default();
        return (
            Err(format!(
                "签名类型错误: sign_type `{name}` is neither MD5 nor HMAC-SHA256"
            )),
            SignType::Md5,
        );
    };
    (check_v2_fields(&fields, sign_type), sign_type)
}

fn check_v2_fields(fields: &XmlMap, sign_type: SignType) -> Result<(), String> {
    if let Some((key, value)) = merchant_field(fields)
        && value.as_str() != Some(MCHID)
    {
        return Err(format!(
            "商户号错误: `{key}` {} is not the mock merchant `{MCHID}`",
            value.to_json()
        ));
    }
    let given = fields
        .get_str("sign")
        .ok_or("签名错误: the request has no `sign`")?;
    let pairs = signed_fields(fields).map_err(|why| format!("签名错误: {why}"))?;
    match toolkit::sign_matches(sign_type, pairs, SECRET, given) {
        Ok(true) => Ok(()),
        _ => Err(format!(
            "签名错误: the `sign` does not match the fields under {} with the mock APIv2 key",
            sign_type.name()
        )),
    }
}

fn check_media(media: &RecordedMedia) -> Result<(), String> {
    let meta: Value =
        serde_json::from_str(&media.meta).map_err(|_| "the meta part is not JSON".to_owned())?;
    let sha256 = meta.get("sha256").and_then(Value::as_str);
    if sha256 != Some(sha256_hex(&media.content).as_str()) {
        return Err("meta.sha256 is not the SHA-256 of the file part".into());
    }
    Ok(())
}
