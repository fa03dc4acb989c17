//! Integration tests for `dualtape::finite_diff`, against derivatives worked
//! out by hand in this file.

use std::cell::{Cell, RefCell};

use dualtape::finite_diff::{
    derivative, derivative_with, directional, directional_with, gradient, gradient_with, jacobian,
    jacobian_with, step_size, step_size_with, Config, Scheme, Step,
};
use quickcheck::TestResult;

use crate::support::seeded;

const SCHEMES: [Scheme; 3] = [Scheme::Forward, Scheme::Central, Scheme::Richardson];

/// Tolerances the schemes really meet at their automatic steps, on the
/// smooth functions below, for errors measured relative to
/// `max(1, |f|, |f'|)`. The measured worst cases are about 3e-8, 6e-11 and
/// 9e-13; the margins are 4x to 9x.
fn tolerance(scheme: Scheme) -> f64 {
    match scheme {
        Scheme::Forward => 1e-7,
        Scheme::Central => 5e-10,
        Scheme::Richardson => 5e-12,
    }
}

/// `|got − exact| / max(1, |scale|)`.
fn scaled_err(got: f64, exact: f64, scale: f64) -> f64 {
    (got - exact).abs() / scale.abs().max(1.0)
}

type Fun = fn(f64) -> f64;

/// Functions of one variable with their derivatives, written out by hand.
fn closed_forms() -> Vec<(&'static str, Fun, Fun)> {
    vec![
        ("sin", |x| x.sin(), |x| x.cos()),
        ("exp", |x| x.exp(), |x| x.exp()),
        ("cube", |x| x * x * x, |x| 3.0 * x * x),
        ("atan", |x| x.atan(), |x| 1.0 / (1.0 + x * x)),
        (
            "ln(1 + x²)",
            |x| (1.0 + x * x).ln(),
            |x| 2.0 * x / (1.0 + x * x),
        ),
    ]
}

/// x sin(x) / (3 + cos x), whose higher derivatives do not shrink as |x|
/// grows, and its derivative.
fn wiggly(x: f64) -> f64 {
    x * x.sin() / (3.0 + x.cos())
}

fn wiggly_derivative(x: f64) -> f64 {
    let d = 3.0 + x.cos();
    (x.sin() + x * x.cos()) / d + x * x.sin() * x.sin() / (d * d)
}

/// 241 points evenly spread over [-3, 3].
fn grid() -> impl Iterator<Item = f64> {
    (0..=240).map(|k| -3.0 + 6.0 * k as f64 / 240.0)
}

#[test]
fn derivative_meets_each_schemes_tolerance_on_closed_forms() {
    for (name, f, df) in closed_forms() {
        for scheme in SCHEMES {
            for x in grid() {
                let (value, d) = derivative(f, x, scheme);
                assert_eq!(value, f(x), "{name}: the value is f(x) itself");
                let exact = df(x);
                let err = scaled_err(d, exact, exact.abs().max(f(x).abs()));
                assert!(
                    err <= tolerance(scheme),
                    "{name} at {x}, {scheme:?}: got {d}, exact {exact}, scaled error {err:e}"
                );
            }
        }
    }
}

#[test]
fn relative_steps_cost_richardson_digits_where_f_does_not_scale_with_x() {
    // Step::Auto scales the step with max(1, |x|): at |x| = 3 Richardson's
    // step is 3 ε^(1/5) ≈ 2.2e-3 and its h⁴ truncation error 81 times what
    // it would be at ε^(1/5). For a function whose derivatives do not shrink
    // as |x| grows, that is the dominant error, measured here at up to about
    // 9e-12 (at x = ±3), against 3e-13 with an absolute step. Forward and
    // Central meet their usual tolerances either way.
    let absolute = Step::Absolute(Scheme::Richardson.base_step());
    let mut worst_auto = 0.0_f64;
    let mut worst_absolute = 0.0_f64;
    for x in grid() {
        let exact = wiggly_derivative(x);
        let scale = exact.abs().max(wiggly(x).abs());
        for scheme in [Scheme::Forward, Scheme::Central] {
            let err = scaled_err(derivative(wiggly, x, scheme).1, exact, scale);
            assert!(err <= tolerance(scheme), "{scheme:?} at {x}: {err:e}");
        }
        let auto = derivative(wiggly, x, Scheme::Richardson).1;
        worst_auto = worst_auto.max(scaled_err(auto, exact, scale));
        let config = Config::new(Scheme::Richardson).with_step(absolute);
        let abs = derivative_with(wiggly, x, &config).1;
        worst_absolute = worst_absolute.max(scaled_err(abs, exact, scale));
    }
    assert!(worst_auto <= 3e-11, "{worst_auto:e}");
    assert!(
        worst_absolute <= tolerance(Scheme::Richardson),
        "{worst_absolute:e}"
    );
    assert!(worst_absolute * 10.0 < worst_auto);
}

