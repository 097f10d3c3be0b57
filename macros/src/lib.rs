//! The `chain!` macro of the `wechatpay` crate, re-exported there as `wechatpay::chain`.
//!
//! `chain!` turns `client.v3.pay.transactions.id._transaction_id_` into one call
//! `(client).chain_raw("v3/pay/transactions/id/{transaction_id}")`: the path is normalised at
//! compile time by the very same code (`normalize.rs`, shared with `wechatpay`) that
//! `chain()` uses at run time, and checked against the documented endpoints of
//! `wechatpay::endpoints` (`catalog.rs`, `matching.rs`).

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod catalog;
mod matching;
mod normalize;

use proc_macro::TokenStream;
use proc_macro2::{Delimiter, Group, Span, TokenTree};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Error, Ident, Lit, LitStr, Result, Token, parse_macro_input};

/// Builds a WeChat Pay API path at compile time and hands it to `chain_raw`.
///
/// ```ignore
/// use wechatpay::chain;
///
/// chain!(client.v3.payscore.partner.serviceorder._out_order_no_.sendPrepaidmessage)
/// // expands to
/// (client).chain_raw("v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage")
/// ```
///
/// The input is a receiver followed by one or more `.segment`s.
///
/// **Receiver**: an identifier such as `client` or `self`, or *any* expression in
/// parentheses. Without the parentheses the dots of `state.client` would be read as
/// segments, so write:
///
/// ```ignore
/// chain!((state.client).v3.certificates) // (state.client).chain_raw("v3/certificates")
/// chain!((clients[0]).v3.certificates)   // (clients[0]).chain_raw("v3/certificates")
/// chain!(self.v3.certificates)           // (self).chain_raw("v3/certificates")
/// ```
///
/// **Segments**, joined with `/`:
///
/// - an identifier (keywords such as `type` or `match` too), normalised on its own:
///   a leading capital is lowered (`V3` → `v3`), every other capital `X` becomes `-x`
///   (`sendPrepaidmessage` → `send-prepaidmessage`, `complaintsV2` → `complaints-v2`),
///   and `_name_` becomes the template variable `{name}`; underscores inside stay
///   (`pay_bank`) and digits are untouched (`applyment4sub`);
/// - a raw identifier, `r#` stripped and then normalised: `r#return` → `return`;
/// - a string literal, used verbatim, for what no identifier can spell:
///   `."addInstitutionsub"`, a trailing slash `."applyment/"`, or a number `."1"`.
///
/// ```ignore
/// chain!(client.v3.applyment4sub."applyment/") // (client).chain_raw("v3/applyment4sub/applyment/")
/// ```
///
/// Only the path is built: template values and the query string are passed to the request
/// at run time (the `query` option), never written into the chain. Anything else — no
/// segment, a trailing or doubled `.`, a number, an empty string, a byte string or
/// character, a string containing `?` or `#` — is a compile error that says what to write.
///
/// # The path is checked
///
/// A path that is not a documented WeChat Pay endpoint (`wechatpay::endpoints`, 1,147
/// operations) still compiles, with a warning on its first unknown segment that names up to
/// three of the nearest documented paths:
///
/// ```text
/// warning: use of deprecated constant `main::WECHATPAY_PATH`: not a documented WeChat Pay
///          endpoint: v3/pay/transactons/jsapi; did you mean v3/pay/transactions/jsapi? (if
///          the path is right, end the macro with `; unchecked`)
///  --> src/main.rs:9:32
///   |
/// 9 |     chain!(client.v3.pay.transactons.jsapi).post(options)?;
///   |                          ^^^^^^^^^^^
/// ```
///
/// A path is documented when each segment is the documented one, where a template variable
/// matches a variable of any name (`._id_` for `{transaction_id}`). A path that does not start
/// with `v2` or `v3` extends a receiver that is a chain (`chain!((client["v3"]).pay.transactions.jsapi)`),
/// whose path the macro cannot see: it is accepted when a documented path ends with it. A
/// path that only starts a documented one (`chain!(client.v3.pay.transactions)`, to extend
/// later) is not an endpoint and warns: add `; unchecked`. "Nearest" is an edit
/// distance over segments: replacing a segment costs the character edit distance (at most 2
/// for a value in place of a variable), adding or removing one costs its length plus one;
/// paths within a third of the path's length (at least 3) and at most twice as far as the
/// nearest are suggested (`wechatpay::endpoints::suggest` gives the same at run time, and
/// `wechatpay::endpoints::reference` lists every documented path). The method is not
/// checked: `.post(…)` comes after the macro, so a path documented for any method passes
/// (`Chain::documented_methods` tells which at run time).
///
/// A documented path expands to exactly the `chain_raw` call above; an undocumented one to
/// the same call whose literal comes from a `#[deprecated]` constant (the only way to warn
/// on stable Rust), so the warning is a `deprecated` lint. To accept a path that is not in
/// the catalog (a new endpoint, a private one):
///
/// - at one call site, end the macro with `; unchecked`:
///   `chain!(client.v3.new.thing; unchecked)` expands as a documented path does;
/// - or put `#[allow(deprecated)]` on the statement, function or module;
/// - for a whole crate, `#![allow(deprecated)]` at its root. There is no cargo feature for
///   it: features are unified across the whole build, so one dependency turning the check
///   off would turn it off for every crate, while a lint level stays in your crate. Note that
///   the attribute also silences warnings about other deprecated items; `; unchecked` does not.
///
/// To turn the warnings into errors, `#![deny(deprecated)]`.
#[proc_macro]
pub fn chain(input: TokenStream) -> TokenStream {
    expand_chain(parse_macro_input!(input as ChainInput)).into()
}

