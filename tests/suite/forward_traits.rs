//! The trait surface, called through the traits: every method of simba's
//! `ComplexField` and `RealField`, of `num_traits::Float` (and `Zero`, `One`,
//! `Num`, `NumCast`, `ToPrimitive`, `FromPrimitive`, `Signed`), approx, and
//! `Display`, on `Dual<f64>`, `DualVec<f64, 3>` and `Dual<Dual<f64>>`. Each
//! returns the right value and the right derivative (closed forms written
//! here); none panics or returns a placeholder.

use crate::support::forward as common;

use std::f64::consts::{E, FRAC_PI_2, LN_10, LN_2, PI};
use std::fmt::{Debug, Display};
use std::iter::{Product, Sum};
use std::ops::{AddAssign, DivAssign, MulAssign, RemAssign, SubAssign};

use crate::support::compare::identical;
use approx::{abs_diff_eq, relative_eq, ulps_eq};
use dualtape::{Dual, DualVec, Scalar};
use nalgebra::{ComplexField, RealField};
use num_traits::{Float, FromPrimitive, Num, NumCast, One, Signed, ToPrimitive, Zero};

/// A differentiable scalar seeded along one direction.
trait Probe:
    Scalar<Real = f64>
    + Float
    + Signed
    + Display
    + Debug
    + AddAssign<f64>
    + MulAssign
    + SubAssign
    + DivAssign<f64>
    + RemAssign<f64>
    + Sum
    + for<'a> Sum<&'a Self>
    + Product
{
    /// `x` as the variable: derivative 1 along the seed.
    fn var(x: f64) -> Self;
    /// The derivative along the seed (checking the type's other tangent
    /// slots agree with it).
    fn slope(&self) -> f64;
}

impl Probe for Dual<f64> {
    fn var(x: f64) -> Self {
        Dual::variable(x)
    }
    fn slope(&self) -> f64 {
        self.eps
    }
}

impl Probe for DualVec<f64, 3> {
    /// Seeds 1, -2, ½: the lanes are exact multiples of one another.
    fn var(x: f64) -> Self {
        DualVec::new(x, [1.0, -2.0, 0.5])
    }
    fn slope(&self) -> f64 {
        let e = self.eps;
        assert!(
            eq(e[1], -2.0 * e[0]) && eq(e[2], 0.5 * e[0]),
            "DualVec lanes are not 1 : -2 : ½ multiples: {e:?}"
        );
        e[0]
    }
}

impl Probe for Dual<Dual<f64>> {
    /// The same seed in both layers: `re.eps` and `eps.re` are both f'.
    fn var(x: f64) -> Self {
        common::d2(x, 1.0, 1.0)
    }
    fn slope(&self) -> f64 {
        let (inner, outer) = (self.re.eps, self.eps.re);
        assert!(
            eq(inner, outer) || (inner - outer).abs() <= 1e-13 * outer.abs(),
            "Dual<Dual>: inner derivative {inner:e} but outer {outer:e}"
        );
        outer
    }
}

