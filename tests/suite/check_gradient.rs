//! `check::gradient`, `check::gradient_fast` and the `function` drivers,
//! against closed-form gradients and errors planted on purpose.

use std::any::type_name;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::check_report::flat;
use crate::support::compare;
use dualtape::check::{self, Config, Index, Mode};
use dualtape::finite_diff::Scheme;
use dualtape::{finite_diff, forward, reverse, Differentiable, DualVec, Scalar};

/// Relative to the larger value, with `rel` also as the absolute floor.
fn close(a: f64, b: f64, rel: f64) -> bool {
    compare::close(a, b, rel, rel)
}

/// Rosenbrock: ∇f = (−2(1−a) − 400a(b−a²), 200(b−a²)).
struct Rosenbrock;
impl Differentiable for Rosenbrock {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        (S::constant(1.0) - x[0]).powi(2) + (x[1] - x[0] * x[0]).powi(2) * 100.0
    }
}

fn rosenbrock_gradient(a: f64, b: f64) -> [f64; 2] {
    [
        -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
        200.0 * (b - a * a),
    ]
}

#[test]
fn the_report_holds_the_closed_form_gradient_in_every_mode() {
    let (a, b) = (-1.2, 1.0);
    let want = rosenbrock_gradient(a, b);
    let report = check::gradient(&Rosenbrock, &[a, b]);
    report.assert_ok();
    assert_eq!(
        report.modes(),
        &[Mode::Forward, Mode::Reverse, Mode::Replay, Mode::FiniteDiff]
    );
    assert_eq!(report.entries().len(), 3);
    assert!(close(
        report.get(Index::Value, Mode::Reverse).unwrap(),
        24.2,
        1e-15
    ));
    for (i, &w) in want.iter().enumerate() {
        for mode in [Mode::Forward, Mode::Reverse, Mode::Replay] {
            let got = report.get(Index::Gradient(i), mode).unwrap();
            assert!(close(got, w, 1e-14), "{mode} ∂f/∂x[{i}] = {got}, want {w}");
        }
        let fd = report.get(Index::Gradient(i), Mode::FiniteDiff).unwrap();
        assert!(
            close(fd, w, 1e-9),
            "finite diff ∂f/∂x[{i}] = {fd}, want {w}"
        );
    }
}

/// Least squares through data held as f64: L(a, b) = Σ (a tᵢ + b − yᵢ)².
struct Line {
    t: Vec<f64>,
    y: Vec<f64>,
}

impl Differentiable for Line {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, p: &[S]) -> S {
        let mut loss = S::constant(0.0);
        for (&t, &y) in self.t.iter().zip(&self.y) {
            let r = p[0] * t + p[1] - y;
            loss += r * r;
        }
        loss
    }
}

impl Line {
    /// The closed form: ∂L/∂a = Σ 2 rᵢ tᵢ, ∂L/∂b = Σ 2 rᵢ.
    fn gradient(&self, a: f64, b: f64) -> (f64, [f64; 2]) {
        let mut l = 0.0;
        let mut g = [0.0; 2];
        for (&t, &y) in self.t.iter().zip(&self.y) {
            let r = a * t + b - y;
            l += r * r;
            g[0] += 2.0 * r * t;
            g[1] += 2.0 * r;
        }
        (l, g)
    }
}

/// `dualtape::function`'s driver copies are deprecated aliases for one
/// release: each gives exactly what the crate's driver gives with
/// `|x| model.eval(x)`, and still checks `x.len()` against `dim()`.
#[test]
#[allow(deprecated)]
fn the_deprecated_function_drivers_still_work() {
    use dualtape::function;
    let line = Line {
        t: vec![0.0, 1.0, 2.0],
        y: vec![1.0, 2.0, 4.0],
    };
    let (p, v, s) = ([1.0, 0.5], [1.0, -2.0], Scheme::Central);
    let f = |x: &[_]| line.eval(x);
    let fwd = |x: &[DualVec<f64, 8>]| line.eval(x);
    assert_eq!(
        function::forward::gradient(&line, &p),
        forward::gradient(fwd, &p)
    );
    assert_eq!(
        function::forward::jvp(&line, &p, &v),
        forward::jvp(|x| line.eval(x), &p, &v)
    );
    assert_eq!(
        function::forward::hessian(&line, &p),
        forward::hessian(|x| line.eval(x), &p)
    );
    assert_eq!(
        function::reverse::gradient(&line, &p),
        reverse::gradient(|x| line.eval(x), &p)
    );
    assert_eq!(
        function::reverse::hvp(&line, &p, &v),
        reverse::hvp(|x| line.eval(x), &p, &v)
    );
    assert_eq!(
        function::reverse::hessian(&line, &p),
        reverse::hessian(|x| line.eval(x), &p)
    );
    assert_eq!(
        function::finite_diff::gradient(&line, &p, s),
        finite_diff::gradient(f, &p, s)
    );
    assert_eq!(
        function::finite_diff::directional(&line, &p, &v, s),
        finite_diff::directional(f, &p, &v, s)
    );
    let (value, g, h) = function::finite_diff::hessian(&line, &p, s);
    let reverse_gradient = |x: &[f64]| reverse::gradient(|x| line.eval(x), x).1;
    assert_eq!((value, g, h), {
        let (g, h) = finite_diff::jacobian(reverse_gradient, &p, s);
        (line.eval(&p), g, h)
    });
    let dim_check = std::panic::catch_unwind(|| function::reverse::gradient(&line, &[1.0]));
    assert!(dim_check.is_err());
}

