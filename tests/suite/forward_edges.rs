//! Awkward points and non-finite inputs.
//!
//! - Values: NaN, infinities, signed zeros, subnormals and the largest floats
//!   go through every function of `Dual`, `Dual<Dual>` and `DualVec` exactly
//!   as through `f64`'s own.
//! - Derivatives: the five conventions documented in `dualtape::rules` hold,
//!   checked against values written here (and, at kinks, against central
//!   differences, which give the symmetric average by construction).

use crate::support::forward as common;

use std::f64::consts::FRAC_PI_2;
const INF: f64 = f64::INFINITY;
const NEG_INF: f64 = f64::NEG_INFINITY;
const NAN: f64 = f64::NAN;

use crate::support::compare::*;
use common::*;
use dualtape::{forward, Dual, DualVec};

use crate::support::binary::{Binary as B, BINARY};
use crate::support::elementary::{Unary as U, ELEMENTARY, WITH_CONSTANT};

/// Points where functions misbehave.
const SPECIALS: [f64; 23] = [
    NAN,
    NEG_INF,
    f64::MIN,
    -1e300,
    -3.0,
    -1.0,
    -0.5,
    -f64::MIN_POSITIVE,
    -5e-324,
    -0.0,
    0.0,
    5e-324,
    f64::MIN_POSITIVE,
    1e-300,
    0.5,
    1.0,
    1.5,
    2.0,
    2.5,
    3.0,
    1e300,
    f64::MAX,
    INF,
];

fn var(x: f64) -> Dual<f64> {
    Dual::variable(x)
}

fn k(x: f64) -> Dual<f64> {
    Dual::from(x)
}

// ------------------------------------------------------------------ values propagate as in f64

/// Every function of the table (`support::elementary`), elementary or an
/// operator with a constant.
#[test]
fn unary_values_propagate_as_in_f64() {
    for &op in ELEMENTARY.iter().chain(WITH_CONSTANT) {
        for x in SPECIALS {
            let want = op.apply(x);
            let what = format!("{op:?}({x:e})");
            assert_identical(op.apply(var(x)).re, want, &what);
            assert_identical(op.apply(k(x)).re, want, &what);
            assert_identical(op.apply(common::d2(x, 1.0, 1.0)).re.re, want, &what);
            assert_identical(
                op.apply(DualVec::<f64, 2>::new(x, [1.0, 0.0])).re,
                want,
                &what,
            );
        }
    }
}

#[test]
fn binary_values_propagate_as_in_f64() {
    for &op in BINARY {
        for x in SPECIALS {
            for y in SPECIALS {
                let want = op.value(x, y);
                let what = format!("{op:?}({x:e}, {y:e})");
                let got = op.apply(var(x), k(y)).re;
                let got2 = op
                    .apply(common::d2(x, 1.0, 0.0), common::d2(y, 0.0, 1.0))
                    .re
                    .re;
                if matches!(op, B::Max | B::Min) && x == 0.0 && y == 0.0 {
                    // f64::max/min may return either signed zero
                    assert_eq!(got, 0.0, "{what}");
                    assert_eq!(got2, 0.0, "{what}");
                } else {
                    assert_identical(got, want, &what);
                    assert_identical(got2, want, &what);
                }
            }
        }
    }
}

#[test]
fn mul_add_value_is_fused_as_in_f64() {
    // one rounding: 0.1·10 - 1 is the rounding error of 0.1, not 0
    let cases = [
        (0.1, 10.0, -1.0),
        (1e308, 2.0, -1e308), // a·b overflows, a·b + c does not
        (INF, 0.0, 1.0),
        (NAN, 1.0, 1.0),
        (2.0, 3.0, NEG_INF),
        (-0.0, 0.0, -0.0),
    ];
    for (a, b, c) in cases {
        let want = a.mul_add(b, c);
        let what = format!("mul_add({a:e}, {b:e}, {c:e})");
        assert_identical(var(a).mul_add(k(b), k(c)).re, want, &what);
        assert_identical(
            DualVec::<f64, 2>::variable(a, 0)
                .mul_add(DualVec::from(b), DualVec::from(c))
                .re,
            want,
            &what,
        );
    }
}

// ------------------------------------------------------------------ rule 5: NaN in, NaN out

