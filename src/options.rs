//! Request options: the PHP options array as a `serde_json::Value`, or built with methods.
//!
//! | key | meaning |
//! |---|---|
//! | any name used in the path template | fills `{name}` (RFC 6570, percent-encoded); a value making a `.`, `..` or empty segment is refused, and `{+name}` keeps `/`, so never use it for values from outside |
//! | `json` | the body, serialised as JSON, with `Content-Type: application/json` |
//! | `query` | the query string: an object (encoded like PHP's `http_build_query(…, PHP_QUERY_RFC3986)`) or a ready string; replaces any query in the path |
//! | `headers` | extra request headers (`{"Wechatpay-Serial": "PUB_KEY_ID_…"}`); they replace defaults of the same name (`User-Agent` too); `Host`, `Authorization`, `Content-Length`, `Transfer-Encoding`, `Connection`, `Upgrade`, `TE`, `Trailer`, `Keep-Alive`, `Expect` and `Proxy-*` are refused |
//! | `body` | a string body sent verbatim (use [`Options::body`] for bytes) |
//! | `base_uri` | another base URI for this request (`https://apihk.mch.weixin.qq.com/`), resolved like PHP/RFC 3986 |
//! | `timeout` | seconds (a number) for this request, replacing the client's timeout; `0` means no total limit (the client's [`read_timeout`](crate::ClientBuilder::read_timeout) still ends a request whose server falls silent) |
//! | `connect_timeout` | seconds (a number) allowed to connect (TCP and TLS) for this request; `0` means no limit |
//! | `xml` | APIv2: the fields of the XML body (or of the query for `GET`) |
//! | `security` | APIv2: `true` sends the request over mutual TLS with the merchant certificate |
//! | `nonceless` | APIv2: present and not `null` → no `nonce_str` is added |
//! | `retry` | `true`: this call is safe to send again after it may have reached WeChat Pay (see [`Options::retry`]); `GET` always is |
//! | `sink` | a file path: the answer's body is streamed into that file instead of being kept in memory (see [`Options::sink`]) |
//!
//! The options are decoded once, before anything is signed or sent. A key that is neither a
//! variable of the path nor one of the options above is an
//! [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) error that names it and
//! the nearest known name (`jsno` → did you mean `json`?). Guzzle's other request options
//! (`debug`, `verify`, `proxy`, `handler`, `http_errors`, …) are refused with a sentence that
//! says what to do instead (a proxy is set for the whole client:
//! [`ClientBuilder::proxy`](crate::ClientBuilder::proxy)). A key can be both a path variable and an option, exactly as in
//! PHP.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::media::Media;

/// The options of one request. Build it from JSON, or with the methods below.
///
/// ```
/// use serde_json::json;
/// use wechatpay::Options;
///
/// let from_json = Options::from(json!({
///     "out_trade_no": "1217752501201407033233368018",
///     "query": {"mchid": "1230000109"},
/// }));
/// let built = Options::new()
///     .var("out_trade_no", "1217752501201407033233368018")
///     .query(json!({"mchid": "1230000109"}));
/// # let _ = (from_json, built);
/// ```
///
/// A call without options passes `()`: `client["v3/certificates"].get(())`.
///
/// Its `Debug` output shows the option names, the header names and the sizes of the bodies,
/// never a value (a body may hold personal data, a header a credential).
#[derive(Clone, Default)]
pub struct Options {
    pub(crate) map: Map<String, Value>,
    pub(crate) body: Option<Bytes>,
    pub(crate) media: Option<Media>,
    pub(crate) sink: Option<Sink>,
    pub(crate) digest: Option<(String, String)>,
    pub(crate) max_sink_size: Option<u64>,
    pub(crate) not_an_object: Option<&'static str>,
}

/// Where the body of a streamed answer goes ([`Options::sink`], [`Options::sink_to`]).
#[derive(Clone)]
pub(crate) enum Sink {
    /// A file, written under a temporary name beside it and renamed when complete.
    Path(PathBuf),
    /// A writer of the caller's, taken by the one request that uses it.
    Writer(Arc<Mutex<Option<Box<dyn Write + Send>>>>),
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sink::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Sink::Writer(_) => f.write_str("Writer"),
        }
    }
}

