//! Image files and pixel buffers to model inputs, against the Pillow-made reference inputs in shared/.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use mobilenet_wasm::image_file::load_rgb;
use mobilenet_wasm::preprocess::{resize_bilinear, rgba_to_rgb, Image, MAX_SIDE};
use mobilenet_wasm::Error;
use std::path::PathBuf;

const RESOLUTIONS: [usize; 4] = [128, 160, 192, 224];

/// How one resized image agrees with its reference bytes.
struct Agreement {
    equal: usize,
    max_diff: u8,
    total: usize,
}

impl Agreement {
    fn of(got: &[u8], want: &[u8]) -> Agreement {
        assert_eq!(got.len(), want.len());
        let diffs = || got.iter().zip(want).map(|(a, b)| a.abs_diff(*b));
        Agreement { equal: diffs().filter(|&d| d == 0).count(), max_diff: diffs().max().unwrap_or(0), total: got.len() }
    }

    fn equal_fraction(&self) -> f64 {
        self.equal as f64 / self.total as f64
    }
}

/// Decodes `shared/images/<name>`, resizes it to each reference resolution and compares with
/// `shared/reference/inputs/<stem>_<R>.rgb`.
fn compare(name: &str) -> Vec<Agreement> {
    let shared = common::shared_dir();
    let image = load_rgb(&shared.join("images").join(name)).unwrap();
    let stem = name.split('.').next().unwrap();
    RESOLUTIONS
        .iter()
        .map(|&r| {
            let path = shared.join(format!("reference/inputs/{stem}_{r}.rgb"));
            let want =
                std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set MOBILENET_SHARED)", path.display()));
            let got = image.resized(r, r).unwrap();
            let a = Agreement::of(&got.rgb, &want);
            eprintln!(
                "{name} {}x{} -> {r}: {}/{} bytes equal ({:.2}%), max diff {}",
                image.width,
                image.height,
                a.equal,
                a.total,
                100.0 * a.equal_fraction(),
                a.max_diff
            );
            a
        })
        .collect()
}

/// BMP decoding is unambiguous, so decode + resize must reproduce Pillow byte for byte.
#[test]
fn bmp_inputs_match_pillow_exactly() {
    for name in ["cat.bmp", "bird.bmp", "dragonfly.bmp"] {
        for a in compare(name) {
            assert_eq!((a.equal, a.max_diff), (a.total, 0), "{name}");
        }
    }
}

/// JPEG: the resizer is exact (fed Pillow's own decoded pixels it reproduced all 12 references), but the image
/// crate's decoder (zune-jpeg) rounds its IDCT and YCbCr→RGB differently from Pillow's libjpeg-turbo: ±3 at most,
/// in ~1% of decoded bytes. Downscaling averages several source pixels per output, so what is left is ±1 in
/// 1.1–1.3% of the bytes (measured: max diff 1, ≥ 98.7% equal). Resizing parrot.jpg (929 rows) horizontal-first,
/// as Pillow ≤ 12 did, leaves only ~88% equal, so this bound also pins the pass order.
#[test]
fn jpeg_inputs_match_pillow_within_one() {
    for name in ["hot_dog.jpg", "owl.jpg", "parrot.jpg"] {
        for a in compare(name) {
            assert!(a.max_diff <= 1, "{name}: max diff {}", a.max_diff);
            assert!(a.equal_fraction() >= 0.98, "{name}: only {}/{} bytes equal", a.equal, a.total);
        }
    }
}

#[test]
fn same_size_returns_the_input() {
    let src: Vec<u8> = (0..5 * 3 * 3).map(|i| (i * 37 % 256) as u8).collect();
    assert_eq!(resize_bilinear(&src, 5, 3, 3, 5, 3).unwrap(), src);
}

#[test]
fn constant_image_stays_constant() {
    for (w, h, dw, dh) in [(7, 5, 3, 2), (3, 2, 11, 9), (64, 48, 13, 17), (10, 1, 1, 1), (1, 30, 4, 7)] {
        let src = [200u8, 17, 255].repeat(w * h);
        let out = resize_bilinear(&src, w, h, 3, dw, dh).unwrap();
        assert_eq!(out, [200u8, 17, 255].repeat(dw * dh), "{w}x{h} -> {dw}x{dh}");
    }
}

