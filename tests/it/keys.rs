//! Keys and certificates: fixed signature vectors for both backends, cross-backend
//! verification and OAEP, PKCS#1/PKCS#8/SPKI/certificate inputs, bad inputs, and `Debug`
//! output that never shows key material.

use wechatpay::crypto::Backend;
use wechatpay::mock::{
    self, MERCHANT_CERTIFICATE_PEM, MERCHANT_KEY_PEM, MERCHANT_PUBLIC_KEY_PEM, MERCHANT_SERIAL,
    PLATFORM_CERTIFICATE_PEM, PLATFORM_CERTIFICATE_SERIAL, PLATFORM_KEY_PEM,
    PLATFORM_PUBLIC_KEY_PEM,
};
use wechatpay::v3::sign::sign_base64;
use wechatpay::{Certificate, Client, ErrorKind, PrivateKey, PublicKey, Verification};

/// The message of php-sdk.md §2.6's vector.
const MESSAGE: &[u8] = b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n";

/// `printf '…' | openssl dgst -sha256 -sign src/mock/merchant_key.pem | base64 -w0`
const EXPECTED_SIGNATURE: &str = "NDwUvwSHDzO3Nkr2DvIMqZK+/Nc0fDsePauU39LxSk26u4fpk4HtuilhqWcE3u6F3bFtg+ggtxGRooStYpVtQzIP02wuQwwzpTzkq3Kr+aYHqW94gLpxhSa1BuLE99vXDrT2tyLU4JvysAhD35pKzhuA0CG1BNWPclR3PD+WxsVRA4AZeUxQT275unHwfRU3x4/reoXOrbdqT/Ltt9Kdimc2kiv3AhKHg5wNYvGxpzOZ3RGztA1O8uto3+XqXu1XUOsalSFKfiMdA8hpooEHTO07BjF4m1u/r2bEUGEVgbj7i1dBrmEovNmlack5C5VX5WHliVvbpm5/Q4nadXK+6A==";

/// `openssl rsa -in src/mock/merchant_key.pem -traditional`
const MERCHANT_PKCS1_KEY_PEM: &str = include_str!("../fixtures/merchant_pkcs1_key.pem");
/// `openssl rsa -pubin -in src/mock/merchant_pub.pem -RSAPublicKey_out`
const MERCHANT_PKCS1_PUBLIC_PEM: &str = include_str!("../fixtures/merchant_pkcs1_pub.pem");

fn private(pem: &str, backend: Backend) -> PrivateKey {
    PrivateKey::from_pem_with_backend(pem, backend).expect("the private key parses")
}

fn public(pem: &str, backend: Backend) -> PublicKey {
    PublicKey::from_pem_with_backend(pem, backend).expect("the public key parses")
}

fn decode(base64: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .expect("base64")
}

/// The base64 body lines of a PEM text, joined.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|line| !line.starts_with("-----"))
        .collect()
}

#[test]
fn fixed_signature_vector_for_both_backends() {
    for backend in Backend::available().iter().copied() {
        let key = private(MERCHANT_KEY_PEM, backend);
        assert_eq!(key.backend(), backend);
        assert_eq!(
            sign_base64(&key, MESSAGE).expect("signs"),
            EXPECTED_SIGNATURE,
            "{backend:?}"
        );
        // PKCS#1 v1.5 is deterministic: signing twice gives the same bytes.
        assert_eq!(
            key.sign(MESSAGE).expect("signs"),
            decode(EXPECTED_SIGNATURE)
        );
    }
}

#[test]
fn signatures_verify_across_backends() {
    for signer in Backend::available().iter().copied() {
        let signature = private(MERCHANT_KEY_PEM, signer)
            .sign(b"cross-backend")
            .expect("signs");
        for verifier in Backend::available().iter().copied() {
            let key = public(MERCHANT_PUBLIC_KEY_PEM, verifier);
            assert_eq!(key.backend(), verifier);
            key.verify(b"cross-backend", &signature)
                .unwrap_or_else(|e| panic!("{signer:?} → {verifier:?}: {e}"));
            let err = key
                .verify(b"cross-backend!", &signature)
                .expect_err("another message does not verify");
            assert_eq!(err.kind(), ErrorKind::Verification(Verification::Signature));
            // The wrong public key does not verify either.
            let other = public(PLATFORM_PUBLIC_KEY_PEM, verifier);
            assert!(other.verify(b"cross-backend", &signature).is_err());
        }
    }
}

