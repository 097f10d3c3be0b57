//! Refunds (退款): `POST v3/refund/domestic/refunds` and its query, `PROCESSING → SUCCESS |
//! ABNORMAL | CLOSED` when the control API completes them; amounts are checked against what
//! was paid and what is already refunded.

use serde_json::Value;

use super::call::{Call, Refusal, missing, ok};
use super::core::{Core, Store};
use super::entities::Refund;
use super::notices;
use super::shapes;
use crate::mock::Reply;

/// What a refund call asks for.
pub(crate) struct Asked<'a> {
    pub out_refund_no: &'a str,
    pub refund: i64,
    pub total: i64,
    pub notify_url: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub funds_account: Option<&'a str>,
    pub v2: bool,
}

/// `POST v3/refund/domestic/refunds`.
pub(crate) fn create(core: &Core, call: &Call) -> Reply {
    match try_create(core, call) {
        Ok(reply) => reply,
        Err(refusal) => refusal.reply(),
    }
}

fn try_create(core: &Core, call: &Call) -> Result<Reply, Refusal> {
    let sub_mchid = call.text("/sub_mchid");
    let owner = sub_mchid.unwrap_or(&call.mchid);
    let asked = Asked {
        out_refund_no: call.required("/out_refund_no")?,
        refund: call.amount("/amount/refund")?,
        total: call.amount("/amount/total")?,
        notify_url: call.text("/notify_url"),
        reason: call.text("/reason"),
        funds_account: call.text("/funds_account"),
        v2: false,
    };
    let mut store = core.store();
    let order = match (call.text("/transaction_id"), call.text("/out_trade_no")) {
        (Some(id), _) => store.transactions.find_id(id),
        (None, Some(number)) => store.transactions.find(number, Some(owner)),
        (None, None) => return Err(missing("/out_trade_no")),
    }
    .filter(|index| {
        let t = store.transactions.get(*index);
        t.owner() == owner && t.mchid == call.mchid
    });
    let index = open(core, &mut store, order, asked)?;
    Ok(ok(shapes::refund(store.refunds.get(index))))
}

/// Opens a refund of the order at `order` (`None`: not found); returns the refund's index.
/// A repeated call with the same `out_refund_no` and amount finds the same refund.
pub(crate) fn open(
    core: &Core,
    store: &mut Store,
    order: Option<usize>,
    asked: Asked<'_>,
) -> Result<usize, Refusal> {
    let not_found = || {
        Refusal::new(
            404,
            "RESOURCE_NOT_EXISTS",
            "订单不存在: no paid order of this merchant with that transaction_id or \
             out_trade_no (an unpaid order cannot be refunded)",
        )
    };
    let index = order.ok_or_else(not_found)?;
    let t = store.transactions.get(index);
    if !matches!(t.state, "SUCCESS" | "REFUND") {
        return Err(not_found());
    }
    if let Some(existing) = store.refunds.find(asked.out_refund_no, Some(t.owner())) {
        let r = store.refunds.get(existing);
        if r.refund == asked.refund && r.out_trade_no == t.out_trade_no {
            return Ok(existing);
        }
        return Err(Refusal::new(
            400,
            "INVALID_REQUEST",
            format!(
                "退款单号重复: out_refund_no `{}` was used for another refund",
                asked.out_refund_no
            ),
        ));
    }
    if asked.total != t.total {
        return Err(Refusal::new(
            400,
            "INVALID_REQUEST",
            format!(
                "订单金额不一致: amount.total {} is not the order's total {}",
                asked.total, t.total
            ),
        ));
    }
    if asked.refund > t.refundable() {
        return Err(Refusal::new(
            400,
            "INVALID_REQUEST",
            format!(
                "申请退款金额超过订单可退金额: {} asked, {} of {} left to refund",
                asked.refund,
                t.refundable(),
                t.total
            ),
        ));
    }
    let now = core.now_ms();
    let refund = Refund {
        seq: core.bump(),
        v2: asked.v2,
        partner: t.partner,
        mchid: t.mchid.clone(),
        sub_mchid: t.sub_mchid.clone(),
        appid: t.appid.clone(),
        out_refund_no: asked.out_refund_no.to_owned(),
        refund_id: core.id("50300", 29),
        out_trade_no: t.out_trade_no.clone(),
        transaction_id: t.transaction_id.clone().unwrap_or_default(),
        state: "PROCESSING",
        refund: asked.refund,
        total: t.total,
        currency: t.currency.clone(),
        reason: asked.reason.map(str::to_owned),
        notify_url: asked.notify_url.map(str::to_owned),
        funds_account: asked.funds_account.map(str::to_owned),
        created_ms: now,
        updated_ms: now,
        success_ms: None,
    };
    let refund_id = refund.refund_id.clone();
    let seq = core.bump();
    let t = store.transactions.get_mut(index);
    t.refunded += asked.refund;
    t.state = "REFUND";
    t.updated_ms = now;
    t.seq = seq;
    let refund_index = store.refunds.insert(refund);
    store.refunds.index_id(refund_index, &refund_id);
    Ok(refund_index)
}

