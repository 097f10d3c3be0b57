//! The entities as WeChat Pay writes them: the bodies of query answers, which are also the
//! resources of their notifications.

use serde_json::{Map, Value, json};

use super::clock::rfc3339;
use super::entities::{Combine, Refund, ServiceOrder, Transaction, TransferBill};

/// `trade_state_desc` of a payment state.
pub(crate) fn trade_state_desc(state: &str) -> &'static str {
    match state {
        "NOTPAY" => "订单未支付",
        "SUCCESS" => "支付成功",
        "REFUND" => "转入退款",
        "CLOSED" => "订单已关闭",
        "PAYERROR" => "支付失败，请重新下单支付",
        _ => "",
    }
}

/// Inserts `key: value` when `value` is `Some`.
fn put(object: &mut Value, key: &str, value: Option<impl Into<Value>>) {
    if let (Some(value), Some(object)) = (value, object.as_object_mut()) {
        object.insert(key.to_owned(), value.into());
    }
}

/// A payment as `GET v3/pay/transactions/out-trade-no/{out_trade_no}` answers it (the direct
/// or the partner form), and as `TRANSACTION.SUCCESS` carries it.
pub(crate) fn transaction(t: &Transaction) -> Value {
    let paid = t.transaction_id.is_some() && t.success_ms.is_some();
    let mut amount = json!({"total": t.total, "currency": t.currency});
    if paid {
        amount["payer_total"] = json!(t.total);
        amount["payer_currency"] = json!(t.currency);
    }
    let mut body = if t.partner {
        let mut payer = Map::new();
        for key in ["sp_openid", "sub_openid"] {
            if let Some(id) = t.payer.get(key) {
                payer.insert(key.to_owned(), id.clone());
            }
        }
        let mut body = json!({
            "sp_appid": t.appid,
            "sp_mchid": t.mchid,
            "sub_mchid": t.sub_mchid,
            "payer": payer,
        });
        put(&mut body, "sub_appid", t.sub_appid.clone());
        body
    } else {
        json!({
            "appid": t.appid,
            "mchid": t.mchid,
            "payer": {"openid": t.payer.get("openid").cloned().unwrap_or(Value::Null)},
        })
    };
    body["out_trade_no"] = json!(t.out_trade_no);
    body["trade_type"] = json!(t.trade_type);
    body["trade_state"] = json!(t.state);
    body["trade_state_desc"] = json!(trade_state_desc(t.state));
    body["amount"] = amount;
    put(&mut body, "transaction_id", t.transaction_id.clone());
    put(&mut body, "attach", t.attach.clone());
    if paid {
        body["bank_type"] = json!("OTHERS");
        put(&mut body, "success_time", t.success_ms.map(rfc3339));
    }
    if let Some(scene) = t.request.get("scene_info") {
        body["scene_info"] =
            json!({"device_id": scene.get("device_id").cloned().unwrap_or(Value::Null)});
    }
    body["promotion_detail"] = json!([]);
    body
}

/// A refund as `GET v3/refund/domestic/refunds/{out_refund_no}` answers it.
pub(crate) fn refund(r: &Refund) -> Value {
    let mut body = json!({
        "refund_id": r.refund_id,
        "out_refund_no": r.out_refund_no,
        "transaction_id": r.transaction_id,
        "out_trade_no": r.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": rfc3339(r.created_ms),
        "status": r.state,
        "funds_account": r.funds_account.clone().unwrap_or_else(|| "UNAVAILABLE".to_owned()),
        "amount": refund_amount(r),
        "promotion_detail": [],
    });
    put(&mut body, "success_time", r.success_ms.map(rfc3339));
    body
}

fn refund_amount(r: &Refund) -> Value {
    json!({
        "total": r.total,
        "refund": r.refund,
        "payer_total": r.total,
        "payer_refund": r.refund,
        "settlement_refund": r.refund,
        "settlement_total": r.total,
        "discount_refund": 0,
        "currency": r.currency,
        "from": [],
    })
}

/// A refund as its `REFUND.*` notification carries it.
pub(crate) fn refund_resource(r: &Refund) -> Value {
    let mut body = if r.partner {
        json!({"sp_mchid": r.mchid, "sub_mchid": r.sub_mchid})
    } else {
        json!({"mchid": r.mchid})
    };
    body["out_trade_no"] = json!(r.out_trade_no);
    body["transaction_id"] = json!(r.transaction_id);
    body["out_refund_no"] = json!(r.out_refund_no);
    body["refund_id"] = json!(r.refund_id);
    body["refund_status"] = json!(r.state);
    body["user_received_account"] = json!("支付用户零钱");
    body["amount"] = json!({
        "total": r.total, "refund": r.refund, "payer_total": r.total, "payer_refund": r.refund,
    });
    put(&mut body, "success_time", r.success_ms.map(rfc3339));
    body
}

