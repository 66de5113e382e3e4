//! The one weight layout every float family reads, packed once at plan time from TF layouts.

use crate::error::Error;
use crate::tensor::Tensor;

/// Output channels per packed block: two f32x4, the width of every SIMD tile.
pub const BLOCK: usize = 8;

/// Weights that give each of `channels` output channels `rows` inputs, in blocks of [`BLOCK`] channels
/// (XNNPACK's layout): each block holds its BLOCK biases, then `rows` rows of BLOCK weights, so a tile
/// streams one block front to back. The last block is zero-padded, which lets SIMD kernels load whole
/// vectors of weights past the last channel; they still never read or write activations past it.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocked {
    pub rows: usize,
    pub channels: usize,
    pub data: Vec<f32>,
}

impl Blocked {
    /// From weights laid out [row][channel] (TF's layouts flattened) and one bias per channel.
    fn pack(rows: usize, channels: usize, weights: &[f32], bias: &[f32]) -> Blocked {
        debug_assert_eq!((weights.len(), bias.len()), (rows * channels, channels));
        let mut data = vec![0.0; channels.div_ceil(BLOCK) * (rows + 1) * BLOCK];
        for (b, block) in data.chunks_exact_mut((rows + 1) * BLOCK).enumerate() {
            let cols = b * BLOCK..channels.min((b + 1) * BLOCK);
            let n = cols.len();
            block[..n].copy_from_slice(&bias[cols.clone()]);
            for (r, dst) in block[BLOCK..].chunks_exact_mut(BLOCK).enumerate() {
                dst[..n].copy_from_slice(&weights[r * channels..][cols.clone()]);
            }
        }
        Blocked { rows, channels, data }
    }

    /// Floats per block: BLOCK biases and `rows` rows of BLOCK weights.
    pub fn block_len(&self) -> usize {
        (self.rows + 1) * BLOCK
    }

    /// The blocks in channel order; block b covers channels b·BLOCK .. min((b+1)·BLOCK, channels).
    pub fn blocks(&self) -> std::slice::ChunksExact<'_, f32> {
        self.data.chunks_exact(self.block_len())
    }
}

/// Full conv weights: rows are (ky, kx, in) in TF's HWIO order, so one tap's input channels are
/// consecutive rows of each block. `zero_pixel` is `in_channels` zeros that SIMD kernels read instead of
/// out-of-bounds input pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedConv {
    pub kernel: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub weights: Blocked,
    pub zero_pixel: Vec<f32>,
}

/// Depthwise weights: rows are the taps (ky·k + kx). `zero_pixel` is `channels` zeros that SIMD kernels
/// read instead of out-of-bounds input pixels, so padding needs no branch in their inner loop.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedDepthwise {
    pub kernel: usize,
    pub channels: usize,
    pub weights: Blocked,
    pub zero_pixel: Vec<f32>,
}

/// 1x1 weights: rows are the input channels.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedPointwise {
    pub in_channels: usize,
    pub out_channels: usize,
    pub weights: Blocked,
}

fn bias_or_zeros(bias: &[f32], n: usize) -> Result<Vec<f32>, Error> {
    match bias.len() {
        0 => Ok(vec![0.0; n]),
        len if len == n => Ok(bias.to_vec()),
        len => Err(Error::shape(format!("bias has {len} values for {n} output channels"))),
    }
}

fn square_kernel(filter: &Tensor) -> Result<usize, Error> {
    let [kh, kw, _, _] = filter.shape.0;
    if kh != kw || kh == 0 {
        return Err(Error::shape(format!("kernel must be square and non-empty, got {}", filter.shape)));
    }
    Ok(kh)
}

/// From a TF conv filter [k, k, in, out].
pub fn conv(filter: &Tensor, bias: &[f32]) -> Result<PackedConv, Error> {
    let kernel = square_kernel(filter)?;
    let [_, _, cin, cout] = filter.shape.0;
    let bias = bias_or_zeros(bias, cout)?;
    let weights = Blocked::pack(kernel * kernel * cin, cout, &filter.data, &bias);
    Ok(PackedConv { kernel, in_channels: cin, out_channels: cout, weights, zero_pixel: vec![0.0; cin] })
}

/// From a TF depthwise filter [k, k, channels, 1].
pub fn depthwise(filter: &Tensor, bias: &[f32]) -> Result<PackedDepthwise, Error> {
    let kernel = square_kernel(filter)?;
    let [_, _, c, mult] = filter.shape.0;
    if mult != 1 {
        return Err(Error::shape(format!("the engine's depthwise kernel takes depth_multiplier 1, got {mult}")));
    }
    let bias = bias_or_zeros(bias, c)?;
    // [kh, kw, c, 1] flattened is already [tap][channel].
    let weights = Blocked::pack(kernel * kernel, c, &filter.data, &bias);
    Ok(PackedDepthwise { kernel, channels: c, weights, zero_pixel: vec![0.0; c] })
}

/// From a TF 1x1 filter [1, 1, in, out].
pub fn pointwise(filter: &Tensor, bias: &[f32]) -> Result<PackedPointwise, Error> {
    let [kh, kw, cin, cout] = filter.shape.0;
    if (kh, kw) != (1, 1) {
        return Err(Error::shape(format!("pointwise filter must be 1x1, got {}", filter.shape)));
    }
    let bias = bias_or_zeros(bias, cout)?;
    let weights = Blocked::pack(cin, cout, &filter.data, &bias);
    Ok(PackedPointwise { in_channels: cin, out_channels: cout, weights })
}
