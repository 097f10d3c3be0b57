//! Asynchronous signing: an `AsyncSigner` is awaited by the request future, so requests in
//! flight wait for their signatures together (sixteen on one thread: the signer sees all
//! sixteen calls at once); every try is signed by it, and the synchronous helpers still work.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::{AsyncSigner, PrivateKey};

use crate::common::{PREPAID_PATH, TEMPLATE, prepaid_options};

/// The mock merchant key behind a signer that takes 50 ms, counting the calls in flight.
#[derive(Clone)]
struct Slow {
    key: PrivateKey,
    in_flight: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

impl Slow {
    fn new() -> Self {
        Self {
            key: mock::merchant_private_key(),
            in_flight: Arc::default(),
            most: Arc::default(),
            calls: Arc::default(),
        }
    }
}

impl AsyncSigner for Slow {
    fn sign_async(&self, message: Vec<u8>) -> BoxFuture<'static, wechatpay::Result<Vec<u8>>> {
        let this = self.clone();
        Box::pin(async move {
            this.calls.fetch_add(1, Ordering::SeqCst);
            let now = this.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            this.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            this.in_flight.fetch_sub(1, Ordering::SeqCst);
            this.key.sign(&message)
        })
    }
}

#[test]
fn sixteen_requests_on_one_thread_wait_for_their_signatures_together() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let signer = Slow::new();
    let client = mock
        .client_builder()
        .async_signer(signer.clone())
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers = runtime.block_on(futures::future::join_all(
        (0..16).map(|_| client[TEMPLATE].post_async(prepaid_options())),
    ));
    assert!(
        answers
            .iter()
            .all(|answer| answer.as_ref().is_ok_and(|r| r.status() == 204))
    );
    assert_eq!(signer.calls.load(Ordering::SeqCst), 16);
    assert_eq!(
        signer.most.load(Ordering::SeqCst),
        16,
        "all sixteen signatures in flight at once"
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 16);
    assert!(
        requests.iter().all(|r| r.verdict.is_ok()),
        "the mock accepts them"
    );
}

#[test]
fn every_try_is_signed_by_the_async_signer_and_the_blocking_verbs_work() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock.once(
        "POST",
        PREPAID_PATH,
        Reply::error(429, "FREQUENCY_LIMITED", "slow down"),
    );
    let signer = Slow::new();
    let client = Client::builder_for(&mock)
        .async_signer(signer.clone())
        .build()
        .unwrap();
    client[TEMPLATE].post(prepaid_options()).unwrap();
    assert_eq!(
        signer.calls.load(Ordering::SeqCst),
        2,
        "signed afresh for the second try"
    );
    assert!(mock.requests().iter().all(|r| r.verdict.is_ok()));

    // What must be signed at once waits for the async signer (no private key given).
    let params = client
        .jsapi_params("wxd678efh567hg6787", "wx201410272009395522657a690389285100")
        .unwrap();
    assert_eq!(signer.calls.load(Ordering::SeqCst), 3);
    let _ = params;
}

/// The mock's builder without the merchant private key.
struct Client;

impl Client {
    fn builder_for(mock: &MockServer) -> wechatpay::ClientBuilder {
        wechatpay::Client::builder()
            .mchid(mock::MCHID)
            .serial(mock::MERCHANT_SERIAL)
            .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
            .base_uri(&mock.uri())
            .no_proxy()
    }
}