impl Options {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a top-level option by name, e.g. a path variable: `.var("out_trade_no", "T1")`.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.map.insert(name.into(), value.into());
        self
    }

    /// Sets the JSON body.
    pub fn json(self, body: impl Into<Value>) -> Self {
        self.var("json", body)
    }

    /// Sets the query: an object (encoded like PHP's `http_build_query`) or a string.
    pub fn query(self, query: impl Into<Value>) -> Self {
        self.var("query", query)
    }

    /// Adds a request header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let headers = self
            .map
            .entry("headers")
            .or_insert_with(|| Value::Object(Map::new()));
        if !headers.is_object() {
            *headers = Value::Object(Map::new());
        }
        if let Value::Object(headers) = headers {
            headers.insert(name.into(), Value::String(value.into()));
        }
        self
    }

    /// Sets a raw body, sent verbatim (and signed as is).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sends this request to another base URI, e.g. `https://apihk.mch.weixin.qq.com/`.
    pub fn base_uri(self, base_uri: impl Into<String>) -> Self {
        self.var("base_uri", base_uri.into())
    }

    /// Sets this request's timeout; zero means no total limit (as `"timeout": 0` in
    /// PHP/Guzzle), though the client's
    /// [`read_timeout`](crate::ClientBuilder::read_timeout) still applies.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.var("timeout", timeout.as_secs_f64())
    }

    /// Sets the time this request may take to connect (TCP and TLS); zero means no limit
    /// (as `"connect_timeout": 0` in Guzzle).
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.var("connect_timeout", timeout.as_secs_f64())
    }

    /// APIv2: the fields of the XML body (or of the query for `GET`).
    pub fn xml(self, fields: impl Into<Value>) -> Self {
        self.var("xml", fields)
    }

    /// APIv2: sends the request over mutual TLS with the merchant certificate.
    pub fn security(self, on: bool) -> Self {
        self.var("security", on)
    }

    /// APIv2: does not add `nonce_str`.
    pub fn nonceless(self) -> Self {
        self.var("nonceless", true)
    }

    /// Uploads a file (APIv3 media upload): a multipart body with the `meta` JSON and the
    /// file, signed over the `meta` JSON.
    pub fn media(mut self, media: Media) -> Self {
        self.media = Some(media);
        self
    }

    /// Marks this call safe to send again after it may have reached WeChat Pay (the option
    /// `"retry": true`): after a timeout, a reset or a `500`/`502`/`503`/`504` answer it is
    /// signed afresh and sent again, like a `GET`, within the client's
    /// [`RetryPolicy`](crate::resilience::RetryPolicy). Without it, a `POST`, `PUT`, `PATCH` or
    /// `DELETE` is only sent again when nothing of it was sent.
    ///
    /// Mark a call only when sending it twice does no harm. WeChat Pay deduplicates by the
    /// merchant's own numbers: a payment order sent again with the same `out_trade_no`
    /// answers as the first did (or `ORDERPAID` / `INVALID_REQUEST` when it already
    /// progressed), a refund sent again with the same `out_refund_no` refunds once, a
    /// transfer batch with the same `out_batch_no` is made once. A call without such a
    /// number (a new number drawn for each try) must not be marked.
    pub fn retry(self) -> Self {
        self.var("retry", true)
    }

    /// Lets the fields WeChat Pay's docs mark encrypted hold plain text in this call (the
    /// option `"allow_plaintext": true`). Without it, a request to a documented operation
    /// whose encrypted field (`user_name` of a transfer, `id_card_number`, `contact_*`, …)
    /// is not an RSA-OAEP ciphertext is refused before anything is sent; encrypt such values
    /// with [`Client::encrypt`](crate::Client::encrypt). For the whole client:
    /// [`ClientBuilder::allow_plaintext`](crate::ClientBuilder::allow_plaintext).
    pub fn allow_plaintext(self) -> Self {
        self.var("allow_plaintext", true)
    }

    /// Streams the answer's body into the file at `path` instead of keeping it in memory (the
    /// PHP SDK's `sink` option, also given as `"sink": "/path/to/file"`), for bills and other
    /// downloads of any size: not bounded by
    /// [`max_response_size`](crate::ClientBuilder::max_response_size), in constant memory.
    ///
    /// The file is written under a temporary name beside `path` and renamed to `path` only
    /// when the download is complete (and its digest matches, with
    /// [`Options::expect_digest`]), so `path` never holds a partial or wrong file; an existing
    /// file there is replaced. The [`Response`](crate::Response) then has an empty body and
    /// says where the body went ([`Response::streamed`](crate::Response::streamed)).
    ///
    /// Only the downloads WeChat Pay does not sign stream as they arrive
    /// (the APIv3 bill download, complaint images, transfer e-receipts and fapiao files, the
    /// APIv2 [`NO_SIGNATURE_PATHS`](crate::v2::NO_SIGNATURE_PATHS)). A signed answer is
    /// verified first, which needs its whole body (up to `max_response_size`), and written to
    /// the sink after it verified; an answer that fails is never written. Error answers are
    /// never written either. A streamed download is not sent again once bytes reached the
    /// sink.
    pub fn sink(mut self, path: impl Into<PathBuf>) -> Self {
        self.sink = Some(Sink::Path(path.into()));
        self
    }

    /// Streams the answer's body into `writer` (see [`Options::sink`]); it is written from
    /// the client's blocking pool as the body arrives, then flushed. Unlike a file path, a
    /// writer sees the bytes before the end: when the request fails (or the digest of
    /// [`Options::expect_digest`] does not match) discard what it received.
    pub fn sink_to(mut self, writer: impl Write + Send + 'static) -> Self {
        self.sink = Some(Sink::Writer(Arc::new(Mutex::new(Some(Box::new(writer))))));
        self
    }

    /// With [`Options::sink`] or [`Options::sink_to`]: checks the streamed body against the
    /// `hash_type` (`SHA1`, `SHA256`) and `hash_value` the bill-apply call gave, as it
    /// streams (a gzip bill is decompressed as it is digested, like
    /// [`bill::check`](crate::bill::check)). A mismatch is an
    /// [`ErrorKind::Verification`](crate::ErrorKind::Verification) error, and a file sink
    /// is then not written.
    pub fn expect_digest(mut self, hash_type: &str, hash_value: &str) -> Self {
        self.digest = Some((hash_type.to_owned(), hash_value.to_owned()));
        self
    }

    /// With [`Options::sink`] or [`Options::sink_to`]: refuses a download larger than `bytes`
    /// (a streamed download is otherwise not bounded in size). The download stops as soon as
    /// it passes the limit, with an [`ErrorKind::Transport`](crate::ErrorKind::Transport)
    /// error; a file sink is then not written.
    pub fn max_sink_size(mut self, bytes: u64) -> Self {
        self.max_sink_size = Some(bytes);
        self
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// A JSON value by its shape: `object of 3 fields`, `string of 12 bytes`, …
        struct Shape<'v>(&'v Value);
        impl fmt::Debug for Shape<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    Value::Object(map) => write!(f, "object of {} fields", map.len()),
                    Value::Array(items) => write!(f, "array of {} items", items.len()),
                    Value::String(text) => write!(f, "string of {} bytes", text.len()),
                    Value::Number(_) => f.write_str("number"),
                    Value::Bool(_) => f.write_str("boolean"),
                    Value::Null => f.write_str("null"),
                }
            }
        }
        /// The header names of the `headers` option.
        struct Names<'m>(&'m Map<String, Value>);
        impl fmt::Debug for Names<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.keys()).finish()
            }
        }
        let mut out = f.debug_map();
        for (key, value) in &self.map {
            match value {
                Value::Object(headers) if key == "headers" => out.entry(key, &Names(headers)),
                _ => out.entry(key, &Shape(value)),
            };
        }
        if let Some(body) = &self.body {
            out.entry(&"(body)", &format_args!("{} bytes", body.len()));
        }
        if let Some(media) = &self.media {
            out.entry(&"(media)", media);
        }
        if let Some(sink) = &self.sink {
            out.entry(&"(sink)", sink);
        }
        if let Some((hash_type, _)) = &self.digest {
            out.entry(&"(expect_digest)", hash_type);
        }
        if let Some(max) = &self.max_sink_size {
            out.entry(&"(max_sink_size)", max);
        }
        if let Some(what) = self.not_an_object {
            out.entry(&"(not an object)", &what);
        }
        out.finish()
    }
}

impl From<Value> for Options {
    /// An object becomes the options; `null` means none. Anything else is reported as an
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) error by the call.
    fn from(value: Value) -> Self {
        match value {
            Value::Object(map) => Self::from(map),
            Value::Null => Self::default(),
            Value::Bool(_) => Self::invalid("a boolean"),
            Value::Number(_) => Self::invalid("a number"),
            Value::String(_) => Self::invalid("a string"),
            Value::Array(_) => Self::invalid("an array"),
        }
    }
}

impl From<Map<String, Value>> for Options {
    fn from(map: Map<String, Value>) -> Self {
        Self {
            map,
            ..Self::default()
        }
    }
}

impl From<()> for Options {
    /// No options: `client["v3/certificates"].get(())`.
    fn from((): ()) -> Self {
        Self::default()
    }
}

impl From<Media> for Options {
    /// Just a media upload.
    fn from(media: Media) -> Self {
        Self::new().media(media)
    }
}

impl Options {
    fn invalid(what: &'static str) -> Self {
        Self {
            not_an_object: Some(what),
            ..Self::default()
        }
    }
}
