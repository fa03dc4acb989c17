//! The conventions at awkward points (`rules` module docs, rules 1 to 5) hold
//! in reverse mode exactly as in forward mode: zero adjoints and zero
//! partials block infinities and NaN, kinks take the symmetric average,
//! infinite slopes are infinite.
//!
//! Every expected value here is derived by hand from the documented
//! convention; reverse and forward must both give it.
//!
//! Not asserted, because the modes legitimately differ: when several paths
//! through an infinite slope cancel exactly, one mode sees the exact zero and
//! the other sums infinities. `let s = x.sqrt(); s - s + x` at 0 is 1 in
//! reverse (the adjoints of `s` cancel before meeting ∞) but NaN in forward
//! (∞ - ∞ tangents); `(2x - x - x).sqrt() + x` is 1 in forward (the tangent
//! of `2x - x - x` is exactly 0) but NaN in reverse at every x.

use std::hint::black_box;

use crate::support::compare::equal;
use dualtape::{forward, reverse, DualVec, Scalar};

/// Reverse gradient, forward gradient (`DualVec`) and the expected gradient
/// are the same numbers (NaN matches NaN, infinities match exactly).
#[track_caller]
fn assert_gradient<F>(name: &str, f: F, x: &[f64], want: &[f64])
where
    F: Fn(&[dualtape::Var]) -> dualtape::Var,
{
    let (_, rg) = reverse::gradient(f, x);
    assert_eq!(rg.len(), want.len());
    for (i, (&g, &w)) in rg.iter().zip(want).enumerate() {
        assert!(equal(g, w), "{name}: reverse ∂{i} = {g:e}, want {w:e}");
    }
}

#[track_caller]
fn assert_forward<F>(name: &str, f: F, x: &[f64], want: &[f64])
where
    F: Fn(&[DualVec<f64, 4>]) -> DualVec<f64, 4>,
{
    let (_, fg) = forward::gradient(f, x);
    for (i, (&g, &w)) in fg.iter().zip(want).enumerate() {
        assert!(equal(g, w), "{name}: forward ∂{i} = {g:e}, want {w:e}");
    }
}

/// Checks a generic function in both modes against a hand-derived gradient.
macro_rules! both {
    ($name:expr, $f:ident, $x:expr, $want:expr) => {{
        assert_gradient($name, |v| $f(v), &$x, &$want);
        assert_forward($name, |v| $f(v), &$x, &$want);
    }};
}

// ------------------------------------------------------------------ rule 3

fn sqrt_times_zero_plus_x<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].sqrt() * 0.0 + x[0]
}

/// `sqrt(x)` is computed but never used (the branch is not taken).
fn unused_branch<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let s = x[0].sqrt();
    if black_box(false) {
        s
    } else {
        x[0] * 3.0
    }
}

#[allow(clippy::eq_op)] // x - x on purpose: one node whose partial is 0
fn sqrt_of_x_minus_x<S: Scalar<Real = f64>>(x: &[S]) -> S {
    (x[0] - x[0]).sqrt() + x[0]
}

fn sqrt_of_x_times_zero<S: Scalar<Real = f64>>(x: &[S]) -> S {
    (x[0] * 0.0).sqrt() + x[0] * 2.0
}

fn sqrt_x_times_y<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].sqrt() * x[1]
}

fn ln_times_zero<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].ln() * 0.0 + x[0] * x[0]
}

fn const_exponent<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].powf(S::constant(3.0))
}

fn asin_at_one_unused<S: Scalar<Real = f64>>(x: &[S]) -> S {
    // asin'(1) = ∞ and acosh'(1) = ∞, both multiplied by a zero partial.
    x[0].asin() * 0.0 + x[0].acosh() * 0.0 + x[0]
}

#[test]
fn zero_partial_blocks_an_infinite_slope() {
    // d/dx [sqrt(x)·0 + x] = 1 at x = 0, not NaN.
    both!("sqrt(x)*0 + x", sqrt_times_zero_plus_x, [0.0], [1.0]);
    both!("ln(x)*0 + x²", ln_times_zero, [0.0], [0.0]);
    both!(
        "asin(x)*0 + acosh(x)*0 + x",
        asin_at_one_unused,
        [1.0],
        [1.0]
    );
    // sqrt(0)'s infinite partial meets the zero partial of x - x (one node).
    both!("sqrt(x - x) + x", sqrt_of_x_minus_x, [2.0], [1.0]);
    both!("sqrt(x*0) + 2x", sqrt_of_x_times_zero, [-1.5], [2.0]);
    // ∂/∂x sqrt(x)·y = y/(2 sqrt x): the zero y blocks the infinite slope;
    // ∂/∂y = sqrt(x) = 0.
    both!(
        "sqrt(x)*y at (0, 0)",
        sqrt_x_times_y,
        [0.0, 0.0],
        [0.0, 0.0]
    );
}