/// Upscaling 2 → 4 places outputs at 0.25, 0.75, 1.25, 1.75 source pixels: the edges copy (the triangle's
/// other tap falls outside and the rest is renormalized), the middle mixes 3:1, and halves round up.
#[test]
fn upscale_two_to_four_by_hand() {
    let row = resize_bilinear(&[10, 20], 2, 1, 1, 4, 1).unwrap();
    assert_eq!(row, [10, 13, 18, 20]); // 12.5 → 13, 17.5 → 18
    assert_eq!(resize_bilinear(&[0, 255], 2, 1, 1, 4, 1).unwrap(), [0, 64, 191, 255]);

    let square = resize_bilinear(&[10, 20, 30, 40], 2, 2, 1, 4, 4).unwrap();
    #[rustfmt::skip]
    let want = [
        10, 13, 18, 20,
        15, 18, 23, 25,
        25, 28, 33, 35,
        30, 33, 38, 40,
    ];
    assert_eq!(square, want);
}

#[test]
fn channels_are_filtered_independently() {
    let rgb = resize_bilinear(&[10, 0, 255, 20, 255, 0], 2, 1, 3, 4, 1).unwrap();
    assert_eq!(rgb, [10, 0, 255, 13, 64, 191, 18, 191, 64, 20, 255, 0]);
}

#[test]
fn bad_sizes_are_shape_errors() {
    let src = [0u8; 12];
    let shape = |r: Result<Vec<u8>, Error>| matches!(r, Err(Error::Shape(_)));
    assert!(shape(resize_bilinear(&src, 0, 4, 3, 2, 2)));
    assert!(shape(resize_bilinear(&src, 2, 2, 3, 0, 2)));
    assert!(shape(resize_bilinear(&src, 2, 2, 3, 2, 0)));
    assert!(shape(resize_bilinear(&src, 2, 2, 0, 2, 2)));
    assert!(shape(resize_bilinear(&src, 2, 2, 5, 2, 2)));
    assert!(shape(resize_bilinear(&src, 2, 3, 3, 2, 2)), "buffer length mismatch");
    assert!(shape(resize_bilinear(&src, 2, 2, 3, MAX_SIDE + 1, 2)), "destination too large");
    assert!(shape(resize_bilinear(&src, usize::MAX, 1, 3, 2, 2)), "would overflow");
    assert!(shape(resize_bilinear(&[], MAX_SIDE + 1, MAX_SIDE + 1, 4, 1, 1)));
    assert!(matches!(Image::new(2, 2, vec![0; 11]), Err(Error::Shape(_))));
    assert!(matches!(Image::new(2, 2, vec![0; 12]).unwrap().resized(0, 1), Err(Error::Shape(_))));
}

#[test]
fn rgba_drops_alpha() {
    assert_eq!(rgba_to_rgb(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap(), [1, 2, 3, 5, 6, 7]);
    assert!(matches!(rgba_to_rgb(&[1, 2, 3]), Err(Error::Shape(_))));
    let image = Image::from_rgba(2, 1, &[1, 2, 3, 0, 5, 6, 7, 255]).unwrap();
    assert_eq!(image, Image::new(2, 1, vec![1, 2, 3, 5, 6, 7]).unwrap());
}

/// A file in the system temp dir, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("mobilenet-preprocess-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn png(image: image::DynamicImage) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

#[test]
fn png_with_alpha_or_gray_becomes_rgb() {
    let rgba = image::RgbaImage::from_raw(2, 1, vec![1, 2, 3, 0, 5, 6, 7, 255]).unwrap();
    let file = TempFile::new("rgba.png", &png(rgba.into()));
    assert_eq!(load_rgb(&file.0).unwrap(), Image::new(2, 1, vec![1, 2, 3, 5, 6, 7]).unwrap());

    let gray = image::GrayImage::from_raw(1, 2, vec![9, 250]).unwrap();
    let file = TempFile::new("gray.png", &png(gray.into()));
    assert_eq!(load_rgb(&file.0).unwrap(), Image::new(1, 2, vec![9, 9, 9, 250, 250, 250]).unwrap());
}

/// A BMP header claiming `width × height` 24-bit pixels, with no pixel data behind it.
fn bmp_header(width: i32, height: i32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"BM");
    b.extend_from_slice(&54u32.to_le_bytes()); // file size (ignored by decoders)
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&54u32.to_le_bytes()); // pixel data offset
    b.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
    b.extend_from_slice(&width.to_le_bytes());
    b.extend_from_slice(&height.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // planes
    b.extend_from_slice(&24u16.to_le_bytes()); // bits per pixel
    b.extend_from_slice(&[0; 24]); // no compression, sizes and palette left to defaults
    b
}

