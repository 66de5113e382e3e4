//! The one error type of the crate. Every failure on outside data (arguments, tensors, model bytes)
//! comes back as one of these, never as a panic.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A configuration value is out of range (alpha, resolution, output_stride, num_classes).
    Config(String),
    /// A tensor or buffer has the wrong size or shape for the operation.
    Shape(String),
    /// A value that must be finite is NaN or infinite.
    NonFinite(String),
    /// An end point name that the network does not have.
    UnknownEndPoint(String),
}

impl Error {
    pub fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }

    pub fn shape(msg: impl Into<String>) -> Self {
        Error::Shape(msg.into())
    }

    /// A short machine-readable name of the variant, for the JS side's `error.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::Shape(_) => "shape",
            Error::NonFinite(_) => "non_finite",
            Error::UnknownEndPoint(_) => "unknown_end_point",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "invalid configuration: {m}"),
            Error::Shape(m) => write!(f, "shape mismatch: {m}"),
            Error::NonFinite(m) => write!(f, "non-finite value: {m}"),
            Error::UnknownEndPoint(m) => write!(f, "unknown end point {m:?}"),
        }
    }
}

impl std::error::Error for Error {}
