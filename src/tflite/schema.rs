//! The part of TFLite's schema (schema.fbs, version 3) that MobileNet-family models use, as plain Rust
//! values. The reader fills these only after verifying the flatbuffer; everything here is in range:
//! tensor and buffer indices point at existing entries, shapes are non-negative and capped, constant
//! buffers hold exactly product(shape) · element size bytes.

/// The value a schema code table gives `code`, if it lists it.
fn by_code<C: PartialEq, T: Clone>(table: &[(C, T)], code: C) -> Option<T> {
    table.iter().find(|(c, _)| *c == code).map(|(_, t)| t.clone())
}

/// The code a schema code table gives `value`, if it lists it.
fn code_of<C: Copy, T: PartialEq>(table: &[(C, T)], value: &T) -> Option<C> {
    table.iter().find(|(_, t)| t == value).map(|&(c, _)| c)
}

/// TFLite's `TensorType` (the values we run, plus the raw code of anything else).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorType {
    Float32,
    /// IEEE half precision: weights of `supported_types=[float16]` models, read through DEQUANTIZE.
    Float16,
    Int32,
    Uint8,
    Int64,
    Int8,
    /// Any other type code: kept so the importer can name it in its error.
    Other(i8),
}

impl TensorType {
    /// The schema's codes: what the reader maps in and the writer writes out.
    const CODES: [(i8, TensorType); 6] = [
        (0, TensorType::Float32),
        (1, TensorType::Float16),
        (2, TensorType::Int32),
        (3, TensorType::Uint8),
        (4, TensorType::Int64),
        (9, TensorType::Int8),
    ];

    pub fn from_code(code: i8) -> Self {
        by_code(&Self::CODES, code).unwrap_or(TensorType::Other(code))
    }

    pub fn code(self) -> i8 {
        match self {
            TensorType::Other(c) => c,
            t => code_of(&Self::CODES, &t).unwrap_or(-1),
        }
    }

    /// Bytes per element, or None for types we do not size.
    pub fn size(self) -> Option<usize> {
        match self {
            TensorType::Float32 | TensorType::Int32 => Some(4),
            TensorType::Float16 => Some(2),
            TensorType::Uint8 | TensorType::Int8 => Some(1),
            TensorType::Int64 => Some(8),
            TensorType::Other(_) => None,
        }
    }

    pub fn name(self) -> String {
        match self {
            TensorType::Float32 => "FLOAT32".into(),
            TensorType::Float16 => "FLOAT16".into(),
            TensorType::Int32 => "INT32".into(),
            TensorType::Uint8 => "UINT8".into(),
            TensorType::Int64 => "INT64".into(),
            TensorType::Int8 => "INT8".into(),
            TensorType::Other(c) => format!("type code {c}"),
        }
    }
}

/// TFLite's `BuiltinOperator` (resolved as max(deprecated_builtin_code, builtin_code)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuiltinOp {
    AveragePool2d,
    Conv2d,
    DepthwiseConv2d,
    FullyConnected,
    Reshape,
    Softmax,
    Mean,
    Squeeze,
    /// Float or integer to integer: at a full-integer model's edges (uint8 ↔ int8).
    Quantize,
    /// Integer or float16 to float: in front of float16 weights.
    Dequantize,
    /// A builtin we do not run, by code (e.g. 17 = MAX_POOL_2D).
    Other(i32),
    /// A custom op, by its custom_code.
    Custom(String),
}

impl BuiltinOp {
    /// The schema's codes: what the reader maps in and the writer writes out.
    const CODES: [(i32, BuiltinOp); 10] = [
        (1, BuiltinOp::AveragePool2d),
        (3, BuiltinOp::Conv2d),
        (4, BuiltinOp::DepthwiseConv2d),
        (9, BuiltinOp::FullyConnected),
        (22, BuiltinOp::Reshape),
        (25, BuiltinOp::Softmax),
        (40, BuiltinOp::Mean),
        (43, BuiltinOp::Squeeze),
        (114, BuiltinOp::Quantize),
        (6, BuiltinOp::Dequantize),
    ];

    pub fn from_code(code: i32) -> Self {
        by_code(&Self::CODES, code).unwrap_or(BuiltinOp::Other(code))
    }

    /// The builtin code; None for a custom op.
    pub fn code(&self) -> Option<i32> {
        match self {
            BuiltinOp::Other(c) => Some(*c),
            BuiltinOp::Custom(_) => None,
            op => code_of(&Self::CODES, op),
        }
    }

    /// The schema's name, as error messages and the inspector show it.
    pub fn name(&self) -> String {
        match self {
            BuiltinOp::AveragePool2d => "AVERAGE_POOL_2D".into(),
            BuiltinOp::Conv2d => "CONV_2D".into(),
            BuiltinOp::DepthwiseConv2d => "DEPTHWISE_CONV_2D".into(),
            BuiltinOp::FullyConnected => "FULLY_CONNECTED".into(),
            BuiltinOp::Reshape => "RESHAPE".into(),
            BuiltinOp::Softmax => "SOFTMAX".into(),
            BuiltinOp::Mean => "MEAN".into(),
            BuiltinOp::Squeeze => "SQUEEZE".into(),
            BuiltinOp::Quantize => "QUANTIZE".into(),
            BuiltinOp::Dequantize => "DEQUANTIZE".into(),
            BuiltinOp::Other(c) => format!("builtin operator {c}"),
            BuiltinOp::Custom(name) => format!("custom operator {name:?}"),
        }
    }
}

/// TFLite's `Padding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    Same,
    Valid,
}

