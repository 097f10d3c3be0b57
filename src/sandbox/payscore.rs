//! PayScore service orders (微信支付分服务订单): `v3/payscore/serviceorder` and its partner
//! form `v3/payscore/partner/serviceorder`: create, query, `cancel`, `complete`, `modify`,
//! `pay`, `sync`, and the two messages a merchant may send once per order
//! (`send-prepaidmessage` while the service runs, `send-pendingmessage` while the fee is
//! unpaid). `CREATED → DOING (USER_CONFIRM) → DOING (MCH_COMPLETE) → DONE`, or `REVOKED`.

use serde_json::{Value, json};

use super::call::{Call, Refusal, error, no_content, ok};
use super::core::Core;
use super::entities::ServiceOrder;
use super::{notices, shapes, summary};
use crate::mock::Reply;

/// `POST v3/payscore/serviceorder` (and the partner form).
pub(crate) fn create(core: &Core, call: &Call, partner: bool) -> Reply {
    match try_create(core, call, partner) {
        Ok(reply) => reply,
        Err(refused) => refused.reply(),
    }
}

fn try_create(core: &Core, call: &Call, partner: bool) -> Result<Reply, Refusal> {
    let out_order_no = call.required("/out_order_no")?;
    let service_id = call.required("/service_id")?;
    let appid = call.required("/appid")?;
    let notify_url = call.required("/notify_url")?;
    let sub_mchid = if partner {
        Some(call.required("/sub_mchid")?.to_owned())
    } else {
        None
    };
    let owner = sub_mchid.clone().unwrap_or_else(|| call.mchid.clone());
    let risk = call
        .json
        .pointer("/risk_fund/amount")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let mut store = core.store();
    if let Some(index) = store.service_orders.find(out_order_no, Some(&owner)) {
        let o = store.service_orders.get(index);
        if o.service_id == service_id && o.request == call.json {
            return Ok(created(o));
        }
        return Err(Refusal::new(
            400,
            "INVALID_REQUEST",
            "商户服务订单号重复: out_order_no was used for another service order",
        ));
    }
    let confirm = call
        .json
        .get("need_user_confirm")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let now = core.now_ms();
    let order = ServiceOrder {
        seq: core.bump(),
        partner,
        mchid: call.mchid.clone(),
        sub_mchid,
        appid: appid.to_owned(),
        sub_appid: call.text("/sub_appid").map(str::to_owned),
        service_id: service_id.to_owned(),
        out_order_no: out_order_no.to_owned(),
        order_id: core.id("1000000000", 32),
        state: if confirm { "CREATED" } else { "DOING" },
        state_description: (!confirm).then_some("USER_CONFIRM"),
        collection: None,
        total_amount: risk,
        openid: call.text("/openid").map(str::to_owned),
        notify_url: notify_url.to_owned(),
        prepaid_message_sent: false,
        pending_message_sent: false,
        transaction_id: None,
        request: call.json.clone(),
        created_ms: now,
        updated_ms: now,
        paid_ms: None,
    };
    let reply = created(&order);
    store.service_orders.insert(order);
    Ok(reply)
}

fn created(o: &ServiceOrder) -> Reply {
    let mut body = shapes::service_order(o);
    body["package"] = json!(format!("DEBT{}", o.order_id));
    ok(body)
}

fn not_exist(number: &str) -> Reply {
    error(
        404,
        "ORDER_NOT_EXIST",
        &format!("订单不存在: no service order `{number}` of this merchant"),
    )
}

/// `GET v3/payscore/serviceorder?out_order_no=&service_id=&appid=` (and the partner form,
/// with `sub_mchid`).
pub(crate) fn query(core: &Core, call: &Call, partner: bool) -> Reply {
    let owner = match (partner, call.query("sub_mchid")) {
        (true, Some(sub)) => sub,
        (true, None) => return super::call::missing("/sub_mchid").reply(),
        (false, _) => call.mchid.as_str(),
    };
    let Some(number) = call.query("out_order_no") else {
        return super::call::missing("/out_order_no").reply();
    };
    let store = core.store();
    let Some(index) = store.service_orders.find(number, Some(owner)) else {
        return not_exist(number);
    };
    let o = store.service_orders.get(index);
    if call
        .query("service_id")
        .is_some_and(|id| id != o.service_id)
    {
        return not_exist(number);
    }
    ok(shapes::service_order(o))
}

