//! Forward mode: dual numbers and the drivers built on them.
//!
//! A forward pass carries tangents alongside values. One pass of
//! [`Dual<f64>`](Dual) gives one directional derivative (a Jacobian-vector
//! product); one pass of [`DualVec<f64, N>`](DualVec) gives `N` of them. So a
//! gradient of `n` inputs costs `ceil(n / N)` passes: cheap for a handful of
//! inputs, and the wrong tool for thousands (use [`reverse`](crate::reverse)).
//!
//! | driver | passes | gives |
//! |---|---|---|
//! | [`derivative`] | 1 | `f'(x)` of a scalar function |
//! | [`jvp`] | 1 | `∇f(x)·v` |
//! | [`gradient`], [`gradient_into`], [`gradient_into_with`] | `ceil(n/N)` | `∇f(x)`, `N` partials per pass |
//! | [`jacobian`] | `n` | the `m × n` Jacobian, one column per pass |
//! | [`jacobian_chunked`] | `ceil(n/N)` | the `m × n` Jacobian, `N` columns per pass |
//! | [`hessian`] | `n(n+1)/2` | forward over forward, `Dual<Dual<f64>>` |
//!
//! Each returns the value too, computed in the same pass. [`gradient_auto`]
//! picks the chunk `N` from the number of inputs (its docs say how to choose
//! `N` yourself).
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

mod auto;
mod dual;
mod dual_vec;

pub use auto::{auto_chunk, gradient_auto};
pub use dual::Dual;
pub use dual_vec::DualVec;

use nalgebra::DMatrix;

/// The derivative of a scalar function of one variable: `(f(x), f'(x))`.
///
/// ```
/// use dualtape::forward;
///
/// let (v, d) = forward::derivative(|x| x.sin() * x, 1.0);
/// assert_eq!(v, 1f64.sin());
/// assert!((d - (1f64.cos() + 1f64.sin())).abs() < 1e-15);
/// ```
pub fn derivative(f: impl Fn(Dual<f64>) -> Dual<f64>, x: f64) -> (f64, f64) {
    let y = f(Dual::variable(x));
    (y.re, y.eps)
}

/// The directional derivative `∇f(x)·v` in one forward pass: `(f(x), ∇f(x)·v)`.
///
/// # Panics
///
/// If `v.len() != x.len()`.
///
/// ```
/// use dualtape::forward;
///
/// let f = |x: &[dualtape::Dual<f64>]| x[0] * x[1];
/// let (v, d) = forward::jvp(f, &[2.0, 3.0], &[1.0, -1.0]);
/// assert_eq!((v, d), (6.0, 3.0 - 2.0));
/// ```
pub fn jvp(f: impl Fn(&[Dual<f64>]) -> Dual<f64>, x: &[f64], v: &[f64]) -> (f64, f64) {
    assert!(
        x.len() == v.len(),
        "forward::jvp: the direction v has {} components but the point x has {}; pass one \
         direction component per input",
        v.len(),
        x.len()
    );
    let xs: Vec<Dual<f64>> = x.iter().zip(v).map(|(&x, &v)| Dual::new(x, v)).collect();
    let y = f(&xs);
    (y.re, y.eps)
}

/// The gradient in `ceil(n / N)` forward passes of [`DualVec<f64, N>`]:
/// `(f(x), ∇f(x))`. `N` is read from the type of `f`'s argument; 4 to 16 is
/// a good chunk (`N = n` for up to 16 inputs: one pass), and
/// [`gradient_auto`] picks it for you (see there for how to choose).
///
/// ```
/// use dualtape::{forward, DualVec};
///
/// // f(x) = Σ x_i², written once for any scalar
/// fn f<S: dualtape::Scalar>(x: &[S]) -> S {
///     x.iter().fold(S::constant(0.0), |acc, &xi| acc + xi * xi)
/// }
/// let (v, g) = forward::gradient(f::<DualVec<f64, 4>>, &[1.0, 2.0, 3.0, 4.0, 5.0]);
/// assert_eq!(v, 55.0);
/// assert_eq!(g, vec![2.0, 4.0, 6.0, 8.0, 10.0]);
/// ```
///
/// # Panics
///
/// If `N == 0`.
pub fn gradient<const N: usize>(
    f: impl Fn(&[DualVec<f64, N>]) -> DualVec<f64, N>,
    x: &[f64],
) -> (f64, Vec<f64>) {
    let mut grad = vec![0.0; x.len()];
    check_gradient_args::<N>(x, &grad, "gradient");
    let value = gradient_into(f, x, &mut grad);
    (value, grad)
}

