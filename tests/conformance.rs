//! The conformance harness: every documented call of the corpus, six ways, against the mock
//! server, checked byte for byte on the wire.
//!
//! The corpus is the JSONL file named by `WECHATPAY_CORPUS`, by default
//! `../shared/corpus/public.jsonl` next to this repository; its format is described in that
//! directory's README. Prints `conformance: N passed, M failed, K skipped` and one line per
//! failure, and fails when anything failed. Where the corpus is missing it runs nothing and
//! says so, except under CI (`CI` set, as CI sets it), where a missing corpus fails: a
//! conformance run that checked nothing must not pass.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use wechatpay::mock::{MockServer, RecordedRequest, Reply};
use wechatpay::{Chain, Client, ErrorKind, Media, Options, Response};

/// Whether a missing corpus fails the run: under CI, whose `CI` variable is set to anything
/// but an empty string, `0` or `false`.
fn missing_corpus_fails(ci: Option<&str>) -> bool {
    ci.is_some_and(|value| !matches!(value.trim(), "" | "0" | "false" | "FALSE" | "False"))
}

#[test]
fn a_missing_corpus_fails_under_ci() {
    for ci in ["true", "1", "yes", "TRUE"] {
        assert!(missing_corpus_fails(Some(ci)), "{ci}");
    }
    for not_ci in [None, Some(""), Some("0"), Some("false")] {
        assert!(!missing_corpus_fails(not_ci), "{not_ci:?}");
    }
}

#[test]
fn corpus() {
    let (path, explicit) = match std::env::var("WECHATPAY_CORPUS") {
        Ok(path) => (PathBuf::from(path), true),
        Err(_) => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/public.jsonl"),
            false,
        ),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if !explicit && !missing_corpus_fails(std::env::var("CI").ok().as_deref()) => {
            let _ = writeln!(
                std::io::stderr(),
                "conformance: no corpus at {} ({e}); set WECHATPAY_CORPUS to run it",
                path.display()
            );
            return;
        }
        Err(e) if explicit => panic!("cannot read WECHATPAY_CORPUS={}: {e}", path.display()),
        Err(e) => panic!(
            "conformance: no corpus at {} ({e}), and CI is set: CI must run the corpus \
             (shared/corpus next to the repository, or WECHATPAY_CORPUS)",
            path.display()
        ),
    };
    let fixtures = path.parent().unwrap_or(Path::new(".")).join("fixtures");

    let mock = MockServer::start().expect("mock server starts");
    // The corpus carries documentation values in encrypted fields (its expectations are the
    // bytes sent), so the plain-text guard is off here; tests/it/plaintext.rs covers it.
    let client = mock
        .client_builder()
        .allow_plaintext()
        .build()
        .expect("client builds");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let harness = Harness {
        mock: &mock,
        client: &client,
        runtime: &runtime,
        fixtures,
        media: HashMap::new(),
    };

    let mut report = Report::default();
    let mut harness = harness;
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: Value = match serde_json::from_str(line) {
            Ok(case) => case,
            Err(e) => {
                report.fail(format!("line {}", number + 1), format!("not JSON: {e}"));
                continue;
            }
        };
        let id = case["id"].as_str().unwrap_or("?").to_owned();
        match harness.run(&case) {
            Outcome::Passed => report.passed += 1,
            Outcome::Skipped => report.skipped += 1,
            Outcome::Failed(reason) => report.fail(id, reason),
        }
    }
    // Written to stderr directly, past the test harness's capture, so that every
    // `cargo test` shows the summary.
    let mut summary = format!(
        "conformance: {} passed, {} failed, {} skipped\n",
        report.passed,
        report.failures.len(),
        report.skipped
    );
    for (id, reason) in &report.failures {
        summary.push_str(&format!("{id}: {reason}\n"));
    }
    let _ = std::io::stderr().write_all(summary.as_bytes());
    assert!(
        report.failures.is_empty(),
        "{} conformance cases failed",
        report.failures.len()
    );
}

