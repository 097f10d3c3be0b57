//! The parts of a Redis key name the stores are given: checked, with a default prefix.

use crate::error::{Error, Result};

/// The prefix of every key unless set otherwise.
pub(super) const DEFAULT_PREFIX: &str = "wechatpay";

/// Checks a part of a key name: letters, digits, `-`, `_` and `.`, 1 to 64 of them.
pub(super) fn check_name(what: &str, value: &str) -> Result<()> {
    let fits = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if fits {
        Ok(())
    } else {
        Err(Error::config(format!(
            "`{}` cannot be the {what} of a Redis key: use 1 to 64 letters, digits, `-`, `_` \
             or `.`",
            value.escape_debug()
        )))
    }
}
