//! The trait plumbing every differentiable scalar shares, generated once.
//!
//! [`Dual`](crate::Dual), [`DualVec`](crate::DualVec) and [`Var`](crate::Var)
//! differ only in how they apply a rule from [`rules`](crate::rules): a dual
//! number multiplies the partials into its tangents, a `Var` records them on
//! the tape. Each type provides six small inherent functions:
//!
//! - `lift(c)`: a constant of the inner type, with no derivative;
//! - `primal(self)`: the value as the inner type;
//! - `is_exact_zero(&self)`: the value and every derivative are exactly 0;
//! - `chain1(self, code, (v, d))` and `chain2(self, other, op, (v, dx, dy))`:
//!   apply a unary or binary rule: the chain rule, where a zero tangent or a
//!   zero partial contributes nothing (rule 3 of [`rules`](crate::rules)).
//!   `code`/`op` name the operation (a [`reverse::program::Op`](crate::reverse::program::Op),
//!   with a constant operand and its side for `code`): a `Var` recording a
//!   program stores it, the dual numbers ignore it (it costs them nothing:
//!   everything is inlined and the argument is dead);
//! - `test(&self, &other, test)`: a comparison or predicate on the values,
//!   which a `Var` records while recording a program.
//!
//! The macro `impl_scalar!` then implements, in terms of those and the rule
//! table, one file per trait family:
//!
//! - `operators.rs`: the inherent math methods (`x.sin()`, ...), [`Scalar`](crate::Scalar),
//!   the arithmetic operators with scalar or float operands, `Neg`, `Sum`, `Product`;
//! - `compare.rs`: `==`, `<` and approx's traits, which look at values only;
//! - `num.rs`: num-traits (`Zero`, `One`, `Num`, `Float`, ...);
//! - `simba.rs`: simba/nalgebra (`SimdValue`, `SubsetOf`, `ComplexField`, `RealField`).
//!
//! Where two traits declare the same method (`Float::sin` and
//! `ComplexField::sin`, `Float::max` and `RealField::max`), both impls
//! forward to the inherent method through one list (`forward_elementary!`,
//! `forward_real!`), so each forwarder is written once.

mod compare;
mod num;
mod operators;
mod simba;

pub(crate) use compare::{impl_comparisons, impl_real_comparisons};
pub(crate) use num::impl_num_traits;
pub(crate) use operators::impl_operators;
pub(crate) use simba::impl_simba;

/// A right-hand operand accepted by a scalar's arithmetic: the scalar type
/// itself, or its [`Scalar::Real`](crate::Scalar::Real) float.
///
/// It lets `x * 2.0` and `x * y` both compile for a generic
/// `S: Scalar<Real = f64>`. You never implement or call it yourself.
///
/// Another operand type is refused with a note saying what to write:
///
/// ```compile_fail,E0277
/// fn f(x: dualtape::Var) -> dualtape::Var {
///     x + 1u8 // "`u8` is not an operand for `Var`": write x + 1.0
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an operand for `{S}`: use a `{S}` or its `Scalar::Real` float",
    label = "not a `{S}` or its float",
    note = "constants are floats of the scalar's `Real` type: `x * 2.0`, not `x * 2` or `x * 2.0f32` on an f64-based scalar",
    note = "in generic code, `S::constant(2.0)` lifts any constant; on the left of an operator write `S::constant(1.0) - x`"
)]
pub trait Operand<S>: Copy {
    /// `lhs + self`.
    fn add_to(self, lhs: S) -> S;
    /// `lhs - self`.
    fn sub_from(self, lhs: S) -> S;
    /// `lhs * self`.
    fn mul_with(self, lhs: S) -> S;
    /// `lhs / self`.
    fn div_into(self, lhs: S) -> S;
    /// `lhs % self`.
    fn rem_into(self, lhs: S) -> S;
}

/// Implements the shared scalar surface for a type with the six inherent
/// functions described in the [module docs](self).
///
/// `impl_scalar! { impl [generics] for Type; inner Inner; reals [f32, f64]; }`
/// where `reals` lists the primitive floats that may appear on the left of an
/// operator (`2.0 * x`).
macro_rules! impl_scalar {
    (impl $gen:tt for $ty:ty; inner f64; reals [f64];) => {
        $crate::ops::impl_scalar!(@all $gen $gen for $ty; inner f64; reals [f64]; concrete);
    };

    (impl $gen:tt for $ty:ty; inner $inner:ty; reals [$($real:ty),*];) => {
        $crate::ops::impl_scalar!(@all $gen $gen for $ty; inner $inner; reals [$($real),*]; generic);
    };

    (@all $g:tt $gen:tt for $ty:ty; inner $inner:ty; reals [$($real:ty),*]; $kind:ident) => {
        $crate::ops::impl_operators!($g $gen $ty; $inner; [$($real),*]; $kind);
        $crate::ops::impl_comparisons!($g $ty; $inner);
        $crate::ops::impl_real_comparisons!($g $ty; $inner; [$($real),*]; $kind);
        $crate::ops::impl_num_traits!($g $ty; $inner);
        $crate::ops::impl_simba!($g $ty; $inner);
    };
}

pub(crate) use impl_scalar;

/// Trait methods that forward to the inherent method of the same name:
/// `fn name(self, args..) -> R { Self::name(self, args..) }`.
macro_rules! forward {
    ($($name:ident($($arg:ident: $t:ty),*) -> $ret:ty),* $(,)?) => {$(
        #[inline(always)]
        fn $name(self $(, $arg: $t)*) -> $ret {
            Self::$name(self $(, $arg)*)
        }
    )*};
}

/// The elementary functions that both num-traits' `Float` and simba's
/// `ComplexField` declare, forwarded to the inherent methods (which apply
/// the rules): one list for both impls.
macro_rules! forward_elementary {
    () => {
        $crate::ops::forward! {
            floor() -> Self, ceil() -> Self, round() -> Self, trunc() -> Self, fract() -> Self,
            abs() -> Self, signum() -> Self, recip() -> Self, sqrt() -> Self, cbrt() -> Self,
            exp() -> Self, exp2() -> Self, exp_m1() -> Self,
            ln() -> Self, ln_1p() -> Self, log2() -> Self, log10() -> Self, log(base: Self) -> Self,
            sin() -> Self, cos() -> Self, tan() -> Self, sin_cos() -> (Self, Self),
            asin() -> Self, acos() -> Self, atan() -> Self,
            sinh() -> Self, cosh() -> Self, tanh() -> Self,
            asinh() -> Self, acosh() -> Self, atanh() -> Self,
            powi(n: i32) -> Self, powf(n: Self) -> Self, hypot(other: Self) -> Self,
            mul_add(a: Self, b: Self) -> Self,
        }
    };
}

/// The real-line functions that both num-traits' `Float` and simba's
/// `RealField` declare, forwarded to the inherent methods: one list for both.
macro_rules! forward_real {
    () => {
        $crate::ops::forward! {
            max(other: Self) -> Self, min(other: Self) -> Self, clamp(lo: Self, hi: Self) -> Self,
            copysign(sign: Self) -> Self, atan2(other: Self) -> Self,
        }
    };
}

pub(crate) use {forward, forward_elementary, forward_real};
