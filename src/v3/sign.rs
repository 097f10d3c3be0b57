//! APIv3 request signing: the signing message and the `Authorization` header, and its parser.
//!
//! Pure functions: the timestamp and nonce are inputs, so every output has a fixed vector.
//!
//! ```
//! use wechatpay::v3::sign;
//!
//! let message = sign::request_message("GET", "/v3/certificates", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", b"");
//! assert_eq!(message, b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n");
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::crypto::Signer;
#[cfg(any(test, feature = "mock"))]
use crate::error::Error;
use crate::error::Result;

/// The scheme word of the `Authorization` header, and the only `Wechatpay-Signature-Type`.
pub(crate) const AUTHORIZATION_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

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
    let mut message = Vec::with_capacity(
        method.len() + target.len() + MAX_DECIMAL + nonce.len() + body.len() + 5,
    );
    push_line(&mut message, method.as_bytes());
    push_line(&mut message, target.as_bytes());
    push_line(
        &mut message,
        itoa::Buffer::new().format(timestamp).as_bytes(),
    );
    push_line(&mut message, nonce.as_bytes());
    push_line(&mut message, body);
    message
}

/// The most digits of a `u64` (the room a timestamp needs).
const MAX_DECIMAL: usize = 20;

/// The message WeChat Pay signs for an answer or a notification:
/// `TIMESTAMP\nNONCE\nBODY\n`.
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    push_line(&mut message, timestamp.as_bytes());
    push_line(&mut message, nonce.as_bytes());
    push_line(&mut message, body);
    message
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
    let mut header = authorization_head(mchid, serial, timestamp, nonce, signature.len());
    header.push_str(signature);
    header.push('"');
    header
}

/// The `Authorization` header up to its signature's opening quote, with room for a
/// signature of `signature_len` bytes and the closing quote.
fn authorization_head(
    mchid: &str,
    serial: &str,
    timestamp: u64,
    nonce: &str,
    signature_len: usize,
) -> String {
    let pieces: [&str; 10] = [
        AUTHORIZATION_SCHEME,
        " mchid=\"",
        mchid,
        "\",serial_no=\"",
        serial,
        "\",timestamp=\"",
        // The digits go here.
        "\",nonce_str=\"",
        nonce,
        "\",signature=\"",
        "",
    ];
    let len =
        pieces.iter().map(|piece| piece.len()).sum::<usize>() + MAX_DECIMAL + signature_len + 1;
    let mut header = String::with_capacity(len);
    for piece in &pieces[..6] {
        header.push_str(piece);
    }
    header.push_str(itoa::Buffer::new().format(timestamp));
    for piece in &pieces[6..] {
        header.push_str(piece);
    }
    header
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
    let signature = signer.sign(&message)?;
    let mut header = authorization_head(
        mchid,
        serial,
        request.timestamp,
        request.nonce,
        base64::encoded_len(signature.len(), true).unwrap_or(0),
    );
    STANDARD.encode_string(&signature, &mut header);
    header.push('"');
    Ok(header)
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
    /// The request nonce (32 characters from [`toolkit::nonce`](crate::toolkit::nonce)).
    pub nonce: &'a str,
    /// The signed body.
    pub body: &'a [u8],
}

/// The fields of an `Authorization` header, as [`parse_authorization`] reads them.
#[cfg(any(test, feature = "mock"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Authorization<'a> {
    /// `mchid`.
    pub mchid: &'a str,
    /// `serial_no`: the merchant certificate serial.
    pub serial_no: &'a str,
    /// `timestamp`, as written.
    pub timestamp: &'a str,
    /// `nonce_str`.
    pub nonce_str: &'a str,
    /// `signature`, base64.
    pub signature: &'a str,
}

/// Reads an `Authorization` header value made by [`authorization`] (what WeChat Pay, and the
/// mock server, check): the scheme, then `key="value"` pairs separated by commas, in any
/// order.
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) naming what is missing.
#[cfg(any(test, feature = "mock"))]
pub(crate) fn parse_authorization(value: &str) -> Result<Authorization<'_>> {
    let fields = value
        .strip_prefix(AUTHORIZATION_SCHEME)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or_else(|| {
            Error::invalid(format!(
                "Authorization must start with `{AUTHORIZATION_SCHEME} `"
            ))
        })?;
    let field = |name: &str| {
        fields
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| key.trim() == name)
            .and_then(|(_, value)| value.strip_prefix('"')?.strip_suffix('"'))
            .ok_or_else(|| Error::invalid(format!("Authorization lacks {name}=\"…\"")))
    };
    Ok(Authorization {
        mchid: field("mchid")?,
        serial_no: field("serial_no")?,
        timestamp: field("timestamp")?,
        nonce_str: field("nonce_str")?,
        signature: field("signature")?,
    })
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
    fn authorize_matches_authorization() {
        struct Fixed;
        impl Signer for Fixed {
            fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
                Ok(message.iter().rev().copied().collect())
            }
        }
        let request = RequestToSign {
            method: "POST",
            target: "/v3/x?y=1",
            timestamp: 1_554_208_460,
            nonce: "N0NCE",
            body: b"{}",
        };
        let signed = authorize(&Fixed, "1900009191", "SERIAL", request).expect("signs");
        let message = request_message("POST", "/v3/x?y=1", 1_554_208_460, "N0NCE", b"{}");
        let signature = sign_base64(&Fixed, &message).expect("signs");
        assert_eq!(
            signed,
            authorization("1900009191", "SERIAL", 1_554_208_460, "N0NCE", &signature)
        );
        // Sized once: no growth on the way.
        assert!(signed.capacity() - signed.len() <= MAX_DECIMAL);
    }

    #[test]
    fn authorization_round_trips() {
        let header = authorization("1", "S", 7, "N", "sig==");
        let fields = parse_authorization(&header).expect("parses");
        assert_eq!(
            fields,
            Authorization {
                mchid: "1",
                serial_no: "S",
                timestamp: "7",
                nonce_str: "N",
                signature: "sig==",
            }
        );
        assert!(parse_authorization("Bearer x").is_err());
        assert!(parse_authorization("WECHATPAY2-SHA256-RSA2048 mchid=\"1\"").is_err());
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
}
