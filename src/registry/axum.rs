//! The axum extractor of a notification for one of many merchants (feature `axum`).

use ::axum::extract::{FromRef, FromRequest, FromRequestParts, RawPathParams, Request};
use http::StatusCode;

use super::merchants::MerchantRegistry;
use crate::axum::Notified;
use crate::callback::{DEFAULT_BODY_LIMIT, Rejection, Reply};
use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::v3::notify::Notification;

/// An extractor of a verified APIv3 notification for one merchant of a
/// [`MerchantRegistry`] (feature `axum`): the route's `{mchid}` path parameter names the
/// merchant, whose client (from the registry of the router's state, any state `S` with
/// `MerchantRegistry: FromRef<S>`) verifies the notification, as
/// [`Notified`](crate::axum::Notified) does with one client.
///
/// A request that fails never reaches the handler; axum answers with the [`Rejection`]:
///
/// | request | status |
/// |---|---|
/// | `{mchid}` is no merchant of the registry | `404` |
/// | the registry's source failed | `500` (WeChat Pay retries) |
/// | a notification signed for another merchant (a key this merchant does not trust) | `401` |
/// | otherwise as [`Notified`](crate::axum::Notified) | `401`, `400`, `413` |
///
/// ```
/// use axum::Router;
/// use axum::routing::post;
/// use wechatpay::callback::Reply;
/// use wechatpay::registry::{MerchantNotified, MerchantRegistry};
///
/// async fn notify(notified: MerchantNotified) -> Result<Reply, Reply> {
///     let event = notified.notification.event()?;
///     // … process `event` for merchant `notified.mchid`, idempotently; `notified.client`
///     // queries WeChat Pay as that merchant …
///     # let _ = event;
///     Ok(Reply::success())
/// }
///
/// fn app(merchants: MerchantRegistry) -> Router {
///     Router::new()
///         .route("/wechatpay/notify/{mchid}", post(notify))
///         .with_state(merchants)
/// }
/// # let _ = app;
/// ```
#[derive(Debug)]
pub struct MerchantNotified<const LIMIT: usize = DEFAULT_BODY_LIMIT> {
    /// The merchant id of the route.
    pub mchid: String,
    /// The merchant's client, which verified the notification.
    pub client: Client,
    /// The verified notification.
    pub notification: Notification,
}

impl<S, const LIMIT: usize> FromRequest<S> for MerchantNotified<LIMIT>
where
    MerchantRegistry: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Rejection> {
        let (mut parts, body) = request.into_parts();
        let params = RawPathParams::from_request_parts(&mut parts, state)
            .await
            .map_err(|rejection| no_route_parameter(&rejection.body_text()))?;
        let Some(mchid) = params
            .iter()
            .find(|(name, _)| *name == "mchid")
            .map(|(_, value)| value.to_owned())
        else {
            return Err(no_route_parameter("the route has no `{mchid}` parameter"));
        };
        let registry = MerchantRegistry::from_ref(state);
        let client = match registry.get(&mchid).await {
            Ok(Some(client)) => client,
            Ok(None) => return Err(unknown_merchant(&mchid)),
            Err(error) => {
                let reply = Reply::failure_with_status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "notification not processed",
                );
                return Err(Rejection::with_reply(error, reply));
            }
        };
        let request = Request::from_parts(parts, body);
        let Notified(notification) = Notified::<LIMIT>::from_request(request, &client).await?;
        Ok(Self {
            mchid,
            client,
            notification,
        })
    }
}

/// A merchant the registry does not know: `404`, whose text names no merchant.
fn unknown_merchant(mchid: &str) -> Rejection {
    let error = Error::new(
        ErrorKind::InvalidArgument,
        format!(
            "a notification for merchant `{}`, which the merchant registry does not know (its \
             source answered None)",
            mchid.escape_debug()
        ),
    );
    Rejection::with_reply(
        error,
        Reply::failure_with_status(StatusCode::NOT_FOUND, "unknown merchant"),
    )
}

/// A route without `{mchid}`: a mistake in the router, `500`.
fn no_route_parameter(why: &str) -> Rejection {
    let error = Error::config(format!(
        "MerchantNotified needs the merchant id in the route, as a `{{mchid}}` path \
         parameter (e.g. `/wechatpay/notify/{{mchid}}`): {why}"
    ));
    Rejection::with_reply(
        error,
        Reply::failure_with_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "notification not processed",
        ),
    )
}
