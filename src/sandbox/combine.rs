//! Combined payments (合单支付): `POST v3/combine-transactions/{jsapi,app,h5,native}`, the
//! query by `combine_out_trade_no` and `close`. Each sub-order is a payment of its own
//! merchant (refunded as any payment); paying the combined order pays them all and sends one
//! `TRANSACTION.SUCCESS` with every sub-order.

use serde_json::{Value, json};

use super::call::{Call, Refusal, error, missing, no_content, ok};
use super::core::{Core, Store};
use super::entities::{Combine, Transaction};
use super::orders::{self, expire_one, expiry, signer_is, trade_type};
use super::{notices, shapes};
use crate::mock::Reply;

/// The sub-orders of a combined payment, as payments.
fn subs<'a>(store: &'a Store, c: &Combine) -> Vec<&'a Transaction> {
    c.sub_orders
        .iter()
        .filter_map(|(owner, number)| store.transactions.find(number, Some(owner)))
        .map(|index| store.transactions.get(index))
        .collect()
}

/// What a sub-order of the request asks for.
struct Sub {
    mchid: String,
    sub_mchid: Option<String>,
    out_trade_no: String,
    description: String,
    attach: Option<String>,
    total: i64,
    currency: String,
}

fn asked_subs(call: &Call) -> Result<Vec<Sub>, Refusal> {
    let Some(items) = call.json.get("sub_orders").and_then(Value::as_array) else {
        return Err(missing("/sub_orders"));
    };
    items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
            let need =
                |key: &str| text(key).ok_or_else(|| missing(&format!("/sub_orders/{n}/{key}")));
            Ok(Sub {
                mchid: need("mchid")?,
                sub_mchid: text("sub_mchid"),
                out_trade_no: need("out_trade_no")?,
                description: need("description")?,
                attach: text("attach"),
                total: item
                    .pointer("/amount/total_amount")
                    .and_then(Value::as_i64)
                    .filter(|total| *total > 0)
                    .ok_or_else(|| missing(&format!("/sub_orders/{n}/amount/total_amount")))?,
                currency: item
                    .pointer("/amount/currency")
                    .and_then(Value::as_str)
                    .unwrap_or("CNY")
                    .to_owned(),
            })
        })
        .collect()
}

/// `POST v3/combine-transactions/{kind}`.
pub(crate) fn create(core: &Core, call: &Call, kind: &str) -> Reply {
    match try_create(core, call, kind) {
        Ok(reply) => reply,
        Err(refused) => refused.reply(),
    }
}

fn try_create(core: &Core, call: &Call, kind: &str) -> Result<Reply, Refusal> {
    let combine_mchid = call.required("/combine_mchid")?;
    signer_is(call, combine_mchid)?;
    let combine_appid = call.required("/combine_appid")?;
    let number = call.required("/combine_out_trade_no")?;
    let notify_url = call.required("/notify_url")?;
    let expire_ms = expiry(call, core.now_ms())?;
    let asked = asked_subs(call)?;
    let trade_type = trade_type(kind);
    let mut store = core.store();
    if let Some(index) = store.combines.find(number, Some(combine_mchid)) {
        expire(core, &mut store, index);
        let c = store.combines.get(index);
        return match c.state {
            "SUCCESS" => Err(Refusal::new(
                403,
                "ORDERPAID",
                "该订单已支付: the order was paid",
            )),
            "CLOSED" => Err(Refusal::new(
                400,
                "ORDER_CLOSED",
                "该订单已关闭: the order was closed",
            )),
            _ if c.request.get("sub_orders") == call.json.get("sub_orders") => {
                Ok(ok(json!({"prepay_id": c.prepay_id})))
            }
            _ => Err(Refusal::new(
                403,
                "OUT_TRADE_NO_USED",
                "商户订单号重复: this combine_out_trade_no was ordered with other sub-orders",
            )),
        };
    }
    for sub in &asked {
        let owner = sub.sub_mchid.as_deref().unwrap_or(&sub.mchid);
        if store
            .transactions
            .find(&sub.out_trade_no, Some(owner))
            .is_some()
        {
            return Err(Refusal::new(
                403,
                "OUT_TRADE_NO_USED",
                format!(
                    "商户订单号重复: sub-order `{}` of merchant {owner} exists",
                    sub.out_trade_no
                ),
            ));
        }
    }
    let now = core.now_ms();
    let prepay_id = core.prepay_id();
    let payer = call
        .json
        .get("combine_payer_info")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut sub_orders = Vec::new();
    for sub in asked {
        sub_orders.push((
            sub.sub_mchid.clone().unwrap_or_else(|| sub.mchid.clone()),
            sub.out_trade_no.clone(),
        ));
        store.transactions.insert(Transaction {
            seq: core.bump(),
            v2: false,
            trade_type: trade_type.to_owned(),
            partner: sub.sub_mchid.is_some(),
            mchid: sub.mchid,
            sub_mchid: sub.sub_mchid,
            appid: combine_appid.to_owned(),
            sub_appid: None,
            out_trade_no: sub.out_trade_no,
            transaction_id: None,
            prepay_id: prepay_id.clone(),
            state: "NOTPAY",
            total: sub.total,
            currency: sub.currency,
            refunded: 0,
            description: sub.description,
            attach: sub.attach,
            notify_url: notify_url.to_owned(),
            payer: payer.clone(),
            request: Value::Null,
            created_ms: now,
            updated_ms: now,
            success_ms: None,
            expire_ms,
            combine: Some(number.to_owned()),
        });
    }
    store.combines.insert(Combine {
        seq: core.bump(),
        combine_appid: combine_appid.to_owned(),
        combine_mchid: combine_mchid.to_owned(),
        combine_out_trade_no: number.to_owned(),
        combine_transaction_id: None,
        prepay_id: prepay_id.clone(),
        trade_type: trade_type.to_owned(),
        state: "NOTPAY",
        sub_orders,
        notify_url: notify_url.to_owned(),
        payer,
        request: call.json.clone(),
        created_ms: now,
        updated_ms: now,
        success_ms: None,
        expire_ms,
    });
    Ok(ok(json!({"prepay_id": prepay_id})))
}

