//! Constant DEQUANTIZE ops folded at import: a `supported_types=[float16]` model keeps its weights as float16
//! tensors, each behind a DEQUANTIZE. Their float32 values (exactly what TFLite's DEQUANTIZE computes: every
//! float16 is a float32) become the DEQUANTIZE outputs' constant data, so the rest of the importer sees a
//! float32 model and the ops' indices stay those of the file.

use crate::error::Error;
use crate::tflite::schema::{BuiltinOp, Model, TensorType};

/// The float32 bytes of every constant DEQUANTIZE output, by tensor index.
pub(super) fn constants(model: &Model) -> Result<Vec<(usize, Vec<u8>)>, Error> {
    let mut out = Vec::new();
    for (index, op) in model.operators.iter().enumerate() {
        if op.op != BuiltinOp::Dequantize {
            continue;
        }
        let tensor = |i: Option<&i32>| i.and_then(|&t| usize::try_from(t).ok()).filter(|&t| t < model.tensors.len());
        let (Some(input), Some(output)) = (tensor(op.inputs.first()), tensor(op.outputs.first())) else {
            return Err(Error::unsupported(Some(index), "DEQUANTIZE", "expected one input and one output"));
        };
        let source = &model.tensors[input];
        match (source.dtype, source.data) {
            (TensorType::Float16, Some(data)) => out.push((output, f16_to_f32_bytes(data))),
            (dtype, _) => {
                return Err(Error::unsupported(
                    Some(index),
                    "DEQUANTIZE",
                    format!(
                        "of a {} {}: only constant FLOAT16 weights are dequantized (as supported_types=[float16] writes them)",
                        if source.data.is_some() { "constant" } else { "computed" },
                        dtype.name()
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// A copy of `model` whose folded tensors hold their float32 values.
pub(super) fn apply<'b>(model: &Model<'b>, folded: &'b [(usize, Vec<u8>)]) -> Model<'b> {
    let mut model = model.clone();
    for (index, bytes) in folded {
        if let Some(t) = model.tensors.get_mut(*index) {
            t.dtype = TensorType::Float32;
            t.data = Some(bytes);
        }
    }
    model
}

fn f16_to_f32_bytes(data: &[u8]) -> Vec<u8> {
    data.chunks_exact(2).flat_map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])).to_le_bytes()).collect()
}

/// IEEE 754 binary16 to binary32, exactly (subnormals, infinities and NaN included).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exponent = u32::from((h >> 10) & 0x1f);
    let fraction = u32::from(h & 0x3ff);
    let bits = match (exponent, fraction) {
        (0, 0) => sign,
        (0, f) => {
            let magnitude = f as f32 * f32::from_bits(0x3380_0000); // f · 2^-24, exact
            return if sign != 0 { -magnitude } else { magnitude };
        }
        (31, 0) => sign | 0x7f80_0000,
        (31, f) => sign | 0x7fc0_0000 | (f << 13),
        (e, f) => sign | ((e + 112) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn half_precision_values_convert_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x83ff), -1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }
}
