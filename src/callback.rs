//! A `notify_url` for any web framework: glue over the pure
//! [`v3::notify`](crate::v3::notify) layer that verifies a notification request with a
//! client and answers WeChat Pay in its format.
//!
//! [`verify_request`] takes an [`http::Request`] whose body has been read into bytes (the
//! shape hyper, tower and most Rust frameworks can give) and returns the verified
//! [`Notification`], or a [`Rejection`]: why it failed ([`Rejection::error`], for your logs)
//! and the [`Reply`] to send. Feature `axum` adds an extractor on top
//! (`wechatpay::axum::Notified`); a framework with header types of its own hands its headers
//! and raw body to [`Client::verify_notification`] and answers with [`Reply`] (the recipe for
//! actix-web is [below](#actix-web)).
//!
//! What WeChat Pay expects in return (APIv3):
//!
//! | outcome | status | body |
//! |---|---|---|
//! | handled ([`Reply::success`]) | `200` (`204` works too) | none |
//! | not handled ([`Reply::failure`], [`Reply::for_error`]) | `4xx` or `5xx` | `{"code":"FAIL","message":"…"}`, `application/json` |
//!
//! After a failure (or no answer within 5 seconds) WeChat Pay sends the notification again, up
//! to 15 times over about a day, so handle each notification idempotently
//! ([`Deduplicate`](crate::events::Deduplicate)). [`Reply::for_error`] picks the status: `401`
//! for a notification that fails verification (tampered, stale, unknown key, probe), `400` for
//! a body that is not a notification, `500` for failures on your side (no APIv3 key, a
//! resource that the APIv3 key does not open); [`Rejection::body_too_large`] is `413`.
//! (APIv2 notifications are answered in XML instead: [`v2::reply`](crate::v2::reply).)
//!
//! ```
//! use wechatpay::Client;
//! use wechatpay::bytes::Bytes;
//! use wechatpay::callback::{self, Reply};
//! use wechatpay::events::Event;
//! use wechatpay::http::{Request, Response};
//!
//! /// The whole notify_url handler, for a request whose body is already read (limit the body
//! /// while reading it, e.g. to `callback::DEFAULT_BODY_LIMIT` bytes).
//! fn notify(client: &Client, request: &Request<Bytes>) -> Response<Bytes> {
//!     let notification = match callback::verify_request(client, request) {
//!         Ok(notification) => notification,
//!         Err(rejection) => {
//!             eprintln!("notification rejected: {}", rejection.error());
//!             return rejection.into_reply().into_http();
//!         }
//!     };
//!     let reply = match notification.event() {
//!         Ok(Event::TransactionSuccess(paid)) => {
//!             // Mark paid.out_trade_no paid, idempotently: WeChat Pay may send it again.
//!             Reply::success()
//!         }
//!         Ok(_) => Reply::success(),
//!         Err(error) => Reply::for_error(&error),
//!     };
//!     reply.into_http()
//! }
//!
//! # fn main() -> wechatpay::Result<()> {
//! // Try it with a notification made by the mock WeChat Pay server.
//! let mock = wechatpay::mock::MockServer::start()?;
//! let client = mock.client_builder().build()?;
//! let (headers, body) = mock.notification("REFUND.SUCCESS", "encrypt-resource", "refund",
//!     &serde_json::json!({"mchid": "1900000109", "out_trade_no": "1217752501201407033233368018",
//!         "transaction_id": "4200000001201407033233368018", "out_refund_no": "R1",
//!         "refund_id": "50000000382019052709732678859", "refund_status": "SUCCESS",
//!         "user_received_account": "招商银行信用卡0403",
//!         "amount": {"total": 100, "refund": 100, "payer_total": 100, "payer_refund": 100}}))?;
//! let mut request = Request::post("/wechatpay/notify").body(body).unwrap();
//! *request.headers_mut() = headers;
//! assert_eq!(notify(&client, &request).status(), 200);
//!
//! *request.body_mut() = Bytes::from_static(b"{\"forged\":true}");
//! let answer = notify(&client, &request);
//! assert_eq!(answer.status(), 401);
//! assert_eq!(answer.body().as_ref(), br#"{"code":"FAIL","message":"signature verification failed"}"#);
//! # Ok(())
//! # }
//! ```
//!
//! # actix-web
//!
//! actix-web 4 has header types of its own (from `http` 0.2): copy the headers into an
//! [`http::HeaderMap`] and answer with the reply's status and body. Its `web::Bytes` is
//! `bytes::Bytes`, read raw; set its size limit with `web::PayloadConfig`.
//!
//! ```ignore
//! use actix_web::http::{StatusCode, header};
//! use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
//! use wechatpay::callback::{self, Reply};
//! use wechatpay::{Client, http};
//!
//! /// actix-web's headers as an `http::HeaderMap` (every value kept, names lower-cased).
//! fn headers(request: &HttpRequest) -> http::HeaderMap {
//!     let mut headers = http::HeaderMap::with_capacity(request.headers().len());
//!     for (name, value) in request.headers() {
//!         if let (Ok(name), Ok(value)) = (
//!             http::HeaderName::from_bytes(name.as_str().as_bytes()),
//!             http::HeaderValue::from_bytes(value.as_bytes()),
//!         ) {
//!             headers.append(name, value);
//!         }
//!     }
//!     headers
//! }
//!
//! /// WeChat Pay's reply as an actix-web response.
//! fn respond(reply: Reply) -> HttpResponse {
//!     let status = StatusCode::from_u16(reply.status().as_u16())
//!         .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
//!     let mut response = HttpResponse::build(status);
//!     if !reply.is_success() {
//!         response.insert_header((header::CONTENT_TYPE, "application/json"));
//!     }
//!     response.body(reply.body().clone())
//! }
//!
//! async fn notify(client: web::Data<Client>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
//!     let notification = match client.verify_notification(&headers(&request), &body) {
//!         Ok(notification) => notification,
//!         Err(error) => return respond(Reply::for_error(&error)),
//!     };
//!     match notification.event() {
//!         Ok(_event) => respond(Reply::success()), // … handle it, idempotently …
//!         Err(error) => respond(Reply::for_error(&error)),
//!     }
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let client: Client = todo!("Client::builder()…build()");
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(web::Data::new(client.clone()))
//!             .app_data(web::PayloadConfig::new(callback::DEFAULT_BODY_LIMIT))
//!             .route("/wechatpay/notify", web::post().to(notify))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```

