//! [`super::check`] tests its ASCII rules on bytes; these tests hold it to the same rules
//! written with `str`'s character patterns, on arbitrary names.

extern crate std;

use proptest::prelude::*;

use super::{check, check_char, has_txt_extension, NameError, SafeName};
use crate::wire::MAX_FILE_NAME_LEN;

/// The rules as first written, on characters.
fn check_by_chars(offered: &str) -> Result<SafeName<'_>, NameError> {
    if offered.is_empty() {
        return Err(NameError::Empty);
    }
    if offered.len() > MAX_FILE_NAME_LEN {
        return Err(NameError::TooLong);
    }
    if offered.contains(['/', '\\']) {
        return Err(NameError::PathSeparator);
    }
    offered.chars().try_for_each(check_char)?;
    if offered.contains("..") {
        return Err(NameError::DotDot);
    }
    if offered.starts_with('.') {
        return Err(NameError::LeadingDot);
    }
    if offered.ends_with(['.', ' ']) {
        return Err(NameError::TrailingDotOrSpace);
    }
    let base = offered
        .split('.')
        .next()
        .unwrap_or(offered)
        .trim_end_matches(' ');
    let b = base.as_bytes();
    let eq = |s: &str| b.eq_ignore_ascii_case(s.as_bytes());
    if eq("CON")
        || eq("PRN")
        || eq("AUX")
        || eq("NUL")
        || (b.len() == 4
            && (b[..3].eq_ignore_ascii_case(b"COM") || b[..3].eq_ignore_ascii_case(b"LPT"))
            && matches!(b[3], b'1'..=b'9'))
    {
        return Err(NameError::Reserved);
    }
    if !has_txt_extension(offered) {
        return Err(NameError::NotTxt);
    }
    Ok(SafeName(offered))
}

/// Names made of the characters the rules are about, and a few others.
fn name() -> impl Strategy<Value = std::string::String> {
    const PARTS: &[&str] = &[
        "con", "PRN", "aUx", "nul", "com", "LPT", "1", "9", "0", ".", "..", " ", ".txt", ".TXT",
        "/", "\\", "a", "é", "\u{202e}", "\u{7}", ":", "?",
    ];
    let parts = proptest::sample::select(PARTS);
    proptest::collection::vec(parts, 0..8).prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn bytes_and_characters_give_the_same_verdict(name in name()) {
        prop_assert_eq!(check(&name), check_by_chars(&name));
    }

    #[test]
    fn arbitrary_names_get_the_same_verdict(name in "\\PC{0,12}") {
        prop_assert_eq!(check(&name), check_by_chars(&name));
    }
}
