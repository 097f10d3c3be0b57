//! Options decoded once: unknown keys, Guzzle options, misspelled path variables and the
//! per-request connect timeout, each refused (or honoured) before anything is sent.

use std::time::{Duration, Instant};

use serde_json::json;
use wechatpay::ErrorKind;

use crate::common::{OUT_ORDER_NO, TEMPLATE, mock_and_client, prepaid_body, prepaid_mock};

#[test]
fn a_typo_is_refused_with_the_nearest_name_and_nothing_is_sent() {
    let (mock, client) = prepaid_mock();
    let error = client[TEMPLATE]
        .post(json!({"out_order_no": OUT_ORDER_NO, "jsno": prepaid_body()}))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    let text = error.to_string();
    assert!(text.contains("unknown option `jsno`"), "{text}");
    assert!(text.contains("did you mean `json`?"), "{text}");
    assert!(text.contains("nothing was sent"), "{text}");
    assert!(mock.requests().is_empty(), "the mock received a request");
}

#[test]
fn a_misspelled_variable_suggests_the_variable() {
    let (mock, client) = mock_and_client();
    let error = client["v3/pay/transactions/id/{transaction_id}"]
        .get(json!({"transaction_id": "42", "transacton_id": "43"}))
        .unwrap_err();
    assert!(
        error.to_string().contains("did you mean `transaction_id`?"),
        "{error}"
    );
    assert!(mock.requests().is_empty());
}

#[test]
fn guzzle_options_without_a_meaning_are_refused_with_a_sentence() {
    let (mock, client) = mock_and_client();
    for (option, value, advice) in [
        ("debug", json!(true), "Chain::build_request"),
        ("verify", json!(false), "always verified"),
        (
            "proxy",
            json!("http://127.0.0.1:3128"),
            "ClientBuilder::proxy",
        ),
        ("handler", json!("stack"), "ClientBuilder::transport"),
        ("http_errors", json!(false), "ErrorKind::Api"),
        ("allow_redirects", json!(true), "never redirects"),
        ("cert", json!("apiclient_cert.pem"), "merchant_identity"),
    ] {
        let error = client["v3/certificates"].get_async(json!({ option: value }));
        let error = futures::executor::block_on(error).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{option}");
        let text = error.to_string();
        assert!(
            text.contains(&format!("Guzzle option `{option}`")),
            "{text}"
        );
        assert!(text.contains(advice), "{option}: {text}");
    }
    assert!(mock.requests().is_empty());
}

#[test]
fn a_missing_variable_names_the_likely_misspelling() {
    let (mock, client) = mock_and_client();
    let error = client["v3/offlinefacemch/organizations/{organization_id}/users/user-id/{user_id}/terminate-contract"]
        .post(json!({"organization_id": "Tvbb4cbaX6da1", "use_id": "U1"}))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MissingPathVariable);
    assert_eq!(error.variables(), ["user_id"]);
    assert!(
        error.to_string().contains("`use_id` for `user_id`"),
        "{error}"
    );
    assert!(mock.requests().is_empty());
}

#[test]
fn guzzle_options_with_a_meaning_map_to_it() {
    let (mock, client) = mock_and_client();
    mock.on(
        "GET",
        "/v3/certificates",
        wechatpay::mock::Reply::json(200, json!({"data": []})),
    );
    let response = client["v3/certificates"]
        .get(json!({
            "timeout": 5,
            "connect_timeout": 2.5,
            "headers": {"X-Trace": "t1"},
            "query": {"algorithm_type": "RSA"},
        }))
        .unwrap();
    assert_eq!(response.status(), 200);
    let sent = &mock.requests()[0];
    assert_eq!(sent.target, "/v3/certificates?algorithm_type=RSA");
    assert_eq!(sent.header("x-trace"), Some("t1"));
}

#[test]
fn the_connect_timeout_option_covers_the_tls_handshake() {
    // A server that accepts TCP connections and never speaks TLS.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _keep = std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(10));
        drop(held);
    });
    let (_mock, client) = mock_and_client();
    let started = Instant::now();
    let error = client["v3/certificates"]
        .get(json!({
            "base_uri": format!("https://127.0.0.1:{port}/"),
            "connect_timeout": 0.3,
        }))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{error}");
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert!(error.is_connect(), "nothing was sent: {error:?}");
}