#[test]
fn oaep_round_trips_across_backends() {
    let longest = vec![b'x'; 214];
    for encrypter in Backend::available().iter().copied() {
        let public_key = public(MERCHANT_PUBLIC_KEY_PEM, encrypter);
        for decrypter in Backend::available().iter().copied() {
            let private_key = private(MERCHANT_KEY_PEM, decrypter);
            for plaintext in ["张三".as_bytes(), b"", &longest[..]] {
                let ciphertext = public_key.encrypt_oaep(plaintext).expect("encrypts");
                assert_eq!(
                    private_key.decrypt_oaep(&ciphertext).expect("decrypts"),
                    plaintext,
                    "{encrypter:?} → {decrypter:?}"
                );
            }
        }
        // OAEP is randomised.
        assert_ne!(
            public_key.encrypt_oaep(b"same").unwrap(),
            public_key.encrypt_oaep(b"same").unwrap()
        );
    }
}

#[test]
fn oaep_rejects_215_bytes() {
    for backend in Backend::available().iter().copied() {
        let err = public(MERCHANT_PUBLIC_KEY_PEM, backend)
            .encrypt_oaep(&[b'x'; 215])
            .expect_err("215 bytes do not fit");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{backend:?}: {err}");
        let message = err.to_string();
        assert!(
            message.contains("215") && message.contains("214"),
            "{message}"
        );
    }
}

#[test]
fn oaep_decrypt_errors() {
    for backend in Backend::available().iter().copied() {
        let key = private(MERCHANT_KEY_PEM, backend);
        let err = key.decrypt_oaep("not base64!").expect_err("bad base64");
        assert_eq!(err.kind(), ErrorKind::Decode);
        // Encrypted for another key.
        let foreign = public(PLATFORM_PUBLIC_KEY_PEM, backend)
            .encrypt_oaep(b"secret")
            .unwrap();
        let err = key.decrypt_oaep(&foreign).expect_err("wrong key");
        assert_eq!(err.kind(), ErrorKind::Crypto, "{err}");
    }
}

