//! The transport seam: what a transport of one's own is told ([`SendOptions`]), and that a
//! request's I/O on the runtime thread stops when its future is dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::json;
use wechatpay::mock;
use wechatpay::transport::{Reading, SendOptions, Transport};
use wechatpay::{Client, Options};

use crate::common::{TEMPLATE, prepaid_options};

/// Keeps the options of every request and answers `500` (nothing to verify).
#[derive(Clone, Default)]
struct Told(Arc<Mutex<Vec<SendOptions>>>);

impl Told {
    fn last(&self) -> SendOptions {
        self.0
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request was sent")
    }
}

impl Transport for Told {
    fn send(
        &self,
        _request: http::Request<Bytes>,
        options: SendOptions,
    ) -> BoxFuture<'static, wechatpay::Result<http::Response<Bytes>>> {
        self.0.lock().unwrap().push(options);
        let mut response = http::Response::new(Bytes::from_static(b"{}"));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        Box::pin(async move { Ok(response) })
    }
}

fn client(transport: impl Transport) -> Client {
    mock::client_builder("https://api.mch.weixin.qq.com/")
        .transport(transport)
        .read_timeout(Duration::from_secs(7))
        .max_response_size(1000)
        .retry_policy(wechatpay::resilience::RetryPolicy::none())
        .build()
        .expect("the client builds")
}

fn signed() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "Wechatpay-Signature",
        HeaderValue::from_static("c2lnbmF0dXJl"),
    );
    headers
}

#[test]
fn a_transport_is_told_how_to_send_and_how_much_to_read() {
    let told = Told::default();
    let client = client(told.clone());

    let _ = client[TEMPLATE].post(Options::from(prepaid_options()).timeout(Duration::from_secs(9)));
    let options = told.last();
    assert!(!options.mutual_tls);
    assert_eq!(options.read_timeout, Duration::from_secs(7));
    assert_eq!(options.connect_timeout, None, "the transport's own");
    assert!(options.deadline.is_some(), "the request has a timeout");
    // A signed success: whole, up to max_response_size.
    assert!(matches!(
        options.reading(StatusCode::OK, &signed()),
        Reading::Whole(1000)
    ));
    // An error status, or a success without its signature: an error whatever the rest says,
    // so only a prefix (of at most max_response_size, and one byte to tell a cut body).
    for (status, headers) in [
        (StatusCode::BAD_REQUEST, signed()),
        (StatusCode::OK, HeaderMap::new()),
    ] {
        match options.reading(status, &headers) {
            Reading::Prefix(len) => assert!(len <= 1001, "{len}"),
            other => panic!("{status}: {other:?}"),
        }
    }

    // `connect_timeout` per request, `0` for no limit; no total limit, no deadline.
    let mut with_limits = prepaid_options();
    with_limits["connect_timeout"] = json!(2);
    with_limits["timeout"] = json!(0);
    let _ = client[TEMPLATE].post(with_limits.clone());
    let options = told.last();
    assert_eq!(options.connect_timeout, Some(Duration::from_secs(2)));
    assert_eq!(options.deadline, None);
    with_limits["connect_timeout"] = json!(0);
    let _ = client[TEMPLATE].post(with_limits);
    assert_eq!(told.last().connect_timeout, Some(Duration::MAX));
}

#[test]
fn an_unsigned_download_with_a_sink_streams_and_nothing_else_does() {
    let told = Told::default();
    let client = client(told.clone());
    let sink = std::env::temp_dir().join(format!("wechatpay-seam-{}.csv", std::process::id()));
    let download = Options::new()
        .query(json!({"token": "6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA"}))
        .sink(&sink);
    let _ = client["v3/billdownload/file"].get(download.clone());
    let options = told.last();
    // Signed: read whole (and verified before it is written).
    assert!(matches!(
        options.reading(StatusCode::OK, &signed()),
        Reading::Whole(_)
    ));
    // Unsigned: into the sink, once.
    assert!(matches!(
        options.reading(StatusCode::OK, &HeaderMap::new()),
        Reading::Stream(_)
    ));
    assert!(matches!(
        options.reading(StatusCode::OK, &HeaderMap::new()),
        Reading::Whole(_)
    ));

    // The same download without a sink, and a signed call with one: nothing streams.
    let _ = client["v3/billdownload/file"].get(Options::new().query(json!({"token": "t"})));
    assert!(matches!(
        told.last().reading(StatusCode::OK, &HeaderMap::new()),
        Reading::Whole(_)
    ));
    let _ = client[TEMPLATE].post(Options::from(prepaid_options()).sink(&sink));
    assert!(matches!(
        told.last().reading(StatusCode::OK, &HeaderMap::new()),
        Reading::Prefix(_)
    ));
    assert!(!sink.exists(), "nothing was written");
}

/// A transport whose answer never comes, and which notes when it was asked and when its
/// exchange is dropped.
#[derive(Clone, Default)]
struct Silent {
    sent: Arc<AtomicBool>,
    dropped: Arc<AtomicBool>,
}

struct NotesDrop(Arc<AtomicBool>);

impl Drop for NotesDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Transport for Silent {
    fn send(
        &self,
        _request: http::Request<Bytes>,
        _options: SendOptions,
    ) -> BoxFuture<'static, wechatpay::Result<http::Response<Bytes>>> {
        self.sent.store(true, Ordering::SeqCst);
        let dropped = NotesDrop(self.dropped.clone());
        Box::pin(async move {
            let _dropped = dropped;
            futures::future::pending().await
        })
    }
}

#[test]
fn dropping_a_future_stops_its_exchange_on_the_runtime_thread() {
    let silent = Silent::default();
    let client = client(silent.clone());
    // Polled outside any tokio runtime: the exchange runs as a task on the runtime thread.
    let mut future = Box::pin(client[TEMPLATE].post_async(prepaid_options()));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(future.as_mut().poll(&mut context).is_pending());
    let waited = |flag: &AtomicBool| {
        (0..1000).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            flag.load(Ordering::SeqCst)
        })
    };
    assert!(waited(&silent.sent), "the exchange started");
    assert!(!silent.dropped.load(Ordering::SeqCst));
    drop(future);
    // The task is aborted: its transport future is dropped on the runtime thread.
    assert!(
        waited(&silent.dropped),
        "the exchange still runs after its future was dropped"
    );
}
