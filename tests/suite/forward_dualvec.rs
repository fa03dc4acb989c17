//! `DualVec` against single-tangent passes, and the forward drivers.
//!
//! - A model mixing most elementary functions, written once for any scalar:
//!   `forward::gradient` with chunks of N = 1, 2, 3, 4, 7, 8 equals `n`
//!   `Dual` passes (`forward::jvp` along each unit vector) bit for bit, and a
//!   `DualVec` seeded with arbitrary directions equals one `Dual` pass per
//!   direction bit for bit; all of them agree with Richardson differences.
//! - The extended Rosenbrock function: gradient, JVP, Jacobian and Hessian
//!   equal the hand-derived closed forms.

use crate::support::forward as common;

use crate::support::compare::*;
use common::*;
use dualtape::{forward, Dual, DualVec, Scalar};

const N_IN: usize = 7;

/// Touches +, -, *, /, sin, exp, ln, cosh, atan2, hypot, powf (both
/// arguments), sqrt, tanh, max, min, mul_add, recip, abs, cbrt, powi, asinh,
/// exp_m1, and constants on both sides; smooth for x in [-2, 2]^7 (except at
/// the kinks of abs, max, min, away from which the points are drawn).
fn model<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let one = S::constant(1.0);
    let a = x[0] * x[1] + x[2].sin() * x[3].exp();
    let b = (x[4] * x[4] + one).ln() / x[5].cosh();
    let c = x[6].atan2(x[0] + S::constant(3.0)) + x[1].hypot(x[2]);
    let d = (x[3] * x[3] + one).powf(x[4] * 0.5) + (x[5] * x[5] + S::constant(0.5)).sqrt();
    let e = x[6].tanh().max(x[0] * 0.25) - x[1].min(x[2] * 2.0);
    let f = x[3].mul_add(x[4], x[5]) * (x[6] * x[6] + one).recip();
    let g = x[0].abs().cbrt() + x[1].powi(3) / 7.0 - x[2].asinh() + x[3].exp_m1() * 0.1;
    a + b * 2.0 - c + d * e + f + g
}

fn point(u: u64) -> Vec<f64> {
    // a deterministic spread of 7 numbers in [-2, 2] from one seed, with the
    // kinks of abs (x0 = 0), max (tanh x6 = x0/4) and min (x1 = 2 x2) avoided
    let mut s = u;
    loop {
        let x: Vec<f64> = (0..N_IN)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                uniform(s, -2.0, 2.0)
            })
            .collect();
        if x[0].abs() > 0.05
            && (x[6].tanh() - x[0] * 0.25).abs() > 0.05
            && (x[1] - 2.0 * x[2]).abs() > 0.05
        {
            return x;
        }
    }
}

/// The gradient from `n` single-tangent passes.
fn single_passes(x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = Vec::new();
    let mut value = f64::NAN;
    for j in 0..x.len() {
        let mut e = vec![0.0; x.len()];
        e[j] = 1.0;
        let (v, d) = forward::jvp(model::<Dual<f64>>, x, &e);
        value = v;
        g.push(d);
    }
    (value, g)
}

fn gradient_chunks_prop(u: u64) -> Result<(), String> {
    let x = point(u);
    let (v1, g1) = single_passes(&x);
    exact("value", v1, model::<f64>(&x))?;
    let chunked: [(usize, (f64, Vec<f64>)); 6] = [
        (1, forward::gradient(model::<DualVec<f64, 1>>, &x)),
        (2, forward::gradient(model::<DualVec<f64, 2>>, &x)),
        (3, forward::gradient(model::<DualVec<f64, 3>>, &x)),
        (4, forward::gradient(model::<DualVec<f64, 4>>, &x)),
        (7, forward::gradient(model::<DualVec<f64, 7>>, &x)),
        (8, forward::gradient(model::<DualVec<f64, 8>>, &x)),
    ];
    for (n, (v, g)) in chunked {
        exact(&format!("value, chunks of {n}"), v, v1)?;
        for j in 0..N_IN {
            exact(&format!("∂f/∂x{j}, chunks of {n}"), g[j], g1[j])?;
        }
    }
    // and against differences of the plain model
    for j in 0..N_IN {
        let f = |t: f64| {
            let mut y = x.clone();
            y[j] = t;
            model::<f64>(&y)
        };
        check_fd(&format!("∂f/∂x{j}"), &f, x[j], 0.05, g1[j])?;
    }
    Ok(())
}

