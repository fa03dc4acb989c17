//! The reverse drivers against independent answers: `jacobian` and `vjp`
//! against forward mode's Jacobian and central differences; `hvp` against
//! `hessian · v`; the reverse (forward-over-reverse) Hessian against
//! forward-over-forward and against closed forms for Rosenbrock, a quadratic
//! form and log-sum-exp.

use crate::support::reverse as common_rev;

use crate::support::compare::{assert_all_close, assert_close};
use common_rev::{central_partial, step, uniform};
use dualtape::{forward, reverse, Dual, Scalar, Var};
use nalgebra::{DMatrix, DVector};
use quickcheck::{Arbitrary, Gen};

use crate::support::seeded;

// ------------------------------------------------------------------ Jacobians

/// R³ → R⁵, written once.
fn field<S: Scalar<Real = f64>>(x: &[S]) -> Vec<S> {
    let (a, b, c) = (x[0], x[1], x[2]);
    vec![
        a * b * c.sin(),
        (a / (b * b + 1.0)).exp(),
        b.atan2(c) + a.hypot(c),
        (a * a + 0.5).powf(b),
        (a * a + c * c + 1.0).ln() - S::constant(2.0) / (b * b + 1.0),
    ]
}

fn field_f64(x: &[f64], i: usize) -> f64 {
    field(x)[i]
}

/// A point in [-2, 2]³ away from atan2's jump (c < 0, b = 0) and from the
/// origin of hypot(a, c).
#[derive(Clone, Debug)]
struct Point3([f64; 3]);

impl Arbitrary for Point3 {
    fn arbitrary(g: &mut Gen) -> Self {
        loop {
            let p = [0, 1, 2].map(|_| uniform(g, -2.0, 2.0));
            if p[0].hypot(p[2]) > 0.3 && p[1].hypot(p[2]) > 0.3 && !(p[2] < 0.0 && p[1].abs() < 0.2)
            {
                return Point3(p);
            }
        }
    }
}

fn check_jacobian_at(x: &[f64]) {
    let (ry, rj) = reverse::jacobian(field::<Var>, x);
    let (fy, fj) = forward::jacobian(field::<Dual<f64>>, x);
    assert_eq!(ry, fy, "values at {x:?}");
    assert_eq!(rj.shape(), (5, 3));
    for i in 0..5 {
        for j in 0..3 {
            let what = format!("J[{i},{j}] at {x:?}");
            // reverse vs forward: the same rules applied in another order
            assert_close(
                &format!("{what}, reverse vs forward"),
                rj[(i, j)],
                fj[(i, j)],
                1e-12,
                1e-15,
            );
            let cd = central_partial(&|v: &[f64]| field_f64(v, i), x, j, step(x[j]));
            assert_close(
                &format!("{what}, reverse vs central difference"),
                rj[(i, j)],
                cd,
                1e-8,
                1e-9,
            );
        }
    }
}

#[test]
fn jacobian_equals_forward_and_central_differences() {
    check_jacobian_at(&[0.5, -1.0, 2.0]);
    check_jacobian_at(&[-1.5, 0.3, 0.7]);
    fn prop(p: Point3) -> bool {
        check_jacobian_at(&p.0);
        true
    }
    seeded().tests(200).quickcheck(prop as fn(Point3) -> bool);
}

#[test]
fn vjp_equals_w_times_the_forward_jacobian() {
    fn prop(p: Point3, w: Weights) -> bool {
        let x = &p.0;
        let (ry, vj) = reverse::vjp(field::<Var>, x, &w.0);
        let (fy, fj) = forward::jacobian(field::<Dual<f64>>, x);
        assert_eq!(ry, fy);
        let want = DVector::from_row_slice(&w.0).transpose() * &fj;
        // the sum over outputs may cancel: scale by Σ|w_i||J_ij|
        let scale = DVector::from_iterator(5, w.0.iter().map(|v| v.abs())).transpose() * fj.abs();
        for j in 0..3 {
            assert_close(
                &format!("(wᵀJ)[{j}] at {x:?}"),
                vj[j],
                want[j],
                0.0,
                1e-12 * scale[j] + 1e-300,
            );
        }
        true
    }
    seeded()
        .tests(200)
        .quickcheck(prop as fn(Point3, Weights) -> bool);
}

