//! Sparse Jacobians and Hessians: sparsity detection, colouring and
//! compressed passes.
//!
//! A Jacobian of `n` inputs costs `n` forward passes or `m` reverse sweeps
//! with the dense drivers. When each output touches a handful of inputs (a
//! residual of a discretised PDE, an optimiser's constraints), columns that
//! share no row can be seeded together: one pass per *colour* instead of per
//! column. A banded Jacobian of any size needs as many colours as its
//! bandwidth; a tridiagonal one, 3.
//!
//! 1. **Detect** the pattern from one recording at a point `x`
//!    ([`jacobian_sparsity`], [`hessian_sparsity`]), by propagating index
//!    sets through the recorded operations. For a Hessian only nonlinear
//!    interactions count: `Σ (x_i - x_{i+1})²` has a tridiagonal pattern.
//! 2. **Colour** it ([`colour`]): columns for forward `DualVec` passes, rows
//!    for reverse sweeps, a star colouring for a symmetric Hessian
//!    (forward-over-reverse Hessian-vector products).
//! 3. **Evaluate** at any number of points with a plan made once
//!    ([`JacobianPlan`], [`HessianPlan`]): the common case inside a Newton
//!    loop. Values come in the pattern's order, or as
//!    [`nalgebra_sparse`] matrices ([`CsrMatrix`], [`CscMatrix`]), or as
//!    raw `(rows, cols, values)` triplets ([`Sparsity::triplets`]). In a
//!    loop, keep a [`Workspace`] next to the plan and evaluate into your own
//!    buffers ([`HessianPlan::values_with`], and with a program recorded
//!    once [`HessianPlan::values_program_with`],
//!    [`JacobianPlan::values_program_with`]): the replays then allocate
//!    nothing after the first call.
//!
//! | | passes | each pass |
//! |---|---|---|
//! | [`JacobianPlan`], [`Side::Forward`] | `ceil(colours / lanes)` | one evaluation at `DualVec<f64, lanes>` (lanes 1, 2, 4 or 8) |
//! | [`JacobianPlan`], [`Side::Reverse`] | 1 recording + `colours` sweeps | one backward sweep of the tape |
//! | [`HessianPlan`] | 1 recording + `ceil(colours / lanes)` | one replay and adjoint sweep of the recorded program on `DualVec<f64, lanes>` (forward over reverse) |
//!
//! [`Side::Auto`] (the default) takes the side with fewer colours, forward
//! on a tie.
//!
//! ```
//! use dualtape::sparse::{JacobianPlan, Side};
//! use dualtape::{Scalar, VectorFunction};
//!
//! /// The residual of -u'' + u³ = 1 on a grid, u = 0 at both ends.
//! struct Residual(usize);
//!
//! impl VectorFunction for Residual {
//!     fn dim(&self) -> usize { self.0 }
//!     fn outputs(&self) -> usize { self.0 }
//!     fn eval<S: Scalar<Real = f64>>(&self, u: &[S]) -> Vec<S> {
//!         let n = u.len();
//!         let at = |i: isize| if i < 0 || i >= n as isize { S::constant(0.0) } else { u[i as usize] };
//!         (0..n as isize)
//!             .map(|i| at(i) * 2.0 - at(i - 1) - at(i + 1) + at(i).powi(3) - 1.0)
//!             .collect()
//!     }
//! }
//!
//! let f = Residual(1000);
//! let u = vec![0.5; 1000];
//! // Detect and colour once: tridiagonal, 3 colours, 1 forward pass of DualVec<f64, 4>.
//! let plan = JacobianPlan::detect(&f, &u, Side::Auto);
//! assert_eq!(plan.sparsity().nnz(), 3 * 1000 - 2);
//! assert_eq!((plan.colouring().count(), plan.passes()), (3, 1));
//!
//! // Evaluate at as many points as you like.
//! let (r, j) = plan.eval(&f, &u);
//! assert_eq!(r[0], 0.5 * 2.0 - 0.5 + 0.125 - 1.0);
//! assert_eq!(j.get_entry(1, 1).unwrap().into_value(), 2.0 + 3.0 * 0.25);
//! assert_eq!(j.get_entry(1, 2).unwrap().into_value(), -1.0);
//! assert!(!plan.sparsity().contains(1, 3)); // outside the pattern
//!
//! // On request, one extra pass checks that the pattern missed no nonzero.
//! plan.eval_checked(&f, &u).expect("the pattern holds at u");
//! ```
//!
//! A Hessian, with the gradient from the same passes:
//!
//! ```
//! use dualtape::sparse::HessianPlan;
//! use dualtape::{Differentiable, Scalar};
//!
//! /// Σ (x_{i+1} - x_i)² / 2 + Σ cosh(x_i): a tridiagonal Hessian.
//! struct Energy(usize);
//!
//! impl Differentiable for Energy {
//!     fn dim(&self) -> usize { self.0 }
//!     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
//!         let mut e = S::constant(0.0);
//!         for i in 0..x.len() {
//!             e += x[i].cosh();
//!             if i + 1 < x.len() {
//!                 let d = x[i + 1] - x[i];
//!                 e += d * d * 0.5;
//!             }
//!         }
//!         e
//!     }
//! }
//!
//! let plan = HessianPlan::detect(&Energy(500), &vec![0.0; 500]);
//! assert_eq!(plan.colouring().count(), 3);
//! let (e, g, h) = plan.eval(&Energy(500), &vec![0.0; 500]);
//! assert_eq!((e, g[7]), (500.0, 0.0));
//! assert_eq!(h.get_entry(7, 7).unwrap().into_value(), 2.0 + 1.0); // 2 from the differences, cosh''(0) = 1
//! assert_eq!(h.get_entry(7, 8).unwrap().into_value(), -1.0);
//! ```
//!
//! # When a pattern holds
//!
//! The pattern is detected from one recording at `x`, so it describes the
//! computation `f` performed there. It holds at every point where `f` takes
//! the same branches (`if x > 0`, a loop bound that depends on `x`); where a
//! branch goes the other way the Jacobian may have nonzeros the pattern
//! misses, and the compressed values would silently mix them into other
//! entries. [`JacobianPlan::eval_checked`] and [`HessianPlan::eval_checked`]
//! catch that with one extra directional derivative at a pseudo-random
//! direction, and return a [`PatternError`] naming the rows; detect the
//! pattern again at the new point (or from a point taking every branch).
//! [`check_jacobian`] and [`check_hessian`] compare every entry against the
//! dense drivers (slow, for tests). Operations with a kink (`abs`, `max`,
//! `min`) keep both operands in the pattern, whichever side `x` is on.

