//! The signed parameters a front end needs to start a payment (调起支付): JSAPI (in-WeChat web
//! pages, `WeixinJSBridge.invoke('getBrandWCPayRequest', …)`), mini programs
//! (`wx.requestPayment`) and apps (`PayReq` of the OpenSDK).
//!
//! The merchant private key signs (RSASSA-PKCS1-v1_5, SHA-256), in base64:
//!
//! ```text
//! JSAPI / mini program: appId\ntimeStamp\nnonceStr\npackage\n     package = prepay_id=…
//! APP:                  appid\ntimestamp\nnoncestr\nprepayid\n
//! ```
//!
//! Pure functions take the timestamp and nonce as inputs; [`Client::jsapi_params`](crate::Client::jsapi_params) and
//! [`Client::app_params`](crate::Client::app_params) use the clock and a fresh nonce.
//!
//! ```
//! use wechatpay::v3::paysign;
//!
//! # fn main() -> wechatpay::Result<()> {
//! let key = wechatpay::PrivateKey::from_pem(wechatpay::mock::MERCHANT_KEY_PEM)?;
//! let params = paysign::jsapi(&key, "wx8888888888888888", "wx201410272009395522657a690389285100", "1414561699", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?;
//! let json = serde_json::to_value(&params).expect("serialisable");
//! assert_eq!(json["package"], "prepay_id=wx201410272009395522657a690389285100");
//! assert_eq!(json["timeStamp"], "1414561699");
//! assert_eq!(json["signType"], "RSA");
//! # Ok(())
//! # }
//! ```

use serde::{Deserialize, Serialize};

use super::sign::sign_base64;
use crate::crypto::Signer;
use crate::error::{Error, Result};
use crate::toolkit::joined_by_line_feed;

/// The `signType` of JSAPI and mini-program payments.
pub(crate) const SIGN_TYPE_RSA: &str = "RSA";

/// The fixed `package` of APP payments.
pub(crate) const APP_PACKAGE: &str = "Sign=WXPay";

/// The parameters of a JSAPI or mini-program payment, serialised with the names the front
/// end expects: `{"appId","timeStamp","nonceStr","package","signType","paySign"}`.
///
/// Pass them to `WeixinJSBridge.invoke('getBrandWCPayRequest', params, …)`, or to
/// `wx.requestPayment` (which ignores `appId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiParams {
    /// The AppID the order was placed with (`appId`).
    #[serde(rename = "appId")]
    pub app_id: String,
    /// Unix seconds as a string (`timeStamp`).
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// A random string (`nonceStr`).
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `prepay_id=…` (`package`).
    pub package: String,
    /// Always `RSA` (`signType`).
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// The base64 signature (`paySign`).
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// The parameters of an APP payment, serialised with the names the OpenSDK `PayReq` expects:
/// `{"appid","partnerid","prepayid","package","noncestr","timestamp","sign"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppParams {
    /// The mobile app's AppID.
    pub appid: String,
    /// The merchant id (`mchid`; a service provider gives the sub-merchant's `sub_mchid`).
    pub partnerid: String,
    /// The `prepay_id` of the APP order.
    pub prepayid: String,
    /// Always `Sign=WXPay`.
    pub package: String,
    /// A random string.
    pub noncestr: String,
    /// Unix seconds as a string.
    pub timestamp: String,
    /// The base64 signature.
    pub sign: String,
}

/// The message signed for a JSAPI or mini-program payment:
/// `appId\ntimeStamp\nnonceStr\npackage\n`.
pub fn jsapi_message(appid: &str, timestamp: &str, nonce: &str, package: &str) -> String {
    joined_by_line_feed(&[appid, timestamp, nonce, package])
}

/// The message signed for an APP payment: `appid\ntimestamp\nnoncestr\nprepayid\n`.
pub fn app_message(appid: &str, timestamp: &str, nonce: &str, prepay_id: &str) -> String {
    joined_by_line_feed(&[appid, timestamp, nonce, prepay_id])
}

/// Signs the parameters of a JSAPI or mini-program payment.
///
/// `prepay_id` is the `prepay_id` answered by `/v3/pay/transactions/jsapi` (a value that
/// already starts with `prepay_id=` is taken as the `package` as it is). `timestamp` is Unix
/// seconds in decimal digits, the string the front end receives (`"1414561699"`), `nonce` a random string of up to 32 characters (see [`toolkit::nonce`](crate::toolkit::nonce)).
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when an input is empty
/// or holds a line break, else whatever the signer reports.
pub fn jsapi(
    signer: &dyn Signer,
    appid: &str,
    prepay_id: &str,
    timestamp: &str,
    nonce: &str,
) -> Result<JsapiParams> {
    check_input("appid", appid)?;
    check_input("prepay_id", prepay_id)?;
    check_timestamp(timestamp)?;
    check_input("nonce", nonce)?;
    let package = if prepay_id.starts_with("prepay_id=") {
        prepay_id.to_owned()
    } else {
        format!("prepay_id={prepay_id}")
    };
    let message = jsapi_message(appid, timestamp, nonce, &package);
    Ok(JsapiParams {
        app_id: appid.to_owned(),
        time_stamp: timestamp.to_owned(),
        nonce_str: nonce.to_owned(),
        package,
        sign_type: SIGN_TYPE_RSA.to_owned(),
        pay_sign: sign_base64(signer, message.as_bytes())?,
    })
}

/// Signs the parameters of an APP payment.
///
/// `partnerid` is the merchant id (a service provider gives the sub-merchant's `sub_mchid`),
/// `prepay_id` the `prepay_id` answered by `/v3/pay/transactions/app`, `timestamp` Unix seconds
/// in decimal digits (the string the app receives).
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when an input is empty
/// or holds a line break, else whatever the signer reports.
pub fn app(
    signer: &dyn Signer,
    appid: &str,
    partnerid: &str,
    prepay_id: &str,
    timestamp: &str,
    nonce: &str,
) -> Result<AppParams> {
    check_input("appid", appid)?;
    check_input("partnerid", partnerid)?;
    check_input("prepay_id", prepay_id)?;
    check_timestamp(timestamp)?;
    check_input("nonce", nonce)?;
    let message = app_message(appid, timestamp, nonce, prepay_id);
    Ok(AppParams {
        appid: appid.to_owned(),
        partnerid: partnerid.to_owned(),
        prepayid: prepay_id.to_owned(),
        package: APP_PACKAGE.to_owned(),
        noncestr: nonce.to_owned(),
        timestamp: timestamp.to_owned(),
        sign: sign_base64(signer, message.as_bytes())?,
    })
}

/// A timestamp is what the front end receives: decimal digits, no sign, no spaces.
fn check_timestamp(timestamp: &str) -> Result<()> {
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(format!(
            "`timestamp` must be Unix seconds in decimal digits (\"1414561699\"), not `{}`",
            timestamp.escape_debug()
        )));
    }
    Ok(())
}

fn check_input(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(format!(
            "`{name}` is empty; the payment parameters need it"
        )));
    }
    if value.contains(['\n', '\r']) {
        return Err(Error::invalid(format!(
            "`{name}` holds a line break, which would change the signed message"
        )));
    }
    Ok(())
}
