//! `VectorFunction`, its drivers and `check::jacobian`, against closed-form
//! Jacobians.

use crate::support::compare;
use dualtape::check::{self, Index, Mode};
use dualtape::finite_diff::{self, Scheme};
use dualtape::{forward, reverse, Dual, Scalar, VectorFunction};

/// Relative to the larger value, with `rel` also as the absolute floor.
fn close(a: f64, b: f64, rel: f64) -> bool {
    compare::close(a, b, rel, rel)
}

/// Spherical to Cartesian: (r, θ, φ) ↦ (r sin θ cos φ, r sin θ sin φ, r cos θ).
struct Spherical;

impl VectorFunction for Spherical {
    fn dim(&self) -> usize {
        3
    }
    fn outputs(&self) -> usize {
        3
    }
    fn eval<S: Scalar<Real = f64>>(&self, p: &[S]) -> Vec<S> {
        let (r, t, f) = (p[0], p[1], p[2]);
        vec![r * t.sin() * f.cos(), r * t.sin() * f.sin(), r * t.cos()]
    }
}

fn spherical_jacobian(r: f64, t: f64, f: f64) -> [[f64; 3]; 3] {
    let (st, ct, sf, cf) = (t.sin(), t.cos(), f.sin(), f.cos());
    [
        [st * cf, r * ct * cf, -r * st * sf],
        [st * sf, r * ct * sf, r * st * cf],
        [ct, -r * st, 0.0],
    ]
}

#[test]
fn every_jacobian_driver_matches_the_closed_form() {
    let p = [1.7, 0.6, -2.2];
    let want = spherical_jacobian(p[0], p[1], p[2]);
    let (yf, jf) = forward::jacobian(|p| Spherical.eval(p), &p);
    let (yr, jr) = reverse::jacobian(|p| Spherical.eval(p), &p);
    let (yd, jd) = finite_diff::jacobian(|p| Spherical.eval(p), &p, Scheme::Richardson);
    assert_eq!(yf, yr);
    assert_eq!(yf, yd);
    assert!(close(yf[2], p[0] * p[1].cos(), 1e-15));
    for i in 0..3 {
        for j in 0..3 {
            assert!(close(jf[(i, j)], want[i][j], 1e-14), "forward J[{i}][{j}]");
            assert!(close(jr[(i, j)], want[i][j], 1e-14), "reverse J[{i}][{j}]");
            assert!(
                close(jd[(i, j)], want[i][j], 1e-9),
                "finite diff J[{i}][{j}]"
            );
        }
    }
    // J v and wᵀ J.
    let v = [0.5, -1.0, 2.0];
    // J v: one forward pass at x + ε v.
    let xv: Vec<Dual<f64>> = p.iter().zip(&v).map(|(&a, &b)| Dual::new(a, b)).collect();
    let jv: Vec<f64> = Spherical.eval(&xv).iter().map(|y| y.eps).collect();
    let w = [1.0, 3.0, -0.5];
    let (_, wj) = reverse::vjp(|p| Spherical.eval(p), &p, &w);
    for i in 0..3 {
        let want_jv: f64 = (0..3).map(|j| want[i][j] * v[j]).sum();
        let want_wj: f64 = (0..3).map(|k| w[k] * want[k][i]).sum();
        assert!(close(jv[i], want_jv, 1e-14));
        assert!(close(wj[i], want_wj, 1e-14));
    }
}

#[test]
fn the_jacobian_report_has_a_row_per_output_and_per_entry() {
    let p = [1.7, 0.6, -2.2];
    let want = spherical_jacobian(p[0], p[1], p[2]);
    let report = check::jacobian(&Spherical, &p);
    report.assert_ok();
    assert_eq!(report.entries().len(), 3 + 9);
    assert_eq!(report.entries()[0].index, Index::Output(0));
    assert_eq!(report.entries()[3].index, Index::Jacobian(0, 0));
    assert_eq!(report.entries()[4].index, Index::Jacobian(0, 1));
    let got = report.get(Index::Jacobian(1, 2), Mode::Reverse).unwrap();
    assert!(close(got, want[1][2], 1e-14));
    assert!(report.to_string().contains("∂f[1]/∂x[2]"));
}

/// Two outputs of three inputs, one of them wrong in reverse mode only.
struct Wide {
    planted: bool,
}

impl VectorFunction for Wide {
    fn dim(&self) -> usize {
        3
    }
    fn outputs(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        let mut second = x[0].exp() * x[2];
        if self.planted && std::any::type_name::<S>().contains("Var") {
            second += x[1] * 0.5;
        }
        vec![x[0] * x[1] * x[2], second]
    }
}

#[test]
fn a_wrong_entry_is_located_by_output_and_input() {
    let x = [0.3, -0.4, 1.2];
    check::jacobian(&Wide { planted: false }, &x).assert_ok();
    let report = check::jacobian(&Wide { planted: true }, &x);
    let failing: Vec<Index> = report.failures().map(|e| e.index).collect();
    // The value f[1] also differs (by 0.5·x1), and ∂f[1]/∂x[1]: 0 against 0.5.
    assert_eq!(failing, vec![Index::Output(1), Index::Jacobian(1, 1)]);
    assert_eq!(report.get(Index::Jacobian(1, 1), Mode::Reverse), Some(0.5));
    assert_eq!(report.get(Index::Jacobian(1, 1), Mode::Forward), Some(0.0));
}

struct Liar;

impl VectorFunction for Liar {
    fn dim(&self) -> usize {
        1
    }
    fn outputs(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        vec![x[0]]
    }
}

#[test]
#[should_panic(expected = "returned 1 values but its outputs() is 2")]
fn an_output_count_that_does_not_match_outputs_panics() {
    let _ = check::jacobian(&Liar, &[1.0]);
}

#[test]
#[should_panic(expected = "x has 2 entries but the model's dim() is 3")]
fn a_point_of_the_wrong_dimension_panics() {
    let _ = check::jacobian(&Spherical, &[1.0, 2.0]);
}