#[test]
fn zero_adjoint_ignores_an_unused_infinite_slope() {
    both!("unused sqrt(0)", unused_branch, [0.0], [3.0]);
}

#[test]
fn constant_exponent_at_a_negative_base_is_not_nan() {
    // d/dx x³ = 3x² = 12 at -2; the NaN ∂/∂y is never used.
    both!("x^3.0 at -2", const_exponent, [-2.0], [12.0]);
}

// ------------------------------------------------------------------ rule 2

fn sqrt0<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].sqrt()
}
fn cbrt0<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].cbrt()
}
fn ln0<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].ln()
}
fn asin0<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].asin()
}
fn acos0<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].acos()
}
fn acosh0<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].acosh()
}
fn atanh0<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].atanh()
}
fn pow_half<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].powf(x[1])
}

#[test]
fn infinite_slopes_are_infinite() {
    let inf = f64::INFINITY;
    both!("sqrt at 0", sqrt0, [0.0], [inf]);
    both!("cbrt at 0", cbrt0, [0.0], [inf]);
    both!("ln at 0", ln0, [0.0], [inf]);
    both!("asin at 1", asin0, [1.0], [inf]);
    both!("asin at -1", asin0, [-1.0], [inf]);
    both!("acos at 1", acos0, [1.0], [-inf]);
    both!("acosh at 1", acosh0, [1.0], [inf]);
    both!("atanh at 1", atanh0, [1.0], [inf]);
    // ∂/∂x x^y = y x^(y-1) = ∞ at x = 0, y = 1/2; ∂/∂y = x^y ln x → 0.
    both!("powf(0, 0.5)", pow_half, [0.0, 0.5], [inf, 0.0]);
}

// ------------------------------------------------------------------ rule 1

fn abs0<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].abs()
}
fn max2<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].max(x[1])
}
fn min2<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].min(x[1])
}
fn max_x_negx<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].max(-x[0])
}
fn max_x_x<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].max(x[0])
}
fn hypot2<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].hypot(x[1])
}
fn atan2_2<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].atan2(x[1])
}
fn copysign2<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].copysign(x[1])
}
fn steps<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].floor() + x[0].ceil() + x[0].round() + x[0].trunc() + x[0].signum()
}
fn fract1<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].fract()
}

#[test]
fn kinks_take_the_symmetric_average() {
    both!("abs at 0", abs0, [0.0], [0.0]);
    both!("abs at -2", abs0, [-2.0], [-1.0]);
    both!("max tie", max2, [1.5, 1.5], [0.5, 0.5]);
    both!("min tie", min2, [-1.0, -1.0], [0.5, 0.5]);
    both!("max(x, -x) at 0 (= abs)", max_x_negx, [0.0], [0.0]);
    both!("max(x, x)", max_x_x, [0.7], [1.0]);
    both!("hypot at the origin", hypot2, [0.0, 0.0], [0.0, 0.0]);
    both!("atan2 at the origin", atan2_2, [0.0, 0.0], [0.0, 0.0]);
    both!("copysign(0, s)", copysign2, [0.0, -2.0], [0.0, 0.0]);
    both!("copysign(-3, -2)", copysign2, [-3.0, -2.0], [1.0, 0.0]);
    both!("copysign(-3, 2)", copysign2, [-3.0, 2.0], [-1.0, 0.0]);
    for x in [-2.0, -0.5, 0.0, 0.5, 1.0, 2.5] {
        both!("floor+ceil+round+trunc+signum at a jump", steps, [x], [0.0]);
        both!("fract", fract1, [x], [1.0]);
    }
}

// ------------------------------------------------------------------ rules 4 and 5

#[test]
fn powf_in_both_arguments_at_awkward_points() {
    // x^y at (-2, 3): ∂x = 3·4 = 12; ∂y is NaN (x^y not differentiable in y
    // for a negative base).
    both!("powf(-2, 3)", pow_half, [-2.0, 3.0], [12.0, f64::NAN]);
    // at (0, 2): ∂x = 2·0 = 0, ∂y = 0 (the limit of 0^y ln 0).
    both!("powf(0, 2)", pow_half, [0.0, 2.0], [0.0, 0.0]);
    // at (3, 0): ∂x = 0 (y = 0), ∂y = ln 3.
    both!("powf(3, 0)", pow_half, [3.0, 0.0], [0.0, 3f64.ln()]);
}

