//! A merchant's notify_url for the sandbox tests: an axum app on loopback that verifies what
//! it is sent with the SDK (APIv3 and APIv2), and the helpers those tests share.

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
use wechatpay::Client;
use wechatpay::axum::Notified;
use wechatpay::callback::{Rejection, Reply};
use wechatpay::events::Event;
use wechatpay::mock;
use wechatpay::sandbox::Sandbox;

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

/// The order `out_trade_no` as `GET v3/pay/transactions/out-trade-no/{…}` answers it.
pub fn query(client: &Client, out_trade_no: &str) -> Value {
    client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": out_trade_no, "query": {"mchid": mock::MCHID}}))
        .unwrap()
        .json()
        .unwrap()
}

/// The attempts of the only delivery about `number`.
pub fn attempts(sandbox: &Sandbox, number: &str) -> Vec<Value> {
    sandbox
        .deliveries()
        .into_iter()
        .find(|delivery| delivery["subject"]["number"] == number)
        .map(|delivery| delivery["attempts"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
}
