//! Unit tests of the peer channel (see `tests/` for the scenarios).
