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

/// Comparisons with a plain float on the right (`x > 0.0`, `x == 1.0`): the
/// float is lifted to a constant of the scalar type and the comparison goes
/// through the scalar's own `PartialEq`/`PartialOrd` (one comparison path,
/// whatever the other operand is).
///
/// Not on the left (`0.0 < x`): `impl PartialOrd<Var> for f64` would make
/// every `a < b.into()` or `a < v.iter().sum()` with `a: f64` ambiguous in
/// users' code, and generic code could not use it anyway.
macro_rules! impl_real_comparisons {
    ($gen:tt $ty:ty; $inner:ty; [$($real:ty),*]; concrete) => {
        $crate::ops::impl_real_comparisons!(@rhs $gen $ty; f64; where);
    };
    ([$($g:tt)*] $ty:ty; $inner:ty; [$($real:ty),*]; generic) => {
        $crate::ops::impl_real_comparisons!(@rhs [R: $crate::scalar::Primitive, $($g)*] $ty; R;
            where $inner: $crate::Scalar<Real = R>);
    };

    (@rhs [$($g:tt)*] $ty:ty; $r:ty; where $($bound:tt)*) => {
        impl<$($g)*> PartialEq<$r> for $ty where $($bound)* {
            #[inline(always)]
            fn eq(&self, other: &$r) -> bool {
                let c = <$ty as $crate::Scalar>::constant($crate::scalar::Primitive::to_f64(*other));
                <$ty as PartialEq>::eq(self, &c)
            }
        }
        impl<$($g)*> PartialOrd<$r> for $ty where $($bound)* {
            $crate::ops::impl_real_comparisons!(@ord $ty; $r; self, other;
                *self, <$ty as $crate::Scalar>::constant($crate::scalar::Primitive::to_f64(*other)));
        }
    };

    (@ord $ty:ty; $rhs:ty; $s:ident, $o:ident; $a:expr, $b:expr) => {
        #[inline(always)]
        fn partial_cmp(&$s, $o: &$rhs) -> Option<std::cmp::Ordering> {
            <$ty as PartialOrd>::partial_cmp(&$a, &$b)
        }
        #[inline(always)]
        fn lt(&$s, $o: &$rhs) -> bool {
            <$ty as PartialOrd>::lt(&$a, &$b)
        }
        #[inline(always)]
        fn le(&$s, $o: &$rhs) -> bool {
            <$ty as PartialOrd>::le(&$a, &$b)
        }
        #[inline(always)]
        fn gt(&$s, $o: &$rhs) -> bool {
            <$ty as PartialOrd>::gt(&$a, &$b)
        }
        #[inline(always)]
        fn ge(&$s, $o: &$rhs) -> bool {
            <$ty as PartialOrd>::ge(&$a, &$b)
        }
    };
}

pub(crate) use impl_real_comparisons;
