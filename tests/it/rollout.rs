//! The merchant side of the migration to the WeChat Pay public key: a configured share of
//! requests names `PUB_KEY_ID_…` (so about that share of answers is verified by it), shown by
//! `key_usage()`, and rolled back by itself, with no failed request, when WeChat Pay stops
//! signing with the public key.

use serde_json::json;
use wechatpay::mock::{self, MockServer, Reply, Signing};
use wechatpay::{Certificate, Client};

use crate::common::{PREPAID_PATH, TEMPLATE, prepaid_options};

fn migrating(share: u8) -> (MockServer, Client) {
    let mock = MockServer::start().unwrap();
    mock.sign_answers_with(Signing::Migrating);
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let certificate = Certificate::from_pem(mock::PLATFORM_CERTIFICATE_PEM).unwrap();
    let client = mock
        .client_builder()
        .platform_certificate(certificate)
        .public_key_rollout(share)
        .build()
        .unwrap();
    (mock, client)
}

/// How many answers each key verified: (public key, certificate).
fn verified(client: &Client) -> (u64, u64) {
    let usage = client.key_usage();
    let of = |id: &str| {
        usage
            .iter()
            .find(|usage| usage.id == id)
            .map_or(0, |usage| usage.responses)
    };
    (
        of(mock::PLATFORM_KEY_ID),
        of(mock::PLATFORM_CERTIFICATE_SERIAL),
    )
}

/// Sends `count` requests, 16 in flight on one thread; every one must succeed.
fn send(client: &Client, count: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for _ in 0..count / 16 {
            let answers = futures::future::join_all(
                (0..16).map(|_| client[TEMPLATE].post_async(prepaid_options())),
            )
            .await;
            for answer in answers {
                assert_eq!(answer.expect("no request fails").status(), 204);
            }
        }
    });
}

#[test]
fn thirty_percent_of_answers_are_verified_by_the_public_key_until_it_stops_signing() {
    let (mock, client) = migrating(30);
    mock.record_requests(false);
    assert_eq!(client.public_key_rollout(), Some(30));
    send(&client, 1008);
    let (public, certificate) = verified(&client);
    assert_eq!(public + certificate, 1008);
    let share = public as f64 / 1008.0;
    assert!((0.20..=0.40).contains(&share), "{public} of 1008");

    // WeChat Pay stops signing with the public key: the next answer to a request naming it
    // comes signed by the certificate (and verifies), and the rollout goes back to 0.
    mock.sign_answers_with(Signing::Certificate);
    send(&client, 160);
    assert_eq!(client.public_key_rollout(), Some(0));
    let (after, _) = verified(&client);
    assert_eq!(after, public, "no answer verified by the public key since");

    // Back at 0 %, every request names the certificate.
    mock.record_requests(true);
    mock.sign_answers_with(Signing::Migrating);
    send(&client, 32);
    let named: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.header("Wechatpay-Serial").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(named.len(), 32);
    assert!(
        named
            .iter()
            .all(|id| id == mock::PLATFORM_CERTIFICATE_SERIAL)
    );

    // Started again by hand.
    client.set_public_key_rollout(100);
    send(&client, 16);
    assert_eq!(verified(&client).0, public + 16);
}

#[test]
fn during_a_rollout_encrypted_fields_use_the_certificate_and_name_it() {
    let (mock, client) = migrating(50);
    assert_eq!(client.wechatpay_serial(), mock::PLATFORM_CERTIFICATE_SERIAL);
    let path = "/v3/applyment4sub/applyment/";
    mock.on("POST", path, Reply::json(200, json!({"applyment_id": 1})));
    for _ in 0..4 {
        let name = client.encrypt("张三").unwrap();
        client["v3/applyment4sub/applyment/"]
            .post(json!({"json": {"contact_info": {"contact_name": name}}}))
            .unwrap();
    }
    let requests = mock.requests();
    assert!(
        requests
            .iter()
            .all(|r| { r.header("Wechatpay-Serial") == Some(mock::PLATFORM_CERTIFICATE_SERIAL) })
    );
    assert_eq!(
        client.public_key_rollout(),
        Some(50),
        "no rollback for those"
    );
}

#[test]
fn without_a_rollout_every_request_names_the_public_key() {
    let mock = MockServer::start().unwrap();
    mock.sign_answers_with(Signing::Migrating);
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let certificate = Certificate::from_pem(mock::PLATFORM_CERTIFICATE_PEM).unwrap();
    let client = mock
        .client_builder()
        .platform_certificate(certificate)
        .build()
        .unwrap();
    assert_eq!(client.public_key_rollout(), None);
    send(&client, 16);
    assert_eq!(verified(&client), (16, 0));
}
