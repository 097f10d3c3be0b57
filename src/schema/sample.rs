//! Plausible values of the documented types, the same for the same seed.
//!
//! A documented value where the docs list them (`SUCCESS` when it is one: an answer that
//! reports success; `SUCCESS` too for a state or status, or an APIv2 `return_code` /
//! `result_code`, whose values the docs do not list), else a value that looks like the field
//! by its name: times in RFC 3339 at
//! +08:00 (APIv2: `yyyyMMddHHmmss`), merchant ids of 10 digits, app ids `wx` and 16 hex
//! digits, openids of 28 characters, amounts of 1 to 10,000 (fen), ids of digits, `CNY`, …;
//! arrays of one or two items. APIv2 fields are text (an object in one is its JSON text).

use serde_json::{Map, Number, Value};

use super::data::Field;
use crate::time::format_rfc3339;

/// 2026-01-01T00:00:00+08:00: sample times fall in the year after it.
const EPOCH: u64 = 1_767_196_800;

/// A deterministic stream of samples (SplitMix64).
pub(super) struct Sampler {
    state: u64,
}

impl Sampler {
    pub(super) fn new(seed: u64) -> Self {
        Sampler { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    /// `count` characters drawn from `alphabet`.
    fn chars(&mut self, alphabet: &[u8], count: usize) -> String {
        (0..count)
            .map(|_| char::from(alphabet[(self.next() % alphabet.len() as u64) as usize]))
            .collect()
    }

    fn digits(&mut self, count: usize) -> String {
        self.chars(b"0123456789", count)
    }

    /// An object of the documented fields (APIv2: each value text).
    pub(super) fn object(&mut self, fields: &[Field], v2: bool) -> Map<String, Value> {
        fields
            .iter()
            .map(|field| {
                let name = field.name.replace("$n", "0").replace("$m", "0");
                let value = self.value(field, v2);
                (name, if v2 { text(value) } else { value })
            })
            .collect()
    }

    /// A value of the field's documented type.
    pub(super) fn value(&mut self, field: &Field, v2: bool) -> Value {
        if v2 && !field.children.is_empty() && !field.ty.starts_with("object") {
            // APIv2 text holding JSON (`promotion_detail`): the JSON of its documented fields.
            return Value::String(Value::Object(self.object(&field.children, false)).to_string());
        }
        if let Some(items) = field.items() {
            let count = self.between(1, 2) as usize;
            return Value::Array((0..count).map(|_| self.single(field, items, v2)).collect());
        }
        self.single(field, field.ty, v2)
    }

    fn single(&mut self, field: &Field, ty: &str, v2: bool) -> Value {
        match ty {
            "object" => Value::Object(self.object(&field.children, false)),
            "integer" | "number" => Value::Number(self.number(field)),
            "boolean" => Value::Bool(self.next().is_multiple_of(2)),
            _ => Value::String(self.string(field, v2)),
        }
    }

    fn number(&mut self, field: &Field) -> Number {
        if let Some(value) = self.listed(field).and_then(|v| v.parse::<i64>().ok()) {
            return value.into();
        }
        let value = match amount_or_count(field.name) {
            Some(Kind::Count) => self.between(1, 5),
            Some(Kind::Amount) => self.between(1, 10_000),
            None if field.name == "offset" => 0,
            None if field.name == "limit" => 10,
            None => self.between(1, 100),
        };
        value.into()
    }

    /// A documented value: `SUCCESS` where listed, else one drawn.
    fn listed(&mut self, field: &Field) -> Option<&'static str> {
        if field.values.is_empty() {
            return None;
        }
        if field.values.contains(&"SUCCESS") {
            return Some("SUCCESS");
        }
        let index = (self.next() % field.values.len() as u64) as usize;
        Some(field.values[index])
    }

    fn string(&mut self, field: &Field, v2: bool) -> String {
        if let Some(value) = self.listed(field) {
            return value.to_owned();
        }
        let name = field.name.to_ascii_lowercase();
        let name = name.as_str();
        let time = EPOCH + self.between(0, 365 * 86_400);
        if name.ends_with("_time") || name.starts_with("time_") || name == "time" {
            return if v2 {
                compact_time(time)
            } else {
                format_rfc3339(time, 8)
            };
        }
        if name.ends_with("_date") || name == "date" {
            let date = format_rfc3339(time, 8)[..10].to_owned();
            return if v2 { date.replace('-', "") } else { date };
        }
        const HEX: &[u8] = b"0123456789abcdef";
        const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        match name {
            "currency" | "fee_type" => return "CNY".to_owned(),
            n if n.ends_with("currency") => return "CNY".to_owned(),
            "return_msg" | "retmsg" => return "OK".to_owned(),
            "return_code" | "result_code" => return "SUCCESS".to_owned(),
            "transaction_id" => return format!("42000{}", self.digits(23)),
            "prepay_id" => return format!("wx{}{}", self.digits(14), self.chars(HEX, 20)),
            "code_url" => return format!("weixin://wxpay/bizpayurl?pr={}", self.chars(ALNUM, 7)),
            "sign" | "paysign" => return self.chars(b"0123456789ABCDEF", 64),
            "nonce_str" | "nonce" => return self.chars(ALNUM, 32),
            "hash_value" => return self.chars(HEX, 40),
            _ => {}
        }
        if let Some(kind) = amount_or_count(name) {
            // APIv2 writes amounts and counts as text.
            let (low, high) = if matches!(kind, Kind::Count) {
                (1, 5)
            } else {
                (1, 10_000)
            };
            self.between(low, high).to_string()
        } else if name.ends_with("state") || name.ends_with("status") {
            // A state the docs list no values for: the one of success.
            "SUCCESS".to_owned()
        } else if name.contains("mchid") || name.contains("mch_id") {
            format!("19{}", self.digits(8))
        } else if name.contains("appid") {
            format!("wx{}", self.chars(HEX, 16))
        } else if name.contains("openid") {
            format!(
                "o{}",
                self.chars(
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-",
                    27
                )
            )
        } else if name.ends_with("url") {
            format!(
                "https://sandbox.wechatpay.example/{}/{}",
                field.name,
                self.chars(HEX, 8)
            )
        } else if name.ends_with("_ip") || name == "ip" {
            let octets: Vec<String> = [223, 255, 255, 254]
                .iter()
                .map(|&high| self.between(1, high).to_string())
                .collect();
            octets.join(".")
        } else if name.ends_with("_no") || name.ends_with("_id") || name == "id" {
            self.digits(20)
        } else {
            let count = self.between(8, 16) as usize;
            self.chars(ALNUM, count)
        }
    }
}

/// What a number-like field name says it counts.
enum Kind {
    Count,
    Amount,
}

/// What the last word of a field's name says: `quantity`, `total_num`, `coupon_count`: a
/// count; `total`, `refund_fee`, `payer_amount`, `unit_price`: an amount (in fen).
fn amount_or_count(name: &str) -> Option<Kind> {
    let name = name
        .to_ascii_lowercase()
        .replace("_$n", "")
        .replace("_$m", "");
    match name.rsplit('_').next().unwrap_or_default() {
        "quantity" | "count" | "num" => Some(Kind::Count),
        "amount" | "price" | "balance" | "cost" | "fee" | "total" | "refund" => Some(Kind::Amount),
        _ => None,
    }
}

/// APIv2 text of a value: a string as it is, anything else as its JSON.
fn text(value: Value) -> Value {
    match value {
        Value::String(_) => value,
        Value::Number(number) => Value::String(number.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => Value::String(other.to_string()),
    }
}

/// `yyyyMMddHHmmss` at +08:00, APIv2's times.
fn compact_time(unix: u64) -> String {
    format_rfc3339(unix, 8)[..19]
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}
