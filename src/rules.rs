//! Every elementary function's value and derivative, written once.
//!
//! This is dualtape's rule table (a JVP table in JAX's words). Each function
//! returns the value and the partial derivatives at a point:
//!
//! - unary rules return `(f(x), f'(x))`,
//! - binary rules return `(f(x, y), ∂f/∂x, ∂f/∂y)`.
//!
//! Forward mode ([`Dual`](crate::Dual), [`DualVec`](crate::DualVec)) multiplies
//! the partials into the tangents; reverse mode ([`Var`](crate::Var)) stores
//! them on the tape and multiplies them into the adjoints during the backward
//! sweep. No derivative is written anywhere else, so all modes agree by
//! construction, and nesting works because the rules are generic: for
//! `Dual<Dual<f64>>` the rules run on `Dual<f64>`, for `Dual<Var>` on `Var`.
//!
//! # Conventions at awkward points
//!
//! One convention, the same in every mode (they all use this table):
//!
//! 1. **Kinks and jumps take the symmetric average** of the derivatives around
//!    the point, which is also the smallest subgradient where one exists:
//!    `abs` at 0 → 0; `max`/`min` at a tie → ½ to each argument (so
//!    `max(x, -x)` agrees with `abs`; the value at a tie of `+0` and `-0` is
//!    `+0` for `max`, `-0` for `min`, as IEEE 754-2019 `maximum`/`minimum`
//!    give it, in every mode and replay; only plain `f64` code calling
//!    `f64::max` may pick either zero); `hypot` and `atan2` at the origin → 0;
//!    `copysign(x, s)` at `x = 0` → 0; `signum`, `floor`, `ceil`, `round`,
//!    `trunc` → 0 everywhere (including at their jumps); `fract` → 1.
//! 2. **Infinite slopes are infinite**: `sqrt`, `cbrt`, `ln`, `log2`, `log10`
//!    at 0, `asin`/`acos` at ±1, `acosh` at 1, `atanh` at ±1, `powf(0, y)`
//!    with `0 < y < 1` in the base — the derivative is `±∞` as IEEE arithmetic
//!    gives it.
//!    `-0.0` is the same point as `0.0`: the slopes of `sqrt`, `ln`, `log2`,
//!    `log10` there are `+∞` (and `log_b`'s has the sign of `ln b`).
//! 3. **In the chain rule, zero times anything is zero**: a zero tangent or
//!    adjoint contributes nothing through an infinite or NaN partial, and a
//!    zero partial blocks an infinite or NaN tangent or adjoint. So `sqrt(0)`
//!    in a branch that does not affect the output, `sqrt(x) * 0.0`, or
//!    `x.powf(c)` with a constant exponent at a negative base never poison a
//!    gradient with NaN, and forward and reverse mode agree on them. (The
//!    rule is applied per product, so where two paths through an infinite
//!    slope cancel exactly, e.g. `s - s` with `s = sqrt(x)` at 0, forward
//!    and reverse mode may disagree: one gives the finite answer, the other
//!    NaN. Neither is silently wrong.)
//! 4. **`powf(x, y)`**: the value is IEEE's (NaN for a negative base and a
//!    non-integer exponent). `∂/∂x = y·x^(y-1)` (0 when `y = 0`);
//!    `∂/∂y = x^y·ln x`, taken as 0 where `x^y = 0` (its limit), and NaN for
//!    a negative base, where `x^y` is not differentiable in `y`. By rule 3 that
//!    NaN only appears when the exponent really varies.
//! 5. **NaN in, NaN out**: a NaN argument gives a NaN derivative, except
//!    that `max`/`min` follow IEEE `max`/`min` and pass the derivative of the
//!    argument they return, and that partials which are constants keep their
//!    value: `±1` for `+`, `-`, negation, and rule 1's `0` for `signum`,
//!    `floor`, `ceil`, `round`, `trunc` and `1` for `fract` (the *value* is
//!    NaN all the same).
//!
//! # Your own branches
//!
//! Comparisons (`x > 0.0`, `x < y`, `x == 0.0`) look at values only, so a
//! branch in your code (`if x > 0.0 { a(x) } else { b(x) }`) is
//! differentiated as the branch taken. Away from the switch point that is
//! the derivative; at the switch point itself you get the derivative of the
//! branch the comparison chose there, a one-sided derivative (for `x > 0.0`
//! at `x = 0`, `b`'s), not rule 1's symmetric average, which only the
//! functions of this table apply. Every mode takes the same branch, so they
//! agree; finite differences straddle the switch and may not (`check`'s hint
//! says so). To get rule 1's convention at your own kink, write it with
//! `max`, `min` or `abs` (ReLU as `x.max_real(0.0)`, not an `if`).
//!
//! # Example
//!
//! ```
//! use dualtape::rules;
//!
//! let (v, d) = rules::sin(0.5f64);
//! assert_eq!((v, d), (0.5f64.sin(), 0.5f64.cos()));
//! let (v, dx, dy) = rules::max(2.0f64, 2.0);
//! assert_eq!((v, dx, dy), (2.0, 0.5, 0.5)); // a tie splits evenly
//! ```

