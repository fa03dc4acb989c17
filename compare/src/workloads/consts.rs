//! One-operation workloads that exercise a constant on the left of a
//! non-commutative operator, where peers differ: `c / x` and `c - x`.
//! Not timed (one operation), only checked.

pub const C: f64 = 3.0;
pub const X: f64 = 2.0;

/// f(x) = c / x, f'(x) = -c / x^2.
pub fn div_gradient(x: &[f64], g: &mut [f64]) -> f64 {
    g[0] = -C / (x[0] * x[0]);
    C / x[0]
}

/// f(x) = c - x, f'(x) = -1.
pub fn sub_gradient(x: &[f64], g: &mut [f64]) -> f64 {
    g[0] = -1.0;
    C - x[0]
}
