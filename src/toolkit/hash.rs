//! PHP `Hash`: the APIv2 `sign` over `stringA`, checking a given `sign`, and the MD5 / HMAC
//! helpers.
//!
//! ```text
//! stringA     = k1=v1&k2=v2…  (keys in byte order; no `sign`, no empty values; not URL-encoded)
//! MD5         → upper(hex(MD5(stringA + "&key=" + key)))
//! HMAC-SHA256 → upper(hex(HMAC-SHA256(key, stringA + "&key=" + key)))
//! ```

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

use super::formatter::string_to_sign;
use crate::crypto::hash::{constant_time_eq, hex_lower, hex_upper};
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result};

/// An APIv2 signature algorithm (the `sign_type` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignType {
    /// `MD5`, the default when a request has no `sign_type`.
    Md5,
    /// `HMAC-SHA256`.
    HmacSha256,
}

impl SignType {
    /// The sign type named `name`: exactly `MD5` or `HMAC-SHA256` (case-sensitive, like PHP);
    /// `None` for anything else.
    pub fn from_name(name: &str) -> Option<SignType> {
        match name {
            "MD5" => Some(SignType::Md5),
            "HMAC-SHA256" => Some(SignType::HmacSha256),
            _ => None,
        }
    }

    /// The algorithm a message's `sign_type` field asks for: `MD5` when the field is absent
    /// (`None`) or empty, else [`SignType::from_name`]; `None` for an unknown name.
    pub(crate) fn from_field(field: Option<&str>) -> Option<SignType> {
        match field {
            None | Some("") => Some(SignType::Md5),
            Some(name) => SignType::from_name(name),
        }
    }

    /// The wire name: `MD5` or `HMAC-SHA256`.
    pub fn name(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// The sign type that made `sign`, guessed from its length the way the PHP SDK checks
    /// answers: 64 bytes is HMAC-SHA256, anything else MD5.
    pub(crate) fn for_signature(sign: &str) -> SignType {
        if sign.len() == 64 {
            SignType::HmacSha256
        } else {
            SignType::Md5
        }
    }
}

/// The APIv2 `sign` of `fields` with the APIv2 key (secret) `key`: 32 (MD5) or 64
/// (HMAC-SHA256) upper-case hex characters over [`string_to_sign`]`(fields) + "&key=" + key`.
///
/// An empty key is refused for both types. (PHP signs plain `md5(stringA)` for MD5 with an
/// empty key — or with the key `"0"`, which PHP treats as false — and throws for HMAC; an
/// empty APIv2 key is always a misconfiguration.)
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`] when `key` is empty.
pub fn sign<'a, I>(sign_type: SignType, fields: I, key: &str) -> Result<String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    if key.is_empty() {
        return Err(Error::invalid(
            "the APIv2 key (secret) is empty; set it with ClientBuilder::apiv2_key",
        ));
    }
    // The key goes straight into the digest: no copy of it is left in a buffer.
    let message = string_to_sign(fields);
    let digest = match sign_type {
        SignType::Md5 => {
            let mut md5 = Md5::new();
            for piece in [message.as_bytes(), b"&key=", key.as_bytes()] {
                md5.update(piece);
            }
            hex_upper(&md5.finalize())
        }
        SignType::HmacSha256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
                .map_err(|_| Error::crypto("HMAC-SHA256 refused the APIv2 key"))?;
            for piece in [message.as_bytes(), b"&key=", key.as_bytes()] {
                mac.update(piece);
            }
            hex_upper(&mac.finalize().into_bytes())
        }
    };
    Ok(digest)
}

/// Whether `given_sign` is the [`sign`] of `fields` with `key`, compared in constant time.
///
/// The comparison is case-sensitive, like PHP: a lower-case hex sign does not match. Pick
/// `sign_type` from the `sign_type` field ([`SignType::from_name`]) for notifications, or by
/// the length of the answer's `sign` for answers (64 characters HMAC-SHA256, else MD5, as the
/// PHP SDK checks them).
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`] when `key` is empty.
pub fn sign_matches<'a, I>(
    sign_type: SignType,
    fields: I,
    key: &str,
    given_sign: &str,
) -> Result<bool>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let expected = sign(sign_type, fields, key)?;
    Ok(constant_time_eq(expected.as_bytes(), given_sign.as_bytes()))
}

