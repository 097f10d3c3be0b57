//! The sandbox's other forms: APIv2 orders and refunds, combined and partner orders,
//! notifications fired at a notify_url, documented operations it does not model, and paths
//! that are none.

use serde_json::{Value, json};
use wechatpay::Client;
use wechatpay::events::Event;
use wechatpay::mock;
use wechatpay::sandbox::Sandbox;

use crate::merchant::{Merchant, wait_until};

#[test]
fn param_error_names_a_missing_field_of_an_operation_the_sandbox_does_not_model() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let mut body = json!({
        "appid": "wxd678efh567hg6787",
        "transaction_id": "4208450740201411110007820472",
        "out_order_no": "P20150806125346",
        "receivers": [{"type": "MERCHANT_ID", "account": "86693852", "amount": 888, "description": "分给商户A"}],
        "unfreeze_unsplit": true,
    });
    let answered = client["v3/profitsharing/orders"]
        .post(json!({"json": body.clone()}))
        .unwrap();
    assert_eq!(answered.status(), 200);
    assert_eq!(answered.verified_by(), mock::PLATFORM_KEY_ID, "signed");
    let shaped: Value = answered.json().unwrap();
    for field in ["transaction_id", "out_order_no", "order_id", "state"] {
        assert!(shaped[field].is_string(), "{field} in {shaped}");
    }
    body.as_object_mut().unwrap().remove("out_order_no");
    let refused = client["v3/profitsharing/orders"]
        .post(json!({"json": body}))
        .unwrap_err();
    assert_eq!(refused.code(), Some("PARAM_ERROR"), "{refused}");
    assert!(refused.to_string().contains("out_order_no"), "{refused}");
}

#[test]
fn an_undocumented_path_is_answered_wechat_pay_s_404() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let unknown = client["v3/pay/transactons/jsapi"]
        .post(json!({"json": {}}))
        .unwrap_err();
    assert_eq!(unknown.code(), Some("NOT_FOUND"), "{unknown}");
    let root = sandbox.requests();
    assert_eq!(root.last().unwrap()["status"], 404);
    // A documented path asked with another method is WeChat Pay's 405, naming the methods.
    let wrong_method = client["v3/pay/transactions/id/{transaction_id}"]
        .post(json!({"transaction_id": "4200000001", "json": {}}))
        .unwrap_err();
    assert_eq!(wrong_method.status().map(|s| s.as_u16()), Some(405));
    let answer = wrong_method.response().expect("the answer is kept");
    assert_eq!(answer.headers()["allow"], "GET");
}

#[test]
fn fired_notifications_are_judged_by_what_the_merchant_answers() {
    let sandbox = Sandbox::start().unwrap();
    let merchant = Merchant::start(sandbox.client_builder().build().unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let genuine = wechatpay::sandbox::Firing::new("REFUND.SUCCESS");
    let answer = runtime.block_on(genuine.send(&merchant.url())).unwrap();
    assert!(answer.accepted(), "{}", answer.verdict(true));
    // The documented sample may carry both forms' merchant fields: then it is the partner one.
    assert!(matches!(
        &merchant.events(1)[0],
        Event::RefundSuccess(_) | Event::PartnerRefundSuccess(_)
    ));
    for fault in [
        mock::Fault::Probe,
        mock::Fault::StaleTimestamp,
        mock::Fault::BadSignature,
    ] {
        let forged = wechatpay::sandbox::Firing::new("TRANSACTION.SUCCESS").fault(fault);
        assert!(!forged.is_genuine());
        let answer = runtime.block_on(forged.send(&merchant.url())).unwrap();
        assert_eq!(answer.status, Some(401), "{fault:?}");
        assert!(answer.verdict(false).contains("refused, as it must be"));
    }
    assert_eq!(merchant.rejected().len(), 3);
    let unknown = wechatpay::sandbox::Firing::new("NO.SUCH_EVENT")
        .build()
        .unwrap_err();
    assert!(unknown.to_string().contains("--list"), "{unknown}");
    let nobody = runtime
        .block_on(
            wechatpay::sandbox::Firing::new("TRANSACTION.SUCCESS").send("http://127.0.0.1:9/"),
        )
        .unwrap();
    assert_eq!(nobody.status, None);
    assert!(
        nobody.verdict(true).contains("no answer"),
        "{}",
        nobody.verdict(true)
    );
}

#[test]
fn an_apiv2_order_is_paid_notified_in_xml_queried_and_refunded_over_mutual_tls() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let merchant = Merchant::start(client.clone());
    let order = json!({"xml": {
        "appid": "wxd678efh567hg6787", "mch_id": mock::MCHID, "body": "腾讯充值中心-QQ会员充值",
        "out_trade_no": "V2-1", "total_fee": 888, "spbill_create_ip": "123.12.12.123",
        "notify_url": merchant.v2_url(), "trade_type": "NATIVE",
    }});
    let created = client["v2/pay/unifiedorder"].post(order).unwrap();
    let created = wechatpay::xml::parse(created.bytes()).unwrap();
    assert!(
        created
            .get_str("code_url")
            .unwrap()
            .starts_with("weixin://")
    );
    let queried = |client: &Client| {
        let answer = client["v2/pay/orderquery"]
            .post(json!({"xml": {"appid": "wxd678efh567hg6787", "mch_id": mock::MCHID, "out_trade_no": "V2-1"}}))
            .unwrap();
        wechatpay::xml::parse(answer.bytes()).unwrap()
    };
    assert_eq!(queried(&client).get_str("trade_state"), Some("NOTPAY"));
    sandbox.pay("V2-1", "SUCCESS").unwrap();
    wait_until(|| !merchant.notification_ids().is_empty());
    assert_eq!(merchant.notification_ids(), ["v2 V2-1 888"]);
    let paid = queried(&client);
    assert_eq!(paid.get_str("trade_state"), Some("SUCCESS"));
    let delivery = &sandbox.deliveries()[0];
    assert_eq!(delivery["api"], "v2");
    assert_eq!(delivery["state"], "delivered", "{delivery}");

    let refund = json!({"security": true, "xml": {
        "appid": "wxd678efh567hg6787", "mch_id": mock::MCHID, "out_trade_no": "V2-1",
        "transaction_id": paid.get_str("transaction_id").unwrap(), "out_refund_no": "V2-R1",
        "total_fee": 888, "refund_fee": 300,
    }});
    let plain = client["v2/secapi/pay/refund"]
        .post(refund.clone())
        .unwrap_err();
    assert_eq!(
        plain.status().map(|status| status.as_u16()),
        Some(400),
        "no certificate over plain HTTP: {plain}"
    );
    let tls = sandbox
        .client_builder()
        .base_uri(&sandbox.mock().tls_uri())
        .build()
        .unwrap();
    let refunded = tls["v2/secapi/pay/refund"].post(refund).unwrap();
    let refunded = wechatpay::xml::parse(refunded.bytes()).unwrap();
    assert_eq!(refunded.get_str("refund_fee"), Some("300"));
    assert!(refunded.get_str("refund_id").is_some());
}

