//! Every core, deterministically: the value and gradient of a sum of
//! per-example losses, `L(w) = Σᵢ lossᵢ(w)`, over a data set cut into
//! chunks that run on all threads, with a result that is **bit-identical
//! for any number of threads**.
//!
//! Write the model once, as a [`SumOfLosses`]: the loss of a range of
//! examples, generic over the [`Scalar`]. The drivers then differentiate it
//! chunk by chunk:
//!
//! | driver | each chunk | per chunk |
//! |---|---|---|
//! | [`reverse::gradient`] | one recording on the worker's own thread-local tape, one sweep | 1 pass |
//! | [`forward::gradient`] | [`DualVec<f64, N>`](crate::DualVec) passes | `ceil(n / N)` passes |
//! | [`finite_diff::gradient`] | differences of the chunk's `f64` loss | `2n + 1` (central) evaluations |
//! | [`program::Replayer`] | a replay of the recorded [`Program`](crate::reverse::Program) of its length, one sweep | 1 replay |
//! | [`value`] | one `f64` evaluation | 1 pass |
//!
//! # Why the answer never depends on the thread count
//!
//! 1. The chunking depends only on the data size and the chunk size you
//!    pass ([`chunks`]): chunk `k` is examples `k·c .. min((k+1)·c, len)`.
//! 2. Each chunk's value and gradient is computed by the same sequential
//!    code whichever thread runs it.
//! 3. The chunk results are combined in one fixed binary tree over the
//!    chunk indices (split in the middle, left + right, see [`reduce`]),
//!    whose shape depends only on the number of chunks.
//!
//! So 1, 2, 3, 8 or 64 threads, and the serial build without the
//! `parallel` feature, all perform the same floating-point operations in
//! the same order. A different chunk size is a different (equally valid)
//! summation order, and may change the last bits.
//!
//! # Threads
//!
//! With the cargo feature `parallel` (on by default) the chunks run on the
//! current [rayon](https://docs.rs/rayon) thread pool: the global one, or
//! the one whose [`install`](https://docs.rs/rayon/latest/rayon/struct.ThreadPool.html#method.install)
//! you call the driver from. Without the feature the same chunks run one
//! after the other on the calling thread, with identical results.
//!
//! On a dedicated machine, [`pinned_pool`] builds a pool whose threads
//! stay on their cores: the OS then cannot queue a woken worker behind
//! its waker while another core idles (see its docs for when that pays
//! and when not).
//!
//! ```
//! use std::ops::Range;
//! use dualtape::parallel::{self, SumOfLosses};
//! use dualtape::Scalar;
//!
//! /// Least squares of a line through data: Σ (a tᵢ + b − yᵢ)².
//! struct Line {
//!     t: Vec<f64>,
//!     y: Vec<f64>,
//! }
//!
//! impl SumOfLosses for Line {
//!     fn len(&self) -> usize {
//!         self.t.len()
//!     }
//!     fn dim(&self) -> usize {
//!         2
//!     }
//!     fn eval_chunk<S: Scalar<Real = f64>>(&self, range: std::ops::Range<usize>, p: &[S]) -> S {
//!         let mut sum = S::constant(0.0);
//!         for i in range {
//!             let r = p[0] * self.t[i] + p[1] - self.y[i];
//!             sum += r * r;
//!         }
//!         sum
//!     }
//! }
//!
//! let t: Vec<f64> = (0..10_000).map(|i| i as f64 / 10_000.0).collect();
//! let line = Line { y: t.iter().map(|t| 2.0 * t + 1.0).collect(), t };
//! // At the true parameters the loss and its gradient are zero.
//! let (l, g) = parallel::reverse::gradient(&line, &[2.0, 1.0], 256);
//! assert_eq!((l, g), (0.0, vec![0.0, 0.0]));
//! // At (0, 0) every residual is -(2t + 1): ∂/∂b = Σ -2 (2t + 1).
//! let (_, g) = parallel::reverse::gradient(&line, &[0.0, 0.0], 256);
//! let db: f64 = line.t.iter().map(|t| -2.0 * (2.0 * t + 1.0)).sum();
//! assert!((g[1] - db).abs() < 1e-9 * db.abs());
//!
//! // The same bits on 1 and 3 threads (and on any other number).
//! # #[cfg(feature = "parallel")] {
//! let on = |threads| {
//!     let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
//!     pool.install(|| parallel::reverse::gradient(&line, &[0.5, -0.5], 256))
//! };
//! assert_eq!(on(1), on(3));
//! # }
//! ```
//!
//! # Where the time goes
//!
//! [`timeline::timeline`] runs a closure and reports, for every driver call
//! in it, when each chunk started and ended on which thread: the serial
//! parts of the call (before the first chunk, after the last), how long
//! until every thread had work, and the threads' idle time. The scaling
//! example (`cargo run --release --example scaling`) prints them.
//!
//! # Panics in a chunk
//!
//! If a chunk's evaluation panics, the drivers panic on the calling
//! thread with the same payload (so the same message), once the chunks
//! already running have finished. If several chunks panic, the payload is
//! that of the first of them in chunk order (the tree keeps its left
//! side's panic), again whatever the thread count. A recording cut short by a panic is
//! ended by its guard, so every worker's tape is ready for the next
//! gradient.
//!
//! # Across machines
//!
//! The gradient of a sum is the sum of the gradients: give each machine a
//! shard of the data, run a driver there, and add the vectors with MPI,
//! Ray, Spark or any other engine. Each shard's result is deterministic
//! (whatever the machine's core count); for a result that is also
//! independent of the number of machines, sum the shard vectors in a fixed
//! order.

