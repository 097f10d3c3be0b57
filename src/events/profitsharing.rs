//! Profit sharing (分账): `PROFITSHARING.SUCCESS` and `PROFITSHARING.RETURN`, and the same
//! payload sent as `TRANSACTION.SUCCESS` with `original_type` `profitsharing`.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::lenient;

/// A profit-sharing movement (分账动账) notified to a receiver (分账接收方):
/// `PROFITSHARING.SUCCESS` (分账动账成功) or `PROFITSHARING.RETURN` (分账动账回退).
///
/// One type for both merchant forms: `mchid` for a direct merchant, `sp_mchid` and
/// `sub_mchid` for a partner.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ProfitSharing {
    /// 直连商户号 (`mchid`), direct form.
    pub mchid: Option<String>,
    /// 服务商商户号 (`sp_mchid`), partner form.
    pub sp_mchid: Option<String>,
    /// 子商户号 (`sub_mchid`), partner form.
    pub sub_mchid: Option<String>,
    /// 微信支付订单号 (`transaction_id`) of the shared payment.
    pub transaction_id: String,
    /// 微信分账/回退单号 (`order_id`).
    pub order_id: String,
    /// 商户分账/回退单号 (`out_order_no`).
    pub out_order_no: String,
    /// 分账接收方 (`receiver`).
    pub receiver: ProfitSharingReceiver,
    /// 成功时间 (`success_time`), RFC 3339.
    pub success_time: String,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 分账接收方 (`receiver`) of a [`ProfitSharing`] movement.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ProfitSharingReceiver {
    /// 接收方类型 (`type`): `MERCHANT_ID` or `PERSONAL_OPENID`, as sent.
    #[serde(rename = "type")]
    pub kind: String,
    /// 接收方账号 (`account`): a merchant id or an openid.
    pub account: String,
    /// 分账动账金额 (`amount`), in fen.
    #[serde(deserialize_with = "lenient::int")]
    pub amount: i64,
    /// 分账/回退描述 (`description`).
    pub description: String,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
