use super::*;

#[test]
fn out_of_order_writes_hash_to_the_whole_file() {
    let text = b"hello, device\nsecond line\n";
    let mut slot = FileSlot::new();
    slot.begin("notes.txt", text.len() as u64).unwrap();
    slot.write(10, &text[10..]).unwrap();
    slot.write(0, &text[..10]).unwrap();
    assert_eq!(slot.name(), "notes.txt");
    let (len, hash) = slot.finish().unwrap();
    assert_eq!(len, text.len());
    assert_eq!(hash, *blake3::hash(text).as_bytes());
}

#[test]
fn a_file_over_the_cap_is_refused() {
    let mut slot = FileSlot::new();
    let over = FILE_CAP as u64 + 1;
    assert_eq!(slot.begin("big.txt", over), Err(SlotError::TooLarge));
    assert!(!slot.is_busy());
    slot.begin("big.txt", FILE_CAP as u64).unwrap();
}

#[test]
fn one_file_at_a_time() {
    let mut slot = FileSlot::new();
    slot.begin("a.txt", 3).unwrap();
    assert_eq!(slot.begin("b.txt", 3), Err(SlotError::Busy));
    assert_eq!(slot.name(), "a.txt");
    slot.clear();
    assert_eq!(slot.name(), "");
    slot.begin("b.txt", 3).unwrap();
}

#[test]
fn writes_outside_the_file_are_refused_and_change_nothing() {
    let mut slot = FileSlot::new();
    assert_eq!(slot.write(0, b"x"), Err(SlotError::OutOfRange));
    slot.begin("a.txt", 4).unwrap();
    slot.write(0, b"abcd").unwrap();
    assert_eq!(slot.write(2, b"xyz"), Err(SlotError::OutOfRange));
    assert_eq!(slot.write(u64::MAX, b"x"), Err(SlotError::OutOfRange));
    assert_eq!(slot.finish().unwrap().1, *blake3::hash(b"abcd").as_bytes());
}

#[test]
fn an_empty_file_hashes_as_empty() {
    let mut slot = FileSlot::new();
    slot.begin("empty.txt", 0).unwrap();
    assert_eq!(slot.finish().unwrap(), (0, *blake3::hash(b"").as_bytes()));
}
