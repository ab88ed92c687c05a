use super::*;

#[test]
fn echo_prefixes_the_text() {
    let mut reply = Reply::new();
    assert_eq!(reply.echo("hi there"), "echo: hi there");
    assert_eq!(reply.echo("again"), "echo: again");
}

#[test]
fn a_long_echo_is_cut_at_a_character_boundary() {
    let long = "é".repeat(REPLY_CAP);
    let mut reply = Reply::new();
    let text = reply.echo(&long);
    assert!(text.len() <= REPLY_CAP);
    assert!(text.starts_with("echo: éé"));
    assert!(text.ends_with("é…"));
}

#[test]
fn file_reply_names_length_and_hash() {
    let hash = *blake3::hash(b"abc").as_bytes();
    let mut reply = Reply::new();
    let text = reply.file_received("notes.txt", 3, &hash);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(text, format!("received notes.txt: 3 bytes, blake3 {hex}"));
}

#[test]
fn file_reply_fits_with_the_longest_name() {
    let name = format!("{}.txt", "n".repeat(251));
    let mut reply = Reply::new();
    let text = reply.file_received(&name, FILE_LEN, &[0xab; 32]);
    assert!(text.ends_with(&"ab".repeat(32)));
}

const FILE_LEN: usize = 4096;

#[test]
fn file_reply_writes_every_length_in_decimal() {
    let mut reply = Reply::new();
    for len in [0, 7, 10, 4096, usize::MAX] {
        let text = reply.file_received("a.txt", len, &[0x0f; 32]);
        let want = format!("received a.txt: {len} bytes, blake3 {}", "0f".repeat(32));
        assert_eq!(text, want);
    }
}
