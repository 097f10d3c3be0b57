//! Randomness from the operating system.

use crate::error::{Error, Result};

/// Fills `buffer` with random bytes from the operating system.
///
/// # Errors
///
/// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) when the system has no randomness.
pub(crate) fn fill(buffer: &mut [u8]) -> Result<()> {
    getrandom::fill(buffer)
        .map_err(|e| Error::crypto(format!("the operating system gave no random bytes: {e}")))
}
