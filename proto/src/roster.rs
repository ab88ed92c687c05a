//! The client's replica of the directory (see issue: Directory).