use nalgebra::{ComplexField, RealField};

use crate::Scalar;

/// A unary rule's result: `(f(x), f'(x))`.
pub type Unary<T> = (T, T);
/// A binary rule's result: `(f(x, y), ∂f/∂x, ∂f/∂y)`.
pub type Binary<T> = (T, T, T);

#[inline(always)]
fn c<T: Scalar>(v: f64) -> T {
    T::constant(v)
}

/// `x` with `-0.0` made `+0.0` (IEEE: `-0 + 0 = +0`), other values unchanged.
/// Slopes at zero of functions defined on `x >= 0` (`1/x`, `1/(2 sqrt x)`)
/// are then `+∞` at `-0.0` too, as at `0.0`, instead of `-∞`.
#[inline(always)]
fn plus_zero<T: Scalar>(x: T) -> T {
    x + T::zero()
}

#[inline(always)]
fn is_nan<T: Scalar>(x: T) -> bool {
    #[allow(clippy::eq_op)]
    let nan = x != x;
    nan
}

/// The symmetric-average slope of `|x|`: sign(x), 0 at 0, NaN at NaN.
#[inline(always)]
fn abs_slope<T: Scalar>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else if x == T::zero() {
        T::zero()
    } else {
        // NaN: a slope that is NaN in every component, so that derivatives
        // of every order come out NaN
        x * c::<T>(f64::NAN)
    }
}

// ---------------------------------------------------------------- arithmetic

/// `x + y`.
#[inline(always)]
pub fn add<T: Scalar>(x: T, y: T) -> Binary<T> {
    (x + y, T::one(), T::one())
}

/// `x - y`.
#[inline(always)]
pub fn sub<T: Scalar>(x: T, y: T) -> Binary<T> {
    (x - y, T::one(), -T::one())
}

/// `x * y`.
#[inline(always)]
pub fn mul<T: Scalar>(x: T, y: T) -> Binary<T> {
    (x * y, y, x)
}

/// `x / y`: `∂/∂y = -(x/y)/y`, computed as `-(x/y)·(1/y)`: the two
/// divisions are independent, so they overlap instead of waiting on each other.
#[inline(always)]
pub fn div<T: Scalar>(x: T, y: T) -> Binary<T> {
    let q = x / y;
    let r = y.recip();
    (q, r, -q * r)
}

/// `x % y` (remainder with the sign of `x`, as `f64`): `∂/∂y = -trunc(x/y)`.
#[inline(always)]
pub fn rem<T: Scalar>(x: T, y: T) -> Binary<T> {
    (x % y, T::one(), -(x / y).trunc())
}

/// `-x`.
#[inline(always)]
pub fn neg<T: Scalar>(x: T) -> Unary<T> {
    (-x, -T::one())
}

/// `1 / x`.
#[inline(always)]
pub fn recip<T: Scalar>(x: T) -> Unary<T> {
    let r = x.recip();
    (r, -(r * r))
}