#[derive(Default)]
struct Report {
    passed: usize,
    skipped: usize,
    failures: Vec<(String, String)>,
}

impl Report {
    fn fail(&mut self, id: String, reason: String) {
        self.failures.push((id, reason));
    }
}

enum Outcome {
    Passed,
    Skipped,
    Failed(String),
}

struct Harness<'a> {
    mock: &'a MockServer,
    client: &'a Client,
    runtime: &'a tokio::runtime::Runtime,
    fixtures: PathBuf,
    media: HashMap<String, Media>,
}

type Check = Result<(), String>;

impl Harness<'_> {
    fn run(&mut self, case: &Value) -> Outcome {
        if !matches!(case["api"].as_str(), Some("v2" | "v3")) {
            return Outcome::Skipped;
        }
        self.mock.reset();
        match self.run_case(case) {
            Ok(()) => Outcome::Passed,
            Err(reason) => Outcome::Failed(reason),
        }
    }

    fn run_case(&mut self, case: &Value) -> Check {
        let method = case["method"].as_str().ok_or("no method")?;
        let expect = &case["expect"];
        let respond = &case["respond"];
        if let Some(path) = expect["path"].as_str() {
            self.mock.once(method, path, reply_for(respond)?);
        }
        let options = self.options(&case["options"])?;
        let chain = self.chain(case)?;
        let result = self.call(&chain, method, options, case["mode"].as_str());
        let requests = self.mock.take_requests();

        if expect["error"] == "missing_path_variable" {
            return check_missing_variables(result, expect, &requests);
        }
        let [request] = requests.as_slice() else {
            let outcome = result.err().map(|e| e.to_string()).unwrap_or_default();
            return Err(format!(
                "the mock received {} requests, expected 1 {outcome}",
                requests.len()
            ));
        };
        check_request(request, expect, &self.fixtures)?;
        let response = result.map_err(|e| format!("call failed: {e} ({:?})", e.kind()))?;
        check_response(&response, respond)
    }

    fn options(&mut self, options: &Value) -> Result<Options, String> {
        let mut map: Map<String, Value> = options
            .as_object()
            .cloned()
            .ok_or("options are not an object")?;
        if let Some(Value::String(base)) = map.get("base_uri") {
            map.insert("base_uri".into(), Value::String(self.local_base(base)?));
        }
        let media = map.remove("$media");
        let mut options = Options::from(map);
        if let Some(media) = media {
            let file = media["file"].as_str().ok_or("$media without a file")?;
            options = options.media(self.media_for(file)?);
        }
        Ok(options)
    }

    /// `https://host/prefix/` → `http://127.0.0.1:PORT/prefix/`.
    fn local_base(&self, base: &str) -> Result<String, String> {
        let after_scheme = base
            .split_once("://")
            .map(|(_, rest)| rest)
            .ok_or_else(|| format!("base_uri `{base}` is not absolute"))?;
        let path = after_scheme.find('/').map_or("/", |at| &after_scheme[at..]);
        Ok(format!("{}{path}", self.mock.uri().trim_end_matches('/')))
    }

    fn media_for(&mut self, file: &str) -> Result<Media, String> {
        if let Some(media) = self.media.get(file) {
            return Ok(media.clone());
        }
        let media = Media::from_file(self.fixtures.join(file)).map_err(|e| e.to_string())?;
        self.media.insert(file.to_owned(), media.clone());
        Ok(media)
    }

    fn chain(&self, case: &Value) -> Result<Chain, String> {
        match case["style"].as_str() {
            Some("chain") => {
                let segments = case["segments"]
                    .as_array()
                    .ok_or("chain case without segments")?;
                let mut segments = segments.iter().filter_map(Value::as_str);
                let first = segments.next().ok_or("no segments")?;
                Ok(segments.fold(self.client.chain(first), |chain, segment| {
                    chain.chain(segment)
                }))
            }
            Some("declarative") => Ok(self.client.chain(template(case)?)),
            Some("property") => Ok(self.client[template(case)?].clone()),
            other => Err(format!("unknown style {other:?}")),
        }
    }

    fn call(
        &self,
        chain: &Chain,
        method: &str,
        options: Options,
        mode: Option<&str>,
    ) -> wechatpay::Result<Response> {
        let blocking = mode == Some("sync");
        macro_rules! verb {
            ($blocking:ident, $nonblocking:ident) => {
                if blocking {
                    chain.$blocking(options)
                } else {
                    self.runtime.block_on(chain.$nonblocking(options))
                }
            };
        }
        match method {
            "GET" => verb!(get, get_async),
            "PUT" => verb!(put, put_async),
            "POST" => verb!(post, post_async),
            "PATCH" => verb!(patch, patch_async),
            "DELETE" => verb!(delete, delete_async),
            other => {
                let method = http::Method::from_bytes(other.as_bytes()).unwrap_or_default();
                if blocking {
                    chain.request(method, options)
                } else {
                    self.runtime.block_on(chain.request_async(method, options))
                }
            }
        }
    }
}

