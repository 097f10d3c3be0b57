//! Terminal output: colours when stdout is a terminal and `NO_COLOR` is unset (anstream
//! decides), ✓ / ✗ lines, pretty JSON.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

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

/// A body: pretty JSON when it is JSON, else the text (or a note for binary data). On a
/// terminal, control characters other than newlines and tabs are shown escaped (`\u{1b}`):
/// a server's text must not move the cursor, retitle the window or forge lines.
pub fn body(bytes: &[u8]) {
    let mut out = anstream::stdout();
    if bytes.is_empty() {
        return;
    }
    let terminal = std::io::stdout().is_terminal();
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
        let _ = writeln!(out, "{}", shown(&pretty, terminal));
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = writeln!(out, "{}", shown(text, terminal));
    } else {
        let _ = writeln!(
            out,
            "{DIM}({} bytes of binary data; use --raw to write them out){DIM:#}",
            bytes.len()
        );
    }
}

/// `text` as it may be shown: on a terminal, every control character but `\n` and `\t`
/// escaped (C0, DEL and the C1 range, where `\u{9b}` opens an escape sequence as `ESC [`
/// does); elsewhere as it is.
fn shown(text: &str, terminal: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !terminal || !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            escaped.extend(c.escape_unicode());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// The error of a failed command, on stderr.
pub fn error(failure: &Failure) {
    let _ = writeln!(anstream::stderr(), "{BAD}error:{BAD:#} {}", failure.0);
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn control_characters_are_escaped_on_a_terminal() {
        let text = "ok\n\tline\u{1b}]0;owned\u{7}\u{9b}2J\r\u{7f}";
        assert_eq!(
            shown(text, true),
            "ok\n\tline\\u{1b}]0;owned\\u{7}\\u{9b}2J\\u{d}\\u{7f}"
        );
        assert_eq!(shown(text, false), text, "a pipe gets the bytes");
        assert_eq!(shown("交易 ok\n", true), "交易 ok\n");
    }
}