/// `a * b + c` rounded once (fused, as `f64::mul_add`), with the partials `(b, a, 1)`.
#[inline(always)]
pub fn mul_add<T: Scalar>(a: T, b: T, c: T) -> (T, T, T, T) {
    (a.mul_add(b, c), b, a, T::one())
}

// ---------------------------------------------------------------- powers and roots

/// `sqrt(x)`: `1/(2 sqrt x)`, `+∞` at 0.
#[inline(always)]
pub fn sqrt<T: Scalar>(x: T) -> Unary<T> {
    let s = x.sqrt();
    (s, plus_zero(s + s).recip())
}

/// `cbrt(x)`: `1/(3 cbrt(x)²)`, `+∞` at 0.
#[inline(always)]
pub fn cbrt<T: Scalar>(x: T) -> Unary<T> {
    let r = x.cbrt();
    (r, (r * r * c::<T>(3.0)).recip())
}

/// `x^n` for an integer `n`: `n x^(n-1)` (0 for `n = 0`).
#[inline(always)]
pub fn powi<T: Scalar>(x: T, n: i32) -> Unary<T> {
    match n {
        0 => (T::one(), T::zero()),
        1 => (x, T::one()),
        2 => (x * x, x + x),
        _ => {
            // The value is x.powi(n) itself (x^(n-1)·x rounds differently,
            // and is 0·∞ = NaN at x = 0 or ±∞ for n < 0); n - 1 overflows
            // for i32::MIN, where x^(n-1) = x^n / x.
            let v = x.powi(n);
            let p = match n.checked_sub(1) {
                Some(m) => x.powi(m),
                None => v / x,
            };
            (v, p * c::<T>(n as f64))
        }
    }
}

/// `x^y` for a real exponent; see the module docs (rule 4) for the conventions.
#[inline]
pub fn powf<T: Scalar>(x: T, y: T) -> Binary<T> {
    let v = x.powf(y);
    // The special case is only for the *value* 0·x^(-1) at x = 0 or NaN (and
    // an exactly-zero exponent): a nested exponent whose value is 0 but which
    // carries a tangent must go through the formula, or the tangent of ∂/∂x
    // (the mixed second derivative x^(y-1)(1 + y ln x)) is lost.
    let dx = if y == T::zero() && (num_traits::Zero::is_zero(&y) || x == T::zero() || is_nan(x)) {
        T::zero()
    } else {
        y * x.powf(y - T::one())
    };
    let dy = if v == T::zero() {
        T::zero()
    } else if x < T::zero() {
        c(f64::NAN)
    } else {
        v * x.ln()
    };
    (v, dx, dy)
}

/// `hypot(x, y) = sqrt(x² + y²)` without overflow; 0 partials at the origin.
#[inline]
pub fn hypot<T: Scalar>(x: T, y: T) -> Binary<T> {
    let h = x.hypot(y);
    if h == T::zero() {
        (h, T::zero(), T::zero())
    } else {
        (h, x / h, y / h)
    }
}

// ---------------------------------------------------------------- exponentials and logarithms

/// `e^x`.
#[inline(always)]
pub fn exp<T: Scalar>(x: T) -> Unary<T> {
    let e = x.exp();
    (e, e)
}

/// `2^x`: `2^x ln 2`.
#[inline(always)]
pub fn exp2<T: Scalar>(x: T) -> Unary<T> {
    let e = x.exp2();
    (e, e * T::ln_2())
}

/// `e^x - 1`, accurate near 0: derivative `e^x`.
#[inline(always)]
pub fn exp_m1<T: Scalar>(x: T) -> Unary<T> {
    (x.exp_m1(), x.exp())
}

/// `ln x`: `1/x`.
#[inline(always)]
pub fn ln<T: Scalar>(x: T) -> Unary<T> {
    (x.ln(), plus_zero(x).recip())
}

/// `ln(1 + x)`, accurate near 0: `1/(1 + x)`.
#[inline(always)]
pub fn ln_1p<T: Scalar>(x: T) -> Unary<T> {
    (x.ln_1p(), (x + T::one()).recip())
}

