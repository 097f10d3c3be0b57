//! APIv3 notifications (回调通知), the pure layer: verify a callback with the keys and the
//! time given ([`verify_notification`]), read its envelope, decrypt its resource.
//!
//! Hand over the request headers and the **raw** body bytes, exactly as received (never a
//! re-serialised JSON value: the signature covers the bytes). The glue on top, each for one
//! job: [`Client::verify_notification`](crate::Client::verify_notification) verifies with a
//! client's platform keys and clock (and counts which key did it);
//! [`callback::verify_request`](crate::callback::verify_request) verifies an
//! [`http::Request`] and gives the [`Reply`](crate::callback::Reply) to send when it fails;
//! `wechatpay::axum::Notified` (feature `axum`) is an axum extractor. Answer WeChat Pay with
//! [`callback::Reply`](crate::callback::Reply).
//!
//! ```
//! # fn main() -> wechatpay::Result<()> {
//! # let mock = wechatpay::mock::MockServer::start()?;
//! # let client = mock.client_builder().build()?;
//! # let (headers, body) = mock.notification("TRANSACTION.SUCCESS", "encrypt-resource", "transaction",
//! #     &serde_json::json!({"out_trade_no": "1217752501201407033233368018", "trade_state": "SUCCESS"}))?;
//! // `headers` and `body`: the request WeChat Pay POSTed to the merchant's notify_url.
//! let notification = client.verify_notification(&headers, &body)?;
//! assert_eq!(notification.event_type(), "TRANSACTION.SUCCESS");
//! let transaction: serde_json::Value = notification.decrypt()?;
//! assert_eq!(transaction["trade_state"], "SUCCESS");
//!
//! let reply = wechatpay::callback::Reply::success();
//! assert_eq!(reply.status(), 200);
//! assert!(reply.body().is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! WeChat Pay expects an answer within 5 seconds and retries a notification that was not
//! acknowledged (up to 15 times over about a day), so the same notification may arrive more
//! than once: deduplicate by [`Notification::id`] or by the business key inside.

use std::fmt;

use bytes::Bytes;
use http::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::verify::{Subject, verify_signed_as};
use crate::config::ApiV3Key;
use crate::crypto::{PlatformKeys, aes_gcm_decrypt};
use crate::error::{Error, ErrorKind, Result};

/// The only resource algorithm WeChat Pay uses for APIv3 notifications.
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";

/// The length, in bytes, of `resource.nonce` for [`AEAD_AES_256_GCM`].
const NONCE_LEN: usize = 12;

/// A verified APIv3 notification: its envelope, and a resource to decrypt.
///
/// Made by [`Client::verify_notification`](crate::Client::verify_notification) or [`verify_notification`]. Its `Debug` output
/// never shows the APIv3 key.
#[derive(Clone)]
pub struct Notification {
    envelope: Envelope,
    body: Bytes,
    verified_by: String,
    apiv3_key: Option<ApiV3Key>,
}

/// The JSON envelope of a notification.
#[derive(Clone, Debug, Deserialize)]
struct Envelope {
    id: String,
    #[serde(default)]
    create_time: String,
    #[serde(default)]
    resource_type: String,
    event_type: String,
    #[serde(default)]
    summary: String,
    resource: Resource,
}

/// The encrypted `resource` of a notification.
///
/// WeChat Pay encrypts it with AEAD_AES_256_GCM under the merchant's APIv3 key;
/// [`Notification::decrypt`] opens it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Resource {
    algorithm: String,
    #[serde(default)]
    original_type: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
    ciphertext: String,
}

impl Resource {
    /// The encryption algorithm, `AEAD_AES_256_GCM`.
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The type of the object before encryption, e.g. `transaction` or `refund`.
    pub fn original_type(&self) -> &str {
        &self.original_type
    }

    /// The associated data authenticated with the ciphertext (may be empty).
    pub fn associated_data(&self) -> &str {
        &self.associated_data
    }

