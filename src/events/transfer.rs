//! Merchant transfers (商家转账): `MCHTRANSFER.*`. All six event types share the
//! `original_type` `mch_payment`; the event type alone says which shape follows.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::lenient;

/// A transfer bill (转账单): `MCHTRANSFER.BILL.FINISHED` (商家转账单据终态) or
/// `MCHTRANSFER.QQWALLETBILL.FINISHED` (转账到QQ钱包). Amounts are in fen.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct TransferBill {
    /// 商户单号 (`out_bill_no`).
    pub out_bill_no: String,
    /// 微信转账单号 (`transfer_bill_no`).
    pub transfer_bill_no: String,
    /// 单据状态 (`state`): `ACCEPTED`, `PROCESSING`, `WAIT_USER_CONFIRM`, `TRANSFERING`,
    /// `SUCCESS`, `FAIL`, `CANCELING`, `CANCELLED` (kept as sent).
    pub state: String,
    /// 商户号 (`mchid`).
    pub mchid: Option<String>,
    /// 商户号 (`mch_id`), the spelling of some notifications.
    pub mch_id: Option<String>,
    /// 子商户号 (`sub_mchid`).
    pub sub_mchid: Option<String>,
    /// 应用ID (`appid`); for QQ wallet transfers, the QQ 互联 AppID.
    pub appid: Option<String>,
    /// 转账金额 (`transfer_amount`), in fen.
    #[serde(deserialize_with = "lenient::int")]
    pub transfer_amount: i64,
    /// 转账备注 (`transfer_remark`).
    pub transfer_remark: Option<String>,
    /// 收款用户OpenID (`openid`).
    pub openid: Option<String>,
    /// 收款用户QQ号 (`user_qq`), QQ wallet transfers.
    pub user_qq: Option<String>,
    /// 收款用户姓名 (`user_name`), QQ wallet transfers: encrypted with the merchant's public
    /// key; decrypt it with the merchant private key.
    pub user_name: Option<String>,
    /// 失败原因 (`fail_reason`), e.g. `ACCOUNT_FROZEN`.
    pub fail_reason: Option<String>,
    /// 单据创建时间 (`create_time`), RFC 3339.
    pub create_time: String,
    /// 最后一次状态变更时间 (`update_time`), RFC 3339.
    pub update_time: String,
    /// 收款方式类型 (`payment_method_type`): `CFT` or `WPHK`.
    pub payment_method_type: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A transfer batch (转账批次): `MCHTRANSFER.BATCH.FINISHED` (批次完成) or
/// `MCHTRANSFER.BATCH.CLOSED` (批次关闭). Amounts are in fen.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct TransferBatch {
    /// 商户号 (`mchid`).
    pub mchid: Option<String>,
    /// 商家批次单号 (`out_batch_no`).
    pub out_batch_no: String,
    /// 微信批次单号 (`batch_id`).
    pub batch_id: String,
    /// 批次状态 (`batch_status`): `WAIT_PAY`, `ACCEPTED`, `PROCESSING`, `FINISHED`, `CLOSED`.
    pub batch_status: String,
    /// 批次总笔数 (`total_num`).
    #[serde(deserialize_with = "lenient::int")]
    pub total_num: i64,
    /// 批次总金额 (`total_amount`).
    #[serde(deserialize_with = "lenient::int")]
    pub total_amount: i64,
    /// 转账成功金额 (`success_amount`), finished batches.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub success_amount: Option<i64>,
    /// 转账成功笔数 (`success_num`), finished batches.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub success_num: Option<i64>,
    /// 转账失败金额 (`fail_amount`), finished batches.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub fail_amount: Option<i64>,
    /// 转账失败笔数 (`fail_num`), finished batches.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub fail_num: Option<i64>,
    /// 批次关闭原因 (`close_reason`), closed batches: `CLOSED`, `OVERDUE_CLOSE`,
    /// `TRANSFER_SCENE_INVALID`.
    pub close_reason: Option<String>,
    /// 批次更新时间 (`update_time`), RFC 3339.
    pub update_time: String,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An automatic-receipt authorization (自动收款授权): `MCHTRANSFER.AUTHORIZATION.CONFIRMED`
/// (用户确认授权) or `MCHTRANSFER.AUTHORIZATION.CLOSED` (用户关闭授权).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct TransferAuthorization {
    /// 商户侧授权单号 (`out_authorization_no`).
    pub out_authorization_no: String,
    /// 商户AppID (`appid`).
    pub appid: String,
    /// 收款用户OpenID (`openid`).
    pub openid: String,
    /// 用户展示名称 (`user_display_name`).
    pub user_display_name: String,
    /// 微信自动收款授权单号 (`authorization_id`).
    pub authorization_id: String,
    /// 单据状态 (`state`): `TAKING_EFFECT` or `CLOSED`.
    pub state: String,
    /// 用户确认授权的时间 (`authorize_time`), RFC 3339.
    pub authorize_time: String,
    /// 关闭信息 (`close_info`), for a closed authorization.
    pub close_info: Option<TransferAuthorizationClose>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 关闭信息 (`close_info`) of a [`TransferAuthorization`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct TransferAuthorizationClose {
    /// 关闭时间 (`close_time`), RFC 3339.
    pub close_time: String,
    /// 关闭原因 (`close_reason`): `CLOSE_VIA_MCH_API` or `USER_CLOSE`.
    pub close_reason: String,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
