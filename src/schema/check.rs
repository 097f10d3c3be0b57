//! A request against its operation's documented fields: required fields present, values of
//! the documented type and among the documented values.
//!
//! Where the request's fields are:
//!
//! - APIv3 JSON body: the docs' `json.…` fields, nested (a required field inside an optional
//!   object or array only when its parent is there; each item of an array on its own);
//! - the query: `query.…` (APIv2 GETs carry their fields there too);
//! - APIv2 XML body: the top-level `xml.…` fields (what the docs nest below one is JSON inside
//!   that field's text, not opened here);
//! - path variables: the field named after the template's variable.
//!
//! Text (query, XML, path) is read as WeChat Pay's gateway reads it: an integer field takes a
//! decimal integer, a boolean `true` / `false` in any case or `1` / `0` (PHP's
//! `http_build_query` writes `true` as `1`, and the docs' examples do).
//!
//! The docs' tables are written by hand; two rules keep a documented call made as the docs
//! show it valid (the conformance corpus, `src/schema/tests/corpus.rs`):
//!
//! - values listed for a number are its decimal texts (`finish_type`: `1` | `2`): the number
//!   `1` is one of them;
//! - an optional field holding its type's zero value (`0`, `""`) is not checked against its
//!   documented values: the docs' examples write it for "not set" (`"finish_type": 0`);
//!
//! and [`DISPUTED`] lists the few fields whose documented values the same page's example
//! contradicts: their values are not checked. Two more lists cover what the tables cannot say:
//! [`ALTERNATIVES`] (APIv2 tables mark both of WeChat Pay's "二选一" order numbers required) and
//! [`OPTIONAL`] (a field a page marks required for one kind of merchant only).

use http::Method;
use serde_json::{Map, Value};

use super::data::{Field, Operation};
use super::message::{Carrier, Rule, Violation};
use super::route::Route;
use crate::endpoints::matching::is_variable;
use crate::uri::{percent_decode_bytes, query_pairs};

/// Sibling fields of which WeChat Pay takes any one (its "二选一"), which the APIv2 tables mark
/// each required: where every field of a group is a required field of the same request, one
/// missing is fine while another of the group is there. The largest group that applies wins
/// (a refund query names any one of four numbers).
const ALTERNATIVES: &[&[&str]] = &[
    &[
        "refund_id",
        "out_refund_no",
        "transaction_id",
        "out_trade_no",
    ],
    &["transaction_id", "out_trade_no"],
];

/// Fields a page marks required that a request may leave out (method, template, field, why).
const OPTIONAL: &[(&str, &str, &str, &str)] = &[
    (
        "POST",
        "v3/combine-transactions/jsapi",
        "json.sub_orders[].sub_mchid",
        "an e-commerce platform's second-level merchant: a direct merchant's sub-orders have none",
    ),
    (
        "POST",
        "v3/combine-transactions/h5",
        "json.sub_orders[].sub_mchid",
        "an e-commerce platform's second-level merchant: a direct merchant's sub-orders have none",
    ),
    (
        "POST",
        "v3/combine-transactions/native",
        "json.sub_orders[].sub_mchid",
        "an e-commerce platform's second-level merchant: a direct merchant's sub-orders have none",
    ),
];

/// Whether `field`, missing from an APIv2 request, is one of an [`ALTERNATIVES`] group whose
/// other members (all documented required among `fields`) include one that `present` finds.
fn covered_by_alternative(fields: &[Field], field: &Field, present: impl Fn(&str) -> bool) -> bool {
    let required = |name: &str| fields.iter().any(|f| f.required && f.name == name);
    ALTERNATIVES
        .iter()
        .find(|group| group.contains(&field.name) && group.iter().all(|name| required(name)))
        .is_some_and(|group| {
            group
                .iter()
                .any(|name| *name != field.name && present(name))
        })
}

/// Fields whose documented values the page's own example contradicts (method, template,
/// field, how): the check does not hold a request to either.
const DISPUTED: &[(&str, &str, &str, &str)] = &[
    (
        "GET",
        "v3/global/merchant-service/complaints",
        "query.mch_language",
        "the table lists ZH_CN, the example sends zh_CN",
    ),
    (
        "POST",
        "v2/cgi-bin/mch/customs/customdeclareorder",
        "xml.customs",
        "the table lists SHANGHAI_ZS, the example sends SHANGHAI (the older customs code)",
    ),
    (
        "POST",
        "v2/cgi-bin/mch/newcustoms/customdeclareredeclare",
        "xml.customs",
        "the table lists SHANGHAI_ZS, the example sends SHANGHAI (the older customs code)",
    ),
    (
        "POST",
        "v3/new-tax-control-fapiao/fapiao-applications/{fapiao_apply_id}/reverse",
        "json.reverse_reason",
        "the table lists codes (SALES_RETURN …), the example sends the words 退款",
    ),
];

