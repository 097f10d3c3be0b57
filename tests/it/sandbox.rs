//! The sandbox driven only through the public SDK and its control API: a JSAPI order paid,
//! notified, refunded and notified again to an axum notify_url on loopback; a notify_url that
//! fails retried on WeChat Pay's schedule in the virtual clock; expiry; the PayScore seed call;
//! a transfer bill; bills and their digests; certificate mode.

use std::time::Duration;

use serde_json::{Value, json};
use wechatpay::ErrorKind;
use wechatpay::events::Event;
use wechatpay::mock::{self, Signing};
use wechatpay::sandbox::Sandbox;

use crate::merchant::{Merchant, attempts, order, query, wait_until};

#[test]
fn a_jsapi_order_is_paid_notified_refunded_and_notified_again() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let merchant = Merchant::start(client.clone());

    let created: Value = client["v3/pay/transactions/jsapi"]
        .post(json!({"json": order("T-FLOW-1", 100, &merchant.url())}))
        .unwrap()
        .json()
        .unwrap();
    let prepay_id = created["prepay_id"].as_str().unwrap();
    assert!(prepay_id.starts_with("wx"), "{created}");
    let again: Value = client["v3/pay/transactions/jsapi"]
        .post(json!({"json": order("T-FLOW-1", 100, &merchant.url())}))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        again["prepay_id"], prepay_id,
        "the same order, the same prepay id"
    );
    let other = client["v3/pay/transactions/jsapi"]
        .post(json!({"json": order("T-FLOW-1", 200, &merchant.url())}))
        .unwrap_err();
    assert_eq!(other.code(), Some("OUT_TRADE_NO_USED"), "{other}");
    assert_eq!(query(&client, "T-FLOW-1")["trade_state"], "NOTPAY");

    sandbox.pay("T-FLOW-1", "SUCCESS").unwrap();
    let events = merchant.events(1);
    let Event::TransactionSuccess(paid) = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(paid.out_trade_no, "T-FLOW-1");
    assert_eq!(paid.amount.total, Some(100));
    assert_eq!(paid.trade_state, "SUCCESS");
    let order = query(&client, "T-FLOW-1");
    assert_eq!(order["trade_state"], "SUCCESS");
    assert_eq!(order["transaction_id"], paid.transaction_id.as_str());
    let paid_again = sandbox.pay("T-FLOW-1", "SUCCESS").unwrap_err();
    assert!(paid_again.to_string().contains("ORDERPAID"), "{paid_again}");

    let refund = |out_refund_no: &str, amount: i64| {
        client["v3/refund/domestic/refunds"].post(json!({"json": {
            "out_trade_no": "T-FLOW-1",
            "out_refund_no": out_refund_no,
            "notify_url": merchant.url(),
            "amount": {"refund": amount, "total": 100, "currency": "CNY"},
        }}))
    };
    let refunded: Value = refund("R-FLOW-1", 60).unwrap().json().unwrap();
    assert_eq!(refunded["status"], "PROCESSING", "{refunded}");
    let over = refund("R-FLOW-2", 50).unwrap_err();
    assert_eq!(over.code(), Some("INVALID_REQUEST"), "{over}");
    assert!(over.to_string().contains("40 of 100 left"), "{over}");

    sandbox.complete_refund("R-FLOW-1", "SUCCESS").unwrap();
    let events = merchant.events(2);
    let Event::RefundSuccess(done) = &events[1] else {
        panic!("{events:?}");
    };
    assert_eq!(done.out_refund_no, "R-FLOW-1");
    assert_eq!(done.amount.refund, 60);
    let queried: Value = client["v3/refund/domestic/refunds/{out_refund_no}"]
        .get(json!({"out_refund_no": "R-FLOW-1"}))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(queried["status"], "SUCCESS");
    assert_eq!(query(&client, "T-FLOW-1")["trade_state"], "REFUND");

    let missing = client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": "NOPE", "query": {"mchid": mock::MCHID}}))
        .unwrap_err();
    assert_eq!(missing.code(), Some("ORDER_NOT_EXIST"), "{missing}");
    let log = sandbox.requests();
    assert!(log.iter().all(|entry| entry["accepted"] == true), "{log:?}");
    assert!(
        log.iter()
            .any(|entry| entry["path"] == "/v3/refund/domestic/refunds" && entry["status"] == 400),
        "the refused refund is logged"
    );
}