pub mod finite_diff;
pub mod forward;
#[cfg(feature = "parallel")]
mod pool;
pub mod program;
pub mod reverse;
pub mod timeline;

#[cfg(feature = "parallel")]
pub use pool::pinned_pool;

use std::ops::Range;

use crate::Scalar;

/// A sum of losses over a data set, written once for every [`Scalar`]:
/// `L(w) = Σ_{i < len} lossᵢ(w)`, evaluated a chunk (a range of examples)
/// at a time.
///
/// For a *mean* loss, divide inside [`eval_chunk`](SumOfLosses::eval_chunk)
/// (return `chunk_sum / len`): the total is then the mean.
///
/// `eval_chunk` runs on many threads at once (hence `Sync`), each chunk's
/// evaluation on one thread. It must not itself start rayon work while it
/// evaluates at [`Var`](crate::Var): a worker waiting inside a recording
/// could pick up another chunk and start a second recording on its tape.
///
/// ```
/// use std::ops::Range;
/// use dualtape::parallel::SumOfLosses;
/// use dualtape::Scalar;
///
/// /// Σ ln cosh(w (xᵢ − w₁)): a robust location fit.
/// struct LogCosh(Vec<f64>);
///
/// impl SumOfLosses for LogCosh {
///     fn len(&self) -> usize {
///         self.0.len()
///     }
///     fn dim(&self) -> usize {
///         2
///     }
///     fn eval_chunk<S: Scalar<Real = f64>>(&self, range: Range<usize>, w: &[S]) -> S {
///         self.0[range]
///             .iter()
///             .fold(S::constant(0.0), |acc, &x| acc + (w[0] * (w[1] * -1.0 + x)).cosh().ln())
///     }
/// }
///
/// let m = LogCosh(vec![1.0, 2.0, 4.0]);
/// assert_eq!(m.eval_chunk(0..3, &[0.0, 0.0]), 0.0);
/// ```
pub trait SumOfLosses: Sync {
    /// The number of examples (terms of the sum).
    fn len(&self) -> usize;

    /// Whether there are no examples (then `L = 0`).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of parameters `n`: the length of `w`.
    fn dim(&self) -> usize;

    /// The sum of the losses of examples `range` (a subrange of
    /// `0..len()`), at parameters `w` of length [`dim`](SumOfLosses::dim),
    /// in whatever scalar type the driver chose.
    fn eval_chunk<S: Scalar<Real = f64>>(&self, range: Range<usize>, w: &[S]) -> S;
}

impl<M: SumOfLosses> SumOfLosses for &M {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn eval_chunk<S: Scalar<Real = f64>>(&self, range: Range<usize>, w: &[S]) -> S {
        (**self).eval_chunk(range, w)
    }
}

