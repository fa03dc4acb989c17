//! Gradients through nalgebra: `DMatrix<Var>` products, `.lu().solve()`,
//! LU determinant and inverse, `.cholesky()` solve and log-determinant,
//! against hand-derived matrix-calculus gradients (computed in plain f64)
//! and central differences.

use crate::support::reverse as common_rev;

use crate::support::compare::assert_all_close;
use common_rev::central_gradient;
use dualtape::{forward, reverse, Dual, Scalar, Var};
use nalgebra::{DMatrix, DVector};

/// A fixed, well-conditioned-enough test matrix.
fn mat(r: usize, c: usize, seed: f64) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |i, j| ((i * c + j) as f64 * 0.731 + seed).sin())
}

fn lift<S: Scalar<Real = f64>>(m: &DMatrix<f64>) -> DMatrix<S> {
    m.map(S::constant)
}

/// The first r·c parameters as an r × c matrix (column-major).
fn take<S: Scalar<Real = f64>>(p: &[S], r: usize, c: usize) -> DMatrix<S> {
    DMatrix::from_column_slice(r, c, &p[..r * c])
}

fn flat(m: &DMatrix<f64>) -> Vec<f64> {
    m.as_slice().to_vec()
}

/// Reverse gradient against the closed form (tight) and central
/// differences of the plain-f64 evaluation of the same function.
#[track_caller]
fn check(
    what: &str,
    f: impl Fn(&[Var]) -> Var,
    f64f: impl Fn(&[f64]) -> f64,
    p: &[f64],
    closed: &[f64],
) {
    let (v, g) = reverse::gradient(&f, p);
    assert_eq!(v, f64f(p), "{what}: value");
    let scale = closed.iter().fold(1.0f64, |m, c| m.max(c.abs()));
    assert_all_close(
        &format!("{what} vs closed form"),
        &g,
        closed,
        1e-11,
        1e-13 * scale,
    );
    let cd = central_gradient(&f64f, p);
    assert_all_close(
        &format!("{what} vs central differences"),
        &g,
        &cd,
        1e-7,
        1e-8 * scale,
    );
}

// ------------------------------------------------------------------ products

/// Σ_ij W_ij (A B)_ij with A (3×4) and B (4×2) the parameters.
fn weighted_product<S: Scalar<Real = f64>>(p: &[S], w: &DMatrix<f64>) -> S {
    let a = take(p, 3, 4);
    let b = take(&p[12..], 4, 2);
    let ab = &a * &b;
    ab.component_mul(&lift(w)).sum()
}

#[test]
fn gradient_through_a_matrix_product() {
    let (a, b, w) = (mat(3, 4, 0.1), mat(4, 2, 1.3), mat(3, 2, 2.2));
    let p: Vec<f64> = flat(&a).into_iter().chain(flat(&b)).collect();
    // ∂/∂A = W Bᵀ, ∂/∂B = Aᵀ W
    let closed: Vec<f64> = flat(&(&w * b.transpose()))
        .into_iter()
        .chain(flat(&(a.transpose() * &w)))
        .collect();
    check(
        "Σ W ∘ (A B)",
        |v| weighted_product(v, &w),
        |v| weighted_product(v, &w),
        &p,
        &closed,
    );
}

/// ‖A x‖² + xᵀ Aᵀ... with A constant and x the parameters: ∇ = 2 AᵀA x.
fn norm_squared<S: Scalar<Real = f64>>(x: &[S], a: &DMatrix<f64>) -> S {
    let ax = lift::<S>(a) * DVector::from_column_slice(x);
    ax.dot(&ax)
}

#[test]
fn gradient_through_a_matrix_vector_product() {
    let a = mat(5, 3, 0.4);
    let x = [0.3, -1.1, 0.8];
    let closed = 2.0 * a.transpose() * &a * DVector::from_column_slice(&x);
    check(
        "‖A x‖²",
        |v| norm_squared(v, &a),
        |v| norm_squared(v, &a),
        &x,
        closed.as_slice(),
    );
}

// ------------------------------------------------------------------ LU