// Entries are addressed by row offsets: index loops read best.
#![allow(clippy::needless_range_loop)]

pub mod colour;
mod detect;
mod pattern;
mod record;
mod replay;

pub use colour::Colouring;
pub use nalgebra_sparse::{CscMatrix, CsrMatrix};
pub use pattern::Sparsity;
pub use replay::{hessian_sparsity_of, jacobian_sparsity_of, Workspace};

use std::fmt;

use crate::model::{check_dim, eval_vector, Differentiable, VectorFunction};
use crate::reverse::{run as record_on, sweep_into, Recording};
use crate::{Dual, DualVec};

/// Which way a sparse Jacobian is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Side {
    /// The side with fewer colours; forward on a tie.
    #[default]
    Auto,
    /// Forward mode: columns coloured, one `DualVec` lane per colour.
    Forward,
    /// Reverse mode: rows coloured, one recording and one sweep per colour.
    Reverse,
}

/// The Jacobian pattern of `f` at `x`, from one recording: entry `(i, j)` is
/// in the pattern if output `i` depends on input `j` in the computation `f`
/// performs at `x` (see [When a pattern holds](self#when-a-pattern-holds)).
///
/// ```
/// use dualtape::sparse;
/// use dualtape::{Scalar, VectorFunction};
///
/// struct F;
/// impl VectorFunction for F {
///     fn dim(&self) -> usize { 3 }
///     fn outputs(&self) -> usize { 2 }
///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
///         vec![x[0] * x[2], x[1].sin() + x[1].floor() * x[0]]
///     }
/// }
/// // floor has derivative 0: x[1].floor() * x[0] depends on x[0] only.
/// let p = sparse::jacobian_sparsity(&F, &[1.0, 2.0, 3.0]);
/// assert_eq!(p.to_string(), "*.*\n**.\n");
/// ```
///
/// # Panics
///
/// If `x.len() != f.dim()` or `f` does not return `f.outputs()` values.
pub fn jacobian_sparsity<F: VectorFunction + ?Sized>(f: &F, x: &[f64]) -> Sparsity {
    check_dim("sparse::jacobian_sparsity", "x", x.len(), f.dim());
    jacobian_sparsity_of(&record::vector(f, x))
}

