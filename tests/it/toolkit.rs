//! The PHP SDK's toolkit (`Formatter`, `Hash`, `Rsa`, `PemUtil`) as public functions, with
//! the fixed vectors of its test suite (`tests/FormatterTest.php`, `tests/Crypto/HashTest.php`,
//! `tests/Crypto/RsaTest.php`, `tests/Util/PemUtilTest.php`) and of the port's reference.
//! (The AES-GCM/ECB and APIv2 `sign` vectors are unit tests in `src/`.)

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use wechatpay::crypto::Backend;
use wechatpay::crypto::{constant_time_eq, md5_hex};
use wechatpay::mock;
use wechatpay::toolkit::{
    SignType, hmac_md5_with_key, hmac_sha256_with_key, ksort, md5_with_key, md5_with_secret,
    query_string_like, sign, string_to_sign,
};
use wechatpay::toolkit::{joined_by_line_feed, nonce};
use wechatpay::{Certificate, ErrorKind, PrivateKey, PublicKey};

const STRING_A: &str = "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA";
const DOC_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn keys_of<V>(sorted: &[(&str, V)]) -> Vec<String> {
    sorted.iter().map(|(key, _)| (*key).to_owned()).collect()
}

#[test]
fn formatter_ksort() {
    // FormatterTest::testKsort: values follow their keys.
    let sorted = ksort([("a", "1"), ("b", "3"), ("aa", "2")]);
    assert_eq!(sorted, [("a", "1"), ("aa", "2"), ("b", "3")]);
    let sorted = ksort([("rfc1", "1"), ("b", "2"), ("rfc822", "3"), ("rfc2086", "4")]);
    assert_eq!(
        sorted,
        [("b", "2"), ("rfc1", "1"), ("rfc2086", "4"), ("rfc822", "3")]
    );
    // Issue #41: the red-packet fields.
    let red_pack = ksort([
        ("wxappid", "wxcbda96de0b165486"),
        ("send_name", "send_name"),
        ("re_openid", "onqOjjmM1tad-3ROpncN-yUfa6uI"),
        ("total_amount", "200"),
        ("total_num", "1"),
        ("wishing", "恭喜发财"),
        ("client_ip", "127.0.0.1"),
        ("act_name", "新年红包"),
        ("remark", "新年红包"),
        ("mch_billno", "0010010404201411170000046545"),
        ("mch_id", "888"),
    ]);
    assert_eq!(
        keys_of(&red_pack),
        [
            "act_name",
            "client_ip",
            "mch_billno",
            "mch_id",
            "re_openid",
            "remark",
            "send_name",
            "total_amount",
            "total_num",
            "wishing",
            "wxappid"
        ]
    );
    assert_eq!(
        ksort([("remark", "1"), ("re_openid", "2")]),
        [("re_openid", "2"), ("remark", "1")]
    );
    assert_eq!(
        ksort([
            ("remark", 1),
            ("RE_OPENID", 2),
            ("re_openid", 3),
            ("REMARK", 4)
        ]),
        [
            ("REMARK", 4),
            ("RE_OPENID", 2),
            ("re_openid", 3),
            ("remark", 1)
        ]
    );
    // Probe: numeric-looking keys compare as text.
    let probe = ksort(
        ["b", "a", "10", "9", "A", "_", "a_b", "ab", "Z"]
            .into_iter()
            .map(|key| (key, ())),
    );
    assert_eq!(
        keys_of(&probe),
        ["10", "9", "A", "Z", "_", "a", "a_b", "ab", "b"]
    );
    // Owned keys work too.
    let owned = ksort(vec![("b".to_owned(), 1), ("a".to_owned(), 2)]);
    assert_eq!(owned, [("a".to_owned(), 2), ("b".to_owned(), 1)]);
    assert!(ksort(Vec::<(&str, &str)>::new()).is_empty());
}