#[test]
fn pkcs1_private_key_signs_like_pkcs8() {
    assert!(MERCHANT_PKCS1_KEY_PEM.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    for backend in Backend::available().iter().copied() {
        let key = private(MERCHANT_PKCS1_KEY_PEM, backend);
        assert_eq!(sign_base64(&key, MESSAGE).unwrap(), EXPECTED_SIGNATURE);
        // and it decrypts what the PKCS#8 key's public half encrypted
        let ciphertext = public(MERCHANT_PUBLIC_KEY_PEM, backend)
            .encrypt_oaep(b"pkcs1")
            .unwrap();
        assert_eq!(key.decrypt_oaep(&ciphertext).unwrap(), b"pkcs1");
    }
}

#[test]
fn pkcs1_public_key_and_certificate_parse() {
    assert!(MERCHANT_PKCS1_PUBLIC_PEM.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    let signature = decode(EXPECTED_SIGNATURE);
    for backend in Backend::available().iter().copied() {
        public(MERCHANT_PKCS1_PUBLIC_PEM, backend)
            .verify(MESSAGE, &signature)
            .expect("the PKCS#1 public key verifies");
        public(MERCHANT_CERTIFICATE_PEM, backend)
            .verify(MESSAGE, &signature)
            .expect("the certificate's key verifies");
        let certificate = Certificate::from_pem_with_backend(MERCHANT_CERTIFICATE_PEM, backend)
            .expect("the certificate parses");
        assert_eq!(certificate.serial(), MERCHANT_SERIAL);
        certificate
            .public_key()
            .verify(MESSAGE, &signature)
            .expect("Certificate::public_key verifies");
        // The platform certificate holds the platform key.
        let platform = public(PLATFORM_CERTIFICATE_PEM, backend);
        let platform_signature = private(PLATFORM_KEY_PEM, backend).sign(MESSAGE).unwrap();
        platform.verify(MESSAGE, &platform_signature).unwrap();
    }
}

#[test]
fn certificate_serials() {
    assert_eq!(
        Certificate::from_pem(MERCHANT_CERTIFICATE_PEM)
            .unwrap()
            .serial(),
        MERCHANT_SERIAL
    );
    assert_eq!(
        Certificate::from_pem(PLATFORM_CERTIFICATE_PEM)
            .unwrap()
            .serial(),
        PLATFORM_CERTIFICATE_SERIAL
    );
}

#[test]
fn pem_files_load() {
    let dir = std::env::temp_dir().join(format!("wechatpay-keys-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_path = dir.join("apiclient_key.pem");
    let pub_path = dir.join("pub_key.pem");
    let cert_path = dir.join("wechatpay_cert.pem");
    std::fs::write(&key_path, MERCHANT_KEY_PEM).unwrap();
    std::fs::write(&pub_path, MERCHANT_PUBLIC_KEY_PEM).unwrap();
    std::fs::write(&cert_path, PLATFORM_CERTIFICATE_PEM).unwrap();

    let key = PrivateKey::from_pem_file(&key_path).expect("key file");
    assert_eq!(sign_base64(&key, MESSAGE).unwrap(), EXPECTED_SIGNATURE);
    PublicKey::from_pem_file(&pub_path)
        .expect("public key file")
        .verify(MESSAGE, &decode(EXPECTED_SIGNATURE))
        .unwrap();
    assert_eq!(
        Certificate::from_pem_file(&cert_path).unwrap().serial(),
        PLATFORM_CERTIFICATE_SERIAL
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Asserts that `result` failed with `kind` and a message containing every `hint`.
fn assert_error<T: std::fmt::Debug>(result: wechatpay::Result<T>, kind: ErrorKind, hints: &[&str]) {
    let err = result.expect_err("must fail");
    assert_eq!(err.kind(), kind, "{err}");
    let message = err.to_string();
    for hint in hints {
        assert!(
            message.contains(hint),
            "`{message}` does not mention `{hint}`"
        );
    }
}

#[test]
fn bad_inputs_say_what_to_fix() {
    let truncated_text = &MERCHANT_KEY_PEM[..MERCHANT_KEY_PEM.len() / 2];
    let body = pem_body(MERCHANT_KEY_PEM);
    let truncated_body = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        &body[..body.len() / 2]
    );
    let not_base64 = "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n";
    for backend in Backend::available().iter().copied() {
        assert_error(
            PrivateKey::from_pem_with_backend("garbage", backend),
            ErrorKind::Crypto,
            &["not PEM", "BEGIN"],
        );
        assert_error(
            PrivateKey::from_pem_with_backend(MERCHANT_CERTIFICATE_PEM, backend),
            ErrorKind::Crypto,
            &["CERTIFICATE", "apiclient_key.pem"],
        );
        assert_error(
            PrivateKey::from_pem_with_backend(MERCHANT_PUBLIC_KEY_PEM, backend),
            ErrorKind::Crypto,
            &["PUBLIC KEY"],
        );
        assert_error(
            PrivateKey::from_pem_with_backend(truncated_text, backend),
            ErrorKind::Crypto,
            &["-----END PRIVATE KEY-----", "cut short"],
        );
        assert_error(
            PrivateKey::from_pem_with_backend(&truncated_body, backend),
            ErrorKind::Crypto,
            &["private key"],
        );
        assert_error(
            PrivateKey::from_pem_with_backend(not_base64, backend),
            ErrorKind::Crypto,
            &["base64"],
        );
        assert_error(
            PublicKey::from_pem_with_backend("garbage", backend),
            ErrorKind::Crypto,
            &["not PEM"],
        );
        assert_error(
            PublicKey::from_pem_with_backend(MERCHANT_KEY_PEM, backend),
            ErrorKind::Crypto,
            &["private key", "pub_key.pem"],
        );
        assert_error(
            PublicKey::from_pem_with_backend(MERCHANT_PKCS1_KEY_PEM, backend),
            ErrorKind::Crypto,
            &["private key"],
        );
        assert_error(
            Certificate::from_pem_with_backend(MERCHANT_PUBLIC_KEY_PEM, backend),
            ErrorKind::Crypto,
            &["CERTIFICATE", "PUBLIC KEY"],
        );
    }
    let missing = std::env::temp_dir().join("wechatpay-no-such-dir/apiclient_key.pem");
    let shown = missing.display().to_string();
    assert_error(
        PrivateKey::from_pem_file(&missing),
        ErrorKind::Config,
        &[&shown, "private key"],
    );
    assert_error(
        PublicKey::from_pem_file(&missing),
        ErrorKind::Config,
        &[&shown, "public key"],
    );
    assert_error(
        Certificate::from_pem_file(&missing),
        ErrorKind::Config,
        &[&shown, "certificate"],
    );
    // The cause is kept.
    let err = PrivateKey::from_pem_file(&missing).unwrap_err();
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn debug_output_shows_no_key_material() {
    let secret_slices: Vec<String> = [MERCHANT_KEY_PEM, PLATFORM_KEY_PEM]
        .iter()
        .flat_map(|pem| {
            let body = pem_body(pem);
            (0..body.len() - 40)
                .step_by(40)
                .map(move |at| body[at..at + 40].to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let assert_clean = |what: &str, debug: String| {
        for slice in &secret_slices {
            assert!(
                !debug.contains(slice.as_str()),
                "{what} leaks `{slice}`: {debug}"
            );
        }
        assert!(!debug.contains("BEGIN"), "{what}: {debug}");
    };

    for backend in Backend::available().iter().copied() {
        let key = private(MERCHANT_KEY_PEM, backend);
        let debug = format!("{key:?}");
        assert!(debug.contains("PrivateKey"), "{debug}");
        assert_clean("PrivateKey", debug);
        assert_clean("PrivateKey {:#?}", format!("{key:#?}"));
    }

    let builder = Client::builder()
        .mchid(mock::MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
        .apiv3_key(mock::APIV3_KEY)
        .apiv2_key(mock::SECRET)
        .base_uri("http://127.0.0.1:9/");
    let debug = format!("{builder:?}");
    assert!(debug.contains(MERCHANT_SERIAL), "{debug}");
    assert!(!debug.contains(mock::APIV3_KEY), "{debug}");
    assert!(!debug.contains(mock::SECRET), "{debug}");
    assert_clean("ClientBuilder", debug);

    let client = builder.build().unwrap();
    let debug = format!("{client:?} {client:#?}");
    assert!(debug.contains(mock::MCHID), "{debug}");
    assert!(debug.contains(mock::PLATFORM_KEY_ID), "{debug}");
    assert!(!debug.contains(mock::APIV3_KEY), "{debug}");
    assert!(!debug.contains(mock::SECRET), "{debug}");
    assert_clean("Client", debug);
}

/// `openssl genrsa 1024` (and its `-pubout`): too small for WeChat Pay.
const RSA1024_KEY_PEM: &str = include_str!("../fixtures/rsa1024_key.pem");
const RSA1024_PUBLIC_PEM: &str = include_str!("../fixtures/rsa1024_pub.pem");

#[test]
fn aws_lc_refuses_keys_below_2048_bits() {
    assert_error(
        PrivateKey::from_pem_with_backend(RSA1024_KEY_PEM, Backend::AwsLc),
        ErrorKind::Crypto,
        &["RSA", "2048"],
    );
    assert_error(
        PublicKey::from_pem_with_backend(RSA1024_PUBLIC_PEM, Backend::AwsLc),
        ErrorKind::Crypto,
        &["2048"],
    );
}

#[test]
fn backends_agree_on_keys_below_2048_bits() {
    for backend in Backend::available().iter().copied() {
        let private = PrivateKey::from_pem_with_backend(RSA1024_KEY_PEM, backend);
        let public = PublicKey::from_pem_with_backend(RSA1024_PUBLIC_PEM, backend);
        assert_eq!(
            private.map_err(|e| e.kind()).err(),
            Some(ErrorKind::Crypto),
            "{backend:?} private"
        );
        assert_eq!(
            public.map_err(|e| e.kind()).err(),
            Some(ErrorKind::Crypto),
            "{backend:?} public"
        );
    }
}