/// The (symmetric) Hessian pattern of `f` at `x`, from one recording: entry
/// `(i, j)` is in the pattern if inputs `i` and `j` meet in an operation that
/// is nonlinear in them (a product of something depending on `x_i` with
/// something depending on `x_j`, or `sin`, `exp`, ... of something depending
/// on both) and that the result depends on.
///
/// ```
/// use dualtape::{sparse, Differentiable, Scalar};
///
/// struct F;
/// impl Differentiable for F {
///     fn dim(&self) -> usize { 3 }
///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
///         x[0] * x[1] + (x[2] * 3.0 + x[1]).exp() + x[0]
///     }
/// }
/// let p = sparse::hessian_sparsity(&F, &[1.0, 2.0, 3.0]);
/// assert_eq!(p.to_string(), ".*.\n***\n.**\n");
/// ```
///
/// # Panics
///
/// If `x.len() != f.dim()`.
pub fn hessian_sparsity<M: Differentiable + ?Sized>(f: &M, x: &[f64]) -> Sparsity {
    check_dim("sparse::hessian_sparsity", "x", x.len(), f.dim());
    hessian_sparsity_of(&record::scalar(f, x))
}

/// The Jacobian in one call: detect, colour (automatic side) and evaluate.
/// Returns `(f(x), J)`. To evaluate at many points, make a [`JacobianPlan`]
/// once instead.
///
/// # Panics
///
/// As [`jacobian_sparsity`].
pub fn jacobian<F: VectorFunction + ?Sized>(f: &F, x: &[f64]) -> (Vec<f64>, CsrMatrix<f64>) {
    JacobianPlan::detect(f, x, Side::Auto).eval(f, x)
}

/// The Hessian in one call: one recording of `f` at `x` as a
/// [`Program`](crate::reverse::Program), its pattern detected and
/// star-coloured, and the compressed products replayed from it. Returns
/// `(f(x), ∇f(x), ∇²f(x))`. To evaluate at many points, make a
/// [`HessianPlan`] once instead.
///
/// # Panics
///
/// As [`hessian_sparsity`].
pub fn hessian<M: Differentiable + ?Sized>(f: &M, x: &[f64]) -> (f64, Vec<f64>, CsrMatrix<f64>) {
    check_dim("sparse::hessian", "x", x.len(), f.dim());
    // One recording serves both: the pattern, and replays at the same point.
    let program = record::scalar(f, x);
    let plan = HessianPlan::new(hessian_sparsity_of(&program));
    let mut v = vec![0.0; plan.sparsity.nnz()];
    let mut grad = vec![0.0; x.len()];
    let value = plan.values_at_recording(
        "sparse::hessian",
        &mut Workspace::default(),
        program,
        x,
        &mut v,
        &mut grad,
    );
    (value, grad, plan.sparsity.csr(v))
}

/// Panics unless `values` has one entry per entry of `p` (the check of every
/// `*_into`/`*_with` evaluation).
fn check_values(who: &str, p: &Sparsity, values: &[f64]) {
    assert_eq!(
        values.len(),
        p.nnz(),
        "{who}: the values buffer has {} entries but the pattern {}; give one per entry",
        values.len(),
        p.nnz()
    );
}

/// The lanes of `DualVec` a forward pass carries for `colours` colours.
fn lanes(colours: usize) -> usize {
    match colours {
        0 | 1 => 1,
        2 => 2,
        3 | 4 => 4,
        _ => 8,
    }
}

/// Seeds the tangents of pass `base..base + N`: `xs[j] = x[j]` with lane
/// `c - base` set to 1 where `j`'s colour `c` is in the pass, 0 elsewhere.
fn seed<const N: usize>(xs: &mut [DualVec<f64, N>], x: &[f64], colours: &[usize], base: usize) {
    for ((xj, &v), &c) in xs.iter_mut().zip(x).zip(colours) {
        *xj = DualVec::new(v, [0.0; N]);
        if (base..base + N).contains(&c) {
            xj.eps[c - base] = 1.0;
        }
    }
}

/// A sparse Jacobian's pattern with its colouring: made once, evaluated at
/// many points.
///
/// See the [module docs](self) for an example.
#[derive(Clone, Debug)]
pub struct JacobianPlan {
    sparsity: Sparsity,
    side: Side,
    colouring: Colouring,
    /// The colour each entry is read from: its column's (forward) or row's (reverse).
    entry_colour: Vec<usize>,
    /// The rows of each colour (reverse side only).
    groups: Vec<Vec<usize>>,
}

impl JacobianPlan {
    /// A plan for a known pattern: colours it on `side` ([`Side::Auto`]: the
    /// side with fewer colours).
    pub fn new(sparsity: Sparsity, side: Side) -> Self {
        let side = match side {
            Side::Auto => {
                let cols = colour::columns(&sparsity);
                let rows = colour::rows(&sparsity);
                if cols.count() <= rows.count() {
                    return Self::build(sparsity, Side::Forward, cols);
                }
                return Self::build(sparsity, Side::Reverse, rows);
            }
            s => s,
        };
        let c = if side == Side::Forward {
            colour::columns(&sparsity)
        } else {
            colour::rows(&sparsity)
        };
        Self::build(sparsity, side, c)
    }

