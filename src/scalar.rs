//! The one trait model code is written against.
//!
//! A model written as `fn f<S: Scalar>(x: &[S]) -> S` is differentiated by
//! choosing `S`: [`f64`] evaluates it plainly (and finite differences use that),
//! [`Dual`](crate::Dual) and [`DualVec`](crate::DualVec) carry tangents forward,
//! [`Var`](crate::Var) records onto a tape for a reverse sweep, and nested types
//! such as `Dual<Dual<f64>>` or `Dual<Var>` give second derivatives.
//!
//! `Scalar` builds on [`nalgebra::RealField`], so every scalar works inside
//! nalgebra matrices, products and decompositions, and carries the usual
//! functions (`sin`, `exp`, `ln`, `powf`, `atan2`, ...) as methods. Each type
//! *also* implements [`num_traits::Float`] for code written against num-traits;
//! the two are kept out of one bound because together they make every
//! `x.sin()` ambiguous.

use std::ops::{Add, Div, Mul, Sub};

use nalgebra::RealField;

/// A number that model code computes with: plain, forward-mode or reverse-mode.
///
/// With `S: Scalar<Real = f64>`, constants on the right-hand side work as for
/// `f64` (`x * 2.0 + 1.0`); on the left-hand side (`1.0 - x`) they work for
/// every concrete type, and [`Scalar::constant`] works everywhere.
///
/// ```
/// use dualtape::{Dual, Scalar};
///
/// fn f<S: Scalar<Real = f64>>(x: S) -> S {
///     x * x * 3.0 + x.sin()
/// }
///
/// let y = f(Dual::variable(0.5));
/// assert!((y.re - (0.75 + 0.5f64.sin())).abs() < 1e-15);
/// assert!((y.eps - (3.0 + 0.5f64.cos())).abs() < 1e-15);
/// ```
pub trait Scalar:
    RealField
    + Copy
    + Add<Self::Real, Output = Self>
    + Sub<Self::Real, Output = Self>
    + Mul<Self::Real, Output = Self>
    + Div<Self::Real, Output = Self>
{
    /// The innermost float: `f32` or `f64`.
    type Real: Primitive;

    /// Lifts a constant: the result carries no derivative.
    fn constant(v: f64) -> Self;

    /// The primal value, with every derivative stripped (innermost for nested types).
    fn value(&self) -> Self::Real;

    /// The logistic sigmoid `1 / (1 + e^-x)`, computed without overflow for
    /// large `|x|`, as one operation: its derivative `σ(1 - σ)` comes from
    /// [`rules::sigmoid`](crate::rules::sigmoid), so a `Var` records one node
    /// instead of four.
    ///
    /// ```
    /// use dualtape::{forward, Scalar};
    ///
    /// let (s, ds) = forward::derivative(|x| x.sigmoid(), 0.0);
    /// assert_eq!((s, ds), (0.5, 0.25));
    /// assert_eq!(1000.0f64.sigmoid(), 1.0);
    /// assert_eq!((-1000.0f64).sigmoid(), 0.0);
    /// ```
    fn sigmoid(self) -> Self {
        crate::rules::sigmoid(self).0
    }

    /// The softplus `ln(1 + e^x)`, without overflow or cancellation, as one
    /// operation: its derivative `σ(x)` comes from
    /// [`rules::softplus`](crate::rules::softplus) (one tape node instead of
    /// four). Binary cross-entropy from a logit `z` with target `t` is
    /// `z.softplus() - z * t`.
    ///
    /// ```
    /// use dualtape::{forward, Scalar};
    ///
    /// let (v, d) = forward::derivative(|x| x.softplus(), 0.0);
    /// assert_eq!((v, d), (2f64.ln(), 0.5));
    /// assert_eq!(1000.0f64.softplus(), 1000.0);
    /// ```
    fn softplus(self) -> Self {
        crate::rules::softplus(self).0
    }
}

/// The innermost floats, `f32` and `f64`: the `Real` of every [`Scalar`].
///
/// Sealed: only `f32` and `f64` implement it.
pub trait Primitive:
    Scalar<Real = Self> + num_traits::Float + sealed::Sealed + Into<f64> + From<f32>
{
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

macro_rules! impl_primitive {
    ($t:ty) => {
        impl Scalar for $t {
            type Real = $t;
            #[inline(always)]
            fn constant(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn value(&self) -> Self::Real {
                *self
            }
        }
        impl Primitive for $t {
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    };
}
impl_primitive!(f32);
impl_primitive!(f64);

#[cfg(test)]
mod tests {
    use super::*;

    fn poly<S: Scalar<Real = f64>>(x: S) -> S {
        x * x * 2.0 - x / 4.0 + S::constant(1.0)
    }

    #[test]
    fn plain_floats_are_scalars() {
        assert_eq!(poly(2.0f64), 8.0 - 0.5 + 1.0);
        assert_eq!(2.5f32.value(), 2.5f32);
        assert_eq!(<f32 as Scalar>::constant(0.1), 0.1f32);
        assert_eq!(Primitive::to_f64(0.5f32), 0.5);
    }
}
