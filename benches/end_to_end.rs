//! End to end: the documented send-prepaidmessage call against the mock server, in another
//! process on another core, for each crypto backend and three ways of calling: sequential
//! blocking `post`, sequential `post_async` (awaited one at a time on a current-thread tokio
//! runtime), and 16 `post_async` in flight.
//!
//! ```text
//! cargo bench --bench end_to_end                          # AwsLc; ROUNDS=5, REQUESTS=5000
//! cargo bench --bench end_to_end --features rustcrypto    # and RustCrypto (REQUESTS/10)
//! ROUNDS=3 REQUESTS=2000 cargo bench --bench end_to_end
//! ```
//!
//! The bench re-runs its own binary: as the mock server (pinned to core 1 with `taskset` when
//! there are two cores), once per measurement as a fresh client process (pinned to core 0),
//! and as a memory probe. Measurements are interleaved: each round measures every backend and
//! mode once, in turn, and the summary gives the median of the rounds.
//!
//! Each client process measures its backend's raw RSA rates (signing, and verifying an
//! answer) right before and right after its run, in the same process, and reports the run
//! against them: against the raw signing rate, and against the physical limit of one core,
//! `1 / (raw sign + raw verify)` (every call signs a request and verifies an answer). It also
//! times the signatures inside the run, so that what the SDK costs besides RSA is what is
//! left: CPU per request − in-run signature − one raw verification. CPU is the whole client
//! process's (every thread, user and kernel), from the scheduler's run times.
//!
//! It writes the figures to `target/end_to_end.json` and a chart of requests/s by mode and
//! backend to `target/end_to_end.svg` (the copy in `benches/results/` is what BENCHMARKS.md
//! shows).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::probe::{median, process_cpu, status_kib};
use common::{PATH, TEMPLATE, env_number, options};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use wechatpay::crypto::{Backend, PlatformKeys};
use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::v3::sign;
use wechatpay::v3::verify::verify_response;
use wechatpay::{Client, PrivateKey, PublicKey, Signer, toolkit};

const IN_FLIGHT: usize = 16;
const ROLE: &str = "WECHATPAY_BENCH_ROLE";

/// How the client calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Mode {
    /// One blocking `post` after the other.
    Blocking,
    /// One `post_async` after the other, awaited on a current-thread runtime.
    Sequential,
    /// 16 `post_async` in flight on a current-thread runtime.
    InFlight,
    /// A minimal hand-written client on hyper-util (see [`Floor`]), one call at a time.
    MinimalSequential,
    /// The minimal client with 16 in flight.
    MinimalInFlight,
    /// hyper-util alone sending copies of one signed request, one at a time, reading the
    /// answer, checking nothing.
    HyperSequential,
    /// The floor with 16 in flight.
    HyperInFlight,
}

impl Mode {
    const ALL: [Mode; 5] = [
        Mode::Blocking,
        Mode::Sequential,
        Mode::InFlight,
        Mode::MinimalSequential,
        Mode::MinimalInFlight,
    ];
    /// The SDK's modes, in the chart.
    const SDK: [Mode; 3] = [Mode::Blocking, Mode::Sequential, Mode::InFlight];
    const FLOOR: [Mode; 2] = [Mode::HyperSequential, Mode::HyperInFlight];

    fn label(self) -> &'static str {
        match self {
            Mode::Blocking => "sequential, blocking",
            Mode::Sequential => "sequential, async",
            Mode::InFlight => "16 in flight, async",
            Mode::MinimalSequential => "minimal client, 1 at a time",
            Mode::MinimalInFlight => "minimal client, 16 in flight",
            Mode::HyperSequential => "hyper alone, 1 at a time",
            Mode::HyperInFlight => "hyper alone, 16 in flight",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Mode::Blocking => "blocking",
            Mode::Sequential => "async",
            Mode::InFlight => "async ×16",
            Mode::MinimalSequential => "minimal",
            Mode::MinimalInFlight => "minimal ×16",
            _ => self.label(),
        }
    }
}