    /// A plan with your own colouring: of the columns for [`Side::Forward`],
    /// of the rows for [`Side::Reverse`].
    ///
    /// # Panics
    ///
    /// If `side` is [`Side::Auto`], or `colouring` is not a valid colouring
    /// of that side (two entries of one row, or column, share a colour).
    pub fn with_colouring(sparsity: Sparsity, side: Side, colouring: Colouring) -> Self {
        let ok = match side {
            Side::Forward => colour::is_column_colouring(&sparsity, &colouring),
            Side::Reverse => colour::is_row_colouring(&sparsity, &colouring),
            Side::Auto => panic!(
                "JacobianPlan::with_colouring: say which side the colouring is for \
                 (Side::Forward for columns, Side::Reverse for rows), not Side::Auto"
            ),
        };
        assert!(
            ok,
            "JacobianPlan::with_colouring: the colouring is not a valid {} colouring of the \
             pattern (two entries of one {} share a colour); use sparse::colour::{}",
            if side == Side::Forward {
                "column"
            } else {
                "row"
            },
            if side == Side::Forward {
                "row"
            } else {
                "column"
            },
            if side == Side::Forward {
                "columns"
            } else {
                "rows"
            },
        );
        Self::build(sparsity, side, colouring)
    }

    fn build(sparsity: Sparsity, side: Side, colouring: Colouring) -> Self {
        let c = colouring.colours();
        let entry_colour = sparsity
            .entries()
            .map(|(i, j)| if side == Side::Forward { c[j] } else { c[i] })
            .collect();
        let groups = if side == Side::Reverse {
            colouring.groups()
        } else {
            Vec::new()
        };
        JacobianPlan {
            sparsity,
            side,
            colouring,
            entry_colour,
            groups,
        }
    }

    /// Detects the pattern of `f` at `x` ([`jacobian_sparsity`]) and colours it.
    ///
    /// # Panics
    ///
    /// As [`jacobian_sparsity`].
    pub fn detect<F: VectorFunction + ?Sized>(f: &F, x: &[f64], side: Side) -> Self {
        Self::new(jacobian_sparsity(f, x), side)
    }

    /// The pattern.
    pub fn sparsity(&self) -> &Sparsity {
        &self.sparsity
    }

    /// The side the plan computes on: [`Side::Forward`] or [`Side::Reverse`].
    pub fn side(&self) -> Side {
        self.side
    }

    /// The colouring (of the columns going forward, of the rows in reverse).
    pub fn colouring(&self) -> &Colouring {
        &self.colouring
    }

    /// The derivative passes one evaluation costs: forward passes of
    /// `DualVec<f64, lanes>` (`ceil(colours / lanes)`), or reverse sweeps
    /// after one recording (`colours`).
    pub fn passes(&self) -> usize {
        let c = self.colouring.count();
        match self.side {
            Side::Reverse => c,
            _ => c.div_ceil(lanes(c)).max(1),
        }
    }

    /// `(f(x), J)` as compressed sparse rows.
    ///
    /// # Panics
    ///
    /// If `x.len() != f.dim()`, `f` does not return `f.outputs()` values, or
    /// the plan's pattern is not `f.outputs() × f.dim()`.
    pub fn eval<F: VectorFunction + ?Sized>(&self, f: &F, x: &[f64]) -> (Vec<f64>, CsrMatrix<f64>) {
        let (y, v) = self.values(f, x);
        (y, self.sparsity.csr(v))
    }

    /// `(f(x), values)` with the Jacobian's entries in the pattern's order
    /// (turn them into a matrix with [`Sparsity::csr`], [`Sparsity::csc`],
    /// [`Sparsity::triplets`]).
    ///
    /// # Panics
    ///
    /// As [`eval`](Self::eval).
    pub fn values<F: VectorFunction + ?Sized>(&self, f: &F, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let mut v = vec![0.0; self.sparsity.nnz()];
        let y = self.values_into(f, x, &mut v);
        (y, v)
    }

    /// Writes the Jacobian's entries into `values` (pattern order) and returns `f(x)`.
    ///
    /// # Panics
    ///
    /// If `values.len()` is not the pattern's `nnz()`, and as [`eval`](Self::eval).
    pub fn values_into<F: VectorFunction + ?Sized>(
        &self,
        f: &F,
        x: &[f64],
        values: &mut [f64],
    ) -> Vec<f64> {
        const WHO: &str = "sparse::JacobianPlan";
        check_dim(WHO, "x", x.len(), f.dim());
        assert!(
            self.sparsity.nrows() == f.outputs() && self.sparsity.ncols() == f.dim(),
            "{WHO}: the plan's pattern is {} × {} but the function has {} outputs and {} \
             inputs; make the plan from this function",
            self.sparsity.nrows(),
            self.sparsity.ncols(),
            f.outputs(),
            f.dim()
        );
        check_values(WHO, &self.sparsity, values);
        match self.side {
            Side::Reverse => self.reverse(f, x, values),
            _ => match lanes(self.colouring.count()) {
                1 => self.forward::<F, 1>(f, x, values),
                2 => self.forward::<F, 2>(f, x, values),
                4 => self.forward::<F, 4>(f, x, values),
                _ => self.forward::<F, 8>(f, x, values),
            },
        }
    }

