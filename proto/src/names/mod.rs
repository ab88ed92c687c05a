//! Name rules: user login names and received file names.

pub mod file;
pub mod user;
