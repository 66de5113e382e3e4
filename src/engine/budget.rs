//! The memory a plan may take. A configuration is checked against [`MEMORY_BUDGET`] before anything is
//! allocated, so an oversized one (α 4 at 4096 pixels wants gigabytes) is a typed error instead of an
//! allocation failure, which aborts a native process and traps in wasm; the plan's buffers are then
//! reserved fallibly, for when the budget fits but the memory does not (a wasm page already near its cap).

use crate::arch::Config;
use crate::error::{Error, Real};
use crate::inspect;

/// The most memory one plan may hold: weights (kept and packed) plus activation buffers. The README
/// states it; the threaded wasm build's whole memory is capped at 1 GiB too.
pub const MEMORY_BUDGET: u64 = 1 << 30;

/// What a plan for `config` holds at most, in bytes, with activations of `elem` bytes: every weight twice
/// in f32 (as kept and as packed; quantized plans keep less), two ping-pong buffers of the largest layer
/// output, the input, and the outputs.
pub fn plan_bytes(config: &Config, elem: usize) -> u64 {
    let layers = config.layers();
    let weights: u64 = layers.iter().map(|l| inspect::params(l) + 5 * l.output.c as u64).sum();
    let largest = layers.iter().map(|l| l.output.len() as u64).max().unwrap_or(0);
    let input = layers.first().map_or(0, |l| l.input.len() as u64);
    let outputs = 4 * config.num_classes as u64;
    2 * 4 * weights + elem as u64 * (2 * largest + input) + outputs
}

/// Refuses a configuration whose plan would take more than [`MEMORY_BUDGET`].
pub fn check(config: &Config, elem: usize) -> Result<(), Error> {
    let need = plan_bytes(config, elem);
    if need > MEMORY_BUDGET {
        return Err(Error::config(format!(
            "α {} at {} needs about {} MiB, over the memory budget of {} MiB: lower alpha or the resolution",
            Real(config.alpha),
            config.resolution,
            need >> 20,
            MEMORY_BUDGET >> 20
        )));
    }
    Ok(())
}

/// `len` default elements, or a typed error where the memory cannot be had.
pub fn buffer<T: Default + Clone>(len: usize) -> Result<Vec<T>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::config(format!("cannot allocate {len} activations of {} bytes", std::mem::size_of::<T>()))
    })?;
    v.resize(len, T::default());
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(alpha: f64, resolution: usize) -> Config {
        Config::new(alpha, resolution).unwrap()
    }

    #[test]
    fn the_official_sizes_fit_and_gigabyte_plans_do_not() {
        // α1.0/224: 4.2 M weights (34 MB as kept + packed) and 112·112·64 floats per buffer.
        let mb = plan_bytes(&cfg(1.0, 224), 4) >> 20;
        assert!((35..50).contains(&mb), "{mb} MiB");
        assert!(check(&cfg(1.0, 224), 4).is_ok());
        assert!(check(&cfg(1.0, 1024), 4).is_ok());
        // 2048·2048·256 floats in one buffer alone: 4 GiB.
        let e = check(&cfg(4.0, 4096), 4).unwrap_err();
        assert_eq!(e.kind(), "config");
        assert!(e.to_string().contains("memory budget of 1024 MiB"), "{e}");
        assert!(check(&cfg(16.0, 224), 4).is_err());
    }

    #[test]
    fn a_buffer_too_large_for_the_machine_is_an_error() {
        assert_eq!(buffer::<f32>(3).unwrap(), [0.0; 3]);
        assert!(buffer::<f32>(usize::MAX / 2).is_err());
    }
}