    /// Column compression: `ceil(colours / N)` passes of `DualVec<f64, N>`.
    fn forward<F: VectorFunction + ?Sized, const N: usize>(
        &self,
        f: &F,
        x: &[f64],
        values: &mut [f64],
    ) -> Vec<f64> {
        const WHO: &str = "sparse::JacobianPlan";
        let colours = self.colouring.colours();
        let count = self.colouring.count();
        let mut xs = vec![DualVec::new(0.0, [0.0; N]); x.len()];
        let mut y0 = Vec::new();
        for pass in 0..count.div_ceil(N).max(1) {
            let base = pass * N;
            seed(&mut xs, x, colours, base);
            let y = eval_vector(WHO, f, &xs);
            if pass == 0 {
                y0 = y.iter().map(|d| d.re).collect();
            }
            self.scatter(&y, base, values);
        }
        y0
    }

    /// Reads the entries whose columns have colours `base..base + N` from
    /// the tangents of the outputs of one forward pass.
    fn scatter<const N: usize>(&self, y: &[DualVec<f64, N>], base: usize, values: &mut [f64]) {
        let offsets = self.sparsity.row_offsets();
        for (i, yi) in y.iter().enumerate() {
            for k in offsets[i]..offsets[i + 1] {
                let c = self.entry_colour[k];
                if (base..base + N).contains(&c) {
                    values[k] = yi.eps[c - base];
                }
            }
        }
    }

    /// Row compression: one recording, one sweep per colour.
    fn reverse<F: VectorFunction + ?Sized>(
        &self,
        f: &F,
        x: &[f64],
        values: &mut [f64],
    ) -> Vec<f64> {
        const WHO: &str = "sparse::JacobianPlan";
        let n = x.len();
        let rec = Recording::start(WHO);
        let ys = record_on(&rec, x, |v| eval_vector(WHO, f, v));
        for y in &ys {
            rec.check_output(*y);
        }
        let from = ys.iter().map(|y| y.index()).max().unwrap_or(0).max(n);
        let mut adj = vec![0.0; n];
        let offsets = self.sparsity.row_offsets();
        let cols = self.sparsity.col_indices();
        for group in &self.groups {
            sweep_into(from, group.iter().map(|&i| (ys[i].index(), 1.0)), &mut adj);
            for &i in group {
                for k in offsets[i]..offsets[i + 1] {
                    values[k] = adj[cols[k]];
                }
            }
        }
        ys.iter().map(|y| y.value()).collect()
    }

    /// [`eval`](Self::eval), then one more forward pass checks the result: a
    /// Jacobian-vector product `J r` along a pseudo-random `r`, compared
    /// with the sparse `J r`. A nonzero the pattern misses changes the
    /// compressed values, so the two disagree on its row.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] naming the rows where they disagree (beyond
    /// rounding): the function's sparsity at `x` differs from the plan's.
    ///
    /// # Panics
    ///
    /// As [`eval`](Self::eval).
    pub fn eval_checked<F: VectorFunction + ?Sized>(
        &self,
        f: &F,
        x: &[f64],
    ) -> Result<(Vec<f64>, CsrMatrix<f64>), PatternError> {
        let (y, v) = self.values(f, x);
        let r = probe_direction(x.len());
        let xs: Vec<Dual<f64>> = x.iter().zip(&r).map(|(&a, &b)| Dual::new(a, b)).collect();
        let direct: Vec<f64> = eval_vector("sparse::JacobianPlan::eval_checked", f, &xs)
            .iter()
            .map(|d| d.eps)
            .collect();
        compare_probe("Jacobian", &self.sparsity, &v, &r, &direct)?;
        Ok((y, self.sparsity.csr(v)))
    }
}

/// A sparse Hessian's pattern with its star colouring: made once, evaluated
/// at many points. Each evaluation records `f` once as a
/// [`Program`](crate::reverse::Program) and replays it forward over reverse,
/// up to 8 colours (Hessian-vector products) per pass; it gives the gradient
/// too.
///
/// See the [module docs](self) for an example.
#[derive(Clone, Debug)]
pub struct HessianPlan {
    sparsity: Sparsity,
    colouring: Colouring,
    /// Per entry: the colour whose product holds it and the row to read.
    from: Vec<(usize, usize)>,
}

