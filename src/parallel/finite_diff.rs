//! Finite differences over chunks: each chunk's `f64` loss differenced as
//! [`crate::finite_diff`] does, the chunk results summed by the fixed tree
//! (see [`parallel`](super)). Each chunk uses the same steps (they depend
//! on `w` only), so the sum is the difference quotient of the total loss,
//! up to rounding.

use super::{check_args, gradient_tree, SumOfLosses};
use crate::finite_diff::{Config, Scheme};

/// The value and a finite-difference gradient of `L(w) = Σᵢ lossᵢ(w)`,
/// chunk by chunk over the threads: `(L(w), ∇L(w))`, bit-identical for
/// every thread count. Central differences cost `2n + 1` evaluations of
/// each chunk, Richardson `4n + 1`.
///
/// ```
/// use std::ops::Range;
/// use dualtape::finite_diff::Scheme;
/// use dualtape::parallel::{self, SumOfLosses};
/// use dualtape::Scalar;
///
/// /// Σᵢ exp(w₀ xᵢ), xᵢ = i / len.
/// struct Exp(usize);
/// impl SumOfLosses for Exp {
///     fn len(&self) -> usize { self.0 }
///     fn dim(&self) -> usize { 1 }
///     fn eval_chunk<S: Scalar<Real = f64>>(&self, r: Range<usize>, w: &[S]) -> S {
///         let n = self.0 as f64;
///         r.fold(S::constant(0.0), |acc, i| acc + (w[0] * (i as f64 / n)).exp())
///     }
/// }
/// // At w = 0: L = len, dL/dw = Σ xᵢ = (len − 1) / 2.
/// let (l, g) = parallel::finite_diff::gradient(&Exp(1000), &[0.0], 100, Scheme::Central);
/// assert_eq!(l, 1000.0);
/// assert!((g[0] - 499.5).abs() < 1e-6);
/// ```
///
/// # Panics
///
/// If `chunk_size == 0` or `w.len() != model.dim()`, and with the payload
/// of a panic in a chunk's evaluation.
pub fn gradient<M: SumOfLosses>(
    model: &M,
    w: &[f64],
    chunk_size: usize,
    scheme: Scheme,
) -> (f64, Vec<f64>) {
    gradient_with(model, w, chunk_size, &Config::new(scheme))
}

/// [`gradient`] with a chosen step rule (see [`crate::finite_diff::Config`]).
///
/// # Panics
///
/// As [`gradient`], and if `config.step` is not finite and positive.
pub fn gradient_with<M: SumOfLosses>(
    model: &M,
    w: &[f64],
    chunk_size: usize,
    config: &Config,
) -> (f64, Vec<f64>) {
    check_args("parallel::finite_diff::gradient", model, w, chunk_size);
    let mut g = vec![0.0; w.len()];
    let v = gradient_tree(model, chunk_size, &mut g, |range| {
        crate::finite_diff::gradient_with(|x: &[f64]| model.eval_chunk(range.clone(), x), w, config)
    });
    (v, g)
}
