//! Many merchants in one process: 1,000 clients, each with its own merchant id, certificate
//! serial and private key, each making calls; the process's threads and resident memory.
//!
//! ```text
//! cargo bench --bench many_clients             # CLIENTS=1000 KEYS=32 ROUNDS=3
//! ```
//!
//! Generating 1,000 RSA-2048 keys would take minutes, so the bench generates `KEYS` distinct
//! key pairs once (aws-lc-rs), keeps them as PEM files in `target/many_clients/`, and gives
//! client `i` key `i % KEYS`; every client parses its own copy from PEM, as separate
//! merchants would. Merchant ids and serials are all distinct. The mock runs in a process of
//! its own (pinned to core 1) and knows every merchant (`MockServer::add_merchant`); the
//! clients run in a fresh process per round (pinned to core 0), which:
//!
//! 1. builds the clients (default transport settings: they share one set of pools),
//! 2. makes one blocking `post` per client, one after the other, from the main thread,
//! 3. makes one `post_async` per client, all in flight at once on a current-thread runtime
//!    (the connection cap, 32 per host, queues them),
//! 4. makes the blocking round again,
//!
//! and reports the threads of the process (`/proc/self/task`) and its resident memory
//! (`VmRSS` and the peak `VmHWM` of `/proc/self/status`) after each step.
//!
//! `SETTINGS=identities` gives every client a TLS identity of its own (for APIv2
//! `security: true`): the mock merchant's TLS certificate followed by a distinct tail of the
//! mock's other test certificates, a stand-in for 1,000 merchant certificates (making those
//! needs a CA toolkit the project does not carry); the clients then share their plain
//! connections only. `SETTINGS=distinct` gives every client a connect timeout of its own, so
//! that no two share any pool: what a client costs when nothing is shared.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::probe::{median, process_cpu, status_kib, threads};
use common::{PATH, TEMPLATE, env_number, options};
use serde::{Deserialize, Serialize};
use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::{Client, PrivateKey, PublicKey};

const ROLE: &str = "WECHATPAY_BENCH_ROLE";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::var(ROLE).as_deref() {
        Ok("mock") => serve_mock(),
        Ok("clients") => run_clients(),
        _ => orchestrate(),
    }
}

fn clients() -> usize {
    env_number("CLIENTS", 1_000).max(1)
}

fn keys() -> usize {
    env_number("KEYS", 32).clamp(1, clients())
}

fn mchid(index: usize) -> String {
    format!("{}", 1_900_100_000 + index)
}

fn serial(index: usize) -> String {
    format!("5157F09EFDC096DE15EBE81A47057A72{index:08X}")
}

/// A certificate chain of its own for client `index`: the mock merchant's TLS certificate,
/// then four of the mock's other test certificates, picked by the digits of `index` in base 6.
fn identity_chain(index: usize) -> String {
    const TAIL: [&str; 6] = [
        mock::TLS_CA_CERTIFICATE_PEM,
        mock::PLATFORM_CERTIFICATE_PEM,
        mock::PLATFORM_ROTATED_CERTIFICATE_PEM,
        mock::FORGED_CERTIFICATE_PEM,
        mock::MERCHANT_CERTIFICATE_PEM,
        mock::TLS_SERVER_CERTIFICATE_PEM,
    ];
    let mut chain = mock::MERCHANT_TLS_CERTIFICATE_PEM.to_owned();
    let mut rest = index;
    for _ in 0..4 {
        chain.push_str(TAIL[rest % TAIL.len()]);
        rest /= TAIL.len();
    }
    chain
}

/// `target/many_clients/`: the generated keys.
fn key_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("many_clients")
}

fn pem(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// Makes the key pairs that are missing from `dir`: `key-N.pem` (PKCS#8) and `pub-N.pem`.
fn ensure_keys(dir: &Path, count: usize) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let mut made = 0;
    for index in 0..count {
        let private = dir.join(format!("key-{index}.pem"));
        let public = dir.join(format!("pub-{index}.pem"));
        if private.exists() && public.exists() {
            continue;
        }
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "cannot generate a key")?;
        let pkcs8: Pkcs8V1Der<'_> = pair.as_der().map_err(|_| "cannot encode a key")?;
        let spki: PublicKeyX509Der<'_> = pair
            .public_key()
            .as_der()
            .map_err(|_| "cannot encode a key")?;
        std::fs::write(&private, pem("PRIVATE KEY", pkcs8.as_ref()))?;
        std::fs::write(&public, pem("PUBLIC KEY", spki.as_ref()))?;
        made += 1;
    }
    if made > 0 {
        println!(
            "generated {made} RSA-2048 key pairs in {:.1} s (kept in {})",
            started.elapsed().as_secs_f64(),
            dir.display()
        );
    }
    Ok(())
}

