//! Comparisons: `==`, `<` and approx's `AbsDiffEq`/`RelativeEq`/`UlpsEq`
//! look at values only, never at derivatives. `==`, `<`, `partial_cmp`
//! (and the predicates `is_nan`, ... elsewhere) go through each type's
//! `test`, so a `Var` recording a program records them; approx's tolerance
//! tests cannot be recorded and count as reading the values.

macro_rules! impl_comparisons {
    ([$($g:tt)*] $ty:ty; $inner:ty) => {
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
    };
}

pub(crate) use impl_comparisons;
