//! Hardening: what a hostile server, a careless caller or a log reader cannot get through.
//! Each test here failed before the fix it guards.

use std::io::Write;
use std::time::{Duration, Instant};

use http::Method;
use serde_json::{Value, json};
use wechatpay::mock::{self, Fault, MockServer, Reply};
use wechatpay::resilience::RetryPolicy;
use wechatpay::{ErrorKind, Options, Verification};

use crate::common::{CannedTransport, child_report, mock_and_client, peak_rss_kib};

const STATEMENTS: &str = "/v3/global/statements";

#[test]
fn a_statement_counts_only_when_its_body_has_the_signed_sha1() -> wechatpay::Result<()> {
    let (mock, client) = mock_and_client();
    let statement = json!({"statements": [{"date": "2026-01-01", "amount": 100}]});
    mock.once("GET", STATEMENTS, Reply::json(200, statement.clone()));
    let response = client["v3/global/statements"].get(())?;
    assert!(response.is_verified());
    assert!(response.headers().contains_key("wechatpay-statement-sha1"));
    assert_eq!(response.json::<Value>()?, statement);

    for fault in [Fault::StatementSha1Mismatch, Fault::TamperedBody] {
        mock.once(
            "GET",
            STATEMENTS,
            Reply::json(200, statement.clone()).fault(fault),
        );
        let error = client["v3/global/statements"].get(()).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Verification(Verification::Signature),
            "{fault:?}: {error}"
        );
        assert!(error.to_string().contains("Statement-Sha1"), "{error}");
    }
    // The Hong Kong path too.
    mock.once(
        "GET",
        "/hk/v3/statements",
        Reply::json(200, statement).fault(Fault::TamperedBody),
    );
    let error = client["v3/statements"]
        .get(json!({"base_uri": format!("{}hk/", mock.uri())}))
        .unwrap_err();
    assert!(error.is_verification(), "{error}");
    Ok(())
}

#[test]
fn only_the_rsa_signature_type_is_accepted() -> wechatpay::Result<()> {
    let (mock, client) = mock_and_client();
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::json(200, json!({"data": []})).fault(Fault::WrongSignatureType),
    );
    let error = client["v3/certificates"].get(()).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::Signature)
    );
    assert!(error.to_string().contains("Signature-Type"), "{error}");

    let plaintext = json!({"out_trade_no": "T1"});
    for (fault, step) in [
        (Fault::WrongSignatureType, Verification::Signature),
        (Fault::FutureTimestamp, Verification::Timestamp),
    ] {
        let (headers, body) = mock.notification_with(
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            "transaction",
            &plaintext,
            Some(fault),
        )?;
        let error = client.verify_notification(&headers, &body).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Verification(step), "{fault:?}");
    }
    // Without the header (WeChat Pay does not always send it), the answer still counts.
    let (mut headers, body) = mock.notification(
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
        "transaction",
        &plaintext,
    )?;
    headers.remove("wechatpay-signature-type");
    client.verify_notification(&headers, &body)?;
    Ok(())
}

#[test]
fn path_values_never_move_the_request() {
    let (mock, client) = mock_and_client();
    for value in ["..", ".", "../../v3/refund/domestic/refunds"] {
        let result = client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
            .get(json!({"out_trade_no": value, "query": {"mchid": mock::MCHID}}));
        match value {
            // Encoded: `..%2F..%2Fv3…` stays one segment.
            "../../v3/refund/domestic/refunds" => {
                let error = result.unwrap_err();
                assert_eq!(error.status().map(|s| s.as_u16()), Some(404), "{error}");
                assert_eq!(
                    mock.take_requests()[0].path(),
                    "/v3/pay/transactions/out-trade-no/..%2F..%2Fv3%2Frefund%2Fdomestic%2Frefunds"
                );
            }
            _ => {
                let error = result.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{value}: {error}");
                assert!(error.to_string().contains("out_trade_no"), "{error}");
            }
        }
    }
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[test]
fn base_uris_hold_no_user_info_and_plain_http_stays_local() {
    let mock = MockServer::start().unwrap();
    for bad in [
        "https://user:pass@api.mch.weixin.qq.com/",
        "https://api.mch.weixin.qq.com@evil.example/",
    ] {
        let error = mock.client_builder().base_uri(bad).build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{bad}");
        assert!(!error.to_string().contains("pass@"), "{error}");
        let error = mock
            .client_builder()
            .build()
            .unwrap()
            .chain("v3/certificates")
            .get(json!({"base_uri": bad}))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{bad}");
    }

    let error = mock
        .client_builder()
        .base_uri("http://api.mch.weixin.qq.com/")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains("danger_allow_http"), "{error}");

    let client = mock.client_builder().build().unwrap();
    for remote in [
        json!({"base_uri": "http://api.mch.weixin.qq.com/"}),
        json!({"base_uri": "http://localhost.evil.example/"}),
    ] {
        let error = client["v3/certificates"].get(remote).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    }
    let error = client["http://api.mch.weixin.qq.com/v3/certificates"]
        .get(())
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(mock.requests().is_empty(), "nothing was sent");

    // Allowed on purpose: the request is built for the remote host.
    let client = mock
        .client_builder()
        .base_uri("http://api.mch.weixin.qq.com/")
        .danger_allow_http()
        .build()
        .unwrap();
    let request = client["v3/certificates"]
        .build_request(Method::GET, (), 1_554_208_460, "nonce")
        .unwrap();
    assert_eq!(
        request.uri(),
        "http://api.mch.weixin.qq.com/v3/certificates"
    );
}

