//! Cold start: one signed call from a fresh process, the way a command-line tool, a cron job
//! or a serverless function makes it.
//!
//! ```text
//! cargo bench --bench cold_start --features cli    # RUNS=60 by default
//! OUTSIDE=0 cargo bench --bench cold_start         # only the programs built in this repository
//! BASELINE=/tmp/main-export cargo bench --bench cold_start --features cli
//! ```
//!
//! The bench re-runs its own binary as the mock server (pinned to core 1 when there are two
//! cores) and, one process per call, as a minimal program using the library (pinned to core
//! 0): read the merchant key and the platform key from PEM files, build a client, send the
//! documented call, exit. With feature `cli` it also runs `wechatpay request` the same way,
//! interleaved. It prints the median, 10th and 90th percentile wall time of each, from spawn
//! to exit.
//!
//! Those two are built inside this repository, so with its `.cargo/config.toml`. A user's
//! program is not: unless `OUTSIDE=0`, the bench also builds (once, minutes) the same minimal
//! program as a Cargo project of its own under the system's temp directory, with a `path`
//! dependency on this repository, and the CLI as `cargo install --path <repo> --features cli`
//! builds it: from a working directory outside the repository, with a target directory of
//! their own (`$TMPDIR/wechatpay-cold-start-build`, kept between runs, `CLEAN=1` removes it
//! at the end) and without `AWS_LC_SYS_NO_JITTER_ENTROPY` in the environment, as a user's
//! build is. A probe built with them reports how long aws-lc's first random number takes in a
//! fresh process (about 25 ms: the jitter entropy is built in). `BASELINE=<path>` adds the same
//! two for another checkout (e.g. `git archive main | tar -x -C <path>`), for a before/after.

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
        Ok("pinned") => orchestrate(true, outside(false)?),
        _ => {
            // Built before the pinning, with both cores.
            let outside = outside(true)?;
            let pin = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2
                && Command::new("taskset").arg("-V").output().is_ok();
            if !pin {
                return orchestrate(false, outside);
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

/// A program timed: its label, how to start it, and its samples.
struct Timed {
    label: String,
    command: Box<dyn Fn() -> Command>,
    samples: Vec<Duration>,
}

impl Timed {
    fn new(label: impl Into<String>, command: impl Fn() -> Command + 'static) -> Self {
        Self {
            label: label.into(),
            command: Box::new(command),
            samples: Vec::new(),
        }
    }
}

fn orchestrate(pin: bool, outside: Vec<Outside>) -> Result<(), Box<dyn std::error::Error>> {
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
    settings.push(("WECHATPAY_BENCH_TEMPLATE".to_owned(), TEMPLATE.to_owned()));
    settings.push(("WECHATPAY_BENCH_OPTIONS".to_owned(), options().to_string()));
    let inside_cli = option_env!("CARGO_BIN_EXE_wechatpay").map(PathBuf::from);
    let mut programs = Vec::new();
    let (library, library_settings) = (me.clone(), settings.clone());
    programs.push(Timed::new(
        "minimal program, built in the repo",
        move || {
            let mut command = Command::new(&library);
            command.env(ROLE, "one-call").envs(library_settings.clone());
            command
        },
    ));
    if let Some(cli) = &inside_cli {
        programs.push(Timed::new(
            "`wechatpay request`, built in the repo",
            cli_call(cli.clone(), settings.clone()),
        ));
    }
    for built in &outside {
        let (program, program_settings) = (built.program.clone(), settings.clone());
        programs.push(Timed::new(
            format!("minimal program, outside ({})", built.name),
            move || {
                let mut command = Command::new(&program);
                command.env_clear().envs(program_settings.clone());
                command
            },
        ));
        programs.push(Timed::new(
            format!("`cargo install`ed CLI ({})", built.name),
            cli_call(built.cli.clone(), settings.clone()),
        ));
    }
    // One warm-up each: the binaries' pages come into the page cache.
    for round in 0..=runs() {
        for program in &mut programs {
            let took = time(&mut (program.command)())?;
            if round > 0 {
                program.samples.push(took);
            }
        }
    }
    drop(mock.stdin.take());
    let _ = mock.wait();
    println!("one signed call from a fresh process, wall time from spawn to exit (ms):");
    println!("{:<52} {:>7} {:>7} {:>7}", "", "p10", "median", "p90");
    for program in &mut programs {
        report(&program.label, &mut program.samples);
    }
    if inside_cli.is_none() {
        println!("(build with --features cli to time `wechatpay request` too)");
    }
    for built in &outside {
        println!(
            "{}: aws-lc's first random number in a fresh process of the outside build: {:.2} ms \
             (jitter entropy {})",
            built.name,
            built.probe_ms,
            if built.probe_ms > 5.0 {
                "built in, as in a user's build"
            } else {
                "apparently off: is AWS_LC_SYS_NO_JITTER_ENTROPY set?"
            }
        );
    }
    if std::env::var("CLEAN").as_deref() == Ok("1") {
        std::fs::remove_dir_all(build_root())?;
    }
    Ok(())
}

/// `wechatpay request` of the documented call, by the CLI at `cli`.
fn cli_call(cli: PathBuf, settings: Vec<(String, String)>) -> impl Fn() -> Command {
    move || {
        let mut command = Command::new(&cli);
        command
            .args(["request", "POST", TEMPLATE, "--var"])
            .arg("out_order_no=1234323JKHDFE1243252")
            .arg("--json")
            .arg(options()["json"].to_string())
            .arg("--raw")
            .env_clear()
            .envs(settings.clone());
        command
    }
}

/// A user's build of a checkout: the minimal program and the installed CLI.
struct Outside {
    name: String,
    program: PathBuf,
    cli: PathBuf,
    /// aws-lc's first random number in a fresh process of that build, in ms.
    probe_ms: f64,
}

/// The minimal program as a Cargo project of its own: a `path` dependency on the checkout,
/// aws-lc-rs for the probe (`probe` as its argument).
const PROGRAM_MAIN: &str = r#"use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("probe") {
        let started = Instant::now();
        aws_lc_rs::rand::fill(&mut [0u8; 1]).map_err(|_| "aws-lc gave no random byte")?;
        println!("{}", started.elapsed().as_secs_f64() * 1000.0);
        return Ok(());
    }
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let client = wechatpay::Client::builder()
        .mchid(&var("WECHATPAY_MCHID")?)
        .serial(&var("WECHATPAY_SERIAL")?)
        .private_key(wechatpay::PrivateKey::from_pem_file(var("WECHATPAY_PRIVATE_KEY")?)?)
        .platform_key(
            &var("WECHATPAY_PLATFORM_KEY_ID")?,
            wechatpay::PublicKey::from_pem_file(var("WECHATPAY_PLATFORM_KEY")?)?,
        )
        .base_uri(&var("WECHATPAY_BASE_URI")?)
        .build()?;
    let options: serde_json::Value = serde_json::from_str(&var("WECHATPAY_BENCH_OPTIONS")?)?;
    let answer = client.chain(&var("WECHATPAY_BENCH_TEMPLATE")?).post(options)?;
    if answer.status() != 204 {
        return Err(format!("answered {}", answer.status()).into());
    }
    Ok(())
}
"#;

