//! Once warm, a reverse gradient into a caller's buffer allocates nothing:
//! counted with a global allocator that tallies this thread's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dualtape::{reverse, Scalar};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // try_with: the thread-local may be gone while a thread shuts down
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(|c| c.get())
}

fn rosenbrock<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for w in x.windows(2) {
        s += (S::constant(1.0) - w[0]).powi(2) + (w[1] - w[0] * w[0]).powi(2) * 100.0;
    }
    s
}

#[test]
fn a_warm_gradient_into_allocates_nothing() {
    let x: Vec<f64> = (0..1000).map(|i| (i as f64).sin()).collect();
    let mut g = vec![0.0; x.len()];
    let cold = allocations();
    reverse::gradient_into(rosenbrock, &x, &mut g); // warm up
    assert!(
        allocations() > cold,
        "the counter counts: the cold tape had to grow"
    );
    let first = g.clone();
    let before = allocations();
    for _ in 0..5 {
        reverse::gradient_into(rosenbrock, &x, &mut g);
    }
    assert_eq!(allocations() - before, 0, "a warm gradient_into allocated");
    assert_eq!(g, first);
    // and a smaller problem on the warm tape allocates nothing either
    let before = allocations();
    reverse::gradient_into(rosenbrock, &x[..10], &mut g[..10]);
    assert_eq!(allocations() - before, 0);
}
