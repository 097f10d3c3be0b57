//! A fresh process's first signature: with the `aws-lc` backend it is ring's, made while
//! aws-lc seeds its random generator on a thread of its own (src/crypto/warm_up.rs); the
//! mock must accept it as it accepts aws-lc's. The check runs in a process of its own (this
//! test binary, run again for one ignored test), since every other test here has signed
//! already.

use std::process::Command;

use serde_json::json;
use wechatpay::mock::{MockServer, Reply};

/// Set for the child process only.
const CHILD: &str = "WECHATPAY_TEST_FIRST_SIGNATURE";

#[test]
fn a_fresh_processs_first_signed_call_is_accepted() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let output = Command::new(exe)
        .args([
            "first_signature::first_signed_call",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs itself");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "run in a process of its own by a_fresh_processs_first_signed_call_is_accepted"]
fn first_signed_call() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let mock = MockServer::start().expect("the mock starts");
    let path = "/v3/pay/transactions/out-trade-no/1217752501201407033233368018";
    mock.on(
        "GET",
        path,
        Reply::json(200, json!({ "trade_state": "SUCCESS" })),
    );
    let client = mock.client_builder().build().expect("the client builds");
    // Signed by the client (the process's first signature), checked by the mock, answered
    // and signed by the mock, verified by the client.
    let answer = client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({ "out_trade_no": "1217752501201407033233368018" }))
        .expect("the mock accepts the first signature");
    assert_eq!(answer.status(), 200);
}
