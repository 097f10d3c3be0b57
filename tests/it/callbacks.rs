//! Callbacks done for the user: an axum `notify_url` on loopback receiving the mock's
//! notifications over HTTP (successes, failures with the right status, a duplicate processed
//! once), the framework-free `callback` functions (directly and behind a bare hyper server),
//! and the APIv2 notifications of the mock (payments signed with MD5 and HMAC-SHA256, refunds
//! with an encrypted `req_info`, and their faults), including every APIv2 page of the webhooks
//! corpus.

use std::collections::HashSet;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::post;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Map, Value, json};
use wechatpay::axum::Notified;
use wechatpay::callback::{self, DEFAULT_BODY_LIMIT, Rejection, Reply};
use wechatpay::events::{Claim, Deduplicate, Event, MemoryDedupe};
use wechatpay::mock::{self, Fault, MockServer};
use wechatpay::toolkit::SignType;
use wechatpay::xml::XmlMap;
use wechatpay::{Client, ErrorKind, Notification, PublicKey, Verification};

// ---------------------------------------------------------------------------------------
// The axum app: a notify_url with deduplication and a ledger of what was processed
// ---------------------------------------------------------------------------------------

const PATH: &str = "/wechatpay/notify";
const OUT_TRADE_NO: &str = "1217752501201407033233368018";

/// The app's state: the client, the deduplication store, the business ledger, and the
/// orders whose processing fails once (a database hiccup).
#[derive(Clone)]
struct App {
    client: Client,
    seen: Arc<MemoryDedupe>,
    ledger: Arc<Mutex<Vec<String>>>,
    fail_once: Arc<Mutex<HashSet<String>>>,
}

impl FromRef<App> for Client {
    fn from_ref(app: &App) -> Client {
        app.client.clone()
    }
}

impl App {
    fn new(client: Client) -> Self {
        Self {
            client,
            seen: Arc::new(MemoryDedupe::new()),
            ledger: Arc::default(),
            fail_once: Arc::default(),
        }
    }

    fn ledger(&self) -> Vec<String> {
        self.ledger.lock().unwrap().clone()
    }
}

/// The handler: claim the notification id, process it, complete (success) or release
/// (failure, so that WeChat Pay's retry is processed).
async fn notify(State(app): State<App>, Notified(notification): Notified) -> Reply {
    let now = wechatpay::toolkit::timestamp();
    match app.seen.claim(notification.id(), now) {
        Claim::Done => return Reply::success(),
        Claim::InProgress => return Reply::failure("being processed"),
        Claim::New => {}
    }
    match process(&app, &notification) {
        Ok(()) => {
            app.seen.complete(notification.id(), now);
            Reply::success()
        }
        Err(reply) => {
            app.seen.release(notification.id());
            reply
        }
    }
}

/// The business logic: decrypt, parse, record.
fn process(app: &App, notification: &Notification) -> Result<(), Reply> {
    let key = match notification.event()? {
        Event::TransactionSuccess(paid) => format!("paid {}", paid.out_trade_no),
        Event::RefundSuccess(refund) => format!("refunded {}", refund.out_refund_no),
        other => format!("other {}", other.event_type()),
    };
    if app.fail_once.lock().unwrap().remove(&key) {
        return Err(Reply::failure("database unavailable, try again"));
    }
    app.ledger.lock().unwrap().push(key);
    Ok(())
}

/// A handler that logs rejections itself (`Result<Notified, Rejection>`).
async fn logged(
    State(app): State<App>,
    notified: Result<Notified<1024>, Rejection>,
) -> Result<Reply, Rejection> {
    let Notified(notification) = notified.inspect_err(|rejection| {
        app.ledger
            .lock()
            .unwrap()
            .push(format!("rejected {:?}", rejection.error().kind()));
    })?;
    app.ledger
        .lock()
        .unwrap()
        .push(format!("logged {}", notification.event_type()));
    Ok(Reply::success())
}

fn router(app: App) -> Router {
    Router::new()
        .route(PATH, post(notify))
        .route("/logged", post(logged))
        .with_state(app)
}

