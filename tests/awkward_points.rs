//! Elementary functions at awkward points, in every mode.

use dualtape::{forward, reverse};

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan())
        || a == b
        || (a - b).abs() <= 8.0 * f64::EPSILON * a.abs().max(b.abs())
}

// ------------------------------------------------------------------ regressions

#[test]
fn powi_with_a_negative_exponent_has_the_value_of_f64_powi() {
    // Regression: rules::powi computed x^n as x^(n-1)·x, which for n < 0 is
    // NaN at x = ±0 and ±∞ (∞·0) and overflows or underflows early.
    for n in [-1, -2, -3] {
        for x in [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            1e300,
            3.0,
        ] {
            let want = x.powi(n);
            let (v, d) = forward::derivative(|x| x.powi(n), x);
            let (w, g) = reverse::gradient(|x| x[0].powi(n), &[x]);
            assert!(
                same(v, want) && same(w, want),
                "{x:e}^{n}: {v:e}, {w:e}, want {want:e}"
            );
            let slope = n as f64 * x.powi(n - 1);
            assert!(
                same(d, slope) && same(g[0], slope),
                "d/dx {x:e}^{n}: {d:e}, {:e}",
                g[0]
            );
        }
    }
}

#[test]
fn sqrt_has_slope_plus_infinity_at_negative_zero() {
    // Regression: sqrt(-0) = -0, and 1/(2·(-0)) gave the slope -∞, though
    // sqrt is increasing and its rule documents +∞ at 0.
    assert_eq!(forward::derivative(|x| x.sqrt(), -0.0).1, f64::INFINITY);
    assert_eq!(
        reverse::gradient(|x| x[0].sqrt(), &[-0.0]).1[0],
        f64::INFINITY
    );
    assert_eq!(forward::derivative(|x| x.sqrt(), 0.0).1, f64::INFINITY);
}
