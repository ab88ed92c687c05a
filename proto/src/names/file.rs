//! Turning an offered file name into a safe local name.
