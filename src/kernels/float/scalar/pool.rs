/// Mean of each channel over all pixels.
pub fn global_avg_pool(pixels: usize, channels: usize, input: &[f32], output: &mut [f32]) {
    let out = &mut output[..channels];
    out.fill(0.0);
    for px in input.chunks_exact(channels).take(pixels) {
        out.iter_mut().zip(px).for_each(|(o, x)| *o += x);
    }
    // Divided, not multiplied by 1/n: TFLite's reference MEAN and AVERAGE_POOL_2D divide.
    let n = pixels.max(1) as f32;
    out.iter_mut().for_each(|o| *o /= n);
}