#[test]
fn richardson_beats_central_beats_forward_on_smooth_functions() {
    for (name, f, df) in closed_forms() {
        let mean_err = |scheme| {
            let errs: Vec<f64> = grid()
                .map(|x| {
                    let exact = df(x);
                    scaled_err(
                        derivative(f, x, scheme).1,
                        exact,
                        exact.abs().max(f(x).abs()),
                    )
                })
                .collect();
            errs.iter().sum::<f64>() / errs.len() as f64
        };
        let (fwd, cen, ric) = (
            mean_err(Scheme::Forward),
            mean_err(Scheme::Central),
            mean_err(Scheme::Richardson),
        );
        // Expected roughly √ε ≈ 1e-8, ε^(2/3) ≈ 4e-11, ε^(4/5) ≈ 3e-13.
        assert!(
            cen * 100.0 < fwd,
            "{name}: central {cen:e} vs forward {fwd:e}"
        );
        assert!(
            ric * 10.0 < cen,
            "{name}: richardson {ric:e} vs central {cen:e}"
        );
    }
}

#[test]
fn truncation_error_shrinks_with_the_schemes_order() {
    // exp at 0.5 with steps large enough that truncation dominates rounding:
    // halving h divides the error by 2^order.
    let x = 0.5_f64;
    let exact = x.exp();
    let cases = [
        (Scheme::Forward, 1e-3, 2.0),
        (Scheme::Central, 1e-2, 4.0),
        (Scheme::Richardson, 1e-1, 16.0),
    ];
    for (scheme, h, ratio) in cases {
        let err = |h: f64| {
            let config = Config::new(scheme).with_step(Step::Absolute(h));
            (derivative_with(f64::exp, x, &config).1 - exact).abs()
        };
        let observed = err(h) / err(h / 2.0);
        assert!(
            (observed / ratio - 1.0).abs() < 0.1,
            "{scheme:?}: error ratio {observed} for halving h, expected about {ratio}"
        );
        assert_eq!(scheme.order(), ratio.log2() as u32);
    }
    // The leading terms themselves: h f''/2 for Forward, h² f'''/6 for Central.
    let h = 1e-3;
    let fwd = derivative_with(
        f64::exp,
        x,
        &Config::new(Scheme::Forward).with_step(Step::Absolute(h)),
    )
    .1;
    assert!(((fwd - exact) / (h * exact / 2.0) - 1.0).abs() < 1e-3);
    let h = 1e-2;
    let cen = derivative_with(
        f64::exp,
        x,
        &Config::new(Scheme::Central).with_step(Step::Absolute(h)),
    )
    .1;
    assert!(((cen - exact) / (h * h * exact / 6.0) - 1.0).abs() < 1e-3);
}

fn rosenbrock(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum()
}

/// ∂/∂x_i of Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)².
fn rosenbrock_gradient(x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len().saturating_sub(1) {
        let r = x[i + 1] - x[i] * x[i];
        g[i] += -400.0 * x[i] * r - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * r;
    }
    g
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, a| m.max(a.abs()))
}

#[test]
fn rosenbrock_gradient_matches_analytic_for_each_scheme() {
    let mut points = vec![vec![-1.2, 1.0], vec![0.5, -0.3, 1.7, 2.2, -1.1, 0.0]];
    for k in 0..50 {
        points.push(
            (0..6)
                .map(|i| 2.0 * (((7 * k + 13 * i) as f64) * 0.37).sin())
                .collect(),
        );
    }
    for x in &points {
        let exact = rosenbrock_gradient(x);
        let scale = max_abs(&exact).max(rosenbrock(x));
        for scheme in SCHEMES {
            let (value, g) = gradient(rosenbrock, x, scheme);
            assert_eq!(value, rosenbrock(x));
            assert_eq!(g.len(), x.len());
            for (i, (&gi, &ei)) in g.iter().zip(&exact).enumerate() {
                let err = scaled_err(gi, ei, scale);
                assert!(
                    err <= tolerance(scheme),
                    "{scheme:?} at {x:?}, component {i}: got {gi}, exact {ei}, error {err:e}"
                );
            }
        }
    }
}

