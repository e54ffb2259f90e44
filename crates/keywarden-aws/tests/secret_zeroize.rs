//! A secret is zeroed when it is dropped: this test binary's allocator looks at every block as
//! it is freed and records whether it still held a marker secret. A plain `String` frees its
//! bytes as they were (the observer sees the marker: the check can fail); a [`SecretString`],
//! and the [`NewAccessKey`] holding one, must free only zeros.
//!
//! One test in its own binary: the allocator is process-wide, and a second test running at the
//! same time could free its own copy of a marker.

use keywarden_aws::api::{NewAccessKey, SecretString};
use keywarden_core::Timestamp;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the allocator looks for in a freed block.
const MARKER: &[u8] = b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

static FREED_WITH_MARKER: AtomicBool = AtomicBool::new(false);

struct Observer;

// SAFETY: every call is forwarded to `System` unchanged; `dealloc` only reads the block it is
// handed, which is valid for `layout.size()` bytes until it is passed on.
unsafe impl GlobalAlloc for Observer {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // The secrets below are exactly MARKER long; looking only at small blocks keeps the
        // harness's own large frees cheap.
        if (MARKER.len()..=256).contains(&layout.size()) {
            // SAFETY: the block is still allocated, `layout.size()` bytes long, and only
            // blocks this program wrote (initialized) reach a String's deallocation; other
            // blocks are read as bytes, which any initialized memory is.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block.windows(MARKER.len()).any(|w| w == MARKER) {
                FREED_WITH_MARKER.store(true, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Observer = Observer;

fn marker() -> String {
    String::from_utf8(MARKER.to_vec()).unwrap()
}

/// Runs `f` and says whether a block freed meanwhile still held the marker.
fn frees_the_marker(f: impl FnOnce()) -> bool {
    FREED_WITH_MARKER.store(false, Ordering::SeqCst);
    f();
    FREED_WITH_MARKER.load(Ordering::SeqCst)
}

#[test]
fn a_dropped_secret_leaves_only_zeros_in_freed_memory() {
    assert!(
        frees_the_marker(|| drop(std::hint::black_box(marker()))),
        "the observer sees a plain String's bytes when it is freed"
    );

    assert!(
        !frees_the_marker(|| {
            let secret = SecretString::new(marker());
            assert_eq!(secret.expose().as_bytes(), MARKER);
            drop(std::hint::black_box(secret));
        }),
        "a SecretString was freed with the secret still in it"
    );

    assert!(
        !frees_the_marker(|| {
            let key = NewAccessKey {
                id: "AKIANEW".into(),
                created: Timestamp::default(),
                secret: SecretString::new(marker()),
            };
            let copy = key.clone();
            drop(std::hint::black_box(key));
            drop(std::hint::black_box(copy));
        }),
        "a new access key (or its clone) was freed with its secret still in it"
    );
}
