//! The sandbox from outside Rust: the built `wechatpay sandbox` driven with `wechatpay
//! request`, `curl` and `wechatpay notify verify` only, its notifications caught by a bare
//! TCP listener standing for a merchant's notify_url; its subcommands; `wechatpay mock`;
//! `wechatpay notify send`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_wechatpay");

/// `wechatpay sandbox` (or `mock`) as a child process, with the settings it printed.
struct Served {
    child: Child,
    env: Vec<(String, String)>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(args)
            .env_clear()
            .env("NO_COLOR", "1")
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
                .unwrap_or_else(|| panic!("not an export line: {line}"));
            env.push((name.to_owned(), value.trim_matches('\'').to_owned()));
        }
        let kept = Arc::new(Mutex::new(Vec::new()));
        let keeping = kept.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                keeping.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            env,
            lines: kept,
        }
    }

    fn get(&self, name: &str) -> &str {
        &self.env.iter().find(|(n, _)| n == name).unwrap().1
    }

    /// `wechatpay ARGS` with the printed settings as its environment, and nothing else.
    fn wechatpay(&self, args: &[&str]) -> Output {
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .env("NO_COLOR", "1")
            .env("HOME", "/nonexistent");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command.args(args).output().unwrap()
    }

    /// `curl -s METHOD URL [-d BODY]`: the body answered, parsed as JSON.
    fn curl(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut command = Command::new("curl");
        command.args([
            "-s",
            "-X",
            method,
            &format!("{}{path}", self.get("WECHATPAY_SANDBOX")),
        ]);
        if let Some(body) = body {
            command.args([
                "-H",
                "Content-Type: application/json",
                "-d",
                &body.to_string(),
            ]);
        }
        let output = command.output().expect("curl runs (.ci/run installs it)");
        assert!(output.status.success(), "curl failed: {output:?}");
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
    }

    fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let stopped = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(stopped.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

impl Drop for Served {
    /// A failed test leaves no server behind (and no pipe held open).
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A notify_url as bare as it gets: a TCP listener that keeps each raw request and answers
/// every one with `status`.
struct Catcher {
    url: String,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Catcher {
    fn start(status: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut raw = Vec::new();
                let mut buffer = [0u8; 4096];
                let length = loop {
                    let Ok(read) = stream.read(&mut buffer) else {
                        break None;
                    };
                    if read == 0 {
                        break None;
                    }
                    raw.extend_from_slice(&buffer[..read]);
                    if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|line| line.strip_prefix("content-length:"))
                            .and_then(|value| value.trim().parse().ok())
                            .unwrap_or(0);
                        break Some(end + 4 + length);
                    }
                };
                let Some(length) = length else { continue };
                while raw.len() < length {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(read) => raw.extend_from_slice(&buffer[..read]),
                    }
                }
                kept.lock().unwrap().push(raw);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Self { url, requests }
    }

    fn wait_for(&self, count: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.requests.lock().unwrap().len() < count {
            assert!(Instant::now() < deadline, "no notification arrived");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.requests.lock().unwrap().clone()
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wechatpay-sandbox-cli-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_of(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let start = stdout
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in {stdout}"));
    serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn the_flow_from_outside_rust_with_wechatpay_request_curl_and_notify_verify() {
    let sandbox = Served::start(&["sandbox"]);
    let merchant = Catcher::start(200);
    let keys = Path::new(sandbox.get("WECHATPAY_PRIVATE_KEY"))
        .parent()
        .unwrap()
        .to_owned();

    let order = json!({
        "appid": "wxd678efh567hg6787", "mchid": sandbox.get("WECHATPAY_MCHID"),
        "description": "Image形象店-深圳腾大-QQ公仔", "out_trade_no": "CLI-FLOW-1",
        "notify_url": merchant.url, "amount": {"total": 100, "currency": "CNY"},
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    });
    let created = sandbox.wechatpay(&[
        "request",
        "POST",
        "v3/pay/transactions/jsapi",
        "--json",
        &order.to_string(),
    ]);
    assert!(created.status.success(), "{}", text(&created));
    assert!(
        json_of(&created)["prepay_id"]
            .as_str()
            .unwrap()
            .starts_with("wx")
    );

    let query = || {
        sandbox.wechatpay(&[
            "request",
            "GET",
            "v3/pay/transactions/out-trade-no/{out_trade_no}",
            "--var",
            "out_trade_no=CLI-FLOW-1",
            "--query",
            "mchid=1900000109",
        ])
    };
    assert_eq!(json_of(&query())["trade_state"], "NOTPAY");

    let paid = sandbox.curl(
        "POST",
        "transactions/CLI-FLOW-1/pay",
        Some(json!({"result": "SUCCESS"})),
    );
    assert_eq!(paid["state"], "SUCCESS", "{paid}");
    let missing = sandbox.curl("POST", "transactions/NOPE/pay", None);
    assert_eq!(missing["code"], "NOT_FOUND", "{missing}");

    let raw = merchant.wait_for(1).remove(0);
    let dir = scratch("flow");
    let request = dir.join("notification.http");
    std::fs::write(&request, &raw).unwrap();
    let verified = sandbox.wechatpay(&["notify", "verify", "--request", request.to_str().unwrap()]);
    let shown = text(&verified);
    assert!(verified.status.success(), "{shown}");
    assert!(shown.contains("event TRANSACTION.SUCCESS"), "{shown}");
    assert!(
        shown.contains("\"out_trade_no\": \"CLI-FLOW-1\""),
        "{shown}"
    );
    assert!(shown.contains("\"total\": 100"), "{shown}");
    let paid = json_of(&query());
    assert_eq!(paid["trade_state"], "SUCCESS");
    let transaction_id = paid["transaction_id"].as_str().unwrap().to_owned();

    // The log: every request, its verdict in words, the deliveries.
    let requests = sandbox.curl("GET", "requests?summary=true", None);
    let data = requests["data"].as_array().unwrap();
    assert_eq!(data.len(), 3, "{requests}");
    assert!(data.iter().all(|r| {
        r["verdict"]
            .as_str()
            .unwrap()
            .starts_with("signature verified")
    }));
    let notifications = sandbox.curl("GET", "notifications", None);
    assert_eq!(
        notifications["data"][0]["state"], "delivered",
        "{notifications}"
    );
    let root = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            sandbox.get("WECHATPAY_BASE_URI"),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&root.stdout).starts_with("302 "),
        "{root:?}"
    );

    // A request that fails a check is logged as refused, with why.
    let forged = sandbox.wechatpay(&[
        "request",
        "GET",
        "v3/certificates",
        "--serial",
        "0000000000000000000000000000000000000000",
    ]);
    assert!(!forged.status.success());
    let refused = sandbox.curl("GET", "requests?refused=true&summary=true", None);
    let verdict = refused["data"][0]["verdict"].as_str().unwrap();
    assert!(verdict.starts_with("refused: serial_no"), "{verdict}");

    // The command printed one line per request and per delivery.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = sandbox.lines.lock().unwrap().clone();
        let request = lines
            .iter()
            .any(|l| l.contains("POST /v3/pay/transactions/jsapi 200"));
        let delivery = lines
            .iter()
            .any(|l| l.contains("TRANSACTION.SUCCESS →") && l.contains("accepted"));
        if request && delivery {
            break;
        }
        assert!(Instant::now() < deadline, "{lines:?}");
        std::thread::sleep(Duration::from_millis(20));
    }

    // APIv2: a mutual-TLS call over plain HTTP is refused as WeChat Pay's nginx does; over
    // the TLS port it is a refund of the order.
    let refund = json!({
        "appid": "wxd678efh567hg6787", "mch_id": "1900000109", "out_trade_no": "CLI-FLOW-1",
        "transaction_id": transaction_id,
        "out_refund_no": "CLI-R-1", "total_fee": 100, "refund_fee": 100,
    });
    let plain = sandbox.wechatpay(&[
        "request",
        "POST",
        "v2/secapi/pay/refund",
        "--xml",
        &refund.to_string(),
    ]);
    assert!(!plain.status.success());
    assert!(text(&plain).contains("400"), "{}", text(&plain));
    let mut tls = Command::new(BIN);
    tls.env_clear()
        .env("NO_COLOR", "1")
        .env("HOME", "/nonexistent");
    for (name, value) in &sandbox.env {
        tls.env(name, value);
    }
    let secured = tls
        .env("WECHATPAY_BASE_URI", sandbox.get("WECHATPAY_TLS_BASE_URI"))
        .args([
            "request",
            "POST",
            "v2/secapi/pay/refund",
            "--security",
            "--xml",
            &refund.to_string(),
        ])
        .output()
        .unwrap();
    assert!(secured.status.success(), "{}", text(&secured));
    assert!(text(&secured).contains("<refund_id>"), "{}", text(&secured));

    let _ = std::fs::remove_dir_all(dir);
    sandbox.stop();
    assert!(!keys.exists(), "the temporary keys were removed");
}

#[test]
fn the_sandbox_subcommands_drive_a_running_sandbox() {
    let sandbox = Served::start(&["sandbox", "--signing", "migrating"]);
    assert!(
        sandbox
            .get("WECHATPAY_PLATFORM_KEY_ID")
            .starts_with("PUB_KEY_ID_")
    );
    assert_eq!(
        sandbox.get("WECHATPAY_PLATFORM_CERTIFICATE_SERIAL"),
        wechatpay::mock::PLATFORM_CERTIFICATE_SERIAL
    );
    let merchant = Catcher::start(500);
    let order = json!({
        "appid": "wxd678efh567hg6787", "mchid": "1900000109", "description": "x",
        "out_trade_no": "CLI-SUB-1", "notify_url": merchant.url, "amount": {"total": 1},
    });
    let created = sandbox.wechatpay(&[
        "request",
        "POST",
        "v3/pay/transactions/native",
        "--json",
        &order.to_string(),
    ]);
    assert!(created.status.success(), "{}", text(&created));
    let paid = sandbox.wechatpay(&["sandbox", "pay", "CLI-SUB-1"]);
    assert!(paid.status.success(), "{}", text(&paid));
    merchant.wait_for(1);
    let clock = sandbox.wechatpay(&["sandbox", "clock", "--advance", "15s"]);
    assert!(clock.status.success(), "{}", text(&clock));
    assert_eq!(json_of(&clock)["ahead_seconds"], 15);
    merchant.wait_for(2);
    let notifications = sandbox.wechatpay(&["sandbox", "notifications"]);
    let shown = text(&notifications);
    assert!(shown.contains("attempt 2: 500"), "{shown}");
    assert!(shown.contains("next retry at"), "{shown}");
    let resent = sandbox.wechatpay(&["sandbox", "resend", "1"]);
    assert!(resent.status.success(), "{}", text(&resent));
    merchant.wait_for(3);
    let requests = sandbox.wechatpay(&["sandbox", "requests"]);
    assert!(
        text(&requests).contains("POST /v3/pay/transactions/native 200"),
        "{}",
        text(&requests)
    );
    let rotated = sandbox.wechatpay(&["sandbox", "rotate"]);
    assert!(
        text(&rotated).contains(wechatpay::mock::PLATFORM_ROTATED_CERTIFICATE_SERIAL),
        "{}",
        text(&rotated)
    );
    let twice = sandbox.wechatpay(&["sandbox", "rotate"]);
    assert!(!twice.status.success());
    assert!(text(&twice).contains("ALREADY_ROTATED"), "{}", text(&twice));
    let unknown = sandbox.wechatpay(&["sandbox", "complete", "NOPE"]);
    assert!(
        text(&unknown).contains("404 NOT_FOUND"),
        "{}",
        text(&unknown)
    );
    sandbox.stop();
}

#[test]
fn mock_is_the_sandbox_without_state_and_help_lists_only_what_is_honoured() {
    let mock = Served::start(&["mock", "--reply", r#"200:{"ok":true}"#]);
    let answered = mock.wechatpay(&["request", "POST", "v3/anything/v3"]);
    assert!(answered.status.success(), "{}", text(&answered));
    assert!(text(&answered).contains("\"ok\": true"));
    let order = json!({
        "appid": "wxd678efh567hg6787", "mchid": "1900000109", "description": "x",
        "out_trade_no": "MOCK-1", "notify_url": "http://127.0.0.1:9/n", "amount": {"total": 1},
    });
    mock.wechatpay(&[
        "request",
        "POST",
        "v3/pay/transactions/native",
        "--json",
        &order.to_string(),
    ]);
    let kept = mock.curl("GET", "transactions", None);
    assert_eq!(kept["data"], json!([]), "no state: {kept}");
    let root = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{}favicon.ico", mock.get("WECHATPAY_BASE_URI")),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&root.stdout), "404");
    mock.stop();

    for command in ["mock", "sandbox"] {
        let help = Command::new(BIN)
            .args([command, "--help"])
            .output()
            .unwrap();
        let help = text(&help);
        for honoured in [
            "--port",
            "--signing",
            "--time-scale",
            "--mchid",
            "--merchant-certificate",
        ] {
            assert!(help.contains(honoured), "{command}: {honoured} in {help}");
        }
        for ignored in [
            "--private-key",
            "--config",
            "--profile",
            "--platform-key",
            "--serial",
            "--secret-file",
            "--tls-root",
        ] {
            assert!(!help.contains(ignored), "{command} lists {ignored}: {help}");
        }
        let refused = Command::new(BIN)
            .args([command, "--private-key", "key.pem"])
            .output()
            .unwrap();
        assert!(!refused.status.success());
        assert!(
            text(&refused).contains("has no meaning"),
            "{}",
            text(&refused)
        );
    }
}

#[test]
fn notify_send_judges_the_answer_by_wechat_pay_s_rules() {
    let accepting = Catcher::start(200);
    let send = |args: &[&str]| {
        Command::new(BIN)
            .env_clear()
            .env("NO_COLOR", "1")
            .args(["notify", "send"])
            .args(args)
            .output()
            .unwrap()
    };
    let genuine = send(&[&accepting.url, "--event", "TRANSACTION.SUCCESS"]);
    assert!(genuine.status.success(), "{}", text(&genuine));
    assert!(text(&genuine).contains("accepted (WeChat Pay stops retrying)"));
    let probe = send(&[
        &accepting.url,
        "--event",
        "TRANSACTION.SUCCESS",
        "--tamper",
        "probe",
    ]);
    assert!(!probe.status.success());
    assert!(
        text(&probe).contains("ACCEPTED a notification that must be refused"),
        "{}",
        text(&probe)
    );
    let v2 = send(&[&accepting.url, "--event", "REFUND.SUCCESS", "--v2"]);
    assert!(
        !v2.status.success(),
        "an APIv2 answer must say SUCCESS in XML"
    );
    assert!(text(&v2).contains("return_code"), "{}", text(&v2));
    let raw = accepting.wait_for(3);
    let v2_body = String::from_utf8_lossy(&raw[2]);
    assert!(v2_body.contains("<req_info>"), "{v2_body}");

    let refusing = Catcher::start(401);
    let stale = send(&[
        &refusing.url,
        "--event",
        "REFUND.SUCCESS",
        "--tamper",
        "stale",
    ]);
    assert!(stale.status.success(), "{}", text(&stale));
    assert!(text(&stale).contains("refused, as it must be"));
    let list = send(&["--list"]);
    assert!(text(&list).contains("MCHTRANSFER.BILL.FINISHED"));
    let unknown = send(&[&refusing.url, "--event", "NO.SUCH"]);
    assert!(text(&unknown).contains("--list"), "{}", text(&unknown));
}