#[test]
fn nan_in_nan_out_except_max_and_min() {
    both!("sqrt(NaN)", sqrt0, [f64::NAN], [f64::NAN]);
    both!("ln(NaN)", ln0, [f64::NAN], [f64::NAN]);
    // max/min follow IEEE: they return the non-NaN argument and its derivative.
    both!("max(NaN, y)", max2, [f64::NAN, 1.0], [0.0, 1.0]);
    both!("min(x, NaN)", min2, [1.0, f64::NAN], [1.0, 0.0]);
}

// ------------------------------------------------------------------ powi at 0 and at the extremes

fn powi_n<S: Scalar<Real = f64>>(x: S, n: i32) -> S {
    x.powi(n)
}

#[test]
fn powi_of_zero_with_a_negative_exponent_is_infinite_not_nan() {
    // 0^-1 = +∞ and (-0)^-1 = -∞ as for f64; the derivative -n·x^(-n-1) is
    // -∞ at ±0 for n = 1 (−x⁻²), and for n = 3 (−3x⁻⁴).
    for (x, n) in [(0.0, -1), (-0.0, -1), (0.0, -2), (0.0, -3), (-0.0, -3)] {
        let want_v = f64::powi(x, n);
        let want_d = n as f64 * f64::powi(x, n - 1);
        let (v, g) = reverse::gradient(|v| powi_n(v[0], n), &[x]);
        assert!(
            equal(v, want_v),
            "reverse value of ({x:?}).powi({n}) = {v}, want {want_v}"
        );
        assert!(
            equal(g[0], want_d),
            "reverse derivative of ({x:?}).powi({n}) = {}, want {want_d}",
            g[0]
        );
        let (fv, fd) = forward::derivative(|v| powi_n(v, n), x);
        assert!(
            equal(fv, want_v),
            "forward value of ({x:?}).powi({n}) = {fv}, want {want_v}"
        );
        assert!(
            equal(fd, want_d),
            "forward derivative of ({x:?}).powi({n}) = {fd}, want {want_d}"
        );
    }
}

#[test]
fn powi_value_near_the_overflow_threshold() {
    // (1e-120)^-2 = 1e240 is finite, although x^-3 = 1e360 overflows.
    let x = 1e-120;
    let (v, _) = reverse::gradient(|v| powi_n(v[0], -2), &[x]);
    assert!(
        (v / 1e240 - 1.0).abs() < 1e-14,
        "reverse value of 1e-120.powi(-2) = {v:e}, want 1e240"
    );
}

#[test]
fn powi_with_the_most_negative_exponent() {
    // x^i32::MIN at x = 1 is 1, derivative i32::MIN · 1 = -2147483648.
    let (v, g) = reverse::gradient(|v| powi_n(v[0], i32::MIN), &[1.0]);
    assert_eq!(v, 1.0);
    assert_eq!(g[0], i32::MIN as f64);
    // and at x = -1: (-1)^MIN = 1 (even), derivative MIN · (-1)^(MIN-1) = -MIN.
    let (v, g) = reverse::gradient(|v| powi_n(v[0], i32::MIN), &[-1.0]);
    assert_eq!(v, 1.0);
    assert_eq!(g[0], -(i32::MIN as f64));
}

// ------------------------------------------------------------------ second order

fn sqrt_zero_plus_square<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0].sqrt() * 0.0 + x[0] * x[0] * x[1]
}

#[test]
fn rule_three_holds_in_the_hessian() {
    // f = sqrt(x)·0 + x² y at (0, 2): H = [[2y, 2x], [2x, 0]] = [[4, 0], [0, 0]].
    let (_, g, h) = reverse::hessian(sqrt_zero_plus_square, &[0.0, 2.0]);
    assert_eq!(g, vec![0.0, 0.0]);
    assert_eq!(h.as_slice(), &[4.0, 0.0, 0.0, 0.0]);
    let (_, fg, fh) = forward::hessian(sqrt_zero_plus_square, &[0.0, 2.0]);
    assert_eq!(fg, vec![0.0, 0.0]);
    assert_eq!(fh.as_slice(), &[4.0, 0.0, 0.0, 0.0]);
    let (_, hv) = reverse::hvp(sqrt_zero_plus_square, &[0.0, 2.0], &[1.0, 1.0]);
    assert_eq!(hv, vec![4.0, 0.0]);
}