/// How many inputs [`gradient_into`] keeps on the stack.
const STACK_INPUTS: usize = 16;

/// [`gradient`] into a buffer you own; returns `f(x)`. For up to 16 inputs
/// the seeded inputs live on the stack, so the call allocates nothing; for
/// more it allocates one vector of them per call
/// ([`gradient_into_with`] reuses yours instead).
///
/// ```
/// use dualtape::{forward, DualVec};
///
/// let mut g = [0.0; 3];
/// let v = forward::gradient_into(|x: &[DualVec<f64, 4>]| x[0] * x[1] * x[2], &[1.0, 2.0, 3.0], &mut g);
/// assert_eq!((v, g), (6.0, [6.0, 3.0, 2.0]));
/// ```
///
/// # Panics
///
/// If `grad.len() != x.len()`, or if `N == 0`.
pub fn gradient_into<const N: usize>(
    f: impl Fn(&[DualVec<f64, N>]) -> DualVec<f64, N>,
    x: &[f64],
    grad: &mut [f64],
) -> f64 {
    check_gradient_args::<N>(x, grad, "gradient_into");
    let n = x.len();
    if n <= N {
        return one_pass(&f, x, grad);
    }
    if n <= STACK_INPUTS {
        let mut xs = [DualVec::from(0.0); STACK_INPUTS];
        for (xi, &v) in xs.iter_mut().zip(x) {
            xi.re = v;
        }
        chunked_passes(&f, &mut xs[..n], grad)
    } else {
        let mut xs: Vec<DualVec<f64, N>> = x.iter().map(|&xi| DualVec::from(xi)).collect();
        chunked_passes(&f, &mut xs, grad)
    }
}

/// [`gradient_into`] with the seeded inputs kept in `work`, a vector you own
/// and pass again on the next call: it is cleared and refilled, so once its
/// capacity reaches `x.len()` the call allocates nothing, for any number of
/// inputs. Returns `f(x)`.
///
/// ```
/// use dualtape::{forward, DualVec, Scalar};
///
/// fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
///     x.iter().fold(S::constant(0.0), |acc, &xi| acc + xi * xi)
/// }
/// let x: Vec<f64> = (0..100).map(|i| i as f64).collect();
/// let mut g = vec![0.0; 100];
/// let mut work = Vec::new();
/// for _ in 0..3 {
///     // the first call grows `work`, the others reuse it
///     let v = forward::gradient_into_with(f::<DualVec<f64, 8>>, &x, &mut g, &mut work);
///     assert_eq!(v, (0..100).map(|i| (i * i) as f64).sum::<f64>());
/// }
/// assert!(g.iter().enumerate().all(|(i, &gi)| gi == 2.0 * i as f64));
/// ```
///
/// # Panics
///
/// If `grad.len() != x.len()`, or if `N == 0`.
pub fn gradient_into_with<const N: usize>(
    f: impl Fn(&[DualVec<f64, N>]) -> DualVec<f64, N>,
    x: &[f64],
    grad: &mut [f64],
    work: &mut Vec<DualVec<f64, N>>,
) -> f64 {
    check_gradient_args::<N>(x, grad, "gradient_into_with");
    work.clear();
    work.extend(x.iter().map(|&xi| DualVec::from(xi)));
    chunked_passes(&f, work, grad)
}

fn check_gradient_args<const N: usize>(x: &[f64], grad: &[f64], name: &str) {
    assert!(
        N > 0,
        "forward::{name}: DualVec<f64, 0> carries no tangent; use N >= 1 (or \
         forward::gradient_auto, which picks N)"
    );
    assert!(
        grad.len() == x.len(),
        "forward::{name}: the gradient buffer has {} entries but x has {}; give one \
         entry per input",
        grad.len(),
        x.len()
    );
}

