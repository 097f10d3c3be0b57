//! Hardening, round two: the key store cannot be turned against the client. A FIFO, a
//! symbolic link or an oversized file in its directory is refused, never waited on; a
//! directory or file another user may write to is refused (as ssh's `StrictModes`), so a
//! planted certificate is never trusted; what it writes is `0600` in a `0700` directory; and
//! a store that does not answer holds a request no longer than its timeout. Each test failed
//! before the fix it guards.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::executor::block_on;
use futures::future::BoxFuture;
use serde_json::json;
use wechatpay::keystore::{KeyStore, StoredCertificate, StoredSet};
use wechatpay::mock::{
    FORGED_CERTIFICATE_PEM, FORGED_CERTIFICATE_SERIAL, Forgery, MockServer,
    PLATFORM_CERTIFICATE_PEM, PLATFORM_CERTIFICATE_SERIAL, Reply, Signing,
};
use wechatpay::{ErrorKind, FileKeyStore};

use crate::common::{PREPAID_PATH, TEMPLATE, prepaid_options};

fn certificate_mock() -> MockServer {
    let mock = MockServer::start().expect("the mock starts");
    mock.sign_answers_with(Signing::Certificate);
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock
}

fn downloads(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|request| request.path() == "/v3/certificates")
        .count()
}

/// A directory of the test's own (mode `0700`), removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "wechatpay-hardening-store-{}",
            wechatpay::toolkit::nonce(16).unwrap()
        ));
        std::fs::create_dir(&path).unwrap();
        chmod(&path, 0o700);
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// `what` on a thread of its own, which must end within a generous bound (it hung before
/// the fix).
fn ends<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    finished
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("{what} hung"))
}

fn one_certificate(pem: &str, serial: &str) -> StoredSet {
    StoredSet {
        downloaded_at_ms: wechatpay::toolkit::timestamp() * 1000,
        certificates: vec![StoredCertificate {
            serial: serial.to_owned(),
            pem: pem.to_owned(),
            not_before: 0,
            not_after: u64::MAX,
        }],
    }
}

#[test]
fn the_key_store_cannot_hang_every_request() {
    // A FIFO where the store's file (or a certificate file of the old layout) would be:
    // opening it for reading would wait for a writer forever.
    let scratch = Scratch::new();
    let store = FileKeyStore::new(&scratch.0);
    mkfifo(&store.file());
    mkfifo(
        &scratch
            .0
            .join(format!("wechatpay_{PLATFORM_CERTIFICATE_SERIAL}.pem")),
    );
    let loading = store.clone();
    let error = ends("loading a FIFO", move || block_on(loading.load())).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains("not a regular file"), "{error}");

    // A client using that store still answers: the store is skipped and WeChat Pay asked.
    let mock = certificate_mock();
    let client = mock
        .certificate_client_builder()
        .key_store(store)
        .build()
        .unwrap();
    let response = ends("a request with a FIFO in the store", move || {
        client[TEMPLATE].post(prepaid_options())
    })
    .expect("downloaded instead");
    assert_eq!(response.verified_by(), PLATFORM_CERTIFICATE_SERIAL);
    assert_eq!(downloads(&mock), 1);
}

/// A store that never answers (a stalled mount, a dead database).
struct Stalled;

impl KeyStore for Stalled {
    fn load(&self) -> BoxFuture<'static, wechatpay::Result<Option<StoredSet>>> {
        Box::pin(futures::future::pending())
    }

    fn save(&self, _: StoredSet) -> BoxFuture<'static, wechatpay::Result<()>> {
        Box::pin(futures::future::pending())
    }
}

#[test]
fn a_stalled_key_store_holds_a_request_no_longer_than_its_timeout() {
    let mock = certificate_mock();
    let client = mock
        .certificate_client_builder()
        .key_store(Stalled)
        .build()
        .unwrap();
    // The first download waits for the store (10 s at most); the request waits 1 s.
    let error = client[TEMPLATE]
        .post(json!({"out_order_no": "T1", "json": {}, "timeout": 1}))
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(error.to_string().contains("platform keys"), "{error}");
    assert_eq!(downloads(&mock), 0, "still waiting for the store");
}

