//! AES-256-GCM (APIv3 resources, notifications, certificates) and AES-256-ECB (APIv2 refund
//! notifications), with base64 (standard alphabet, padded) on the ciphertext side.

use ::aes::Aes256;
use ::aes::cipher::array::ArraySize;
use ::aes::cipher::consts::{U12, U16};
use ::aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{AesGcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result};

/// AES-256 key length in bytes.
const KEY_LEN: usize = 32;
/// AES block length, also the GCM tag length, in bytes.
const BLOCK_LEN: usize = 16;

/// Encrypts `plaintext` with AES-256-GCM and returns `base64(ciphertext ‖ 16-byte tag)`.
///
/// `key` is the 32-byte APIv3 key. `iv` is the nonce: 12 bytes (what WeChat Pay uses) or
/// 16 bytes (what the PHP SDK's tests use; the counter block is then derived with GHASH as
/// NIST SP 800-38D specifies). `aad` is the associated data (may be empty).
///
/// # Errors
///
/// * [`ErrorKind::InvalidArgument`] when `key` is not 32 bytes or `iv` is neither 12 nor 16 bytes.
/// * [`ErrorKind::Crypto`] when the cipher refuses the input (plaintext over 64 GiB).
pub fn aes_gcm_encrypt(key: &[u8], iv: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<String> {
    check_gcm_key(key)?;
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    let sealed = match iv.len() {
        12 => gcm::<U12>(Direction::Seal, key, iv, payload),
        16 => gcm::<U16>(Direction::Seal, key, iv, payload),
        len => return Err(invalid_iv(len)),
    }
    .ok_or_else(|| Error::crypto("AES-256-GCM encryption failed: the input is too long"))?;
    Ok(STANDARD.encode(sealed))
}

/// Decrypts `base64(ciphertext ‖ 16-byte tag)` made by AES-256-GCM and checks its tag.
///
/// `key`, `iv` and `aad` are as for [`aes_gcm_encrypt`]; for a WeChat Pay resource they are
/// the APIv3 key, `nonce` and `associated_data`.
///
/// # Errors
///
/// * [`ErrorKind::InvalidArgument`] when `key` is not 32 bytes or `iv` is neither 12 nor 16 bytes.
/// * [`ErrorKind::Decode`] when `ciphertext_b64` is not standard padded base64, or decodes to
///   fewer than 16 bytes (no room for the tag).
/// * [`ErrorKind::Crypto`] when the tag does not match: a wrong key, nonce or associated data,
///   or a tampered ciphertext.
pub fn aes_gcm_decrypt(key: &[u8], iv: &[u8], aad: &[u8], ciphertext_b64: &str) -> Result<Vec<u8>> {
    check_gcm_key(key)?;
    if iv.len() != 12 && iv.len() != 16 {
        return Err(invalid_iv(iv.len()));
    }
    let raw = decode_base64(ciphertext_b64, "AES-256-GCM")?;
    if raw.len() < BLOCK_LEN {
        return Err(Error::decode(format!(
            "AES-256-GCM ciphertext too short: {} bytes after base64 decoding, \
             at least 16 (the tag) are needed",
            raw.len()
        )));
    }
    let payload = Payload { msg: &raw, aad };
    let opened = if iv.len() == 12 {
        gcm::<U12>(Direction::Open, key, iv, payload)
    } else {
        gcm::<U16>(Direction::Open, key, iv, payload)
    };
    opened.ok_or_else(|| {
        Error::crypto(
            "AES-256-GCM decryption failed: the tag does not match; \
             check the APIv3 key, nonce and associated_data",
        )
    })
}

/// Encrypts `plaintext` with AES-256-ECB and PKCS#7 padding and returns it as base64.
///
/// Unlike PHP (OpenSSL zero-pads or truncates a key of another length), the key must be
/// exactly 32 bytes.
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`] when `key` is not 32 bytes.
pub fn aes_ecb_encrypt(key: &[u8], plaintext: &[u8]) -> Result<String> {
    let cipher = ecb_cipher(key)?;
    // PKCS#7 always pads, with 1..=16 bytes each holding the pad length.
    let pad = BLOCK_LEN - plaintext.len() % BLOCK_LEN;
    let mut buffer = Vec::with_capacity(plaintext.len() + pad);
    buffer.extend_from_slice(plaintext);
    buffer.resize(plaintext.len() + pad, pad as u8);
    let (blocks, rest) = ::aes::Block::slice_as_chunks_mut(&mut buffer);
    debug_assert!(rest.is_empty(), "padded to whole blocks");
    cipher.encrypt_blocks(blocks);
    Ok(STANDARD.encode(buffer))
}

/// Decrypts base64 AES-256-ECB ciphertext and removes its PKCS#7 padding.
///
/// For an APIv2 refund notification, `key` is `md5_hex(apiv2_key)` as 32 raw bytes and the
/// result is XML. As for [`aes_ecb_encrypt`], the key must be exactly 32 bytes.
///
/// # Errors
///
/// * [`ErrorKind::InvalidArgument`] when `key` is not 32 bytes.
/// * [`ErrorKind::Decode`] when `ciphertext_b64` is not standard padded base64, or does not decode
///   to a whole, non-zero number of 16-byte blocks.
/// * [`ErrorKind::Crypto`] when the padding is wrong after decryption (almost always a wrong key).
pub fn aes_ecb_decrypt(key: &[u8], ciphertext_b64: &str) -> Result<Vec<u8>> {
    let cipher = ecb_cipher(key)?;
    let mut buffer = decode_base64(ciphertext_b64, "AES-256-ECB")?;
    if buffer.is_empty() || buffer.len() % BLOCK_LEN != 0 {
        return Err(Error::decode(format!(
            "the AES-256-ECB ciphertext must be a non-zero multiple of 16 bytes, got {}",
            buffer.len()
        )));
    }
    let (blocks, _) = ::aes::Block::slice_as_chunks_mut(&mut buffer);
    cipher.decrypt_blocks(blocks);
    let plain_len = unpadded_len(&buffer).ok_or_else(|| {
        Error::crypto(
            "AES-256-ECB decryption failed: bad PKCS#7 padding; check the key \
             (for APIv2 refund notifications: the MD5 hex of the APIv2 key)",
        )
    })?;
    buffer.truncate(plain_len);
    Ok(buffer)
}

/// Which way a GCM call goes.
#[derive(Clone, Copy)]
enum Direction {
    Seal,
    Open,
}

/// Runs AES-256-GCM with an `N`-byte nonce; `None` on any failure (bad key or nonce length,
/// input too long, tag mismatch).
fn gcm<N: ArraySize>(
    direction: Direction,
    key: &[u8],
    iv: &[u8],
    payload: Payload<'_, '_>,
) -> Option<Vec<u8>> {
    let cipher = AesGcm::<Aes256, N>::new_from_slice(key).ok()?;
    let nonce = Nonce::<N>::try_from(iv).ok()?;
    match direction {
        Direction::Seal => cipher.encrypt(&nonce, payload).ok(),
        Direction::Open => cipher.decrypt(&nonce, payload).ok(),
    }
}

fn check_gcm_key(key: &[u8]) -> Result<()> {
    if key.len() == KEY_LEN {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "the APIv3 key must be 32 bytes, got {}",
            key.len()
        )))
    }
}

fn invalid_iv(len: usize) -> Error {
    Error::invalid(format!(
        "the AES-256-GCM nonce (iv) must be 12 or 16 bytes, got {len}"
    ))
}

fn ecb_cipher(key: &[u8]) -> Result<Aes256> {
    Aes256::new_from_slice(key).map_err(|_| {
        Error::invalid(format!(
            "the AES-256-ECB key must be 32 bytes, got {}",
            key.len()
        ))
    })
}

fn decode_base64(text: &str, what: &str) -> Result<Vec<u8>> {
    STANDARD.decode(text).map_err(|err| {
        Error::decode(format!("the {what} ciphertext is not valid base64: {err}")).with_source(err)
    })
}

/// The length of `data` without its PKCS#7 padding, or `None` if the padding is malformed.
fn unpadded_len(data: &[u8]) -> Option<usize> {
    let pad = usize::from(*data.last()?);
    if pad == 0 || pad > BLOCK_LEN || pad > data.len() {
        return None;
    }
    let (text, padding) = data.split_at(data.len() - pad);
    padding
        .iter()
        .all(|&byte| usize::from(byte) == pad)
        .then_some(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const TEXT: &str = "hello wechatpay 你好 微信支付";

    #[test]
    fn gcm_encrypt_vectors() {
        let iv = b"0123456789ab";
        assert_eq!(
            aes_gcm_encrypt(KEY, iv, b"certificate", TEXT.as_bytes()).unwrap(),
            "8cyLVizq736WbULJw2UFB6Y7dCqydUqOmiErpmgeDQbOxP/z/JKqUOKnGFY/hwPRUEBg"
        );
        assert_eq!(
            aes_gcm_encrypt(KEY, iv, b"", b"").unwrap(),
            "UCgvHX2BYpnZ2rOmVMPFAw=="
        );
        assert_eq!(
            aes_gcm_encrypt(KEY, b"0123456789abcdef", b"", b"hello").unwrap(),
            "APoZlYqWRRz+/rRoTiEaxlXUiZD8"
        );
    }

    #[test]
    fn gcm_decrypt_vectors() {
        let iv12 = b"0123456789ab";
        let sealed = "8cyLVizq736WbULJw2UFB6Y7dCqydUqOmiErpmgeDQbOxP/z/JKqUOKnGFY/hwPRUEBg";
        let opened = aes_gcm_decrypt(KEY, iv12, b"certificate", sealed).unwrap();
        assert_eq!(opened, TEXT.as_bytes());
        let opened = aes_gcm_decrypt(KEY, iv12, b"", "UCgvHX2BYpnZ2rOmVMPFAw==").unwrap();
        assert_eq!(opened, b"");
        let iv16 = b"0123456789abcdef";
        let opened = aes_gcm_decrypt(KEY, iv16, b"", "APoZlYqWRRz+/rRoTiEaxlXUiZD8").unwrap();
        assert_eq!(opened, b"hello");
    }

    #[test]
    fn gcm_round_trip() {
        for iv in [&b"abcdefghijkl"[..], &b"abcdefghijklmnop"[..]] {
            for aad in [&b""[..], &b"transaction"[..]] {
                for text in [&b""[..], b"x", TEXT.as_bytes(), &[0u8; 100][..]] {
                    let sealed = aes_gcm_encrypt(KEY, iv, aad, text).unwrap();
                    assert_eq!(aes_gcm_decrypt(KEY, iv, aad, &sealed).unwrap(), text);
                }
            }
        }
    }

    #[test]
    fn gcm_auth_failures() {
        let iv = b"0123456789ab";
        let sealed = aes_gcm_encrypt(KEY, iv, b"certificate", TEXT.as_bytes()).unwrap();
        let wrong_aad = aes_gcm_decrypt(KEY, iv, b"certificat", &sealed).unwrap_err();
        assert_eq!(wrong_aad.kind(), ErrorKind::Crypto);
        assert!(
            wrong_aad
                .to_string()
                .contains("check the APIv3 key, nonce and associated_data")
        );

        let wrong_iv = aes_gcm_decrypt(KEY, b"0123456789ac", b"certificate", &sealed);
        assert_eq!(wrong_iv.unwrap_err().kind(), ErrorKind::Crypto);

        let wrong_key = aes_gcm_decrypt(&[b'k'; 32], iv, b"certificate", &sealed);
        assert_eq!(wrong_key.unwrap_err().kind(), ErrorKind::Crypto);

        // Drop the last byte (a 15-byte tag) or flip one ciphertext bit.
        let mut raw = STANDARD.decode(&sealed).unwrap();
        let truncated = STANDARD.encode(&raw[..raw.len() - 1]);
        let err = aes_gcm_decrypt(KEY, iv, b"certificate", &truncated).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Crypto);
        raw[0] ^= 1;
        let flipped = STANDARD.encode(&raw);
        let err = aes_gcm_decrypt(KEY, iv, b"certificate", &flipped).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Crypto);
    }

    #[test]
    fn gcm_short_or_bad_input() {
        let iv = b"0123456789ab";
        for len in [0usize, 3, 10, 12, 15] {
            let short = STANDARD.encode(vec![0u8; len]);
            let err = aes_gcm_decrypt(KEY, iv, b"", &short).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{len} bytes");
            assert!(err.to_string().contains("ciphertext too short"));
        }
        // The empty-plaintext vector cut to 12 bytes (PHP would accept it as a short tag).
        let err = aes_gcm_decrypt(KEY, iv, b"", "UCgvHX2BYpnZ2rOm").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        for garbage in [
            "not base64!",
            "UCgvHX2BYpnZ2rOmVMPFAw",
            "UCgvHX2BYpnZ2rOmVMPFAw=",
            "你好",
        ] {
            let err = aes_gcm_decrypt(KEY, iv, b"", garbage).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{garbage}");
        }
    }

    #[test]
    fn gcm_rejects_bad_key_and_iv_lengths() {
        for key in [&b""[..], &KEY[..31], b"0123456789abcdef0123456789abcdef0"] {
            let err = aes_gcm_encrypt(key, b"0123456789ab", b"", b"x").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert_eq!(
                err.to_string(),
                format!("the APIv3 key must be 32 bytes, got {}", key.len())
            );
            let err = aes_gcm_decrypt(key, b"0123456789ab", b"", "UCgvHX2BYpnZ2rOmVMPFAw==");
            assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidArgument);
        }
        for iv in [
            &b""[..],
            b"0123456789a",
            b"0123456789abc",
            b"0123456789abcdefg",
        ] {
            let err = aes_gcm_encrypt(KEY, iv, b"", b"x").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            let err = aes_gcm_decrypt(KEY, iv, b"", "UCgvHX2BYpnZ2rOmVMPFAw==").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        }
    }

    #[test]
    fn ecb_vectors() {
        let cases: [(&[u8], &str); 3] = [
            (b"hello", "pZwJZBLuy3mDACEQT4YTBw=="),
            (b"", "iqNiQf3o3wVNwyXGxpW4ng=="),
            (
                TEXT.as_bytes(),
                "FowuChz2iwW8l3a0Cv7ToS31T/yO2LNwC6y9XDeQtz+ITeUD3f0nIzr/eCP6UZWh",
            ),
        ];
        for (plaintext, ciphertext) in cases {
            assert_eq!(aes_ecb_encrypt(KEY, plaintext).unwrap(), ciphertext);
            assert_eq!(aes_ecb_decrypt(KEY, ciphertext).unwrap(), plaintext);
        }
    }

    #[test]
    fn ecb_round_trip_all_lengths() {
        for len in 0..=48 {
            let text: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let sealed = aes_ecb_encrypt(KEY, &text).unwrap();
            assert_eq!(STANDARD.decode(&sealed).unwrap().len(), (len / 16 + 1) * 16);
            assert_eq!(aes_ecb_decrypt(KEY, &sealed).unwrap(), text);
        }
    }

    #[test]
    fn ecb_refund_notification_key() {
        // md5_hex("exposed_your_key_here_have_risks"), used as 32 raw bytes.
        let key = "4ad14ac334ab13540eb6c5479512a8e8";
        let xml = b"<root><refund_id>50000408942018111907145868882</refund_id></root>";
        let sealed = aes_ecb_encrypt(key.as_bytes(), xml).unwrap();
        assert_eq!(aes_ecb_decrypt(key.as_bytes(), &sealed).unwrap(), xml);
    }

    #[test]
    fn ecb_errors() {
        let err = aes_ecb_encrypt(b"short", b"hello").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let err = aes_ecb_decrypt(&KEY[..16], "pZwJZBLuy3mDACEQT4YTBw==").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);

        for bad in ["", "pZwJZBLuy3mDACEQT4YT", "!!!!", "pZwJZBLuy3mDACEQT4YTBw"] {
            let err = aes_ecb_decrypt(KEY, bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{bad:?}");
        }

        // A wrong key almost surely leaves bad padding.
        let err = aes_ecb_decrypt(&[b'k'; 32], "pZwJZBLuy3mDACEQT4YTBw==").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Crypto);
    }

    #[test]
    fn pkcs7_unpadding() {
        let mut block = [0u8; 16];
        assert_eq!(unpadded_len(&block), None); // pad byte 0
        block[15] = 17;
        assert_eq!(unpadded_len(&block), None); // pad > 16
        block[15] = 2;
        assert_eq!(unpadded_len(&block), None); // second pad byte differs
        block[14] = 2;
        assert_eq!(unpadded_len(&block), Some(14));
        assert_eq!(unpadded_len(&[16u8; 16]), Some(0));
        assert_eq!(unpadded_len(&[]), None);
    }
}
