//! The one error type of the crate.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

/// A shorthand for `Result<T, wechatpay::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, with what to fix in its message.
///
/// Match on [`Error::kind`]; walk [`std::error::Error::source`] for the cause. Errors that came
/// with an answer from WeChat Pay (API errors, answers that failed verification) keep it in
/// [`Error::response`].
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    source: Option<Box<dyn StdError + Send + Sync>>,
    response: Option<ErrorResponse>,
    variables: Vec<String>,
    /// Nothing of the request was sent: it failed while connecting.
    connect: bool,
    /// The exchange broke off after the request was sent (reset, closed early, read
    /// timeout): another try might succeed.
    transient: bool,
    /// The server received the request and refused it before processing it (an HTTP/2
    /// `REFUSED_STREAM`, a `GOAWAY` below its stream); `connect` is set too.
    unprocessed: bool,
}

/// What kind of failure an [`Error`] is.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The client configuration is incomplete or inconsistent (found by `build()`).
    Config,
    /// An argument or request option cannot be used as given.
    InvalidArgument,
    /// The path template names a variable that the options leave missing, `null` or empty;
    /// nothing was sent. See [`Error::variables`].
    MissingPathVariable,
    /// The request could not be sent or the answer could not be read.
    Transport,
    /// The request did not finish within its timeout.
    Timeout,
    /// WeChat Pay answered with an error: an HTTP status of 400 or more (APIv3), a status
    /// that is neither success nor error, or an APIv2 answer whose `return_code` or
    /// `result_code` is not `SUCCESS`. See [`Error::response`].
    Api,
    /// A successful answer (or a notification) failed verification and must not be trusted.
    Verification(Verification),
    /// A key could not be parsed, or signing, encryption or decryption failed.
    Crypto,
    /// A body could not be decoded as the JSON or XML it should be.
    Decode,
}

/// Which step of verifying a WeChat Pay answer or notification failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verification {
    /// One of `Wechatpay-Nonce`, `Wechatpay-Serial`, `Wechatpay-Signature`,
    /// `Wechatpay-Timestamp` (or an APIv2 `sign`) is missing.
    MissingHeader,
    /// `Wechatpay-Timestamp` is more than 300 seconds away from the local clock.
    Timestamp,
    /// `Wechatpay-Serial` names no configured platform key.
    UnknownSerial,
    /// The signature does not match the body (tampered body, wrong key or forged answer).
    Signature,
    /// The signature is one of WeChat Pay's `WECHATPAY/SIGNTEST/` probes, which a merchant must
    /// reject.
    Probe,
    /// `Wechatpay-Serial` names a platform certificate outside its validity (expired, or not
    /// valid yet) by more than 300 seconds: it verifies nothing.
    OutsideValidity,
}

/// The answer that came with an [`ErrorKind::Api`] or [`ErrorKind::Verification`] error.
///
/// Its `Debug` output shows the status, the header names, the body's size and WeChat Pay's
/// `code`, never the body or header values (read them with [`ErrorResponse::body`] and
/// [`ErrorResponse::headers`]).
#[derive(Clone)]
pub struct ErrorResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    code: Option<String>,
    message: Option<String>,
    detail: Option<serde_json::Value>,
    fields: Option<serde_json::Value>,
}

/// The header WeChat Pay names each answer with; support asks for it.
pub(crate) const HEADER_REQUEST_ID: &str = "request-id";