/// [`gradient_into`] for `n <= N` inputs: every input seeded at once, each
/// written once (value and tangents) into an array of `N` on the stack, one
/// pass. For small `n` this is most of the driver's cost: it writes
/// `N (N + 1)` numbers and nothing else.
#[inline]
fn one_pass<const N: usize>(
    f: &impl Fn(&[DualVec<f64, N>]) -> DualVec<f64, N>,
    x: &[f64],
    grad: &mut [f64],
) -> f64 {
    let n = x.len();
    let xs: [DualVec<f64, N>; N] = std::array::from_fn(|i| {
        let mut eps = [0.0; N];
        eps[i] = if i < n { 1.0 } else { 0.0 };
        DualVec::new(x.get(i).copied().unwrap_or(0.0), eps)
    });
    let y = f(&xs[..n]);
    grad.copy_from_slice(&y.eps[..n]);
    y.re
}

/// The passes of [`gradient_into`]: seed `N` inputs at a time with unit
/// tangents, read `N` partials, unseed. `xs` holds the unseeded inputs; `f`
/// sees them only by shared reference, so unseeding is one lane per input.
fn chunked_passes<const N: usize>(
    f: &impl Fn(&[DualVec<f64, N>]) -> DualVec<f64, N>,
    xs: &mut [DualVec<f64, N>],
    grad: &mut [f64],
) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f(xs).re;
    }
    let mut value = 0.0;
    for start in (0..n).step_by(N) {
        let end = (start + N).min(n);
        for (k, xi) in xs[start..end].iter_mut().enumerate() {
            xi.eps[k] = 1.0;
        }
        let y = f(xs);
        value = y.re;
        grad[start..end].copy_from_slice(&y.eps[..end - start]);
        for (k, xi) in xs[start..end].iter_mut().enumerate() {
            xi.eps[k] = 0.0;
        }
    }
    value
}

/// The Jacobian of a vector function in `n` forward passes: `(f(x), J)` with
/// `J[(i, j)] = ∂f_i/∂x_j`.
///
/// # Panics
///
/// If `f` returns outputs of different lengths on different passes.
///
/// ```
/// use dualtape::forward;
///
/// let (y, j) = forward::jacobian(|x| vec![x[0] * x[1], x[0].sin()], &[2.0, 3.0]);
/// assert_eq!(y, vec![6.0, 2f64.sin()]);
/// assert_eq!(j[(0, 0)], 3.0);
/// assert_eq!(j[(0, 1)], 2.0);
/// assert_eq!(j[(1, 0)], 2f64.cos());
/// assert_eq!(j[(1, 1)], 0.0);
/// ```
pub fn jacobian(f: impl Fn(&[Dual<f64>]) -> Vec<Dual<f64>>, x: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
    let n = x.len();
    let mut xs: Vec<Dual<f64>> = x.iter().map(|&xi| Dual::from(xi)).collect();
    if n == 0 {
        let y = f(&xs);
        let m = y.len();
        return (y.into_iter().map(|d| d.re).collect(), DMatrix::zeros(m, 0));
    }
    let mut values = Vec::new();
    let mut jac = DMatrix::zeros(0, n);
    for j in 0..n {
        xs[j].eps = 1.0;
        let y = f(&xs);
        xs[j].eps = 0.0;
        if j == 0 {
            values = y.iter().map(|d| d.re).collect();
            jac = DMatrix::zeros(y.len(), n);
        } else {
            assert!(
                y.len() == values.len(),
                "forward::jacobian: f returned {} outputs on pass {j} but {} on pass 0; \
                 a Jacobian needs a fixed number of outputs",
                y.len(),
                values.len()
            );
        }
        for (i, yi) in y.iter().enumerate() {
            jac[(i, j)] = yi.eps;
        }
    }
    (values, jac)
}

