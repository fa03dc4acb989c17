//! Models written once: [`Differentiable`] and [`VectorFunction`], and the
//! drivers that take them.
//!
//! Rust closures cannot be generic, so a function that should run in every
//! mode is written as a type whose `eval` is generic over the [`Scalar`]. The
//! same `eval` then runs at `f64` (plain evaluation and finite differences),
//! [`Dual`] and [`DualVec`] (forward mode), [`Var`](crate::Var) (reverse
//! mode) and nested types such as `Dual<Dual<f64>>` and `Dual<Var>` (second
//! derivatives). Data the model holds stays `f64`; inside `eval`, a data value
//! `a` enters the computation as `x * a` or `S::constant(a)`.
//!
//! ```
//! use dualtape::function::{finite_diff, forward, reverse};
//! use dualtape::{Differentiable, Scalar};
//!
//! /// Least squares of a line through data: L(a, b) = Σ (a t + b − y)².
//! struct Line {
//!     t: Vec<f64>,
//!     y: Vec<f64>,
//! }
//!
//! impl Differentiable for Line {
//!     fn dim(&self) -> usize {
//!         2
//!     }
//!     fn eval<S: Scalar<Real = f64>>(&self, p: &[S]) -> S {
//!         let mut loss = S::constant(0.0);
//!         for (&t, &y) in self.t.iter().zip(&self.y) {
//!             let r = p[0] * t + p[1] - y; // f64 data on the right-hand side
//!             loss += r * r;
//!         }
//!         loss
//!     }
//! }
//!
//! let line = Line { t: vec![0.0, 1.0, 2.0], y: vec![1.0, 2.0, 4.0] };
//! let p = [1.0, 0.5];
//! let (v, g_rev) = reverse::gradient(&line, &p);
//! let (_, g_fwd) = forward::gradient(&line, &p);
//! let (_, g_fd) = finite_diff::gradient(&line, &p, dualtape::finite_diff::Scheme::Central);
//! // residuals r = (-0.5, -0.5, -1.5): L = 2.75, ∂L/∂a = Σ 2 r t = -7, ∂L/∂b = Σ 2 r = -5
//! assert_eq!(v, 2.75);
//! assert_eq!(g_rev, vec![-7.0, -5.0]);
//! assert_eq!(g_fwd, vec![-7.0, -5.0]);
//! assert!((g_fd[0] + 7.0).abs() < 1e-8 && (g_fd[1] + 5.0).abs() < 1e-8);
//! ```
//!
//! # The drivers
//!
//! The submodules [`forward`], [`reverse`] and [`finite_diff`] mirror the
//! crate's driver modules of the same names, function for function, with
//! the same results; they take a model (`&impl Differentiable` or
//! `&impl VectorFunction`) where those take a closure. Each is a thin
//! adapter: `function::reverse::gradient(&model, x)` is
//! `crate::reverse::gradient(|x| model.eval(x), x)` plus a check of `x.len()`.
//! [`check`](crate::check) and [`testing`](crate::testing) compare them.
//!
//! | | [`forward`] | [`reverse`] | [`finite_diff`] |
//! |---|---|---|---|
//! | gradient | [`forward::gradient`] (`DualVec<f64, 8>` chunks) | [`reverse::gradient`], [`reverse::gradient_into`] | [`finite_diff::gradient`], [`finite_diff::gradient_with`] |
//! | directional | [`forward::jvp`] | [`reverse::gradient`] then `· v` | [`finite_diff::directional`], [`finite_diff::directional_with`] |
//! | Hessian | [`forward::hessian`] (forward over forward) | [`reverse::hessian`], [`reverse::hvp`] (forward over reverse) | [`finite_diff::hessian`] (differences of the reverse gradient) |
//! | Jacobian | [`forward::jacobian`], [`forward::jvp_vector`] | [`reverse::jacobian`], [`reverse::vjp`] | [`finite_diff::jacobian`] |
//!
//! # Nesting and perturbation confusion
//!
//! Each level of nesting is its own type, so two derivatives taken at once
//! cannot mix up their perturbations: a value of the outer computation
//! (a `Dual<f64>`) cannot be added to one of the inner computation (a
//! `Dual<Dual<f64>>`) until it is lifted, explicitly, with `Dual::from`,
//! which gives it a zero inner tangent. This does not compile:
//!
//! ```compile_fail
//! use dualtape::Dual;
//!
//! let x = Dual::variable(1.0);                 // outer perturbation
//! let y = Dual::variable(Dual::from(1.0));     // inner perturbation
//! let _ = x + y; // error: a Dual<f64> is not a Dual<Dual<f64>>
//! ```
//!
//! and this does, and is right (d/dx [x · d/dy (x + y)] = 1):
//!
//! ```
//! use dualtape::Dual;
//!
//! let x = Dual::variable(1.0);
//! let y = Dual::variable(Dual::from(1.0));
//! let inner = (Dual::from(x) + y).eps;          // d/dy (x + y) = 1, as a Dual<f64>
//! assert_eq!((x * inner).eps, 1.0);
//! ```

