//! axum integration (feature `axum`, for axum 0.8): glue over
//! [`callback`](crate::callback) that hands a handler a verified notification, and WeChat
//! Pay's replies as axum responses.
//!
//! [`Notified`] takes the [`Client`] from the router's state (any state `S` with
//! `Client: FromRef<S>`, e.g. the client itself or a struct with a `#[derive(FromRef)]`
//! field), reads the raw body up to a limit (64 KiB by default:
//! [`DEFAULT_BODY_LIMIT`]), and verifies it with [`Client::verify_notification`]. A
//! request that fails never reaches the handler: axum answers it with the
//! [`Rejection`]'s failure reply (`401` for a notification that fails verification, `413` for
//! a body over the limit, `400` for one that is not a notification), so that WeChat Pay sends
//! it again. [`Reply`] and [`Rejection`] implement `IntoResponse`, and `Error` converts into
//! `Reply`, so a handler can return `Result<Reply, Reply>` and use `?`.
//!
//! ```
//! use axum::Router;
//! use axum::routing::post;
//! use wechatpay::Client;
//! use wechatpay::axum::Notified;
//! use wechatpay::callback::{Reply, Rejection};
//! use wechatpay::events::Event;
//!
//! async fn notify(Notified(notification): Notified) -> Result<Reply, Reply> {
//!     match notification.event()? {
//!         Event::RefundSuccess(refund) => {
//!             // Record refund.out_refund_no as refunded, idempotently.
//!         }
//!         _ => {}
//!     }
//!     Ok(Reply::success())
//! }
//!
//! /// To log rejected requests, take `Result<Notified, Rejection>`.
//! async fn logged(notified: Result<Notified, Rejection>) -> Result<Reply, Reply> {
//!     let Notified(notification) = notified.inspect_err(|rejection| {
//!         eprintln!("notification rejected: {rejection}");
//!     })?;
//!     let _event = notification.event()?;
//!     Ok(Reply::success())
//! }
//!
//! /// A larger body limit (256 KiB), as a const parameter.
//! async fn large(Notified(notification): Notified<{ 256 * 1024 }>) -> Reply {
//!     Reply::success()
//! }
//!
//! fn app(client: Client) -> Router {
//!     Router::new()
//!         .route("/wechatpay/notify", post(notify))
//!         .route("/wechatpay/logged", post(logged))
//!         .route("/wechatpay/large", post(large))
//!         .with_state(client)
//! }
//! # let _ = app;
//! ```
//!
//! # Duplicates
//!
//! WeChat Pay sends a notification again until it gets a success, and sometimes after: keep a
//! [`Deduplicate`](crate::events::Deduplicate) in the state next to the client, and claim each
//! notification id before processing it (with several instances, a shared one: feature
//! `redis`'s `RedisDedupe`).
//!
//! ```
//! use std::sync::Arc;
//!
//! use axum::Router;
//! use axum::extract::{FromRef, State};
//! use axum::routing::post;
//! use wechatpay::Client;
//! use wechatpay::axum::Notified;
//! use wechatpay::callback::Reply;
//! use wechatpay::events::{Claim, Deduplicate, MemoryDedupe};
//!
//! #[derive(Clone)]
//! struct AppState {
//!     client: Client,
//!     seen: Arc<dyn Deduplicate>, // MemoryDedupe, RedisDedupe, or one over your database
//! }
//!
//! impl FromRef<AppState> for Client {
//!     fn from_ref(state: &AppState) -> Client {
//!         state.client.clone()
//!     }
//! }
//!
//! async fn notify(State(state): State<AppState>, Notified(notification): Notified) -> Reply {
//!     let now = wechatpay::toolkit::timestamp();
//!     match state.seen.claim(notification.id(), now).await {
//!         Claim::Done => return Reply::success(), // processed already: acknowledge again
//!         Claim::InProgress => return Reply::failure("being processed"), // retried later
//!         Claim::New => {}
//!     }
//!     match notification.event() {
//!         Ok(_event) => {
//!             // … process the event …
//!             let _ = state.seen.complete(notification.id(), now).await; // log an error
//!             Reply::success()
//!         }
//!         Err(error) => {
//!             let _ = state.seen.release(notification.id()).await; // let the retry through
//!             Reply::for_error(&error)
//!         }
//!     }
//! }
//!
//! fn app(client: Client) -> Router {
//!     let state = AppState { client, seen: Arc::new(MemoryDedupe::new()) };
//!     Router::new().route("/wechatpay/notify", post(notify)).with_state(state)
//! }
//! # let _ = app;
//! ```
//!
//! # Many merchants
//!
//! A platform routes `/…/notify/{mchid}` to each merchant's keys with
//! [`MerchantNotified`](crate::registry::MerchantNotified) and a
//! [`MerchantRegistry`](crate::registry::MerchantRegistry) in the state.

use std::ops::{Deref, DerefMut};

use ::axum::body::Body;
use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::callback::{DEFAULT_BODY_LIMIT, Rejection, Reply};
use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::v3::notify::Notification;

/// An extractor of a verified APIv3 notification: the raw body, read up to `LIMIT` bytes
/// ([`DEFAULT_BODY_LIMIT`], 64 KiB, unless given), verified with the [`Client`] of the
/// router's state.
///
/// It reads the body, so it must be a handler's last argument. It rejects with
/// [`Rejection`]: take `Result<Notified, Rejection>` to see why. See the [module
/// docs](self).
#[derive(Debug)]
pub struct Notified<const LIMIT: usize = DEFAULT_BODY_LIMIT>(pub Notification);

impl<const LIMIT: usize> Notified<LIMIT> {
    /// The verified notification.
    pub fn into_inner(self) -> Notification {
        self.0
    }
}

impl<const LIMIT: usize> Deref for Notified<LIMIT> {
    type Target = Notification;

    fn deref(&self) -> &Notification {
        &self.0
    }
}

impl<const LIMIT: usize> DerefMut for Notified<LIMIT> {
    fn deref_mut(&mut self) -> &mut Notification {
        &mut self.0
    }
}

impl<S, const LIMIT: usize> FromRequest<S> for Notified<LIMIT>
where
    Client: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Rejection> {
        let (parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > LIMIT as u64) {
            return Err(Rejection::body_too_large(LIMIT));
        }
        let body = match Limited::new(body, LIMIT).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<LengthLimitError>() => {
                return Err(Rejection::body_too_large(LIMIT));
            }
            Err(error) => {
                return Err(Rejection::new(
                    Error::new(
                        ErrorKind::Transport,
                        "cannot read the body of the notification request",
                    )
                    .with_source(error),
                ));
            }
        };
        let client = Client::from_ref(state);
        client
            .verify_notification(&parts.headers, &body)
            .map(Notified)
            .map_err(Rejection::new)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        self.into_http().map(Body::from)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.into_reply().into_response()
    }
}