/// `log2 x`: `1/(x ln 2)`.
#[inline(always)]
pub fn log2<T: Scalar>(x: T) -> Unary<T> {
    (x.log2(), (plus_zero(x) * T::ln_2()).recip())
}

/// `log10 x`: `1/(x ln 10)`.
#[inline(always)]
pub fn log10<T: Scalar>(x: T) -> Unary<T> {
    (x.log10(), (plus_zero(x) * T::ln_10()).recip())
}

/// `log_b x = ln x / ln b`, differentiable in both the argument and the base.
#[inline]
pub fn log<T: Scalar>(x: T, base: T) -> Binary<T> {
    let lb = base.ln();
    let v = x.ln() / lb;
    (v, (plus_zero(x) * lb).recip(), -v / (base * lb))
}

// ---------------------------------------------------------------- trigonometric

/// `sin x`.
#[inline(always)]
pub fn sin<T: Scalar>(x: T) -> Unary<T> {
    let (s, c) = x.sin_cos();
    (s, c)
}

/// `cos x`.
#[inline(always)]
pub fn cos<T: Scalar>(x: T) -> Unary<T> {
    let (s, c) = x.sin_cos();
    (c, -s)
}

/// `tan x`: `1 + tan² x`.
#[inline(always)]
pub fn tan<T: Scalar>(x: T) -> Unary<T> {
    let t = x.tan();
    (t, T::one() + t * t)
}

/// `asin x`: `1/sqrt(1 - x²)`, `+∞` at ±1.
#[inline(always)]
pub fn asin<T: Scalar>(x: T) -> Unary<T> {
    (x.asin(), ((T::one() - x) * (T::one() + x)).sqrt().recip())
}

/// `acos x`: `-1/sqrt(1 - x²)`, `-∞` at ±1.
#[inline(always)]
pub fn acos<T: Scalar>(x: T) -> Unary<T> {
    (x.acos(), -((T::one() - x) * (T::one() + x)).sqrt().recip())
}

/// `atan x`: `1/(1 + x²)`.
#[inline(always)]
pub fn atan<T: Scalar>(x: T) -> Unary<T> {
    (x.atan(), (T::one() + x * x).recip())
}

/// `atan2(y, x)`, the angle of the point `(x, y)`: `∂/∂y = x/r²`,
/// `∂/∂x = -y/r²`; 0 at the origin (rule 1).
#[inline]
pub fn atan2<T: Scalar>(y: T, x: T) -> Binary<T> {
    // r = hypot(x, y) and (x/r)/r rather than x/(x² + y²): x² + y² underflows
    // to 0 or overflows to ∞ far from 1 while the partials are representable.
    let r = x.hypot(y);
    let v = y.atan2(x);
    if r == T::zero() {
        (v, T::zero(), T::zero())
    } else {
        (v, x / r / r, -y / r / r)
    }
}

/// The logistic sigmoid `σ(x) = 1/(1 + e^-x)`: `σ(1 - σ)`. With
/// `e = e^-|x|`, `σ` and `1 - σ` are `1/(1 + e)` and `e/(1 + e)` (in the
/// order the sign of `x` gives), so no exponential overflows and `1 - σ` is
/// not lost to cancellation in the tails.
#[inline]
pub fn sigmoid<T: Scalar>(x: T) -> Unary<T> {
    let (nonnegative, e) = exp_minus_abs(x);
    let (s, one_minus_s) = sigmoid_parts(nonnegative, e, (T::one() + e).recip());
    (s, s * one_minus_s)
}

/// Whether `x >= 0`, and `e^-|x|`. A branch on the sign rather than
/// `e^-|x|` itself: the value stays smooth at 0 for nested types (`abs`
/// would give it a kink and lose `σ'(0)`).
#[inline(always)]
fn exp_minus_abs<T: Scalar>(x: T) -> (bool, T) {
    let nonnegative = x >= T::zero();
    (nonnegative, if nonnegative { (-x).exp() } else { x.exp() })
}

