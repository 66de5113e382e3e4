//! Inference-time batch norm, y = γ·(x − mean)/√(var + ε) + β, and its folding into the conv before it:
//! w' = w·s, b' = (b − mean)·s + β with s = γ/√(var + ε), so BN costs nothing at run time.

use crate::error::Error;

#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub mean: Vec<f32>,
    pub variance: Vec<f32>,
    pub epsilon: f32,
}

impl BatchNorm {
    pub fn channels(&self) -> usize {
        self.gamma.len()
    }

    fn check(&self) -> Result<(), Error> {
        let c = self.channels();
        if [self.beta.len(), self.mean.len(), self.variance.len()].iter().any(|&n| n != c) {
            return Err(Error::shape("batch norm vectors differ in length"));
        }
        if self.variance.iter().any(|&v| (v + self.epsilon).is_nan() || v + self.epsilon <= 0.0) {
            return Err(Error::NonFinite("batch norm variance + epsilon must be positive".into()));
        }
        Ok(())
    }

    fn scale(&self, c: usize) -> f32 {
        self.gamma[c] / (self.variance[c] + self.epsilon).sqrt()
    }

    /// Normalizes `data` in place; channels are the innermost axis.
    pub fn apply(&self, data: &mut [f32]) -> Result<(), Error> {
        self.check()?;
        let c = self.channels();
        for px in data.chunks_exact_mut(c) {
            for (i, v) in px.iter_mut().enumerate() {
                *v = (*v - self.mean[i]) * self.scale(i) + self.beta[i];
            }
        }
        Ok(())
    }

    /// Folds into a filter whose output channel is its flat index modulo the channel count (true of TF's
    /// conv [kh, kw, in, out] and depthwise [kh, kw, in, multiplier] layouts) and into its bias
    /// (`bias` may be empty: the conv had none).
    pub fn fold(&self, filter: &mut [f32], bias: &mut Vec<f32>) -> Result<(), Error> {
        self.check()?;
        let c = self.channels();
        if c == 0 || filter.len() % c != 0 || !(bias.is_empty() || bias.len() == c) {
            return Err(Error::shape(format!("cannot fold batch norm of {c} channels into {} weights", filter.len())));
        }
        for (i, w) in filter.iter_mut().enumerate() {
            *w *= self.scale(i % c);
        }
        bias.resize(c, 0.0);
        for (i, b) in bias.iter_mut().enumerate() {
            *b = (*b - self.mean[i]) * self.scale(i) + self.beta[i];
        }
        Ok(())
    }
}
