//! What the sandbox answers a correctly signed request: `400 PARAM_ERROR` when it breaks the
//! documented rules, the state machines' answer for the operations they model, a signed
//! answer of the documented shape for the other documented operations, WeChat Pay's `404`
//! for the rest.

use std::hash::{Hash, Hasher};

use serde_json::json;

use super::call::{Call, param_error, v2_fail};
use super::core::Core;
use super::{bills, combine, orders, payscore, refunds, transfers, v2};
use crate::mock::engine::Inbound;
use crate::mock::{Reply, not_found};
use crate::protocol::Api;
use crate::schema::{self, Checked};

/// The answer to a correctly signed request.
pub(crate) fn answer(core: &Core, request: &Inbound<'_>) -> Reply {
    let query = request
        .target
        .split_once('?')
        .map_or("", |(_, query)| query);
    let checked = schema::check(request.method, request.path, query, request.body);
    let call = Call::parse(request);
    if let Checked::Invalid { message, .. } = &checked {
        return match call.api {
            Api::V3 => param_error(message).reply(),
            Api::V2 => v2_fail(message),
        };
    }
    if core.settings.stateful
        && let Some(reply) = modeled(core, &call)
    {
        return reply;
    }
    match checked {
        Checked::Valid(operation) => {
            let mut hasher = std::hash::DefaultHasher::new();
            request.target.hash(&mut hasher);
            match (operation.sample_response(hasher.finish()), call.api) {
                (None, _) => Reply::status(204),
                (Some(body), Api::V3) => Reply::json(200, body),
                (Some(mut fields), Api::V2) => {
                    if let Some(fields) = fields.as_object_mut() {
                        for (key, value) in [("return_code", "SUCCESS"), ("result_code", "SUCCESS")]
                        {
                            fields.entry(key).or_insert_with(|| json!(value));
                        }
                    }
                    Reply::xml(200, fields)
                }
            }
        }
        _ => core.settings.fallback.clone().unwrap_or_else(|| {
            // A documented path asked with another method: WeChat Pay's 405, not its 404.
            let methods = schema::documented_methods(request.path);
            if methods.is_empty() {
                not_found(request.method, request.path)
            } else {
                let allowed = methods.join(", ");
                Reply::error(
                    405,
                    "METHOD_NOT_ALLOWED",
                    &format!(
                        "{} is not allowed on {}: the documented methods are {allowed}",
                        request.method, request.path
                    ),
                )
                .header("Allow", &allowed)
            }
        }),
    }
}

/// The state machines' answer, when they model the operation.
fn modeled(core: &Core, call: &Call) -> Option<Reply> {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let method = call.method.as_str();
    Some(match (method, segments.as_slice()) {
        // Payments, direct and partner.
        (
            "POST",
            [
                "v3",
                "pay",
                "transactions",
                kind @ ("jsapi" | "app" | "h5" | "native"),
            ],
        ) => orders::create(core, call, kind, false),
        (
            "POST",
            [
                "v3",
                "pay",
                "partner",
                "transactions",
                kind @ ("jsapi" | "app" | "h5" | "native"),
            ],
        ) => orders::create(core, call, kind, true),
        ("GET", ["v3", "pay", "transactions", "out-trade-no", number]) => {
            orders::query(core, call, number, false)
        }
        (
            "GET",
            [
                "v3",
                "pay",
                "partner",
                "transactions",
                "out-trade-no",
                number,
            ],
        ) => orders::query(core, call, number, true),
        ("GET", ["v3", "pay", "transactions", "id", id]) => orders::query_id(core, call, id, false),
        ("GET", ["v3", "pay", "partner", "transactions", "id", id]) => {
            orders::query_id(core, call, id, true)
        }
        ("POST", ["v3", "pay", "transactions", "out-trade-no", number, "close"]) => {
            orders::close(core, call, number, false)
        }
        (
            "POST",
            [
                "v3",
                "pay",
                "partner",
                "transactions",
                "out-trade-no",
                number,
                "close",
            ],
        ) => orders::close(core, call, number, true),
        // Combined payments.
        (
            "POST",
            [
                "v3",
                "combine-transactions",
                kind @ ("jsapi" | "app" | "h5" | "native"),
            ],
        ) => combine::create(core, call, kind),
        ("GET", ["v3", "combine-transactions", "out-trade-no", number]) => {
            combine::query(core, call, number)
        }
        (
            "POST",
            [
                "v3",
                "combine-transactions",
                "out-trade-no",
                number,
                "close",
            ],
        ) => combine::close(core, call, number),
        // Refunds.
        ("POST", ["v3", "refund", "domestic", "refunds"]) => refunds::create(core, call),
        ("GET", ["v3", "refund", "domestic", "refunds", number]) => {
            refunds::query(core, call, number)
        }
        // PayScore service orders, direct and partner.
        ("POST", ["v3", "payscore", "serviceorder"]) => payscore::create(core, call, false),
        ("POST", ["v3", "payscore", "partner", "serviceorder"]) => {
            payscore::create(core, call, true)
        }
        ("GET", ["v3", "payscore", "serviceorder"]) => payscore::query(core, call, false),
        ("GET", ["v3", "payscore", "partner", "serviceorder"]) => payscore::query(core, call, true),
        ("POST", ["v3", "payscore", "serviceorder", number, action]) => {
            payscore::act(core, call, number, action, false)?
        }
        ("POST", ["v3", "payscore", "partner", "serviceorder", number, action]) => {
            payscore::act(core, call, number, action, true)?
        }
        // Transfer bills, direct and partner.
        ("POST", ["v3", "fund-app", "mch-transfer", "transfer-bills"]) => {
            transfers::create(core, call, false)
        }
        (
            "POST",
            [
                "v3",
                "fund-app",
                "mch-transfer",
                "partner",
                "transfer-bills",
            ],
        ) => transfers::create(core, call, true),
        (
            "GET",
            [
                "v3",
                "fund-app",
                "mch-transfer",
                "transfer-bills",
                "out-bill-no",
                number,
            ],
        )
        | (
            "GET",
            [
                "v3",
                "fund-app",
                "mch-transfer",
                "partner",
                "transfer-bills",
                "out-bill-no",
                number,
            ],
        ) => transfers::query(core, call, Some(number), None),
        (
            "GET",
            [
                "v3",
                "fund-app",
                "mch-transfer",
                "transfer-bills",
                "transfer-bill-no",
                id,
            ],
        ) => transfers::query(core, call, None, Some(id)),
        (
            "POST",
            [
                "v3",
                "fund-app",
                "mch-transfer",
                "transfer-bills",
                "out-bill-no",
                number,
                "cancel",
            ],
        )
        | (
            "POST",
            [
                "v3",
                "fund-app",
                "mch-transfer",
                "partner",
                "transfer-bills",
                "out-bill-no",
                number,
                "cancel",
            ],
        ) => transfers::cancel(core, call, number),
        // Bills.
        ("GET", ["v3", "bill", kind @ ("tradebill" | "fundflowbill")]) => {
            bills::apply(core, call, kind)
        }
        ("GET", ["v3", "billdownload", "file"]) => bills::download(core, call),
        // APIv2.
        ("POST", ["pay", "unifiedorder"]) => v2::unified_order(core, call),
        ("POST", ["pay", "orderquery"]) => v2::order_query(core, call),
        ("POST", ["pay", "closeorder"]) => v2::close_order(core, call),
        ("POST", ["secapi", "pay", "refund"]) => v2::refund(core, call),
        ("POST", ["pay", "refundquery"]) => v2::refund_query(core, call),
        _ => return None,
    })
}