#[test]
fn gradient_in_chunks_equals_single_passes() {
    qc1(gradient_chunks_prop);
}

fn arbitrary_seeds_prop(u: u64, w: u64) -> Result<(), String> {
    let x = point(u);
    // three arbitrary directions, one per lane
    let dirs: Vec<Vec<f64>> = (0..3).map(|k| point(w.wrapping_add(k))).collect();
    let xs: Vec<DualVec<f64, 3>> = (0..N_IN)
        .map(|i| DualVec::new(x[i], [dirs[0][i], dirs[1][i], dirs[2][i]]))
        .collect();
    let y = model(&xs);
    for (k, dir) in dirs.iter().enumerate() {
        let (v, d) = forward::jvp(model::<Dual<f64>>, &x, dir);
        exact("value", y.re, v)?;
        exact(&format!("lane {k}"), y.eps[k], d)?;
    }
    Ok(())
}

#[test]
fn dualvec_lanes_equal_single_passes_along_any_direction() {
    qc2(arbitrary_seeds_prop);
}

#[test]
fn gradient_of_no_inputs_and_of_more_inputs_than_lanes() {
    let (v, g) = forward::gradient(|_: &[DualVec<f64, 4>]| DualVec::from(2.5), &[]);
    assert_eq!((v, g), (2.5, vec![]));
    // 10 inputs in chunks of 4: 4 + 4 + 2
    let x: Vec<f64> = (0..10).map(|i| i as f64 * 0.3 - 1.0).collect();
    let (_, g) = forward::gradient(
        |x: &[DualVec<f64, 4>]| x.iter().map(|&t| t * t * t).sum(),
        &x,
    );
    for (gi, xi) in g.iter().zip(&x) {
        assert_eq!(*gi, 3.0 * xi * xi);
    }
}

#[test]
#[should_panic(expected = "DualVec<f64, 0>")]
fn gradient_with_no_lanes_panics_clearly() {
    let _ = forward::gradient(|x: &[DualVec<f64, 0>]| x[0], &[1.0]);
}

#[test]
#[should_panic(expected = "direction v has 1 components but the point x has 2")]
fn jvp_with_a_short_direction_panics_clearly() {
    let _ = forward::jvp(|x| x[0] * x[1], &[1.0, 2.0], &[1.0]);
}

#[test]
#[should_panic(expected = "a Jacobian needs a fixed number of outputs")]
fn jacobian_with_varying_outputs_panics_clearly() {
    let _ = forward::jacobian(
        |x| {
            if x[0].eps == 1.0 {
                vec![x[0]]
            } else {
                vec![x[0], x[1]]
            }
        },
        &[1.0, 2.0],
    );
}

#[test]
#[should_panic(expected = "out of range")]
fn dualvec_seed_out_of_range_panics_clearly() {
    let _ = DualVec::<f64, 2>::variable(1.0, 2);
}

// ------------------------------------------------------------------ extended Rosenbrock, closed forms

fn rosenbrock<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for p in x.chunks(2) {
        let (a, b) = (p[0], p[1]);
        let t = b - a * a;
        let u = S::constant(1.0) - a;
        s += t * t * 100.0 + u * u;
    }
    s
}