#[test]
fn every_driver_accepts_a_model_that_holds_f64_data() {
    let line = Line {
        t: (0..20).map(|i| i as f64 * 0.1).collect(),
        y: (0..20).map(|i| (i as f64 * 0.37).sin()).collect(),
    };
    let p = [0.7, -0.2];
    let (l, g) = line.gradient(p[0], p[1]);

    let f = |x: &[_]| line.eval(x);
    let (v, gf) = forward::gradient(|x: &[DualVec<f64, 8>]| line.eval(x), &p);
    let (w, gr) = reverse::gradient(|x| line.eval(x), &p);
    let (u, gd) = finite_diff::gradient(f, &p, Scheme::Richardson);
    let mut buf = [0.0; 2];
    let z = reverse::gradient_into(|x| line.eval(x), &p, &mut buf);
    for value in [v, w, u, z] {
        assert!(close(value, l, 1e-14));
    }
    for i in 0..2 {
        assert!(
            close(gf[i], g[i], 1e-13) && close(gr[i], g[i], 1e-13) && close(buf[i], g[i], 1e-13)
        );
        assert!(close(gd[i], g[i], 1e-9));
    }
    // Directional derivatives along v = (1, -2).
    let dir = [1.0, -2.0];
    let want = g[0] - 2.0 * g[1];
    assert!(close(
        forward::jvp(|x| line.eval(x), &p, &dir).1,
        want,
        1e-13
    ));
    let (_, fd) = finite_diff::directional(f, &p, &dir, Scheme::Richardson);
    assert!(close(fd, want, 1e-8));
    // The Hessian of a least-squares fit is 2 [[Σt², Σt], [Σt, n]].
    let st2: f64 = line.t.iter().map(|t| t * t).sum();
    let st: f64 = line.t.iter().sum();
    let n = line.t.len() as f64;
    let want_h = [[2.0 * st2, 2.0 * st], [2.0 * st, 2.0 * n]];
    let (_, _, hr) = reverse::hessian(|x| line.eval(x), &p);
    let (_, _, hf) = forward::hessian(|x| line.eval(x), &p);
    let reverse_gradient = |x: &[f64]| reverse::gradient(|x| line.eval(x), x).1;
    let (_, hd) = finite_diff::jacobian(reverse_gradient, &p, Scheme::Richardson);
    let (_, hv) = reverse::hvp(|x| line.eval(x), &p, &[1.0, 0.0]);
    for i in 0..2 {
        assert!(close(hv[i], want_h[i][0], 1e-13));
        for j in 0..2 {
            assert!(close(hr[(i, j)], want_h[i][j], 1e-13));
            assert!(close(hf[(i, j)], want_h[i][j], 1e-13));
            assert!(close(hd[(i, j)], want_h[i][j], 1e-8));
        }
    }
    check::gradient(&line, &p).assert_ok();
    check::hessian(&line, &p).assert_ok();
}

/// f = sin(x0) x1 + x2³ with a hand gradient that is off by `delta` in
/// component `wrong`.
struct Planted {
    wrong: usize,
    delta: f64,
}

impl Differentiable for Planted {
    fn dim(&self) -> usize {
        3
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x[0].sin() * x[1] + x[2].powi(3)
    }
    fn analytic_gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        let mut g = vec![x[0].cos() * x[1], x[0].sin(), 3.0 * x[2] * x[2]];
        g[self.wrong] += self.delta;
        Some(g)
    }
}

