//! The request log: every request to WeChat Pay's API, its verdict in words, and the answer,
//! headers and bodies included, in a bounded ring.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use super::clock::rfc3339;
use crate::mock::engine::Exchange;
use crate::mock::ring::{Ring, Weigh};
use crate::protocol::Api;

/// How many requests are kept, and how many bytes of them.
const KEPT: usize = 1_000;
const KEPT_BYTES: usize = 8 << 20;

/// A logged request and its answer.
pub(crate) struct Entry {
    pub id: u64,
    pub seq: u64,
    pub time_ms: u64,
    pub exchange: Exchange,
}

impl Weigh for Entry {
    fn weight(&self) -> usize {
        let headers = |headers: &HeaderMap| -> usize {
            headers
                .iter()
                .map(|(name, value)| name.as_str().len() + value.len() + 16)
                .sum()
        };
        let exchange = &self.exchange;
        128 + exchange.target.len()
            + headers(&exchange.request_headers)
            + headers(&exchange.response_headers)
            + exchange.request_body.len()
            + exchange.response_body.len()
    }
}

/// The log.
pub(crate) struct Log {
    entries: Mutex<Ring<Entry>>,
    next_id: AtomicU64,
}

impl Log {
    pub(crate) fn new() -> Self {
        Self {
            entries: Mutex::new(Ring::new(KEPT, KEPT_BYTES)),
            next_id: AtomicU64::new(1),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Ring<Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Logs an exchange; returns its entry's id. `seq` numbers the change, taken while the
    /// log is locked (so that a reader never sees a number before its entry).
    pub(crate) fn add(&self, exchange: Exchange, time_ms: u64, seq: impl FnOnce() -> u64) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.entries();
        let seq = seq();
        entries.push(Entry {
            id,
            seq,
            time_ms,
            exchange,
        });
        id
    }

    /// Reads the entries kept.
    pub(crate) fn with<R>(&self, read: impl FnOnce(&Ring<Entry>) -> R) -> R {
        read(&self.entries())
    }
}

impl Entry {
    /// The verdict in words: which check failed, or that the signature was verified and what
    /// was answered.
    pub(crate) fn verdict(&self) -> String {
        let exchange = &self.exchange;
        let path = exchange.target.split('?').next().unwrap_or_default();
        let v3 = Api::of_wire_path(path) == Api::V3;
        match &exchange.verdict {
            Err(why) if v3 => format!("refused: {why}"),
            Err(why) => format!("refused: {why}"),
            Ok(()) => {
                let checked = if v3 {
                    "signature verified"
                } else {
                    "sign verified"
                };
                match answer_code(&exchange.response_body) {
                    Some((code, message)) if !exchange.status.is_success() => {
                        format!("{checked}; answered {code}: {message}")
                    }
                    _ => format!("{checked}; answered {}", exchange.status.as_u16()),
                }
            }
        }
    }

    /// The entry as the control API shows it; without headers and bodies when `summary`.
    pub(crate) fn to_json(&self, summary: bool) -> Value {
        let exchange = &self.exchange;
        let (path, query) = exchange
            .target
            .split_once('?')
            .unwrap_or((&exchange.target, ""));
        let mut entry = json!({
            "id": self.id,
            "seq": self.seq,
            "time": rfc3339(self.time_ms),
            "method": exchange.method.as_str(),
            "path": path,
            "query": query,
            "status": exchange.status.as_u16(),
            "accepted": exchange.verdict.is_ok(),
            "verdict": self.verdict(),
            "duration_ms": exchange.elapsed.as_secs_f64() * 1000.0,
        });
        if !summary {
            entry["request"] = message(&exchange.request_headers, &exchange.request_body);
            entry["response"] = message(&exchange.response_headers, &exchange.response_body);
        }
        entry
    }
}

/// WeChat Pay's `code` and `message` of an error answer (JSON, or APIv2 XML).
fn answer_code(body: &[u8]) -> Option<(String, String)> {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        let code = json.get("code")?.as_str()?.to_owned();
        let message = json["message"].as_str().unwrap_or_default().to_owned();
        return Some((code, message));
    }
    let fields = crate::xml::parse(body).ok()?;
    let code = fields.get_str("return_code")?.to_owned();
    let message = fields.get_str("return_msg").unwrap_or_default().to_owned();
    Some((code, message))
}

/// Headers and body as JSON: the body as text, or in base64 when it is not UTF-8.
pub(crate) fn message(headers: &HeaderMap, body: &Bytes) -> Value {
    let mut shown = Map::new();
    for (name, value) in headers {
        let text = String::from_utf8_lossy(value.as_bytes());
        let text = if name == http::header::AUTHORIZATION {
            elide_signature(&text)
        } else {
            text.into_owned()
        };
        match shown.get_mut(name.as_str()) {
            Some(Value::String(earlier)) => {
                earlier.push_str(", ");
                earlier.push_str(&text);
            }
            _ => {
                shown.insert(name.as_str().to_owned(), Value::String(text));
            }
        }
    }
    let mut message = json!({ "headers": shown });
    match std::str::from_utf8(body) {
        Ok(text) => message["body"] = Value::String(text.to_owned()),
        Err(_) => message["body_base64"] = Value::String(STANDARD.encode(body)),
    }
    message
}

/// An `Authorization` value with its signature cut to its start: enough to tell requests
/// apart, too little to replay.
fn elide_signature(value: &str) -> String {
    let Some(start) = value.find("signature=\"") else {
        return value.to_owned();
    };
    let from = start + "signature=\"".len();
    let Some(len) = value[from..].find('"') else {
        return value.to_owned();
    };
    let shown: String = value[from..from + len].chars().take(12).collect();
    format!(
        "{}{shown}…({len} characters){}",
        &value[..from],
        &value[from + len..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_cut() {
        let value = r#"WECHATPAY2-SHA256-RSA2048 mchid="1",signature="ABCDEFGHIJKLMNOPQRSTUVWXYZ",serial_no="S""#;
        assert_eq!(
            elide_signature(value),
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",signature="ABCDEFGHIJKL…(26 characters)",serial_no="S""#
        );
    }
}
