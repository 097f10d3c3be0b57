//! The little PEM and DER the SDK needs: unwrap PEM blocks, wrap PKCS#1 keys into PKCS#8 /
//! SPKI, and read an X.509 certificate's serial number, validity and public key.
//!
//! Only the structures WeChat Pay hands out are understood; everything else is an error that
//! says what was expected.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::hash::hex_upper;
use crate::error::{Error, Result};
use crate::time::parse_x509_time;

/// One `-----BEGIN {label}-----` … `-----END {label}-----` block. Its bytes may be a private
/// key: they are overwritten with zeros when dropped (take them out with `std::mem::take` for
/// public data such as certificates).
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Zeroizing<Vec<u8>>,
}

impl PemBlock {
    /// The bytes, for data that is not secret (a certificate, a public key).
    pub(crate) fn into_public_der(mut self) -> Vec<u8> {
        std::mem::take(&mut *self.der)
    }
}

/// Reads the first PEM block of `text`; `what` names the expected content in errors.
pub(crate) fn first_pem_block(text: &str, what: &str) -> Result<PemBlock> {
    match next_pem_block(text, what)? {
        Some((block, _)) => Ok(block),
        None => Err(Error::crypto(format!(
            "the {what} is not PEM: expected a line like `-----BEGIN PRIVATE KEY-----`; \
             pass the file's text (or use from_pem_file with its path)"
        ))),
    }
}

/// Reads every PEM block of `text`, in order (a certificate chain, a bundle of roots).
pub(crate) fn pem_blocks(text: &str, what: &str) -> Result<Vec<PemBlock>> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some((block, after)) = next_pem_block(rest, what)? {
        blocks.push(block);
        rest = after;
    }
    Ok(blocks)
}

/// Whether `text` is exactly one PEM block labelled `label`, with nothing around it but
/// whitespace (what a platform certificate download decrypts to). `Err` says what else it
/// holds.
pub(crate) fn check_sole_pem_block(text: &str, label: &str, what: &str) -> Result<()> {
    let begin = text.find("-----BEGIN ").unwrap_or(text.len());
    if !text[..begin].trim().is_empty() {
        return Err(Error::crypto(format!(
            "the {what} holds text before its PEM block: it must be exactly one \
             `-----BEGIN {label}-----` block"
        )));
    }
    let Some((block, after)) = next_pem_block(text, what)? else {
        return Err(Error::crypto(format!(
            "the {what} is not PEM: expected one `-----BEGIN {label}-----` block"
        )));
    };
    if block.label != label {
        return Err(Error::crypto(format!(
            "the {what} is a PEM `{}`, not a `{label}`",
            block.label
        )));
    }
    if !after.trim().is_empty() {
        return Err(Error::crypto(format!(
            "the {what} holds more after its PEM block: it must be exactly one \
             `-----BEGIN {label}-----` block"
        )));
    }
    Ok(())
}

