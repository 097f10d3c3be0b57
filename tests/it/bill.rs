//! Bill download: the unsigned file is checked against the bill-apply call's digest.

use serde_json::json;
use wechatpay::VerifiedBy;
use wechatpay::mock::{MockServer, Reply};
use wechatpay::{ErrorKind, Verification, bill, crypto};

const TOKEN: &str = "6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO";

/// Some bytes that look like a gzip file (magic, method, then binary).
fn gzip_like() -> Vec<u8> {
    let mut bytes = vec![0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03];
    bytes.extend((0..=255u8).rev());
    bytes.extend_from_slice(
        "交易时间,公众账号ID,商户号\r\n`2019-06-11 10:00:00,`wx1,`1900000109\r\n".as_bytes(),
    );
    bytes
}

#[test]
fn a_downloaded_bill_is_checked_as_served() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let file = gzip_like();
    let hash_value = crypto::sha1_hex(&file);
    mock.on(
        "GET",
        "/v3/bill/tradebill",
        Reply::json(
            200,
            json!({
                "hash_type": "SHA1",
                "hash_value": hash_value,
                "download_url": format!("https://api.mch.weixin.qq.com/v3/billdownload/file?token={TOKEN}"),
            }),
        ),
    );
    mock.on(
        "GET",
        "/v3/billdownload/file",
        Reply::status(200)
            .header("Content-Type", "application/x-gzip")
            .body(file.clone())
            .unsigned(),
    );
    let client = mock.client_builder().build()?;

    let apply: serde_json::Value = client["v3/bill/tradebill"]
        .get(json!({"query": {"bill_date": "2019-06-11", "bill_type": "ALL", "tar_type": "GZIP"}}))?
        .json()?;
    let downloaded = client["v3/billdownload/file"].get(json!({"query": {"token": TOKEN}}))?;
    assert_eq!(
        downloaded.verified_by(),
        &VerifiedBy::Unsigned,
        "the file is not signed"
    );
    assert_eq!(downloaded.bytes().as_ref(), &file[..]);
    let hash_type = apply["hash_type"].as_str().unwrap_or_default();
    let hash_value = apply["hash_value"].as_str().unwrap_or_default();
    bill::check(downloaded.bytes(), hash_type, hash_value)?;
    bill::check(downloaded.bytes(), hash_type, &hash_value.to_uppercase())?;

    let requests = mock.take_requests();
    assert_eq!(
        requests[1].target,
        format!("/v3/billdownload/file?token={TOKEN}")
    );
    assert_eq!(requests[1].verdict, Ok(()));

    // One byte short, or decompressed first: not the file WeChat Pay meant.
    let truncated = &downloaded.bytes()[..file.len() - 1];
    let error = bill::check(truncated, hash_type, hash_value).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::Signature)
    );
    assert!(error.to_string().contains("hash_value"), "{error}");
    Ok(())
}

#[test]
fn hash_types() {
    let file = gzip_like();
    assert!(bill::check(&file, "SHA256", &crypto::sha256_hex(&file)).is_ok());
    assert!(bill::check(&file, "sha1", &crypto::sha1_hex(&file)).is_ok());
    // A SHA-256 digest does not pass as SHA-1.
    let error = bill::check(&file, "SHA1", &crypto::sha256_hex(&file)).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::Signature)
    );
    for unsupported in ["SM3", "MD5", ""] {
        let error = bill::check(&file, unsupported, &crypto::sha1_hex(&file)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{unsupported}");
    }
}