/// One measurement: one client process, one backend, one mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sample {
    backend: String,
    mode: Mode,
    requests: usize,
    per_second: f64,
    /// CPU µs per request, the whole client process.
    cpu_us: f64,
    /// Raw RSA rates in this process (mean of before and after the run).
    sign_per_second: f64,
    verify_per_second: f64,
    /// µs per request the signatures took inside the run.
    signed_in_run_us: f64,
}

impl Sample {
    const HEADER: &str = "backend     mode                        req/s   CPU µs   sign/s  verify/s  of sign of limit  sign µs  non-RSA";

    fn is_floor(&self) -> bool {
        Mode::FLOOR.contains(&self.mode)
    }

    /// One line of the table, under [`Sample::HEADER`].
    fn row(&self) -> String {
        if self.is_floor() {
            return format!(
                "{:<11} {:<25} {:>7.0} {:>8.1}",
                "-",
                self.mode.label(),
                self.per_second,
                self.cpu_us
            );
        }
        format!(
            "{:<11} {:<25} {:>7.0} {:>8.1} {:>8.0} {:>9.0} {:>7.1}% {:>7.1}% {:>8.1} {:>8.1}",
            self.backend,
            self.mode.label(),
            self.per_second,
            self.cpu_us,
            self.sign_per_second,
            self.verify_per_second,
            100.0 * self.per_second / self.sign_per_second,
            100.0 * self.per_second / self.limit(),
            self.signed_in_run_us,
            self.non_rsa_us(),
        )
    }

    /// One core's physical limit: every call signs once and verifies once.
    fn limit(&self) -> f64 {
        1e6 / (1e6 / self.sign_per_second + 1e6 / self.verify_per_second)
    }