/// A reasonable chunk size for losses that cost a few hundred nanoseconds
/// per example (a small network): big enough that a chunk's work dwarfs
/// the cost of scheduling it (a chunk of the notebook's 2-3-1 network takes
/// about 20 µs recorded on the tape, 10 µs replayed), small enough to give
/// every thread many chunks. The chunk size is part of the result's
/// definition (it fixes the summation order), so keep it fixed where you
/// compare results.
///
/// Why 128 and not 256 (issue 12, 2 threads, the notebook at 10k points):
/// work is handed between threads a whole chunk at a time, so a gradient
/// ends with one thread idle for up to a chunk; with 256 that tail was
/// 10-35 µs of a 0.4-0.9 ms gradient (3-5 % idle), long enough that the
/// idle worker went to sleep in 30-90 % of gradients and had to be woken
/// (and placed on a core by the OS anew) for the next one. With 128 the
/// tail was 2-13 µs (1-3 % idle), workers slept in 2-30 % of gradients,
/// and the per-chunk overhead stayed below 1 % at 1 thread.
///
/// For a bigger model, choose the chunk so that one chunk's recording
/// (about 24 bytes per operation on the tape, 32 per operation in a replay
/// workspace) fits a core's own L2 cache (often 1-2 MB): then the threads
/// do not compete for the shared cache. A 2-64-64-1 network (8400
/// operations per example) ran 1.8x faster on 2 threads than on 1 with
/// chunks of 32 examples (6.4 MB) and 2.0x with chunks of 8 (1.6 MB);
/// [`timeline`] shows it as time per chunk growing with the thread count.
pub const DEFAULT_CHUNK: usize = 128;

/// The chunks of `0..len`: `k·chunk_size .. min((k+1)·chunk_size, len)`
/// for `k = 0, 1, …`, the last one shorter if `chunk_size` does not divide
/// `len`. None for `len = 0`. This is the split every driver uses.
///
/// ```
/// let c: Vec<_> = dualtape::parallel::chunks(10, 4).collect();
/// assert_eq!(c, vec![0..4, 4..8, 8..10]);
/// ```
///
/// # Panics
///
/// If `chunk_size == 0`.
pub fn chunks(len: usize, chunk_size: usize) -> impl ExactSizeIterator<Item = Range<usize>> {
    check_chunk_size("parallel::chunks", chunk_size);
    (0..len.div_ceil(chunk_size)).map(move |k| chunk(k, len, chunk_size))
}

fn chunk(k: usize, len: usize, chunk_size: usize) -> Range<usize> {
    let start = k * chunk_size;
    start..(start + chunk_size).min(len)
}

fn check_chunk_size(who: &str, chunk_size: usize) {
    assert!(
        chunk_size > 0,
        "{who}: the chunk size is 0; give the number of examples per chunk, at least 1 \
         (parallel::DEFAULT_CHUNK = {DEFAULT_CHUNK} suits small networks)"
    );
}

/// The number of threads the drivers would use if called here: the current
/// rayon pool's size, or 1 without the `parallel` feature.
pub fn threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// The deterministic core of every driver: `leaf` on every chunk of
/// `0..len` (see [`chunks`]), the chunks spread over the current thread
/// pool, the results combined by `combine(left, right)` in a fixed binary
/// tree over the chunk indices. `None` for `len = 0`.
///
/// The tree: the chunks `lo..hi` (of indices) split at
/// `mid = lo + (hi − lo) / 2`, each half reduced the same way, then
/// `combine(left, right)`. Its shape depends only on the number of chunks,
/// so for a deterministic `leaf` and `combine` the result is identical for
/// every thread count. For floating-point sums this pairwise tree also
/// rounds less than a left-to-right sum (error growing with the log of the
/// number of chunks).
///
/// ```
/// use dualtape::parallel;
///
/// // Σ 1/i² for i = 1..=10⁶, in chunks of 1000 summed pairwise.
/// let s = parallel::reduce(
///     1_000_000,
///     1000,
///     |r| r.map(|i| 1.0 / ((i + 1) as f64).powi(2)).sum::<f64>(),
///     |a, b| a + b,
/// );
/// assert!((s.unwrap() - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-6);
/// ```
///
/// # Panics
///
/// If `chunk_size == 0`, or with the payload of a panic in `leaf` or
/// `combine`.
pub fn reduce<T, L, C>(len: usize, chunk_size: usize, leaf: L, combine: C) -> Option<T>
where
    T: Send,
    L: Fn(Range<usize>) -> T + Sync,
    C: Fn(T, T) -> T + Sync,
{
    check_chunk_size("parallel::reduce", chunk_size);
    let n = len.div_ceil(chunk_size);
    if n == 0 {
        return None;
    }
    if timeline::tracing() {
        let clock = timeline::Clock::start(n);
        let timed = |k| clock.time(k, || leaf(chunk(k, len, chunk_size)));
        let r = tree(0, n, &timed, &combine);
        clock.finish();
        return Some(r);
    }
    Some(tree(0, n, &|k| leaf(chunk(k, len, chunk_size)), &combine))
}

