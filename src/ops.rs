//! The trait plumbing every differentiable scalar shares, generated once.
//!
//! [`Dual`](crate::Dual), [`DualVec`](crate::DualVec) and [`Var`](crate::Var)
//! differ only in how they apply a rule from [`rules`](crate::rules): a dual
//! number multiplies the partials into its tangents, a `Var` records them on
//! the tape. Each type provides five small inherent functions:
//!
//! - `lift(c)`: a constant of the inner type, with no derivative;
//! - `primal(self)`: the value as the inner type;
//! - `is_exact_zero(&self)`: the value and every derivative are exactly 0;
//! - `chain1(self, (v, d))` and `chain2(self, other, (v, dx, dy))`: apply a
//!   unary or binary rule: the chain rule, where a zero tangent or a zero
//!   partial contributes nothing (rule 3 of [`rules`](crate::rules)).
//!
//! The macro `impl_scalar!` then implements, in terms of those and the rule
//! table, the inherent math methods, the operators, and the traits of
//! nalgebra/simba (`RealField`, `ComplexField`, ...), num-traits (`Float`,
//! ...) and approx. Comparisons (`==`, `<`, approx) look at values only.

/// A right-hand operand accepted by a scalar's arithmetic: the scalar type
/// itself, or its [`Scalar::Real`](crate::Scalar::Real) float.
///
/// It lets `x * 2.0` and `x * y` both compile for a generic
/// `S: Scalar<Real = f64>`. You never implement or call it yourself.
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