fn template(case: &Value) -> Result<&str, String> {
    case["template"]
        .as_str()
        .ok_or_else(|| "no template".to_owned())
}

fn reply_for(respond: &Value) -> Result<Reply, String> {
    let status = respond["status"].as_u64().ok_or("respond without status")? as u16;
    let mut reply = if let Some(json) = respond.get("json") {
        Reply::json(status, json.clone())
    } else if let Some(xml) = respond.get("xml") {
        Reply::xml(status, xml.clone())
    } else if let Some(body) = respond["body"].as_str() {
        Reply::status(status).body(body.to_owned())
    } else {
        Reply::status(status)
    };
    if respond["signed"] == false {
        reply = reply.unsigned();
    }
    Ok(reply)
}

fn check_missing_variables(
    result: wechatpay::Result<Response>,
    expect: &Value,
    requests: &[RecordedRequest],
) -> Check {
    let error = match result {
        Ok(response) => return Err(format!("succeeded with {}", response.status())),
        Err(error) => error,
    };
    if error.kind() != ErrorKind::MissingPathVariable {
        return Err(format!(
            "failed with {:?}, not MissingPathVariable: {error}",
            error.kind()
        ));
    }
    let message = error.to_string();
    for variable in expect["variables"].as_array().into_iter().flatten() {
        let name = variable.as_str().unwrap_or_default();
        if !error.variables().iter().any(|known| known == name) || !message.contains(name) {
            return Err(format!("the error does not name `{name}`: {message}"));
        }
    }
    if !requests.is_empty() {
        return Err(format!("{} requests were sent", requests.len()));
    }
    Ok(())
}

fn check_request(request: &RecordedRequest, expect: &Value, fixtures: &Path) -> Check {
    if let Err(verdict) = &request.verdict {
        return Err(format!("the mock rejected the request: {verdict}"));
    }
    if Some(request.method.as_str()) != expect["method"].as_str() {
        return Err(format!("method {} != {}", request.method, expect["method"]));
    }
    if Some(request.path()) != expect["path"].as_str() {
        return Err(format!("path {} != {}", request.path(), expect["path"]));
    }
    if let Some(query) = expect["query"].as_array() {
        check_query(request, query)?;
    }
    if let Some(json) = expect.get("json")
        && request.json().as_ref() != Some(json)
    {
        return Err(format!(
            "body {} != {json}",
            String::from_utf8_lossy(&request.body)
        ));
    }
    for (name, value) in expect["headers"].as_object().into_iter().flatten() {
        if request.header(name) != value.as_str() {
            return Err(format!(
                "header {name}: {:?} != {value}",
                request.header(name)
            ));
        }
    }
    if let Some(media) = expect.get("media") {
        check_media(request, media, fixtures)?;
    }
    if let Some(v2) = expect.get("v2") {
        check_v2(request, v2)?;
    }
    Ok(())
}