use std::fmt;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response, StatusCode};

use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::v3::notify::Notification;

/// The body size a notification endpoint accepts by default: 64 KiB.
///
/// WeChat Pay's notifications are small (an envelope of a few hundred bytes around an
/// encrypted resource of one order, refund or complaint: usually under 4 KiB); the limit keeps
/// an endpoint that anyone can reach from reading and hashing large bodies.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The one text a notification that fails verification is answered with, whichever check
/// failed.
const VERIFICATION_FAILED: &str = "signature verification failed";

/// An answer to a notification, in WeChat Pay's format: success (`200`, no body) or failure
/// (a `4xx` or `5xx` status with `{"code":"FAIL","message":…}`).
///
/// With feature `axum` it is an axum response (`impl IntoResponse`); elsewhere
/// [`Reply::into_http`] gives an [`http::Response`]. `From<Error>` makes `?` work in a
/// handler that returns `Result<Reply, Reply>`.
///
/// ```
/// use wechatpay::callback::Reply;
///
/// assert_eq!(Reply::success().status(), 200);
/// assert!(Reply::success().body().is_empty());
/// let failure = Reply::failure("库存不足");
/// assert_eq!(failure.status(), 500);
/// assert_eq!(failure.body().as_ref(), r#"{"code":"FAIL","message":"库存不足"}"#.as_bytes());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    status: StatusCode,
    body: Bytes,
}

impl Reply {
    /// The notification was handled: `200 OK` with an empty body (WeChat Pay accepts `200`
    /// or `204` without a body). WeChat Pay stops sending it.
    pub fn success() -> Self {
        Self {
            status: StatusCode::OK,
            body: Bytes::new(),
        }
    }

