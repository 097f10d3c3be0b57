//! Payments (支付订单): `v3/pay/transactions/{jsapi,app,h5,native}` and their partner forms
//! `v3/pay/partner/transactions/…`, the queries by `id` and `out-trade-no`, `close`, and the
//! payer's action. `NOTPAY → SUCCESS | PAYERROR | CLOSED`, `REFUND` once refunded; an unpaid
//! order is closed at its `time_expire`.

use serde_json::{Value, json};

use super::call::{Call, Refusal, error, no_content, ok};
use super::clock::rfc3339;
use super::core::{Core, Store};
use super::entities::Transaction;
use super::notices;
use super::shapes;
use crate::mock::Reply;
use crate::time::parse_rfc3339;

/// The `trade_type` of an order path's last segment.
pub(crate) fn trade_type(kind: &str) -> &'static str {
    match kind {
        "app" => "APP",
        "h5" => "MWEB",
        "native" => "NATIVE",
        _ => "JSAPI",
    }
}

/// The merchant ids of a partner or direct call: (`mchid` or `sp_mchid`, `sub_mchid`), and
/// the app ids likewise; checks that the body's merchant is the one that signed.
pub(crate) struct Merchant {
    pub mchid: String,
    pub sub_mchid: Option<String>,
    pub appid: String,
    pub sub_appid: Option<String>,
}

impl Merchant {
    /// From the JSON body of an order call.
    pub(crate) fn of_body(call: &Call, partner: bool) -> Result<Self, Refusal> {
        let merchant = if partner {
            Merchant {
                mchid: call.required("/sp_mchid")?.to_owned(),
                sub_mchid: Some(call.required("/sub_mchid")?.to_owned()),
                appid: call.required("/sp_appid")?.to_owned(),
                sub_appid: call.text("/sub_appid").map(str::to_owned),
            }
        } else {
            Merchant {
                mchid: call.required("/mchid")?.to_owned(),
                sub_mchid: None,
                appid: call.required("/appid")?.to_owned(),
                sub_appid: None,
            }
        };
        signer_is(call, &merchant.mchid)?;
        Ok(merchant)
    }

    /// The merchant whose order it is.
    pub(crate) fn owner(&self) -> &str {
        self.sub_mchid.as_deref().unwrap_or(&self.mchid)
    }
}

/// Refuses a call whose merchant (`mchid` or `sp_mchid`) is not the one that signed it.
pub(crate) fn signer_is(call: &Call, mchid: &str) -> Result<(), Refusal> {
    if mchid == call.mchid {
        return Ok(());
    }
    Err(Refusal::new(
        400,
        "INVALID_REQUEST",
        format!(
            "商户号不一致: the request names merchant `{mchid}` but was signed by `{}`",
            call.mchid
        ),
    ))
}

/// The merchant a query or close names: `mchid` (direct) or `sp_mchid` and `sub_mchid`
/// (partner), from the query string or the body.
fn named_owner(call: &Call, partner: bool, from_query: bool) -> Result<String, Refusal> {
    let get = |name: &str| -> Result<String, Refusal> {
        let value = if from_query {
            call.query(name)
        } else {
            call.text(&format!("/{name}"))
        };
        value
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| super::call::missing(&format!("/{name}")))
    };
    if partner {
        signer_is(call, &get("sp_mchid")?)?;
        get("sub_mchid")
    } else {
        let mchid = get("mchid")?;
        signer_is(call, &mchid)?;
        Ok(mchid)
    }
}

/// `POST v3/pay/transactions/{kind}` and `v3/pay/partner/transactions/{kind}`.
pub(crate) fn create(core: &Core, call: &Call, kind: &str, partner: bool) -> Reply {
    match try_create(core, call, kind, partner) {
        Ok(reply) => reply,
        Err(refused) => refused.reply(),
    }
}

