//! Server end of one control connection.