/// The operation `method` on `path` that `query` and `body` keep the rules of; else the
/// first documented rule they break (of the first operation that fits, where two do), or
/// `None` when no operation is documented for `method` on `path`.
pub(super) fn find(
    method: &Method,
    path: &str,
    query: &str,
    body: &[u8],
) -> Option<Result<&'static Operation, (&'static Operation, Box<Violation>)>> {
    let route = Route::new(path);
    let mut first = None;
    for op in route.operations(method.as_str()) {
        match request(op, &route, query, body) {
            Ok(()) => return Some(Ok(op)),
            Err(violation) => {
                first.get_or_insert((op, violation));
            }
        }
    }
    first.map(Err)
}

/// The first rule of `op` that the request breaks.
fn request(
    op: &'static Operation,
    route: &Route,
    query: &str,
    body: &[u8],
) -> Result<(), Box<Violation>> {
    let check = Check { op };
    for (template, value) in op.wire().split('/').zip(&route.segments) {
        if !is_variable(template) {
            continue;
        }
        let name = &template[1..template.len() - 1];
        if let Some(field) = op.variables.iter().find(|f| f.name == name) {
            let value = String::from_utf8_lossy(&percent_decode_bytes(value, false)).into_owned();
            check.text(field, Some(&value), Carrier::Path)?;
        }
    }
    if !op.query.is_empty() {
        let pairs: Vec<(String, String)> = query_pairs(&format!("?{query}"), false)
            .map(|(k, v)| {
                let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
                (text(k), text(v))
            })
            .collect();
        for field in &op.query {
            let value = pairs
                .iter()
                .find(|(k, _)| k == field.name)
                .map(|(_, v)| v.as_str());
            check.text(field, value, Carrier::Query)?;
        }
    }
    if op.upload {
        // A multipart upload: its `meta` part is not the documented JSON's place.
        return Ok(());
    }
    if op.is_v2() {
        if !op.xml.is_empty() {
            let fields = crate::xml::parse(body)
                .map_err(|e| check.violation(Rule::Xml(e.to_string()), "", None))?;
            for field in &op.xml {
                let value = fields.get_str(field.name);
                if value.is_none()
                    && covered_by_alternative(&op.xml, field, |name| fields.get_str(name).is_some())
                {
                    continue;
                }
                check.text(field, value, Carrier::Xml)?;
            }
        }
        return Ok(());
    }
    if let Some(fields) = &op.json {
        let empty = Map::new();
        let value: Value;
        let object = if body.iter().all(u8::is_ascii_whitespace) {
            if !op.json_required {
                return Ok(());
            }
            // No body where one is required: its required fields are missing.
            &empty
        } else {
            value = serde_json::from_slice(body)
                .map_err(|e| check.violation(Rule::Json(e.to_string()), "", None))?;
            match &value {
                Value::Object(object) => object,
                _ => return Err(check.violation(Rule::Type("object"), "/body", None)),
            }
        };
        check.object(fields, object, &mut Path::default())?;
    }
    Ok(())
}

/// Where a field is: its steps from the body's root (keys and array indices).
#[derive(Default)]
struct Path {
    steps: Vec<Step>,
}

#[derive(Clone)]
enum Step {
    Key(&'static str),
    Index(usize),
}

impl Path {
    /// WeChat Pay's JSON pointer into the body: `/payer/openid`, `/receivers/0/account`.
    fn pointer(&self) -> String {
        let mut out = String::new();
        for step in &self.steps {
            out.push('/');
            match step {
                Step::Key(key) => out.push_str(key),
                Step::Index(index) => out.push_str(&index.to_string()),
            }
        }
        out
    }

    /// The docs' dotted path below `json`: `payer.openid`, `receivers[].account`.
    fn documented(&self) -> String {
        let mut out = String::new();
        for step in &self.steps {
            match step {
                Step::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Step::Index(_) => out.push_str("[]"),
            }
        }
        out
    }
}

struct Check {
    op: &'static Operation,
}

impl Check {
    fn violation(
        &self,
        rule: Rule,
        pointer: &str,
        field: Option<(&Field, String)>,
    ) -> Box<Violation> {
        Box::new(Violation {
            method: self.op.method,
            template: self.op.template,
            rule,
            pointer: pointer.to_owned(),
            label: field.as_ref().map_or("请求体", |(f, _)| f.label()),
            documented: field.map_or_else(|| "json".to_owned(), |(_, path)| path),
        })
    }

    /// The fields of a JSON object.
    fn object(
        &self,
        fields: &'static [Field],
        object: &Map<String, Value>,
        path: &mut Path,
    ) -> Result<(), Box<Violation>> {
        for field in fields {
            path.steps.push(Step::Key(field.name));
            self.value(field, object.get(field.name), path)?;
            path.steps.pop();
        }
        Ok(())
    }

