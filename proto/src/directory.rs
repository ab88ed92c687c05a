//! The directory server's peer table (see issue: Directory).