/// The lower-case hex MD5 of `message + "&key=" + key` (PHP `Hash::md5($message, $key)`);
/// with an empty `key`, the MD5 of `message` alone.
///
/// [`sign`] with [`SignType::Md5`] is this, upper-cased, over [`string_to_sign`]. (PHP also
/// treats the key `"0"` as no key; here only the empty key does.)
pub fn md5_with_key(message: &str, key: &str) -> String {
    md5_with(message, "&key=", key)
}

/// The lower-case hex MD5 of `message + "&secret=" + key`, the agency variant (PHP
/// `Hash::md5($message, $key, true)`); with an empty `key`, the MD5 of `message` alone.
pub fn md5_with_secret(message: &str, key: &str) -> String {
    md5_with(message, "&secret=", key)
}

fn md5_with(message: &str, joint: &str, key: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(message.as_bytes());
    if !key.is_empty() {
        md5.update(joint.as_bytes());
        md5.update(key.as_bytes());
    }
    hex_lower(&md5.finalize())
}

/// The lower-case hex HMAC-SHA256, keyed with `key`, of `message + "&key=" + key` (PHP
/// `Hash::hmac($message, $key)`: the key is appended to the message too).
///
/// [`sign`] with [`SignType::HmacSha256`] is this, upper-cased, over [`string_to_sign`].
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`] when `key` is empty.
pub fn hmac_sha256_with_key(message: &str, key: &str) -> Result<String> {
    Ok(hex_lower(&hmac_with_key::<Sha256>(message, key)?))
}

/// The lower-case hex HMAC-MD5, keyed with `key`, of `message + "&key=" + key` (PHP
/// `Hash::hmac($message, $key, 'md5')`).
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`] when `key` is empty.
pub fn hmac_md5_with_key(message: &str, key: &str) -> Result<String> {
    Ok(hex_lower(&hmac_with_key::<Md5>(message, key)?))
}