/// Serves `router` on a free loopback port until the test's runtime ends.
async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

type Body = BoxBody<Bytes, Infallible>;

/// What the notify_url answered.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    /// The `{"code":"FAIL","message":…}` of a failure answer, checked.
    fn failure_message(&self) -> String {
        assert_eq!(
            self.headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes),
            Some(&b"application/json"[..]),
            "a failure is JSON"
        );
        let json: Value = serde_json::from_slice(&self.body).expect("a JSON failure body");
        assert_eq!(json["code"], "FAIL", "{json}");
        assert_eq!(json.as_object().map(Map::len), Some(2), "{json}");
        json["message"].as_str().expect("a message").to_owned()
    }
}

/// POSTs a notification to `http://{address}{path}` like WeChat Pay, over a real connection.
async fn deliver(address: SocketAddr, path: &str, headers: &HeaderMap, body: Body) -> Answer {
    let client: HttpClient<HttpConnector, Body> =
        HttpClient::builder(TokioExecutor::new()).build_http();
    let mut request = Request::post(format!("http://{address}{path}"))
        .body(body)
        .expect("a request");
    for (name, value) in headers {
        request.headers_mut().append(name, value.clone());
    }
    let response = client.request(request).await.expect("the app answers");
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.expect("the body").to_bytes(),
    }
}

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).boxed()
}

/// A body of `chunks` sent without a `Content-Length` (chunked).
fn chunked(chunks: Vec<Bytes>) -> Body {
    let frames = futures::stream::iter(chunks.into_iter().map(|chunk| Ok(Frame::data(chunk))));
    StreamBody::new(frames).boxed()
}

fn transaction(out_trade_no: &str) -> Value {
    json!({
        "mchid": mock::MCHID, "appid": "wxd678efh567hg6787",
        "out_trade_no": out_trade_no, "transaction_id": "4200000001201407033233368018",
        "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "bank_type": "CMC", "success_time": "2018-06-08T10:34:56+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
    })
}

fn paid(mock: &MockServer, out_trade_no: &str, fault: Option<Fault>) -> (HeaderMap, Bytes) {
    mock.notification_with(
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
        "transaction",
        &transaction(out_trade_no),
        fault,
    )
    .expect("the mock makes notifications")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_notify_url_answers_wechat_pay_over_http() {
    let mock = MockServer::start().expect("the mock starts");
    let app = App::new(mock.client_builder().build().expect("a client"));
    let address = serve(router(app.clone())).await;

    // A good notification: 200, no body, processed.
    let (headers, body) = paid(&mock, OUT_TRADE_NO, None);
    let answer = deliver(address, PATH, &headers, full(body.clone())).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.is_empty());
    assert_eq!(app.ledger(), [format!("paid {OUT_TRADE_NO}")]);

    // The same notification again (WeChat Pay's retry): success, not processed twice.
    let again = deliver(address, PATH, &headers, full(body.clone())).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.is_empty());
    assert_eq!(app.ledger().len(), 1, "{:?}", app.ledger());

    // Tampered: one byte of the signed body changed.
    let tampered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESs");
    let answer = deliver(address, PATH, &headers, full(tampered)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.failure_message(), "signature verification failed");

    // The mock's faults: each fails verification, before the handler runs.
    for (fault, message) in [
        (Fault::BadSignature, "signature verification failed"),
        (
            Fault::StaleTimestamp,
            "Wechatpay-Timestamp is out of the 5-minute window",
        ),
        (Fault::Probe, "signature verification failed"),
        (Fault::UnknownSerial, "unknown Wechatpay-Serial"),
        (Fault::Unsigned, "missing Wechatpay signature headers"),
    ] {
        let (headers, body) = paid(&mock, "FAULTY", Some(fault));
        let answer = deliver(address, PATH, &headers, full(body)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{fault:?}");
        assert_eq!(answer.failure_message(), message, "{fault:?}");
    }

    // Wrong APIv3 key, or a ciphertext altered: verified, but the resource does not decrypt;
    // the handler answers 500 and releases its claim.
    for fault in [Fault::WrongKey, Fault::TamperedCiphertext] {
        let (headers, body) = paid(&mock, "UNREADABLE", Some(fault));
        let answer = deliver(address, PATH, &headers, full(body)).await;
        assert_eq!(
            answer.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{fault:?}"
        );
        assert_eq!(
            answer.failure_message(),
            "cannot decrypt the notification",
            "{fault:?}"
        );
    }

    // Anything else (here an APIv2 body sent to the APIv3 endpoint) is not signed.
    let answer = deliver(address, PATH, &HeaderMap::new(), full("<xml/>")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.failure_message(),
        "missing Wechatpay signature headers"
    );

    // Over the 64 KiB limit: 413, whether announced by Content-Length or streamed.
    let big = Bytes::from(vec![b' '; DEFAULT_BODY_LIMIT + 1]);
    let answer = deliver(address, PATH, &headers_of(&mock), full(big.clone())).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.failure_message(), "notification body too large");
    let streamed = chunked(vec![big.slice(..40_000), big.slice(40_000..)]);
    let answer = deliver(address, PATH, &headers_of(&mock), streamed).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Exactly at the limit is read (and then fails verification).
    let at_limit = big.slice(..DEFAULT_BODY_LIMIT);
    let answer = deliver(address, PATH, &headers_of(&mock), chunked(vec![at_limit])).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    // A good notification sent in pieces, without a Content-Length.
    let (headers, body) = paid(&mock, "CHUNKED", None);
    let pieces = vec![body.slice(..10), body.slice(10..)];
    let answer = deliver(address, PATH, &headers, chunked(pieces)).await;
    assert_eq!(answer.status, StatusCode::OK);

    // Only good notifications reached the business logic, each once.
    assert_eq!(
        app.ledger(),
        [format!("paid {OUT_TRADE_NO}"), "paid CHUNKED".to_owned()]
    );
}

