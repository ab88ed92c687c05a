//! Turning an offered file name into a safe local name.
//!
//! Owns the receiver's rules for names a sender offers ([`check`]) and the collision rule
//! a host follows when the name already exists ([`numbered`]). The rules are strict and
//! refuse rather than repair: a name that is not already a plain, portable base name
//! ending in `.txt` is refused with a typed reason, so a sender can never choose where a
//! file lands (no path parts, no device names, nothing a terminal would interpret).
//!
//! A safe name is at most [`MAX_FILE_NAME_LEN`] bytes and:
//! - is a base name: no `/`, `\`, and neither `.` nor `..` anywhere as a component;
//! - holds no NUL, no C0/C1 control character (so no ANSI escape), no DEL, no Unicode
//!   bidirectional or invisible formatting character, and none of `< > : " | ? *`;
//! - does not start with a dot and does not end with a dot or a space;
//! - is not a Windows device name (CON, PRN, AUX, NUL, COM1–9, LPT1–9), whatever its
//!   extension or case;
//! - ends in `.txt` (any case) with a non-empty stem.

use core::fmt;

use crate::wire::{FileRejectReason, MAX_FILE_NAME_LEN};

/// Why an offered name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// Over [`MAX_FILE_NAME_LEN`] bytes.
    TooLong,
    /// Contains `/` or `\`.
    PathSeparator,
    /// Contains `..`.
    DotDot,
    /// Contains NUL, a control character, an escape or an invisible formatting character.
    Control,
    /// Contains a character Windows forbids in names (`< > : " | ? *`).
    Forbidden,
    /// Starts with a dot (hidden file).
    LeadingDot,
    /// Ends with a dot or a space.
    TrailingDotOrSpace,
    /// A Windows device name (CON, PRN, AUX, NUL, COM1–9, LPT1–9).
    Reserved,
    /// Does not end in `.txt`, or has nothing before it.
    NotTxt,
}

impl NameError {
    /// The refusal a receiver sends for this error.
    pub const fn reject_reason(self) -> FileRejectReason {
        match self {
            NameError::NotTxt => FileRejectReason::NotTxt,
            _ => FileRejectReason::BadName,
        }
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::Empty => "file name is empty",
            NameError::TooLong => "file name is over 255 bytes",
            NameError::PathSeparator => "file name contains a path separator",
            NameError::DotDot => "file name contains '..'",
            NameError::Control => "file name contains a control or invisible character",
            NameError::Forbidden => "file name contains one of < > : \" | ? *",
            NameError::LeadingDot => "file name starts with a dot",
            NameError::TrailingDotOrSpace => "file name ends with a dot or a space",
            NameError::Reserved => "file name is a reserved device name",
            NameError::NotTxt => "only .txt files are accepted",
        })
    }
}

impl core::error::Error for NameError {}

/// A name that passed [`check`]: safe to join to the downloads folder as one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SafeName<'a>(&'a str);

impl<'a> SafeName<'a> {
    /// The name.
    pub const fn as_str(self) -> &'a str {
        self.0
    }

    /// The name without its `.txt` extension (never empty).
    pub fn stem(self) -> &'a str {
        &self.0[..self.0.len() - 4]
    }

    /// The extension as offered, with its dot (`.txt` in any case).
    pub fn extension(self) -> &'a str {
        &self.0[self.0.len() - 4..]
    }
}

impl fmt::Display for SafeName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Checks an offered name against every rule of this module.
pub fn check(offered: &str) -> Result<SafeName<'_>, NameError> {
    // Every rule but the control characters is about ASCII characters, tested on bytes
    // (in UTF-8 an ASCII byte is always that character): `str`'s pattern searches would
    // link a substring searcher and UTF-8 decoding backwards, for a device's footprint.
    let bytes = offered.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Err(NameError::Empty);
    };
    if bytes.len() > MAX_FILE_NAME_LEN {
        return Err(NameError::TooLong);
    }
    if bytes.iter().any(|&b| b == b'/' || b == b'\\') {
        return Err(NameError::PathSeparator);
    }
    offered.chars().try_for_each(check_char)?;
    if bytes.windows(2).any(|w| w == b"..") {
        return Err(NameError::DotDot);
    }
    if first == b'.' {
        return Err(NameError::LeadingDot);
    }
    if last == b'.' || last == b' ' {
        return Err(NameError::TrailingDotOrSpace);
    }
    if is_reserved(bytes) {
        return Err(NameError::Reserved);
    }
    if !has_txt_extension(offered) {
        return Err(NameError::NotTxt);
    }
    Ok(SafeName(offered))
}

/// Whether a name ends in `.txt` (any case) with something before it.
pub fn has_txt_extension(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() > 4 && bytes[bytes.len() - 4..].eq_ignore_ascii_case(b".txt")
}

