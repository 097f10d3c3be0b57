//! Streaming downloads (the `sink` option): a 64 MiB bill into a file in bounded memory with
//! its digest checked as it streams, into a writer, a wrong digest that leaves no file, and a
//! signed answer verified before it is written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::json;
use wechatpay::crypto::sha1_hex;
use wechatpay::mock::{Fault, MockServer, Reply};
use wechatpay::{ErrorKind, Options, Verification, VerifiedBy};

use crate::common::{child_report, peak_rss_kib};

/// A line of a trade bill (交易账单).
const BILL_LINE: &str = "`2019-06-11 10:00:00,`wxd678efh567hg6787,`1900000109,`0,`,`4200000001201906113233368018,`1217752501201407033233368018,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`CFT,`CNY,`100.00\r\n";

const DOWNLOAD: &str = "/v3/billdownload/file";

/// A directory of its own for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wechatpay-sink-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The files of `dir`.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `len` bytes of the bill, as the mock generates them.
fn bill_bytes(len: usize) -> Vec<u8> {
    BILL_LINE
        .as_bytes()
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

fn download_options() -> Options {
    Options::new()
        .query(json!({"token": "6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO"}))
}

const SINK_CHILD: &str = "WECHATPAY_SINK_CHILD_DIGEST";
const BIG: usize = 64 * 1024 * 1024;

/// Run alone in a child process by [`a_64_mib_bill_streams_into_a_file_in_bounded_memory`].
#[test]
#[ignore = "run in a child process by a_64_mib_bill_streams_into_a_file_in_bounded_memory"]
fn sink_child() {
    let Ok(digest) = std::env::var(SINK_CHILD) else {
        return;
    };
    let mock = MockServer::start().unwrap();
    mock.on(
        "GET",
        DOWNLOAD,
        Reply::status(200)
            .generated(BILL_LINE, BIG as u64)
            .unsigned(),
    );
    let client = mock.client_builder().build().unwrap();
    let dir = scratch("big");
    let path = dir.join("2019-06-11.csv");
    let response = client[&DOWNLOAD[1..]]
        .get(
            download_options()
                .sink(&path)
                .expect_digest("SHA1", &digest),
        )
        .unwrap();
    assert_eq!(response.verified_by(), &VerifiedBy::Unsigned);
    assert!(response.bytes().is_empty(), "the body went to the file");
    let streamed = response.streamed().expect("streamed");
    assert_eq!(streamed.bytes, BIG as u64);
    assert_eq!(streamed.path.as_deref(), Some(path.as_path()));
    assert!(streamed.digest_checked);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), BIG as u64);
    assert_eq!(files(&dir), ["2019-06-11.csv"], "no partial file left");
    println!("\n{SINK_CHILD} {}", peak_rss_kib().unwrap_or(0));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_64_mib_bill_streams_into_a_file_in_bounded_memory() {
    if peak_rss_kib().is_none() {
        return; // no /proc (not Linux): nothing to measure with
    }
    // Over the default max_response_size (16 MiB), in a process that never holds it.
    let digest = sha1_hex(&bill_bytes(BIG));
    let peak: u64 = child_report(
        "sink::sink_child",
        SINK_CHILD,
        &[(SINK_CHILD, &digest)],
        &[],
    )
    .parse()
    .expect("the child reports its peak in KiB");
    let _ = writeln!(
        std::io::stderr(),
        "memory: a 64 MiB bill streamed into a file, digest checked, peak resident memory {peak} kB"
    );
    assert!(peak > 0 && peak < 40 * 1024, "peak RSS {peak} kB");
}

