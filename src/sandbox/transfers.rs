//! Merchant transfers (商家转账): `POST v3/fund-app/mch-transfer/transfer-bills` (and the
//! partner form), the queries by `out_bill_no` and `transfer_bill_no`, and `cancel`.
//! `WAIT_USER_CONFIRM → SUCCESS | FAIL` when the recipient acts (the control API), or
//! `CANCELLED` when the merchant cancels; each end is notified by
//! `MCHTRANSFER.BILL.FINISHED`.

use serde_json::{Value, json};

use super::call::{Call, Refusal, error, ok};
use super::clock::rfc3339;
use super::core::Core;
use super::entities::TransferBill;
use super::{notices, shapes, summary};
use crate::mock::Reply;
use crate::toolkit;

/// `POST v3/fund-app/mch-transfer/transfer-bills` (and the partner form).
pub(crate) fn create(core: &Core, call: &Call, partner: bool) -> Reply {
    match try_create(core, call, partner) {
        Ok(reply) => reply,
        Err(refused) => refused.reply(),
    }
}

fn try_create(core: &Core, call: &Call, partner: bool) -> Result<Reply, Refusal> {
    let out_bill_no = call.required("/out_bill_no")?;
    let appid = call.required("/appid")?;
    let openid = call.required("/openid")?;
    let amount = call.amount("/transfer_amount")?;
    let remark = call.required("/transfer_remark")?;
    let sub_mchid = if partner {
        Some(call.required("/sub_mchid")?.to_owned())
    } else {
        None
    };
    let owner = sub_mchid.clone().unwrap_or_else(|| call.mchid.clone());
    let mut store = core.store();
    if let Some(index) = store.transfers.find(out_bill_no, Some(&owner)) {
        let b = store.transfers.get(index);
        if b.amount == amount && b.openid == openid {
            return Ok(accepted(b));
        }
        return Err(Refusal::new(
            400,
            "INVALID_REQUEST",
            "商户单号重复: out_bill_no was used for another transfer",
        ));
    }
    let now = core.now_ms();
    let bill = TransferBill {
        seq: core.bump(),
        partner,
        mchid: call.mchid.clone(),
        sub_mchid,
        appid: appid.to_owned(),
        out_bill_no: out_bill_no.to_owned(),
        transfer_bill_no: core.id("1330000", 40),
        state: "WAIT_USER_CONFIRM",
        amount,
        remark: remark.to_owned(),
        openid: openid.to_owned(),
        user_name: call.text("/user_name").map(str::to_owned),
        notify_url: call.text("/notify_url").map(str::to_owned),
        fail_reason: None,
        package_info: format!(
            "ABBQO+oYAAABAAAAAAB{}",
            toolkit::nonce(24).unwrap_or_default()
        ),
        created_ms: now,
        updated_ms: now,
    };
    let reply = accepted(&bill);
    let id = bill.transfer_bill_no.clone();
    let index = store.transfers.insert(bill);
    store.transfers.index_id(index, &id);
    Ok(reply)
}

fn accepted(b: &TransferBill) -> Reply {
    let mut body = json!({
        "out_bill_no": b.out_bill_no,
        "transfer_bill_no": b.transfer_bill_no,
        "create_time": rfc3339(b.created_ms),
        "state": b.state,
    });
    if b.state == "WAIT_USER_CONFIRM" {
        body["package_info"] = json!(b.package_info);
    }
    ok(body)
}

fn not_found(number: &str) -> Reply {
    error(
        404,
        "NOT_FOUND",
        &format!("记录不存在: no transfer bill `{number}` of this merchant"),
    )
}