    /// The 12-character nonce (IV) of the encryption.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The base64 ciphertext followed by its 16-byte tag.
    pub fn ciphertext(&self) -> &str {
        &self.ciphertext
    }
}

impl Notification {
    /// The notification id, e.g. `EV-2018022511223320873`; the same for every retry of one
    /// notification.
    pub fn id(&self) -> &str {
        &self.envelope.id
    }

    /// When WeChat Pay created the notification (RFC 3339, e.g.
    /// `2015-05-20T13:29:35+08:00`), as sent.
    pub fn create_time(&self) -> &str {
        &self.envelope.create_time
    }

    /// The event, e.g. `TRANSACTION.SUCCESS` or `REFUND.SUCCESS`.
    pub fn event_type(&self) -> &str {
        &self.envelope.event_type
    }

    /// The resource type, `encrypt-resource` for an encrypted resource.
    pub fn resource_type(&self) -> &str {
        &self.envelope.resource_type
    }

    /// WeChat Pay's short description, e.g. `支付成功`.
    pub fn summary(&self) -> &str {
        &self.envelope.summary
    }

    /// The encrypted resource.
    pub fn resource(&self) -> &Resource {
        &self.envelope.resource
    }

    /// The raw body, exactly as received.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The id of the platform key that verified the signature (a `PUB_KEY_ID_…` or a
    /// platform-certificate serial).
    pub fn verified_by(&self) -> &str {
        &self.verified_by
    }

    /// Decrypts the resource and parses it as JSON into `T` (e.g. a transaction or a refund
    /// struct of your own, or `serde_json::Value`).
    ///
    /// # Errors
    ///
    /// As [`Notification::decrypt_raw`], and [`ErrorKind::Decode`] when the plaintext does
    /// not parse as `T`.
    pub fn decrypt<T: DeserializeOwned>(&self) -> Result<T> {
        let plaintext = self.decrypt_raw()?;
        serde_json::from_slice(&plaintext).map_err(|e| {
            Error::decode(format!(
                "the decrypted `{}` resource of notification `{}` does not parse as `{}`: {e}",
                self.resource().original_type(),
                self.id(),
                std::any::type_name::<T>()
            ))
            .with_source(e)
        })
    }

    /// Decrypts the resource and parses it into a typed [`Event`](crate::events::Event),
    /// chosen by the event type (and by `original_type` and the fields where one event type
    /// has several shapes; see [`events`](crate::events)). Event types without a type come
    /// back as [`Event::Other`](crate::events::Event::Other) with the JSON;
    /// [`Notification::decrypt`] still parses into a type of your own.
    ///
    /// # Errors
    ///
    /// As [`Notification::decrypt_raw`], and [`ErrorKind::Decode`] as
    /// [`Event::parse`](crate::events::Event::parse).
    pub fn event(&self) -> Result<crate::events::Event> {
        let plaintext = self.decrypt_raw()?;
        crate::events::Event::parse(
            self.event_type(),
            self.resource().original_type(),
            &plaintext,
        )
    }