#[test]
fn rosenbrock_at_its_minimum_shows_each_schemes_leading_error() {
    // The gradient is zero at (1, 1, 1), so what the schemes return is their
    // error. Forward's is its leading term h f''/2, with ∂²f/∂x_i² = 802,
    // 1002, 200 there: large next to |f| = |∇f| = 0, and the reason the
    // tolerances elsewhere are relative to the size of f and ∇f only on
    // points away from stationary ones.
    let x = [1.0, 1.0, 1.0];
    let (_, g) = gradient(rosenbrock, &x, Scheme::Forward);
    let h = step_size(Scheme::Forward, 1.0);
    for (gi, f2) in g.iter().zip([802.0, 1002.0, 200.0]) {
        assert!((gi / (h * f2 / 2.0) - 1.0).abs() < 1e-3, "{g:?}");
    }
    // Central's is h² f'''/6, with ∂³f/∂x_i³ = 2400 x_i (and 0 for the last).
    let (_, g) = gradient(rosenbrock, &x, Scheme::Central);
    let h = step_size(Scheme::Central, 1.0);
    for (gi, f3) in g.iter().zip([2400.0, 2400.0, 0.0]) {
        assert!((gi - h * h * f3 / 6.0).abs() < 1e-9, "{g:?}");
    }
    // Richardson is exact for polynomials of degree 4: only rounding is left.
    let (_, g) = gradient(rosenbrock, &x, Scheme::Richardson);
    assert!(max_abs(&g) < 1e-10, "{g:?}");
}

/// F(x, y, z) = (x y z, sin x + y², exp(x z) − y / z).
fn three_outputs(p: &[f64]) -> Vec<f64> {
    let (x, y, z) = (p[0], p[1], p[2]);
    vec![x * y * z, x.sin() + y * y, (x * z).exp() - y / z]
}

fn three_outputs_jacobian(p: &[f64]) -> [[f64; 3]; 3] {
    let (x, y, z) = (p[0], p[1], p[2]);
    let e = (x * z).exp();
    [
        [y * z, x * z, x * y],
        [x.cos(), 2.0 * y, 0.0],
        [z * e, -1.0 / z, x * e + y / (z * z)],
    ]
}

#[test]
fn jacobian_of_three_outputs_matches_analytic() {
    let points = [
        [0.3, -1.2, 0.8],
        [1.0, 2.0, 1.5],
        [-0.7, 0.4, -1.9],
        [2.0, -0.5, 0.6],
    ];
    for p in &points {
        let exact = three_outputs_jacobian(p);
        let values = three_outputs(p);
        for scheme in SCHEMES {
            let (value, j) = jacobian(three_outputs, p, scheme);
            assert_eq!(value, values);
            assert_eq!(j.shape(), (3, 3), "rows are outputs, columns inputs");
            for r in 0..3 {
                let scale = max_abs(&exact[r]).max(values[r].abs());
                for c in 0..3 {
                    let err = scaled_err(j[(r, c)], exact[r][c], scale);
                    assert!(
                        err <= tolerance(scheme),
                        "{scheme:?} at {p:?}: J[{r},{c}] = {}, exact {}, error {err:e}",
                        j[(r, c)],
                        exact[r][c]
                    );
                }
            }
        }
    }
}

#[test]
fn jacobian_rows_are_outputs_and_columns_inputs() {
    // Three outputs of two inputs: a 3 × 2 matrix, checked entry by entry.
    let f = |p: &[f64]| vec![p[0] + 2.0 * p[1], p[0] * p[1], p[0].sin()];
    let (x, y) = (0.4_f64, -1.5);
    for scheme in SCHEMES {
        let (value, j) = jacobian(f, &[x, y], scheme);
        assert_eq!(value.len(), 3);
        assert_eq!(j.shape(), (3, 2));
        let exact = [[1.0, 2.0], [y, x], [x.cos(), 0.0]];
        for r in 0..3 {
            for c in 0..2 {
                assert!(
                    (j[(r, c)] - exact[r][c]).abs() <= tolerance(scheme) * 2.0,
                    "{scheme:?}: J[{r},{c}] = {}",
                    j[(r, c)]
                );
            }
        }
    }
}

