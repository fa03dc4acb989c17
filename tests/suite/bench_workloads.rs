//! The benchmark workloads compute what they claim: every method agrees with
//! the hand-written gradient (and that with central differences), at sizes
//! small enough for a test.

use crate::workloads as common;

use common::*;

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * scale,
            "{what}: component {i}: {x} vs {y} (scale {scale})"
        );
    }
}

/// Every method against the hand-written gradient; `full_forward` false
/// checks only one pass of each forward method (for big inputs).
fn check<W: Workload>(w: &W, fd_tol: f64, full_forward: bool) {
    let x = w.x0().to_vec();
    let n = x.len();
    let name = w.name();
    let mut exact = vec![0.0; n];
    let v = analytic(w, &x, &mut exact);
    let v64 = eval_f64(w, &x);
    assert!(
        (v - v64).abs() <= 1e-12 * v64.abs().max(1.0),
        "{name}: value {v} vs {v64}"
    );

    let mut g = vec![0.0; n];
    let vr = reverse_into(w, &x, &mut g);
    assert!(
        (vr - v64).abs() <= 1e-12 * v64.abs().max(1.0),
        "{name}: reverse value"
    );
    close(&g, &exact, 1e-12, &format!("{name}: reverse"));

    if full_forward {
        let mut gd = vec![0.0; n];
        dual_passes(w, &x, &mut gd);
        close(&gd, &exact, 1e-12, &format!("{name}: Dual"));
        close(
            &dualvec::<W, 4>(w, &x).1,
            &exact,
            1e-12,
            &format!("{name}: DualVec4"),
        );
        close(
            &dualvec::<W, 8>(w, &x).1,
            &exact,
            1e-12,
            &format!("{name}: DualVec8"),
        );
        close(
            &dualvec::<W, 16>(w, &x).1,
            &exact,
            1e-12,
            &format!("{name}: DualVec16"),
        );
        close(
            &central_fd(w, &x).1,
            &exact,
            fd_tol,
            &format!("{name}: central FD"),
        );
    } else {
        let scale = exact.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let (_, d0) = dual_one_pass(w, &x);
        assert!((d0 - exact[0]).abs() <= 1e-12 * scale, "{name}: Dual pass");
        let dv = dualvec_one_pass::<W, 16>(w, &x);
        close(
            &dv.eps,
            &exact[..16],
            1e-12,
            &format!("{name}: DualVec16 pass"),
        );
        let mut xm = x.clone();
        let f0 = fd_one_pair(w, &mut xm);
        assert!((f0 - exact[0]).abs() <= fd_tol * scale, "{name}: FD pair");
        assert_eq!(xm, x);
    }
}

#[test]
fn rosenbrock_all_methods_agree() {
    for n in [2, 10, 100] {
        check(&Rosenbrock::new(n), 1e-7, true);
    }
    // the standard value at the standard start: 24.2 per pair
    let r = Rosenbrock::new(10);
    assert!((eval_f64(&r, &r.x0) - 5.0 * 24.2).abs() < 1e-12);
}

#[test]
fn notebook_all_methods_agree() {
    let w = Notebook::new(200);
    // The generic loss is the notebook's loss.
    let reference = dualtape_nn::notebook::loss(&w.x0, &w.data.set);
    assert!((eval_f64(&w, &w.x0) - reference).abs() < 1e-14);
    check(&w, 1e-7, true);
}

#[test]
fn notebook_nalgebra_matches_loops() {
    let a = Notebook::new(200);
    let b = NotebookNalgebra::new(200);
    let (va, vb) = (eval_f64(&a, &a.x0), eval_f64(&b, &b.x0));
    assert!((va - vb).abs() < 1e-13, "{va} vs {vb}");
    check(&b, 1e-7, true);
}

#[test]
fn mlp_reverse_matches_backprop() {
    check(&Mlp::new(50), 1e-6, false);
}

#[test]
fn logdet_all_methods_agree() {
    check(&LogDet::new(5), 1e-7, true);
    check(&LogDet::new(20), 1e-7, false);
}
