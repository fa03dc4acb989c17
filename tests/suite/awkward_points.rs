//! Stan's idea, applied: every elementary function at its awkward points
//! (0 and -0, ties, domain edges, huge and tiny magnitudes, subnormals,
//! NaN, infinities), in every mode: `f64`, `Dual`, `DualVec`, `Var`,
//! `Dual<Dual<f64>>` and `Dual<Var>`.
//!
//! Each mode must give the value of the standard library's function, and
//! the derivative of an independently written closed form, evaluated in
//! IEEE arithmetic with the conventions of `dualtape::rules`:
//!
//! - kinks take the symmetric average (`abs'(0) = 0`, a `max`/`min` tie
//!   gives ½ to each argument, `hypot` and `atan2` at the origin give 0,
//!   `copysign(x, s)` at `x = 0` gives 0); `signum`, `floor`, `ceil`,
//!   `round`, `trunc` have derivative 0 and `fract` 1, everywhere;
//! - infinite slopes are infinite (`sqrt'(0) = +∞`, `asin'(±1) = +∞`, ...);
//! - `powf` follows rule 4 (0 for `∂/∂x` at `y = 0`, `∂/∂y = 0` where
//!   `x^y = 0`, NaN for `∂/∂y` at a negative base);
//! - `max`/`min` with one NaN argument pass the derivative of the other;
//! - everywhere else the derivative is the formula as IEEE arithmetic gives
//!   it: NaN at a NaN argument when the formula depends on it, and, outside
//!   the domain (`ln(-1)`, `atanh(2)`), a NaN value with the formula's
//!   derivative (`-1`, `-1/3`), as in JAX and PyTorch; a derivative that
//!   does not depend on the argument (`x + c`, `floor`) stays what it is.
//!
//! "The same" means: both NaN, or equal, or (finite) within 8 ulps. Values
//! must be identical across modes (all of them compute the value with the
//! same `f64` operations) up to the sign of zero.
//!
//! Two more conventions are checked in every mode: a constant has zero
//! derivative even where `f'` is infinite or NaN (rule 3: zero times
//! anything is zero), and the tangent lanes of a `DualVec` that were not
//! seeded stay exactly 0. Second derivatives of the two nested modes must
//! match a closed form (and, for binary functions, each other) wherever
//! the function is twice differentiable and the point is finite and of
//! moderate size.

use dualtape::{forward, reverse, Dual, DualVec, Scalar, Var};

const EPS: f64 = f64::EPSILON;

// ------------------------------------------------------------------ comparing

/// Both NaN, or equal, or (finite) within 8 ulps of the larger (or 1e-300
/// apart).
fn within_8_ulps(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    if !a.is_finite() || !b.is_finite() {
        return false;
    }
    let m = a.abs().max(b.abs());
    (a - b).abs() <= 8.0 * EPS * m || (a - b).abs() < 1e-300
}

// ------------------------------------------------------------------ unary functions

use crate::support::elementary::{Unary as U, AWKWARD as POINTS, ELEMENTARY as UNARY};

/// One mode's result at a point: value, first and (nested modes) second derivative.
#[derive(Debug)]
struct Got {
    mode: &'static str,
    value: f64,
    d1: Option<f64>,
    d2: Option<f64>,
}

fn unary_modes(f: U, x: f64) -> Vec<Got> {
    let mut out = vec![Got {
        mode: "f64",
        value: f.apply(x),
        d1: None,
        d2: None,
    }];
    let (v, d) = forward::derivative(|d| f.apply(d), x);
    out.push(Got {
        mode: "Dual",
        value: v,
        d1: Some(d),
        d2: None,
    });
    let y = f.apply(DualVec::<f64, 3>::variable(x, 1));
    assert!(
        y.eps[0] == 0.0 && y.eps[2] == 0.0,
        "{f:?}({x:e}): unseeded DualVec lanes must stay 0, got {:?}",
        y.eps
    );
    out.push(Got {
        mode: "DualVec",
        value: y.re,
        d1: Some(y.eps[1]),
        d2: None,
    });
    let (v, g) = reverse::gradient(|v| f.apply(v[0]), &[x]);
    out.push(Got {
        mode: "Var",
        value: v,
        d1: Some(g[0]),
        d2: None,
    });
    let (v, g, h) = forward::hessian(|v| f.apply(v[0]), &[x]);
    out.push(Got {
        mode: "Dual<Dual<f64>>",
        value: v,
        d1: Some(g[0]),
        d2: Some(h[(0, 0)]),
    });
    let (v, g, h) = reverse::hessian(|v| f.apply(v[0]), &[x]);
    out.push(Got {
        mode: "Dual<Var>",
        value: v,
        d1: Some(g[0]),
        d2: Some(h[(0, 0)]),
    });
    out
}