/// The chunks `lo..hi` (indices, `hi > lo`) reduced by the fixed tree.
fn tree<T, L, C>(lo: usize, hi: usize, leaf: &L, combine: &C) -> T
where
    T: Send,
    L: Fn(usize) -> T + Sync,
    C: Fn(T, T) -> T + Sync,
{
    if hi - lo == 1 {
        return leaf(lo);
    }
    let mid = lo + (hi - lo) / 2;
    let (a, b) = join(
        || tree(lo, mid, leaf, combine),
        || tree(mid, hi, leaf, combine),
    );
    combine(a, b)
}

#[cfg(feature = "parallel")]
fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    rayon::join(a, b)
}

#[cfg(not(feature = "parallel"))]
fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    (a(), b())
}

/// Checks `w` against the model and the chunk size (shared by the drivers).
fn check_args<M: SumOfLosses>(who: &str, model: &M, w: &[f64], chunk_size: usize) {
    check_chunk_size(who, chunk_size);
    assert!(
        w.len() == model.dim(),
        "{who}: the model has {} parameters (SumOfLosses::dim) but w has {}; pass one value \
         per parameter",
        model.dim(),
        w.len()
    );
}

/// `(value, gradient)` of every chunk by `leaf`, summed by the fixed tree
/// into `grad`; returns the value. Zero for no examples.
fn gradient_tree<M, L>(model: &M, chunk_size: usize, grad: &mut [f64], leaf: L) -> f64
where
    M: SumOfLosses,
    L: Fn(Range<usize>) -> (f64, Vec<f64>) + Sync,
{
    let sum = reduce(model.len(), chunk_size, leaf, |mut a, b| {
        a.0 += b.0;
        for (x, y) in a.1.iter_mut().zip(&b.1) {
            *x += y;
        }
        a
    });
    match sum {
        Some((v, g)) => {
            grad.copy_from_slice(&g);
            v
        }
        None => {
            grad.fill(0.0);
            0.0
        }
    }
}

/// The loss `L(w) = Σ_chunks eval_chunk(chunk, w)` in plain `f64`, summed
/// by the same tree as the gradients, so it has the same bits as the value
/// every driver returns.
///
/// ```
/// use std::ops::Range;
/// use dualtape::parallel::{self, SumOfLosses};
/// use dualtape::Scalar;
///
/// struct Squares(usize);
/// impl SumOfLosses for Squares {
///     fn len(&self) -> usize { self.0 }
///     fn dim(&self) -> usize { 1 }
///     fn eval_chunk<S: Scalar<Real = f64>>(&self, r: Range<usize>, w: &[S]) -> S {
///         r.fold(S::constant(0.0), |acc, i| acc + (w[0] - i as f64).powi(2))
///     }
/// }
/// // Σ_{i<100} i² = 328350
/// assert_eq!(parallel::value(&Squares(100), &[0.0], 16), 328_350.0);
/// ```
///
/// # Panics
///
/// If `chunk_size == 0`, if `w.len() != model.dim()`, or with the payload
/// of a panic in a chunk's evaluation.
pub fn value<M: SumOfLosses>(model: &M, w: &[f64], chunk_size: usize) -> f64 {
    check_args("parallel::value", model, w, chunk_size);
    reduce(
        model.len(),
        chunk_size,
        |r| model.eval_chunk(r, w),
        |a, b| a + b,
    )
    .unwrap_or(0.0)
}
