//! Callbacks done for the user: an axum `notify_url` on loopback receiving the mock's
//! notifications over HTTP (successes, failures with the right status, a duplicate processed
//! once), and the framework-free `callback` functions (directly and behind a bare hyper
//! server). The APIv2 notifications of the mock are in `v2_notify.rs`.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
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
    match app.seen.claim(notification.id(), now).await {
        Claim::Done => return Reply::success(),
        Claim::InProgress => return Reply::failure("being processed"),
        Claim::New => {}
    }
    match process(&app, &notification) {
        Ok(()) => {
            app.seen.complete(notification.id(), now).await.unwrap();
            Reply::success()
        }
        Err(reply) => {
            app.seen.release(notification.id()).await.unwrap();
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

    // The mock's faults: each fails verification, before the handler runs, with one text
    // whichever check failed.
    for fault in [
        Fault::BadSignature,
        Fault::StaleTimestamp,
        Fault::Probe,
        Fault::UnknownSerial,
        Fault::Unsigned,
    ] {
        let (headers, body) = paid(&mock, "FAULTY", Some(fault));
        let answer = deliver(address, PATH, &headers, full(body)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{fault:?}");
        assert_eq!(
            answer.failure_message(),
            "signature verification failed",
            "{fault:?}"
        );
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
    assert_eq!(answer.failure_message(), "signature verification failed");

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
    assert!(client.verify_notification(&headers, &body).is_ok());

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