impl HessianPlan {
    /// A plan for a known symmetric pattern, star-coloured.
    ///
    /// # Panics
    ///
    /// If the pattern is not symmetric.
    pub fn new(sparsity: Sparsity) -> Self {
        let c = colour::star(&sparsity);
        Self::with_colouring(sparsity, c)
    }

    /// A plan with your own colouring of a symmetric pattern.
    ///
    /// # Panics
    ///
    /// If the pattern is not symmetric or some entry cannot be read directly
    /// from the colouring's products (see [`colour::is_star_colouring`]).
    pub fn with_colouring(sparsity: Sparsity, colouring: Colouring) -> Self {
        let from = colour::star_recovery(&sparsity, &colouring).unwrap_or_else(|| {
            panic!(
                "HessianPlan::with_colouring: the pattern is not symmetric, or the colouring \
                 does not let every entry be read directly (not a star colouring); use \
                 sparse::colour::star"
            )
        });
        HessianPlan {
            sparsity,
            colouring,
            from,
        }
    }

    /// Detects the pattern of `f` at `x` ([`hessian_sparsity`]) and star-colours it.
    ///
    /// # Panics
    ///
    /// As [`hessian_sparsity`].
    pub fn detect<M: Differentiable + ?Sized>(f: &M, x: &[f64]) -> Self {
        Self::new(hessian_sparsity(f, x))
    }

    /// The pattern (both triangles).
    pub fn sparsity(&self) -> &Sparsity {
        &self.sparsity
    }

    /// The star colouring of the inputs.
    pub fn colouring(&self) -> &Colouring {
        &self.colouring
    }

    /// The forward-over-reverse passes one evaluation costs:
    /// `ceil(colours / lanes)` replays on `DualVec<f64, lanes>` (one lane
    /// per colour, up to 8), at least 1 (the value and gradient need a pass
    /// even when the Hessian is zero).
    pub fn passes(&self) -> usize {
        let c = self.colouring.count();
        c.div_ceil(replay::replay_lanes(c)).max(1)
    }

    /// `(f(x), ∇f(x), ∇²f(x))`, the Hessian as compressed sparse rows.
    ///
    /// # Panics
    ///
    /// If `x.len() != f.dim()` or the plan's pattern is not `f.dim()` square.
    pub fn eval<M: Differentiable + ?Sized>(
        &self,
        f: &M,
        x: &[f64],
    ) -> (f64, Vec<f64>, CsrMatrix<f64>) {
        let mut v = vec![0.0; self.sparsity.nnz()];
        let (value, grad) = self.values_into(f, x, &mut v);
        (value, grad, self.sparsity.csr(v))
    }

    /// Writes the Hessian's entries into `values` (pattern order) and
    /// returns `(f(x), ∇f(x))`.
    ///
    /// # Panics
    ///
    /// If `values.len()` is not the pattern's `nnz()`, and as [`eval`](Self::eval).
    pub fn values_into<M: Differentiable + ?Sized>(
        &self,
        f: &M,
        x: &[f64],
        values: &mut [f64],
    ) -> (f64, Vec<f64>) {
        let mut grad = vec![0.0; x.len()];
        let value = self.values_with(&mut Workspace::default(), f, x, values, &mut grad);
        (value, grad)
    }