#[test]
fn nan_argument_gives_nan_derivative() {
    // Rule 1 documents these derivatives as constants "everywhere"; `-x`,
    // `x ± c`, `c ± x`, `c · x`, `x / c` and `x % c` have constant slopes.
    // Every other rule's slope depends on the point.
    let constant_slope = |op: U| {
        matches!(
            op,
            U::Signum | U::Floor | U::Ceil | U::Round | U::Trunc | U::Fract | U::Neg
        ) || matches!(
            op,
            U::AddC | U::CAdd | U::SubC | U::CSub | U::MulC | U::CMul | U::DivC | U::RemC
        ) || matches!(op, U::Powi(0 | 1))
    };
    for &op in ELEMENTARY.iter().chain(WITH_CONSTANT) {
        if constant_slope(op) {
            continue;
        }
        assert!(
            op.apply(var(NAN)).eps.is_nan(),
            "{op:?}(NaN): derivative not NaN"
        );
        // x² has the constant second derivative 2 and `5 % x` the piecewise
        // constant slope -trunc(5/x) (second derivative 0), which rule 3
        // keeps: the NaN first-order partial meets a zero tangent.
        let constant_second_slope = matches!(op, U::Powi(2) | U::CRem);
        assert!(
            constant_second_slope || op.apply(common::d2(NAN, 1.0, 1.0)).eps.eps.is_nan(),
            "{op:?}(NaN): second derivative not NaN"
        );
        assert!(
            op.apply(DualVec::<f64, 2>::new(NAN, [1.0, 1.0])).eps[0].is_nan(),
            "{op:?}(NaN): DualVec lane not NaN"
        );
    }
    // binary: with both arguments seeded, a NaN in either gives NaN, except
    // + and - (constant partials), copysign's sign (its partial is 0) and
    // max/min (rule 5's exception, below)
    for &op in BINARY {
        if matches!(op, B::Add | B::Sub | B::Max | B::Min) {
            continue;
        }
        for other in [-2.0, 0.5, 3.0] {
            assert!(
                op.apply(var(NAN), var(other)).eps.is_nan(),
                "{op:?}(NaN, {other}): derivative not NaN"
            );
            if op != B::Copysign {
                assert!(
                    op.apply(var(other), var(NAN)).eps.is_nan(),
                    "{op:?}({other}, NaN): derivative not NaN"
                );
            }
        }
    }
    // + and - still give NaN values
    assert!((var(NAN) + var(1.0)).re.is_nan());
}

#[test]
fn max_and_min_ignore_nan_and_pass_the_other_derivative() {
    // f64::max(NaN, y) = y; the derivative is y's tangent
    let y = Dual::new(2.0, 3.0);
    for (v, want) in [
        (var(NAN).max(y), (2.0, 3.0)),
        (y.max(var(NAN)), (2.0, 3.0)),
        (var(NAN).min(y), (2.0, 3.0)),
        (y.min(var(NAN)), (2.0, 3.0)),
    ] {
        assert_eq!((v.re, v.eps), want);
    }
    let both = var(NAN).max(Dual::new(NAN, 3.0));
    assert!(both.re.is_nan());
}

// ------------------------------------------------------------------ rule 1: kinks and jumps

