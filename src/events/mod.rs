//! Typed notification events (回调通知事件): the decrypted resource of an APIv3 notification,
//! parsed into the shape of its event type.
//!
//! [`Notification::event`](crate::Notification::event) decrypts and parses in one step;
//! [`Event::parse`] is the pure function behind it. Event types without a type here come back
//! as [`Event::Other`] with the raw JSON; [`Notification::decrypt`](crate::Notification::decrypt)
//! still parses into a type of your own.
//!
//! ```
//! use wechatpay::events::Event;
//!
//! # fn main() -> wechatpay::Result<()> {
//! # let mock = wechatpay::mock::MockServer::start()?;
//! # let client = mock.client_builder().build()?;
//! # let (headers, body) = mock.notification("TRANSACTION.SUCCESS", "encrypt-resource", "transaction", &serde_json::json!({
//! #     "mchid": "1900000109", "appid": "wxd678efh567hg6787",
//! #     "out_trade_no": "1217752501201407033233368018", "transaction_id": "4200000001201407033233368018",
//! #     "trade_type": "JSAPI", "trade_state": "SUCCESS", "success_time": "2018-06-08T10:34:56+08:00",
//! #     "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
//! #     "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
//! # }))?;
//! // `headers` and `body`: the request WeChat Pay POSTed to the notify_url.
//! let notification = client.verify_notification(&headers, &body)?;
//! match notification.event()? {
//!     Event::TransactionSuccess(paid) => {
//!         assert_eq!(paid.merchant.mchid, "1900000109");
//!         assert_eq!(paid.amount.total, Some(100));
//!     }
//!     Event::PartnerTransactionSuccess(paid) => println!("{} paid", paid.merchant.sub_mchid),
//!     Event::RefundSuccess(refund) => println!("refunded {}", refund.amount.refund),
//!     other => println!("not handled here: {}", other.event_type()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # One event type, several shapes
//!
//! Some event types carry different payloads; [`Event::parse`] tells them apart, in this order:
//!
//! | event type | shape | told by |
//! |---|---|---|
//! | `TRANSACTION.SUCCESS` | [`ProfitSharing`] | `original_type` is `profitsharing` (without an `original_type`: a `receiver` and no `out_trade_no`) |
//! | `TRANSACTION.SUCCESS` | [`CombinedTransaction`] (合单) | a `combine_out_trade_no` and no `out_trade_no` |
//! | `TRANSACTION.SUCCESS`, `TRANSACTION.FAIL`, `REFUND.*`, `ENTRUST.SIGN`, `ENTRUST.TERMINATE` | partner form ([`Partner`]) | an `sp_mchid` |
//! | same | direct form ([`Direct`]) | otherwise |
//! | `COUPON.USE` | [`BusinessCoupon`] (商家券) | a `coupon_code` and no `coupon_id` |
//! | `COUPON.USE` | [`CashCoupon`] (代金券) | otherwise |
//!
//! The documented pages sometimes list the fields of several forms in one table (e.g. both
//! `mchid` and `sp_mchid`): such a payload is read as the partner form, the other form's
//! fields staying in `extra`. Other event types have one shape each, named by the event type
//! (e.g. the six `MCHTRANSFER.*` share `original_type` `mch_payment` but not their fields).
//!
//! Not typed (they arrive as [`Event::Other`]): the less common families, and
//! `TRANSACTION.PAY_BACK`, `TRANSACTION.INDUSTRY_*` and `PAYSCORE.USER_ACCEPTED`, whose
//! documented fields mix several products (parking, campus pay, contracts) and leave the
//! order's own ids optional.
//!
//! The types are `#[non_exhaustive]` (WeChat Pay adds fields): to make one in a test, parse
//! it with [`Event::parse`] or `serde_json::from_value`.
//!
//! # Leniency
//!
//! * Unknown fields are kept, in the `extra` map of each type (nested objects too): a new
//!   field never breaks parsing.
//! * Enumerations (`trade_state`, `refund_status`, …) are `String`s, kept as sent: WeChat Pay
//!   adds values.
//! * Amounts (in fen) and counts are `i64`, also read from a string holding an integer
//!   (`"100"`) or a float without fraction (`100.0`); `null` or `""` is an absent optional
//!   amount. Anything else (`"1.00"`: yuan?) is an error rather than a guess.
//! * Times are RFC 3339 `String`s as sent (Pay Score's are `yyyyMMddHHmmss`).
//! * A field documented as optional by any page of a family is an `Option`, as are fields
//!   that only some product forms send.
//!
//! A typed event whose resource does not fit its type (a required field missing, a wrong
//! type) is an [`ErrorKind::Decode`](crate::ErrorKind::Decode) error naming the event, the
//! type and the serde error: never a panic, never a silent [`Event::Other`].
//!
//! # Duplicates
//!
//! WeChat Pay resends a notification until it is acknowledged: see [`Deduplicate`].

