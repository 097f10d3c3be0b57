//! Coupons (营销): `COUPON.SEND` and `COUPON.USE`.
//!
//! Two products share these event types: 商家券 (merchant-issued business coupons, keyed by
//! `coupon_code`, with a detailed `event_type` inside the resource such as
//! `EVENT_TYPE_BUSICOUPON_SEND`) and 代金券 (WeChat Pay cash coupons, keyed by `coupon_id`).
//! `COUPON.SEND` is documented for 商家券; `COUPON.USE` for 代金券, and a `COUPON.USE` resource
//! with a `coupon_code` and no `coupon_id` is read as a 商家券 event.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::lenient;

/// A business-coupon event (商家券事件): `COUPON.SEND` (领券事件), or `COUPON.USE` for a
/// 商家券.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct BusinessCoupon {
    /// 业务细分事件类型 (`event_type`), e.g. `EVENT_TYPE_BUSICOUPON_SEND`.
    pub event_type: Option<String>,
    /// 券code (`coupon_code`).
    pub coupon_code: String,
    /// 批次号 (`stock_id`).
    pub stock_id: String,
    /// 发放时间 (`send_time`), RFC 3339.
    pub send_time: Option<String>,
    /// 用户标识 (`openid`).
    pub openid: Option<String>,
    /// 用户统一标识 (`unionid`).
    pub unionid: Option<String>,
    /// 发放渠道 (`send_channel`), e.g. `BUSICOUPON_SEND_CHANNEL_MINIAPP`.
    pub send_channel: Option<String>,
    /// 发券商户号 (`send_merchant`).
    pub send_merchant: Option<String>,
    /// 摇一摇活动ID (`act_id`).
    pub act_id: Option<String>,
    /// 发券附加信息 (`attach_info`).
    pub attach_info: Option<CouponAttachInfo>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 发券附加信息 (`attach_info`) of a [`BusinessCoupon`]; which fields are present depends on
/// the channel.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct CouponAttachInfo {
    /// 支付有礼的支付订单号 (`transaction_id`).
    pub transaction_id: Option<String>,
    /// 营销馆领券活动ID (`act_code`).
    pub act_code: Option<String>,
    /// 营销馆ID (`hall_code`).
    pub hall_code: Option<String>,
    /// 营销馆所属商户号 (`hall_belong_mch_id`).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub hall_belong_mch_id: Option<i64>,
    /// 会员卡ID (`card_id`).
    pub card_id: Option<String>,
    /// 会员卡code (`code`).
    pub code: Option<String>,
    /// 会员有礼活动ID (`activity_id`).
    pub activity_id: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A cash coupon (代金券) used: `COUPON.USE` (核销事件). Amounts are in fen.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct CashCoupon {
    /// 创建批次的商户号 (`stock_creator_mchid`).
    pub stock_creator_mchid: String,
    /// 批次号 (`stock_id`).
    pub stock_id: String,
    /// 代金券ID (`coupon_id`).
    pub coupon_id: String,
    /// 代金券名称 (`coupon_name`).
    pub coupon_name: String,
    /// 代金券状态 (`status`): `SENDED`, `USED`, `EXPIRED`, as sent.
    pub status: String,
    /// 使用说明 (`description`).
    pub description: String,
    /// 领券时间 (`create_time`), RFC 3339.
    pub create_time: String,
    /// 券类型 (`coupon_type`): `NORMAL` or `CUT_TO`.
    pub coupon_type: String,
    /// 是否无资金流 (`no_cash`).
    pub no_cash: bool,
    /// 可用开始时间 (`available_begin_time`), RFC 3339.
    pub available_begin_time: String,
    /// 可用结束时间 (`available_end_time`), RFC 3339.
    pub available_end_time: String,
    /// 是否单品优惠 (`singleitem`).
    pub singleitem: bool,
    /// 满减券信息 (`normal_coupon_information`).
    pub normal_coupon_information: Option<NormalCouponInformation>,
    /// 实扣代金券信息 (`consume_information`).
    pub consume_information: Option<ConsumeInformation>,
    /// 细分业务类型 (`business_type`), e.g. `MULTIUSE`.
    pub business_type: Option<String>,
    /// Fields not named above (`singleitem_discount_off`, `discount_to`, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 满减券信息 (`normal_coupon_information`) of a [`CashCoupon`], in fen.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct NormalCouponInformation {
    /// 面额 (`coupon_amount`).
    #[serde(deserialize_with = "lenient::int")]
    pub coupon_amount: i64,
    /// 门槛 (`transaction_minimum`).
    #[serde(deserialize_with = "lenient::int")]
    pub transaction_minimum: i64,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 实扣代金券信息 (`consume_information`) of a [`CashCoupon`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ConsumeInformation {
    /// 核销时间 (`consume_time`), RFC 3339.
    pub consume_time: String,
    /// 核销商户号 (`consume_mchid`).
    pub consume_mchid: String,
    /// 微信支付订单号 (`transaction_id`).
    pub transaction_id: String,
    /// 核销金额 (`consume_amount`), in fen; only for `business_type` `MULTIUSE`.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub consume_amount: Option<i64>,
    /// Fields not named above (`goods_detail`, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