fn build_root() -> PathBuf {
    std::env::temp_dir().join("wechatpay-cold-start-build")
}

/// This checkout (and `BASELINE`'s) built as a user would (by this call when `build`),
/// unless `OUTSIDE=0`.
fn outside(build: bool) -> Result<Vec<Outside>, Box<dyn std::error::Error>> {
    if std::env::var("OUTSIDE").as_deref() == Ok("0") {
        return Ok(Vec::new());
    }
    let mut checkouts = vec![(
        "this checkout".to_owned(),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    )];
    if let Ok(baseline) = std::env::var("BASELINE") {
        checkouts.push(("baseline".to_owned(), PathBuf::from(baseline)));
    }
    let root = build_root();
    let mut built = Vec::new();
    for (index, (name, checkout)) in checkouts.into_iter().enumerate() {
        let dir = root.join(format!("checkout-{index}"));
        let (program, cli) = (
            dir.join("cold-start-program"),
            dir.join("cli/bin/wechatpay"),
        );
        if build {
            build_checkout(&root, &dir, &name, &checkout)?;
        }
        let probe = Command::new(&program).arg("probe").output()?;
        let probe_ms = String::from_utf8_lossy(&probe.stdout).trim().parse()?;
        built.push(Outside {
            name,
            program,
            cli,
            probe_ms,
        });
    }
    Ok(built)
}

