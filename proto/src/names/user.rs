//! Login-name rules.