#[test]
fn kinks_take_the_symmetric_average() {
    // |x| at ±0: 0, the central difference for any step
    for z in [0.0, -0.0] {
        assert_eq!(var(z).abs().eps, 0.0);
        assert_eq!(common::d2(z, 1.0, 1.0).abs().eps.eps, 0.0);
        assert_eq!(central(&|t: f64| t.abs(), z, 0.1), 0.0);
    }
    // max/min at a tie: ½ to each argument, in Dual, DualVec and both layers of
    // Dual<Dual>; max(x, -x) agrees with abs
    for t in [-2.0, 0.0, 1.5] {
        let m = var(t).max(k(t));
        assert_eq!(m.eps, 0.5);
        assert_eq!(k(t).max(var(t)).eps, 0.5);
        assert_eq!(var(t).min(k(t)).eps, 0.5);
        assert_eq!(k(t).min(var(t)).eps, 0.5);
        assert_eq!(central(&|s: f64| s.max(t), t, 0.1), 0.5);
        let v = DualVec::<f64, 2>::variable(t, 0).max(DualVec::variable(t, 1));
        assert_eq!(v.eps, [0.5, 0.5]);
        let v = DualVec::<f64, 2>::variable(t, 0).min(DualVec::variable(t, 1));
        assert_eq!(v.eps, [0.5, 0.5]);
        // x seeded in the inner layer, y in the outer: each layer sees ½
        let h = common::d2(t, 1.0, 0.0).max(common::d2(t, 0.0, 1.0));
        assert_eq!(
            (h.re.eps, h.eps.re),
            (0.5, 0.5),
            "max tie in Dual<Dual> at {t}"
        );
        let h = common::d2(t, 1.0, 0.0).min(common::d2(t, 0.0, 1.0));
        assert_eq!(
            (h.re.eps, h.eps.re),
            (0.5, 0.5),
            "min tie in Dual<Dual> at {t}"
        );
    }
    let x = var(0.0);
    assert_eq!(x.max(-x).eps, x.abs().eps);
    // hypot and atan2 at the origin, every signed zero: 0 partials
    for (a, b) in [(0.0, 0.0), (-0.0, 0.0), (0.0, -0.0), (-0.0, -0.0)] {
        let h = var(a).hypot(var(b));
        assert_eq!((h.re, h.eps), (0.0, 0.0));
        for g in [var(a).atan2(k(b)), k(a).atan2(var(b)), var(a).atan2(var(b))] {
            assert_identical(g.re, a.atan2(b), "atan2 at the origin");
            assert_eq!(g.eps, 0.0, "atan2({a}, {b})");
        }
    }
    // copysign(x, s) at x = ±0: 0
    for z in [0.0, -0.0] {
        for s in [1.0, -1.0, 0.0, -0.0] {
            assert_eq!(var(z).copysign(k(s)).eps, 0.0);
        }
    }
    // copysign's partial in the sign is 0; in x it is sign(x)·sign(s)
    assert_eq!(k(2.0).copysign(var(-1.0)).eps, 0.0);
    assert_eq!(var(-2.0).copysign(k(-1.0)).eps, 1.0);
    assert_eq!(var(-2.0).copysign(k(1.0)).eps, -1.0);
    // jumps: 0 at the jump itself
    assert_eq!(var(0.0).signum().eps, 0.0);
    assert_eq!(var(-0.0).signum().eps, 0.0);
    for n in [-2.0, -1.0, 0.0, 1.0, 3.0] {
        assert_eq!(var(n).floor().eps, 0.0);
        assert_eq!(var(n).ceil().eps, 0.0);
        assert_eq!(var(n).trunc().eps, 0.0);
        assert_eq!(var(n + 0.5).round().eps, 0.0);
        assert_eq!(var(n).fract().eps, 1.0);
        assert_eq!(common::d2(n, 1.0, 1.0).floor().eps.eps, 0.0);
    }
}

// ------------------------------------------------------------------ rule 2: infinite slopes

#[test]
fn infinite_slopes_are_infinite() {
    let slope = |f: fn(Dual<f64>) -> Dual<f64>, x: f64| f(var(x)).eps;
    for z in [0.0, -0.0] {
        assert_eq!(slope(|x| x.sqrt(), z), INF, "sqrt'({z:?})");
        assert_eq!(slope(|x| x.cbrt(), z), INF, "cbrt'({z:?})");
        assert_eq!(slope(|x| x.ln(), z), INF, "ln'({z:?})");
        assert_eq!(slope(|x| x.log2(), z), INF, "log2'({z:?})");
        assert_eq!(slope(|x| x.log10(), z), INF, "log10'({z:?})");
        // log_b x: 1/(x ln b), whose sign at 0 is that of ln b
        assert_eq!(var(z).log(k(10.0)).eps, INF, "d/dx log_10 x at {z:?}");
        assert_eq!(var(z).log(k(0.5)).eps, NEG_INF, "d/dx log_0.5 x at {z:?}");
        // x^y with 0 < y < 1, in the base
        assert_eq!(var(z).powf(k(0.5)).eps, INF, "d/dx x^0.5 at {z:?}");
        assert_eq!(var(z).powf(k(0.25)).eps, INF, "d/dx x^0.25 at {z:?}");
    }
    for one in [1.0, -1.0] {
        assert_eq!(slope(|x| x.asin(), one), INF, "asin'({one})");
        assert_eq!(slope(|x| x.acos(), one), NEG_INF, "acos'({one})");
        assert_eq!(slope(|x| x.atanh(), one), INF, "atanh'({one})");
    }
    assert_eq!(slope(|x| x.acosh(), 1.0), INF);
    // the values there are as f64's
    assert_eq!(var(1.0).atanh().re, INF);
    assert_eq!(var(-1.0).atanh().re, NEG_INF);
    assert_eq!(var(0.0).ln().re, NEG_INF);
}

