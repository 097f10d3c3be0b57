//! [`Backend`]: which implementation performs the RSA operations of a key, and the one place
//! that maps it to the code compiled in.

use super::rsa::Rsa;
use crate::error::{Error, Result};

/// Which implementation performs the RSA operations of a key.
///
/// `AwsLc` (feature `aws-lc`, on by default) is the fast one; `RustCrypto` (feature
/// `rustcrypto`) uses the pure-Rust `rsa` crate. Both give byte-identical signatures. With
/// both features on, both are compiled in: [`Backend::default`] is `AwsLc`, and the
/// `*_with_backend` constructors pick the other (the benches and tests compare them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// aws-lc-rs.
    AwsLc,
    /// The pure-Rust `rsa` crate.
    RustCrypto,
}

impl Default for Backend {
    /// `AwsLc` when the `aws-lc` feature is on, else `RustCrypto` (which reports that its
    /// feature is off when neither is compiled in).
    fn default() -> Self {
        if cfg!(feature = "aws-lc") {
            Backend::AwsLc
        } else {
            Backend::RustCrypto
        }
    }
}

impl Backend {
    /// The backends compiled into this build, the default first.
    pub fn available() -> &'static [Backend] {
        &[
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc,
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto,
        ]
    }

    /// The implementation of this backend: the only place that looks at the features. A
    /// backend that is not compiled in is a stand-in error naming the feature to enable
    /// (so that a build without any backend still compiles, and says what it lacks at the
    /// first key it is given).
    pub(crate) fn rsa(self) -> Result<&'static dyn Rsa> {
        match self {
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc => Ok(&super::aws_lc::AwsLc),
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => Ok(&super::rust_crypto::RustCrypto),
            #[allow(unreachable_patterns)]
            missing => Err(not_compiled_in(missing)),
        }
    }
}

fn not_compiled_in(backend: Backend) -> Error {
    let feature = match backend {
        Backend::AwsLc => "aws-lc",
        Backend::RustCrypto => "rustcrypto",
    };
    Error::config(format!(
        "the {backend:?} crypto backend is not compiled in: enable the `{feature}` feature of \
         wechatpay"
    ))
}