    /// [`values_into`](Self::values_into) with buffers kept by the caller
    /// (see [`Workspace`]): the Hessian's entries into `values` (pattern
    /// order), `∇f(x)` into `grad`; returns `f(x)`. The recording of `f` at
    /// `x` still allocates; the replays do not after the first call.
    ///
    /// ```
    /// use dualtape::sparse::{self, HessianPlan};
    /// use dualtape::{Differentiable, Scalar};
    ///
    /// /// Σ x_i⁴ + Σ x_i x_{i+1}: a tridiagonal Hessian.
    /// struct F;
    /// impl Differentiable for F {
    ///     fn dim(&self) -> usize { 50 }
    ///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
    ///         let quartic = x.iter().fold(S::constant(0.0), |e, &v| e + v.powi(4));
    ///         x.windows(2).fold(quartic, |e, w| e + w[0] * w[1])
    ///     }
    /// }
    /// let plan = HessianPlan::detect(&F, &[1.0; 50]);
    /// let mut ws = sparse::Workspace::default();
    /// let (mut h, mut g) = (vec![0.0; plan.sparsity().nnz()], vec![0.0; 50]);
    /// let x = vec![0.5; 50];
    /// let value = plan.values_with(&mut ws, &F, &x, &mut h, &mut g);
    /// assert_eq!(value, 50.0 * 0.0625 + 49.0 * 0.25);
    /// assert_eq!(g[0], 4.0 * 0.125 + 0.5);
    /// assert_eq!(h[plan.sparsity().position(3, 3).unwrap()], 12.0 * 0.25);
    /// assert_eq!(h[plan.sparsity().position(3, 4).unwrap()], 1.0);
    /// ```
    ///
    /// # Panics
    ///
    /// As [`values_into`](Self::values_into), and if `grad` does not have
    /// one entry per input.
    pub fn values_with<M: Differentiable + ?Sized>(
        &self,
        ws: &mut Workspace,
        f: &M,
        x: &[f64],
        values: &mut [f64],
        grad: &mut [f64],
    ) -> f64 {
        const WHO: &str = "sparse::HessianPlan";
        let n = x.len();
        check_dim(WHO, "x", n, f.dim());
        assert!(
            self.sparsity.nrows() == n,
            "{WHO}: the plan's pattern is {} × {} but the function has {n} inputs; make the \
             plan from this function",
            self.sparsity.nrows(),
            self.sparsity.ncols()
        );
        check_values(WHO, &self.sparsity, values);
        assert_eq!(
            grad.len(),
            n,
            "{WHO}: the gradient buffer has {} entries but x has {n}; give one entry per input",
            grad.len()
        );
        self.values_at_recording(WHO, ws, record::scalar(f, x), x, values, grad)
    }

    /// The values and gradient by replaying `program`, recorded from the
    /// function at `x` itself: there every value the recording read and
    /// every branch of a kink it took is what `f` computes at `x`, so the
    /// replay is allowed both.
    fn values_at_recording(
        &self,
        who: &str,
        ws: &mut Workspace,
        mut program: crate::reverse::Program,
        x: &[f64],
        values: &mut [f64],
        grad: &mut [f64],
    ) -> f64 {
        program.accept_value_escape().accept_kink_switches();
        self.replay_as(who, ws, &program, x, values, grad)
            .unwrap_or_else(|e| {
                panic!(
                    "dualtape: internal error: a program did not replay at the point where it \
                     was recorded ({e}); please report it"
                )
            })
    }

    /// [`eval`](Self::eval), then one more Hessian-vector product checks the
    /// result: `H r` along a pseudo-random `r`, compared with the sparse
    /// `H r`.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] naming the rows where they disagree: the
    /// function's sparsity at `x` differs from the plan's.
    ///
    /// # Panics
    ///
    /// As [`eval`](Self::eval).
    pub fn eval_checked<M: Differentiable + ?Sized>(
        &self,
        f: &M,
        x: &[f64],
    ) -> Result<(f64, Vec<f64>, CsrMatrix<f64>), PatternError> {
        let mut v = vec![0.0; self.sparsity.nnz()];
        let (value, grad) = self.values_into(f, x, &mut v);
        let r = probe_direction(x.len());
        let (_, direct) = crate::reverse::hvp(|d| f.eval(d), x, &r);
        compare_probe("Hessian", &self.sparsity, &v, &r, &direct)?;
        Ok((value, grad, self.sparsity.csr(v)))
    }
}

/// A sparse result that disagrees with a direct computation: the pattern
/// misses a nonzero at this point (the function's sparsity changed, e.g. a
/// branch went the other way), or an entry's value is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternError {
    /// `"Jacobian"` or `"Hessian"`.
    pub matrix: &'static str,
    /// Nonzero entries outside the pattern, `(row, column, value)` (from
    /// [`check_jacobian`] / [`check_hessian`]).
    pub missing: Vec<(usize, usize, f64)>,
    /// Entries in the pattern whose sparse value differs from the dense
    /// one, `(row, column, sparse, dense)`.
    pub wrong: Vec<(usize, usize, f64, f64)>,
    /// Rows where the sparse product along the probe direction differs from
    /// the direct one, `(row, sparse, direct)` (from `eval_checked`).
    pub probe: Vec<(usize, f64, f64)>,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the sparse {} disagrees with a direct computation",
            self.matrix
        )?;
        if let Some(&(i, j, v)) = self.missing.first() {
            write!(
                f,
                "; {} nonzero entries lie outside the pattern, first ({i}, {j}) = {v:e}",
                self.missing.len()
            )?;
        }
        if let Some(&(i, j, s, d)) = self.wrong.first() {
            write!(
                f,
                "; {} entries differ, first ({i}, {j}): sparse {s:e}, dense {d:e}",
                self.wrong.len()
            )?;
        }
        if let Some(&(i, s, d)) = self.probe.first() {
            write!(
                f,
                "; along a probe direction {} rows differ, first row {i}: sparse {s:e}, direct {d:e}",
                self.probe.len()
            )?;
        }
        write!(
            f,
            ". The pattern misses a nonzero at this point: the function's sparsity depends on \
             the point (a branch taken differently from where the pattern was detected). \
             Detect the pattern again at this point, or from a point that takes every branch."
        )
    }
}

