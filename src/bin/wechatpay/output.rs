//! Terminal output: colours when stdout is a terminal and `NO_COLOR` is unset (anstream
//! decides), ✓ / ✗ lines, pretty JSON.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use crate::Failure;

const GOOD: Style = AnsiColor::Green.on_default().bold();
const BAD: Style = AnsiColor::Red.on_default().bold();
const DIM: Style = Style::new().dimmed();
const LABEL: Style = Style::new().bold();

/// `label: value` on stdout.
pub fn field(label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(anstream::stdout(), "{LABEL}{label}:{LABEL:#} {value}");
}

/// `✓ text` on stdout.
pub fn pass(text: impl std::fmt::Display) {
    let _ = writeln!(anstream::stdout(), "{GOOD}✓{GOOD:#} {text}");
}

/// `✗ text` on stdout.
pub fn fail(text: impl std::fmt::Display) {
    let _ = writeln!(anstream::stdout(), "{BAD}✗{BAD:#} {text}");
}

/// A dimmed note on stdout.
pub fn note(text: impl std::fmt::Display) {
    let _ = writeln!(anstream::stdout(), "{DIM}{text}{DIM:#}");
}

/// A body: pretty JSON when it is JSON, else the text (or a note for binary data).
pub fn body(bytes: &[u8]) {
    let mut out = anstream::stdout();
    if bytes.is_empty() {
        return;
    }
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
        let _ = writeln!(out, "{pretty}");
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = writeln!(out, "{text}");
    } else {
        let _ = writeln!(
            out,
            "{DIM}({} bytes of binary data; use --raw to write them out){DIM:#}",
            bytes.len()
        );
    }
}

/// The error of a failed command, on stderr.
pub fn error(failure: &Failure) {
    let _ = writeln!(anstream::stderr(), "{BAD}error:{BAD:#} {}", failure.0);
}