/// `POST v3/payscore/serviceorder/{out_order_no}/{action}` (and the partner form); `None`
/// for an action the sandbox does not model.
pub(crate) fn act(
    core: &Core,
    call: &Call,
    number: &str,
    action: &str,
    partner: bool,
) -> Option<Reply> {
    if !matches!(
        action,
        "cancel"
            | "complete"
            | "modify"
            | "pay"
            | "sync"
            | "send-prepaidmessage"
            | "send-pendingmessage"
    ) {
        return None;
    }
    let owner = if partner {
        match call.text("/sub_mchid") {
            Some(sub) => sub.to_owned(),
            None => return Some(super::call::missing("/sub_mchid").reply()),
        }
    } else {
        call.mchid.clone()
    };
    let mut store = core.store();
    let Some(index) = store.service_orders.find(number, Some(&owner)) else {
        return Some(not_exist(number));
    };
    let o = store.service_orders.get(index);
    if let Some(service_id) = call.text("/service_id")
        && service_id != o.service_id
    {
        return Some(error(
            400,
            "INVALID_REQUEST",
            &format!(
                "service_id `{service_id}` is not the order's `{}`",
                o.service_id
            ),
        ));
    }
    let state = (o.state, o.state_description, o.collection);
    let wrong_state = |what: &str| {
        Some(error(
            400,
            "INVALID_REQUEST",
            &format!(
                "订单状态不正确: {what} (the order is {}{})",
                o.state,
                o.state_description
                    .map(|d| format!("/{d}"))
                    .unwrap_or_default()
            ),
        ))
    };
    let once = |sent: bool, what: &str| {
        sent.then(|| {
            error(
                400,
                "INVALID_REQUEST",
                &format!("一笔服务订单仅可以发送一次{what}: it was sent for this order already"),
            )
        })
    };
    let now = core.now_ms();
    let seq = core.bump();
    let mut notice = None;
    let reply = match action {
        "send-prepaidmessage" => {
            if let Some(refused) = once(o.prepaid_message_sent, "下发服务预扣费消息") {
                return Some(refused);
            }
            if state != ("DOING", Some("USER_CONFIRM"), None) {
                return wrong_state("a prepaid message is sent while the service runs");
            }
            store.service_orders.get_mut(index).prepaid_message_sent = true;
            no_content()
        }
        "send-pendingmessage" => {
            if let Some(refused) = once(o.pending_message_sent, "服务费用待处理消息") {
                return Some(refused);
            }
            if state.2 != Some("USER_PAYING") {
                return wrong_state("a pending message is sent while the fee is unpaid");
            }
            store.service_orders.get_mut(index).pending_message_sent = true;
            no_content()
        }
        "cancel" => {
            if !matches!(state, ("CREATED", ..) | ("DOING", Some("USER_CONFIRM"), _)) {
                return wrong_state("only a created or running order is cancelled");
            }
            store.service_orders.get_mut(index).state = "REVOKED";
            ok(shapes::service_order(store.service_orders.get(index)))
        }
        "complete" => {
            if state != ("DOING", Some("USER_CONFIRM"), None) {
                return wrong_state("only a running order the user confirmed is completed");
            }
            let o = store.service_orders.get_mut(index);
            o.state_description = Some("MCH_COMPLETE");
            o.collection = Some("USER_PAYING");
            if let Some(total) = call.json.get("total_amount").and_then(Value::as_i64) {
                o.total_amount = total;
            }
            merge(&mut o.request, &call.json);
            ok(shapes::service_order(o))
        }
        "modify" => {
            if state.2 != Some("USER_PAYING") {
                return wrong_state("only an unpaid completed order is modified");
            }
            let o = store.service_orders.get_mut(index);
            if let Some(total) = call.json.get("total_amount").and_then(Value::as_i64) {
                o.total_amount = total;
            }
            merge(&mut o.request, &call.json);
            ok(shapes::service_order(o))
        }
        "pay" | "sync" => {
            if state.2 != Some("USER_PAYING") {
                return wrong_state("only an unpaid completed order is collected");
            }
            let id = core.id("42000", 28);
            let o = store.service_orders.get_mut(index);
            paid(o, id, now);
            notice = Some(notices::service_order(o, "PAYSCORE.USER_PAID"));
            if action == "pay" {
                no_content()
            } else {
                ok(shapes::service_order(o))
            }
        }
        _ => return None,
    };
    let o = store.service_orders.get_mut(index);
    o.updated_ms = now;
    o.seq = seq;
    drop(store);
    if let Some(notice) = notice {
        core.notify(notice);
    }
    Some(reply)
}

/// The order collected: `DONE`, `USER_PAID`.
fn paid(o: &mut ServiceOrder, transaction_id: String, now: u64) {
    o.state = "DONE";
    o.collection = Some("USER_PAID");
    o.transaction_id = Some(transaction_id);
    o.paid_ms = Some(now);
}

/// Copies the fields of `update` over `into` (both JSON objects).
fn merge(into: &mut Value, update: &Value) {
    if let (Some(into), Some(update)) = (into.as_object_mut(), update.as_object()) {
        for (key, value) in update {
            into.insert(key.clone(), value.clone());
        }
    }
}

/// The user acts on a service order: `confirm` (a created order starts:
/// `PAYSCORE.USER_CONFIRM`) or `pay` (the fee of a completed order is collected:
/// `PAYSCORE.USER_PAID`). Returns it as the control API shows it.
pub(crate) fn user(
    core: &Core,
    number: &str,
    merchant: Option<&str>,
    action: &str,
) -> Result<Value, Refusal> {
    let mut store = core.store();
    if merchant.is_none() && store.service_orders.count(number) > 1 {
        return Err(Refusal::new(
            409,
            "AMBIGUOUS",
            format!("several merchants have a service order `{number}`: add ?mchid="),
        ));
    }
    let index = store
        .service_orders
        .find(number, merchant)
        .ok_or_else(|| Refusal::new(404, "NOT_FOUND", format!("no service order `{number}`")))?;
    let now = core.now_ms();
    let seq = core.bump();
    let o = store.service_orders.get_mut(index);
    let event = match action {
        "confirm" if o.state == "CREATED" => {
            o.state = "DOING";
            o.state_description = Some("USER_CONFIRM");
            "PAYSCORE.USER_CONFIRM"
        }
        "pay" if o.collection == Some("USER_PAYING") => {
            paid(o, core.id("42000", 28), now);
            "PAYSCORE.USER_PAID"
        }
        _ => {
            return Err(Refusal::new(
                409,
                "INVALID_STATE",
                format!(
                    "service order `{number}` is {}{}: `confirm` needs CREATED, `pay` a completed \
                     order whose fee is unpaid",
                    o.state,
                    o.state_description
                        .map(|d| format!("/{d}"))
                        .unwrap_or_default()
                ),
            ));
        }
    };
    o.updated_ms = now;
    o.seq = seq;
    let notice = notices::service_order(o, event);
    let shown = summary::service_order(o);
    drop(store);
    core.notify(notice);
    Ok(shown)
}
