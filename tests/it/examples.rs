//! Every example runs to exit 0 against the mock server.
//!
//! `cargo test` builds the examples next to the test binaries (`target/<profile>/examples/`);
//! this runs each whose required features are on in this build. An example that should have
//! been built but was not (`cargo test --test it` builds no examples) is skipped with a note,
//! unless `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The features this test build has (the examples' `required-features` are checked against
/// them).
fn enabled(feature: &str) -> bool {
    const FEATURES: [(&str, bool); 7] = [
        ("blocking", cfg!(feature = "blocking")),
        ("macros", cfg!(feature = "macros")),
        ("mock", true),
        ("aws-lc", cfg!(feature = "aws-lc")),
        ("rustcrypto", cfg!(feature = "rustcrypto")),
        ("cli", cfg!(feature = "cli")),
        ("axum", cfg!(feature = "axum")),
    ];
    FEATURES.iter().any(|(name, on)| *name == feature && *on)
}

/// `(name, required features)` of every `[[example]]` in Cargo.toml.
fn examples() -> Vec<(String, Vec<String>)> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let text = std::fs::read_to_string(manifest).expect("Cargo.toml");
    let mut found = Vec::new();
    for section in text.split("[[example]]").skip(1) {
        let section = section.split("\n[").next().unwrap_or_default();
        let value = |key: &str| {
            section
                .lines()
                .find_map(|line| line.trim().strip_prefix(key)?.trim().strip_prefix('='))
                .map(str::trim)
        };
        let Some(name) = value("name") else { continue };
        let required = value("required-features")
            .unwrap_or("[]")
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|feature| feature.trim().trim_matches('"').to_owned())
            .filter(|feature| !feature.is_empty())
            .collect();
        found.push((name.trim_matches('"').to_owned(), required));
    }
    found
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
            listed.iter().any(|(name, _)| name == source),
            "examples/{source}.rs has no [[example]] entry in Cargo.toml"
        );
    }
    let dir = examples_dir();
    let strict = std::env::var_os("CI").is_some();
    let runs: Vec<_> = listed
        .into_iter()
        .filter(|(_, required)| required.iter().all(|feature| enabled(feature)))
        .filter_map(|(name, _)| {
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