fn check_modes(what: &str, got: &[Got], value: f64, d1: f64, failures: &mut Vec<String>) {
    for g in got {
        if !within_8_ulps(g.value, value) {
            failures.push(format!(
                "{what}: value in {} is {:e}, the reference is {:e}",
                g.mode, g.value, value
            ));
        }
        if let Some(d) = g.d1 {
            if !within_8_ulps(d, d1) {
                failures.push(format!(
                    "{what}: derivative in {} is {:e}, the convention gives {:e}",
                    g.mode, d, d1
                ));
            }
        }
    }
}

/// A finite point of moderate size, where second derivatives are compared:
/// at infinities, at the ends of the range and at points where a function
/// is not twice differentiable, the two nested modes differentiate in a
/// different order and may differ (a mixed partial of a non-smooth
/// function, an intermediate product that underflows in one order only).
fn regular(x: f64) -> bool {
    x == 0.0 || (1e-3..=1e3).contains(&x.abs())
}

/// [`within_8_ulps`], or within `rel` relative to `1 + max(|a|, |b|)`.
fn near(a: f64, b: f64, rel: f64) -> bool {
    within_8_ulps(a, b) || (a - b).abs() <= rel * (1.0 + a.abs().max(b.abs()))
}

fn report(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn unary_functions_agree_in_every_mode_at_awkward_points() {
    let mut failures = Vec::new();
    for &f in UNARY {
        for &x in POINTS {
            let got = unary_modes(f, x);
            let what = format!("{f:?}({x:e})");
            check_modes(&what, &got, f.value(x), f.d1(x), &mut failures);
            if regular(x) && f.smooth_at(x) {
                let want = f.d2(x);
                for g in got.iter().filter(|g| g.d2.is_some()) {
                    let d2 = g.d2.unwrap();
                    if !near(d2, want, 1e-12) {
                        failures.push(format!(
                            "{what}: second derivative in {} is {d2:e}, the closed form {want:e}",
                            g.mode
                        ));
                    }
                }
            }
        }
    }
    report(failures);
}

#[test]
fn a_constant_has_zero_derivative_even_where_the_slope_is_infinite_or_nan() {
    // Rule 3: f(c) for a constant c, times an input, has derivative 0 (well,
    // f(c)·x has derivative f(c)); f'(c) never leaks in.
    let mut failures = Vec::new();
    for &f in UNARY {
        for &c in POINTS {
            let fc = f.value(c);
            let (_, d) = forward::derivative(|x| f.apply(Dual::from(c)) + x * 0.0, 2.0);
            let (_, g) = reverse::gradient(|x| f.apply(Var::from(c)) + x[0] * 0.0, &[2.0]);
            let (_, h) = forward::derivative(|x| f.apply(Dual::from(c)) * x, 2.0);
            for (mode, got, want) in [
                ("Dual", d, 0.0),
                ("Var", g[0], 0.0),
                ("Dual, f(c)·x", h, fc),
            ] {
                if !within_8_ulps(got, want) {
                    failures.push(format!(
                        "{f:?}(constant {c:e}) in {mode}: {got:e}, want {want:e}"
                    ));
                }
            }
        }
    }
    report(failures);
}

// ------------------------------------------------------------------ binary functions

use crate::support::binary::{Binary as B, AWKWARD_PAIRS as PAIR_POINTS, BINARY};

/// `(mode, value, ∂/∂a, ∂/∂b)` in every mode, and the two nested Hessians.
type BinaryGot = (
    Vec<(&'static str, f64, f64, f64)>,
    [[f64; 2]; 2],
    [[f64; 2]; 2],
);

fn binary_modes(f: B, a: f64, b: f64) -> BinaryGot {
    let mut out = Vec::new();
    let y = f.apply(
        DualVec::<f64, 2>::variable(a, 0),
        DualVec::<f64, 2>::variable(b, 1),
    );
    out.push(("DualVec", y.re, y.eps[0], y.eps[1]));
    let (v, da) = forward::jvp(|x| f.apply(x[0], x[1]), &[a, b], &[1.0, 0.0]);
    let (_, db) = forward::jvp(|x| f.apply(x[0], x[1]), &[a, b], &[0.0, 1.0]);
    out.push(("Dual", v, da, db));
    let (v, g) = reverse::gradient(|x| f.apply(x[0], x[1]), &[a, b]);
    out.push(("Var", v, g[0], g[1]));
    let (v, g, hf) = forward::hessian(|x| f.apply(x[0], x[1]), &[a, b]);
    out.push(("Dual<Dual<f64>>", v, g[0], g[1]));
    let (v, g, hr) = reverse::hessian(|x| f.apply(x[0], x[1]), &[a, b]);
    out.push(("Dual<Var>", v, g[0], g[1]));
    // One argument a constant: the other's partial alone.
    let (v, d) = forward::derivative(|x| f.apply(x, Dual::from(b)), a);
    out.push(("Dual, b constant", v, d, f64::NAN));
    let (v, d) = forward::derivative(|x| f.apply(Dual::from(a), x), b);
    out.push(("Dual, a constant", v, f64::NAN, d));
    let (v, g) = reverse::gradient(|x| f.apply(x[0], Var::from(b)), &[a]);
    out.push(("Var, b constant", v, g[0], f64::NAN));
    let (v, g) = reverse::gradient(|x| f.apply(Var::from(a), x[0]), &[b]);
    out.push(("Var, a constant", v, f64::NAN, g[0]));
    if f.apply_real(1.0f64, 1.0).is_some() {
        let (v, d) = forward::derivative(|x| f.apply_real(x, b).unwrap(), a);
        out.push(("Dual op f64", v, d, f64::NAN));
        let (v, g) = reverse::gradient(|x| f.apply_real(x[0], b).unwrap(), &[a]);
        out.push(("Var op f64", v, g[0], f64::NAN));
    }
    let m = |h: nalgebra::DMatrix<f64>| [[h[(0, 0)], h[(0, 1)]], [h[(1, 0)], h[(1, 1)]]];
    (out, m(hf), m(hr))
}

#[test]
fn binary_functions_agree_in_every_mode_at_awkward_points() {
    let mut failures = Vec::new();
    for &f in BINARY {
        for &a in PAIR_POINTS {
            for &b in PAIR_POINTS {
                let what = format!("{f:?}({a:e}, {b:e})");
                let value = f.value(a, b);
                let (pa, pb) = f.partials(a, b);
                let (got, hf, hr) = binary_modes(f, a, b);
                for (mode, v, da, db) in got {
                    if !within_8_ulps(v, value) {
                        failures.push(format!("{what}: value in {mode} is {v:e}, want {value:e}"));
                    }
                    // NaN marks a partial the mode does not compute.
                    if !mode.contains("a constant") && !within_8_ulps(da, pa) {
                        failures.push(format!("{what}: ∂/∂a in {mode} is {da:e}, want {pa:e}"));
                    }
                    if !mode.contains("b constant")
                        && !mode.contains("op f64")
                        && !within_8_ulps(db, pb)
                    {
                        failures.push(format!("{what}: ∂/∂b in {mode} is {db:e}, want {pb:e}"));
                    }
                }
                if !(regular(a) && regular(b) && f.smooth_at(a, b)) {
                    continue;
                }
                let (haa, hab, hbb) = f.second_partials(a, b);
                let closed = [[haa, hab], [hab, hbb]];
                for i in 0..2 {
                    for j in 0..2 {
                        if !near(hf[i][j], hr[i][j], 1e-12) {
                            failures.push(format!(
                                "{what}: H[{i}][{j}] is {:e} forward over forward but {:e} \
                                 forward over reverse",
                                hf[i][j], hr[i][j]
                            ));
                        }
                        if !near(hf[i][j], closed[i][j], 1e-12) {
                            failures.push(format!(
                                "{what}: H[{i}][{j}] is {:e} forward over forward, the closed \
                                 form gives {:e}",
                                hf[i][j], closed[i][j]
                            ));
                        }
                    }
                }
            }
        }
    }
    report(failures);
}

#[test]
fn binary_functions_of_one_variable_twice_sum_their_partials() {
    // f(x, x): ties for max/min (½ + ½ = 1), x − x, x/x, atan2 on the
    // diagonal, powf(x, x)... Reverse mode merges the two parents of such a
    // node; forward mode adds two tangents: both must give ∂/∂a + ∂/∂b.
    let mut failures = Vec::new();
    for &f in BINARY {
        for &x in POINTS {
            let what = format!("{f:?}({x:e}, same)");
            let (pa, pb) = f.partials(x, x);
            let want = pa + pb;
            let value = f.value(x, x);
            let (v1, d1) = forward::derivative(|x| f.apply(x, x), x);
            let (v2, g2) = reverse::gradient(|x| f.apply(x[0], x[0]), &[x]);
            let (v3, g3, h3) = forward::hessian(|x| f.apply(x[0], x[0]), &[x]);
            let (v4, g4, h4) = reverse::hessian(|x| f.apply(x[0], x[0]), &[x]);
            let y = f.apply(DualVec::<f64, 2>::variable(x, 0), DualVec::variable(x, 0));
            for (mode, v, d) in [
                ("Dual", v1, d1),
                ("Var", v2, g2[0]),
                ("Dual<Dual<f64>>", v3, g3[0]),
                ("Dual<Var>", v4, g4[0]),
                ("DualVec", y.re, y.eps[0]),
            ] {
                if !within_8_ulps(v, value) {
                    failures.push(format!("{what}: value in {mode} is {v:e}, want {value:e}"));
                }
                if !within_8_ulps(d, want) {
                    failures.push(format!(
                        "{what}: derivative in {mode} is {d:e}, want {want:e}"
                    ));
                }
            }
            if regular(x) && f.smooth_at(x, x) && !near(h3[(0, 0)], h4[(0, 0)], 1e-12) {
                failures.push(format!(
                    "{what}: second derivative {:e} forward over forward, {:e} forward over reverse",
                    h3[(0, 0)],
                    h4[(0, 0)]
                ));
            }
        }
    }
    report(failures);
}

#[test]
fn ties_and_kinks_follow_the_symmetric_average() {
    // Spelled out, the conventions the tables above rely on.
    let d = |f: fn(Dual<f64>) -> Dual<f64>, x: f64| forward::derivative(f, x).1;
    assert_eq!(d(|x| x.abs(), 0.0), 0.0);
    assert_eq!(d(|x| x.abs(), -0.0), 0.0);
    assert_eq!(d(|x| x.max(-x), 0.0), 0.0); // agrees with abs
    assert_eq!(d(|x| x.max(x), 3.0), 1.0); // ½ + ½
    assert_eq!(d(|x| x.sqrt(), 0.0), f64::INFINITY);
    assert_eq!(d(|x| x.sqrt(), -0.0), f64::INFINITY);
    assert_eq!(d(|x| x.asin(), 1.0), f64::INFINITY);
    assert_eq!(d(|x| x.acos(), -1.0), f64::NEG_INFINITY);
    assert_eq!(d(|x| x.floor(), 2.0), 0.0);
    assert_eq!(d(|x| x.round(), 0.5), 0.0);
    assert_eq!(d(|x| x.fract(), 3.0), 1.0);
    let (_, g) = reverse::gradient(|x| x[0].hypot(x[1]) + x[0].atan2(x[1]), &[0.0, 0.0]);
    assert_eq!(g, vec![0.0, 0.0]);
    let (_, g) = reverse::gradient(|x| x[0].max(x[1]), &[1.0, f64::NAN]);
    assert_eq!(g, vec![1.0, 0.0]); // max ignores the NaN and passes x's derivative
}

/// `max` and `min` of `x[0]`, `x[1]` read through `copysign`, whose value
/// (and recorded branch) depends on the sign of a zero:
/// `copysign(1 + x0², max) + 2·copysign(1 + x1², min)`.
fn signed_zero_ties<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let one = S::constant(1.0);
    let hi = x[0].max(x[1]);
    let lo = x[0].min(x[1]);
    (one + x[0] * x[0]).copysign(hi) + (one + x[1] * x[1]).copysign(lo) * 2.0
}

#[test]
fn a_tie_of_signed_zeros_has_one_value_in_every_mode() {
    // IEEE 754-2019 maximum/minimum: max(-0, +0) = +0, min(-0, +0) = -0,
    // in either order. So the function above is 1 - 2 = -1 at both points,
    // with gradient 0 (copysign's slope in x is x-proportional, in the sign
    // 0) and Hessian diag(2, -4) (from 1 + x0² with sign +, 2(1 + x1²) with
    // sign -), in every mode, a replay (on f64 and on dual numbers) and a
    // compiled replay included: a replay on Dual<f64> sees the zero the
    // f64 recording saw, so copysign's recorded branch holds.
    use dualtape::reverse::program::Jit;
    let is = |v: f64, positive: bool| v == 0.0 && v.is_sign_positive() == positive;
    let hess = nalgebra::DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.0, -4.0]);
    for p in [[-0.0, 0.0], [0.0, -0.0]] {
        let at = format!("at {p:?}");
        // the two values themselves, in every mode of the binary table
        for (f, positive) in [(B::Max, true), (B::Min, false)] {
            for (mode, v, _, _) in binary_modes(f, p[0], p[1]).0 {
                assert!(is(v, positive), "{f:?} in {mode} {at}: {v:?}");
            }
        }
        let v = reverse::record(|x| x[0].max(x[1]), &[1.0, 2.0]).value(&p);
        let w = reverse::record(|x| x[0].min(x[1]), &[1.0, 2.0]).value(&p);
        // recorded away from the tie: the replay reports the changed branch
        assert!(
            v.is_err() && w.is_err(),
            "replay of a program recorded off the tie {at}"
        );
        let v = reverse::record(|x| x[0].max(x[1]), &p).value(&p).unwrap();
        let w = reverse::record(|x| x[0].min(x[1]), &p).value(&p).unwrap();
        assert!(is(v, true) && is(w, false), "replay {at}");

        // read through copysign, in every mode
        let (v, g) = reverse::gradient(signed_zero_ties, &p);
        assert_eq!((v, g), (-1.0, vec![0.0, 0.0]), "Var {at}");
        let (v, g, h) = forward::hessian(signed_zero_ties, &p);
        assert_eq!(
            (v, g, &h),
            (-1.0, vec![0.0, 0.0], &hess),
            "Dual<Dual<f64>> {at}"
        );
        let (v, g, h) = reverse::hessian(signed_zero_ties, &p);
        assert_eq!((v, g, &h), (-1.0, vec![0.0, 0.0], &hess), "Dual<Var> {at}");
        let (v, hv) = reverse::hvp(signed_zero_ties, &p, &[1.0, 1.0]);
        assert_eq!((v, hv), (-1.0, vec![2.0, -4.0]), "reverse::hvp {at}");
        for jit in [Jit::Off, Jit::Now] {
            let mut prog = reverse::record(signed_zero_ties, &p);
            prog.set_jit(jit);
            let what = format!("replay ({jit:?}) {at}");
            assert_eq!(prog.gradient(&p).unwrap(), (-1.0, vec![0.0, 0.0]), "{what}");
            let (v, hv) = prog
                .hvp(&p, &[1.0, 1.0])
                .expect("no branch changes on Dual<f64>");
            assert_eq!((v, hv), (-1.0, vec![2.0, -4.0]), "{what}");
            let (v, g, h) = prog.hessian(&p).expect("no branch changes on DualVec");
            assert_eq!((v, g, &h), (-1.0, vec![0.0, 0.0], &hess), "{what}");
        }
    }
}