/// `(σ(x), 1 - σ(x))` from [`exp_minus_abs`]`(x)` and `big = 1/(1 + e)`.
#[inline(always)]
fn sigmoid_parts<T: Scalar>(nonnegative: bool, e: T, big: T) -> (T, T) {
    let small = e * big;
    if nonnegative {
        (big, small)
    } else {
        (small, big)
    }
}

/// The softplus `ln(1 + e^x)`: derivative `σ(x)`. Evaluated as
/// `x + ln(1 + e^-x)` for `x >= 0` and `ln(1 + e^x)` otherwise, so it never
/// overflows and keeps full precision in both tails. The derivative is
/// [`sigmoid`]'s value from the same `e^-|x|` (one exponential, one test of
/// the sign).
#[inline]
pub fn softplus<T: Scalar>(x: T) -> Unary<T> {
    let (nonnegative, e) = exp_minus_abs(x);
    let u = T::one() + e;
    let big = u.recip();
    let l = ln_1p_small(e, u, big);
    let v = if nonnegative { x + l } else { l };
    (v, sigmoid_parts(nonnegative, e, big).0)
}

/// `ln(1 + e)` for `0 <= e <= 1`, as `ln(u) + (e - (u - 1))/u` with
/// `u = 1 + e` rounded: the second term is the rounding error of `u`
/// (`e - (u - 1)` is exact there), to first order. Within about one ulp, like
/// `ln_1p`, at a fraction of its cost (glibc's `log1p` is several times
/// slower than `log`), and `1/u` is `σ`'s own division, computed once by
/// [`softplus`] and passed in as `recip_u`.
#[inline(always)]
fn ln_1p_small<T: Scalar>(e: T, u: T, recip_u: T) -> T {
    u.ln() + (e - (u - T::one())) * recip_u
}

// ---------------------------------------------------------------- hyperbolic

/// `sinh x`: `cosh x`.
#[inline(always)]
pub fn sinh<T: Scalar>(x: T) -> Unary<T> {
    (x.sinh(), x.cosh())
}

/// `cosh x`: `sinh x`.
#[inline(always)]
pub fn cosh<T: Scalar>(x: T) -> Unary<T> {
    (x.cosh(), x.sinh())
}

/// `tanh x`: `1 - tanh² x`.
#[inline(always)]
pub fn tanh<T: Scalar>(x: T) -> Unary<T> {
    let t = x.tanh();
    (t, T::one() - t * t)
}

/// `asinh x`: `1/sqrt(x² + 1)`, computed without overflow.
#[inline(always)]
pub fn asinh<T: Scalar>(x: T) -> Unary<T> {
    (x.asinh(), x.hypot(T::one()).recip())
}

/// `acosh x`: `1/sqrt(x² - 1)`, `+∞` at 1.
#[inline(always)]
pub fn acosh<T: Scalar>(x: T) -> Unary<T> {
    (
        x.acosh(),
        ((x - T::one()).sqrt() * (x + T::one()).sqrt()).recip(),
    )
}

/// `atanh x`: `1/(1 - x²)`, `+∞` at ±1.
#[inline(always)]
pub fn atanh<T: Scalar>(x: T) -> Unary<T> {
    (x.atanh(), ((T::one() - x) * (T::one() + x)).recip())
}

// ---------------------------------------------------------------- piecewise

/// `|x|`: sign(x), and 0 at 0 (rule 1).
#[inline(always)]
pub fn abs<T: Scalar>(x: T) -> Unary<T> {
    (ComplexField::abs(x), abs_slope(x))
}

/// `signum x` (the value as the inner type computes it): derivative 0.
#[inline(always)]
pub fn signum<T: Scalar>(x: T) -> Unary<T> {
    (ComplexField::signum(x), T::zero())
}

/// A tie of `max` (`x == y`): each argument gets ½, at every order, so the
/// value is the average `x - (x - y)/2` (which is `x` in value and carries
/// the averaged derivatives of nested types). At a tie of `+0` and `-0` the
/// average is `+0`, as IEEE 754-2019 `maximum` gives it, in every mode
/// (`(-0) - (-0 - 0)/2 = (-0) - (-0) = +0`; `(+0) - (+0)/2 = +0`); [`min`]
/// takes `-tie(-x, -y)`, which is `-0` there, as `minimum` gives it. Where
/// `x` is infinite (`x - y` would be NaN) the value is `x`.
#[inline(always)]
fn tie<T: Scalar>(x: T, y: T) -> Binary<T> {
    let h = c::<T>(0.5);
    let v = if x.is_finite() { x - (x - y) * h } else { x };
    (v, h, h)
}

