//! Reverse mode over chunks: each chunk recorded on the tape of the thread
//! that runs it and swept once; the chunk gradients summed by the fixed
//! tree (see [`parallel`](super)).

use super::{check_args, gradient_tree, SumOfLosses};

/// The value and gradient of `L(w) = Σᵢ lossᵢ(w)`: every chunk of
/// `chunk_size` examples recorded and swept on its worker's own
/// thread-local tape, the chunk results summed in the fixed tree, so the
/// bits do not depend on the number of threads. Returns `(L(w), ∇L(w))`.
///
/// ```
/// use std::ops::Range;
/// use dualtape::parallel::{self, SumOfLosses};
/// use dualtape::Scalar;
///
/// /// Σᵢ (w₀ xᵢ − 1)², xᵢ = i / n.
/// struct Fit(usize);
/// impl SumOfLosses for Fit {
///     fn len(&self) -> usize { self.0 }
///     fn dim(&self) -> usize { 1 }
///     fn eval_chunk<S: Scalar<Real = f64>>(&self, r: Range<usize>, w: &[S]) -> S {
///         let n = self.0 as f64;
///         r.fold(S::constant(0.0), |acc, i| acc + (w[0] * (i as f64 / n) - 1.0).powi(2))
///     }
/// }
/// // d/dw Σ (w x − 1)² = Σ 2 (w x − 1) x; at w = 0 that is −2 Σ x = −(n − 1).
/// let (l, g) = parallel::reverse::gradient(&Fit(1000), &[0.0], 64);
/// assert_eq!(l, 1000.0);
/// assert!((g[0] + 999.0).abs() < 1e-10);
/// ```
///
/// # Panics
///
/// If `chunk_size == 0` or `w.len() != model.dim()`; with the payload of a
/// panic in a chunk's evaluation (every tape stays usable); and, without
/// the `parallel` feature, if called inside another recording on this
/// thread (the chunks then record on the calling thread).
pub fn gradient<M: SumOfLosses>(model: &M, w: &[f64], chunk_size: usize) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; w.len()];
    let v = gradient_into(model, w, chunk_size, &mut g);
    (v, g)
}

/// [`gradient`] into a buffer you own; returns `L(w)`.
///
/// # Panics
///
/// If `grad.len() != w.len()`, and as [`gradient`].
pub fn gradient_into<M: SumOfLosses>(
    model: &M,
    w: &[f64],
    chunk_size: usize,
    grad: &mut [f64],
) -> f64 {
    check_args("parallel::reverse::gradient", model, w, chunk_size);
    check_grad("parallel::reverse::gradient", w, grad);
    gradient_tree(model, chunk_size, grad, |range| {
        crate::reverse::gradient(|x| model.eval_chunk(range.clone(), x), w)
    })
}

pub(super) fn check_grad(who: &str, w: &[f64], grad: &[f64]) {
    assert!(
        grad.len() == w.len(),
        "{who}: the gradient buffer has {} entries but w has {}; give one entry per \
         parameter",
        grad.len(),
        w.len()
    );
}
