//! Running a plan's layers in order, each layer's units (see [`super::bands`]) spread over threads.
//!
//! Two ways to run: *layer by layer*, where each layer's units are handed to rayon's workers with
//! `join` and the caller waits for them, and a *parallel region*, where the caller and `threads − 1`
//! pool workers each walk the whole network, run their own unit of every split layer, and meet at a
//! spinning barrier between layers (XNNPACK's pthreadpool works the same way). The region hands work
//! off once per inference instead of once per layer, and the caller computes instead of blocking, which
//! matters in browsers: a worker woken per layer costs tens of microseconds, and the page's main thread
//! may not block at all (Chromium traps `Atomics.wait` there), so it spins, at the barriers and while it
//! waits for the workers to finish; it never waits on rayon's or std's locks, and outside the pool the
//! layer-by-layer way runs units in turn. Spawning the region's parts is the one allocation of a threaded
//! inference (one small rayon job per worker); layer by layer allocates nothing.

use super::bands::{Unit, Work};

/// Test hook: how many times each pool part spins after its last layer before it reports finished, so
/// tests can make workers finish well after the caller (wasm32-unknown-unknown's std has no clock). 0 in use.
#[cfg(feature = "threads")]
#[doc(hidden)]
pub static LINGER_SPINS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// What the scheduler needs from a plan.
pub(crate) trait Layers: Sync {
    /// The activation element (f32, or u8 for quantized plans).
    type Elem: Copy + Send + Sync;
    /// Layer `i`'s units: one for a whole layer, several for a split one.
    fn units(&self, i: usize) -> &[Unit];
    /// Runs one unit of layer `i`: `src` and `dst` are the unit's input and output ranges.
    fn run(&self, i: usize, work: Work, src: &[Self::Elem], dst: &mut [Self::Elem]);
}

/// Per-layer timing: a clock in ms and one slot per layer.
pub(crate) type Timing<'a> = Option<(&'a dyn Fn() -> f64, &'a mut [f64])>;

/// Runs layers 0..=last of `net`: layer 0 reads `first`, each layer writes the buffer the previous one
/// did not, and the last layer's output ends up in `ping` (as if every layer swapped the two).
pub(crate) fn forward<L: Layers>(
    net: &L,
    first: &[L::Elem],
    ping: &mut Vec<L::Elem>,
    pong: &mut Vec<L::Elem>,
    last: usize,
    timing: Timing<'_>,
) {
    let threads = (0..=last).map(|i| net.units(i).len()).max().unwrap_or(1);
    match region::enter(threads) {
        Some(region) => region.run(net, first, [&mut *pong, &mut *ping], last, timing),
        None => layer_by_layer(net, first, [&mut *pong, &mut *ping], last, timing),
    }
    // Layer i wrote buffer i % 2 of [pong, ping]: an odd count of layers leaves the output in pong.
    if last % 2 == 0 {
        std::mem::swap(ping, pong);
    }
}

/// The layer-by-layer way: every split layer forks its units with `join` (in turn without threads).
fn layer_by_layer<L: Layers>(
    net: &L,
    first: &[L::Elem],
    bufs: [&mut Vec<L::Elem>; 2],
    last: usize,
    mut timing: Timing<'_>,
) {
    let [even, odd] = bufs;
    for i in 0..=last {
        let start = timing.as_ref().map(|(now, _)| now());
        let (src, dst): (&[L::Elem], &mut [L::Elem]) = match i {
            0 => (first, even),
            _ if i % 2 == 0 => (odd, even),
            _ => (even, odd),
        };
        run_units(net, i, net.units(i), src, dst, 0);
        if let (Some(start), Some((now, times))) = (start, timing.as_mut()) {
            times[i] = now() - start;
        }
    }
}

/// Runs `units` (consecutive output ranges; `out` starts at element `offset` of the layer's output),
/// halving the list recursively so each half can run on its own worker (join allocates nothing).
fn run_units<L: Layers>(net: &L, i: usize, units: &[Unit], src: &[L::Elem], out: &mut [L::Elem], offset: usize) {
    match units {
        [] => {}
        [u] => net.run(i, u.work, &src[u.input.clone()], &mut out[u.output.start - offset..u.output.end - offset]),
        _ => {
            let (left, right) = units.split_at(units.len() / 2);
            let mid = right[0].output.start;
            let (lo, hi) = out.split_at_mut(mid - offset);
            join(|| run_units(net, i, left, src, lo, offset), || run_units(net, i, right, src, hi, mid));
        }
    }
}

