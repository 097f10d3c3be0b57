//! The merchant registry: clients built lazily from a source, replaced atomically while
//! requests run, and notifications routed to their merchant's keys by `MerchantNotified`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use futures::StreamExt;
use futures::executor::block_on;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower_service::Service;
use wechatpay::callback::Reply;
use wechatpay::mock::{self, MockServer};
use wechatpay::registry::{MerchantNotified, MerchantRegistry};
use wechatpay::{Client, Error, ErrorKind, PublicKey};

/// The merchant ids of the tests.
fn merchant(i: usize) -> String {
    (1_900_100_000 + i).to_string()
}

/// The WeChat Pay public-key id of merchant `mchid`: each merchant trusts its own.
fn key_id(mchid: &str) -> String {
    format!("PUB_KEY_ID_{mchid}")
}

/// The client of `mchid` in the settings of `version`: its own key id, plus one more per
/// version (as during a migration to a new key), and an APIv3 key of the version.
fn build(uri: &str, mchid: &str, version: u32) -> Client {
    Client::builder()
        .mchid(mchid)
        .serial(&format!("SERIAL{mchid}"))
        .private_key(mock::merchant_private_key())
        .platform_key(&key_id(mchid), mock::platform_public_key())
        .platform_key(
            &format!("{}_V{version}", key_id(mchid)),
            mock::platform_public_key(),
        )
        .apiv3_key(&format!("{mchid}{version:0>22}"))
        .base_uri(uri)
        .no_proxy()
        .build()
        .unwrap()
}

/// The version of the settings a client was built from.
fn version_of(client: &Client) -> u32 {
    let prefix = format!("{}_V", key_id(client.mchid()));
    client
        .platform_keys()
        .ids()
        .find_map(|id| id.strip_prefix(&prefix)?.parse().ok())
        .expect("a versioned key")
}

/// Your database, as the tests play it: merchants and the version of their settings.
#[derive(Clone, Default)]
struct Settings {
    versions: Arc<Mutex<HashMap<String, u32>>>,
    asked: Arc<AtomicUsize>,
}

impl Settings {
    fn registry(&self, uri: &str) -> MerchantRegistry {
        let (settings, uri) = (self.clone(), uri.to_owned());
        MerchantRegistry::new(move |mchid: String| {
            settings.asked.fetch_add(1, Ordering::SeqCst);
            let version = settings.versions.lock().unwrap().get(&mchid).copied();
            let uri = uri.clone();
            async move { Ok(version.map(|version| build(&uri, &mchid, version))) }
        })
    }

    fn set(&self, mchid: &str, version: u32) {
        self.versions
            .lock()
            .unwrap()
            .insert(mchid.to_owned(), version);
    }

    fn added(&self) -> Vec<String> {
        let mut added: Vec<String> = self.versions.lock().unwrap().keys().cloned().collect();
        added.sort();
        added
    }
}

/// A mock that knows merchants `0..count`, each answering `GET /v3/fleet/{mchid}` signed
/// under the merchant's own key id.
fn fleet_mock(count: usize) -> MockServer {
    let mock = MockServer::start().unwrap();
    mock.record_requests(false);
    let public = PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM).unwrap();
    for i in 0..count {
        let mchid = merchant(i);
        mock.add_merchant(&mchid, &format!("SERIAL{mchid}"), public.clone());
        mock.on(
            "GET",
            &format!("/v3/fleet/{mchid}"),
            mock::Reply::json(200, json!({"mchid": mchid}))
                .header("Wechatpay-Serial", &key_id(&mchid)),
        );
    }
    mock
}

