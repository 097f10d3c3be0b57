//! Hardening, round two: the `wechatpay` command. `bill download` writes a new partial file
//! under a random name (never through a link planted beside the destination), `0600`, and
//! removes it on any failure; `wechatpay mock` writes its keys into a fresh `0700` directory;
//! a body's control characters reach a terminal escaped. Each test failed before the fix it
//! guards.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::json;
use wechatpay::mock::{MockServer, Reply};

use super::cli::{BIN, Scratch, wechatpay};

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A mock whose bill-apply answer names `hash` and whose file is `bill`.
fn bill_mock(bill: &[u8], hash: &str) -> MockServer {
    let mock = MockServer::start().unwrap();
    mock.on(
        "GET",
        "/v3/bill/tradebill",
        Reply::json(
            200,
            json!({
                "download_url": format!("{}v3/billdownload/file?token=T0K3N", mock.uri()),
                "hash_type": "SHA1",
                "hash_value": hash,
            }),
        ),
    );
    mock.on(
        "GET",
        "/v3/billdownload/file",
        Reply::status(200).body(bill.to_vec()).unsigned(),
    );
    mock
}

fn bill_download(mock: &MockServer, keys: &Scratch, out: &Path) -> Output {
    wechatpay(mock, keys)
        .args([
            "bill",
            "download",
            "--kind",
            "trade",
            "--date",
            "2019-06-11",
        ])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn bill_download_never_writes_through_a_planted_link_nor_leaves_its_partial_file() {
    let keys = Scratch::new("hardening");
    let bill = b"\xEF\xBB\xBF\xE4\xBA\xA4\xE6\x98\x93,x\r\n".repeat(100);
    let sha1 = wechatpay::toolkit::sha1_hex(&bill);

    // A link planted where the partial file used to go (`<out>.part`), pointing at a file of
    // the victim's: the download (whose digest fails) must not write through it.
    let scratch = Scratch::new("hardening");
    let victim = scratch.file("victim.txt", "precious");
    let out = scratch.0.join("bill.csv");
    std::os::unix::fs::symlink(&victim, out.with_extension("part")).unwrap();
    let failing = bill_mock(&bill, "0000000000000000000000000000000000000000");
    let output = bill_download(&failing, &keys, &out);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        scratch.names(),
        ["bill.part", "victim.txt"],
        "nothing left behind"
    );

    // The final rename fails (the destination is a directory): the partial file is removed.
    let good = bill_mock(&bill, &sha1);
    let scratch = Scratch::new("hardening");
    let out = scratch.0.join("taken");
    std::fs::create_dir(&out).unwrap();
    scratch.file("taken/inside", "x");
    let output = bill_download(&good, &keys, &out);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(scratch.names(), ["taken"], "no partial file left");

    // A good download: the bill, readable by its owner only, and nothing else.
    let scratch = Scratch::new("hardening");
    let out = scratch.0.join("bill.csv");
    let output = bill_download(&good, &keys, &out);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(std::fs::read(&out).unwrap(), bill);
    assert_eq!(std::fs::metadata(&out).unwrap().mode() & 0o777, 0o600);
    assert_eq!(scratch.names(), ["bill.csv"]);
}

#[test]
fn wechatpay_mock_writes_its_keys_into_a_fresh_private_directory() {
    let mut child = Command::new(BIN)
        .arg("mock")
        .env("TMPDIR", std::env::temp_dir())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut private_key = None;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with('#') {
            break;
        }
        if let Some(path) = line.strip_prefix("export WECHATPAY_PRIVATE_KEY=") {
            private_key = Some(PathBuf::from(path));
        }
    }
    let private_key = private_key.expect("the key's path");
    let directory = private_key.parent().unwrap().to_owned();
    let name = directory
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().mode() & 0o777;
    // Looked at while the mock runs (it removes the directory when it stops).
    let checks = (
        name.starts_with("wechatpay-mock-") && !name.contains(&pid.to_string()),
        mode(&directory),
        mode(&private_key),
    );
    let stopped = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    child.wait().unwrap();
    // (A signal that comes before the mock listens for it ends it without its clean-up.)
    let _ = std::fs::remove_dir_all(&directory);
    assert_eq!(checks, (true, 0o700, 0o600), "{name}");
}

#[test]
fn control_characters_in_a_body_reach_a_terminal_escaped() {
    let mock = MockServer::start().unwrap();
    // Text that would retitle the window, clear the screen and overwrite the line.
    let hostile = "ok\u{1b}]0;owned\u{7}\u{9b}2J\rforged line";
    mock.on(
        "GET",
        "/v3/hostile/text",
        Reply::status(200)
            .header("Content-Type", "text/plain")
            .body(hostile),
    );
    mock.on(
        "GET",
        "/v3/hostile/json",
        Reply::json(200, json!({"note": "ok\u{9b}2J\u{7f}"})),
    );
    let keys = Scratch::new("hardening");
    for path in ["v3/hostile/text", "v3/hostile/json"] {
        // A terminal: `script` runs the command on a pseudo-terminal and copies what it
        // printed. Colours on (no NO_COLOR), as on a user's terminal.
        let command = wechatpay(&mock, &keys);
        let mut line = format!("{BIN} request GET {path}");
        line = line.replace('\'', "");
        let mut script = Command::new("script");
        script.args(["-q", "-e", "-c", &line, "/dev/null"]);
        script.env_clear();
        for (name, value) in command.get_envs() {
            if let (Some(value), false) = (value, name == "NO_COLOR") {
                script.env(name, value);
            }
        }
        script.env("TERM", "xterm");
        let output = script.output().unwrap();
        let shown = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{shown}");
        assert!(shown.contains("ok"), "{path}: {shown:?}");
        assert!(
            !shown.contains('\u{9b}') && !shown.contains('\u{7}') && !shown.contains('\u{7f}'),
            "{path}: {shown:?}"
        );
        assert!(shown.contains("\\u{9b}2J"), "{path}: {shown:?}");
    }
}
