//! Errors: API errors with WeChat Pay's code and message, every verification failure with
//! its own kind, timeouts, dropped connections, and the unsigned download endpoints.

use std::time::{Duration, Instant};

use crate::common::{
    CannedTransport, PREPAID_PATH, TEMPLATE, mock_and_client, prepaid_mock, prepaid_options,
};
use serde_json::json;
use wechatpay::VerifiedBy;
use wechatpay::mock::{Fault, PLATFORM_KEY_ID, Reply};
use wechatpay::{Client, Error, ErrorKind, Options, Verification};

#[test]
fn api_error_keeps_code_message_and_body() {
    let (mock, client) = prepaid_mock();
    mock.on(
        "POST",
        PREPAID_PATH,
        Reply::error(400, "PARAM_ERROR", "x").header("X-Trace", "req-1"),
    );
    let err = client[TEMPLATE].post(prepaid_options()).expect_err("400");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.code(), Some("PARAM_ERROR"));
    let response = err.response().expect("the answer is kept");
    assert_eq!(response.status(), 400);
    assert_eq!(response.code(), Some("PARAM_ERROR"));
    assert_eq!(response.message(), Some("x"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(response.body()).unwrap(),
        json!({"code": "PARAM_ERROR", "message": "x"})
    );
    assert_eq!(response.headers()["x-trace"], "req-1");
    let shown = err.to_string();
    assert!(
        shown.contains("400") && shown.contains("PARAM_ERROR") && shown.contains('x'),
        "{shown}"
    );
    assert!(!err.is_timeout());
    // The request itself was fine.
    assert_eq!(mock.requests()[0].verdict, Ok(()));
}

#[test]
fn a_404_for_an_undocumented_string_path_names_the_nearest_documented_template() {
    let (mock, client) = mock_and_client();
    // The mock answers WeChat Pay's 404 for a path no rule answers.
    let err = client["v3/pay/transactions/out-trade-no/{out_trade_no}x"]
        .get(json!({"out_trade_no": "1217752501201407033233368018", "query": {"mchid": "1900000109"}}))
        .expect_err("404");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    let shown = err.to_string();
    assert!(
        shown.contains("did you mean `v3/pay/transactions/out-trade-no/{out_trade_no}`?"),
        "{shown}"
    );
    // A documented template answered 404 (an order that does not exist) gets no hint.
    let err = client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": "1217752501201407033233368018", "query": {"mchid": "1900000109"}}))
        .expect_err("404");
    assert!(!err.to_string().contains("did you mean"), "{err}");
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn api_error_with_an_html_body() {
    let (mock, client) = mock_and_client();
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::status(502)
            .header("Content-Type", "text/html")
            .body(html),
    );
    let err = client["v3/certificates"].get(()).expect_err("502");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(err.code(), None);
    let response = err.response().unwrap();
    assert_eq!(response.message(), None);
    assert_eq!(response.body().as_ref(), html.as_bytes());
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
}