#[cfg(feature = "threads")]
fn join(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    // rayon::join from outside the pool blocks until a worker is done: only pool threads fork.
    if rayon::current_thread_index().is_some() {
        rayon::join(a, b);
    } else {
        a();
        b();
    }
}

#[cfg(not(feature = "threads"))]
fn join(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    a();
    b();
}

#[cfg(feature = "threads")]
mod region {
    use super::{Layers, Timing};
    use std::any::Any;
    use std::ops::Range;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Mutex, PoisonError};

    /// One region at a time per process: two regions sharing a small pool could each hold a worker
    /// while waiting for a part queued behind the other. A caller that finds it busy runs layer by layer.
    static BUSY: AtomicBool = AtomicBool::new(false);

    /// Whether a barrier must separate layers `i − 1` and `i`: when either is split, threads other than the
    /// caller either wrote what layer i reads or read what layer i overwrites. Two whole layers in a row
    /// both run on the caller alone.
    fn barrier_before<L: Layers>(net: &L, i: usize) -> bool {
        i > 0 && (net.units(i).len() > 1 || net.units(i - 1).len() > 1)
    }

    /// The range of buffer elements `r`, checked against the buffer's length.
    fn checked(r: &Range<usize>, len: usize) -> Range<usize> {
        assert!(r.start <= r.end && r.end <= len, "unit range {r:?} outside a buffer of {len}");
        r.clone()
    }

    /// The right to run one region of `threads` parts; dropping it lets the next region run.
    pub(super) struct Region {
        threads: usize,
    }

    /// A region if one can run here: two parts at least, a caller outside the pool (a pool worker
    /// spinning at a barrier could starve the part queued behind it), `threads − 1` pool workers, and no
    /// other region running.
    pub(super) fn enter(threads: usize) -> Option<Region> {
        let fits =
            threads >= 2 && rayon::current_thread_index().is_none() && rayon::current_num_threads() >= threads - 1;
        let free = fits && BUSY.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok();
        free.then_some(Region { threads })
    }

    impl Drop for Region {
        fn drop(&mut self) {
            BUSY.store(false, Ordering::Release);
        }
    }

    impl Region {
        /// Runs layers 0..=last as parts 0 (this thread) to threads − 1 (pool workers).
        pub(super) fn run<L: Layers>(
            self,
            net: &L,
            first: &[L::Elem],
            bufs: [&mut Vec<L::Elem>; 2],
            last: usize,
            timing: Timing<'_>,
        ) {
            let parts = Parts {
                net,
                first,
                bufs: bufs.map(|b| Shared { ptr: b.as_mut_ptr(), len: b.len() }),
                last,
                barrier: Barrier::new(self.threads),
                running: AtomicUsize::new(self.threads - 1),
                panic: Mutex::new(None),
            };
            fn shared_by_threads<T: Sync>(_: &T) {}
            shared_by_threads(&parts);
            let erased = (&parts as *const Parts<'_, L>).cast::<()>();
            for p in 1..self.threads {
                // SAFETY: `parts` outlives every pool part: this function does not return or unwind before
                // `running` is 0, which each part makes so as its last access to `parts` (see pool_part).
                // rayon::spawn does not unwind (it aborts on a panic), so every counted part gets spawned.
                let job = Job { parts: erased, p, run: pool_part::<L> };
                rayon::spawn(move || job.run());
            }
            let mine = panic::catch_unwind(AssertUnwindSafe(|| parts.part(0, timing)));
            // Spin rather than block (the page's main thread may not); a part that panicked has poisoned the
            // barrier, so the others get through it and finish.
            let mut spins = 0;
            while parts.running.load(Ordering::Acquire) != 0 {
                backoff(&mut spins);
            }
            // Every part is done: nothing holds the lock any more.
            let theirs = parts.panic.into_inner().unwrap_or_else(PoisonError::into_inner);
            if let Some(payload) = mine.err().or(theirs) {
                panic::resume_unwind(payload);
            }
        }
    }

    /// What the parts of one region share: the caller keeps it on its stack until every part is done.
    struct Parts<'a, L: Layers> {
        net: &'a L,
        first: &'a [L::Elem],
        bufs: [Shared<L::Elem>; 2],
        last: usize,
        barrier: Barrier,
        /// Pool parts not finished yet.
        running: AtomicUsize,
        /// The first panic of a pool part, raised again on the caller.
        panic: Mutex<Option<Box<dyn Any + Send>>>,
    }

    impl<L: Layers> Parts<'_, L> {
        fn part(&self, p: usize, timing: Timing<'_>) {
            let _poison = PoisonOnPanic(&self.barrier);
            walk(self.net, self.first, &self.bufs, self.last, p, &self.barrier, timing);
        }
    }

    /// A pool part's job, with the region's `Parts` erased to a pointer so the job can be `'static`.
    struct Job {
        parts: *const (),
        p: usize,
        run: unsafe fn(*const (), usize),
    }

    // SAFETY: `parts` points to a `Parts`, which is Sync (checked in `Region::run`).
    unsafe impl Send for Job {}

    impl Job {
        fn run(self) {
            // SAFETY: `run` is `pool_part` of the type `parts` points to, which is alive (see `Region::run`).
            unsafe { (self.run)(self.parts, self.p) }
        }
    }

    /// Runs part `p` on a pool worker, then reports it finished.
    ///
    /// # Safety
    /// `parts` must point to a `Parts<L>` that stays alive until `running` drops to 0.
    unsafe fn pool_part<L: Layers>(parts: *const (), p: usize) {
        // SAFETY: alive until the decrement below (the caller's promise).
        let parts = unsafe { &*parts.cast::<Parts<'_, L>>() };
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| parts.part(p, None))) {
            if let Ok(mut slot) = parts.panic.lock() {
                slot.get_or_insert(payload);
            }
        }
        linger();
        // The last access to `parts`: once `running` is 0 the caller may return and free it.
        parts.running.fetch_sub(1, Ordering::Release);
    }

    /// Spins [`super::LINGER_SPINS`] times (the load each round keeps the loop from being optimized away).
    fn linger() {
        let mut spins = 0;
        while spins < super::LINGER_SPINS.load(Ordering::Relaxed) {
            spins += 1;
            std::hint::spin_loop();
        }
    }

    /// Part `p`'s walk over layers 0..=last: its own unit of every split layer, every whole layer when
    /// it is the caller (part 0), and the barriers every part passes in the same order.
    fn walk<L: Layers>(
        net: &L,
        first: &[L::Elem],
        bufs: &[Shared<L::Elem>; 2],
        last: usize,
        p: usize,
        barrier: &Barrier,
        mut timing: Timing<'_>,
    ) {
        let mut start = timing.as_ref().map(|(now, _)| now());
        for i in 0..=last {
            if barrier_before(net, i) && !barrier.wait() {
                return; // another part panicked: stop, its panic is raised on the caller
            }
            if let (Some(t0), Some((now, times))) = (start, timing.as_mut()) {
                // Layer i − 1 ran from its start until every part passed the barrier above.
                let t = now();
                if i > 0 {
                    times[i - 1] = t - t0;
                }
                start = Some(t);
            }
            let units = net.units(i);
            let mine = if units.len() > 1 { units.get(p) } else { units.first().filter(|_| p == 0) };
            let Some(u) = mine else { continue };
            let (src_buf, dst_buf) = (&bufs[(i + 1) % 2], &bufs[i % 2]);
            // SAFETY: in layer i the parts write disjoint ranges (their own units) of buffer i % 2 and
            // only read layer i − 1's output (buffer (i + 1) % 2, or `first`), which nobody writes in
            // layer i. The barrier before a split layer orders every write of layer i − 1 before these
            // reads, and every read of layer i − 1 (of buffer i % 2) before these writes; whole layers
            // run on part 0 alone, after a barrier whenever the previous layer was split.
            let src = if i == 0 { &first[u.input.clone()] } else { unsafe { src_buf.slice(&u.input) } };
            let dst = unsafe { dst_buf.slice_mut(&u.output) };
            net.run(i, u.work, src, dst);
        }
        if let (Some(t0), Some((now, times))) = (start, timing.as_mut()) {
            times[last] = now() - t0;
        }
    }

    /// An activation buffer the parts share; each part forms slices of the ranges it owns.
    struct Shared<T> {
        ptr: *mut T,
        len: usize,
    }

    // SAFETY: the pointer is only turned into slices under the rules in `walk`.
    unsafe impl<T: Send> Send for Shared<T> {}
    unsafe impl<T: Send + Sync> Sync for Shared<T> {}

    impl<T> Shared<T> {
        /// # Safety
        /// No thread may write `r` while the slice lives.
        unsafe fn slice(&self, r: &Range<usize>) -> &[T] {
            let r = checked(r, self.len);
            // SAFETY: in bounds (checked); no concurrent writer (the caller's promise).
            unsafe { std::slice::from_raw_parts(self.ptr.add(r.start), r.len()) }
        }

        /// # Safety
        /// No other thread may touch `r` while the slice lives.
        #[allow(clippy::mut_from_ref)]
        unsafe fn slice_mut(&self, r: &Range<usize>) -> &mut [T] {
            let r = checked(r, self.len);
            // SAFETY: in bounds (checked); exclusive (the caller's promise).
            unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r.start), r.len()) }
        }
    }

    /// Spins of a waiting part before it starts yielding its core (~tens of microseconds).
    const SPINS_BEFORE_YIELD: u32 = 10_000;

    /// One round of a spinning wait. On a busy machine the thread we wait for may not be running: after a
    /// while, give up the core natively (in wasm yielding does nothing, and the main thread may not sleep).
    fn backoff(spins: &mut u32) {
        *spins = spins.saturating_add(1);
        if *spins < SPINS_BEFORE_YIELD {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }

    /// A reusable spinning barrier. The parts are busy for the whole inference and the waits are short,
    /// so spinning beats sleeping (a browser's main thread cannot sleep anyway).
    struct Barrier {
        parts: usize,
        arrived: AtomicUsize,
        generation: AtomicUsize,
        poisoned: AtomicBool,
    }

    impl Barrier {
        fn new(parts: usize) -> Barrier {
            Barrier {
                parts,
                arrived: AtomicUsize::new(0),
                generation: AtomicUsize::new(0),
                poisoned: AtomicBool::new(false),
            }
        }

        /// Waits for every part; false if the barrier was poisoned instead.
        fn wait(&self) -> bool {
            let generation = self.generation.load(Ordering::Acquire);
            if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parts {
                // Last to arrive: reset for the next round before releasing the others.
                self.arrived.store(0, Ordering::Relaxed);
                self.generation.fetch_add(1, Ordering::Release);
                return true;
            }
            let mut spins = 0;
            while self.generation.load(Ordering::Acquire) == generation {
                if self.poisoned.load(Ordering::Relaxed) {
                    return false;
                }
                backoff(&mut spins);
            }
            true
        }
    }

    /// Releases the other parts if this one panics (a bug), so the panic surfaces instead of a hang.
    struct PoisonOnPanic<'a>(&'a Barrier);

    impl Drop for PoisonOnPanic<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.poisoned.store(true, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(not(feature = "threads"))]
