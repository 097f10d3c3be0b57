//! RFC 6570 URI template expansion with the request options as variables, as the PHP SDK
//! does it (guzzle/uri-template), except that a path variable that is missing, `null` or
//! empty is an error instead of an empty segment.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::uri::{encode_literal, encode_value, number_text};

/// Expands `template` with `vars` (the top-level request options).
///
/// Supported: simple `{var}`, reserved `{+var}`, fragment `{#var}`, label `{.var}`, path
/// `{/var}`, path-style `{;var}`, form-style `{?var}` and `{&var}`; several variables per
/// expression (`{a,b}`), prefixes (`{var:3}`) and explode (`{list*}`). Values are
/// percent-encoded like PHP's `rawurlencode` (`+` and `#` keep reserved characters, and `%`
/// is always encoded). Strings are used as they are, numbers in decimal, `true` as `1`.
/// Literal characters that cannot appear in a URI (spaces, non-ASCII) are percent-encoded.
///
/// A value never moves the request to another path: a path segment that a variable helped
/// make and that ends up `.`, `..` or empty (`{a}` = `..`, `{a}{b}` = `.` and `.`, `{/list*}`
/// with an empty item) is refused, because dot-segment removal would send the signed request
/// to another endpoint. `{+var}` and `{#var}` keep `/`, `?` and `#` of the value as they are:
/// never use them for values that come from outside (a user, a notification, a database row
/// you do not control); plain `{var}` encodes them.
///
/// # Errors
///
/// [`ErrorKind::MissingPathVariable`] when a variable outside `{?…}` / `{&…}` is missing,
/// `null`, `false` or empty; the error names every such variable and nothing should be sent.
/// [`ErrorKind::InvalidArgument`] when a value would make a `.`, `..` or empty path segment.
pub fn expand(template: &str, vars: &Map<String, Value>) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut missing = Vec::new();
    expand_into(template, vars, &mut out, &mut missing, None);
    if missing.is_empty() {
        if has_suspect_segment(&out) {
            // Rare (a template with an empty segment of its own, or a value making one): expand
            // again, noting which bytes each expression made, to tell whose segment it is.
            let mut spans = Vec::new();
            let mut again = String::with_capacity(out.len());
            expand_into(template, vars, &mut again, &mut missing, Some(&mut spans));
            check_segments(template, &again, &spans)?;
        }
        return Ok(out);
    }
    let names = missing
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let example = missing
        .iter()
        .map(|name| format!("\"{name}\": \"…\""))
        .collect::<Vec<_>>()
        .join(", ");
    let kebab_hint = if missing.iter().any(|name| name.contains('-')) {
        " (a name with `-` comes from a camelCase segment such as `_outTradeNo_`, which \
         normalisation turns into `{out-trade-no}`: write `_out_trade_no_` instead)"
    } else {
        ""
    };
    Err(Error::new(
        ErrorKind::MissingPathVariable,
        format!(
            "the path `{template}` needs {names}{kebab_hint} but the options leave it missing, \
             null or empty, so nothing was sent; pass it as a top-level option next to `json` \
             or `query`, e.g. json!({{{example}}}); if you meant an empty segment (PHP's \
             `_empty_` trick for a trailing slash), write the literal path instead, e.g. \
             `v3/applyment4sub/applyment/`"
        ),
    )
    .with_variables(missing))
}

/// Expands `template` into `out`, noting missing variables, and (when asked) the byte range of
/// `out` each expression made.
fn expand_into<'t>(
    template: &'t str,
    vars: &Map<String, Value>,
    out: &mut String,
    missing: &mut Vec<String>,
    mut spans: Option<&mut Vec<(usize, usize, &'t str)>>,
) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        encode_literal(&rest[..open], out);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if close > 0 => {
                let start = out.len();
                expand_expression(&after[..close], vars, out, missing);
                if let Some(spans) = spans.as_deref_mut() {
                    spans.push((start, out.len(), &after[..close]));
                }
                rest = &after[close + 1..];
            }
            _ => {
                // `{}` and an unclosed `{` stay literal, as in guzzle/uri-template.
                encode_literal("{", out);
                rest = after;
            }
        }
    }
    encode_literal(rest, out);
}