#[test]
fn a_wrong_analytic_gradient_is_reported_in_its_component() {
    let model = Planted {
        wrong: 2,
        delta: 1e-3,
    };
    let report = check::gradient(&model, &[0.4, -1.1, 0.8]);
    assert!(!report.is_ok());
    assert_eq!(report.modes().len(), 5);
    let failing: Vec<Index> = report.failures().map(|e| e.index).collect();
    assert_eq!(failing, vec![Index::Gradient(2)]);
    let (entry, worst) = report.worst().unwrap();
    assert_eq!(entry.index, Index::Gradient(2));
    assert!(worst.a == Mode::Analytic || worst.b == Mode::Analytic);
    // The planted error, measured against the exact modes.
    for c in &entry.comparisons {
        if (c.a == Mode::Analytic || c.b == Mode::Analytic) && c.a.is_exact() && c.b.is_exact() {
            assert!((c.error - 1e-3).abs() < 1e-12, "{c:?}");
            assert!(!c.ok);
        }
    }
    let text = flat(&report.to_string());
    assert!(text.contains("analytic gradient is likely wrong"), "{text}");
}

#[test]
fn tolerances_are_configurable() {
    // An error of 1e-9 in a component of size 1.92 (3·0.8²): over the
    // default exact tolerance 1e-12 + 1e-10·1.92, under 1e-8 + 0.
    let model = Planted {
        wrong: 2,
        delta: 1e-9,
    };
    let x = [0.4, -1.1, 0.8];
    assert!(!check::gradient(&model, &x).is_ok());
    let loose = Config::default().with_exact(1e-8, 0.0);
    let report = check::gradient_with(&model, &x, &loose);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.config().exact.abs, 1e-8);
}

/// Adds `0.001·x0` only when evaluated at `Var`: forward and reverse mode
/// now compute different functions.
struct TypeDependent;
impl Differentiable for TypeDependent {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        let base = x[0] * x[1];
        if type_name::<S>().contains("Var") {
            base + x[0] * 1e-3
        } else {
            base
        }
    }
}

#[test]
fn disagreeing_automatic_modes_are_blamed_on_eval_or_a_bug() {
    let report = check::gradient(&TypeDependent, &[1.0, 2.0]);
    assert!(!report.is_ok());
    // The value (2 against 2.001) and ∂/∂x0 differ; ∂/∂x1 does not.
    let failing: Vec<Index> = report.failures().map(|e| e.index).collect();
    assert_eq!(failing, vec![Index::Value, Index::Gradient(0)]);
    // ∂/∂x0 is x1 = 2 in forward mode and by finite differences, 2.001 in reverse.
    assert_eq!(report.get(Index::Gradient(0), Mode::Forward), Some(2.0));
    assert_eq!(report.get(Index::Gradient(0), Mode::Reverse), Some(2.001));
    assert!(flat(&report.to_string()).contains("two automatic modes disagree"));
}

/// NaN only in reverse mode, from component 1 on.
struct NanInReverse;
impl Differentiable for NanInReverse {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        if type_name::<S>().contains("Var") {
            x[0] + x[1] * S::constant(f64::NAN)
        } else {
            x[0] + x[1]
        }
    }
}

#[test]
fn nan_is_reported_with_the_mode_it_first_appears_in() {
    let report = check::gradient(&NanInReverse, &[0.5, 0.5]);
    assert!(!report.is_ok());
    let first = report.first_nonfinite().unwrap();
    // The value is NaN in reverse mode too (x1·NaN), and the value row comes first.
    assert_eq!(first.mode, Mode::Reverse);
    assert_eq!(first.index, Index::Value);
    assert!(first.value.is_nan());
    let all = report.nonfinite();
    // The replay of the program recorded on Var computes the same NaNs.
    assert!(all
        .iter()
        .all(|n| n.mode == Mode::Reverse || n.mode == Mode::Replay));
    assert_eq!(all.len(), 4); // the value and ∂f/∂x[1], in both
    assert!(flat(&report.to_string()).contains("non-finite: first in reverse mode, at f(x) = NaN"));
}

struct Sqrt;
impl Differentiable for Sqrt {
    fn dim(&self) -> usize {
        1
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x[0].sqrt()
    }
}