impl std::error::Error for PatternError {}

/// Whether two derivative values agree up to rounding at scale `scale`.
fn close(a: f64, b: f64, scale: f64) -> bool {
    if !(a.is_finite() && b.is_finite()) {
        return a == b || (a.is_nan() && b.is_nan());
    }
    (a - b).abs() <= 1e-10 * (scale + a.abs().max(b.abs())) + f64::MIN_POSITIVE
}

/// A deterministic direction with components in ±[0.5, 1.5], all distinct
/// in practice, so a missed entry cannot cancel against the entry it was
/// mixed into.
fn probe_direction(n: usize) -> Vec<f64> {
    let mut rng = crate::rng::SplitMix64::new(0x5eed_5eed);
    (0..n)
        .map(|_| {
            let u = rng.uniform();
            if u < 0.5 {
                -(1.0 + 2.0 * u)
            } else {
                2.0 * u - 0.5
            }
        })
        .collect()
}

/// Compares the sparse product `values · r` with a directly computed one.
fn compare_probe(
    matrix: &'static str,
    p: &Sparsity,
    values: &[f64],
    r: &[f64],
    direct: &[f64],
) -> Result<(), PatternError> {
    let mut probe = Vec::new();
    for (i, &d) in direct.iter().enumerate() {
        let (mut s, mut scale) = (0.0, 0.0);
        for (k, &j) in p.row(i).iter().enumerate() {
            let t = values[p.row_offsets()[i] + k] * r[j];
            s += t;
            scale += t.abs();
        }
        if !close(s, d, scale) {
            probe.push((i, s, d));
        }
    }
    if probe.is_empty() {
        Ok(())
    } else {
        Err(PatternError {
            matrix,
            missing: Vec::new(),
            wrong: Vec::new(),
            probe,
        })
    }
}

/// Compares every entry of a sparse result with a dense matrix.
fn compare_dense(
    matrix: &'static str,
    p: &Sparsity,
    values: &[f64],
    dense: &nalgebra::DMatrix<f64>,
) -> Result<(), PatternError> {
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for i in 0..p.nrows() {
        let scale = dense.row(i).iter().map(|v| v.abs()).fold(0.0, f64::max);
        let row = p.row(i);
        for j in 0..p.ncols() {
            let d = dense[(i, j)];
            match row.binary_search(&j) {
                Ok(k) => {
                    let s = values[p.row_offsets()[i] + k];
                    if !close(s, d, scale) {
                        wrong.push((i, j, s, d));
                    }
                }
                Err(_) if d != 0.0 => missing.push((i, j, d)),
                Err(_) => {}
            }
        }
    }
    if missing.is_empty() && wrong.is_empty() {
        Ok(())
    } else {
        Err(PatternError {
            matrix,
            missing,
            wrong,
            probe: Vec::new(),
        })
    }
}

/// Compares the plan's sparse Jacobian at `x` with the dense one from
/// [`forward::jacobian`](crate::forward::jacobian),
/// entry by entry: `n` forward passes, for tests.
///
/// # Errors
///
/// A [`PatternError`] listing nonzero entries outside the pattern and
/// entries whose values differ.
///
/// # Panics
///
/// As [`JacobianPlan::eval`].
pub fn check_jacobian<F: VectorFunction + ?Sized>(
    plan: &JacobianPlan,
    f: &F,
    x: &[f64],
) -> Result<(), PatternError> {
    let (_, v) = plan.values(f, x);
    let (_, dense) = crate::forward::jacobian(|v| eval_vector("sparse::check_jacobian", f, v), x);
    compare_dense("Jacobian", &plan.sparsity, &v, &dense)
}

/// Compares the plan's sparse Hessian at `x` with the dense one from
/// [`reverse::hessian`](crate::reverse::hessian), entry
/// by entry: `n` Hessian-vector products, for tests.
///
/// # Errors
///
/// A [`PatternError`] listing nonzero entries outside the pattern and
/// entries whose values differ.
///
/// # Panics
///
/// As [`HessianPlan::eval`].
pub fn check_hessian<M: Differentiable + ?Sized>(
    plan: &HessianPlan,
    f: &M,
    x: &[f64],
) -> Result<(), PatternError> {
    let mut v = vec![0.0; plan.sparsity.nnz()];
    plan.values_into(f, x, &mut v);
    let (_, _, dense) = crate::reverse::hessian(|d| f.eval(d), x);
    compare_dense("Hessian", &plan.sparsity, &v, &dense)
}