    /// Decrypts the resource: AEAD_AES_256_GCM with the APIv3 key, `resource.nonce` and
    /// `resource.associated_data`. The plaintext is usually JSON.
    ///
    /// It comes back in a [`Zeroizing`] buffer (it dereferences to `Vec<u8>`), overwritten
    /// with zeros when dropped; [`Notification::decrypt`] and [`Notification::event`] drop
    /// theirs as soon as they have parsed it. (What they parse into is yours to keep or
    /// clear.)
    ///
    /// # Errors
    ///
    /// * [`ErrorKind::Config`] when no APIv3 key was given (set it with
    ///   [`ClientBuilder::apiv3_key`](crate::ClientBuilder::apiv3_key)).
    /// * [`ErrorKind::Decode`] when the resource is not what WeChat Pay sends: another
    ///   algorithm, a nonce that is not 12 bytes, a ciphertext that is not base64.
    /// * [`ErrorKind::Crypto`] when the resource does not decrypt: almost always a wrong
    ///   APIv3 key.
    pub fn decrypt_raw(&self) -> Result<Zeroizing<Vec<u8>>> {
        let key = self.apiv3_key.as_ref().ok_or_else(|| {
            Error::config(
                "decrypting a notification needs the APIv3 key (APIv3密钥): set it with \
                 ClientBuilder::apiv3_key",
            )
        })?;
        let resource = self.resource();
        if resource.algorithm != AEAD_AES_256_GCM {
            return Err(Error::decode(format!(
                "notification `{}` is encrypted with `{}`; only {AEAD_AES_256_GCM} is supported",
                self.id(),
                resource.algorithm
            )));
        }
        if resource.nonce.len() != NONCE_LEN {
            return Err(Error::decode(format!(
                "the resource nonce of notification `{}` has {} bytes, not {NONCE_LEN}",
                self.id(),
                resource.nonce.len()
            )));
        }
        aes_gcm_decrypt(
            key.as_bytes(),
            resource.nonce.as_bytes(),
            resource.associated_data.as_bytes(),
            &resource.ciphertext,
        )
        .map(Zeroizing::new)
        .map_err(|e| match e.kind() {
            ErrorKind::Crypto => Error::crypto(format!(
                "cannot decrypt the resource of notification `{}`: the APIv3 key does not \
                 open it; check ClientBuilder::apiv3_key against the merchant platform \
                 (账户中心 → API安全 → APIv3密钥; it is not the APIv2 key)",
                self.id()
            ))
            .with_source(e),
            _ => Error::decode(format!(
                "the resource ciphertext of notification `{}` is malformed",
                self.id()
            ))
            .with_source(e),
        })
    }
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("id", &self.envelope.id)
            .field("create_time", &self.envelope.create_time)
            .field("event_type", &self.envelope.event_type)
            .field("resource_type", &self.envelope.resource_type)
            .field("summary", &self.envelope.summary)
            .field("resource", &self.envelope.resource)
            .field("verified_by", &self.verified_by)
            .finish_non_exhaustive()
    }
}

/// Verifies a notification and parses its envelope; `now` is the Unix time in seconds.
///
/// Checks, in order: the four `Wechatpay-*` headers are present, `Wechatpay-Signature-Type`
/// (when sent) is `WECHATPAY2-SHA256-RSA2048`, `Wechatpay-Timestamp` is within 300 s of
/// `now`, `Wechatpay-Serial` names one of `keys`, the signature is not a
/// `WECHATPAY/SIGNTEST/` probe and matches `TIMESTAMP\nNONCE\nBODY\n`. Only then is the body
/// parsed. `apiv3_key` is kept for [`Notification::decrypt`]; without it the notification is
/// still verified.
///
/// # Errors
///
/// * [`ErrorKind::Verification`] naming the failed step:
///   [`MissingHeader`](crate::Verification::MissingHeader),
///   [`Timestamp`](crate::Verification::Timestamp),
///   [`UnknownSerial`](crate::Verification::UnknownSerial),
///   [`Probe`](crate::Verification::Probe) or
///   [`Signature`](crate::Verification::Signature).
/// * [`ErrorKind::Decode`] when a correctly signed body is not a notification envelope.
pub fn verify_notification(
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
    keys: &PlatformKeys,
    apiv3_key: Option<&ApiV3Key>,
) -> Result<Notification> {
    let verified_by = verify_signed_as(Subject::Notification, headers, body, now, keys)?;
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        Error::decode(format!(
            "the notification is correctly signed but its body is not the JSON envelope \
             WeChat Pay sends (id, event_type, resource{{algorithm, nonce, ciphertext}}): {e}"
        ))
        .with_source(e)
    })?;
    Ok(Notification {
        envelope,
        body: Bytes::copy_from_slice(body),
        verified_by: verified_by.to_owned(),
        apiv3_key: apiv3_key.cloned(),
    })
}