/// Whether the path of `out` has a `.`, `..` or empty segment (which [`check_segments`]
/// then looks at).
fn has_suspect_segment(out: &str) -> bool {
    let path = &out[..out.find(['?', '#']).unwrap_or(out.len())];
    // Most paths have no dot, no `//` and no slash at either end: no such segment.
    let maybe = path.is_empty()
        || path.contains('.')
        || path.contains("//")
        || path.starts_with('/')
        || path.ends_with('/');
    maybe
        && path
            .split('/')
            .any(|segment| matches!(segment, "" | "." | ".."))
}

/// Refuses a path segment of `out` that is `.`, `..` or empty and touches one of the expanded
/// `spans` (byte ranges of `out`, with their expression). Segments made of the template's own
/// text alone are the caller's choice and stay.
fn check_segments(template: &str, out: &str, spans: &[(usize, usize, &str)]) -> Result<()> {
    let path_end = out.find(['?', '#']).unwrap_or(out.len());
    let mut start = 0;
    for segment in out[..path_end].split('/') {
        let end = start + segment.len();
        if matches!(segment, "" | "." | "..") {
            // The segment with the slashes that delimit it.
            let low = start.saturating_sub(1);
            let high = if end < path_end { end + 1 } else { end };
            let culprit = spans
                .iter()
                .find(|(from, to, _)| from < to && *from < high && *to > low);
            if let Some((_, _, expression)) = culprit {
                let what = if segment.is_empty() {
                    "an empty path segment".to_owned()
                } else {
                    format!("the path segment `{segment}`")
                };
                return Err(Error::invalid(format!(
                    "the value of `{{{expression}}}` in `{template}` makes {what}, which would \
                     move the signed request to another endpoint once dot segments are removed; \
                     nothing was sent: pass the real identifier"
                )));
            }
        }
        start = end + 1;
    }
    Ok(())
}

/// The names of the variables `template` uses, in order of appearance, each once
/// (`v3/{a}/x{?b,c}` → `a`, `b`, `c`).
pub(crate) fn variables(template: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for name in variable_names(template) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Whether `template` uses the variable `name`, without allocating.
pub(crate) fn uses_variable(template: &str, name: &str) -> bool {
    variable_names(template).any(|used| used == name)
}

/// The names of the variables `template` uses, in order of appearance (repeated when used
/// more than once).
fn variable_names(template: &str) -> impl Iterator<Item = &str> {
    let mut rest = template;
    std::iter::from_fn(move || {
        loop {
            let open = rest.find('{')?;
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) if close > 0 => {
                    rest = &after[close + 1..];
                    return Some(operator(&after[..close]).1);
                }
                _ => rest = after,
            }
        }
    })
    .flat_map(|specs| specs.split(','))
    .map(|spec| parse_varspec(spec.trim()).0)
    .filter(|name| !name.is_empty())
}

struct Operator {
    first: &'static str,
    separator: char,
    named: bool,
    if_empty: &'static str,
    allow_reserved: bool,
    optional: bool,
}

fn operator(expression: &str) -> (Operator, &str) {
    let op = |first, separator, named, if_empty, allow_reserved, optional| Operator {
        first,
        separator,
        named,
        if_empty,
        allow_reserved,
        optional,
    };
    match expression.as_bytes().first() {
        Some(b'+') => (op("", ',', false, "", true, false), &expression[1..]),
        Some(b'#') => (op("#", ',', false, "", true, false), &expression[1..]),
        Some(b'.') => (op(".", '.', false, "", false, false), &expression[1..]),
        Some(b'/') => (op("/", '/', false, "", false, false), &expression[1..]),
        Some(b';') => (op(";", ';', true, "", false, false), &expression[1..]),
        Some(b'?') => (op("?", '&', true, "=", false, true), &expression[1..]),
        Some(b'&') => (op("&", '&', true, "=", false, true), &expression[1..]),
        _ => (op("", ',', false, "", false, false), expression),
    }
}

fn expand_expression(
    expression: &str,
    vars: &Map<String, Value>,
    out: &mut String,
    missing: &mut Vec<String>,
) {
    let (op, specs) = operator(expression);
    let mut first = true;
    for spec in specs.split(',') {
        let spec = spec.trim();
        let (name, explode, prefix) = parse_varspec(spec);
        let value = vars.get(name).filter(|value| is_defined(value));
        let Some(value) = value else {
            if !op.optional {
                missing.push(name.to_string());
            }
            continue;
        };
        out.push_str(if first { op.first } else { "" });
        if !first {
            out.push(op.separator);
        }
        first = false;
        expand_value(&op, name, value, explode, prefix, out);
    }
}

