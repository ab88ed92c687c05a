//! Early writeback: started by the amount written, its errors not lost.

use std::fs::{File, OpenOptions};

use super::early_sync::{EarlySync, SYNC_EVERY};

#[test]
fn a_sync_starts_after_enough_bytes_and_finishes_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let file = File::create(dir.path().join("a.part")).unwrap();
    let mut early = EarlySync::default();
    early.wrote(&file, SYNC_EVERY - 1).unwrap();
    assert!(!early.started(), "not yet");
    early.wrote(&file, 1).unwrap();
    assert!(early.started());
    early.wrote(&file, 3 * SYNC_EVERY).unwrap();
    early.finish().unwrap();
    assert!(!early.started());
}

#[test]
fn an_early_sync_error_is_returned_by_finish() {
    // Syncing a character device fails (EINVAL): the error must reach the writer.
    let file = OpenOptions::new().write(true).open("/dev/null").unwrap();
    let mut early = EarlySync::default();
    early.wrote(&file, SYNC_EVERY).unwrap();
    assert!(early.finish().is_err());
}

#[test]
fn nothing_to_finish_without_a_sync() {
    let mut early = EarlySync::default();
    early.finish().unwrap();
}
