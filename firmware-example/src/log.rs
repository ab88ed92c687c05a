//! Logging that works with and without defmt: `info!(sink, "fmt", args…)`, where
//! `sink` is a `&mut` to any [`crate::platform::Log`], writes a text line through it,
//! or, with the `defmt` feature, a defmt frame through the platform's global logger. Format strings use only `{}`
//! and `{:?}`, which both formatters understand.

/// Logs at `Level::Info`.
#[macro_export]
macro_rules! info {
    ($p:expr, $($arg:tt)+) => { $crate::__log!($p, Info, info, $($arg)+) };
}

/// Logs at `Level::Warn`.
#[macro_export]
macro_rules! warn {
    ($p:expr, $($arg:tt)+) => { $crate::__log!($p, Warn, warn, $($arg)+) };
}

/// Logs at `Level::Error`.
#[macro_export]
macro_rules! error {
    ($p:expr, $($arg:tt)+) => { $crate::__log!($p, Error, error, $($arg)+) };
}

/// Logs at `Level::Debug`.
#[macro_export]
macro_rules! debug {
    ($p:expr, $($arg:tt)+) => { $crate::__log!($p, Debug, debug, $($arg)+) };
}

#[cfg(not(feature = "defmt"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __log {
    ($p:expr, $level:ident, $defmt:ident, $($arg:tt)+) => {
        $crate::platform::Log::log(
            $p,
            $crate::platform::Level::$level,
            format_args!($($arg)+),
        )
    };
}

#[cfg(feature = "defmt")]
#[doc(hidden)]
#[macro_export]
macro_rules! __log {
    ($p:expr, $level:ident, $defmt:ident, $($arg:tt)+) => {{
        let _ = &$p;
        $crate::defmt::$defmt!($($arg)+)
    }};
}