// ------------------------------------------------------------------ regressions

#[test]
fn powi_with_a_negative_exponent_has_the_value_of_f64_powi() {
    // Regression: rules::powi computed x^n as x^(n-1)·x, which for n < 0 is
    // NaN at x = ±0 and ±∞ (∞·0) and overflows or underflows early.
    for n in [-1, -2, -3] {
        for x in [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            1e300,
            3.0,
        ] {
            let want = x.powi(n);
            let (v, d) = forward::derivative(|x| x.powi(n), x);
            let (w, g) = reverse::gradient(|x| x[0].powi(n), &[x]);
            assert!(
                within_8_ulps(v, want) && within_8_ulps(w, want),
                "{x:e}^{n}: {v:e}, {w:e}, want {want:e}"
            );
            let slope = n as f64 * x.powi(n - 1);
            assert!(
                within_8_ulps(d, slope) && within_8_ulps(g[0], slope),
                "d/dx {x:e}^{n}: {d:e}, {:e}",
                g[0]
            );
        }
    }
}

#[test]
fn sqrt_has_slope_plus_infinity_at_negative_zero() {
    // Regression: sqrt(-0) = -0, and 1/(2·(-0)) gave the slope -∞, though
    // sqrt is increasing and its rule documents +∞ at 0.
    assert_eq!(forward::derivative(|x| x.sqrt(), -0.0).1, f64::INFINITY);
    assert_eq!(
        reverse::gradient(|x| x[0].sqrt(), &[-0.0]).1[0],
        f64::INFINITY
    );
    assert_eq!(forward::derivative(|x| x.sqrt(), 0.0).1, f64::INFINITY);
}

