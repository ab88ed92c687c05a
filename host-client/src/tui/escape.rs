//! Making text from peers safe to draw: control characters and invisible direction
//! overrides are shown escaped (`\u{1b}`), so a hostile name or file name can neither
//! move the cursor, recolour the terminal nor hide or reorder what is shown next to it.

use std::borrow::Cow;

/// Whether `c` must not reach the terminal as is.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'   // zero-width spaces, direction marks
                | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
                | '\u{2066}'..='\u{2069}' // bidi isolates
                | '\u{feff}'              // zero-width no-break space
        )
}

/// `s` with every unsafe character written as `\u{XX}`; borrowed when nothing changes.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    if is_unsafe(c) {
        out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    } else {
        out.push(c);
    }
}

/// A message text as display lines: line breaks start a new line, a tab becomes a
/// space, every other unsafe character is escaped.
pub(crate) fn text_lines(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let mut out = String::with_capacity(line.len());
            for c in line.chars() {
                if c == '\t' {
                    out.push(' ');
                } else {
                    push_escaped(&mut out, c);
                }
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_borrowed_unchanged() {
        assert!(matches!(escape("bob_1.x"), Cow::Borrowed("bob_1.x")));
        assert_eq!(escape("héllo 世界"), "héllo 世界");
    }

    #[test]
    fn control_and_direction_characters_are_escaped() {
        assert_eq!(escape("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("x\ny\r"), "x\\u{a}y\\u{d}");
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escape("\u{7f}\u{9b}"), "\\u{7f}\\u{9b}");
    }

    #[test]
    fn message_text_keeps_its_lines() {
        assert_eq!(text_lines("one\r\ntwo\tthree"), vec!["one", "two three"]);
        assert_eq!(text_lines("bell\x07"), vec!["bell\\u{7}"]);
        assert_eq!(text_lines(""), vec![""]);
    }
}
