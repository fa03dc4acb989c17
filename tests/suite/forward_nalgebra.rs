//! Differentiating through nalgebra: `DMatrix<Dual<f64>>` and `SMatrix`
//! products, an LU solve (and determinant), and a Cholesky log-determinant,
//! first and second derivatives, checked against closed forms computed with
//! plain `f64` nalgebra and against finite differences of the same code run
//! on `f64`.

use crate::support::forward as common;

use crate::support::compare::*;
use common::*;
use dualtape::{forward, Dual, DualVec, Scalar};
use nalgebra::{DMatrix, DVector, SMatrix, SVector};

/// A matrix of numbers in [-1, 1) from a seed (a small LCG), plus `diag` on
/// the diagonal.
fn matrix(seed: u64, r: usize, c: usize, diag: f64) -> DMatrix<f64> {
    let mut s = seed;
    DMatrix::from_fn(r, c, |i, j| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        uniform(s, -1.0, 1.0) + if i == j { diag } else { 0.0 }
    })
}

fn lift<S: Scalar<Real = f64>>(m: &DMatrix<f64>) -> DMatrix<S> {
    m.map(S::constant)
}

/// `|a||b|` entrywise: the scale of the terms a product's entries sum.
fn abs_product(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    a.abs() * b.abs()
}

