//! The notifications a merchant can be sent: every documented one (the schema's webhooks),
//! and, beside them, the ones the sandbox itself sends, with a sample resource each.

use serde_json::{Value, json};

use crate::mock::MCHID;
use crate::schema;

/// A notification that can be fired: its event type, whether it is APIv2 (XML), its title,
/// and a sample resource (APIv3) or sample fields (APIv2).
pub(crate) struct Sample {
    pub event_type: String,
    pub v2: bool,
    pub title: String,
    pub resource: Value,
}

/// The `original_type` of an APIv3 event (`resource.original_type`, the AEAD associated data):
/// WeChat Pay's for the families the sandbox sends, else the event type's first word.
pub(crate) fn original_type(event_type: &str) -> String {
    let family = event_type.split('.').next().unwrap_or(event_type);
    match family {
        "TRANSACTION" => "transaction".to_owned(),
        "REFUND" => "refund".to_owned(),
        "PAYSCORE" => "payscore".to_owned(),
        "MCHTRANSFER" => "mch_payment".to_owned(),
        "PROFITSHARING" => "profitsharing".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

/// Every notification that can be fired: the documented ones first, then those the sandbox
/// sends that the documentation tables do not give.
pub(crate) fn all() -> Vec<Sample> {
    let mut samples: Vec<Sample> = schema::webhooks()
        .iter()
        .map(|webhook| Sample {
            event_type: webhook.event_type.to_owned(),
            v2: webhook.v2,
            title: webhook.title.to_owned(),
            resource: webhook.sample(),
        })
        .collect();
    for own in own() {
        if !samples
            .iter()
            .any(|sample| sample.event_type == own.event_type && sample.v2 == own.v2)
        {
            samples.push(own);
        }
    }
    samples
}

/// The sample of `event_type` (APIv2 when `v2`), matched ignoring ASCII case.
pub(crate) fn find(event_type: &str, v2: bool) -> Option<Sample> {
    all()
        .into_iter()
        .find(|sample| sample.v2 == v2 && sample.event_type.eq_ignore_ascii_case(event_type))
}

fn sample(event_type: &str, v2: bool, title: &str, resource: Value) -> Sample {
    Sample {
        event_type: event_type.to_owned(),
        v2,
        title: title.to_owned(),
        resource,
    }
}

/// The notifications the sandbox sends, with values of its own test merchant.
fn own() -> Vec<Sample> {
    let transaction = json!({
        "mchid": MCHID, "appid": "wxd678efh567hg6787",
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "4200000001201407033233368018",
        "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "bank_type": "OTHERS", "attach": "", "success_time": "2026-11-27T10:34:56+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
    });
    let refund = |status: &str| {
        json!({
            "mchid": MCHID, "out_trade_no": "1217752501201407033233368018",
            "transaction_id": "4200000001201407033233368018",
            "out_refund_no": "1217752501201407033233368019",
            "refund_id": "50000000382019052709732678859", "refund_status": status,
            "success_time": "2026-11-27T10:40:00+08:00",
            "user_received_account": "支付用户零钱",
            "amount": {"total": 100, "refund": 100, "payer_total": 100, "payer_refund": 100},
        })
    };
    let service_order = |state: &str, description: &str| {
        json!({
            "appid": "wxd678efh567hg6787", "mchid": MCHID, "service_id": "500001",
            "out_order_no": "1234323JKHDFE1243252", "service_introduction": "某某酒店",
            "state": state, "state_description": description,
            "post_payments": [{"name": "就餐费用", "amount": 40000, "count": 1}],
            "risk_fund": {"name": "ESTIMATE_ORDER_COST", "amount": 10000},
            "time_range": {"start_time": "20261127100000"},
            "order_id": "15646546545165651651", "total_amount": 40000,
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        })
    };
    vec![
        sample("TRANSACTION.SUCCESS", false, "支付成功", transaction),
        sample("REFUND.SUCCESS", false, "退款成功", refund("SUCCESS")),
        sample("REFUND.ABNORMAL", false, "退款异常", refund("ABNORMAL")),
        sample("REFUND.CLOSED", false, "退款关闭", refund("CLOSED")),
        sample(
            "PAYSCORE.USER_CONFIRM",
            false,
            "支付分服务用户确认成功",
            service_order("DOING", "USER_CONFIRM"),
        ),
        sample(
            "PAYSCORE.USER_PAID",
            false,
            "支付分服务用户支付成功",
            service_order("DONE", "MCH_COMPLETE"),
        ),
        sample(
            "MCHTRANSFER.BILL.FINISHED",
            false,
            "商家转账单据终态",
            json!({
                "mch_id": MCHID, "out_bill_no": "plfk2020042013",
                "transfer_bill_no": "1330000071100999991182020050700019480001",
                "state": "SUCCESS", "transfer_amount": 100, "openid": "o-MYE42l80oelYMDE34nYD456Xoy",
                "create_time": "2026-11-27T10:34:56+08:00", "update_time": "2026-11-27T10:35:56+08:00",
            }),
        ),
        sample(
            "TRANSACTION.SUCCESS",
            true,
            "支付结果通知 (APIv2)",
            json!({
                "return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx2421b1c4370ec43b",
                "openid": "oUpF8uMEb4qRXf22hE3X68TekukE", "trade_type": "JSAPI",
                "bank_type": "OTHERS", "total_fee": 100, "cash_fee": 100, "fee_type": "CNY",
                "transaction_id": "4200000001201407033233368018",
                "out_trade_no": "1217752501201407033233368018", "time_end": "20261127103456",
                "is_subscribe": "N",
            }),
        ),
        sample(
            "REFUND.SUCCESS",
            true,
            "退款结果通知 (APIv2)",
            json!({
                "return_code": "SUCCESS", "appid": "wx2421b1c4370ec43b",
                "req_info": {
                    "transaction_id": "4200000001201407033233368018",
                    "out_trade_no": "1217752501201407033233368018",
                    "refund_id": "50000000382019052709732678859",
                    "out_refund_no": "1217752501201407033233368019", "total_fee": 100,
                    "refund_fee": 100, "settlement_refund_fee": 100, "refund_status": "SUCCESS",
                    "success_time": "2026-11-27 10:40:00", "refund_recv_accout": "支付用户零钱",
                    "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
                    "refund_request_source": "API",
                },
            }),
        ),
    ]
}