/// The expansion of `chain!`.
fn expand_chain(input: ChainInput) -> proc_macro2::TokenStream {
    let ChainInput {
        receiver,
        segments,
        spans,
        unchecked,
    } = input;
    let text = expand_path(&segments);
    let path = LitStr::new(&text, Span::call_site());
    if unchecked || catalog::is_documented(&text) {
        return quote!(#receiver.chain_raw(#path));
    }
    // Warn through a deprecated constant named at the first unknown segment (so that the
    // warning points there), holding the very same literal.
    let note = LitStr::new(&catalog::warning(&text), Span::call_site());
    let culprit = catalog::first_undocumented_segment(&text);
    let span = segment_span(&segments, &spans, culprit);
    let name = Ident::new("WECHATPAY_PATH", span);
    quote!(#receiver.chain_raw({
        #[deprecated(note = #note)]
        const #name: &str = #path;
        #name
    }))
}

/// The span of the segment of the macro's input that holds segment `index` of the path (a
/// string literal may hold several: `."applyment/"`).
fn segment_span(segments: &[Segment], spans: &[Span], index: usize) -> Span {
    let mut seen = 0;
    for (segment, span) in segments.iter().zip(spans) {
        let text = match segment {
            Segment::Ident(text) | Segment::Verbatim(text) => text,
        };
        seen += text.matches('/').count() + 1;
        if index < seen {
            return *span;
        }
    }
    spans.last().copied().unwrap_or_else(Span::call_site)
}

/// One `.segment` of the chain.
#[derive(Debug)]
enum Segment {
    /// An identifier, `r#` already stripped: normalised.
    Ident(String),
    /// A string literal's value: used verbatim.
    Verbatim(String),
}

/// The parsed input of `chain!`.
struct ChainInput {
    /// The receiver, always a parenthesised group.
    receiver: Group,
    /// At least one segment.
    segments: Vec<Segment>,
    /// The span of each segment.
    spans: Vec<Span>,
    /// `; unchecked` was given: the path is not checked against the catalog.
    unchecked: bool,
}

/// The path that `chain!` passes to `chain_raw`: the segments, each normalised on its own
/// (identifiers) or taken verbatim (string literals), joined with `/`.
fn expand_path(segments: &[Segment]) -> String {
    let parts: Vec<String> = segments
        .iter()
        .map(|segment| match segment {
            Segment::Ident(name) => normalize::normalize_segment(name),
            Segment::Verbatim(text) => text.clone(),
        })
        .collect();
    parts.join("/")
}

