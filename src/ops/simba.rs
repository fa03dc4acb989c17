//! simba (nalgebra's scalar traits): `SimdValue` (one lane), `Field`,
//! `SubsetOf` (to and from `f32`/`f64`, dropping derivatives),
//! `ComplexField` and `RealField`. Math forwards to the inherent methods.

macro_rules! impl_simba {
    ([$($g:tt)*] $ty:ty; $inner:ty) => {
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
        $crate::ops::impl_simba!(@subset [$($g)*] $ty; f32);
        $crate::ops::impl_simba!(@subset [$($g)*] $ty; f64);

        impl<$($g)*> simba::scalar::ComplexField for $ty {
            $crate::ops::forward_elementary!();
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
            fn conjugate(self) -> Self {
                self
            }
            #[inline(always)]
            fn powc(self, n: Self) -> Self {
                Self::powf(self, n)
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
            $crate::ops::forward_real!();
            #[inline(always)]
            fn is_sign_positive(&self) -> bool {
                !(self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::SignNegative) != 0)
            }
            #[inline(always)]
            fn is_sign_negative(&self) -> bool {
                (self.test(&<Self as num_traits::Zero>::zero(), $crate::reverse::program::Test::SignNegative) != 0)
            }
            fn min_value() -> Option<Self> {
                Some(<Self as num_traits::Float>::min_value())
            }
            fn max_value() -> Option<Self> {
                Some(<Self as num_traits::Float>::max_value())
            }
            $crate::ops::impl_simba!(@consts $inner;
                pi two_pi frac_pi_2 frac_pi_3 frac_pi_4 frac_pi_6 frac_pi_8 frac_1_pi
                frac_2_pi frac_2_sqrt_pi e log2_e log10_e ln_2 ln_10);
        }
    };

    (@consts $inner:ty; $($name:ident)*) => {$(
        #[inline(always)]
        fn $name() -> Self {
            Self::lift(<$inner as simba::scalar::RealField>::$name())
        }
    )*};

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

pub(crate) use impl_simba;
