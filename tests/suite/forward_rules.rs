//! Every elementary function in forward mode, over its domain (quickcheck):
//!
//! - the value equals `f64`'s own function bit for bit;
//! - the `Dual<f64>` derivative equals a closed form written here (1e-13
//!   relative, with an absolute floor where the rule's formula is a difference
//!   of terms of that size), and agrees with Richardson central differences of
//!   the plain `f64` function;
//! - `Dual<Dual<f64>>` gives the same first derivative bit for bit, and the
//!   second derivative equals a closed form;
//! - `DualVec<f64, N>` lanes seeded with 1, -2, ½ (exact scalings) are exactly
//!   that multiple of the `Dual` derivative.
//!
//! Points are drawn inside each domain, away from its singularities and jumps
//! by the `len` given for finite differences; the awkward points themselves
//! are in `forward_edges.rs`.

use crate::support::forward as common;

use std::f64::consts::{FRAC_PI_2, PI};

use crate::support::compare::*;
use common::*;
use dualtape::{Dual, DualVec};

use crate::support::binary::Binary as B;
use crate::support::elementary::Unary as U;

type D2 = Dual<Dual<f64>>;
type V3 = DualVec<f64, 3>;
type V2 = DualVec<f64, 2>;

/// Distance from `x` to the nearest integer.
fn dist_int(x: f64) -> f64 {
    (x - x.round()).abs()
}

/// The distance in `y` from `y` to the nearest jump of `x % y` (where `x / y`
/// is an integer), halved, capped at 1.
fn rem_len_divisor(x: f64, y: f64) -> f64 {
    let q = x / y;
    let to = |m: f64| {
        if m == 0.0 {
            f64::INFINITY
        } else {
            (y - x / m).abs()
        }
    };
    (to(q.floor()).min(to(q.ceil())) / 2.0).min(1.0)
}

/// An integer in `[-50, 50)` from the low bits plus a fraction in
/// `[0.05, 0.95)` from the high bits: away from the integer jumps.
fn off_integer(u: u64) -> f64 {
    ((u % 100) as f64 - 50.0) + uniform(u, 0.05, 0.95)
}

#[allow(clippy::too_many_arguments)]
fn unary_check(
    x: f64,
    plain: fn(f64) -> f64,
    dual: fn(Dual<f64>) -> Dual<f64>,
    dual2: fn(D2) -> D2,
    dvec: fn(V3) -> V3,
    d1: f64,
    d2: f64,
    len: f64,
    floor1: f64,
    floor2: f64,
) -> Result<(), String> {
    let y = dual(Dual::variable(x));
    exact(&format!("value at {x:e}"), y.re, plain(x))?;
    check_rel(&format!("f' at {x:e}"), y.eps, d1, REL, floor1)?;
    check_fd("f'", &plain, x, len, y.eps)?;

    let z = dual2(common::d2(x, 1.0, 1.0));
    exact(&format!("nested value at {x:e}"), z.re.re, plain(x))?;
    check_rel(
        &format!("nested f' (inner) at {x:e}"),
        z.re.eps,
        d1,
        REL,
        floor1,
    )?;
    check_rel(
        &format!("nested f' (outer) at {x:e}"),
        z.eps.re,
        d1,
        REL,
        floor1,
    )?;
    check_rel(&format!("f'' at {x:e}"), z.eps.eps, d2, REL, floor2)?;

    let v = dvec(DualVec::new(x, [1.0, -2.0, 0.5]));
    exact(&format!("DualVec value at {x:e}"), v.re, plain(x))?;
    for (k, s) in [1.0, -2.0, 0.5].into_iter().enumerate() {
        exact(&format!("DualVec lane {k} at {x:e}"), v.eps[k], s * y.eps)?;
    }
    Ok(())
}

/// One quickcheck property per unary function of the table
/// (`support::elementary`): where to sample `x`, the length over which the
/// function is smooth there (for finite differences), and absolute floors
/// where the rule's formula is a difference of terms of that size.
macro_rules! unary {
    ($(
        $name:ident: $op:ident, x = |$u:ident| $dom:expr;
            len = |$x:ident| $len:expr $(, floors = ($f1:expr, $f2:expr))?;
    )*) => {$(
        #[test]
        fn $name() {
            const OP: U = U::$op;
            fn plain(x: f64) -> f64 { OP.apply(x) }
            fn dual(x: Dual<f64>) -> Dual<f64> { OP.apply(x) }
            fn dual2(x: D2) -> D2 { OP.apply(x) }
            fn dvec(x: V3) -> V3 { OP.apply(x) }
            #[allow(unused_variables)]
            fn prop($u: u64) -> Result<(), String> {
                let x: f64 = $dom;
                #[allow(unused_mut, unused_assignments)]
                let (mut f1, mut f2) = (0.0, 0.0);
                $( f1 = { let $x = x; $f1 }; f2 = { let $x = x; $f2 }; )?
                let len = { let $x = x; $len };
                unary_check(x, plain, dual, dual2, dvec, OP.d1(x), OP.d2(x), len, f1, f2)
            }
            qc1(prop);
        }
    )*};
}