fn hmac_with_key<D>(message: &str, key: &str) -> Result<Vec<u8>>
where
    D: hmac::EagerHash,
{
    if key.is_empty() {
        return Err(Error::invalid(
            "an HMAC needs a key; the APIv2 key (secret) is empty",
        ));
    }
    let mut mac = Hmac::<D>::new_from_slice(key.as_bytes())
        .map_err(|_| Error::crypto("HMAC refused the APIv2 key"))?;
    mac.update(message.as_bytes());
    mac.update(b"&key=");
    mac.update(key.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const DOC_KEY: &str = "192006250b4c09247ec02edce69f6a2d";
    const DOC_FIELDS: [(&str, &str); 5] = [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ];
    const SECRET: &str = "exposed_your_key_here_have_risks";

    #[test]
    fn sign_type_names() {
        assert_eq!(SignType::from_name("MD5"), Some(SignType::Md5));
        assert_eq!(
            SignType::from_name("HMAC-SHA256"),
            Some(SignType::HmacSha256)
        );
        for other in ["md5", "hmac-sha256", "SHA256", "HMAC_SHA256", "", " MD5"] {
            assert_eq!(SignType::from_name(other), None, "{other:?}");
        }
        for t in [SignType::Md5, SignType::HmacSha256] {
            assert_eq!(SignType::from_name(t.name()), Some(t));
        }
    }

    #[test]
    fn sign_type_for_signature() {
        assert_eq!(
            SignType::for_signature(&"A".repeat(64)),
            SignType::HmacSha256
        );
        assert_eq!(SignType::for_signature(&"A".repeat(32)), SignType::Md5);
        assert_eq!(SignType::for_signature(&"A".repeat(63)), SignType::Md5);
        assert_eq!(SignType::for_signature(""), SignType::Md5);
    }

    #[test]
    fn wechat_doc_vectors() {
        assert_eq!(
            string_to_sign(DOC_FIELDS),
            "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
        );
        assert_eq!(
            sign(SignType::Md5, DOC_FIELDS, DOC_KEY).unwrap(),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
        assert_eq!(
            sign(SignType::HmacSha256, DOC_FIELDS, DOC_KEY).unwrap(),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
    }

    #[test]
    fn php_request_vectors() {
        let fields = [
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "1230000109"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
            ("device_info", "1000"),
            ("total_fee", "1"),
            ("detail", "<a&b>"),
            ("empty", ""),
        ];
        assert_eq!(
            string_to_sign(fields),
            "appid=wxd930ea5d5a258f4f&body=test&detail=<a&b>&device_info=1000&mch_id=1230000109&nonce_str=ibuaiVcKdpRxkhJA&total_fee=1"
        );
        assert_eq!(
            sign(SignType::Md5, fields, SECRET).unwrap(),
            "2A1DCB04779F27AF0EB5479E31D58E60"
        );

        let refund = [
            ("mch_id", "1230000109"),
            ("nonce_str", "N"),
            ("sign_type", "HMAC-SHA256"),
            ("out_refund_no", "R1"),
        ];
        assert_eq!(
            sign(SignType::HmacSha256, refund, SECRET).unwrap(),
            "3D155E7D2816DEDC129BA21FF17201198C8991474ECB15BACD1EB0777772C5F7"
        );

        assert_eq!(
            sign(SignType::Md5, [("mch_id", "1230000109")], SECRET).unwrap(),
            "41176DC33B3FE8EFB48A16E9FF85C6C5"
        );

        let query = [
            ("appid", "wx1"),
            ("mch_id", "1230000109"),
            ("contract_display_account", "微信 代扣"),
            ("request_serial", "1000"),
            ("sign_type", "HMAC-SHA256"),
        ];
        assert_eq!(
            sign(SignType::HmacSha256, query, SECRET).unwrap(),
            "9161A22872A69F8B1A66912B2C0E12A0CF8FAF01B13E4C786D11329ADEBCD492"
        );
    }

    #[test]
    fn sign_excludes_existing_sign_field() {
        let mut fields = DOC_FIELDS.to_vec();
        fields.push(("sign", "9A0A8659F005D6984697E2CA0A9CF3B7"));
        assert_eq!(
            sign(SignType::Md5, fields.iter().copied(), DOC_KEY).unwrap(),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
    }

    #[test]
    fn empty_key_is_refused() {
        for t in [SignType::Md5, SignType::HmacSha256] {
            let err = sign(t, DOC_FIELDS, "").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert!(err.to_string().contains("ClientBuilder::apiv2_key"));
            let err = sign_matches(t, DOC_FIELDS, "", "").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        }
    }

    #[test]
    fn matching() {
        let md5 = "9A0A8659F005D6984697E2CA0A9CF3B7";
        assert!(sign_matches(SignType::Md5, DOC_FIELDS, DOC_KEY, md5).unwrap());
        assert!(!sign_matches(SignType::Md5, DOC_FIELDS, DOC_KEY, &md5.to_lowercase()).unwrap());
        assert!(!sign_matches(SignType::Md5, DOC_FIELDS, DOC_KEY, "").unwrap());
        assert!(!sign_matches(SignType::Md5, DOC_FIELDS, "other", md5).unwrap());
        assert!(!sign_matches(SignType::HmacSha256, DOC_FIELDS, DOC_KEY, md5).unwrap());

        let hmac = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6";
        let t = SignType::for_signature(hmac);
        assert!(sign_matches(t, DOC_FIELDS, DOC_KEY, hmac).unwrap());
        let mut tampered = DOC_FIELDS;
        tampered[1].1 = "10000101";
        assert!(!sign_matches(t, tampered, DOC_KEY, hmac).unwrap());
    }
}
