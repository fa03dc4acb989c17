//! Extended Rosenbrock (Moré, Garbow & Hillstrom), n even:
//! f(x) = sum over pairs i of 100 (x[2i+1] - x[2i]^2)^2 + (1 - x[2i])^2.

use super::data::Rng;

/// The standard start point (-1.2, 1, -1.2, 1, ...), perturbed by up to
/// +-0.1 so that no two pairs are identical.
pub fn start(n: usize) -> Vec<f64> {
    assert!(n.is_multiple_of(2), "extended Rosenbrock needs an even n");
    let mut rng = Rng::new(0x5EED_0001 ^ n as u64);
    (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 } + rng.range(-0.1, 0.1))
        .collect()
}

/// Plain f64 evaluation: the baseline every ratio is relative to.
pub fn eval(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for p in x.chunks_exact(2) {
        let a = p[1] - p[0] * p[0];
        let b = 1.0 - p[0];
        s += 100.0 * a * a + b * b;
    }
    s
}

/// Hand-written gradient.
pub fn gradient(x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let s = gradient_into(x, &mut g);
    (s, g)
}

/// Hand-written gradient into `g`; returns the value.
pub fn gradient_into(x: &[f64], g: &mut [f64]) -> f64 {
    let mut s = 0.0;
    for (p, gp) in x.chunks_exact(2).zip(g.chunks_exact_mut(2)) {
        let a = p[1] - p[0] * p[0];
        let b = 1.0 - p[0];
        s += 100.0 * a * a + b * b;
        gp[0] = -400.0 * a * p[0] - 2.0 * b;
        gp[1] = 200.0 * a;
    }
    s
}