unary! {
    sin: Sin, x = |u| uniform(u, -20.0, 20.0); len = |x| 1.0;
    cos: Cos, x = |u| uniform(u, -20.0, 20.0); len = |x| 1.0;
    tan: Tan, x = |u| uniform(u, -1.45, 1.45);
        len = |x| ((FRAC_PI_2 - x.abs()) / 2.0).min(1.0);
    // the nested rule differentiates (1-x)(1+x) as (1-x) - (1+x)
    asin: Asin, x = |u| uniform(u, -0.99, 0.99); len = |x| (1.0 - x.abs()) / 2.0, floors = (0.0, 1.0);
    acos: Acos, x = |u| uniform(u, -0.99, 0.99); len = |x| (1.0 - x.abs()) / 2.0, floors = (0.0, 1.0);
    atan: Atan, x = |u| uniform(u, -50.0, 50.0); len = |x| 1.0;
    sinh: Sinh, x = |u| uniform(u, -20.0, 20.0); len = |x| 1.0;
    cosh: Cosh, x = |u| uniform(u, -20.0, 20.0); len = |x| 1.0;
    // 1 - tanh² cancels for large |x|: the error is absolute, about ε
    tanh: Tanh, x = |u| uniform(u, -20.0, 20.0); len = |x| 1.0, floors = (1.0, 1.0);
    asinh: Asinh, x = |u| uniform(u, -50.0, 50.0); len = |x| 1.0;
    acosh: Acosh, x = |u| 1.0 + log_uniform(u, -2.0, 1.7); len = |x| ((x - 1.0) / 2.0).min(1.0);
    atanh: Atanh, x = |u| uniform(u, -0.99, 0.99); len = |x| (1.0 - x.abs()) / 2.0, floors = (0.0, 1.0);
    exp: Exp, x = |u| uniform(u, -30.0, 30.0); len = |x| 1.0;
    exp2: Exp2, x = |u| uniform(u, -30.0, 30.0); len = |x| 1.0;
    exp_m1: ExpM1, x = |u| uniform(u, -30.0, 30.0); len = |x| 1.0;
    ln: Ln, x = |u| log_uniform(u, -3.0, 3.0); len = |x| x / 2.0;
    ln_1p: Ln1p, x = |u| -1.0 + log_uniform(u, -2.0, 2.0); len = |x| ((1.0 + x) / 2.0).min(1.0);
    log2: Log2, x = |u| log_uniform(u, -3.0, 3.0); len = |x| x / 2.0;
    log10: Log10, x = |u| log_uniform(u, -3.0, 3.0); len = |x| x / 2.0;
    sqrt: Sqrt, x = |u| log_uniform(u, -3.0, 3.0); len = |x| x / 2.0;
    cbrt: Cbrt, x = |u| signed_log_uniform(u, -3.0, 3.0); len = |x| x.abs() / 2.0;
    recip: Recip, x = |u| signed_log_uniform(u, -3.0, 3.0); len = |x| x.abs() / 2.0;
    neg: Neg, x = |u| uniform(u, -100.0, 100.0); len = |x| 1.0;
    abs: Abs, x = |u| signed_log_uniform(u, -3.0, 3.0); len = |x| x.abs() / 2.0;
    signum: Signum, x = |u| signed_log_uniform(u, -3.0, 3.0); len = |x| x.abs() / 2.0;
    floor: Floor, x = |u| off_integer(u); len = |x| dist_int(x);
    ceil: Ceil, x = |u| off_integer(u); len = |x| dist_int(x);
    trunc: Trunc, x = |u| off_integer(u); len = |x| dist_int(x);
    round: Round, x = |u| off_integer(u) + 0.5; len = |x| dist_int(x + 0.5);
    fract: Fract, x = |u| off_integer(u); len = |x| dist_int(x);
    // σ'' = σ'(1 - 2σ) is a difference of terms of size σ'
    sigmoid: Sigmoid, x = |u| uniform(u, -30.0, 30.0); len = |x| 1.0, floors = (0.0, 0.25);
    softplus: Softplus, x = |u| uniform(u, -30.0, 30.0); len = |x| 1.0;
    // functions of one variable with a constant second argument
    powf_const_exponent: PowfConst, x = |u| log_uniform(u, -1.0, 1.0); len = |x| x / 2.0;
    powf_const_base: ConstPowf, x = |u| uniform(u, -5.0, 5.0); len = |x| 1.0;
    log_const_base: LogBase3, x = |u| log_uniform(u, -3.0, 3.0); len = |x| x / 2.0;
    two_over_x: CDiv, x = |u| signed_log_uniform(u, -3.0, 3.0); len = |x| x.abs() / 2.0;
    one_minus_x: CSub, x = |u| uniform(u, -100.0, 100.0); len = |x| 1.0;
    x_rem_two: RemC, x = |u| 2.0 * off_integer(u); len = |x| 2.0 * dist_int(x / 2.0);
    five_rem_x: CRem, x = |u| { let q = off_integer(u).abs() + 1.0; 5.0 / q };
        len = |x| rem_len_divisor(5.0, x);
}

