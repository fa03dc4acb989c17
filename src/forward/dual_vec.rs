//! `DualVec<T, N>`: a value and N tangents, for gradients in chunks.

use std::fmt;

use num_traits::Zero;

use super::dual::{combined, partials_plain, scaled};
use crate::reverse::program::{test_on, Code, Op, Test};
use crate::rules::{Binary, Unary};
use crate::Scalar;

/// A value and `N` tangents: `N` directional derivatives in one pass.
///
/// `forward::gradient` seeds the `N` inputs of a chunk with unit tangents and
/// reads `N` partial derivatives at once, so a gradient of `n` inputs takes
/// `ceil(n / N)` passes. The tangents are a plain array, so the tangent loop
/// of every operation is a straight-line loop over `N` lanes that the
/// compiler vectorises.
///
/// ```
/// use dualtape::DualVec;
///
/// let x = DualVec::<f64, 2>::variable(3.0, 0);
/// let y = DualVec::<f64, 2>::variable(4.0, 1);
/// let r = (x * x + y * y).sqrt();
/// assert_eq!(r.re, 5.0);
/// // ∂r/∂x = 2x · 1/(2r), computed as 6 · 0.1, one rounding away from 0.6
/// assert!((r.eps[0] - 3.0 / 5.0).abs() < 1e-15);
/// assert!((r.eps[1] - 4.0 / 5.0).abs() < 1e-15);
/// ```
//
// The tangents come first in memory, the value last: the compiler's 2-wide
// vectors then hold lanes only, without the value mixed in and shuffled out
// again, and the lane loads start where the struct does (for N = 13, 112
// bytes, a 16-byte boundary in a vector from the allocator). benches/README.md,
// fourth round: Rosenbrock 107 → 102 instructions per pair, log det −5 %.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct DualVec<T, const N: usize> {
    /// The tangents: `eps[i]` is the derivative along the `i`-th seed.
    pub eps: [T; N],
    /// The value.
    pub re: T,
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for DualVec<T, N> {
    /// `DualVec { re: .., eps: [..] }`: the value first, as it reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DualVec")
            .field("re", &self.re)
            .field("eps", &self.eps)
            .finish()
    }
}

impl<T: Scalar, const N: usize> Default for DualVec<T, N> {
    fn default() -> Self {
        DualVec::lift(T::zero())
    }
}

impl<T: Scalar, const N: usize> DualVec<T, N> {
    /// A value with the given tangents.
    #[inline(always)]
    pub const fn new(re: T, eps: [T; N]) -> Self {
        DualVec { re, eps }
    }

    /// The `i`-th input of a chunk: tangent `e_i`.
    ///
    /// # Panics
    ///
    /// If `i >= N`.
    #[inline]
    pub fn variable(re: T, i: usize) -> Self {
        assert!(
            i < N,
            "DualVec::variable: seed index {i} is out of range for {N} tangents"
        );
        let mut eps = [T::zero(); N];
        eps[i] = T::one();
        DualVec { re, eps }
    }

    #[inline(always)]
    pub(crate) fn lift(re: T) -> Self {
        DualVec {
            re,
            eps: [T::zero(); N],
        }
    }

    #[inline(always)]
    pub(crate) fn primal(self) -> T {
        self.re
    }

    /// A test on the values, through the inner type's own comparisons (so a
    /// `Var` inside records it).
    #[inline(always)]
    pub(crate) fn test(&self, other: &Self, test: Test) -> u8 {
        test_on(test, self.re, other.re)
    }

    #[inline(always)]
    pub(crate) fn is_exact_zero(&self) -> bool {
        self.re.is_zero() && self.eps.iter().all(Zero::is_zero)
    }

    #[inline(always)]
    pub(crate) fn chain1(self, _: Code, (v, d): Unary<T>) -> Self {
        DualVec {
            re: v,
            eps: scaled(&self.eps, d),
        }
    }

    #[inline(always)]
    pub(crate) fn chain2(self, o: Self, op: Op, (v, dx, dy): Binary<T>) -> Self {
        DualVec {
            re: v,
            eps: combined(partials_plain(op, (v, dx, dy)), &self.eps, dx, &o.eps, dy),
        }
    }
}

crate::ops::impl_scalar! {
    impl [T: Scalar, const N: usize] for DualVec<T, N>;
    inner T;
    reals [f32, f64];
}

impl<T: Scalar, const N: usize> fmt::Display for DualVec<T, N> {
    /// `re + [e0, e1, ...]ε`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.re, f)?;
        f.write_str(" + [")?;
        for (i, e) in self.eps.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            fmt::Display::fmt(e, f)?;
        }
        f.write_str("]ε")
    }
}

impl<T: Scalar, const N: usize> From<T> for DualVec<T, N> {
    /// A constant: all tangents 0.
    fn from(re: T) -> Self {
        DualVec::lift(re)
    }
}