#[test]
fn formatter_query_string_like() {
    // FormatterTest::testQueryStringLike: no sorting, `sign` and empty values skipped.
    assert_eq!(
        query_string_like([("a", "1"), ("b", "3"), ("aa", "2")]),
        "a=1&b=3&aa=2"
    );
    assert_eq!(
        query_string_like([("a", "1"), ("b", "3"), ("sign", "mock")]),
        "a=1&b=3"
    );
    assert_eq!(
        query_string_like([("a", "1"), ("b", "3"), ("c", "")]),
        "a=1&b=3"
    );
    // PHP's null has no counterpart here: a missing field is simply not given.
    assert_eq!(query_string_like([("a", "1"), ("c", "2")]), "a=1&c=2");
    assert_eq!(
        query_string_like([("bob", "1"), ("alice", ""), ("tom", ""), ("sign", "mock")]),
        "bob=1"
    );
    // Probe: values are neither encoded nor trimmed; only the exact key `sign` is skipped.
    assert_eq!(
        query_string_like([
            ("a", "1"),
            ("z", "0"),
            ("c", "1"),
            ("d", "1.5"),
            ("e", " sp "),
            ("f", "a&b=c"),
            ("sign", "x"),
            ("SIGN", "y"),
        ]),
        "a=1&z=0&c=1&d=1.5&e= sp &f=a&b=c&SIGN=y"
    );
    assert_eq!(query_string_like(Vec::<(String, String)>::new()), "");
    // The APIv2 stringA is the two together.
    let fields = [
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ("mch_id", "10000100"),
        ("sign", "9A0A8659F005D6984697E2CA0A9CF3B7"),
        ("device_info", "1000"),
        ("body", "test"),
        ("appid", "wxd930ea5d5a258f4f"),
    ];
    assert_eq!(query_string_like(ksort(fields)), STRING_A);
    assert_eq!(string_to_sign(fields), STRING_A);
}

#[test]
fn formatter_joined_by_line_feed() {
    // Probe: (1, 2.0, '3', "\n", true, false, null, '4') as PHP casts them.
    let pieces = ["1", "2", "3", "\n", "1", "", "", "4"];
    assert_eq!(joined_by_line_feed(&pieces), "1\n2\n3\n\n\n1\n\n\n4\n");
    for count in 1..=5 {
        let pieces = vec!["x"; count];
        let joined = joined_by_line_feed(&pieces);
        assert!(joined.ends_with('\n'));
        assert_eq!(joined.matches('\n').count(), count);
    }
    assert_eq!(joined_by_line_feed::<String>(&[]), "");
}

