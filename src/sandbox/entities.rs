//! What the sandbox keeps: payments, refunds, combined payments, PayScore service orders
//! and transfer bills, each with its state and the request that made it.

use serde_json::Value;

use super::table::Row;

/// A payment order (支付订单), made by an APIv3 order call, an APIv2 `pay/unifiedorder`, or
/// as a sub-order of a combined payment.
pub(crate) struct Transaction {
    pub seq: u64,
    /// Made through APIv2 (notified in XML).
    pub v2: bool,
    /// `JSAPI`, `APP`, `MWEB` (H5) or `NATIVE`.
    pub trade_type: String,
    /// Made through a partner (服务商) call: `mchid` is the `sp_mchid`.
    pub partner: bool,
    pub mchid: String,
    pub sub_mchid: Option<String>,
    pub appid: String,
    pub sub_appid: Option<String>,
    pub out_trade_no: String,
    pub transaction_id: Option<String>,
    pub prepay_id: String,
    /// `NOTPAY`, `SUCCESS`, `REFUND`, `CLOSED` or `PAYERROR`.
    pub state: &'static str,
    pub total: i64,
    pub currency: String,
    /// The amount refunded or being refunded.
    pub refunded: i64,
    pub description: String,
    pub attach: Option<String>,
    pub notify_url: String,
    /// `payer` as given (`openid`, `sp_openid`, `sub_openid`).
    pub payer: Value,
    /// The body of the order call (APIv2: its fields).
    pub request: Value,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub success_ms: Option<u64>,
    pub expire_ms: Option<u64>,
    /// The `combine_out_trade_no` of the combined payment it belongs to.
    pub combine: Option<String>,
}

impl Transaction {
    /// The merchant whose order it is: the sub-merchant of a partner order.
    pub(crate) fn owner(&self) -> &str {
        self.sub_mchid.as_deref().unwrap_or(&self.mchid)
    }

    /// The amount that can still be refunded.
    pub(crate) fn refundable(&self) -> i64 {
        self.total - self.refunded
    }
}

impl Row for Transaction {
    fn number(&self) -> &str {
        &self.out_trade_no
    }
    fn merchant(&self) -> &str {
        self.owner()
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

/// A refund (退款单).
pub(crate) struct Refund {
    pub seq: u64,
    pub v2: bool,
    pub partner: bool,
    pub mchid: String,
    pub sub_mchid: Option<String>,
    pub appid: String,
    pub out_refund_no: String,
    pub refund_id: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    /// `PROCESSING`, `SUCCESS`, `ABNORMAL` or `CLOSED`.
    pub state: &'static str,
    pub refund: i64,
    pub total: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub notify_url: Option<String>,
    pub funds_account: Option<String>,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub success_ms: Option<u64>,
}

impl Row for Refund {
    fn number(&self) -> &str {
        &self.out_refund_no
    }
    fn merchant(&self) -> &str {
        self.sub_mchid.as_deref().unwrap_or(&self.mchid)
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

/// A combined payment (合单支付): one payment of several sub-orders, each a [`Transaction`].
pub(crate) struct Combine {
    pub seq: u64,
    pub combine_appid: String,
    pub combine_mchid: String,
    pub combine_out_trade_no: String,
    pub combine_transaction_id: Option<String>,
    pub prepay_id: String,
    pub trade_type: String,
    /// `NOTPAY`, `SUCCESS`, `CLOSED` or `PAYERROR`.
    pub state: &'static str,
    /// The sub-orders: their merchant and `out_trade_no`.
    pub sub_orders: Vec<(String, String)>,
    pub notify_url: String,
    pub payer: Value,
    pub request: Value,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub success_ms: Option<u64>,
    pub expire_ms: Option<u64>,
}

impl Row for Combine {
    fn number(&self) -> &str {
        &self.combine_out_trade_no
    }
    fn merchant(&self) -> &str {
        &self.combine_mchid
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

/// A PayScore service order (支付分服务订单).
pub(crate) struct ServiceOrder {
    pub seq: u64,
    pub partner: bool,
    pub mchid: String,
    pub sub_mchid: Option<String>,
    pub appid: String,
    pub sub_appid: Option<String>,
    pub service_id: String,
    pub out_order_no: String,
    pub order_id: String,
    /// `CREATED`, `DOING`, `DONE`, `REVOKED` or `EXPIRED`.
    pub state: &'static str,
    /// `USER_CONFIRM` or `MCH_COMPLETE`.
    pub state_description: Option<&'static str>,
    /// `USER_PAYING` or `USER_PAID`, once completed with an amount.
    pub collection: Option<&'static str>,
    pub total_amount: i64,
    pub openid: Option<String>,
    pub notify_url: String,
    /// `send-prepaidmessage` and `send-pendingmessage` were called (once each per order).
    pub prepaid_message_sent: bool,
    pub pending_message_sent: bool,
    pub transaction_id: Option<String>,
    /// The creation call's body, then the completion's fields merged in.
    pub request: Value,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub paid_ms: Option<u64>,
}

impl Row for ServiceOrder {
    fn number(&self) -> &str {
        &self.out_order_no
    }
    fn merchant(&self) -> &str {
        self.sub_mchid.as_deref().unwrap_or(&self.mchid)
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

/// A merchant transfer bill (商家转账单).
pub(crate) struct TransferBill {
    pub seq: u64,
    pub partner: bool,
    pub mchid: String,
    pub sub_mchid: Option<String>,
    pub appid: String,
    pub out_bill_no: String,
    pub transfer_bill_no: String,
    /// `WAIT_USER_CONFIRM`, `SUCCESS`, `FAIL` or `CANCELLED`.
    pub state: &'static str,
    pub amount: i64,
    pub remark: String,
    pub openid: String,
    pub user_name: Option<String>,
    pub notify_url: Option<String>,
    pub fail_reason: Option<String>,
    pub package_info: String,
    pub created_ms: u64,
    pub updated_ms: u64,
}

impl Row for TransferBill {
    fn number(&self) -> &str {
        &self.out_bill_no
    }
    fn merchant(&self) -> &str {
        self.sub_mchid.as_deref().unwrap_or(&self.mchid)
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}
