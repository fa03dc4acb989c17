//! Reverse mode: a recording scalar and the drivers built on it.
//!
//! A reverse driver records one evaluation of your function onto a tape
//! (one [`Var`] per input, one node per operation) and then sweeps the tape
//! backwards once per output, so a gradient of any number of inputs costs
//! one forward pass plus one backward pass: the backpropagation of neural
//! networks. Where the chain rule is applied: the partials come from
//! [`rules`](crate::rules) at record time, and [`tape`]'s sweep multiplies
//! them into the adjoints.
//!
//! | driver | recordings | sweeps | gives |
//! |---|---|---|---|
//! | [`gradient`], [`gradient_into`] | 1 | 1 | `∇f(x)` |
//! | [`vjp`] | 1 | 1 | `wᵀ J(x)` |
//! | [`jacobian`] | 1 | `m` | the `m × n` Jacobian |
//! | [`hvp`] | 1 (of `Dual<Var>`) | 1 | `∇²f(x) v` |
//! | [`hessian`] | `n` (of `Dual<Var>`) | `n` | `∇²f(x)` |
//!
//! Second order is forward over reverse: the function runs on
//! [`Dual<Var>`](crate::Dual), whose tangent is the directional derivative
//! `∇f·v` recorded on the tape, and sweeping from it gives `∇(∇f·v) = H v`.
//!
//! # When `f(x)` is not finite
//!
//! Nothing panics and nothing is checked: NaN and infinities propagate as
//! in `f64` arithmetic. The value is returned as computed, and each partial
//! is whatever the chain rule gives through the operations, often finite
//! (`ln(x0 - 1) + sqrt(x1)` at `(0.5, 4)` gives `(NaN, [-2.0, 0.25])`: the
//! partials of `ln` and `sqrt` are defined there even though the value is
//! not). Test `value.is_finite()` before using a gradient;
//! [`check::first_nonfinite`](crate::check::first_nonfinite) names the
//! operation that first produced the NaN or infinity.
//!
//! # Panics
//!
//! Every driver panics if it is called inside another recording on the same
//! thread (reverse mode does not nest; use [`hvp`] for second order), and
//! when the function uses or returns a `Var` from another recording. It
//! also panics, with advice, when the tape is full (2³² − 1 nodes) or its
//! memory cannot be allocated, and when called from another thread-local's
//! destructor after this thread's tape was freed. Every such panic is raised
//! with no borrow of the tape live, so a panic hook may call into dualtape.

pub mod program;
pub mod tape;
mod var;

pub use program::{Program, ReplayError, Workspace};
pub use tape::{tape_stats, TapeStats};
pub use var::Var;

use std::cell::Cell;

use nalgebra::DMatrix;

use crate::Dual;
/// An active recording; ends it when dropped (also on unwinding).
pub(crate) struct Recording {
    id: u64,
}

impl Recording {
    pub(crate) fn start(who: &str) -> Self {
        Recording {
            id: tape::start(who),
        }
    }