/// `max(x, y)`: the derivative of the larger argument; ½ each at a tie,
/// whose value is `+0` at a tie of `+0` and `-0` (in every mode; plain
/// `f64::max` leaves that zero's sign unspecified).
#[inline(always)]
pub fn max<T: Scalar>(x: T, y: T) -> Binary<T> {
    if x > y || is_nan(y) {
        (x, T::one(), T::zero())
    } else if y > x || is_nan(x) {
        (y, T::zero(), T::one())
    } else {
        tie(x, y)
    }
}

/// `min(x, y)`: the derivative of the smaller argument; ½ each at a tie,
/// whose value is `-0` at a tie of `+0` and `-0` (in every mode).
#[inline(always)]
pub fn min<T: Scalar>(x: T, y: T) -> Binary<T> {
    if x < y || is_nan(y) {
        (x, T::one(), T::zero())
    } else if y < x || is_nan(x) {
        (y, T::zero(), T::one())
    } else {
        // (a tie: `max`'s of the negated arguments, negated)
        let (v, pa, pb) = tie(-x, -y);
        (-v, pa, pb)
    }
}

/// `copysign(x, s)`: `|x|` with the sign of `s`. `∂/∂x = sign(x)·sign(s)`
/// (0 at `x = 0`), `∂/∂s = 0`.
#[inline(always)]
pub fn copysign<T: Scalar>(x: T, s: T) -> Binary<T> {
    let v = RealField::copysign(x, s);
    let sign_s = if s.is_sign_negative() {
        -T::one()
    } else {
        T::one()
    };
    (v, abs_slope(x) * sign_s, T::zero())
}

/// `floor x`: derivative 0.
#[inline(always)]
pub fn floor<T: Scalar>(x: T) -> Unary<T> {
    (x.floor(), T::zero())
}

/// `ceil x`: derivative 0.
#[inline(always)]
pub fn ceil<T: Scalar>(x: T) -> Unary<T> {
    (x.ceil(), T::zero())
}

/// `round x` (half away from zero): derivative 0.
#[inline(always)]
pub fn round<T: Scalar>(x: T) -> Unary<T> {
    (x.round(), T::zero())
}

/// `trunc x`: derivative 0.
#[inline(always)]
pub fn trunc<T: Scalar>(x: T) -> Unary<T> {
    (x.trunc(), T::zero())
}

/// `fract x = x - trunc x`: derivative 1.
#[inline(always)]
pub fn fract<T: Scalar>(x: T) -> Unary<T> {
    (x.fract(), T::one())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions_hold_at_awkward_points() {
        assert_eq!(abs(0.0f64), (0.0, 0.0));
        assert_eq!(abs(-2.0f64), (2.0, -1.0));
        assert_eq!(max(1.0f64, 1.0), (1.0, 0.5, 0.5));
        assert_eq!(min(1.0f64, 1.0), (1.0, 0.5, 0.5));
        assert_eq!(max(f64::NAN, 1.0), (1.0, 0.0, 1.0));
        assert_eq!(sqrt(0.0f64), (0.0, f64::INFINITY));
        assert_eq!(hypot(0.0f64, 0.0), (0.0, 0.0, 0.0));
        assert_eq!(atan2(0.0f64, 0.0).1, 0.0);
        let (v, dx, dy) = powf(0.0f64, 2.0);
        assert_eq!((v, dx, dy), (0.0, 0.0, 0.0));
        let (v, dx, dy) = powf(-2.0f64, 3.0);
        assert_eq!((v, dx), (-8.0, 12.0));
        assert!(dy.is_nan());
        assert!(abs(f64::NAN).1.is_nan());
    }
}
