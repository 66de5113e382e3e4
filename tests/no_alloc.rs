//! "Buffers allocated once": a counting allocator proves that inference allocates nothing.
#![cfg(not(target_arch = "wasm32"))]

use mobilenet_wasm::{Config, PixelFormat, Plan};

#[path = "common/counting.rs"]
mod counting;
use counting::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn inference_does_not_allocate() {
    let mut plan = Plan::seeded(Config::new(0.5, 96).unwrap(), 1).unwrap();
    let input = vec![0.25f32; plan.input_len()];
    let pixels = vec![200u8; plan.input_len()];
    let mut times = vec![0.0; plan.layers().count()];
    let before = allocations();
    for _ in 0..3 {
        plan.run(&input).unwrap();
        plan.run_to(&input, "AvgPool_1a").unwrap();
        plan.run_pixels(&pixels, PixelFormat::Rgb).unwrap();
        plan.profile(&input, &|| 0.0, &mut times).unwrap();
    }
    assert_eq!(allocations() - before, 0);
}
