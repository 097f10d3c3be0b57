//! The documented request and response fields of every operation, from the corpus's
//! `schema.jsonl`, and the documented notifications, from its `webhooks.jsonl`.
//!
//! The default build compiles only [`encrypted_request_fields`]: which request fields the docs
//! mark encrypted (a small generated table). The rest is the sandbox's (feature `sandbox`):
//!
//! - [`check`]: the sandbox asks it about every correctly signed request: whether a
//!   documented operation has this method and path, and whether the request keeps the
//!   documented rules (required fields, types, documented values). An operation the
//!   sandbox's state machines do not model is answered with [`Operation::sample_response`];
//!   a documented path asked with another method, with `405` ([`documented_methods`]).
//! - [`webhooks`]: every documented notification, with a sample.
//!
//! The tables (`generated/schema.json`, `generated/encrypted.rs`) are generated from the
//! corpus by `tests/it/sourcegen/schema.rs`, which fails when they are stale.

mod encrypted;

#[cfg(feature = "sandbox")]
mod check;
#[cfg(feature = "sandbox")]
mod data;
#[cfg(feature = "sandbox")]
mod message;
#[cfg(feature = "sandbox")]
mod route;
#[cfg(feature = "sandbox")]
mod sample;
#[cfg(all(test, feature = "sandbox"))]
mod tests;

#[allow(unused_imports)] // the guard of issue 23 is its first user
pub(crate) use encrypted::encrypted_request_fields;

#[cfg(feature = "sandbox")]
pub(crate) use sandbox::*;

/// The sandbox's interface (feature `sandbox`).
#[cfg(feature = "sandbox")]
mod sandbox {
    use http::Method;
    use serde_json::Value;

    use super::sample::Sampler;
    use super::{check as rules, data, route};

    pub(crate) use super::data::{Operation, Webhook};

    impl Operation {
        /// The documented template, as the SDK writes it
        /// (`v3/pay/transactions/id/{transaction_id}`).
        pub(crate) fn template(&self) -> &'static str {
            self.template
        }

        /// The documented method (`POST`).
        pub(crate) fn method(&self) -> &'static str {
            self.method
        }

        /// A body of the documented response shape, with plausible values of the documented
        /// types (the same `seed` gives the same body), or `None` when the docs list no
        /// response body (the operation answers `204`). APIv2: the answer's fields, each a
        /// string, for the XML answer.
        pub(crate) fn sample_response(&self, seed: u64) -> Option<Value> {
            if self.response.is_empty() {
                return None;
            }
            let seed = seed ^ fnv(self.template.as_bytes()) ^ fnv(self.method.as_bytes());
            Some(Value::Object(
                Sampler::new(seed).object(&self.response, self.is_v2()),
            ))
        }
    }

    /// What [`check`] found.
    #[derive(Debug)]
    pub(crate) enum Checked {
        /// No documented operation has this method and path: WeChat Pay answers `404`.
        /// ([`documented_methods`] tells whether the path is documented with another method.)
        Undocumented,
        /// A documented operation whose request breaks a documented rule: WeChat Pay answers
        /// `400 PARAM_ERROR` with `message`, which names the field.
        Invalid {
            /// The documented template of the operation.
            template: &'static str,
            /// WeChat Pay's message, naming the field and the rule it broke, then the
            /// documented rule the verdict relied on (`[sandbox: …]`).
            message: String,
        },
        /// A documented operation, and the request keeps its documented rules.
        Valid(&'static Operation),
    }

    /// Checks a request that passed the signature checks: `path` is the wire path without
    /// the query (percent-encoded, `/v3/…` for APIv3, also `/hk/v3/…` and `/global/v3/…`
    /// where the docs give that access point, `/pay/unifiedorder` for APIv2), `query` the raw
    /// query string (without `?`), `body` the raw body (JSON for APIv3, XML for APIv2).
    ///
    /// A template's variable takes any one non-empty segment, and a literal segment beats a
    /// variable where two templates fit. Where two documented templates have the same shape
    /// (`v3/apply4subject/applyment/{applyment_id}/cancel` and `…/{business_code}/cancel`),
    /// the first whose rules the request keeps is the one.
    pub(crate) fn check(method: &Method, path: &str, query: &str, body: &[u8]) -> Checked {
        match rules::find(method, path, query, body) {
            None => Checked::Undocumented,
            Some(Ok(op)) => Checked::Valid(op),
            Some(Err((op, violation))) => Checked::Invalid {
                template: op.template,
                message: violation.to_string(),
            },
        }
    }

    /// The methods documented for a wire path (read as [`check`] reads it), each once; empty
    /// when no operation is documented there.
    ///
    /// For a request that [`check`] finds [`Undocumented`](Checked::Undocumented): a
    /// documented path asked with another method is answered `405 Method Not Allowed` by
    /// WeChat Pay (as merchants report, e.g. ArtisanCloud/PowerWeChat#256: a `POST` to an
    /// order query), not `404`.
    pub(crate) fn documented_methods(path: &str) -> Vec<&'static str> {
        route::Route::new(path).methods()
    }

    impl Webhook {
        /// A sample with plausible values: the decrypted resource (APIv3) or the fields
        /// (APIv2, each a string; the field that travels encrypted, [`encrypted`](Self::encrypted),
        /// holds its decrypted fields as an object), from the page's field tables. The same
        /// notification always gives the same sample.
        pub(crate) fn sample(&self) -> Value {
            let mut sampler = Sampler::new(fnv(self.event_type.as_bytes()));
            let mut object = sampler.object(&self.fields, self.v2);
            if let Some(name) = self.encrypted
                && let Some(field) = self.fields.iter().find(|f| f.name == name)
            {
                let decrypted = sampler.object(&field.children, true);
                object.insert(name.to_owned(), Value::Object(decrypted));
            }
            Value::Object(object)
        }
    }

    /// Every documented notification: one per documentation page (115), sorted by protocol
    /// then event type.
    pub(crate) fn webhooks() -> &'static [Webhook] {
        &data::schema().webhooks
    }

    /// FNV-1a: a stable hash for seeds.
    fn fnv(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
            (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}
