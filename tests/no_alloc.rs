//! "Buffers allocated once": a counting allocator proves that inference allocates nothing.
#![cfg(not(target_arch = "wasm32"))]

use mobilenet_wasm::{Config, PixelFormat, Plan};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn inference_does_not_allocate() {
    let mut plan = Plan::seeded(Config::new(0.5, 96).unwrap(), 1).unwrap();
    let input = vec![0.25f32; plan.input_len()];
    let pixels = vec![200u8; plan.input_len()];
    let mut times = vec![0.0; plan.layers().count()];
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..3 {
        plan.run(&input).unwrap();
        plan.run_to(&input, "AvgPool_1a").unwrap();
        plan.run_pixels(&pixels, PixelFormat::Rgb).unwrap();
        plan.profile(&input, &|| 0.0, &mut times).unwrap();
    }
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0);
}