/// Closes the combined payment at `index` (and its sub-orders) past its `time_expire`.
fn expire(core: &Core, store: &mut Store, index: usize) {
    let c = store.combines.get(index);
    let now = core.now_ms();
    if c.state != "NOTPAY" || c.expire_ms.is_none_or(|expire| expire > now) {
        return;
    }
    let owned = c.sub_orders.clone();
    for (owner, number) in owned {
        if let Some(sub) = store.transactions.find(&number, Some(&owner)) {
            expire_one(core, store, sub);
        }
    }
    let seq = core.bump();
    let c = store.combines.get_mut(index);
    c.state = "CLOSED";
    c.updated_ms = c.expire_ms.unwrap_or(now);
    c.seq = seq;
}

/// Closes every combined payment past its `time_expire`.
pub(crate) fn expire_all(core: &Core, store: &mut Store) {
    for index in 0..store.combines.len() {
        expire(core, store, index);
    }
}

fn not_exist(number: &str) -> Reply {
    error(
        404,
        "ORDER_NOT_EXIST",
        &format!("订单不存在: no combined order `{number}` of this merchant"),
    )
}

/// `GET v3/combine-transactions/out-trade-no/{combine_out_trade_no}`.
pub(crate) fn query(core: &Core, call: &Call, number: &str) -> Reply {
    let mut store = core.store();
    let Some(index) = store.combines.find(number, Some(&call.mchid)) else {
        return not_exist(number);
    };
    expire(core, &mut store, index);
    let c = store.combines.get(index);
    ok(shapes::combine(c, &subs(&store, c)))
}

/// `POST v3/combine-transactions/out-trade-no/{combine_out_trade_no}/close`.
pub(crate) fn close(core: &Core, call: &Call, number: &str) -> Reply {
    let mut store = core.store();
    let Some(index) = store.combines.find(number, Some(&call.mchid)) else {
        return not_exist(number);
    };
    expire(core, &mut store, index);
    match store.combines.get(index).state {
        "SUCCESS" => return error(400, "ORDERPAID", "订单已支付，不能发起关单"),
        "CLOSED" => return no_content(),
        _ => {}
    }
    let now = core.now_ms();
    let owned = store.combines.get(index).sub_orders.clone();
    for (owner, sub) in owned {
        if let Some(sub) = store.transactions.find(&sub, Some(&owner)) {
            let seq = core.bump();
            orders::settle(store.transactions.get_mut(sub), "CLOSED", None, now, seq);
        }
    }
    let seq = core.bump();
    let c = store.combines.get_mut(index);
    c.state = "CLOSED";
    c.updated_ms = now;
    c.seq = seq;
    no_content()
}

/// Whether a combined payment has `number`.
pub(crate) fn exists(store: &Store, number: &str) -> bool {
    store.combines.count(number) > 0
}

/// The payer acts on a combined payment: every sub-order takes `result`; `SUCCESS` sends
/// `TRANSACTION.SUCCESS`. Returns it as the control API shows it.
pub(crate) fn pay(core: &Core, number: &str, result: &str) -> Result<Value, Refusal> {
    let mut store = core.store();
    let index = store
        .combines
        .find(number, None)
        .ok_or_else(|| Refusal::new(404, "NOT_FOUND", format!("no order `{number}`")))?;
    expire(core, &mut store, index);
    let c = store.combines.get(index);
    match c.state {
        "NOTPAY" | "PAYERROR" => {}
        "CLOSED" => {
            return Err(Refusal::new(
                409,
                "ORDER_CLOSED",
                format!("订单已关闭: `{number}` was closed"),
            ));
        }
        state => {
            return Err(Refusal::new(
                409,
                "ORDERPAID",
                format!("订单已支付: `{number}` is {state}"),
            ));
        }
    }
    let now = core.now_ms();
    let owned = c.sub_orders.clone();
    for (owner, sub) in owned {
        if let Some(sub) = store.transactions.find(&sub, Some(&owner)) {
            let id = (result == "SUCCESS").then(|| core.id("42000", 28));
            let seq = core.bump();
            orders::settle(
                store.transactions.get_mut(sub),
                result,
                id.clone(),
                now,
                seq,
            );
            if let Some(id) = id {
                store.transactions.index_id(sub, &id);
            }
        }
    }
    let seq = core.bump();
    let combine_id = (result == "SUCCESS").then(|| core.id("42000", 28));
    let c = store.combines.get_mut(index);
    c.state = match result {
        "SUCCESS" => "SUCCESS",
        "PAYERROR" => "PAYERROR",
        _ => "CLOSED",
    };
    c.updated_ms = now;
    c.seq = seq;
    if combine_id.is_some() {
        c.combine_transaction_id = combine_id;
        c.success_ms = Some(now);
    }
    let c = store.combines.get(index);
    let sub_orders = subs(&store, c);
    let notice = (result == "SUCCESS").then(|| notices::combine_paid(c, &sub_orders));
    let shown = super::summary::combine(c, &sub_orders);
    drop(store);
    if let Some(notice) = notice {
        core.notify(notice);
    }
    Ok(shown)
}
