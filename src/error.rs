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
    /// The model bytes are not a well-formed TFLite flatbuffer (bounds, offsets, identifier, sizes).
    Malformed(String),
    /// A well-formed model uses something the engine does not run.
    Unsupported {
        /// Index of the operator in the subgraph, when one is at fault.
        operator: Option<usize>,
        /// The op or tensor concerned, e.g. "MAX_POOL_2D" or "tensor 7 (conv1/weights)".
        subject: String,
        /// What about it is unsupported.
        detail: String,
    },
    /// An image file could not be read or decoded (native builds only).
    Image(String),
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
            Error::Malformed(_) => "malformed_model",
            Error::Unsupported { .. } => "unsupported_model",
            Error::Image(_) => "image",
        }
    }

    pub fn image(msg: impl Into<String>) -> Self {
        Error::Image(msg.into())
    }

    pub fn malformed(msg: impl Into<String>) -> Self {
        Error::Malformed(msg.into())
    }

    pub fn unsupported(operator: Option<usize>, subject: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Unsupported { operator, subject: subject.into(), detail: detail.into() }
    }

    /// Whether the fault is in the model file rather than in the caller's arguments or data.
    pub fn is_model_error(&self) -> bool {
        matches!(self, Error::Malformed(_) | Error::Unsupported { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "invalid configuration: {m}"),
            Error::Shape(m) => write!(f, "shape mismatch: {m}"),
            Error::NonFinite(m) => write!(f, "non-finite value: {m}"),
            Error::UnknownEndPoint(m) => write!(f, "unknown end point {m:?}"),
            Error::Malformed(m) => write!(f, "malformed model: {m}"),
            Error::Unsupported { operator: Some(i), subject, detail } => {
                write!(f, "unsupported model: operator {i} ({subject}): {detail}")
            }
            Error::Unsupported { operator: None, subject, detail } => {
                write!(f, "unsupported model: {subject}: {detail}")
            }
            Error::Image(m) => write!(f, "image: {m}"),
        }
    }
}

impl std::error::Error for Error {}