impl Parse for ChainInput {
    fn parse(input: ParseStream) -> Result<Self> {
        if input.is_empty() {
            return Err(Error::new(
                Span::call_site(),
                "`chain!` needs a receiver and at least one `.segment`, \
                 e.g. `chain!(client.v3.certificates)`",
            ));
        }
        let receiver = parse_receiver(input)?;
        if input.is_empty() {
            return Err(Error::new(
                receiver.span(),
                "`chain!` needs at least one `.segment` after the receiver, \
                 e.g. `chain!(client.v3.certificates)`",
            ));
        }
        let mut segments = Vec::new();
        let mut spans = Vec::new();
        let mut unchecked = false;
        while !input.is_empty() {
            if input.peek(Token![;]) && !segments.is_empty() {
                unchecked = parse_unchecked(input)?;
                break;
            }
            if !input.peek(Token![.]) {
                return Err(input.error(if segments.is_empty() {
                    "expected `.` after the receiver; to use an expression as the receiver, \
                     put it in parentheses, e.g. `chain!((state.client).v3.certificates)`"
                } else {
                    "expected `.` before the next segment, e.g. `chain!(client.v3.certificates)`"
                }));
            }
            let dot: Token![.] = input.parse()?;
            spans.push(input.span());
            segments.push(parse_segment(input, dot.span)?);
        }
        Ok(ChainInput {
            receiver,
            segments,
            spans,
            unchecked,
        })
    }
}

/// Parses `; unchecked`, the end of the input.
fn parse_unchecked(input: ParseStream) -> Result<bool> {
    let semicolon: Token![;] = input.parse()?;
    const EXPECTED: &str = "expected `unchecked` after `;`, e.g. \
                            `chain!(client.v3.new.thing; unchecked)`, to skip the check \
                            against the documented endpoints";
    if input.is_empty() {
        return Err(Error::new(semicolon.span, EXPECTED));
    }
    if !input.peek(Ident::peek_any) {
        return Err(input.error(EXPECTED));
    }
    let word: Ident = input.call(Ident::parse_any)?;
    if word != "unchecked" {
        return Err(Error::new(word.span(), EXPECTED));
    }
    if !input.is_empty() {
        return Err(input.error("nothing may follow `unchecked`"));
    }
    Ok(true)
}

/// Parses the receiver: an identifier (`client`, `self`) or a group in parentheses (or an
/// invisible group, as a `macro_rules!` `$receiver:expr` arrives), returned parenthesised.
fn parse_receiver(input: ParseStream) -> Result<Group> {
    input.step(|cursor| {
        // Groups first: `cursor.ident()` would look inside an invisible group.
        for delimiter in [Delimiter::None, Delimiter::Parenthesis] {
            if let Some((inner, span, rest)) = cursor.group(delimiter) {
                let mut group = Group::new(Delimiter::Parenthesis, inner.token_stream());
                group.set_span(span.join());
                return Ok((group, rest));
            }
        }
        if let Some((ident, rest)) = cursor.ident() {
            let span = ident.span();
            let mut group = Group::new(Delimiter::Parenthesis, TokenTree::from(ident).into());
            group.set_span(span);
            return Ok((group, rest));
        }
        Err(cursor.error(
            "expected the receiver: an identifier such as `client` or `self`, \
             or any expression in parentheses such as `(state.client)`",
        ))
    })
}

/// Parses the segment after a `.` whose span is `dot`.
fn parse_segment(input: ParseStream, dot: Span) -> Result<Segment> {
    if input.is_empty() {
        return Err(Error::new(
            dot,
            "trailing `.`: add a segment after it or remove it",
        ));
    }
    if input.peek(Token![.]) {
        return Err(input.error("two `.` in a row: remove one or put a segment between them"));
    }
    if input.peek(Ident::peek_any) {
        let ident = input.call(Ident::parse_any)?;
        let name = ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        return Ok(Segment::Ident(name.to_owned()));
    }
    if input.peek(Lit) {
        let lit: Lit = input.parse()?;
        return segment_from_literal(lit);
    }
    Err(input.error(
        "expected a segment: an identifier such as `v3`, a raw identifier such as `r#type`, \
         or a string literal such as `\"applyment/\"`",
    ))
}