/// (value, gradient, Hessian) written out: for each pair (a, b),
/// f = 100 (b - a²)² + (1 - a)², ∂f/∂a = -400 a (b - a²) - 2 (1 - a),
/// ∂f/∂b = 200 (b - a²), ∂²f/∂a² = 1200 a² - 400 b + 2, ∂²f/∂a∂b = -400 a,
/// ∂²f/∂b² = 200.
fn rosenbrock_closed(x: &[f64]) -> (f64, Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
    let n = x.len();
    let (mut f, mut g, mut h, mut scale) = (0.0, vec![0.0; n], vec![vec![0.0; n]; n], vec![0.0; n]);
    for i in (0..n).step_by(2) {
        let (a, b) = (x[i], x[i + 1]);
        f += 100.0 * (b - a * a).powi(2) + (1.0 - a).powi(2);
        g[i] = -400.0 * a * (b - a * a) - 2.0 * (1.0 - a);
        g[i + 1] = 200.0 * (b - a * a);
        h[i][i] = 1200.0 * a * a - 400.0 * b + 2.0;
        h[i][i + 1] = -400.0 * a;
        h[i + 1][i] = -400.0 * a;
        h[i + 1][i + 1] = 200.0;
        // the size of the terms each result is a difference of
        scale[i] = 400.0 * a.abs() * (b.abs() + a * a) + 2.0 * (1.0 + a.abs());
        scale[i + 1] = 200.0 * (b.abs() + a * a);
    }
    (f, g, h, scale)
}

fn rosenbrock_prop(u: u64) -> Result<(), String> {
    let x: Vec<f64> = point(u).into_iter().chain(point(!u)).take(10).collect();
    let (f, g, h, scale) = rosenbrock_closed(&x);
    let (v, gf) = forward::gradient(rosenbrock::<DualVec<f64, 4>>, &x);
    check_rel("value", v, f, REL, 0.0)?;
    for j in 0..x.len() {
        check_rel(&format!("∂f/∂x{j}"), gf[j], g[j], REL, scale[j])?;
    }
    // a JVP is the gradient dotted with the direction
    let dir = point(u ^ 0x5555);
    let dir: Vec<f64> = dir.iter().chain(&dir).take(10).copied().collect();
    let (_, d) = forward::jvp(rosenbrock::<Dual<f64>>, &x, &dir);
    let want: f64 = g.iter().zip(&dir).map(|(a, b)| a * b).sum();
    let mag: f64 = scale.iter().zip(&dir).map(|(a, b)| (a * b).abs()).sum();
    check_rel("jvp", d, want, REL, mag)?;
    // the Jacobian of the vector of pair terms is the gradient split by pair
    let (ys, jac) = forward::jacobian(|x| x.chunks(2).map(rosenbrock::<Dual<f64>>).collect(), &x);
    assert_eq!(jac.shape(), (5, 10));
    check_rel("sum of outputs", ys.iter().sum::<f64>(), f, REL, 0.0)?;
    for i in 0..5 {
        for j in 0..10 {
            let want = if j / 2 == i { g[j] } else { 0.0 };
            check_rel(&format!("J[{i},{j}]"), jac[(i, j)], want, REL, scale[j])?;
        }
    }
    let (vh, gh, hh) = forward::hessian(rosenbrock::<Dual<Dual<f64>>>, &x);
    check_rel("hessian value", vh, f, REL, 0.0)?;
    for i in 0..10 {
        check_rel(&format!("hessian gradient {i}"), gh[i], g[i], REL, scale[i])?;
        for j in 0..10 {
            let s = 1200.0 * x[i - i % 2].powi(2) + 400.0 * x[i - i % 2 + 1].abs() + 2.0;
            check_rel(&format!("H[{i},{j}]"), hh[(i, j)], h[i][j], REL, s)?;
        }
    }
    Ok(())
}

#[test]
fn rosenbrock_drivers_equal_closed_forms() {
    qc1(rosenbrock_prop);
}

#[test]
fn derivative_driver() {
    // d/dx (x³ - 2/x) = 3x² + 2/x²
    for x in [-3.0, -0.5, 0.25, 2.0] {
        let (v, d) = forward::derivative(|t| t.powi(3) - 2.0 / t, x);
        assert_rel(v, x * x * x - 2.0 / x, 1e-14, "value");
        assert_rel(d, 3.0 * x * x + 2.0 / (x * x), 1e-14, "derivative");
    }
}

