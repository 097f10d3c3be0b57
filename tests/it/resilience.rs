//! Surviving the real network: the backup domain and the way back, retries that never charge
//! twice, idle connections closed by the server, one runtime thread for a thousand clients,
//! and API errors that help support.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::json;
use wechatpay::mock::{Fault, MockServer, Reply, Signing};
use wechatpay::resilience::{FailoverPolicy, RetryPolicy};
use wechatpay::{Client, ErrorKind, Options};

use crate::common::{PREPAID_PATH, TEMPLATE, child_report, prepaid_options};

/// Quick retries, so that the tests stay fast.
fn quick() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(20))
}

/// The authorization nonce of a recorded request.
fn nonce_of(request: &wechatpay::mock::RecordedRequest) -> String {
    let authorization = request.header("authorization").unwrap_or_default();
    authorization
        .split("nonce_str=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_backup_takes_over_when_the_primary_refuses_and_the_client_comes_back() {
    let primary = MockServer::start().unwrap();
    let backup = MockServer::start().unwrap();
    for mock in [&primary, &backup] {
        mock.sign_answers_with(Signing::Certificate);
        mock.on("POST", PREPAID_PATH, Reply::status(204));
    }
    // Automatic mode: the first request downloads the platform certificates (the seed).
    let client = primary
        .certificate_client_builder()
        .backup_base_uri(&backup.uri())
        .failover_policy(
            FailoverPolicy::default()
                .after(2)
                .probe_interval(Duration::from_millis(30)),
        )
        .retry_policy(quick())
        .build()
        .unwrap();
    assert_eq!(
        client.network().backup_base_uri.as_deref(),
        Some(backup.uri().as_str())
    );
    primary.refuse_connections();

    // The seed call and the request both fail to connect to the primary (nothing sent) and
    // go to the backup at once, signed afresh.
    let response = client[TEMPLATE]
        .post(prepaid_options())
        .expect("via the backup");
    assert_eq!(response.status(), 204);
    let seen: Vec<String> = backup
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    assert_eq!(
        seen,
        ["GET /v3/certificates", &format!("POST {PREPAID_PATH}")]
    );
    assert!(backup.requests().iter().all(|r| r.verdict.is_ok()));
    assert!(primary.requests().is_empty());
    assert!(
        client.network().on_backup,
        "two failures in a row: on the backup"
    );
    assert_eq!(client.network().active_base_uri(), backup.uri());

    // While on the backup, requests go there directly.
    client[TEMPLATE].post(prepaid_options()).unwrap();
    assert_eq!(backup.requests().len(), 3);

    // The primary comes back: a background probe finds it, and requests return to it.
    primary.accept_connections();
    let deadline = Instant::now() + Duration::from_secs(5);
    while primary.requests().is_empty() && Instant::now() < deadline {
        client[TEMPLATE].post(prepaid_options()).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(primary.requests().len(), 1, "back on the primary");
    assert!(!client.network().on_backup);
    let on_backup = backup.requests().len();
    client[TEMPLATE].post(prepaid_options()).unwrap();
    assert_eq!(backup.requests().len(), on_backup, "the backup rests");
    assert_eq!(primary.requests().len(), 2);
}

#[test]
fn a_request_with_its_own_base_uri_keeps_its_host() {
    let primary = MockServer::start().unwrap();
    let backup = MockServer::start().unwrap();
    let elsewhere = MockServer::start().unwrap();
    backup.on(
        "GET",
        "/v3/certificates",
        Reply::json(200, json!({"data": []})),
    );
    let client = primary
        .client_builder()
        .backup_base_uri(&backup.uri())
        .retry_policy(quick())
        .build()
        .unwrap();
    elsewhere.refuse_connections();
    let error = client["v3/certificates"]
        .get(Options::new().base_uri(elsewhere.uri()))
        .unwrap_err();
    assert!(error.is_connect(), "{error}");
    assert!(error.to_string().contains("nothing was sent"), "{error}");
    assert!(
        backup.requests().is_empty(),
        "no failover for a base_uri option"
    );
}

#[test]
fn the_default_base_uri_has_the_documented_backup() {
    let mock = MockServer::start().unwrap();
    let default = mock
        .client_builder()
        .base_uri(wechatpay::config::DEFAULT_BASE_URI)
        .build()
        .unwrap();
    assert_eq!(
        default.network().backup_base_uri.as_deref(),
        Some("https://api2.mch.weixin.qq.com/")
    );
    let hong_kong = mock
        .client_builder()
        .base_uri("https://apihk.mch.weixin.qq.com/")
        .build()
        .unwrap();
    assert_eq!(hong_kong.network().backup_base_uri, None);
    let none = mock
        .client_builder()
        .base_uri(wechatpay::config::DEFAULT_BASE_URI)
        .no_backup()
        .build()
        .unwrap();
    assert_eq!(none.network().backup_base_uri, None);
    let insecure = mock
        .client_builder()
        .backup_base_uri("http://backup.example/")
        .build()
        .unwrap_err();
    assert!(
        insecure.to_string().contains("backup_base_uri"),
        "{insecure}"
    );
}

#[test]
fn a_post_answered_503_is_sent_once_and_says_it_may_have_reached_wechat_pay() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        PREPAID_PATH,
        Reply::error(503, "SYSTEM_ERROR", "系统繁忙，请稍后再试"),
    );
    let client = mock.client_builder().retry_policy(quick()).build().unwrap();
    let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
    assert_eq!(mock.requests().len(), 1, "never sent twice");
    assert_eq!(error.kind(), ErrorKind::Api);
    assert!(!error.is_connect(), "it reached WeChat Pay");
    let text = error.to_string();
    assert!(text.contains("may or may not have processed it"), "{text}");
    assert!(text.contains("not sent again"), "{text}");
    assert!(text.contains("Options::retry"), "{text}");
    assert!(text.contains("SYSTEM_ERROR"), "{text}");
}

