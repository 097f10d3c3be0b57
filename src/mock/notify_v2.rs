//! APIv2 notifications (XML) as WeChat Pay sends them to a `notify_url`: payment results
//! signed with the APIv2 key, refund results with an encrypted `req_info`; and the key and
//! ciphertext faults that APIv3 notifications share.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::keys::{MCHID, SECRET, apiv2_key};
use super::mock_server::MockServer;
use super::rules::Fault;
#[cfg(doc)]
use crate::client::Client;
use crate::config::ApiV2Key;
use crate::crypto::{aes_ecb_decrypt, aes_ecb_encrypt, md5_hex};
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::toolkit::{self, SignType};
use crate::v2::{fields_from_json, merchant_field, sign_request};
use crate::xml::{XmlMap, to_xml_from};

/// A 32-byte APIv3 key that is not the mock's ([`Fault::WrongKey`]).
pub(super) const WRONG_APIV3_KEY: &str = "not-the-mock-apiv3-key-000000000";
/// An APIv2 key that is not the mock's ([`Fault::WrongKey`]).
const WRONG_SECRET: &str = "not-the-mock-apiv2-secret-000000";

impl MockServer {
    /// An APIv2 notification (e.g. 支付结果通知, the payment result) as WeChat Pay would POST
    /// it to a `notify_url`: `Content-Type: text/xml` and `fields` (a JSON object, values
    /// written as [`v2::fields_from_json`](crate::v2::fields_from_json) does) as `<xml>…</xml>`,
    /// signed with the mock APIv2 key ([`SECRET`]) under `sign_type`.
    ///
    /// Added to `fields` when absent: `mch_id` ([`MCHID`], unless `mchid` or
    /// `combine_mch_id` is there), a fresh `nonce_str`, and `sign_type` for
    /// [`SignType::HmacSha256`] (WeChat Pay leaves it out for MD5). The rest, `return_code`
    /// and `result_code` included, is sent as given.
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay::mock::MockServer;
    /// use wechatpay::toolkit::SignType;
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let mock = MockServer::start()?;
    /// let client = mock.client_builder().build()?;
    /// let (_headers, body) = mock.v2_notification(&json!({
    ///     "return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx2421b1c4370ec43b",
    ///     "openid": "oUpF8uMEb4qRXf22hE3X68TekukE", "trade_type": "JSAPI", "bank_type": "CMC",
    ///     "total_fee": 100, "out_trade_no": "1409811653", "transaction_id": "1004400740201409030005092168",
    ///     "time_end": "20140903131540", "is_subscribe": "Y",
    /// }), SignType::HmacSha256)?;
    ///
    /// let fields = client.verify_v2_notification(&body)?;
    /// assert_eq!(fields.get_str("total_fee"), Some("100"));
    /// assert_eq!(fields.get_str("sign_type"), Some("HMAC-SHA256"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] when `fields` is not a JSON object, or holds a
    /// `sign_type` other than `MD5` and `HMAC-SHA256`.
    pub fn v2_notification(
        &self,
        fields: &Value,
        sign_type: SignType,
    ) -> Result<(HeaderMap, Bytes)> {
        self.v2_notification_with(fields, sign_type, None)
    }

    /// [`MockServer::v2_notification`] with a fault injected: [`Fault::Unsigned`] (no
    /// `sign`), [`Fault::BadSignature`] (a `sign` that does not match the fields) or
    /// [`Fault::WrongKey`] (signed with another APIv2 key). Other faults have no meaning here
    /// and are ignored.
    ///
    /// # Errors
    ///
    /// As [`MockServer::v2_notification`].
    pub fn v2_notification_with(
        &self,
        fields: &Value,
        sign_type: SignType,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        v2_notification(fields, sign_type, fault)
    }

    /// An APIv2 refund notification (退款结果通知) as WeChat Pay would POST it: the outer
    /// `fields` (`appid`, `mch_id`, …; a JSON object) and `req_info`, the `refund` fields
    /// (`out_refund_no`, `refund_status`, …) written as `<root>…</root>` and encrypted like
    /// WeChat Pay's: AES-256-ECB, PKCS#7, with the lower-case hex MD5 of the mock APIv2 key
    /// ([`SECRET`]) as the key, in base64.
    ///
    /// Added to `fields` when absent: `return_code` `SUCCESS`, `mch_id` ([`MCHID`]) and a
    /// fresh `nonce_str`. Like WeChat Pay's, the notification carries no `sign`: decrypting
    /// `req_info` ([`Client::decrypt_v2_refund`]) is what proves it.
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay::mock::MockServer;
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let mock = MockServer::start()?;
    /// let client = mock.client_builder().build()?;
    /// let (_headers, body) = mock.v2_refund_notification(
    ///     &json!({"appid": "wx2421b1c4370ec43b"}),
    ///     &json!({"out_refund_no": "R1", "refund_status": "SUCCESS", "refund_fee": 100}),
    /// )?;
    ///
    /// let outer = wechatpay::xml::parse(&body)?;
    /// let refund = client.decrypt_v2_refund(outer.get_str("req_info").unwrap_or_default())?;
    /// assert_eq!(refund.get_str("refund_status"), Some("SUCCESS"));
    /// assert_eq!(refund.get_str("refund_fee"), Some("100"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] when `fields` or `refund` is not a JSON object, or a
    /// `refund` value holds a character that XML cannot carry.
    pub fn v2_refund_notification(
        &self,
        fields: &Value,
        refund: &Value,
    ) -> Result<(HeaderMap, Bytes)> {
        self.v2_refund_notification_with(fields, refund, None)
    }