/// n × n matrix from the parameters, plus 3 I to keep it well conditioned.
fn square<S: Scalar<Real = f64>>(p: &[S], n: usize) -> DMatrix<S> {
    take(p, n, n) + DMatrix::<S>::identity(n, n) * S::constant(3.0)
}

/// cᵀ A⁻¹ b with A and b the parameters.
fn lu_solve<S: Scalar<Real = f64>>(p: &[S], n: usize, c: &[f64]) -> S {
    let a = square(p, n);
    let b = DVector::from_column_slice(&p[n * n..n * n + n]);
    let x = a.lu().solve(&b).expect("singular");
    DVector::from_column_slice(c).map(S::constant).dot(&x)
}

#[test]
fn gradient_through_lu_solve() {
    let n = 4;
    let a0 = mat(n, n, 0.7);
    let b = [1.0, -0.5, 2.0, 0.3];
    let c = [0.2, 1.0, -1.5, 0.6];
    let p: Vec<f64> = flat(&a0).into_iter().chain(b).collect();
    // f = cᵀ A⁻¹ b: ∂/∂b = A⁻ᵀ c = λ, ∂/∂A = -λ (A⁻¹ b)ᵀ
    let a = &a0 + DMatrix::identity(n, n) * 3.0;
    let lu = a.clone().lu();
    let xs = lu.solve(&DVector::from_column_slice(&b)).unwrap();
    let lambda = a
        .transpose()
        .lu()
        .solve(&DVector::from_column_slice(&c))
        .unwrap();
    let closed: Vec<f64> = flat(&(-&lambda * xs.transpose()))
        .into_iter()
        .chain(lambda.iter().cloned())
        .collect();
    check(
        "cᵀ A⁻¹ b by LU",
        |v| lu_solve(v, n, &c),
        |v| lu_solve(v, n, &c),
        &p,
        &closed,
    );
}

/// det A by LU (with partial pivoting).
fn lu_det<S: Scalar<Real = f64>>(p: &[S], n: usize) -> S {
    take(p, n, n).lu().determinant()
}

/// Σ W ∘ A⁻¹ by LU.
fn lu_inverse<S: Scalar<Real = f64>>(p: &[S], n: usize, w: &DMatrix<f64>) -> S {
    let inv = square(p, n).lu().try_inverse().expect("singular");
    inv.component_mul(&lift(w)).sum()
}

#[test]
fn gradient_through_lu_determinant_and_inverse() {
    let n = 4;
    let a = mat(n, n, 2.9);
    // Jacobi: ∂ det A / ∂A = det(A) A⁻ᵀ
    let det = a.determinant();
    let inv = a.clone().try_inverse().unwrap();
    let closed = flat(&(inv.transpose() * det));
    check(
        "det A by LU",
        |v| lu_det(v, n),
        |v| lu_det(v, n),
        &flat(&a),
        &closed,
    );
    // ∂ Σ W ∘ A⁻¹ / ∂A = -A⁻ᵀ W A⁻ᵀ
    let w = mat(n, n, 0.5);
    let a3 = &a + DMatrix::identity(n, n) * 3.0;
    let inv3 = a3.try_inverse().unwrap();
    let closed = flat(&(-inv3.transpose() * &w * inv3.transpose()));
    check(
        "Σ W ∘ A⁻¹ by LU",
        |v| lu_inverse(v, n, &w),
        |v| lu_inverse(v, n, &w),
        &flat(&a),
        &closed,
    );
}

// ------------------------------------------------------------------ Cholesky

/// A = MᵀM + 2 I from the parameters M (n × n): symmetric positive definite.
fn spd<S: Scalar<Real = f64>>(p: &[S], n: usize) -> DMatrix<S> {
    let m = take(p, n, n);
    m.transpose() * &m + DMatrix::<S>::identity(n, n) * S::constant(2.0)
}

/// ln det A = 2 Σ ln L_ii.
fn chol_logdet<S: Scalar<Real = f64>>(p: &[S], n: usize) -> S {
    let l = spd(p, n).cholesky().expect("not positive definite").l();
    (0..n).fold(S::constant(0.0), |s, i| s + l[(i, i)].ln()) * 2.0
}