#[test]
fn jacobian_of_a_scalar_function_is_the_gradient_as_a_row() {
    let x = [0.5, -0.3, 1.7];
    for scheme in SCHEMES {
        let (_, g) = gradient(rosenbrock, &x, scheme);
        let (value, j) = jacobian(|p: &[f64]| vec![rosenbrock(p)], &x, scheme);
        assert_eq!(value, vec![rosenbrock(&x)]);
        assert_eq!(j.shape(), (1, 3));
        for i in 0..3 {
            assert_eq!(j[(0, i)], g[i], "same points, same arithmetic");
        }
    }
}

/// f(x) = exp(x₀) sin(x₁) + x₂² x₀ + ln(1 + x₁²) and its gradient.
fn smooth3(x: &[f64]) -> f64 {
    x[0].exp() * x[1].sin() + x[2] * x[2] * x[0] + (1.0 + x[1] * x[1]).ln()
}

fn smooth3_gradient(x: &[f64]) -> [f64; 3] {
    [
        x[0].exp() * x[1].sin() + x[2] * x[2],
        x[0].exp() * x[1].cos() + 2.0 * x[1] / (1.0 + x[1] * x[1]),
        2.0 * x[2] * x[0],
    ]
}

/// Maps an arbitrary integer into [-2, 2].
fn in_box(k: i32) -> f64 {
    2.0 * (k as f64) / (i32::MAX as f64)
}

#[test]
fn quickcheck_central_gradient_agrees_with_analytic_in_a_box() {
    fn prop(a: i32, b: i32, c: i32) -> TestResult {
        let x = [in_box(a), in_box(b), in_box(c)];
        let (value, g) = gradient(smooth3, &x, Scheme::Central);
        let exact = smooth3_gradient(&x);
        let scale = max_abs(&exact).max(value.abs());
        let err = g
            .iter()
            .zip(&exact)
            .map(|(gi, ei)| scaled_err(*gi, *ei, scale))
            .fold(0.0, f64::max);
        if value == smooth3(&x) && err <= tolerance(Scheme::Central) {
            TestResult::passed()
        } else {
            TestResult::error(format!(
                "at {x:?}: got {g:?}, exact {exact:?}, error {err:e}"
            ))
        }
    }
    seeded()
        .tests(500)
        .quickcheck(prop as fn(i32, i32, i32) -> TestResult);
}

#[test]
fn quickcheck_directional_agrees_with_analytic_gradient_dot_v() {
    fn prop(a: i32, b: i32, c: i32, v: (i32, i32, i32)) -> TestResult {
        let x = [in_box(a), in_box(b), in_box(c)];
        let v = [in_box(v.0), in_box(v.1), in_box(v.2)];
        let exact = smooth3_gradient(&x);
        let dot: f64 = exact.iter().zip(&v).map(|(g, v)| g * v).sum();
        let v_norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        // The error is relative to ‖∇f‖ ‖v‖ (and |f|), not to the dot product,
        // which can cancel to zero.
        let scale = (max_abs(&exact).max(smooth3(&x).abs()) * v_norm).max(v_norm);
        let (_, d) = directional(smooth3, &x, &v, Scheme::Central);
        let err = (d - dot).abs() / scale.max(f64::MIN_POSITIVE);
        if err <= 5e-9 {
            TestResult::passed()
        } else {
            TestResult::error(format!(
                "at {x:?} along {v:?}: got {d}, exact {dot}, {err:e}"
            ))
        }
    }
    seeded()
        .tests(300)
        .quickcheck(prop as fn(i32, i32, i32, (i32, i32, i32)) -> TestResult);
}