/// Equal, or both NaN.
fn eq(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn k<S: Probe>(c: f64) -> S {
    S::constant(c)
}

/// The value within a few ulps (bit for bit for NaN and infinities) and the
/// derivative within 1e-13 relative.
#[track_caller]
fn check<S: Probe>(what: &str, got: S, value: f64, slope: f64) {
    let v = got.value();
    assert!(
        identical(v, value) || (v - value).abs() <= 1e-15 * value.abs(),
        "{what}: value {v:e}, want {value:e}"
    );
    let d = got.slope();
    assert!(
        eq(d, slope) || (d - slope).abs() <= 1e-13 * slope.abs(),
        "{what}: derivative {d:e}, want {slope:e}"
    );
}

// ------------------------------------------------------------------ ComplexField

fn complex_field<S: Probe>() {
    let x = 0.7;
    let v = S::var(x);
    let n = S::var(-0.7);
    check("from_real", <S as ComplexField>::from_real(v), x, 1.0);
    check("real", ComplexField::real(v), x, 1.0);
    check("imaginary", ComplexField::imaginary(v), 0.0, 0.0);
    check("modulus", ComplexField::modulus(n), 0.7, -1.0);
    check(
        "modulus_squared",
        ComplexField::modulus_squared(n),
        0.49,
        -1.4,
    );
    check("argument(+)", ComplexField::argument(v), 0.0, 0.0);
    check("argument(-)", ComplexField::argument(n), PI, 0.0);
    check("norm1", ComplexField::norm1(n), 0.7, -1.0);
    check("scale", ComplexField::scale(v, k(3.0)), 2.1, 3.0);
    check("unscale", ComplexField::unscale(v, k(4.0)), 0.175, 0.25);
    let (m, a) = ComplexField::to_polar(n);
    check("to_polar modulus", m, 0.7, -1.0);
    check("to_polar argument", a, PI, 0.0);
    let (m, u) = ComplexField::to_exp(n);
    check("to_exp modulus", m, 0.7, -1.0);
    check("to_exp unit", u, -1.0, 0.0);
    let (m, u) = ComplexField::to_exp(v);
    check("to_exp modulus", m, 0.7, 1.0);
    check("to_exp unit", u, 1.0, 0.0);
    check("signum", ComplexField::signum(n), -1.0, 0.0);
    let w = S::var(2.3);
    check("floor", ComplexField::floor(w), 2.0, 0.0);
    check("ceil", ComplexField::ceil(w), 3.0, 0.0);
    check("round", ComplexField::round(w), 2.0, 0.0);
    check("trunc", ComplexField::trunc(S::var(-2.3)), -2.0, 0.0);
    check("fract", ComplexField::fract(w), 2.3f64.fract(), 1.0);
    check(
        "mul_add",
        ComplexField::mul_add(v, k(3.0), k(1.0)),
        x.mul_add(3.0, 1.0),
        3.0,
    );
    check(
        "mul_add(self)",
        ComplexField::mul_add(v, v, v),
        x.mul_add(x, x),
        2.0 * x + 1.0,
    );
    check("abs", ComplexField::abs(n), 0.7, -1.0);
    let h = (x * x + 0.25f64).sqrt();
    check("hypot", ComplexField::hypot(v, k(0.5)), h, x / h);
    check("recip", ComplexField::recip(v), 1.0 / x, -1.0 / (x * x));
    check("conjugate", ComplexField::conjugate(v), x, 1.0);
    check("sin", ComplexField::sin(v), x.sin(), x.cos());
    check("cos", ComplexField::cos(v), x.cos(), -x.sin());
    let (s, c) = ComplexField::sin_cos(v);
    check("sin_cos.0", s, x.sin(), x.cos());
    check("sin_cos.1", c, x.cos(), -x.sin());
    let (s, c) = ComplexField::sinh_cosh(v);
    check("sinh_cosh.0", s, x.sinh(), x.cosh());
    check("sinh_cosh.1", c, x.cosh(), x.sinh());
    check(
        "tan",
        ComplexField::tan(v),
        x.tan(),
        1.0 / (x.cos() * x.cos()),
    );
    let r = (1.0 - x * x).sqrt();
    check("asin", ComplexField::asin(v), x.asin(), 1.0 / r);
    check("acos", ComplexField::acos(v), x.acos(), -1.0 / r);
    check("atan", ComplexField::atan(v), x.atan(), 1.0 / (1.0 + x * x));
    check("sinh", ComplexField::sinh(v), x.sinh(), x.cosh());
    check("cosh", ComplexField::cosh(v), x.cosh(), x.sinh());
    check(
        "tanh",
        ComplexField::tanh(v),
        x.tanh(),
        1.0 / (x.cosh() * x.cosh()),
    );
    check(
        "asinh",
        ComplexField::asinh(v),
        x.asinh(),
        1.0 / (1.0 + x * x).sqrt(),
    );
    let y = 1.7;
    check(
        "acosh",
        ComplexField::acosh(S::var(y)),
        y.acosh(),
        1.0 / (y * y - 1.0).sqrt(),
    );
    check(
        "atanh",
        ComplexField::atanh(v),
        x.atanh(),
        1.0 / (1.0 - x * x),
    );
    // cardinal functions: sin x / x etc., with the quotient rule
    check(
        "sinc",
        ComplexField::sinc(v),
        x.sin() / x,
        (x * x.cos() - x.sin()) / (x * x),
    );
    check(
        "sinhc",
        ComplexField::sinhc(v),
        x.sinh() / x,
        (x * x.cosh() - x.sinh()) / (x * x),
    );
    check(
        "cosc",
        ComplexField::cosc(v),
        x.cos() / x,
        (-x * x.sin() - x.cos()) / (x * x),
    );
    check(
        "coshc",
        ComplexField::coshc(v),
        x.cosh() / x,
        (x * x.sinh() - x.cosh()) / (x * x),
    );
    check(
        "log",
        ComplexField::log(v, k(3.0)),
        x.ln() / 3f64.ln(),
        1.0 / (x * 3f64.ln()),
    );
    check("log2", ComplexField::log2(v), x.log2(), 1.0 / (x * LN_2));
    check(
        "log10",
        ComplexField::log10(v),
        x.log10(),
        1.0 / (x * LN_10),
    );
    check("ln", ComplexField::ln(v), x.ln(), 1.0 / x);
    check("ln_1p", ComplexField::ln_1p(v), x.ln_1p(), 1.0 / (1.0 + x));
    check("sqrt", ComplexField::sqrt(v), x.sqrt(), 0.5 / x.sqrt());
    check("exp", ComplexField::exp(v), x.exp(), x.exp());
    check("exp2", ComplexField::exp2(v), x.exp2(), x.exp2() * LN_2);
    check("exp_m1", ComplexField::exp_m1(v), x.exp_m1(), x.exp());
    check("powi", ComplexField::powi(v, 3), x.powi(3), 3.0 * x * x);
    check(
        "powf",
        ComplexField::powf(v, k(2.5)),
        x.powf(2.5),
        2.5 * x.powf(1.5),
    );
    check(
        "powf(x, x)",
        ComplexField::powf(v, v),
        x.powf(x),
        x.powf(x) * (x.ln() + 1.0),
    );
    check(
        "powc",
        ComplexField::powc(v, k(2.5)),
        x.powf(2.5),
        2.5 * x.powf(1.5),
    );
    check(
        "cbrt",
        ComplexField::cbrt(v),
        x.cbrt(),
        1.0 / (3.0 * x.cbrt().powi(2)),
    );
    assert!(ComplexField::is_finite(&v));
    assert!(!ComplexField::is_finite(&S::var(f64::INFINITY)));
    assert!(!ComplexField::is_finite(&S::var(f64::NAN)));
    let t = ComplexField::try_sqrt(v).expect("try_sqrt(0.7)");
    check("try_sqrt", t, x.sqrt(), 0.5 / x.sqrt());
    assert!(
        ComplexField::try_sqrt(n).is_none(),
        "try_sqrt(-0.7) is None"
    );
    let z = ComplexField::try_sqrt(S::var(0.0)).expect("try_sqrt(0)");
    check("try_sqrt(0)", z, 0.0, f64::INFINITY);
}

/// sin x / x and sinh x / x at x = 0 itself: 1, with slope 0 and curvature
/// ∓1/3 (their Taylor series), not 0/0.
fn cardinal_functions_at_zero<S: Probe>() {
    check("sinc(0)", ComplexField::sinc(S::var(0.0)), 1.0, 0.0);
    check("sinhc(0)", ComplexField::sinhc(S::var(0.0)), 1.0, 0.0);
    check(
        "sinc(0) constant",
        ComplexField::sinc(k::<S>(0.0)),
        1.0,
        0.0,
    );
    let h = ComplexField::sinc(common::d2(0.0, 1.0, 1.0));
    assert_eq!((h.re.re, h.re.eps, h.eps.re), (1.0, 0.0, 0.0));
    assert!(
        (h.eps.eps + 1.0 / 3.0).abs() < 1e-15,
        "sinc''(0) = {}",
        h.eps.eps
    );
    let h = ComplexField::sinhc(common::d2(0.0, 1.0, 1.0));
    assert!(
        (h.eps.eps - 1.0 / 3.0).abs() < 1e-15,
        "sinhc''(0) = {}",
        h.eps.eps
    );
}

// ------------------------------------------------------------------ RealField

fn real_field<S: Probe>() {
    let v = S::var(0.7);
    let n = S::var(-0.7);
    assert!(RealField::is_sign_positive(&v) && !RealField::is_sign_negative(&v));
    assert!(RealField::is_sign_negative(&n) && !RealField::is_sign_positive(&n));
    assert!(RealField::is_sign_negative(&k::<S>(-0.0)));
    check(
        "copysign(+, -)",
        RealField::copysign(v, k(-1.0)),
        -0.7,
        -1.0,
    );
    check("copysign(-, -)", RealField::copysign(n, k(-2.0)), -0.7, 1.0);
    check("copysign(-, +)", RealField::copysign(n, k(2.0)), 0.7, -1.0);
    check("max", RealField::max(v, k(0.5)), 0.7, 1.0);
    check("max", RealField::max(v, k(0.9)), 0.9, 0.0);
    check("min", RealField::min(v, k(0.5)), 0.5, 0.0);
    check("min", RealField::min(v, k(0.9)), 0.7, 1.0);
    check(
        "clamp inside",
        RealField::clamp(v, k(0.0), k(1.0)),
        0.7,
        1.0,
    );
    check("clamp below", RealField::clamp(n, k(0.0), k(1.0)), 0.0, 0.0);
    check(
        "clamp above",
        RealField::clamp(S::var(1.5), k(0.0), k(1.0)),
        1.0,
        0.0,
    );
    // at a bound the kink splits evenly (rule 1)
    check(
        "clamp at lo",
        RealField::clamp(S::var(0.0), k(0.0), k(1.0)),
        0.0,
        0.5,
    );
    check(
        "clamp at hi",
        RealField::clamp(S::var(1.0), k(0.0), k(1.0)),
        1.0,
        0.5,
    );
    let (y, x) = (0.7, -0.4);
    let r2 = x * x + y * y;
    check("atan2 in y", RealField::atan2(v, k(x)), y.atan2(x), x / r2);
    check(
        "atan2 in x",
        RealField::atan2(k(y), S::var(x)),
        y.atan2(x),
        -y / r2,
    );
    let lo = RealField::min_value().expect("min_value");
    let hi = RealField::max_value().expect("max_value");
    check::<S>("min_value", lo, f64::MIN, 0.0);
    check::<S>("max_value", hi, f64::MAX, 0.0);
    use std::f64::consts as c;
    for (name, got, want) in [
        ("pi", S::pi(), PI),
        ("two_pi", S::two_pi(), c::TAU),
        ("frac_pi_2", S::frac_pi_2(), FRAC_PI_2),
        ("frac_pi_3", S::frac_pi_3(), c::FRAC_PI_3),
        ("frac_pi_4", S::frac_pi_4(), c::FRAC_PI_4),
        ("frac_pi_6", S::frac_pi_6(), c::FRAC_PI_6),
        ("frac_pi_8", S::frac_pi_8(), c::FRAC_PI_8),
        ("frac_1_pi", S::frac_1_pi(), c::FRAC_1_PI),
        ("frac_2_pi", S::frac_2_pi(), c::FRAC_2_PI),
        ("frac_2_sqrt_pi", S::frac_2_sqrt_pi(), c::FRAC_2_SQRT_PI),
        ("e", S::e(), E),
        ("log2_e", S::log2_e(), c::LOG2_E),
        ("log10_e", S::log10_e(), c::LOG10_E),
        ("ln_2", S::ln_2(), LN_2),
        ("ln_10", S::ln_10(), LN_10),
    ] {
        assert!(identical(got.value(), want), "{name}: {got:?}");
        assert_eq!(got.slope(), 0.0, "{name} is a constant");
    }
}

// ------------------------------------------------------------------ num_traits::Float

fn float<S: Probe>() {
    let x = 0.7;
    let v = S::var(x);
    let n = S::var(-0.7);
    assert!(<S as Float>::nan().value().is_nan());
    assert_eq!(<S as Float>::infinity().value(), f64::INFINITY);
    assert_eq!(<S as Float>::neg_infinity().value(), f64::NEG_INFINITY);
    let nz = <S as Float>::neg_zero();
    assert!(nz.value() == 0.0 && nz.value().is_sign_negative());
    assert_eq!(<S as Float>::min_value().value(), f64::MIN);
    assert_eq!(
        <S as Float>::min_positive_value().value(),
        f64::MIN_POSITIVE
    );
    assert_eq!(<S as Float>::max_value().value(), f64::MAX);
    assert_eq!(<S as Float>::epsilon().value(), f64::EPSILON);
    for c in [
        <S as Float>::max_value(),
        <S as Float>::epsilon(),
        <S as Float>::nan(),
    ] {
        assert_eq!(c.slope(), 0.0);
    }
    assert!(Float::is_nan(S::var(f64::NAN)) && !Float::is_nan(v));
    assert!(Float::is_infinite(S::var(f64::NEG_INFINITY)) && !Float::is_infinite(v));
    assert!(Float::is_finite(v) && !Float::is_finite(S::var(f64::INFINITY)));
    assert!(Float::is_normal(v) && !Float::is_normal(S::var(5e-324)));
    assert!(Float::is_subnormal(S::var(5e-324)) && !Float::is_subnormal(v));
    assert_eq!(Float::classify(v), std::num::FpCategory::Normal);
    assert_eq!(Float::classify(k::<S>(0.0)), std::num::FpCategory::Zero);
    let w = S::var(-2.5);
    check("floor", Float::floor(w), -3.0, 0.0);
    check("ceil", Float::ceil(w), -2.0, 0.0);
    check("round", Float::round(w), -3.0, 0.0);
    check("trunc", Float::trunc(w), -2.0, 0.0);
    check("fract", Float::fract(w), -0.5, 1.0);
    check("abs", Float::abs(n), 0.7, -1.0);
    check("signum", Float::signum(n), -1.0, 0.0);
    assert!(Float::is_sign_positive(v) && Float::is_sign_negative(n));
    check(
        "mul_add",
        Float::mul_add(v, k(3.0), k(1.0)),
        x.mul_add(3.0, 1.0),
        3.0,
    );
    check("recip", Float::recip(v), 1.0 / x, -1.0 / (x * x));
    check("powi", Float::powi(v, -2), x.powi(-2), -2.0 / (x * x * x));
    check("powf", Float::powf(v, k(0.5)), x.sqrt(), 0.5 / x.sqrt());
    check("sqrt", Float::sqrt(v), x.sqrt(), 0.5 / x.sqrt());
    check("exp", Float::exp(v), x.exp(), x.exp());
    check("exp2", Float::exp2(v), x.exp2(), x.exp2() * LN_2);
    check("ln", Float::ln(v), x.ln(), 1.0 / x);
    check("log", Float::log(v, k(2.0)), x.log2(), 1.0 / (x * LN_2));
    check("log2", Float::log2(v), x.log2(), 1.0 / (x * LN_2));
    check("log10", Float::log10(v), x.log10(), 1.0 / (x * LN_10));
    check(
        "to_degrees",
        Float::to_degrees(v),
        x.to_degrees(),
        180.0 / PI,
    );
    check(
        "to_radians",
        Float::to_radians(v),
        x.to_radians(),
        PI / 180.0,
    );
    check("max", Float::max(v, k(0.5)), 0.7, 1.0);
    check("min", Float::min(v, k(0.5)), 0.5, 0.0);
    check("clamp", Float::clamp(v, k(0.0), k(0.5)), 0.5, 0.0);
    check("clamp inside", Float::clamp(v, k(0.0), k(1.0)), 0.7, 1.0);
    #[allow(deprecated)]
    {
        check("abs_sub", Float::abs_sub(v, k(0.2)), 0.5, 1.0);
        check("abs_sub below", Float::abs_sub(v, k(0.9)), 0.0, 0.0);
    }
    check(
        "cbrt",
        Float::cbrt(v),
        x.cbrt(),
        1.0 / (3.0 * x.cbrt().powi(2)),
    );
    let h = x.hypot(2.0);
    check("hypot", Float::hypot(v, k(2.0)), h, x / h);
    check("sin", Float::sin(v), x.sin(), x.cos());
    check("cos", Float::cos(v), x.cos(), -x.sin());
    check("tan", Float::tan(v), x.tan(), 1.0 + x.tan().powi(2));
    let r = (1.0 - x * x).sqrt();
    check("asin", Float::asin(v), x.asin(), 1.0 / r);
    check("acos", Float::acos(v), x.acos(), -1.0 / r);
    check("atan", Float::atan(v), x.atan(), 1.0 / (1.0 + x * x));
    check(
        "atan2",
        Float::atan2(v, k(2.0)),
        x.atan2(2.0),
        2.0 / (4.0 + x * x),
    );
    let (s, c) = Float::sin_cos(v);
    check("sin_cos.0", s, x.sin(), x.cos());
    check("sin_cos.1", c, x.cos(), -x.sin());
    check("exp_m1", Float::exp_m1(v), x.exp_m1(), x.exp());
    check("ln_1p", Float::ln_1p(v), x.ln_1p(), 1.0 / (1.0 + x));
    check("sinh", Float::sinh(v), x.sinh(), x.cosh());
    check("cosh", Float::cosh(v), x.cosh(), x.sinh());
    check("tanh", Float::tanh(v), x.tanh(), 1.0 / x.cosh().powi(2));
    check(
        "asinh",
        Float::asinh(v),
        x.asinh(),
        1.0 / (1.0 + x * x).sqrt(),
    );
    check(
        "acosh",
        Float::acosh(S::var(1.7)),
        1.7f64.acosh(),
        1.0 / (1.7f64 * 1.7 - 1.0).sqrt(),
    );
    check("atanh", Float::atanh(v), x.atanh(), 1.0 / (1.0 - x * x));
    assert_eq!(Float::integer_decode(v), Float::integer_decode(x));
    check("copysign", Float::copysign(v, k(-3.0)), -0.7, -1.0);
}

// ------------------------------------------------------------------ the other num-traits

fn num_traits_misc<S: Probe>() {
    let z = <S as Zero>::zero();
    assert!(z.is_zero() && z.value() == 0.0);
    // is_zero means exactly zero: the value and every derivative
    assert!(!S::var(0.0).is_zero());
    assert!(<S as One>::one().value() == 1.0 && <S as One>::one().slope() == 0.0);
    let p = <S as Num>::from_str_radix("2.5", 10)
        .ok()
        .expect("parse 2.5");
    check("from_str_radix", p, 2.5, 0.0);
    assert!(<S as Num>::from_str_radix("x", 10).is_err());
    check(
        "NumCast::from(3u8)",
        <S as NumCast>::from(3u8).unwrap(),
        3.0,
        0.0,
    );
    check(
        "NumCast::from(-2i64)",
        <S as NumCast>::from(-2i64).unwrap(),
        -2.0,
        0.0,
    );
    check(
        "from_f64",
        <S as FromPrimitive>::from_f64(0.25).unwrap(),
        0.25,
        0.0,
    );
    check(
        "from_i64",
        <S as FromPrimitive>::from_i64(-7).unwrap(),
        -7.0,
        0.0,
    );
    check(
        "from_u64",
        <S as FromPrimitive>::from_u64(7).unwrap(),
        7.0,
        0.0,
    );
    let v = S::var(-2.7);
    assert_eq!(ToPrimitive::to_f64(&v), Some(-2.7));
    assert_eq!(ToPrimitive::to_i64(&v), Some(-2));
    assert_eq!(ToPrimitive::to_u64(&v), None);
    assert_eq!(ToPrimitive::to_u64(&S::var(2.7)), Some(2));
    check("Signed::abs", Signed::abs(&v), 2.7, -1.0);
    check(
        "Signed::abs_sub",
        Signed::abs_sub(&v, &k(-3.0)),
        -2.7 + 3.0,
        1.0,
    );
    check("Signed::signum", Signed::signum(&v), -1.0, 0.0);
    assert!(Signed::is_negative(&v) && !Signed::is_positive(&v));
    // operators, assignment, sums and products
    let x = S::var(1.5);
    let mut a = x;
    a += 1.0;
    a *= x;
    a -= k(0.5);
    a /= 2.0;
    // ((x + 1) x - 0.5) / 2: derivative (2x + 1) / 2
    check("assign ops", a, ((1.5 + 1.0) * 1.5 - 0.5) / 2.0, 2.0);
    let mut r = x;
    r %= 1.0;
    check("%=", r, 0.5, 1.0);
    check("neg", -x, -1.5, -1.0);
    let xs = [x, k(2.0), x * x];
    check(
        "sum",
        xs.iter().copied().sum::<S>(),
        1.5 + 2.0 + 2.25,
        1.0 + 3.0,
    );
    check("sum of refs", xs.iter().sum::<S>(), 5.75, 4.0);
    check(
        "product",
        xs.iter().copied().product::<S>(),
        1.5 * 2.0 * 2.25,
        2.0 * 3.0 * 2.25,
    );
    // nalgebra's conversions keep the value and drop the derivative
    let c: S = nalgebra::convert(2.5f64);
    check("convert", c, 2.5, 0.0);
    let back: f64 = nalgebra::try_convert(x).unwrap();
    assert_eq!(back, 1.5);
}

// ------------------------------------------------------------------ approx and comparisons

fn approx_and_comparisons<S: Probe>() {
    let a = S::var(1.0);
    let b = a + f64::EPSILON; // one ulp above 1
    let c = S::var(1.1);
    // comparisons look at values only
    assert!(a == a * 2.0 - 1.0 && a == k::<S>(1.0));
    assert!(a < c && c >= a && a != c);
    assert!(relative_eq!(a, b));
    assert!(!relative_eq!(a, c));
    assert!(relative_eq!(a, c, max_relative = k(0.2)));
    assert!(abs_diff_eq!(a, b, epsilon = k(1e-9)));
    assert!(!relative_eq!(a, a + 1e-12));
    assert!(relative_eq!(a, a + 1e-12, max_relative = k(1e-11)));
    assert!(!abs_diff_eq!(a, c, epsilon = k(1e-9)));
    assert!(ulps_eq!(a, k::<S>(1.0)));
    assert!(!ulps_eq!(a, c));
    assert!(relative_eq!(a, k::<S>(1.0), epsilon = k(0.0)));
}

macro_rules! for_each_type {
    ($($test:ident => $body:ident),* $(,)?) => {$(
        mod $test {
            use super::*;
            #[test]
            fn dual() {
                $body::<Dual<f64>>();
            }
            #[test]
            fn dual_vec() {
                $body::<DualVec<f64, 3>>();
            }
            #[test]
            fn dual_dual() {
                $body::<Dual<Dual<f64>>>();
            }
        }
    )*};
}

for_each_type! {
    complex_field_methods => complex_field,
    sinc_and_sinhc_at_zero => cardinal_functions_at_zero,
    real_field_methods => real_field,
    float_methods => float,
    other_num_traits => num_traits_misc,
    approx_macros => approx_and_comparisons,
}

// ------------------------------------------------------------------ Display

#[test]
fn display() {
    assert_eq!(Dual::new(1.5, 2.0).to_string(), "1.5 + 2ε");
    assert_eq!(Dual::new(-0.5, -1.0).to_string(), "-0.5 + -1ε");
    assert_eq!(format!("{:.2}", Dual::new(1.0 / 3.0, 2.0)), "0.33 + 2.00ε");
    assert_eq!(
        format!("{}", Dual::new(f64::NAN, f64::INFINITY)),
        "NaN + infε"
    );
    assert_eq!(
        DualVec::new(1.5, [1.0, -2.0, 0.5]).to_string(),
        "1.5 + [1, -2, 0.5]ε"
    );
    assert_eq!(
        format!("{:.1}", DualVec::new(0.3, [1.0, 0.0])),
        "0.3 + [1.0, 0.0]ε"
    );
    assert_eq!(Dual::new(2.0f32, 0.5).to_string(), "2 + 0.5ε");
    // Debug shows the fields
    assert_eq!(
        format!("{:?}", Dual::new(1.0, 2.0)),
        "Dual { re: 1.0, eps: 2.0 }"
    );
    // nested: the value and the outer tangent, each a Dual of its own
    let h = Dual::new(Dual::new(1.0, 2.0), Dual::new(3.0, 4.0));
    let s = h.to_string();
    assert!(
        s.contains('1') && s.contains('2') && s.contains('3') && s.contains('4'),
        "{s}"
    );
}
