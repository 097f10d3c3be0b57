//! The documented request and response fields of every operation, from the corpus's
//! `schema.jsonl` (feature `sandbox`).
//!
//! The sandbox asks [`check`] about every correctly signed request: whether a documented
//! operation has this method and path, and whether the request keeps the documented rules
//! (required fields, types, enums). An operation the sandbox's state machines do not model is
//! answered with [`Operation::sample_response`].
//!
//! Interface only: the tables and the checks are filled in by the schema work.

use http::Method;
use serde_json::Value;

/// One documented operation: its template and its request and response fields.
#[derive(Debug)]
pub(crate) struct Operation {
    template: &'static str,
}

impl Operation {
    /// The documented template, as the SDK writes it (`v3/pay/transactions/id/{transaction_id}`).
    pub(crate) fn template(&self) -> &'static str {
        self.template
    }

    /// A body of the documented response shape, with plausible values of the documented types
    /// (the same `seed` gives the same body), or `None` when the docs list no response body
    /// (the operation answers `204`).
    pub(crate) fn sample_response(&self, seed: u64) -> Option<Value> {
        let _ = seed;
        None
    }
}

/// What [`check`] found.
#[derive(Debug)]
pub(crate) enum Checked {
    /// No documented operation has this method and path: WeChat Pay answers `404`.
    Undocumented,
    /// A documented operation whose request breaks a documented rule: WeChat Pay answers
    /// `400 PARAM_ERROR` with `message`, which names the field.
    Invalid {
        /// The documented template of the operation.
        template: &'static str,
        /// WeChat Pay's message, naming the field and the rule it broke.
        message: String,
    },
    /// A documented operation, and the request keeps its documented rules.
    Valid(&'static Operation),
}

/// Checks a request that passed the signature checks: `path` is the wire path without the
/// query (percent-encoded, `/v3/…` for APIv3, `/pay/unifiedorder` for APIv2), `query` the raw
/// query string (without `?`), `body` the raw body (JSON for APIv3, XML for APIv2).
pub(crate) fn check(method: &Method, path: &str, query: &str, body: &[u8]) -> Checked {
    let _ = (method, path, query, body);
    Checked::Undocumented
}

/// A documented notification (the corpus's `webhooks.jsonl`).
#[derive(Debug)]
pub(crate) struct Webhook {
    /// The event type (`TRANSACTION.SUCCESS`); for APIv2, the page's event name (`CHECK.FAIL`).
    pub(crate) event_type: &'static str,
    /// APIv2 (XML fields) rather than APIv3 (a signed JSON envelope with an encrypted resource).
    pub(crate) v2: bool,
    /// The title of its documentation page.
    pub(crate) title: &'static str,
}

impl Webhook {
    /// A sample with plausible values: the decrypted resource (APIv3) or the fields (APIv2) as
    /// a JSON object, from the page's example where it gives one, else from its field table.
    pub(crate) fn sample(&self) -> Value {
        Value::Object(serde_json::Map::new())
    }
}

/// Every documented notification.
pub(crate) fn webhooks() -> &'static [Webhook] {
    &[]
}