/// Signature headers of some notification (their body is not sent).
fn headers_of(mock: &MockServer) -> HeaderMap {
    paid(mock, "HEADERS", None).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_notification_is_processed_on_its_retry_and_only_once() {
    let mock = MockServer::start().expect("the mock starts");
    let app = App::new(mock.client_builder().build().expect("a client"));
    let address = serve(router(app.clone())).await;
    app.fail_once
        .lock()
        .unwrap()
        .insert("paid FLAKY".to_owned());

    let (headers, body) = paid(&mock, "FLAKY", None);
    let first = deliver(address, PATH, &headers, full(body.clone())).await;
    assert_eq!(first.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(first.failure_message(), "database unavailable, try again");
    assert!(app.ledger().is_empty());

    // WeChat Pay's retries: the first is processed, the next ones are answered from the store.
    for _ in 0..3 {
        let retry = deliver(address, PATH, &headers, full(body.clone())).await;
        assert_eq!(retry.status, StatusCode::OK);
    }
    assert_eq!(app.ledger(), ["paid FLAKY"]);

    // Another notification for the same event is another id: processed (the business key
    // guards that case, see `Deduplicate`).
    let (headers, body) = mock
        .notification(
            "REFUND.SUCCESS",
            "encrypt-resource",
            "refund",
            &json!({
                "mchid": mock::MCHID, "out_trade_no": "FLAKY", "transaction_id": "4200000001",
                "out_refund_no": "R-FLAKY", "refund_id": "50000000382019052709732678859",
                "refund_status": "SUCCESS", "user_received_account": "招商银行信用卡0403",
                "amount": {"total": 100, "refund": 100, "payer_total": 100, "payer_refund": 100},
            }),
        )
        .expect("a refund notification");
    let answer = deliver(address, PATH, &headers, full(body)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(app.ledger(), ["paid FLAKY", "refunded R-FLAKY"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_can_see_rejections_and_set_its_own_limit() {
    let mock = MockServer::start().expect("the mock starts");
    let app = App::new(mock.client_builder().build().expect("a client"));
    let address = serve(router(app.clone())).await;

    let (headers, body) = paid(&mock, OUT_TRADE_NO, Some(Fault::Probe));
    let answer = deliver(address, "/logged", &headers, full(body)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    // `Notified<1024>`: the 1 KiB limit of this route.
    let (headers, body) = paid(&mock, OUT_TRADE_NO, None);
    assert!(body.len() < 1024, "{}", body.len());
    let answer = deliver(address, "/logged", &headers, full(body)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = deliver(address, "/logged", &headers, full(vec![b'x'; 1025])).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(
        app.ledger(),
        [
            "rejected Verification(Probe)",
            "logged TRANSACTION.SUCCESS",
            "rejected InvalidArgument",
        ]
    );
}

// ---------------------------------------------------------------------------------------
// The framework-free functions
// ---------------------------------------------------------------------------------------

fn request(headers: &HeaderMap, body: impl Into<Bytes>) -> Request<Bytes> {
    let mut request = Request::post(PATH).body(body.into()).expect("a request");
    *request.headers_mut() = headers.clone();
    request
}

fn rejected(client: &Client, request: &Request<Bytes>) -> Rejection {
    match callback::verify_request(client, request) {
        Ok(notification) => panic!("accepted {notification:?}"),
        Err(rejection) => rejection,
    }
}

#[test]
fn verify_request_needs_no_framework() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");

    let (headers, body) = paid(&mock, OUT_TRADE_NO, None);
    let notification = callback::verify_request(&client, &request(&headers, body.clone()))
        .expect("a good notification verifies");
    assert_eq!(notification.event_type(), "TRANSACTION.SUCCESS");
    assert_eq!(notification.body(), &body);
    // Any body that is bytes: `Vec<u8>`, `&[u8]`, `String`.
    let mut as_vec = Request::new(body.to_vec());
    *as_vec.headers_mut() = headers.clone();
    assert!(callback::verify_request(&client, &as_vec).is_ok());
    assert!(callback::verify(&client, &headers, &body).is_ok());

    // Each failure: its error kind, and WeChat Pay's failure answer with its status.
    let cases = [
        (
            paid(&mock, "X", Some(Fault::BadSignature)),
            Verification::Signature,
        ),
        (
            paid(&mock, "X", Some(Fault::StaleTimestamp)),
            Verification::Timestamp,
        ),
        (paid(&mock, "X", Some(Fault::Probe)), Verification::Probe),
        (
            paid(&mock, "X", Some(Fault::UnknownSerial)),
            Verification::UnknownSerial,
        ),
        (
            paid(&mock, "X", Some(Fault::Unsigned)),
            Verification::MissingHeader,
        ),
    ];
    for ((headers, body), step) in cases {
        let rejection = rejected(&client, &request(&headers, body));
        assert_eq!(rejection.error().kind(), ErrorKind::Verification(step));
        assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(rejection.to_string(), rejection.error().to_string());
        let response = rejection.into_reply().into_http();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let json: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(json["code"], "FAIL");
    }

    // A client holding the wrong platform key under the right id: the signature fails.
    let wrong_platform_key = mock
        .client_builder()
        .platform_key(
            mock::PLATFORM_KEY_ID,
            PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM).unwrap(),
        )
        .build()
        .expect("a client");
    let rejection = rejected(&wrong_platform_key, &request(&headers, body.clone()));
    assert_eq!(
        rejection.error().kind(),
        ErrorKind::Verification(Verification::Signature)
    );

    // A client holding the wrong APIv3 key: verified, not decrypted (`From<Error> for Reply`).
    let wrong_apiv3_key = mock
        .client_builder()
        .apiv3_key("0123456789abcdef0123456789abcdef")
        .build()
        .expect("a client");
    let notification = callback::verify_request(&wrong_apiv3_key, &request(&headers, body))
        .expect("the signature does not involve the APIv3 key");
    let error = notification.event().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Crypto);
    let reply = Reply::from(error);
    assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        reply.body().as_ref(),
        br#"{"code":"FAIL","message":"cannot decrypt the notification"}"#
    );
}

#[test]
fn replies_are_in_wechat_pays_format() {
    let success = Reply::success();
    assert!(success.is_success());
    let response: Response<Bytes> = success.into();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.body().is_empty());
    assert!(response.headers().get(CONTENT_TYPE).is_none());

    let failure = Reply::failure("金额不符 \"100\"");
    assert!(!failure.is_success());
    assert_eq!(failure.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let json: Value = serde_json::from_slice(failure.body()).unwrap();
    assert_eq!(json, json!({"code": "FAIL", "message": "金额不符 \"100\""}));

    assert_eq!(
        Reply::failure_with_status(StatusCode::SERVICE_UNAVAILABLE, "busy").status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    // A status WeChat Pay would take for success is not a failure status.
    for status in [StatusCode::OK, StatusCode::NO_CONTENT, StatusCode::FOUND] {
        assert_eq!(
            Reply::failure_with_status(status, "x").status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    let too_large = Rejection::body_too_large(DEFAULT_BODY_LIMIT);
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.error().kind(), ErrorKind::InvalidArgument);
    assert!(too_large.to_string().contains("65536"), "{too_large}");
    let (error, reply) = too_large.into_parts();
    assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        wechatpay::Error::from(Rejection::new(error)).kind(),
        ErrorKind::InvalidArgument
    );
}

/// The framework-free function behind a bare hyper server: read the body with a limit, verify,
/// answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_hyper_notify_url_works_too() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let client = client.clone();
            let service =
                hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                    let client = client.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let reply = match Limited::new(body, DEFAULT_BODY_LIMIT).collect().await {
                            Err(_) => Rejection::body_too_large(DEFAULT_BODY_LIMIT).into_reply(),
                            Ok(body) => {
                                let request = Request::from_parts(parts, body.to_bytes());
                                match callback::verify_request(&client, &request) {
                                    Ok(notification) => match notification.event() {
                                        Ok(_) => Reply::success(),
                                        Err(error) => Reply::for_error(&error),
                                    },
                                    Err(rejection) => rejection.into_reply(),
                                }
                            }
                        };
                        Ok::<_, Infallible>(reply.into_http().map(Full::new))
                    }
                });
            tokio::spawn(
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned(),
            );
        }
    });

    let (headers, body) = paid(&mock, OUT_TRADE_NO, None);
    let answer = deliver(address, PATH, &headers, full(body)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let (headers, body) = paid(&mock, OUT_TRADE_NO, Some(Fault::StaleTimestamp));
    let answer = deliver(address, PATH, &headers, full(body)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let mut big = headers_of(&mock);
    big.insert(CONTENT_LENGTH, HeaderValue::from(DEFAULT_BODY_LIMIT + 1));
    let answer = deliver(
        address,
        PATH,
        &big,
        full(vec![b' '; DEFAULT_BODY_LIMIT + 1]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

// ---------------------------------------------------------------------------------------
// APIv2 notifications from the mock
// ---------------------------------------------------------------------------------------

/// 普通支付通知, with the fields of the documented page.
fn v2_payment() -> Value {
    json!({
        "return_code": "SUCCESS", "result_code": "SUCCESS",
        "appid": "wx2421b1c4370ec43b", "mch_id": mock::MCHID, "device_info": "1000",
        "openid": "oUpF8uMEb4qRXf22hE3X68TekukE", "is_subscribe": "Y", "trade_type": "JSAPI",
        "bank_type": "CMC", "total_fee": 100, "fee_type": "CNY", "cash_fee": 100,
        "coupon_fee": 10, "coupon_count": 1, "coupon_type_0": "CASH", "coupon_id_0": "10000",
        "transaction_id": "1004400740201409030005092168", "out_trade_no": "1409811653",
        "attach": "支付测试 <&> \"附加\"", "time_end": "20140903131540",
    })
}

/// 退款结果通知's `req_info`, with the fields of the documented page.
fn v2_refund() -> Value {
    json!({
        "transaction_id": "4006252001201705123297353072", "out_trade_no": "1409811653",
        "refund_id": "50000408942018111907145868882", "out_refund_no": "1409811653-R1",
        "total_fee": 100, "settlement_total_fee": 100, "refund_fee": 100,
        "settlement_refund_fee": 100, "cash_refund_fee": 100, "refund_status": "SUCCESS",
        "success_time": "2018-11-19 16:24:13", "refund_recv_accout": "支付用户零钱",
        "refund_account": "REFUND_SOURCE_RECHARGE_FUNDS", "refund_request_source": "API",
    })
}

fn text_fields(object: &Value) -> Value {
    Value::Object(
        object
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (key.clone(), Value::String(text))
            })
            .collect(),
    )
}

#[test]
fn v2_payment_notifications_verify_under_md5_and_hmac_sha256() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        let (headers, body) = mock.v2_notification(&v2_payment(), sign_type).unwrap();
        assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "text/xml");
        let fields = client
            .verify_v2_notification(&body)
            .unwrap_or_else(|e| panic!("{sign_type:?}: {e}"));
        let mut expected = text_fields(&v2_payment());
        let json = fields.to_json();
        assert_eq!(
            json["sign"].as_str().map(str::len),
            Some(if sign_type == SignType::Md5 { 32 } else { 64 })
        );
        assert_eq!(json["nonce_str"].as_str().map(str::len), Some(32));
        for added in ["sign", "nonce_str", "sign_type"] {
            if let Some(value) = json.get(added) {
                expected[added] = value.clone();
            }
        }
        assert_eq!(json, expected, "{sign_type:?}");
        assert_eq!(
            fields.get_str("sign_type"),
            (sign_type == SignType::HmacSha256).then_some("HMAC-SHA256")
        );
        // The same check as a pure function with the key.
        assert!(wechatpay::v2::verify_notification(&body, &mock::apiv2_key()).is_ok());
    }

    // `mch_id` and `nonce_str` are filled in when absent; a given `sign_type` is kept right.
    let (_, body) = mock
        .v2_notification(
            &json!({"return_code": "SUCCESS", "sign_type": "HMAC-SHA256"}),
            SignType::Md5,
        )
        .unwrap();
    let fields = client.verify_v2_notification(&body).unwrap();
    assert_eq!(fields.get_str("mch_id"), Some(mock::MCHID));
    assert_eq!(fields.get_str("sign_type"), Some("MD5"));
    let (_, body) = mock
        .v2_notification(
            &json!({"combine_mch_id": "1900000100"}),
            SignType::HmacSha256,
        )
        .unwrap();
    let fields = client.verify_v2_notification(&body).unwrap();
    assert_eq!(fields.get("mch_id"), None);

    assert_eq!(
        mock.v2_notification(&json!(["not", "an", "object"]), SignType::Md5)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn faulty_v2_payment_notifications_fail() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        for (fault, step) in [
            (Fault::BadSignature, Verification::Signature),
            (Fault::WrongKey, Verification::Signature),
            (Fault::Unsigned, Verification::MissingHeader),
        ] {
            let (_, body) = mock
                .v2_notification_with(&v2_payment(), sign_type, Some(fault))
                .unwrap();
            let error = client.verify_v2_notification(&body).unwrap_err();
            assert_eq!(
                error.kind(),
                ErrorKind::Verification(step),
                "{sign_type:?} {fault:?}: {error}"
            );
        }
        // A field changed after signing.
        let (_, body) = mock.v2_notification(&v2_payment(), sign_type).unwrap();
        let tampered = String::from_utf8(body.to_vec())
            .unwrap()
            .replace("<total_fee>100</total_fee>", "<total_fee>1</total_fee>");
        assert_ne!(tampered.as_bytes(), &body[..]);
        let error = client
            .verify_v2_notification(tampered.as_bytes())
            .unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Verification(Verification::Signature)
        );
    }
    // Faults without meaning for APIv2 are ignored.
    let (_, body) = mock
        .v2_notification_with(&v2_payment(), SignType::Md5, Some(Fault::StaleTimestamp))
        .unwrap();
    assert!(client.verify_v2_notification(&body).is_ok());
}