fn read_keys(dir: &Path, prefix: &str, count: usize) -> std::io::Result<Vec<String>> {
    (0..count)
        .map(|index| std::fs::read_to_string(dir.join(format!("{prefix}-{index}.pem"))))
        .collect()
}

fn serve_mock() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    mock.on("POST", PATH, Reply::status(204));
    mock.reuse_answer_signatures(true);
    mock.record_requests(false);
    let publics = read_keys(&key_dir(), "pub", keys())?;
    let parsed: Vec<PublicKey> = publics
        .iter()
        .map(|pem| PublicKey::from_pem(pem))
        .collect::<Result<_, _>>()?;
    for index in 0..clients() {
        mock.add_merchant(
            &mchid(index),
            &serial(index),
            parsed[index % parsed.len()].clone(),
        );
    }
    println!("{}", mock.uri());
    std::io::stdout().flush()?;
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    Ok(())
}

/// What one step left behind.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Step {
    name: String,
    threads: usize,
    rss_kib: u64,
    peak_kib: u64,
    /// Requests/s and CPU µs per request of the step's calls, when it made calls.
    per_second: f64,
    cpu_us: f64,
}

impl Step {
    fn now(name: &str, calls: usize, wall: Duration, cpu: Duration) -> Self {
        Self {
            name: name.to_owned(),
            threads: threads(),
            rss_kib: status_kib("VmRSS"),
            peak_kib: status_kib("VmHWM"),
            per_second: if calls == 0 {
                0.0
            } else {
                calls as f64 / wall.as_secs_f64()
            },
            cpu_us: if calls == 0 {
                0.0
            } else {
                cpu.as_secs_f64() * 1e6 / calls as f64
            },
        }
    }
}

/// Times `calls` calls made by `work`.
fn timed(
    name: &str,
    calls: usize,
    work: impl FnOnce() -> wechatpay::Result<()>,
) -> wechatpay::Result<Step> {
    let cpu = process_cpu();
    let started = Instant::now();
    work()?;
    let wall = started.elapsed();
    Ok(Step::now(
        name,
        calls,
        wall,
        process_cpu().saturating_sub(cpu),
    ))
}

