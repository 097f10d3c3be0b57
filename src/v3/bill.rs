//! Bill downloads (下载账单): check a downloaded file against the digest the bill-apply call
//! gave.
//!
//! `GET /v3/bill/tradebill` (or `/v3/bill/fundflowbill`, …) answers, signed, with
//! `download_url`, `hash_type` and `hash_value`. The file at `download_url`
//! (`/v3/billdownload/file?token=…`) is **not** signed by WeChat Pay: the client accepts it
//! unverified ([`Response::verified_by`](crate::Response::verified_by) is
//! [`VerifiedBy::Unsigned`](crate::VerifiedBy::Unsigned)), and
//! [`check`] is what proves it is the file WeChat Pay meant.
//!
//! ```
//! use serde_json::{Value, json};
//! # use wechatpay::mock::{MockServer, Reply};
//! # fn main() -> wechatpay::Result<()> {
//! # let mock = MockServer::start()?;
//! # let bill = b"\xEF\xBB\xBF\xE4\xBA\xA4\xE6\x98\x93\xE6\x97\xB6\xE9\x97\xB4,...\r\n".to_vec();
//! # mock.on("GET", "/v3/bill/tradebill", Reply::json(200, json!({
//! #     "download_url": format!("{}v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO", mock.uri()),
//! #     "hash_type": "SHA1",
//! #     "hash_value": wechatpay::crypto::sha1_hex(&bill),
//! # })));
//! # mock.on("GET", "/v3/billdownload/file", Reply::status(200).body(bill).unsigned());
//! # let client = mock.client_builder().build()?;
//! let apply: Value = client["v3/bill/tradebill"]
//!     .get(json!({"query": {"bill_date": "2019-06-11"}}))?
//!     .json()?;
//! let url = apply["download_url"].as_str().unwrap_or_default();
//! let token = url.split("token=").nth(1).unwrap_or_default();
//! let file = client["v3/billdownload/file"].get(json!({"query": {"token": token}}))?;
//! wechatpay::bill::check(
//!     file.bytes(),
//!     apply["hash_type"].as_str().unwrap_or_default(),
//!     apply["hash_value"].as_str().unwrap_or_default(),
//! )?;
//! // file.bytes() is the bill (gzip-compressed when `tar_type` was GZIP).
//! # Ok(())
//! # }
//! ```

use crate::crypto::{sha1_hex, sha256_hex};
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result, Verification};

/// Checks that `bytes` (the downloaded file, exactly as served: still gzip-compressed if it
/// was) hash to `hash_value` under `hash_type`, both as given by the bill-apply call.
///
/// `hash_type` is `SHA1` (what WeChat Pay sends) or `SHA256`, in any case; `hash_value` is
/// hex, compared case-insensitively.
///
/// # Errors
///
/// * [`ErrorKind::InvalidArgument`] for another `hash_type` (such as `SM3`).
/// * [`ErrorKind::Verification`] with [`Verification::Signature`] when the digest differs:
///   the file is not the one WeChat Pay meant (truncated, altered, or decompressed before
///   the check) and must not be used.
pub fn check(bytes: &[u8], hash_type: &str, hash_value: &str) -> Result<()> {
    let actual = if hash_type.eq_ignore_ascii_case("SHA1") {
        sha1_hex(bytes)
    } else if hash_type.eq_ignore_ascii_case("SHA256") {
        sha256_hex(bytes)
    } else {
        return Err(Error::invalid(format!(
            "the bill hash_type `{hash_type}` is not supported; SHA1 and SHA256 are"
        )));
    };
    let expected = hash_value.trim();
    if actual.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(Error::verification(
        Verification::Signature,
        format!(
            "the downloaded bill does not match hash_value from the bill-apply call: its \
             {hash_type} is {actual}, expected {expected}; download it again (check the bytes \
             as served, before any gunzip) and do not use this file"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn digests_are_compared_without_case() {
        let sha1 = "A9993E364706816ABA3E25717850C26C9CD0D89D";
        assert!(check(b"abc", "SHA1", sha1).is_ok());
        assert!(check(b"abc", "sha1", &sha1.to_lowercase()).is_ok());
        assert!(
            check(
                b"abc",
                "SHA256",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            )
            .is_ok()
        );
        let err = check(b"abd", "SHA1", sha1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Verification(Verification::Signature));
        assert!(err.to_string().contains("does not match hash_value"));
        let err = check(b"abc", "SM3", sha1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let err = check(b"abc", "SHA1", "").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Verification(Verification::Signature));
    }
}