#[test]
fn hessian_of_a_mixed_function() {
    // f = x0² x1 + sin(x1 x2): ∇²f written out
    let x = [0.3, -1.2, 0.7];
    let (v, g, h) = forward::hessian(|x| x[0] * x[0] * x[1] + (x[1] * x[2]).sin(), &x);
    let (a, b, c) = (x[0], x[1], x[2]);
    assert_rel(v, a * a * b + (b * c).sin(), 1e-14, "value");
    let gw = [2.0 * a * b, a * a + c * (b * c).cos(), b * (b * c).cos()];
    let hw = [
        [2.0 * b, 2.0 * a, 0.0],
        [
            2.0 * a,
            -c * c * (b * c).sin(),
            (b * c).cos() - b * c * (b * c).sin(),
        ],
        [
            0.0,
            (b * c).cos() - b * c * (b * c).sin(),
            -b * b * (b * c).sin(),
        ],
    ];
    for i in 0..3 {
        assert_rel(g[i], gw[i], 1e-14, "gradient");
        for j in 0..3 {
            assert_rel(h[(i, j)], hw[i][j], 1e-14, &format!("H[{i},{j}]"));
        }
    }
}

#[test]
fn gradient_into_on_the_stack_and_on_the_heap_equals_closed_forms() {
    // f = Σ_i (i + 1) x_i² + x_0 x_last: ∂f/∂x_i = 2 (i + 1) x_i (+ x_last, + x_0)
    fn f<S: dualtape::Scalar<Real = f64>>(x: &[S]) -> S {
        let mut s = x[0] * x[x.len() - 1];
        for (i, &xi) in x.iter().enumerate() {
            s += xi * xi * (i + 1) as f64;
        }
        s
    }
    for n in [1usize, 5, 16, 17, 40] {
        let x: Vec<f64> = (0..n).map(|i| 0.25 * i as f64 - 1.0).collect();
        let mut want: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| 2.0 * (i + 1) as f64 * v)
            .collect();
        want[0] += x[n - 1];
        want[n - 1] += x[0];
        let mut g = vec![0.0; n];
        let v = dualtape::forward::gradient_into(f::<DualVec<f64, 4>>, &x, &mut g);
        assert_eq!(v, f::<f64>(&x));
        assert_eq!(g, want, "n = {n}");
    }
}

#[test]
#[should_panic(expected = "give one entry per input")]
fn gradient_into_checks_the_buffer_length() {
    let mut g = [0.0; 2];
    dualtape::forward::gradient_into(|x: &[DualVec<f64, 2>]| x[0], &[1.0, 2.0, 3.0], &mut g);
}

#[test]
fn gradient_into_with_reuses_the_workspace_and_equals_closed_forms() {
    let mut work: Vec<DualVec<f64, 8>> = Vec::new();
    // a larger problem first, then smaller ones in the same workspace
    for n in [100usize, 36, 2] {
        let x: Vec<f64> = (0..n).map(|i| 0.9 + 0.02 * (i as f64).sin()).collect();
        let (f, want, _, scale) = rosenbrock_closed(&x);
        let mut g = vec![f64::NAN; n];
        let v = forward::gradient_into_with(rosenbrock::<DualVec<f64, 8>>, &x, &mut g, &mut work);
        assert_rel(v, f, 1e-13, "value");
        for i in 0..n {
            assert!(
                (g[i] - want[i]).abs() <= 1e-14 * scale[i].max(1.0),
                "n = {n}, g[{i}] = {} but the closed form is {}",
                g[i],
                want[i]
            );
        }
        assert_eq!(
            work.len(),
            n,
            "the workspace holds the inputs of the last call"
        );
    }
}

#[test]
#[should_panic(expected = "give one entry per input")]
fn gradient_into_with_checks_the_buffer_length() {
    let mut g = [0.0; 2];
    let mut work = Vec::new();
    forward::gradient_into_with(
        |x: &[DualVec<f64, 2>]| x[0],
        &[1.0, 2.0, 3.0],
        &mut g,
        &mut work,
    );
}

/// A vector function with a known Jacobian: y_i = x_i² x_{i+1} (cyclic) and
/// a last output sin(Σ x), so every column is dense in at least two rows.
fn cyclic<S: Scalar<Real = f64>>(x: &[S]) -> Vec<S> {
    let n = x.len();
    let mut y: Vec<S> = (0..n).map(|i| x[i] * x[i] * x[(i + 1) % n]).collect();
    let sum = x.iter().fold(S::constant(0.0), |a, &b| a + b);
    y.push(sum.sin());
    y
}