/// An 8-bit RLE BMP claiming `width × height` pixels whose whole data is "end of bitmap": a few dozen bytes
/// that a decoder expands to width · height pixels.
fn bmp_rle8_bomb(width: i32, height: i32) -> Vec<u8> {
    let mut b = bmp_header(width, height);
    b[28..30].copy_from_slice(&8u16.to_le_bytes()); // bits per pixel
    b[30..34].copy_from_slice(&1u32.to_le_bytes()); // BI_RLE8
    b[46..50].copy_from_slice(&2u32.to_le_bytes()); // two palette entries
    let offset = (b.len() + 8) as u32;
    b[10..14].copy_from_slice(&offset.to_le_bytes());
    b.extend_from_slice(&[0, 0, 0, 0, 255, 255, 255, 0]); // the palette: black, white
    b.extend_from_slice(&[0, 1]); // end of bitmap
    b
}

/// Files that decode to far more pixels than any model reads are refused from their header, fast, whatever
/// memory their pixels would take: a 72-byte RLE BMP of 10000² pixels (300 MB as RGB) once decoded in full.
#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let start = std::time::Instant::now();
    for (name, bytes) in [("rle.bmp", bmp_rle8_bomb(10_000, 10_000)), ("rle-25mp.bmp", bmp_rle8_bomb(5_000, 5_000))] {
        let bomb = TempFile::new(name, &bytes);
        // `.err()`: a decoded bomb's Debug would print every pixel.
        let err = load_rgb(&bomb.0).err().unwrap_or_else(|| panic!("{name} was decoded"));
        assert!(matches!(err, Error::Image(_)) && err.to_string().contains("megapixels"), "{name}: {err}");
    }
    assert!(start.elapsed().as_secs_f64() < 2.0, "{:?}", start.elapsed());
    // Just under the limit still decodes (the RLE data ends at once: every pixel is palette entry 0).
    let fine = TempFile::new("rle-ok.bmp", &bmp_rle8_bomb(4_000, 3_000));
    let image = load_rgb(&fine.0).unwrap();
    assert_eq!((image.width, image.height), (4_000, 3_000));
    assert!(image.rgb.iter().all(|&v| v == 0));
}

#[test]
fn file_errors_are_image_errors() {
    let missing = load_rgb(&std::env::temp_dir().join("mobilenet-preprocess-no-such-file.png")).unwrap_err();
    assert!(matches!(missing, Error::Image(_)), "{missing:?}");
    assert_eq!(missing.kind(), "image");
    assert!(missing.to_string().starts_with("image: "), "{missing}");

    let garbage = TempFile::new("garbage.jpg", b"\xff\xd8\xff\xe0 not really a jpeg");
    assert!(matches!(load_rgb(&garbage.0), Err(Error::Image(_))));

    // Decompression bombs are refused from the header, before what they claim is allocated: by side, then
    // by memory (16000² RGB is 768 MB, over the 512 MiB cap).
    for (name, width, height) in [("wide.bmp", MAX_SIDE as i32 + 1, 4), ("big.bmp", 16_000, 16_000)] {
        let bomb = TempFile::new(name, &bmp_header(width, height));
        let err = load_rgb(&bomb.0).unwrap_err();
        assert!(matches!(err, Error::Image(_)) && err.to_string().contains("limit"), "{name}: {err}");
    }
}

/// Not a check: writes small images of every kind the decoder takes (PNG grey, RGB, RGBA and 16-bit; BMP
/// 24-bit and RLE8; JPEG) into `$MOBILENET_FUZZ_SEEDS` for the image fuzzer's seed corpus (scripts/fuzz.sh).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("MOBILENET_FUZZ_SEEDS") else { return };
    let dir = PathBuf::from(dir);
    let rgb = image::RgbImage::from_fn(13, 9, |x, y| image::Rgb([(x * 19) as u8, (y * 28) as u8, ((x + y) * 7) as u8]));
    let dynamic = image::DynamicImage::ImageRgb8(rgb);
    let encode = |image: &image::DynamicImage, format| {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    };
    let files = [
        ("rgb.png", png(dynamic.clone())),
        ("grey.png", png(image::DynamicImage::ImageLuma8(dynamic.to_luma8()))),
        ("rgba.png", png(image::DynamicImage::ImageRgba8(dynamic.to_rgba8()))),
        ("rgb16.png", png(image::DynamicImage::ImageRgb16(dynamic.to_rgb16()))),
        ("rgb.bmp", encode(&dynamic, image::ImageFormat::Bmp)),
        ("rgb.jpg", encode(&dynamic, image::ImageFormat::Jpeg)),
        ("rle8.bmp", bmp_rle8_bomb(40, 30)),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}