#[test]
fn a_wrong_digest_leaves_no_file() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "GET",
        DOWNLOAD,
        Reply::status(200).generated(BILL_LINE, 1 << 20).unsigned(),
    );
    let client = mock.client_builder().build().unwrap();
    let dir = scratch("wrong");
    let path = dir.join("bill.csv");
    let error = client[&DOWNLOAD[1..]]
        .get(
            download_options()
                .sink(&path)
                .expect_digest("SHA1", &sha1_hex(b"another bill")),
        )
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::Signature),
        "{error}"
    );
    assert!(error.to_string().contains("was not written"), "{error}");
    assert!(files(&dir).is_empty(), "{:?}", files(&dir));
    assert_eq!(
        mock.requests().len(),
        1,
        "bytes reached the sink: not sent again"
    );
    // A hash type WeChat Pay does not use fails before anything is sent.
    let error = client[&DOWNLOAD[1..]]
        .get(download_options().sink(&path).expect_digest("SM3", "00"))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{error}");
    assert_eq!(mock.requests().len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A writer whose bytes the test can read.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_writer_receives_the_body_and_a_json_sink_names_a_file() {
    let mock = MockServer::start().unwrap();
    let len = 300 * 1024 + 7;
    mock.on(
        "GET",
        DOWNLOAD,
        Reply::status(200)
            .generated(BILL_LINE, len as u64)
            .unsigned(),
    );
    let client = mock.client_builder().build().unwrap();
    let writer = Shared::default();
    let response = futures::executor::block_on(
        client[&DOWNLOAD[1..]].get_async(
            download_options()
                .sink_to(writer.clone())
                .expect_digest("sha1", &sha1_hex(&bill_bytes(len))),
        ),
    )
    .unwrap();
    assert_eq!(response.streamed().unwrap().bytes, len as u64);
    assert_eq!(response.streamed().unwrap().path, None);
    assert_eq!(*writer.0.lock().unwrap(), bill_bytes(len));

    // The PHP option: `sink` with a path, here on an APIv2 download.
    let csv =
        "交易时间,公众账号ID,商户号\r\n`2014-11-10 16:33:45,`wx2421b1c4370ec43b,`10000100\r\n";
    mock.on("POST", "/pay/downloadbill", Reply::status(200).body(csv));
    let dir = scratch("json");
    let path = dir.join("v2.csv");
    let response = client["v2/pay/downloadbill"]
        .post(json!({
            "xml": {"appid": "wx2421b1c4370ec43b", "mch_id": "1900000109", "bill_date": "20141110", "bill_type": "ALL"},
            "sink": path.to_str().unwrap(),
        }))
        .unwrap();
    assert_eq!(response.streamed().unwrap().bytes, csv.len() as u64);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), csv);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_signed_answer_is_verified_before_it_is_written() {
    let mock = MockServer::start().unwrap();
    let client = mock.client_builder().build().unwrap();
    let dir = scratch("signed");
    let path = dir.join("certificates.json");
    let body = json!({"data": []});
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::json(200, body.clone()).fault(Fault::TamperedBody),
    );
    let error = client["v3/certificates"]
        .get(Options::new().sink(&path))
        .unwrap_err();
    assert!(error.is_verification(), "{error}");
    assert!(files(&dir).is_empty(), "nothing unverified is written");

    mock.once("GET", "/v3/certificates", Reply::json(200, body.clone()));
    let response = client["v3/certificates"]
        .get(Options::new().sink(&path))
        .unwrap();
    assert!(response.is_verified());
    assert_eq!(std::fs::read(&path).unwrap(), body.to_string().into_bytes());
    assert_eq!(
        response.streamed().unwrap().bytes,
        body.to_string().len() as u64
    );
    // An error answer is never written either.
    mock.once(
        "GET",
        "/v3/certificates",
        Reply::error(404, "RESOURCE_NOT_EXISTS", "无可用的平台证书"),
    );
    std::fs::remove_file(&path).unwrap();
    let error = client["v3/certificates"]
        .get(Options::new().sink(&path))
        .unwrap_err();
    assert!(error.is_api());
    assert!(files(&dir).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_body_over_the_limit_suggests_a_sink() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "GET",
        DOWNLOAD,
        Reply::status(200).generated(BILL_LINE, 2 << 20).unsigned(),
    );
    let client = mock
        .client_builder()
        .max_response_size(1 << 20)
        .build()
        .unwrap();
    let error = client[&DOWNLOAD[1..]].get(download_options()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(error.to_string().contains("`sink`"), "{error}");
}
