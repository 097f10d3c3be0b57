//! Bounded memory: the sandbox's request log and the plain mock's recorded requests keep the
//! newest entries within a byte budget (8 MiB for the log, 16 MiB for the mock) whatever comes
//! in. (What that means for a process's resident size after 10,000 requests of 100 KB is
//! measured by `benches/sandbox.rs`, BENCHMARKS.md "Sandbox".)

use serde_json::json;
use wechatpay::mock::{MockServer, Reply};
use wechatpay::sandbox::Sandbox;

/// A body of 100 KB, not JSON (so that nothing is parsed beyond its first byte).
fn large_body() -> String {
    "x".repeat(100 * 1024)
}

#[test]
fn the_sandbox_log_keeps_the_newest_requests_within_8_mib() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let body = large_body();
    // 11 MiB of bodies through an 8 MiB log.
    for _ in 0..110 {
        let answer = client["v3/sandbox-memory/upload"]
            .post(json!({"body": body.clone()}))
            .unwrap_err();
        assert_eq!(answer.code(), Some("NOT_FOUND"), "{answer}");
    }
    let log = sandbox
        .control(
            "GET",
            "requests?summary=true&limit=1000",
            serde_json::Value::Null,
        )
        .unwrap();
    let kept = log["data"].as_array().unwrap().len();
    assert!(kept < 100, "the log keeps 8 MiB: {kept} entries");
    assert!(kept > 10, "the newest are kept: {kept} entries");
    assert_eq!(log["dropped"].as_u64().unwrap(), 110 - kept as u64);
}

#[test]
fn the_mock_keeps_the_newest_requests_within_16_mib() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", "/v3/sandbox-memory/upload", Reply::status(204));
    let client = mock.client_builder().build().unwrap();
    let body = large_body();
    for _ in 0..400 {
        client["v3/sandbox-memory/upload"]
            .post(json!({"body": body.clone()}))
            .unwrap();
    }
    let kept = mock.requests();
    let bytes: usize = kept.iter().map(|request| request.body.len()).sum();
    assert!(kept.len() < 200, "older ones dropped: {}", kept.len());
    assert!(kept.len() > 100, "the newest kept: {}", kept.len());
    assert!(bytes <= 16 << 20, "{bytes} bytes kept");
    assert_eq!(kept.last().unwrap().body.len(), body.len());
}