fn run_clients() -> Result<(), Box<dyn std::error::Error>> {
    let uri = std::env::var("MOCK_URI")?;
    let count = clients();
    let settings = std::env::var("SETTINGS").unwrap_or_default();
    let pems = read_keys(&key_dir(), "key", keys())?;
    let mut steps = vec![Step::now("start", 0, Duration::ZERO, Duration::ZERO)];
    let started = Instant::now();
    let mut all = Vec::with_capacity(count);
    for index in 0..count {
        let mut builder = Client::builder()
            .mchid(&mchid(index))
            .serial(&serial(index))
            .private_key(PrivateKey::from_pem(&pems[index % pems.len()])?)
            .platform_key(
                mock::PLATFORM_KEY_ID,
                PublicKey::from_pem(mock::PLATFORM_PUBLIC_KEY_PEM)?,
            )
            .base_uri(&uri)
            .no_proxy();
        match settings.as_str() {
            "distinct" => {
                builder = builder.connect_timeout(Duration::from_millis(10_000 + index as u64));
            }
            "identities" => {
                builder = builder.merchant_identity(&identity_chain(index), mock::MERCHANT_KEY_PEM);
            }
            _ => {}
        }
        all.push(builder.build()?);
    }
    let mut step = Step::now("clients built", 0, Duration::ZERO, Duration::ZERO);
    step.per_second = count as f64 / started.elapsed().as_secs_f64();
    steps.push(step);
    let blocking = |clients: &[Client]| -> wechatpay::Result<()> {
        let options = options();
        for client in clients {
            client[TEMPLATE].post(options.clone())?;
        }
        Ok(())
    };
    steps.push(timed("a blocking call each", count, || blocking(&all))?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    steps.push(timed("an async call each, all in flight", count, || {
        let options = options();
        runtime.block_on(async {
            let calls = all
                .iter()
                .map(|client| client[TEMPLATE].post_async(options.clone()));
            futures::future::try_join_all(calls).await.map(drop)
        })
    })?);
    steps.push(timed("a blocking call each, again", count, || {
        blocking(&all)
    })?);
    println!("RESULT {}", serde_json::to_string(&steps)?);
    Ok(())
}

fn orchestrate() -> Result<(), Box<dyn std::error::Error>> {
    let pin = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2
        && Command::new("taskset").arg("-V").output().is_ok();
    let dir = key_dir();
    ensure_keys(&dir, keys())?;
    let me = std::env::current_exe()?;
    let pinned = |core: &str| {
        if pin {
            let mut command = Command::new("taskset");
            command.args(["-c", core]).arg(&me);
            command
        } else {
            Command::new(&me)
        }
    };
    let mut mock = pinned("1")
        .env(ROLE, "mock")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let uri = {
        let stdout = mock.stdout.take().ok_or("no mock stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        line.trim().to_owned()
    };
    let rounds = env_number("ROUNDS", 3).max(1);
    let settings = std::env::var("SETTINGS").unwrap_or_else(|_| "shared".to_owned());
    println!(
        "many_clients: {} clients (distinct merchant ids and serials; {} distinct RSA-2048 keys, \
         each client parsing its own copy), transport settings {settings}, {rounds} rounds, {}",
        clients(),
        keys(),
        if pin {
            "clients pinned to core 0, mock to core 1"
        } else {
            "not pinned"
        }
    );
    let mut rounds_steps: Vec<Vec<Step>> = Vec::new();
    for round in 1..=rounds {
        let output = pinned("0")
            .env(ROLE, "clients")
            .env("MOCK_URI", &uri)
            .stdout(Stdio::piped())
            .output()?;
        if !output.status.success() {
            let _ = mock.kill();
            return Err(format!(
                "round {round} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text
            .lines()
            .find_map(|line| line.strip_prefix("RESULT "))
            .ok_or("the clients printed no result")?;
        let steps: Vec<Step> = serde_json::from_str(line)?;
        println!();
        println!("round {round}");
        print_steps(&steps);
        rounds_steps.push(steps);
    }
    drop(mock.stdin.take());
    let _ = mock.wait();
    println!();
    println!("medians of {rounds} rounds:");
    let medians: Vec<Step> = (0..rounds_steps[0].len())
        .map(|index| {
            let of = |f: &dyn Fn(&Step) -> f64| {
                median(
                    &rounds_steps
                        .iter()
                        .map(|steps| f(&steps[index]))
                        .collect::<Vec<_>>(),
                )
            };
            Step {
                name: rounds_steps[0][index].name.clone(),
                threads: of(&|s| s.threads as f64) as usize,
                rss_kib: of(&|s| s.rss_kib as f64) as u64,
                peak_kib: of(&|s| s.peak_kib as f64) as u64,
                per_second: of(&|s| s.per_second),
                cpu_us: of(&|s| s.cpu_us),
            }
        })
        .collect();
    print_steps(&medians);
    let most_threads = rounds_steps
        .iter()
        .flatten()
        .map(|step| step.threads)
        .max()
        .unwrap_or(0);
    let peak = rounds_steps
        .iter()
        .flatten()
        .map(|step| step.peak_kib)
        .max()
        .unwrap_or(0);
    let start = medians[0].rss_kib;
    let built = medians[1].rss_kib;
    let last = medians.last().map_or(0, |step| step.rss_kib);
    println!();
    println!(
        "{} clients: at most {most_threads} threads, peak resident {:.1} MiB; {:.1} KiB per \
         client once built, {:.1} KiB per client after their calls",
        clients(),
        peak as f64 / 1024.0,
        (built.saturating_sub(start)) as f64 / clients() as f64,
        (last.saturating_sub(start)) as f64 / clients() as f64,
    );
    Ok(())
}

fn print_steps(steps: &[Step]) {
    println!(
        "{:<36} {:>7} {:>10} {:>10} {:>9} {:>8}",
        "after", "threads", "VmRSS KiB", "VmHWM KiB", "calls/s", "CPU µs"
    );
    for step in steps {
        let rate = if step.per_second > 0.0 {
            format!("{:.0}", step.per_second)
        } else {
            String::new()
        };
        let cpu = if step.cpu_us > 0.0 {
            format!("{:.1}", step.cpu_us)
        } else {
            String::new()
        };
        println!(
            "{:<36} {:>7} {:>10} {:>10} {:>9} {:>8}",
            step.name, step.threads, step.rss_kib, step.peak_kib, rate, cpu
        );
    }
}