#[test]
fn slopes_at_infinity() {
    let at = |f: fn(Dual<f64>) -> Dual<f64>, x: f64| {
        let y = f(var(x));
        (y.re, y.eps)
    };
    assert_eq!(at(|x| x.exp(), NEG_INF), (0.0, 0.0));
    assert_eq!(at(|x| x.exp(), INF), (INF, INF));
    assert_eq!(at(|x| x.exp2(), NEG_INF), (0.0, 0.0));
    assert_eq!(at(|x| x.exp_m1(), NEG_INF), (-1.0, 0.0));
    assert_eq!(at(|x| x.ln(), INF), (INF, 0.0));
    assert_eq!(at(|x| x.ln_1p(), INF), (INF, 0.0));
    assert_eq!(at(|x| x.log2(), INF), (INF, 0.0));
    assert_eq!(at(|x| x.log10(), INF), (INF, 0.0));
    assert_eq!(at(|x| x.sqrt(), INF), (INF, 0.0));
    assert_eq!(at(|x| x.cbrt(), INF), (INF, 0.0));
    assert_eq!(at(|x| x.cbrt(), NEG_INF), (NEG_INF, 0.0));
    assert_eq!(at(|x| x.atan(), INF), (FRAC_PI_2, 0.0));
    assert_eq!(at(|x| x.atan(), NEG_INF), (-FRAC_PI_2, 0.0));
    assert_eq!(at(|x| x.tanh(), INF), (1.0, 0.0));
    assert_eq!(at(|x| x.tanh(), NEG_INF), (-1.0, 0.0));
    assert_eq!(at(|x| x.sinh(), NEG_INF), (NEG_INF, INF));
    assert_eq!(at(|x| x.cosh(), NEG_INF), (INF, NEG_INF));
    assert_eq!(at(|x| x.asinh(), INF), (INF, 0.0));
    assert_eq!(at(|x| x.asinh(), NEG_INF), (NEG_INF, 0.0));
    assert_eq!(at(|x| x.acosh(), INF), (INF, 0.0));
    assert_eq!(at(|x| x.abs(), NEG_INF), (INF, -1.0));
    assert_eq!(at(|x| x.recip(), INF), (0.0, 0.0));
    assert_eq!(at(|x| x.recip(), 0.0), (INF, NEG_INF));
    assert_eq!(at(|x| x.recip(), -0.0), (NEG_INF, NEG_INF));
    assert_eq!(at(|x| 2.0 / x, INF), (0.0, 0.0));
    let (v, d) = at(|x| x.sin(), INF);
    assert!(v.is_nan() && d.is_nan());
    // atan2 far out along the x axis: the angle is flat in x there
    assert_eq!(k(1.0).atan2(var(INF)).eps, 0.0);
}

// ------------------------------------------------------------------ rule 3: zero tangents contribute nothing

#[test]
fn zero_tangent_contributes_nothing() {
    // a constant at an infinite-slope point is still a constant
    for (name, y) in [
        ("sqrt(0)", k(0.0).sqrt()),
        ("cbrt(0)", k(0.0).cbrt()),
        ("ln(0)", k(0.0).ln()),
        ("asin(1)", k(1.0).asin()),
        ("acos(-1)", k(-1.0).acos()),
        ("acosh(1)", k(1.0).acosh()),
        ("atanh(1)", k(1.0).atanh()),
        ("ln(-1)", k(-1.0).ln()),
        ("sqrt(-1)", k(-1.0).sqrt()),
        ("NaN.sin()", k(NAN).sin()),
        ("0^0.5", k(0.0).powf(k(0.5))),
    ] {
        assert_eq!(y.eps, 0.0, "{name}");
    }
    // ... and does not poison a sum it takes part in
    let x = var(1.5);
    assert_eq!((x + k(0.0).sqrt()).eps, 1.0);
    assert_eq!((x * k(0.0).ln().exp()).eps, 0.0);
    // a constant exponent at a negative base: ∂/∂y would be NaN, but y is constant
    let p = var(-2.0).powf(k(3.0));
    assert_eq!((p.re, p.eps), (-8.0, 12.0));
    let p = var(-2.0).powi(3);
    assert_eq!((p.re, p.eps), (-8.0, 12.0));
    // with the exponent varying as well, the NaN is real
    assert!(var(-2.0).powf(var(3.0)).eps.is_nan());
    // DualVec: only the seeded lane sees the infinite slope
    let v = DualVec::<f64, 3>::new(0.0, [1.0, 0.0, 0.0]).sqrt();
    assert_eq!(v.eps, [INF, 0.0, 0.0]);
    // Dual<Dual>: a constant inner layer
    let h = common::d2(0.0, 0.0, 1.0).sqrt();
    assert_eq!((h.re.eps, h.eps.re), (0.0, INF));
}