fn parse_varspec(spec: &str) -> (&str, bool, Option<usize>) {
    if let Some(name) = spec.strip_suffix('*') {
        return (name, true, None);
    }
    if let Some((name, len)) = spec.split_once(':')
        && let Ok(len) = len.parse()
    {
        return (name, false, Some(len));
    }
    (spec, false, None)
}

/// A value that counts as given: not `null`, `false`, `""`, `[]` or `{}`.
fn is_defined(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        Value::Bool(true) | Value::Number(_) => true,
    }
}

fn expand_value(
    op: &Operator,
    name: &str,
    value: &Value,
    explode: bool,
    prefix: Option<usize>,
    out: &mut String,
) {
    let named_prefix = |out: &mut String, text_is_empty: bool| {
        if op.named {
            out.push_str(name);
            out.push_str(if text_is_empty { op.if_empty } else { "=" });
        }
    };
    match value {
        Value::Array(items) => {
            if op.named && !explode {
                named_prefix(out, false);
            }
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(if explode { op.separator } else { ',' });
                }
                let text = scalar_text(item);
                if op.named && explode {
                    named_prefix(out, text.is_empty());
                }
                encode_value(&text, op.allow_reserved, out);
            }
        }
        Value::Object(map) => {
            if op.named && !explode {
                named_prefix(out, false);
            }
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(if explode { op.separator } else { ',' });
                }
                encode_value(key, op.allow_reserved, out);
                out.push(if explode { '=' } else { ',' });
                encode_value(&scalar_text(item), op.allow_reserved, out);
            }
        }
        scalar => {
            let text = scalar_text(scalar);
            let text = match prefix {
                Some(len) => Cow::Owned(text.chars().take(len).collect()),
                None => text,
            };
            named_prefix(out, text.is_empty());
            encode_value(&text, op.allow_reserved, out);
        }
    }
}

