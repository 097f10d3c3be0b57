//! `wechatpay::redis` against a real Redis server, in one process: the key store keeps the
//! complete set and a lease, the dedupe claims atomically, and neither trusts a Redis that
//! cannot answer. (Two processes sharing one server: `fleet.rs`.)

use std::sync::{Arc, Barrier};
use std::time::Duration;

use futures::executor::block_on;
use serde_json::json;
use wechatpay::ErrorKind;
use wechatpay::events::{Claim, Deduplicate};
use wechatpay::keystore::{KeyStore, Lease, StoredCertificate, StoredSet};
use wechatpay::mock::{self, MockServer, Reply, Signing};
use wechatpay::redis::{RedisDedupe, RedisKeyStore};

use crate::redis_server::RedisServer;

fn stored(serial: &str, not_after: u64) -> StoredCertificate {
    StoredCertificate {
        serial: serial.to_owned(),
        pem: format!("-----BEGIN CERTIFICATE-----\n{serial}\n-----END CERTIFICATE-----\n"),
        not_before: 1_700_000_000,
        not_after,
    }
}

fn set(downloaded_at_ms: u64, certificates: Vec<StoredCertificate>) -> StoredSet {
    StoredSet {
        downloaded_at_ms,
        certificates,
    }
}

#[test]
fn redis_key_store_keeps_the_complete_set_with_its_validity() {
    let redis = RedisServer::start();
    let store = RedisKeyStore::new(&redis.url(), "1900000109").unwrap();
    let key = "wechatpay:1900000109:certificates";
    assert_eq!(block_on(store.load()).unwrap(), None);

    let first = set(
        1_800_000_000_000,
        vec![stored("AAAA", 1_900_000_000), stored("BBBB", 1_950_000_000)],
    );
    block_on(store.save(first.clone())).unwrap();
    assert_eq!(block_on(store.load()).unwrap(), Some(first));
    // The set records when it was downloaded.
    let raw = redis.command(&["GET", key]);
    assert!(raw.contains("\"downloaded_at_ms\":1800000000000"), "{raw}");

    // WeChat Pay stopped listing AAAA: the next save is the whole set, AAAA is gone.
    let second = set(1_800_000_600_000, vec![stored("BBBB", 1_950_000_000)]);
    block_on(store.save(second.clone())).unwrap();
    assert_eq!(block_on(store.load()).unwrap(), Some(second.clone()));

    // A slower process saving an older download does not bring AAAA back.
    let older = set(
        1_800_000_300_000,
        vec![stored("AAAA", 1_900_000_000), stored("BBBB", 1_950_000_000)],
    );
    block_on(store.save(older)).unwrap();
    assert_eq!(block_on(store.load()).unwrap(), Some(second));

    // Merchants and prefixes do not share keys.
    let other = RedisKeyStore::new(&redis.url(), "1900000200").unwrap();
    assert_eq!(block_on(other.load()).unwrap(), None);
    let staging = RedisKeyStore::new(&redis.url(), "1900000109")
        .unwrap()
        .with_prefix("staging")
        .unwrap();
    assert_eq!(block_on(staging.load()).unwrap(), None);
    assert!(redis.command(&["EXISTS", "staging:1900000109:certificates"]) == ":0\r\n");

    // Something else under the key is an error (the client then downloads), not a panic.
    redis.command(&["SET", key, "not json"]);
    let error = block_on(store.load()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.to_string().contains("delete the key"), "{error}");
}

