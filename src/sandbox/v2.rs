//! APIv2 (XML): `pay/unifiedorder`, `pay/orderquery`, `pay/closeorder`, `secapi/pay/refund`
//! (mutual TLS) and `pay/refundquery`, on the same payments and refunds as APIv3: an order
//! made here is paid by the same control action and notified in XML.

use serde_json::{Map, Value, json};

use super::call::{Call, Refusal, v2_error};
use super::core::Core;
use super::entities::Transaction;
use super::notices::compact_time;
use super::orders::expire_one;
use super::refunds::{self, Asked};
use crate::mock::Reply;
use crate::toolkit;

/// A successful APIv2 answer: `return_code` and `result_code` SUCCESS, the merchant's ids
/// and a nonce, then `fields`.
fn success(call: &Call, fields: Value) -> Reply {
    let mut answer = Map::new();
    answer.insert("return_code".into(), json!("SUCCESS"));
    answer.insert("return_msg".into(), json!("OK"));
    for key in ["appid", "mch_id", "sub_mch_id", "sub_appid"] {
        if let Some(value) = call.fields.get_str(key) {
            answer.insert(key.into(), json!(value));
        }
    }
    answer.insert(
        "nonce_str".into(),
        json!(toolkit::nonce(16).unwrap_or_default()),
    );
    answer.insert("result_code".into(), json!("SUCCESS"));
    if let Value::Object(fields) = fields {
        answer.extend(fields);
    }
    Reply::xml(200, Value::Object(answer))
}

/// The merchant the order belongs to: `sub_mch_id` for a partner, else `mch_id`.
fn owner<'a>(call: &'a Call) -> &'a str {
    call.fields
        .get_str("sub_mch_id")
        .unwrap_or(call.mchid.as_str())
}

/// An amount field in fen.
fn fen(call: &Call, name: &str) -> Result<i64, Refusal> {
    let text = call.field(name)?;
    text.parse::<i64>()
        .ok()
        .filter(|fen| *fen > 0)
        .ok_or_else(|| {
            Refusal::v2_fail(format!(
                "{name}参数格式错误: `{text}` is not an amount in fen"
            ))
        })
}

/// `yyyyMMddHHmmss` (Beijing time) as virtual ms.
fn parse_compact(text: &str) -> Option<u64> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}+08:00",
        &text[..4],
        &text[4..6],
        &text[6..8],
        &text[8..10],
        &text[10..12],
        &text[12..]
    );
    crate::time::parse_rfc3339(&rfc).map(|seconds| seconds * 1000)
}

/// `POST pay/unifiedorder` (统一下单).
pub(crate) fn unified_order(core: &Core, call: &Call) -> Reply {
    match try_unified_order(core, call) {
        Ok(reply) => reply,
        Err(refused) => refused.reply(),
    }
}

