//! APIv2 callbacks: checking a notification's `sign`, decrypting a refund's `req_info`, and
//! the XML answer WeChat Pay expects.

use super::answer::signed_pairs;
use super::sign::{self, SignType};
use super::xml::{self, XmlMap, XmlValue};
use crate::client::Client;
use crate::crypto::{aes_ecb_decrypt, md5_hex};
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result, Verification};

/// Checks the `sign` of an APIv2 notification (a payment result, …) with the APIv2 key
/// `secret` and returns its fields (`sign` included).
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
/// * [`ErrorKind::InvalidArgument`] when `secret` is empty.
pub fn verify_notification(body: &[u8], secret: &str) -> Result<XmlMap> {
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
        signed_pairs(&fields).map_err(|why| Error::verification(Verification::Signature, why))?;
    if !sign::sign_matches(sign_type, pairs, secret, given)? {
        return Err(Error::verification(
            Verification::Signature,
            format!(
                "the APIv2 notification's `sign` does not match its fields (checked as {}): it \
                 may be forged or tampered with, or the APIv2 key (ClientBuilder::secret) is \
                 wrong",
                sign_type.name()
            ),
        ));
    }
    Ok(fields)
}

/// Decrypts the `req_info` field of an APIv2 refund notification with the APIv2 key
/// `secret` and returns the refund's fields (`out_refund_no`, `refund_status`, …).
///
/// `req_info` is base64 AES-256-ECB with PKCS#7 padding; the key is the lower-case hex MD5 of
/// the APIv2 key, used as 32 raw bytes. The plaintext is XML (`<root>…</root>`).
///
/// # Errors
///
/// * [`ErrorKind::InvalidArgument`] when `secret` is empty.
/// * [`ErrorKind::Decode`] when `req_info` is not base64 of whole AES blocks, or the plaintext
///   is not XML.
/// * [`ErrorKind::Crypto`] when the padding is wrong after decryption (a wrong APIv2 key or
///   a tampered `req_info`).
pub fn decrypt_refund(req_info: &str, secret: &str) -> Result<XmlMap> {
    if secret.is_empty() {
        return Err(Error::invalid(
            "the APIv2 key (secret) is empty; set it with ClientBuilder::secret",
        ));
    }
    let key = md5_hex(secret.as_bytes());
    let plaintext = aes_ecb_decrypt(key.as_bytes(), req_info.trim())?;
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

impl Client {
    /// Checks the `sign` of an APIv2 notification with the client's APIv2 key and returns
    /// its fields; see [`verify_notification`](crate::v2::verify_notification).
    ///
    /// ```
    /// use wechatpay::mock::{self, MockServer};
    /// use wechatpay::v2::{self, sign::SignType, xml::{XmlMap, to_xml_from}};
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let client = MockServer::start()?.client_builder().build()?;
    /// // What WeChat Pay would send (signed here with the mock's APIv2 key):
    /// let mut fields: XmlMap = [("return_code", "SUCCESS"), ("out_trade_no", "1217752501201407033233368018")]
    ///     .into_iter()
    ///     .collect();
    /// v2::sign_request(&mut fields, mock::SECRET, Some("5d2b6c2a8db53831f7eda20af46e531c"))?;
    /// let body = to_xml_from(&fields)?;
    ///
    /// let notification = client.verify_v2_notification(body.as_bytes())?;
    /// assert_eq!(notification.get_str("out_trade_no"), Some("1217752501201407033233368018"));
    /// let answer = v2::reply(true, "OK");
    /// # let _ = answer;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the client has no APIv2 key
    /// ([`ClientBuilder::secret`](crate::ClientBuilder::secret)); otherwise as
    /// [`verify_notification`](crate::v2::verify_notification).
    pub fn verify_v2_notification(&self, body: &[u8]) -> Result<XmlMap> {
        verify_notification(body, super::secret(self.config())?)
    }

    /// Decrypts the `req_info` of an APIv2 refund notification with the client's APIv2 key;
    /// see [`decrypt_refund`](crate::v2::decrypt_refund).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the client has no APIv2 key
    /// ([`ClientBuilder::secret`](crate::ClientBuilder::secret)); otherwise as
    /// [`decrypt_refund`](crate::v2::decrypt_refund).
    pub fn decrypt_v2_refund(&self, req_info: &str) -> Result<XmlMap> {
        decrypt_refund(req_info, super::secret(self.config())?)
    }
}
