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
pub use dedupe::{
    Claim, DEFAULT_CAPACITY, DEFAULT_LEASE, DEFAULT_WINDOW, Deduplicate, MemoryDedupe,
};
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
        $($(#[doc = $doc:literal])* $variant:ident($ty:ty) = $event_type:literal,)*
    }) => {
        $(#[$meta])*
        pub enum Event {
            $($(#[doc = $doc])* $variant(Box<$ty>),)*
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
                    $(Self::$variant(_) => $event_type,)*
                    Self::Other { event_type, .. } => event_type,
                }
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
        /// `TRANSACTION.SUCCESS` 支付成功, direct form (普通商户).
        TransactionSuccess(Transaction) = "TRANSACTION.SUCCESS",
        /// `TRANSACTION.SUCCESS` 支付成功, partner form (服务商 / 电商收付通).
        PartnerTransactionSuccess(Transaction<Partner>) = "TRANSACTION.SUCCESS",
        /// `TRANSACTION.SUCCESS` 合单支付成功: a combined payment.
        CombinedTransactionSuccess(CombinedTransaction) = "TRANSACTION.SUCCESS",
        /// `TRANSACTION.SUCCESS` with `original_type` `profitsharing`: a profit-sharing
        /// movement (分账动账) sent under the payment event type, as some documentation shows;
        /// whether it is a share or a return is not said (query the order to know).
        ProfitSharingTransactionSuccess(ProfitSharing) = "TRANSACTION.SUCCESS",
        /// `TRANSACTION.FAIL` 扣费失败 (e.g. parking, 委托代扣), direct form.
        TransactionFail(Transaction) = "TRANSACTION.FAIL",
        /// `TRANSACTION.FAIL` 扣费失败, partner form.
        PartnerTransactionFail(Transaction<Partner>) = "TRANSACTION.FAIL",
        /// `REFUND.SUCCESS` 退款成功, direct form.
        RefundSuccess(Refund) = "REFUND.SUCCESS",
        /// `REFUND.SUCCESS` 退款成功, partner form.
        PartnerRefundSuccess(Refund<Partner>) = "REFUND.SUCCESS",
        /// `REFUND.ABNORMAL` 退款异常 (e.g. the user's card was closed), direct form.
        RefundAbnormal(Refund) = "REFUND.ABNORMAL",
        /// `REFUND.ABNORMAL` 退款异常, partner form.
        PartnerRefundAbnormal(Refund<Partner>) = "REFUND.ABNORMAL",
        /// `REFUND.CLOSED` 退款关闭, direct form.
        RefundClosed(Refund) = "REFUND.CLOSED",
        /// `REFUND.CLOSED` 退款关闭, partner form.
        PartnerRefundClosed(Refund<Partner>) = "REFUND.CLOSED",
        /// `PROFITSHARING.SUCCESS` 分账动账成功 (to a receiver).
        ProfitSharingSuccess(ProfitSharing) = "PROFITSHARING.SUCCESS",
        /// `PROFITSHARING.RETURN` 分账动账回退 (to a receiver).
        ProfitSharingReturn(ProfitSharing) = "PROFITSHARING.RETURN",
        /// `PAYSCORE.USER_CONFIRM` 支付分服务用户确认成功.
        PayScoreUserConfirm(ServiceOrder) = "PAYSCORE.USER_CONFIRM",
        /// `PAYSCORE.USER_PAID` 支付分服务用户支付成功.
        PayScoreUserPaid(ServiceOrder) = "PAYSCORE.USER_PAID",
        /// `PAYSCORE.USER_OPEN_SERVICE` 支付分服务用户授权成功.
        PayScoreUserOpenService(PayScoreAuthorization) = "PAYSCORE.USER_OPEN_SERVICE",
        /// `PAYSCORE.USER_CLOSE_SERVICE` 支付分服务用户解除授权成功.
        PayScoreUserCloseService(PayScoreAuthorization) = "PAYSCORE.USER_CLOSE_SERVICE",
        /// `PAYSCORE.USER_SIGN_PLAN` 支付分签约计划签约成功.
        PayScoreUserSignPlan(SignPlan) = "PAYSCORE.USER_SIGN_PLAN",
        /// `PAYSCORE.USER_CANCEL_SIGN_PLAN` 支付分签约计划取消签约.
        PayScoreUserCancelSignPlan(SignPlan) = "PAYSCORE.USER_CANCEL_SIGN_PLAN",
        /// `MCHTRANSFER.BILL.FINISHED` 商家转账单据终态.
        TransferBillFinished(TransferBill) = "MCHTRANSFER.BILL.FINISHED",
        /// `MCHTRANSFER.QQWALLETBILL.FINISHED` 转账到QQ钱包单据终态.
        TransferQqWalletBillFinished(TransferBill) = "MCHTRANSFER.QQWALLETBILL.FINISHED",
        /// `MCHTRANSFER.BATCH.FINISHED` 商家转账批次完成.
        TransferBatchFinished(TransferBatch) = "MCHTRANSFER.BATCH.FINISHED",
        /// `MCHTRANSFER.BATCH.CLOSED` 商家转账批次关闭.
        TransferBatchClosed(TransferBatch) = "MCHTRANSFER.BATCH.CLOSED",
        /// `MCHTRANSFER.AUTHORIZATION.CONFIRMED` 用户确认自动收款授权.
        TransferAuthorizationConfirmed(TransferAuthorization) = "MCHTRANSFER.AUTHORIZATION.CONFIRMED",
        /// `MCHTRANSFER.AUTHORIZATION.CLOSED` 用户关闭自动收款授权.
        TransferAuthorizationClosed(TransferAuthorization) = "MCHTRANSFER.AUTHORIZATION.CLOSED",
        /// `COMPLAINT.CREATE` 产生新投诉.
        ComplaintCreate(Complaint) = "COMPLAINT.CREATE",
        /// `COMPLAINT.STATE_CHANGE` 投诉状态变化.
        ComplaintStateChange(Complaint) = "COMPLAINT.STATE_CHANGE",
        /// `COUPON.SEND` 商家券领券事件.
        CouponSend(BusinessCoupon) = "COUPON.SEND",
        /// `COUPON.USE` 代金券核销事件.
        CouponUse(CashCoupon) = "COUPON.USE",
        /// `COUPON.USE` 商家券核销事件 (a `coupon_code`, no `coupon_id`).
        BusinessCouponUse(BusinessCoupon) = "COUPON.USE",
        /// `ENTRUST.SIGN` 委托代扣签约成功, direct form.
        EntrustSign(Contract) = "ENTRUST.SIGN",
        /// `ENTRUST.SIGN` 委托代扣签约成功, partner form.
        PartnerEntrustSign(Contract<Partner>) = "ENTRUST.SIGN",
        /// `ENTRUST.TERMINATE` 委托代扣解约成功, direct form.
        EntrustTerminate(Contract) = "ENTRUST.TERMINATE",
        /// `ENTRUST.TERMINATE` 委托代扣解约成功, partner form.
        PartnerEntrustTerminate(Contract<Partner>) = "ENTRUST.TERMINATE",
        /// `PAPAY.SIGN` 跨境/全球委托代扣签约成功.
        PapaySign(PapayContract) = "PAPAY.SIGN",
        /// `PAPAY.TERMINATE` 跨境/全球委托代扣成功解约.
        PapayTerminate(PapayContract) = "PAPAY.TERMINATE",
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
        let partner = has(&resource, "sp_mchid");
        macro_rules! typed {
            ($variant:ident) => {
                Event::$variant(typed(event_type, stringify!($variant), resource)?)
            };
            ($partner:ident or $direct:ident) => {
                if partner {
                    typed!($partner)
                } else {
                    typed!($direct)
                }
            };
        }
        Ok(match event_type {
            "TRANSACTION.SUCCESS" => {
                if original_type == "profitsharing"
                    || (original_type.is_empty()
                        && has(&resource, "receiver")
                        && !has(&resource, "out_trade_no"))
                {
                    typed!(ProfitSharingTransactionSuccess)
                } else if has(&resource, "combine_out_trade_no") && !has(&resource, "out_trade_no")
                {
                    typed!(CombinedTransactionSuccess)
                } else {
                    typed!(PartnerTransactionSuccess or TransactionSuccess)
                }
            }
            "TRANSACTION.FAIL" => typed!(PartnerTransactionFail or TransactionFail),
            "REFUND.SUCCESS" => typed!(PartnerRefundSuccess or RefundSuccess),
            "REFUND.ABNORMAL" => typed!(PartnerRefundAbnormal or RefundAbnormal),
            "REFUND.CLOSED" => typed!(PartnerRefundClosed or RefundClosed),
            "PROFITSHARING.SUCCESS" => typed!(ProfitSharingSuccess),
            "PROFITSHARING.RETURN" => typed!(ProfitSharingReturn),
            "PAYSCORE.USER_CONFIRM" => typed!(PayScoreUserConfirm),
            "PAYSCORE.USER_PAID" => typed!(PayScoreUserPaid),
            "PAYSCORE.USER_OPEN_SERVICE" => typed!(PayScoreUserOpenService),
            "PAYSCORE.USER_CLOSE_SERVICE" => typed!(PayScoreUserCloseService),
            "PAYSCORE.USER_SIGN_PLAN" => typed!(PayScoreUserSignPlan),
            "PAYSCORE.USER_CANCEL_SIGN_PLAN" => typed!(PayScoreUserCancelSignPlan),
            "MCHTRANSFER.BILL.FINISHED" => typed!(TransferBillFinished),
            "MCHTRANSFER.QQWALLETBILL.FINISHED" => typed!(TransferQqWalletBillFinished),
            "MCHTRANSFER.BATCH.FINISHED" => typed!(TransferBatchFinished),
            "MCHTRANSFER.BATCH.CLOSED" => typed!(TransferBatchClosed),
            "MCHTRANSFER.AUTHORIZATION.CONFIRMED" => typed!(TransferAuthorizationConfirmed),
            "MCHTRANSFER.AUTHORIZATION.CLOSED" => typed!(TransferAuthorizationClosed),
            "COMPLAINT.CREATE" => typed!(ComplaintCreate),
            "COMPLAINT.STATE_CHANGE" => typed!(ComplaintStateChange),
            "COUPON.SEND" => typed!(CouponSend),
            "COUPON.USE" => {
                if has(&resource, "coupon_code") && !has(&resource, "coupon_id") {
                    typed!(BusinessCouponUse)
                } else {
                    typed!(CouponUse)
                }
            }
            "ENTRUST.SIGN" => typed!(PartnerEntrustSign or EntrustSign),
            "ENTRUST.TERMINATE" => typed!(PartnerEntrustTerminate or EntrustTerminate),
            "PAPAY.SIGN" => typed!(PapaySign),
            "PAPAY.TERMINATE" => typed!(PapayTerminate),
            _ => Event::Other {
                event_type: event_type.to_owned(),
                resource,
            },
        })
    }

    /// Whether this event has a type here (anything but [`Event::Other`]).
    pub fn is_typed(&self) -> bool {
        !matches!(self, Event::Other { .. })
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
