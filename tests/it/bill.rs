//! Bill download: the unsigned file is checked against the bill-apply call's digest, which
//! is the digest of the original (decompressed) bill.

use std::io::Write;

use serde_json::json;
use wechatpay::VerifiedBy;
use wechatpay::mock::{MockServer, Reply};
use wechatpay::{ErrorKind, Verification, bill, crypto};

const TOKEN: &str = "6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO";

/// A trade bill, as WeChat Pay writes it (CSV with a BOM).
fn csv_bill() -> Vec<u8> {
    let mut bill = b"\xEF\xBB\xBF".to_vec();
    bill.extend_from_slice("交易时间,公众账号ID,商户号\r\n".as_bytes());
    for row in 0..200 {
        bill.extend_from_slice(
            format!("`2019-06-11 10:00:{:02},`wx1,`1900000109\r\n", row % 60).as_bytes(),
        );
    }
    bill
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

#[test]
fn a_gzip_bill_is_checked_against_the_digest_of_the_original() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let original = csv_bill();
    let file = gzip(&original);
    // WeChat Pay's hash_value: the digest of the original bill (原始账单, gzip需要解压缩).
    let hash_value = crypto::sha1_hex(&original);
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

    // The digest of the compressed bytes is not WeChat Pay's: refused.
    let error = bill::check(downloaded.bytes(), hash_type, &crypto::sha1_hex(&file)).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::Signature)
    );
    assert!(error.to_string().contains("hash_value"), "{error}");
    // Cut short: the gzip stream does not end.
    let truncated = &downloaded.bytes()[..file.len() - 9];
    let error = bill::check(truncated, hash_type, hash_value).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
    // An altered original inside a valid gzip: refused.
    let mut altered = original.clone();
    altered[10] ^= 1;
    let error = bill::check(&gzip(&altered), hash_type, hash_value).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::Signature)
    );
    // Decompressed by the caller first: the plain bill passes too.
    bill::check(&original, hash_type, hash_value)?;
    Ok(())
}

#[test]
fn a_bill_streams_through_the_checker_in_any_chunks() -> wechatpay::Result<()> {
    let original = csv_bill();
    let file = gzip(&original);
    let hash_value = crypto::sha256_hex(&original);
    for chunk in [1, 2, 3, 100, file.len()] {
        let mut checker = bill::Checker::new("SHA256", &hash_value)?;
        for piece in file.chunks(chunk) {
            checker.update(piece)?;
        }
        checker.finish()?;
    }
    let mut checker = bill::Checker::new("sha256", &hash_value)?;
    std::io::copy(&mut original.as_slice(), &mut checker).expect("digests");
    checker.finish()?;
    // Nothing at all is the empty bill, which is not this one.
    let error = bill::Checker::new("SHA256", &hash_value)?
        .finish()
        .unwrap_err();
    assert!(error.is_verification(), "{error}");
    Ok(())
}

#[test]
fn hash_types() {
    let file = csv_bill();
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
