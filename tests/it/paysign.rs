//! Pay-sign helpers: fixed vectors (signatures made with `openssl dgst -sha256 -sign
//! src/mock/merchant_key.pem | base64 -w0` over the message) and the client's fresh ones.

use wechatpay::crypto::Backend;
use wechatpay::mock::{self, MockServer};
use wechatpay::toolkit as sign;
use wechatpay::v3::paysign::{self, AppParams, JsapiParams};
use wechatpay::{ErrorKind, PrivateKey, PublicKey};

const APPID: &str = "wx8888888888888888";
const TIMESTAMP: &str = "1414561699";
const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
const PREPAY_ID: &str = "wx201410272009395522657a690389285100";

/// `printf 'wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n' | openssl dgst -sha256 -sign src/mock/merchant_key.pem | base64 -w0`
const JSAPI_SIGNATURE: &str = "Tk6G2juejvWYLxf4rya7JYDB/JdAXss0GDOpYbWYAWyooFAWx5HuwA+N2/TBtVBCtUJ9PLWl9/admKwRUG+bkgx1zSQwMeS1tIfqZj5F6L947YEM1ZP7O6xV7uUr5h66uJNZoAxcaEo/zJnuhmk7SIAqQqR8ki9u+5ny639zfyFsEegnabOCFve2vKCHO1D8zuTEI+O0NY1Rpaf0TF7beclDTAVi49A5SpHw/SF+5TdjaXAl6hqFERB94T4UdqeST7cYzUK58ObwA4xGC26SYwkbmraaVMKqA8tl9NULI+5s2hygz41zVZbNH18o8OMbbOMX2Pj95i4F908nghLySw==";

/// `printf 'wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nWX1217752501201407033233368018\n' | openssl dgst -sha256 -sign src/mock/merchant_key.pem | base64 -w0`
const APP_SIGNATURE: &str = "PRNrExAeUBpVh4HI5vlOSTX2s6K4nv/BGb0KsvPF0u89WBF+NZx9a1oZHhyo1vRZvNPVxDgM1bQKkYlxuz38Gvxqu1odLeAP7jsvGMojcgaEkelPn/dnrj3+SEDr/sy8awlRxEXgppgYpNoFfvb1Zr/vrFXHCqrO2AQEUcOZHhytymIOouxS5quUDTSMmaknG4Kews3EHgNrYjlFzyKk8Ie/dSmcAOI6ig5AlFq/Mn2BS4j1t2wfOi493JddP/oqnfVFamPiKSXTdmZt9zrYQDcFbYIpa7ZyLy3s0hYbKImag/2QY5UQqa6BwOVXMsfXapbuQ15SLpzfdyg0ozBNug==";
const APP_PREPAY_ID: &str = "WX1217752501201407033233368018";

fn backends() -> impl Iterator<Item = Backend> {
    Backend::available().iter().copied()
}

#[test]
fn the_jsapi_message_is_the_php_vector() {
    assert_eq!(
        paysign::jsapi_message(APPID, TIMESTAMP, NONCE, &format!("prepay_id={PREPAY_ID}")),
        "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n"
    );
    assert_eq!(
        paysign::app_message(APPID, TIMESTAMP, NONCE, APP_PREPAY_ID),
        "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nWX1217752501201407033233368018\n"
    );
}

#[test]
fn jsapi_params_match_openssl() -> wechatpay::Result<()> {
    for backend in backends() {
        let key = PrivateKey::from_pem_with_backend(mock::MERCHANT_KEY_PEM, backend)?;
        let params = paysign::jsapi(&key, APPID, PREPAY_ID, TIMESTAMP, NONCE)?;
        assert_eq!(
            params,
            JsapiParams {
                app_id: APPID.to_owned(),
                time_stamp: "1414561699".to_owned(),
                nonce_str: NONCE.to_owned(),
                package: format!("prepay_id={PREPAY_ID}"),
                sign_type: "RSA".to_owned(),
                pay_sign: JSAPI_SIGNATURE.to_owned(),
            }
        );
        // A prepay id given as the package already gives the same parameters.
        let again = paysign::jsapi(
            &key,
            APPID,
            &format!("prepay_id={PREPAY_ID}"),
            TIMESTAMP,
            NONCE,
        )?;
        assert_eq!(again, params);
    }
    Ok(())
}