    /// The notification was not handled: `500 Internal Server Error` with the JSON body
    /// `{"code":"FAIL","message":message}`. WeChat Pay sends it again later.
    pub fn failure(message: &str) -> Self {
        let body = serde_json::json!({"code": "FAIL", "message": message}).to_string();
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: Bytes::from(body),
        }
    }

    /// [`Reply::failure`] with another status; a status that is not a client or server error
    /// (`4xx`, `5xx`) becomes `500`, since WeChat Pay reads anything else as success or as
    /// nonsense.
    pub fn failure_with_status(status: StatusCode, message: &str) -> Self {
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        Self {
            status,
            ..Self::failure(message)
        }
    }

    /// The failure answer for `error`, with a status and a short message chosen by its kind:
    ///
    /// | [`Error::kind`] | status | message |
    /// |---|---|---|
    /// | [`Verification`](ErrorKind::Verification) | `401` | `signature verification failed`, whichever check failed |
    /// | [`Decode`](ErrorKind::Decode), [`InvalidArgument`](ErrorKind::InvalidArgument), [`Transport`](ErrorKind::Transport) | `400` | `malformed notification` |
    /// | [`Crypto`](ErrorKind::Crypto) | `500` | `cannot decrypt the notification` |
    /// | any other | `500` | `notification not processed` |
    ///
    /// The error's own message (which says what to fix on your side) is not sent: log it. The
    /// `401` text is the same for every failed check, so that a forger learns nothing from
    /// it about which check stopped a forgery (a missing header, the clock, the serial, the
    /// signature); [`Error::kind`] and the error's message tell you.
    pub fn for_error(error: &Error) -> Self {
        let (status, message) = match error.kind() {
            ErrorKind::Verification(_) => (StatusCode::UNAUTHORIZED, VERIFICATION_FAILED),
            ErrorKind::Decode | ErrorKind::InvalidArgument | ErrorKind::Transport => {
                (StatusCode::BAD_REQUEST, "malformed notification")
            }
            ErrorKind::Crypto => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot decrypt the notification",
            ),
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "notification not processed",
            ),
        };
        Self::failure_with_status(status, message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body: empty for success, the JSON failure object otherwise.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Whether this is the success answer (a `2xx` status).
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The answer as an HTTP response, with `Content-Type: application/json` when it has a
    /// body.
    pub fn into_http(self) -> Response<Bytes> {
        let has_body = !self.body.is_empty();
        let mut response = Response::new(self.body);
        *response.status_mut() = self.status;
        if has_body {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        response
    }
}

impl From<Reply> for Response<Bytes> {
    fn from(reply: Reply) -> Self {
        reply.into_http()
    }
}

/// `?` in a handler that returns `Result<Reply, Reply>`: the error becomes
/// [`Reply::for_error`].
impl From<Error> for Reply {
    fn from(error: Error) -> Self {
        Self::for_error(&error)
    }
}

impl From<Rejection> for Reply {
    fn from(rejection: Rejection) -> Self {
        rejection.reply
    }
}

/// A notification request that was not accepted: why ([`Rejection::error`]) and what to
/// answer ([`Rejection::reply`], a failure in WeChat Pay's format, so that it sends the
/// notification again).
///
/// Its `Display` is the error's, which says what to fix; only the reply goes back to the
/// sender.
pub struct Rejection {
    error: Error,
    reply: Reply,
}

impl Rejection {
    /// A rejection for `error`, answered with [`Reply::for_error`].
    pub fn new(error: Error) -> Self {
        let reply = Reply::for_error(&error);
        Self { error, reply }
    }

    /// A rejection for `error` answered with `reply` (e.g. `404` for a merchant that a
    /// [`MerchantRegistry`](crate::registry::MerchantRegistry) does not know).
    #[cfg(feature = "axum")]
    pub(crate) fn with_reply(error: Error, reply: Reply) -> Self {
        Self { error, reply }
    }

    /// A body over `limit` bytes: `413 Payload Too Large`, for an endpoint that stops reading
    /// at its limit (see [`DEFAULT_BODY_LIMIT`]).
    pub fn body_too_large(limit: usize) -> Self {
        let error = Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "the notification body is over {limit} bytes, far more than WeChat Pay sends; \
                 it was not read (raise the endpoint's body limit if WeChat Pay really sends \
                 such notifications)"
            ),
        );
        Self {
            error,
            reply: Reply::failure_with_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "notification body too large",
            ),
        }
    }

    /// Why the notification was rejected.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The answer to send.
    pub fn reply(&self) -> &Reply {
        &self.reply
    }

    /// The status of the answer.
    pub fn status(&self) -> StatusCode {
        self.reply.status
    }

    /// The answer to send, dropping the error.
    pub fn into_reply(self) -> Reply {
        self.reply
    }

    /// The error and the answer.
    pub fn into_parts(self) -> (Error, Reply) {
        (self.error, self.reply)
    }
}

impl From<Error> for Rejection {
    fn from(error: Error) -> Self {
        Self::new(error)
    }
}

impl From<Rejection> for Error {
    fn from(rejection: Rejection) -> Self {
        rejection.error
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("error", &self.error)
            .field("status", &self.reply.status)
            .finish()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Verifies a notification request whose body has been read (into [`Bytes`], a `Vec<u8>`,
/// …) with the client's platform keys and clock ([`Client::verify_notification`]): the
/// framework-free core of a `notify_url` handler, for hyper, tower or anything that speaks
/// [`http`]. Read the body raw and with a limit (e.g. [`DEFAULT_BODY_LIMIT`] with
/// `http_body_util::Limited`, answering [`Rejection::body_too_large`] beyond it); the method
/// and path are the router's business.
///
/// # Errors
///
/// A [`Rejection`] holding the error of [`Client::verify_notification`] and
/// [`Reply::for_error`] of it.
pub fn verify_request<B: AsRef<[u8]>>(
    client: &Client,
    request: &Request<B>,
) -> Result<Notification, Rejection> {
    client
        .verify_notification(request.headers(), request.body().as_ref())
        .map_err(Rejection::new)
}
