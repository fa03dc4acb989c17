//! When the memory for the tape cannot be allocated, reverse mode panics
//! with advice (it does not abort), and the tape stays usable: a global
//! allocator refuses, on request, allocations above a size on this thread.
//!
//! Its own test binary (one global allocator per binary), with a panic hook
//! that prints no backtrace: symbolising one allocates large buffers, which
//! the refusing allocator would refuse too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{self, catch_unwind, AssertUnwindSafe};
use std::sync::Once;
use std::thread;

use dualtape::{reverse, Var};

/// Refuses allocations larger than `REFUSE_ABOVE` bytes on the thread that
/// set it (0: refuses nothing).
struct Refusing;

thread_local! {
    static REFUSE_ABOVE: Cell<usize> = const { Cell::new(0) };
}

fn refused(size: usize) -> bool {
    // try_with: the thread-local may be gone while the thread shuts down.
    REFUSE_ABOVE
        .try_with(|r| r.get() != 0 && size > r.get())
        .unwrap_or(false)
}

unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if refused(new_size) {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Refusing = Refusing;

/// `x0 * 1.5^k` recorded as `k` nodes.
fn chain(x: &[Var], k: usize) -> Var {
    (0..k).fold(x[0], |a, _| a * 1.5)
}

/// Panics print their message and location, never a backtrace.
fn no_backtraces() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| panic::set_hook(Box::new(|info| eprintln!("{info}"))));
}

fn message_of(f: impl FnOnce()) -> String {
    let p = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    match p.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast::<&str>().map(|s| s.to_string()).unwrap(),
    }
}

#[test]
fn a_node_buffer_that_cannot_grow_panics_with_advice() {
    no_backtraces();
    thread::spawn(|| {
        // The buffer doubles to 2048 nodes (48 KiB); doubling again (96 KiB)
        // is refused, so it grows by a quarter to 2560 (60 KiB), then by a
        // sixteenth to 2720 (63.75 KiB); more than that is refused.
        REFUSE_ABOVE.with(|r| r.set(64 * 1024));
        let (_, g) = reverse::gradient(|x| chain(x, 2000), &[1.0]);
        assert_eq!(g, vec![1.5f64.powi(2000)]);
        let (_, g) = reverse::gradient(|x| chain(x, 2558), &[1.0]);
        assert_eq!(g, vec![1.5f64.powi(2558)]);
        assert_eq!(reverse::tape_stats().nodes, 2560);
        let msg = message_of(|| {
            reverse::gradient(|x| chain(x, 3000), &[1.0]);
        });
        assert!(
            msg.contains("out of memory growing the reverse-mode tape to 2721 nodes"),
            "{msg}"
        );
        assert!(msg.contains("Split the computation"), "{msg}");
        // The tape kept its buffer and works, within it and beyond it once
        // memory is there again.
        let (_, g) = reverse::gradient(|x| chain(x, 2000), &[2.0]);
        assert_eq!(g, vec![1.5f64.powi(2000)]);
        REFUSE_ABOVE.with(|r| r.set(0));
        let (_, g) = reverse::gradient(|x| chain(x, 3000), &[1.0]);
        assert_eq!(g, vec![1.5f64.powi(3000)]);
    })
    .join()
    .unwrap();
}

#[test]
fn an_adjoint_buffer_that_cannot_grow_panics_with_advice() {
    no_backtraces();
    thread::spawn(|| {
        // Grow the node buffer first (8192 nodes), then refuse the 7001
        // adjoints (56 KB) of a recording that fits in it.
        reverse::gradient(|x| chain(x, 5000), &[1.0]);
        reverse::release_tape();
        reverse::gradient(|x| chain(x, 5000), &[1.0]);
        REFUSE_ABOVE.with(|r| r.set(50_000));
        let msg = message_of(|| {
            reverse::gradient(|x| chain(x, 6999), &[1.0]);
        });
        assert!(
            msg.contains("out of memory growing the reverse-mode tape to 7001 nodes"),
            "{msg}"
        );
        REFUSE_ABOVE.with(|r| r.set(0));
        let (_, g) = reverse::gradient(|x| chain(x, 6999), &[1.0]);
        assert_eq!(g, vec![1.5f64.powi(6999)]);
    })
    .join()
    .unwrap();
}