/// Checks a literal segment: only a non-empty string without `?` or `#` is one.
fn segment_from_literal(lit: Lit) -> Result<Segment> {
    let kind = match &lit {
        Lit::Str(text) => {
            let value = text.value();
            return if value.is_empty() {
                Err(Error::new(
                    text.span(),
                    "empty segment: write the segment's text inside the quotes, or remove the `.\"\"`",
                ))
            } else if value.contains(['?', '#']) {
                Err(Error::new(
                    text.span(),
                    "a segment cannot contain `?` or `#`: a query string or fragment does not \
                     belong in the path; pass query parameters with the `query` option",
                ))
            } else if !text.suffix().is_empty() {
                Err(Error::new(
                    text.span(),
                    "remove the suffix after the string literal",
                ))
            } else {
                Ok(Segment::Verbatim(value))
            };
        }
        Lit::Int(_) | Lit::Float(_) => {
            // `client.v3.1.2` tokenises as `v3`, `.`, `1.2`: suggest one string per part.
            let digits = lit.to_token_stream().to_string();
            let quoted: Vec<String> = digits
                .split('.')
                .filter(|part| !part.is_empty())
                .map(|part| format!(".\"{part}\""))
                .collect();
            return Err(Error::new(
                lit.span(),
                format!(
                    "a number cannot be a segment: write it as a string literal, e.g. `{}`",
                    quoted.concat()
                ),
            ));
        }
        Lit::ByteStr(_) => "a byte string",
        Lit::CStr(_) => "a C string",
        Lit::Byte(_) => "a byte literal",
        Lit::Char(_) => "a character literal",
        _ => "this literal",
    };
    Err(Error::new(
        lit.span(),
        format!("{kind} cannot be a segment: use a plain string literal such as `\"applyment/\"`"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(name: &str) -> Segment {
        Segment::Ident(name.to_owned())
    }

    /// Parses `input` as the inside of `chain!(…)` and returns the path or the error message.
    fn expand(input: &str) -> std::result::Result<(String, String), String> {
        let parsed: ChainInput = syn::parse_str(input).map_err(|e| e.to_string())?;
        let receiver = parsed.receiver.to_string();
        Ok((receiver, expand_path(&parsed.segments)))
    }

    fn path(input: &str) -> String {
        expand(input).unwrap().1
    }

    fn error(input: &str) -> String {
        match expand(input) {
            Ok(ok) => panic!("{input} expanded to {ok:?}"),
            Err(message) => message,
        }
    }

    #[test]
    fn normalisation_table() {
        let table = [
            ("v3", "v3"),
            ("V3", "v3"),
            ("MerchantService", "merchant-service"),
            ("merchantService", "merchant-service"),
            ("complaintsV2", "complaints-v2"),
            ("ABC", "a-b-c"),
            ("HTTPSProxy", "h-t-t-p-s-proxy"),
            ("Transfer2Pocket", "transfer2-pocket"),
            ("a1B2c3", "a1-b2c3"),
            ("_out_trade_no_", "{out_trade_no}"),
            ("_outTradeNo_", "{out-trade-no}"),
            ("__", "{}"),
            ("_", "_"),
            ("_x", "_x"),
            ("x_", "x_"),
            ("pay_bank", "pay_bank"),
            ("applyment4sub", "applyment4sub"),
            ("id", "id"),
        ];
        for (segment, expected) in table {
            assert_eq!(expand_path(&[ident(segment)]), expected, "{segment}");
            assert_eq!(path(&format!("client.{segment}")), expected, "{segment}");
        }
    }

    #[test]
    fn joins_with_slashes() {
        let segments = [ident("v3"), ident("pay"), Segment::Verbatim("a/".into())];
        assert_eq!(expand_path(&segments), "v3/pay/a/");
        assert_eq!(
            path("client.v3.payscore.partner.serviceorder._out_order_no_.sendPrepaidmessage"),
            "v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage"
        );
    }

    #[test]
    fn raw_identifiers_and_keywords() {
        assert_eq!(path("client.v3.r#return.r#fooBar"), "v3/return/foo-bar");
        assert_eq!(
            path("client.type.match.use.return.self.true"),
            "type/match/use/return/self/true"
        );
    }

    #[test]
    fn string_literals_are_verbatim() {
        assert_eq!(
            path(r#"client.v3.applyment4sub."applyment/""#),
            "v3/applyment4sub/applyment/"
        );
        assert_eq!(
            path(r#"client."addInstitutionsub"._id_"#),
            "addInstitutionsub/{id}"
        );
        assert_eq!(path(r#"client."_a_"."x.y-z""#), "_a_/x.y-z");
        assert_eq!(path(r#"client."{open""#), "{open");
    }

    #[test]
    fn receivers() {
        assert_eq!(expand("client.v3").unwrap().0, "(client)");
        assert_eq!(expand("self.v3").unwrap().0, "(self)");
        assert_eq!(
            expand("(state.client).v3").unwrap(),
            ("(state . client)".into(), "v3".into())
        );
        assert_eq!(expand("(clients[0]).v3.x").unwrap().1, "v3/x");
    }

    /// The expansion of `chain!(input)`, as a token string.
    fn expansion(input: &str) -> String {
        expand_chain(syn::parse_str(input).unwrap()).to_string()
    }

    #[test]
    fn documented_paths_expand_to_chain_raw() {
        assert_eq!(
            expansion("client.v3.pay.transactions.id._transaction_id_"),
            r#"(client) . chain_raw ("v3/pay/transactions/id/{transaction_id}")"#
        );
        assert_eq!(
            expansion("(state.client).v3.pay.transactions.jsapi"),
            r#"(state . client) . chain_raw ("v3/pay/transactions/jsapi")"#
        );
        assert_eq!(
            expansion("client.v3.new.thing; unchecked"),
            r#"(client) . chain_raw ("v3/new/thing")"#
        );
    }

    #[test]
    fn undocumented_paths_expand_to_a_deprecated_constant() {
        let tokens = expansion("client.v3.pay.transactons.jsapi");
        assert!(
            tokens.starts_with(
                "(client) . chain_raw ({ # [deprecated (note = \"not a documented WeChat Pay \
                 endpoint: v3/pay/transactons/jsapi; did you mean v3/pay/transactions/jsapi?"
            ),
            "{tokens}"
        );
        assert!(
            tokens.ends_with(
                r#"const WECHATPAY_PATH : & str = "v3/pay/transactons/jsapi" ; WECHATPAY_PATH })"#
            ),
            "{tokens}"
        );
    }

    #[test]
    fn unchecked() {
        assert!(expand("client.v3.x; unchecked").unwrap().0 == "(client)");
        assert!(error("client.v3.x;").starts_with("expected `unchecked` after `;`"));
        assert!(error("client.v3.x; checked").starts_with("expected `unchecked` after `;`"));
        assert!(error("client.v3.x; 1").starts_with("expected `unchecked` after `;`"));
        assert!(error("client.v3.x; unchecked.y").starts_with("nothing may follow"));
        assert!(error("client; unchecked").contains("expected `.` after the receiver"));
    }

    #[test]
    fn errors() {
        assert!(error("").contains("needs a receiver"));
        assert!(error("client").contains("at least one `.segment`"));
        assert!(error("client.v3.").starts_with("trailing `.`"));
        assert!(error("client v3").contains("put it in parentheses"));
        assert!(error("client.v3 pay").starts_with("expected `.` before the next segment"));
        assert!(error("client.v3..pay").starts_with("two `.` in a row"));
        assert!(error("client.v3.1").contains(r#"e.g. `."1"`"#));
        assert!(error("client.v3.1.2").contains(r#"e.g. `."1"."2"`"#));
        assert!(error(r#"client.v3."""#).starts_with("empty segment"));
        assert!(error(r#"client.v3.b"x""#).starts_with("a byte string cannot"));
        assert!(error("client.v3.'x'").starts_with("a character literal cannot"));
        assert!(error(r#"client.v3."a?b=1""#).contains("`query` option"));
        assert!(error(r#"client.v3."a#b""#).contains("`query` option"));
        assert!(error(r#"client.v3."a"x"#).contains("suffix"));
        assert!(error("client.v3.-").starts_with("expected a segment"));
        assert!(error("client.v3.(x)").starts_with("expected a segment"));
        assert!(error("1.v3").starts_with("expected the receiver"));
        assert!(error("crate::CLIENT.v3").contains("put it in parentheses"));
    }
}
