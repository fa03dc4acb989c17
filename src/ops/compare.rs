//! Comparisons: `==`, `<` and approx's `AbsDiffEq`/`RelativeEq`/`UlpsEq`
//! look at values only, never at derivatives.

macro_rules! impl_comparisons {
    ([$($g:tt)*] $ty:ty; $inner:ty) => {
        impl<$($g)*> PartialEq for $ty {
            #[inline(always)]
            fn eq(&self, other: &Self) -> bool {
                self.primal() == other.primal()
            }
        }
        impl<$($g)*> PartialOrd for $ty {
            #[inline(always)]
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                self.primal().partial_cmp(&other.primal())
            }
        }
        impl<$($g)*> approx::AbsDiffEq for $ty {
            type Epsilon = Self;
            fn default_epsilon() -> Self {
                Self::lift(<$inner as approx::AbsDiffEq>::default_epsilon())
            }
            fn abs_diff_eq(&self, other: &Self, epsilon: Self) -> bool {
                self.primal().abs_diff_eq(&other.primal(), epsilon.primal())
            }
        }
        impl<$($g)*> approx::RelativeEq for $ty {
            fn default_max_relative() -> Self {
                Self::lift(<$inner as approx::RelativeEq>::default_max_relative())
            }
            fn relative_eq(&self, other: &Self, epsilon: Self, max_relative: Self) -> bool {
                self.primal()
                    .relative_eq(&other.primal(), epsilon.primal(), max_relative.primal())
            }
        }
        impl<$($g)*> approx::UlpsEq for $ty {
            fn default_max_ulps() -> u32 {
                <$inner as approx::UlpsEq>::default_max_ulps()
            }
            fn ulps_eq(&self, other: &Self, epsilon: Self, max_ulps: u32) -> bool {
                self.primal().ulps_eq(&other.primal(), epsilon.primal(), max_ulps)
            }
        }
    };
}

pub(crate) use impl_comparisons;