/// `GET …/transfer-bills/out-bill-no/{out_bill_no}` or `…/transfer-bill-no/{id}`
/// (`?sub_mchid=` for a partner).
pub(crate) fn query(core: &Core, call: &Call, number: Option<&str>, id: Option<&str>) -> Reply {
    let owner = call.query("sub_mchid").unwrap_or(&call.mchid);
    let store = core.store();
    let index = match (number, id) {
        (Some(number), _) => store.transfers.find(number, Some(owner)),
        (None, Some(id)) => store.transfers.find_id(id),
        (None, None) => None,
    }
    .filter(|index| store.transfers.get(*index).mchid == call.mchid);
    match index {
        Some(index) => ok(shapes::transfer_bill(store.transfers.get(index))),
        None => not_found(number.or(id).unwrap_or_default()),
    }
}

/// `POST …/transfer-bills/out-bill-no/{out_bill_no}/cancel`: a bill waiting for its
/// recipient is cancelled.
pub(crate) fn cancel(core: &Core, call: &Call, number: &str) -> Reply {
    let owner = call.text("/sub_mchid").unwrap_or(&call.mchid).to_owned();
    let mut store = core.store();
    let Some(index) = store
        .transfers
        .find(number, Some(&owner))
        .filter(|index| store.transfers.get(*index).mchid == call.mchid)
    else {
        return not_found(number);
    };
    if store.transfers.get(index).state != "WAIT_USER_CONFIRM" {
        return error(
            400,
            "INVALID_REQUEST",
            &format!(
                "当前单据状态不支持撤销: the bill is {}; only one waiting for its recipient is cancelled",
                store.transfers.get(index).state
            ),
        );
    }
    let (notice, body) = finish(core, store.transfers.get_mut(index), "CANCELLED", None);
    drop(store);
    if let Some(notice) = notice {
        core.notify(notice);
    }
    ok(body)
}

/// Moves a bill to its end `state`; returns its notification and the cancel answer.
fn finish(
    core: &Core,
    b: &mut TransferBill,
    state: &'static str,
    fail_reason: Option<&str>,
) -> (Option<super::deliveries::Notice>, Value) {
    b.state = state;
    b.fail_reason = fail_reason.map(str::to_owned);
    b.updated_ms = core.now_ms();
    b.seq = core.bump();
    let body = json!({
        "out_bill_no": b.out_bill_no,
        "transfer_bill_no": b.transfer_bill_no,
        "state": b.state,
        "update_time": rfc3339(b.updated_ms),
    });
    (notices::transfer_finished(b), body)
}

/// The recipient acts on a bill waiting for them: `SUCCESS` (accepts) or `FAIL` (refuses).
/// Returns it as the control API shows it.
pub(crate) fn confirm(
    core: &Core,
    number: &str,
    merchant: Option<&str>,
    result: &str,
) -> Result<Value, Refusal> {
    let (state, reason) = match result {
        "SUCCESS" => ("SUCCESS", None),
        "FAIL" => ("FAIL", Some("USER_REJECTED")),
        _ => {
            return Err(Refusal::new(
                400,
                "PARAM_ERROR",
                format!("result `{result}` is neither SUCCESS nor FAIL"),
            ));
        }
    };
    let mut store = core.store();
    if merchant.is_none() && store.transfers.count(number) > 1 {
        return Err(Refusal::new(
            409,
            "AMBIGUOUS",
            format!("several merchants have a transfer bill `{number}`: add ?mchid="),
        ));
    }
    let index = store.transfers.find(number, merchant).ok_or_else(|| {
        Refusal::new(
            404,
            "NOT_FOUND",
            format!("no transfer bill with out_bill_no `{number}`"),
        )
    })?;
    let b = store.transfers.get_mut(index);
    if b.state != "WAIT_USER_CONFIRM" {
        return Err(Refusal::new(
            409,
            "INVALID_STATE",
            format!(
                "transfer bill `{number}` is {}: only one waiting for its recipient is confirmed",
                b.state
            ),
        ));
    }
    let (notice, _) = finish(core, b, state, reason);
    let shown = summary::transfer_bill(b);
    drop(store);
    if let Some(notice) = notice {
        core.notify(notice);
    }
    Ok(shown)
}
