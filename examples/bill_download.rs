//! A trade bill download (下载交易账单): apply for the bill, download the file (which WeChat
//! Pay does not sign), and check it against the digest the signed apply answer gave; then the
//! same download streamed into a file (the `sink` option), the digest checked as it streams.
//!
//! ```text
//! cargo run --example bill_download
//! ```
//!
//! Runs against the built-in mock server, which answers like WeChat Pay.

use serde_json::{Value, json};
use wechatpay::Options;
use wechatpay::mock::{MockServer, Reply};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    let bill = "交易时间,公众账号ID,商户号,微信订单号,商户订单号\r\n`2019-06-11 10:00:00,`wxd678efh567hg6787,`1900000109,`4200000001,`1217752501\r\n";
    mock.on(
        "GET",
        "/v3/bill/tradebill",
        Reply::json(
            200,
            json!({
                "download_url": format!("{}v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwv", mock.uri()),
                "hash_type": "SHA1",
                "hash_value": wechatpay::toolkit::sha1_hex(bill.as_bytes()),
            }),
        ),
    );
    mock.on(
        "GET",
        "/v3/billdownload/file",
        Reply::status(200).body(bill).unsigned(),
    );
    let client = mock.client_builder().build()?;

    // 1. Apply: a signed answer with the download URL and the file's digest.
    let apply: Value = client["v3/bill/tradebill"]
        .get(json!({"query": {"bill_date": "2019-06-11", "bill_type": "ALL"}}))?
        .json()?;
    let url = apply["download_url"].as_str().ok_or("no download_url")?;
    let token = url
        .split("token=")
        .nth(1)
        .ok_or("no token in the download_url")?;

    // 2. Download: unsigned (`verified_by()` is `VerifiedBy::Unsigned`) ...
    let file = client["v3/billdownload/file"].get(json!({"query": {"token": token}}))?;
    println!(
        "downloaded {} bytes, verified by: {}",
        file.bytes().len(),
        file.verified_by()
    );

    // 3. ... so the digest is what proves it is the bill WeChat Pay meant.
    wechatpay::bill::check(
        file.bytes(),
        apply["hash_type"].as_str().unwrap_or_default(),
        apply["hash_value"].as_str().unwrap_or_default(),
    )?;
    println!(
        "digest checked; first line: {}",
        file.text()?.lines().next().unwrap_or_default()
    );

    // 4. A bill of any size: streamed into a file, in constant memory, its digest checked as
    //    it streams; the file appears only when complete and correct.
    let dir = std::env::temp_dir().join(format!("wechatpay-bill-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("2019-06-11.csv");
    let streamed = client["v3/billdownload/file"].get(
        Options::new()
            .query(json!({"token": token}))
            .sink(&path)
            .expect_digest(
                apply["hash_type"].as_str().unwrap_or_default(),
                apply["hash_value"].as_str().unwrap_or_default(),
            ),
    )?;
    println!(
        "streamed {} bytes into {}",
        streamed.streamed().map_or(0, |streamed| streamed.bytes),
        path.display()
    );
    std::fs::remove_dir_all(dir)?;
    Ok(())
}