/// bᵀ A⁻¹ b by Cholesky, b the parameters after M.
fn chol_solve<S: Scalar<Real = f64>>(p: &[S], n: usize) -> S {
    let a = spd(p, n);
    let b = DVector::from_column_slice(&p[n * n..n * n + n]);
    let x = a.cholesky().expect("not positive definite").solve(&b);
    b.dot(&x)
}

#[test]
fn gradient_through_cholesky_log_determinant() {
    let n = 4;
    let m = mat(n, n, 1.9);
    let a = m.transpose() * &m + DMatrix::identity(n, n) * 2.0;
    // ∂ ln det(MᵀM + 2I) / ∂M = 2 M A⁻¹
    let closed = flat(&(&m * a.try_inverse().unwrap() * 2.0));
    check(
        "ln det by Cholesky",
        |v| chol_logdet(v, n),
        |v| chol_logdet(v, n),
        &flat(&m),
        &closed,
    );
}

#[test]
fn gradient_through_cholesky_solve() {
    let n = 3;
    let m = mat(n, n, 0.2);
    let b = [0.7, -1.2, 0.4];
    let a = m.transpose() * &m + DMatrix::identity(n, n) * 2.0;
    let y = a.clone().try_inverse().unwrap() * DVector::from_column_slice(&b);
    // f = bᵀ A⁻¹ b: ∂/∂b = 2 A⁻¹ b = 2y, ∂/∂M = -2 (M y) yᵀ
    let closed: Vec<f64> = flat(&(-2.0 * (&m * &y) * y.transpose()))
        .into_iter()
        .chain(y.iter().map(|v| 2.0 * v))
        .collect();
    let p: Vec<f64> = flat(&m).into_iter().chain(b).collect();
    check(
        "bᵀ A⁻¹ b by Cholesky",
        |v| chol_solve(v, n),
        |v| chol_solve(v, n),
        &p,
        &closed,
    );
}

// ------------------------------------------------------------------ second order through decompositions

/// A small function of 3 parameters through LU and Cholesky.
fn through_decompositions<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let two = S::constant(2.0);
    let a = DMatrix::from_row_slice(
        3,
        3,
        &[
            x[0] + 4.0,
            x[1],
            x[2] * x[0],
            x[1].sin(),
            two + x[2] * x[2],
            x[0],
            S::constant(0.5),
            x[2],
            x[1] * x[1] + 3.0,
        ],
    );
    let b = DVector::from_row_slice(&[S::constant(1.0), x[0], x[1] + x[2]]);
    let sol = a.clone().lu().solve(&b).expect("singular");
    let spd = a.transpose() * &a + DMatrix::<S>::identity(3, 3);
    let l = spd.cholesky().expect("not positive definite").l();
    sol.dot(&sol) + l[(2, 2)].ln() + l[(1, 0)] * x[2]
}

#[test]
fn hessian_through_lu_and_cholesky_equals_forward_over_forward() {
    for x in [[0.3, -0.2, 0.5], [-0.7, 0.9, 0.1], [1.2, 0.4, -0.8]] {
        let (rv, rg, rh) = reverse::hessian(through_decompositions, &x);
        let (fv, fg, fh) = forward::hessian(through_decompositions, &x);
        assert_eq!(rv, fv);
        assert_all_close("gradient", &rg, &fg, 1e-12, 1e-14);
        let scale = fh.amax();
        for i in 0..3 {
            for j in 0..3 {
                crate::support::compare::assert_close(
                    &format!("H[{i},{j}] at {x:?}"),
                    rh[(i, j)],
                    fh[(i, j)],
                    1e-11,
                    1e-13 * scale,
                );
            }
        }
        // and the reverse gradient matches central differences
        let (_, g) = reverse::gradient(through_decompositions, &x);
        let cd = central_gradient(through_decompositions::<f64>, &x);
        assert_all_close("gradient vs central differences", &g, &cd, 1e-8, 1e-9);
        // and hvp is H v
        let v = [1.0, -2.0, 0.5];
        let (_, hv) = reverse::hvp(through_decompositions::<Dual<Var>>, &x, &v);
        let want = &fh * DVector::from_column_slice(&v);
        assert_all_close("hvp", &hv, want.as_slice(), 1e-11, 1e-12 * scale);
    }
}