/// The minimal program and the CLI of `checkout`, built into `dir`.
fn build_checkout(
    root: &Path,
    dir: &Path,
    name: &str,
    checkout: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let project = dir.join("program");
    std::fs::create_dir_all(project.join("src"))?;
    let manifest = format!(
        "[package]\nname = \"cold-start-program\"\nversion = \"0.1.0\"\nedition = \
         \"2024\"\n\n[dependencies]\nwechatpay = {{ path = {:?} }}\nserde_json = \"1\"\n\
         aws-lc-rs = \"1\"\n",
        checkout.display().to_string()
    );
    std::fs::write(project.join("Cargo.toml"), manifest)?;
    std::fs::write(project.join("src/main.rs"), PROGRAM_MAIN)?;
    std::fs::copy(checkout.join("Cargo.lock"), project.join("Cargo.lock"))?;
    eprintln!("building the minimal program against {name} (outside the repository)…");
    cargo_outside(root, &project, &["build", "--release", "--quiet"])?;
    let cli_root = dir.join("cli");
    // `cargo install --path P` reads P's `.cargo/config.toml` (cargo loads the config of an
    // installed path since 1.35), which `cargo install wechatpay` from crates.io does not:
    // install from a copy of the checkout without it.
    let package = dir.join("package");
    if package.exists() {
        std::fs::remove_dir_all(&package)?;
    }
    copy_tree(checkout, &package, true)?;
    eprintln!(
        "cargo install --path (a copy of) {} --features cli…",
        checkout.display()
    );
    let checkout_arg = package.display().to_string();
    let cli_root_arg = cli_root.display().to_string();
    cargo_outside(
        root,
        root,
        &[
            "install",
            "--quiet",
            "--locked",
            "--force",
            "--path",
            &checkout_arg,
            "--features",
            "cli",
            "--root",
            &cli_root_arg,
        ],
    )?;
    // The next checkout's build overwrites the program: keep this one's.
    let program = root.join("target/release/cold-start-program");
    std::fs::copy(&program, dir.join("cold-start-program"))?;
    Ok(())
}

/// Copies the checkout at `from` to `to`, without its `.cargo` (the repository's settings),
/// `.git` and `target` (`top`: `from` is the checkout's root); symbolic links stay links
/// (the macros crate's are relative).
fn copy_tree(from: &Path, to: &Path, top: bool) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if top
            && [".cargo", ".git", "target"]
                .iter()
                .any(|skip| name == *skip)
        {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&source)?, &target)?;
        } else if kind.is_dir() {
            copy_tree(&source, &target, false)?;
        } else {
            std::fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

/// `cargo` with `args` in `cwd` (outside the repository, so that its `.cargo/config.toml` is
/// not read), the target directory under `root`, and the environment of a user's shell:
/// without the jitter setting cargo put into this bench's environment from that file.
fn cargo_outside(root: &Path, cwd: &Path, args: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .args(args)
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("AWS_LC_SYS_NO_JITTER_ENTROPY");
    for (name, _) in std::env::vars_os() {
        // What cargo sets for the bench it runs (`CARGO_PKG_*`, `CARGO_MANIFEST_DIR`, …),
        // not what a user's shell has.
        if name.to_string_lossy().starts_with("CARGO_") && name != "CARGO_HOME" {
            command.env_remove(name);
        }
    }
    command.env("CARGO_TARGET_DIR", root.join("target"));
    let status = command.status()?;
    if !status.success() {
        return Err(format!("cargo {} failed: {status}", args.join(" ")).into());
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
        "{what:<52} {:>7.2} {:>7.2} {:>7.2}",
        at(0.1),
        at(0.5),
        at(0.9)
    );
}
