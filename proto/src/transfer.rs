//! File chunking and transfer state machines.