/// APIv2: the fields travel in the XML body or the query, exactly as expected, with a
/// `nonce_str` unless told otherwise, signed under the expected `sign_type` (the mock's
/// verdict already checked the `sign` with the APIv2 key).
fn check_v2(request: &RecordedRequest, v2: &Value) -> Check {
    let fields: Vec<(String, String)> = match v2["carrier"].as_str() {
        Some("xml") => wechatpay::xml::parse(&request.body)
            .map_err(|e| format!("the body is not XML: {e}"))?
            .iter()
            .map(|(key, value)| {
                (
                    key.to_owned(),
                    value.as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        Some("query") => request.query_pairs(),
        other => return Err(format!("unknown v2 carrier {other:?}")),
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    for (name, value) in v2["fields"].as_object().into_iter().flatten() {
        if field(name) != value.as_str() {
            return Err(format!("field {name}: {:?} != {value}", field(name)));
        }
    }
    let nonce = field("nonce_str").is_some_and(|nonce| !nonce.is_empty());
    if Some(nonce) != v2["nonce"].as_bool() {
        return Err(format!(
            "nonce_str present: {nonce}, expected {}",
            v2["nonce"]
        ));
    }
    let sign_type = field("sign_type")
        .filter(|name| !name.is_empty())
        .unwrap_or("MD5");
    if Some(sign_type) != v2["sign_type"].as_str() {
        return Err(format!("sign_type {sign_type} != {}", v2["sign_type"]));
    }
    let sign_len = field("sign").map_or(0, str::len);
    if sign_len != if sign_type == "MD5" { 32 } else { 64 } {
        return Err(format!("a {sign_type} sign of {sign_len} characters"));
    }
    Ok(())
}

fn check_query(request: &RecordedRequest, expected: &[Value]) -> Check {
    let mut sent = request.query_pairs();
    let mut wanted: Vec<(String, String)> = expected
        .iter()
        .filter_map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_str()?.to_owned())))
        .collect();
    sent.sort();
    wanted.sort();
    if sent != wanted {
        return Err(format!("query {sent:?} != {wanted:?}"));
    }
    Ok(())
}

fn check_media(request: &RecordedRequest, media: &Value, fixtures: &Path) -> Check {
    let file = media["file"].as_str().ok_or("media without file")?;
    let content = std::fs::read(fixtures.join(file)).map_err(|e| e.to_string())?;
    let recorded = request
        .media
        .as_ref()
        .ok_or("the request is not multipart")?;
    let meta: Value = serde_json::from_str(&recorded.meta).map_err(|e| format!("meta: {e}"))?;
    let expected = serde_json::json!({
        "filename": file,
        "sha256": wechatpay::crypto::sha256_hex(&content),
    });
    if meta != expected {
        return Err(format!("meta {meta} != {expected}"));
    }
    if recorded.content.as_ref() != content.as_slice() {
        return Err("the file part is not the file".into());
    }
    Ok(())
}

fn check_response(response: &Response, respond: &Value) -> Check {
    if Some(u64::from(response.status().as_u16())) != respond["status"].as_u64() {
        return Err(format!(
            "status {} != {}",
            response.status(),
            respond["status"]
        ));
    }
    if let Some(json) = respond.get("json")
        && response.json::<Value>().ok().as_ref() != Some(json)
    {
        return Err(format!("answer {:?} != {json}", response.text()));
    }
    if let Some(xml) = respond["xml"].as_object() {
        let answer = response
            .xml()
            .map_err(|e| format!("the answer is not XML: {e}"))?;
        for (name, value) in xml {
            if answer.get_str(name) != value.as_str() {
                return Err(format!(
                    "answer field {name}: {:?} != {value}",
                    answer.get_str(name)
                ));
            }
        }
    }
    if let Some(body) = respond["body"].as_str()
        && response.bytes().as_ref() != body.as_bytes()
    {
        return Err("the answer body was changed".into());
    }
    if respond["signed"] == true && !response.is_verified() {
        return Err("a signed answer was not verified".into());
    }
    Ok(())
}
