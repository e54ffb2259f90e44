//! A counting global allocator for the in-process benchmarks (bench_audit, bench_trail):
//! allocations and the heap's peak during one measured call. Included by each with
//! `#[path = "support/counting_alloc.rs"] mod counting_alloc;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// The system allocator, counting while `COUNTING` is set (one relaxed load otherwise).
pub struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            let live = LIVE.fetch_add(layout.size() as u64, Relaxed) + layout.size() as u64;
            PEAK.fetch_max(live, Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Relaxed) {
            LIVE.fetch_sub(layout.size() as u64, Relaxed);
        }
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            let live = LIVE.fetch_add(new_size as u64, Relaxed) + new_size as u64;
            PEAK.fetch_max(live, Relaxed);
            LIVE.fetch_sub(layout.size() as u64, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with counting on: its result, the allocations it made, and the heap's peak above
/// the live bytes at its start.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, u64, u64) {
    COUNTING.store(true, Relaxed);
    let allocs_before = ALLOCS.load(Relaxed);
    let live_before = LIVE.load(Relaxed);
    PEAK.store(live_before, Relaxed);
    let result = f();
    COUNTING.store(false, Relaxed);
    (
        result,
        ALLOCS.load(Relaxed) - allocs_before,
        PEAK.load(Relaxed) - live_before,
    )
}