    /// Checks that an output belongs to this recording (or is a constant).
    pub(crate) fn check_output(&self, y: Var) {
        if !y.is_constant() && var::rec_of(y) != self.id {
            tape::misuse(var::rec_of(y), self.id);
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        tape::end(self.id);
    }
}

thread_local! {
    /// Reused storage for the input `Var`s handed to closures.
    static INPUTS: Cell<Vec<Var>> = const { Cell::new(Vec::new()) };
}

/// Records `f` at `x`: returns what `f` returned, with the inputs' storage
/// returned to the pool.
pub(crate) fn run<R>(rec: &Recording, x: &[f64], f: impl FnOnce(&[Var]) -> R) -> R {
    // `try_with`: during thread-local destruction the pool may be gone (the
    // recording has started, so the tape itself is still there); then a
    // fresh vector is used and freed.
    let mut inputs = INPUTS.try_with(|c| c.take()).unwrap_or_default();
    inputs.clear();
    Var::inputs(x, rec.id, &mut inputs);
    let out = f(&inputs);
    let _ = INPUTS.try_with(|c| c.set(inputs));
    out
}

/// Seeds the adjoints with `(index, weight)` pairs, sweeps from node
/// `from`, and moves the inputs' adjoints (nodes `1..=n`) into `out`,
/// leaving the adjoint buffer all zeros.
pub(crate) fn sweep_into(
    from: usize,
    seeds: impl IntoIterator<Item = (usize, f64)>,
    out: &mut [f64],
) {
    tape::sweep(from, seeds, out);
}

/// Frees this thread's tape storage (nodes, adjoints, the inputs' pool and
/// the buffers of [`record`]).
///
/// The tape keeps its storage between recordings, so that once warm a
/// gradient allocates nothing; a thread that recorded one big computation
/// therefore holds its memory until it exits. Call this to give it back; the
/// next recording on this thread allocates afresh.
///
/// ```
/// use dualtape::reverse;
///
/// // A long chain: 100 000 recorded operations, 2.4 MB of tape.
/// let (_, g) = reverse::gradient(|x| (0..100_000).fold(x[0], |a, _| a * 1.000001), &[1.0]);
/// assert!(g[0] > 1.0);
/// assert!(reverse::tape_stats().capacity_bytes >= 2_400_000);
/// reverse::release_tape();
/// assert_eq!(reverse::tape_stats().capacity_bytes, 0);
/// ```
///
/// # Panics
///
/// If called while a recording is active on this thread (inside the closure
/// given to a reverse driver): its `Var`s still need the tape.
pub fn release_tape() {
    tape::release();
    program::record::release();
    let _ = INPUTS.try_with(|c| c.take());
}

/// Records `f` at `x` as a [`Program`]: its operations, operands and
/// comparisons, replayable at other points (see [`program`] for the rules).
///
/// ```
/// use dualtape::reverse;
///
/// let p = reverse::record(|x| x[0] * x[1].exp(), &[2.0, 0.0]);
/// assert_eq!(p.gradient(&[3.0, 0.0]).unwrap(), (3.0, vec![1.0, 3.0]));
/// ```
///
/// # Panics
///
/// Inside another recording on the same thread, or if `f` returns a `Var`
/// from another recording.
pub fn record(f: impl Fn(&[Var]) -> Var, x: &[f64]) -> Program {
    record_vector(|v| vec![f(v)], x)
}

/// Records a function with several outputs as a [`Program`] (for
/// [`Program::jacobian`], [`Program::vjp`]).
///
/// ```
/// use dualtape::reverse;
///
/// let p = reverse::record_vector(|x| vec![x[0] * x[1], x[0].sin()], &[1.0, 2.0]);
/// let (y, j) = p.jacobian(&[0.0, 3.0]).unwrap();
/// assert_eq!(y, vec![0.0, 0.0]);
/// assert_eq!((j[(0, 0)], j[(0, 1)], j[(1, 0)], j[(1, 1)]), (3.0, 0.0, 1.0, 0.0));
/// ```
///
/// # Panics
///
/// As [`record`].
pub fn record_vector(f: impl Fn(&[Var]) -> Vec<Var>, x: &[f64]) -> Program {
    let rec = Recording::start("reverse::record");
    program::record::start();
    tape::with_tape(|t| t.program = true);
    let ys = run(&rec, x, f);
    tape::with_tape(|t| t.program = false);
    for y in &ys {
        rec.check_output(*y);
    }
    let outputs = ys
        .iter()
        .map(|y| program::record::arg(y.index() as u32, y.primal()))
        .collect();
    drop(rec);
    program::record::finish(x.len(), outputs)
}

/// The gradient of a scalar function in one recording and one backward
/// sweep: `(f(x), ∇f(x))`.
///
/// ```
/// use dualtape::{reverse, Scalar};
///
/// // Rosenbrock, written once for any scalar.
/// fn rosenbrock<S: Scalar<Real = f64>>(x: &[S]) -> S {
///     let (a, b) = (x[0], x[1]);
///     (S::constant(1.0) - a).powi(2) + (b - a * a).powi(2) * 100.0
/// }
/// let (v, g) = reverse::gradient(rosenbrock, &[1.0, 1.0]);
/// assert_eq!((v, g), (0.0, vec![0.0, 0.0]));
/// let (_, g) = reverse::gradient(rosenbrock, &[0.0, 1.0]);
/// assert_eq!(g, vec![-2.0, 200.0]);
/// ```
///
/// # Panics
///
/// Inside another recording on the same thread, or if `f` returns a `Var`
/// from another recording.
pub fn gradient(f: impl Fn(&[Var]) -> Var, x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let v = gradient_into(f, x, &mut g);
    (v, g)
}

/// [`gradient`] into a buffer you own: with a warm tape this allocates
/// nothing. Returns `f(x)`.
///
/// # Panics
///
/// If `grad.len() != x.len()`, and as [`gradient`].
pub fn gradient_into(f: impl Fn(&[Var]) -> Var, x: &[f64], grad: &mut [f64]) -> f64 {
    assert!(
        grad.len() == x.len(),
        "reverse::gradient_into: the gradient buffer has {} entries but x has {}; give one \
         entry per input",
        grad.len(),
        x.len()
    );
    let rec = Recording::start("reverse::gradient");
    let y = run(&rec, x, f);
    rec.check_output(y);
    let from = y.index().max(x.len());
    sweep_into(from, [(y.index(), 1.0)], grad);
    y.value()
}

/// A vector-Jacobian product in one recording and one sweep:
/// `(f(x), wᵀ J(x))`.
///
/// # Panics
///
/// If `w` does not have one entry per output of `f`, and as [`gradient`].
///
/// ```
/// use dualtape::reverse;
///
/// let (y, vj) = reverse::vjp(|x| vec![x[0] * x[1], x[0] + x[1]], &[2.0, 3.0], &[1.0, 10.0]);
/// assert_eq!(y, vec![6.0, 5.0]);
/// assert_eq!(vj, vec![3.0 + 10.0, 2.0 + 10.0]);
/// ```
pub fn vjp(f: impl Fn(&[Var]) -> Vec<Var>, x: &[f64], w: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let rec = Recording::start("reverse::vjp");
    let ys = run(&rec, x, f);
    assert!(
        ys.len() == w.len(),
        "reverse::vjp: f returned {} outputs but w has {} entries; give one weight per output",
        ys.len(),
        w.len()
    );
    let n = x.len();
    let from = ys.iter().map(|y| y.index()).max().unwrap_or(0).max(n);
    for y in &ys {
        rec.check_output(*y);
    }
    let mut out = vec![0.0; n];
    sweep_into(
        from,
        ys.iter().map(|y| y.index()).zip(w.iter().copied()),
        &mut out,
    );
    (ys.iter().map(|y| y.value()).collect(), out)
}

/// The Jacobian of a vector function: one recording, one backward sweep per
/// output. Returns `(f(x), J)` with `J[(i, j)] = ∂f_i/∂x_j`.
///
/// Reverse mode suits Jacobians with fewer outputs than inputs; for the
/// opposite shape use [`forward::jacobian`](crate::forward::jacobian).
///
/// ```
/// use dualtape::reverse;
///
/// let (y, j) = reverse::jacobian(|x| vec![x[0] * x[1], x[1].exp()], &[2.0, 0.0]);
/// assert_eq!(y, vec![0.0, 1.0]);
/// assert_eq!((j[(0, 0)], j[(0, 1)], j[(1, 0)], j[(1, 1)]), (0.0, 2.0, 0.0, 1.0));
/// ```
///
/// # Panics
///
/// As [`gradient`].
pub fn jacobian(f: impl Fn(&[Var]) -> Vec<Var>, x: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
    let rec = Recording::start("reverse::jacobian");
    let ys = run(&rec, x, f);
    let n = x.len();
    let mut jac = DMatrix::zeros(ys.len(), n);
    let mut row = vec![0.0; n];
    for (i, y) in ys.iter().enumerate() {
        rec.check_output(*y);
        let from = y.index().max(n);
        sweep_into(from, [(y.index(), 1.0)], &mut row);
        for (j, &r) in row.iter().enumerate() {
            jac[(i, j)] = r;
        }
    }
    (ys.iter().map(|y| y.value()).collect(), jac)
}

/// A Hessian-vector product by forward over reverse, at about the cost of
/// two gradients: `(f(x), ∇²f(x) v)`.
///
/// `f` runs on [`Dual<Var>`](crate::Dual); write it once, generically.
///
/// ```
/// use dualtape::{reverse, Scalar};
///
/// fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
///     x[0] * x[0] * x[1] // H = [[2 x1, 2 x0], [2 x0, 0]]
/// }
/// let (v, hv) = reverse::hvp(f, &[3.0, 2.0], &[1.0, 0.0]);
/// assert_eq!(v, 18.0);
/// assert_eq!(hv, vec![4.0, 6.0]);
/// ```
///
/// # Panics
///
/// If `v.len() != x.len()`, and as [`gradient`].
pub fn hvp(f: impl Fn(&[Dual<Var>]) -> Dual<Var>, x: &[f64], v: &[f64]) -> (f64, Vec<f64>) {
    assert!(
        v.len() == x.len(),
        "reverse::hvp: the direction v has {} components but x has {}; pass one direction \
         component per input",
        v.len(),
        x.len()
    );
    let (value, _, hv) = hvp_inner("reverse::hvp", &f, x, v);
    (value, hv)
}

/// One forward-over-reverse pass: `(f(x), ∇f(x)·v, ∇²f(x) v)`.
fn hvp_inner(
    who: &str,
    f: &impl Fn(&[Dual<Var>]) -> Dual<Var>,
    x: &[f64],
    v: &[f64],
) -> (f64, f64, Vec<f64>) {
    let rec = Recording::start(who);
    let n = x.len();
    let y = run(&rec, x, |vars| {
        let duals: Vec<Dual<Var>> = vars
            .iter()
            .zip(v)
            .map(|(&xi, &vi)| Dual::new(xi, Var::from(vi)))
            .collect();
        f(&duals)
    });
    rec.check_output(y.re);
    rec.check_output(y.eps);
    let d = y.eps;
    let from = d.index().max(n);
    let mut hv = vec![0.0; n];
    sweep_into(from, [(d.index(), 1.0)], &mut hv);
    (y.re.value(), d.value(), hv)
}

/// The Hessian by forward over reverse, one [`hvp`] per input:
/// `(f(x), ∇f(x), ∇²f(x))`.
///
/// ```
/// use dualtape::{reverse, Scalar};
///
/// fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
///     x[0] * x[0] * x[1]
/// }
/// let (v, g, h) = reverse::hessian(f, &[3.0, 2.0]);
/// assert_eq!(v, 18.0);
/// assert_eq!(g, vec![12.0, 9.0]);
/// assert_eq!((h[(0, 0)], h[(0, 1)], h[(1, 0)], h[(1, 1)]), (4.0, 6.0, 6.0, 0.0));
/// ```
///
/// # Panics
///
/// As [`gradient`].
pub fn hessian(f: impl Fn(&[Dual<Var>]) -> Dual<Var>, x: &[f64]) -> (f64, Vec<f64>, DMatrix<f64>) {
    let n = x.len();
    let mut hess = DMatrix::zeros(n, n);
    let mut grad = vec![0.0; n];
    let mut e = vec![0.0; n];
    let mut value = f64::NAN;
    if n == 0 {
        let (v, _, _) = hvp_inner("reverse::hessian", &f, x, &e);
        return (v, grad, hess);
    }
    for i in 0..n {
        e[i] = 1.0;
        let (v, gi, col) = hvp_inner("reverse::hessian", &f, x, &e);
        e[i] = 0.0;
        value = v;
        grad[i] = gi;
        for (j, &c) in col.iter().enumerate() {
            hess[(j, i)] = c;
        }
    }
    (value, grad, hess)
}