#[test]
fn dividing_by_a_constant_keeps_zero_tangents_zero() {
    // x / c for a constant c: ∂/∂c = -x/c² is infinite (or overflows) while
    // x / c is finite; c's zero tangent must not turn that into 0·∞ = NaN
    let tiny = 1e-160;
    let q = var(1.0) / k(tiny);
    assert_eq!((q.re, q.eps), (1e160, 1e160));
    assert_eq!((var(1.0) / k(0.0)).eps, INF);
    let q = var(1e-300) / k(5e-324);
    assert!(q.re.is_finite());
    assert!(!q.eps.is_nan(), "tangent of x / 5e-324 is NaN");
    // a constant divided by a constant tiny x
    assert_eq!((2.0 / k(tiny)).eps, 0.0);
    assert_eq!((k(2.0) / k(tiny)).eps, 0.0);
    // the gradient of x0 + 1/x1 at x1 = 1e-160: ∂/∂x0 is exactly 1
    fn f<const N: usize>(x: &[DualVec<f64, N>]) -> DualVec<f64, N> {
        x[0] + 1.0 / x[1]
    }
    let (v, g) = forward::gradient(f::<2>, &[1.0, tiny]);
    assert_eq!(v, 1.0 + 1e160);
    assert_eq!(g, vec![1.0, NEG_INF]);
    let (_, g) = forward::gradient(f::<1>, &[1.0, tiny]);
    assert_eq!(g, vec![1.0, NEG_INF]);
    fn h<S: dualtape::Scalar<Real = f64>>(x: &[S]) -> S {
        x[0] + S::constant(1.0) / x[1]
    }
    let (_, g) = forward::gradient(h::<DualVec<f64, 2>>, &[1.0, tiny]);
    assert_eq!(g, vec![1.0, NEG_INF]);
    let (_, g) = forward::gradient(|x: &[DualVec<f64, 2>]| x[0] / x[1], &[1.0, tiny]);
    assert_eq!(g[0], 1e160);
}

// ------------------------------------------------------------------ rule 4: powf

#[test]
fn powf_conventions() {
    let both = |x: f64, y: f64| {
        let gx = var(x).powf(k(y));
        let gy = k(x).powf(var(y));
        assert_identical(gx.re, x.powf(y), "powf value");
        (gx.re, gx.eps, gy.eps)
    };
    // ∂/∂x = y x^(y-1), 0 when y = 0 (also at x = 0, where 0^0 = 1)
    assert_eq!(both(3.0, 0.0).1, 0.0);
    assert_eq!(both(0.0, 0.0).0, 1.0);
    assert_eq!(both(0.0, 0.0).1, 0.0);
    assert_eq!(both(0.0, 1.0).1, 1.0);
    assert_eq!(both(0.0, 2.0), (0.0, 0.0, 0.0));
    // ∂/∂y = x^y ln x, 0 where x^y = 0
    assert_eq!(both(0.0, 0.5).2, 0.0);
    assert_eq!(both(0.0, 3.0).2, 0.0);
    let (v, _, dy) = both(0.5, INF);
    assert_eq!((v, dy), (0.0, 0.0));
    assert_eq!(both(1.0, 7.5).2, 0.0);
    let (v, dx, dy) = both(2.0, 3.0);
    assert_eq!((v, dx), (8.0, 12.0));
    assert_rel(dy, 8.0 * 2f64.ln(), 1e-15, "d/dy 2^y at 3");
    // a negative base: the value is IEEE's, NaN for a non-integer exponent
    let (v, dx, dy) = both(-2.0, 3.0);
    assert_eq!((v, dx), (-8.0, 12.0));
    assert!(
        dy.is_nan(),
        "x^y at a negative base is not differentiable in y"
    );
    let (v, dx, _) = both(-8.0, 1.0 / 3.0);
    assert!(v.is_nan() && dx.is_nan());
    let (v, dx, _) = both(-2.0, -2.0);
    assert_eq!((v, dx), (0.25, 0.25));
}

