//! Every documented call of the conformance corpus (`public.jsonl`, its `expect`: the request
//! the SDK puts on the wire) through the check: a call made as the docs show it keeps the
//! documented rules.
//!
//! The one kind of case refused on purpose: where the docs left a path variable blank, the
//! corpus fills in a test value (`Tv0397b9Xeeef a/b+中`, its README says), and where that
//! variable is documented as a number (`plan_id`), WeChat Pay would refuse the filler as the
//! check does; such a case must be refused for that variable, and nothing else.
//!
//! The corpus is `WECHATPAY_CORPUS` or `../shared/corpus/public.jsonl`; without it the test
//! says so and passes, except under CI (`CI` set), where a run that checked nothing fails.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use http::Method;
use serde_json::{Map, Value};

use crate::schema::Operation;
use crate::schema::check::find;
use crate::schema::message::{Rule, Violation};
use crate::schema::route::Route;
use crate::uri::{percent_decode_bytes, rawurlencode};

#[test]
fn every_documented_call_of_the_corpus_keeps_the_documented_rules() {
    let Some(text) = corpus() else {
        return;
    };
    let (mut valid, mut fillers, mut failures) = (0, 0, Vec::new());
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: Value = serde_json::from_str(line).expect("a corpus line is JSON");
        let id = case["id"].as_str().unwrap_or("?").to_owned();
        let expect = &case["expect"];
        if expect.get("error").is_some() {
            continue; // refused by the SDK before anything is sent
        }
        let Some((method, path, query, body)) = request(expect) else {
            failures.push(format!(
                "{id} (line {}): no request in `expect`",
                number + 1
            ));
            continue;
        };
        match find(&method, &path, &query, &body) {
            Some(Ok(_)) => valid += 1,
            Some(Err((op, violation))) if is_filled_in(op, &violation, &path) => fillers += 1,
            Some(Err((_, violation))) => failures.push(format!("{id}: {violation}")),
            None => failures.push(format!("{id}: {method} {path} is undocumented")),
        }
    }
    let mut summary = format!(
        "schema corpus: {valid} valid, {fillers} refused for a filled-in path variable, {} failed\n",
        failures.len()
    );
    for failure in &failures {
        let _ = writeln!(summary, "{failure}");
    }
    let _ = std::io::stderr().write_all(summary.as_bytes());
    assert!(
        failures.is_empty(),
        "{} corpus calls broke a documented rule",
        failures.len()
    );
    assert!(valid > 3_800, "{valid} valid calls: the corpus has more");
}

/// The corpus's text, or `None` (said on stderr) where it is missing outside CI.
fn corpus() -> Option<String> {
    let (path, explicit) = match std::env::var("WECHATPAY_CORPUS") {
        Ok(path) => (PathBuf::from(path), true),
        Err(_) => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/public.jsonl"),
            false,
        ),
    };
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if !explicit && !ci => {
            let _ = writeln!(
                std::io::stderr(),
                "schema corpus: no corpus at {} ({e}); set WECHATPAY_CORPUS to run it",
                path.display()
            );
            None
        }
        Err(e) => panic!(
            "schema corpus: cannot read {} ({e}); CI must run it",
            path.display()
        ),
    }
}

/// The request of a case's `expect`, as the SDK sends it: method, path, raw query, body.
fn request(expect: &Value) -> Option<(Method, String, String, Vec<u8>)> {
    let method = Method::from_bytes(expect["method"].as_str()?.as_bytes()).ok()?;
    let path = expect["path"].as_str()?.to_owned();
    let mut query = String::new();
    for pair in expect["query"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let (key, value) = (pair[0].as_str()?, pair[1].as_str()?);
        if !query.is_empty() {
            query.push('&');
        }
        let _ = write!(query, "{}={}", rawurlencode(key), rawurlencode(value));
    }
    let body = if let Some(json) = expect.get("json") {
        serde_json::to_vec(json).ok()?
    } else if let Some(v2) = expect.get("v2") {
        // The SDK adds `nonce_str` (unless nonceless) and `sign` to the documented fields.
        let mut fields: Map<String, Value> = v2["fields"].as_object()?.clone();
        if v2["nonce"] != Value::Bool(false) {
            fields.insert(
                "nonce_str".into(),
                "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into(),
            );
        }
        fields.insert("sign".into(), "C380BEC2BFD727A4B6845133519F3AD6".into());
        if v2["carrier"] == "query" {
            for (key, value) in &fields {
                let _ = write!(
                    query,
                    "&{}={}",
                    rawurlencode(key),
                    rawurlencode(value.as_str()?)
                );
            }
            Vec::new()
        } else {
            crate::xml::to_xml(&fields).ok()?.into_bytes()
        }
    } else if expect.get("media").is_some() {
        b"--multipart\r\n".to_vec()
    } else {
        Vec::new()
    };
    Some((method, path, query, body))
}

/// Whether a refusal is of a number-typed path variable holding the corpus's filler.
fn is_filled_in(op: &Operation, violation: &Violation, path: &str) -> bool {
    let Some(name) = violation.pointer.strip_prefix("/uri_template/") else {
        return false;
    };
    let variable = format!("{{{name}}}");
    let route = Route::new(path);
    let value = op
        .wire()
        .split('/')
        .zip(&route.segments)
        .find(|(template, _)| *template == variable)
        .map(|(_, value)| {
            String::from_utf8_lossy(&percent_decode_bytes(value, false)).into_owned()
        });
    matches!(violation.rule, Rule::Type("number" | "integer"))
        && value.is_some_and(|v| is_filler(&v))
}

/// The corpus's filler for a path variable the docs left blank: `Tv`, six hex digits, `X`,
/// four hex digits, and maybe more (`Tv0397b9Xeeef a/b+中`).
fn is_filler(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() >= 13
        && bytes.starts_with(b"Tv")
        && bytes[2..8].iter().all(u8::is_ascii_hexdigit)
        && bytes[8] == b'X'
        && bytes[9..13].iter().all(u8::is_ascii_hexdigit)
}

#[test]
fn the_filler_is_recognised() {
    assert!(is_filler("Tv0397b9Xeeef a/b+中"));
    assert!(is_filler("Tvc9b335X4903"));
    assert!(!is_filler("Tv0397b9Yeeef"));
    assert!(!is_filler("2000002124775691"));
}