// ------------------------------------------------------------------ integer powers

fn powi_prop(u: u64, m: u64) -> Result<(), String> {
    let n = (m % 15) as i32 - 7;
    let x = signed_log_uniform(u, -1.0, 1.0);
    let nf = n as f64;
    let y = Dual::variable(x).powi(n);
    exact(&format!("{x:e}^{n}"), y.re, x.powi(n))?;
    check_rel(
        &format!("d/dx {x:e}^{n}"),
        y.eps,
        nf * x.powf(nf - 1.0),
        REL,
        0.0,
    )?;
    // the k-th derivative grows like |n|^k: shrink the step with |n|
    let len = x.abs() / (2.0 * (n.abs() as f64 + 1.0));
    check_fd("powi", &|t| t.powi(n), x, len, y.eps)?;
    let z = common::d2(x, 1.0, 1.0).powi(n);
    check_rel(
        &format!("d²/dx² {x:e}^{n}"),
        z.eps.eps,
        nf * (nf - 1.0) * x.powf(nf - 2.0),
        REL,
        0.0,
    )?;
    let v = DualVec::<f64, 3>::new(x, [1.0, -2.0, 0.5]).powi(n);
    exact("DualVec lane 1", v.eps[1], -2.0 * y.eps)?;
    Ok(())
}

#[test]
fn powi() {
    qc2(powi_prop);
}

// ------------------------------------------------------------------ binary functions

#[allow(clippy::too_many_arguments)]
fn binary_check(
    (x, y): (f64, f64),
    plain: fn(f64, f64) -> f64,
    dual: fn(Dual<f64>, Dual<f64>) -> Dual<f64>,
    dual2: fn(D2, D2) -> D2,
    dvec: fn(V2, V2) -> V2,
    (dx, dy): (f64, f64),
    (dxx, dxy, dyy): (f64, f64, f64),
    (len_x, len_y): (f64, f64),
    (floor1, floor2): (f64, f64),
) -> Result<(), String> {
    let at = format!("({x:e}, {y:e})");
    let c = Dual::from;
    let gx = dual(Dual::variable(x), c(y));
    let gy = dual(c(x), Dual::variable(y));
    let gxy = dual(Dual::variable(x), Dual::variable(y));
    exact(&format!("value at {at}"), gx.re, plain(x, y))?;
    exact(&format!("value at {at}"), gy.re, plain(x, y))?;
    check_rel(&format!("∂f/∂x at {at}"), gx.eps, dx, REL, floor1)?;
    check_rel(&format!("∂f/∂y at {at}"), gy.eps, dy, REL, floor1)?;
    check_rel(
        &format!("∂f/∂x + ∂f/∂y at {at}"),
        gxy.eps,
        dx + dy,
        REL,
        floor1.max(dx.abs()).max(dy.abs()),
    )?;
    check_fd("∂f/∂x", &|t| plain(t, y), x, len_x, gx.eps)?;
    check_fd("∂f/∂y", &|t| plain(x, t), y, len_y, gy.eps)?;

    // (inner seed, outer seed) on (x, y): eps.eps = ∂²f along the two seeds
    let seeded =
        |xi: f64, xo: f64, yi: f64, yo: f64| dual2(common::d2(x, xi, xo), common::d2(y, yi, yo));
    let hxx = seeded(1.0, 1.0, 0.0, 0.0);
    let hxy = seeded(1.0, 0.0, 0.0, 1.0);
    let hyx = seeded(0.0, 1.0, 1.0, 0.0);
    let hyy = seeded(0.0, 0.0, 1.0, 1.0);
    exact(&format!("nested value at {at}"), hxy.re.re, plain(x, y))?;
    check_rel(
        &format!("nested ∂f/∂x at {at}"),
        hxx.re.eps,
        dx,
        REL,
        floor1,
    )?;
    check_rel(
        &format!("nested ∂f/∂y at {at}"),
        hyy.eps.re,
        dy,
        REL,
        floor1,
    )?;
    check_rel(&format!("∂²f/∂x² at {at}"), hxx.eps.eps, dxx, REL, floor2)?;
    check_rel(&format!("∂²f/∂x∂y at {at}"), hxy.eps.eps, dxy, REL, floor2)?;
    check_rel(&format!("∂²f/∂y∂x at {at}"), hyx.eps.eps, dxy, REL, floor2)?;
    check_rel(&format!("∂²f/∂y² at {at}"), hyy.eps.eps, dyy, REL, floor2)?;

    let v = dvec(DualVec::variable(x, 0), DualVec::variable(y, 1));
    exact(&format!("DualVec value at {at}"), v.re, plain(x, y))?;
    exact(&format!("DualVec ∂f/∂x at {at}"), v.eps[0], gx.eps)?;
    exact(&format!("DualVec ∂f/∂y at {at}"), v.eps[1], gy.eps)?;
    Ok(())
}