use nalgebra::DMatrix;

use crate::Scalar;
#[cfg(doc)]
use crate::{Dual, DualVec};

/// A scalar function `f: ℝⁿ → ℝ` written once, evaluable at any [`Scalar`].
///
/// Implement [`dim`](Differentiable::dim) (the number of inputs) and a
/// generic [`eval`](Differentiable::eval); every driver in
/// [`function`](self), every check in [`check`](crate::check) and the
/// properties in [`testing`](crate::testing) accept the model. With
/// `S: Scalar<Real = f64>`, `f64` constants and data work on the right-hand
/// side (`x * 2.0 + c`); on the left-hand side write `S::constant(c) - x`.
/// An implementation may also declare the looser bound `S: Scalar`.
///
/// `eval` must compute the same function for every `S`: branching on values
/// is fine (comparisons look at values), but code that behaves differently
/// per type, such as `f64::mul_add` only in the `f64` path, makes the modes
/// disagree, and [`check`](crate::check) will say so.
///
/// ```
/// use dualtape::{function, Differentiable, Scalar};
///
/// struct Rosenbrock;
///
/// impl Differentiable for Rosenbrock {
///     fn dim(&self) -> usize {
///         2
///     }
///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
///         (S::constant(1.0) - x[0]).powi(2) + (x[1] - x[0] * x[0]).powi(2) * 100.0
///     }
/// }
///
/// assert_eq!(Rosenbrock.eval(&[1.0, 1.0]), 0.0); // plain f64
/// let (v, g) = function::reverse::gradient(&Rosenbrock, &[0.0, 1.0]);
/// assert_eq!((v, g), (101.0, vec![-2.0, 200.0]));
/// dualtape::check::gradient(&Rosenbrock, &[0.3, -0.7]).assert_ok();
/// ```
pub trait Differentiable {
    /// The number of inputs `n`.
    fn dim(&self) -> usize;

    /// `f(x)` for `x` of length [`dim`](Differentiable::dim), in whatever
    /// scalar type the caller chose.
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S;

    /// A gradient derived by hand, if you have one: [`check`](crate::check)
    /// then compares it with every mode as a fourth column. The default
    /// returns `None`.
    ///
    /// ```
    /// use dualtape::{check, Differentiable, Scalar};
    ///
    /// struct Square;
    /// impl Differentiable for Square {
    ///     fn dim(&self) -> usize { 1 }
    ///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S { x[0] * x[0] }
    ///     fn analytic_gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
    ///         Some(vec![2.0 * x[0]])
    ///     }
    /// }
    /// let report = check::gradient(&Square, &[3.0]);
    /// assert_eq!(report.modes().len(), 4);
    /// report.assert_ok();
    /// ```
    fn analytic_gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        let _ = x;
        None
    }
}

impl<T: Differentiable + ?Sized> Differentiable for &T {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        (**self).eval(x)
    }
    fn analytic_gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        (**self).analytic_gradient(x)
    }
}

impl<T: Differentiable + ?Sized> Differentiable for Box<T> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        (**self).eval(x)
    }
    fn analytic_gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        (**self).analytic_gradient(x)
    }
}

/// A vector function `f: ℝⁿ → ℝᵐ` written once, evaluable at any
/// [`Scalar`]: the counterpart of [`Differentiable`] for Jacobians.
///
/// ```
/// use dualtape::function::{self, VectorFunction};
/// use dualtape::Scalar;
///
/// /// Polar to Cartesian coordinates.
/// struct Polar;
/// impl VectorFunction for Polar {
///     fn dim(&self) -> usize { 2 }
///     fn outputs(&self) -> usize { 2 }
///     fn eval<S: Scalar<Real = f64>>(&self, p: &[S]) -> Vec<S> {
///         vec![p[0] * p[1].cos(), p[0] * p[1].sin()]
///     }
/// }
///
/// let (y, j) = function::reverse::jacobian(&Polar, &[2.0, 0.0]);
/// assert_eq!(y, vec![2.0, 0.0]);
/// assert_eq!((j[(0, 0)], j[(0, 1)], j[(1, 0)], j[(1, 1)]), (1.0, 0.0, 0.0, 2.0));
/// dualtape::check::jacobian(&Polar, &[2.0, 0.7]).assert_ok();
/// ```
///
/// A type implementing both this and [`Differentiable`] has two `dim` and
/// two `eval` methods; call them as `VectorFunction::eval(&f, x)`.
pub trait VectorFunction {
    /// The number of inputs `n`.
    fn dim(&self) -> usize;

