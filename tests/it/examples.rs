//! Every example runs to exit 0 against the mock server.
//!
//! `cargo test` builds the examples (the workspace's `examples` package) next to the test
//! binaries (`target/<profile>/examples/`); this runs each. An example that should have
//! been built but was not (`cargo test --test it` builds no examples) is skipped with a note,
//! unless `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The name of every `[[example]]` of the examples package (examples/Cargo.toml).
fn examples() -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/Cargo.toml");
    let text = std::fs::read_to_string(manifest).expect("examples/Cargo.toml");
    text.split("[[example]]")
        .skip(1)
        .filter_map(|section| {
            let section = section.split("\n[").next().unwrap_or_default();
            let name = section
                .lines()
                .find_map(|line| line.trim().strip_prefix("name")?.trim().strip_prefix('='))?;
            Some(name.trim().trim_matches('"').to_owned())
        })
        .collect()
}

fn examples_dir() -> PathBuf {
    // target/<profile>/deps/it-<hash> → target/<profile>/examples
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .join("examples")
}

#[test]
fn every_example_runs_against_the_mock() {
    let listed = examples();
    let sources = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .expect("examples/")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect::<Vec<_>>();
    for source in &sources {
        assert!(
            listed.contains(source),
            "examples/{source}.rs has no [[example]] entry in examples/Cargo.toml"
        );
    }
    let dir = examples_dir();
    let strict = std::env::var_os("CI").is_some();
    let runs: Vec<_> = listed
        .into_iter()
        .filter_map(|name| {
            let binary = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
            if binary.exists() {
                return Some((name, binary));
            }
            assert!(!strict, "example `{name}` was not built: run `cargo test`");
            eprintln!("examples: `{name}` not built here (cargo test builds it); skipped");
            None
        })
        .map(|(name, binary)| {
            std::thread::spawn(move || {
                let started = Instant::now();
                let output = Command::new(&binary)
                    .env_remove("WECHATPAY_MCHID")
                    .output()
                    .unwrap_or_else(|e| panic!("cannot run example `{name}`: {e}"));
                (name, output, started.elapsed())
            })
        })
        .collect();
    for run in runs {
        let (name, output, took) = run.join().expect("the example thread");
        assert!(
            output.status.success(),
            "example `{name}` failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            took < Duration::from_secs(60),
            "example `{name}` took {took:?}"
        );
    }
}
