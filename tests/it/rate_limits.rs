//! WeChat Pay's rate limit: a `429 FREQUENCY_LIMITED` (or an APIv2 `err_code` of one) means
//! the request was not accepted, so it is sent again on any verb, signed afresh, after
//! `Retry-After` or the backoff; the error after the last try names the limit. Configuration
//! errors are never sent again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::json;
use wechatpay::mock::{MockServer, RecordedRequest, Reply};
use wechatpay::resilience::RetryPolicy;
use wechatpay::transport::{HttpsTransport, SendOptions, Transport};
use wechatpay::{ErrorKind, Options};

use crate::common::{PREPAID_PATH, TEMPLATE, prepaid_options};

fn limited() -> Reply {
    Reply::error(429, "FREQUENCY_LIMITED", "该笔退款未受理，请降低频率后重试")
}

/// A field of a recorded request's `Authorization`.
fn authorization_field(request: &RecordedRequest, name: &str) -> String {
    let header = request.header("authorization").unwrap_or_default();
    header
        .split(&format!("{name}=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

fn quick() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(20))
}

#[test]
fn a_post_refused_twice_by_the_rate_limit_is_sent_again_signed_afresh() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock.once("POST", PREPAID_PATH, limited());
    mock.once("POST", PREPAID_PATH, limited());
    let client = mock.client_builder().retry_policy(quick()).build().unwrap();

    // A POST not marked safe to repeat: the rate limit says it was not accepted.
    let response = client[TEMPLATE]
        .post(prepaid_options())
        .expect("the third try");
    assert_eq!(response.status(), 204);

    let requests = mock.requests();
    assert_eq!(requests.len(), 3, "one post, three requests on the wire");
    assert!(requests.iter().all(|r| r.verdict.is_ok()));
    let nonces: std::collections::HashSet<String> = requests
        .iter()
        .map(|r| authorization_field(r, "nonce_str"))
        .collect();
    let signatures: std::collections::HashSet<String> = requests
        .iter()
        .map(|r| authorization_field(r, "signature"))
        .collect();
    assert_eq!((nonces.len(), signatures.len()), (3, 3));
}

#[test]
fn retry_after_is_waited_for_before_the_next_try() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock.once("POST", PREPAID_PATH, limited().header("Retry-After", "1"));
    let client = mock.client_builder().retry_policy(quick()).build().unwrap();

    client[TEMPLATE]
        .post(prepaid_options())
        .expect("the second try");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    // Signed a second later at least: its timestamp (whole seconds) is a later one.
    let stamp =
        |r: &RecordedRequest| -> u64 { authorization_field(r, "timestamp").parse().unwrap() };
    assert!(stamp(&requests[1]) > stamp(&requests[0]));
}

#[test]
fn the_error_after_the_last_try_names_the_limit() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, limited());
    let client = mock.client_builder().retry_policy(quick()).build().unwrap();

    let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.code(), Some("FREQUENCY_LIMITED"));
    assert_eq!(mock.requests().len(), 3, "the default 3 tries");
    let message = error.to_string();
    assert!(
        message.contains("rate limit (FREQUENCY_LIMITED)"),
        "{message}"
    );
    assert!(message.contains("all 3 tries"), "{message}");
    assert!(!error.is_connect(), "WeChat Pay answered");
}

#[test]
fn a_retry_after_past_the_timeout_stops_at_once() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, limited().header("Retry-After", "60"));
    let client = mock.client_builder().retry_policy(quick()).build().unwrap();

    let options = Options::from(prepaid_options()).timeout(Duration::from_secs(5));
    let error = client[TEMPLATE].post(options).unwrap_err();
    assert_eq!(mock.requests().len(), 1, "a 60 s wait cannot fit in 5 s");
    let message = error.to_string();
    assert!(
        message.contains("asked to wait 60 s (Retry-After)"),
        "{message}"
    );
}

#[test]
fn an_apiv2_rate_limit_is_sent_again_too() {
    let mock = MockServer::start().unwrap();
    let refund = "/secapi/pay/refund";
    mock.on(
        "POST",
        refund,
        Reply::xml(
            200,
            json!({"return_code": "SUCCESS", "result_code": "SUCCESS"}),
        ),
    );
    mock.once(
        "POST",
        refund,
        Reply::xml(
            200,
            json!({
                "return_code": "SUCCESS",
                "result_code": "FAIL",
                "err_code": "FREQUENCY_LIMITED",
                "err_code_des": "该笔退款未受理，请降低频率后重试",
            }),
        ),
    );
    let client = mock
        .client_builder()
        .base_uri(&mock.tls_uri())
        .retry_policy(quick())
        .build()
        .unwrap();
    client["v2/secapi/pay/refund"]
        .post(json!({
            "security": true,
            "xml": {"mch_id": "1900000109", "out_trade_no": "1217752501201407033233368018", "out_refund_no": "R1"},
        }))
        .expect("the second try");
    assert_eq!(mock.requests().len(), 2);
}

/// A transport that counts its calls and hands them to the default one.
struct Counting {
    calls: Arc<AtomicU32>,
    inner: HttpsTransport,
}

impl Transport for Counting {
    fn send(
        &self,
        request: http::Request<Bytes>,
        options: SendOptions,
    ) -> BoxFuture<'static, wechatpay::Result<http::Response<Bytes>>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.send(request, options)
    }
}

#[test]
fn security_true_without_a_merchant_identity_is_not_sent_again() {
    let mock = MockServer::start().unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    let client = mock
        .client_builder()
        .transport(Counting {
            calls: calls.clone(),
            inner: HttpsTransport::new().unwrap(),
        })
        .build()
        .unwrap();
    let error = client["v2/secapi/pay/refund"]
        .post(json!({"security": true, "xml": {"mch_id": "1900000109", "out_refund_no": "R1"}}))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains("merchant_identity"), "{error}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a configuration error is final"
    );
}

#[test]
fn a_429_without_a_code_is_named_by_its_status() {
    let mock = MockServer::start().unwrap();
    mock.on("GET", "/v3/certificates", Reply::status(429));
    let client = mock.client_builder().retry_policy(quick()).build().unwrap();
    let error = client["v3/certificates"].get(()).unwrap_err();
    assert_eq!(mock.requests().len(), 3);
    assert!(
        error
            .to_string()
            .contains("rate limit (429 Too Many Requests)"),
        "{error}"
    );
}
