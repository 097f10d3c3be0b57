//! A verified answer.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::v2::xml::{self, XmlMap};

/// A successful answer from WeChat Pay, already verified (see [`Response::verified_by`]).
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    verified_by: Option<String>,
}

impl Response {
    pub(crate) fn new(
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        verified_by: Option<String>,
    ) -> Self {
        Self {
            status,
            headers,
            body,
            verified_by,
        }
    }

    /// The HTTP status (`200`, `202`, `204`, …).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body, exactly as received (bill files stay gzip if they came gzip).
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// Consumes the answer, returning the raw body.
    pub fn into_bytes(self) -> Bytes {
        self.body
    }

    /// The body as UTF-8 text.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when it is not UTF-8.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.body)
            .map_err(|e| Error::decode("the answer's body is not UTF-8 text").with_source(e))
    }

    /// The body parsed as JSON into `T` (a struct of yours, or `serde_json::Value`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when it does not parse as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::decode(format!(
                "the answer's body does not parse as the expected JSON: {e}"
            ))
            .with_source(e)
        })
    }

    /// The body parsed as APIv2 XML: the fields of `<xml>…</xml>` in document order.
    ///
    /// ```text
    /// res.xml()?.get_str("prepay_id")
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the body is not well-formed XML
    /// (for example a CSV bill from `v2/pay/downloadbill`; read [`Response::text`] then).
    pub fn xml(&self) -> Result<XmlMap> {
        xml::parse(&self.body)
    }

    /// What vouched for this answer:
    ///
    /// * APIv3: the id of the platform key (`PUB_KEY_ID_…` or certificate serial) whose
    ///   `Wechatpay-Signature` was verified;
    /// * APIv2: the algorithm of the `sign` field that was checked, `"MD5"` or
    ///   `"HMAC-SHA256"`;
    /// * `None` for the answers WeChat Pay does not sign: the APIv3 downloads (bills, images,
    ///   …) and the APIv2 paths of [`v2::NO_SIGNATURE_PATHS`](crate::v2::NO_SIGNATURE_PATHS)
    ///   (bills, red packets, transfers, …), which are handed back untouched.
    pub fn verified_by(&self) -> Option<&str> {
        self.verified_by.as_deref()
    }

    /// Whether a signature was checked: an APIv3 `Wechatpay-Signature` or an APIv2 `sign`
    /// (see [`Response::verified_by`]).
    pub fn is_verified(&self) -> bool {
        self.verified_by.is_some()
    }
}