fn req_info(body: &[u8]) -> String {
    let outer = wechatpay::xml::parse(body).expect("XML");
    outer.get_str("req_info").expect("a req_info").to_owned()
}

#[test]
fn v2_refund_req_info_round_trips() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    let (headers, body) = mock
        .v2_refund_notification(&json!({"appid": "wx2421b1c4370ec43b"}), &v2_refund())
        .unwrap();
    assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "text/xml");
    let outer = wechatpay::xml::parse(&body).unwrap();
    assert_eq!(outer.get_str("return_code"), Some("SUCCESS"));
    assert_eq!(outer.get_str("appid"), Some("wx2421b1c4370ec43b"));
    assert_eq!(outer.get_str("mch_id"), Some(mock::MCHID));
    assert_eq!(outer.get_str("nonce_str").map(str::len), Some(32));
    assert_eq!(
        outer.get("sign"),
        None,
        "refund notifications are not signed"
    );
    // Refund notifications are not signed: a payment-notification check refuses them.
    assert_eq!(
        client.verify_v2_notification(&body).unwrap_err().kind(),
        ErrorKind::Verification(Verification::MissingHeader)
    );

    let refund = client.decrypt_v2_refund(&req_info(&body)).unwrap();
    assert_eq!(refund.to_json(), text_fields(&v2_refund()));
    // The pure function, and WeChat Pay's `<root>` element inside.
    let refund = wechatpay::v2::decrypt_refund(&req_info(&body), &mock::apiv2_key()).unwrap();
    assert_eq!(refund.get_str("refund_recv_accout"), Some("支付用户零钱"));
    let key = wechatpay::crypto::md5_hex(mock::SECRET.as_bytes());
    let plaintext = wechatpay::crypto::aes_ecb_decrypt(key.as_bytes(), &req_info(&body)).unwrap();
    assert!(plaintext.starts_with(b"<root>") && plaintext.ends_with(b"</root>"));
}