    /// The number of outputs `m`: `eval` must return this many values.
    fn outputs(&self) -> usize;

    /// `f(x)`, of length [`outputs`](VectorFunction::outputs), for `x` of
    /// length [`dim`](VectorFunction::dim).
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S>;
}

impl<T: VectorFunction + ?Sized> VectorFunction for &T {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn outputs(&self) -> usize {
        (**self).outputs()
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        (**self).eval(x)
    }
}

impl<T: VectorFunction + ?Sized> VectorFunction for Box<T> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn outputs(&self) -> usize {
        (**self).outputs()
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        (**self).eval(x)
    }
}

/// Panics unless `len == dim`.
#[track_caller]
pub(crate) fn check_dim(who: &str, what: &str, len: usize, dim: usize) {
    assert!(
        len == dim,
        "{who}: {what} has {len} entries but the model's dim() is {dim}; pass one value per \
         input of the model (or fix dim())"
    );
}

/// Evaluates a vector function and panics unless it returned `outputs()` values.
pub(crate) fn eval_vector<F: VectorFunction + ?Sized, S: Scalar<Real = f64>>(
    who: &str,
    f: &F,
    x: &[S],
) -> Vec<S> {
    let y = f.eval(x);
    assert!(
        y.len() == f.outputs(),
        "{who}: the vector function returned {} values but its outputs() is {}; make eval \
         return outputs() values for every input",
        y.len(),
        f.outputs()
    );
    y
}

/// Forward mode for models: [`crate::forward`]'s drivers taking a
/// [`Differentiable`] or a [`VectorFunction`].
pub mod forward {
    use super::*;
    use crate::{Dual, DualVec};

    /// How many tangents [`gradient`] carries per pass: `DualVec<f64, 8>`.
    pub const CHUNK: usize = 8;

    /// The gradient in `ceil(n / 8)` forward passes of `DualVec<f64, 8>`:
    /// `(f(x), ∇f(x))`. See [`crate::forward::gradient`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()`.
    pub fn gradient<M: Differentiable + ?Sized>(model: &M, x: &[f64]) -> (f64, Vec<f64>) {
        check_dim("function::forward::gradient", "x", x.len(), model.dim());
        crate::forward::gradient(|x: &[DualVec<f64, CHUNK>]| model.eval(x), x)
    }

    /// The directional derivative `∇f(x)·v` in one pass of [`Dual<f64>`]:
    /// `(f(x), ∇f(x)·v)`. See [`crate::forward::jvp`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()` or `v.len() != x.len()`.
    pub fn jvp<M: Differentiable + ?Sized>(model: &M, x: &[f64], v: &[f64]) -> (f64, f64) {
        check_dim("function::forward::jvp", "x", x.len(), model.dim());
        crate::forward::jvp(|x| model.eval(x), x, v)
    }

    /// The Hessian by forward over forward (`Dual<Dual<f64>>`), in
    /// `n(n+1)/2` passes: `(f(x), ∇f(x), ∇²f(x))`. See
    /// [`crate::forward::hessian`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()`.
    pub fn hessian<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
    ) -> (f64, Vec<f64>, DMatrix<f64>) {
        check_dim("function::forward::hessian", "x", x.len(), model.dim());
        crate::forward::hessian(|x| model.eval(x), x)
    }

    /// The Jacobian in `n` passes of [`Dual<f64>`]: `(f(x), J)`. See
    /// [`crate::forward::jacobian`].
    ///
    /// # Panics
    ///
    /// If `x.len() != f.dim()`, or if `f.eval` does not return
    /// `f.outputs()` values.
    pub fn jacobian<F: VectorFunction + ?Sized>(f: &F, x: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
        let who = "function::forward::jacobian";
        check_dim(who, "x", x.len(), f.dim());
        crate::forward::jacobian(|x| eval_vector(who, f, x), x)
    }

    /// The Jacobian-vector product `J(x) v` in one pass of [`Dual<f64>`]:
    /// `(f(x), J(x) v)`.
    ///
    /// # Panics
    ///
    /// If `x.len() != f.dim()`, `v.len() != x.len()`, or if `f.eval` does
    /// not return `f.outputs()` values.
    pub fn jvp_vector<F: VectorFunction + ?Sized>(
        f: &F,
        x: &[f64],
        v: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let who = "function::forward::jvp_vector";
        check_dim(who, "x", x.len(), f.dim());
        check_dim(who, "the direction v", v.len(), f.dim());
        let xs: Vec<Dual<f64>> = x.iter().zip(v).map(|(&a, &b)| Dual::new(a, b)).collect();
        let y = eval_vector(who, f, &xs);
        (
            y.iter().map(|d| d.re).collect(),
            y.iter().map(|d| d.eps).collect(),
        )
    }
}

