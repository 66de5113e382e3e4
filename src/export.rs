//! A float network's weights for other engines: a JSON manifest plus one little-endian f32 blob, in
//! TensorFlow's layouts (conv HWIO [kh, kw, in, out], depthwise [kh, kw, c, 1], pointwise and logits
//! [1, 1, in, out]) with batch norm already folded into filter and bias — exactly the numbers the
//! engine runs. The browser benchmark builds its TensorFlow.js and ONNX models from it, so the peers
//! compute the same network, not a look-alike.

use crate::arch::{Config, LayerSpec};
use crate::error::Error;
use crate::weights::Weights;
use serde::Serialize;

/// Names this layout, so a reader can tell it has the file it expects.
pub const FORMAT: &str = "mobilenet-wasm folded weights v1";

/// What the blob holds and how each layer runs.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub config: Config,
    /// The input every engine takes, spelled out for a reader of the JSON.
    pub input: &'static str,
    /// Every layer in order, with its stride, rate and SAME padding (TF's rule) from [`LayerSpec`];
    /// softmax over the logits follows the last one.
    pub layers: Vec<Layer>,
    /// Length of the blob in bytes.
    pub bytes: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Layer {
    #[serde(flatten)]
    pub spec: LayerSpec,
    /// Absent for the average pool, which has no weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Slice>,
    /// One value per output channel (zeros where the layer had neither bias nor batch norm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bias: Option<Slice>,
}

/// A tensor inside the blob.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Slice {
    pub shape: Vec<usize>,
    /// Byte offset from the start of the blob (always a multiple of 4, so a `Float32Array` can view it).
    pub offset: usize,
}

impl Slice {
    /// The values this slice points at in `blob`.
    pub fn read(&self, blob: &[u8]) -> Vec<f32> {
        let len: usize = self.shape.iter().product();
        blob[self.offset..self.offset + 4 * len]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

/// The manifest and the blob for `weights` of the network `cfg` describes.
pub fn folded_weights(cfg: &Config, weights: &Weights) -> Result<(Manifest, Vec<u8>), Error> {
    weights.check(cfg)?;
    let mut blob = Vec::new();
    let mut layers = Vec::new();
    for (spec, w) in cfg.layers().into_iter().zip(&weights.layers) {
        let (filter, bias) = match w {
            None => (None, None),
            Some(w) => {
                let (filter, mut bias) = w.folded()?;
                bias.resize(spec.output.c, 0.0);
                (Some(append(&mut blob, &filter.shape.0, &filter.data)), Some(append(&mut blob, &[bias.len()], &bias)))
            }
        };
        layers.push(Layer { spec, filter, bias });
    }
    let manifest = Manifest {
        format: FORMAT,
        config: cfg.clone(),
        input: "NHWC float32 RGB in [-1, 1]",
        layers,
        bytes: blob.len(),
    };
    Ok((manifest, blob))
}

fn append(blob: &mut Vec<u8>, shape: &[usize], values: &[f32]) -> Slice {
    let offset = blob.len();
    blob.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    Slice { shape: shape.to_vec(), offset }
}
