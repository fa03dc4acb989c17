//! f64 data times `S` parameters: `x.lift_mul(&w)` against `x.lift::<S>() * w`,
//! for a 200 × 371 data matrix, in forward mode (`DualVec<f64, 8>`, 47 passes)
//! and reverse mode. Prints medians of 7 runs.
//!
//! `cargo run --release --example lift_mul`

use std::time::Instant;

use dualtape::nalgebra::{DMatrix, DVector};
use dualtape::{forward, reverse, DualVec, Lift, LiftMul, Scalar};

/// Σ tanh(X w), the data multiplied without lifting it.
fn with_lift_mul<S: Scalar<Real = f64>>(x: &DMatrix<f64>, w: &[S]) -> S {
    let w = DVector::from_column_slice(w);
    x.lift_mul(&w).iter().map(|z| z.tanh()).sum()
}

/// Σ tanh(X w), the data lifted to `S` first.
fn with_lift<S: Scalar<Real = f64>>(x: &DMatrix<f64>, w: &[S]) -> S {
    let w = DVector::from_column_slice(w);
    (x.lift::<S>() * w).iter().map(|z| z.tanh()).sum()
}

fn median_ms(f: impl Fn()) -> f64 {
    let mut t: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[t.len() / 2]
}

fn main() {
    let (m, n) = (200, 371);
    let x = DMatrix::from_fn(m, n, |i, j| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5);
    let w: Vec<f64> = (0..n).map(|j| (j as f64 * 0.01).sin()).collect();

    // Both spellings give the same gradient.
    let (va, ga) = forward::gradient(|w: &[DualVec<f64, 8>]| with_lift_mul(&x, w), &w);
    let (vb, gb) = reverse::gradient(|w| with_lift(&x, w), &w);
    assert!((va - vb).abs() < 1e-9);
    assert!(ga.iter().zip(&gb).all(|(p, q)| (p - q).abs() < 1e-9));

    let fwd = |f: fn(&DMatrix<f64>, &[DualVec<f64, 8>]) -> DualVec<f64, 8>| {
        median_ms(|| {
            forward::gradient(|w: &[DualVec<f64, 8>]| f(&x, w), &w);
        })
    };
    let rev = |f: fn(&DMatrix<f64>, &[dualtape::Var]) -> dualtape::Var| {
        median_ms(|| {
            reverse::gradient(|w| f(&x, w), &w);
        })
    };
    println!("gradient of Σ tanh(X w), X {m} × {n} (median of 7, ms)");
    println!("                       lift_mul   lift() then *");
    println!(
        "forward DualVec<f64,8> {:>8.2}   {:>8.2}",
        fwd(with_lift_mul),
        fwd(with_lift)
    );
    println!(
        "reverse Var            {:>8.2}   {:>8.2}",
        rev(with_lift_mul),
        rev(with_lift)
    );
}
