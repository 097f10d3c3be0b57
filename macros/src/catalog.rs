//! The documented templates, as `chain!` checks them at compile time.
//!
//! `templates.txt` is a symlink to the generated `generated/templates.txt` of `wechatpay`
//! (one template a line, written by its `sourcegen` test from the same corpus as
//! `wechatpay::endpoints`), and `matching.rs` is shared with `wechatpay::endpoints`: the
//! macro and the run-time catalog agree on what is documented and what to suggest.

use std::sync::OnceLock;

use crate::matching;

/// The documented templates, split once per compiler process.
fn templates() -> &'static [&'static str] {
    static TEMPLATES: OnceLock<Vec<&'static str>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        include_str!("templates.txt")
            .lines()
            .filter(|line| !line.is_empty())
            .collect()
    })
}

/// Whether `path` starts at the root of the API (`v2/…`, `v3/…`). Any other path is taken
/// to extend a receiver that is a chain (`chain!((client["v3"]).pay.transactions.jsapi)`),
/// whose own path the macro cannot see.
fn is_absolute(path: &str) -> bool {
    matches!(path.split('/').next(), Some("v2" | "v3"))
}

/// What `path` must be one of: the documented templates, or for a relative path their tails
/// of as many segments (from templates with more segments).
fn candidates(path: &str) -> Vec<&'static str> {
    if is_absolute(path) {
        return templates().to_vec();
    }
    let count = path.split('/').count();
    let mut tails: Vec<&'static str> = templates()
        .iter()
        .filter_map(|template| {
            let slashes: Vec<usize> = template.match_indices('/').map(|(i, _)| i).collect();
            let start = slashes.len().checked_sub(count)?;
            Some(&template[slashes[start] + 1..])
        })
        .collect();
    tails.sort_unstable();
    tails.dedup();
    tails
}

/// Whether `path` is a documented template (variables of any name match variables), or for
/// a relative path the end of one.
pub fn is_documented(path: &str) -> bool {
    // The list is sorted (by the generator): the common case, an exact match, is a search.
    if is_absolute(path) && templates().binary_search(&path).is_ok() {
        return true;
    }
    candidates(path)
        .iter()
        .any(|template| matching::fit(template, path).is_some())
}

/// The note of the warning for the undocumented `path`.
pub fn warning(path: &str) -> String {
    let mut note = if is_absolute(path) {
        format!("not a documented WeChat Pay endpoint: {path}")
    } else {
        format!(
            "no documented WeChat Pay endpoint ends with {path} (the path of a receiver that \
             is a chain is not visible to the macro)"
        )
    };
    match matching::nearest(candidates(path), path, 3).as_slice() {
        [] => note.push_str("; no documented path is near it"),
        [one] => note.push_str(&format!("; did you mean {one}?")),
        [first @ .., last] => {
            note.push_str(&format!("; did you mean {} or {last}?", first.join(", ")))
        }
    }
    note.push_str(" (if the path is right, end the macro with `; unchecked`)");
    note
}

/// The index of the first segment of `path` that no documented template (or tail, see
/// [`is_documented`]) has after the segments before it, or the last segment when every
/// prefix of `path` is documented.
pub fn first_undocumented_segment(path: &str) -> usize {
    let candidates = candidates(path);
    let segments: Vec<&str> = path.split('/').collect();
    for end in 1..=segments.len() {
        let prefix = &segments[..end];
        let known = candidates.iter().any(|template| {
            let mut parts = template.split('/');
            prefix.iter().all(|segment| {
                parts
                    .next()
                    .is_some_and(|part| matching::segment_fit(part, segment).is_some())
            })
        });
        if !known {
            return end - 1;
        }
    }
    segments.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_paths() {
        assert!(templates().len() > 1000);
        assert!(templates().windows(2).all(|pair| pair[0] < pair[1]));
        assert!(is_documented("v3/pay/transactions/jsapi"));
        assert!(is_documented("v3/pay/transactions/id/{transaction_id}"));
        assert!(is_documented("v3/pay/transactions/id/{id}"));
        assert!(is_documented("v3/applyment4sub/applyment/"));
        assert!(is_documented("v2/secapi/mch/addInstitutionsub"));
        assert!(is_documented("v2/pay/unifiedorder"));
        assert!(!is_documented("v3/pay/transactons/jsapi"));
        assert!(!is_documented("v3/pay/transactions/id/4200000001"));
        assert!(!is_documented("v3/pay/transactions"));
        assert!(!is_documented("v3"));
    }

    #[test]
    fn relative_paths_are_the_ends_of_documented_ones() {
        assert!(is_documented("pay/transactions/jsapi"));
        assert!(is_documented("jsapi"));
        assert!(is_documented("transactions/id/{id}"));
        assert!(is_documented("secapi/mch/addInstitutionsub"));
        assert!(!is_documented("pay/transactons/jsapi"));
        assert!(is_documented("certificates")); // v3/global/certificates
        assert!(!is_documented("x/v3/certificates"));
        assert_eq!(
            warning("pay/transactons/jsapi"),
            "no documented WeChat Pay endpoint ends with pay/transactons/jsapi (the path of a \
             receiver that is a chain is not visible to the macro); did you mean \
             pay/transactions/jsapi? (if the path is right, end the macro with `; unchecked`)"
        );
        assert_eq!(first_undocumented_segment("pay/transactons/jsapi"), 1);
    }

    #[test]
    fn warnings() {
        assert_eq!(
            warning("v3/pay/transactons/jsapi"),
            "not a documented WeChat Pay endpoint: v3/pay/transactons/jsapi; did you mean \
             v3/pay/transactions/jsapi? (if the path is right, end the macro with `; unchecked`)"
        );
        assert!(warning("nothing/like/it/at/all").contains("no documented path is near it"));
        let two = warning("v3/pay/transactions/out-trade-no/{out_trade_no}/clos");
        assert!(two.contains("did you mean v3/pay/transactions/out-trade-no/{out_trade_no}/close"));
    }

    #[test]
    fn culprits() {
        assert_eq!(first_undocumented_segment("v3/pay/transactons/jsapi"), 2);
        assert_eq!(first_undocumented_segment("v3/pay/transactions/jsapi/x"), 4);
        assert_eq!(first_undocumented_segment("v3/pay/transactions"), 2);
        assert_eq!(first_undocumented_segment("x"), 0);
        assert_eq!(first_undocumented_segment(""), 0);
    }
}