/// Reverse mode for models: [`crate::reverse`]'s drivers taking a
/// [`Differentiable`] or a [`VectorFunction`].
///
/// # Panics
///
/// Like [`crate::reverse`]'s drivers, each panics if called inside another
/// reverse-mode recording on the same thread.
pub mod reverse {
    use super::*;

    /// The gradient in one recording and one backward sweep:
    /// `(f(x), ∇f(x))`. See [`crate::reverse::gradient`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()`.
    pub fn gradient<M: Differentiable + ?Sized>(model: &M, x: &[f64]) -> (f64, Vec<f64>) {
        check_dim("function::reverse::gradient", "x", x.len(), model.dim());
        crate::reverse::gradient(|x| model.eval(x), x)
    }

    /// [`gradient`] into a buffer you own (no allocation once the tape is
    /// warm). Returns `f(x)`. See [`crate::reverse::gradient_into`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()` or `grad.len() != x.len()`.
    pub fn gradient_into<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        grad: &mut [f64],
    ) -> f64 {
        check_dim(
            "function::reverse::gradient_into",
            "x",
            x.len(),
            model.dim(),
        );
        crate::reverse::gradient_into(|x| model.eval(x), x, grad)
    }

    /// A Hessian-vector product by forward over reverse (`Dual<Var>`):
    /// `(f(x), ∇²f(x) v)`. See [`crate::reverse::hvp`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()` or `v.len() != x.len()`.
    pub fn hvp<M: Differentiable + ?Sized>(model: &M, x: &[f64], v: &[f64]) -> (f64, Vec<f64>) {
        check_dim("function::reverse::hvp", "x", x.len(), model.dim());
        crate::reverse::hvp(|x| model.eval(x), x, v)
    }

    /// The Hessian by forward over reverse, one Hessian-vector product per
    /// input: `(f(x), ∇f(x), ∇²f(x))`. See [`crate::reverse::hessian`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()`.
    pub fn hessian<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
    ) -> (f64, Vec<f64>, DMatrix<f64>) {
        check_dim("function::reverse::hessian", "x", x.len(), model.dim());
        crate::reverse::hessian(|x| model.eval(x), x)
    }

    /// The Jacobian: one recording, one sweep per output. See
    /// [`crate::reverse::jacobian`].
    ///
    /// # Panics
    ///
    /// If `x.len() != f.dim()`, or if `f.eval` does not return
    /// `f.outputs()` values.
    pub fn jacobian<F: VectorFunction + ?Sized>(f: &F, x: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
        let who = "function::reverse::jacobian";
        check_dim(who, "x", x.len(), f.dim());
        crate::reverse::jacobian(|x| eval_vector(who, f, x), x)
    }

    /// The vector-Jacobian product `wᵀ J(x)` in one sweep:
    /// `(f(x), wᵀ J(x))`. See [`crate::reverse::vjp`].
    ///
    /// # Panics
    ///
    /// If `x.len() != f.dim()`, `w.len() != f.outputs()`, or if `f.eval`
    /// does not return `f.outputs()` values.
    pub fn vjp<F: VectorFunction + ?Sized>(f: &F, x: &[f64], w: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let who = "function::reverse::vjp";
        check_dim(who, "x", x.len(), f.dim());
        crate::reverse::vjp(|x| eval_vector(who, f, x), x, w)
    }
}

/// Finite differences for models: [`crate::finite_diff`]'s functions taking
/// a [`Differentiable`] or a [`VectorFunction`], which they evaluate at
/// `f64`.
pub mod finite_diff {
    use super::*;
    use crate::finite_diff::{Config, Scheme};