#[test]
fn debug_output_shows_sizes_and_names_not_values() {
    let (mock, client) = mock_and_client();
    let secret_body = json!({"openid": "o-secret-openid", "trade_state": "SUCCESS"});
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::json(200, secret_body.clone()).header("X-Secret-Header", "header-value-42"),
    );
    let response = client["v3/certificates"].get(()).unwrap();
    let debug = format!("{response:?}");
    assert!(!debug.contains("o-secret-openid"), "{debug}");
    assert!(!debug.contains("header-value-42"), "{debug}");
    assert!(debug.contains("x-secret-header"), "{debug}");
    assert!(
        debug.contains(&format!("{} bytes", response.bytes().len())),
        "{debug}"
    );

    mock.once(
        "GET",
        "/v3/certificates",
        Reply::error(400, "PARAM_ERROR", "openid o-secret-openid is invalid")
            .header("X-Secret-Header", "header-value-42"),
    );
    let error = client["v3/certificates"].get(()).unwrap_err();
    let response = error.response().expect("the answer");
    for debug in [format!("{response:?}"), format!("{error:?}")] {
        assert!(!debug.contains("o-secret-openid"), "{debug}");
        assert!(!debug.contains("header-value-42"), "{debug}");
    }

    let options = Options::from(json!({
        "out_trade_no": "T1",
        "json": {"openid": "o-secret-openid"},
        "headers": {"Idempotency-Key": "header-value-42"},
    }))
    .body("raw-secret-body");
    let debug = format!("{options:?}");
    for hidden in [
        "o-secret-openid",
        "header-value-42",
        "raw-secret-body",
        "T1",
    ] {
        assert!(!debug.contains(hidden), "{hidden} in {debug}");
    }
    for shown in ["json", "Idempotency-Key", "out_trade_no", "15 bytes"] {
        assert!(debug.contains(shown), "{shown} not in {debug}");
    }
}

#[test]
fn server_text_cannot_forge_log_lines() {
    let (mock, client) = mock_and_client();
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::error(
            400,
            "PARAM_ERROR\nINFO forged",
            "bad\r\nINFO payment 42 succeeded\u{1b}[2K",
        ),
    );
    let error = client["v3/certificates"].get(()).unwrap_err();
    let display = error.to_string();
    assert!(!display.chars().any(char::is_control), "{display:?}");
    assert!(display.contains(r"bad\r\nINFO payment"), "{display}");
    assert_eq!(
        error.code(),
        Some("PARAM_ERROR\nINFO forged"),
        "the raw code is kept"
    );

    mock.once(
        "GET",
        "/v2/pay/orderquery",
        Reply::xml(
            200,
            json!({"return_code": "FAIL", "return_msg": "no\nINFO forged"}),
        ),
    );
    let error = client["v2/pay/orderquery"]
        .get(json!({"xml": {"mch_id": mock::MCHID}}))
        .unwrap_err();
    assert!(!error.to_string().chars().any(char::is_control), "{error}");
    let _ = mock;
}

#[test]
fn decrypted_plaintext_comes_back_zeroizing() -> wechatpay::Result<()> {
    let (mock, client) = mock_and_client();
    let (headers, body) = mock.notification(
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
        "transaction",
        &json!({"out_trade_no": "T1"}),
    )?;
    let notification = client.verify_notification(&headers, &body)?;
    // A buffer that is overwritten with zeros when dropped.
    let plaintext: zeroize::Zeroizing<Vec<u8>> = notification.decrypt_raw()?;
    assert_eq!(
        serde_json::from_slice::<Value>(&plaintext).unwrap(),
        json!({"out_trade_no": "T1"})
    );
    Ok(())
}

