//! Notifications (回调通知) as WeChat Pay sends them to a `notify_url`.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::keys::APIV3_KEY;
#[cfg(doc)]
use super::keys::PLATFORM_KEY_ID;
use super::mock_server::MockServer;
use super::notify_v2::{WRONG_APIV3_KEY, tamper_base64};
use super::platform::{Platform, Signing};
use super::rules::Fault;
use super::shared::Shared;
use super::signing::{insert_signature_headers, insert_signature_headers_at};
use crate::crypto::aes_gcm_encrypt;
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::Result;
use crate::toolkit::{self, format_rfc3339};

impl MockServer {
    /// A notification (回调通知) as WeChat Pay would POST it to a `notify_url`: the headers
    /// and the raw body, signed now with the mock platform key ([`PLATFORM_KEY_ID`]), the
    /// `plaintext` resource encrypted with [`APIV3_KEY`] (AEAD_AES_256_GCM, a fresh 12-byte
    /// nonce, `original_type` as the associated data).
    ///
    /// Feed them to [`Client::verify_notification`](crate::Client::verify_notification), or
    /// send them to your own handler.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Crypto`] if encryption or signing fails.
    pub fn notification(
        &self,
        event_type: &str,
        resource_type: &str,
        original_type: &str,
        plaintext: &Value,
    ) -> Result<(HeaderMap, Bytes)> {
        self.notification_with(event_type, resource_type, original_type, plaintext, None)
    }

    /// [`MockServer::notification`] with a fault injected: [`Fault::BadSignature`],
    /// [`Fault::StaleTimestamp`], [`Fault::FutureTimestamp`], [`Fault::UnknownSerial`],
    /// [`Fault::WrongSignatureType`], [`Fault::Probe`] (a `WECHATPAY/SIGNTEST/` signature),
    /// [`Fault::Unsigned`] (no `Wechatpay-*` headers), [`Fault::WrongKey`] (the resource
    /// encrypted with another APIv3 key) or [`Fault::TamperedCiphertext`] (the ciphertext
    /// altered, then signed): the last two verify, and their decryption fails. The faults of
    /// the answer's transport (a dropped connection, a truncated, tampered or oversized body)
    /// have no meaning here and are ignored.
    ///
    /// # Errors
    ///
    /// As [`MockServer::notification`].
    pub fn notification_with(
        &self,
        event_type: &str,
        resource_type: &str,
        original_type: &str,
        plaintext: &Value,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        let envelope = Envelope {
            id: None,
            create_time: None,
            summary: None,
            event_type,
            resource_type,
            original_type,
        };
        v3_notification(&self.shared, &envelope, plaintext, fault)
    }
}

/// The envelope of an APIv3 notification: what is not its resource.
pub(crate) struct Envelope<'a> {
    /// The notification's `id` (the same on every retry); a fresh one when `None`.
    pub id: Option<&'a str>,
    /// When the event happened (Unix seconds); now when `None`.
    pub create_time: Option<u64>,
    /// The `summary`; one by event type when `None`.
    pub summary: Option<&'a str>,
    pub event_type: &'a str,
    pub resource_type: &'a str,
    pub original_type: &'a str,
}

/// See [`MockServer::notification_with`].
pub(super) fn v3_notification(
    shared: &Shared,
    envelope: &Envelope<'_>,
    plaintext: &Value,
    fault: Option<Fault>,
) -> Result<(HeaderMap, Bytes)> {
    build(
        envelope,
        plaintext,
        fault,
        shared.now(),
        |body, fault, headers| {
            insert_signature_headers(shared, body, fault, headers);
        },
    )
}

/// A notification as [`MockServer::notification_with`] makes it, signed now by the key
/// `signing` chooses, without a mock server.
#[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
pub(crate) fn standalone_notification(
    signing: Signing,
    envelope: &Envelope<'_>,
    plaintext: &Value,
    fault: Option<Fault>,
) -> Result<(HeaderMap, Bytes)> {
    let mut platform = Platform::new()?;
    platform.set_signing(signing);
    let key = platform.answer_key(None);
    let now = toolkit::timestamp();
    build(envelope, plaintext, fault, now, |body, fault, headers| {
        insert_signature_headers_at(&key, now, body, fault, headers);
    })
}

fn build(
    envelope: &Envelope<'_>,
    plaintext: &Value,
    fault: Option<Fault>,
    now: u64,
    sign: impl FnOnce(&[u8], Option<Fault>, &mut HeaderMap),
) -> Result<(HeaderMap, Bytes)> {
    let Envelope {
        event_type,
        resource_type,
        original_type,
        ..
    } = *envelope;
    let nonce = toolkit::nonce(12)?;
    let key = match fault {
        Some(Fault::WrongKey) => WRONG_APIV3_KEY,
        _ => APIV3_KEY,
    };
    let mut ciphertext = aes_gcm_encrypt(
        key.as_bytes(),
        nonce.as_bytes(),
        original_type.as_bytes(),
        plaintext.to_string().as_bytes(),
    )?;
    if fault == Some(Fault::TamperedCiphertext) {
        ciphertext = tamper_base64(&ciphertext, |_| true);
    }
    let summary = envelope.summary.unwrap_or(match event_type {
        "TRANSACTION.SUCCESS" => "支付成功",
        "REFUND.SUCCESS" => "退款成功",
        _ => "mock notification",
    });
    let id = match envelope.id {
        Some(id) => id.to_owned(),
        None => format!("EV-{}", toolkit::nonce(20)?),
    };
    let envelope = json!({
        "id": id,
        "create_time": format_rfc3339(envelope.create_time.unwrap_or(now), 8),
        "resource_type": resource_type,
        "event_type": event_type,
        "summary": summary,
        "resource": {
            "original_type": original_type,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": original_type,
            "nonce": nonce,
        },
    });
    let body = Bytes::from(envelope.to_string());
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let fault = fault.filter(|fault| {
        !matches!(
            fault,
            Fault::DropConnection
                | Fault::TamperedBody
                | Fault::TruncatedBody
                | Fault::OversizedBody(_)
                | Fault::StatementSha1Mismatch
        )
    });
    sign(&body, fault, &mut headers);
    Ok((headers, body))
}