/// A scalar as PHP's string cast writes it; nested arrays and objects as compact JSON.
fn scalar_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text),
        Value::Number(number) => Cow::Owned(number_text(number)),
        Value::Bool(true) => Cow::Borrowed("1"),
        Value::Bool(false) | Value::Null => Cow::Borrowed(""),
        nested => Cow::Owned(nested.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn expands(template: &str, value: Value) -> String {
        expand(template, &vars(value)).expect("expands")
    }

    #[test]
    fn lists_the_variables() {
        assert_eq!(
            variables("v3/{a}/x/{+b}{?c,a,d*}{/e:3}"),
            ["a", "b", "c", "d", "e"]
        );
        assert!(variables("v3/x/{}/{").is_empty());
    }

    #[test]
    fn matches_the_guzzle_table() {
        let tricky = json!({"a": "a/b c%2F?&=+:@~._-ü"});
        assert_eq!(
            expands(
                "v3/pay/transactions/id/{transaction_id}",
                json!({"transaction_id": "4200000001"})
            ),
            "v3/pay/transactions/id/4200000001"
        );
        assert_eq!(
            expands("v3/x/{a}", tricky.clone()),
            "v3/x/a%2Fb%20c%252F%3F%26%3D%2B%3A%40~._-%C3%BC"
        );
        assert_eq!(
            expands("v3/x/{+a}", tricky),
            "v3/x/a/b%20c%252F?&=+:@~._-%C3%BC"
        );
        assert_eq!(expands("v3/x/{#a}", json!({"a": "a/b"})), "v3/x/#a/b");
        assert_eq!(expands("v3/x/{a}", json!({"a": 0})), "v3/x/0");
        assert_eq!(expands("v3/x/{a}", json!({"a": true})), "v3/x/1");
        assert_eq!(expands("v3/x/{a}", json!({"a": ["x", "y"]})), "v3/x/x,y");
        assert_eq!(
            expands("v3/x{?a,b}", json!({"a": 1, "b": "two words"})),
            "v3/x?a=1&b=two%20words"
        );
        assert_eq!(expands("v3/x{/a,b}", json!({"a": 1, "b": 2})), "v3/x/1/2");
        assert_eq!(expands("v3/x/{a:3}", json!({"a": "abcdef"})), "v3/x/abc");
        assert_eq!(
            expands("v3/x/{out-trade-no}", json!({"out-trade-no": "T1"})),
            "v3/x/T1"
        );
        assert_eq!(
            expands(
                "{+myurl}",
                json!({"myurl": "v3/marketing/favor/users/AbcdEF12345/coupons"})
            ),
            "v3/marketing/favor/users/AbcdEF12345/coupons"
        );
        assert_eq!(
            expands("v3/x/{json}", json!({"json": {"a": 1}})),
            "v3/x/a,1"
        );
        assert_eq!(expands("v3/x/{}", json!({})), "v3/x/%7B%7D");
        assert_eq!(expands("v3/certificates", json!({})), "v3/certificates");
    }

    #[test]
    fn values_keep_their_case_and_get_encoded() {
        assert_eq!(
            expands(
                "v3/refunds/id/{refund_id}",
                json!({"refund_id": "Tv129e24Xde9b a/b+中"})
            ),
            "v3/refunds/id/Tv129e24Xde9b%20a%2Fb%2B%E4%B8%AD"
        );
    }

    #[test]
    fn missing_null_and_empty_variables_are_named() {
        for value in [
            json!({}),
            json!({"a": null}),
            json!({"a": ""}),
            json!({"a": []}),
        ] {
            let err = expand("v3/x/{a}/y/{b}", &vars(value)).expect_err("missing");
            assert_eq!(err.kind(), ErrorKind::MissingPathVariable);
            assert_eq!(err.variables(), ["a", "b"]);
            assert!(err.to_string().contains("`a`"), "{err}");
        }
    }

    #[test]
    fn values_never_make_dot_or_empty_segments() {
        for (template, value) in [
            ("v3/x/{a}", json!({"a": ".."})),
            ("v3/x/{a}/y", json!({"a": "."})),
            ("v3/x/{a}{b}/y", json!({"a": ".", "b": "."})),
            ("v3/x{/a}", json!({"a": ".."})),
            ("v3/x{/a*}", json!({"a": ["b", ""]})),
            ("v3/x{/a*}/y", json!({"a": ["..", "b"]})),
            ("v3/x/{+a}", json!({"a": "../../v3/other"})),
            ("v3/x/{+a}/y", json!({"a": "b//c"})),
            ("{+a}", json!({"a": "v3/x/./y"})),
            ("v3/x/.{a}", json!({"a": "."})),
        ] {
            let error = expand(template, &vars(value.clone())).expect_err(template);
            assert_eq!(
                error.kind(),
                ErrorKind::InvalidArgument,
                "{template} {value}"
            );
            assert!(error.to_string().contains("another endpoint"), "{error}");
        }
        // Dots inside a segment, encoded slashes and the template's own segments are fine.
        assert_eq!(expands("v3/x/{a}", json!({"a": "..."})), "v3/x/...");
        assert_eq!(expands("v3/x/{a}", json!({"a": "a.b"})), "v3/x/a.b");
        assert_eq!(expands("v3/x/{a}", json!({"a": "../y"})), "v3/x/..%2Fy");
        assert_eq!(expands("v3/x/{#a}", json!({"a": "/"})), "v3/x/#/");
        assert_eq!(expands("v3//x/{a}", json!({"a": "b"})), "v3//x/b");
        assert_eq!(expands("v3/x/{a}?q=..", json!({"a": "b"})), "v3/x/b?q=..");
        assert_eq!(expands("v3/x{?a}", json!({"a": ".."})), "v3/x?a=..");
    }

    #[test]
    fn form_style_variables_are_optional() {
        assert_eq!(expands("v3/x{?a,b}", json!({"b": 2})), "v3/x?b=2");
        assert_eq!(expands("v3/x{?a}", json!({})), "v3/x");
    }

    #[test]
    fn illegal_literal_characters_are_encoded() {
        assert_eq!(expands("v3/a b/中", json!({})), "v3/a%20b/%E4%B8%AD");
        assert_eq!(expands("v3/a%2Fb", json!({})), "v3/a%2Fb");
    }
}
