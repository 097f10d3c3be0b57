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
//! WeChat Pay's `hash_value` is the digest of the **original** bill (原始账单, "gzip需要解压缩"):
//! for a bill served compressed (`tar_type=GZIP`), the digest of the decompressed CSV. [`check`]
//! and [`Checker`] recognise a gzip file by its magic bytes (`1f 8b`; a CSV bill never starts
//! with them) and digest what it decompresses to, as it streams; a plain bill is digested as
//! it is. Pass the bytes exactly as downloaded either way.
//!
//! **A gzip bill is decompressed within bounds.** A real bill (CSV text) compresses about
//! ten to one; a gzip bomb a thousand to one. The check stops with an error once the
//! decompressed bill passes 64 MiB and 100 times the compressed bytes read so far, so a 2 MiB
//! bomb costs a fraction of a second, not a 2 GiB decompression. The client runs the check of
//! a body in memory ([`Options::expect_digest`](crate::Options::expect_digest) without a sink)
//! on a blocking thread, within the request's timeout.
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
//! // file.bytes() is the bill as served (gzip-compressed when `tar_type` was GZIP; the check
//! // digested its decompressed content).
//! # Ok(())
//! # }
//! ```

use std::io::Write;

use flate2::write::MultiGzDecoder;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::crypto::hash::hex_lower;
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result, Verification};

/// The magic bytes that open a gzip file.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A gzip bill may always decompress to this much…
const DECOMPRESSED_FLOOR: u64 = 64 << 20;

/// …and beyond it, to at most this many times the compressed bytes read so far.
const MAX_RATIO: u64 = 100;

/// Checks that the downloaded bill `bytes` (exactly as served) has the digest `hash_value`
/// under `hash_type`, both as given by the bill-apply call. A gzip file (`tar_type=GZIP`) is
/// decompressed as it is digested, because WeChat Pay's digest is the one of the original
/// bill; see [`Checker`] to check a download as it streams.
///
/// `hash_type` is `SHA1` (what WeChat Pay sends) or `SHA256`, in any case; `hash_value` is
/// hex, compared case-insensitively.
///
/// # Errors
///
/// * [`ErrorKind::InvalidArgument`] for another `hash_type` (such as `SM3`).
/// * [`ErrorKind::Decode`] for a gzip file that does not decompress (cut short or damaged).
/// * [`ErrorKind::Verification`] with [`Verification::Signature`] when the digest differs:
///   the file is not the one WeChat Pay meant (truncated or altered) and must not be used.
pub fn check(bytes: &[u8], hash_type: &str, hash_value: &str) -> Result<()> {
    let mut checker = Checker::new(hash_type, hash_value)?;
    checker.update(bytes)?;
    checker.finish()
}

/// Checks a bill as it streams in: feed it the downloaded bytes in order with
/// [`Checker::update`] (or as an [`std::io::Write`], e.g. with [`std::io::copy`]), then
/// [`Checker::finish`]. Memory stays constant whatever the bill's size; a gzip bill is
/// decompressed on the fly and its decompressed content digested.
///
/// ```
/// use wechatpay::bill::Checker;
/// use wechatpay::crypto::sha1_hex;
///
/// # fn main() -> wechatpay::Result<()> {
/// let bill = "交易时间,公众账号ID\r\n`2019-06-11 10:00:00,`wx1\r\n".as_bytes();
/// let mut checker = Checker::new("SHA1", &sha1_hex(bill))?;
/// for chunk in bill.chunks(7) {
///     checker.update(chunk)?;
/// }
/// checker.finish()?;
/// # Ok(())
/// # }
/// ```
pub struct Checker {
    hash_type: String,
    expected: String,
    state: State,
}

/// Before the first two bytes are known, then plain or gzip (with the compressed bytes read
/// so far).
enum State {
    Start(Vec<u8>),
    Plain(DigestWriter),
    Gzip(Box<MultiGzDecoder<DigestWriter>>, u64),
}

/// A digest that takes bytes through [`Write`], up to a number of them.
struct DigestWriter {
    digest: Digests,
    written: u64,
    allowed: u64,
}