#[derive(Clone, Debug)]
struct Weights(Vec<f64>);

impl Arbitrary for Weights {
    fn arbitrary(g: &mut Gen) -> Self {
        Weights((0..5).map(|_| uniform(g, -3.0, 3.0)).collect())
    }
}

#[test]
fn jacobian_with_constant_and_repeated_outputs() {
    // Outputs may be constants or the same Var twice.
    let (y, j) = reverse::jacobian(
        |x| vec![Var::from(7.0), x[0] * x[1], x[0] * x[1], x[1]],
        &[2.0, 3.0],
    );
    assert_eq!(y, vec![7.0, 6.0, 6.0, 3.0]);
    assert_eq!(
        j,
        DMatrix::from_row_slice(4, 2, &[0.0, 0.0, 3.0, 2.0, 3.0, 2.0, 0.0, 1.0])
    );
    // vjp with the same Var twice adds the weights
    let (_, vj) = reverse::vjp(
        |x| {
            let p = x[0] * x[1];
            vec![p, p]
        },
        &[2.0, 3.0],
        &[1.0, 10.0],
    );
    assert_eq!(vj, vec![33.0, 22.0]);
}

// ------------------------------------------------------------------ Hessians: closed forms

fn rosenbrock<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for w in x.windows(2) {
        s += (S::constant(1.0) - w[0]).powi(2) + (w[1] - w[0] * w[0]).powi(2) * 100.0;
    }
    s
}

/// The extended Rosenbrock's gradient and Hessian (tridiagonal), by hand.
fn rosenbrock_closed(x: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut h = DMatrix::zeros(n, n);
    for i in 0..n - 1 {
        let (a, b) = (x[i], x[i + 1]);
        g[i] += -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
        g[i + 1] += 200.0 * (b - a * a);
        h[(i, i)] += 2.0 - 400.0 * b + 1200.0 * a * a;
        h[(i, i + 1)] += -400.0 * a;
        h[(i + 1, i)] += -400.0 * a;
        h[(i + 1, i + 1)] += 200.0;
    }
    (g, h)
}

/// xᵀ A x + bᵀ x through nalgebra, for any scalar.
fn quadratic<S: Scalar<Real = f64>>(a: &DMatrix<f64>, b: &[f64], x: &[S]) -> S {
    let n = x.len();
    let am = DMatrix::<S>::from_fn(n, n, |i, j| S::constant(a[(i, j)]));
    let xv = DVector::<S>::from_column_slice(x);
    let bv = DVector::<S>::from_fn(n, |i, _| S::constant(b[i]));
    xv.dot(&(&am * &xv)) + bv.dot(&xv)
}

/// A fixed non-symmetric A: its Hessian is A + Aᵀ.
fn quad_data(n: usize) -> (DMatrix<f64>, Vec<f64>) {
    let a = DMatrix::from_fn(n, n, |i, j| ((3 * i + 7 * j) as f64 * 0.61).sin() * 2.0);
    let b = (0..n).map(|i| (i as f64).cos()).collect();
    (a, b)
}

fn log_sum_exp<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x.iter().fold(S::constant(0.0), |s, &xi| s + xi.exp()).ln()
}

/// The stable form: m + ln Σ exp(x_i - m) with m = max x_i (whose
/// derivative cancels exactly away from ties).
fn log_sum_exp_stable<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let m = x.iter().skip(1).fold(x[0], |m, &xi| m.max(xi));
    m + x
        .iter()
        .fold(S::constant(0.0), |s, &xi| s + (xi - m).exp())
        .ln()
}

/// softmax p; ∇ = p, ∇² = diag(p) - p pᵀ.
fn lse_closed(x: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = x.iter().map(|xi| (xi - m).exp()).sum();
    let p: Vec<f64> = x.iter().map(|xi| (xi - m).exp() / z).collect();
    let n = x.len();
    let h = DMatrix::from_fn(n, n, |i, j| {
        if i == j {
            p[i] - p[i] * p[j]
        } else {
            -p[i] * p[j]
        }
    });
    (p, h)
}