#[test]
fn no_timeout_still_ends_when_the_server_falls_silent() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::json(200, json!({"data": []})).delay(Duration::from_secs(30)),
    );
    let client = mock
        .client_builder()
        .no_timeout()
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    for options in [json!({}), json!({"timeout": 0})] {
        let started = Instant::now();
        let error = client["v3/certificates"].get(options).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
        assert!(error.to_string().contains("read_timeout"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(20), "it ended");
    }
}

#[test]
fn answer_bodies_are_bounded() {
    let mock = MockServer::start().unwrap();
    // One try each: a GET answered 500 would otherwise be sent again.
    let client = mock
        .client_builder()
        .max_response_size(64 * 1024)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let big = "x".repeat(100 * 1024);
    // A signed success over the limit: refused, whatever its signature says.
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::status(200).body(big.clone()),
    );
    let error = client["v3/certificates"].get(()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(error.to_string().contains("max_response_size"), "{error}");
    // Streamed without a length: counted and cut.
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::status(200).fault(Fault::OversizedBody(10 * 1024 * 1024)),
    );
    let error = client["v3/certificates"].get(()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    // Raised, the same answer is read.
    let roomy = mock
        .client_builder()
        .max_response_size(1024 * 1024)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    mock.once("GET", "/v3/certificates", Reply::status(200).body(big));
    assert_eq!(
        roomy["v3/certificates"].get(()).unwrap().bytes().len(),
        100 * 1024
    );

    // An error answer or an unsigned success is read only as far as the error needs.
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::status(500).fault(Fault::OversizedBody(1 << 30)),
    );
    let error = roomy["v3/certificates"].get(()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api, "{error}");
    assert!(error.to_string().contains("first 65536 bytes"), "{error}");
    assert_eq!(error.response().unwrap().body().len(), 65536);
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::status(200).body("y".repeat(512 * 1024)).unsigned(),
    );
    let error = roomy["v3/certificates"].get(()).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::MissingHeader),
        "{error}"
    );
    assert!(error.to_string().contains("first 65536 bytes"), "{error}");
}

#[test]
fn a_transport_that_ignores_the_limit_is_still_refused() {
    let transport = CannedTransport::signed(200, &"z".repeat(4096), mock::PLATFORM_KEY_ID);
    let client = mock::client_builder("https://api.mch.weixin.qq.com/")
        .transport(transport)
        .max_response_size(1024)
        .build()
        .unwrap();
    let error = client["v3/certificates"].get(()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
}

const RSS_CHILD: &str = "WECHATPAY_RSS_CHILD";

/// Run alone in a child process by [`a_one_gib_answer_is_refused_in_bounded_memory`], which
/// reads its peak resident memory.
#[test]
#[ignore = "run in a child process by a_one_gib_answer_is_refused_in_bounded_memory"]
fn one_gib_answer_child() {
    let mock = MockServer::start().unwrap();
    let client = mock
        .client_builder()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::json(200, json!({"data": []})),
    );
    client["v3/certificates"].get(()).unwrap();
    println!("\nbaseline VmHWM {} kB", peak_rss_kib().unwrap_or(0));
    for status in [200, 500] {
        mock.once(
            "GET",
            "/v3/certificates",
            Reply::status(status).fault(Fault::OversizedBody(1 << 30)),
        );
        let error = client["v3/certificates"].get(()).unwrap_err();
        let expected = if status == 200 {
            ErrorKind::Transport
        } else {
            ErrorKind::Api
        };
        assert_eq!(error.kind(), expected, "{error}");
    }
    println!("\n{RSS_CHILD} {}", peak_rss_kib().unwrap_or(0));
}

#[test]
fn a_one_gib_answer_is_refused_in_bounded_memory() {
    if peak_rss_kib().is_none() {
        return; // no /proc (not Linux): nothing to measure with
    }
    let peak: u64 = child_report(
        "hardening::one_gib_answer_child",
        RSS_CHILD,
        &[(RSS_CHILD, "1")],
        &[],
    )
    .parse()
    .expect("the child reports its peak in KiB");
    let _ = writeln!(
        std::io::stderr(),
        "memory: 1 GiB answers refused with a peak resident memory of {peak} kB"
    );
    assert!(peak > 0 && peak < 64 * 1024, "peak RSS {peak} kB");
}