enum Digests {
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Write for DigestWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.written.saturating_add(bytes.len() as u64);
        if written > self.allowed {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "decompressed past the limit",
            ));
        }
        self.written = written;
        match &mut self.digest {
            Digests::Sha1(digest) => digest.update(bytes),
            Digests::Sha256(digest) => digest.update(bytes),
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl DigestWriter {
    fn hex(self) -> String {
        match self.digest {
            Digests::Sha1(digest) => hex_lower(&digest.finalize()),
            Digests::Sha256(digest) => hex_lower(&digest.finalize()),
        }
    }
}

impl Checker {
    /// A check against `hash_value` under `hash_type`, as the bill-apply call gave them.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] for a `hash_type` other than `SHA1` or `SHA256`.
    pub fn new(hash_type: &str, hash_value: &str) -> Result<Self> {
        // Validated here, and made again from the type when the first bytes arrive.
        digest_writer(hash_type)?;
        Ok(Self {
            hash_type: hash_type.to_owned(),
            expected: hash_value.trim().to_owned(),
            state: State::Start(Vec::with_capacity(GZIP_MAGIC.len())),
        })
    }

    /// Digests the next bytes of the bill.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Decode`] when a gzip bill does not decompress.
    pub fn update(&mut self, mut bytes: &[u8]) -> Result<()> {
        if let State::Start(pending) = &mut self.state {
            let take = (GZIP_MAGIC.len() - pending.len()).min(bytes.len());
            pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if pending.len() < GZIP_MAGIC.len() {
                return Ok(());
            }
            let pending = std::mem::take(pending);
            self.state = self.begin(&pending)?;
        }
        self.feed(bytes)
    }

    /// Ends the check.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Decode`] for a gzip bill cut short;
    /// [`ErrorKind::Verification`] with [`Verification::Signature`] when the digest is not
    /// `hash_value`: the file must not be used.
    pub fn finish(mut self) -> Result<()> {
        if let State::Start(pending) = &mut self.state {
            let pending = std::mem::take(pending);
            self.state = self.begin(&pending)?;
        }
        let writer = match std::mem::replace(&mut self.state, State::Start(Vec::new())) {
            State::Plain(writer) => writer,
            State::Gzip(decoder, compressed) => decoder
                .finish()
                .map_err(|error| not_gzip(error, compressed))?,
            State::Start(_) => digest_writer(&self.hash_type)?,
        };
        let actual = writer.hex();
        if actual.eq_ignore_ascii_case(&self.expected) {
            return Ok(());
        }
        Err(Error::verification(
            Verification::Signature,
            format!(
                "the downloaded bill does not match hash_value from the bill-apply call: its \
                 {} is {actual}, expected {}; download it again and do not use this file (pass \
                 the bytes exactly as served: a gzip bill is decompressed for the check)",
                self.hash_type, self.expected
            ),
        ))
    }

    /// The state once the first bytes are known; they are fed to it.
    fn begin(&self, first: &[u8]) -> Result<State> {
        let writer = digest_writer(&self.hash_type)?;
        let mut state = if first == GZIP_MAGIC {
            State::Gzip(Box::new(MultiGzDecoder::new(writer)), 0)
        } else {
            State::Plain(writer)
        };
        feed(&mut state, first)?;
        Ok(state)
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<()> {
        feed(&mut self.state, bytes)
    }
}

fn feed(state: &mut State, bytes: &[u8]) -> Result<()> {
    match state {
        State::Plain(writer) => writer.write_all(bytes).map_err(|error| not_gzip(error, 0)),
        State::Gzip(decoder, compressed) => {
            *compressed = compressed.saturating_add(bytes.len() as u64);
            decoder.get_mut().allowed =
                compressed.saturating_mul(MAX_RATIO).max(DECOMPRESSED_FLOOR);
            decoder
                .write_all(bytes)
                .map_err(|error| not_gzip(error, *compressed))
        }
        State::Start(pending) => {
            pending.extend_from_slice(bytes);
            Ok(())
        }
    }
}

impl Write for Checker {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.update(bytes)
            .map(|()| bytes.len())
            .map_err(std::io::Error::other)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Start(_) => "start",
            State::Plain(_) => "plain",
            State::Gzip(..) => "gzip",
        };
        f.debug_struct("Checker")
            .field("hash_type", &self.hash_type)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

fn digest_writer(hash_type: &str) -> Result<DigestWriter> {
    let digest = if hash_type.eq_ignore_ascii_case("SHA1") {
        Digests::Sha1(Sha1::new())
    } else if hash_type.eq_ignore_ascii_case("SHA256") {
        Digests::Sha256(Sha256::new())
    } else {
        return Err(Error::invalid(format!(
            "the bill hash_type `{hash_type}` is not supported; SHA1 and SHA256 are"
        )));
    };
    Ok(DigestWriter {
        digest,
        written: 0,
        allowed: u64::MAX,
    })
}

fn not_gzip(error: std::io::Error, compressed: u64) -> Error {
    if error.kind() == std::io::ErrorKind::FileTooLarge {
        return Error::decode(format!(
            "the downloaded bill is gzip that decompresses to more than {} MiB and more than \
             {MAX_RATIO} times its {compressed} compressed bytes: a bill (CSV text) never \
             does, so this is not one (a gzip bomb?); do not use this file",
            DECOMPRESSED_FLOOR >> 20
        ))
        .with_source(error);
    }
    Error::decode(format!(
        "the downloaded bill starts like gzip but does not decompress ({error}): it was cut \
         short or damaged; download it again and do not use this file"
    ))
    .with_source(error)
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
