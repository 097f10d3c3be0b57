//! The product groups: the enum is generated (`generated/products.rs`) from the table of path
//! prefixes in the generator, `tests/it/sourcegen.rs`.

use std::fmt;

include!("../../generated/products.rs");

impl fmt::Display for Product {
    /// The English name, as [`Product::name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