#[test]
fn faulty_v2_refund_notifications_fail() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    for fault in [Fault::WrongKey, Fault::TamperedCiphertext] {
        let (_, body) = mock
            .v2_refund_notification_with(&json!({}), &v2_refund(), Some(fault))
            .unwrap();
        let error = client.decrypt_v2_refund(&req_info(&body)).unwrap_err();
        // A wrong key or altered block shows as bad padding; by chance (1 in 256 for a
        // given input) the padding holds and the plaintext is not XML.
        assert!(
            matches!(error.kind(), ErrorKind::Crypto | ErrorKind::Decode),
            "{fault:?}: {error}"
        );
    }
    // The tampered ciphertext is the right one with one byte changed.
    let (_, good) = mock
        .v2_refund_notification(&json!({}), &v2_refund())
        .unwrap();
    let (_, bad) = mock
        .v2_refund_notification_with(&json!({}), &v2_refund(), Some(Fault::TamperedCiphertext))
        .unwrap();
    let (good, bad) = (req_info(&good), req_info(&bad));
    assert_eq!(good.len(), bad.len());
    assert_ne!(good, bad);
    // Signature faults mean nothing for an unsigned notification.
    let (_, body) = mock
        .v2_refund_notification_with(&json!({}), &v2_refund(), Some(Fault::BadSignature))
        .unwrap();
    assert!(client.decrypt_v2_refund(&req_info(&body)).is_ok());
}

