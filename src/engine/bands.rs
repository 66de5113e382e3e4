//! Splitting one layer into units of work that threads can run side by side: horizontal bands of
//! output rows for windowed layers, runs of pixels for 1x1 layers. A band is an ordinary [`Geometry`]
//! over a slice of the input that starts at the first row the band reads, so kernels need no notion
//! of bands at all.

use crate::arch::{LayerSpec, OpKind};
use crate::kernels::Geometry;
pub use crate::kernels::Work;
use std::ops::Range;

/// One unit of a layer: the kernel's work, which input elements it reads and which output elements it
/// writes (flat NHWC ranges of the layer's full input and output). A layer's units write consecutive,
/// disjoint ranges in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub work: Work,
    pub input: Range<usize>,
    pub output: Range<usize>,
}

/// The units of layer `spec` for `threads` threads; `window` is its geometry if it is windowed (conv,
/// depthwise). Pointwise layers split into runs of pixels, windowed ones into bands of rows; the pool and
/// the logits, and layers below ~2 rows or pixels per thread, stay whole: not worth a hand-off.
pub fn units(spec: &LayerSpec, window: Option<Geometry>, threads: usize) -> Vec<Unit> {
    let pixels = spec.input.h * spec.input.w;
    let divisible = !matches!(spec.op, OpKind::AvgPool | OpKind::Dense | OpKind::Logits) && threads > 1;
    let (cin, cout) = (spec.input.c, spec.output.c);
    match window {
        Some(g) if divisible && g.output.h >= 2 * threads => split_rows(&g, threads),
        None if divisible && pixels >= 2 * threads => split_pixels(pixels, threads)
            .into_iter()
            .map(|r| Unit {
                work: Work::Pixels(r.len()),
                input: r.start * cin..r.end * cin,
                output: r.start * cout..r.end * cout,
            })
            .collect(),
        _ => {
            let work = window.map_or(Work::Pixels(pixels), Work::Window);
            vec![Unit { work, input: 0..spec.input.len(), output: 0..spec.output.len() }]
        }
    }
}

/// Splits the output rows of `g` into at most `parts` bands of near-equal height.
pub fn split_rows(g: &Geometry, parts: usize) -> Vec<Unit> {
    let rows = g.output.h;
    let parts = parts.clamp(1, rows.max(1));
    let (in_row, out_row) = (g.input.w * g.input.c, g.output.w * g.output.c);
    (0..parts)
        .map(|p| (p * rows / parts, (p + 1) * rows / parts))
        .filter(|(r0, r1)| r1 > r0)
        .map(|(r0, r1)| {
            // The band's first output row reads input row r0·stride − pad_top; padding above it stays padding.
            let first = (r0 * g.stride).saturating_sub(g.pad_top);
            let pad_top = g.pad_top.saturating_sub(r0 * g.stride);
            let geometry = Geometry {
                input: crate::arch::Hwc { h: g.input.h - first, ..g.input },
                output: crate::arch::Hwc { h: r1 - r0, ..g.output },
                pad_top,
                ..*g
            };
            Unit {
                work: Work::Window(geometry),
                input: first * in_row..g.input.h * in_row,
                output: r0 * out_row..r1 * out_row,
            }
        })
        .collect()
}

/// Splits `pixels` pixels into at most `parts` contiguous runs (for 1x1 layers).
pub fn split_pixels(pixels: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.clamp(1, pixels.max(1));
    (0..parts).map(|p| p * pixels / parts..(p + 1) * pixels / parts).filter(|r| !r.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Hwc;
    use crate::kernels::float::{pack, scalar, Clamp};
    use crate::ops::padding::{axis_window, Padding};
    use crate::rng::Rng;
    use crate::tensor::Tensor;

    fn geometry(input: Hwc, stride: usize, rate: usize) -> Geometry {
        let wy = axis_window(input.h, 3, stride, rate, Padding::Same).unwrap();
        let wx = axis_window(input.w, 3, stride, rate, Padding::Same).unwrap();
        Geometry {
            input,
            output: Hwc { h: wy.output, w: wx.output, c: input.c },
            kernel: 3,
            stride,
            rate,
            pad_top: wy.pad_before,
            pad_left: wx.pad_before,
        }
    }

    #[test]
    fn bands_compute_what_the_whole_layer_computes() {
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            let input = Hwc { h: rng.range(1, 20), w: rng.range(1, 9), c: rng.range(1, 9) };
            let g = geometry(input, rng.range(1, 2), rng.range(1, 4));
            let x = rng.fill_uniform(input.len(), -1.0, 1.0);
            let f = Tensor::from_vec([3, 3, input.c, 1], rng.fill_uniform(9 * input.c, -1.0, 1.0)).unwrap();
            let w = pack::depthwise(&f, &[]).unwrap();
            let mut whole = vec![0.0; g.output.len()];
            scalar::depthwise(&g, &w, &x, &mut whole, Clamp::NONE);
            for parts in 1..6 {
                let mut banded = vec![f32::NAN; g.output.len()];
                let bands = split_rows(&g, parts);
                let mut rows = 0;
                for b in bands {
                    let Work::Window(bg) = b.work else { panic!("{b:?} is not a band") };
                    rows += bg.output.h;
                    scalar::depthwise(&bg, &w, &x[b.input], &mut banded[b.output], Clamp::NONE);
                }
                assert_eq!(rows, g.output.h);
                assert_eq!(banded, whole, "{g:?} in {parts} bands");
            }
        }
    }

    #[test]
    fn pixel_runs_cover_everything_once() {
        for (pixels, parts) in [(10, 3), (1, 4), (0, 2), (49, 2)] {
            let runs = split_pixels(pixels, parts);
            assert_eq!(runs.iter().map(|r| r.len()).sum::<usize>(), pixels);
            assert!(runs.windows(2).all(|w| w[0].end == w[1].start));
        }
    }
}