fn try_create(core: &Core, call: &Call, kind: &str, partner: bool) -> Result<Reply, Refusal> {
    let merchant = Merchant::of_body(call, partner)?;
    let out_trade_no = call.required("/out_trade_no")?;
    let description = call.required("/description")?;
    let notify_url = call.required("/notify_url")?;
    let total = call.amount("/amount/total")?;
    let expire_ms = expiry(call, core.now_ms())?;
    let trade_type = trade_type(kind);
    let now = core.now_ms();
    let mut store = core.store();
    if let Some(index) = store
        .transactions
        .find(out_trade_no, Some(merchant.owner()))
    {
        expire_one(core, &mut store, index);
        let existing = store.transactions.get(index);
        return match existing.state {
            "SUCCESS" | "REFUND" => Err(Refusal::new(
                403,
                "ORDERPAID",
                "该订单已支付: the order was paid",
            )),
            "CLOSED" => Err(Refusal::new(
                400,
                "ORDER_CLOSED",
                "该订单已关闭: the order was closed; order again with another out_trade_no",
            )),
            _ if existing.total == total
                && existing.trade_type == trade_type
                && existing.description == description =>
            {
                Ok(prepaid(existing, &call.origin))
            }
            _ => Err(Refusal::new(
                403,
                "OUT_TRADE_NO_USED",
                "商户订单号重复: this out_trade_no was ordered with another amount, description \
                 or trade type",
            )),
        };
    }
    let transaction = Transaction {
        seq: core.bump(),
        v2: false,
        trade_type: trade_type.to_owned(),
        partner,
        mchid: merchant.mchid,
        sub_mchid: merchant.sub_mchid,
        appid: merchant.appid,
        sub_appid: merchant.sub_appid,
        out_trade_no: out_trade_no.to_owned(),
        transaction_id: None,
        prepay_id: core.prepay_id(),
        state: "NOTPAY",
        total,
        currency: call.text("/amount/currency").unwrap_or("CNY").to_owned(),
        refunded: 0,
        description: description.to_owned(),
        attach: call.text("/attach").map(str::to_owned),
        notify_url: notify_url.to_owned(),
        payer: call.json.get("payer").cloned().unwrap_or_else(|| json!({})),
        request: call.json.clone(),
        created_ms: now,
        updated_ms: now,
        success_ms: None,
        expire_ms,
        combine: None,
    };
    let reply = prepaid(&transaction, &call.origin);
    store.transactions.insert(transaction);
    Ok(reply)
}

/// `time_expire` of an order call, in virtual ms.
pub(crate) fn expiry(call: &Call, now_ms: u64) -> Result<Option<u64>, Refusal> {
    let Some(text) = call.text("/time_expire") else {
        return Ok(None);
    };
    let seconds = parse_rfc3339(text).ok_or_else(|| {
        super::call::param_error(&format!(
            "输入源“/body/time_expire”映射到字段“交易结束时间”格式校验失败: `{text}` is not RFC 3339 \
             (yyyy-MM-DDTHH:mm:ss+TIMEZONE)"
        ))
    })?;
    let expire_ms = seconds * 1000;
    if expire_ms <= now_ms {
        return Err(Refusal::new(
            400,
            "INVALID_REQUEST",
            format!(
                "time_expire已过期: {text} is before the sandbox's time {}",
                rfc3339(now_ms)
            ),
        ));
    }
    Ok(Some(expire_ms))
}

/// The answer to an order call: the prepay id, the H5 page or the QR code's URL.
fn prepaid(t: &Transaction, origin: &str) -> Reply {
    let body = match t.trade_type.as_str() {
        "MWEB" => json!({"h5_url": format!(
            "{origin}/_sandbox/transactions/{}?prepay_id={}", t.out_trade_no, t.prepay_id
        )}),
        "NATIVE" => {
            json!({"code_url": format!("weixin://wxpay/bizpayurl?pr={}", &t.prepay_id[2..12])})
        }
        _ => json!({"prepay_id": t.prepay_id}),
    };
    ok(body)
}

/// Closes the order at `index` if it is unpaid and past its `time_expire`.
pub(crate) fn expire_one(core: &Core, store: &mut Store, index: usize) {
    let now = core.now_ms();
    let t = store.transactions.get(index);
    if t.state == "NOTPAY" && t.expire_ms.is_some_and(|expire| expire <= now) {
        let seq = core.bump();
        let t = store.transactions.get_mut(index);
        t.state = "CLOSED";
        t.updated_ms = t.expire_ms.unwrap_or(now);
        t.seq = seq;
    }
}

/// Closes every unpaid order past its `time_expire`.
pub(crate) fn expire_all(core: &Core, store: &mut Store) {
    for index in 0..store.transactions.len() {
        expire_one(core, store, index);
    }
}

/// `GET v3/pay/transactions/out-trade-no/{out_trade_no}` (and the partner form).
pub(crate) fn query(core: &Core, call: &Call, out_trade_no: &str, partner: bool) -> Reply {
    let owner = match named_owner(call, partner, true) {
        Ok(owner) => owner,
        Err(refused) => return refused.reply(),
    };
    let mut store = core.store();
    match store.transactions.find(out_trade_no, Some(&owner)) {
        Some(index) => {
            expire_one(core, &mut store, index);
            ok(shapes::transaction(store.transactions.get(index)))
        }
        None => not_exist(out_trade_no),
    }
}

/// `GET v3/pay/transactions/id/{transaction_id}` (and the partner form).
pub(crate) fn query_id(core: &Core, call: &Call, id: &str, partner: bool) -> Reply {
    let owner = match named_owner(call, partner, true) {
        Ok(owner) => owner,
        Err(refused) => return refused.reply(),
    };
    let store = core.store();
    match store.transactions.find_id(id) {
        Some(index) if store.transactions.get(index).owner() == owner => {
            ok(shapes::transaction(store.transactions.get(index)))
        }
        _ => not_exist(id),
    }
}

fn not_exist(number: &str) -> Reply {
    error(
        404,
        "ORDER_NOT_EXIST",
        &format!("订单不存在: no order `{number}` of this merchant"),
    )
}