    /// [`MockServer::v2_refund_notification`] with a fault injected: [`Fault::WrongKey`]
    /// (`req_info` encrypted with another APIv2 key) or [`Fault::TamperedCiphertext`]
    /// (`req_info` altered so that it no longer decrypts). Other faults have no meaning here
    /// (the notification is not signed) and are ignored.
    ///
    /// # Errors
    ///
    /// As [`MockServer::v2_refund_notification`].
    pub fn v2_refund_notification_with(
        &self,
        fields: &Value,
        refund: &Value,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        v2_refund_notification(fields, refund, fault)
    }
}

/// See [`MockServer::v2_notification_with`].
pub(crate) fn v2_notification(
    fields: &Value,
    sign_type: SignType,
    fault: Option<Fault>,
) -> Result<(HeaderMap, Bytes)> {
    let mut fields = outer_fields(fields)?;
    if sign_type == SignType::HmacSha256 || fields.get("sign_type").is_some() {
        fields.insert("sign_type", sign_type.name());
    }
    let key = match fault {
        Some(Fault::WrongKey) => ApiV2Key::new(WRONG_SECRET)?,
        _ => apiv2_key(),
    };
    sign_request(&mut fields, &key, Some(&toolkit::nonce(32)?))?;
    match fault {
        Some(Fault::Unsigned) => {
            fields.remove("sign");
        }
        Some(Fault::BadSignature) => {
            let sign = fields.get_str("sign").unwrap_or_default();
            let wrong = match sign.chars().next() {
                Some('0') => format!("1{}", &sign[1..]),
                Some(first) => format!("0{}", &sign[first.len_utf8()..]),
                None => "0".to_owned(),
            };
            fields.insert("sign", wrong);
        }
        _ => {}
    }
    xml_notification(&fields)
}

/// See [`MockServer::v2_refund_notification_with`].
pub(crate) fn v2_refund_notification(
    fields: &Value,
    refund: &Value,
    fault: Option<Fault>,
) -> Result<(HeaderMap, Bytes)> {
    let mut outer = outer_fields(fields)?;
    if outer.get("return_code").is_none() {
        outer.insert("return_code", "SUCCESS");
    }
    if outer.get("nonce_str").is_none() {
        outer.insert("nonce_str", toolkit::nonce(32)?);
    }
    let refund = notification_fields(refund, "refund")?;
    let plaintext = root_element(&to_xml_from(&refund)?);
    let secret = match fault {
        Some(Fault::WrongKey) => WRONG_SECRET,
        _ => SECRET,
    };
    let mut req_info =
        aes_ecb_encrypt(md5_hex(secret.as_bytes()).as_bytes(), plaintext.as_bytes())?;
    if fault == Some(Fault::TamperedCiphertext) {
        let key = md5_hex(SECRET.as_bytes());
        req_info = tamper_base64(&req_info, |candidate| {
            aes_ecb_decrypt(key.as_bytes(), candidate).is_err()
        });
    }
    outer.insert("req_info", req_info);
    xml_notification(&outer)
}

/// `fields` (a JSON object) as text fields; `name` names the argument in the error.
fn notification_fields(fields: &Value, name: &str) -> Result<XmlMap> {
    let object = fields.as_object().ok_or_else(|| {
        Error::invalid(format!(
            "the mock notification's `{name}` must be a JSON object of fields, not {fields}"
        ))
    })?;
    Ok(fields_from_json(object))
}

/// The outer fields of a notification, with `mch_id` ([`MCHID`]) added when no merchant
/// field is there.
fn outer_fields(fields: &Value) -> Result<XmlMap> {
    let mut fields = notification_fields(fields, "fields")?;
    if merchant_field(&fields).is_none() {
        fields.insert("mch_id", MCHID);
    }
    Ok(fields)
}

/// The body and headers of an APIv2 notification.
fn xml_notification(fields: &XmlMap) -> Result<(HeaderMap, Bytes)> {
    let body = Bytes::from(to_xml_from(fields)?);
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    Ok((headers, body))
}

/// `<xml>…</xml>` as `<root>…</root>`, the root element of a refund's `req_info`.
fn root_element(xml: &str) -> String {
    match xml
        .strip_prefix("<xml>")
        .and_then(|inner| inner.strip_suffix("</xml>"))
    {
        Some(inner) => format!("<root>{inner}</root>"),
        None => "<root/>".to_owned(),
    }
}

/// `ciphertext` (base64) with one byte changed, from the end, chosen so that `breaks` holds
/// for the result (e.g. "no longer decrypts"); the first change tried when none does.
pub(super) fn tamper_base64(ciphertext: &str, breaks: impl Fn(&str) -> bool) -> String {
    let Ok(mut bytes) = STANDARD.decode(ciphertext) else {
        return format!("{ciphertext}A");
    };
    let mut first = None;
    for index in (0..bytes.len()).rev() {
        for flip in [0x01, 0x80, 0xff] {
            bytes[index] ^= flip;
            let candidate = STANDARD.encode(&bytes);
            bytes[index] ^= flip;
            if breaks(&candidate) {
                return candidate;
            }
            first.get_or_insert(candidate);
        }
    }
    first.unwrap_or_else(|| format!("{ciphertext}A"))
}