#[test]
fn combined_and_partner_orders_are_paid_and_notified_in_their_forms() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let merchant = Merchant::start(client.clone());
    let sub = |number: &str, total: i64| {
        json!({
            "mchid": mock::MCHID, "attach": "", "out_trade_no": number, "description": "子单",
            "amount": {"total_amount": total, "currency": "CNY"},
        })
    };
    let combined = json!({"json": {
        "combine_appid": "wxd678efh567hg6787", "combine_mchid": mock::MCHID,
        "combine_out_trade_no": "C-1", "notify_url": merchant.url(),
        "sub_orders": [sub("C-1-A", 100), sub("C-1-B", 200)],
        "combine_payer_info": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    }});
    let created: Value = client["v3/combine-transactions/jsapi"]
        .post(combined)
        .unwrap()
        .json()
        .unwrap();
    assert!(created["prepay_id"].is_string());
    let query = || -> Value {
        client["v3/combine-transactions/out-trade-no/{combine_out_trade_no}"]
            .get(json!({"combine_out_trade_no": "C-1"}))
            .unwrap()
            .json()
            .unwrap()
    };
    assert_eq!(query()["sub_orders"][1]["trade_state"], "NOTPAY");
    sandbox.pay("C-1", "SUCCESS").unwrap();
    let events = merchant.events(1);
    let Event::CombinedTransactionSuccess(paid) = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(paid.sub_orders.len(), 2);
    assert_eq!(
        paid.sub_orders[1].amount.as_ref().unwrap().total_amount,
        200
    );
    assert_eq!(query()["sub_orders"][0]["trade_state"], "SUCCESS");
    // A sub-order is a payment of its own: refunded as any.
    let refunded: Value = client["v3/refund/domestic/refunds"]
        .post(json!({"json": {
            "out_trade_no": "C-1-B", "out_refund_no": "C-1-B-R",
            "amount": {"refund": 200, "total": 200, "currency": "CNY"},
        }}))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(refunded["status"], "PROCESSING");

    // A service provider's order for its sub-merchant.
    let partner = json!({"json": {
        "sp_appid": "wx8888888888888888", "sp_mchid": mock::MCHID, "sub_mchid": "1900000110",
        "description": "Image形象店", "out_trade_no": "P-1", "notify_url": merchant.url(),
        "amount": {"total": 500}, "payer": {"sp_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    }});
    client["v3/pay/partner/transactions/app"]
        .post(partner)
        .unwrap();
    sandbox.pay("P-1", "SUCCESS").unwrap();
    let events = merchant.events(2);
    let Event::PartnerTransactionSuccess(paid) = &events[1] else {
        panic!("{events:?}");
    };
    assert_eq!(paid.merchant.sub_mchid, "1900000110");
    let queried: Value = client["v3/pay/partner/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": "P-1", "query": {"sp_mchid": mock::MCHID, "sub_mchid": "1900000110"}}))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(queried["trade_state"], "SUCCESS");
    let other = client["v3/pay/partner/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": "P-1", "query": {"sp_mchid": mock::MCHID, "sub_mchid": "1900000111"}}))
        .unwrap_err();
    assert_eq!(
        other.code(),
        Some("ORDER_NOT_EXIST"),
        "another sub-merchant's: {other}"
    );
}