/// One quickcheck property per function of two variables of the table
/// (`support::binary`): where to sample `(x, y)`, the lengths over which the
/// function is smooth there in `x` and in `y` (for finite differences), and
/// absolute floors where a rule's formula is a difference of terms of that
/// size.
macro_rules! binary {
    ($(
        $name:ident: $op:ident, ($x:ident, $y:ident) = |$u:ident, $w:ident| $dom:expr;
            len = ($lx:expr, $ly:expr) $(, floors = ($f1:expr, $f2:expr))?;
    )*) => {$(
        #[test]
        fn $name() {
            const OP: B = B::$op;
            fn plain(x: f64, y: f64) -> f64 { OP.value(x, y) }
            fn dual(x: Dual<f64>, y: Dual<f64>) -> Dual<f64> { OP.apply(x, y) }
            fn dual2(x: D2, y: D2) -> D2 { OP.apply(x, y) }
            fn dvec(x: V2, y: V2) -> V2 { OP.apply(x, y) }
            #[allow(unused_variables)]
            fn prop($u: u64, $w: u64) -> Result<(), String> {
                let ($x, $y): (f64, f64) = $dom;
                #[allow(unused_mut, unused_assignments)]
                let (mut f1, mut f2) = (0.0, 0.0);
                $( f1 = $f1; f2 = $f2; )?
                binary_check(
                    ($x, $y), plain, dual, dual2, dvec,
                    OP.partials($x, $y), OP.second_partials($x, $y), ($lx, $ly), (f1, f2),
                )
            }
            qc2(prop);
        }
    )*};
}

/// The distance to the kink of max/min (a tie), or 1 at a tie itself, where
/// central differences give the symmetric average for any step.
fn kink_len(x: f64, y: f64) -> f64 {
    let l = ((x - y).abs() / 2.0).min(1.0);
    if l > 0.0 {
        l
    } else {
        1.0
    }
}

/// A point at radius in [0.1, 10] and any angle.
fn polar(u: u64, w: u64) -> (f64, f64) {
    let r = log_uniform(u, -1.0, 1.0);
    let t = uniform(w, -PI, PI);
    (r * t.cos(), r * t.sin())
}

fn log_base(w: u64) -> f64 {
    // |ln b| in [0.23, 3]: away from the pole of 1/ln b at b = 1
    let l = uniform(w, 0.23, 3.0);
    if w & 1 == 0 {
        l.exp()
    } else {
        (-l).exp()
    }
}

