//! The file-name vector table: every row is checked against [`super::check`] and must
//! appear, written the same way, in `docs/PROTOCOL.md` ("File names: test vectors").

extern crate std;

use std::format;
use std::string::String;

use super::{check, NameError};

/// `(offered name, expected outcome)`: `Ok(())` means accepted unchanged.
const VECTORS: &[(&str, Result<(), NameError>)] = &[
    // Ordinary names.
    ("notes.txt", Ok(())),
    ("NOTES.TXT", Ok(())),
    ("Notes.Txt", Ok(())),
    ("a.txt", Ok(())),
    ("my notes.txt", Ok(())),
    ("report-2026_11.txt", Ok(())),
    ("archive.tar.txt", Ok(())),
    ("résumé.txt", Ok(())),
    ("日本語.txt", Ok(())),
    ("CONSOLE.txt", Ok(())),
    ("COM10.txt", Ok(())),
    ("nul1.txt", Ok(())),
    ("x.y.z.txt", Ok(())),
    ("a b c.txt", Ok(())),
    ("1.txt", Ok(())),
    ("(1).txt", Ok(())),
    // Hostile names.
    ("", Err(NameError::Empty)),
    ("../../x.txt", Err(NameError::PathSeparator)),
    ("..\\..\\x.txt", Err(NameError::PathSeparator)),
    ("/etc/x.txt", Err(NameError::PathSeparator)),
    ("C:\\Windows\\x.txt", Err(NameError::PathSeparator)),
    ("dir/x.txt", Err(NameError::PathSeparator)),
    ("x.txt/", Err(NameError::PathSeparator)),
    ("\\\\server\\share\\x.txt", Err(NameError::PathSeparator)),
    ("..", Err(NameError::DotDot)),
    ("..txt", Err(NameError::DotDot)),
    ("a..txt", Err(NameError::DotDot)),
    ("x.txt\0.sh", Err(NameError::Control)),
    ("a\u{1b}[2Jb.txt", Err(NameError::Control)),
    ("\u{1b}]0;pwned\u{7}.txt", Err(NameError::Control)),
    ("line\nbreak.txt", Err(NameError::Control)),
    ("carriage\rreturn.txt", Err(NameError::Control)),
    ("tab\t.txt", Err(NameError::Control)),
    ("del\u{7f}.txt", Err(NameError::Control)),
    ("c1\u{9b}31m.txt", Err(NameError::Control)),
    ("evil\u{202e}txt.exe", Err(NameError::Control)),
    ("zero\u{200b}width.txt", Err(NameError::Control)),
    ("bom\u{feff}.txt", Err(NameError::Control)),
    (".hidden.txt", Err(NameError::LeadingDot)),
    (".txt", Err(NameError::LeadingDot)),
    ("notes.txt.", Err(NameError::TrailingDotOrSpace)),
    ("notes.txt ", Err(NameError::TrailingDotOrSpace)),
    ("CON.txt", Err(NameError::Reserved)),
    ("con.txt", Err(NameError::Reserved)),
    ("Prn.txt", Err(NameError::Reserved)),
    ("aux.tar.txt", Err(NameError::Reserved)),
    ("NUL.txt", Err(NameError::Reserved)),
    ("com1.txt", Err(NameError::Reserved)),
    ("COM9.TXT", Err(NameError::Reserved)),
    ("lpt5.txt", Err(NameError::Reserved)),
    ("con .txt", Err(NameError::Reserved)),
    ("x.txt:stream", Err(NameError::Forbidden)),
    ("what?.txt", Err(NameError::Forbidden)),
    ("star*.txt", Err(NameError::Forbidden)),
    ("pipe|.txt", Err(NameError::Forbidden)),
    ("<tag>.txt", Err(NameError::Forbidden)),
    ("quote\".txt", Err(NameError::Forbidden)),
    ("x.sh", Err(NameError::NotTxt)),
    ("notes.txt.exe", Err(NameError::NotTxt)),
    ("notes", Err(NameError::NotTxt)),
    ("notestxt", Err(NameError::NotTxt)),
    ("txt", Err(NameError::NotTxt)),
];

/// A 256-byte name (one over the limit).
const LONG: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.txt";

fn row(name: &str, expected: Result<(), NameError>) -> String {
    let outcome = match expected {
        Ok(()) => String::from("accepted"),
        Err(e) => format!("refused: {e:?}"),
    };
    let shown = format!("{}", name.escape_debug()).replace('|', "\\|");
    format!("| `\"{shown}\"` | {outcome} |")
}

#[test]
fn every_vector_has_its_outcome() {
    for &(name, expected) in VECTORS {
        let got = check(name).map(|safe| {
            assert_eq!(safe.as_str(), name, "accepted names are kept unchanged");
        });
        assert_eq!(got, expected, "{name:?}");
    }
    assert_eq!(LONG.len(), 256);
    assert_eq!(check(LONG), Err(NameError::TooLong));
    assert!(check(&LONG[1..]).is_ok());
}

#[test]
fn table_has_enough_hostile_and_ordinary_names() {
    let ordinary = VECTORS.iter().filter(|(_, r)| r.is_ok()).count();
    let hostile = VECTORS.len() - ordinary + 1;
    assert!(
        ordinary >= 10 && hostile >= 30,
        "{ordinary} ordinary, {hostile} hostile"
    );
}

#[test]
fn protocol_doc_lists_the_same_vectors() {
    let doc = include_str!("../../../../docs/PROTOCOL.md");
    let missing: std::vec::Vec<String> = VECTORS
        .iter()
        .map(|&(name, expected)| row(name, expected))
        .filter(|r| !doc.contains(r.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/PROTOCOL.md lacks these rows:\n{}",
        missing.join("\n")
    );
}
