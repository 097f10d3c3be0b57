//! Deduction contracts (委托代扣 / 代扣签约): `ENTRUST.SIGN` and `ENTRUST.TERMINATE` (direct
//! and partner), and the cross-border `PAPAY.SIGN` and `PAPAY.TERMINATE`.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{Direct, lenient};

/// A deduction contract (委托代扣协议): `ENTRUST.SIGN` (签约成功) or `ENTRUST.TERMINATE`
/// (解约成功), in the direct form ([`Direct`], the default) or the partner form
/// ([`Partner`](super::Partner)).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Contract<M = Direct> {
    /// Who holds the contract: `mchid`/`appid`, or `sp_mchid`/`sub_mchid`/`sp_appid`/`sub_appid`.
    #[serde(flatten)]
    pub merchant: M,
    /// 委托代扣协议ID (`contract_id`).
    pub contract_id: String,
    /// 协议模板ID (`plan_id`).
    #[serde(deserialize_with = "lenient::int")]
    pub plan_id: i64,
    /// 商户签约协议号 (`out_contract_code`).
    pub out_contract_code: String,
    /// 签约用户的展示名称 (`contract_display_account`).
    pub contract_display_account: Option<String>,
    /// 协议状态 (`contract_state`): `SIGNED`, `TERMINATED`, `SIGN_FAILED`, `TO_BE_RENEWED`,
    /// `TERMINATE_PENDING` (kept as sent).
    pub contract_state: String,
    /// 协议签署时间 (`contract_signed_time`), RFC 3339.
    pub contract_signed_time: Option<String>,
    /// 协议到期时间 (`contract_expired_time`), RFC 3339.
    pub contract_expired_time: Option<String>,
    /// 用户标识 (`openid`) under `appid`, direct form.
    pub openid: Option<String>,
    /// 用户标识 (`sp_openid`) under `sp_appid`, partner form.
    pub sp_openid: Option<String>,
    /// 用户子标识 (`sub_openid`) under `sub_appid`, partner form.
    pub sub_openid: Option<String>,
    /// 解约信息 (`contract_terminate_info`), once terminated.
    pub contract_terminate_info: Option<ContractTermination>,
    /// 预约扣费信息 (`deduct_schedule`), for scheduled-deduction templates.
    pub deduct_schedule: Option<DeductSchedule>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 解约信息 (`contract_terminate_info`) of a [`Contract`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ContractTermination {
    /// 解约方式 (`contract_termination_mode`): `USER_TERMINATE`, `MCH_API_TERMINATE`, …
    pub contract_termination_mode: String,
    /// 解约时间 (`contract_terminated_time`), RFC 3339.
    pub contract_terminated_time: Option<String>,
    /// 解约备注 (`contract_termination_remark`).
    pub contract_termination_remark: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// 预约扣费信息 (`deduct_schedule`) of a [`Contract`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct DeductSchedule {
    /// 预计扣费日期 (`estimated_deduct_date`).
    pub estimated_deduct_date: Option<String>,
    /// 预计扣费金额 (`estimated_deduct_amount`).
    pub estimated_deduct_amount: Option<ContractAmount>,
    /// 扣费预约状态 (`schedule_state`): `NO_SCHEDULED`, `SCHEDULED`, `PAID`, `EXPIRED`.
    pub schedule_state: String,
    /// 已预约的扣费金额 (`scheduled_amount`).
    pub scheduled_amount: Option<ContractAmount>,
    /// 实际扣费金额 (`deduct_amount`).
    pub deduct_amount: Option<ContractAmount>,
    /// 实际扣费日期 (`deduct_date`).
    pub deduct_date: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An amount of a [`DeductSchedule`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ContractAmount {
    /// 金额 (`amount`), in fen.
    #[serde(deserialize_with = "lenient::int")]
    pub amount: i64,
    /// 币种 (`currency`), e.g. `CNY`.
    pub currency: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A cross-border deduction contract (跨境/全球委托代扣协议): `PAPAY.SIGN` (签约成功) or
/// `PAPAY.TERMINATE` (成功解约).
///
/// Every field is documented as optional, so every field is an `Option`; a direct merchant
/// gets `mchid`/`appid`/`openid`, a partner `sp_*` and `sub_*`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct PapayContract {
    /// 商户号 (`mchid`), direct form.
    pub mchid: Option<String>,
    /// 应用ID (`appid`), direct form.
    pub appid: Option<String>,
    /// 用户标识 (`openid`), direct form.
    pub openid: Option<String>,
    /// 服务商商户号 (`sp_mchid`), partner form.
    pub sp_mchid: Option<String>,
    /// 服务商应用ID (`sp_appid`), partner form.
    pub sp_appid: Option<String>,
    /// 子商户号 (`sub_mchid`), partner form.
    pub sub_mchid: Option<String>,
    /// 子商户应用ID (`sub_appid`), partner form.
    pub sub_appid: Option<String>,
    /// 用户标识 (`sp_openid`) under `sp_appid`, partner form.
    pub sp_openid: Option<String>,
    /// 用户子标识 (`sub_openid`) under `sub_appid`, partner form.
    pub sub_openid: Option<String>,
    /// 委托代扣协议ID (`contract_id`).
    pub contract_id: Option<String>,
    /// 商户签约协议号 (`out_contract_code`).
    pub out_contract_code: Option<String>,
    /// 协议模板ID (`plan_id`).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub plan_id: Option<i64>,
    /// 解约方式 (`contract_termination_mode`): `USER`, `MERCHANT`, `PLATFORM`.
    pub contract_termination_mode: Option<String>,
    /// 操作时间 (`operate_time`), RFC 3339.
    pub operate_time: Option<String>,
    /// 协议到期时间 (`contract_expired_time`), RFC 3339.
    pub contract_expired_time: Option<String>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