    /// CPU µs per request besides RSA (the in-run signature and one raw verification).
    fn non_rsa_us(&self) -> f64 {
        self.cpu_us - self.signed_in_run_us - 1e6 / self.verify_per_second
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::var(ROLE).as_deref() {
        Ok("mock") => serve_mock(),
        Ok("client") => run_client(),
        Ok("memory") => probe_memory(),
        Ok("profile") => profile(),
        Ok("report") => {
            // The summary and the chart again, from the figures of the last run.
            let samples: Vec<Sample> = serde_json::from_str(&std::fs::read_to_string(
                target_dir().join("end_to_end.json"),
            )?)?;
            let rounds = samples
                .iter()
                .filter(|s| s.mode == Mode::InFlight && s.backend == "AwsLc")
                .count();
            summarize(&samples, rounds)
        }
        _ => orchestrate(),
    }
}

/// Requests per run for `backend`: RustCrypto signs ten times slower.
fn requests(backend: Backend) -> usize {
    let requests = env_number("REQUESTS", 5_000);
    match backend {
        Backend::AwsLc => requests,
        Backend::RustCrypto => (requests / 10).max(IN_FLIGHT),
    }
}

/// Starts the mock, runs the interleaved rounds and the memory probe, and reports.
fn orchestrate() -> Result<(), Box<dyn std::error::Error>> {
    let pin = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2
        && Command::new("taskset").arg("-V").output().is_ok();
    let mut mock = spawn("mock", pin.then_some("1"), Stdio::piped(), &[])?;
    let uri = {
        let stdout = mock.stdout.take().ok_or("no mock stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        line.trim().to_owned()
    };
    let rounds = env_number("ROUNDS", 5).max(1);
    println!(
        "end_to_end: {rounds} interleaved rounds, requests per run: {}; mock at {uri}, {}",
        Backend::available()
            .iter()
            .map(|backend| format!("{backend:?} {}", requests(*backend)))
            .collect::<Vec<_>>()
            .join(", "),
        if pin {
            "client pinned to core 0, mock to core 1"
        } else {
            "not pinned (taskset missing or one core)"
        }
    );
    let outcome = run_rounds(pin, &uri, rounds);
    let _ = mock.kill();
    let samples = outcome?;
    summarize(&samples, rounds)?;
    Ok(())
}

fn run_rounds(
    pin: bool,
    uri: &str,
    rounds: usize,
) -> Result<Vec<Sample>, Box<dyn std::error::Error>> {
    println!();
    println!("{:<5} {}", "round", Sample::HEADER);
    let mut runs: Vec<(Backend, Mode)> = Vec::new();
    for backend in Backend::available() {
        runs.extend(Mode::ALL.iter().map(|mode| (*backend, *mode)));
    }
    runs.extend(Mode::FLOOR.iter().map(|mode| (Backend::default(), *mode)));
    let mut samples = Vec::new();
    for round in 1..=rounds {
        for (backend, mode) in &runs {
            let vars = [
                ("BACKEND", format!("{backend:?}")),
                ("MODE", format!("{mode:?}")),
                ("MOCK_URI", uri.to_owned()),
                ("RUN_REQUESTS", requests(*backend).to_string()),
            ];
            let child = spawn("client", pin.then_some("0"), Stdio::piped(), &vars)?;
            let output = child.wait_with_output()?;
            if !output.status.success() {
                return Err(
                    format!("the {backend:?} {mode:?} run failed: {}", output.status).into(),
                );
            }
            let text = String::from_utf8_lossy(&output.stdout);
            let line = text
                .lines()
                .find_map(|line| line.strip_prefix("RESULT "))
                .ok_or("the client printed no result")?;
            let sample: Sample = serde_json::from_str(line)?;
            println!("{:<5} {}", round, sample.row());
            samples.push(sample);
        }
    }
    let memory = spawn(
        "memory",
        pin.then_some("0"),
        Stdio::inherit(),
        &[("MOCK_URI", uri.to_owned())],
    )?
    .wait()?;
    if !memory.success() {
        return Err(format!("the memory probe failed: {memory}").into());
    }
    Ok(samples)
}

/// The medians, the blocking path's extra CPU, the floors, the JSON and the chart.
fn summarize(samples: &[Sample], rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
    println!();
    println!(
        "medians of {rounds} rounds (ratios: each run against the raw rates of its own process):"
    );
    println!("{}", Sample::HEADER);
    let mut rows = Vec::new();
    let of = |backend: &str, mode: Mode| -> Vec<&Sample> {
        samples
            .iter()
            .filter(|s| s.mode == mode && (s.is_floor() || s.backend == backend))
            .collect()
    };
    let m = |of: &[&Sample], f: &dyn Fn(&Sample) -> f64| {
        median(&of.iter().map(|s| f(s)).collect::<Vec<_>>())
    };
    for backend in Backend::available() {
        let name = format!("{backend:?}");
        for mode in Mode::ALL {
            let of = of(&name, mode);
            let row = Row {
                backend: name.clone(),
                mode,
                per_second: m(&of, &|s| s.per_second),
                low: of
                    .iter()
                    .map(|s| s.per_second)
                    .fold(f64::INFINITY, f64::min),
                high: of.iter().map(|s| s.per_second).fold(0.0, f64::max),
                sign_per_second: m(&of, &|s| s.sign_per_second),
                limit: m(&of, &|s| s.limit()),
                of_sign: m(&of, &|s| s.per_second / s.sign_per_second),
                of_limit: m(&of, &|s| s.per_second / s.limit()),
            };
            println!(
                "{:<11} {:<25} {:>7.0} {:>8.1} {:>8.0} {:>9.0} {:>7.1}% {:>7.1}% {:>8.1} {:>8.1}",
                name,
                mode.label(),
                row.per_second,
                m(&of, &|s| s.cpu_us),
                row.sign_per_second,
                m(&of, &|s| s.verify_per_second),
                100.0 * row.of_sign,
                100.0 * row.of_limit,
                m(&of, &|s| s.signed_in_run_us),
                m(&of, &|s| s.non_rsa_us()),
            );
            rows.push(row);
        }
    }
    for mode in Mode::FLOOR {
        let of = of("", mode);
        println!(
            "{:<11} {:<25} {:>7.0} {:>8.1}",
            "-",
            mode.label(),
            m(&of, &|s| s.per_second),
            m(&of, &|s| s.cpu_us)
        );
    }
    println!();
    for backend in Backend::available() {
        let name = format!("{backend:?}");
        // The blocking path's cost: its CPU per call against the async one, round by round
        // (the runs of a round are next to each other in time).
        let differences = |f: &dyn Fn(&Sample) -> f64| -> Vec<f64> {
            of(&name, Mode::Blocking)
                .iter()
                .zip(of(&name, Mode::Sequential))
                .map(|(blocking, sequential)| f(blocking) - f(sequential))
                .collect()
        };
        let total = differences(&|s| s.cpu_us);
        let non_rsa = differences(&|s| s.non_rsa_us());
        println!(
            "{name}: a blocking call costs {:.1} µs of CPU more than the same call awaited \
             (besides RSA: {:.1} µs; by round: {})",
            median(&total),
            median(&non_rsa),
            non_rsa
                .iter()
                .map(|d| format!("{d:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        // What any client can do here: the minimal one, measured the same way.
        let sdk = |mode: Mode| m(&of(&name, mode), &|s| s.non_rsa_us());
        println!(
            "{name}: the minimal client reaches {:.1} % of 1/(sign + verify) with 16 in flight \
             and {:.1} % of the raw signing rate one at a time; the SDK spends {:.1} µs of CPU \
             per call more than it with 16 in flight, {:.1} µs one at a time (async)",
            100.0
                * m(&of(&name, Mode::MinimalInFlight), &|s| s.per_second
                    / s.limit()),
            100.0
                * m(&of(&name, Mode::MinimalSequential), &|s| s.per_second
                    / s.sign_per_second),
            sdk(Mode::InFlight) - sdk(Mode::MinimalInFlight),
            sdk(Mode::Sequential) - sdk(Mode::MinimalSequential),
        );
    }
    let target = target_dir();
    std::fs::create_dir_all(&target)?;
    let json = target.join("end_to_end.json");
    std::fs::write(&json, serde_json::to_string_pretty(samples)?)?;
    let svg = target.join("end_to_end.svg");
    chart(&rows, rounds, &svg)?;
    println!();
    println!("wrote {} and {}", json.display(), svg.display());
    Ok(())
}

/// The median figures of one backend and mode, for the chart.
struct Row {
    backend: String,
    mode: Mode,
    per_second: f64,
    low: f64,
    high: f64,
    sign_per_second: f64,
    limit: f64,
    /// Medians of the runs' ratios to their own raw rates.
    of_sign: f64,
    of_limit: f64,
}

/// `target/`: two levels above this binary (`target/release/deps/end_to_end-…`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Requests/s by mode, one panel per backend (each on its own scale), with the run-to-run
/// range as a whisker, and the backend's raw signing rate and one core's limit as lines.
fn chart(
    rows: &[Row],
    rounds: usize,
    path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let backends: Vec<&str> = {
        let mut names: Vec<&str> = rows.iter().map(|row| row.backend.as_str()).collect();
        names.dedup();
        names
    };
    let width = 560 * backends.len() as u32;
    let root = SVGBackend::new(path, (width, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(52);
    title.draw(&Text::new(
        "wechatpay end to end: requests/s, the client on one core",
        (12, 10),
        ("sans-serif", 16).into_font(),
    ))?;
    title.draw(&Text::new(
        format!(
            "median of {rounds} interleaved runs; in brackets: of 1/(raw sign + raw verify), \
             measured in the same process"
        ),
        (12, 32),
        ("sans-serif", 12).into_font(),
    ))?;
    let sign_colour = RGBColor(200, 60, 40);
    let limit_colour = RGBColor(40, 120, 60);
    let bar_colour = RGBColor(60, 110, 190);
    let minimal_colour = RGBColor(160, 160, 160);
    for (panel, backend) in body.split_evenly((1, backends.len())).iter().zip(&backends) {
        let of: Vec<&Row> = rows.iter().filter(|row| row.backend == *backend).collect();
        let top = of
            .iter()
            .map(|row| row.high.max(row.sign_per_second))
            .fold(0.0, f64::max)
            * 1.4;
        let mut chart = ChartBuilder::on(panel)
            .caption(*backend, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(-0.5f64..(of.len() as f64 - 0.5), 0.0..top)?;
        let labels: Vec<&str> = of.iter().map(|row| row.mode.short()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(of.len())
            .x_label_formatter(&|x| {
                let index = x.round();
                if (x - index).abs() < 1e-6 && index >= 0.0 {
                    labels.get(index as usize).copied().unwrap_or("").to_owned()
                } else {
                    String::new()
                }
            })
            .y_desc("requests/s")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
        for (index, row) in of.iter().enumerate() {
            let x = index as f64;
            let colour = if Mode::SDK.contains(&row.mode) {
                bar_colour
            } else {
                minimal_colour
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, row.per_second)],
                colour.filled(),
            )))?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, row.low), (x, row.high)],
                BLACK.stroke_width(1),
            )))?;
            // Inside the bar, under the whisker: the lines above stay clear.
            let label = ("sans-serif", 12).into_font().color(&WHITE);
            chart.draw_series(std::iter::once(Text::new(
                format!("{:.0}", row.per_second),
                (x - 0.25, row.low - top * 0.03),
                label.clone(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("({:.0} %)", 100.0 * row.of_limit),
                (x - 0.25, row.low - top * 0.075),
                label,
            )))?;
        }
        let across = |value: f64| vec![(-0.5, value), (of.len() as f64 - 0.5, value)];
        let sign = median(&of.iter().map(|row| row.sign_per_second).collect::<Vec<_>>());
        let limit = median(&of.iter().map(|row| row.limit).collect::<Vec<_>>());
        chart
            .draw_series(std::iter::once(PathElement::new(
                across(sign),
                sign_colour.stroke_width(2),
            )))?
            .label(format!("raw RSA signing, {sign:.0}/s"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], sign_colour.stroke_width(2))
            });
        chart
            .draw_series(std::iter::once(PathElement::new(
                across(limit),
                limit_colour.stroke_width(2),
            )))?
            .label(format!("1 / (raw sign + raw verify), {limit:.0}/s"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], limit_colour.stroke_width(2))
            });
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 12))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// Runs this binary in `role`, under `taskset -c core` when asked.
fn spawn(
    role: &str,
    core: Option<&str>,
    stdout: Stdio,
    vars: &[(&str, String)],
) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let mut command = match core {
        Some(core) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(core).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    command.env(ROLE, role).stdout(stdout);
    for (name, value) in vars {
        command.env(name, value);
    }
    command.spawn()
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
    let rate = |limit: Duration, op: &mut dyn FnMut() -> wechatpay::Result<()>| {
        let start = Instant::now();
        let mut count = 0u32;
        while start.elapsed() < limit {
            op()?;
            count += 1;
        }
        Ok::<_, wechatpay::Error>(f64::from(count) / start.elapsed().as_secs_f64())
    };
    let signing = rate(Duration::from_millis(1000), &mut || {
        key.sign(&message).map(drop)
    })?;
    let verifying = rate(Duration::from_millis(500), &mut || {
        public.verify(&message, &signature)
    })?;
    Ok((signing, verifying))
}

