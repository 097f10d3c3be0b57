//! What the mock answers: replies, faults, and the rules that pick them.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

use super::recorded::RecordedRequest;
use super::ring::Ring;

#[cfg(doc)]
use super::keys::SECRET;
#[cfg(doc)]
use crate::v2;

/// A fault to inject into an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// No `Wechatpay-*` headers (APIv3), no `sign` field ([`Reply::xml`]).
    Unsigned,
    /// A signature that does not match the body (APIv3), a `sign` that does not match the
    /// fields ([`Reply::xml`]).
    BadSignature,
    /// Signed ten minutes ago.
    StaleTimestamp,
    /// Signed with a key id the client does not know.
    UnknownSerial,
    /// A `WECHATPAY/SIGNTEST/` probe signature, which a client must reject.
    Probe,
    /// Closes the connection without answering (after reading the request).
    DropConnection,
    /// Resets the connection (a TCP `RST`) without answering, after reading the request.
    Reset,
    /// Never answers: the connection stays open and silent (until the client gives up, or an
    /// outage of [`MockServer::refuse_connections`](super::MockServer::refuse_connections)).
    Stall,
    /// Notifications only: made with a key other than the mock's, as if the merchant had
    /// configured the wrong one. An APIv3 resource encrypted with another APIv3 key (the
    /// notification verifies, its decryption fails); an APIv2 `sign` made with another APIv2
    /// key; an APIv2 refund `req_info` encrypted with another APIv2 key.
    WrongKey,
    /// Notifications only: the ciphertext altered after encryption. An APIv3
    /// `resource.ciphertext` (signed afterwards, so the notification verifies and its
    /// decryption fails); an APIv2 refund `req_info` (refund notifications are unsigned, so
    /// only its decryption fails).
    TamperedCiphertext,
    /// Signed ten minutes ahead of the clock.
    FutureTimestamp,
    /// A correct signature, but `Wechatpay-Signature-Type` names another algorithm
    /// (`WECHATPAY2-SM2-WITH-SM3`), which a client must refuse.
    WrongSignatureType,
    /// Signed over the real body, then one byte of the body changed on the way (APIv3); for
    /// [`Reply::xml`], a field changed after the `sign` was computed.
    TamperedBody,
    /// On the overseas statements (`/v3/global/statements`, `/hk/v3/statements`, signed over
    /// `{"sha1":"<Wechatpay-Statement-Sha1>"}`): a correctly signed SHA-1 of another body.
    StatementSha1Mismatch,
    /// Announces the whole body in `Content-Length`, sends half of it, and closes the
    /// connection.
    TruncatedBody,
    /// A body of this many bytes of `x`, made as it is sent (the mock never holds it) and sent
    /// without `Content-Length`, so the client must count; the signature headers cover an
    /// empty body.
    OversizedBody(u64),
    /// HTTP/2 front only ([`MockServer::start_h2`](super::MockServer::start_h2)): reads the
    /// request, then resets its stream with `REFUSED_STREAM`, which tells the client that it
    /// was not processed (the request is recorded: the mock saw it). Ignored elsewhere.
    RefusedStream,
}

/// What the mock answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
    pub(super) xml: Option<Value>,
    pub(super) fault: Option<Fault>,
    pub(super) delay: Option<Duration>,
    pub(super) generated: Option<(Bytes, u64)>,
}

impl Reply {
    /// An answer with `status` and an empty body (e.g. `204`); a number that is not an HTTP
    /// status (below 100 or above 999) becomes `500`.
    pub fn status(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            xml: None,
            fault: None,
            delay: None,
            generated: None,
        }
    }

    /// An APIv2 answer: `fields` (a JSON object; values written as
    /// [`v2::fields_from_json`] does) as `<xml>…</xml>`, plus a `sign` computed when
    /// answering, with [`SECRET`] and the request's `sign_type` (`HMAC-SHA256` when the
    /// request used it, else `MD5`), like WeChat Pay. [`Fault::Unsigned`] leaves the `sign`
    /// out; [`Fault::BadSignature`] makes it wrong.
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay::mock::Reply;
    ///
    /// let reply = Reply::xml(200, json!({"return_code": "SUCCESS", "return_msg": "OK"}));
    /// # let _ = reply;
    /// ```
    pub fn xml(status: u16, fields: Value) -> Self {
        let mut reply = Self::status(status).header("Content-Type", "text/xml; charset=utf-8");
        reply.xml = Some(fields);
        reply
    }

    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Self::status(status)
            .header("Content-Type", "application/json")
            .body(body.to_string())
    }

    /// A WeChat Pay error answer: `{"code": code, "message": message}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(status, json!({"code": code, "message": message}))
    }

    /// Sets the body, sent verbatim (replacing the fields of [`Reply::xml`]).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self.xml = None;
        self
    }

    /// A body of `len` bytes repeating `pattern`, made as it is sent, so the mock never holds
    /// it (a 64 MiB bill costs no memory), and sent without `Content-Length`. Its digest is the
    /// one of `pattern` repeated to `len` bytes. An APIv3 answer's signature headers cover an
    /// empty body: make a download with [`Reply::unsigned`].
    ///
    /// ```
    /// use wechatpay::mock::Reply;
    ///
    /// let bill = Reply::status(200).generated("交易时间,公众账号ID\r\n`2019-06-11,`wx1\r\n", 64 << 20).unsigned();
    /// # let _ = bill;
    /// ```
    pub fn generated(mut self, pattern: impl Into<Bytes>, len: u64) -> Self {
        self.generated = Some((pattern.into(), len));
        self.body = Bytes::new();
        self.xml = None;
        self
    }

    /// Adds a header. An invalid name or value is ignored.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.insert(name, value);
        }
        self
    }

    /// Injects a fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// Sends no `Wechatpay-*` signature headers (like the bill download).
    pub fn unsigned(self) -> Self {
        self.fault(Fault::Unsigned)
    }

    /// Waits before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// An answer registered for a method and path.
pub(super) struct Rule {
    pub method: Method,
    pub path: String,
    pub reply: Reply,
    pub once: bool,
}

/// The rules, the fallback and what was received.
pub(super) struct State {
    pub rules: Vec<Rule>,
    pub fallback: Reply,
    pub requests: Ring<RecordedRequest>,
    pub recording: bool,
}

impl State {
    /// The reply of the newest rule for a request (used up if `once`), if any.
    pub(super) fn take_rule(&mut self, method: &Method, path: &str) -> Option<Reply> {
        let index = self
            .rules
            .iter()
            .rposition(|rule| rule.method == method && rule.path == path)?;
        if self.rules[index].once {
            Some(self.rules.remove(index).reply)
        } else {
            Some(self.rules[index].reply.clone())
        }
    }
}