#[test]
fn a_hundred_merchants_change_while_a_thousand_requests_run() {
    let mock = fleet_mock(100);
    let settings = Settings::default();
    let registry = settings.registry(&mock.uri());
    settings.set(&merchant(0), 0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // Merchants are added (round 0) and changed twice (rounds 1 and 2): half of the changes
    // put the new client in, half make the next request ask the source again. Each change
    // waits for three more requests to finish, so that the 300 changes are spread over the
    // 1,000 requests.
    let finished = AtomicUsize::new(0);
    let changes = async {
        for round in 0..3u32 {
            for i in 0..100 {
                let step = round as usize * 100 + i;
                while finished.load(Ordering::SeqCst) < step * 3 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                let mchid = merchant(i);
                settings.set(&mchid, round);
                if round > 0 {
                    if i % 2 == 0 {
                        registry.insert(build(&mock.uri(), &mchid, round));
                    } else {
                        registry.invalidate(&mchid);
                    }
                }
            }
        }
    };
    let failures = AtomicUsize::new(0);
    let requests = futures::stream::iter(0..1000usize).for_each_concurrent(50, |n| {
        let (registry, settings, failures, finished) = (&registry, &settings, &failures, &finished);
        async move {
            let added = settings.added();
            let mchid = &added[n * 7919 % added.len()];
            let outcome = async {
                let client = registry.get(mchid).await?.expect("an added merchant");
                assert_eq!(client.mchid(), mchid);
                let answer = client
                    .chain(&format!("v3/fleet/{mchid}"))
                    .get_async(())
                    .await?;
                // Verified with this merchant's own key, and about this merchant.
                assert_eq!(answer.verified_by(), key_id(mchid).as_str());
                assert_eq!(answer.json::<Value>()?["mchid"], mchid.as_str());
                Ok::<_, Error>(())
            };
            if let Err(error) = outcome.await {
                eprintln!("request for {mchid} failed: {error}");
                failures.fetch_add(1, Ordering::SeqCst);
            }
            finished.fetch_add(1, Ordering::SeqCst);
        }
    });
    runtime.block_on(async { tokio::join!(changes, requests) });
    assert_eq!(failures.load(Ordering::SeqCst), 0, "no request fails");

    // Every merchant ends with its latest settings, inserted or read again.
    runtime.block_on(async {
        for i in 0..100 {
            let client = registry.get(&merchant(i)).await.unwrap().unwrap();
            assert_eq!(version_of(&client), 2, "merchant {}", merchant(i));
        }
    });
}

#[test]
fn the_registry_asks_the_source_once_per_merchant_and_again_after_a_change() {
    let mock = fleet_mock(2);
    let settings = Settings::default();
    let registry = settings.registry(&mock.uri());
    let (first, second) = (merchant(0), merchant(1));
    settings.set(&first, 1);

    // Concurrent first requests share one answer of the source.
    let clients = block_on(futures::future::join_all(
        (0..16).map(|_| registry.get(&first)),
    ));
    assert!(clients.iter().all(|client| matches!(client, Ok(Some(_)))));
    assert_eq!(settings.asked.load(Ordering::SeqCst), 1);

    // Unknown merchants are not kept (added later, they are found) and ids that cannot be
    // merchant ids never reach the source.
    assert!(block_on(registry.get(&second)).unwrap().is_none());
    settings.set(&second, 1);
    assert!(block_on(registry.get(&second)).unwrap().is_some());
    let asked = settings.asked.load(Ordering::SeqCst);
    for bad in ["", "1900:0", "../1900", "１９００", &"9".repeat(33)] {
        assert!(block_on(registry.get(bad)).unwrap().is_none(), "{bad}");
    }
    assert_eq!(settings.asked.load(Ordering::SeqCst), asked);

    // A change: the client in use keeps working, the next request gets the new one.
    let in_flight = block_on(registry.get(&first)).unwrap().unwrap();
    let replaced = registry.insert(build(&mock.uri(), &first, 2)).unwrap();
    assert_eq!(version_of(&replaced), 1);
    assert_eq!(
        version_of(&block_on(registry.get(&first)).unwrap().unwrap()),
        2
    );
    let answer = in_flight
        .chain(&format!("v3/fleet/{first}"))
        .get(())
        .unwrap();
    assert_eq!(answer.verified_by(), key_id(&first).as_str());
    settings.set(&first, 3);
    assert_eq!(version_of(&registry.invalidate(&first).unwrap()), 2);
    assert_eq!(
        version_of(&block_on(registry.get(&first)).unwrap().unwrap()),
        3
    );
}

#[test]
fn a_source_that_fails_or_answers_for_another_merchant_is_an_error() {
    let mock = fleet_mock(2);
    let uri = mock.uri();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let registry = MerchantRegistry::new(move |mchid: String| {
        counted.fetch_add(1, Ordering::SeqCst);
        let uri = uri.clone();
        async move {
            match mchid.as_str() {
                "1900000666" => Err(Error::new(ErrorKind::Transport, "the database is down")),
                _ => Ok(Some(build(&uri, &merchant(0), 1))),
            }
        }
    });
    let error = block_on(registry.get("1900000666")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(
        error.to_string().contains("the database is down"),
        "{error}"
    );
    // Not kept: the next request asks again.
    assert!(block_on(registry.get("1900000666")).is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    let error = block_on(registry.get(&merchant(1))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains(&merchant(0)), "{error}");
    // Not kept either: asked again.
    assert!(block_on(registry.get(&merchant(1))).is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

/// The notify_url of a platform: one route for every merchant.
async fn notified(notified: MerchantNotified) -> Reply {
    assert_eq!(notified.client.mchid(), notified.mchid);
    Reply::success()
}

/// Sends `request` through `app`: the status and the body.
fn send(app: &mut Router, request: http::Request<Body>) -> (u16, String) {
    block_on(async {
        let answer = app.call(request).await.unwrap();
        let status = answer.status().as_u16();
        let body = answer.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    })
}

#[test]
fn notifications_are_routed_to_their_merchant_keys() {
    let mock = fleet_mock(2);
    let settings = Settings::default();
    let (first, second) = (merchant(0), merchant(1));
    settings.set(&first, 1);
    settings.set(&second, 1);
    let mut app = Router::new()
        .route("/wechatpay/notify/{mchid}", post(notified))
        .route("/wechatpay/notify", post(notified))
        .with_state(settings.registry(&mock.uri()));

    // A notification signed for the first merchant (under its own key id).
    let (mut headers, body) = mock
        .notification(
            "REFUND.SUCCESS",
            "encrypt-resource",
            "refund",
            &json!({"refund_status": "SUCCESS"}),
        )
        .unwrap();
    headers.insert("Wechatpay-Serial", key_id(&first).parse().unwrap());
    let request = |path: &str| {
        let mut request = http::Request::post(path)
            .body(Body::from(body.clone()))
            .unwrap();
        *request.headers_mut() = headers.clone();
        request
    };

    assert_eq!(
        send(&mut app, request(&format!("/wechatpay/notify/{first}"))).0,
        200
    );
    // The same notification at another merchant's address: that merchant does not trust
    // the key, so it is refused.
    let (status, text) = send(&mut app, request(&format!("/wechatpay/notify/{second}")));
    assert_eq!(status, 401, "{text}");
    // A merchant the registry does not know, and an id that cannot be one.
    let (status, text) = send(&mut app, request("/wechatpay/notify/1900999999"));
    assert_eq!(
        (status, text.as_str()),
        (404, r#"{"code":"FAIL","message":"unknown merchant"}"#)
    );
    assert_eq!(
        send(&mut app, request("/wechatpay/notify/..%2F1900")).0,
        404
    );
    // A route without `{mchid}` is a mistake in the router.
    assert_eq!(send(&mut app, request("/wechatpay/notify")).0, 500);
}