#[test]
fn a_post_reset_after_it_was_sent_is_sent_once() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204).fault(Fault::Reset));
    let client = mock.client_builder().retry_policy(quick()).build().unwrap();
    let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
    assert_eq!(mock.requests().len(), 1, "never sent twice");
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(!error.is_connect());
    let text = error.to_string();
    assert!(text.contains("may still have processed"), "{text}");
    assert!(text.contains("not sent again"), "{text}");
}

#[test]
fn a_post_marked_safe_to_repeat_is_sent_again_signed_afresh() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock.once(
        "POST",
        PREPAID_PATH,
        Reply::error(503, "SYSTEM_ERROR", "系统繁忙"),
    );
    let client = mock.client_builder().retry_policy(quick()).build().unwrap();
    let mut options = prepaid_options();
    options["retry"] = json!(true);
    assert_eq!(client[TEMPLATE].post(options).unwrap().status(), 204);
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.verdict.is_ok()));
    assert_ne!(
        nonce_of(&sent[0]),
        nonce_of(&sent[1]),
        "a fresh nonce per try"
    );
    assert_eq!(
        sent[0].body, sent[1].body,
        "the same order, so WeChat Pay deduplicates"
    );
}

#[test]
fn a_get_answered_503_is_retried_and_succeeds() {
    let mock = MockServer::start().unwrap();
    let path = "/v3/pay/transactions/out-trade-no/1217752501201407033233368018";
    mock.on(
        "GET",
        path,
        Reply::json(200, json!({"trade_state": "SUCCESS"})),
    );
    mock.once("GET", path, Reply::error(503, "SYSTEM_ERROR", "系统繁忙"));
    let client = mock.client_builder().retry_policy(quick()).build().unwrap();
    let response = client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": "1217752501201407033233368018", "query": {"mchid": "1900000109"}}))
        .unwrap();
    assert_eq!(
        response.json::<serde_json::Value>().unwrap()["trade_state"],
        "SUCCESS"
    );
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert_ne!(nonce_of(&sent[0]), nonce_of(&sent[1]));
}

#[test]
fn a_stalled_get_is_tried_within_its_budget_then_reported() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::status(200).fault(Fault::Stall),
    );
    let client = mock
        .client_builder()
        .read_timeout(Duration::from_millis(100))
        .retry_policy(quick())
        .build()
        .unwrap();
    let error = client["v3/certificates"].get(()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(!error.is_connect());
    assert_eq!(mock.requests().len(), 3, "three tries");
    assert!(error.to_string().contains("3 tries"), "{error}");
    // The whole timeout bounds the tries and the waits between them.
    let started = Instant::now();
    let error = client["v3/certificates"]
        .get(Options::new().timeout(Duration::from_millis(150)))
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2), "it ended");
    assert!(mock.requests().len() < 6, "at most two tries fit");
}

