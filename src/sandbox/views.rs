//! The control API's JSON of what is not an entity: deliveries, the clock, the settings.

use serde_json::{Value, json};

use super::clock::rfc3339;
use super::core::Core;
use super::deliveries::{Attempt, Delivery, Payload};
use crate::mock::{self, Fault, Signing};

/// A fault's name in the control API and `wechatpay notify send --tamper`.
pub(crate) const FAULTS: [(&str, Fault); 9] = [
    ("signature", Fault::BadSignature),
    ("stale", Fault::StaleTimestamp),
    ("future", Fault::FutureTimestamp),
    ("serial", Fault::UnknownSerial),
    ("signature-type", Fault::WrongSignatureType),
    ("probe", Fault::Probe),
    ("unsigned", Fault::Unsigned),
    ("wrong-key", Fault::WrongKey),
    ("ciphertext", Fault::TamperedCiphertext),
];

/// The fault of a name.
pub(crate) fn fault_named(name: &str) -> Option<Fault> {
    FAULTS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|(_, fault)| *fault)
}

fn fault_name(fault: Fault) -> &'static str {
    FAULTS
        .iter()
        .find(|(_, known)| *known == fault)
        .map_or("other", |(name, _)| name)
}

/// A signing mode's name (`--signing`).
pub(crate) fn signing_name(signing: Signing) -> &'static str {
    match signing {
        Signing::Certificate => "certificate",
        Signing::Migrating => "migrating",
        _ => "public-key",
    }
}

/// The signing mode of a name.
pub(crate) fn signing_named(name: &str) -> Option<Signing> {
    match name {
        "public-key" => Some(Signing::PublicKey),
        "certificate" => Some(Signing::Certificate),
        "migrating" => Some(Signing::Migrating),
        _ => None,
    }
}

fn attempt(a: &Attempt) -> Value {
    json!({
        "number": a.number,
        "manual": a.manual,
        "scheduled_time": rfc3339(a.scheduled_ms),
        "time": rfc3339(a.started_ms),
        "status": a.status,
        "latency_ms": a.latency_ms,
        "answer": a.answer,
        "error": a.error,
        "accepted": a.accepted,
        "verdict": a.verdict,
    })
}

/// A delivery and its attempts.
pub(crate) fn delivery(d: &Delivery) -> Value {
    let notice = &d.notice;
    let (api, payload) = match &notice.payload {
        Payload::V3(resource) => ("v3", resource.clone()),
        Payload::V2(fields) => ("v2", fields.clone()),
        Payload::V2Refund { fields, refund } => {
            let mut fields = fields.clone();
            fields["req_info"] = refund.clone();
            ("v2", fields)
        }
    };
    json!({
        "id": d.id,
        "seq": d.seq,
        "event_type": notice.event_type,
        "summary": notice.summary,
        "api": api,
        "url": notice.url,
        "subject": {"kind": notice.subject.0, "number": notice.subject.1},
        "notification_id": d.notification_id,
        "genuine": notice.fault.is_none(),
        "fault": notice.fault.map(fault_name),
        "retries": notice.retry,
        "state": d.state,
        "create_time": rfc3339(d.created_ms),
        "next_retry": d.next_ms.filter(|_| !d.in_flight).map(rfc3339),
        "in_flight": d.in_flight,
        "attempts": d.attempts.iter().map(attempt).collect::<Vec<_>>(),
        "resource": payload,
    })
}

/// The clock.
pub(crate) fn clock(core: &Core) -> Value {
    let now = core.now_ms();
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    json!({
        "time": rfc3339(now),
        "unix_ms": now,
        "time_scale": core.clock.scale(),
        "ahead_seconds": ((now as f64 - real as f64) / 1000.0).round() as i64,
    })
}

/// What a client needs, and how the sandbox runs.
pub(crate) fn settings(core: &Core) -> Value {
    let Some(mock) = core.mock() else {
        return json!({});
    };
    let base_uri = format!("http://{}/", mock.address);
    let tls_base_uri = format!("https://{}/", mock.tls_address);
    let (in_use, listed) = mock.certificates().unwrap_or_default();
    let signing = mock.signing().map_or("public-key", signing_name);
    json!({
        "base_uri": base_uri,
        "tls_base_uri": tls_base_uri,
        "control_uri": format!("{base_uri}_sandbox/"),
        "mchid": mock::MCHID,
        "merchants": mock.merchants().unwrap_or_default(),
        "serial": mock::MERCHANT_SERIAL,
        "platform_key_id": mock::PLATFORM_KEY_ID,
        "platform_certificate_serial": in_use,
        "listed_certificates": listed,
        "signing": signing,
        "apiv3_key": mock::APIV3_KEY,
        "secret": mock::SECRET,
        "stateful": core.settings.stateful,
        "time_scale": core.clock.scale(),
        "env": {
            "WECHATPAY_BASE_URI": base_uri,
            "WECHATPAY_TLS_BASE_URI": tls_base_uri,
            "WECHATPAY_MCHID": mock::MCHID,
            "WECHATPAY_SERIAL": mock::MERCHANT_SERIAL,
            "WECHATPAY_PLATFORM_KEY_ID": mock::PLATFORM_KEY_ID,
            "WECHATPAY_APIV3_KEY": mock::APIV3_KEY,
            "WECHATPAY_SECRET": mock::SECRET,
        },
        "pem": {
            "merchant_private_key": mock::MERCHANT_KEY_PEM,
            "merchant_certificate": mock::MERCHANT_TLS_CERTIFICATE_PEM,
            "platform_public_key": mock::PLATFORM_PUBLIC_KEY_PEM,
            "platform_certificate": mock::PLATFORM_CERTIFICATE_PEM,
            "tls_root": mock::TLS_CA_CERTIFICATE_PEM,
        },
    })
}