/// Entry-wise comparison, relative to each entry with a floor of `rel` times
/// the larger of the largest entry and `terms`, the size of the terms an
/// entry is a sum of (entries cancel: 2 - 400 b + 1200 a², or p - p² at p = 1).
#[track_caller]
fn assert_matrix_close(what: &str, got: &DMatrix<f64>, want: &DMatrix<f64>, rel: f64, terms: f64) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    let floor = rel * want.amax().max(terms);
    for i in 0..want.nrows() {
        for j in 0..want.ncols() {
            assert_close(
                &format!("{what}[{i},{j}]"),
                got[(i, j)],
                want[(i, j)],
                rel,
                floor,
            );
        }
    }
}

fn points(n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 13 + seed * 7) as f64 * 0.377).sin() * 1.5)
        .collect()
}

#[test]
fn rosenbrock_hessian_equals_the_closed_form() {
    for n in [2, 3, 6] {
        for seed in 0..5 {
            let x = points(n, seed);
            let (gw, hw) = rosenbrock_closed(&x);
            let (v, g, h) = reverse::hessian(rosenbrock, &x);
            assert_close("value", v, rosenbrock(&x), 1e-15, 0.0);
            assert_all_close(
                "gradient",
                &g,
                &gw,
                1e-12,
                1e-12 * gw.iter().fold(1.0, |m: f64, v| m.max(v.abs())),
            );
            assert_matrix_close(&format!("Rosenbrock n={n} H"), &h, &hw, 1e-12, 0.0);
        }
    }
    // at the minimum (1, ..., 1): H = [[802, -400], [-400, 200]] for n = 2
    let (_, g, h) = reverse::hessian(rosenbrock, &[1.0, 1.0]);
    assert_eq!(g, vec![0.0, 0.0]);
    assert_eq!(
        h,
        DMatrix::from_row_slice(2, 2, &[802.0, -400.0, -400.0, 200.0])
    );
}

#[test]
fn quadratic_form_hessian_is_a_plus_a_transpose() {
    for n in [1, 3, 5] {
        let (a, b) = quad_data(n);
        let want_h = &a + a.transpose();
        for seed in 0..3 {
            let x = points(n, seed);
            let (_, g, h) = reverse::hessian(|v: &[Dual<Var>]| quadratic(&a, &b, v), &x);
            let want_g = &want_h * DVector::from_column_slice(&x) + DVector::from_column_slice(&b);
            assert_all_close("quadratic gradient", &g, want_g.as_slice(), 1e-13, 1e-13);
            assert_matrix_close(&format!("quadratic n={n} H"), &h, &want_h, 1e-14, 0.0);
            // the plain gradient through nalgebra too
            let (_, rg) = reverse::gradient(|v| quadratic(&a, &b, v), &x);
            assert_all_close(
                "quadratic reverse gradient",
                &rg,
                want_g.as_slice(),
                1e-13,
                1e-13,
            );
        }
    }
}

#[test]
fn log_sum_exp_hessian_is_diag_p_minus_p_p_transpose() {
    for n in [1, 2, 4, 7] {
        for seed in 0..4 {
            let x = points(n, seed);
            let (pw, hw) = lse_closed(&x);
            for (name, (v, g, h)) in [
                ("plain", reverse::hessian(log_sum_exp, &x)),
                ("stable", reverse::hessian(log_sum_exp_stable, &x)),
            ] {
                let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let want_v = m + x.iter().map(|xi| (xi - m).exp()).sum::<f64>().ln();
                assert_close(&format!("{name} LSE value"), v, want_v, 1e-14, 0.0);
                assert_all_close(&format!("{name} LSE gradient n={n}"), &g, &pw, 1e-13, 1e-15);
                assert_matrix_close(&format!("{name} LSE n={n} H"), &h, &hw, 1e-12, 1.0);
            }
        }
    }
    // shifting every input leaves ∇ and ∇² alone: large inputs through the
    // stable form give the same closed form
    let x: Vec<f64> = points(4, 1).iter().map(|v| v + 800.0).collect();
    let (pw, hw) = lse_closed(&x);
    let (_, g, h) = reverse::hessian(log_sum_exp_stable, &x);
    assert_all_close("stable LSE gradient at +800", &g, &pw, 1e-13, 1e-15);
    assert_matrix_close("stable LSE H at +800", &h, &hw, 1e-12, 1.0);
}