/// The next PEM block of `text` and the text after it; `None` when there is none.
fn next_pem_block<'t>(text: &'t str, what: &str) -> Result<Option<(PemBlock, &'t str)>> {
    let Some(begin) = text.find("-----BEGIN ") else {
        return Ok(None);
    };
    let rest = &text[begin + "-----BEGIN ".len()..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| Error::crypto(format!("the {what} has a broken PEM `BEGIN` line")))?;
    let label = rest[..label_end].to_string();
    let body_and_end = &rest[label_end + "-----".len()..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body_and_end.find(&end_marker).ok_or_else(|| {
        Error::crypto(format!(
            "the {what} has no `{end_marker}` line: the PEM text is cut short"
        ))
    })?;
    // Sized once, so that no reallocation leaves a copy of a private key behind.
    let mut body = Zeroizing::new(String::with_capacity(body_end));
    body.extend(
        body_and_end[..body_end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace()),
    );
    if body.contains(':') {
        return Err(Error::crypto(format!(
            "the {what} is an encrypted PEM (it has headers such as `Proc-Type`); \
             decrypt it first, e.g. `openssl pkey -in key.pem -out plain.pem`"
        )));
    }
    let der = Zeroizing::new(STANDARD.decode(body.as_bytes()).map_err(|e| {
        Error::crypto(format!("the {what}'s PEM body is not valid base64")).with_source(e)
    })?);
    let after = &body_and_end[body_end + end_marker.len()..];
    Ok(Some((PemBlock { label, der }, after)))
}

/// DER `AlgorithmIdentifier` of `rsaEncryption` with NULL parameters.
const RSA_ALGORITHM_ID: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// Wraps a PKCS#1 `RSAPrivateKey` into a PKCS#8 `PrivateKeyInfo`. Every buffer is sized once
/// and overwritten with zeros when dropped.
pub(crate) fn pkcs1_private_to_pkcs8(pkcs1: &[u8]) -> Zeroizing<Vec<u8>> {
    const HEADER: usize = 6; // a tag and at most five length bytes
    let mut inner = Zeroizing::new(Vec::with_capacity(
        3 + RSA_ALGORITHM_ID.len() + HEADER + pkcs1.len(),
    ));
    inner.extend_from_slice(&[0x02, 0x01, 0x00]);
    inner.extend_from_slice(&RSA_ALGORITHM_ID);
    push_tlv(&mut inner, 0x04, pkcs1);
    let mut out = Zeroizing::new(Vec::with_capacity(inner.len() + HEADER));
    push_tlv(&mut out, 0x30, &inner);
    out
}

/// Wraps a PKCS#1 `RSAPublicKey` into an X.509 `SubjectPublicKeyInfo` (PHP's
/// `Rsa::pkcs1ToSpki`).
pub(crate) fn pkcs1_public_to_spki(pkcs1: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(pkcs1.len() + 1);
    bits.push(0x00);
    bits.extend_from_slice(pkcs1);
    let mut inner = RSA_ALGORITHM_ID.to_vec();
    push_tlv(&mut inner, 0x03, &bits);
    let mut out = Vec::with_capacity(inner.len() + 4);
    push_tlv(&mut out, 0x30, &inner);
    out
}

fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// One DER element: its tag, its contents, and its whole encoding.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

/// Reads one element from the front of `input`, returning it and what follows.
fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    let tlv = Tlv {
        tag,
        content: &rest[..len],
        whole: &input[..header + len],
    };
    Some((tlv, &rest[len..]))
}

/// What the SDK needs from an X.509 certificate.
pub(crate) struct CertificateParts {
    /// The serial number as upper-case hex without leading zero bytes, as WeChat Pay writes it.
    pub serial: String,
    /// The DER `SubjectPublicKeyInfo`.
    pub spki: Vec<u8>,
    /// `notBefore`, in Unix seconds.
    pub not_before: u64,
    /// `notAfter`, in Unix seconds.
    pub not_after: u64,
}

/// Reads the serial number, validity and public key of a DER X.509 certificate.
pub(crate) fn certificate_parts(der: &[u8]) -> Result<CertificateParts> {
    parse_certificate(der).ok_or_else(|| {
        Error::crypto(
            "the certificate is not a valid X.509 DER structure; \
             pass the platform certificate PEM (`-----BEGIN CERTIFICATE-----`)",
        )
    })
}

