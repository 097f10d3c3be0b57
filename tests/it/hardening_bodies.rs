//! Hardening, round two: bodies. A bill's digest over a body in memory is computed off the
//! executor and within the request's timeout; a gzip bill decompresses within bounds (a gzip
//! bomb is refused, not expanded); a streamed download can be capped; a bill written to a
//! file is `0600`. Each test failed before the fix it guards.

use std::future::Future;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde_json::json;
use wechatpay::mock::Reply;
use wechatpay::{ErrorKind, Options};

use crate::common::mock_and_client;

const FILE: &str = "/v3/billdownload/file";
const NO_DIGEST: &str = "0000000000000000000000000000000000000000";

/// A gzip bomb: `members` gzip members of 16 MiB of zeros each (about 16 KiB apiece).
fn gzip_bomb(members: usize) -> Vec<u8> {
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..16 {
        member.write_all(&zeros).unwrap();
    }
    let member = member.finish().unwrap();
    member.repeat(members)
}

/// A future, and the longest any one of its polls took.
struct TimedPolls<F> {
    inner: Pin<Box<F>>,
    longest: Duration,
}

impl<F: Future> Future for TimedPolls<F> {
    type Output = (F::Output, Duration);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let start = Instant::now();
        let polled = self.inner.as_mut().poll(cx);
        self.longest = self.longest.max(start.elapsed());
        polled.map(|output| (output, self.longest))
    }
}

#[test]
fn a_gzip_bomb_does_not_stall_the_executor() {
    let (mock, client) = mock_and_client();
    // 256 KiB that would decompress to 256 MiB.
    let bomb = gzip_bomb(16);
    assert!(bomb.len() < 300 << 10, "{}", bomb.len());
    mock.on("GET", FILE, Reply::status(200).body(bomb).unsigned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (result, longest) = runtime.block_on(TimedPolls {
        inner: Box::pin(
            client["v3/billdownload/file"].get_async(
                Options::new()
                    .query(json!({"token": "T0K3N"}))
                    .expect_digest("SHA1", NO_DIGEST),
            ),
        ),
        longest: Duration::ZERO,
    });
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
    assert!(error.to_string().contains("gzip bomb"), "{error}");
    // The check ran on a blocking thread: no poll of the request held the executor for it
    // (it took seconds inside `poll` before).
    assert!(longest < Duration::from_secs(1), "a poll took {longest:?}");

    // Streamed into a sink, the same bound.
    let directory = std::env::temp_dir().join(format!(
        "wechatpay-hardening-bodies-{}",
        wechatpay::toolkit::nonce(16).unwrap()
    ));
    std::fs::create_dir(&directory).unwrap();
    let path = directory.join("bill.csv.gz");
    let error = client["v3/billdownload/file"]
        .get(
            Options::new()
                .query(json!({"token": "T0K3N"}))
                .sink(&path)
                .expect_digest("SHA1", NO_DIGEST),
        )
        .unwrap_err();
    assert!(error.to_string().contains("gzip bomb"), "{error}");
    assert_eq!(
        std::fs::read_dir(&directory).unwrap().count(),
        0,
        "nothing kept"
    );
    std::fs::remove_dir_all(&directory).unwrap();

    // A real bill, compressed as WeChat Pay does, still checks.
    let bill = "交易时间,公众账号ID\r\n`2019-06-11 10:00:00,`wx1\r\n".repeat(1000);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(bill.as_bytes()).unwrap();
    let gzipped = gzip.finish().unwrap();
    mock.on("GET", FILE, Reply::status(200).body(gzipped).unsigned());
    let sha1 = wechatpay::toolkit::sha1_hex(bill.as_bytes());
    client["v3/billdownload/file"]
        .get(
            Options::new()
                .query(json!({"token": "T0K3N"}))
                .expect_digest("SHA1", &sha1),
        )
        .expect("the digest matches");
}

#[test]
fn a_streamed_download_can_be_capped() {
    let (mock, client) = mock_and_client();
    let bill = vec![b'x'; 100_000];
    mock.on(
        "GET",
        FILE,
        Reply::status(200).body(bill.clone()).unsigned(),
    );
    let directory = std::env::temp_dir().join(format!(
        "wechatpay-hardening-cap-{}",
        wechatpay::toolkit::nonce(16).unwrap()
    ));
    std::fs::create_dir(&directory).unwrap();
    let path = directory.join("bill.csv");
    let get = |options: Options| {
        client["v3/billdownload/file"].get(options.query(json!({"token": "T0K3N"})))
    };

    let error = get(Options::new().sink(&path).max_sink_size(10_000)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(error.to_string().contains("max_sink_size"), "{error}");
    assert_eq!(
        std::fs::read_dir(&directory).unwrap().count(),
        0,
        "nothing kept"
    );

    let response = get(Options::new().sink(&path).max_sink_size(100_000)).expect("at the cap");
    assert_eq!(response.streamed().map(|s| s.bytes), Some(100_000));
    assert_eq!(std::fs::read(&path).unwrap(), bill);
    // Bills are the merchant's business: readable by their owner only.
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);

    // A writer sink is capped the same way; a cap without a sink is a mistake.
    let error = get(Options::new().sink_to(Vec::new()).max_sink_size(99_999)).unwrap_err();
    assert!(error.to_string().contains("max_sink_size"), "{error}");
    let error = get(Options::new().max_sink_size(1)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{error}");
    std::fs::remove_dir_all(&directory).unwrap();
}
