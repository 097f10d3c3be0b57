//! Bounded memory: the sandbox's request log and the plain mock's recorded requests keep the
//! newest entries within a byte budget (8 MiB for the log, 16 MiB for the mock), so 10,000
//! requests of 100 KB leave a sandbox process under 64 MiB resident.

use std::io::Write;

use futures::StreamExt;
use serde_json::json;
use wechatpay::mock::{MockServer, Reply};
use wechatpay::sandbox::Sandbox;

use crate::common::{child_report, peak_rss_kib};

const CHILD: &str = "WECHATPAY_SANDBOX_MEMORY_CHILD";

/// A body of 100 KB, not JSON (so that nothing is parsed beyond its first byte).
fn large_body() -> String {
    "x".repeat(100 * 1024)
}

#[test]
#[ignore = "run by sandbox_memory::ten_thousand_requests_of_100_kb_stay_under_64_mib, in a process of its own"]
fn ten_thousand_large_requests_child() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let body = large_body();
    let answered = runtime.block_on(
        futures::stream::iter(0..10_000)
            .map(|_| client["v3/sandbox-memory/upload"].post_async(json!({"body": body.clone()})))
            .buffer_unordered(8)
            .filter(|answer| {
                futures::future::ready(
                    answer.as_ref().err().and_then(|e| e.code()) == Some("NOT_FOUND"),
                )
            })
            .count(),
    );
    assert_eq!(
        answered, 10_000,
        "every request was answered WeChat Pay's 404"
    );
    let log = sandbox
        .control(
            "GET",
            "requests?summary=true&limit=1000",
            serde_json::Value::Null,
        )
        .unwrap();
    let kept = log["data"].as_array().unwrap().len();
    assert!(kept < 100, "the log keeps 8 MiB: {kept} entries");
    assert!(
        log["dropped"].as_u64().unwrap() > 9_900,
        "{}",
        log["dropped"]
    );
    println!("\n{CHILD} {}", peak_rss_kib().unwrap_or(0));
}

#[test]
fn ten_thousand_requests_of_100_kb_stay_under_64_mib() {
    if peak_rss_kib().is_none() {
        return; // no /proc (not Linux): nothing to measure with
    }
    let peak: u64 = child_report(
        "sandbox_memory::ten_thousand_large_requests_child",
        CHILD,
        &[(CHILD, "1")],
        &[],
    )
    .parse()
    .expect("the child reports its peak in KiB");
    let _ = writeln!(
        std::io::stderr(),
        "memory: a sandbox after 10,000 requests of 100 KB peaks at {peak} kB resident"
    );
    assert!(peak > 0 && peak < 64 * 1024, "peak RSS {peak} kB");
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
