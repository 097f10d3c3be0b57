//! Which documented template a path is, and which templates are nearest to a path that is
//! none.
//!
//! This file is shared with the `wechatpay-sdk-macros` crate (a symlink there), so that the
//! catalog at run time and `chain!` at compile time agree on what is documented and what to
//! suggest. Keep it free of `crate::` paths.
//!
//! A path fits a template when both have the same number of `/`-separated segments and each
//! segment fits:
//!
//! - the same text: an exact fit;
//! - a template variable (`{transaction_id}`) against a path variable of any name
//!   (`{out_trade_no}`, `{+id}`): a wildcard fit;
//! - a template variable against a literal segment that is the variable's own name, ignoring
//!   ASCII case: a wildcard fit. The docs spell a segment that normalisation would mangle this
//!   way: `v2/secapi/mch/{addinstitutionsub}` with the value `addInstitutionsub`, which
//!   `chain!(client.v2.secapi.mch."addInstitutionsub")` writes literally.
//!
//! A literal never fits a variable otherwise: values belong in the options, not in the path.

/// How one path segment fits one template segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fit {
    /// The same text.
    Exact,
    /// A variable in the template that takes the path's segment.
    Wildcard,
}

/// Whether `segment` is a template variable: `{…}`.
pub(crate) fn is_variable(segment: &str) -> bool {
    segment.len() >= 2 && segment.starts_with('{') && segment.ends_with('}')
}

/// How `path` (one segment) fits `template` (one segment), if it does.
pub(crate) fn segment_fit(template: &str, path: &str) -> Option<Fit> {
    if template == path {
        return Some(Fit::Exact);
    }
    if !is_variable(template) {
        return None;
    }
    // `{` and `}` are one byte each.
    let name = &template[1..template.len() - 1];
    (is_variable(path) || name.eq_ignore_ascii_case(path)).then_some(Fit::Wildcard)
}

/// How many of `path`'s segments fit `template` through a wildcard, or `None` when `path`
/// does not fit `template`: `Some(0)` is an exact match, and fewer is a better match.
pub(crate) fn fit(template: &str, path: &str) -> Option<usize> {
    if template == path {
        return Some(0);
    }
    let mut wildcards = 0;
    let mut templates = template.split('/');
    let mut paths = path.split('/');
    loop {
        match (templates.next(), paths.next()) {
            (None, None) => return Some(wildcards),
            (Some(t), Some(p)) => {
                if segment_fit(t, p)? == Fit::Wildcard {
                    wildcards += 1;
                }
            }
            _ => return None,
        }
    }
}

/// The edit distance between `path` and `template`, over segments: replacing a segment costs
/// the character edit distance between the two (nothing when it fits, see [`segment_fit`];
/// at most 2 for a literal in place of a template variable, a value written into the path),
/// adding or removing one costs its length in characters plus one for its `/`.
///
/// `v3/pay/transactons/jsapi` is 1 away from `v3/pay/transactions/jsapi`, and
/// `v3/pay/transactions/jsapi/` is 1 away too (an empty segment added).
pub(crate) fn distance(template: &str, path: &str) -> usize {
    let templates: Vec<&str> = template.split('/').collect();
    let paths: Vec<&str> = path.split('/').collect();
    let weight = |segment: &str| segment.chars().count() + 1;
    // One row of the classic dynamic programme, over the path's segments.
    let mut row: Vec<usize> = Vec::with_capacity(paths.len() + 1);
    row.push(0);
    for p in &paths {
        let last = row[row.len() - 1];
        row.push(last + weight(p));
    }
    for t in &templates {
        let mut diagonal = row[0];
        row[0] += weight(t);
        for (j, p) in paths.iter().enumerate() {
            let replace = if segment_fit(t, p).is_some() {
                0
            } else if is_variable(t) && !is_variable(p) {
                // A value written where the docs have a variable.
                levenshtein(t, p).min(2)
            } else {
                levenshtein(t, p)
            };
            let best = (diagonal + replace)
                .min(row[j + 1] + weight(t))
                .min(row[j] + weight(p));
            diagonal = row[j + 1];
            row[j + 1] = best;
        }
    }
    row[paths.len()]
}

/// The character edit distance between `a` and `b` (insert, delete, replace: 1 each).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let best = (diagonal + usize::from(ca != *cb))
                .min(row[j + 1] + 1)
                .min(row[j] + 1);
            diagonal = row[j + 1];
            row[j + 1] = best;
        }
    }
    row[b.len()]
}

/// The largest [`distance`] at which a template is still suggested for `path`: a third of the
/// path's length in characters, and at least 3.
pub(crate) fn suggestion_limit(path: &str) -> usize {
    (path.chars().count() / 3).max(3)
}

/// Up to `count` templates nearest to `path` by [`distance`], nearest first (ties in
/// alphabetical order): each at most [`suggestion_limit`] away, and at most twice as far as
/// the nearest one (or one further), so that a clear winner comes alone. A template given
/// more than once is named once; a path over 1,000 bytes gets none.
pub(crate) fn nearest<'a>(
    templates: impl IntoIterator<Item = &'a str>,
    path: &str,
    count: usize,
) -> Vec<&'a str> {
    // The distance is quadratic in the length: a path far longer than any template (the
    // longest is under 200 bytes) gets no suggestion rather than a long wait.
    if path.len() > 1000 {
        return Vec::new();
    }
    let limit = suggestion_limit(path);
    let mut found: Vec<(usize, &'a str)> = Vec::new();
    for template in templates {
        let d = distance(template, path);
        if d <= limit && !found.iter().any(|(_, t)| *t == template) {
            found.push((d, template));
        }
    }
    found.sort_unstable();
    if let Some(&(best, _)) = found.first() {
        found.retain(|&(d, _)| d <= (2 * best).max(best + 1));
    }
    found.truncate(count);
    found.into_iter().map(|(_, t)| t).collect()
}