#[test]
fn nan_in_every_mode_fails_only_when_finite_numbers_are_required() {
    // sqrt(-1): the value and every derivative are NaN, so all modes agree.
    let report = check::gradient(&Sqrt, &[-1.0]);
    assert!(report.entries().iter().all(|e| e.agrees()));
    assert!(!report.is_ok());
    let relaxed = Config {
        require_finite: false,
        ..Config::default()
    };
    assert!(check::gradient_with(&Sqrt, &[-1.0], &relaxed).is_ok());
    // At 0 the slope is +inf in the automatic modes and NaN by finite
    // differences (which evaluate sqrt(-h)): they disagree either way.
    let at0 = check::gradient_with(&Sqrt, &[0.0], &relaxed);
    assert!(!at0.is_ok());
    assert_eq!(
        at0.get(Index::Gradient(0), Mode::Forward),
        Some(f64::INFINITY)
    );
    assert_eq!(at0.first_nonfinite().unwrap().mode, Mode::Forward);
}

/// A large term next to a small one: f = 1e8 sin(x0) + 1e-3 x1.
struct BadlyScaled;
impl Differentiable for BadlyScaled {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x[0].sin() * 1e8 + x[1] * 1e-3
    }
}

#[test]
fn normwise_comparison_forgives_small_components_of_large_functions() {
    // Finite differences of f ≈ 5e7 carry a rounding error of about
    // ε·|f|/h ≈ 1.5e-5 in every component: far above the default tolerance
    // for ∂f/∂x1 = 1e-3, far below one relative to the gradient's size 1e8.
    let x = [0.5, 0.25];
    let report = check::gradient(&BadlyScaled, &x);
    assert!(!report.is_ok(), "{report}");
    assert_eq!(report.failures().next().unwrap().index, Index::Gradient(1));
    let normwise = Config {
        normwise: true,
        ..Config::default()
    };
    let report = check::gradient_with(&BadlyScaled, &x, &normwise);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.get(Index::Gradient(1), Mode::Reverse), Some(1e-3));
    assert_eq!(
        report.get(Index::Gradient(0), Mode::Forward),
        Some(0.5f64.cos() * 1e8)
    );
}

/// |x0 − 0.3| + x1²: a kink at x0 = 0.3.
struct Kink;
impl Differentiable for Kink {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        (x[0] - 0.3).abs() + x[1] * x[1]
    }
}

#[test]
fn a_kink_inside_the_richardson_stencil_is_rechecked() {
    // 1e-3 from the kink: inside Richardson's ±2h ≈ ±1.5e-3, outside the
    // central recheck's ±6e-6. The true derivative there is 1.
    let x = [0.3 + 1e-3, 0.5];
    let report = check::gradient(&Kink, &x);
    report.assert_ok();
    let e = &report.entries()[1];
    assert_eq!(e.index, Index::Gradient(0));
    let first = e.rechecked.expect("the first estimate is kept");
    assert!(
        (first - 1.0).abs() > 1e-3,
        "Richardson alone is off: {first}"
    );
    assert!(close(
        report.get(Index::Gradient(0), Mode::FiniteDiff).unwrap(),
        1.0,
        1e-8
    ));
    assert!(report.to_string().contains("rechecked"));
    let no_recheck = Config {
        recheck: false,
        ..Config::default()
    };
    assert!(!check::gradient_with(&Kink, &x, &no_recheck).is_ok());
    // At the kink itself the convention (0) and finite differences (0 for
    // the symmetric stencil) agree; 1e-7 away the recheck's stencil crosses
    // it too, and the check fails.
    check::gradient(&Kink, &[0.3, 0.5]).assert_ok();
    assert!(!check::gradient(&Kink, &[0.3 + 1e-7, 0.5]).is_ok());
}

/// Counts evaluations per scalar type; f = Σ sin(xᵢ) xᵢ₊₁, plus (only in
/// f64, so only finite differences see it) `planted·x_7`.
struct Counting {
    n: usize,
    planted: f64,
    f64_evals: AtomicUsize,
    other_evals: AtomicUsize,
}

impl Differentiable for Counting {
    fn dim(&self) -> usize {
        self.n
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        let plain = type_name::<S>() == "f64";
        if plain {
            self.f64_evals.fetch_add(1, Ordering::Relaxed);
        } else {
            self.other_evals.fetch_add(1, Ordering::Relaxed);
        }
        let mut s = x
            .windows(2)
            .fold(S::constant(0.0), |acc, w| acc + w[0].sin() * w[1]);
        if plain {
            s += x[7] * self.planted;
        }
        s
    }
}

