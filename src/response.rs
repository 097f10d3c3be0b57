//! A verified answer.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use std::fmt;

use crate::error::{Error, HeaderNames, Result, Size};
use crate::toolkit::SignType;
use crate::xml::{self, XmlMap};

/// What vouched for an answer ([`Response::verified_by`]).
///
/// Compares equal to its text ([`VerifiedBy::as_str`]):
/// `assert_eq!(res.verified_by(), "PUB_KEY_ID_…")`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VerifiedBy {
    /// APIv3: the `Wechatpay-Signature` verified with the platform key of this id (a
    /// `PUB_KEY_ID_…` or a platform-certificate serial).
    PlatformKey(String),
    /// APIv2: the `sign` field checked with the APIv2 key, under this algorithm.
    Sign(SignType),
    /// Nothing: a download WeChat Pay does not sign (APIv3 bills, images, e-receipts; the
    /// APIv2 paths of [`v2::NO_SIGNATURE_PATHS`](crate::v2::NO_SIGNATURE_PATHS)), handed back
    /// untouched. Check its content yourself (e.g. [`bill::check`](crate::bill::check)).
    Unsigned,
}

impl VerifiedBy {
    /// The platform key id, for [`VerifiedBy::PlatformKey`].
    pub fn key_id(&self) -> Option<&str> {
        match self {
            VerifiedBy::PlatformKey(id) => Some(id),
            _ => None,
        }
    }

    /// Whether a signature was checked (anything but [`VerifiedBy::Unsigned`]).
    pub(crate) fn is_signature(&self) -> bool {
        !matches!(self, VerifiedBy::Unsigned)
    }

    /// The key id, the sign algorithm (`MD5`, `HMAC-SHA256`), or `unsigned`.
    pub fn as_str(&self) -> &str {
        match self {
            VerifiedBy::PlatformKey(id) => id,
            VerifiedBy::Sign(sign_type) => sign_type.name(),
            VerifiedBy::Unsigned => "unsigned",
        }
    }
}

impl fmt::Display for VerifiedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for VerifiedBy {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for VerifiedBy {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Where the body of an answer went instead of memory: the `sink` of the request
/// ([`Options::sink`](crate::Options::sink), [`Options::sink_to`](crate::Options::sink_to)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Streamed {
    /// How many bytes were written.
    pub bytes: u64,
    /// The file they went to; `None` for a writer.
    pub path: Option<std::path::PathBuf>,
    /// Whether the digest of [`Options::expect_digest`](crate::Options::expect_digest) was
    /// checked (and matched: a mismatch is an error).
    pub digest_checked: bool,
}

/// A successful answer from WeChat Pay, already verified (see [`Response::verified_by`]).
///
/// Its `Debug` output shows the status, the header names, the body's size and what verified
/// it, never the body or header values.
#[derive(Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    verified_by: VerifiedBy,
    streamed: Option<Streamed>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &HeaderNames(&self.headers))
            .field("body", &Size(self.body.len()))
            .field("verified_by", &self.verified_by)
            .field("streamed", &self.streamed)
            .finish()
    }
}

impl Response {
    pub(crate) fn new(
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        verified_by: VerifiedBy,
    ) -> Self {
        Self {
            status,
            headers,
            body,
            verified_by,
            streamed: None,
        }
    }

    /// This answer, its body gone into a sink.
    pub(crate) fn into_streamed(mut self, streamed: Streamed) -> Self {
        self.body = Bytes::new();
        self.streamed = Some(streamed);
        self
    }

    /// For a request with a `sink`: where the body went and how many bytes (the body here is
    /// then empty). `None` when the body is in memory.
    pub fn streamed(&self) -> Option<&Streamed> {
        self.streamed.as_ref()
    }

    /// The `Request-ID` header WeChat Pay names each answer with (support asks for it).
    pub fn request_id(&self) -> Option<&str> {
        self.headers
            .get(crate::error::HEADER_REQUEST_ID)?
            .to_str()
            .ok()
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

    /// What vouched for this answer: the platform key that verified an APIv3 answer, the
    /// algorithm of a checked APIv2 `sign`, or [`VerifiedBy::Unsigned`] for the downloads
    /// WeChat Pay does not sign (bills, images, …), which are handed back untouched.
    pub fn verified_by(&self) -> &VerifiedBy {
        &self.verified_by
    }

    /// Whether a signature was checked: an APIv3 `Wechatpay-Signature` or an APIv2 `sign`
    /// (see [`Response::verified_by`]).
    pub fn is_verified(&self) -> bool {
        self.verified_by.is_signature()
    }
}
