//! End to end: the documented send-prepaidmessage call against the mock server, in another
//! process on another core, for each crypto backend, sequentially and with 16 in flight.
//!
//! ```text
//! cargo bench --bench end_to_end            # REQUESTS=10000 by default
//! REQUESTS=2000 cargo bench --bench end_to_end
//! ```
//!
//! The bench re-runs its own binary in three roles: the mock server (pinned to core 1 with
//! `taskset` when there are two cores), the client (pinned to core 0), and a memory probe (a
//! fresh client process that sends 10,000 requests and reports its peak resident memory).
//! It prints, per backend and mode: requests/s, CPU µs per request (the whole client
//! process), the backend's raw RSA signing rate measured in the same process (mean of a
//! measurement right before and right after the run), their ratio, the time the signatures
//! took inside the run, and the CPU left for everything but RSA (CPU per request minus the
//! in-run signature and one raw verification).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{PATH, TEMPLATE, options};
use wechatpay::crypto::Backend;
use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::v3::sign;
use wechatpay::{Client, PrivateKey, PublicKey, Signer, toolkit};

const IN_FLIGHT: usize = 16;
const ROLE: &str = "WECHATPAY_BENCH_ROLE";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::var(ROLE).as_deref() {
        Ok("mock") => serve_mock(),
        Ok("client") => run_client(),
        Ok("memory") => probe_memory(),
        _ => orchestrate(),
    }
}

