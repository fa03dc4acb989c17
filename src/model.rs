//! Models written once: [`Differentiable`] and [`VectorFunction`].
//!
//! Rust closures cannot be generic, so a function that should run in every
//! mode is written as a type whose `eval` is generic over the [`Scalar`]. The
//! same `eval` then runs at `f64` (plain evaluation and finite differences),
//! [`Dual`] and [`DualVec`] (forward mode), [`Var`](crate::Var) (reverse
//! mode) and nested types such as `Dual<Dual<f64>>` and `Dual<Var>` (second
//! derivatives). Data the model holds stays `f64`; inside `eval`, a data value
//! `a` enters the computation as `x * a` or `S::constant(a)`.
//!
//! A model runs through any mode by the crate's own drivers, with a closure
//! that calls `eval`: the closure's scalar type is the one the driver asks
//! for, so `|x| model.eval(x)` is all there is to write.
//!
//! ```
//! use dualtape::{finite_diff, forward, reverse, Differentiable, DualVec, Scalar};
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
//! let (v, g_rev) = reverse::gradient(|p| line.eval(p), &p);
//! let (_, g_fwd) = forward::gradient(|p: &[DualVec<f64, 2>]| line.eval(p), &p);
//! let (_, g_fd) = finite_diff::gradient(|p| line.eval(p), &p, finite_diff::Scheme::Central);
//! // residuals r = (-0.5, -0.5, -1.5): L = 2.75, ∂L/∂a = Σ 2 r t = -7, ∂L/∂b = Σ 2 r = -5
//! assert_eq!(v, 2.75);
//! assert_eq!(g_rev, vec![-7.0, -5.0]);
//! assert_eq!(g_fwd, vec![-7.0, -5.0]);
//! assert!((g_fd[0] + 7.0).abs() < 1e-8 && (g_fd[1] + 5.0).abs() < 1e-8);
//! ```
//!
//! # Every mode, one spelling
//!
//! | | forward | reverse | finite differences |
//! |---|---|---|---|
//! | gradient | [`forward::gradient`](crate::forward::gradient)`(\|x: &[DualVec<f64, 8>]\| m.eval(x), x)` | [`reverse::gradient`](crate::reverse::gradient)`(\|x\| m.eval(x), x)`, [`gradient_into`](crate::reverse::gradient_into) | [`finite_diff::gradient`](crate::finite_diff::gradient)`(\|x\| m.eval(x), x, scheme)` |
//! | directional | [`forward::jvp`](crate::forward::jvp) | `reverse::gradient` then `· v` | [`finite_diff::directional`](crate::finite_diff::directional) |
//! | Hessian | [`forward::hessian`](crate::forward::hessian) (forward over forward) | [`reverse::hessian`](crate::reverse::hessian), [`reverse::hvp`](crate::reverse::hvp) (forward over reverse) | [`finite_diff::jacobian`](crate::finite_diff::jacobian) of the reverse gradient |
//! | Jacobian (`VectorFunction`) | [`forward::jacobian`](crate::forward::jacobian) | [`reverse::jacobian`](crate::reverse::jacobian), [`reverse::vjp`](crate::reverse::vjp) | [`finite_diff::jacobian`](crate::finite_diff::jacobian) |
//!
//! [`check`](crate::check) and [`testing`](crate::testing) take the model
//! itself, check `x.len()` against [`dim`](Differentiable::dim), and compare
//! every column of that table. (Before 0.2 this module was `function`, with a
//! second copy of every driver taking a model; those remain for one release
//! as deprecated aliases in [`function`](crate::function).)
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

use crate::Scalar;
#[cfg(doc)]
use crate::{Dual, DualVec};

/// A scalar function `f: ℝⁿ → ℝ` written once, evaluable at any [`Scalar`].
///
/// Implement [`dim`](Differentiable::dim) (the number of inputs) and a
/// generic [`eval`](Differentiable::eval); every driver runs it as
/// `|x| model.eval(x)`, and every check in [`check`](crate::check) and the
/// properties in [`testing`](crate::testing) accept the model itself. With
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
/// use dualtape::{reverse, Differentiable, Scalar};
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
/// let (v, g) = reverse::gradient(|x| Rosenbrock.eval(x), &[0.0, 1.0]);
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
    /// then compares it with every mode as one more column. The default
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
    /// assert_eq!(report.modes().len(), 5); // forward, reverse, replay, finite diff, analytic
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
/// use dualtape::model::VectorFunction;
/// use dualtape::{reverse, Scalar};
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
/// let (y, j) = reverse::jacobian(|p| Polar.eval(p), &[2.0, 0.0]);
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
