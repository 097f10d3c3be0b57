//! The guard against sensitive fields sent in plain text: a documented-encrypted field
//! holding plain text is refused before anything is sent, naming the field and how to
//! encrypt it; the same request with the field encrypted passes; an explicit opt-out exists.

use serde_json::json;
use wechatpay::mock::{MockServer, Reply};
use wechatpay::{ErrorKind, Options};

const TRANSFER: &str = "v3/fund-app/mch-transfer/transfer-bills";
const TRANSFER_PATH: &str = "/v3/fund-app/mch-transfer/transfer-bills";

fn transfer(user_name: &str) -> serde_json::Value {
    json!({"json": {
        "appid": "wxf636efh567hg4356",
        "out_bill_no": "plfk2020042013",
        "transfer_scene_id": "1000",
        "openid": "o-MYE42l80oelYMDE34nYD456Xoy",
        "user_name": user_name,
        "transfer_amount": 400000,
        "transfer_remark": "2020年4月报销",
    }})
}

#[test]
fn a_transfer_with_a_plain_user_name_is_refused_before_sending() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        TRANSFER_PATH,
        Reply::json(200, json!({"state": "ACCEPTED"})),
    );
    let client = mock.client_builder().build().unwrap();

    let error = client[TRANSFER].post(transfer("张三")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    let message = error.to_string();
    assert!(message.contains("`json.user_name`"), "{message}");
    assert!(message.contains("client.encrypt"), "{message}");
    assert!(!message.contains("张三"), "never the value: {message}");
    assert!(mock.requests().is_empty(), "the mock sees nothing");

    // The async verbs and the pure build refuse it the same way.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert!(
        runtime
            .block_on(client[TRANSFER].post_async(transfer("张三")))
            .is_err()
    );
    assert!(
        client[TRANSFER]
            .build_request(http::Method::POST, transfer("张三"), 1_554_208_460, "N")
            .is_err()
    );
    assert!(mock.requests().is_empty());
}

#[test]
fn the_same_transfer_with_the_field_encrypted_passes() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        TRANSFER_PATH,
        Reply::json(200, json!({"state": "ACCEPTED"})),
    );
    let client = mock.client_builder().build().unwrap();

    let sealed = client.encrypt("张三").unwrap();
    let response = client[TRANSFER].post(transfer(&sealed)).unwrap();
    assert_eq!(response.status(), 200);
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json().unwrap()["user_name"], sealed.as_str());
}

#[test]
fn plain_text_is_sent_when_the_call_or_the_client_says_so() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        TRANSFER_PATH,
        Reply::json(200, json!({"state": "ACCEPTED"})),
    );
    let client = mock.client_builder().build().unwrap();
    client[TRANSFER]
        .post(Options::from(transfer("张三")).allow_plaintext())
        .unwrap();
    let mut options = transfer("张三");
    options["allow_plaintext"] = json!(true);
    client[TRANSFER].post(options).unwrap();

    let mut bad = transfer("张三");
    bad["allow_plaintext"] = json!("yes");
    let error = client[TRANSFER].post(bad).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`allow_plaintext` option must be `true`"),
        "{error}"
    );

    let lenient = mock.client_builder().allow_plaintext().build().unwrap();
    lenient[TRANSFER].post(transfer("张三")).unwrap();
    assert_eq!(mock.requests().len(), 3);
}

#[test]
fn undocumented_paths_and_operations_without_encrypted_fields_are_not_checked() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", "/v3/not/documented", Reply::status(204));
    let client = mock.client_builder().build().unwrap();
    client["v3/not/documented"]
        .post(json!({"json": {"user_name": "张三"}}))
        .unwrap();
}
