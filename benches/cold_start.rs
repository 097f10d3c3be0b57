//! Cold start: one signed call from a fresh process, the way a command-line tool, a cron job
//! or a serverless function makes it.
//!
//! ```text
//! cargo bench --bench cold_start --features cli    # RUNS=60 by default
//! ```
//!
//! The bench re-runs its own binary as the mock server (pinned to core 1 when there are two
//! cores) and, one process per call, as a minimal program using the library (pinned to core
//! 0): read the merchant key and the platform key from PEM files, build a client, send the
//! documented call, exit. With feature `cli` it also runs `wechatpay request` the same way,
//! interleaved. It prints the median, 10th and 90th percentile wall time of each, from spawn
//! to exit.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{PATH, TEMPLATE, env_number, options};
use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::{Client, PrivateKey, PublicKey};

const ROLE: &str = "WECHATPAY_BENCH_ROLE";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::var(ROLE).as_deref() {
        Ok("mock") => serve_mock(),
        Ok("one-call") => one_call(),
        Ok("pinned") => orchestrate(true),
        _ => {
            let pin = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2
                && Command::new("taskset").arg("-V").output().is_ok();
            if !pin {
                return orchestrate(false);
            }
            // Runs the orchestrator on core 0, so that every call it spawns inherits the
            // core without a `taskset` exec of its own in the timing.
            let status = Command::new("taskset")
                .args(["-c", "0"])
                .arg(std::env::current_exe()?)
                .env(ROLE, "pinned")
                .status()?;
            if !status.success() {
                return Err(format!("the pinned run failed: {status}").into());
            }
            Ok(())
        }
    }
}

/// The mock, answering the documented call with 204; prints its settings as `NAME=value`
/// lines (as `wechatpay mock` does), then serves until stdin closes.
fn serve_mock() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    mock.on("POST", PATH, Reply::status(204));
    mock.record_requests(false);
    let dir = std::env::temp_dir().join(format!("wechatpay-cold-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let key = dir.join("apiclient_key.pem");
    let public = dir.join("pub_key.pem");
    std::fs::write(&key, mock::MERCHANT_KEY_PEM)?;
    std::fs::write(&public, mock::PLATFORM_PUBLIC_KEY_PEM)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "WECHATPAY_BASE_URI={}", mock.uri())?;
    writeln!(out, "WECHATPAY_MCHID={}", mock::MCHID)?;
    writeln!(out, "WECHATPAY_SERIAL={}", mock::MERCHANT_SERIAL)?;
    writeln!(out, "WECHATPAY_PRIVATE_KEY={}", key.display())?;
    writeln!(out, "WECHATPAY_PLATFORM_KEY_ID={}", mock::PLATFORM_KEY_ID)?;
    writeln!(out, "WECHATPAY_PLATFORM_KEY={}", public.display())?;
    writeln!(out, "#")?;
    out.flush()?;
    drop(out);
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The minimal program: keys from files, a client, one call.
fn one_call() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let client = Client::builder()
        .mchid(&var("WECHATPAY_MCHID")?)
        .serial(&var("WECHATPAY_SERIAL")?)
        .private_key(PrivateKey::from_pem_file(var("WECHATPAY_PRIVATE_KEY")?)?)
        .platform_key(
            &var("WECHATPAY_PLATFORM_KEY_ID")?,
            PublicKey::from_pem_file(var("WECHATPAY_PLATFORM_KEY")?)?,
        )
        .base_uri(&var("WECHATPAY_BASE_URI")?)
        .build()?;
    let answer = client.chain(TEMPLATE).post(options())?;
    assert_eq!(answer.status(), 204);
    Ok(())
}

fn runs() -> usize {
    env_number("RUNS", 60)
}

fn orchestrate(pin: bool) -> Result<(), Box<dyn std::error::Error>> {
    let me = std::env::current_exe()?;
    let mut mock = pinned(&me, pin.then_some("1"))
        .env(ROLE, "mock")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut settings = Vec::new();
    let stdout = mock.stdout.take().ok_or("no mock stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if line.starts_with('#') {
            break;
        }
        if let Some((name, value)) = line.split_once('=') {
            settings.push((name.to_owned(), value.to_owned()));
        }
    }
    let cli: Option<PathBuf> = option_env!("CARGO_BIN_EXE_wechatpay").map(PathBuf::from);
    let mut library = Vec::new();
    let mut command_line = Vec::new();
    // One warm-up each: the binaries' pages come into the page cache.
    for round in 0..=runs() {
        let took = time(
            Command::new(&me)
                .env(ROLE, "one-call")
                .envs(settings.clone()),
        )?;
        if round > 0 {
            library.push(took);
        }
        if let Some(cli) = &cli {
            let took = time(
                Command::new(cli)
                    .args(["request", "POST", TEMPLATE, "--var"])
                    .arg("out_order_no=1234323JKHDFE1243252")
                    .arg("--json")
                    .arg(options()["json"].to_string())
                    .arg("--raw")
                    .env_clear()
                    .envs(settings.clone()),
            )?;
            if round > 0 {
                command_line.push(took);
            }
        }
    }
    drop(mock.stdin.take());
    let _ = mock.wait();
    println!("one signed call from a fresh process, wall time from spawn to exit (ms):");
    println!("{:<34} {:>7} {:>7} {:>7}", "", "p10", "median", "p90");
    report("minimal program using the library", &mut library);
    if cli.is_some() {
        report("`wechatpay request` (feature cli)", &mut command_line);
    } else {
        println!("(build with --features cli to time `wechatpay request` too)");
    }
    Ok(())
}

/// `program`, pinned to `core` with taskset when given.
fn pinned(program: &Path, core: Option<&str>) -> Command {
    match core {
        Some(core) => {
            let mut command = Command::new("taskset");
            command.args(["-c", core]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

fn time(command: &mut Command) -> Result<Duration, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let output = command.stdout(Stdio::null()).output()?;
    let took = started.elapsed();
    if !output.status.success() {
        return Err(format!(
            "the call failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(took)
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1000.0
    };
    println!(
        "{what:<34} {:>7.2} {:>7.2} {:>7.2}",
        at(0.1),
        at(0.5),
        at(0.9)
    );
}