fn parse_certificate(der: &[u8]) -> Option<CertificateParts> {
    let (certificate, _) = read_tlv(der).filter(|(t, _)| t.tag == 0x30)?;
    let (tbs, _) = read_tlv(certificate.content).filter(|(t, _)| t.tag == 0x30)?;
    let mut fields = tbs.content;
    let (mut next, mut rest) = read_tlv(fields)?;
    if next.tag == 0xa0 {
        // [0] EXPLICIT version
        fields = rest;
        (next, rest) = read_tlv(fields)?;
    }
    if next.tag != 0x02 {
        return None;
    }
    let serial_bytes = next.content;
    let first_significant = serial_bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(serial_bytes.len().saturating_sub(1));
    let serial = hex_upper(&serial_bytes[first_significant..]);
    // signature, issuer, validity, subject, then subjectPublicKeyInfo
    for _ in 0..2 {
        (_, rest) = read_tlv(rest)?;
    }
    let (validity, rest) = read_tlv(rest).filter(|(t, _)| t.tag == 0x30)?;
    let (not_before, after) = read_tlv(validity.content)?;
    let (not_after, _) = read_tlv(after)?;
    let (_, rest) = read_tlv(rest)?;
    let (spki, _) = read_tlv(rest).filter(|(t, _)| t.tag == 0x30)?;
    Some(CertificateParts {
        serial,
        spki: spki.whole.to_vec(),
        not_before: parse_x509_time(not_before.tag, not_before.content)?,
        not_after: parse_x509_time(not_after.tag, not_after.content)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_short_and_long_forms() {
        let mut out = Vec::new();
        push_tlv(&mut out, 0x04, &[7; 3]);
        assert_eq!(out, [0x04, 3, 7, 7, 7]);
        let mut out = Vec::new();
        push_tlv(&mut out, 0x04, &[0; 300]);
        assert_eq!(&out[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (tlv, rest) = read_tlv(&out).expect("readable");
        assert_eq!(tlv.content.len(), 300);
        assert!(rest.is_empty());
    }

    #[test]
    fn truncated_der_is_rejected_not_panicking() {
        assert!(read_tlv(&[0x30, 0x82, 0x01]).is_none());
        assert!(read_tlv(&[0x30, 0x05, 0x00]).is_none());
        assert!(certificate_parts(&[0x30, 0x00]).is_err());
        assert!(certificate_parts(&[]).is_err());
    }

    #[test]
    fn reads_the_validity() {
        let pem = include_str!("../mock/platform_cert.pem");
        let block = first_pem_block(pem, "certificate").expect("PEM");
        let parts = certificate_parts(&block.der).expect("a certificate");
        assert_eq!(parts.serial, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1");
        // notBefore 2026-11-27 09:25:59 UTC, notAfter 2126-11-03 09:25:59 UTC
        assert_eq!(
            (parts.not_before, parts.not_after),
            (1_795_771_559, 4_949_371_559)
        );
    }

    #[test]
    fn reads_every_block() {
        let two = "-----BEGIN A-----\nAQI=\n-----END A-----\nx\n-----BEGIN B-----\nAw==\n-----END B-----\n";
        let blocks = pem_blocks(two, "bundle").expect("two blocks");
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            (blocks[0].label.as_str(), blocks[0].der.as_slice()),
            ("A", &[1u8, 2][..])
        );
        assert_eq!(
            (blocks[1].label.as_str(), blocks[1].der.as_slice()),
            ("B", &[3u8][..])
        );
        assert!(pem_blocks("no pem", "bundle").expect("none").is_empty());
    }

    #[test]
    fn a_sole_pem_block_has_nothing_around_it() {
        let block = "-----BEGIN A-----\nAQI=\n-----END A-----";
        assert!(check_sole_pem_block(block, "A", "a").is_ok());
        assert!(check_sole_pem_block(&format!("\n {block}\n\n"), "A", "a").is_ok());
        for bad in [
            format!("x{block}"),
            format!("{block}x"),
            format!("{block}\n{block}"),
            "no pem".to_owned(),
        ] {
            assert!(check_sole_pem_block(&bad, "A", "a").is_err(), "{bad}");
        }
        assert!(check_sole_pem_block(block, "B", "a").is_err());
    }

    #[test]
    fn pem_errors_say_what_is_wrong() {
        let err = first_pem_block("not a key", "private key")
            .err()
            .expect("error");
        assert!(err.to_string().contains("not PEM"), "{err}");
        let err = first_pem_block("-----BEGIN PRIVATE KEY-----\nAAAA\n", "private key")
            .err()
            .expect("error");
        assert!(err.to_string().contains("END PRIVATE KEY"), "{err}");
    }
}