// ---------------------------------------------------------------------------------------
// Every APIv2 page of the webhooks corpus
// ---------------------------------------------------------------------------------------

/// The value of a documented field: its first enum value, a number, or a text naming it.
fn sample_value(row: &Value) -> Value {
    if let Some(first) = row["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    match row["type"].as_str().unwrap_or("string") {
        "number" | "integer" => json!(100),
        _ => json!(format!("{}-示例", row["name"].as_str().unwrap_or("field"))),
    }
}

/// The fields of `rows`, each row's children (the deeper rows after it) nested as an object
/// (a list of one for `object[]`), except for `opaque` rows (ciphertexts), which stay text.
fn sample_object(rows: &[Value], opaque: &HashSet<&str>) -> Map<String, Value> {
    let indent = |row: &Value| row["indent"].as_u64().unwrap_or(1);
    let mut object = Map::new();
    let mut index = 0;
    while index < rows.len() {
        let row = &rows[index];
        let end = rows[index + 1..]
            .iter()
            .position(|next| indent(next) <= indent(row))
            .map_or(rows.len(), |offset| index + 1 + offset);
        let name = row["name"].as_str().unwrap_or("field");
        let children = &rows[index + 1..end];
        let value = if children.is_empty() || opaque.contains(name) {
            sample_value(row)
        } else {
            let nested = Value::Object(sample_object(children, opaque));
            if row["type"].as_str().unwrap_or("").ends_with("[]") {
                json!([nested])
            } else {
                nested
            }
        };
        // `coupon_type_$n`: the n-th coupon, from 0.
        object.insert(name.replace("$n", "0"), value);
        index = end;
    }
    object
}