fn blocking(client: &Client, count: usize) -> wechatpay::Result<()> {
    let options = options();
    for _ in 0..count {
        client[TEMPLATE].post(options.clone())?;
    }
    Ok(())
}

fn one_at_a_time(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    count: usize,
) -> wechatpay::Result<()> {
    let options = options();
    runtime.block_on(async {
        for _ in 0..count {
            client[TEMPLATE].post_async(options.clone()).await?;
        }
        Ok(())
    })
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

/// The floors of this setup, on hyper-util's pooled client (what the SDK's transport is built
/// on), reading each answer whole:
///
/// - replay: copies of one request the SDK signed (the mock accepts a signature again within
///   its 5-minute window); no signing, no verification: what the exchange itself costs;
/// - minimal: what a hand-written client does at the least for each call: the JSON body
///   serialised, a nonce and the time, the request signed with the same key (the SDK's
///   pure `sign::authorize`), and the answer verified with the same platform key (the SDK's
///   pure `verify_response`); nothing else (no options, no checks, no retries, no timeouts,
///   no span).
struct Floor {
    hyper: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
    request: http::Request<bytes::Bytes>,
    signer: TimedSigner,
    platform: Arc<PlatformKeys>,
}

impl Floor {
    fn new(client: &Client, signer: TimedSigner, backend: Backend) -> wechatpay::Result<Self> {
        let nonce = toolkit::nonce(32)?;
        let request = client[TEMPLATE].build_request(
            http::Method::POST,
            options(),
            toolkit::timestamp(),
            &nonce,
        )?;
        let hyper =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let mut platform = PlatformKeys::new();
        platform.insert(
            mock::PLATFORM_KEY_ID,
            PublicKey::from_pem_with_backend(mock::PLATFORM_PUBLIC_KEY_PEM, backend)?,
        );
        Ok(Self {
            hyper,
            request,
            signer,
            platform: Arc::new(platform),
        })
    }

    fn fail(what: String) -> wechatpay::Error {
        wechatpay::Error::new(wechatpay::ErrorKind::Transport, what)
    }

    fn replay(&self) -> impl Future<Output = wechatpay::Result<()>> + use<> {
        let mut copy = http::Request::new(http_body_util::Full::new(self.request.body().clone()));
        *copy.method_mut() = self.request.method().clone();
        *copy.uri_mut() = self.request.uri().clone();
        *copy.headers_mut() = self.request.headers().clone();
        let answer = self.hyper.request(copy);
        async move {
            let answer = answer.await.map_err(|e| Self::fail(e.to_string()))?;
            let status = answer.status();
            http_body_util::BodyExt::collect(answer.into_body())
                .await
                .map_err(|e| Self::fail(e.to_string()))?;
            if status != 204 {
                return Err(Self::fail(format!("the mock answered {status}")));
            }
            Ok(())
        }
    }

    fn minimal(
        &self,
        options: &serde_json::Value,
    ) -> wechatpay::Result<impl Future<Output = wechatpay::Result<()>> + use<>> {
        use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
        let body = bytes::Bytes::from(serde_json::to_vec(&options["json"]).unwrap_or_default());
        let nonce = toolkit::nonce(32)?;
        let timestamp = toolkit::timestamp();
        let authorization = sign::authorize(
            &self.signer,
            mock::MCHID,
            mock::MERCHANT_SERIAL,
            sign::RequestToSign {
                method: "POST",
                target: PATH,
                timestamp,
                nonce: &nonce,
                body: &body,
            },
        )?;
        let request = http::Request::post(self.request.uri().clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, "minimal")
            .header(AUTHORIZATION, authorization)
            .header("wechatpay-serial", mock::PLATFORM_KEY_ID)
            .body(http_body_util::Full::new(body))
            .map_err(|e| Self::fail(e.to_string()))?;
        let answer = self.hyper.request(request);
        let platform = self.platform.clone();
        Ok(async move {
            let answer = answer.await.map_err(|e| Self::fail(e.to_string()))?;
            let (parts, body) = answer.into_parts();
            let body = http_body_util::BodyExt::collect(body)
                .await
                .map_err(|e| Self::fail(e.to_string()))?
                .to_bytes();
            if parts.status != 204 {
                return Err(Self::fail(format!("the mock answered {}", parts.status)));
            }
            verify_response(PATH, &parts.headers, &body, toolkit::timestamp(), &platform)?;
            Ok(())
        })
    }

    fn send(
        &self,
        runtime: &tokio::runtime::Runtime,
        count: usize,
        lanes: usize,
        minimal: bool,
    ) -> wechatpay::Result<()> {
        let options = options();
        runtime.block_on(async {
            let lanes = (0..lanes).map(|lane| {
                let share = count / lanes + usize::from(lane < count % lanes);
                let options = &options;
                async move {
                    for _ in 0..share {
                        if minimal {
                            self.minimal(options)?.await?;
                        } else {
                            self.replay().await?;
                        }
                    }
                    Ok::<_, wechatpay::Error>(())
                }
            });
            futures::future::try_join_all(lanes).await.map(drop)
        })
    }
}

/// One measurement (`BACKEND`, `MODE`, `RUN_REQUESTS`), printed as a `RESULT {json}` line.
fn run_client() -> Result<(), Box<dyn std::error::Error>> {
    let uri = std::env::var("MOCK_URI")?;
    let backend = match std::env::var("BACKEND")?.as_str() {
        "RustCrypto" => Backend::RustCrypto,
        _ => Backend::AwsLc,
    };
    let mode: Mode = serde_json::from_value(serde_json::Value::String(std::env::var("MODE")?))?;
    let count = env_number("RUN_REQUESTS", 5_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let signer = TimedSigner {
        key: PrivateKey::from_pem_with_backend(mock::MERCHANT_KEY_PEM, backend)?,
        nanos: Arc::new(AtomicU64::new(0)),
    };
    let client = client(&uri, backend, signer.clone())?;
    let floor = Floor::new(&client, signer.clone(), backend)?;
    let send = |count: usize| match mode {
        Mode::Blocking => blocking(&client, count),
        Mode::Sequential => one_at_a_time(&runtime, &client, count),
        Mode::InFlight => in_flight(&runtime, &client, count),
        Mode::MinimalSequential => floor.send(&runtime, count, 1, true),
        Mode::MinimalInFlight => floor.send(&runtime, count, IN_FLIGHT, true),
        Mode::HyperSequential => floor.send(&runtime, count, 1, false),
        Mode::HyperInFlight => floor.send(&runtime, count, IN_FLIGHT, false),
    };
    send((count / 20).max(IN_FLIGHT))?; // warm up: connections, caches
    let before = raw_rates(backend)?;
    signer.nanos.store(0, Ordering::Relaxed);
    let cpu = process_cpu();
    let start = Instant::now();
    send(count)?;
    let wall = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu);
    let signed = signer.nanos.load(Ordering::Relaxed);
    let after = raw_rates(backend)?;
    let sample = Sample {
        backend: format!("{backend:?}"),
        mode,
        requests: count,
        per_second: count as f64 / wall.as_secs_f64(),
        cpu_us: cpu.as_secs_f64() * 1e6 / count as f64,
        sign_per_second: (before.0 + after.0) / 2.0,
        verify_per_second: (before.1 + after.1) / 2.0,
        signed_in_run_us: signed as f64 / 1e3 / count as f64,
    };
    println!("RESULT {}", serde_json::to_string(&sample)?);
    Ok(())
}

/// For profilers: `RUN_REQUESTS` calls in `MODE` after a warm-up, nothing else; the calls
/// are inside [`measured`] (for `valgrind --tool=callgrind --toggle-collect=*measured*`).
fn profile() -> Result<(), Box<dyn std::error::Error>> {
    let uri = std::env::var("MOCK_URI")?;
    let mode: Mode = serde_json::from_value(serde_json::Value::String(std::env::var("MODE")?))?;
    let count = env_number("RUN_REQUESTS", 1_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let signer = TimedSigner {
        key: PrivateKey::from_pem(mock::MERCHANT_KEY_PEM)?,
        nanos: Arc::new(AtomicU64::new(0)),
    };
    let client = client(&uri, Backend::default(), signer.clone())?;
    let backend = Backend::default();
    let floor = Floor::new(&client, signer.clone(), backend)?;
    let send = |count: usize| match mode {
        Mode::Blocking => blocking(&client, count),
        Mode::Sequential => one_at_a_time(&runtime, &client, count),
        Mode::InFlight => in_flight(&runtime, &client, count),
        Mode::MinimalSequential => floor.send(&runtime, count, 1, true),
        Mode::MinimalInFlight => floor.send(&runtime, count, IN_FLIGHT, true),
        Mode::HyperSequential => floor.send(&runtime, count, 1, false),
        Mode::HyperInFlight => floor.send(&runtime, count, IN_FLIGHT, false),
    };
    send(IN_FLIGHT * 4)?;
    measured(&send, count)?;
    Ok(())
}

#[inline(never)]
fn measured(send: &dyn Fn(usize) -> wechatpay::Result<()>, count: usize) -> wechatpay::Result<()> {
    send(count)
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
    println!();
    println!(
        "memory: after 10000 requests (16 in flight, {:?}) peak resident {} KiB (now {} KiB, \
         of which anonymous {} KiB)",
        Backend::default(),
        status_kib("VmHWM"),
        status_kib("VmRSS"),
        status_kib("RssAnon"),
    );
    Ok(())
}
