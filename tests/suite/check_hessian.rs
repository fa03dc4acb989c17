//! `check::hessian`: forward over reverse, forward over forward and finite
//! differences of the gradient, against closed-form Hessians.

use dualtape::check::{self, Index, Kind, Mode};
use dualtape::{forward, reverse, Differentiable, Scalar};

/// f(x, y) = x^y, with a variable exponent.
struct Pow;
impl Differentiable for Pow {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x[0].powf(x[1])
    }
}

/// The closed-form Hessian of x^y (x > 0):
/// f_xx = y(y-1)x^(y-2), f_xy = x^(y-1)(1 + y ln x), f_yy = x^y ln² x.
fn pow_hessian(x: f64, y: f64) -> [[f64; 2]; 2] {
    let fxx = y * (y - 1.0) * x.powf(y - 2.0);
    let fxy = x.powf(y - 1.0) * (1.0 + y * x.ln());
    let fyy = x.powf(y) * x.ln() * x.ln();
    [[fxx, fxy], [fxy, fyy]]
}

fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol * (1.0 + want.abs()),
        "{what}: got {got}, want {want}"
    );
}

#[test]
fn powf_hessian_at_a_zero_exponent_keeps_the_mixed_partial() {
    // Regression: rules::powf returned a constant 0 for ∂/∂x when the
    // exponent's *value* was 0, dropping the exponent's tangent in nested
    // modes, so ∂²(x^y)/∂x∂y at y = 0 came out 0 instead of 1/x.
    for &(x, y) in &[(2.0, 0.0), (0.5, 0.0), (3.0, 1.5)] {
        let want = pow_hessian(x, y);
        let (_, _, h_for) = reverse::hessian(|x| Pow.eval(x), &[x, y]);
        let (_, _, h_fof) = forward::hessian(|x| Pow.eval(x), &[x, y]);
        for i in 0..2 {
            for j in 0..2 {
                let w = want[i][j];
                assert_close(
                    h_for[(i, j)],
                    w,
                    1e-14,
                    &format!("fwd/rev H[{i}][{j}] at ({x}, {y})"),
                );
                assert_close(
                    h_fof[(i, j)],
                    w,
                    1e-14,
                    &format!("fwd/fwd H[{i}][{j}] at ({x}, {y})"),
                );
            }
        }
        check::hessian(&Pow, &[x, y]).assert_ok();
    }
}

#[test]
fn powf_first_derivatives_at_a_zero_exponent_are_unchanged() {
    // The fix must not change the first derivatives at the awkward points
    // the convention covers: d/dx x^0 = 0, also at x = 0 and x = NaN.
    for &x in &[0.0, 2.0, -3.0, f64::INFINITY] {
        let (v, g) = reverse::gradient(|x| Pow.eval(x), &[x, 0.0]);
        assert_eq!(v, 1.0);
        assert_eq!(g[0], 0.0, "d/dx x^y at ({x}, 0)");
        let (_, g2, _) = forward::hessian(|x| Pow.eval(x), &[x, 0.0]);
        assert_eq!(g2[0], 0.0, "nested d/dx x^y at ({x}, 0)");
    }
}

/// f = x0² x1 + sin(x1 x2) + e^x0.
struct Mixed;
impl Differentiable for Mixed {
    fn dim(&self) -> usize {
        3
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x[0] * x[0] * x[1] + (x[1] * x[2]).sin() + x[0].exp()
    }
}

fn mixed_hessian(x: [f64; 3]) -> [[f64; 3]; 3] {
    let (a, b, c) = (x[0], x[1], x[2]);
    let (s, co) = ((b * c).sin(), (b * c).cos());
    let h12 = co - b * c * s;
    [
        [2.0 * b + a.exp(), 2.0 * a, 0.0],
        [2.0 * a, -c * c * s, h12],
        [0.0, h12, -b * b * s],
    ]
}

#[test]
fn the_hessian_report_holds_the_closed_form_in_every_mode() {
    let x = [0.4, -0.9, 1.3];
    let want = mixed_hessian(x);
    let report = check::hessian(&Mixed, &x);
    report.assert_ok();
    assert_eq!(report.kind(), Kind::Hessian);
    assert_eq!(
        report.modes(),
        &[
            Mode::ForwardOverReverse,
            Mode::Replay,
            Mode::ForwardOverForward,
            Mode::FiniteDiffOfGradient
        ]
    );
    // f(x), 3 gradient rows, 9 Hessian rows.
    assert_eq!(report.entries().len(), 13);
    for i in 0..3 {
        for j in 0..3 {
            for mode in [
                Mode::ForwardOverReverse,
                Mode::Replay,
                Mode::ForwardOverForward,
            ] {
                let got = report.get(Index::Hessian(i, j), mode).unwrap();
                assert_close(got, want[i][j], 1e-14, &format!("{mode} H[{i}][{j}]"));
            }
            let fd = report
                .get(Index::Hessian(i, j), Mode::FiniteDiffOfGradient)
                .unwrap();
            assert_close(fd, want[i][j], 1e-8, &format!("fd H[{i}][{j}]"));
        }
    }
    // The gradient rows: ∂f/∂x1 = x0² + x2 cos(x1 x2).
    let g1 = report
        .get(Index::Gradient(1), Mode::ForwardOverForward)
        .unwrap();
    assert_close(g1, x[0] * x[0] + x[2] * (x[1] * x[2]).cos(), 1e-15, "g1");
}

/// A model that differs in Dual<Dual<f64>> only: forward over forward
/// sees an extra x0² x1.
struct Nested;
impl Differentiable for Nested {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        let base = x[0] * x[1];
        if std::any::type_name::<S>().contains("Dual<dualtape::forward::dual::Dual<f64>>") {
            base + x[0] * x[0] * x[1]
        } else {
            base
        }
    }
}

#[test]
fn a_mode_specific_difference_shows_in_the_rows_it_touches() {
    let report = check::hessian(&Nested, &[1.0, 2.0]);
    assert!(!report.is_ok());
    // x0² x1 at (1, 2) adds 2 to f, (4, 1) to the gradient, and
    // [[4, 2], [2, 0]] to the Hessian: every row but H[1][1].
    let failing: Vec<Index> = report.failures().map(|e| e.index).collect();
    assert_eq!(
        failing,
        vec![
            Index::Value,
            Index::Gradient(0),
            Index::Gradient(1),
            Index::Hessian(0, 0),
            Index::Hessian(0, 1),
            Index::Hessian(1, 0),
        ]
    );
    assert_eq!(
        report.get(Index::Hessian(0, 0), Mode::ForwardOverForward),
        Some(4.0)
    );
    assert_eq!(
        report.get(Index::Hessian(0, 0), Mode::ForwardOverReverse),
        Some(0.0)
    );
}