#[test]
fn mul_add_agrees_in_every_mode_up_to_the_rounding_of_the_fused_f64_version() {
    // At f64, `mul_add` (through simba) is the fused `f64::mul_add`; the
    // automatic types compute `a·b + c` with two roundings. Values agree to
    // one rounding of |a·b| + |c| (at (0.1, 10, -1): 5.55e-17 against 0);
    // the partials (b, a, 1) agree exactly.
    let points = [
        0.1,
        10.0,
        -1.0,
        0.0,
        3.0,
        1e300,
        -1e-300,
        f64::INFINITY,
        f64::NAN,
    ];
    for &a in &points {
        for &b in &points {
            for &c in &points {
                let fused = a.mul_add(b, c);
                let f = |x: &[Dual<f64>]| x[0].mul_add(x[1], x[2]);
                let (vf, df) = forward::jvp(f, &[a, b, c], &[1.0, 2.0, 4.0]);
                let (vr, g) = reverse::gradient(|x| x[0].mul_add(x[1], x[2]), &[a, b, c]);
                let slack = 2.0 * EPS * ((a * b).abs() + c.abs());
                for v in [vf, vr] {
                    assert!(
                        within_8_ulps(v, fused) || (v - fused).abs() <= slack,
                        "mul_add({a:e}, {b:e}, {c:e}) = {v:e}, fused {fused:e}"
                    );
                }
                let want = [b, a, 1.0];
                for i in 0..3 {
                    assert!(
                        within_8_ulps(g[i], want[i]),
                        "∂/∂x{i} of mul_add({a:e}, {b:e}, {c:e})"
                    );
                }
                // Rule 3: a zero tangent blocks an infinite or NaN partial.
                let t = [1.0, 2.0, 4.0];
                let terms = (0..3).map(|i| if want[i] == 0.0 { 0.0 } else { t[i] * want[i] });
                let want_d = terms.fold(0.0, |s, v| s + v);
                assert!(
                    within_8_ulps(df, want_d),
                    "jvp of mul_add({a:e}, {b:e}, {c:e}): {df:e}"
                );
            }
        }
    }
}
