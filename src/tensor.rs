//! A dense NHWC tensor: the currency of the scalar reference ops.

use crate::error::Error;

/// NHWC dimensions. Filters reuse it as TF lays them out: [kh, kw, in, out] (conv) or
/// [kh, kw, in, multiplier] (depthwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape(pub [usize; 4]);

impl Shape {
    pub fn len(&self) -> usize {
        self.0.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flat offset of element [a][b][c][d].
    #[inline]
    pub fn at(&self, a: usize, b: usize, c: usize, d: usize) -> usize {
        let [_, n1, n2, n3] = self.0;
        ((a * n1 + b) * n2 + c) * n3 + d
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "({a},{b},{c},{d})")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<T = f32> {
    pub shape: Shape,
    pub data: Vec<T>,
}

impl<T: Copy + Default> Tensor<T> {
    pub fn zeros(shape: [usize; 4]) -> Self {
        let shape = Shape(shape);
        Tensor { data: vec![T::default(); shape.len()], shape }
    }

    /// Wraps `data`, checking that it holds exactly as many elements as `shape` says.
    pub fn from_vec(shape: [usize; 4], data: Vec<T>) -> Result<Self, Error> {
        let shape = Shape(shape);
        if shape.len() != data.len() {
            return Err(Error::shape(format!("{shape} needs {} values, got {}", shape.len(), data.len())));
        }
        Ok(Tensor { shape, data })
    }

    #[inline]
    pub fn get(&self, a: usize, b: usize, c: usize, d: usize) -> T {
        self.data[self.shape.at(a, b, c, d)]
    }

    #[inline]
    pub fn set(&mut self, a: usize, b: usize, c: usize, d: usize, v: T) {
        let i = self.shape.at(a, b, c, d);
        self.data[i] = v;
    }
}

impl Tensor<f32> {
    /// Largest absolute difference to `other` (infinite when shapes differ).
    pub fn max_abs_diff(&self, other: &Tensor<f32>) -> f32 {
        if self.shape != other.shape {
            return f32::INFINITY;
        }
        self.data.iter().zip(&other.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
    }
}