fn check_char(c: char) -> Result<(), NameError> {
    match c {
        '<' | '>' | ':' | '"' | '|' | '?' | '*' => Err(NameError::Forbidden),
        c if c.is_control() || is_invisible_format(c) => Err(NameError::Control),
        _ => Ok(()),
    }
}

/// Bidirectional overrides and zero-width characters: they make a name display as
/// something it is not (`evil\u{202e}txt.exe`).
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// Windows device names, with any extension, trailing spaces and in any case
/// (`con.txt`, `Com1.tar.txt`, `NUL .txt`).
fn is_reserved(name: &[u8]) -> bool {
    let base = name.split(|&b| b == b'.').next().unwrap_or(name);
    let base = &base[..base.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1)];
    let Some(head) = base.first_chunk::<3>() else {
        return false;
    };
    match (head.map(|b| b.to_ascii_uppercase()), base.get(3)) {
        (ref h, None) => matches!(h, b"CON" | b"PRN" | b"AUX" | b"NUL"),
        (ref h, Some(b'1'..=b'9')) => base.len() == 4 && matches!(h, b"COM" | b"LPT"),
        _ => false,
    }
}

/// The `n`-th alternative to a name that already exists: `notes.txt` → `notes (n).txt`.
///
/// Displays as at most [`MAX_FILE_NAME_LEN`] bytes: a long stem is cut on a character
/// boundary to make room for the ` (n)` suffix. `n == 0` displays the name itself. The
/// result is itself a safe name. A host tries `n = 0, 1, 2, …` with create-new semantics
/// until one does not exist.
pub fn numbered(name: SafeName<'_>, n: u32) -> Numbered<'_> {
    Numbered { name, n }
}

/// See [`numbered`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbered<'a> {
    name: SafeName<'a>,
    n: u32,
}

impl fmt::Display for Numbered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.n == 0 {
            return f.write_str(self.name.as_str());
        }
        let suffix = suffix_len(self.n);
        let stem = self.name.stem();
        let room = MAX_FILE_NAME_LEN - suffix - 4;
        let mut cut = stem.len().min(room);
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        // A cut stem may end in a space or dot; " (n)" follows, so the result stays safe.
        write!(f, "{} ({}){}", &stem[..cut], self.n, self.name.extension())
    }
}

/// Bytes of ` (n)`.
fn suffix_len(n: u32) -> usize {
    let mut digits = 1;
    let mut v = n;
    while v >= 10 {
        v /= 10;
        digits += 1;
    }
    digits + 3
}

#[cfg(test)]
mod byte_rules;
#[cfg(test)]
mod vectors;

#[cfg(test)]
mod tests {
    use super::*;

    struct Buf {
        bytes: [u8; 300],
        len: usize,
    }

    impl fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len + s.len();
            self.bytes
                .get_mut(self.len..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    fn render(name: &str, n: u32) -> Buf {
        let mut buf = Buf {
            bytes: [0; 300],
            len: 0,
        };
        fmt::write(
            &mut buf,
            format_args!("{}", numbered(check(name).unwrap(), n)),
        )
        .unwrap();
        buf
    }

    fn text(buf: &Buf) -> &str {
        core::str::from_utf8(&buf.bytes[..buf.len]).unwrap()
    }

    #[test]
    fn numbering_inserts_before_the_extension() {
        assert_eq!(text(&render("notes.txt", 0)), "notes.txt");
        assert_eq!(text(&render("notes.txt", 1)), "notes (1).txt");
        assert_eq!(text(&render("notes.TXT", 12)), "notes (12).TXT");
        assert_eq!(text(&render("a.b.txt", 2)), "a.b (2).txt");
    }

    #[test]
    fn numbering_keeps_long_names_within_the_limit() {
        let mut long = [b'a'; 255];
        long[251..].copy_from_slice(b".txt");
        let long = core::str::from_utf8(&long).unwrap();
        let out = render(long, 4_000_000_000);
        assert_eq!(out.len, MAX_FILE_NAME_LEN);
        assert!(text(&out).ends_with(" (4000000000).txt"));
        assert!(check(text(&out)).is_ok());
    }

    #[test]
    fn numbering_cuts_on_a_character_boundary() {
        let mut s = [0u8; 255];
        for chunk in s[..250].chunks_mut(2) {
            chunk.copy_from_slice("é".as_bytes());
        }
        s[250] = b'x';
        s[251..].copy_from_slice(b".txt");
        let name = core::str::from_utf8(&s).unwrap();
        let out = render(name, 7);
        assert!(out.len <= MAX_FILE_NAME_LEN);
        assert!(text(&out).ends_with("é (7).txt"));
    }

    #[test]
    fn refusals_map_to_wire_reasons() {
        assert_eq!(NameError::NotTxt.reject_reason(), FileRejectReason::NotTxt);
        assert_eq!(
            NameError::Control.reject_reason(),
            FileRejectReason::BadName
        );
    }
}