/// A combined payment as `GET v3/combine-transactions/out-trade-no/{…}` answers it and
/// `TRANSACTION.SUCCESS` carries it, with its sub-orders.
pub(crate) fn combine(c: &Combine, subs: &[&Transaction]) -> Value {
    let sub_orders: Vec<Value> = subs
        .iter()
        .map(|t| {
            let paid = t.success_ms.is_some();
            let mut amount = json!({"total_amount": t.total, "currency": t.currency});
            if paid {
                amount["payer_amount"] = json!(t.total);
                amount["payer_currency"] = json!(t.currency);
            }
            let mut sub = json!({
                "mchid": t.mchid,
                "out_trade_no": t.out_trade_no,
                "trade_type": t.trade_type,
                "trade_state": t.state,
                "attach": t.attach.clone().unwrap_or_default(),
                "amount": amount,
            });
            put(&mut sub, "sub_mchid", t.sub_mchid.clone());
            put(&mut sub, "transaction_id", t.transaction_id.clone());
            if paid {
                sub["bank_type"] = json!("OTHERS");
                put(&mut sub, "success_time", t.success_ms.map(rfc3339));
            }
            sub
        })
        .collect();
    let mut body = json!({
        "combine_appid": c.combine_appid,
        "combine_mchid": c.combine_mchid,
        "combine_out_trade_no": c.combine_out_trade_no,
        "sub_orders": sub_orders,
        "combine_payer_info": c.payer,
    });
    put(
        &mut body,
        "combine_transaction_id",
        c.combine_transaction_id.clone(),
    );
    if let Some(scene) = c.request.get("scene_info") {
        body["scene_info"] =
            json!({"device_id": scene.get("device_id").cloned().unwrap_or(Value::Null)});
    }
    body
}

/// A PayScore service order as `GET v3/payscore/serviceorder` answers it and its
/// `PAYSCORE.*` notifications carry it.
pub(crate) fn service_order(o: &ServiceOrder) -> Value {
    let request = &o.request;
    let copy = |key: &str| request.get(key).cloned();
    let mut body = json!({
        "out_order_no": o.out_order_no,
        "service_id": o.service_id,
        "appid": o.appid,
        "mchid": o.mchid,
        "service_introduction": copy("service_introduction").unwrap_or_else(|| json!("")),
        "state": o.state,
        "post_payments": copy("post_payments").unwrap_or_else(|| json!([])),
        "risk_fund": copy("risk_fund").unwrap_or_else(|| json!({"name": "ESTIMATE_ORDER_COST", "amount": o.total_amount})),
        "time_range": copy("time_range").unwrap_or_else(|| json!({"start_time": "OnAccept"})),
        "notify_url": o.notify_url,
        "order_id": o.order_id,
        "total_amount": o.total_amount,
        "need_collection": o.collection.is_some(),
    });
    put(&mut body, "sub_mchid", o.sub_mchid.clone());
    put(&mut body, "sub_appid", o.sub_appid.clone());
    put(&mut body, "state_description", o.state_description);
    put(&mut body, "openid", o.openid.clone());
    for key in ["post_discounts", "location", "attach"] {
        put(&mut body, key, copy(key));
    }
    if let Some(state) = o.collection {
        let paid = if state == "USER_PAID" {
            o.total_amount
        } else {
            0
        };
        let mut collection = json!({
            "state": state,
            "total_amount": o.total_amount,
            "paying_amount": o.total_amount - paid,
            "paid_amount": paid,
            "details": [],
        });
        if let (Some(id), Some(paid_ms)) = (&o.transaction_id, o.paid_ms) {
            collection["details"] = json!([{
                "seq": 1, "amount": paid, "paid_type": "NEWTON",
                "paid_time": rfc3339(paid_ms), "transaction_id": id,
            }]);
        }
        body["collection"] = collection;
    }
    body
}

/// A transfer bill as `GET v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{…}`
/// answers it and `MCHTRANSFER.BILL.FINISHED` carries it.
pub(crate) fn transfer_bill(b: &TransferBill) -> Value {
    let mut body = json!({
        "mch_id": b.mchid,
        "out_bill_no": b.out_bill_no,
        "transfer_bill_no": b.transfer_bill_no,
        "appid": b.appid,
        "state": b.state,
        "transfer_amount": b.amount,
        "transfer_remark": b.remark,
        "openid": b.openid,
        "create_time": rfc3339(b.created_ms),
        "update_time": rfc3339(b.updated_ms),
    });
    put(&mut body, "sub_mchid", b.sub_mchid.clone());
    put(&mut body, "fail_reason", b.fail_reason.clone());
    put(&mut body, "user_name", b.user_name.clone());
    body
}
