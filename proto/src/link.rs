//! Reliable messaging with one peer over datagrams.
