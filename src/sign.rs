//! APIv3 request signing: the signing message and the `Authorization` header.
//!
//! Pure functions: the timestamp and nonce are inputs, so every output has a fixed vector.
//!
//! ```
//! use wechatpay::sign;
//!
//! let message = sign::request_message("GET", "/v3/certificates", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", b"");
//! assert_eq!(message, b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n");
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::crypto::Signer;
use crate::error::{Error, Result};

/// The scheme word of the `Authorization` header.
pub const AUTHORIZATION_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

const NONCE_ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The message a merchant signs for a request:
/// `METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n`.
///
/// `target` is the request target exactly as sent: the percent-encoded path plus `?` and the
/// query when there is one. `body` is the exact body bytes (empty for `GET`; the `meta` JSON
/// for a media upload).
pub fn request_message(
    method: &str,
    target: &str,
    timestamp: u64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut message =
        Vec::with_capacity(method.len() + target.len() + nonce.len() + body.len() + 16);
    push_line(&mut message, method.as_bytes());
    push_line(&mut message, target.as_bytes());
    push_line(&mut message, timestamp.to_string().as_bytes());
    push_line(&mut message, nonce.as_bytes());
    push_line(&mut message, body);
    message
}

/// The message WeChat Pay signs for an answer or a notification:
/// `TIMESTAMP\nNONCE\nBODY\n`.
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    push_line(&mut message, timestamp.as_bytes());
    push_line(&mut message, nonce.as_bytes());
    push_line(&mut message, body);
    message
}

/// Joins the pieces, each followed by `\n` (PHP's `Formatter::joinedByLineFeed`).
///
/// ```
/// assert_eq!(wechatpay::sign::joined_by_line_feed(&["a", "b"]), "a\nb\n");
/// ```
pub fn joined_by_line_feed<S: AsRef<str>>(pieces: &[S]) -> String {
    let mut out = String::new();
    for piece in pieces {
        out.push_str(piece.as_ref());
        out.push('\n');
    }
    out
}

fn push_line(message: &mut Vec<u8>, piece: &[u8]) {
    message.extend_from_slice(piece);
    message.push(b'\n');
}

/// The `Authorization` header value:
/// `WECHATPAY2-SHA256-RSA2048 mchid="…",serial_no="…",timestamp="…",nonce_str="…",signature="…"`.
pub fn authorization(
    mchid: &str,
    serial: &str,
    timestamp: u64,
    nonce: &str,
    signature: &str,
) -> String {
    format!(
        "{AUTHORIZATION_SCHEME} mchid=\"{mchid}\",serial_no=\"{serial}\",timestamp=\"{timestamp}\",nonce_str=\"{nonce}\",signature=\"{signature}\""
    )
}

/// Signs `message` with `signer` and returns the base64 signature.
///
/// # Errors
///
/// Whatever the signer reports.
pub fn sign_base64(signer: &dyn Signer, message: &[u8]) -> Result<String> {
    Ok(STANDARD.encode(signer.sign(message)?))
}

/// Signs a request and returns its `Authorization` header value.
///
/// # Errors
///
/// Whatever the signer reports.
pub fn authorize(
    signer: &dyn Signer,
    mchid: &str,
    serial: &str,
    request: RequestToSign<'_>,
) -> Result<String> {
    let message = request_message(
        request.method,
        request.target,
        request.timestamp,
        request.nonce,
        request.body,
    );
    let signature = sign_base64(signer, &message)?;
    Ok(authorization(
        mchid,
        serial,
        request.timestamp,
        request.nonce,
        &signature,
    ))
}

/// The parts of a request that its signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestToSign<'a> {
    /// Upper-case HTTP method.
    pub method: &'a str,
    /// Percent-encoded path plus `?query` when there is one.
    pub target: &'a str,
    /// Unix seconds.
    pub timestamp: u64,
    /// The request nonce (32 characters from [`nonce`]).
    pub nonce: &'a str,
    /// The signed body.
    pub body: &'a [u8],
}

/// A fresh nonce of `len` characters from `[0-9A-Za-z]`, from the operating system's
/// randomness (PHP's `Formatter::nonce`).
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when `len` is 0,
/// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) if the system has no randomness.
pub fn nonce(len: usize) -> Result<String> {
    if len == 0 {
        return Err(Error::invalid("a nonce needs at least one character"));
    }
    // Bytes from 248 on are dropped: 248 = 4 × 62, so every character is equally likely.
    const UNBIASED: u8 = 248;
    let mut nonce = String::with_capacity(len);
    let mut random = [0u8; 48];
    while nonce.len() < len {
        aws_lc_rs::rand::fill(&mut random)
            .map_err(|_| Error::crypto("the operating system gave no random bytes for a nonce"))?;
        let usable = random.iter().filter(|byte| **byte < UNBIASED);
        for byte in usable.take(len - nonce.len()) {
            nonce.push(char::from(
                NONCE_ALPHABET[usize::from(*byte) % NONCE_ALPHABET.len()],
            ));
        }
    }
    Ok(nonce)
}

/// The current Unix time in seconds (PHP's `Formatter::timestamp`).
pub fn timestamp() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_message_matches_the_php_vectors() {
        assert_eq!(
            request_message(
                "GET",
                "/v3/certificates",
                1554208460,
                "593BEC0C930BF1AFEB40B4A08C8FB242",
                b""
            ),
            b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
        );
        assert_eq!(
            request_message(
                "POST",
                "/v3/pay/transactions/native?x=1",
                1554208460,
                "593BEC0C930BF1AFEB40B4A08C8FB242",
                b"{\"a\":1}"
            ),
            b"POST\n/v3/pay/transactions/native?x=1\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{\"a\":1}\n"
        );
    }

    #[test]
    fn response_message_matches_the_php_vector() {
        assert_eq!(
            response_message(
                "1554209980",
                "c5ac7061fccab6bf3e254dcf98995b8c",
                b"{\"data\":[]}"
            ),
            b"1554209980\nc5ac7061fccab6bf3e254dcf98995b8c\n{\"data\":[]}\n"
        );
        assert_eq!(response_message("1", "n", b""), b"1\nn\n\n");
    }

    #[test]
    fn authorization_matches_the_php_vector() {
        assert_eq!(
            authorization(
                "1900009191",
                "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB",
                1554208460,
                "593BEC0C930BF1AFEB40B4A08C8FB242",
                "uOVRnA4q...Fluw=="
            ),
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",serial_no=\"408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB\",timestamp=\"1554208460\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",signature=\"uOVRnA4q...Fluw==\""
        );
    }

    #[test]
    fn joined_by_line_feed_ends_every_piece_with_a_line_feed() {
        assert_eq!(
            joined_by_line_feed(&[
                "wx8888888888888888",
                "1414561699",
                "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
                "prepay_id=wx201410272009395522657a690389285100"
            ]),
            "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n"
        );
        assert_eq!(joined_by_line_feed::<&str>(&[]), "");
    }

    #[test]
    fn nonces_are_base62_of_the_asked_length() {
        for len in [1, 16, 32, 100] {
            let n = nonce(len).expect("nonce");
            assert_eq!(n.len(), len);
            assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        assert!(nonce(0).is_err());
        assert_ne!(nonce(32).expect("nonce"), nonce(32).expect("nonce"));
    }

    #[test]
    fn timestamps_are_ten_digit_seconds() {
        let now = timestamp().to_string();
        assert_eq!(now.len(), 10);
        assert!(now.starts_with('1'));
    }
}