impl ErrorResponse {
    /// Wraps an answer; `code`, `message` and `detail` are read from a JSON body when there
    /// is one (`{"code":"PARAM_ERROR","message":"…","detail":{"field":"…",…}}`).
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        let (code, message, detail) = json_code_and_message(&body);
        Self {
            status,
            headers,
            body,
            code,
            message,
            detail,
            fields: None,
        }
    }

    /// Sets the business `code` and `message` (APIv2 `err_code` / `err_code_des`).
    pub(crate) fn with_code(mut self, code: Option<String>, message: Option<String>) -> Self {
        self.code = code;
        self.message = message;
        self
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body, exactly as received.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// WeChat Pay's error code (`code` of a JSON body, or APIv2 `err_code` /
    /// `return_code`), when there is one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// WeChat Pay's error message (`message` of a JSON body, or APIv2 `err_code_des` /
    /// `return_msg`), when there is one.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// WeChat Pay's `detail` of a JSON error body, when there is one: which field was wrong
    /// and why, e.g. `{"field": "/amount/currency", "value": "XYZ", "issue": "…", "location":
    /// "body"}`.
    pub fn detail(&self) -> Option<&serde_json::Value> {
        self.detail.as_ref()
    }

    /// The `Request-ID` header WeChat Pay names the answer with: give it to WeChat Pay's
    /// support with the question.
    pub fn request_id(&self) -> Option<&str> {
        self.headers.get(HEADER_REQUEST_ID)?.to_str().ok()
    }

    /// Attaches the parsed fields of an APIv2 XML answer.
    pub(crate) fn with_fields(mut self, fields: serde_json::Value) -> Self {
        self.fields = Some(fields);
        self
    }

    /// For an APIv2 answer: its parsed XML fields as a JSON object (every value a string,
    /// nested elements as objects, repeated elements as arrays), e.g.
    /// `{"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "ORDERPAID", …}`.
    /// `None` for APIv3 answers and for bodies that are not XML (read [`ErrorResponse::body`]).
    pub fn fields(&self) -> Option<&serde_json::Value> {
        self.fields.as_ref()
    }
}

impl fmt::Debug for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorResponse")
            .field("status", &self.status)
            .field("headers", &HeaderNames(&self.headers))
            .field("body", &Size(self.body.len()))
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

/// The names of a header map, for `Debug` output that never shows a value.
pub(crate) struct HeaderNames<'h>(pub &'h HeaderMap);

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.keys().map(http::HeaderName::as_str))
            .finish()
    }
}

/// A size in bytes, for `Debug` output that never shows the bytes.
pub(crate) struct Size(pub usize);

impl fmt::Debug for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.0)
    }
}

/// Writes `text` with its control characters escaped (`\n`, `\u{1b}`, …), so that text from a
/// server cannot start a new log line or move a terminal's cursor.
fn write_printable(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for piece in text.split_inclusive(char::is_control) {
        let mut chars = piece.chars();
        match chars.next_back() {
            Some(last) if last.is_control() => {
                f.write_str(chars.as_str())?;
                write!(f, "{}", last.escape_default())?;
            }
            _ => f.write_str(piece)?,
        }
    }
    Ok(())
}

type CodeMessageDetail = (Option<String>, Option<String>, Option<serde_json::Value>);

fn json_code_and_message(body: &[u8]) -> CodeMessageDetail {
    #[derive(serde::Deserialize)]
    struct Body {
        code: Option<String>,
        message: Option<String>,
        detail: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(parsed) => (
            parsed.code,
            parsed.message,
            parsed.detail.filter(|detail| !detail.is_null()),
        ),
        Err(_) => (None, None, None),
    }
}

/// The most characters of one `detail` value that `Display` shows.
const DETAIL_VALUE_LIMIT: usize = 64;

/// Writes WeChat Pay's `detail` briefly: `field /amount/currency, value XYZ, issue …,
/// location body` for the documented shape, compact JSON (cut short) for anything else.
fn write_detail(f: &mut fmt::Formatter<'_>, detail: &serde_json::Value) -> fmt::Result {
    let short = |text: &str| -> String {
        let mut short: String = text.chars().take(DETAIL_VALUE_LIMIT).collect();
        if text.chars().nth(DETAIL_VALUE_LIMIT).is_some() {
            short.push('…');
        }
        short
    };
    let serde_json::Value::Object(fields) = detail else {
        return write_printable(f, &short(&detail.to_string()));
    };
    let mut first = true;
    for name in ["field", "value", "issue", "location"] {
        let Some(value) = fields.get(name).filter(|value| !value.is_null()) else {
            continue;
        };
        if !first {
            f.write_str(", ")?;
        }
        first = false;
        f.write_str(name)?;
        f.write_str(" ")?;
        match value {
            serde_json::Value::String(text) => write_printable(f, &short(text))?,
            other => write_printable(f, &short(&other.to_string()))?,
        }
    }
    if first {
        write_printable(f, &short(&detail.to_string()))?;
    }
    Ok(())
}