#[test]
fn nothing_sent_is_tried_again_on_any_verb() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let client = mock
        .client_builder()
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(150), Duration::from_millis(150)),
        )
        .build()
        .unwrap();
    mock.refuse_connections();
    let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
    assert!(error.is_connect(), "no try reached WeChat Pay: {error}");
    assert!(error.to_string().contains("nothing was sent"), "{error}");
    // Back during the wait between tries: the POST goes out once, and succeeds.
    let client2 = client.clone();
    let sending = std::thread::spawn(move || client2[TEMPLATE].post(prepaid_options()));
    std::thread::sleep(Duration::from_millis(50));
    mock.accept_connections();
    assert_eq!(sending.join().unwrap().unwrap().status(), 204);
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn no_request_fails_when_the_server_closes_idle_connections() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock.close_idle_connections_after(Some(Duration::from_millis(300)));
    // One try each: the pool's idle timeout alone must keep requests off closing connections.
    let client = mock
        .client_builder()
        .pool_idle_timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    // 100 POSTs: 20 lanes of 5, each lane waiting past the server's idle limit between its
    // calls, the lanes staggered so that connections are reused at every idle age.
    let lanes: Vec<_> = (0..20)
        .map(|lane| {
            let client = client.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(lane * 16));
                let mut failures = Vec::new();
                for _ in 0..5 {
                    if let Err(error) = client[TEMPLATE].post(prepaid_options()) {
                        failures.push(error.to_string());
                    }
                    std::thread::sleep(Duration::from_millis(320));
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = lanes.into_iter().flat_map(|l| l.join().unwrap()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(mock.requests().len(), 100);
}

#[tokio::test(flavor = "current_thread")]
async fn requests_beyond_the_connection_cap_wait_their_turn() {
    let mock = MockServer::start().unwrap();
    let path = "/v3/merchant-service/complaints-v2";
    mock.on(
        "GET",
        path,
        Reply::json(200, json!({"data": []})).delay(Duration::from_millis(100)),
    );
    let client = mock
        .client_builder()
        .max_connections_per_host(2)
        .build()
        .unwrap();
    let started = Instant::now();
    let answers = futures::future::join_all(
        (0..8).map(|_| client["v3/merchant-service/complaints-v2"].get_async(())),
    )
    .await;
    assert!(answers.iter().all(Result::is_ok));
    // Two at a time, 100 ms each: at least four rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(380),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(mock.requests().len(), 8);
}

#[test]
fn api_errors_show_detail_and_request_id() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        "/v3/pay/transactions/native",
        Reply::json(
            400,
            json!({
                "code": "PARAM_ERROR",
                "message": "参数错误",
                "detail": {
                    "field": "/amount/currency",
                    "value": "XYZ",
                    "issue": "Currency code is invalid",
                    "location": "body"
                }
            }),
        ),
    );
    let client = mock.client_builder().build().unwrap();
    let error = client["v3/pay/transactions/native"]
        .post(json!({"json": {"amount": {"total": 1, "currency": "XYZ"}}}))
        .unwrap_err();
    let request_id = error
        .request_id()
        .expect("the mock names its answers")
        .to_owned();
    assert!(!request_id.is_empty());
    let text = error.to_string();
    assert!(text.contains("PARAM_ERROR: 参数错误"), "{text}");
    assert!(
        text.contains(
            "detail: field /amount/currency, value XYZ, issue Currency code is invalid, location body"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("Request-ID: {request_id}")),
        "{text}"
    );
    let detail = error.response().unwrap().detail().unwrap();
    assert_eq!(detail["field"], "/amount/currency");
}

/// The threads of this process, from `/proc/self/task`.
fn threads() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/task").ok()?.count())
}

const THREADS_CHILD: &str = "WECHATPAY_THREADS_CHILD";

/// Run alone in a child process by [`a_thousand_clients_share_a_handful_of_threads`].
#[test]
#[ignore = "run in a child process by a_thousand_clients_share_a_handful_of_threads"]
fn a_thousand_clients_child() {
    let mock = MockServer::start().unwrap();
    mock.reuse_answer_signatures(true);
    mock.record_requests(false);
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::json(200, json!({"data": []})),
    );
    let clients: Vec<Client> = (0..1000)
        .map(|_| mock.client_builder().build().unwrap())
        .collect();
    for client in &clients {
        client["v3/certificates"].get(()).unwrap();
    }
    let shared = clients
        .windows(2)
        .all(|pair| format!("{:?}", pair[0].network()) == format!("{:?}", pair[1].network()));
    assert!(shared);
    println!("\n{THREADS_CHILD} {}", threads().unwrap_or(0));
}

#[test]
fn a_thousand_clients_share_a_handful_of_threads() {
    if threads().is_none() {
        return; // no /proc (not Linux): nothing to count with
    }
    let count: usize = child_report(
        "resilience::a_thousand_clients_child",
        THREADS_CHILD,
        &[(THREADS_CHILD, "1")],
        &[],
    )
    .parse()
    .expect("the child reports its threads");
    let _ = writeln!(
        std::io::stderr(),
        "threads: 1,000 clients, one blocking call each, {count} threads in the process"
    );
    assert!(count > 0 && count <= 8, "{count} threads");
}
