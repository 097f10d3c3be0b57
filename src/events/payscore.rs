//! WeChat Pay Score (微信支付分): service orders, authorizations and sign plans.
//!
//! Pay Score has no `sp_mchid`: a partner is `mchid` (the service provider) with `sub_mchid`,
//! a direct merchant is `mchid` alone, so one type covers both forms.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{Promotion, lenient};

/// A Pay Score service order (支付分服务订单): `PAYSCORE.USER_CONFIRM` (用户确认成功) or
/// `PAYSCORE.USER_PAID` (用户支付成功).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ServiceOrder {
    /// 服务ID (`service_id`).
    pub service_id: String,
    /// 应用ID (`appid`).
    pub appid: String,
    /// 商户号 (`mchid`): the merchant, or the service provider in the partner form.
    pub mchid: String,
    /// 子商户应用ID (`sub_appid`), partner form.
    pub sub_appid: Option<String>,
    /// 子商户号 (`sub_mchid`), partner form.
    pub sub_mchid: Option<String>,
    /// 渠道商商户号 (`channel_id`).
    pub channel_id: Option<String>,
    /// 商户服务订单号 (`out_order_no`).
    pub out_order_no: String,
    /// 商户扣款单号 (`out_trade_no`).
    pub out_trade_no: Option<String>,
    /// 用户标识 (`openid`).
    pub openid: Option<String>,
    /// 子商户用户标识 (`sub_openid`).
    pub sub_openid: Option<String>,
    /// 服务订单状态 (`state`): `CREATED`, `DOING`, `DONE`, `REVOKED`, `EXPIRED`, as sent.
    pub state: String,
    /// 订单状态说明 (`state_description`), e.g. `USER_CONFIRM`, `MCH_COMPLETE`.
    pub state_description: Option<String>,
    /// 服务信息 (`service_introduction`).
    pub service_introduction: String,
    /// 总金额 (`total_amount`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub total_amount: Option<i64>,
    /// 后付费项目 (`post_payments`).
    pub post_payments: Vec<PostPayment>,
    /// 商户优惠 (`post_discounts`).
    pub post_discounts: Option<Vec<PostDiscount>>,
    /// 服务风险金 (`risk_fund`).
    pub risk_fund: RiskFund,
    /// 服务时间段 (`time_range`).
    pub time_range: TimeRange,
    /// 服务位置 (`location`).
    pub location: Option<Location>,
    /// 商户数据包 (`attach`).
    pub attach: Option<String>,
    /// 微信支付服务订单号 (`order_id`).
    pub order_id: Option<String>,
    /// 是否需要收款 (`need_collection`).
    pub need_collection: Option<bool>,
    /// 收款信息 (`collection`).
    pub collection: Option<Collection>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 后付费项目 (`post_payments` item) of a [`ServiceOrder`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct PostPayment {
    /// 付费项目名称 (`name`).
    pub name: Option<String>,
    /// 金额 (`amount`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub amount: Option<i64>,
    /// 计费说明 (`description`).
    pub description: Option<String>,
    /// 付费数量 (`count`).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub count: Option<i64>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 商户优惠 (`post_discounts` item) of a [`ServiceOrder`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct PostDiscount {
    /// 优惠名称 (`name`).
    pub name: Option<String>,
    /// 优惠说明 (`description`).
    pub description: Option<String>,
    /// 优惠金额 (`amount`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub amount: Option<i64>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 服务风险金 (`risk_fund`) of a [`ServiceOrder`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct RiskFund {
    /// 风险金名称 (`name`), e.g. `DEPOSIT`, `ADVANCE`, `CASH_DEPOSIT`.
    pub name: Option<String>,
    /// 风险金额 (`amount`), in fen.
    #[serde(deserialize_with = "lenient::int")]
    pub amount: i64,
    /// 风险说明 (`description`).
    pub description: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 服务时间段 (`time_range`) of a [`ServiceOrder`]. Pay Score times are `yyyyMMddHHmmss`
/// strings (or `OnAccept`), kept as sent.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct TimeRange {
    /// 服务开始时间 (`start_time`).
    pub start_time: String,
    /// 服务开始时间备注 (`start_time_remark`).
    pub start_time_remark: Option<String>,
    /// 服务结束时间 (`end_time`).
    pub end_time: Option<String>,
    /// 服务结束时间备注 (`end_time_remark`).
    pub end_time_remark: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 服务位置 (`location`) of a [`ServiceOrder`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Location {
    /// 服务开始地点 (`start_location`).
    pub start_location: Option<String>,
    /// 服务结束地点 (`end_location`).
    pub end_location: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 收款信息 (`collection`) of a [`ServiceOrder`], in fen.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Collection {
    /// 收款状态 (`state`): `USER_PAYING` or `USER_PAID`, as sent.
    pub state: String,
    /// 总收款金额 (`total_amount`).
    #[serde(deserialize_with = "lenient::int")]
    pub total_amount: i64,
    /// 待收金额 (`paying_amount`).
    #[serde(deserialize_with = "lenient::int")]
    pub paying_amount: i64,
    /// 已收金额 (`paid_amount`).
    #[serde(deserialize_with = "lenient::int")]
    pub paid_amount: i64,
    /// 收款明细 (`details`).
    pub details: Option<Vec<CollectionDetail>>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 收款明细 (`details` item) of a [`Collection`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct CollectionDetail {
    /// 收款序号 (`seq`).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub seq: Option<i64>,
    /// 单笔收款金额 (`amount`), in fen.
    #[serde(deserialize_with = "lenient::int")]
    pub amount: i64,
    /// 收款成功渠道 (`paid_type`): `NEWTON` or `MCH`, as sent.
    pub paid_type: Option<String>,
    /// 收款成功时间 (`paid_time`).
    pub paid_time: String,
    /// 微信支付交易单号 (`transaction_id`).
    pub transaction_id: Option<String>,
    /// 优惠功能 (`promotion_detail`).
    pub promotion_detail: Option<Vec<Promotion>>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Pay Score authorization (支付分服务授权): `PAYSCORE.USER_OPEN_SERVICE` (用户授权成功) or
/// `PAYSCORE.USER_CLOSE_SERVICE` (用户解除授权成功).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct PayScoreAuthorization {
    /// 应用ID (`appid`).
    pub appid: String,
    /// 商户号 (`mchid`).
    pub mchid: String,
    /// 子商户应用ID (`sub_appid`), partner form.
    pub sub_appid: Option<String>,
    /// 子商户号 (`sub_mchid`), partner form.
    pub sub_mchid: Option<String>,
    /// 渠道商商户号 (`channel_id`).
    pub channel_id: Option<String>,
    /// 服务ID (`service_id`).
    pub service_id: String,
    /// 用户标识 (`openid`).
    pub openid: String,
    /// 子商户用户标识 (`sub_openid`).
    pub sub_openid: Option<String>,
    /// 回调状态 (`user_service_status`): `USER_OPEN_SERVICE` or `USER_CLOSE_SERVICE`.
    pub user_service_status: Option<String>,
    /// 服务开启/解除授权时间 (`openorclose_time`).
    pub openorclose_time: Option<String>,
    /// 授权协议号 (`authorization_code`).
    pub authorization_code: Option<String>,
    /// 商户请求唯一标识 (`out_request_no`).
    pub out_request_no: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Pay Score sign plan (支付分签约计划): `PAYSCORE.USER_SIGN_PLAN` (签约成功) or
/// `PAYSCORE.USER_CANCEL_SIGN_PLAN` (取消签约). Prices are in fen.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct SignPlan {
    /// 签约计划ID (`sign_plan_id`).
    pub sign_plan_id: String,
    /// 服务ID (`service_id`).
    pub service_id: String,
    /// 商户号 (`mchid`).
    pub mchid: String,
    /// 子商户号 (`sub_mchid`), partner form.
    pub sub_mchid: Option<String>,
    /// 应用ID (`appid`).
    pub appid: String,
    /// 子商户应用ID (`sub_appid`).
    pub sub_appid: Option<String>,
    /// 用户标识 (`openid`).
    pub openid: Option<String>,
    /// 子商户用户标识 (`sub_openid`).
    pub sub_openid: Option<String>,
    /// 商户签约计划单号 (`merchant_sign_plan_no`).
    pub merchant_sign_plan_no: String,
    /// 签约事件回调地址 (`merchant_callback_url`).
    pub merchant_callback_url: Option<String>,
    /// 计划ID (`plan_id`).
    pub plan_id: String,
    /// 进行中的计划明细序号 (`going_detail_no`).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub going_detail_no: Option<i64>,
    /// 计划签约状态 (`sign_state`), as sent.
    pub sign_state: String,
    /// 签约时间 (`sign_time`).
    pub sign_time: Option<String>,
    /// 取消计划时间 (`cancel_sign_time`).
    pub cancel_sign_time: Option<String>,
    /// 取消类型 (`cancel_sign_type`): `NOT_CANCEL`, `USER`, `MERCHANT`, `REVOKE_SERVICE`.
    pub cancel_sign_type: Option<String>,
    /// 取消原因 (`cancel_reason`).
    pub cancel_reason: Option<String>,
    /// 计划名称 (`plan_name`).
    pub plan_name: String,
    /// 计划过期时间 (`plan_over_time`).
    pub plan_over_time: Option<String>,
    /// 原总金额 (`total_origin_price`).
    #[serde(deserialize_with = "lenient::int")]
    pub total_origin_price: i64,
    /// 扣费次数 (`deduction_quantity`).
    #[serde(deserialize_with = "lenient::int")]
    pub deduction_quantity: i64,
    /// 实际总金额 (`total_actual_price`).
    #[serde(deserialize_with = "lenient::int")]
    pub total_actual_price: i64,
    /// 签约计划明细 (`signed_detail_list`).
    pub signed_detail_list: Vec<SignedDetail>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 签约计划明细 (`signed_detail_list` item) of a [`SignPlan`]. Prices are in fen.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct SignedDetail {
    /// 明细序号 (`plan_detail_no`).
    #[serde(deserialize_with = "lenient::int")]
    pub plan_detail_no: i64,
    /// 原支付金额 (`original_price`).
    #[serde(deserialize_with = "lenient::int")]
    pub original_price: i64,
    /// 优惠说明 (`plan_discount_description`).
    pub plan_discount_description: Option<String>,
    /// 实际支付金额 (`actual_price`).
    #[serde(deserialize_with = "lenient::int")]
    pub actual_price: i64,
    /// 明细状态 (`plan_detail_state`): `NOT_USED`, `USING`, `USED`, `SIGN_PLAN_DETAIL_CANCEL`.
    pub plan_detail_state: String,
    /// 支付分服务订单号 (`order_id`).
    pub order_id: Option<String>,
    /// 商户计划明细号 (`merchant_plan_detail_no`).
    pub merchant_plan_detail_no: String,
    /// 明细名称 (`plan_detail_name`).
    pub plan_detail_name: String,
    /// 订单实际支付金额 (`actual_pay_price`).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub actual_pay_price: Option<i64>,
    /// 使用时间 (`use_time`).
    pub use_time: Option<String>,
    /// 完成时间 (`complete_time`).
    pub complete_time: Option<String>,
    /// 取消时间 (`cancel_time`).
    pub cancel_time: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