#[test]
fn directional_equals_analytic_gradient_dot_v() {
    let x = [0.5, -0.3, 1.7];
    let exact = smooth3_gradient(&x);
    let directions = [
        [1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0],
        [1.0, -2.0, 0.5],
        [3e6, 1e6, -2e6], // huge and tiny v: the step follows v / ‖v‖
        [3e-6, 1e-6, -2e-6],
    ];
    for v in &directions {
        let dot: f64 = exact.iter().zip(v).map(|(g, v)| g * v).sum();
        let v_norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        for scheme in SCHEMES {
            let (value, d) = directional(smooth3, &x, v, scheme);
            assert_eq!(value, smooth3(&x));
            // A small factor over the one-input tolerance: the points x + h u
            // are rounded in every component (see the module docs).
            let err = (d - dot).abs() / (v_norm * max_abs(&exact));
            assert!(
                err <= 10.0 * tolerance(scheme),
                "{scheme:?} along {v:?}: got {d}, exact {dot}, error {err:e}"
            );
        }
    }
    // Along a coordinate axis it agrees with the gradient's component.
    let (_, g) = gradient(smooth3, &x, Scheme::Richardson);
    let (_, d) = directional(smooth3, &x, &[0.0, 1.0, 0.0], Scheme::Richardson);
    assert!((d - g[1]).abs() < 1e-11);
}

#[test]
fn directional_along_zero_is_exactly_zero_with_one_evaluation() {
    for scheme in SCHEMES {
        let calls = Cell::new(0);
        let (value, d) = directional(
            |x: &[f64]| {
                calls.set(calls.get() + 1);
                smooth3(x)
            },
            &[0.1, 0.2, 0.3],
            &[0.0, -0.0, 0.0],
            scheme,
        );
        assert_eq!((value, d), (smooth3(&[0.1, 0.2, 0.3]), 0.0));
        assert_eq!(calls.get(), 1);
    }
}

#[test]
fn directional_with_absolute_step_is_a_displacement_length() {
    // f = x₀², along v = (10, 0): an absolute step h gives points x ± h (1, 0).
    // The central difference of a quadratic is exact: 2 x₀ · 10.
    let config = Config::new(Scheme::Central).with_step(Step::Absolute(0.25));
    let seen = RefCell::new(Vec::new());
    let (_, d) = directional_with(
        |x: &[f64]| {
            seen.borrow_mut().push(x[0]);
            x[0] * x[0]
        },
        &[3.0, 1.0],
        &[10.0, 0.0],
        &config,
    );
    assert_eq!(d, 60.0);
    assert_eq!(*seen.borrow(), vec![3.25, 2.75, 3.0]);
}

#[test]
fn steps_are_the_documented_choice_and_exactly_representable() {
    let eps = f64::EPSILON;
    let bases = [
        (Scheme::Forward, eps.sqrt()),
        (Scheme::Central, eps.cbrt()),
        (Scheme::Richardson, eps.powf(0.2)),
    ];
    let xs = [
        0.0,
        -0.0,
        0.1,
        -0.1,
        1.0,
        -1.0,
        3.7,
        -7.3,
        1.0 / 3.0,
        1e-300,
        123456.789,
        -9.87e9,
        1e15,
        2.0 - 1e-15,
    ];
    for (scheme, base) in bases {
        assert_eq!(scheme.base_step(), base);
        for &x in &xs {
            let h = step_size(scheme, x);
            let nominal = base * x.abs().max(1.0);
            assert!(h > 0.0);
            assert_eq!((x + h) - x, h, "{scheme:?} at {x}: step not representable");
            // Within an ulp of x of the nominal step.
            assert!(
                (h - nominal).abs() <= 2.0 * eps * x.abs().max(1.0),
                "{scheme:?} at {x}: {h} vs nominal {nominal}"
            );
        }
    }
    // Step::Relative and Step::Absolute are made representable too.
    let x = 1e10 + 0.3;
    for step in [Step::Relative(1e-7), Step::Absolute(1e-3)] {
        let h = step_size_with(&Config::new(Scheme::Forward).with_step(step), x);
        assert_eq!((x + h) - x, h);
    }
    // Relative steps floor at 1: the same step for all |x| <= 1.
    let config = Config::new(Scheme::Central).with_step(Step::Relative(1e-4));
    for x in [0.0, 0.5, -1.0] {
        assert!((step_size_with(&config, x) - 1e-4).abs() < 1e-15);
    }
    assert!((step_size_with(&config, 100.0) - 1e-2).abs() < 1e-14);
}

