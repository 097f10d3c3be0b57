//! The merchant key in an HSM (feature `pkcs11`): a SoftHSM2 token made by the test itself
//! (in a temporary directory, through `SOFTHSM2_CONF`), the mock merchant key imported into
//! it, and requests signed by it that the mock accepts, synchronously and asynchronously.

use std::path::{Path, PathBuf};
use std::process::Command;

use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::pkcs11::Pkcs11Signer;

use crate::common::{PREPAID_PATH, TEMPLATE, child_report, prepaid_options};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "wechatpay-test";
const PIN: &str = "1234";
const KEY: &str = "apiclient_key";

/// A fresh directory under the system's temporary one.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wechatpay-softhsm-{}-{}",
        std::process::id(),
        wechatpay::toolkit::nonce(8).unwrap()
    ));
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    dir
}

/// Runs `softhsm2-util` with `args` under the configuration `conf`.
fn softhsm(conf: &Path, args: &[&str]) {
    let output = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", conf)
        .args(args)
        .output()
        .expect("softhsm2-util runs (.ci/run installs the softhsm2 package)");
    assert!(
        output.status.success(),
        "softhsm2-util {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_softhsm2_key_signs_requests_the_mock_accepts() {
    let dir = scratch();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    softhsm(
        &conf,
        &[
            "--init-token",
            "--free",
            "--label",
            TOKEN,
            "--so-pin",
            "0000",
            "--pin",
            PIN,
        ],
    );
    let key_file = dir.join("key.pem");
    std::fs::write(&key_file, mock::MERCHANT_KEY_PEM).unwrap();
    let key_path = key_file.to_string_lossy().into_owned();
    softhsm(
        &conf,
        &[
            "--import", &key_path, "--token", TOKEN, "--label", KEY, "--id", "01", "--pin", PIN,
        ],
    );
    std::fs::remove_file(&key_file).unwrap();

    // The module reads SOFTHSM2_CONF from the process environment: a child process of its own.
    let report = child_report(
        "pkcs11::signs_with_the_token_in_a_child",
        "PKCS11",
        &[("SOFTHSM2_CONF", &conf.to_string_lossy())],
        &[],
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(report, "2 requests accepted");
}

#[test]
#[ignore = "run in a child process by a_softhsm2_key_signs_requests_the_mock_accepts"]
fn signs_with_the_token_in_a_child() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let hsm = Pkcs11Signer::open(MODULE, TOKEN, PIN, KEY).unwrap();
    assert!(!format!("{hsm:?}").contains(PIN));

    let blocking = mock.client_builder().signer(hsm.clone()).build().unwrap();
    blocking[TEMPLATE].post(prepaid_options()).unwrap();
    let awaiting = mock.client_builder().async_signer(hsm).build().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(awaiting[TEMPLATE].post_async(prepaid_options()))
        .unwrap();

    let accepted = mock.requests().iter().filter(|r| r.verdict.is_ok()).count();
    println!("\nPKCS11 {accepted} requests accepted");
}

#[test]
fn a_wrong_module_or_token_is_a_clear_error() {
    let error = Pkcs11Signer::open("/nonexistent/libpkcs11.so", TOKEN, PIN, KEY).unwrap_err();
    assert_eq!(error.kind(), wechatpay::ErrorKind::Config);
    assert!(
        error.to_string().contains("cannot load the module"),
        "{error}"
    );
}