#[test]
fn formatter_nonce() {
    for size in [32, 16, 100, 1] {
        let n = nonce(size).expect("nonce");
        assert_eq!(n.len(), size);
        assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    let error = nonce(0).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn hash_md5() {
    // HashTest::testMd5: without a key it is plain md5, with one it is not.
    let text = "hello wechatpay";
    assert_eq!(md5_with_key(text, ""), md5_hex(text.as_bytes()));
    assert_eq!(md5_with_secret(text, ""), md5_hex(text.as_bytes()));
    for keyed in [md5_with_key(text, DOC_KEY), md5_with_secret(text, DOC_KEY)] {
        assert_ne!(keyed, md5_hex(text.as_bytes()));
        assert_eq!(keyed.len(), 32);
    }
    assert_eq!(
        md5_with_key(text, DOC_KEY),
        md5_hex(format!("{text}&key={DOC_KEY}").as_bytes())
    );
    // Reference vectors (§2.15, Appendix A).
    assert_eq!(
        md5_with_key(STRING_A, ""),
        "192006250b4c09247ec02edce69f6a2d"
    );
    assert_eq!(
        md5_with_key(STRING_A, DOC_KEY).to_uppercase(),
        "9A0A8659F005D6984697E2CA0A9CF3B7"
    );
    assert_eq!(
        md5_with_secret(STRING_A, DOC_KEY),
        "2dec45db471e629068cfec91df5fe2d9"
    );
    assert_eq!(
        md5_with_key("exposed_your_key_here_have_risks", ""),
        "4ad14ac334ab13540eb6c5479512a8e8"
    );
}

#[test]
fn hash_hmac() {
    // HashTest::testHmac: differs from a plain HMAC because `&key=` is appended.
    let text = "hello wechatpay";
    let mut plain = Hmac::<Sha256>::new_from_slice(DOC_KEY.as_bytes()).expect("HMAC key");
    plain.update(text.as_bytes());
    let plain: String = plain
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let ours = hmac_sha256_with_key(text, DOC_KEY).expect("hmac");
    assert_ne!(ours, plain);
    assert_eq!(ours.len(), 64);
    assert_eq!(hmac_md5_with_key(text, DOC_KEY).expect("hmac").len(), 32);
    // Reference vectors.
    assert_eq!(
        hmac_sha256_with_key(STRING_A, DOC_KEY)
            .expect("hmac")
            .to_uppercase(),
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    );
    assert_eq!(
        hmac_md5_with_key(STRING_A, DOC_KEY).expect("hmac"),
        "c27915c7f2a6c37e541a1423583a7620"
    );
    // PHP throws on an empty HMAC key.
    for error in [
        hmac_sha256_with_key(text, "").unwrap_err(),
        hmac_md5_with_key(text, "").unwrap_err(),
    ] {
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    }
}

#[test]
fn hash_equals() {
    assert!(constant_time_eq(b"", b""));
    assert!(!constant_time_eq(b"ABC", b"abc"));
    assert!(constant_time_eq(b"ABC", b"ABC"));
}

#[test]
fn hash_sign() {
    // HashTest::testSign: the sign is the upper-cased keyed hash of stringA.
    let fields = [("appid", "wxd930ea5d5a258f4f"), ("body", "test")];
    let md5 = sign(SignType::Md5, fields, DOC_KEY).expect("sign");
    assert_eq!(md5.len(), 32);
    assert!(
        md5.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    );
    assert_ne!(md5, md5_with_key(&string_to_sign(fields), DOC_KEY));
    assert_eq!(
        md5,
        md5_with_key(&string_to_sign(fields), DOC_KEY).to_uppercase()
    );
    let hmac = sign(SignType::HmacSha256, fields, DOC_KEY).expect("sign");
    assert_eq!(hmac.len(), 64);
    assert_eq!(
        hmac,
        hmac_sha256_with_key(&string_to_sign(fields), DOC_KEY)
            .expect("hmac")
            .to_uppercase()
    );
    for unknown in ["sha256", "md5", "HMAC-SHA1"] {
        assert_eq!(SignType::from_name(unknown), None);
    }
}

/// `openssl rsa -pubin -in src/mock/merchant_pub.pem -RSAPublicKey_out`
const MERCHANT_PKCS1_PUBLIC_PEM: &str = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA4NjgZETvRUKgP/e8+74qpumRbRkhmTcge6z7JSG28qqMJiIblUgq
t6UIYz5gErl+KR4JlCQ+suvl6KV6xZSYDYcg24BHUkSVz7NPsXihWQMimA1z+W5p
LtuGgDbE2CBHxlOeDqKuMua98ZetfJNaORZRvQx1+jvX2tZSndFMTX4Sq56Fr+j1
r6+0sSkHjLgmoKJEdKNxrSs1VouTLxOHm2w1lJyuf19fynjQMostZZF+zmk1/MJO
qxh/OcC6olpiB98Mv1BSh9uiS7UzB/tMs/pan5QNfYx68xRc3KBCTD3oWYyCLjZd
JIMoR6HH7qewi9dygvzbOn+JzQP8fp9QpQIDAQAB
-----END RSA PUBLIC KEY-----
";

#[test]
fn rsa_across_key_forms_and_backends() -> wechatpay::Result<()> {
    // RsaTest: every public form (SPKI, PKCS#1, certificate) against the private key, on
    // both backends; signatures are deterministic, OAEP is not.
    let message = "hello wechatpay 你好 微信支付".as_bytes();
    for backend in Backend::available().iter().copied() {
        let private = PrivateKey::from_pem_with_backend(mock::MERCHANT_KEY_PEM, backend)?;
        let publics = [
            PublicKey::from_pem_with_backend(mock::MERCHANT_PUBLIC_KEY_PEM, backend)?,
            PublicKey::from_pem_with_backend(MERCHANT_PKCS1_PUBLIC_PEM, backend)?,
            PublicKey::from_pem_with_backend(mock::MERCHANT_CERTIFICATE_PEM, backend)?,
        ];
        let signature = private.sign(message)?;
        assert_eq!(signature, private.sign(message)?);
        for public in &publics {
            public.verify(message, &signature)?;
            let error = public.verify(b"tampered", &signature).unwrap_err();
            assert_eq!(
                error.kind(),
                ErrorKind::Verification(wechatpay::Verification::Signature)
            );
            let ciphertext = public.encrypt_oaep(message)?;
            assert_ne!(STANDARD.decode(&ciphertext).expect("base64"), message);
            assert_eq!(private.decrypt_oaep(&ciphertext)?, message);
        }
        // The platform key cannot open what was encrypted for the merchant.
        let platform = PrivateKey::from_pem_with_backend(mock::PLATFORM_KEY_PEM, backend)?;
        let ciphertext = publics[0].encrypt_oaep(message)?;
        assert_eq!(
            platform.decrypt_oaep(&ciphertext).unwrap_err().kind(),
            ErrorKind::Crypto
        );
    }
    Ok(())
}

#[test]
fn pem_util_certificate_serials() -> wechatpay::Result<()> {
    // PemUtilTest::testParseCertificateSerialNo: upper-case hex of the serial.
    assert_eq!(
        Certificate::from_pem(mock::MERCHANT_CERTIFICATE_PEM)?.serial(),
        mock::MERCHANT_SERIAL
    );
    assert_eq!(
        Certificate::from_pem(mock::PLATFORM_CERTIFICATE_PEM)?.serial(),
        mock::PLATFORM_CERTIFICATE_SERIAL
    );
    Ok(())
}
