//! The inherent math methods, [`Scalar`](crate::Scalar), and the operators
//! (`+ - * / %` with a scalar or a float on either side, `-x`, `Sum`,
//! `Product`), each applying one rule of [`rules`](crate::rules).

macro_rules! impl_operators {
    ([$($g:tt)*] $gen:tt $ty:ty; $inner:ty; [$($real:ty),*]; $kind:ident) => {
        // ------------------------------------------------------------ inherent math
        #[allow(clippy::should_implement_trait)]
        impl<$($g)*> $ty {
            $crate::ops::impl_operators!(@unary
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
            $crate::ops::impl_operators!(@binary
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
                ($crate::ops::impl_operators!(@mul_add $kind))(self, a, b)
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
                ($crate::ops::impl_operators!(@value $kind))(self)
            }
            #[inline(always)]
            fn sigmoid(self) -> Self {
                self.chain1($crate::reverse::program::Code::Unary($crate::reverse::program::opcode::sigmoid), $crate::rules::sigmoid(self.primal()))
            }
            #[inline(always)]
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

        $crate::ops::impl_operators!(@operand $kind $gen $ty; $inner);

        $crate::ops::impl_operators!(@binop [$($g)*] $ty; Add add add_to AddAssign add_assign);
        $crate::ops::impl_operators!(@binop [$($g)*] $ty; Sub sub sub_from SubAssign sub_assign);
        $crate::ops::impl_operators!(@binop [$($g)*] $ty; Mul mul mul_with MulAssign mul_assign);
        $crate::ops::impl_operators!(@binop [$($g)*] $ty; Div div div_into DivAssign div_assign);
        $crate::ops::impl_operators!(@binop [$($g)*] $ty; Rem rem rem_into RemAssign rem_assign);

        $($crate::ops::impl_operators!(@lhs $gen $ty; $inner; $real);)*

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
        impl<'a, $($g)*> std::iter::Product<&'a $ty> for $ty {
            fn product<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
                iter.fold(<Self as num_traits::One>::one(), |a, b| a * *b)
            }
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

    // `mul_add`: (self·a) + b with the fused value, ∂/∂(self·a) = ∂/∂b = 1.
    // A `Var` records a constant product too while recording a program.
    (@mul_add concrete) => {
        Self::fused_mul_add
    };
    (@mul_add generic) => {
        |s: Self, a: Self, b: Self| {
            let (v, _, _, dc) = $crate::rules::mul_add(s.primal(), a.primal(), b.primal());
            (s * a).chain2(b, $crate::reverse::program::Op::MulAddTail, (v, dc, dc))
        }
    };

    (@operand concrete [$($g:tt)*] $ty:ty; $inner:ty) => {
        impl $crate::ops::Operand<$ty> for f64 {
            $crate::ops::impl_operators!(@operand_body $ty; $inner);
        }
    };

    (@operand generic [$($g:tt)*] $ty:ty; $inner:ty) => {
        impl<R: $crate::scalar::Primitive, $($g)*> $crate::ops::Operand<$ty> for R
        where
            $inner: $crate::Scalar<Real = R>,
        {
            $crate::ops::impl_operators!(@operand_body $ty; $inner);
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
}

pub(crate) use impl_operators;