fn try_unified_order(core: &Core, call: &Call) -> Result<Reply, Refusal> {
    let out_trade_no = call.field("out_trade_no")?;
    let total = fen(call, "total_fee")?;
    let body = call.field("body")?;
    let notify_url = call.field("notify_url")?;
    let appid = call.field("appid")?;
    let kind = call.field("trade_type")?;
    let trade_type = match kind {
        "JSAPI" | "NATIVE" | "APP" | "MWEB" => kind,
        _ => return Err(Refusal::v2_fail(format!("trade_type参数错误: `{kind}`"))),
    };
    let owner = owner(call).to_owned();
    let mut store = core.store();
    if let Some(index) = store.transactions.find(out_trade_no, Some(&owner)) {
        expire_one(core, &mut store, index);
        let t = store.transactions.get(index);
        return Ok(match t.state {
            "SUCCESS" | "REFUND" => v2_error("ORDERPAID", "该订单已支付"),
            "CLOSED" => v2_error("ORDERCLOSED", "该订单已关闭"),
            _ if t.total == total && t.description == body && t.trade_type == trade_type => {
                prepaid(call, t)
            }
            _ => v2_error("INVALID_REQUEST", "201 商户订单号重复"),
        });
    }
    let now = core.now_ms();
    let mut payer = json!({});
    if let Some(openid) = call.fields.get_str("openid") {
        payer["openid"] = json!(openid);
    }
    if let Some(openid) = call.fields.get_str("sub_openid") {
        payer["sub_openid"] = json!(openid);
    }
    let transaction = Transaction {
        seq: core.bump(),
        v2: true,
        trade_type: trade_type.to_owned(),
        partner: call.fields.get_str("sub_mch_id").is_some(),
        mchid: call.mchid.clone(),
        sub_mchid: call.fields.get_str("sub_mch_id").map(str::to_owned),
        appid: appid.to_owned(),
        sub_appid: call.fields.get_str("sub_appid").map(str::to_owned),
        out_trade_no: out_trade_no.to_owned(),
        transaction_id: None,
        prepay_id: core.prepay_id(),
        state: "NOTPAY",
        total,
        currency: call.fields.get_str("fee_type").unwrap_or("CNY").to_owned(),
        refunded: 0,
        description: body.to_owned(),
        attach: call.fields.get_str("attach").map(str::to_owned),
        notify_url: notify_url.to_owned(),
        payer,
        request: call.fields.to_json(),
        created_ms: now,
        updated_ms: now,
        success_ms: None,
        expire_ms: call.fields.get_str("time_expire").and_then(parse_compact),
        combine: None,
    };
    let reply = prepaid(call, &transaction);
    store.transactions.insert(transaction);
    Ok(reply)
}

fn prepaid(call: &Call, t: &Transaction) -> Reply {
    let mut fields = json!({"trade_type": t.trade_type, "prepay_id": t.prepay_id});
    match t.trade_type.as_str() {
        "NATIVE" => {
            fields["code_url"] = json!(format!(
                "weixin://wxpay/bizpayurl?pr={}",
                &t.prepay_id[2..12]
            ))
        }
        "MWEB" => {
            fields["mweb_url"] = json!(format!(
                "{}/_sandbox/transactions/{}?prepay_id={}",
                call.origin, t.out_trade_no, t.prepay_id
            ));
        }
        _ => {}
    }
    success(call, fields)
}

/// The order an APIv2 call names by `transaction_id` or `out_trade_no`.
fn named_order(core: &Core, call: &Call) -> Option<usize> {
    let store = core.store();
    let index = match call.fields.get_str("transaction_id") {
        Some(id) => store.transactions.find_id(id),
        None => store
            .transactions
            .find(call.fields.get_str("out_trade_no")?, Some(owner(call))),
    }?;
    let t = store.transactions.get(index);
    (t.owner() == owner(call) && t.mchid == call.mchid).then_some(index)
}

/// `POST pay/orderquery` (查询订单).
pub(crate) fn order_query(core: &Core, call: &Call) -> Reply {
    let Some(index) = named_order(core, call) else {
        return v2_error("ORDERNOTEXIST", "此交易订单号不存在");
    };
    let mut store = core.store();
    expire_one(core, &mut store, index);
    let t = store.transactions.get(index);
    let mut fields = json!({
        "out_trade_no": t.out_trade_no,
        "trade_type": t.trade_type,
        "trade_state": t.state,
        "trade_state_desc": super::shapes::trade_state_desc(t.state),
        "total_fee": t.total,
        "fee_type": t.currency,
    });
    if let Some(openid) = t.payer.get("openid") {
        fields["openid"] = openid.clone();
    }
    if let (Some(id), Some(paid)) = (&t.transaction_id, t.success_ms) {
        fields["transaction_id"] = json!(id);
        fields["time_end"] = json!(compact_time(paid));
        fields["bank_type"] = json!("OTHERS");
        fields["cash_fee"] = json!(t.total);
        fields["is_subscribe"] = json!("N");
    }
    if let Some(attach) = &t.attach {
        fields["attach"] = json!(attach);
    }
    success(call, fields)
}