// ------------------------------------------------------------------ scale: tiny and huge arguments

fn scaled_atan2_prop(u: u64, w: u64, s: u64) -> Result<(), String> {
    // atan2(t a, t b) for t from 1e-300 to 1e300: the angle does not depend
    // on t, the partials are (b, -a)/((a² + b²) t)
    let (a, b) = {
        let r = log_uniform(u, -0.5, 0.5);
        let th = uniform(w, -3.0, 3.0);
        (r * th.sin(), r * th.cos())
    };
    let t = log_uniform(s, -300.0, 300.0);
    let (y, x) = (a * t, b * t);
    let r2 = a * a + b * b;
    let gy = var(y).atan2(k(x));
    let gx = k(y).atan2(var(x));
    exact("atan2 value", gy.re, y.atan2(x))?;
    check_rel(
        &format!("∂/∂y atan2({y:e}, {x:e})"),
        gy.eps,
        b / r2 / t,
        1e-14,
        0.0,
    )?;
    check_rel(
        &format!("∂/∂x atan2({y:e}, {x:e})"),
        gx.eps,
        -a / r2 / t,
        1e-14,
        0.0,
    )?;
    let hy = var(y).hypot(k(x));
    check_rel(
        &format!("∂/∂y hypot({y:e}, {x:e})"),
        hy.eps,
        a / r2.sqrt(),
        1e-14,
        0.0,
    )?;
    Ok(())
}

#[test]
fn atan2_and_hypot_at_every_scale() {
    qc3(scaled_atan2_prop);
}

// ------------------------------------------------------------------ integer powers at the ends of i32

#[test]
fn powi_extreme_exponents() {
    for x in [0.5, 1.0, 2.0, -1.0] {
        for n in [i32::MIN, i32::MIN + 1, i32::MAX] {
            let y = var(x).powi(n);
            assert_identical(y.re, x.powi(n), &format!("{x}^{n}"));
            // n x^(n-1) = n x^n / x
            let want = n as f64 * x.powi(n) / x;
            assert_identical(y.eps, want, &format!("d/dx {x}^{n}"));
        }
    }
}

// ------------------------------------------------------------------ NaN through the clamping helpers

#[test]
fn clamp_and_abs_sub_propagate_nan_as_f64() {
    use nalgebra::RealField;
    use num_traits::{Float, Signed};
    // f64::clamp(NaN, lo, hi) is NaN, as is simba's RealField::clamp
    assert!(f64::NAN.clamp(0.0, 1.0).is_nan());
    assert!(<f64 as RealField>::clamp(NAN, 0.0, 1.0).is_nan());
    assert!(var(NAN).clamp(k(0.0), k(1.0)).re.is_nan());
    assert!(<Dual<f64> as RealField>::clamp(var(NAN), k(0.0), k(1.0))
        .re
        .is_nan());
    assert!(Float::clamp(var(NAN), k(0.0), k(1.0)).re.is_nan());
    assert!(DualVec::<f64, 2>::variable(NAN, 0)
        .clamp(DualVec::from(0.0), DualVec::from(1.0))
        .re
        .is_nan());
    // abs_sub (fdim): NaN if either argument is NaN
    #[allow(deprecated)]
    let want = Float::abs_sub(NAN, 1.0);
    assert!(want.is_nan());
    assert!(Float::abs_sub(var(NAN), k(1.0)).re.is_nan());
    assert!(Float::abs_sub(k(1.0), var(NAN)).re.is_nan());
    assert!(Signed::abs_sub(&var(NAN), &k(1.0)).re.is_nan());
    assert!(Signed::abs_sub(&k(1.0), &var(NAN)).re.is_nan());
    // and the ordinary values and slopes
    let d = Float::abs_sub(var(3.0), k(1.0));
    assert_eq!((d.re, d.eps), (2.0, 1.0));
    let d = Float::abs_sub(var(1.0), k(3.0));
    assert_eq!((d.re, d.eps), (0.0, 0.0));
}
