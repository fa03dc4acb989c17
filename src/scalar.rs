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

use std::iter::{Product, Sum};
use std::ops::{Add, Div, Mul, Sub};

use nalgebra::RealField;

/// A number that model code computes with: plain, forward-mode or reverse-mode.
///
/// # Constants in generic code
///
/// With `S: Scalar<Real = f64>`, these read as for `f64`:
///
/// | spelling | works because |
/// |---|---|
/// | `x * 2.0`, `x + 1.0`, `x - 1.0`, `x / 3.0`, `x += 1.0` | `Add`/`Sub`/`Mul`/`Div<Self::Real>` are bounds of `Scalar` |
/// | `x > 0.0`, `x <= 1.0`, `x == 0.0`, `x.partial_cmp(&0.0)` | `PartialOrd<Self::Real>`, `PartialEq<Self::Real>` (values only) |
/// | `xs.iter().sum()`, `xs.iter().copied().product()` | `Sum`/`Product` (by value and by reference) |
/// | `x.max_real(0.0)`, `x.min_real(1.0)`, `x.clamp_real(0.0, 1.0)`, `x.powf_real(2.5)` | methods of `Scalar` taking `Self::Real` |
/// | `x.powi(2)`, `x.sqrt()`, `x.exp()`, `x.max(y)` | `RealField` |
///
/// What the language does not allow, and what to write instead:
///
/// | fails | write |
/// |---|---|
/// | `1.0 - x`, `2.0 / x`, `0.0 < x` (constant on the left) | `S::constant(1.0) - x`, `x.recip() * 2.0`, `x > 0.0` |
/// | `x.max(0.0)`, `x.powf(2.0)` (`RealField`'s methods take `Self`) | `x.max_real(0.0)`, `x.powi(2)` or `x.powf_real(2.0)` |
/// | `x * 2` (an integer) | `x * 2.0` |
/// | `m * 0.5` for a nalgebra matrix `m` of `S` | `m * S::constant(0.5)` |
/// | `&data * &w` with `data: DMatrix<f64>`, `w: DMatrix<S>` | `data.lift_mul(&w)` or `data.lift::<S>() * &w` ([`Lift`](crate::Lift)) |
///
/// A constant on the left fails because the impl would be `impl Sub<S> for f64`
/// for every `S`, which only the concrete types can provide (`1.0 - x` does
/// work for `x: Var`, `Dual<f64>`, ...). The compiler's message for it is
/// rustc's own (`cannot subtract S from {float}`), which dualtape cannot
/// annotate:
///
/// ```compile_fail,E0277
/// fn f<S: dualtape::Scalar<Real = f64>>(x: S) -> S {
///     1.0 - x // write S::constant(1.0) - x
/// }
/// ```
///
/// and a second `max` taking `Self::Real` would make every `x.max(y)`
/// ambiguous, so `RealField::max` keeps its `Self` argument:
///
/// ```compile_fail,E0308
/// fn relu<S: dualtape::Scalar<Real = f64>>(x: S) -> S {
///     x.max(0.0) // write x.max_real(0.0)
/// }
/// ```
///
/// # Comparisons and branches
///
/// Comparisons look at values only. A branch on them (`if x > 0.0 { a }
/// else { b }`) is differentiated as the branch taken: at the switch point
/// itself you get the derivative of that branch, a one-sided derivative,
/// whatever the other side's is (see [`rules`](crate::rules), "Your own
/// branches").
///
/// # num-traits
///
/// Every scalar also implements [`num_traits::Float`]. `Scalar` does not
/// require it, because with both bounds every method the two declare
/// (`sin`, `exp`, `max`, ...) is ambiguous. If you add `+ num_traits::Float`
/// to a bound, call those methods fully qualified
/// (`num_traits::Float::sin(x)`), or keep the num-traits code in a function
/// bounded by `Float` alone and call that.
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a dualtape scalar",
    label = "model code runs on `f64`, `Dual`, `DualVec` or `Var`",
    note = "write the model as `fn f<S: Scalar<Real = f64>>(x: &[S]) -> S` and let the driver choose `S` (`reverse::gradient(f::<Var>, &x)`, `forward::gradient(f::<DualVec<f64, 4>>, &x)`)"
)]
pub trait Scalar:
    RealField
    + Copy
    + Add<Self::Real, Output = Self>
    + Sub<Self::Real, Output = Self>
    + Mul<Self::Real, Output = Self>
    + Div<Self::Real, Output = Self>
    + PartialEq<Self::Real>
    + PartialOrd<Self::Real>
    + Sum
    + Product
    + for<'a> Sum<&'a Self>
    + for<'a> Product<&'a Self>
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

    /// `max(self, c)` with a plain constant: `x.max_real(0.0)` is
    /// `x.max(S::constant(0.0))` (ReLU). `RealField::max` takes `Self`, and a
    /// second method named `max` would make every `x.max(y)` ambiguous, hence
    /// the name. A tie gives the derivative half, as [`rules::max`](crate::rules::max).
    ///
    /// ```
    /// use dualtape::{forward, Scalar};
    ///
    /// fn relu<S: Scalar<Real = f64>>(x: S) -> S {
    ///     x.max_real(0.0)
    /// }
    /// assert_eq!(forward::derivative(relu, 2.0), (2.0, 1.0));
    /// assert_eq!(forward::derivative(relu, -2.0), (0.0, 0.0));
    /// ```
    #[inline]
    fn max_real(self, c: Self::Real) -> Self {
        self.max(Self::constant(c.into()))
    }

    /// `min(self, c)` with a plain constant (see [`max_real`](Scalar::max_real)
    /// for why it is not called `min`).
    #[inline]
    fn min_real(self, c: Self::Real) -> Self {
        self.min(Self::constant(c.into()))
    }

    /// `self` limited to `[lo, hi]` with plain constants (see
    /// [`max_real`](Scalar::max_real)); NaN stays NaN.
    #[inline]
    fn clamp_real(self, lo: Self::Real, hi: Self::Real) -> Self {
        self.clamp(Self::constant(lo.into()), Self::constant(hi.into()))
    }

    /// `self` raised to a plain real power: `x.powf_real(2.5)` is
    /// `x.powf(S::constant(2.5))` (for whole powers `x.powi(2)` is cheaper
    /// and exact). See [`max_real`](Scalar::max_real) for the name.
    ///
    /// ```
    /// use dualtape::{forward, Scalar};
    ///
    /// let (v, d) = forward::derivative(|x| x.powf_real(1.5), 4.0);
    /// assert_eq!((v, d), (8.0, 3.0)); // 4^1.5, 1.5 · 4^0.5
    /// ```
    #[inline]
    fn powf_real(self, p: Self::Real) -> Self {
        self.powf(Self::constant(p.into()))
    }
}

/// The innermost floats, `f32` and `f64`: the `Real` of every [`Scalar`].
///
/// Sealed: only `f32` and `f64` implement it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not `f32` or `f64`",
    note = "dualtape's constants are `f64` (or `f32` for an f32-based scalar): write `2.0`, not `2`"
)]
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
