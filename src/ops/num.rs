//! num-traits: `Zero`, `One`, `Num`, `ToPrimitive`, `NumCast`,
//! `FromPrimitive`, `Signed` and `Float`. Predicates and conversions look at
//! the value; math forwards to the inherent methods.

macro_rules! impl_num_traits {
    ([$($g:tt)*] $ty:ty; $inner:ty) => {
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
            $crate::ops::forward_real!();
            $crate::ops::forward_elementary!();
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
            fn is_sign_positive(self) -> bool {
                !(self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::SignNegative) != 0)
            }
            fn is_sign_negative(self) -> bool {
                (self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::SignNegative) != 0)
            }
            fn abs_sub(self, other: Self) -> Self {
                num_traits::Signed::abs_sub(&self, &other)
            }
            fn integer_decode(self) -> (u64, i16, i8) {
                num_traits::Float::integer_decode($crate::Scalar::value(&self))
            }
        }
    };
}

pub(crate) use impl_num_traits;