impl Error {
    /// A new error of `kind` whose message says what went wrong and what to fix. For your
    /// own [`Signer`](crate::Signer) or [`Transport`](crate::transport::Transport), e.g.
    /// `Error::new(ErrorKind::Crypto, "the HSM is offline").with_source(cause)`.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                source: None,
                response: None,
                variables: Vec::new(),
                connect: false,
                transient: false,
                unprocessed: false,
            }),
        }
    }

    /// Attaches the underlying cause (returned by [`std::error::Error::source`]).
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Marks that this error happened while connecting (DNS, a refused connection, the TLS
    /// handshake, a connect timeout): nothing of the request was sent, so WeChat Pay never saw
    /// it and sending it again is safe. For your own transport (`transport::Transport`).
    pub fn nothing_sent(mut self) -> Self {
        self.inner.connect = true;
        self
    }

    /// Marks a request the server refused before processing it (an HTTP/2 stream reset with
    /// `REFUSED_STREAM`, or left out by a `GOAWAY`): as safe to send again as one never sent,
    /// but the server is reachable (no move to the backup domain).
    pub(crate) fn unprocessed(mut self) -> Self {
        self.inner.connect = true;
        self.inner.unprocessed = true;
        self
    }

    /// Whether the server refused the request before processing it (see
    /// [`Error::unprocessed`]).
    pub(crate) fn is_unprocessed(&self) -> bool {
        self.inner.unprocessed
    }

    /// Marks an exchange that broke off after the request was sent (a reset, a connection
    /// closed before the answer, a read timeout): a read may be tried again.
    pub(crate) fn transient(mut self) -> Self {
        self.inner.transient = true;
        self
    }

    /// Whether the exchange broke off after sending (see [`Error::transient`]).
    pub(crate) fn broke_off(&self) -> bool {
        self.inner.transient
    }

    /// An earlier try of the same request may have reached WeChat Pay: whatever this
    /// error is, sending the request again is no longer known to be safe.
    pub(crate) fn reached_before(mut self) -> Self {
        if self.inner.connect {
            self.inner.connect = false;
            self.inner.message.to_mut().push_str(
                "; an earlier try of this request may have reached WeChat Pay, so query it \
                 before sending it again",
            );
        }
        self
    }

    /// Appends a sentence to the message.
    pub(crate) fn with_note(mut self, note: impl AsRef<str>) -> Self {
        self.inner.message.to_mut().push_str(note.as_ref());
        self
    }

    /// Attaches the answer that caused this error.
    pub(crate) fn with_response(mut self, response: ErrorResponse) -> Self {
        self.inner.response = Some(response);
        self
    }

    /// Attaches the names of missing path variables.
    pub(crate) fn with_variables(mut self, variables: Vec<String>) -> Self {
        self.inner.variables = variables;
        self
    }

    pub(crate) fn config(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub(crate) fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn crypto(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Crypto, message)
    }

    pub(crate) fn decode(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    pub(crate) fn verification(step: Verification, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Verification(step), message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The answer from WeChat Pay behind an [`ErrorKind::Api`] or
    /// [`ErrorKind::Verification`] error, when there was one.
    pub fn response(&self) -> Option<&ErrorResponse> {
        self.inner.response.as_ref()
    }

    /// The HTTP status of the answer behind this error, if any.
    pub fn status(&self) -> Option<StatusCode> {
        self.response().map(ErrorResponse::status)
    }

    /// WeChat Pay's error code, for an [`ErrorKind::Api`] error. (The body of an answer that
    /// failed verification is untrusted, so its `code` is only in [`Error::response`].)
    pub fn code(&self) -> Option<&str> {
        self.api_response().and_then(ErrorResponse::code)
    }

    /// The `Request-ID` of the answer behind this error, when there was one: WeChat Pay's
    /// support asks for it. [`Display`](fmt::Display) shows it too.
    pub fn request_id(&self) -> Option<&str> {
        self.response().and_then(ErrorResponse::request_id)
    }

    fn api_response(&self) -> Option<&ErrorResponse> {
        self.response()
            .filter(|_| self.inner.kind == ErrorKind::Api)
    }

    /// For [`ErrorKind::MissingPathVariable`]: the names of the variables that were missing.
    pub fn variables(&self) -> &[String] {
        &self.inner.variables
    }

    /// Whether the request ran out of time ([`ErrorKind::Timeout`]): connecting, or waiting
    /// for the answer. With [`Error::is_connect`] false, WeChat Pay may have received it.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// Whether the request failed while connecting (DNS, a refused connection, the TLS
    /// handshake, a connect timeout), or was refused by the server before any processing (an
    /// HTTP/2 `REFUSED_STREAM`, or a `GOAWAY` that left its stream out): WeChat Pay never
    /// processed it, so sending it again cannot charge twice.
    ///
    /// This is the one question to ask before sending a payment again: `true` means no try
    /// of the request reached WeChat Pay; `false` means it may have (an answer came, or the
    /// exchange broke off after sending, or the error is about something else), so query
    /// the order first, or send it again with the same merchant order number
    /// (`out_trade_no`, `out_refund_no`), which WeChat Pay deduplicates.
    pub fn is_connect(&self) -> bool {
        self.inner.connect
    }

    /// Whether WeChat Pay answered with an error ([`ErrorKind::Api`]): see [`Error::code`]
    /// and [`Error::response`].
    pub fn is_api(&self) -> bool {
        self.inner.kind == ErrorKind::Api
    }

    /// Whether an answer or a notification failed verification
    /// ([`ErrorKind::Verification`]): it must not be trusted.
    pub fn is_verification(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Verification(_))
    }
}

/// An API error reads `WeChat Pay answered 400 Bad Request (PARAM_ERROR: 参数错误; detail:
/// field /amount/currency, issue …, location body; Request-ID: 08F7…)`: WeChat Pay's `code`,
/// `message`, a short `detail` (each of its values cut at 64 characters) and the answer's
/// `Request-ID`, which support asks for (also shown for answers that failed verification).
///
/// Control characters (line breaks, escapes) in the message and in everything from the answer
/// are written escaped, so a hostile answer cannot forge log lines.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_printable(f, &self.inner.message)?;
        let api = self.api_response();
        let code = api.and_then(ErrorResponse::code);
        let message = api.and_then(ErrorResponse::message);
        let detail = api.and_then(ErrorResponse::detail);
        let request_id = self.request_id();
        if code.is_none() && message.is_none() && detail.is_none() && request_id.is_none() {
            return Ok(());
        }
        f.write_str(" (")?;
        let mut parts = 0;
        if code.is_some() || message.is_some() {
            if let Some(code) = code {
                write_printable(f, code)?;
                if message.is_some() {
                    f.write_str(": ")?;
                }
            }
            if let Some(message) = message {
                write_printable(f, message)?;
            }
            parts += 1;
        }
        if let Some(detail) = detail {
            if parts > 0 {
                f.write_str("; ")?;
            }
            f.write_str("detail: ")?;
            write_detail(f, detail)?;
            parts += 1;
        }
        if let Some(request_id) = request_id {
            if parts > 0 {
                f.write_str("; ")?;
            }
            f.write_str("Request-ID: ")?;
            write_printable(f, request_id)?;
        }
        f.write_str(")")
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Error");
        out.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(response) = &self.inner.response {
            out.field("status", &response.status)
                .field("code", &response.code)
                .field("body", &Size(response.body.len()));
        }
        if !self.inner.variables.is_empty() {
            out.field("variables", &self.inner.variables);
        }
        if self.inner.connect {
            out.field("nothing_sent", &true);
        }
        if let Some(source) = &self.inner.source {
            out.field("source", source);
        }
        out.finish()
    }
}