#[track_caller]
fn matrices_close(
    what: &str,
    got: &DMatrix<f64>,
    want: &DMatrix<f64>,
    scale: &DMatrix<f64>,
) -> Result<(), String> {
    assert_eq!(got.shape(), want.shape());
    for i in 0..got.nrows() {
        for j in 0..got.ncols() {
            check_rel(
                &format!("{what}[{i},{j}]"),
                got[(i, j)],
                want[(i, j)],
                REL,
                scale[(i, j)],
            )?;
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ products

/// C(t) = (A0 + t A1) (B0 + sin t B1)
fn product<S: Scalar<Real = f64>>(
    t: S,
    a: &[DMatrix<f64>; 2],
    b: &[DMatrix<f64>; 2],
) -> DMatrix<S> {
    let at = lift::<S>(&a[0]) + lift::<S>(&a[1]) * t;
    let bt = lift::<S>(&b[0]) + lift::<S>(&b[1]) * t.sin();
    at * bt
}

fn dmatrix_product_prop(u: u64, w: u64) -> Result<(), String> {
    let t = uniform(w, -1.0, 1.0);
    let a = [matrix(u, 3, 4, 0.0), matrix(u ^ 1, 3, 4, 0.0)];
    let b = [matrix(u ^ 2, 4, 2, 0.0), matrix(u ^ 3, 4, 2, 0.0)];
    let c = product(Dual::variable(t), &a, &b);
    let (at, bt) = (&a[0] + &a[1] * t, &b[0] + &b[1] * t.sin());
    // C' = A1 B + A cos t B1
    let want = &a[1] * &bt + &at * &b[1] * t.cos();
    let scale = abs_product(&a[1], &bt) + abs_product(&at, &b[1]);
    matrices_close(
        "C(t) value",
        &c.map(|z| z.re),
        &(&at * &bt),
        &abs_product(&at, &bt),
    )?;
    matrices_close("C'(t)", &c.map(|z| z.eps), &want, &scale)?;
    // C'' = 2 A1 cos t B1 - A sin t B1
    let h = product(common::d2(t, 1.0, 1.0), &a, &b);
    let want2 = &a[1] * &b[1] * (2.0 * t.cos()) - &at * &b[1] * t.sin();
    let scale2 = abs_product(&a[1], &b[1]) * 2.0 + abs_product(&at, &b[1]);
    matrices_close("C''(t)", &h.map(|z| z.eps.eps), &want2, &scale2)?;
    for i in 0..3 {
        for j in 0..2 {
            let f = |s: f64| product(s, &a, &b)[(i, j)];
            check_fd(&format!("C'[{i},{j}]"), &f, t, 0.5, c[(i, j)].eps)?;
        }
    }
    Ok(())
}

#[test]
fn dmatrix_product() {
    qc2(dmatrix_product_prop);
}

fn smatrix_prop(u: u64, w: u64) -> Result<(), String> {
    // f(x) = xᵀ Mᵀ M x + |M x| for x ∈ R³, M fixed: ∇f = 2 MᵀM x + Mᵀ M x / |M x|
    let m: SMatrix<f64, 3, 3> = SMatrix::from_iterator(matrix(u, 3, 3, 1.5).iter().copied());
    let x0: SVector<f64, 3> = SVector::from_iterator(matrix(w, 3, 1, 0.0).iter().copied());
    fn f<S: Scalar<Real = f64>>(m: &SMatrix<f64, 3, 3>, x: SVector<S, 3>) -> S {
        let ms: SMatrix<S, 3, 3> = m.map(S::constant);
        let y = ms * x;
        let q = (ms.transpose() * ms * x).dot(&x);
        q + y.norm()
    }
    let y0 = m * x0;
    let want = (m.transpose() * m * x0) * 2.0 + m.transpose() * y0 / y0.norm();
    let (v, g) = forward::gradient(
        |x: &[DualVec<f64, 3>]| f(&m, SVector::from_column_slice(x)),
        x0.as_slice(),
    );
    check_rel("value", v, f(&m, x0), REL, 0.0)?;
    let scale = (m.transpose().abs() * m.abs() * x0.abs()) * 2.0
        + m.transpose().abs() * y0.abs() / y0.norm();
    for i in 0..3 {
        check_rel(&format!("∂f/∂x{i}"), g[i], want[i], REL, scale[i])?;
        let fi = |t: f64| {
            let mut x = x0;
            x[i] = t;
            f(&m, x)
        };
        check_fd(
            &format!("∂f/∂x{i}"),
            &fi,
            x0[i],
            (y0.norm() / 4.0).min(0.5),
            g[i],
        )?;
    }
    // the same through SMatrix<Dual<f64>> directly: the directional derivative along e0 + e2
    let xd = SVector::<Dual<f64>, 3>::new(
        Dual::new(x0[0], 1.0),
        Dual::from(x0[1]),
        Dual::new(x0[2], 1.0),
    );
    check_rel(
        "directional",
        f(&m, xd).eps,
        want[0] + want[2],
        REL,
        scale[0] + scale[2],
    )?;
    Ok(())
}

#[test]
fn smatrix_products_and_norm() {
    qc2(smatrix_prop);
}

// ------------------------------------------------------------------ LU solve and determinant

/// x(t) = A(t)⁻¹ b(t) with A(t) = A0 + t A1, b(t) = b0 + t² b1
fn lu_solve<S: Scalar<Real = f64>>(
    t: S,
    a: &[DMatrix<f64>; 2],
    b: &[DMatrix<f64>; 2],
) -> (DVector<S>, S) {
    let at = lift::<S>(&a[0]) + lift::<S>(&a[1]) * t;
    let bt = lift::<S>(&b[0]) + lift::<S>(&b[1]) * (t * t);
    let lu = at.lu();
    let x = lu.solve(&bt).expect("A(t) is invertible");
    (DVector::from_column_slice(x.as_slice()), lu.determinant())
}

fn lu_prop(u: u64, w: u64) -> Result<(), String> {
    let n = 4;
    let t = uniform(w, -0.5, 0.5);
    // diagonally dominant: well conditioned for |t| <= 0.5
    let a = [matrix(u, n, n, 4.0), matrix(u ^ 7, n, n, 0.0)];
    let b = [matrix(u ^ 8, n, 1, 0.0), matrix(u ^ 9, n, 1, 0.0)];
    let (x, det) = lu_solve(Dual::variable(t), &a, &b);
    let at = &a[0] + &a[1] * t;
    let ainv = at.clone().try_inverse().expect("invertible");
    let xt = &ainv * (&b[0] + &b[1] * (t * t));
    // x' = A⁻¹ (b' - A1 x), b' = 2t b1
    let want = &ainv * (&b[1] * (2.0 * t) - &a[1] * &xt);
    let scale = ainv.abs() * (b[1].abs() * (2.0 * t.abs()) + a[1].abs() * xt.abs());
    let xv = DMatrix::from_column_slice(n, 1, &x.iter().map(|z| z.re).collect::<Vec<_>>());
    let xe = DMatrix::from_column_slice(n, 1, &x.iter().map(|z| z.eps).collect::<Vec<_>>());
    matrices_close(
        "x(t)",
        &xv,
        &xt,
        &(ainv.abs() * (&b[0] + &b[1] * (t * t)).abs()),
    )?;
    // solving is not exact; LU's rounding is amplified by A's condition
    let cond = at.norm() * ainv.norm();
    let rel_tol = 1e-14 * cond;
    for i in 0..n {
        check_rel(
            &format!("x'[{i}]"),
            xe[(i, 0)],
            want[(i, 0)],
            rel_tol,
            scale[(i, 0)],
        )?;
        let f = |s: f64| lu_solve(s, &a, &b).0[i];
        check_fd(&format!("x'[{i}]"), &f, t, 0.5, xe[(i, 0)])?;
    }
    // Jacobi: det' = det tr(A⁻¹ A1)
    let d = at.determinant();
    let dd = d * (&ainv * &a[1]).trace();
    check_rel("det", det.re, d, rel_tol, 0.0)?;
    check_rel(
        "det'",
        det.eps,
        dd,
        rel_tol,
        d.abs() * (ainv.abs() * a[1].abs()).trace(),
    )?;
    check_fd("det'", &|s| lu_solve(s, &a, &b).1, t, 0.5, det.eps)?;
    Ok(())
}

#[test]
fn lu_solve_and_determinant() {
    qc2(lu_prop);
}

#[test]
fn lu_gradient_with_dualvec() {
    // g(θ) = cᵀ A(θ)⁻¹ b with A(θ) = A0 + Σ θ_k A_k: ∂g/∂θ_k = -cᵀ A⁻¹ A_k A⁻¹ b
    let n = 5;
    let a0 = matrix(11, n, n, 5.0);
    let ak: Vec<DMatrix<f64>> = (0..3).map(|k| matrix(20 + k, n, n, 0.0)).collect();
    let b = matrix(31, n, 1, 0.0);
    let c = matrix(32, n, 1, 0.0);
    let theta = [0.3, -0.2, 0.1];
    let g = |th: &[DualVec<f64, 3>]| {
        let mut a = lift::<DualVec<f64, 3>>(&a0);
        for (k, m) in ak.iter().enumerate() {
            a += lift::<DualVec<f64, 3>>(m) * th[k];
        }
        let x = a
            .lu()
            .solve(&lift::<DualVec<f64, 3>>(&b))
            .expect("invertible");
        (lift::<DualVec<f64, 3>>(&c).transpose() * x)[(0, 0)]
    };
    let (_, grad) = forward::gradient(g, &theta);
    let mut a = a0.clone();
    for (k, m) in ak.iter().enumerate() {
        a += m * theta[k];
    }
    let ainv = a.try_inverse().unwrap();
    let x = &ainv * &b;
    let y = ainv.transpose() * &c;
    for k in 0..3 {
        let want = -(y.transpose() * &ak[k] * &x)[(0, 0)];
        let scale = (y.abs().transpose() * ak[k].abs() * x.abs())[(0, 0)];
        assert!(
            (grad[k] - want).abs() <= 1e-13 * scale,
            "∂g/∂θ{k}: {} vs {want}",
            grad[k]
        );
    }
}

// ------------------------------------------------------------------ Cholesky log-determinant

/// log det A(t) with A(t) = M(t) M(t)ᵀ + n I, M(t) = M0 + t M1, via Cholesky:
/// 2 Σ ln L_ii.
fn logdet<S: Scalar<Real = f64>>(t: S, m: &[DMatrix<f64>; 2]) -> S {
    let n = m[0].nrows();
    let mt = lift::<S>(&m[0]) + lift::<S>(&m[1]) * t;
    let a = &mt * mt.transpose() + DMatrix::<S>::identity(n, n) * S::constant(n as f64);
    let l = a.cholesky().expect("A(t) is positive definite").l();
    l.diagonal()
        .iter()
        .fold(S::constant(0.0), |acc, &d| acc + d.ln())
        * 2.0
}

fn cholesky_prop(u: u64, w: u64) -> Result<(), String> {
    let n = 4;
    let t = uniform(w, -1.0, 1.0);
    let m = [matrix(u, n, n, 0.0), matrix(u ^ 5, n, n, 0.0)];
    let mt = &m[0] + &m[1] * t;
    let a = &mt * mt.transpose() + DMatrix::identity(n, n) * n as f64;
    let ainv = a.clone().try_inverse().expect("SPD");
    // A' = M1 Mᵀ + M M1ᵀ, A'' = 2 M1 M1ᵀ
    let a1 = &m[1] * mt.transpose() + &mt * m[1].transpose();
    let a2 = &m[1] * m[1].transpose() * 2.0;
    let d1 = (&ainv * &a1).trace();
    let d2 = (&ainv * &a2).trace() - (&ainv * &a1 * &ainv * &a1).trace();
    let y = logdet(Dual::variable(t), &m);
    check_rel("log det", y.re, a.determinant().ln(), 1e-13, 1.0)?;
    check_rel(
        "d/dt log det",
        y.eps,
        d1,
        1e-13,
        (ainv.abs() * a1.abs()).trace(),
    )?;
    check_fd("d/dt log det", &|s| logdet(s, &m), t, 0.5, y.eps)?;
    let h = logdet(common::d2(t, 1.0, 1.0), &m);
    let scale2 =
        (ainv.abs() * a2.abs()).trace() + (ainv.abs() * a1.abs() * ainv.abs() * a1.abs()).trace();
    check_rel("d²/dt² log det", h.eps.eps, d2, 1e-13, scale2)?;
    check_rel(
        "nested d/dt log det",
        h.eps.re,
        d1,
        1e-13,
        (ainv.abs() * a1.abs()).trace(),
    )?;
    // the second derivative against differences of the first (forward) one
    let d1_of = |s: f64| logdet(Dual::variable(s), &m).eps;
    check_fd("d²/dt² log det", &d1_of, t, 0.5, h.eps.eps)?;
    Ok(())
}

#[test]
fn cholesky_log_determinant() {
    qc2(cholesky_prop);
}