#[test]
fn jsapi_params_serialise_with_the_front_end_names() -> wechatpay::Result<()> {
    let params = paysign::jsapi(
        &mock::merchant_private_key(),
        APPID,
        PREPAY_ID,
        TIMESTAMP,
        NONCE,
    )?;
    let json = serde_json::to_string(&params).expect("serialisable");
    assert_eq!(
        json,
        format!(
            r#"{{"appId":"wx8888888888888888","timeStamp":"1414561699","nonceStr":"5K8264ILTKCH16CQ2502SI8ZNMTM67VS","package":"prepay_id=wx201410272009395522657a690389285100","signType":"RSA","paySign":"{JSAPI_SIGNATURE}"}}"#
        )
    );
    let back: JsapiParams = serde_json::from_str(&json).expect("deserialisable");
    assert_eq!(back, params);
    Ok(())
}

#[test]
fn app_params_match_openssl() -> wechatpay::Result<()> {
    for backend in backends() {
        let key = PrivateKey::from_pem_with_backend(mock::MERCHANT_KEY_PEM, backend)?;
        let params = paysign::app(&key, APPID, mock::MCHID, APP_PREPAY_ID, TIMESTAMP, NONCE)?;
        assert_eq!(
            params,
            AppParams {
                appid: APPID.to_owned(),
                partnerid: mock::MCHID.to_owned(),
                prepayid: APP_PREPAY_ID.to_owned(),
                package: "Sign=WXPay".to_owned(),
                noncestr: NONCE.to_owned(),
                timestamp: "1414561699".to_owned(),
                sign: APP_SIGNATURE.to_owned(),
            }
        );
        let json = serde_json::to_string(&params).expect("serialisable");
        assert_eq!(
            json,
            format!(
                r#"{{"appid":"wx8888888888888888","partnerid":"1900000109","prepayid":"WX1217752501201407033233368018","package":"Sign=WXPay","noncestr":"5K8264ILTKCH16CQ2502SI8ZNMTM67VS","timestamp":"1414561699","sign":"{APP_SIGNATURE}"}}"#
            )
        );
    }
    Ok(())
}

fn verifies(message: &str, signature: &str) -> bool {
    let key = PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM).expect("mock merchant key");
    key.verify_base64(message.as_bytes(), signature).is_ok()
}

#[test]
fn the_client_signs_with_the_clock_and_a_fresh_nonce() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let client = mock.client_builder().build()?;

    let before = sign::timestamp();
    let jsapi = client.jsapi_params(APPID, PREPAY_ID)?;
    let app = client.app_params(APPID, APP_PREPAY_ID)?;
    let after = sign::timestamp();

    for (timestamp, nonce) in [
        (&jsapi.time_stamp, &jsapi.nonce_str),
        (&app.timestamp, &app.noncestr),
    ] {
        let timestamp: u64 = timestamp.parse().expect("Unix seconds");
        assert!((before..=after).contains(&timestamp));
        assert_eq!(nonce.len(), 32);
        assert!(nonce.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    assert_ne!(jsapi.nonce_str, app.noncestr);
    assert_eq!(jsapi.package, format!("prepay_id={PREPAY_ID}"));
    assert_eq!(jsapi.sign_type, "RSA");
    assert!(verifies(
        &paysign::jsapi_message(APPID, &jsapi.time_stamp, &jsapi.nonce_str, &jsapi.package),
        &jsapi.pay_sign
    ));
    assert_eq!(app.partnerid, mock::MCHID);
    assert_eq!(app.package, "Sign=WXPay");
    assert!(verifies(
        &paysign::app_message(APPID, &app.timestamp, &app.noncestr, &app.prepayid),
        &app.sign
    ));
    Ok(())
}

#[test]
fn bad_inputs_are_refused() {
    let key = mock::merchant_private_key();
    for (appid, prepay_id, nonce) in [
        ("", PREPAY_ID, NONCE),
        (APPID, "", NONCE),
        (APPID, PREPAY_ID, ""),
        (APPID, "wx1\nwx2", NONCE),
        ("wx8888888888888888\r", PREPAY_ID, NONCE),
    ] {
        let error = paysign::jsapi(&key, appid, prepay_id, TIMESTAMP, nonce).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidArgument,
            "{appid:?} {prepay_id:?}"
        );
        let error =
            paysign::app(&key, appid, mock::MCHID, prepay_id, TIMESTAMP, nonce).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidArgument,
            "{appid:?} {prepay_id:?}"
        );
    }
    let error = paysign::app(&key, APPID, "", APP_PREPAY_ID, TIMESTAMP, NONCE).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    // A timestamp is the string the front end receives: digits only.
    for timestamp in ["", " 1414561699", "-1", "1414561699.5", "1e9"] {
        let error = paysign::jsapi(&key, APPID, PREPAY_ID, timestamp, NONCE).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{timestamp:?}");
        assert!(error.to_string().contains("decimal digits"), "{error}");
        let error =
            paysign::app(&key, APPID, mock::MCHID, APP_PREPAY_ID, timestamp, NONCE).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{timestamp:?}");
    }
}