    /// One JSON field (`null` is absent).
    fn value(
        &self,
        field: &'static Field,
        value: Option<&Value>,
        path: &mut Path,
    ) -> Result<(), Box<Violation>> {
        let fail = |rule: Rule, path: &Path| {
            let documented = format!("json.{}", path.documented());
            Err(self.violation(
                rule,
                &format!("/body{}", path.pointer()),
                Some((field, documented)),
            ))
        };
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return if field.required && !self.optional(&path.documented()) {
                fail(Rule::Missing, path)
            } else {
                Ok(())
            };
        };
        if !json_type(field.ty, value) {
            return fail(Rule::Type(field.ty), path);
        }
        if !self.json_values(field, value) {
            return fail(Rule::Values(&field.values), path);
        }
        match value {
            Value::Object(object) => self.object(&field.children, object, path),
            Value::Array(items) if !field.children.is_empty() => {
                for (index, item) in items.iter().enumerate() {
                    path.steps.push(Step::Index(index));
                    if let Value::Object(object) = item {
                        self.object(&field.children, object, path)?;
                    }
                    path.steps.pop();
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Whether a JSON value is among the field's documented values (or none are listed).
    fn json_values(&self, field: &Field, value: &Value) -> bool {
        if field.values.is_empty() || self.disputed(field, "json") {
            return true;
        }
        let one = |value: &Value| match value {
            Value::String(text) => field.values.contains(&text.as_str()),
            // Values listed for a number are its decimal texts.
            Value::Number(number) => field.values.contains(&number.to_string().as_str()),
            Value::Bool(b) => field.values.contains(&if *b { "true" } else { "false" }),
            _ => true,
        };
        match value {
            Value::Array(items) => items.iter().all(one),
            _ if !field.required && is_zero(value) => true,
            _ => one(value),
        }
    }

    /// One field carried as text (query, XML, path variable).
    fn text(
        &self,
        field: &'static Field,
        value: Option<&str>,
        carrier: Carrier,
    ) -> Result<(), Box<Violation>> {
        let documented = match carrier.option() {
            "" => field.name.to_owned(),
            option => format!("{option}.{}", field.name),
        };
        let fail = |rule: Rule| {
            let pointer = format!("{}/{}", carrier.root(), field.name);
            Err(self.violation(rule, &pointer, Some((field, documented.clone()))))
        };
        let Some(value) = value else {
            return if field.required {
                fail(Rule::Missing)
            } else {
                Ok(())
            };
        };
        if !text_type(field.ty, value) {
            return fail(Rule::Type(field.ty));
        }
        let unset = !field.required && (value.is_empty() || value == "0");
        let listed = field.values.is_empty()
            || unset
            || field.values.contains(&value)
            || (field.ty == "boolean"
                && field.values.iter().any(|v| v.eq_ignore_ascii_case(value)))
            || self.disputed(field, carrier.option());
        if !listed {
            return fail(Rule::Values(&field.values));
        }
        Ok(())
    }

    /// Whether the JSON field at `documented` (below `json`) is listed in [`OPTIONAL`] for this
    /// operation.
    fn optional(&self, documented: &str) -> bool {
        OPTIONAL.iter().any(|(method, template, path, _)| {
            *method == self.op.method
                && *template == self.op.template
                && path.strip_prefix("json.") == Some(documented)
        })
    }

    /// Whether `field` is listed in [`DISPUTED`] for this operation.
    fn disputed(&self, field: &Field, option: &str) -> bool {
        DISPUTED.iter().any(|(method, template, path, _)| {
            *method == self.op.method
                && *template == self.op.template
                && path.strip_prefix(option).and_then(|p| p.strip_prefix('.')) == Some(field.name)
        })
    }
}

/// Whether a JSON value has the documented type (an unknown type takes anything).
fn json_type(ty: &str, value: &Value) -> bool {
    if let Some(items) = ty.strip_suffix("[]") {
        return value
            .as_array()
            .is_some_and(|items_| items_.iter().all(|item| json_type(items, item)));
    }
    match ty {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// Whether text has the documented type, read as WeChat Pay's gateway reads query, XML and
/// path text.
fn text_type(ty: &str, text: &str) -> bool {
    match ty {
        "integer" => text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok(),
        "number" => {
            text.parse::<f64>().is_ok_and(f64::is_finite) && !text.contains(char::is_alphabetic)
        }
        "boolean" => ["true", "false", "1", "0"]
            .iter()
            .any(|b| b.eq_ignore_ascii_case(text)),
        _ => true,
    }
}

/// A type's zero value: `0`, `""`, `false`.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty(),
        Value::Bool(b) => !b,
        _ => false,
    }
}
