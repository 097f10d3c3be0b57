//! Complaints (消费者投诉): `COMPLAINT.CREATE` and `COMPLAINT.STATE_CHANGE`.

use serde::Deserialize;
use serde_json::{Map, Value};

/// A complaint notice (投诉通知): `COMPLAINT.CREATE` (产生新投诉) or `COMPLAINT.STATE_CHANGE`
/// (投诉状态变化). It names the complaint only: fetch the details with
/// `GET /v3/merchant-service/complaints-v2/{complaint_id}`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Complaint {
    /// 投诉单号 (`complaint_id`).
    pub complaint_id: String,
    /// 动作类型 (`action_type`): `CREATE_COMPLAINT`, `CONTINUE_COMPLAINT`, `USER_RESPONSE`,
    /// `RESPONSE_BY_PLATFORM`, `SELLER_REFUND`, `MERCHANT_RESPONSE`, `MERCHANT_CONFIRM_COMPLETE`,
    /// … (kept as sent).
    pub action_type: String,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
