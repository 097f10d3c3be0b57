//! Segment normalisation, exactly as the PHP SDK's `Builder::normalize`.
//!
//! This file is shared with the `wechatpay-sdk-macros` crate (a symlink there), so that
//! `chain!` at compile time and `chain()` at run time can never disagree. Keep it free of
//! `crate::` paths.

/// Normalises one chain segment the way the PHP SDK does, applying three rules in order,
/// each to the result of the previous one:
///
/// 1. an ASCII upper-case first character is lowered (`V3` → `v3`);
/// 2. every other ASCII upper-case letter `X` becomes `-x` (`sendPrepaidmessage` →
///    `send-prepaidmessage`);
/// 3. a segment that starts and ends with `_` becomes a template variable (`_out_order_no_` →
///    `{out_order_no}`).
///
/// Underscores inside a segment stay, non-ASCII letters are never touched, and the output is
/// exactly as long as the input plus one byte per upper-case letter after the first character.
pub fn normalize_segment(segment: &str) -> String {
    let mut out = String::with_capacity(normalized_len(segment));
    push_normalized(&mut out, segment);
    out
}

/// The byte length of [`normalize_segment`]'s output for `segment`.
pub(crate) fn normalized_len(segment: &str) -> usize {
    let bytes = segment.as_bytes();
    let inner_capitals = bytes
        .iter()
        .skip(1)
        .filter(|b| b.is_ascii_uppercase())
        .count();
    bytes.len() + inner_capitals
}

/// Appends the normalised form of `segment` to `out` (see [`normalize_segment`]).
pub(crate) fn push_normalized(out: &mut String, segment: &str) {
    let start = out.len();
    for (index, ch) in segment.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if index > 0 {
                out.push('-');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    // Rule 3 works on the result of rules 1 and 2: PCRE's `^_(.*)_$`, so `__` becomes `{}`,
    // `_` alone stays, and a line feed in the middle (which `.` does not match) blocks it.
    let written = &out[start..];
    if written.len() >= 2
        && written.starts_with('_')
        && written.ends_with('_')
        && !written.contains('\n')
    {
        let end = out.len();
        out.replace_range(start..start + 1, "{");
        out.replace_range(end - 1..end, "}");
    }
}