/// The Jacobian of a vector function in `ceil(n / N)` forward passes of
/// [`DualVec<f64, N>`]: `(f(x), J)` with `J[(i, j)] = ∂f_i/∂x_j`. Each pass
/// seeds `N` inputs and fills `N` columns; with many inputs it costs `N`
/// times fewer passes than [`jacobian`]. `N` is read from the type of `f`'s
/// argument.
///
/// # Panics
///
/// If `N == 0`, or if `f` returns outputs of different lengths on different
/// passes.
///
/// ```
/// use dualtape::{forward, DualVec, Scalar};
///
/// // polar to Cartesian: (r cos θ, r sin θ)
/// fn polar<S: Scalar<Real = f64>>(x: &[S]) -> Vec<S> {
///     vec![x[0] * x[1].cos(), x[0] * x[1].sin()]
/// }
/// let (y, j) = forward::jacobian_chunked(polar::<DualVec<f64, 2>>, &[2.0, 0.5]);
/// assert_eq!(y, vec![2.0 * 0.5f64.cos(), 2.0 * 0.5f64.sin()]);
/// assert_eq!((j[(0, 0)], j[(0, 1)]), (0.5f64.cos(), -2.0 * 0.5f64.sin()));
/// assert_eq!((j[(1, 0)], j[(1, 1)]), (0.5f64.sin(), 2.0 * 0.5f64.cos()));
/// ```
pub fn jacobian_chunked<const N: usize>(
    f: impl Fn(&[DualVec<f64, N>]) -> Vec<DualVec<f64, N>>,
    x: &[f64],
) -> (Vec<f64>, DMatrix<f64>) {
    assert!(
        N > 0,
        "forward::jacobian_chunked: DualVec<f64, 0> carries no tangent; use N >= 1"
    );
    let n = x.len();
    let mut xs: Vec<DualVec<f64, N>> = x.iter().map(|&xi| DualVec::from(xi)).collect();
    if n == 0 {
        let y = f(&xs);
        let m = y.len();
        return (y.into_iter().map(|d| d.re).collect(), DMatrix::zeros(m, 0));
    }
    let mut values = Vec::new();
    let mut jac = DMatrix::zeros(0, n);
    for (pass, start) in (0..n).step_by(N).enumerate() {
        let end = (start + N).min(n);
        for (k, xi) in xs[start..end].iter_mut().enumerate() {
            xi.eps[k] = 1.0;
        }
        let y = f(&xs);
        for xi in &mut xs[start..end] {
            xi.eps = [0.0; N];
        }
        if pass == 0 {
            values = y.iter().map(|d| d.re).collect();
            jac = DMatrix::zeros(y.len(), n);
        } else {
            assert_eq!(
                y.len(),
                values.len(),
                "forward::jacobian_chunked: f returned {} outputs on pass {pass} but {} on \
                 pass 0; a Jacobian needs a fixed number of outputs",
                y.len(),
                values.len()
            );
        }
        for (i, yi) in y.iter().enumerate() {
            for (k, j) in (start..end).enumerate() {
                jac[(i, j)] = yi.eps[k];
            }
        }
    }
    (values, jac)
}

/// The Hessian by forward over forward (`Dual<Dual<f64>>`), in `n(n+1)/2`
/// passes: `(f(x), ∇f(x), ∇²f(x))`. Meant for small `n` and for checking;
/// [`reverse::hessian`](crate::reverse::hessian) scales better.
///
/// ```
/// use dualtape::forward;
///
/// let (v, g, h) = forward::hessian(|x| x[0] * x[0] * x[1], &[3.0, 2.0]);
/// assert_eq!(v, 18.0);
/// assert_eq!(g, vec![12.0, 9.0]);
/// assert_eq!((h[(0, 0)], h[(0, 1)], h[(1, 0)], h[(1, 1)]), (4.0, 6.0, 6.0, 0.0));
/// ```
pub fn hessian(
    f: impl Fn(&[Dual<Dual<f64>>]) -> Dual<Dual<f64>>,
    x: &[f64],
) -> (f64, Vec<f64>, DMatrix<f64>) {
    let n = x.len();
    let mut xs: Vec<Dual<Dual<f64>>> = x.iter().map(|&xi| Dual::lift(Dual::lift(xi))).collect();
    let mut grad = vec![0.0; n];
    let mut hess = DMatrix::zeros(n, n);
    let mut value = f(&xs).re.re;
    for i in 0..n {
        for j in i..n {
            // x_i carries the outer tangent, x_j the inner one: eps.eps = ∂²f/∂x_i∂x_j.
            xs[i].eps.re = 1.0;
            xs[j].re.eps = 1.0;
            let y = f(&xs);
            xs[i].eps.re = 0.0;
            xs[j].re.eps = 0.0;
            value = y.re.re;
            if i == j {
                grad[i] = y.eps.re;
            }
            hess[(i, j)] = y.eps.eps;
            hess[(j, i)] = y.eps.eps;
        }
    }
    (value, grad, hess)
}