#[test]
fn every_status_of_400_or_more_is_an_api_error() {
    let (mock, _) = mock_and_client();
    // One try each: a 429 is otherwise sent again (tests/it/rate_limits.rs).
    let client = mock
        .client_builder()
        .retry_policy(wechatpay::resilience::RetryPolicy::none())
        .build()
        .unwrap();
    for status in [401, 403, 404, 429, 500, 503] {
        mock.once(
            "PATCH",
            "/v3/x",
            Reply::error(status, "SYSTEM_ERROR", "try later"),
        );
        let err = client["v3/x"].patch(()).expect_err("error status");
        assert_eq!(err.kind(), ErrorKind::Api, "{status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.code(), Some("SYSTEM_ERROR"));
    }
    // A redirect is not a success either.
    mock.once(
        "GET",
        "/v3/moved",
        Reply::status(302).header("Location", "/v3/x"),
    );
    let err = client["v3/moved"].get(()).expect_err("302");
    assert_eq!(err.kind(), ErrorKind::Api);
}

/// The mock's `reply` for `GET /v3/certificates`, expected to fail verification with `step`.
fn assert_verification_failure(reply: Reply, step: Verification) -> Error {
    let (mock, client) = mock_and_client();
    let body = json!({"data": [{"serial_no": "x"}]});
    mock.on("GET", "/v3/certificates", reply.body(body.to_string()));
    let err = client["v3/certificates"]
        .get(())
        .expect_err("must not be trusted");
    assert_eq!(err.kind(), ErrorKind::Verification(step), "{err}");
    // The untrusted 200 is kept for inspection, never returned as Ok.
    let response = err.response().expect("the answer is kept");
    assert_eq!(response.status(), 200);
    assert_eq!(response.body().as_ref(), body.to_string().as_bytes());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    // The async verb says the same.
    let again = futures::executor::block_on(client["v3/certificates"].get_async(()))
        .expect_err("must not be trusted");
    assert_eq!(again.kind(), ErrorKind::Verification(step));
    err
}

#[test]
fn unsigned_answer_is_missing_header() {
    let err = assert_verification_failure(
        Reply::status(200).fault(Fault::Unsigned),
        Verification::MissingHeader,
    );
    assert!(err.to_string().contains("Wechatpay-"), "{err}");
}

#[test]
fn stale_answer_is_timestamp() {
    let err = assert_verification_failure(
        Reply::status(200).fault(Fault::StaleTimestamp),
        Verification::Timestamp,
    );
    assert!(err.to_string().contains("300"), "{err}");
}

#[test]
fn unknown_serial_is_unknown_serial() {
    let err = assert_verification_failure(
        Reply::status(200).fault(Fault::UnknownSerial),
        Verification::UnknownSerial,
    );
    let message = err.to_string();
    assert!(message.contains("PUB_KEY_ID_0000000000"), "{message}");
    assert!(
        message.contains(PLATFORM_KEY_ID),
        "known ids listed: {message}"
    );
}

#[test]
fn bad_signature_is_signature() {
    assert_verification_failure(
        Reply::status(200).fault(Fault::BadSignature),
        Verification::Signature,
    );
}

#[test]
fn tampered_body_is_signature() {
    let genuine = r#"{"amount":{"total":1}}"#;
    let tampered = r#"{"amount":{"total":100000}}"#;
    let transport = CannedTransport::tampered(tampered, genuine);
    let client = Client::builder()
        .mchid(wechatpay::mock::MCHID)
        .serial(wechatpay::mock::MERCHANT_SERIAL)
        .private_key(wechatpay::mock::merchant_private_key())
        .platform_key(PLATFORM_KEY_ID, wechatpay::mock::platform_public_key())
        .transport(transport.clone())
        .build()
        .unwrap();
    let err = client["v3/pay/transactions/id/{id}"]
        .get(json!({"id": "4200000001"}))
        .expect_err("tampered");
    assert_eq!(err.kind(), ErrorKind::Verification(Verification::Signature));
    assert_eq!(err.response().unwrap().body().as_ref(), tampered.as_bytes());
    assert_eq!(transport.requests().len(), 1);

    // The honest version of the same transport verifies: the failure was the body.
    let honest = CannedTransport::signed(200, genuine, PLATFORM_KEY_ID);
    let client = Client::builder()
        .mchid(wechatpay::mock::MCHID)
        .serial(wechatpay::mock::MERCHANT_SERIAL)
        .private_key(wechatpay::mock::merchant_private_key())
        .platform_key(PLATFORM_KEY_ID, wechatpay::mock::platform_public_key())
        .transport(honest)
        .build()
        .unwrap();
    let response = client["v3/pay/transactions/id/{id}"]
        .get(json!({"id": "4200000001"}))
        .expect("honest");
    assert_eq!(response.text().unwrap(), genuine);
}

#[test]
fn per_request_timeout() {
    let (mock, client) = prepaid_mock();
    mock.on(
        "POST",
        PREPAID_PATH,
        Reply::status(204).delay(Duration::from_millis(300)),
    );
    let started = Instant::now();
    let err = client[TEMPLATE]
        .post(Options::from(prepaid_options()).timeout(Duration::from_millis(50)))
        .expect_err("too slow");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_timeout());
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );

    // The JSON spelling, in seconds, through the async verb.
    let mut options = prepaid_options();
    options["timeout"] = json!(0.05);
    let started = Instant::now();
    let err =
        futures::executor::block_on(client[TEMPLATE].post_async(options)).expect_err("too slow");
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() < Duration::from_millis(250));
    assert!(err.response().is_none());
}

#[test]
fn huge_timeout_option_does_not_panic() {
    let (_mock, client) = prepaid_mock();
    let outcomes = [
        client[TEMPLATE].post(Options::from(prepaid_options()).timeout(Duration::MAX)),
        client[TEMPLATE].post(Options::from(prepaid_options()).var("timeout", 1e20)),
    ];
    for outcome in outcomes {
        // Either "no limit" (the answer) or a clear error; never a panic.
        match outcome {
            Ok(response) => assert_eq!(response.status(), 204),
            Err(err) => assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}"),
        }
    }
}