#[test]
fn a_notify_url_that_fails_is_retried_on_schedule_until_it_answers_200() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let merchant = Merchant::start(client.clone());
    merchant.plan(&[500, 500, 503, 500]);
    client["v3/pay/transactions/jsapi"]
        .post(json!({"json": order("T-RETRY-1", 1, &merchant.url())}))
        .unwrap();
    sandbox.pay("T-RETRY-1", "SUCCESS").unwrap();
    // Each retry falls due when the clock reaches it: 15 s, 15 s, 30 s, 3 min after the
    // attempt before. Nothing more happens until then.
    for (attempt, delay) in [(1, 15), (2, 15), (3, 30), (4, 180)] {
        wait_until(|| attempts(&sandbox, "T-RETRY-1").len() == attempt);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(attempts(&sandbox, "T-RETRY-1").len(), attempt);
        sandbox.advance_clock(Duration::from_secs(delay));
    }
    let events = merchant.events(1);
    assert!(matches!(events[0], Event::TransactionSuccess(_)));
    let tried = attempts(&sandbox, "T-RETRY-1");
    let statuses: Vec<&Value> = tried.iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, [500, 500, 503, 500, 200]);
    let scheduled: Vec<u64> = tried
        .iter()
        .map(|a| wechatpay::toolkit::parse_rfc3339(a["scheduled_time"].as_str().unwrap()).unwrap())
        .collect();
    let gaps: Vec<u64> = scheduled.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        gaps,
        [15, 15, 30, 180],
        "WeChat Pay's schedule, in the virtual clock"
    );
    let delivery = &sandbox.deliveries()[0];
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert!(tried[4]["verdict"].as_str().unwrap().contains("accepted"));
    assert!(
        tried[0]["verdict"]
            .as_str()
            .unwrap()
            .contains("would retry")
    );
    assert_eq!(
        merchant.notification_ids(),
        [delivery["notification_id"].as_str().unwrap()],
        "every attempt carries the same notification id"
    );

    // The whole day of retries runs in one move of the clock: the attempts come one after
    // the other, and then the sandbox gives up.
    merchant.plan(&[500; 17]);
    sandbox.resend(delivery["id"].as_u64().unwrap()).unwrap();
    wait_until(|| {
        sandbox.deliveries()[0]["attempts"]
            .as_array()
            .is_some_and(|a| a.len() == 6)
    });
    client["v3/pay/transactions/jsapi"]
        .post(json!({"json": order("T-RETRY-2", 1, &merchant.url())}))
        .unwrap();
    sandbox.pay("T-RETRY-2", "SUCCESS").unwrap();
    wait_until(|| attempts(&sandbox, "T-RETRY-2").len() == 1);
    sandbox.advance_clock(Duration::from_secs(25 * 3600));
    wait_until(|| attempts(&sandbox, "T-RETRY-2").len() == 16);
    let given_up = sandbox
        .deliveries()
        .into_iter()
        .find(|d| d["subject"]["number"] == "T-RETRY-2")
        .unwrap();
    assert_eq!(given_up["state"], "failed", "{given_up}");
    assert_eq!(given_up["next_retry"], Value::Null);
}

#[test]
fn an_unpaid_order_closes_at_its_time_expire() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let now = wechatpay::toolkit::timestamp();
    let mut body = order("T-EXPIRE-1", 100, "https://example.com/notify");
    body["time_expire"] = json!(wechatpay::toolkit::format_rfc3339(now + 600, 8));
    client["v3/pay/transactions/native"]
        .post(json!({"json": body}))
        .unwrap();
    assert_eq!(query(&client, "T-EXPIRE-1")["trade_state"], "NOTPAY");
    sandbox.advance_clock(Duration::from_secs(601));
    assert_eq!(query(&client, "T-EXPIRE-1")["trade_state"], "CLOSED");
    let late = sandbox.pay("T-EXPIRE-1", "SUCCESS").unwrap_err();
    assert!(late.to_string().contains("ORDER_CLOSED"), "{late}");
    assert!(late.to_string().contains("time_expire"), "{late}");
    let reorder = client["v3/pay/transactions/native"]
        .post(json!({"json": order("T-EXPIRE-1", 100, "https://example.com/notify")}))
        .unwrap_err();
    assert_eq!(reorder.code(), Some("ORDER_CLOSED"), "{reorder}");
}

fn service_order(out_order_no: &str) -> Value {
    json!({
        "out_order_no": out_order_no,
        "appid": "wxd678efh567hg6787",
        "service_id": "500001",
        "service_introduction": "某某酒店",
        "time_range": {"start_time": "OnAccept"},
        "risk_fund": {"name": "ESTIMATE_ORDER_COST", "amount": 10000},
        "notify_url": "https://example.com/payscore",
        "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "need_user_confirm": false,
    })
}

