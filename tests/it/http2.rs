//! HTTP/2 over TLS, observed: an exchange over `h2` (the mock records each request's
//! version), a stream refused with `REFUSED_STREAM` or left out by a `GOAWAY` is sent again
//! (it was not processed, whatever the verb), and a stream reset after the server began
//! processing it is not.

use http::Version;
use wechatpay::mock::{Fault, MockServer, Reply};

use crate::common::{PREPAID_PATH, TEMPLATE, prepaid_options};

#[test]
fn an_exchange_over_tls_speaks_http2() {
    let mock = MockServer::start().unwrap();
    let h2 = mock.start_h2().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let client = mock.client_builder().base_uri(&h2.uri()).build().unwrap();

    let response = client[TEMPLATE].post(prepaid_options()).unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(response.verified_by(), wechatpay::mock::PLATFORM_KEY_ID);
    let requests = mock.requests();
    assert_eq!(requests[0].version, Version::HTTP_2);
    assert_eq!(requests[0].verdict, Ok(()));

    // The plain port speaks HTTP/1.1.
    let plain = mock.client_builder().build().unwrap();
    plain[TEMPLATE].post(prepaid_options()).unwrap();
    assert_eq!(mock.requests()[1].version, Version::HTTP_11);
}

#[test]
fn a_post_refused_with_refused_stream_is_sent_again_and_succeeds() {
    let mock = MockServer::start().unwrap();
    let h2 = mock.start_h2().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock.once(
        "POST",
        PREPAID_PATH,
        Reply::status(204).fault(Fault::RefusedStream),
    );
    let client = mock.client_builder().base_uri(&h2.uri()).build().unwrap();

    let response = client[TEMPLATE]
        .post(prepaid_options())
        .expect("sent again");
    assert_eq!(response.status(), 204);
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "refused once, then answered");
    assert_ne!(
        requests[0].header("authorization"),
        requests[1].header("authorization"),
        "signed afresh"
    );
}

#[test]
fn a_post_left_out_by_a_goaway_is_sent_again_and_succeeds() {
    let mock = MockServer::start().unwrap();
    let h2 = mock.start_h2().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    h2.go_away_before_streams(1);
    let client = mock.client_builder().base_uri(&h2.uri()).build().unwrap();

    let response = client[TEMPLATE]
        .post(prepaid_options())
        .expect("sent again");
    assert_eq!(response.status(), 204);
    assert_eq!(
        mock.requests().len(),
        1,
        "the left-out stream was never processed"
    );
}

#[test]
fn a_post_reset_after_processing_began_is_not_sent_again() {
    let mock = MockServer::start().unwrap();
    let h2 = mock.start_h2().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock.once("POST", PREPAID_PATH, Reply::status(204).fault(Fault::Reset));
    let client = mock.client_builder().base_uri(&h2.uri()).build().unwrap();

    let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
    assert_eq!(
        mock.requests().len(),
        1,
        "a POST that may have been processed"
    );
    assert!(!error.is_connect(), "{error}");
    assert!(error.to_string().contains("not sent again"), "{error}");
}