// ------------------------------------------------------------------ Hessians: reverse vs forward-over-forward, hvp

/// A smooth function of 4 inputs mixing many elementary functions.
fn mixed<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let (a, b, c, d) = (x[0], x[1], x[2], x[3]);
    (a * b).sin() * c.exp() + (b * b + d * d + 1.0).ln() * a - (c / (a * a + 2.0)).atan()
        + d.tanh() * b.cosh()
        + (a * a + 0.5).powf(c * 0.5)
        + a.hypot(d + 3.0)
        + S::constant(1.0) / (c * c + 1.0)
}

#[derive(Clone, Debug)]
struct Point4([f64; 4], [f64; 4]);

impl Arbitrary for Point4 {
    fn arbitrary(g: &mut Gen) -> Self {
        Point4(
            [0, 1, 2, 3].map(|_| uniform(g, -1.5, 1.5)),
            [0, 1, 2, 3].map(|_| uniform(g, -1.0, 1.0)),
        )
    }
}

/// ∑_j |H_ij| |v_j| for the rounding scale of (H v)_i.
fn abs_times(h: &DMatrix<f64>, v: &[f64]) -> DVector<f64> {
    h.abs() * DVector::from_iterator(v.len(), v.iter().map(|x| x.abs()))
}

#[test]
fn reverse_hessian_equals_forward_over_forward() {
    fn prop(p: Point4) -> bool {
        let x = &p.0;
        let (rv, rg, rh) = reverse::hessian(mixed, x);
        let (fv, fg, fh) = forward::hessian(mixed, x);
        assert_eq!(rv, fv);
        assert_all_close("gradient", &rg, &fg, 1e-12, 1e-14);
        assert_matrix_close(&format!("H at {x:?}"), &rh, &fh, 1e-12, 0.0);
        // and the Hessian is symmetric (reverse computes columns separately)
        assert_matrix_close("H symmetry", &rh, &rh.transpose(), 1e-12, 0.0);
        true
    }
    seeded().tests(150).quickcheck(prop as fn(Point4) -> bool);
}

#[test]
fn hvp_equals_hessian_times_v() {
    fn prop(p: Point4) -> bool {
        let (x, v) = (&p.0, &p.1);
        let (val, hv) = reverse::hvp(mixed, x, v);
        let (fv, _, fh) = forward::hessian(mixed, x);
        assert_eq!(val, fv);
        let want = &fh * DVector::from_column_slice(v);
        let scale = abs_times(&fh, v);
        for i in 0..4 {
            assert_close(
                &format!("(Hv)[{i}] at {x:?}, v = {v:?}"),
                hv[i],
                want[i],
                0.0,
                1e-12 * scale[i] + 1e-300,
            );
        }
        true
    }
    seeded().tests(150).quickcheck(prop as fn(Point4) -> bool);
}

#[test]
fn hvp_of_the_closed_forms() {
    let v = [0.5, -1.0, 2.0, 0.25];
    let x = points(4, 3);
    let (_, hw) = rosenbrock_closed(&x);
    let (_, hv) = reverse::hvp(rosenbrock, &x, &v);
    let want = &hw * DVector::from_column_slice(&v);
    let scale = abs_times(&hw, &v);
    for i in 0..4 {
        assert_close(
            &format!("Rosenbrock (Hv)[{i}]"),
            hv[i],
            want[i],
            0.0,
            1e-13 * scale[i],
        );
    }
    let (_, hw) = lse_closed(&x);
    let (_, hv) = reverse::hvp(log_sum_exp_stable, &x, &v);
    let want = &hw * DVector::from_column_slice(&v);
    let scale = abs_times(&hw, &v);
    for i in 0..4 {
        assert_close(
            &format!("LSE (Hv)[{i}]"),
            hv[i],
            want[i],
            0.0,
            1e-13 * scale[i],
        );
    }
}
