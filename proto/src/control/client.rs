//! Client end of the control connection.
