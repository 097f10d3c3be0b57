//! Refunds (退款): `REFUND.SUCCESS`, `REFUND.ABNORMAL` and `REFUND.CLOSED`, direct and
//! partner.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{Direct, ExchangeRate, lenient};

/// A refund (退款单) as notified by `REFUND.SUCCESS` (退款成功), `REFUND.ABNORMAL` (退款异常)
/// or `REFUND.CLOSED` (退款关闭), in the direct form ([`Direct`], the default; `appid` is
/// always `None`) or the partner form ([`Partner`](super::Partner)).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Refund<M = Direct> {
    /// Who refunds: `mchid`, or `sp_mchid`/`sub_mchid`.
    #[serde(flatten)]
    pub merchant: M,
    /// 商户订单号 (`out_trade_no`) of the refunded payment.
    pub out_trade_no: String,
    /// 微信支付订单号 (`transaction_id`) of the refunded payment.
    pub transaction_id: String,
    /// 商户退款单号 (`out_refund_no`).
    pub out_refund_no: String,
    /// 微信退款单号 (`refund_id`).
    pub refund_id: String,
    /// 退款状态 (`refund_status`): `SUCCESS`, `CLOSED` or `ABNORMAL` (kept as sent).
    pub refund_status: String,
    /// 退款成功时间 (`success_time`), RFC 3339; only for a successful refund.
    pub success_time: Option<String>,
    /// 退款入账账户 (`user_received_account`), e.g. `招商银行信用卡0403` or `支付用户零钱`.
    pub user_received_account: String,
    /// 退款入账账户 (`recv_account`), sent by some forms.
    pub recv_account: Option<String>,
    /// 退款资金来源 (`fund_source`), e.g. `REFUND_SOURCE_UNSETTLED_FUNDS`.
    pub fund_source: Option<String>,
    /// 垫资退款出资方 (`refund_account`), for 电商收付通, e.g. `REFUND_SOURCE_SUB_MERCHANT`.
    pub refund_account: Option<String>,
    /// 个人收款方受理授权ID (`individual_auth_id`).
    pub individual_auth_id: Option<String>,
    /// 金额信息 (`amount`).
    pub amount: RefundAmount,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 金额信息 (`amount`) of a [`Refund`], in fen.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct RefundAmount {
    /// 订单金额 (`total`) of the refunded payment, in fen.
    #[serde(deserialize_with = "lenient::int")]
    pub total: i64,
    /// 退款金额 (`refund`), in fen.
    #[serde(deserialize_with = "lenient::int")]
    pub refund: i64,
    /// 用户支付金额 (`payer_total`), in fen.
    #[serde(deserialize_with = "lenient::int")]
    pub payer_total: i64,
    /// 用户退款金额 (`payer_refund`), in fen, coupons excluded.
    #[serde(deserialize_with = "lenient::int")]
    pub payer_refund: i64,
    /// 货币类型 (`currency`), e.g. `CNY`.
    pub currency: Option<String>,
    /// 用户支付币种 (`payer_currency`).
    pub payer_currency: Option<String>,
    /// 结算币种退款金额 (`settlement_refund`), in the settlement currency's minor unit.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub settlement_refund: Option<i64>,
    /// 结算币种 (`settlement_currency`).
    pub settlement_currency: Option<String>,
    /// 汇率信息 (`exchange_rate`).
    pub exchange_rate: Option<ExchangeRate>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