#[test]
fn a_key_store_others_may_write_to_is_refused() {
    let scratch = Scratch::new();
    let store = FileKeyStore::new(&scratch.0);
    block_on(store.save(one_certificate(
        PLATFORM_CERTIFICATE_PEM,
        PLATFORM_CERTIFICATE_SERIAL,
    )))
    .unwrap();
    assert!(block_on(store.load()).unwrap().is_some());

    let refused = |says: &str| {
        let error = block_on(store.load()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{error}");
        assert!(error.to_string().contains(says), "{says}: {error}");
        assert!(
            error.to_string().contains("nothing in it is trusted"),
            "{error}"
        );
    };
    for (directory, says) in [
        (0o777, "its group and by others"),
        (0o770, "its group"),
        (0o703, "others"),
    ] {
        chmod(&scratch.0, directory);
        refused(says);
    }
    chmod(&scratch.0, 0o755);
    assert!(
        block_on(store.load()).unwrap().is_some(),
        "read-only for others is fine"
    );
    chmod(&store.file(), 0o620);
    refused("its group");
    chmod(&store.file(), 0o600);
    assert!(block_on(store.load()).unwrap().is_some());
    // A directory of another user (not root): refused too. Tests run as root here; a
    // directory given to an unused uid stands for another user's.
    if std::fs::metadata(&scratch.0).unwrap().uid() == 0 {
        std::os::unix::fs::chown(&scratch.0, Some(54_321), None).unwrap();
        refused("belongs to uid 54321");
        std::os::unix::fs::chown(&scratch.0, Some(0), None).unwrap();
    }
}

#[test]
fn a_certificate_planted_in_a_world_writable_store_is_not_trusted() {
    // Someone who may write to the directory plants the forger's certificate, in the store's
    // file and as a certificate file of the old layout; every answer is then signed by the
    // forger, and the downloads are forged too.
    let scratch = Scratch::new();
    chmod(&scratch.0, 0o777);
    let store = FileKeyStore::new(&scratch.0);
    let planted = one_certificate(FORGED_CERTIFICATE_PEM, FORGED_CERTIFICATE_SERIAL);
    std::fs::write(store.file(), serde_json::to_vec(&planted).unwrap()).unwrap();
    std::fs::write(
        scratch
            .0
            .join(format!("wechatpay_{FORGED_CERTIFICATE_SERIAL}.pem")),
        FORGED_CERTIFICATE_PEM,
    )
    .unwrap();
    let mock = certificate_mock();
    mock.forge_certificate_downloads(Some(Forgery::UnlistedSigner));
    let client = mock
        .certificate_client_builder()
        .key_store(store)
        .retry_policy(wechatpay::resilience::RetryPolicy::none())
        .build()
        .unwrap();
    let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
    assert!(error.is_verification(), "{error}");
    assert!(
        client.platform_keys().is_empty(),
        "nothing planted was trusted"
    );
}

#[test]
fn key_store_files_are_regular_bounded_and_never_followed() {
    let scratch = Scratch::new();
    let store = FileKeyStore::new(&scratch.0);
    let set = one_certificate(PLATFORM_CERTIFICATE_PEM, PLATFORM_CERTIFICATE_SERIAL);

    // A symbolic link, even to a good set: refused, never followed.
    let elsewhere = Scratch::new();
    let target = elsewhere.0.join("set.json");
    std::fs::write(&target, serde_json::to_vec(&set).unwrap()).unwrap();
    chmod(&target, 0o600);
    std::os::unix::fs::symlink(&target, store.file()).unwrap();
    let error = block_on(store.load()).unwrap_err();
    assert!(error.to_string().contains("symbolic link"), "{error}");
    // A save replaces the link itself, and writes nothing through it.
    block_on(store.save(set.clone())).unwrap();
    assert!(
        !std::fs::symlink_metadata(store.file())
            .unwrap()
            .is_symlink()
    );
    assert_eq!(block_on(store.load()).unwrap(), Some(set.clone()));

    // A directory where the file would be: not a regular file.
    std::fs::remove_file(store.file()).unwrap();
    std::fs::create_dir(store.file()).unwrap();
    let error = block_on(store.load()).unwrap_err();
    assert!(error.to_string().contains("not a regular file"), "{error}");
    std::fs::remove_dir(store.file()).unwrap();

    // More than a set of certificates could take: refused before it is read.
    let mut big = serde_json::to_vec(&set).unwrap();
    big.resize(2 << 20, b' ');
    std::fs::write(store.file(), &big).unwrap();
    chmod(&store.file(), 0o600);
    let error = block_on(store.load()).unwrap_err();
    assert!(error.to_string().contains("larger than"), "{error}");
}

#[test]
fn key_files_are_written_0600_in_a_0700_directory() {
    let scratch = Scratch::new();
    let directory = scratch.0.join("a").join("store");
    let store = FileKeyStore::new(&directory);
    block_on(store.save(one_certificate(
        PLATFORM_CERTIFICATE_PEM,
        PLATFORM_CERTIFICATE_SERIAL,
    )))
    .unwrap();
    assert_eq!(mode(&directory), 0o700);
    assert_eq!(mode(&store.file()), 0o600);
    // Nothing else is left in it (the temporary file was renamed).
    let names: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        [std::ffi::OsString::from("wechatpay_certificates.json")]
    );
}