    /// The gradient by finite differences: `(f(x), ∇f(x))`. See
    /// [`crate::finite_diff::gradient`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()`.
    pub fn gradient<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        scheme: Scheme,
    ) -> (f64, Vec<f64>) {
        gradient_with(model, x, &Config::new(scheme))
    }

    /// [`gradient`] with a chosen step rule. See
    /// [`crate::finite_diff::gradient_with`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()`, or if the step in `config` is not finite
    /// and positive.
    pub fn gradient_with<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        config: &Config,
    ) -> (f64, Vec<f64>) {
        check_dim("function::finite_diff::gradient", "x", x.len(), model.dim());
        crate::finite_diff::gradient_with(|x: &[f64]| model.eval(x), x, config)
    }

    /// The directional derivative `∇f(x)·v`: `(f(x), ∇f(x)·v)`. See
    /// [`crate::finite_diff::directional`].
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()` or `v.len() != x.len()`.
    pub fn directional<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        v: &[f64],
        scheme: Scheme,
    ) -> (f64, f64) {
        directional_with(model, x, v, &Config::new(scheme))
    }

    /// [`directional`] with a chosen step rule. See
    /// [`crate::finite_diff::directional_with`].
    ///
    /// # Panics
    ///
    /// As [`directional`], and if the step in `config` is not finite and
    /// positive.
    pub fn directional_with<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        v: &[f64],
        config: &Config,
    ) -> (f64, f64) {
        check_dim(
            "function::finite_diff::directional",
            "x",
            x.len(),
            model.dim(),
        );
        crate::finite_diff::directional_with(|x: &[f64]| model.eval(x), x, v, config)
    }

    /// The Hessian as finite differences of the reverse-mode gradient:
    /// `(f(x), ∇f(x), H)` with `H[(i, j)] ≈ ∂(∂f/∂x_i)/∂x_j`, the Jacobian of
    /// the gradient. It costs one reverse gradient per stencil point
    /// (`4n + 1` for Richardson) and, unlike the AD Hessians, is symmetric
    /// only up to the differencing error. `f(x)` is the plain `f64`
    /// evaluation.
    ///
    /// ```
    /// use dualtape::finite_diff::Scheme;
    /// use dualtape::{function, Differentiable, Scalar};
    ///
    /// struct Cubic; // f = x³ y, H = [[6xy, 3x²], [3x², 0]]
    /// impl Differentiable for Cubic {
    ///     fn dim(&self) -> usize { 2 }
    ///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S { x[0].powi(3) * x[1] }
    /// }
    /// let (v, g, h) = function::finite_diff::hessian(&Cubic, &[1.0, 2.0], Scheme::Richardson);
    /// assert_eq!((v, g), (2.0, vec![6.0, 1.0]));
    /// assert!((h[(0, 0)] - 12.0).abs() < 1e-9 && (h[(0, 1)] - 3.0).abs() < 1e-9);
    /// assert!((h[(1, 0)] - 3.0).abs() < 1e-9 && h[(1, 1)].abs() < 1e-9);
    /// ```
    ///
    /// # Panics
    ///
    /// If `x.len() != model.dim()`, and inside a reverse-mode recording.
    pub fn hessian<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        scheme: Scheme,
    ) -> (f64, Vec<f64>, DMatrix<f64>) {
        hessian_with(model, x, &Config::new(scheme))
    }

    /// [`hessian`] with a chosen step rule.
    ///
    /// # Panics
    ///
    /// As [`hessian`], and if the step in `config` is not finite and
    /// positive.
    pub fn hessian_with<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        config: &Config,
    ) -> (f64, Vec<f64>, DMatrix<f64>) {
        check_dim("function::finite_diff::hessian", "x", x.len(), model.dim());
        let (g, h) = crate::finite_diff::jacobian_with(
            |x: &[f64]| super::reverse::gradient(model, x).1,
            x,
            config,
        );
        // The stencil's H is the Jacobian of the gradient: row i is ∇(∂f/∂x_i).
        (model.eval(x), g, h)
    }

    /// The Jacobian by finite differences: `(f(x), J)`. See
    /// [`crate::finite_diff::jacobian`].
    ///
    /// # Panics
    ///
    /// If `x.len() != f.dim()`, or if `f.eval` does not return
    /// `f.outputs()` values.
    pub fn jacobian<F: VectorFunction + ?Sized>(
        f: &F,
        x: &[f64],
        scheme: Scheme,
    ) -> (Vec<f64>, DMatrix<f64>) {
        jacobian_with(f, x, &Config::new(scheme))
    }

    /// [`jacobian`] with a chosen step rule. See
    /// [`crate::finite_diff::jacobian_with`].
    ///
    /// # Panics
    ///
    /// As [`jacobian`], and if the step in `config` is not finite and
    /// positive.
    pub fn jacobian_with<F: VectorFunction + ?Sized>(
        f: &F,
        x: &[f64],
        config: &Config,
    ) -> (Vec<f64>, DMatrix<f64>) {
        let who = "function::finite_diff::jacobian";
        check_dim(who, "x", x.len(), f.dim());
        crate::finite_diff::jacobian_with(|x: &[f64]| eval_vector(who, f, x), x, config)
    }
}
