//! Message digests as hex strings, and a constant-time comparison.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

const LOWER_DIGITS: &[u8; 16] = b"0123456789abcdef";
const UPPER_DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// The lower-case hex SHA-256 digest of `data` (64 characters).
///
/// ```text
/// sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// ```
pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(&Sha256::digest(data))
}

/// The lower-case hex SHA-1 digest of `data` (40 characters).
pub fn sha1_hex(data: &[u8]) -> String {
    hex_lower(&Sha1::digest(data))
}

/// The lower-case hex MD5 digest of `data` (32 characters).
///
/// The APIv2 refund notification key is `md5_hex(apiv2_key)` used as 32 raw bytes.
pub fn md5_hex(data: &[u8]) -> String {
    hex_lower(&Md5::digest(data))
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
///
/// Different lengths give `false` at once (the length is not secret); equal lengths are
/// compared byte for byte without stopping at the first difference. Like PHP's `hash_equals`,
/// the comparison is case-sensitive.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// `bytes` as lower-case hex.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    encode_hex(bytes, LOWER_DIGITS)
}

/// `bytes` as upper-case hex (the APIv2 `sign` format).
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    encode_hex(bytes, UPPER_DIGITS)
}

fn encode_hex(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(digits[usize::from(byte >> 4)]));
        out.push(char::from(digits[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn sha1_vector() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn md5_vectors() {
        assert_eq!(
            md5_hex(b"exposed_your_key_here_have_risks"),
            "4ad14ac334ab13540eb6c5479512a8e8"
        );
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        // PHP `Hash::md5(stringA, '')` is plain md5; this stringA happens to hash to the key.
        assert_eq!(
            md5_hex(
                b"appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
            ),
            "192006250b4c09247ec02edce69f6a2d"
        );
    }

    #[test]
    fn hex_encoders() {
        assert_eq!(hex_lower(&[]), "");
        assert_eq!(hex_lower(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex_upper(&[0x00, 0x0f, 0xa5, 0xff]), "000FA5FF");
    }

    #[test]
    fn constant_time_eq_cases() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"ABC", b"ABC"));
        assert!(!constant_time_eq(b"ABC", b"abc"));
        assert!(!constant_time_eq(b"ABC", b"ABCD"));
        assert!(!constant_time_eq(b"", b"A"));
        assert!(!constant_time_eq(b"ABD", b"ABC"));
    }
}
