//! PHP `Formatter`: nonces, timestamps, line-feed joins, and the APIv2 `stringA`.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::crypto::random;
use crate::error::{Error, Result};

const NONCE_ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The longest nonce [`nonce`] makes; WeChat Pay's are 32 characters.
pub(crate) const MAX_NONCE_LEN: usize = 1024;

/// A fresh nonce of `len` characters from `[0-9A-Za-z]`, from the operating system's
/// randomness (PHP's `Formatter::nonce`).
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when `len` is 0 or more
/// than 1024, [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) if the system has
/// no randomness.
pub fn nonce(len: usize) -> Result<String> {
    if len == 0 || len > MAX_NONCE_LEN {
        return Err(Error::invalid(format!(
            "a nonce has 1 to {MAX_NONCE_LEN} characters, not {len}"
        )));
    }
    // Bytes from 248 on are dropped: 248 = 4 × 62, so every character is equally likely.
    const UNBIASED: u8 = 248;
    let mut nonce = String::with_capacity(len);
    let mut bytes = [0u8; 48];
    while nonce.len() < len {
        random::fill(&mut bytes)?;
        let usable = bytes.iter().filter(|byte| **byte < UNBIASED);
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

/// Joins the pieces, each followed by `\n` (PHP's `Formatter::joinedByLineFeed`).
///
/// ```
/// assert_eq!(wechatpay::toolkit::joined_by_line_feed(&["a", "b"]), "a\nb\n");
/// ```
pub fn joined_by_line_feed<S: AsRef<str>>(pieces: &[S]) -> String {
    let mut out = String::new();
    for piece in pieces {
        out.push_str(piece.as_ref());
        out.push('\n');
    }
    out
}

/// The APIv2 `stringA`: `k=v` pairs joined with `&`, keys in dictionary order.
///
/// Keys are ordered by their bytes (PHP `ksort($a, SORT_STRING)`): upper case before `_`
/// before lower case, and digits compared as text (`10` before `9`). The field named exactly
/// `sign` and fields with an empty value are left out; nothing is URL-encoded. Fields with
/// the same key (which a PHP array cannot hold) stay in the order given.
///
/// This is [`query_string_like`]`(`[`ksort`]`(fields))`.
pub fn string_to_sign<'a, I>(fields: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    query_string_like(ksort(fields))
}

/// The fields sorted by key bytes (PHP `Formatter::ksort`, i.e. `ksort($a, SORT_STRING)`):
/// dictionary order, case-sensitive (`A`–`Z` < `_` < `a`–`z`), digits compared as text.
/// The sort is stable: fields with the same key keep their order.
///
/// ```
/// use wechatpay::toolkit::ksort;
///
/// let sorted = ksort([("remark", "1"), ("re_openid", "2"), ("REMARK", "3")]);
/// assert_eq!(sorted, [("REMARK", "3"), ("re_openid", "2"), ("remark", "1")]);
/// ```
pub fn ksort<K, V, I>(fields: I) -> Vec<(K, V)>
where
    K: AsRef<str>,
    I: IntoIterator<Item = (K, V)>,
{
    let mut fields: Vec<(K, V)> = fields.into_iter().collect();
    fields.sort_by(|a, b| a.0.as_ref().as_bytes().cmp(b.0.as_ref().as_bytes()));
    fields
}

/// `k=v` pairs joined with `&`, in the order given (PHP `Formatter::queryStringLike`): the
/// field named exactly `sign` (case-sensitive) and fields with an empty value are left out;
/// nothing is URL-encoded or trimmed.
///
/// ```
/// use wechatpay::toolkit::query_string_like;
///
/// assert_eq!(query_string_like([("b", "3"), ("a", "1"), ("sign", "X"), ("c", "")]), "b=3&a=1");
/// ```
pub fn query_string_like<K, V, I>(fields: I) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
    I: IntoIterator<Item = (K, V)>,
{
    let mut out = String::new();
    for (key, value) in fields {
        let (key, value) = (key.as_ref(), value.as_ref());
        if key == "sign" || value.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_base62_of_the_asked_length() {
        for len in [1, 16, 32, 100, MAX_NONCE_LEN] {
            let n = nonce(len).expect("nonce");
            assert_eq!(n.len(), len);
            assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        assert!(nonce(0).is_err());
        assert!(nonce(MAX_NONCE_LEN + 1).is_err());
        assert!(nonce(usize::MAX).is_err());
        assert_ne!(nonce(32).expect("nonce"), nonce(32).expect("nonce"));
    }

    #[test]
    fn timestamps_are_ten_digit_seconds() {
        let now = timestamp().to_string();
        assert_eq!(now.len(), 10);
        assert!(now.starts_with('1'));
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

    fn sorted_keys(keys: &[&'static str]) -> String {
        let text = string_to_sign(keys.iter().map(|&key| (key, "1")));
        text.split('&')
            .map(|pair| pair.trim_end_matches("=1"))
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn ksort_vectors() {
        assert_eq!(
            sorted_keys(&["b", "a", "10", "9", "A", "_", "a_b", "ab", "Z"]),
            "10,9,A,Z,_,a,a_b,ab,b"
        );
        assert_eq!(
            sorted_keys(&["remark", "RE_OPENID", "re_openid", "REMARK"]),
            "REMARK,RE_OPENID,re_openid,remark"
        );
        assert_eq!(sorted_keys(&["a", "b", "aa"]), "a,aa,b");
        assert_eq!(
            sorted_keys(&["rfc1", "b", "rfc822", "rfc2086"]),
            "b,rfc1,rfc2086,rfc822"
        );
        assert_eq!(sorted_keys(&["remark", "re_openid"]), "re_openid,remark");
    }

    #[test]
    fn string_to_sign_skips() {
        assert_eq!(string_to_sign([]), "");
        assert_eq!(string_to_sign([("sign", "x"), ("a", "")]), "");
        // Only the exact key `sign` is skipped; values are not trimmed or encoded.
        assert_eq!(
            string_to_sign([
                ("sign", "x"),
                ("SIGN", "y"),
                ("Sign", "z"),
                ("e", " sp "),
                ("f", "a&b=c")
            ]),
            "SIGN=y&Sign=z&e= sp &f=a&b=c"
        );
        assert_eq!(
            string_to_sign([("b", "3"), ("a", "1"), ("c", "")]),
            "a=1&b=3"
        );
    }
}