#[test]
fn the_fast_check_costs_the_same_for_any_n_and_finds_a_planted_error() {
    let n = 5000;
    let x: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.7).cos()).collect();
    let model = Counting {
        n,
        planted: 0.0,
        f64_evals: AtomicUsize::new(0),
        other_evals: AtomicUsize::new(0),
    };
    let report = check::gradient_fast(&model, &x);
    report.assert_ok();
    // Richardson along one direction: f(x) and 4 stencil points; one Dual
    // pass, one Var recording and one recording of the replayed program.
    assert_eq!(model.f64_evals.load(Ordering::Relaxed), 5);
    assert_eq!(model.other_evals.load(Ordering::Relaxed), 3);
    let v = report.direction().unwrap();
    assert_eq!(v.len(), n);
    assert!(v.iter().all(|v| (-1.0..=1.0).contains(v)));
    // The exact directional derivative, from the closed-form gradient.
    let mut g = vec![0.0; n];
    for i in 0..n - 1 {
        g[i] += x[i].cos() * x[i + 1];
        g[i + 1] += x[i].sin();
    }
    let want: f64 = g.iter().zip(v).map(|(g, v)| g * v).sum();
    let got = report.get(Index::Directional, Mode::Reverse).unwrap();
    assert!(close(got, want, 1e-12), "{got} vs {want}");

    // An error in one component of 5000 shows along a random direction.
    let wrong = Counting {
        planted: 1e-2,
        ..model
    };
    let report = check::gradient_fast(&wrong, &x);
    assert!(!report.is_ok());
    assert!(flat(&report.to_string()).contains("finite differences disagree"));
}

#[test]
fn the_direction_depends_on_the_seed() {
    let model = Rosenbrock;
    let a = check::gradient_fast(&model, &[0.1, 0.2]);
    let b = check::gradient_fast_with(
        &model,
        &[0.1, 0.2],
        &Config {
            seed: 7,
            ..Config::default()
        },
    );
    assert_ne!(a.direction(), b.direction());
    a.assert_ok();
    b.assert_ok();
    // An explicit direction: ∇f·(1, 0) = ∂f/∂a.
    let r = check::directional(&model, &[0.1, 0.2], &[1.0, 0.0]);
    let want = rosenbrock_gradient(0.1, 0.2)[0];
    assert!(close(
        r.get(Index::Directional, Mode::Forward).unwrap(),
        want,
        1e-14
    ));
}

#[test]
#[should_panic(expected = "x has 3 entries but the model's dim() is 2")]
fn a_point_of_the_wrong_dimension_panics_with_advice() {
    let _ = check::gradient(&Rosenbrock, &[1.0, 2.0, 3.0]);
}

struct ShortGradient;
impl Differentiable for ShortGradient {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x[0] + x[1]
    }
    fn analytic_gradient(&self, _: &[f64]) -> Option<Vec<f64>> {
        Some(vec![1.0])
    }
}

#[test]
#[should_panic(expected = "analytic_gradient returned 1 entries")]
fn an_analytic_gradient_of_the_wrong_length_panics() {
    let _ = check::gradient(&ShortGradient, &[1.0, 2.0]);
}

/// Written against DESIGN.md's `eval<S: Scalar>`: an implementation may
/// declare the looser bound, and then writes constants with `S::constant`.
struct LooseBound;
impl Differentiable for LooseBound {
    fn dim(&self) -> usize {
        1
    }
    fn eval<S: Scalar>(&self, x: &[S]) -> S {
        x[0] * x[0] * S::constant(3.0)
    }
}

#[test]
fn an_implementation_with_the_looser_bound_compiles_and_checks() {
    let (v, g) = reverse::gradient(|x| LooseBound.eval(x), &[2.0]);
    assert_eq!((v, g), (12.0, vec![12.0]));
    check::gradient(&LooseBound, &[2.0]).assert_ok();
}

// ------------------------------------------------------------ the replay column

/// Branches on a value read out of the active variable: a program recorded
/// at x > 0 would give the x > 0 branch's gradient at x < 0.
struct EscapedBranch;
impl Differentiable for EscapedBranch {
    fn dim(&self) -> usize {
        1
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        if x[0].value() > 0.0 {
            x[0] * x[0]
        } else {
            x[0] * 3.0
        }
    }
}

