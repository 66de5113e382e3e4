//! Splitting one layer into horizontal bands of output rows, so workers can run the same kernel on
//! disjoint parts of the output. A band is an ordinary [`Geometry`] over a slice of the input that starts
//! at the first row the band reads: kernels need no notion of bands at all.

use crate::kernels::Geometry;
use std::ops::Range;

/// One band of a windowed layer: the geometry the kernel sees, which input elements it reads and which
/// output elements it writes (flat NHWC ranges of the layer's full input and output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    pub geometry: Geometry,
    pub input: Range<usize>,
    pub output: Range<usize>,
}

/// Splits the output rows of `g` into at most `parts` bands of near-equal height.
pub fn split_rows(g: &Geometry, parts: usize) -> Vec<Band> {
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
            Band { geometry, input: first * in_row..g.input.h * in_row, output: r0 * out_row..r1 * out_row }
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
    use crate::kernels::{pack, scalar, Clamp};
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
                assert_eq!(bands.iter().map(|b| b.geometry.output.h).sum::<usize>(), g.output.h);
                for b in bands {
                    scalar::depthwise(&b.geometry, &w, &x[b.input], &mut banded[b.output], Clamp::NONE);
                }
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

/// How a layer's work is divided among workers, fixed at plan time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Split {
    /// One call for the whole layer.
    #[default]
    Whole,
    /// Bands of output rows (windowed layers).
    Rows(Vec<Band>),
    /// Runs of pixels (1x1 layers).
    Pixels(Vec<Range<usize>>),
}

impl Split {
    /// The split for a layer with `geometry` (windowed) or `pixels` pixels (1x1) over `threads` workers.
    pub fn new(geometry: Option<&Geometry>, pixels: usize, threads: usize) -> Split {
        // Small layers are not worth a hand-off: keep them whole below ~2 rows or pixels per worker.
        match geometry {
            _ if threads <= 1 => Split::Whole,
            Some(g) if g.output.h >= 2 * threads => Split::Rows(split_rows(g, threads)),
            None if pixels >= 2 * threads => Split::Pixels(split_pixels(pixels, threads)),
            _ => Split::Whole,
        }
    }
}

#[cfg(feature = "threads")]
fn join(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    rayon::join(a, b);
}

#[cfg(not(feature = "threads"))]
fn join(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    a();
    b();
}

/// Runs `kernel(band geometry, band input, band output)` for every band, halving the list recursively so
/// each half runs on its own worker (rayon's join needs no heap allocation). `out` starts at element
/// `offset` of the layer's output.
pub fn run_rows<T: Sync, U: Send>(
    bands: &[Band],
    src: &[T],
    out: &mut [U],
    offset: usize,
    kernel: &(impl Fn(&Geometry, &[T], &mut [U]) + Sync),
) {
    match bands {
        [] => {}
        [b] => kernel(&b.geometry, &src[b.input.clone()], &mut out[b.output.start - offset..b.output.end - offset]),
        _ => {
            let (left, right) = bands.split_at(bands.len() / 2);
            let (lo, hi) = out.split_at_mut(right[0].output.start - offset);
            let mid = right[0].output.start;
            join(|| run_rows(left, src, lo, offset, kernel), || run_rows(right, src, hi, mid, kernel));
        }
    }
}

/// Runs `kernel(pixel count, input, output)` on runs of pixels of a 1x1 layer (`cin` → `cout` channels).
pub fn run_pixels<T: Sync, U: Send>(
    runs: &[Range<usize>],
    (cin, cout): (usize, usize),
    src: &[T],
    out: &mut [U],
    offset: usize,
    kernel: &(impl Fn(usize, &[T], &mut [U]) + Sync),
) {
    match runs {
        [] => {}
        [r] => kernel(
            r.len(),
            &src[r.start * cin..r.end * cin],
            &mut out[(r.start - offset) * cout..(r.end - offset) * cout],
        ),
        _ => {
            let (left, right) = runs.split_at(runs.len() / 2);
            let mid = right[0].start;
            let (lo, hi) = out.split_at_mut((mid - offset) * cout);
            join(
                || run_pixels(left, (cin, cout), src, lo, offset, kernel),
                || run_pixels(right, (cin, cout), src, hi, mid, kernel),
            );
        }
    }
}
