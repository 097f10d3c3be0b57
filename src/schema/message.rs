//! What a broken rule is called: WeChat Pay's `PARAM_ERROR` message, naming the field, then
//! the documented rule the sandbox relied on.
//!
//! WeChat Pay's gateway names the input by where it is (`/body/payer/openid`,
//! `/uri_template/applyment_id`, `/body/xml/total_fee`) and the field by the docs' name for
//! it (`用户标识`), as in the answers merchants quote:
//!
//! - `输入源“/body/payer/openid”映射到字段“用户标识”必填性规则校验失败，此字段为必填项`
//! - `无法将 JSON 输入源“/body/amount/total”映射到目标字段“总金额”中，此字段需要一个合法的 64 位有符号整数`
//! - `无法将输入源“/uri_template/applyment_id”映射到目标字段“申请单号”中，此字段需要一个合法的 64 位无符号整数`
//!
//! A value outside the documented ones is worded the same way (no quoted answer shows that
//! rule). The note that follows, `[sandbox: … documents json.payer.openid as required]`,
//! says which line of the docs' table the verdict rests on: those tables are written by hand.

use std::fmt;

/// Where a field travels.
#[derive(Clone, Copy)]
pub(super) enum Carrier {
    Query,
    Xml,
    Path,
}

impl Carrier {
    /// The gateway's name of the input, as its messages write it.
    pub(super) fn root(self) -> &'static str {
        match self {
            Carrier::Query => "/query",
            Carrier::Xml => "/body/xml",
            Carrier::Path => "/uri_template",
        }
    }

    /// The request option the docs' dotted paths start with (`query.limit`); path
    /// variables have none.
    pub(super) fn option(self) -> &'static str {
        match self {
            Carrier::Query => "query",
            Carrier::Xml => "xml",
            Carrier::Path => "",
        }
    }
}

/// The rule a request broke.
#[derive(Debug)]
pub(super) enum Rule {
    /// A required field is absent.
    Missing,
    /// A value is not of the documented type (`integer`, `object[]`, …).
    Type(&'static str),
    /// A value is not among the documented ones.
    Values(&'static [&'static str]),
    /// The APIv3 body is not JSON.
    Json(String),
    /// The APIv2 body is not XML.
    Xml(String),
}

/// A broken rule, where, and which documented field it is about.
#[derive(Debug)]
pub(super) struct Violation {
    pub(super) method: &'static str,
    pub(super) template: &'static str,
    pub(super) rule: Rule,
    /// Where the value is, in the gateway's words (`/body/payer/openid`).
    pub(super) pointer: String,
    /// The docs' name of the field (`用户标识`).
    pub(super) label: &'static str,
    /// The docs' dotted path of the field (`json.payer.openid`, `query.limit`, `plan_id`).
    pub(super) documented: String,
}

impl fmt::Display for Violation {
    /// WeChat Pay's message, then the sandbox's note on the documented rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (pointer, label) = (&self.pointer, self.label);
        match &self.rule {
            Rule::Missing => write!(
                f,
                "输入源“{pointer}”映射到字段“{label}”必填性规则校验失败，此字段为必填项"
            )?,
            Rule::Type(ty) => {
                let json = if pointer.starts_with("/body") && !pointer.starts_with("/body/xml") {
                    " JSON "
                } else {
                    ""
                };
                write!(
                    f,
                    "无法将{json}输入源“{pointer}”映射到目标字段“{label}”中，此字段需要{}",
                    type_words(ty)
                )?
            }
            Rule::Values(values) => write!(
                f,
                "输入源“{pointer}”映射到值字段“{label}”枚举规则校验失败，取值必须是 {} 之一",
                values.join(" | ")
            )?,
            Rule::Json(error) => {
                return write!(
                    f,
                    "无法将请求体解析为 JSON：{error} [sandbox: {} {} takes a JSON body]",
                    self.method, self.template
                );
            }
            Rule::Xml(error) => {
                return write!(
                    f,
                    "XML格式错误 [sandbox: {} {} takes an XML body: {error}]",
                    self.method, self.template
                );
            }
        }
        let (method, template, documented) = (self.method, self.template, &self.documented);
        let rule = match &self.rule {
            Rule::Missing => "as required".to_owned(),
            Rule::Type(ty) => format!("as {ty}"),
            Rule::Values(values) => format!("with the values {}", values.join(", ")),
            Rule::Json(_) | Rule::Xml(_) => String::new(),
        };
        write!(
            f,
            " [sandbox: the docs of {method} {template} list {documented} {rule}]"
        )
    }
}

/// What a value of a documented type is, in the gateway's words.
fn type_words(ty: &str) -> &'static str {
    if ty.ends_with("[]") {
        return "一个 JSON 数组";
    }
    match ty {
        "integer" => "一个合法的 64 位有符号整数",
        "number" => "一个合法的数字",
        "boolean" => "一个合法的布尔值",
        "object" => "一个 JSON 对象",
        _ => "一个字符串",
    }
}
