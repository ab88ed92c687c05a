//! The directory server as a library, so the client can embed it.
