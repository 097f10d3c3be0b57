//! Payments (支付): `TRANSACTION.SUCCESS` and `TRANSACTION.FAIL`, in the direct, partner and
//! combined (合单) forms.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{Direct, ExchangeRate, Promotion, lenient};

/// A payment (支付订单) as notified by `TRANSACTION.SUCCESS` (支付成功) or `TRANSACTION.FAIL`
/// (扣费失败), in the direct form ([`Direct`], the default) or the partner form
/// ([`Partner`](super::Partner)).
///
/// The documented pages mix the plain payment (JSAPI, Native, App, H5, 付款码) with product
/// forms such as parking (停车), 委托代扣 and 支付分: the fields common to them are typed here,
/// and product-specific objects (`parking_info`, `contract_information`,
/// `device_information`, `installment_info`, …) stay in [`Transaction::extra`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Transaction<M = Direct> {
    /// Who receives the money: `mchid`/`appid`, or `sp_mchid`/`sub_mchid`/`sp_appid`/`sub_appid`.
    #[serde(flatten)]
    pub merchant: M,
    /// 商户订单号 (`out_trade_no`).
    pub out_trade_no: String,
    /// 微信支付订单号 (`transaction_id`).
    pub transaction_id: String,
    /// 交易类型 (`trade_type`): `JSAPI`, `NATIVE`, `APP`, `MICROPAY`, `MWEB`, `FACEPAY`, `PAP`, …
    pub trade_type: Option<String>,
    /// 交易状态 (`trade_state`): `SUCCESS`, `REFUND`, `NOTPAY`, `CLOSED`, `REVOKED`,
    /// `USERPAYING`, `PAYERROR`, `ACCEPT`, `PAY_FAIL`, … (kept as sent).
    pub trade_state: String,
    /// 交易状态描述 (`trade_state_desc`).
    pub trade_state_desc: Option<String>,
    /// 交易状态描述 (`trade_state_description`), the spelling of some product forms.
    pub trade_state_description: Option<String>,
    /// 付款银行 (`bank_type`), e.g. `CMC`, `OTHERS`.
    pub bank_type: Option<String>,
    /// 附加数据 (`attach`), returned as given when ordering.
    pub attach: Option<String>,
    /// 支付完成时间 (`success_time`), RFC 3339.
    pub success_time: Option<String>,
    /// 支付者 (`payer`).
    pub payer: Option<Payer>,
    /// 订单金额 (`amount`).
    pub amount: TransactionAmount,
    /// 场景信息 (`scene_info`).
    pub scene_info: Option<SceneInfo>,
    /// 优惠功能 (`promotion_detail`).
    pub promotion_detail: Option<Vec<Promotion>>,
    /// 商品描述 (`description`), sent by some product forms.
    pub description: Option<String>,
    /// 订单创建时间 (`create_time`), sent by some product forms.
    pub create_time: Option<String>,
    /// 交易场景 (`trade_scene`), e.g. `PARKING`.
    pub trade_scene: Option<String>,
    /// 用户是否已还款 (`user_repaid`): `Y` or `N` (先享后付 / 垫资).
    pub user_repaid: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 支付者 (`payer` / `combine_payer_info`). Which ids are present depends on the merchant
/// form and the app ids of the order.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Payer {
    /// 用户标识 (`openid`) under `appid` (direct form, and some partner product forms).
    pub openid: Option<String>,
    /// 用户服务标识 (`sp_openid`) under `sp_appid` (partner form).
    pub sp_openid: Option<String>,
    /// 用户子标识 (`sub_openid`) under `sub_appid` (partner form).
    pub sub_openid: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 订单金额 (`amount`) of a payment, in fen.
///
/// `total` and `payer_total` are always sent for a plain successful payment; the documented
/// product forms (parking, 扣费失败) may leave them out, hence the `Option`s.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct TransactionAmount {
    /// 订单总金额 (`total`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub total: Option<i64>,
    /// 用户支付金额 (`payer_total`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub payer_total: Option<i64>,
    /// 订单折扣 (`discount_total`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub discount_total: Option<i64>,
    /// 货币类型 (`currency`), e.g. `CNY`.
    pub currency: Option<String>,
    /// 用户支付币种 (`payer_currency`).
    pub payer_currency: Option<String>,
    /// 汇率信息 (`exchange_rate`), for cross-currency payments.
    pub exchange_rate: Option<ExchangeRate>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 场景信息 (`scene_info`) of a payment.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct SceneInfo {
    /// 商户端设备号 (`device_id`).
    pub device_id: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A combined payment (合单支付) as notified by `TRANSACTION.SUCCESS`: one payment by the user
/// covering several sub-orders (子单), each possibly for another merchant.
///
/// Told apart from a plain payment by a top-level `combine_out_trade_no` with no top-level
/// `out_trade_no` (the order numbers are in [`CombinedTransaction::sub_orders`]).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct CombinedTransaction {
    /// 合单发起方的应用ID (`combine_appid`).
    pub combine_appid: String,
    /// 合单发起方商户号 (`combine_mchid`).
    pub combine_mchid: String,
    /// 合单商户订单号 (`combine_out_trade_no`).
    pub combine_out_trade_no: String,
    /// 合单微信支付订单号 (`combine_transaction_id`), when sent.
    pub combine_transaction_id: Option<String>,
    /// 场景信息 (`scene_info`).
    pub scene_info: Option<SceneInfo>,
    /// 子单信息 (`sub_orders`).
    pub sub_orders: Vec<SubOrder>,
    /// 支付者 (`combine_payer_info`).
    pub combine_payer_info: Option<Payer>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 子单 (`sub_orders` item) of a [`CombinedTransaction`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct SubOrder {
    /// 子单发起方商户号 (`mchid`).
    pub mchid: String,
    /// 二级商户号 (`sub_mchid`), for 电商收付通.
    pub sub_mchid: Option<String>,
    /// 子商户应用ID (`sub_appid`).
    pub sub_appid: Option<String>,
    /// 子商户用户标识 (`sub_openid`).
    pub sub_openid: Option<String>,
    /// 子单商户订单号 (`out_trade_no`).
    pub out_trade_no: String,
    /// 子单微信支付订单号 (`transaction_id`).
    pub transaction_id: Option<String>,
    /// 交易类型 (`trade_type`).
    pub trade_type: Option<String>,
    /// 交易状态 (`trade_state`), as sent.
    pub trade_state: String,
    /// 付款银行 (`bank_type`).
    pub bank_type: Option<String>,
    /// 附加数据 (`attach`).
    pub attach: Option<String>,
    /// 支付完成时间 (`success_time`), RFC 3339.
    pub success_time: Option<String>,
    /// 子单金额 (`amount`).
    pub amount: Option<SubOrderAmount>,
    /// 优惠功能 (`promotion_detail`).
    pub promotion_detail: Option<Vec<Promotion>>,
    /// 个人收款方受理授权ID (`individual_auth_id`).
    pub individual_auth_id: Option<String>,
    /// 个人收款方平台昵称 (`individual_name`).
    pub individual_name: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 子单金额 (`amount`) of a [`SubOrder`], in fen.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct SubOrderAmount {
    /// 标价金额 (`total_amount`), in fen.
    #[serde(deserialize_with = "lenient::int")]
    pub total_amount: i64,
    /// 现金支付金额 (`payer_amount`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub payer_amount: Option<i64>,
    /// 标价币种 (`currency`).
    pub currency: Option<String>,
    /// 现金支付币种 (`payer_currency`).
    pub payer_currency: Option<String>,
    /// 结算汇率 (`settlement_rate`), multiplied by 10^8.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub settlement_rate: Option<i64>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
