//! The `wechatpay` command, run as a process against the mock server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::json;
use wechatpay::mock::{self, Fault, MockServer, Reply, Signing};

pub(super) const BIN: &str = env!("CARGO_BIN_EXE_wechatpay");

/// A directory for the files of one test, removed when dropped.
pub(super) struct Scratch(pub(super) PathBuf);

impl Scratch {
    pub(super) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "wechatpay-cli-{name}-{}",
            wechatpay::toolkit::nonce(16).unwrap()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(super) fn file(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// The names of the files in it, sorted.
    pub(super) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The command with the mock's credentials in the environment (and nothing from the real
/// environment or a config file).
pub(super) fn wechatpay(mock: &MockServer, scratch: &Scratch) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("HOME", &scratch.0)
        .env("WECHATPAY_BASE_URI", mock.uri())
        .env("WECHATPAY_MCHID", mock::MCHID)
        .env("WECHATPAY_SERIAL", mock::MERCHANT_SERIAL)
        .env(
            "WECHATPAY_PRIVATE_KEY",
            scratch.file("key.pem", mock::MERCHANT_KEY_PEM),
        )
        .env("WECHATPAY_PLATFORM_KEY_ID", mock::PLATFORM_KEY_ID)
        .env(
            "WECHATPAY_PLATFORM_KEY",
            scratch.file("pub.pem", mock::PLATFORM_PUBLIC_KEY_PEM),
        )
        .env("WECHATPAY_APIV3_KEY", mock::APIV3_KEY);
    command
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn request_prints_status_request_id_key_and_body() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "GET",
        "/v3/pay/transactions/out-trade-no/T1",
        Reply::json(200, json!({"trade_state": "SUCCESS"})),
    );
    let scratch = Scratch::new("request");
    let output = wechatpay(&mock, &scratch)
        .args([
            "request",
            "get",
            "v3/pay/transactions/out-trade-no/{out_trade_no}",
        ])
        .args(["--var", "out_trade_no=T1", "--query", "mchid=1900000109"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("status: 200 OK"), "{stdout}");
    assert!(stdout.contains("request-id: mock-"), "{stdout}");
    assert!(
        stdout.contains(&format!("verified by: {}", mock::PLATFORM_KEY_ID)),
        "{stdout}"
    );
    assert!(stdout.contains("\"trade_state\": \"SUCCESS\""), "{stdout}");
    assert_eq!(
        mock.requests()[0].target,
        "/v3/pay/transactions/out-trade-no/T1?mchid=1900000109"
    );

    let raw = wechatpay(&mock, &scratch)
        .args([
            "request",
            "GET",
            "v3/pay/transactions/out-trade-no/{out_trade_no}",
            "--raw",
        ])
        .args(["--var", "out_trade_no=T1"])
        .output()
        .unwrap();
    assert_eq!(raw.stdout, br#"{"trade_state":"SUCCESS"}"#);
}

#[test]
fn request_errors_exit_non_zero_with_the_library_text() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        "/v3/pay/transactions/jsapi",
        Reply::error(400, "PARAM_ERROR", "appid和mch_id不匹配"),
    );
    let scratch = Scratch::new("errors");
    let output = wechatpay(&mock, &scratch)
        .args([
            "request",
            "POST",
            "v3/pay/transactions/jsapi",
            "--json",
            r#"{"appid":"wx1"}"#,
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("PARAM_ERROR"), "{stderr}");

    let typo = wechatpay(&mock, &scratch)
        .args([
            "request",
            "GET",
            "v3/x/{out_trade_no}",
            "--var",
            "out_trade_n0=1",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&typo);
    assert_eq!(typo.status.code(), Some(1));
    assert!(
        stderr.contains("`out_trade_n0` for `out_trade_no`"),
        "{stderr}"
    );
}

#[test]
fn request_reads_the_json_body_from_a_file_and_sends_apiv2() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        "/v3/pay/transactions/native",
        Reply::json(200, json!({"code_url": "weixin://x"})),
    );
    mock.on(
        "POST",
        "/pay/orderquery",
        Reply::xml(
            200,
            json!({"return_code": "SUCCESS", "result_code": "SUCCESS", "trade_state": "SUCCESS"}),
        ),
    );
    let scratch = Scratch::new("files");
    let body = scratch.file(
        "body.json",
        r#"{"appid":"wxd678efh567hg6787","description":"x"}"#,
    );
    let output = wechatpay(&mock, &scratch)
        .args(["request", "POST", "v3/pay/transactions/native", "--json"])
        .arg(format!("@{}", body.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(
        mock.requests()[0].json(),
        Some(json!({"appid": "wxd678efh567hg6787", "description": "x"}))
    );

    let v2 = wechatpay(&mock, &scratch)
        .env("WECHATPAY_SECRET", mock::SECRET)
        .args(["request", "POST", "v2/pay/orderquery", "--xml"])
        .arg(r#"{"mch_id":"1900000109","out_trade_no":"T1"}"#)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&v2);
    assert!(v2.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("verified by: MD5"), "{stdout}");
}

#[test]
fn notify_verify_prints_the_resource_or_the_failed_step() {
    let mock = MockServer::start().unwrap();
    let scratch = Scratch::new("notify");
    let plaintext =
        json!({"out_trade_no": "1217752501201407033233368018", "trade_state": "SUCCESS"});
    let write = |name: &str, fault: Option<Fault>| {
        let (headers, body) = mock
            .notification_with(
                "TRANSACTION.SUCCESS",
                "encrypt-resource",
                "transaction",
                &plaintext,
                fault,
            )
            .unwrap();
        let lines: String = headers
            .iter()
            .map(|(name, value)| format!("{name}: {}\n", value.to_str().unwrap()))
            .collect();
        (
            scratch.file(&format!("{name}.headers"), lines),
            scratch.file(&format!("{name}.body"), body),
        )
    };
    let verify = |(headers, body): (PathBuf, PathBuf)| {
        wechatpay(&mock, &scratch)
            .args(["notify", "verify", "--headers"])
            .arg(headers)
            .arg("--body")
            .arg(body)
            .output()
            .unwrap()
    };

    let good = verify(write("good", None));
    let (stdout, stderr) = text(&good);
    assert!(good.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("✓ signature verified"), "{stdout}");
    assert!(stdout.contains("\"trade_state\": \"SUCCESS\""), "{stdout}");

    for (name, fault, step) in [
        ("tampered", Fault::BadSignature, "✗ signature"),
        ("probe", Fault::Probe, "✗ probe"),
        ("stale", Fault::StaleTimestamp, "✗ timestamp"),
        ("unknown", Fault::UnknownSerial, "✗ serial"),
    ] {
        let failed = verify(write(name, Some(fault)));
        let (stdout, stderr) = text(&failed);
        assert_eq!(failed.status.code(), Some(1), "{name}: {stdout}{stderr}");
        assert!(stdout.contains(step), "{name}: {stdout}");
    }

    // One raw HTTP request file works too.
    let (headers, body) = mock
        .notification(
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            "transaction",
            &plaintext,
        )
        .unwrap();
    let mut raw = b"POST /notify HTTP/1.1\r\n".to_vec();
    for (name, value) in &headers {
        raw.extend_from_slice(format!("{name}: {}\r\n", value.to_str().unwrap()).as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(&body);
    let request = scratch.file("request.http", raw);
    let output = wechatpay(&mock, &scratch)
        .args(["notify", "verify", "--request"])
        .arg(request)
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(&output));
}

#[test]
fn profiles_from_a_config_file() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::json(200, json!({"data": []})),
    );
    let scratch = Scratch::new("profiles");
    scratch.file("key.pem", mock::MERCHANT_KEY_PEM);
    scratch.file("pub.pem", mock::PLATFORM_PUBLIC_KEY_PEM);
    let config = scratch.file(
        "config.toml",
        format!(
            "[profile.default]\nmchid = \"1\"\n\n[profile.mock]\nmchid = \"{}\"\nserial = \"{}\"\n\
             private_key = \"key.pem\"\nplatform_key_id = \"{}\"\nplatform_key = \"pub.pem\"\n\
             base_uri = \"{}\"\n",
            mock::MCHID,
            mock::MERCHANT_SERIAL,
            mock::PLATFORM_KEY_ID,
            mock.uri()
        ),
    );
    let output = Command::new(BIN)
        .env_clear()
        .env("NO_COLOR", "1")
        .args(["--profile", "mock", "--config"])
        .arg(&config)
        .args(["request", "GET", "v3/certificates"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(&output));
    let missing = Command::new(BIN)
        .env_clear()
        .args(["--profile", "nope", "--config"])
        .arg(&config)
        .args(["request", "GET", "v3/certificates"])
        .output()
        .unwrap();
    let (_, stderr) = text(&missing);
    assert!(stderr.contains("no [profile.nope]"), "{stderr}");
}

#[test]
fn endpoints_and_completions() {
    let found = Command::new(BIN)
        .env("NO_COLOR", "1")
        .args(["endpoints", "transactions", "jsapi"])
        .output()
        .unwrap();
    let (stdout, _) = text(&found);
    assert!(
        stdout.contains("POST v3/pay/transactions/jsapi"),
        "{stdout}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let completions = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(completions.status.success());
        assert!(String::from_utf8_lossy(&completions.stdout).contains("wechatpay"));
    }
}

/// `wechatpay mock` as a child process, stopped with SIGTERM.
struct MockProcess {
    child: Child,
    env: Vec<(String, String)>,
}

impl MockProcess {
    fn start() -> Self {
        let mut child = Command::new(BIN)
            .args(["mock", "--reply", r#"200:{"ok":true}"#])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut env = Vec::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line.starts_with('#') {
                break;
            }
            let (name, value) = line
                .strip_prefix("export ")
                .and_then(|line| line.split_once('='))
                .unwrap();
            env.push((name.to_owned(), value.to_owned()));
        }
        Self { child, env }
    }

    fn get(&self, name: &str) -> &str {
        &self.env.iter().find(|(n, _)| n == name).unwrap().1
    }
}

#[test]
fn mock_runs_standalone_and_stops_cleanly() {
    let mut mock = MockProcess::start();
    let keys_dir = Path::new(mock.get("WECHATPAY_PRIVATE_KEY"))
        .parent()
        .unwrap()
        .to_owned();
    let mut command = Command::new(BIN);
    command.env_clear().env("NO_COLOR", "1");
    for (name, value) in &mock.env {
        command.env(name, value);
    }
    let output = command
        .args(["request", "POST", "v3/anything/v3"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("\"ok\": true"), "{stdout}");

    let stopped = Command::new("kill")
        .args(["-TERM", &mock.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = mock.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(!keys_dir.exists(), "the temporary keys were removed");
}

#[test]
fn certificates_download_writes_verified_pem_files() {
    let mock = MockServer::start().unwrap();
    // A merchant in certificate mode: answers signed by the platform certificate.
    mock.sign_answers_with(Signing::Certificate);
    let scratch = Scratch::new("certificates");
    let out = scratch.0.join("certs");
    let output = wechatpay(&mock, &scratch)
        .env_remove("WECHATPAY_PLATFORM_KEY_ID")
        .env_remove("WECHATPAY_PLATFORM_KEY")
        .args(["certificates", "download", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let file = out.join(format!(
        "wechatpay_{}.pem",
        mock::PLATFORM_CERTIFICATE_SERIAL
    ));
    assert!(
        stdout.contains(mock::PLATFORM_CERTIFICATE_SERIAL),
        "{stdout}"
    );
    assert!(stdout.contains(&file.display().to_string()), "{stdout}");
    let pem = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        wechatpay::Certificate::from_pem(&pem).unwrap().serial(),
        mock::PLATFORM_CERTIFICATE_SERIAL
    );

    let no_key = wechatpay(&mock, &scratch)
        .env_remove("WECHATPAY_APIV3_KEY")
        .args(["certificates", "download"])
        .output()
        .unwrap();
    let (_, stderr) = text(&no_key);
    assert_eq!(no_key.status.code(), Some(1));
    assert!(stderr.contains("APIv3 key"), "{stderr}");
}

#[test]
fn doctor_passes_a_good_setup_and_explains_each_failure() {
    let mock = MockServer::start().unwrap();
    let scratch = Scratch::new("doctor");
    let doctor = |command: &mut Command| {
        let output = command.arg("doctor").output().unwrap();
        let (stdout, stderr) = text(&output);
        (output.status.code(), stdout, stderr)
    };

    let (code, stdout, stderr) = doctor(wechatpay(&mock, &scratch).env(
        "WECHATPAY_MERCHANT_CERT",
        scratch.file("cert.pem", mock::MERCHANT_TLS_CERTIFICATE_PEM),
    ));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for line in [
        "✓ private key",
        "✓ merchant certificate serial",
        "✓ platform keys load",
        "✓ main domain http://127.0.0.1:",
        "✓ clock within",
        "✓ signed request accepted",
        "✓ APIv3 key decrypts",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert!(!stdout.contains('✗'), "{stdout}");
    assert!(
        stdout.contains("✓ no certificate expires within 30 days"),
        "{stdout}"
    );

    // A merchant certificate that expires in 20 days: a warning line, not a failure.
    let soon = crate::common::merchant_certificate_expiring_in(20, &scratch.0);
    let (code, stdout, _) = doctor(
        wechatpay(&mock, &scratch).env("WECHATPAY_MERCHANT_CERT", scratch.file("soon.pem", &soon)),
    );
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("! expiry: the merchant API certificate 4A7F3C2D1E0B9A8877665544332211AABBCCDDEE expires in"),
        "{stdout}"
    );

    // The wrong key for the serial: WeChat Pay refuses the signature.
    let (code, stdout, _) = doctor(wechatpay(&mock, &scratch).env(
        "WECHATPAY_PRIVATE_KEY",
        scratch.file("other.pem", mock::PLATFORM_KEY_PEM),
    ));
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("✗ WeChat Pay refused the request signature"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--serial is the serial of the certificate"),
        "{stdout}"
    );
    // … and with the merchant certificate given, the doctor says why without asking.
    let (_, stdout, _) = doctor(
        wechatpay(&mock, &scratch)
            .env(
                "WECHATPAY_PRIVATE_KEY",
                scratch.file("other.pem", mock::PLATFORM_KEY_PEM),
            )
            .env(
                "WECHATPAY_MERCHANT_CERT",
                scratch.file("cert.pem", mock::MERCHANT_TLS_CERTIFICATE_PEM),
            ),
    );
    assert!(
        stdout.contains("is not the certificate of the private key"),
        "{stdout}"
    );

    // The wrong APIv3 key.
    let (code, stdout, _) = doctor(
        wechatpay(&mock, &scratch).env("WECHATPAY_APIV3_KEY", "0123456789abcdef0123456789abcdef"),
    );
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("✗ the APIv3 key does not decrypt"),
        "{stdout}"
    );

    // A clock ten minutes off, as WeChat Pay's Date header reports it.
    mock.set_clock_offset(600);
    let (code, stdout, _) = doctor(&mut wechatpay(&mock, &scratch));
    assert_eq!(code, Some(1));
    // An HTTP date has whole seconds: when a second ends during the exchange, the offset it
    // gives may be one second off (src/bin/wechatpay/doctor.rs, `clock`).
    let reported: u64 = stdout
        .split("✗ clock: WeChat Pay's is ")
        .nth(1)
        .and_then(|rest| rest.split(" s ahead of").next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no clock failure:\n{stdout}"));
    assert!((599..=601).contains(&reported), "{stdout}");
    assert!(stdout.contains("NTP"), "{stdout}");
}

#[test]
fn bill_download_streams_the_file_and_checks_its_digest() {
    use std::io::Write as _;

    let mock = MockServer::start().unwrap();
    let scratch = Scratch::new("bill");
    let bill =
        "交易时间,公众账号ID,商户号\r\n`2019-06-11 10:00:00,`wxd678efh567hg6787,`1900000109\r\n"
            .repeat(200);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(bill.as_bytes()).unwrap();
    let gzipped = gzip.finish().unwrap();
    let apply = |hash: &str| {
        Reply::json(
            200,
            json!({
                "download_url": format!("{}v3/billdownload/file?token=T0K3N", mock.uri()),
                "hash_type": "SHA1",
                "hash_value": hash,
            }),
        )
    };
    let sha1 = wechatpay::toolkit::sha1_hex(bill.as_bytes());
    mock.on("GET", "/v3/bill/tradebill", apply(&sha1));
    mock.on(
        "GET",
        "/v3/billdownload/file",
        Reply::status(200).body(gzipped.clone()).unsigned(),
    );

    let out = scratch.0.join("2019-06-11.csv.gz");
    let output = wechatpay(&mock, &scratch)
        .args([
            "bill",
            "download",
            "--kind",
            "trade",
            "--date",
            "2019-06-11",
            "--gzip",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("digest"), "{stdout}");
    assert_eq!(std::fs::read(&out).unwrap(), gzipped, "written as received");
    let apply_request = &mock.requests()[0];
    assert_eq!(
        apply_request.target,
        "/v3/bill/tradebill?bill_date=2019-06-11&tar_type=GZIP"
    );
    assert_eq!(
        mock.requests()[1].target,
        "/v3/billdownload/file?token=T0K3N"
    );

    // A digest that does not match: an error, and no file.
    mock.on(
        "GET",
        "/v3/bill/tradebill",
        apply("0000000000000000000000000000000000000000"),
    );
    let wrong = scratch.0.join("wrong.csv.gz");
    let output = wechatpay(&mock, &scratch)
        .args([
            "bill",
            "download",
            "--kind",
            "trade",
            "--date",
            "2019-06-11",
            "--gzip",
            "--out",
        ])
        .arg(&wrong)
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("digest") || stderr.contains("SHA1"),
        "{stderr}"
    );
    assert!(!wrong.exists() && !wrong.with_extension("part").exists());

    let bad_date = wechatpay(&mock, &scratch)
        .args([
            "bill",
            "download",
            "--kind",
            "fundflow",
            "--date",
            "11/06/2019",
            "--out",
        ])
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(bad_date.status.code(), Some(1));
}

#[test]
fn errors_name_the_flags_to_pass_not_rust_calls() {
    let mock = MockServer::start().unwrap();
    let scratch = Scratch::new("terms");
    let fails = |command: &mut Command| {
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let (_, stderr) = text(&output);
        for rust in ["ClientBuilder", "Options::", "json!("] {
            assert!(!stderr.contains(rust), "{stderr}");
        }
        stderr
    };

    let no_var = fails(wechatpay(&mock, &scratch).args([
        "request",
        "GET",
        "v3/pay/transactions/out-trade-no/{out_trade_no}",
    ]));
    assert!(no_var.contains("pass --var out_trade_no=VALUE"), "{no_var}");

    let no_keys = fails(
        wechatpay(&mock, &scratch)
            .env_remove("WECHATPAY_PLATFORM_KEY")
            .env_remove("WECHATPAY_PLATFORM_KEY_ID")
            .env_remove("WECHATPAY_APIV3_KEY")
            .args(["request", "GET", "v3/certificates"]),
    );
    assert!(no_keys.contains("--platform-key-id"), "{no_keys}");
    assert!(no_keys.contains("WECHATPAY_APIV3_KEY"), "{no_keys}");

    let no_secret = fails(wechatpay(&mock, &scratch).args([
        "request",
        "POST",
        "v2/pay/orderquery",
        "--xml",
        r#"{"appid":"wx1","out_trade_no":"T1"}"#,
    ]));
    assert!(no_secret.contains("--secret-file"), "{no_secret}");

    let plain = fails(wechatpay(&mock, &scratch).args([
        "request",
        "POST",
        "v3/profitsharing/receivers/add",
        "--json",
        r#"{"type":"PERSONAL_OPENID","account":"o","name":"张三","relation_type":"STORE","appid":"wx1"}"#,
    ]));
    assert!(plain.contains("--allow-plaintext"), "{plain}");
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[test]
fn global_settings_have_their_own_heading_and_only_where_they_matter() {
    let help = |args: &[&str]| {
        let output = Command::new(BIN).args(args).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let request = help(&["request", "--help"]);
    let heading = request
        .find("Credentials and connection (global")
        .expect("a heading of their own");
    let own = request.find("--var").expect("request's own flags");
    let global = request.find("--mchid").expect("the credentials");
    assert!(own < heading && heading < global, "{request}");
    for offline in ["endpoints", "completions", "sandbox", "mock"] {
        let text = help(&[offline, "--help"]);
        assert!(!text.contains("--private-key"), "{offline}: {text}");
    }
}