mod common;
mod complaint;
mod coupon;
mod dedupe;
mod entrust;
mod payscore;
mod profitsharing;
mod refund;
mod transaction;
mod transfer;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

pub use common::{Direct, ExchangeRate, GoodsDetail, Partner, Promotion};
pub use complaint::Complaint;
pub use coupon::{
    BusinessCoupon, CashCoupon, ConsumeInformation, CouponAttachInfo, NormalCouponInformation,
};
pub use dedupe::{Claim, Deduplicate, MemoryDedupe};
#[cfg(feature = "redis")]
pub(crate) use dedupe::{DEFAULT_LEASE, DEFAULT_WINDOW};
pub use entrust::{Contract, ContractAmount, ContractTermination, DeductSchedule, PapayContract};
pub use payscore::{
    Collection, CollectionDetail, Location, PayScoreAuthorization, PostDiscount, PostPayment,
    RiskFund, ServiceOrder, SignPlan, SignedDetail, TimeRange,
};
pub use profitsharing::{ProfitSharing, ProfitSharingReceiver};
pub use refund::{Refund, RefundAmount};
pub use transaction::{
    CombinedTransaction, Payer, SceneInfo, SubOrder, SubOrderAmount, Transaction, TransactionAmount,
};
pub use transfer::{
    TransferAuthorization, TransferAuthorizationClose, TransferBatch, TransferBill,
};