/// The error for an answer whose status is not a success.
pub(crate) fn status_error(status: StatusCode, headers: HeaderMap, body: Bytes) -> Error {
    let response = ErrorResponse::new(status, headers, body);
    let message = if status.is_client_error() || status.is_server_error() {
        let mut message = match (response.code(), response.message()) {
            (Some(_), _) => format!("WeChat Pay answered {status}"),
            _ => format!(
                "WeChat Pay answered {status} with a body that is not a WeChat Pay error: {}",
                preview(response.body())
            ),
        };
        if status.is_server_error() {
            message.push_str(
                "; the request reached WeChat Pay, which may or may not have processed it: \
                 query it before sending it again (or send it again with the same merchant \
                 order number, which WeChat Pay deduplicates)",
            );
        }
        message
    } else {
        format!("WeChat Pay answered {status}, which is not a success; redirects are not followed")
    };
    Error::new(ErrorKind::Api, message).with_response(response)
}

/// The start of a body, for `Debug`: enough to recognise it, never a whole bill file.
pub(crate) fn preview(body: &[u8]) -> String {
    const LIMIT: usize = 120;
    let text = String::from_utf8_lossy(body);
    let mut preview: String = text.chars().take(LIMIT).collect();
    if text.chars().nth(LIMIT).is_some() {
        preview.push('…');
    }
    if preview.is_empty() {
        preview.push_str("(empty)");
    }
    preview
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}
