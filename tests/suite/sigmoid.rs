//! `Scalar::sigmoid`: one operation in every mode, against closed forms.

use dualtape::{forward, reverse, Dual, Scalar};

/// σ'(x) = e^-x / (1 + e^-x)², written independently of the rule.
fn slope(x: f64) -> f64 {
    let e = (-x.abs()).exp(); // symmetric: σ'(x) = σ'(-x)
    e / ((1.0 + e) * (1.0 + e))
}

/// σ''(x) = σ'(x) (1 - 2σ(x)), with σ from its textbook form.
fn curvature(x: f64) -> f64 {
    let s = 1.0 / (1.0 + (-x).exp());
    slope(x) * (1.0 - 2.0 * s)
}

#[test]
fn forward_reverse_and_nested_match_closed_forms() {
    for &x in &[-30.0f64, -5.0, -1.0, -0.25, 0.0, 0.3, 2.0, 7.5, 30.0] {
        let want = 1.0 / (1.0 + (-x).exp());
        let (v, d) = forward::derivative(|z| z.sigmoid(), x);
        assert!(
            (v - want).abs() <= 1e-15 * want.max(1e-300),
            "σ({x}) = {v}, want {want}"
        );
        assert!(
            (d - slope(x)).abs() <= 1e-14 * slope(x),
            "σ'({x}) = {d}, want {}",
            slope(x)
        );
        let (rv, g) = reverse::gradient(|z| z[0].sigmoid(), &[x]);
        assert_eq!(rv, v);
        assert!((g[0] - slope(x)).abs() <= 1e-14 * slope(x));
        let y = Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0)).sigmoid();
        let c = curvature(x);
        assert!(
            (y.eps.eps - c).abs() <= 1e-13 * c.abs().max(1e-300),
            "σ''({x}) = {}, want {c}",
            y.eps.eps
        );
    }
}

#[test]
fn one_tape_node_and_no_overflow() {
    let (_, g) = reverse::gradient(|z| z[0].sigmoid(), &[1.0]);
    assert!(g[0] > 0.0);
    // sentinel + input + the sigmoid
    assert_eq!(reverse::tape_stats().nodes, 3);
    for &x in &[-1000.0, -745.0, 710.0, 1000.0] {
        let (v, d) = forward::derivative(|z| z.sigmoid(), x);
        assert!(v.is_finite() && d.is_finite(), "σ({x}) = {v}, σ' = {d}");
        // e^x / (1 + e^x) for x < 0, 1 / (1 + e^-x) for x > 0: no overflow there
        let want = if x > 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            x.exp() / (1.0 + x.exp())
        };
        assert_eq!(v, want);
        assert!(
            (d - slope(x)).abs() <= 1e-300,
            "σ'({x}) = {d}, want {}",
            slope(x)
        );
    }
    assert!(f64::NAN.sigmoid().is_nan());
}

#[test]
fn softplus_matches_closed_forms_in_every_mode() {
    for &x in &[-40.0f64, -5.0, -1.0, -0.25, 0.0, 0.3, 2.0, 7.5, 40.0] {
        // ln(1 + e^x) directly where it is accurate, x + ln(1 + e^-x) above
        let want = if x < 30.0 {
            x.exp().ln_1p()
        } else {
            x + (-x).exp().ln_1p()
        };
        let s = 1.0 / (1.0 + (-x).exp()); // σ(x), the derivative
        let (v, d) = forward::derivative(|z| z.softplus(), x);
        assert!(
            (v - want).abs() <= 1e-15 * want.max(1e-300),
            "softplus({x}) = {v}, want {want}"
        );
        assert!((d - s).abs() <= 1e-15 * s, "softplus'({x}) = {d}, want {s}");
        let (rv, g) = reverse::gradient(|z| z[0].softplus(), &[x]);
        assert_eq!(rv, v);
        assert!((g[0] - s).abs() <= 1e-15 * s);
        let y = Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0)).softplus();
        assert!(
            (y.eps.eps - slope(x)).abs() <= 1e-13 * slope(x),
            "softplus''({x})"
        );
    }
    // one node, and no overflow far out
    let _ = reverse::gradient(|z| z[0].softplus(), &[1.0]);
    assert_eq!(reverse::tape_stats().nodes, 3);
    assert_eq!(forward::derivative(|z| z.softplus(), 1000.0), (1000.0, 1.0));
    assert_eq!(forward::derivative(|z| z.softplus(), -1000.0), (0.0, 0.0));
}