/// Implements the shared scalar surface for a type with the five inherent
/// functions described in the [module docs](self).
///
/// `impl_scalar! { impl [generics] for Type; inner Inner; reals [f32, f64]; }`
/// where `reals` lists the primitive floats that may appear on the left of an
/// operator (`2.0 * x`).
macro_rules! impl_scalar {
    (impl $gen:tt for $ty:ty; inner f64; reals [f64];) => {
        $crate::ops::impl_scalar!(@main $gen $gen for $ty; inner f64; reals [f64]; concrete);
    };

    (impl $gen:tt for $ty:ty; inner $inner:ty; reals [$($real:ty),*];) => {
        $crate::ops::impl_scalar!(@main $gen $gen for $ty; inner $inner; reals [$($real),*]; generic);
    };

    (@main [$($g:tt)*] $gen:tt for $ty:ty; inner $inner:ty; reals [$($real:ty),*]; $kind:ident) => {
        // ------------------------------------------------------------ inherent math
        #[allow(clippy::should_implement_trait)]
        impl<$($g)*> $ty {
            $crate::ops::impl_scalar!(@unary
                sin "Sine.",
                cos "Cosine.",
                tan "Tangent.",
                asin "Arcsine; the derivative is infinite at ±1.",
                acos "Arccosine; the derivative is infinite at ±1.",
                atan "Arctangent.",
                sinh "Hyperbolic sine.",
                cosh "Hyperbolic cosine.",
                tanh "Hyperbolic tangent.",
                asinh "Inverse hyperbolic sine.",
                acosh "Inverse hyperbolic cosine; the derivative is infinite at 1.",
                atanh "Inverse hyperbolic tangent; the derivative is infinite at ±1.",
                exp "`e^x`.",
                exp2 "`2^x`.",
                exp_m1 "`e^x - 1`, accurate near 0.",
                ln "Natural logarithm.",
                ln_1p "`ln(1 + x)`, accurate near 0.",
                log2 "Base-2 logarithm.",
                log10 "Base-10 logarithm.",
                sqrt "Square root; the derivative is `+∞` at 0.",
                cbrt "Cube root; the derivative is `+∞` at 0.",
                recip "`1 / x`.",
                abs "Absolute value; the derivative at 0 is 0.",
                signum "Sign (as the inner float computes it); the derivative is 0.",
                floor "Floor; the derivative is 0.",
                ceil "Ceiling; the derivative is 0.",
                round "Rounding half away from zero; the derivative is 0.",
                trunc "Truncation toward zero; the derivative is 0.",
                fract "Fractional part `x - trunc(x)`; the derivative is 1."
            );
            $crate::ops::impl_scalar!(@binary
                atan2 "Four-quadrant arctangent of `self / other` (`self` is y); 0 partials at the origin.",
                powf "`self` raised to a real power `other`, differentiable in both (see [`rules::powf`](crate::rules::powf)).",
                hypot "`sqrt(self² + other²)` without overflow; 0 partials at the origin.",
                log "Logarithm of `self` in base `other`, differentiable in both.",
                max "The larger; a tie gives each argument half the derivative.",
                min "The smaller; a tie gives each argument half the derivative.",
                copysign "`|self|` with the sign of `other`."
            );

            /// `self` raised to an integer power.
            #[inline]
            pub fn powi(self, n: i32) -> Self {
                self.chain1($crate::reverse::program::Code::Unary($crate::reverse::program::Op::Powi(n)), $crate::rules::powi(self.primal(), n))
            }

            /// Sine and cosine at once.
            #[inline]
            pub fn sin_cos(self) -> (Self, Self) {
                (self.sin(), self.cos())
            }

            /// `self * a + b`, the value rounded once as by `f64::mul_add`.
            #[inline]
            pub fn mul_add(self, a: Self, b: Self) -> Self {
                let (v, _, _, dc) = $crate::rules::mul_add(self.primal(), a.primal(), b.primal());
                // (self·a) + b with the fused value: ∂/∂(self·a) = ∂/∂b = 1
                (self * a).chain2(b, $crate::reverse::program::Op::MulAddTail, (v, dc, dc))
            }

            /// `self` limited to `[lo, hi]` (as `max(min(self, hi), lo)`); NaN
            /// stays NaN, as with `f64::clamp`.
            #[inline]
            pub fn clamp(self, lo: Self, hi: Self) -> Self {
                if self.is_nan() {
                    self
                } else {
                    self.min(hi).max(lo)
                }
            }

            /// Whether the value is NaN.
            #[inline]
            pub fn is_nan(&self) -> bool {
                (self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::IsNan) != 0)
            }

            /// Whether the value is finite (derivatives are not inspected).
            #[inline]
            pub fn is_finite(&self) -> bool {
                (self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::IsFinite) != 0)
            }

            /// Whether the value is infinite.
            #[inline]
            pub fn is_infinite(&self) -> bool {
                (self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::IsInfinite) != 0)
            }
        }

        impl<$($g)*> $crate::Scalar for $ty {
            type Real = <$inner as $crate::Scalar>::Real;
            #[inline(always)]
            fn constant(v: f64) -> Self {
                Self::lift(<$inner as $crate::Scalar>::constant(v))
            }
            #[inline(always)]
            fn value(&self) -> Self::Real {
                ($crate::ops::impl_scalar!(@value $kind))(self)
            }
            #[inline]
            fn sigmoid(self) -> Self {
                self.chain1($crate::reverse::program::Code::Unary($crate::reverse::program::opcode::sigmoid), $crate::rules::sigmoid(self.primal()))
            }
            #[inline]
            fn softplus(self) -> Self {
                self.chain1($crate::reverse::program::Code::Unary($crate::reverse::program::opcode::softplus), $crate::rules::softplus(self.primal()))
            }
        }

        // ------------------------------------------------------------ operators
        impl<$($g)*> $crate::ops::Operand<$ty> for $ty {
            #[inline(always)]
            fn add_to(self, lhs: $ty) -> $ty {
                lhs.chain2(self, $crate::reverse::program::opcode::add, $crate::rules::add(lhs.primal(), self.primal()))
            }
            #[inline(always)]
            fn sub_from(self, lhs: $ty) -> $ty {
                lhs.chain2(self, $crate::reverse::program::opcode::sub, $crate::rules::sub(lhs.primal(), self.primal()))
            }
            #[inline(always)]
            fn mul_with(self, lhs: $ty) -> $ty {
                lhs.chain2(self, $crate::reverse::program::opcode::mul, $crate::rules::mul(lhs.primal(), self.primal()))
            }
            #[inline(always)]
            fn div_into(self, lhs: $ty) -> $ty {
                lhs.chain2(self, $crate::reverse::program::opcode::div, $crate::rules::div(lhs.primal(), self.primal()))
            }
            #[inline(always)]
            fn rem_into(self, lhs: $ty) -> $ty {
                lhs.chain2(self, $crate::reverse::program::opcode::rem, $crate::rules::rem(lhs.primal(), self.primal()))
            }
        }

        $crate::ops::impl_scalar!(@operand $kind $gen $ty; $inner);

        $crate::ops::impl_scalar!(@binop [$($g)*] $ty; Add add add_to AddAssign add_assign);
        $crate::ops::impl_scalar!(@binop [$($g)*] $ty; Sub sub sub_from SubAssign sub_assign);
        $crate::ops::impl_scalar!(@binop [$($g)*] $ty; Mul mul mul_with MulAssign mul_assign);
        $crate::ops::impl_scalar!(@binop [$($g)*] $ty; Div div div_into DivAssign div_assign);
        $crate::ops::impl_scalar!(@binop [$($g)*] $ty; Rem rem rem_into RemAssign rem_assign);

        $($crate::ops::impl_scalar!(@lhs $gen $ty; $inner; $real);)*

        impl<$($g)*> std::ops::Neg for $ty {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                self.chain1($crate::reverse::program::Code::Unary($crate::reverse::program::opcode::neg), $crate::rules::neg(self.primal()))
            }
        }

        impl<$($g)*> std::iter::Sum for $ty {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(<Self as num_traits::Zero>::zero(), |a, b| a + b)
            }
        }
        impl<'a, $($g)*> std::iter::Sum<&'a $ty> for $ty {
            fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
                iter.fold(<Self as num_traits::Zero>::zero(), |a, b| a + *b)
            }
        }
        impl<$($g)*> std::iter::Product for $ty {
            fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(<Self as num_traits::One>::one(), |a, b| a * b)
            }
        }

        // ------------------------------------------------------------ comparisons (values only)
        impl<$($g)*> PartialEq for $ty {
            #[inline(always)]
            fn eq(&self, other: &Self) -> bool {
                self.test(other, $crate::reverse::program::Test::Eq) != 0
            }
        }
        impl<$($g)*> PartialOrd for $ty {
            #[inline(always)]
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                match self.test(other, $crate::reverse::program::Test::PartialCmp) {
                    0 => Some(std::cmp::Ordering::Less),
                    1 => Some(std::cmp::Ordering::Equal),
                    2 => Some(std::cmp::Ordering::Greater),
                    _ => None,
                }
            }
            #[inline(always)]
            fn lt(&self, other: &Self) -> bool {
                self.test(other, $crate::reverse::program::Test::Lt) != 0
            }
            #[inline(always)]
            fn le(&self, other: &Self) -> bool {
                self.test(other, $crate::reverse::program::Test::Le) != 0
            }
            #[inline(always)]
            fn gt(&self, other: &Self) -> bool {
                self.test(other, $crate::reverse::program::Test::Gt) != 0
            }
            #[inline(always)]
            fn ge(&self, other: &Self) -> bool {
                self.test(other, $crate::reverse::program::Test::Ge) != 0
            }
        }
        impl<$($g)*> approx::AbsDiffEq for $ty {
            type Epsilon = Self;
            fn default_epsilon() -> Self {
                Self::lift(<$inner as approx::AbsDiffEq>::default_epsilon())
            }
            fn abs_diff_eq(&self, other: &Self, epsilon: Self) -> bool {
                let _ = ($crate::Scalar::value(self), $crate::Scalar::value(other));
                self.primal().abs_diff_eq(&other.primal(), epsilon.primal())
            }
        }
        impl<$($g)*> approx::RelativeEq for $ty {
            fn default_max_relative() -> Self {
                Self::lift(<$inner as approx::RelativeEq>::default_max_relative())
            }
            fn relative_eq(&self, other: &Self, epsilon: Self, max_relative: Self) -> bool {
                let _ = ($crate::Scalar::value(self), $crate::Scalar::value(other));
                self.primal()
                    .relative_eq(&other.primal(), epsilon.primal(), max_relative.primal())
            }
        }
        impl<$($g)*> approx::UlpsEq for $ty {
            fn default_max_ulps() -> u32 {
                <$inner as approx::UlpsEq>::default_max_ulps()
            }
            fn ulps_eq(&self, other: &Self, epsilon: Self, max_ulps: u32) -> bool {
                let _ = ($crate::Scalar::value(self), $crate::Scalar::value(other));
                self.primal().ulps_eq(&other.primal(), epsilon.primal(), max_ulps)
            }
        }

        // ------------------------------------------------------------ num-traits
        impl<$($g)*> num_traits::Zero for $ty {
            #[inline(always)]
            fn zero() -> Self {
                Self::lift(<$inner as num_traits::Zero>::zero())
            }
            /// Exactly zero: the value *and* every derivative.
            #[inline(always)]
            fn is_zero(&self) -> bool {
                self.is_exact_zero()
            }
        }
        impl<$($g)*> num_traits::One for $ty {
            #[inline(always)]
            fn one() -> Self {
                Self::lift(<$inner as num_traits::One>::one())
            }
        }
        impl<$($g)*> num_traits::Num for $ty {
            type FromStrRadixErr = <$inner as num_traits::Num>::FromStrRadixErr;
            fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
                <$inner as num_traits::Num>::from_str_radix(s, radix).map(Self::lift)
            }
        }
        impl<$($g)*> num_traits::ToPrimitive for $ty {
            fn to_i64(&self) -> Option<i64> {
                num_traits::ToPrimitive::to_i64(&$crate::Scalar::value(self))
            }
            fn to_u64(&self) -> Option<u64> {
                num_traits::ToPrimitive::to_u64(&$crate::Scalar::value(self))
            }
            fn to_f64(&self) -> Option<f64> {
                num_traits::ToPrimitive::to_f64(&$crate::Scalar::value(self))
            }
        }
        impl<$($g)*> num_traits::NumCast for $ty {
            fn from<P: num_traits::ToPrimitive>(n: P) -> Option<Self> {
                n.to_f64().map(<Self as $crate::Scalar>::constant)
            }
        }
        impl<$($g)*> num_traits::FromPrimitive for $ty {
            fn from_i64(n: i64) -> Option<Self> {
                Some(<Self as $crate::Scalar>::constant(n as f64))
            }
            fn from_u64(n: u64) -> Option<Self> {
                Some(<Self as $crate::Scalar>::constant(n as f64))
            }
            fn from_f64(n: f64) -> Option<Self> {
                Some(<Self as $crate::Scalar>::constant(n))
            }
        }
        impl<$($g)*> num_traits::Signed for $ty {
            fn abs(&self) -> Self {
                Self::abs(*self)
            }
            fn abs_sub(&self, other: &Self) -> Self {
                // fdim: NaN if either argument is NaN (max would drop it)
                let d = *self - *other;
                if d.is_nan() {
                    d
                } else {
                    Self::max(d, <Self as num_traits::Zero>::zero())
                }
            }
            fn signum(&self) -> Self {
                Self::signum(*self)
            }
            fn is_positive(&self) -> bool {
                self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::Gt) != 0
            }
            fn is_negative(&self) -> bool {
                self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::Lt) != 0
            }
        }
        impl<$($g)*> num_traits::Float for $ty {
            fn nan() -> Self {
                <Self as $crate::Scalar>::constant(f64::NAN)
            }
            fn infinity() -> Self {
                <Self as $crate::Scalar>::constant(f64::INFINITY)
            }
            fn neg_infinity() -> Self {
                <Self as $crate::Scalar>::constant(f64::NEG_INFINITY)
            }
            fn neg_zero() -> Self {
                <Self as $crate::Scalar>::constant(-0.0)
            }
            fn min_value() -> Self {
                Self::lift(<$inner as $crate::Scalar>::constant(
                    $crate::scalar::Primitive::to_f64(<<$inner as $crate::Scalar>::Real as num_traits::Float>::min_value()),
                ))
            }
            fn min_positive_value() -> Self {
                Self::lift(<$inner as $crate::Scalar>::constant(
                    $crate::scalar::Primitive::to_f64(<<$inner as $crate::Scalar>::Real as num_traits::Float>::min_positive_value()),
                ))
            }
            fn max_value() -> Self {
                Self::lift(<$inner as $crate::Scalar>::constant(
                    $crate::scalar::Primitive::to_f64(<<$inner as $crate::Scalar>::Real as num_traits::Float>::max_value()),
                ))
            }
            fn epsilon() -> Self {
                Self::lift(<$inner as $crate::Scalar>::constant(
                    $crate::scalar::Primitive::to_f64(<<$inner as $crate::Scalar>::Real as num_traits::Float>::epsilon()),
                ))
            }
            fn is_nan(self) -> bool {
                Self::is_nan(&self)
            }
            fn is_infinite(self) -> bool {
                Self::is_infinite(&self)
            }
            fn is_finite(self) -> bool {
                Self::is_finite(&self)
            }
            fn is_normal(self) -> bool {
                num_traits::Float::is_normal($crate::Scalar::value(&self))
            }
            fn classify(self) -> std::num::FpCategory {
                num_traits::Float::classify($crate::Scalar::value(&self))
            }
            fn floor(self) -> Self {
                Self::floor(self)
            }
            fn ceil(self) -> Self {
                Self::ceil(self)
            }
            fn round(self) -> Self {
                Self::round(self)
            }
            fn trunc(self) -> Self {
                Self::trunc(self)
            }
            fn fract(self) -> Self {
                Self::fract(self)
            }
            fn abs(self) -> Self {
                Self::abs(self)
            }
            fn signum(self) -> Self {
                Self::signum(self)
            }
            fn is_sign_positive(self) -> bool {
                !(self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::SignNegative) != 0)
            }
            fn is_sign_negative(self) -> bool {
                (self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::SignNegative) != 0)
            }
            fn mul_add(self, a: Self, b: Self) -> Self {
                Self::mul_add(self, a, b)
            }
            fn recip(self) -> Self {
                Self::recip(self)
            }
            fn powi(self, n: i32) -> Self {
                Self::powi(self, n)
            }
            fn powf(self, n: Self) -> Self {
                Self::powf(self, n)
            }
            fn sqrt(self) -> Self {
                Self::sqrt(self)
            }
            fn exp(self) -> Self {
                Self::exp(self)
            }
            fn exp2(self) -> Self {
                Self::exp2(self)
            }
            fn ln(self) -> Self {
                Self::ln(self)
            }
            fn log(self, base: Self) -> Self {
                Self::log(self, base)
            }
            fn log2(self) -> Self {
                Self::log2(self)
            }
            fn log10(self) -> Self {
                Self::log10(self)
            }
            fn max(self, other: Self) -> Self {
                Self::max(self, other)
            }
            fn min(self, other: Self) -> Self {
                Self::min(self, other)
            }
            fn clamp(self, lo: Self, hi: Self) -> Self {
                Self::clamp(self, lo, hi)
            }
            fn copysign(self, sign: Self) -> Self {
                Self::copysign(self, sign)
            }
            fn abs_sub(self, other: Self) -> Self {
                num_traits::Signed::abs_sub(&self, &other)
            }
            fn cbrt(self) -> Self {
                Self::cbrt(self)
            }
            fn hypot(self, other: Self) -> Self {
                Self::hypot(self, other)
            }
            fn sin(self) -> Self {
                Self::sin(self)
            }
            fn cos(self) -> Self {
                Self::cos(self)
            }
            fn tan(self) -> Self {
                Self::tan(self)
            }
            fn asin(self) -> Self {
                Self::asin(self)
            }
            fn acos(self) -> Self {
                Self::acos(self)
            }
            fn atan(self) -> Self {
                Self::atan(self)
            }
            fn atan2(self, other: Self) -> Self {
                Self::atan2(self, other)
            }
            fn sin_cos(self) -> (Self, Self) {
                Self::sin_cos(self)
            }
            fn exp_m1(self) -> Self {
                Self::exp_m1(self)
            }
            fn ln_1p(self) -> Self {
                Self::ln_1p(self)
            }
            fn sinh(self) -> Self {
                Self::sinh(self)
            }
            fn cosh(self) -> Self {
                Self::cosh(self)
            }
            fn tanh(self) -> Self {
                Self::tanh(self)
            }
            fn asinh(self) -> Self {
                Self::asinh(self)
            }
            fn acosh(self) -> Self {
                Self::acosh(self)
            }
            fn atanh(self) -> Self {
                Self::atanh(self)
            }
            fn integer_decode(self) -> (u64, i16, i8) {
                num_traits::Float::integer_decode($crate::Scalar::value(&self))
            }
        }

        // ------------------------------------------------------------ simba / nalgebra
        impl<$($g)*> simba::simd::SimdValue for $ty {
            const LANES: usize = 1;
            type Element = Self;
            type SimdBool = bool;
            #[inline(always)]
            fn splat(val: Self) -> Self {
                val
            }
            #[inline(always)]
            fn extract(&self, _: usize) -> Self {
                *self
            }
            #[inline(always)]
            unsafe fn extract_unchecked(&self, _: usize) -> Self {
                *self
            }
            #[inline(always)]
            fn replace(&mut self, _: usize, val: Self) {
                *self = val
            }
            #[inline(always)]
            unsafe fn replace_unchecked(&mut self, _: usize, val: Self) {
                *self = val
            }
            #[inline(always)]
            fn select(self, cond: bool, other: Self) -> Self {
                if cond {
                    self
                } else {
                    other
                }
            }
        }
        impl<$($g)*> simba::scalar::Field for $ty {}
        impl<$($g)*> simba::scalar::SubsetOf<$ty> for $ty {
            #[inline(always)]
            fn to_superset(&self) -> Self {
                *self
            }
            #[inline(always)]
            fn from_superset_unchecked(element: &Self) -> Self {
                *element
            }
            #[inline(always)]
            fn is_in_subset(_: &Self) -> bool {
                true
            }
        }
        $crate::ops::impl_scalar!(@subset [$($g)*] $ty; f32);
        $crate::ops::impl_scalar!(@subset [$($g)*] $ty; f64);

        impl<$($g)*> simba::scalar::ComplexField for $ty {
            type RealField = Self;
            #[inline(always)]
            fn from_real(re: Self) -> Self {
                re
            }
            #[inline(always)]
            fn real(self) -> Self {
                self
            }
            #[inline(always)]
            fn imaginary(self) -> Self {
                <Self as num_traits::Zero>::zero()
            }
            #[inline(always)]
            fn modulus(self) -> Self {
                Self::abs(self)
            }
            #[inline(always)]
            fn modulus_squared(self) -> Self {
                self * self
            }
            #[inline(always)]
            fn argument(self) -> Self {
                if self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::Ge) != 0 {
                    <Self as num_traits::Zero>::zero()
                } else {
                    <Self as simba::scalar::RealField>::pi()
                }
            }
            #[inline(always)]
            fn norm1(self) -> Self {
                Self::abs(self)
            }
            #[inline(always)]
            fn scale(self, factor: Self) -> Self {
                self * factor
            }
            #[inline(always)]
            fn unscale(self, factor: Self) -> Self {
                self / factor
            }
            #[inline(always)]
            fn signum(self) -> Self {
                Self::signum(self)
            }
            #[inline(always)]
            fn floor(self) -> Self {
                Self::floor(self)
            }
            #[inline(always)]
            fn ceil(self) -> Self {
                Self::ceil(self)
            }
            #[inline(always)]
            fn round(self) -> Self {
                Self::round(self)
            }
            #[inline(always)]
            fn trunc(self) -> Self {
                Self::trunc(self)
            }
            #[inline(always)]
            fn fract(self) -> Self {
                Self::fract(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                Self::mul_add(self, a, b)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                Self::abs(self)
            }
            #[inline(always)]
            fn hypot(self, other: Self) -> Self {
                Self::hypot(self, other)
            }
            #[inline(always)]
            fn recip(self) -> Self {
                Self::recip(self)
            }
            #[inline(always)]
            fn conjugate(self) -> Self {
                self
            }
            #[inline(always)]
            fn sin(self) -> Self {
                Self::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                Self::cos(self)
            }
            #[inline(always)]
            fn sin_cos(self) -> (Self, Self) {
                Self::sin_cos(self)
            }
            #[inline(always)]
            fn tan(self) -> Self {
                Self::tan(self)
            }
            #[inline(always)]
            fn asin(self) -> Self {
                Self::asin(self)
            }
            #[inline(always)]
            fn acos(self) -> Self {
                Self::acos(self)
            }
            #[inline(always)]
            fn atan(self) -> Self {
                Self::atan(self)
            }
            #[inline(always)]
            fn sinh(self) -> Self {
                Self::sinh(self)
            }
            #[inline(always)]
            fn cosh(self) -> Self {
                Self::cosh(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                Self::tanh(self)
            }
            #[inline(always)]
            fn asinh(self) -> Self {
                Self::asinh(self)
            }
            #[inline(always)]
            fn acosh(self) -> Self {
                Self::acosh(self)
            }
            #[inline(always)]
            fn atanh(self) -> Self {
                Self::atanh(self)
            }
            #[inline(always)]
            fn log(self, base: Self) -> Self {
                Self::log(self, base)
            }
            #[inline(always)]
            fn log2(self) -> Self {
                Self::log2(self)
            }
            #[inline(always)]
            fn log10(self) -> Self {
                Self::log10(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                Self::ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                Self::ln_1p(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                Self::sqrt(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                Self::exp(self)
            }
            #[inline(always)]
            fn exp2(self) -> Self {
                Self::exp2(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                Self::exp_m1(self)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                Self::powi(self, n)
            }
            #[inline(always)]
            fn powf(self, n: Self) -> Self {
                Self::powf(self, n)
            }
            #[inline(always)]
            fn powc(self, n: Self) -> Self {
                Self::powf(self, n)
            }
            #[inline(always)]
            fn cbrt(self) -> Self {
                Self::cbrt(self)
            }
            #[inline(always)]
            fn is_finite(&self) -> bool {
                Self::is_finite(self)
            }
            /// `sin x / x`; at `x = 0` its Taylor series `1 - x²/6 + x⁴/120`.
            /// (simba's default asks `is_zero`, which is false for a variable at
            /// 0, its derivative being 1, and then divides 0 by 0.)
            #[inline]
            fn sinc(self) -> Self {
                if self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::Eq) != 0 {
                    let c = <Self as $crate::Scalar>::constant;
                    let x2 = self * self;
                    c(1.0) - x2 / c(6.0) * (c(1.0) - x2 / c(20.0))
                } else {
                    Self::sin(self) / self
                }
            }
            /// `sinh x / x`; at `x = 0` its Taylor series `1 + x²/6 + x⁴/120`.
            #[inline]
            fn sinhc(self) -> Self {
                if self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::Eq) != 0 {
                    let c = <Self as $crate::Scalar>::constant;
                    let x2 = self * self;
                    c(1.0) + x2 / c(6.0) * (c(1.0) + x2 / c(20.0))
                } else {
                    Self::sinh(self) / self
                }
            }
            #[inline(always)]
            fn try_sqrt(self) -> Option<Self> {
                if self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::Ge) != 0 {
                    Some(Self::sqrt(self))
                } else {
                    None
                }
            }
        }

        impl<$($g)*> simba::scalar::RealField for $ty {
            #[inline(always)]
            fn is_sign_positive(&self) -> bool {
                !(self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::SignNegative) != 0)
            }
            #[inline(always)]
            fn is_sign_negative(&self) -> bool {
                (self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::SignNegative) != 0)
            }
            #[inline(always)]
            fn copysign(self, sign: Self) -> Self {
                Self::copysign(self, sign)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                Self::max(self, other)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                Self::min(self, other)
            }
            #[inline(always)]
            fn clamp(self, lo: Self, hi: Self) -> Self {
                Self::clamp(self, lo, hi)
            }
            #[inline(always)]
            fn atan2(self, other: Self) -> Self {
                Self::atan2(self, other)
            }
            fn min_value() -> Option<Self> {
                Some(<Self as num_traits::Float>::min_value())
            }
            fn max_value() -> Option<Self> {
                Some(<Self as num_traits::Float>::max_value())
            }
            $crate::ops::impl_scalar!(@consts $inner;
                pi two_pi frac_pi_2 frac_pi_3 frac_pi_4 frac_pi_6 frac_pi_8 frac_1_pi
                frac_2_pi frac_2_sqrt_pi e log2_e log10_e ln_2 ln_10);
        }
    };

    (@unary $($name:ident $doc:literal),* $(,)?) => {$(
        #[doc = $doc]
        #[inline]
        pub fn $name(self) -> Self {
            self.chain1($crate::reverse::program::Code::Unary($crate::reverse::program::opcode::$name), $crate::rules::$name(self.primal()))
        }
    )*};

    (@binary $($name:ident $doc:literal),* $(,)?) => {$(
        #[doc = $doc]
        #[inline]
        pub fn $name(self, other: Self) -> Self {
            self.chain2(other, $crate::reverse::program::opcode::$name, $crate::rules::$name(self.primal(), other.primal()))
        }
    )*};

    (@consts $inner:ty; $($name:ident)*) => {$(
        #[inline(always)]
        fn $name() -> Self {
            Self::lift(<$inner as simba::scalar::RealField>::$name())
        }
    )*};

    (@binop [$($g:tt)*] $ty:ty; $Op:ident $op:ident $via:ident $OpAssign:ident $op_assign:ident) => {
        impl<R: $crate::ops::Operand<$ty>, $($g)*> std::ops::$Op<R> for $ty {
            type Output = Self;
            #[inline(always)]
            fn $op(self, rhs: R) -> Self {
                rhs.$via(self)
            }
        }
        impl<R: $crate::ops::Operand<$ty>, $($g)*> std::ops::$OpAssign<R> for $ty {
            #[inline(always)]
            fn $op_assign(&mut self, rhs: R) {
                *self = rhs.$via(*self);
            }
        }
    };

    // `Scalar::value`: a `Var`'s own `value` (which marks a program being
    // recorded), or the inner type's.
    (@value concrete) => {
        Self::value
    };
    (@value generic) => {
        |s: &Self| $crate::Scalar::value(&s.primal())
    };

    (@operand concrete [$($g:tt)*] $ty:ty; $inner:ty) => {
        impl $crate::ops::Operand<$ty> for f64 {
            $crate::ops::impl_scalar!(@operand_body $ty; $inner);
        }
    };

    (@operand generic [$($g:tt)*] $ty:ty; $inner:ty) => {
        impl<R: $crate::scalar::Primitive, $($g)*> $crate::ops::Operand<$ty> for R
        where
            $inner: $crate::Scalar<Real = R>,
        {
            $crate::ops::impl_scalar!(@operand_body $ty; $inner);
        }
    };

    // A constant right-hand operand: lifted to the inner type, and only the
    // left operand's partial is applied.
    (@operand_body $ty:ty; $inner:ty) => {
            #[inline(always)]
            fn add_to(self, lhs: $ty) -> $ty {
                let c = <$inner as $crate::Scalar>::constant($crate::scalar::Primitive::to_f64(self));
                let (v, dx, _) = $crate::rules::add(lhs.primal(), c);
                lhs.chain1($crate::reverse::program::Code::Rhs($crate::reverse::program::opcode::add, $crate::scalar::Primitive::to_f64(self)), (v, dx))
            }
            #[inline(always)]
            fn sub_from(self, lhs: $ty) -> $ty {
                let c = <$inner as $crate::Scalar>::constant($crate::scalar::Primitive::to_f64(self));
                let (v, dx, _) = $crate::rules::sub(lhs.primal(), c);
                lhs.chain1($crate::reverse::program::Code::Rhs($crate::reverse::program::opcode::sub, $crate::scalar::Primitive::to_f64(self)), (v, dx))
            }
            #[inline(always)]
            fn mul_with(self, lhs: $ty) -> $ty {
                let c = <$inner as $crate::Scalar>::constant($crate::scalar::Primitive::to_f64(self));
                let (v, dx, _) = $crate::rules::mul(lhs.primal(), c);
                lhs.chain1($crate::reverse::program::Code::Rhs($crate::reverse::program::opcode::mul, $crate::scalar::Primitive::to_f64(self)), (v, dx))
            }
            #[inline(always)]
            fn div_into(self, lhs: $ty) -> $ty {
                let c = <$inner as $crate::Scalar>::constant($crate::scalar::Primitive::to_f64(self));
                let (v, dx, _) = $crate::rules::div(lhs.primal(), c);
                lhs.chain1($crate::reverse::program::Code::Rhs($crate::reverse::program::opcode::div, $crate::scalar::Primitive::to_f64(self)), (v, dx))
            }
            #[inline(always)]
            fn rem_into(self, lhs: $ty) -> $ty {
                let c = <$inner as $crate::Scalar>::constant($crate::scalar::Primitive::to_f64(self));
                let (v, dx, _) = $crate::rules::rem(lhs.primal(), c);
                lhs.chain1($crate::reverse::program::Code::Rhs($crate::reverse::program::opcode::rem, $crate::scalar::Primitive::to_f64(self)), (v, dx))
            }
    };

    (@lhs [$($g:tt)*] $ty:ty; $inner:ty; $real:ty) => {
            impl<$($g)*> std::ops::Add<$ty> for $real where $inner: $crate::Scalar<Real = $real> {
                type Output = $ty;
                #[inline(always)]
                fn add(self, rhs: $ty) -> $ty {
                    $crate::ops::Operand::add_to(self, rhs)
                }
            }
            impl<$($g)*> std::ops::Mul<$ty> for $real where $inner: $crate::Scalar<Real = $real> {
                type Output = $ty;
                #[inline(always)]
                fn mul(self, rhs: $ty) -> $ty {
                    $crate::ops::Operand::mul_with(self, rhs)
                }
            }
            impl<$($g)*> std::ops::Sub<$ty> for $real where $inner: $crate::Scalar<Real = $real> {
                type Output = $ty;
                #[inline(always)]
                fn sub(self, rhs: $ty) -> $ty {
                    let c = <$inner as $crate::Scalar>::constant(self as f64);
                    let (v, _, dy) = $crate::rules::sub(c, rhs.primal());
                    rhs.chain1($crate::reverse::program::Code::Lhs($crate::reverse::program::opcode::sub, self as f64), (v, dy))
                }
            }
            impl<$($g)*> std::ops::Div<$ty> for $real where $inner: $crate::Scalar<Real = $real> {
                type Output = $ty;
                #[inline(always)]
                fn div(self, rhs: $ty) -> $ty {
                    let c = <$inner as $crate::Scalar>::constant(self as f64);
                    let (v, _, dy) = $crate::rules::div(c, rhs.primal());
                    rhs.chain1($crate::reverse::program::Code::Lhs($crate::reverse::program::opcode::div, self as f64), (v, dy))
                }
            }
            impl<$($g)*> std::ops::Rem<$ty> for $real where $inner: $crate::Scalar<Real = $real> {
                type Output = $ty;
                #[inline(always)]
                fn rem(self, rhs: $ty) -> $ty {
                    let c = <$inner as $crate::Scalar>::constant(self as f64);
                    let (v, _, dy) = $crate::rules::rem(c, rhs.primal());
                    rhs.chain1($crate::reverse::program::Code::Lhs($crate::reverse::program::opcode::rem, self as f64), (v, dy))
                }
            }
    };

    (@subset [$($g:tt)*] $ty:ty; $prim:ty) => {
        /// Converting a differentiable scalar down to a plain float keeps the
        /// value and drops the derivatives.
        impl<$($g)*> simba::scalar::SubsetOf<$ty> for $prim {
            #[inline(always)]
            fn to_superset(&self) -> $ty {
                <$ty as $crate::Scalar>::constant(*self as f64)
            }
            #[inline(always)]
            fn from_superset_unchecked(element: &$ty) -> $prim {
                $crate::scalar::Primitive::to_f64($crate::Scalar::value(element)) as $prim
            }
            #[inline(always)]
            fn is_in_subset(_: &$ty) -> bool {
                true
            }
        }
    };
}

pub(crate) use impl_scalar;