macro_rules! events {
    ($(#[$meta:meta])* pub enum Event {
        $($event_type:literal by $shape_of:ident {
            $(#[doc = $first:literal] $(#[doc = $doc:literal])* $shape:ident => $variant:ident($ty:ty),)+
        })*
    }) => {
        $(#[$meta])*
        pub enum Event {
            $($(
                #[doc = concat!("`", $event_type, "` ", $first)]
                $(#[doc = $doc])*
                $variant(Box<$ty>),
            )+)*
            /// Any other event type (or an event whose shape has no type here): the decrypted
            /// resource as JSON.
            Other {
                /// The event type, e.g. `VIOLATION.PUNISH`.
                event_type: String,
                /// The decrypted resource.
                resource: Value,
            },
        }

        impl Event {
            /// The event type this event was notified as, e.g. `TRANSACTION.SUCCESS`.
            pub fn event_type(&self) -> &str {
                match self {
                    $($(Self::$variant(_))|+ => $event_type,)*
                    Self::Other { event_type, .. } => event_type,
                }
            }

            /// The variant of `event_type` in the shape its `$shape_of` finds in `resource`
            /// ([`Event::Other`] for an event type without a type here).
            fn typed(event_type: &str, original_type: &str, resource: Value) -> Result<Event> {
                match event_type {
                    $($event_type => {
                        let shape = $shape_of(&resource, original_type);
                        $(if shape == Shape::$shape {
                            return Ok(Event::$variant(typed(event_type, stringify!($variant), resource)?));
                        })+
                    })*
                    _ => {}
                }
                Ok(Event::Other {
                    event_type: event_type.to_owned(),
                    resource,
                })
            }
        }
    };
}

events! {
    /// A notification's decrypted resource, typed by its event type (and, where one event type
    /// has several shapes, by its form: see the [module docs](self)).
    ///
    /// Typed variants are boxed, so that an `Event` stays small whatever it holds.
    #[derive(Clone, Debug, PartialEq)]
    #[non_exhaustive]
    pub enum Event {
        "TRANSACTION.SUCCESS" by transaction_success {
            /// 支付成功, direct form (普通商户).
            Direct => TransactionSuccess(Transaction),
            /// 支付成功, partner form (服务商 / 电商收付通).
            Partner => PartnerTransactionSuccess(Transaction<Partner>),
            /// 合单支付成功: a combined payment.
            Combined => CombinedTransactionSuccess(CombinedTransaction),
            /// with `original_type` `profitsharing`: a profit-sharing movement (分账动账) sent
            /// under the payment event type, as some documentation shows; whether it is a share
            /// or a return is not said (query the order to know).
            ProfitSharing => ProfitSharingTransactionSuccess(ProfitSharing),
        }
        "TRANSACTION.FAIL" by partner_or_direct {
            /// 扣费失败 (e.g. parking, 委托代扣), direct form.
            Direct => TransactionFail(Transaction),
            /// 扣费失败, partner form.
            Partner => PartnerTransactionFail(Transaction<Partner>),
        }
        "REFUND.SUCCESS" by partner_or_direct {
            /// 退款成功, direct form.
            Direct => RefundSuccess(Refund),
            /// 退款成功, partner form.
            Partner => PartnerRefundSuccess(Refund<Partner>),
        }
        "REFUND.ABNORMAL" by partner_or_direct {
            /// 退款异常 (e.g. the user's card was closed), direct form.
            Direct => RefundAbnormal(Refund),
            /// 退款异常, partner form.
            Partner => PartnerRefundAbnormal(Refund<Partner>),
        }
        "REFUND.CLOSED" by partner_or_direct {
            /// 退款关闭, direct form.
            Direct => RefundClosed(Refund),
            /// 退款关闭, partner form.
            Partner => PartnerRefundClosed(Refund<Partner>),
        }
        "PROFITSHARING.SUCCESS" by only {
            /// 分账动账成功 (to a receiver).
            Only => ProfitSharingSuccess(ProfitSharing),
        }
        "PROFITSHARING.RETURN" by only {
            /// 分账动账回退 (to a receiver).
            Only => ProfitSharingReturn(ProfitSharing),
        }
        "PAYSCORE.USER_CONFIRM" by only {
            /// 支付分服务用户确认成功.
            Only => PayScoreUserConfirm(ServiceOrder),
        }
        "PAYSCORE.USER_PAID" by only {
            /// 支付分服务用户支付成功.
            Only => PayScoreUserPaid(ServiceOrder),
        }
        "PAYSCORE.USER_OPEN_SERVICE" by only {
            /// 支付分服务用户授权成功.
            Only => PayScoreUserOpenService(PayScoreAuthorization),
        }
        "PAYSCORE.USER_CLOSE_SERVICE" by only {
            /// 支付分服务用户解除授权成功.
            Only => PayScoreUserCloseService(PayScoreAuthorization),
        }
        "PAYSCORE.USER_SIGN_PLAN" by only {
            /// 支付分签约计划签约成功.
            Only => PayScoreUserSignPlan(SignPlan),
        }
        "PAYSCORE.USER_CANCEL_SIGN_PLAN" by only {
            /// 支付分签约计划取消签约.
            Only => PayScoreUserCancelSignPlan(SignPlan),
        }
        "MCHTRANSFER.BILL.FINISHED" by only {
            /// 商家转账单据终态.
            Only => TransferBillFinished(TransferBill),
        }
        "MCHTRANSFER.QQWALLETBILL.FINISHED" by only {
            /// 转账到QQ钱包单据终态.
            Only => TransferQqWalletBillFinished(TransferBill),
        }
        "MCHTRANSFER.BATCH.FINISHED" by only {
            /// 商家转账批次完成.
            Only => TransferBatchFinished(TransferBatch),
        }
        "MCHTRANSFER.BATCH.CLOSED" by only {
            /// 商家转账批次关闭.
            Only => TransferBatchClosed(TransferBatch),
        }
        "MCHTRANSFER.AUTHORIZATION.CONFIRMED" by only {
            /// 用户确认自动收款授权.
            Only => TransferAuthorizationConfirmed(TransferAuthorization),
        }
        "MCHTRANSFER.AUTHORIZATION.CLOSED" by only {
            /// 用户关闭自动收款授权.
            Only => TransferAuthorizationClosed(TransferAuthorization),
        }
        "COMPLAINT.CREATE" by only {
            /// 产生新投诉.
            Only => ComplaintCreate(Complaint),
        }
        "COMPLAINT.STATE_CHANGE" by only {
            /// 投诉状态变化.
            Only => ComplaintStateChange(Complaint),
        }
        "COUPON.SEND" by only {
            /// 商家券领券事件.
            Only => CouponSend(BusinessCoupon),
        }
        "COUPON.USE" by coupon_use {
            /// 代金券核销事件.
            Cash => CouponUse(CashCoupon),
            /// 商家券核销事件 (a `coupon_code`, no `coupon_id`).
            Business => BusinessCouponUse(BusinessCoupon),
        }
        "ENTRUST.SIGN" by partner_or_direct {
            /// 委托代扣签约成功, direct form.
            Direct => EntrustSign(Contract),
            /// 委托代扣签约成功, partner form.
            Partner => PartnerEntrustSign(Contract<Partner>),
        }
        "ENTRUST.TERMINATE" by partner_or_direct {
            /// 委托代扣解约成功, direct form.
            Direct => EntrustTerminate(Contract),
            /// 委托代扣解约成功, partner form.
            Partner => PartnerEntrustTerminate(Contract<Partner>),
        }
        "PAPAY.SIGN" by only {
            /// 跨境/全球委托代扣签约成功.
            Only => PapaySign(PapayContract),
        }
        "PAPAY.TERMINATE" by only {
            /// 跨境/全球委托代扣成功解约.
            Only => PapayTerminate(PapayContract),
        }
    }
}

impl Event {
    /// Parses the decrypted resource (`plaintext`) of a notification of `event_type`, whose
    /// `resource.original_type` is `original_type` (pass `""` when unknown).
    ///
    /// Pure: no I/O, no clock. See the [module docs](self) for how a shape is chosen.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when `plaintext` is not JSON, or when
    /// the event type is typed here and the resource does not fit its type; the message names
    /// the event type, the type and the serde error.
    pub fn parse(event_type: &str, original_type: &str, plaintext: &[u8]) -> Result<Event> {
        let resource: Value = serde_json::from_slice(plaintext).map_err(|e| {
            Error::decode(format!(
                "the decrypted resource of a `{event_type}` notification is not JSON: {e}"
            ))
            .with_source(e)
        })?;
        Event::typed(event_type, original_type, resource)
    }

    /// Whether this event has a type here (anything but [`Event::Other`]).
    pub fn is_typed(&self) -> bool {
        !matches!(self, Event::Other { .. })
    }
}

/// Which of the shapes of one event type a resource has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The one shape of its event type.
    Only,
    /// The direct (普通商户) form.
    Direct,
    /// The partner (服务商) form: an `sp_mchid`.
    Partner,
    /// A combined payment (合单).
    Combined,
    /// A profit-sharing movement.
    ProfitSharing,
    /// A cash coupon (代金券).
    Cash,
    /// A business coupon (商家券).
    Business,
}

/// Event types with one shape.
fn only(_: &Value, _: &str) -> Shape {
    Shape::Only
}

/// The partner form when the resource has an `sp_mchid`, else the direct form.
fn partner_or_direct(resource: &Value, _: &str) -> Shape {
    if has(resource, "sp_mchid") {
        Shape::Partner
    } else {
        Shape::Direct
    }
}

/// `TRANSACTION.SUCCESS`: a profit-sharing movement (by `original_type`, or without one a
/// `receiver` and no `out_trade_no`), a combined payment (a `combine_out_trade_no` and no
/// `out_trade_no`), else a payment in the partner or the direct form.
fn transaction_success(resource: &Value, original_type: &str) -> Shape {
    if original_type == "profitsharing"
        || (original_type.is_empty() && has(resource, "receiver") && !has(resource, "out_trade_no"))
    {
        Shape::ProfitSharing
    } else if has(resource, "combine_out_trade_no") && !has(resource, "out_trade_no") {
        Shape::Combined
    } else {
        partner_or_direct(resource, original_type)
    }
}

/// `COUPON.USE`: a business coupon (a `coupon_code` and no `coupon_id`), else a cash coupon.
fn coupon_use(resource: &Value, _: &str) -> Shape {
    if has(resource, "coupon_code") && !has(resource, "coupon_id") {
        Shape::Business
    } else {
        Shape::Cash
    }
}

/// Whether `resource` has `key`, not `null`.
fn has(resource: &Value, key: &str) -> bool {
    resource.get(key).is_some_and(|value| !value.is_null())
}

/// Deserialises `resource` as `T`, or a `Decode` error naming the event, the variant chosen
/// and the type.
fn typed<T: DeserializeOwned>(event_type: &str, variant: &str, resource: Value) -> Result<Box<T>> {
    serde_json::from_value(resource).map(Box::new).map_err(|e| {
        Error::decode(format!(
            "the decrypted resource of a `{event_type}` notification does not fit `{}` \
             (`Event::{variant}`): {e}",
            short_type_name::<T>()
        ))
        .with_source(e)
    })
}

/// `wechatpay::events::refund::Refund<wechatpay::events::common::Partner>` → `Refund<Partner>`
/// (a default type parameter, `Direct`, is not printed).
fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear();
        } else if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out
}