#[test]
fn client_timeout() {
    let (mock, _) = prepaid_mock();
    mock.on(
        "POST",
        PREPAID_PATH,
        Reply::status(204).delay(Duration::from_millis(300)),
    );
    let client = mock
        .client_builder()
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client[TEMPLATE].post(prepaid_options()).expect_err("slow");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_timeout());
    assert!(started.elapsed() < Duration::from_millis(250));

    // A fast answer under the same client is fine.
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    assert_eq!(
        client[TEMPLATE].post(prepaid_options()).unwrap().status(),
        204
    );
}

#[test]
fn dropped_connection_is_transport() {
    let (mock, client) = mock_and_client();
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::status(200).fault(Fault::DropConnection),
    );
    let err = client["v3/certificates"].get(()).expect_err("dropped");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept"
    );
    assert!(!err.is_timeout());
    assert!(!err.is_connect(), "it may have reached WeChat Pay");
    // A GET is sent again after an exchange that broke off: three tries by default.
    assert_eq!(mock.requests().len(), 3);
    assert!(err.to_string().contains("3 tries"), "{err}");

    // On a pooled connection that already carried an answer, a dropped POST is reported,
    // never silently sent again.
    let (mock, client) = prepaid_mock();
    client[TEMPLATE]
        .post(prepaid_options())
        .expect("warms the pool");
    mock.on(
        "POST",
        PREPAID_PATH,
        Reply::status(204).fault(Fault::DropConnection),
    );
    let err = client[TEMPLATE]
        .post(prepaid_options())
        .expect_err("dropped");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    assert_eq!(mock.requests().len(), 2, "the POST went out exactly once");
    // and the client recovers
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    assert_eq!(
        client[TEMPLATE].post(prepaid_options()).unwrap().status(),
        204
    );
}

#[test]
fn connection_refused_is_transport() {
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = wechatpay::mock::MockServer::start()
        .unwrap()
        .client_builder()
        .base_uri(&format!("http://127.0.0.1:{port}/"))
        .build()
        .unwrap();
    let err = client["v3/certificates"].get(()).expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    assert!(err.is_connect(), "nothing was sent: {err:?}");
    assert!(!err.is_timeout() && !err.is_api() && !err.is_verification());
}

#[test]
fn unsigned_download_paths_are_exempt() {
    let (mock, client) = mock_and_client();
    let bill = "交易时间,公众账号ID\n`2026-01-01 00:00:00,`wx1\n";
    mock.on(
        "GET",
        "/v3/billdownload/file",
        Reply::status(200).body(bill).unsigned(),
    );
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::status(200).body("{}").unsigned(),
    );
    let response = client["v3/billdownload/file"]
        .get(json!({"query": {"token": "abc"}}))
        .expect("an unsigned bill is fine");
    assert_eq!(response.status(), 200);
    assert_eq!(response.verified_by(), &VerifiedBy::Unsigned);
    assert!(!response.is_verified());
    assert_eq!(response.text().unwrap(), bill);

    let err = client["v3/certificates"]
        .get(())
        .expect_err("must be signed");
    assert_eq!(
        err.kind(),
        ErrorKind::Verification(Verification::MissingHeader)
    );

    // A signed answer on a download path is still checked.
    mock.on(
        "GET",
        "/v3/billdownload/file",
        Reply::status(200).body(bill).fault(Fault::BadSignature),
    );
    let err = client["v3/billdownload/file"].get(()).expect_err("forged");
    assert_eq!(err.kind(), ErrorKind::Verification(Verification::Signature));
    // Errors on download paths are API errors as usual.
    mock.on(
        "GET",
        "/v3/billdownload/file",
        Reply::error(400, "INVALID_REQUEST", "token expired").unsigned(),
    );
    let err = client["v3/billdownload/file"].get(()).expect_err("400");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.code(), Some("INVALID_REQUEST"));
}

#[test]
fn the_mock_rejects_a_foreign_signer() {
    // A client whose key does not match the merchant certificate: the mock says SIGN_ERROR
    // (401), which is an API error whose message comes from the mock's check.
    let (mock, _) = mock_and_client();
    let foreign = wechatpay::PrivateKey::from_pem(wechatpay::mock::PLATFORM_KEY_PEM).unwrap();
    let client = mock.client_builder().private_key(foreign).build().unwrap();
    let err = client["v3/certificates"].get(()).expect_err("401");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(err.code(), Some("SIGN_ERROR"));
    assert!(mock.requests()[0].verdict.is_err());
}
