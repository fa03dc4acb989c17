//! `Dual<T>`: a value and one tangent.

use std::fmt;

use crate::reverse::program::{test_on, Code, Op, Test};
use crate::rules::{Binary, Unary};
use crate::scalar::Primitive;
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
    pub(crate) fn chain2(self, o: Self, op: Op, (v, dx, dy): Binary<T>) -> Self {
        Dual {
            re: v,
            eps: if partials_plain(op, (v, dx, dy)) {
                self.eps * dx + o.eps * dy
            } else {
                times(self.eps, dx) + times(o.eps, dy)
            },
        }
    }
}

/// Whether a partial is an ordinary number: its value finite and not zero.
/// For such a partial the chain rule's product is a plain multiplication.
///
/// The test is made once per operation on the value's bits (one subtraction
/// and one comparison), so the lane loops stay straight-line code. Partials
/// that fail it (zero, infinite, NaN, or of a nested type a zero value with
/// nonzero derivatives) take the exact, out-of-line paths below.
#[inline(always)]
pub(crate) fn is_plain<T: Scalar>(d: T) -> bool {
    let bits = Primitive::to_f64(d.value()).to_bits() << 1; // |d|'s bits, shifted
                                                            // 0 < |d| < ∞  ⟺  1 <= bits/2 < 0x7FF0…0  ⟺  bits - 2 < 0xFFE0…0 - 2 (unsigned)
    bits.wrapping_sub(2) < (0x7FF0_0000_0000_0000u64 << 1) - 2
}

/// [`is_plain`] for both partials of a binary rule, with one branch.
#[inline(always)]
pub(crate) fn both_plain<T: Scalar>(dx: T, dy: T) -> bool {
    is_plain(dx) & is_plain(dy)
}

/// Whether both partials of the binary operation `op` (value `v`) are
/// [plain](is_plain), by one test where one suffices: a product `x·y` has
/// the partials `y` and `x`, and a plain value `x·y` (finite, nonzero, not
/// NaN) means neither factor is zero, infinite or NaN. The converse fails
/// only where `x·y` overflows or underflows; those products take the exact
/// path, which gives the same bits for plain partials. `op` is a constant at
/// every call, so this folds to one of the two tests.
#[inline(always)]
pub(crate) fn partials_plain<T: Scalar>(op: Op, (v, dx, dy): Binary<T>) -> bool {
    if op == Op::Mul {
        is_plain(v)
    } else {
        both_plain(dx, dy)
    }
}

/// The chain rule's product `t * d`, where a zero tangent or a zero partial
/// contributes nothing even if the other factor is infinite or NaN (rule 3 of
/// [`rules`](crate::rules)): a zero partial times a finite tangent is the
/// IEEE product (a signed zero), times an infinite or NaN tangent `+0`; an
/// infinite or NaN partial times a zero tangent is `+0`.
#[inline(always)]
pub(crate) fn times<T: Scalar>(t: T, d: T) -> T {
    if is_plain(d) {
        t * d
    } else {
        times_rare(t, d)
    }
}

/// [`times`] for a partial that is not [plain](is_plain).
#[inline(always)]
fn times_rare<T: Scalar>(t: T, d: T) -> T {
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
    if is_plain(d) {
        // the common case: a plain product, which vectorises
        for (o, &t) in out.iter_mut().zip(eps) {
            *o = t * d;
        }
    } else if d.is_zero() {
        // `x * 0.0` (a data value or label that is 0: every other point of a
        // loss), inline and without branches, so the tangents stay in
        // registers: a finite tangent gives the IEEE product, an infinite or
        // NaN one (the products that are NaN) is blocked
        for (o, &t) in out.iter_mut().zip(eps) {
            let p = t * d;
            #[allow(clippy::eq_op)]
            let nan = p != p;
            *o = if nan { T::zero() } else { p };
        }
    } else {
        return scaled_rare(*eps, d);
    }
    out
}

/// [`scaled`] for an infinite or NaN partial (rule 3), out of line. The
/// tangents come by value on purpose: a reference to them reaching a function
/// that is not inlined would keep the caller's `DualVec` in memory on the
/// common path too (measured 2-3x slower, benches/README.md); by value the
/// copy is made on this path only.
#[cold]
#[inline(never)]
fn scaled_rare<T: Scalar, const N: usize>(eps: [T; N], d: T) -> [T; N] {
    let mut out = [T::zero(); N];
    for (o, t) in out.iter_mut().zip(eps) {
        *o = times_rare(t, d);
    }
    out
}

/// `a * dx + b * dy` lane by lane, each product by the rule of [`times`]:
/// one straight-line loop when both partials are plain numbers (`plain`, from
/// [`partials_plain`]).
#[inline(always)]
pub(crate) fn combined<T: Scalar, const N: usize>(
    plain: bool,
    a: &[T; N],
    dx: T,
    b: &[T; N],
    dy: T,
) -> [T; N] {
    if plain {
        let mut out = [T::zero(); N];
        for ((o, &s), &t) in out.iter_mut().zip(a).zip(b) {
            *o = s * dx + t * dy;
        }
        out
    } else {
        combined_rare(*a, dx, *b, dy)
    }
}

/// [`combined`] with a zero, infinite or NaN partial, out of line.
#[cold]
#[inline(never)]
fn combined_rare<T: Scalar, const N: usize>(a: [T; N], dx: T, b: [T; N], dy: T) -> [T; N] {
    let mut out = scaled(&a, dx);
    for (o, t) in out.iter_mut().zip(scaled(&b, dy)) {
        *o += t;
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
