//! Hand-written gradient of log det(B B^T + m I): with A = B B^T + m I,
//! d logdet A = tr(A^-1 dA) = 2 tr(B^T A^-1 dB), so the gradient with respect
//! to B is 2 A^-1 B, solved through the same Cholesky factor.

use nalgebra::DMatrix;

pub const M: usize = 20;

pub fn gradient(x: &[f64], m: usize) -> (f64, Vec<f64>) {
    let b = DMatrix::from_row_slice(m, m, x);
    let mut a = &b * b.transpose();
    for i in 0..m {
        a[(i, i)] += m as f64;
    }
    let chol = a.cholesky().expect("B B^T + m I is positive definite");
    let value = 2.0
        * chol
            .l_dirty()
            .diagonal()
            .iter()
            .map(|d| d.ln())
            .sum::<f64>();
    let g = chol.solve(&b) * 2.0; // 2 A^-1 B
                                  // Row-major, like the inputs.
    let mut out = Vec::with_capacity(m * m);
    for i in 0..m {
        for j in 0..m {
            out.push(g[(i, j)]);
        }
    }
    (value, out)
}
