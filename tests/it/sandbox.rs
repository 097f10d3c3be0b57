//! The sandbox driven only through the public SDK and its control API: a JSAPI order paid,
//! notified, refunded and notified again to an axum notify_url on loopback; a notify_url that
//! fails retried on WeChat Pay's schedule in the virtual clock; expiry; the PayScore seed call;
//! a transfer bill; a bill's digest; certificate mode.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use wechatpay::axum::Notified;
use wechatpay::callback::{Rejection, Reply};
use wechatpay::events::Event;
use wechatpay::mock::{self, Signing};
use wechatpay::sandbox::Sandbox;
use wechatpay::{Client, ErrorKind};

/// A merchant's notify_url: an axum app on loopback that verifies what it is sent with the
/// SDK, answers with the statuses planned (then 200), and keeps the events it accepted.
pub struct Merchant {
    address: SocketAddr,
    app: App,
    _runtime: tokio::runtime::Runtime,
}

#[derive(Clone)]
struct App {
    client: Client,
    plan: Arc<Mutex<VecDeque<u16>>>,
    events: Arc<Mutex<Vec<Event>>>,
    ids: Arc<Mutex<Vec<String>>>,
    rejected: Arc<Mutex<Vec<String>>>,
}

impl axum::extract::FromRef<App> for Client {
    fn from_ref(app: &App) -> Client {
        app.client.clone()
    }
}

async fn notify(State(app): State<App>, notified: Result<Notified, Rejection>) -> Response {
    let notification = match notified {
        Ok(Notified(notification)) => notification,
        Err(rejection) => {
            app.rejected.lock().unwrap().push(rejection.to_string());
            return rejection.into_response();
        }
    };
    let status = app.plan.lock().unwrap().pop_front().unwrap_or(200);
    if status != 200 {
        return Reply::failure_with_status(
            StatusCode::from_u16(status).unwrap(),
            "database unavailable",
        )
        .into_response();
    }
    match notification.event() {
        Ok(event) => {
            app.ids.lock().unwrap().push(notification.id().to_owned());
            app.events.lock().unwrap().push(event);
            Reply::success().into_response()
        }
        Err(error) => Reply::for_error(&error).into_response(),
    }
}

/// The APIv2 notify_url: the `sign` checked with the APIv2 key, the fields kept as
/// `v2 FIELD=VALUE` lines among the rejections' neighbours.
async fn notify_v2(State(app): State<App>, body: axum::body::Bytes) -> Response {
    match app.client.verify_v2_notification(&body) {
        Ok(fields) => {
            app.ids.lock().unwrap().push(format!(
                "v2 {} {}",
                fields.get_str("out_trade_no").unwrap_or_default(),
                fields.get_str("total_fee").unwrap_or_default()
            ));
            wechatpay::v2::reply(true, "OK").into_response()
        }
        Err(error) => {
            app.rejected.lock().unwrap().push(error.to_string());
            wechatpay::v2::reply(false, "签名失败").into_response()
        }
    }
}

impl Merchant {
    /// A notify_url that trusts what `client` trusts.
    pub fn start(client: Client) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let app = App {
            client,
            plan: Arc::default(),
            events: Arc::default(),
            ids: Arc::default(),
            rejected: Arc::default(),
        };
        let router = Router::new()
            .route("/notify", post(notify))
            .route("/notify-v2", post(notify_v2))
            .with_state(app.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, router).await });
        Self {
            address,
            app,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/notify", self.address)
    }

    pub fn v2_url(&self) -> String {
        format!("http://{}/notify-v2", self.address)
    }

    /// Answers the next notifications with these statuses (then 200).
    pub fn plan(&self, statuses: &[u16]) {
        self.app.plan.lock().unwrap().extend(statuses);
    }

    /// Waits until `count` events were accepted, and returns them.
    pub fn events(&self, count: usize) -> Vec<Event> {
        wait_until(|| self.app.events.lock().unwrap().len() >= count);
        self.app.events.lock().unwrap().clone()
    }

    pub fn notification_ids(&self) -> Vec<String> {
        self.app.ids.lock().unwrap().clone()
    }

    pub fn rejected(&self) -> Vec<String> {
        self.app.rejected.lock().unwrap().clone()
    }
}

/// Waits (up to 20 s) until `done`; panics after.
pub fn wait_until(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The body of a JSAPI order.
pub fn order(out_trade_no: &str, total: i64, notify_url: &str) -> Value {
    json!({
        "appid": "wxd678efh567hg6787",
        "mchid": mock::MCHID,
        "description": "Image形象店-深圳腾大-QQ公仔",
        "out_trade_no": out_trade_no,
        "notify_url": notify_url,
        "amount": {"total": total, "currency": "CNY"},
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    })
}

fn query(client: &Client, out_trade_no: &str) -> Value {
    client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": out_trade_no, "query": {"mchid": mock::MCHID}}))
        .unwrap()
        .json()
        .unwrap()
}

/// The attempts of the only delivery about `number`.
fn attempts(sandbox: &Sandbox, number: &str) -> Vec<Value> {
    sandbox
        .deliveries()
        .into_iter()
        .find(|delivery| delivery["subject"]["number"] == number)
        .map(|delivery| delivery["attempts"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
}

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

#[test]
#[ignore = "needs the documented schema (schema::check and sample_response), a stub on this \
            branch: passes with the schema work merged"]
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
        assert_eq!(answer.status(), Some(401), "{fault:?}");
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
    assert_eq!(nobody.status(), None);
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
        .base_uri(&sandbox.tls_uri())
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
