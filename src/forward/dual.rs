//! `Dual<T>`: a value and one tangent.

use std::fmt;

use crate::reverse::program::{test_on, Code, Op, Test};
use crate::rules::{Binary, Unary};
use crate::Scalar;

/// A dual number `re + eps·ε` with `ε² = 0`: a value and one directional
/// derivative, carried forward through every operation.
///
/// Seed the input you differentiate with [`Dual::variable`] (tangent 1) and
/// read the derivative from `eps`. Nesting gives higher derivatives:
/// `Dual<Dual<f64>>` carries second derivatives, `Dual<Var>` records a
/// directional derivative on the tape (Hessian-vector products).
///
/// Comparisons (`==`, `<`, approx) look at `re` only.
///
/// ```
/// use dualtape::Dual;
///
/// let x = Dual::variable(2.0);
/// let y = x * x.exp();                    // f(x) = x e^x
/// assert_eq!(y.re, 2.0 * 2f64.exp());
/// assert!((y.eps - 3.0 * 2f64.exp()).abs() < 1e-12); // f'(x) = (1 + x) e^x
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Dual<T> {
    /// The value.
    pub re: T,
    /// The tangent: the derivative along the seeded direction.
    pub eps: T,
}

impl<T: Scalar> Dual<T> {
    /// A dual number from its value and tangent.
    #[inline(always)]
    pub const fn new(re: T, eps: T) -> Self {
        Dual { re, eps }
    }

    /// The input being differentiated: tangent 1.
    #[inline(always)]
    pub fn variable(re: T) -> Self {
        Dual { re, eps: T::one() }
    }

    #[inline(always)]
    pub(crate) fn lift(re: T) -> Self {
        Dual { re, eps: T::zero() }
    }

    #[inline(always)]
    pub(crate) fn primal(self) -> T {
        self.re
    }

    /// A test on the values, through the inner type's own comparisons (so a
    /// `Var` inside records it).
    #[inline(always)]
    pub(crate) fn test(&self, other: &Self, test: Test) -> u8 {
        test_on(test, self.re, other.re)
    }

    #[inline(always)]
    pub(crate) fn is_exact_zero(&self) -> bool {
        self.re.is_zero() && self.eps.is_zero()
    }

    #[inline(always)]
    pub(crate) fn chain1(self, _: Code, (v, d): Unary<T>) -> Self {
        Dual {
            re: v,
            eps: times(self.eps, d),
        }
    }

    #[inline(always)]
    pub(crate) fn chain2(self, o: Self, _: Op, (v, dx, dy): Binary<T>) -> Self {
        Dual {
            re: v,
            eps: times(self.eps, dx) + times(o.eps, dy),
        }
    }
}

/// The chain rule's product `t * d`, where a zero tangent or a zero partial
/// contributes nothing even if the other factor is infinite or NaN (rule 3 of
/// [`rules`](crate::rules)).
///
/// The tests on `d` are made once per operation, so for a finite nonzero
/// partial (the common case) the product is a plain multiplication, and a
/// loop over tangent lanes vectorises.
#[inline(always)]
pub(crate) fn times<T: Scalar>(t: T, d: T) -> T {
    let blocked = if d.is_finite() {
        d.is_zero() && !t.is_finite()
    } else {
        t.is_zero()
    };
    if blocked {
        T::zero()
    } else {
        t * d
    }
}

/// `eps * d` lane by lane, by the rule of [`times`].
#[inline(always)]
pub(crate) fn scaled<T: Scalar, const N: usize>(eps: &[T; N], d: T) -> [T; N] {
    let mut out = [T::zero(); N];
    if d.is_finite() && !d.is_zero() {
        // the common case: a plain product, which vectorises
        for (o, &t) in out.iter_mut().zip(eps) {
            *o = t * d;
        }
    } else {
        for (o, &t) in out.iter_mut().zip(eps) {
            *o = times(t, d);
        }
    }
    out
}

crate::ops::impl_scalar! {
    impl [T: Scalar] for Dual<T>;
    inner T;
    reals [f32, f64];
}

impl<T: Scalar> fmt::Display for Dual<T> {
    /// `re + epsε`, e.g. `1.5 + 2ε`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.re, f)?;
        f.write_str(" + ")?;
        fmt::Display::fmt(&self.eps, f)?;
        f.write_str("ε")
    }
}

impl<T: Scalar> From<T> for Dual<T> {
    /// A constant: tangent 0.
    fn from(re: T) -> Self {
        Dual::lift(re)
    }
}
