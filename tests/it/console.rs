//! The sandbox console in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, started here on a free port; `.ci/run` installs Debian's chromium and
//! chromium-driver). An order made through the SDK is seen as NOTPAY, paid with a click, seen
//! as SUCCESS with its TRANSACTION.SUCCESS delivered to the merchant's notify_url (an axum
//! app on loopback) and answered 200; a request with a bad signature is found refused, with
//! why; a description with markup shows as text and runs nothing. The test saves its
//! screenshot in the build's temporary directory, and with `WECHATPAY_UPDATE_SCREENSHOT=1`
//! as the one the README shows (`docs/console.png`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use serde_json::{Value, json};
use wechatpay::events::Event;
use wechatpay::mock;
use wechatpay::sandbox::Sandbox;

use crate::merchant::{Merchant, order};

/// What the merchant sends in a description: markup that must show as text and run nothing.
const MARKUP: &str = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">";

/// chromedriver on a free loopback port, and the browser profile it uses; both gone on drop.
struct Driver {
    child: Child,
    port: u16,
    profile: PathBuf,
}

impl Driver {
    fn start() -> Self {
        let profile = std::env::temp_dir().join(format!(
            "wechatpay-console-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&profile).unwrap();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect(
                    "chromedriver runs (Debian: apt-get install chromium chromium-driver; \
                     .ci/run installs them)",
                );
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: the port was taken
                }
                if ready(port) {
                    return Self {
                        child,
                        port,
                        profile,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("chromedriver did not start on a free loopback port in five tries");
    }
}

/// Whether chromedriver answers `GET /status` on `port`.
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    // One read: chromedriver may keep the connection open after its answer.
    let mut answer = [0u8; 64];
    stream.write_all(request.as_bytes()).is_ok()
        && stream
            .read(&mut answer)
            .is_ok_and(|read| answer[..read].starts_with(b"HTTP/1.1 200"))
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A request to the sandbox signed with a signature that does not verify (the rest of the
/// `Authorization` header is right).
fn send_forged(sandbox: &Sandbox) -> String {
    let address = sandbox.mock().address();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let body = order("T-FORGED", 1, "http://127.0.0.1:9/notify").to_string();
    let request = format!(
        "POST /v3/pay/transactions/jsapi HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/json\r\nAccept: application/json\r\n\
         Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",\
         timestamp=\"{now}\",serial_no=\"{}\",signature=\"{}\"\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        mock::MCHID,
        mock::MERCHANT_SERIAL,
        "A".repeat(344),
        body.len()
    );
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// `GET target` on the sandbox's plain port with `Accept: accept`: the status line, the
/// headers (lower-cased names) and the body.
fn get(sandbox: &Sandbox, target: &str, accept: &str) -> (String, String, String) {
    let address = sandbox.mock().address();
    let mut stream = TcpStream::connect(address).unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {address}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap();
    (
        status.to_owned(),
        headers.to_ascii_lowercase(),
        body.to_owned(),
    )
}

#[test]
fn a_browser_gets_the_console_and_a_tool_the_control_api_s_index() {
    let sandbox = Sandbox::start().unwrap();
    let (status, headers, body) = get(&sandbox, "/_sandbox/", "text/html,*/*;q=0.8");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers.contains("content-type: text/html; charset=utf-8"),
        "{headers}"
    );
    assert!(
        headers.contains("content-security-policy: default-src 'self'; script-src 'self';"),
        "only the console's own script runs: {headers}"
    );
    assert!(body.contains("/_sandbox/console/console.js"), "{body}");
    assert!(!body.contains("{{"), "every part of the page is filled in");
    for (file, kind) in [
        ("console.js", "text/javascript"),
        ("console.css", "text/css"),
    ] {
        let (status, headers, _) = get(&sandbox, &format!("/_sandbox/console/{file}"), "*/*");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(
            headers.contains(&format!("content-type: {kind}")),
            "{headers}"
        );
    }
    let (status, headers, body) = get(&sandbox, "/_sandbox/", "application/json");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
    let index: Value = serde_json::from_str(&body).unwrap();
    assert!(
        index["routes"]
            .as_array()
            .is_some_and(|routes| !routes.is_empty())
    );
    let (status, _, body) = get(&sandbox, "/_sandbox/console/nothing.js", "*/*");
    assert_eq!(status, "HTTP/1.1 404 Not Found", "{body}");
    let (status, headers, _) = get(&sandbox, "/", "text/html");
    assert_eq!(status, "HTTP/1.1 302 Found");
    assert!(headers.contains("location: /_sandbox/"), "{headers}");
}

/// The text of the first element `css` matches, if any (read in the page: never stale).
async fn text(browser: &Browser, css: &str) -> Option<String> {
    let script = "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;";
    match browser.execute(script, vec![json!(css)]).await.unwrap() {
        Value::String(text) => Some(text),
        _ => None,
    }
}

/// The texts of every element `css` matches.
async fn texts(browser: &Browser, css: &str) -> Vec<String> {
    let script = "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent);";
    let found = browser.execute(script, vec![json!(css)]).await.unwrap();
    serde_json::from_value(found).unwrap()
}

/// Waits (up to 20 s, polling) until `css` matches an element whose text passes `check`.
async fn wait_for(browser: &Browser, css: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = text(browser, css).await;
        if let Some(seen) = &seen
            && check(seen)
        {
            return seen.clone();
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for `{css}`: it shows {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks the element `css` matches; found again when the page rendered it anew in between.
async fn click(browser: &Browser, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let clicked = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.click().await,
            Err(e) => Err(e),
        };
        match clicked {
            Ok(()) => return,
            Err(e) => assert!(Instant::now() < deadline, "cannot click `{css}`: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn open(driver: &Driver) -> Browser {
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--window-size=1440,1160",
        "--lang=zh-CN",
    ]
    .map(str::to_owned)
    .to_vec();
    args.push(format!("--user-data-dir={}", driver.profile.display()));
    let mut options = json!({"args": args});
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("chromedriver starts a headless Chromium")
}

/// A screenshot with something drawn on it: its pixels take many values (a blank page, a
/// handful). Decodes the PNG's image data (zlib) without a PNG crate.
fn assert_not_blank(png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let mut data = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        if kind == b"IDAT" {
            data.extend_from_slice(&png[at + 8..at + 8 + len]);
        }
        at += 12 + len;
    }
    let mut pixels = Vec::new();
    flate2::read::ZlibDecoder::new(&data[..])
        .read_to_end(&mut pixels)
        .unwrap();
    let mut seen = [false; 256];
    for byte in &pixels {
        seen[*byte as usize] = true;
    }
    let values = seen.iter().filter(|seen| **seen).count();
    assert!(
        values > 100,
        "the screenshot is blank ({values} byte values)"
    );
}

#[test]
fn the_console_shows_an_order_paid_with_a_click_its_callback_and_a_refused_request() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let merchant = Merchant::start(client.clone());
    let url = merchant.url();

    // The merchant's backend at work, through the SDK: the order the test pays, and a few
    // more for the screenshot.
    let jsapi = &client["v3/pay/transactions/jsapi"];
    jsapi
        .post(json!({"json": order("T-CONSOLE-1", 100, &url)}))
        .unwrap();
    for (number, total, result) in [("T-1002", 8800, "SUCCESS"), ("T-1003", 2599, "CLOSED")] {
        let mut body = order(number, total, &url);
        body["description"] = json!("深圳腾大-会员月卡");
        jsapi.post(json!({"json": body})).unwrap();
        sandbox.pay(number, result).unwrap();
    }
    let mut waiting = order("T-1004", 1998, &url);
    waiting["description"] = json!("QQ公仔 ×2");
    jsapi.post(json!({"json": waiting})).unwrap();
    client["v3/refund/domestic/refunds"]
        .post(json!({"json": {
            "out_trade_no": "T-1002", "out_refund_no": "R-1002-1", "notify_url": url,
            "reason": "商品已售完", "amount": {"refund": 3000, "total": 8800, "currency": "CNY"},
        }}))
        .unwrap();
    client["v3/fund-app/mch-transfer/transfer-bills"]
        .post(json!({"json": {
            "appid": "wxd678efh567hg6787", "out_bill_no": "TB-2001", "transfer_scene_id": "1000",
            "openid": "o-MYE42l80oelYMDE34nYD456Xoy", "transfer_amount": 400,
            "transfer_remark": "新会员开通有礼", "notify_url": url,
            "transfer_scene_report_infos": [{"info_type": "活动名称", "info_content": "新会员有礼"}],
        }}))
        .unwrap();
    client["v3/payscore/serviceorder"]
        .post(json!({"json": {
            "out_order_no": "PS-3001", "appid": "wxd678efh567hg6787", "service_id": "500001",
            "service_introduction": "某某酒店", "time_range": {"start_time": "OnAccept"},
            "risk_fund": {"name": "ESTIMATE_ORDER_COST", "amount": 10000},
            "notify_url": url, "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "need_user_confirm": true,
        }}))
        .unwrap();

    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let png = runtime.block_on(async {
        let browser = open(&driver).await;
        // `/` redirects to the console.
        browser.goto(&sandbox.uri()).await.unwrap();
        assert!(
            browser.current_url().await.unwrap().path().starts_with("/_sandbox/"),
            "/ redirects to the console"
        );

        // The order, unpaid; a click pays it; the page updates by itself.
        let row = "tr[data-key=\"transaction:T-CONSOLE-1\"]";
        wait_for(&browser, &format!("{row} .badge"), |s| s == "NOTPAY").await;
        click(&browser, &format!("{row} button[data-body*=\"SUCCESS\"]")).await;
        wait_for(&browser, &format!("{row} .badge"), |s| s == "SUCCESS").await;
        let paid = |event: &Event| {
            matches!(event, Event::TransactionSuccess(paid) if paid.out_trade_no == "T-CONSOLE-1")
        };
        assert!(merchant.events(2).iter().any(paid), "the merchant verified TRANSACTION.SUCCESS");

        // The callback, delivered: the merchant answered 200.
        click(&browser, "a[data-tab=\"callbacks\"]").await;
        let delivery =
            "details.delivery[data-event=\"TRANSACTION.SUCCESS\"][data-subject=\"T-CONSOLE-1\"]";
        wait_for(&browser, &format!("{delivery} .answer .status"), |s| s == "200").await;
        let state = text(&browser, &format!("{delivery} .state .badge")).await;
        assert_eq!(state.as_deref(), Some("delivered"));

        // Resent: a second attempt, answered 200 again.
        click(&browser, &format!("{delivery} button[data-path$=\"/resend\"]")).await;
        let statuses = format!("{delivery} .attempts tbody td:nth-child(3)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while texts(&browser, &statuses).await != ["200", "200"] {
            assert!(Instant::now() < deadline, "the resend is a second attempt, answered 200");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The form fires a tampered notification at the merchant, who refuses it.
        click(&browser, "#fire select[name=\"fault\"] option[value=\"signature\"]").await;
        click(&browser, "#fire button[type=\"submit\"]").await;
        let fired = "details.delivery[data-subject=\"TRANSACTION.SUCCESS\"]";
        let answer = wait_for(&browser, &format!("{fired} .answer .status"), |s| {
            s.starts_with('4')
        })
        .await;
        assert_eq!(answer, "401", "a bad signature is refused by the merchant's handler");
        assert!(!merchant.rejected().is_empty());

        // A request with a bad signature, sent now: it shows refused, with why.
        let answer = send_forged(&sandbox);
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        click(&browser, "a[data-tab=\"requests\"]").await;
        let refused = "details.req.refused";
        let verdict = wait_for(&browser, &format!("{refused} .verdict"), |s| {
            s.contains("signature")
        })
        .await;
        assert!(verdict.contains("refused"), "{verdict}");
        // Filtered to failed checks only, it is the one left; opened, its headers show.
        click(&browser, "#filter input[name=\"refused\"]").await;
        let rows = "return [...document.querySelectorAll('#panel-requests details.req')]\
                    .map((row) => row.className);";
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser.execute(rows, vec![]).await.unwrap() != json!(["req refused"]) {
            assert!(Instant::now() < deadline, "the filter leaves the refused request only");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        click(&browser, &format!("{refused} > summary")).await;
        let detail = wait_for(&browser, &format!("{refused} .detail"), |s| {
            s.contains("authorization")
        })
        .await;
        assert!(detail.contains("T-FORGED"), "the request body shows: {detail}");

        // The screenshot the README shows: the orders, without the last action's toast.
        click(&browser, "a[data-tab=\"orders\"]").await;
        browser
            .execute("document.getElementById('toast').className = 'toast';", vec![])
            .await
            .unwrap();
        wait_for(&browser, "#panel-orders .live-region", |s| s.contains("T-1002")).await;
        let hidden = "return getComputedStyle(document.getElementById('toast')).opacity;";
        while browser.execute(hidden, vec![]).await.unwrap() != json!("0") {
            assert!(Instant::now() < deadline, "the toast fades");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let png = browser.screenshot().await.unwrap();

        // Markup in what the merchant sends, arriving while the page is open: it shows as
        // text and runs nothing.
        let mut marked = order("T-MARKUP", 1, &url);
        marked["description"] = json!(MARKUP);
        client["v3/pay/transactions/jsapi"]
            .post_async(json!({"json": marked}))
            .await
            .unwrap();
        let shown = wait_for(
            &browser,
            "tr[data-key=\"transaction:T-MARKUP\"] td.desc",
            |s| !s.is_empty(),
        )
        .await;
        assert_eq!(shown, MARKUP, "the description shows literally");
        let ran = browser
            .execute(
                "return [typeof window.pwned, document.scripts.length, document.images.length];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(ran, json!(["undefined", 1, 0]), "no markup of the merchant's ran");
        browser.close().await.unwrap();
        png
    });
    drop(driver);
    assert_not_blank(&png);
    // The README's copy is rewritten on demand only, so that `cargo test` leaves the checkout
    // as it found it; the run's own goes next to the build.
    let path = match std::env::var_os("WECHATPAY_UPDATE_SCREENSHOT") {
        Some(_) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/console.png"),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console.png"),
    };
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &png).unwrap();
}
