//! Sensitive fields: RSA-OAEP up with the platform key, named in `Wechatpay-Serial`; down
//! with the merchant key.

use serde_json::json;
use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::{Certificate, Client, ErrorKind, PrivateKey, PublicKey, Signer};

const PATH: &str = "/v3/applyment4sub/applyment/";

#[test]
fn an_encrypted_field_decrypts_with_the_platform_key_and_names_it() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    mock.on(
        "POST",
        PATH,
        Reply::json(200, json!({"applyment_id": 2000002124775691u64})),
    );
    let client = mock.client_builder().build()?;
    assert_eq!(client.wechatpay_serial(), mock::PLATFORM_KEY_ID);

    let name = client.encrypt("张三")?;
    let id_number = client.encrypt("110101199003077777")?;
    assert_ne!(name, client.encrypt("张三")?, "OAEP is randomised");
    client["v3/applyment4sub/applyment/"].post(json!({
        "json": {"contact_info": {"contact_name": name, "contact_id_number": id_number}},
    }))?;

    let requests = mock.take_requests();
    let request = &requests[0];
    assert_eq!(request.verdict, Ok(()));
    assert_eq!(
        request.header("Wechatpay-Serial"),
        Some(mock::PLATFORM_KEY_ID)
    );
    let sent = request.json().expect("a JSON body");
    let platform = PrivateKey::from_pem(mock::PLATFORM_KEY_PEM)?;
    let open = |field: &str| -> String {
        let ciphertext = sent["contact_info"][field]
            .as_str()
            .expect("a string field");
        String::from_utf8(platform.decrypt_oaep(ciphertext).expect("decrypts")).expect("UTF-8")
    };
    assert_eq!(open("contact_name"), "张三");
    assert_eq!(open("contact_id_number"), "110101199003077777");
    Ok(())
}

#[test]
fn every_v3_request_names_the_preferred_key_unless_the_caller_does() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::json(200, json!({"data": []})),
    );
    let client = mock.client_builder().build()?;

    client["v3/certificates"].get(json!({}))?;
    client["v3/certificates"].get(json!({
        "headers": {"Wechatpay-Serial": mock::PLATFORM_CERTIFICATE_SERIAL},
    }))?;
    client["v3/certificates"].get(json!({
        "headers": {"wechatpay-serial": "PUB_KEY_ID_0000000000000000000000000000000001"},
    }))?;

    let requests = mock.take_requests();
    let serials: Vec<Vec<&str>> = requests
        .iter()
        .map(|request| {
            request
                .headers
                .get_all("wechatpay-serial")
                .iter()
                .map(|value| value.to_str().expect("ASCII"))
                .collect()
        })
        .collect();
    assert_eq!(
        serials,
        [
            vec![mock::PLATFORM_KEY_ID],
            vec![mock::PLATFORM_CERTIFICATE_SERIAL],
            vec!["PUB_KEY_ID_0000000000000000000000000000000001"],
        ]
    );
    Ok(())
}

fn certificate_client(mock: &MockServer, with_public_key: bool) -> wechatpay::Result<Client> {
    let mut builder = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_certificate(Certificate::from_pem(mock::PLATFORM_CERTIFICATE_PEM)?)
        .base_uri(&mock.uri());
    if with_public_key {
        builder = builder.platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key());
    }
    builder.build()
}

#[test]
fn the_public_key_is_preferred_over_a_certificate() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let migrating = certificate_client(&mock, true)?;
    assert_eq!(migrating.wechatpay_serial(), mock::PLATFORM_KEY_ID);
    let certificate_only = certificate_client(&mock, false)?;
    assert_eq!(
        certificate_only.wechatpay_serial(),
        mock::PLATFORM_CERTIFICATE_SERIAL
    );

    // The certificate holds the same key as the mock's public key, so the mock's answers
    // (signed under PUB_KEY_ID_…) verify only for the client that knows that id.
    mock.on("POST", PATH, Reply::status(204));
    let encrypted = certificate_only.encrypt("13800138000")?;
    let error = certificate_only[PATH.trim_start_matches('/')]
        .post(json!({"json": {"mobile": encrypted}}))
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(wechatpay::Verification::UnknownSerial)
    );
    let request = &mock.take_requests()[0];
    assert_eq!(
        request.header("Wechatpay-Serial"),
        Some(mock::PLATFORM_CERTIFICATE_SERIAL)
    );
    let platform = PrivateKey::from_pem(mock::PLATFORM_KEY_PEM)?;
    let sent = request.json().expect("JSON");
    let mobile = platform.decrypt_oaep(sent["mobile"].as_str().expect("string"))?;
    assert_eq!(mobile, b"13800138000");
    Ok(())
}

#[test]
fn answers_decrypt_with_the_merchant_key() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let client = mock.client_builder().build()?;
    let merchant = PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM)?;
    let ciphertext = merchant.encrypt_oaep("李四 6222021234567890".as_bytes())?;
    assert_eq!(client.decrypt(&ciphertext)?, "李四 6222021234567890");

    // Encrypted for the platform key, not the merchant's.
    let error = client.decrypt(&client.encrypt("x")?).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Crypto);
    let error = client.decrypt("not base64!").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    let error = client
        .decrypt(&merchant.encrypt_oaep(&[0xff, 0xfe])?)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    Ok(())
}

#[test]
fn a_field_longer_than_one_block_is_refused() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let client = mock.client_builder().build()?;
    assert!(client.encrypt(&"a".repeat(214)).is_ok());
    let error = client.encrypt(&"a".repeat(215)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    Ok(())
}

struct Hsm(PrivateKey);

impl Signer for Hsm {
    fn sign(&self, message: &[u8]) -> wechatpay::Result<Vec<u8>> {
        self.0.sign(message)
    }
}

#[test]
fn decrypting_needs_the_private_key_not_just_a_signer() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let client = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .signer(Hsm(mock::merchant_private_key()))
        .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
        .base_uri(&mock.uri())
        .build()?;
    let merchant = PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM)?;
    let error = client.decrypt(&merchant.encrypt_oaep(b"x")?).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(
        error.to_string().contains("ClientBuilder::private_key"),
        "{error}"
    );
    // Encryption only needs the platform key.
    assert!(client.encrypt("x").is_ok());
    Ok(())
}
