//! Pieces shared by several event families: the merchant forms (普通商户 / 服务商), coupon
//! details, and the lenient number parsing.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The direct-merchant form (普通商户模式): the merchant receives the money itself.
///
/// Used as the `M` of [`Transaction`](super::Transaction), [`Refund`](super::Refund) and
/// [`Contract`](super::Contract); flattened, so its fields sit at the top of the resource.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Direct {
    /// 商户号 (`mchid`): the merchant id.
    pub mchid: String,
    /// 应用ID (`appid`): the app id of the order; refund notifications carry none.
    pub appid: Option<String>,
}

/// The partner form (服务商模式, also 电商收付通 platforms): a service provider acting for a
/// sub-merchant. Chosen when the resource carries `sp_mchid`.
///
/// Used as the `M` of [`Transaction`](super::Transaction), [`Refund`](super::Refund) and
/// [`Contract`](super::Contract); flattened, so its fields sit at the top of the resource.
/// Some product forms (e.g. parking) also send `mchid` / `appid` next to these: they stay in
/// the `extra` map of the enclosing type.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Partner {
    /// 服务商商户号 (`sp_mchid`): the service provider's merchant id.
    pub sp_mchid: String,
    /// 子商户号 (`sub_mchid`): the sub-merchant's merchant id.
    pub sub_mchid: String,
    /// 服务商应用ID (`sp_appid`), when the order named one.
    pub sp_appid: Option<String>,
    /// 子商户应用ID (`sub_appid`), when the order named one.
    pub sub_appid: Option<String>,
}

/// 优惠功能 (`promotion_detail` item): a coupon or discount applied to a payment.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Promotion {
    /// 券ID (`coupon_id`).
    pub coupon_id: String,
    /// 优惠名称 (`name`).
    pub name: Option<String>,
    /// 优惠范围 (`scope`): `GLOBAL` or `SINGLE`, as sent.
    pub scope: Option<String>,
    /// 优惠类型 (`type`): e.g. `CASH`, `NOCASH`, `COUPON`, `DISCOUNT`, as sent.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// 优惠券面额 (`amount`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub amount: Option<i64>,
    /// 活动ID / 批次ID (`stock_id`).
    pub stock_id: Option<String>,
    /// 微信出资 (`wechatpay_contribute`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub wechatpay_contribute: Option<i64>,
    /// 商户出资 (`merchant_contribute`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub merchant_contribute: Option<i64>,
    /// 其他出资 (`other_contribute`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub other_contribute: Option<i64>,
    /// 优惠币种 (`currency`), e.g. `CNY`.
    pub currency: Option<String>,
    /// 商户后台配置的批次ID (`activity_id`).
    pub activity_id: Option<String>,
    /// 单品列表 (`goods_detail`).
    pub goods_detail: Option<Vec<GoodsDetail>>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 单品 (`goods_detail` item) of a [`Promotion`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct GoodsDetail {
    /// 商品编码 (`goods_id`).
    pub goods_id: String,
    /// 商品数量 (`quantity`).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub quantity: Option<i64>,
    /// 商品单价 (`unit_price`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub unit_price: Option<i64>,
    /// 商品优惠金额 (`discount_amount`), in fen.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub discount_amount: Option<i64>,
    /// 商品备注 (`goods_remark`).
    pub goods_remark: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 汇率信息 (`exchange_rate`) of a cross-currency payment or refund.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ExchangeRate {
    /// 汇率类型 (`type`), e.g. `SETTLEMENT_RATE`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// 汇率值 (`rate`): the rate multiplied by 10^8.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub rate: Option<i64>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Integers (amounts in fen, counts) read leniently.
///
/// Accepted: a JSON integer; a float with no fractional part (`100.0`); a string holding a
/// decimal integer (`"100"`, surrounding spaces ignored). For optional fields, `null` and the
/// empty string also read as absent. Refused (a `Decode` error naming the event): fractions
/// and any other string, e.g. `"1.00"`, which would more likely be yuan than fen: guessing the
/// unit of money is worse than failing.
pub(crate) mod lenient {
    use std::fmt;

    use serde::Deserializer;
    use serde::de::{Error, Unexpected, Visitor};

    struct Int;

    impl<'de> Visitor<'de> for Int {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, or a string holding one")
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<i64, E> {
            // 2^53: beyond it a float no longer holds every integer exactly.
            if v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0 {
                Ok(v as i64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<i64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
        }
    }

    struct OptInt;

    impl<'de> Visitor<'de> for OptInt {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, a string holding one, or null")
        }

        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(OptInt)
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
            Int.visit_i64(v).map(Some)
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
            Int.visit_u64(v).map(Some)
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
            Int.visit_f64(v).map(Some)
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            if v.trim().is_empty() {
                Ok(None)
            } else {
                Int.visit_str(v).map(Some)
            }
        }
    }

    /// A required integer.
    pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(Int)
    }

    /// An optional integer (use with `#[serde(default)]`).
    pub(crate) fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(OptInt)
    }
}