fn field_rows(rows: &Value) -> Vec<Value> {
    rows.as_array()
        .map(|rows| {
            rows.iter()
                .filter(|row| row["kind"] == "field" && row["name"].is_string())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_documented_v2_notification_round_trips() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/webhooks.jsonl");
    let path = std::env::var_os("WECHATPAY_WEBHOOKS").map_or(path, Into::into);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if std::env::var_os("CI").is_none() => {
            let _ = writeln!(
                std::io::stderr(),
                "v2 notifications: no webhooks corpus at {} ({e})",
                path.display()
            );
            return;
        }
        Err(e) => panic!("cannot read the webhooks corpus {}: {e}", path.display()),
    };
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    let (mut signed, mut refunds) = (0, 0);
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let page: Value = serde_json::from_str(line).expect("JSON");
        if page["api"] != "v2" {
            continue;
        }
        let name = page["page"].as_str().unwrap_or("?");
        let rows = field_rows(&page["body"]);
        let opaque: HashSet<&str> = page["encrypted_fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|field| field["name"].as_str())
            .collect();
        if opaque.contains("req_info") {
            // The outer fields are those before `req_info`'s children; the rest is inside.
            let inner: Vec<Value> = field_rows(&page["decrypted_resource"]);
            let inner_names: HashSet<&str> = inner
                .iter()
                .filter_map(|row| row["name"].as_str())
                .collect();
            let outer: Vec<Value> = rows
                .iter()
                .filter(|row| {
                    row["name"] != "req_info"
                        && !inner_names.contains(row["name"].as_str().unwrap_or(""))
                })
                .cloned()
                .collect();
            let refund = Value::Object(sample_object(&inner, &opaque));
            let (_, body) = mock
                .v2_refund_notification(&Value::Object(sample_object(&outer, &opaque)), &refund)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let decrypted = client
                .decrypt_v2_refund(&req_info(&body))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(decrypted.to_json(), text_fields(&refund), "{name}");
            refunds += 1;
            continue;
        }
        let mut fields = sample_object(&rows, &opaque);
        fields.remove("sign");
        fields.remove("sign_type");
        for sign_type in [SignType::Md5, SignType::HmacSha256] {
            let (_, body) = mock
                .v2_notification(&Value::Object(fields.clone()), sign_type)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let verified: XmlMap = client
                .verify_v2_notification(&body)
                .unwrap_or_else(|e| panic!("{name} {sign_type:?}: {e}"));
            for (key, value) in &fields {
                let expected = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                assert_eq!(
                    verified.get_str(key),
                    Some(expected.as_str()),
                    "{name}: {key}"
                );
            }
            signed += 1;
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "v2 notifications: {signed} signed, {refunds} refunds"
    );
    assert!(
        signed >= 18 && refunds >= 1,
        "{signed} signed, {refunds} refunds"
    );
}