#[test]
fn divided_differences_use_the_true_step() {
    // The identity at a large x: x + h is rounded, and only by dividing by the
    // true distance between the points is the difference quotient exactly 1.
    // A nominal step would be off by ~ ε |x| / h ≈ 1e-8 here.
    let x = 1e10 + 0.3;
    for scheme in SCHEMES {
        assert_eq!(derivative(|t| t, x, scheme).1, 1.0, "{scheme:?}");
        let point = [x, -3.3e8 - 0.7, 0.1];
        for i in 0..3 {
            let (_, g) = gradient(|p: &[f64]| p[i], &point, scheme);
            let mut unit = vec![0.0; 3];
            unit[i] = 1.0;
            assert_eq!(g, unit, "{scheme:?}, component {i}");
        }
        for step in [Step::Relative(3e-7), Step::Absolute(1e-4)] {
            let config = Config::new(scheme).with_step(step);
            assert_eq!(derivative_with(|t| t, x, &config).1, 1.0);
        }
    }
}

/// Records every point `f` is evaluated at, then checks the pattern: the
/// number of calls; `f(x)` first (Forward) or last (Central, Richardson),
/// bit for bit; and each other call differing from `x` in exactly one
/// component, components in order, each `k` times.
fn check_perturbation_pattern(scheme: Scheme, x: &[f64], calls: &[Vec<f64>]) {
    let k = match scheme {
        Scheme::Forward => 1,
        Scheme::Central => 2,
        Scheme::Richardson => 4,
    };
    let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
    assert_eq!(calls.len(), k * x.len() + 1, "{scheme:?}: number of calls");
    let (at_x, perturbed) = match scheme {
        Scheme::Forward => (&calls[0], &calls[1..]),
        _ => (&calls[calls.len() - 1], &calls[..calls.len() - 1]),
    };
    assert_eq!(bits(at_x), bits(x), "{scheme:?}: f(x) must see x exactly");
    for (c, call) in perturbed.iter().enumerate() {
        let changed: Vec<usize> = (0..x.len())
            .filter(|&i| call[i].to_bits() != x[i].to_bits())
            .collect();
        assert_eq!(
            changed,
            vec![c / k],
            "{scheme:?}: call {c} must change component {} only, saw {call:?}",
            c / k
        );
    }
}

#[test]
fn gradient_perturbs_one_component_at_a_time_and_restores_x_exactly() {
    // -0.0 and an awkward fraction: restoring must be bit-exact.
    let x = [1.5, -0.0, 1e6, 1.0 / 3.0, -2.25];
    for scheme in SCHEMES {
        let calls = RefCell::new(Vec::new());
        let (value, _) = gradient(
            |p: &[f64]| {
                calls.borrow_mut().push(p.to_vec());
                p.iter().map(|a| a.sin()).sum()
            },
            &x,
            scheme,
        );
        assert_eq!(value, x.iter().map(|a| a.sin()).sum::<f64>());
        check_perturbation_pattern(scheme, &x, &calls.borrow());
    }
}

#[test]
fn jacobian_perturbs_one_component_at_a_time_and_restores_x_exactly() {
    let x = [0.3, -0.0, 0.8];
    for scheme in SCHEMES {
        let calls = RefCell::new(Vec::new());
        jacobian(
            |p: &[f64]| {
                calls.borrow_mut().push(p.to_vec());
                three_outputs(&[p[0], p[1], p[2] + 1.0])
            },
            &x,
            scheme,
        );
        check_perturbation_pattern(scheme, &x, &calls.borrow());
    }
}

#[test]
fn directional_restores_x_before_evaluating_f_at_x() {
    let x = [0.3, -0.0, 0.8, 1.0 / 3.0];
    let v = [1.0, 2.0, -1.0, 0.5];
    for scheme in SCHEMES {
        let calls = RefCell::new(Vec::new());
        directional(
            |p: &[f64]| {
                calls.borrow_mut().push(p.to_vec());
                p.iter().sum()
            },
            &x,
            &v,
            scheme,
        );
        let calls = calls.borrow();
        let at_x = match scheme {
            Scheme::Forward => &calls[0],
            _ => calls.last().unwrap(),
        };
        let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(at_x), bits(&x), "{scheme:?}");
    }
}

/// Counts the calls of a gradient-style `f`.
fn counting<'a>(count: &'a Cell<usize>) -> impl Fn(&[f64]) -> f64 + 'a {
    move |x: &[f64]| {
        count.set(count.get() + 1);
        x.iter().map(|a| a * a).sum()
    }
}