fn cyclic_jacobian(x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut j = vec![vec![0.0; n]; n + 1];
    for i in 0..n {
        let k = (i + 1) % n;
        j[i][i] += 2.0 * x[i] * x[k];
        j[i][k] += x[i] * x[i];
    }
    let c = x.iter().sum::<f64>().cos();
    for v in &mut j[n] {
        *v = c;
    }
    j
}

#[test]
fn jacobian_chunked_equals_the_closed_form_for_any_chunk() {
    fn check<const N: usize>(x: &[f64]) {
        let (y, j) = forward::jacobian_chunked(cyclic::<DualVec<f64, N>>, x);
        assert_eq!(y, cyclic::<f64>(x), "values, N = {N}");
        let want = cyclic_jacobian(x);
        assert_eq!((j.nrows(), j.ncols()), (x.len() + 1, x.len()));
        for (r, row) in want.iter().enumerate() {
            for (c, &w) in row.iter().enumerate() {
                assert_rel(j[(r, c)], w, 1e-15, &format!("J[{r},{c}], N = {N}"));
            }
        }
    }
    for n in [1usize, 3, 8, 13] {
        let x: Vec<f64> = (0..n).map(|i| 0.3 * i as f64 - 1.1).collect();
        check::<1>(&x);
        check::<4>(&x);
        check::<8>(&x);
        check::<16>(&x);
    }
}

#[test]
fn jacobian_chunked_equals_single_tangent_passes() {
    let x: Vec<f64> = (0..11).map(|i| 0.7 - 0.13 * i as f64).collect();
    let (y1, j1) = forward::jacobian(cyclic::<Dual<f64>>, &x);
    let (y4, j4) = forward::jacobian_chunked(cyclic::<DualVec<f64, 4>>, &x);
    assert_eq!(y1, y4);
    assert_eq!(j1, j4, "the same products in the same order: bit for bit");
}

#[test]
fn jacobian_chunked_of_no_inputs() {
    let (y, j) = forward::jacobian_chunked(|_: &[DualVec<f64, 4>]| vec![DualVec::from(2.0)], &[]);
    assert_eq!(y, vec![2.0]);
    assert_eq!((j.nrows(), j.ncols()), (1, 0));
}

#[test]
#[should_panic(expected = "a Jacobian needs a fixed number of outputs")]
fn jacobian_chunked_with_varying_outputs_panics_clearly() {
    use std::cell::Cell;
    let calls = Cell::new(0);
    forward::jacobian_chunked(
        |x: &[DualVec<f64, 2>]| {
            calls.set(calls.get() + 1);
            vec![x[0]; calls.get()]
        },
        &[1.0, 2.0, 3.0],
    );
}

/// A product is tested once, on its value (`x·y` plain means both factors
/// are): where the value overflows or underflows although both factors are
/// plain, the exact path must give the plain chain rule's bits, `ẋ y + ẏ x`.
#[test]
fn products_that_overflow_or_underflow_keep_the_plain_tangents() {
    for (a, b) in [
        (1e200, 3e200),
        (1e-200, -3e-200),
        (f64::MAX, 2.0),
        (5e-324, 0.5),
        (-1e300, -1e300),
    ] {
        let x = DualVec::<f64, 3>::new(a, [1.5, -0.25, 0.0]);
        let y = DualVec::<f64, 3>::new(b, [0.75, 2.0, -0.0]);
        let z = x * y;
        assert_eq!(z.re.to_bits(), (a * b).to_bits(), "{a} · {b}");
        for k in 0..3 {
            let want = x.eps[k] * b + y.eps[k] * a;
            assert_eq!(z.eps[k].to_bits(), want.to_bits(), "{a} · {b}, lane {k}");
        }
        let zd = Dual::new(a, 1.5) * Dual::new(b, 0.75);
        assert_eq!(
            zd.eps.to_bits(),
            (1.5 * b + 0.75 * a).to_bits(),
            "{a} · {b}"
        );
    }
}
