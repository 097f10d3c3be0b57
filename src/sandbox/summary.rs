//! The entities as the control API shows them (`src/sandbox/control_api.md`): every one has
//! `kind`, `seq`, `state`, `amount` (fen), `currency`, `mchid`, `sub_mchid`, `partner`,
//! `notify_url`, `create_time` and `update_time`, then the ids of its kind.

use serde_json::{Value, json};

use super::clock::rfc3339;
use super::entities::{Combine, Refund, ServiceOrder, Transaction, TransferBill};
use super::shapes::trade_state_desc;

fn time(ms: Option<u64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(rfc3339(ms)))
}

#[allow(clippy::too_many_arguments)]
fn common(
    kind: &str,
    seq: u64,
    state: &str,
    amount: i64,
    currency: &str,
    (mchid, sub_mchid, partner): (&str, Option<&str>, bool),
    notify_url: Option<&str>,
    (created, updated): (u64, u64),
) -> Value {
    json!({
        "kind": kind,
        "seq": seq,
        "state": state,
        "amount": amount,
        "currency": currency,
        "mchid": mchid,
        "sub_mchid": sub_mchid,
        "partner": partner,
        "notify_url": notify_url,
        "create_time": rfc3339(created),
        "update_time": rfc3339(updated),
    })
}

/// A payment.
pub(crate) fn transaction(t: &Transaction) -> Value {
    let mut shown = common(
        "transaction",
        t.seq,
        t.state,
        t.total,
        &t.currency,
        (&t.mchid, t.sub_mchid.as_deref(), t.partner),
        Some(&t.notify_url),
        (t.created_ms, t.updated_ms),
    );
    shown["out_trade_no"] = json!(t.out_trade_no);
    shown["transaction_id"] = json!(t.transaction_id);
    shown["state_desc"] = json!(trade_state_desc(t.state));
    shown["trade_type"] = json!(t.trade_type);
    shown["api"] = json!(if t.v2 { "v2" } else { "v3" });
    shown["appid"] = json!(t.appid);
    shown["sub_appid"] = json!(t.sub_appid);
    shown["description"] = json!(t.description);
    shown["attach"] = json!(t.attach);
    shown["refunded"] = json!(t.refunded);
    shown["prepay_id"] = json!(t.prepay_id);
    shown["payer"] = t.payer.clone();
    shown["combine_out_trade_no"] = json!(t.combine);
    shown["success_time"] = time(t.success_ms);
    shown["time_expire"] = time(t.expire_ms);
    shown
}

/// A refund.
pub(crate) fn refund(r: &Refund) -> Value {
    let mut shown = common(
        "refund",
        r.seq,
        r.state,
        r.refund,
        &r.currency,
        (&r.mchid, r.sub_mchid.as_deref(), r.partner),
        r.notify_url.as_deref(),
        (r.created_ms, r.updated_ms),
    );
    shown["out_refund_no"] = json!(r.out_refund_no);
    shown["refund_id"] = json!(r.refund_id);
    shown["out_trade_no"] = json!(r.out_trade_no);
    shown["transaction_id"] = json!(r.transaction_id);
    shown["total"] = json!(r.total);
    shown["reason"] = json!(r.reason);
    shown["api"] = json!(if r.v2 { "v2" } else { "v3" });
    shown["success_time"] = time(r.success_ms);
    shown
}

/// A combined payment, with its sub-orders.
pub(crate) fn combine(c: &Combine, subs: &[&Transaction]) -> Value {
    let amount = subs.iter().map(|t| t.total).sum();
    let currency = subs.first().map_or("CNY", |t| t.currency.as_str());
    let mut shown = common(
        "combine_transaction",
        c.seq,
        c.state,
        amount,
        currency,
        (&c.combine_mchid, None, false),
        Some(&c.notify_url),
        (c.created_ms, c.updated_ms),
    );
    shown["combine_out_trade_no"] = json!(c.combine_out_trade_no);
    shown["combine_transaction_id"] = json!(c.combine_transaction_id);
    shown["appid"] = json!(c.combine_appid);
    shown["trade_type"] = json!(c.trade_type);
    shown["sub_orders"] = subs
        .iter()
        .map(|t| {
            json!({
                "mchid": t.mchid, "sub_mchid": t.sub_mchid, "out_trade_no": t.out_trade_no,
                "amount": t.total, "state": t.state, "transaction_id": t.transaction_id,
            })
        })
        .collect();
    shown["success_time"] = time(c.success_ms);
    shown["time_expire"] = time(c.expire_ms);
    shown
}

/// A PayScore service order.
pub(crate) fn service_order(o: &ServiceOrder) -> Value {
    let mut shown = common(
        "payscore_order",
        o.seq,
        o.state,
        o.total_amount,
        "CNY",
        (&o.mchid, o.sub_mchid.as_deref(), o.partner),
        Some(&o.notify_url),
        (o.created_ms, o.updated_ms),
    );
    shown["out_order_no"] = json!(o.out_order_no);
    shown["order_id"] = json!(o.order_id);
    shown["service_id"] = json!(o.service_id);
    shown["appid"] = json!(o.appid);
    shown["state_description"] = json!(o.state_description);
    shown["collection"] = json!(o.collection);
    shown["need_user_confirm"] = json!(o.state == "CREATED");
    shown["prepaid_message_sent"] = json!(o.prepaid_message_sent);
    shown["transaction_id"] = json!(o.transaction_id);
    shown["paid_time"] = time(o.paid_ms);
    shown
}

/// A transfer bill.
pub(crate) fn transfer_bill(b: &TransferBill) -> Value {
    let mut shown = common(
        "transfer_bill",
        b.seq,
        b.state,
        b.amount,
        "CNY",
        (&b.mchid, b.sub_mchid.as_deref(), b.partner),
        b.notify_url.as_deref(),
        (b.created_ms, b.updated_ms),
    );
    shown["out_bill_no"] = json!(b.out_bill_no);
    shown["transfer_bill_no"] = json!(b.transfer_bill_no);
    shown["appid"] = json!(b.appid);
    shown["openid"] = json!(b.openid);
    shown["remark"] = json!(b.remark);
    shown["fail_reason"] = json!(b.fail_reason);
    shown["package_info"] = json!(b.package_info);
    shown
}