impl Padding {
    pub fn from_code(code: i8) -> Option<Self> {
        [Padding::Same, Padding::Valid].into_iter().find(|p| p.code() == code)
    }

    pub fn code(self) -> i8 {
        match self {
            Padding::Same => 0,
            Padding::Valid => 1,
        }
    }
}

/// TFLite's `ActivationFunctionType` (NONE, RELU, RELU_N1_TO_1, RELU6 run; others are kept by code for the error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    None,
    Relu,
    ReluN1To1,
    Relu6,
    Other(i8),
}

impl Activation {
    /// The schema's codes: what the reader maps in and the writer writes out.
    const CODES: [(i8, Activation); 4] =
        [(0, Activation::None), (1, Activation::Relu), (2, Activation::ReluN1To1), (3, Activation::Relu6)];

    pub fn from_code(code: i8) -> Self {
        by_code(&Self::CODES, code).unwrap_or(Activation::Other(code))
    }

    pub fn code(self) -> i8 {
        match self {
            Activation::Other(c) => c,
            a => code_of(&Self::CODES, &a).unwrap_or(-1),
        }
    }

    /// The schema's activation for one the engine runs.
    pub fn of(fused: crate::quant::Activation) -> Self {
        use crate::quant::Activation as Fused;
        match fused {
            Fused::None => Activation::None,
            Fused::Relu => Activation::Relu,
            Fused::ReluN1To1 => Activation::ReluN1To1,
            Fused::Relu6 => Activation::Relu6,
        }
    }

    /// The activation as the integer arithmetic knows it; codes the engine does not run are unsupported.
    pub fn fused(self) -> Result<crate::quant::Activation, crate::Error> {
        use crate::quant::Activation as Fused;
        match self {
            Activation::None => Ok(Fused::None),
            Activation::Relu => Ok(Fused::Relu),
            Activation::Relu6 => Ok(Fused::Relu6),
            Activation::ReluN1To1 => Ok(Fused::ReluN1To1),
            Activation::Other(code) => {
                Err(crate::Error::unsupported(None, "fused activation", format!("activation function code {code}")))
            }
        }
    }
}

/// The builtin options of the ops we run (defaults as in schema.fbs when a field is absent).
#[derive(Clone, Debug, PartialEq)]
pub enum Options {
    /// Conv2DOptions: padding, stride_w, stride_h, fused_activation_function, dilation_w/h_factor.
    Conv2d {
        padding: Padding,
        stride: [i32; 2],
        dilation: [i32; 2],
        activation: Activation,
    },
    /// DepthwiseConv2DOptions; stride and dilation are [h, w].
    DepthwiseConv2d {
        padding: Padding,
        stride: [i32; 2],
        dilation: [i32; 2],
        depth_multiplier: i32,
        activation: Activation,
    },
    /// Pool2DOptions; stride and filter are [h, w].
    Pool2d {
        padding: Padding,
        stride: [i32; 2],
        filter: [i32; 2],
        activation: Activation,
    },
    FullyConnected {
        activation: Activation,
        keep_num_dims: bool,
        weights_format: i8,
    },
    Softmax {
        beta: f32,
    },
    Reshape {
        new_shape: Vec<i32>,
    },
    Squeeze {
        squeeze_dims: Vec<i32>,
    },
    Reducer {
        keep_dims: bool,
    },
    /// No options table (or one we do not read).
    None,
}

/// Per-tensor (one scale) or per-axis (one scale per slice along `quantized_dimension`) affine
/// quantization: real = scale · (q − zero_point).
#[derive(Clone, Debug, PartialEq)]
pub struct Quantization {
    pub scale: Vec<f32>,
    pub zero_point: Vec<i64>,
    pub quantized_dimension: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<'a> {
    pub name: String,
    /// Dimensions, each ≥ 0 (checked), NHWC for activations.
    pub shape: Vec<usize>,
    pub dtype: TensorType,
    /// Constant data (weights, biases, shape operands), exactly product(shape) · element size bytes;
    /// None for activations.
    pub data: Option<&'a [u8]>,
    pub quantization: Option<Quantization>,
}

impl Tensor<'_> {
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    pub op: BuiltinOp,
    /// Tensor indices (checked in range); -1 marks an omitted optional input (e.g. no bias).
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub options: Options,
}

/// The parts of TFLite Metadata the engine uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    /// The input's NormalizationOptions: mean and std, one each or one per channel (as written; unchecked).
    pub normalization: Option<(Vec<f32>, Vec<f32>)>,
    /// The name of the output's TENSOR_AXIS_LABELS file (in the ZIP appended to the model).
    pub labels_file: Option<String>,
}

/// One verified model: its single subgraph, flattened.
#[derive(Clone, Debug, PartialEq)]
pub struct Model<'a> {
    /// Schema version (3 for every model we know).
    pub version: u32,
    pub description: String,
    pub tensors: Vec<Tensor<'a>>,
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
    /// In execution order; every input is a constant, a graph input or an earlier op's output (checked).
    pub operators: Vec<Operator>,
    /// What TFLite Metadata says, if the file carries it.
    pub metadata: Metadata,
    /// Where the flatbuffer ends; bytes after it (an appended ZIP of labels) are not the model's.
    pub flatbuffer_len: usize,
}

#[cfg(test)]
mod tests {
    use super::Activation;

    #[test]
    fn activations_the_engine_does_not_run_are_refused() {
        assert!(Activation::Other(4).fused().is_err());
        assert_eq!(Activation::from_code(3).fused(), Ok(crate::quant::Activation::Relu6));
    }
}