/// `GET v3/refund/domestic/refunds/{out_refund_no}` (`?sub_mchid=` for a partner).
pub(crate) fn query(core: &Core, call: &Call, out_refund_no: &str) -> Reply {
    let owner = call.query("sub_mchid").unwrap_or(&call.mchid);
    let store = core.store();
    match store.refunds.find(out_refund_no, Some(owner)) {
        Some(index) if store.refunds.get(index).mchid == call.mchid => {
            ok(shapes::refund(store.refunds.get(index)))
        }
        _ => Refusal::new(
            404,
            "RESOURCE_NOT_EXISTS",
            format!("退款单不存在: no refund `{out_refund_no}` of this merchant"),
        )
        .reply(),
    }
}

/// WeChat Pay settles a refund: `SUCCESS`, `ABNORMAL` or `CLOSED` (the amount is released);
/// its notification is sent. Returns the refund as the control API shows it.
pub(crate) fn complete(
    core: &Core,
    out_refund_no: &str,
    merchant: Option<&str>,
    result: &str,
) -> Result<Value, Refusal> {
    let state = match result {
        "SUCCESS" => "SUCCESS",
        "ABNORMAL" => "ABNORMAL",
        "CLOSED" => "CLOSED",
        _ => {
            return Err(Refusal::new(
                400,
                "PARAM_ERROR",
                format!("result `{result}` is none of SUCCESS, ABNORMAL, CLOSED"),
            ));
        }
    };
    let mut store = core.store();
    if merchant.is_none() && store.refunds.count(out_refund_no) > 1 {
        return Err(Refusal::new(
            409,
            "AMBIGUOUS",
            format!("several merchants have a refund `{out_refund_no}`: add ?mchid="),
        ));
    }
    let index = store.refunds.find(out_refund_no, merchant).ok_or_else(|| {
        Refusal::new(
            404,
            "NOT_FOUND",
            format!("no refund with out_refund_no `{out_refund_no}`"),
        )
    })?;
    let r = store.refunds.get(index);
    if !matches!(r.state, "PROCESSING" | "ABNORMAL") {
        return Err(Refusal::new(
            409,
            "INVALID_STATE",
            format!(
                "refund `{out_refund_no}` is {}: only a PROCESSING (or ABNORMAL) refund completes",
                r.state
            ),
        ));
    }
    let (amount, order) = (r.refund, r.out_trade_no.clone());
    let owner = r.sub_mchid.clone().unwrap_or_else(|| r.mchid.clone());
    let now = core.now_ms();
    let seq = core.bump();
    let r = store.refunds.get_mut(index);
    r.state = state;
    r.updated_ms = now;
    r.seq = seq;
    if state == "SUCCESS" {
        r.success_ms = Some(now);
    }
    let notice = notices::refunded(r);
    let shown = super::summary::refund(r);
    if state == "CLOSED"
        && let Some(order) = store.transactions.find(&order, Some(&owner))
    {
        let seq = core.bump();
        let t = store.transactions.get_mut(order);
        t.refunded -= amount;
        if t.refunded == 0 {
            t.state = "SUCCESS";
        }
        t.updated_ms = now;
        t.seq = seq;
    }
    drop(store);
    if let Some(notice) = notice {
        core.notify(notice);
    }
    Ok(shown)
}
