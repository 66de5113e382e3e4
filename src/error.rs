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
    /// Examples or options that a head cannot be trained from (one class, an empty class, a wrong length).
    Teach(String),
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
            Error::Teach(_) => "teach",
        }
    }

    pub fn image(msg: impl Into<String>) -> Self {
        Error::Image(msg.into())
    }

    pub fn teach(msg: impl Into<String>) -> Self {
        Error::Teach(msg.into())
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
            Error::Teach(m) => write!(f, "cannot teach: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// A float in a message, written without core's float formatting (about 20 KB of .wasm, which no other path
/// needs): up to 7 significant digits, positional from 1e-5 to 1e7, else as d.dddde±x.
#[derive(Clone, Copy, Debug)]
pub struct Real(pub f64);

impl From<f32> for Real {
    fn from(x: f32) -> Real {
        Real(f64::from(x))
    }
}

impl fmt::Display for Real {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        if x.is_nan() || x.is_infinite() || x == 0.0 {
            let s = if x.is_nan() {
                "NaN"
            } else if x == 0.0 {
                "0"
            } else if x > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            return f.write_str(s);
        }
        if x < 0.0 {
            f.write_str("-")?;
        }
        // |x| = m · 10^e with m in [1, 10), then 7 digits of m.
        let (mut m, mut e) = (x.abs(), 0i32);
        while m >= 10.0 {
            m /= 10.0;
            e += 1;
        }
        while m < 1.0 {
            m *= 10.0;
            e -= 1;
        }
        let mut digits = (m * 1e6 + 0.5) as u64;
        if digits >= 10_000_000 {
            digits /= 10;
            e += 1;
        }
        let text = digits.to_string();
        let text = text.trim_end_matches('0');
        let (head, tail) = text.split_at(1);
        match e {
            -5..=-1 => write!(f, "0.{}{text}", "0".repeat((-e - 1) as usize)),
            0..=6 => {
                let e = e as usize;
                if text.len() > e + 1 {
                    write!(f, "{}.{}", &text[..=e], &text[e + 1..])
                } else {
                    write!(f, "{text}{}", "0".repeat(e + 1 - text.len()))
                }
            }
            _ if tail.is_empty() => write!(f, "{head}e{e}"),
            _ => write!(f, "{head}.{tail}e{e}"),
        }
    }
}

/// Floats as a list in a message: `[a, b, …]`.
pub fn reals(values: &[f32]) -> String {
    let items: Vec<String> = values.iter().map(|&v| Real::from(v).to_string()).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::Real;

    #[test]
    fn reals_read_like_floats() {
        let cases: [(f64, &str); 14] = [
            (0.0, "0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.0078125, "0.0078125"),
            (1.0 / 127.5, "0.007843137"),
            (127.5, "127.5"),
            (16.0, "16"),
            (1e6, "1000000"),
            (123456789.0, "1.234568e8"),
            (3e-7, "3e-7"),
            (0.00001, "0.00001"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
            (0.1 + 0.2, "0.3"),
        ];
        for (x, want) in cases {
            assert_eq!(Real(x).to_string(), want, "{x}");
        }
    }
}