fn requests() -> usize {
    std::env::var("REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// Starts the mock and the client processes and relays the client's report.
fn orchestrate() -> Result<(), Box<dyn std::error::Error>> {
    let pin = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2
        && Command::new("taskset").arg("-V").output().is_ok();
    let mut mock = spawn("mock", pin.then_some("1"), Stdio::piped(), "")?;
    let uri = {
        let stdout = mock.stdout.take().ok_or("no mock stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        line.trim().to_owned()
    };
    println!(
        "end_to_end: {} requests per run, mock at {uri}, {}",
        requests(),
        if pin {
            "client pinned to core 0, mock to core 1"
        } else {
            "not pinned (taskset missing or one core)"
        }
    );
    let mut outcome = Ok(());
    for role in ["client", "memory"] {
        let status = spawn(role, pin.then_some("0"), Stdio::inherit(), &uri)?.wait()?;
        if !status.success() {
            outcome = Err(format!("the {role} run failed: {status}").into());
            break;
        }
    }
    let _ = mock.kill();
    outcome
}

/// Runs this binary in `role`, under `taskset -c core` when asked.
fn spawn(role: &str, core: Option<&str>, stdout: Stdio, uri: &str) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let mut command = match core {
        Some(core) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(core).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    command
        .env(ROLE, role)
        .env("MOCK_URI", uri)
        .stdout(stdout)
        .spawn()
}

fn serve_mock() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    mock.on("POST", PATH, Reply::status(204));
    mock.reuse_answer_signatures(true);
    mock.record_requests(false);
    println!("{}", mock.uri());
    std::io::stdout().flush()?;
    // Serve until the orchestrator goes away.
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// The merchant key, timing its signatures: RSA may run slower inside a run than in a tight
/// loop (caches, idle wake-ups), and what the SDK itself costs is what is left.
#[derive(Clone)]
struct TimedSigner {
    key: PrivateKey,
    nanos: Arc<AtomicU64>,
}

impl Signer for TimedSigner {
    fn sign(&self, message: &[u8]) -> wechatpay::Result<Vec<u8>> {
        let start = Instant::now();
        let signature = self.key.sign(message);
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        signature
    }
}

fn client(uri: &str, backend: Backend, signer: TimedSigner) -> wechatpay::Result<Client> {
    mock::client_builder(uri)
        .signer(signer)
        .platform_key(
            mock::PLATFORM_KEY_ID,
            PublicKey::from_pem_with_backend(mock::PLATFORM_PUBLIC_KEY_PEM, backend)?,
        )
        .build()
}

/// CPU time of this whole process (all threads), from `/proc/self/stat`.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Raw RSA rates of `backend` in this process: (signatures/s, verifications/s).
fn raw_rates(backend: Backend) -> wechatpay::Result<(f64, f64)> {
    let key = PrivateKey::from_pem_with_backend(mock::MERCHANT_KEY_PEM, backend)?;
    let public = PublicKey::from_pem_with_backend(mock::MERCHANT_PUBLIC_KEY_PEM, backend)?;
    let message = sign::request_message(
        "POST",
        PATH,
        toolkit::timestamp(),
        "n",
        options()["json"].to_string().as_bytes(),
    );
    let signature = key.sign(&message)?;
    let rate = |mut op: Box<dyn FnMut() -> wechatpay::Result<()>>| -> wechatpay::Result<f64> {
        let start = Instant::now();
        let mut count = 0u32;
        while start.elapsed() < Duration::from_millis(1000) {
            op()?;
            count += 1;
        }
        Ok(f64::from(count) / start.elapsed().as_secs_f64())
    };
    let signing = rate(Box::new(|| key.sign(&message).map(drop)))?;
    let verifying = rate(Box::new(|| public.verify(&message, &signature)))?;
    Ok((signing, verifying))
}

struct Run {
    per_second: f64,
    cpu_per_request: Duration,
}

fn measure(count: usize, send: impl FnOnce() -> wechatpay::Result<()>) -> wechatpay::Result<Run> {
    let cpu = process_cpu();
    let start = Instant::now();
    send()?;
    let wall = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu);
    Ok(Run {
        per_second: count as f64 / wall.as_secs_f64(),
        cpu_per_request: cpu / count as u32,
    })
}

fn sequential(client: &Client, count: usize) -> wechatpay::Result<()> {
    let options = options();
    for _ in 0..count {
        client[TEMPLATE].post(options.clone())?;
    }
    Ok(())
}

fn in_flight(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    count: usize,
) -> wechatpay::Result<()> {
    let options = options();
    runtime.block_on(async {
        let lanes = (0..IN_FLIGHT).map(|lane| {
            let share = count / IN_FLIGHT + usize::from(lane < count % IN_FLIGHT);
            let options = &options;
            async move {
                for _ in 0..share {
                    client[TEMPLATE].post_async(options.clone()).await?;
                }
                Ok::<_, wechatpay::Error>(())
            }
        });
        futures::future::try_join_all(lanes).await.map(drop)
    })
}

fn run_client() -> Result<(), Box<dyn std::error::Error>> {
    let uri = std::env::var("MOCK_URI")?;
    let count = requests();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    println!(
        "{:<11} {:<12} {:>9} {:>11} {:>11} {:>7} {:>11} {:>14}",
        "backend",
        "mode",
        "req/s",
        "CPU µs/req",
        "raw sign/s",
        "ratio",
        "sign µs/req",
        "non-RSA µs/req"
    );
    for backend in Backend::available().iter().copied() {
        let signer = TimedSigner {
            key: PrivateKey::from_pem_with_backend(mock::MERCHANT_KEY_PEM, backend)?,
            nanos: Arc::new(AtomicU64::new(0)),
        };
        let client = client(&uri, backend, signer.clone())?;
        sequential(&client, count.min(200))?; // warm up: connections, caches
        for mode in ["sequential", "16 in flight"] {
            // The raw rates drift with the machine's state: measure them right before and
            // right after the run, and compare the run with their mean.
            let before = raw_rates(backend)?;
            signer.nanos.store(0, Ordering::Relaxed);
            let run = measure(count, || match mode {
                "sequential" => sequential(&client, count),
                _ => in_flight(&runtime, &client, count),
            })?;
            let after = raw_rates(backend)?;
            let signing = (before.0 + after.0) / 2.0;
            let verifying = (before.1 + after.1) / 2.0;
            let signed_in_run = signer.nanos.load(Ordering::Relaxed) as f64 / 1e3 / count as f64;
            let rsa_per_request = signed_in_run + 1e6 / verifying;
            let cpu_per_request = run.cpu_per_request.as_secs_f64() * 1e6;
            println!(
                "{:<11} {:<12} {:>9.0} {:>11.1} {:>11.0} {:>6.1}% {:>11.1} {:>14.1}",
                format!("{backend:?}"),
                mode,
                run.per_second,
                cpu_per_request,
                signing,
                100.0 * run.per_second / signing,
                signed_in_run,
                cpu_per_request - rsa_per_request,
            );
        }
    }
    Ok(())
}

fn probe_memory() -> Result<(), Box<dyn std::error::Error>> {
    let uri = std::env::var("MOCK_URI")?;
    let signer = TimedSigner {
        key: PrivateKey::from_pem(mock::MERCHANT_KEY_PEM)?,
        nanos: Arc::new(AtomicU64::new(0)),
    };
    let client = client(&uri, Backend::default(), signer)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    in_flight(&runtime, &client, 10_000)?;
    let status = std::fs::read_to_string("/proc/self/status")?;
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .map_or("?".to_owned(), |line| line[name.len()..].trim().to_owned())
    };
    println!(
        "memory: after 10000 requests (16 in flight, {:?}) peak resident {} (now {})",
        Backend::default(),
        field("VmHWM:"),
        field("VmRSS:")
    );
    Ok(())
}
