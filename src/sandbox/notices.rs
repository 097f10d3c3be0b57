//! The notification of each state change WeChat Pay notifies, in the format of the API the
//! entity was made with (APIv3 JSON with an encrypted resource, or APIv2 XML).

use serde_json::{Value, json};

use super::clock::rfc3339;
use super::deliveries::{Notice, Payload};
use super::entities::{Combine, Refund, ServiceOrder, Transaction, TransferBill};
use super::shapes;

fn v3(
    event_type: &str,
    summary: &str,
    original_type: &str,
    url: &str,
    resource: Value,
    subject: (&'static str, String),
) -> Notice {
    Notice {
        event_type: event_type.to_owned(),
        summary: summary.to_owned(),
        resource_type: "encrypt-resource".to_owned(),
        original_type: original_type.to_owned(),
        url: url.to_owned(),
        payload: Payload::V3(resource),
        subject,
        fault: None,
        retry: true,
    }
}

/// `TRANSACTION.SUCCESS` (支付成功) of a paid order, or the APIv2 payment result.
pub(crate) fn paid(t: &Transaction) -> Notice {
    let subject = ("transaction", t.out_trade_no.clone());
    if !t.v2 {
        return v3(
            "TRANSACTION.SUCCESS",
            "支付成功",
            "transaction",
            &t.notify_url,
            shapes::transaction(t),
            subject,
        );
    }
    let mut fields = json!({
        "return_code": "SUCCESS",
        "result_code": "SUCCESS",
        "appid": t.appid,
        "mch_id": t.mchid,
        "openid": t.payer.get("openid").cloned().unwrap_or(Value::Null),
        "is_subscribe": "N",
        "trade_type": t.trade_type,
        "bank_type": "OTHERS",
        "total_fee": t.total,
        "cash_fee": t.total,
        "fee_type": t.currency,
        "transaction_id": t.transaction_id,
        "out_trade_no": t.out_trade_no,
        "time_end": compact_time(t.success_ms.unwrap_or(t.updated_ms)),
    });
    if let Some(sub) = &t.sub_mchid {
        fields["sub_mch_id"] = json!(sub);
    }
    if let Some(attach) = &t.attach {
        fields["attach"] = json!(attach);
    }
    Notice {
        event_type: "TRANSACTION.SUCCESS".to_owned(),
        summary: "支付结果通知".to_owned(),
        resource_type: String::new(),
        original_type: String::new(),
        url: t.notify_url.clone(),
        payload: Payload::V2(fields),
        subject,
        fault: None,
        retry: true,
    }
}

/// `TRANSACTION.SUCCESS` of a paid combined payment.
pub(crate) fn combine_paid(c: &Combine, subs: &[&Transaction]) -> Notice {
    v3(
        "TRANSACTION.SUCCESS",
        "支付成功",
        "transaction",
        &c.notify_url,
        shapes::combine(c, subs),
        ("combine_transaction", c.combine_out_trade_no.clone()),
    )
}

/// `REFUND.SUCCESS`, `REFUND.ABNORMAL` or `REFUND.CLOSED` of a refund in that state, to its
/// `notify_url`; `None` when it gave none (WeChat Pay would use the address configured on
/// the merchant platform, which the sandbox does not have).
pub(crate) fn refunded(r: &Refund) -> Option<Notice> {
    let url = r.notify_url.as_deref()?;
    let subject = ("refund", r.out_refund_no.clone());
    let (event_type, summary) = match r.state {
        "SUCCESS" => ("REFUND.SUCCESS", "退款成功"),
        "ABNORMAL" => ("REFUND.ABNORMAL", "退款异常"),
        _ => ("REFUND.CLOSED", "退款关闭"),
    };
    if !r.v2 {
        return Some(v3(
            event_type,
            summary,
            "refund",
            url,
            shapes::refund_resource(r),
            subject,
        ));
    }
    let mut refund = json!({
        "transaction_id": r.transaction_id,
        "out_trade_no": r.out_trade_no,
        "refund_id": r.refund_id,
        "out_refund_no": r.out_refund_no,
        "total_fee": r.total,
        "refund_fee": r.refund,
        "settlement_refund_fee": r.refund,
        "refund_status": r.state,
        "refund_recv_accout": "支付用户零钱",
        "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
        "refund_request_source": "API",
    });
    if let Some(success) = r.success_ms {
        refund["success_time"] = json!(&rfc3339(success).replace('T', " ")[..19]);
    }
    let mut fields = json!({"return_code": "SUCCESS", "appid": r.appid, "mch_id": r.mchid});
    if let Some(sub) = &r.sub_mchid {
        fields["sub_mch_id"] = json!(sub);
    }
    Some(Notice {
        event_type: event_type.to_owned(),
        summary: "退款结果通知".to_owned(),
        resource_type: String::new(),
        original_type: String::new(),
        url: url.to_owned(),
        payload: Payload::V2Refund { fields, refund },
        subject,
        fault: None,
        retry: true,
    })
}

/// `PAYSCORE.USER_CONFIRM` (用户确认成功) or `PAYSCORE.USER_PAID` (用户支付成功).
pub(crate) fn service_order(o: &ServiceOrder, event_type: &str) -> Notice {
    let summary = match event_type {
        "PAYSCORE.USER_CONFIRM" => "用户确认订单成功",
        _ => "用户支付成功",
    };
    v3(
        event_type,
        summary,
        "payscore",
        &o.notify_url,
        shapes::service_order(o),
        ("payscore_order", o.out_order_no.clone()),
    )
}

/// `MCHTRANSFER.BILL.FINISHED` (商家转账单据终态), to the bill's `notify_url` if it gave one.
pub(crate) fn transfer_finished(b: &TransferBill) -> Option<Notice> {
    let url = b.notify_url.as_deref()?;
    Some(v3(
        "MCHTRANSFER.BILL.FINISHED",
        "商家转账单据终态通知",
        "mch_payment",
        url,
        shapes::transfer_bill(b),
        ("transfer_bill", b.out_bill_no.clone()),
    ))
}

/// `yyyyMMddHHmmss` in Beijing time, as APIv2 writes times.
pub(crate) fn compact_time(ms: u64) -> String {
    rfc3339(ms)
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect()
}