#[test]
fn a_value_escaping_into_control_flow_fails_the_replay_column() {
    let report = check::gradient(&EscapedBranch, &[2.0]);
    // Forward, reverse and finite differences all agree at x = 2 ...
    assert!(report.entries().iter().all(|e| e.agrees()));
    // ... but the program recorded there cannot be trusted elsewhere.
    assert!(!report.is_ok());
    assert!(matches!(
        report.replay_error(),
        Some(reverse::ReplayError::ValueEscaped { .. })
    ));
    assert_eq!(report.get(Index::Gradient(0), Mode::Replay), None);
    let text = flat(&report.to_string());
    assert!(text.contains("FAILED (no replay)"), "{text}");
    assert!(text.contains("does not replay there"), "{text}");
    assert!(text.contains("accept_value_escape"), "{text}");
    // The same check without the column passes.
    let off = Config {
        replay: false,
        ..Config::default()
    };
    let quiet = check::gradient_with(&EscapedBranch, &[2.0], &off);
    quiet.assert_ok();
    assert!(!quiet.modes().contains(&Mode::Replay));
    // Every entry point reports it.
    assert!(check::gradient_fast(&EscapedBranch, &[2.0])
        .replay_error()
        .is_some());
    assert!(check::hessian(&EscapedBranch, &[2.0])
        .replay_error()
        .is_some());
}

/// The same function with the comparison on the variable: recorded, replayed.
struct RecordedBranch;
impl Differentiable for RecordedBranch {
    fn dim(&self) -> usize {
        1
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        if x[0] > 0.0 {
            x[0] * x[0]
        } else {
            x[0] * 3.0
        }
    }
}

#[test]
fn a_recorded_comparison_replays_and_matches_bit_for_bit() {
    for x in [2.0, -0.5] {
        let report = check::gradient(&RecordedBranch, &[x]);
        report.assert_ok();
        assert_eq!(report.replay_error(), None);
        let want = if x > 0.0 { 2.0 * x } else { 3.0 };
        assert_eq!(report.get(Index::Gradient(0), Mode::Replay), Some(want));
        let c = report.entries()[1]
            .comparisons
            .iter()
            .find(|c| (c.a, c.b) == (Mode::Reverse, Mode::Replay))
            .expect("reverse~replay compared");
        assert_eq!((c.error, c.tolerance), (0.0, 0.0));
    }
}

/// A model whose slope grows by 1e-15 with every call: forward (1st call),
/// reverse (2nd) and the recording (3rd) see slightly different functions.
/// Forward and reverse agree within the exact-modes tolerance; the replay
/// must equal the fresh reverse recording bit for bit and does not.
struct Drifts(AtomicUsize);
impl Differentiable for Drifts {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        let calls = self.0.fetch_add(1, Ordering::Relaxed) as f64;
        x[0] * (1.0 + 1e-15 * calls) + x[0] * x[1]
    }
}

#[test]
fn a_replay_that_differs_from_a_fresh_recording_in_the_last_bit_fails() {
    let config = Config {
        recheck: false,
        ..Config::default()
    };
    let report = check::gradient_with(&Drifts(AtomicUsize::new(0)), &[0.5, 0.25], &config);
    assert!(!report.is_ok(), "{report:#}");
    assert_eq!(report.replay_error(), None);
    // The value and ∂f/∂x[0] drift; ∂f/∂x[1] = x[0] does not.
    let failing: Vec<Index> = report.failures().map(|e| e.index).collect();
    assert_eq!(failing, vec![Index::Value, Index::Gradient(0)]);
    for e in report.failures() {
        for c in &e.comparisons {
            let replay_reverse = (c.a, c.b) == (Mode::Reverse, Mode::Replay);
            assert_eq!(c.ok, !replay_reverse, "{c:?}");
        }
    }
    assert!(
        flat(&report.to_string()).contains("only the replay"),
        "{report:#}"
    );
}

/// A vector function: the Jacobian check replays `record_vector`.
struct Pair;
impl dualtape::VectorFunction for Pair {
    fn dim(&self) -> usize {
        2
    }
    fn outputs(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        vec![x[0].sin() * x[1], x[1].exp() - x[0]]
    }
}

#[test]
fn the_jacobian_check_has_a_replay_column_equal_to_reverse() {
    let report = check::jacobian(&Pair, &[0.3, -0.7]);
    report.assert_ok();
    assert_eq!(
        report.get(Index::Jacobian(0, 0), Mode::Replay),
        report.get(Index::Jacobian(0, 0), Mode::Reverse)
    );
    assert_eq!(
        report.get(Index::Jacobian(1, 1), Mode::Replay),
        Some((-0.7f64).exp())
    );
}
