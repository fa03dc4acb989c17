//! [`gradient_auto`]: the forward gradient with the chunk size chosen for you.

use crate::{Differentiable, DualVec};

/// The chunk sizes [`gradient_auto`] chooses from.
const CHUNKS: [usize; 6] = [1, 2, 4, 8, 12, 16];

/// The chunk `N` that [`gradient_auto`] uses for `n` inputs: as few passes as
/// `N = 16` needs (`ceil(n / 16)`), with the smallest `N` in 1, 2, 4, 8, 12,
/// 16 that still needs no more (so little tangent work is wasted on a last,
/// partly filled pass).
///
/// ```
/// use dualtape::forward::auto_chunk;
///
/// assert_eq!(auto_chunk(3), 4); // one pass
/// assert_eq!(auto_chunk(10), 12); // one pass
/// assert_eq!(auto_chunk(17), 12); // two passes, as with N = 16
/// assert_eq!(auto_chunk(371), 16); // 24 passes
/// ```
pub fn auto_chunk(n: usize) -> usize {
    let passes = n.div_ceil(16).max(1);
    CHUNKS.into_iter().find(|&c| c * passes >= n).unwrap_or(16)
}

/// [`gradient`](super::gradient) with `N` chosen from the number of inputs
/// (by [`auto_chunk`]): `(f(x), ∇f(x))`.
///
/// A closure cannot be generic, so this takes a [`Differentiable`] model,
/// whose `eval` runs on whichever `DualVec<f64, N>` is chosen.
///
/// **Choosing `N` yourself** (for [`gradient`](super::gradient)): a pass costs
/// about one evaluation plus `N` tangent operations per operation, and
/// `ceil(n / N)` passes are needed. `N = n` (one pass) is best up to about
/// 16 inputs; beyond that, 8 to 16 keeps a `DualVec` within a few cache
/// lines. For hundreds of inputs, reverse mode ([`reverse::gradient`](crate::reverse::gradient))
/// is usually faster: its cost does not grow with `n` (see the README's
/// "Forward or reverse").
///
/// Not-finite values propagate as in [`gradient`](super::gradient).
///
/// ```
/// use dualtape::{forward, Differentiable, Scalar};
///
/// struct SumSq(usize);
/// impl Differentiable for SumSq {
///     fn dim(&self) -> usize {
///         self.0
///     }
///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
///         x.iter().map(|&xi| xi * xi).sum()
///     }
/// }
/// let x: Vec<f64> = (0..20).map(f64::from).collect();
/// let (v, g) = forward::gradient_auto(&SumSq(20), &x);
/// assert_eq!(v, (0..20).map(|i| (i * i) as f64).sum::<f64>());
/// assert_eq!(g, x.iter().map(|xi| 2.0 * xi).collect::<Vec<_>>());
/// ```
///
/// # Panics
///
/// If `x.len() != model.dim()`.
pub fn gradient_auto<M: Differentiable + ?Sized>(model: &M, x: &[f64]) -> (f64, Vec<f64>) {
    crate::model::check_dim("forward::gradient_auto", "x", x.len(), model.dim());
    fn run<const N: usize, M: Differentiable + ?Sized>(model: &M, x: &[f64]) -> (f64, Vec<f64>) {
        super::gradient(|x: &[DualVec<f64, N>]| model.eval(x), x)
    }
    match auto_chunk(x.len()) {
        1 => run::<1, M>(model, x),
        2 => run::<2, M>(model, x),
        4 => run::<4, M>(model, x),
        8 => run::<8, M>(model, x),
        12 => run::<12, M>(model, x),
        _ => run::<16, M>(model, x),
    }
}