/// `POST pay/closeorder` (关闭订单).
pub(crate) fn close_order(core: &Core, call: &Call) -> Reply {
    let Some(index) = named_order(core, call) else {
        return v2_error("ORDERNOTEXIST", "订单不存在");
    };
    let mut store = core.store();
    expire_one(core, &mut store, index);
    match store.transactions.get(index).state {
        "SUCCESS" | "REFUND" => v2_error("ORDERPAID", "订单已支付，不能发起关单"),
        "CLOSED" => success(call, json!({})),
        _ => {
            let seq = core.bump();
            super::orders::settle(
                store.transactions.get_mut(index),
                "CLOSED",
                None,
                core.now_ms(),
                seq,
            );
            success(call, json!({}))
        }
    }
}

/// `POST secapi/pay/refund` (申请退款, mutual TLS).
pub(crate) fn refund(core: &Core, call: &Call) -> Reply {
    match try_refund(core, call) {
        Ok(reply) => reply,
        Err(refused) => refused.reply(),
    }
}

fn try_refund(core: &Core, call: &Call) -> Result<Reply, Refusal> {
    let asked = Asked {
        out_refund_no: call.field("out_refund_no")?,
        refund: fen(call, "refund_fee")?,
        total: fen(call, "total_fee")?,
        notify_url: call.fields.get_str("notify_url"),
        reason: call.fields.get_str("refund_desc"),
        funds_account: call.fields.get_str("refund_account"),
        v2: true,
    };
    let order = named_order(core, call);
    let mut store = core.store();
    let index = refunds::open(core, &mut store, order, asked).map_err(|refusal| {
        let code = match refusal.code {
            "RESOURCE_NOT_EXISTS" => "ORDERNOTEXIST",
            code => code,
        };
        Refusal::v2_error(code, refusal.message)
    })?;
    let r = store.refunds.get(index);
    Ok(success(
        call,
        json!({
            "transaction_id": r.transaction_id,
            "out_trade_no": r.out_trade_no,
            "out_refund_no": r.out_refund_no,
            "refund_id": r.refund_id,
            "refund_fee": r.refund,
            "settlement_refund_fee": r.refund,
            "total_fee": r.total,
            "cash_fee": r.total,
            "cash_refund_fee": r.refund,
            "refund_channel": "ORIGINAL",
        }),
    ))
}

/// `POST pay/refundquery` (查询退款): the refunds of an order, or one by `out_refund_no`.
pub(crate) fn refund_query(core: &Core, call: &Call) -> Reply {
    let store = core.store();
    let owner = owner(call);
    let refunds: Vec<_> = match call.fields.get_str("out_refund_no") {
        Some(number) => store
            .refunds
            .find(number, Some(owner))
            .map(|index| vec![store.refunds.get(index)])
            .unwrap_or_default(),
        None => store
            .refunds
            .iter()
            .filter(|r| {
                r.sub_mchid.as_deref().unwrap_or(&r.mchid) == owner
                    && (call.fields.get_str("out_trade_no") == Some(r.out_trade_no.as_str())
                        || call.fields.get_str("transaction_id") == Some(r.transaction_id.as_str()))
            })
            .collect(),
    };
    let Some(first) = refunds.first() else {
        return v2_error("REFUNDNOTEXIST", "退款订单查询失败");
    };
    let mut fields = json!({
        "transaction_id": first.transaction_id,
        "out_trade_no": first.out_trade_no,
        "total_fee": first.total,
        "cash_fee": first.total,
        "refund_count": refunds.len(),
    });
    for (n, r) in refunds.iter().enumerate() {
        fields[format!("out_refund_no_{n}")] = json!(r.out_refund_no);
        fields[format!("refund_id_{n}")] = json!(r.refund_id);
        fields[format!("refund_fee_{n}")] = json!(r.refund);
        fields[format!("refund_status_{n}")] = json!(r.state);
        fields[format!("refund_channel_{n}")] = json!("ORIGINAL");
        fields[format!("refund_recv_accout_{n}")] = json!("支付用户零钱");
    }
    success(call, fields)
}