binary! {
    add: Add, (x, y) = |u, w| (uniform(u, -100.0, 100.0), uniform(w, -100.0, 100.0));
        len = (1.0, 1.0);
    sub: Sub, (x, y) = |u, w| (uniform(u, -100.0, 100.0), uniform(w, -100.0, 100.0));
        len = (1.0, 1.0);
    mul: Mul, (x, y) = |u, w| (uniform(u, -100.0, 100.0), uniform(w, -100.0, 100.0));
        len = (1.0, 1.0);
    div: Div, (x, y) = |u, w| (uniform(u, -100.0, 100.0), signed_log_uniform(w, -2.0, 2.0));
        len = (1.0, y.abs() / 2.0);
    rem: Rem, (x, y) = |u, w| {
            let y = signed_log_uniform(w, -0.3, 0.7);
            (y * off_integer(u), y)
        };
        len = (y.abs() * dist_int(x / y), rem_len_divisor(x, y));
    atan2: Atan2, (x, y) = |u, w| polar(u, w);
        // the branch cut: x crossing 0 where y < 0
        len = (
            if y < 0.0 { x.abs() / 2.0 } else { 1.0 }.min(x.hypot(y) / 2.0).min(1.0),
            (x.hypot(y) / 2.0).min(1.0)
        ),
        floors = (0.0, 1.0 / (x * x + y * y));
    powf: Powf, (x, y) = |u, w| (log_uniform(u, -1.0, 1.0), uniform(w, -3.0, 3.0));
        len = ((x / 2.0).min(1.0), 1.0),
        floors = (0.0, x.powf(y - 1.0) * (1.0 + (y * x.ln()).abs()));
    hypot: Hypot, (x, y) = |u, w| polar(u, w);
        len = ((x.hypot(y) / 2.0).min(1.0), (x.hypot(y) / 2.0).min(1.0)),
        floors = (0.0, 1.0 / x.hypot(y));
    log: Log, (x, y) = |u, w| (log_uniform(u, -2.0, 2.0), log_base(w));
        len = ((x / 2.0).min(1.0), (y / 2.0).min((y - 1.0).abs() / 2.0).min(1.0)),
        floors = (0.0, x.ln().abs() * (y.ln().abs() + 2.0) / (y * y * y.ln().abs().powi(3)));
    max: Max, (x, y) = |u, w| (uniform(u, -10.0, 10.0), uniform(w, -10.0, 10.0));
        len = (kink_len(x, y), kink_len(x, y));
    min: Min, (x, y) = |u, w| (uniform(u, -10.0, 10.0), uniform(w, -10.0, 10.0));
        len = (kink_len(x, y), kink_len(x, y));
    copysign: Copysign, (x, y) = |u, w| (signed_log_uniform(u, -3.0, 3.0), signed_log_uniform(w, -3.0, 3.0));
        len = (x.abs() / 2.0, y.abs() / 2.0);
}

// ------------------------------------------------------------------ mul_add

fn mul_add_prop(u: u64, v: u64, w: u64) -> Result<(), String> {
    let (a, b, c) = (
        uniform(u, -10.0, 10.0),
        uniform(v, -10.0, 10.0),
        uniform(w, -10.0, 10.0),
    );
    let at = format!("mul_add({a:e}, {b:e}, {c:e})");
    let k = Dual::from;
    let ga = Dual::variable(a).mul_add(k(b), k(c));
    let gb = k(a).mul_add(Dual::variable(b), k(c));
    let gc = k(a).mul_add(k(b), Dual::variable(c));
    // a·b + c with one rounding, as f64::mul_add
    exact(&format!("{at} value"), ga.re, a.mul_add(b, c))?;
    rel(&format!("{at} ∂/∂a"), ga.eps, b)?;
    rel(&format!("{at} ∂/∂b"), gb.eps, a)?;
    rel(&format!("{at} ∂/∂c"), gc.eps, 1.0)?;
    let h = common::d2(a, 1.0, 0.0).mul_add(common::d2(b, 0.0, 1.0), common::d2(c, 0.0, 0.0));
    rel(&format!("{at} ∂²/∂a∂b"), h.eps.eps, 1.0)?;
    let v3 =
        DualVec::<f64, 3>::variable(a, 0).mul_add(DualVec::variable(b, 1), DualVec::variable(c, 2));
    exact(&format!("{at} DualVec value"), v3.re, ga.re)?;
    exact(&format!("{at} DualVec ∂/∂a"), v3.eps[0], ga.eps)?;
    exact(&format!("{at} DualVec ∂/∂b"), v3.eps[1], gb.eps)?;
    exact(&format!("{at} DualVec ∂/∂c"), v3.eps[2], gc.eps)?;
    Ok(())
}

#[test]
fn mul_add() {
    qc3(mul_add_prop);
}