fn prepaid(out_order_no: &str) -> Value {
    json!({
        "out_order_no": out_order_no,
        "json": {
            "service_id": "500001",
            "post_payments": [{"name": "就餐费用", "amount": 40000, "count": 1}],
            "total_amount": 40000,
            "prepaid_time": "20261208100000",
        },
    })
}

#[test]
fn the_payscore_seed_call_is_204_once_for_an_existing_order_and_an_error_otherwise() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let seed = "v3/payscore/serviceorder/{out_order_no}/send-prepaidmessage";
    let missing = client[seed].post(prepaid("PS-NONE")).unwrap_err();
    assert_eq!(missing.code(), Some("ORDER_NOT_EXIST"), "{missing}");

    let created: Value = client["v3/payscore/serviceorder"]
        .post(json!({"json": service_order("PS-1")}))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(created["state"], "DOING", "{created}");
    assert!(created["package"].as_str().unwrap().starts_with("DEBT"));
    assert_eq!(client[seed].post(prepaid("PS-1")).unwrap().status(), 204);
    let twice = client[seed].post(prepaid("PS-1")).unwrap_err();
    assert_eq!(twice.code(), Some("INVALID_REQUEST"), "{twice}");
    assert!(twice.to_string().contains("仅可以发送一次"), "{twice}");

    // An order the user has not confirmed yet does not take it.
    let mut waiting = service_order("PS-2");
    waiting["need_user_confirm"] = json!(true);
    client["v3/payscore/serviceorder"]
        .post(json!({"json": waiting}))
        .unwrap();
    let early = client[seed].post(prepaid("PS-2")).unwrap_err();
    assert!(early.to_string().contains("订单状态不正确"), "{early}");
    sandbox
        .control("POST", "payscore-orders/PS-2/confirm", Value::Null)
        .unwrap();
    assert_eq!(client[seed].post(prepaid("PS-2")).unwrap().status(), 204);

    // Completed and collected: DONE.
    let completed: Value = client["v3/payscore/serviceorder/{out_order_no}/complete"]
        .post(json!({"out_order_no": "PS-2", "json": {
            "appid": "wxd678efh567hg6787", "service_id": "500001", "total_amount": 40000,
            "post_payments": [{"name": "就餐费用", "amount": 40000}],
            "time_range": {"end_time": "20261208110000"},
        }}))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(completed["state_description"], "MCH_COMPLETE");
    let collected = sandbox
        .control("POST", "payscore-orders/PS-2/pay", Value::Null)
        .unwrap();
    assert_eq!(collected["state"], "DONE");
    let queried: Value = client["v3/payscore/serviceorder"]
        .get(json!({"query": {"out_order_no": "PS-2", "service_id": "500001", "appid": "wxd678efh567hg6787"}}))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(queried["collection"]["state"], "USER_PAID", "{queried}");
}