#[test]
fn evaluation_counts_per_scheme() {
    for n in 0..6 {
        let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 1.0).collect();
        let v: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        for (scheme, per_input) in [
            (Scheme::Forward, 1),
            (Scheme::Central, 2),
            (Scheme::Richardson, 4),
        ] {
            let expected = per_input * n + 1;
            assert_eq!(scheme.evaluations(n), expected);

            let count = Cell::new(0);
            gradient(counting(&count), &x, scheme);
            assert_eq!(count.get(), expected, "gradient, {scheme:?}, n = {n}");

            let count = Cell::new(0);
            jacobian(
                |p: &[f64]| {
                    count.set(count.get() + 1);
                    vec![p.iter().sum(), 1.0]
                },
                &x,
                scheme,
            );
            assert_eq!(count.get(), expected, "jacobian, {scheme:?}, n = {n}");

            if n > 0 {
                let count = Cell::new(0);
                directional(counting(&count), &x, &v, scheme);
                assert_eq!(count.get(), per_input + 1, "directional, {scheme:?}");
            }
        }
    }
    for (scheme, expected) in [
        (Scheme::Forward, 2),
        (Scheme::Central, 3),
        (Scheme::Richardson, 5),
    ] {
        let count = Cell::new(0);
        derivative(
            |t| {
                count.set(count.get() + 1);
                t.cos()
            },
            0.7,
            scheme,
        );
        assert_eq!(count.get(), expected, "derivative, {scheme:?}");
    }
}

#[test]
fn empty_input_gives_value_and_empty_gradient() {
    for scheme in SCHEMES {
        let count = Cell::new(0);
        let (value, g) = gradient(
            |x: &[f64]| {
                count.set(count.get() + 1);
                assert!(x.is_empty());
                42.0
            },
            &[],
            scheme,
        );
        assert_eq!((value, g), (42.0, vec![]));
        assert_eq!(count.get(), 1);

        let (value, j) = jacobian(|_: &[f64]| vec![1.0, 2.0], &[], scheme);
        assert_eq!(value, vec![1.0, 2.0]);
        assert_eq!(j.shape(), (2, 0));

        let (value, d) = directional(|_: &[f64]| 5.0, &[], &[], scheme);
        assert_eq!((value, d), (5.0, 0.0));
    }
}

#[test]
fn non_finite_inputs_give_nan_components_never_finite_wrong_numbers() {
    // f ignores x₁ and x₂, so a careless difference would report 0 for them.
    let f = |x: &[f64]| x[0].sin() + x[3] * x[3] + 0.0 * x[1].min(1.0) * x[2].min(1.0);
    let x = [0.5, f64::INFINITY, f64::NAN, 2.0];
    for scheme in SCHEMES {
        let (_, g) = gradient(f, &x, scheme);
        assert!(g[1].is_nan() && g[2].is_nan(), "{scheme:?}: {g:?}");
        assert!((g[0] - 0.5f64.cos()).abs() < tolerance(scheme), "{g:?}");
        assert!((g[3] - 4.0).abs() < 4.0 * tolerance(scheme), "{g:?}");

        // Near f64::MAX the stencil overflows: NaN, not a finite number.
        let (_, g) = gradient(|x: &[f64]| x[1], &[f64::MAX, 1.0], scheme);
        assert!(g[0].is_nan(), "{scheme:?}: {g:?}");
        assert!((g[1] - 1.0).abs() < tolerance(scheme));

        assert!(derivative(|t| t * 0.0, f64::NEG_INFINITY, scheme)
            .1
            .is_nan());
        assert!(step_size(scheme, f64::NAN).is_nan());

        // A step that rounds to nothing at a large x.
        let config = Config::new(scheme).with_step(Step::Absolute(1e-20));
        assert!(derivative_with(|t| t, 1e10, &config).1.is_nan());

        // Jacobian: an invalid leading column (evaluated nothing before m was
        // known) still gets all m rows, as NaN.
        let g = |p: &[f64]| vec![p[1] * p[2], p[2].sin() + p[1], 0.0 * p[0].min(1.0)];
        let (value, j) = jacobian(g, &[f64::NAN, 2.0, 1.5], scheme);
        assert_eq!(value.len(), 3);
        assert_eq!(j.shape(), (3, 3));
        for r in 0..3 {
            assert!(j[(r, 0)].is_nan());
            assert!(j[(r, 1)].is_finite() && j[(r, 2)].is_finite());
        }
        let (_, j) = jacobian(|p: &[f64]| vec![p[0], 1.0], &[f64::INFINITY], scheme);
        assert_eq!(j.shape(), (2, 1));
        assert!(j.iter().all(|a| a.is_nan()));

        // Directional: a non-finite x or v gives NaN.
        assert!(
            directional(|p: &[f64]| p[0], &[1.0, 2.0], &[f64::NAN, 1.0], scheme)
                .1
                .is_nan()
        );
        assert!(
            directional(|p: &[f64]| p[0], &[f64::INFINITY, 2.0], &[0.0, 1.0], scheme)
                .1
                .is_nan()
        );
    }
}

