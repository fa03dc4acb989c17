//! Forward mode over chunks: each chunk's gradient in `ceil(n / N)` passes
//! of [`DualVec<f64, N>`](crate::DualVec), the chunk results summed by the
//! fixed tree (see [`parallel`](super)). Worth it for few parameters (a
//! dozen or two); for many, use [`reverse`](super::reverse).

use super::{check_args, gradient_tree, reverse::check_grad, SumOfLosses};
use crate::DualVec;

/// The value and gradient of `L(w) = Σᵢ lossᵢ(w)` by forward mode, `N`
/// tangents per pass, chunk by chunk over the threads: `(L(w), ∇L(w))`,
/// bit-identical for every thread count. The value has the same bits as
/// [`parallel::value`](super::value) and the other drivers' values.
///
/// ```
/// use std::ops::Range;
/// use dualtape::parallel::{self, SumOfLosses};
/// use dualtape::Scalar;
///
/// /// Σᵢ (w₀ + w₁ i)², i < len.
/// struct Quad(usize);
/// impl SumOfLosses for Quad {
///     fn len(&self) -> usize { self.0 }
///     fn dim(&self) -> usize { 2 }
///     fn eval_chunk<S: Scalar<Real = f64>>(&self, r: Range<usize>, w: &[S]) -> S {
///         r.fold(S::constant(0.0), |acc, i| acc + (w[0] + w[1] * i as f64).powi(2))
///     }
/// }
/// // At w = (1, 0): L = len, ∂L/∂w₀ = 2 len, ∂L/∂w₁ = 2 Σ i = len (len − 1).
/// let (l, g) = parallel::forward::gradient::<2, _>(&Quad(100), &[1.0, 0.0], 16);
/// assert_eq!((l, g), (100.0, vec![200.0, 9900.0]));
/// ```
///
/// # Panics
///
/// If `N == 0`, `chunk_size == 0` or `w.len() != model.dim()`, and with
/// the payload of a panic in a chunk's evaluation.
pub fn gradient<const N: usize, M: SumOfLosses>(
    model: &M,
    w: &[f64],
    chunk_size: usize,
) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; w.len()];
    let v = gradient_into::<N, M>(model, w, chunk_size, &mut g);
    (v, g)
}

/// [`gradient`] into a buffer you own; returns `L(w)`.
///
/// # Panics
///
/// If `grad.len() != w.len()`, and as [`gradient`].
pub fn gradient_into<const N: usize, M: SumOfLosses>(
    model: &M,
    w: &[f64],
    chunk_size: usize,
    grad: &mut [f64],
) -> f64 {
    assert!(
        N > 0,
        "parallel::forward::gradient: DualVec<f64, 0> carries no tangent; use N >= 1"
    );
    check_args("parallel::forward::gradient", model, w, chunk_size);
    check_grad("parallel::forward::gradient", w, grad);
    gradient_tree(model, chunk_size, grad, |range| {
        crate::forward::gradient(
            |x: &[DualVec<f64, N>]| model.eval_chunk(range.clone(), x),
            w,
        )
    })
}