#[test]
fn redis_key_store_lease_lets_one_process_download_and_the_others_wait() {
    let redis = RedisServer::start();
    let first = RedisKeyStore::new(&redis.url(), "1900000109").unwrap();
    let second = RedisKeyStore::new(&redis.url(), "1900000109").unwrap();
    let lease_key = "wechatpay:1900000109:certificates:lease";

    assert_eq!(block_on(first.lease()).unwrap(), Lease::Granted);
    // The second waits while the first downloads, and is told to load again once the first
    // saved (its save ends the lease).
    let waiting = std::thread::spawn(move || block_on(second.lease()));
    while redis.command(&["EXISTS", lease_key]) != ":1\r\n" {
        std::thread::yield_now();
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !waiting.is_finished(),
        "the second store waits for the lease"
    );
    block_on(first.save(set(1_800_000_000_000, vec![stored("AAAA", 1_900_000_000)]))).unwrap();
    assert_eq!(waiting.join().unwrap().unwrap(), Lease::Waited);
    assert_eq!(redis.command(&["EXISTS", lease_key]), ":0\r\n");

    // A store only ever ends its own lease.
    let second = RedisKeyStore::new(&redis.url(), "1900000109").unwrap();
    assert_eq!(block_on(second.lease()).unwrap(), Lease::Granted);
    block_on(first.release()).unwrap();
    assert_eq!(redis.command(&["EXISTS", lease_key]), ":1\r\n");
    block_on(second.release()).unwrap();
    assert_eq!(redis.command(&["EXISTS", lease_key]), ":0\r\n");

    // A lease whose holder died ends by itself: the waiter then loads again.
    let dying = RedisKeyStore::new(&redis.url(), "1900000109")
        .unwrap()
        .with_lease(Duration::from_millis(200));
    assert_eq!(block_on(dying.lease()).unwrap(), Lease::Granted);
    let waiter = RedisKeyStore::new(&redis.url(), "1900000109")
        .unwrap()
        .with_lease(Duration::from_millis(200));
    assert_eq!(block_on(waiter.lease()).unwrap(), Lease::Waited);
}

/// A mock in certificate mode with `GET /v3/fleet/ping` answered.
fn certificate_mock() -> MockServer {
    let mock = MockServer::start().unwrap();
    mock.sign_answers_with(Signing::Certificate);
    mock.on(
        "GET",
        "/v3/fleet/ping",
        Reply::json(200, json!({"ok": true})),
    );
    mock
}

fn downloads(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|request| request.path() == "/v3/certificates")
        .count()
}

#[test]
fn clients_of_one_merchant_share_the_download_through_redis() {
    let redis = RedisServer::start();
    let mock = certificate_mock();
    let client = || {
        mock.certificate_client_builder()
            .key_store(RedisKeyStore::new(&redis.url(), mock::MCHID).unwrap())
            .build()
            .unwrap()
    };
    let first = client();
    let answer = first["v3/fleet/ping"].get(()).unwrap();
    assert_eq!(answer.verified_by(), mock::PLATFORM_CERTIFICATE_SERIAL);
    // A second client (a restart, another instance) finds the set in Redis.
    let second = client();
    let answer = second["v3/fleet/ping"].get(()).unwrap();
    assert_eq!(answer.verified_by(), mock::PLATFORM_CERTIFICATE_SERIAL);
    assert_eq!(downloads(&mock), 1);
}

#[test]
fn a_client_downloads_on_its_own_while_redis_is_down() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.stop();
    let mock = certificate_mock();
    let client = mock
        .certificate_client_builder()
        .key_store(RedisKeyStore::new(&url, mock::MCHID).unwrap())
        .build()
        .unwrap();
    let answer = client["v3/fleet/ping"].get(()).unwrap();
    assert_eq!(answer.verified_by(), mock::PLATFORM_CERTIFICATE_SERIAL);
    assert_eq!(downloads(&mock), 1);
}