#[test]
fn config_defaults_and_builders() {
    assert_eq!(Scheme::default(), Scheme::Central);
    assert_eq!(Step::default(), Step::Auto);
    let config = Config::default();
    assert_eq!(config.scheme, Scheme::Central);
    assert_eq!(config.step, Step::Auto);
    assert_eq!(Config::from(Scheme::Forward), Config::new(Scheme::Forward));
    // Step::Auto is Step::Relative(base step): identical results.
    let x = [0.5, -0.3, 1.7];
    for scheme in SCHEMES {
        let auto = gradient_with(smooth3, &x, &Config::new(scheme));
        let relative = gradient_with(
            smooth3,
            &x,
            &Config::new(scheme).with_step(Step::Relative(scheme.base_step())),
        );
        assert_eq!(auto, relative);
        assert_eq!(auto, gradient(smooth3, &x, scheme));
        let v = [1.0, 2.0, 3.0];
        assert_eq!(
            directional(smooth3, &x, &v, scheme),
            directional_with(smooth3, &x, &v, &Config::new(scheme))
        );
        assert_eq!(
            jacobian(three_outputs, &x, scheme),
            jacobian_with(three_outputs, &x, &Config::new(scheme))
        );
    }
}

#[test]
#[should_panic(expected = "the direction v has 2 entries but x has 3")]
fn directional_panics_on_length_mismatch() {
    directional(smooth3, &[1.0, 2.0, 3.0], &[1.0, 0.0], Scheme::Central);
}

#[test]
#[should_panic(expected = "f returned 3 outputs but 2 at an earlier evaluation")]
fn jacobian_panics_when_output_length_varies() {
    // Two outputs at x, three once x₀ moves up.
    jacobian(
        |p: &[f64]| {
            if p[0] > 1.0 {
                vec![0.0; 3]
            } else {
                vec![0.0; 2]
            }
        },
        &[1.0, 0.0],
        Scheme::Forward,
    );
}

#[test]
#[should_panic(expected = "must return a vector of the same length at every point")]
fn jacobian_panics_when_output_length_varies_central() {
    let calls = Cell::new(0);
    jacobian(
        |_: &[f64]| {
            calls.set(calls.get() + 1);
            vec![0.0; calls.get()]
        },
        &[1.0],
        Scheme::Central,
    );
}

#[test]
#[should_panic(expected = "Step::Absolute(0) is not a valid step; use a finite step > 0")]
fn zero_absolute_step_panics() {
    gradient_with(
        smooth3,
        &[1.0, 2.0, 3.0],
        &Config::new(Scheme::Central).with_step(Step::Absolute(0.0)),
    );
}

#[test]
#[should_panic(expected = "Step::Absolute(-0.001) is not a valid step")]
fn negative_absolute_step_panics() {
    derivative_with(
        f64::sin,
        1.0,
        &Config::new(Scheme::Forward).with_step(Step::Absolute(-1e-3)),
    );
}

#[test]
#[should_panic(expected = "Step::Absolute(NaN) is not a valid step")]
fn nan_absolute_step_panics() {
    jacobian_with(
        three_outputs,
        &[1.0, 2.0, 3.0],
        &Config::new(Scheme::Richardson).with_step(Step::Absolute(f64::NAN)),
    );
}

#[test]
#[should_panic(expected = "Step::Absolute(inf) is not a valid step")]
fn infinite_absolute_step_panics_even_for_empty_x() {
    gradient_with(
        |_: &[f64]| 0.0,
        &[],
        &Config::new(Scheme::Central).with_step(Step::Absolute(f64::INFINITY)),
    );
}

#[test]
#[should_panic(expected = "Step::Relative(0) is not a valid relative step")]
fn zero_relative_step_panics() {
    directional_with(
        smooth3,
        &[1.0, 2.0, 3.0],
        &[1.0, 0.0, 0.0],
        &Config::new(Scheme::Central).with_step(Step::Relative(0.0)),
    );
}
