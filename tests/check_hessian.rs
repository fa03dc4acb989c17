//! `check::hessian`: forward over reverse, forward over forward and finite
//! differences of the gradient, against closed-form Hessians.

use dualtape::check;
use dualtape::{function, Differentiable, Scalar};

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
        let (_, _, h_for) = function::reverse::hessian(&Pow, &[x, y]);
        let (_, _, h_fof) = function::forward::hessian(&Pow, &[x, y]);
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
        let (v, g) = function::reverse::gradient(&Pow, &[x, 0.0]);
        assert_eq!(v, 1.0);
        assert_eq!(g[0], 0.0, "d/dx x^y at ({x}, 0)");
        let (_, g2, _) = function::forward::hessian(&Pow, &[x, 0.0]);
        assert_eq!(g2[0], 0.0, "nested d/dx x^y at ({x}, 0)");
    }
}
