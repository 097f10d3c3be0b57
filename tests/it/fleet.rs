//! A fleet: two processes (this test binary, run twice as children) sharing one Redis server
//! and one mock WeChat Pay. Certificates are downloaded once for both; a notification
//! delivered to both at once is processed once; with Redis gone, nothing is processed.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::post;
use bytes::Bytes;
use futures::future::join_all;
use http_body_util::Full;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use wechatpay::axum::Notified;
use wechatpay::callback::Reply;
use wechatpay::events::{Claim, Deduplicate};
use wechatpay::mock::{self, MockServer, Signing};
use wechatpay::redis::{RedisDedupe, RedisKeyStore};
use wechatpay::{Client, http};

use crate::redis_server::RedisServer;

const REDIS: &str = "WECHATPAY_FLEET_REDIS";
const MOCK: &str = "WECHATPAY_FLEET_MOCK";

/// One instance of the fleet: this test binary running the ignored test `test`, talking
/// through lines on its standard input and output.
struct Instance {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Instance {
    fn start(test: &str, env: &[(&str, &str)]) -> Self {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut child = Command::new(exe)
            .args([
                test,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the test binary runs itself");
        let stdout = child.stdout.take().expect("a piped stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    /// What the instance printed after `marker ` on its next line starting with it.
    fn expect(&self, marker: &str) -> String {
        let prefix = format!("{marker} ");
        loop {
            // A guard against a hung child, not a speed requirement.
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(300))
                .unwrap_or_else(|_| panic!("the instance printed no `{marker}` line"));
            // libtest may have begun the line with `test … ... `.
            if let Some(at) = line.find(&prefix) {
                return line[at + prefix.len()..].to_owned();
            }
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("the instance's stdin");
        writeln!(stdin, "{line}").expect("the instance reads its stdin");
    }

    fn finish(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("the instance ends");
        assert!(status.success(), "the instance failed: {status}");
    }
}

/// Reads lines from this process's standard input until `line`.
fn wait_for(line: &str) {
    for read in std::io::stdin().lock().lines() {
        if read.expect("stdin") == line {
            return;
        }
    }
    panic!("stdin closed before `{line}`");
}

fn downloads(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|request| request.path() == "/v3/certificates")
        .count()
}

/// The mock's certificate download from now on, slowed down so that the instances' first
/// requests overlap it.
fn slow_downloads(mock: &MockServer) {
    let (_, listing) = mock.certificate_download().unwrap();
    mock.on(
        "GET",
        "/v3/certificates",
        mock::Reply::status(200)
            .header("Content-Type", "application/json")
            .body(listing)
            .delay(Duration::from_millis(300)),
    );
}

#[test]
fn two_processes_share_one_certificate_download() {
    let redis = RedisServer::start();
    let mock = MockServer::start().unwrap();
    mock.sign_answers_with(Signing::Certificate);
    mock.on(
        "GET",
        "/v3/fleet/ping",
        mock::Reply::json(200, json!({"ok": true})),
    );
    slow_downloads(&mock);
    let (url, uri) = (redis.url(), mock.uri());
    let env = [(REDIS, url.as_str()), (MOCK, uri.as_str())];
    let mut fleet = [
        Instance::start("fleet::certificates_instance", &env),
        Instance::start("fleet::certificates_instance", &env),
    ];
    for instance in &fleet {
        instance.expect("READY");
    }
    // Sixteen first requests, eight in each process at once.
    for instance in &mut fleet {
        instance.send("GO");
    }
    for instance in &fleet {
        assert_eq!(instance.expect("FIRST"), mock::PLATFORM_CERTIFICATE_SERIAL);
    }
    assert_eq!(downloads(&mock), 1, "one download for the whole fleet");

    // WeChat Pay rotates: answers name the new certificate, which both learn from one more
    // download.
    mock.rotate_platform_certificate();
    slow_downloads(&mock);
    for instance in &mut fleet {
        instance.send("ROTATED");
    }
    for instance in &fleet {
        assert_eq!(
            instance.expect("SECOND"),
            mock::PLATFORM_ROTATED_CERTIFICATE_SERIAL
        );
    }
    assert_eq!(downloads(&mock), 2, "one more download after the rotation");
    for instance in fleet {
        instance.finish();
    }
}

#[test]
#[ignore = "one instance of two_processes_share_one_certificate_download"]
fn certificates_instance() {
    let (Ok(redis), Ok(uri)) = (std::env::var(REDIS), std::env::var(MOCK)) else {
        return;
    };
    let client = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .apiv3_key(mock::APIV3_KEY)
        .base_uri(&uri)
        .no_proxy()
        .auto_certificates()
        .key_store(RedisKeyStore::new(&redis, mock::MCHID).unwrap())
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Eight requests at once; the keys that verified their answers.
    let verified_by = || {
        let answers = runtime.block_on(join_all(
            (0..8).map(|_| client["v3/fleet/ping"].get_async(())),
        ));
        answers
            .into_iter()
            .map(|answer| answer.expect("a verified answer").verified_by().to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(",")
    };
    println!("READY ");
    wait_for("GO");
    println!("FIRST {}", verified_by());
    wait_for("ROTATED");
    println!("SECOND {}", verified_by());
}

/// What an instance's notify_url handler shares.
#[derive(Clone)]
struct Notify {
    client: Client,
    seen: Arc<dyn Deduplicate>,
    processed: Arc<Mutex<Vec<String>>>,
}

impl FromRef<Notify> for Client {
    fn from_ref(state: &Notify) -> Client {
        state.client.clone()
    }
}

/// The handler of the instances: processes (records) each notification it claims.
async fn notify(State(state): State<Notify>, Notified(notification): Notified) -> Reply {
    let now = wechatpay::toolkit::timestamp();
    match state.seen.claim(notification.id(), now).await {
        Claim::New => {}
        Claim::InProgress => return Reply::failure("being processed"),
        Claim::Done => return Reply::success(),
    }
    state
        .processed
        .lock()
        .unwrap()
        .push(notification.id().to_owned());
    // Processing takes a moment: the other instance's delivery arrives meanwhile.
    tokio::time::sleep(Duration::from_millis(5)).await;
    if let Err(error) = state.seen.complete(notification.id(), now).await {
        eprintln!("processed, not recorded: {error}");
    }
    Reply::success()
}

#[test]
#[ignore = "one instance of two_processes_process_each_notification_once"]
fn notify_instance() {
    let Ok(redis) = std::env::var(REDIS) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let processed = Arc::new(Mutex::new(Vec::new()));
    let state = Notify {
        client: mock::client_builder("http://127.0.0.1:9/").build().unwrap(),
        seen: Arc::new(RedisDedupe::new(&redis).unwrap()),
        processed: processed.clone(),
    };
    runtime.block_on(async {
        let app = Router::new()
            .route("/notify", post(notify))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("LISTENING {}", listener.local_addr().unwrap().port());
        tokio::spawn(async move { axum::serve(listener, app).await });
        tokio::task::spawn_blocking(|| wait_for("STOP"))
            .await
            .unwrap();
    });
    println!("PROCESSED {}", processed.lock().unwrap().join(","));
}

/// Delivers a notification to the instance on `port`, as WeChat Pay would: the status.
async fn deliver(
    http: &HttpClient<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    port: u16,
    (headers, body): &(http::HeaderMap, Bytes),
) -> u16 {
    let mut request = http::Request::post(format!("http://127.0.0.1:{port}/notify"))
        .body(Full::new(body.clone()))
        .unwrap();
    *request.headers_mut() = headers.clone();
    http.request(request).await.unwrap().status().as_u16()
}

#[test]
fn two_processes_process_each_notification_once() {
    let mut redis = RedisServer::start();
    let mock = MockServer::start().unwrap();
    let url = redis.url();
    let mut fleet = [
        Instance::start("fleet::notify_instance", &[(REDIS, &url)]),
        Instance::start("fleet::notify_instance", &[(REDIS, &url)]),
    ];
    let ports: Vec<u16> = fleet
        .iter()
        .map(|instance| instance.expect("LISTENING").parse().unwrap())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = HttpClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let paid = json!({
        "mchid": mock::MCHID, "appid": "wxd678efh567hg6787",
        "out_trade_no": "1217752501201407033233368018", "transaction_id": "4200000001201407033233368018",
        "trade_type": "JSAPI", "trade_state": "SUCCESS", "success_time": "2018-06-08T10:34:56+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
    });
    let notification = || {
        let made = mock
            .notification(
                "TRANSACTION.SUCCESS",
                "encrypt-resource",
                "transaction",
                &paid,
            )
            .unwrap();
        let id = serde_json::from_slice::<Value>(&made.1).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (id, made)
    };

    let mut sent = Vec::new();
    runtime.block_on(async {
        for _ in 0..100 {
            let (id, made) = notification();
            // Delivered to both instances at once.
            let (first, second) = tokio::join!(
                deliver(&http, ports[0], &made),
                deliver(&http, ports[1], &made)
            );
            // WeChat Pay delivers a failed one again until it is acknowledged.
            for (port, status) in [(ports[0], first), (ports[1], second)] {
                let mut status = status;
                let mut tries = 0;
                while status != 200 {
                    assert_eq!(status, 500, "only `being processed` fails");
                    tries += 1;
                    assert!(tries < 500, "notification {id} never acknowledged");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    status = deliver(&http, port, &made).await;
                }
            }
            sent.push(id);
        }
    });

    // Redis stops: no instance may process anything, every delivery fails (to be retried).
    redis.stop();
    let mut refused = Vec::new();
    runtime.block_on(async {
        for _ in 0..10 {
            let (id, made) = notification();
            let (first, second) = tokio::join!(
                deliver(&http, ports[0], &made),
                deliver(&http, ports[1], &made)
            );
            assert_eq!((first, second), (500, 500), "{id} without Redis");
            refused.push(id);
        }
    });

    let mut processed: HashMap<String, usize> = HashMap::new();
    for instance in &mut fleet {
        instance.send("STOP");
    }
    for instance in &fleet {
        for id in instance
            .expect("PROCESSED")
            .split(',')
            .filter(|id| !id.is_empty())
        {
            *processed.entry(id.to_owned()).or_default() += 1;
        }
    }
    for instance in fleet {
        instance.finish();
    }
    for id in &sent {
        assert_eq!(processed.get(id), Some(&1), "{id} processed once");
    }
    for id in &refused {
        assert_eq!(processed.get(id), None, "{id} processed without Redis");
    }
    assert_eq!(processed.len(), sent.len());
}