#[test]
fn a_transfer_bill_is_confirmed_by_its_recipient_and_notified() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let merchant = Merchant::start(client.clone());
    let bill = |number: &str| {
        json!({"json": {
            "appid": "wxd678efh567hg6787", "out_bill_no": number, "transfer_scene_id": "1000",
            "openid": "o-MYE42l80oelYMDE34nYD456Xoy", "transfer_amount": 400,
            "transfer_remark": "新会员开通有礼", "notify_url": merchant.url(),
            "transfer_scene_report_infos": [{"info_type": "活动名称", "info_content": "新会员有礼"}],
        }})
    };
    let created: Value = client["v3/fund-app/mch-transfer/transfer-bills"]
        .post(bill("TB-1"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(created["state"], "WAIT_USER_CONFIRM", "{created}");
    assert!(created["package_info"].is_string());
    let confirmed = sandbox.confirm_transfer("TB-1", "SUCCESS").unwrap();
    assert_eq!(confirmed["state"], "SUCCESS");
    let events = merchant.events(1);
    let Event::TransferBillFinished(finished) = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(finished.state, "SUCCESS");
    assert_eq!(finished.transfer_amount, 400);
    let queried: Value =
        client["v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}"]
            .get(json!({"out_bill_no": "TB-1"}))
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(queried["state"], "SUCCESS");
    let again = sandbox.confirm_transfer("TB-1", "SUCCESS").unwrap_err();
    assert!(again.to_string().contains("INVALID_STATE"), "{again}");

    client["v3/fund-app/mch-transfer/transfer-bills"]
        .post(bill("TB-2"))
        .unwrap();
    let cancelled: Value =
        client["v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}/cancel"]
            .post(json!({"out_bill_no": "TB-2"}))
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(cancelled["state"], "CANCELLED");
    assert!(
        matches!(&merchant.events(2)[1], Event::TransferBillFinished(b) if b.state == "CANCELLED")
    );
}

#[test]
fn a_trade_bill_of_the_sandbox_s_payments_checks_against_its_digest() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    for (number, total) in [("T-BILL-1", 100), ("T-BILL-2", 250)] {
        client["v3/pay/transactions/app"]
            .post(json!({"json": order(number, total, "https://example.com/n")}))
            .unwrap();
        sandbox.pay(number, "SUCCESS").unwrap();
    }
    let today =
        wechatpay::toolkit::format_rfc3339(wechatpay::toolkit::timestamp(), 8)[..10].to_owned();
    for tar_type in [None, Some("GZIP")] {
        let mut query = json!({"bill_date": today, "bill_type": "ALL"});
        if let Some(tar_type) = tar_type {
            query["tar_type"] = json!(tar_type);
        }
        let apply: Value = client["v3/bill/tradebill"]
            .get(json!({"query": query}))
            .unwrap()
            .json()
            .unwrap();
        let url = apply["download_url"].as_str().unwrap();
        let token = url.split("token=").nth(1).unwrap();
        let file = client["v3/billdownload/file"]
            .get(json!({"query": {"token": token}}))
            .unwrap();
        wechatpay::bill::check(
            file.bytes(),
            apply["hash_type"].as_str().unwrap(),
            apply["hash_value"].as_str().unwrap(),
        )
        .unwrap();
        if tar_type.is_none() {
            let text = String::from_utf8(file.bytes().to_vec()).unwrap();
            assert!(
                text.contains("`T-BILL-1,") && text.contains("`T-BILL-2,"),
                "{text}"
            );
            assert!(text.contains("`2,`3.50,"), "two orders, 3.50 yuan: {text}");
        } else {
            assert_eq!(file.bytes()[..2], [0x1f, 0x8b], "gzip");
        }
    }
    let apply: Value = client["v3/bill/fundflowbill"]
        .get(json!({"query": {"bill_date": today, "account_type": "BASIC"}}))
        .unwrap()
        .json()
        .unwrap();
    let token = apply["download_url"]
        .as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap();
    let file = client["v3/billdownload/file"]
        .get(json!({"query": {"token": token}}))
        .unwrap();
    let hash = apply["hash_value"].as_str().unwrap();
    wechatpay::bill::check(file.bytes(), "SHA1", hash).unwrap();
    let text = String::from_utf8(file.bytes().to_vec()).unwrap();
    assert!(
        text.contains("`收入,`1.00,`1.00,") && text.contains("`收入,`2.50,`3.50,"),
        "{text}"
    );
    let empty = client["v3/bill/tradebill"]
        .get(json!({"query": {"bill_date": "2020-01-01"}}))
        .unwrap_err();
    assert_eq!(empty.code(), Some("NO_STATEMENT_EXIST"), "{empty}");
}

#[test]
fn certificate_mode_answers_a_client_that_knows_only_the_downloaded_certificate() {
    let sandbox = Sandbox::builder()
        .signing(Signing::Certificate)
        .start()
        .unwrap();
    let client = sandbox.mock().certificate_client_builder().build().unwrap();
    let created = client["v3/pay/transactions/native"]
        .post(json!({"json": order("T-CERT-1", 100, "https://example.com/n")}))
        .unwrap();
    assert_eq!(created.verified_by(), mock::PLATFORM_CERTIFICATE_SERIAL);
    let public_key_only = sandbox
        .client_builder()
        .build()
        .unwrap()["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": "T-CERT-1", "query": {"mchid": mock::MCHID}}))
        .unwrap_err();
    assert!(
        matches!(public_key_only.kind(), ErrorKind::Verification(_)),
        "{public_key_only}"
    );

    // Migrating: the answer follows the key the request names.
    let migrating = Sandbox::builder()
        .signing(Signing::Migrating)
        .start()
        .unwrap();
    let by_key = migrating.client_builder().build().unwrap();
    let answered = by_key["v3/pay/transactions/native"]
        .post(json!({"json": order("T-MIG-1", 100, "https://example.com/n")}))
        .unwrap();
    assert_eq!(answered.verified_by(), mock::PLATFORM_KEY_ID);
    let by_certificate = migrating
        .mock()
        .certificate_client_builder()
        .build()
        .unwrap();
    let answered = by_certificate["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": "T-MIG-1", "query": {"mchid": mock::MCHID}}))
        .unwrap();
    assert_eq!(answered.verified_by(), mock::PLATFORM_CERTIFICATE_SERIAL);
}
