//! APIv2 callbacks: checking a notification's `sign`, decrypting a refund's `req_info`, and
//! the XML answer WeChat Pay expects.

use super::fields::signed_fields;
use crate::config::ApiV2Key;
use crate::crypto::{aes_ecb_decrypt, md5_hex};
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result, Verification};
use crate::toolkit::{self, SignType};
use crate::xml::{self, XmlMap, XmlValue};

/// Checks the `sign` of an APIv2 notification (a payment result, …) with the APIv2 key
/// `key` and returns its fields (`sign` included).
///
/// The algorithm is the notification's `sign_type` field, `MD5` when absent. Only the
/// signature is checked: read `return_code`, `result_code` and the amounts yourself, and
/// answer with [`reply`]. Refund notifications carry no `sign`: decrypt their `req_info` with
/// [`decrypt_refund`] instead.
///
/// # Errors
///
/// * [`ErrorKind::Decode`] when `body` is not XML.
/// * [`ErrorKind::Verification`] with [`Verification::MissingHeader`] when there is no
///   `sign`, and with [`Verification::Signature`] when it does not match, when `sign_type`
///   names an unknown algorithm, or when the notification holds nested or repeated elements.
pub fn verify_notification(body: &[u8], key: &ApiV2Key) -> Result<XmlMap> {
    let fields = xml::parse(body).map_err(|error| {
        Error::decode(format!(
            "the APIv2 notification is not XML ({error}); pass the raw request body"
        ))
        .with_source(error)
    })?;
    let given = match fields.get("sign") {
        None => {
            return Err(Error::verification(
                Verification::MissingHeader,
                "the APIv2 notification has no `sign`; it must not be trusted (a refund \
                 notification is not signed: decrypt its `req_info` instead)",
            ));
        }
        Some(XmlValue::Text(given)) => given,
        Some(_) => {
            return Err(Error::verification(
                Verification::Signature,
                "the APIv2 notification holds more than one `sign`; it must not be trusted",
            ));
        }
    };
    let sign_type = match fields.get("sign_type") {
        None => SignType::Md5,
        Some(value) => value
            .as_str()
            .and_then(|name| SignType::from_field(Some(name)))
            .ok_or_else(|| {
                Error::verification(
                    Verification::Signature,
                    format!(
                        "the APIv2 notification's `sign_type` is {}, neither `MD5` nor \
                         `HMAC-SHA256`; it must not be trusted",
                        value.to_json()
                    ),
                )
            })?,
    };
    let pairs =
        signed_fields(&fields).map_err(|why| Error::verification(Verification::Signature, why))?;
    if !toolkit::sign_matches(sign_type, pairs, key.as_str(), given)? {
        return Err(Error::verification(
            Verification::Signature,
            format!(
                "the APIv2 notification's `sign` does not match its fields (checked as {}): it \
                 may be forged or tampered with, or the APIv2 key (ClientBuilder::apiv2_key) is \
                 wrong",
                sign_type.name()
            ),
        ));
    }
    Ok(fields)
}

/// Decrypts the `req_info` field of an APIv2 refund notification with the APIv2 key
/// `key` and returns the refund's fields (`out_refund_no`, `refund_status`, …).
///
/// `req_info` is base64 AES-256-ECB with PKCS#7 padding; the key is the lower-case hex MD5 of
/// the APIv2 key, used as 32 raw bytes. The plaintext is XML (`<root>…</root>`).
///
/// # Errors
///
/// * [`ErrorKind::Decode`] when `req_info` is not base64 of whole AES blocks, or the plaintext
///   is not XML.
/// * [`ErrorKind::Crypto`] when the padding is wrong after decryption (a wrong APIv2 key or
///   a tampered `req_info`).
pub fn decrypt_refund(req_info: &str, key: &ApiV2Key) -> Result<XmlMap> {
    let key = zeroize::Zeroizing::new(md5_hex(key.as_str().as_bytes()));
    let plaintext = zeroize::Zeroizing::new(aes_ecb_decrypt(key.as_bytes(), req_info.trim())?);
    xml::parse(&plaintext).map_err(|error| {
        Error::decode(format!(
            "the decrypted `req_info` is not XML ({error}); is it the `req_info` of a refund \
             notification?"
        ))
        .with_source(error)
    })
}

/// The XML answer to an APIv2 notification:
/// `<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>` when
/// `success`, else `return_code` `FAIL` with `msg` (WeChat Pay then sends the notification
/// again later).
///
/// ```
/// assert_eq!(
///     wechatpay::v2::reply(true, "OK"),
///     "<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>"
/// );
/// assert_eq!(
///     wechatpay::v2::reply(false, "金额不符 <total_fee>"),
///     "<xml><return_code>FAIL</return_code><return_msg><![CDATA[金额不符 <total_fee>]]></return_msg></xml>"
/// );
/// ```
///
/// Characters that XML cannot carry are left out of `msg`.
pub fn reply(success: bool, msg: &str) -> String {
    let code = if success { "SUCCESS" } else { "FAIL" };
    let msg: String = msg.chars().filter(|&c| xml::is_xml_char(c)).collect();
    let fields: XmlMap = [("return_code", code), ("return_msg", msg.as_str())]
        .into_iter()
        .collect();
    xml::to_xml_from(&fields).unwrap_or_else(|_| {
        format!("<xml><return_code>{code}</return_code><return_msg></return_msg></xml>")
    })
}
