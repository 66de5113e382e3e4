//! Softmax over the last axis, shifted by the maximum so large logits do not overflow.

pub fn softmax(logits: &[f32], out: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for (o, &x) in out.iter_mut().zip(logits) {
        *o = (x - max).exp();
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
}

#[cfg(test)]
mod tests {
    #[test]
    fn sums_to_one_and_survives_large_logits() {
        let x = [1000.0, 1001.0, 999.0];
        let mut p = [0.0; 3];
        super::softmax(&x, &mut p);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // e^1 / (e^0 + e^1 + e^-1)
        let e = std::f32::consts::E;
        assert!((p[1] - e / (1.0 + e + 1.0 / e)).abs() < 1e-6);
    }
}