/// `POST v3/pay/transactions/out-trade-no/{out_trade_no}/close` (and the partner form).
pub(crate) fn close(core: &Core, call: &Call, out_trade_no: &str, partner: bool) -> Reply {
    let owner = match named_owner(call, partner, false) {
        Ok(owner) => owner,
        Err(refused) => return refused.reply(),
    };
    let mut store = core.store();
    let Some(index) = store.transactions.find(out_trade_no, Some(&owner)) else {
        return not_exist(out_trade_no);
    };
    expire_one(core, &mut store, index);
    match store.transactions.get(index).state {
        "SUCCESS" | "REFUND" => error(400, "ORDERPAID", "订单已支付，不能发起关单"),
        "CLOSED" => no_content(),
        _ => {
            let seq = core.bump();
            let t = store.transactions.get_mut(index);
            t.state = "CLOSED";
            t.updated_ms = core.now_ms();
            t.seq = seq;
            no_content()
        }
    }
}

/// The payer acts on an unpaid order: `SUCCESS` (pays it: `TRANSACTION.SUCCESS` is sent),
/// `PAYERROR` or `CLOSED`. Returns the order as the control API shows it.
pub(crate) fn pay(
    core: &Core,
    out_trade_no: &str,
    merchant: Option<&str>,
    result: &str,
) -> Result<Value, Refusal> {
    if !matches!(result, "SUCCESS" | "PAYERROR" | "CLOSED") {
        return Err(Refusal::new(
            400,
            "PARAM_ERROR",
            format!("result `{result}` is none of SUCCESS, PAYERROR, CLOSED"),
        ));
    }
    let mut store = core.store();
    let index = find_for_control(&store, out_trade_no, merchant)?;
    expire_one(core, &mut store, index);
    let t = store.transactions.get(index);
    if let Some(combine) = &t.combine {
        return Err(Refusal::new(
            409,
            "INVALID_REQUEST",
            format!(
                "`{out_trade_no}` is a sub-order of the combined payment `{combine}`: pay that \
                 one (POST /_sandbox/transactions/{combine}/pay)"
            ),
        ));
    }
    check_payable(t)?;
    let now = core.now_ms();
    let transaction_id = (result == "SUCCESS").then(|| core.id("42000", 28));
    let seq = core.bump();
    let t = store.transactions.get_mut(index);
    settle(t, result, transaction_id.clone(), now, seq);
    let notice = (result == "SUCCESS").then(|| notices::paid(t));
    let shown = super::summary::transaction(t);
    if let Some(id) = transaction_id {
        store.transactions.index_id(index, &id);
    }
    drop(store);
    if let Some(notice) = notice {
        core.notify(notice);
    }
    Ok(shown)
}

/// Refuses to pay an order that is not waiting for its payer.
pub(crate) fn check_payable(t: &Transaction) -> Result<(), Refusal> {
    match t.state {
        "NOTPAY" | "PAYERROR" => Ok(()),
        "CLOSED" => {
            let expired = t
                .expire_ms
                .filter(|expire| *expire <= t.updated_ms)
                .map(|expire| format!(" (its time_expire {} passed)", rfc3339(expire)))
                .unwrap_or_default();
            Err(Refusal::new(
                409,
                "ORDER_CLOSED",
                format!("订单已关闭: `{}` was closed{expired}", t.out_trade_no),
            ))
        }
        _ => Err(Refusal::new(
            409,
            "ORDERPAID",
            format!("订单已支付: `{}` is {}", t.out_trade_no, t.state),
        )),
    }
}

/// Moves an order to `result`, paid with `transaction_id` when `SUCCESS`.
pub(crate) fn settle(
    t: &mut Transaction,
    result: &str,
    transaction_id: Option<String>,
    now: u64,
    seq: u64,
) {
    t.state = match result {
        "SUCCESS" => "SUCCESS",
        "PAYERROR" => "PAYERROR",
        _ => "CLOSED",
    };
    if result == "SUCCESS" {
        t.transaction_id = transaction_id;
        t.success_ms = Some(now);
    }
    t.updated_ms = now;
    t.seq = seq;
}

/// The order a control action names, or the control API's `404`.
pub(crate) fn find_for_control(
    store: &Store,
    out_trade_no: &str,
    merchant: Option<&str>,
) -> Result<usize, Refusal> {
    if merchant.is_none() && store.transactions.count(out_trade_no) > 1 {
        return Err(Refusal::new(
            409,
            "AMBIGUOUS",
            format!(
                "several merchants have an order `{out_trade_no}`: add ?mchid= (the merchant, or \
                 the sub-merchant of a partner order)"
            ),
        ));
    }
    store
        .transactions
        .find(out_trade_no, merchant)
        .ok_or_else(|| {
            Refusal::new(
                404,
                "NOT_FOUND",
                format!("no transaction with out_trade_no `{out_trade_no}`"),
            )
        })
}