mod region {
    use super::{Layers, Timing};

    /// Without threads there is no region: every network runs layer by layer.
    pub(super) enum Region {}

    pub(super) fn enter(_threads: usize) -> Option<Region> {
        None
    }

    impl Region {
        pub(super) fn run<L: Layers>(self, _: &L, _: &[L::Elem], _: [&mut Vec<L::Elem>; 2], _: usize, _: Timing<'_>) {
            match self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;

    const LEN: usize = 96;

    /// A made-up network whose every unit reads the whole previous output, so a part that ran ahead
    /// of a barrier (or wrote another part's range) changes the result.
    struct Chain {
        units: Vec<Vec<Unit>>,
        threads_seen: Mutex<HashSet<std::thread::ThreadId>>,
        /// (layer, unit) that sleeps before it writes, to finish late.
        slow: Option<(usize, usize)>,
        /// (layer, unit) that panics.
        panics: Option<(usize, usize)>,
    }

    impl Chain {
        /// Layers split into `parts[i]` units each.
        fn new(parts: &[usize]) -> Chain {
            let units = parts
                .iter()
                .map(|&n| {
                    (0..n)
                        .map(|p| Unit { work: Work::Pixels(p), input: 0..LEN, output: p * LEN / n..(p + 1) * LEN / n })
                        .collect()
                })
                .collect();
            Chain { units, threads_seen: Mutex::new(HashSet::new()), slow: None, panics: None }
        }
    }

    impl Layers for Chain {
        type Elem = f64;

        fn units(&self, i: usize) -> &[Unit] {
            &self.units[i]
        }

        fn run(&self, i: usize, work: Work, src: &[f64], dst: &mut [f64]) {
            self.threads_seen.lock().unwrap().insert(std::thread::current().id());
            let Work::Pixels(p) = work else { panic!("made-up units carry their index") };
            let unit = &self.units[i][p];
            assert!(self.panics != Some((i, p)), "unit {p} of layer {i} panics");
            if self.slow == Some((i, p)) {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let sum: f64 = src.iter().enumerate().map(|(j, v)| v * (j % 7) as f64).sum();
            for (j, d) in dst.iter_mut().enumerate() {
                *d = (sum + (unit.output.start + j) as f64 * (i + 1) as f64) % 1000.0;
            }
        }
    }

    fn run_chain(net: &Chain, last: usize) -> Vec<f64> {
        let first: Vec<f64> = (0..LEN).map(|j| j as f64).collect();
        let (mut ping, mut pong) = (vec![0.0; LEN], vec![0.0; LEN]);
        forward(net, &first, &mut ping, &mut pong, last, None);
        ping
    }

    #[test]
    fn every_schedule_computes_the_same() {
        // Whole layers between split ones, split ones back to back, a split first and last layer.
        let parts = [2, 1, 1, 2, 2, 1, 2, 2, 2, 1, 2];
        let whole = Chain::new(&[1; 11]);
        for last in 0..parts.len() {
            let want = run_chain(&whole, last);
            for _ in 0..50 {
                assert_eq!(run_chain(&Chain::new(&parts), last), want, "layers 0..={last}");
            }
        }
    }

    /// A region of `threads` parts; other tests may hold it for a moment: waits up to 5 s for it.
    #[cfg(feature = "threads")]
    fn enter(threads: usize) -> Option<region::Region> {
        (0..1000).find_map(|_| {
            let r = region::enter(threads);
            if r.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            r
        })
    }

    /// Runs layers 0..=last of `net` in a region (not layer by layer).
    #[cfg(feature = "threads")]
    fn run_region(net: &Chain, last: usize) -> Vec<f64> {
        let threads = net.units.iter().map(Vec::len).max().unwrap();
        let region = enter(threads).expect("the region stays busy (or the pool is too small)");
        let first: Vec<f64> = (0..LEN).map(|j| j as f64).collect();
        let (mut ping, mut pong) = (vec![0.0; LEN], vec![0.0; LEN]);
        region.run(net, &first, [&mut pong, &mut ping], last, None);
        if last % 2 == 0 {
            pong
        } else {
            ping
        }
    }

    #[cfg(feature = "threads")]
    #[test]
    fn the_caller_waits_for_parts_that_finish_late() {
        // The caller's share of the last layer is done long before a pool part's: it must wait for it.
        let parts = [2, 2, 1, 2, 2];
        let want = run_chain(&Chain::new(&[1; 5]), 4);
        for unit in [0, 1] {
            let mut net = Chain::new(&parts);
            net.slow = Some((4, unit));
            assert_eq!(run_region(&net, 4), want, "unit {unit} late");
        }
        // And with the test hook: parts that linger after their last layer.
        LINGER_SPINS.store(5_000_000, std::sync::atomic::Ordering::Relaxed);
        let got = run_region(&Chain::new(&parts), 4);
        LINGER_SPINS.store(0, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(got, want);
    }

    #[cfg(feature = "threads")]
    #[test]
    fn a_panic_in_any_part_reaches_the_caller() {
        // Layer 1's unit 0 runs on the caller, units 1 and 2 on pool workers; the other parts must not hang.
        for unit in [0, 1] {
            let mut net = Chain::new(&[3, 3, 3, 1, 3]);
            net.panics = Some((1, unit));
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_region(&net, 4)));
            let payload = run.expect_err("the panic was lost");
            let message = payload.downcast_ref::<String>().map(String::as_str).unwrap_or_default();
            assert_eq!(message, format!("unit {unit} of layer 1 panics"));
        }
        assert!(enter(3).is_some(), "the region is free again");
    }

    #[cfg(feature = "threads")]
    #[test]
    fn outside_the_pool_layer_by_layer_runs_on_the_caller() {
        // rayon::join from outside the pool would block the caller until a worker is done.
        let net = Chain::new(&[2, 3, 1, 2]);
        let first: Vec<f64> = (0..LEN).map(|j| j as f64).collect();
        let (mut ping, mut pong) = (vec![0.0; LEN], vec![0.0; LEN]);
        layer_by_layer(&net, &first, [&mut pong, &mut ping], 3, None);
        assert_eq!(*net.threads_seen.lock().unwrap(), HashSet::from([std::thread::current().id()]));
        assert_eq!(ping, run_chain(&Chain::new(&[1; 4]), 3));
    }

    #[cfg(feature = "threads")]
    #[test]
    fn a_region_runs_on_the_caller_and_a_worker() {
        let net = Chain::new(&[2; 6]);
        let region = enter(2).expect("the region stays busy (or there is no pool)");
        let first: Vec<f64> = (0..LEN).map(|j| j as f64).collect();
        let (mut ping, mut pong) = (vec![0.0; LEN], vec![0.0; LEN]);
        let mut times = [0.0; 6];
        let clock = std::time::Instant::now();
        let now = || clock.elapsed().as_secs_f64() * 1e3;
        region.run(&net, &first, [&mut pong, &mut ping], 5, Some((&now, &mut times)));
        let seen = net.threads_seen.lock().unwrap();
        assert!(seen.contains(&std::thread::current().id()) && seen.len() == 2, "{seen:?}");
        assert!(times.iter().all(|&t| t > 0.0), "{times:?}");
        assert!(enter(2).is_some(), "the region is free again");
    }
}