#[test]
fn redis_dedupe_claims_completes_and_releases() {
    let redis = RedisServer::start();
    let seen = RedisDedupe::new(&redis.url()).unwrap();
    let now = 1_700_000_000;
    assert_eq!(block_on(seen.claim("EV-1", now)), Claim::New);
    assert_eq!(block_on(seen.claim("EV-1", now)), Claim::InProgress);
    // The handler failed: the retry is processed.
    block_on(seen.release("EV-1")).unwrap();
    assert_eq!(block_on(seen.claim("EV-1", now)), Claim::New);
    block_on(seen.complete("EV-1", now)).unwrap();
    assert_eq!(block_on(seen.claim("EV-1", now)), Claim::Done);
    // Releasing a completed notification changes nothing.
    block_on(seen.release("EV-1")).unwrap();
    assert_eq!(block_on(seen.claim("EV-1", now)), Claim::Done);
    let ttl: i64 = redis
        .command(&["TTL", "wechatpay:notification:EV-1"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert!(ttl > 24 * 3600, "kept for the 25-hour window, not {ttl} s");

    // Another instance cannot release this instance's claim.
    let other = RedisDedupe::new(&redis.url()).unwrap();
    assert_eq!(block_on(seen.claim("EV-2", now)), Claim::New);
    block_on(other.release("EV-2")).unwrap();
    assert_eq!(block_on(other.claim("EV-2", now)), Claim::InProgress);
    assert!(!block_on(other.first_time("EV-2", now)));
    assert!(block_on(other.first_time("EV-3", now)));
    assert_eq!(block_on(seen.claim("EV-3", now)), Claim::Done);

    // A claim whose handler died lapses after the lease.
    let short = RedisDedupe::new(&redis.url())
        .unwrap()
        .with_prefix("short")
        .unwrap()
        .with_lease(Duration::from_millis(100));
    assert_eq!(block_on(short.claim("EV-4", now)), Claim::New);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(block_on(short.claim("EV-4", now)), Claim::New);
}

#[test]
fn redis_dedupe_claims_each_id_once_across_threads() {
    let redis = RedisServer::start();
    let seen: Arc<dyn Deduplicate> = Arc::new(RedisDedupe::new(&redis.url()).unwrap());
    let start = Arc::new(Barrier::new(8));
    let winners: usize = (0..8)
        .map(|_| {
            let (seen, start) = (seen.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..100)
                    .filter(|i| block_on(seen.claim(&format!("EV-{i}"), 0)) == Claim::New)
                    .count()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .sum();
    assert_eq!(winners, 100);
}

#[test]
fn redis_dedupe_never_answers_new_when_redis_cannot_answer() {
    let mut redis = RedisServer::start();
    let url = redis
        .url()
        .replace("redis://", "redis://fleet:s3cret-pa55@");
    let seen = RedisDedupe::new(&url).unwrap();
    redis.stop();
    for i in 0..5 {
        assert_eq!(
            block_on(seen.claim(&format!("EV-{i}"), 0)),
            Claim::InProgress
        );
    }
    let error = block_on(seen.complete("EV-0", 0)).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Transport | ErrorKind::Timeout),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("check that the server is up"),
        "{error}"
    );
    assert!(block_on(seen.release("EV-0")).is_err());
    // The password appears nowhere.
    for shown in [
        format!("{error}"),
        format!("{error:?}"),
        format!("{seen:?}"),
    ] {
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}

#[test]
fn redis_settings_are_checked_when_made() {
    let error = RedisKeyStore::new("http://127.0.0.1/", "1900000109").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains("redis://"), "{error}");
    let error = RedisKeyStore::new("rediss://:s3cret@127.0.0.1/", "1900000109").unwrap_err();
    assert!(!error.to_string().contains("s3cret"), "{error}");
    let error = RedisKeyStore::new("redis://127.0.0.1/", "1900:*").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains("mchid"), "{error}");
    let error = RedisDedupe::new("redis://127.0.0.1/")
        .unwrap()
        .with_prefix("")
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    // Made without I/O: nothing listens there.
    let store = RedisKeyStore::new("redis://:s3cret@127.0.0.1:1/0", "1900000109").unwrap();
    let shown = format!("{store:?}");
    assert!(shown.contains("redis://127.0.0.1:1/0"), "{shown}");
    assert!(!shown.contains("s3cret"), "{shown}");
}
