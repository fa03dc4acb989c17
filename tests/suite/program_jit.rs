//! The compiled gradient and HVP of recorded programs (feature `jit`): bit
//! for bit the interpreter's (the gradient also a fresh recording's, the
//! HVP's product the closed form's or forward over reverse's), at ordinary
//! and awkward points; a NaN in the compiled gradient or HVP makes the
//! interpreter replay; a changed comparison gives the interpreter's error; tiering,
//! size limit and `Jit::Off` choose the path they say (seen through the
//! workspace's count of compiled runs); one program shared by threads.
//! (Random programs: `random_programs.rs`; allocation: `allocations.rs`.)
//!
//! Not under Miri: Miri cannot run machine code made at run time.
#![cfg(not(miri))]

use dualtape::reverse::program::{tier, Jit, Test, MAX_OPS, TIER};
use dualtape::reverse::{self, Program, ReplayError, Workspace};
use dualtape::{Dual, Scalar, Var};

use crate::support::compare::{assert_all_close, assert_all_rel, identical};

fn rosenbrock<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for i in 0..x.len() / 2 {
        let (a, b) = (x[2 * i], x[2 * i + 1]);
        s += (S::constant(1.0) - a).powi(2) + (b - a * a).powi(2) * 100.0;
    }
    s
}

/// Rosenbrock with another power in each of 13 consecutive terms: no
/// body of at most 64 instructions repeats (the compiled gradient is
/// straight-line code, as long as the program).
fn varying<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for i in 0..x.len() / 2 {
        let (a, b) = (x[2 * i], x[2 * i + 1]);
        s += (S::constant(1.0) - a).powi(2 + (i % 13) as i32) + (b - a * a).powi(2) * 100.0;
    }
    s
}

/// A least-squares fit of `y = w₀ + w₁ t + w₂ sin(w₃ t)` to points `(t, y)`
/// whose coordinates differ from point to point: a loop reads them from
/// tables (jit/loops.rs); the inputs are the four weights, the rest of `x`
/// only sizes the data.
fn fit<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for k in 0..x.len() {
        let t = 0.01 * k as f64 - 1.0;
        let y = (3.0 * t).cos() + 0.25 * t;
        let r = x[0] + x[1] * t + x[2] * (x[3] * t).sin() - y;
        s += r * r;
    }
    s
}

/// Every kind of instruction the compiler emits: inline `+ - * /`,
/// negation, `recip`, `powi(·, 2)`, `powi(·, 0)`, one slot twice, constants
/// on either side, `mul_add`, kinks (`abs`, `max`), shims (`sqrt`, `sin`,
/// `powi(·, 3)`, `atan2`, `sigmoid`), a weight `x[0]` every term uses.
#[allow(clippy::eq_op)] // one slot twice is the point
fn every<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let w = x[0];
    let mut s = S::constant(0.0);
    for (i, &a) in x.iter().enumerate().skip(1) {
        let sq = a * a;
        let t = S::constant(2.0) - sq;
        let u = (t * 0.5).sqrt() + (a / w) - (-a).recip();
        let v = a.max(w) * u + a.powi(2) + a.powi(0) + a.powi(3);
        let y = a.mul_add(w, v) + (a + a) - (a - a) * 3.0 + a / a;
        s += y / (a.abs() + 1.0)
            + w.atan2(a)
            + a.sigmoid() * (i as f64)
            + (S::constant(3.0) / a).sin();
    }
    s
}

use super::program::AWKWARD;

/// `p` compiled (`Jit::Now`) and interpreted (`Jit::Off`): two clones.
fn both(p: &Program) -> (Program, Program) {
    let (mut c, mut i) = (p.clone(), p.clone());
    c.set_jit(Jit::Now);
    i.set_jit(Jit::Off);
    (c, i)
}

/// The compiled gradient at `x`: bit for bit the interpreter's and a fresh
/// recording's of `f` (up to NaN payloads); returns whether compiled code
/// gave it (where a NaN appears, the interpreter replays: see
/// `jit/gradient.rs`).
fn compiled_is_exact(p: &Program, f: impl Fn(&[Var]) -> Var, x: &[f64], case: &str) -> bool {
    let (c, i) = both(p);
    let (mut wc, mut wi) = (c.workspace(), i.workspace());
    let n = x.len();
    let (mut gc, mut gi) = (vec![7.0; n], vec![7.0; n]);
    // (twice into one workspace: the second call must not see the first's
    // scratch memory)
    c.gradient_into(&mut wc, x, &mut gc).unwrap();
    let vc = c.gradient_into(&mut wc, x, &mut gc).unwrap();
    let vi = i.gradient_into(&mut wi, x, &mut gi).unwrap();
    assert!(c.jit_compiled(), "{case}: compiled");
    assert_eq!(wi.jit_runs(), 0, "{case}: Jit::Off interprets");
    let (fv, fg) = reverse::gradient(&f, x);
    assert!(
        identical(vc, vi),
        "{case}: value: compiled {vc}, interpreted {vi}"
    );
    assert!(
        identical(vc, fv),
        "{case}: value: compiled {vc}, fresh {fv}"
    );
    for k in 0..n {
        let (a, b, c) = (gc[k], gi[k], fg[k]);
        assert!(
            identical(a, b),
            "{case}: ∂/∂x{k}: compiled {a}, interpreted {b} at {x:?}"
        );
        assert!(
            identical(a, c),
            "{case}: ∂/∂x{k}: compiled {a}, fresh {c} at {x:?}"
        );
    }
    wc.jit_runs() == 2
}

/// [`compiled_is_exact`], and compiled code gave the result.
fn assert_compiled_is_exact(p: &Program, f: impl Fn(&[Var]) -> Var, x: &[f64], case: &str) {
    assert!(
        compiled_is_exact(p, f, x, case),
        "{case}: an ordinary point runs compiled"
    );
}

#[test]
fn compiled_gradients_are_bit_exact_at_new_points() {
    for n in [2, 10, 100] {
        let x0: Vec<f64> = (0..n).map(|i| 0.3 + 0.1 * i as f64).collect();
        let p = reverse::record(rosenbrock, &x0);
        for k in 0..10 {
            let x: Vec<f64> = (0..n)
                .map(|i| ((i * 7 + k * 13) as f64 * 0.37).sin() * 1.7)
                .collect();
            assert_compiled_is_exact(&p, rosenbrock, &x, &format!("rosenbrock n={n} k={k}"));
        }
    }
    let x0: Vec<f64> = (0..12).map(|i| 0.7 + 0.01 * i as f64).collect();
    let mut p = reverse::record(every, &x0);
    p.accept_kink_switches();
    for k in 0..10 {
        let x: Vec<f64> = x0.iter().map(|v| v - 0.23 * k as f64).collect();
        assert_compiled_is_exact(&p, every, &x, &format!("every k={k}"));
    }
}

/// Binary cross-entropy and a squared error over points labelled 0 or 1,
/// and a term scaled by 1 or 2: `z · t` is `z · 1` where `t` is 1,
/// `z - (1 - t)` is `z - 0` where `t` is 1 and `z / w` is `z / 1` where
/// `w` is 1, identities that `optimize` removes, so those points'
/// repetitions lack them (jit/loops.rs computes them as identities there;
/// the division calls a shim in the HVP).
fn labelled<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for k in 0..x.len() {
        let u = 0.01 * k as f64 + 0.005;
        let t = ((k.wrapping_mul(2_654_435_761) >> 13) & 1) as f64;
        let w = 1.0 + ((k.wrapping_mul(40_503) >> 7) & 1) as f64;
        let z = x[k] * u + x[0];
        s += z.softplus() - z * t + (z - (1.0 - t)).powi(2) + (z / w).sin() * z;
    }
    s
}

/// An input every repetition reads (`x[5]`) that one repetition also reads
/// as its own (`x[k]` at `k = 5`): its adjoint cannot be held in a register
/// through the loop.
fn overlapping<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for &a in x {
        s += (a * 2.0 + x[5]).powi(2);
    }
    s
}

/// [`overlapping`] with `x[5]`'s contribution between two of `x[k]`'s (the
/// sweep adds to `a`'s adjoint from `a * a`, then to `x[5]`'s, then to
/// `a`'s from `a * 3`): at `k = 5` all three reach one entry of the
/// gradient.
fn overlapping_between<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for &a in x {
        s += a * 3.0 * x[5] + a * a;
    }
    s
}

/// A sum of one term per input, every operation inline: the compiled sweep
/// runs two repetitions at a time, each input's pair one load and one
/// store (Rosenbrock's, of stride 2, are two each).
fn terms<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for &a in x {
        s += (a * a - a) * 0.5 + a / (a + 2.0);
    }
    s
}

/// [`terms`] with no division: every operation inline in the compiled HVP
/// too, so its sweep runs two repetitions at a time as well (an input of
/// stride 1; at odd `n` the last repetition left over runs alone).
fn products<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for &a in x {
        s += (a * a - a) * 0.5 - (a + 2.0).powi(2) * a;
    }
    s
}

/// Chained Rosenbrock: each input in two terms (overlapping strides), a
/// division, one slot twice (`a * a`).
fn chained<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for w in x.windows(2) {
        let (a, b) = (w[0], w[1]);
        s += (b - a * a).powi(2) * 100.0 + (S::constant(1.0) - a).powi(2) + a / (b * b + 1.0);
    }
    s
}

/// A value from before the loop (`m`) and an input every repetition reads
/// (`x[1]`, read after the loop too), shims in the body, the last
/// repetition's sum read after the loop twice.
fn shared<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let m = x[0].sin() * x[1];
    let mut s = S::constant(0.0);
    for &a in &x[2..] {
        s += (a * m).exp() / (a * a + 1.0) + x[1].recip() * a.sqrt() + (m - a).powi(3);
    }
    s * s + s.ln_1p() + x[1].powi(2)
}

/// A running product (its partials need the previous repetition: not
/// compiled as a loop) and a running sum whose middle term is read again.
fn unrolled<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let p = x.iter().fold(S::constant(1.0), |p, &a| p * (a + 1.0));
    let mut s = S::constant(0.0);
    let mut terms = Vec::new();
    for &a in x {
        let t = (a - 1.0).powi(2) * a.cos();
        terms.push(t);
        s += t;
    }
    p + s + terms[x.len() / 2] * 3.0
}

/// Passes over the inputs, each reading values of an earlier pass at a
/// stride, as a matrix product through nalgebra does (jit/loops.rs:
/// `Src::Strided`): `z` read by two later passes, `u` every other value,
/// from the second on.
fn passes<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let z: Vec<S> = x.iter().map(|&a| a * x[0] + 0.5).collect();
    let u: Vec<S> = (z.iter().zip(x))
        .map(|(&zi, &a)| zi.sin() + a * x[1])
        .collect();
    let mut s = S::constant(0.0);
    for i in 0..x.len() / 2 {
        s += u[2 * i + 1] * z[i].tanh() + (z[i] - u[i]).powi(2);
    }
    s
}

/// Passes over the inputs that fuse into one loop (jit/loops.rs: `fuse`),
/// and two that share a weight, which do not.
fn layers<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let a: Vec<S> = x[2..].iter().map(|&v| v * x[0]).collect();
    let b: Vec<S> = a.iter().map(|&v| (v + 0.25).tanh()).collect();
    let c: Vec<S> = b.iter().map(|&v| v * x[1]).collect();
    let d: Vec<S> = (c.iter().zip(&a)).map(|(&v, &u)| v * x[1] + u).collect();
    d.iter().fold(S::constant(0.0), |s, &v| s + v * v)
}

/// [`passes`], with a middle value of a pass read again after them: that
/// pass's values cannot all live in scratch memory, so it is found again
/// as a loop passing none on (or no loop).
fn passes_read_again<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let z: Vec<S> = x.iter().map(|&a| a * x[0] + 0.5).collect();
    let u: Vec<S> = (z.iter().zip(x))
        .map(|(&zi, &a)| zi.sin() + a * x[1])
        .collect();
    let mut s = S::constant(0.0);
    for i in 0..x.len() {
        s += u[i] * z[i].tanh();
    }
    s + u[x.len() / 2] * z[x.len() / 3]
}

/// Programs of more than 1,024 instructions that repeat a body have their
/// repetitions compiled as loops (jit/loops.rs): the same bits as the interpreter and a fresh recording,
/// at ordinary points and at awkward ones (where a NaN makes the
/// interpreter replay), for sizes on both sides of `MAX_OPS`.
#[test]
fn compiled_loops_are_bit_exact() {
    type F = fn(&[Var]) -> Var;
    let fs: [(&str, F, f64); 13] = [
        ("layers", layers, 0.3),
        ("passes", passes, 0.3),
        ("passes_read_again", passes_read_again, 0.3),
        ("rosenbrock", rosenbrock, 0.3),
        ("chained", chained, 0.3),
        ("shared", shared, 0.4),
        ("unrolled", unrolled, 0.2),
        ("fit", fit, 0.5),
        ("labelled", labelled, 0.5),
        ("overlapping", overlapping, 0.5),
        ("overlapping_between", overlapping_between, 0.5),
        ("terms", terms, 0.4),
        ("products", products, 0.4),
    ];
    for (name, f, scale) in fs {
        // (straight line at n = 20; loops from 1,024 instructions on:
        // `shared` at n = 101, `fit` at 200, the others at 400; above
        // MAX_OPS only where the program loops: a long straight-line
        // compile is slow in a debug build)
        let sizes: &[usize] = if name == "fit" || name == "labelled" {
            &[20, 200]
        } else if name.starts_with("passes") || name == "layers" {
            &[20, 400]
        } else if name == "unrolled" || name == "shared" {
            &[20, 101]
        } else if name == "products" {
            &[20, 401, 2100]
        } else {
            // (Rosenbrock at 2,102: an odd number of repetitions)
            &[20, 400, 2102]
        };
        for &n in sizes {
            let x0: Vec<f64> = (0..n).map(|i| scale + 0.001 * i as f64).collect();
            let p = reverse::record(f, &x0);
            for k in 0..4 {
                let x: Vec<f64> = (0..n)
                    .map(|i| scale + 0.3 * (((i * 7 + k * 13) as f64) * 0.37).sin().abs())
                    .collect();
                assert_compiled_is_exact(&p, f, &x, &format!("{name} n={n} k={k}"));
            }
            let (mut compiled, mut all) = (0, 0);
            for k in 0..AWKWARD.len() {
                let mut x = x0.clone();
                for i in (k % 5..n).step_by(5) {
                    x[i] = AWKWARD[(i + k) % AWKWARD.len()];
                }
                all += 1;
                compiled += usize::from(compiled_is_exact(
                    &p,
                    f,
                    &x,
                    &format!("{name} n={n} awkward {k}"),
                ));
            }
            assert!(compiled < all, "{name} n={n}: a NaN somewhere replays");
        }
    }
}

#[test]
fn compiled_gradients_are_bit_exact_at_awkward_points() {
    let x0: Vec<f64> = (0..9).map(|i| 0.7 + 0.01 * i as f64).collect();
    let mut p = reverse::record(every, &x0);
    p.accept_kink_switches();
    let q = reverse::record(rosenbrock, &x0[..8]);
    let (mut compiled, mut all) = (0, 0);
    let mut run = |p: &Program, f: fn(&[Var]) -> Var, x: &[f64], case: &str| {
        all += 1;
        compiled += usize::from(compiled_is_exact(p, f, x, case));
    };
    for k in 0..3 * AWKWARD.len() {
        let x: Vec<f64> = (0..9)
            .map(|i| {
                if (i + k) % 3 == 0 {
                    AWKWARD[(i * 5 + k) % AWKWARD.len()]
                } else {
                    x0[i] - 0.05 * k as f64
                }
            })
            .collect();
        run(&p, every, &x, &format!("every k={k}"));
        run(&q, rosenbrock, &x[..8], &format!("rosenbrock k={k}"));
    }
    // the weight alone awkward, and every entry one awkward value
    for &a in AWKWARD {
        let mut x = x0.clone();
        x[0] = a;
        run(&p, every, &x, &format!("w = {a}"));
        run(&q, rosenbrock, &[a; 8], &format!("all {a}"));
    }
    // where a NaN appears the interpreter replays, but not everywhere:
    // both paths ran
    assert!(
        compiled > 0 && compiled < all,
        "{compiled} of {all} compiled"
    );
}

/// Rule 3 where the compiled gradient's plain products would give NaN: at
/// `x = (0, 0)`, `f = sqrt(x0) · x1` has the adjoint of `sqrt(x0)` zero
/// (its partial is `x1 = 0`), so the infinite slope of `sqrt` at 0 adds
/// nothing: `∇f = (0, sqrt 0) = (0, 0)`, where `∞ · 0` would be NaN. The
/// compiled code sees the NaN and lets the interpreter replay. Where only
/// a zero partial meets finite values (`x1 = 0`, `x0 = 4`), the plain
/// product adds `+0`, and the compiled code's result stands.
#[test]
fn a_nan_in_the_compiled_gradient_makes_the_interpreter_replay() {
    fn f(x: &[Var]) -> Var {
        x[0].sqrt() * x[1]
    }
    let p = reverse::record(f, &[1.0, 2.0]);
    let mut c = p.clone();
    c.set_jit(Jit::Now);
    let mut ws = c.workspace();
    let mut g = vec![7.0; 2];
    let v = c.gradient_into(&mut ws, &[0.0, 0.0], &mut g).unwrap();
    assert_eq!((v, g.clone(), ws.jit_runs()), (0.0, vec![0.0, 0.0], 0));
    assert!(g.iter().all(|d| d.is_sign_positive()), "{g:?}");
    assert!(!compiled_is_exact(&p, f, &[0.0, 0.0], "at 0"), "replayed");
    // a zero partial, finite values: compiled
    let v = c.gradient_into(&mut ws, &[4.0, 0.0], &mut g).unwrap();
    assert_eq!((v, g.clone(), ws.jit_runs()), (0.0, vec![0.0, 2.0], 1));
    assert!(g[0].is_sign_positive());
    assert!(compiled_is_exact(&p, f, &[4.0, 0.0], "x1 = 0"));
    // elsewhere, compiled: ∇f = (x1 / (2 sqrt x0), sqrt x0)
    let v = c.gradient_into(&mut ws, &[4.0, 3.0], &mut g).unwrap();
    assert_eq!((v, g, ws.jit_runs()), (6.0, vec![0.75, 2.0], 2));
}

#[test]
fn a_changed_comparison_gives_the_interpreters_error() {
    // f(x) = x0² for x0 > 1, else 2·x0; then |x1| and max(x0, x1)
    fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
        let s = if x[0] > S::constant(1.0) {
            x[0] * x[0]
        } else {
            x[0] * 2.0
        };
        s + x[1].abs()
            + x[0].max(x[1])
            + if x[1].partial_cmp(&x[0]).is_none() {
                x[0]
            } else {
                x[1]
            }
    }
    let p = reverse::record(f, &[3.0, 2.0]);
    let (c, i) = both(&p);
    let mut ws = c.workspace();
    let mut g = [7.0; 2];
    // still on the recorded branches: compiled
    let v = c.gradient_into(&mut ws, &[2.0, 0.5], &mut g).unwrap();
    assert_eq!((v, g.to_vec()), reverse::gradient(f, &[2.0, 0.5]));
    assert_eq!(ws.jit_runs(), 1);
    for x in [
        [0.5, 2.0],
        [3.0, -2.0],
        [1.5, 2.0],
        [3.0, f64::NAN],
        [f64::NAN, 2.0],
    ] {
        let want = i.gradient(&x).unwrap_err();
        assert!(
            matches!(want, ReplayError::ComparisonChanged { .. }),
            "{x:?}: {want}"
        );
        let mut g = [7.0; 2];
        let got = c.gradient_into(&mut ws, &x, &mut g).unwrap_err();
        // (as text: the error holds the operands, NaN here and there)
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "{x:?}");
        assert_eq!(g, [7.0; 2], "{x:?}: an error writes no gradient");
    }
    assert_eq!(
        ws.jit_runs(),
        1,
        "a changed comparison is not a compiled run"
    );
    // kinks let through: compiled, and a fresh recording's result
    let (mut c, _) = both(&p);
    c.accept_kink_switches();
    let mut ws = c.workspace();
    let x = [3.0, -2.0];
    let v = c.gradient_into(&mut ws, &x, &mut g).unwrap();
    assert_eq!((v, g.to_vec()), reverse::gradient(f, &x));
    assert_eq!(ws.jit_runs(), 1);
    // a test compiled through the shim (partial_cmp's, is_nan's) changing
    let p = reverse::record(|x| if x[0].is_nan() { x[0] } else { x[0] * 3.0 }, &[1.0]);
    let (c, _) = both(&p);
    assert_eq!(c.gradient(&[2.0]).unwrap(), (6.0, vec![3.0]));
    match c.gradient(&[f64::NAN]) {
        Err(ReplayError::ComparisonChanged {
            test: Test::IsNan,
            recorded: 0,
            now: 1,
            ..
        }) => {}
        r => panic!("{r:?}"),
    }
}

#[test]
fn value_escape_is_refused_before_compiled_code_runs() {
    let p = reverse::record(|x| x[1] * x[0].value(), &[2.0, 3.0]);
    let (mut c, _) = both(&p);
    assert!(matches!(
        c.gradient(&[5.0, 3.0]),
        Err(ReplayError::ValueEscaped { reads: 1 })
    ));
    c.accept_value_escape();
    // the recorded constant 2, as the interpreter has it
    assert_eq!(c.gradient(&[5.0, 3.0]).unwrap(), (6.0, vec![0.0, 2.0]));
    assert!(c.jit_compiled());
}

#[test]
fn tiering_size_and_off_choose_the_path() {
    let x: Vec<f64> = (0..10).map(|i| 0.1 * i as f64).collect();
    let p = reverse::record(rosenbrock, &x);
    let mut ws = p.workspace();
    let mut g = vec![0.0; 10];
    for k in 1..=TIER as u64 + 2 {
        p.gradient_into(&mut ws, &x, &mut g).unwrap();
        let compiled = k >= TIER as u64;
        assert_eq!(p.jit_compiled(), compiled, "after {k} gradients");
        assert_eq!(
            ws.jit_runs(),
            k.saturating_sub(TIER as u64 - 1),
            "after {k}"
        );
    }
    // a clone shares the code; Jit::Off on it interprets
    let mut q = p.clone();
    assert!(q.jit_compiled());
    q.set_jit(Jit::Off);
    let mut wq = q.workspace();
    q.gradient_into(&mut wq, &x, &mut g).unwrap();
    assert_eq!(wq.jit_runs(), 0);
    // optimize() may change the instructions: compiled again when asked
    q.optimize();
    assert!(!q.jit_compiled() && p.jit_compiled());
    // a larger program waits longer: TIER · 2^1.5 for 2 blocks of 512
    // (one that repeats no body: see below for one that does)
    let n = 130;
    let x: Vec<f64> = (0..n).map(|i| 0.01 * i as f64).collect();
    let mid = reverse::record(varying, &x);
    let len = mid.instructions().len();
    assert!((513..=1024).contains(&len), "{len} instructions");
    let t = tier(len).unwrap();
    assert!(2 * TIER < t && t < 3 * TIER, "{t}");
    let mut ws = mid.workspace();
    let mut g = vec![0.0; n];
    for k in 1..=t {
        mid.gradient_into(&mut ws, &x, &mut g).unwrap();
        assert_eq!(mid.jit_compiled(), k == t, "after {k} gradients");
    }
    assert_eq!(ws.jit_runs(), 1);
    let (fv, fg) = reverse::gradient(varying, &x);
    let v = mid.gradient_into(&mut ws, &x, &mut g).unwrap();
    assert!(identical(v, fv) && g.iter().zip(&fg).all(|(a, b)| identical(*a, *b)));
    // a program that repeats one body tiers by the compiled code's size
    // (the body once), sooner the longer the program is than that code:
    // Rosenbrock above MAX_OPS instructions (16 compiled) at
    // TIER · 128 / 4,104, its 128th gradient
    let n = MAX_OPS / 4 + 2;
    let x: Vec<f64> = (0..n).map(|i| 0.01 * i as f64).collect();
    let looped = reverse::record(rosenbrock, &x);
    assert_eq!(looped.instructions().len(), 4104);
    let mut ws = looped.workspace();
    let mut g = vec![0.0; n];
    for k in 1..=128 {
        looped.gradient_into(&mut ws, &x, &mut g).unwrap();
        assert_eq!(looped.jit_compiled(), k == 128, "after {k} gradients");
    }
    assert_eq!(ws.jit_runs(), 1);
    let (fv, fg) = reverse::gradient(rosenbrock, &x);
    assert!(g.iter().zip(&fg).all(|(a, b)| identical(*a, *b)));
    let v = looped.gradient_into(&mut ws, &x, &mut g).unwrap();
    assert!(identical(v, fv) && g.iter().zip(&fg).all(|(a, b)| identical(*a, *b)));
    // above MAX_OPS: interpreted by default (never counted toward a tier),
    // compiled when asked
    let mut big = reverse::record(varying, &x);
    assert!(big.instructions().len() > MAX_OPS);
    assert_eq!(tier(big.instructions().len()), None);
    let mut ws = big.workspace();
    let mut g = vec![0.0; n];
    for _ in 0..2 * TIER {
        big.gradient_into(&mut ws, &x, &mut g).unwrap();
    }
    assert_eq!((big.jit_compiled(), ws.jit_runs()), (false, 0));
    big.set_jit(Jit::Now);
    let v = big.gradient_into(&mut ws, &x, &mut g).unwrap();
    assert_eq!((big.jit_compiled(), ws.jit_runs()), (true, 1));
    let (fv, fg) = reverse::gradient(varying, &x);
    assert!(identical(v, fv) && g.iter().zip(&fg).all(|(a, b)| identical(*a, *b)));
}

#[test]
fn threads_share_one_compiled_program() {
    let x0: Vec<f64> = (0..12).map(|i| 0.7 + 0.01 * i as f64).collect();
    let mut p = reverse::record(every, &x0);
    // compiled by the first gradient asked for, whichever thread asks
    p.accept_kink_switches().set_jit(Jit::Now);
    let x0 = &x0;
    let runs: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let p = &p;
                s.spawn(move || {
                    let mut ws = p.workspace();
                    let mut g = vec![0.0; 12];
                    for k in 0..40 {
                        // (inside `every`'s domain, `|a| < √2`: a NaN
                        // would make the interpreter replay)
                        let x: Vec<f64> =
                            x0.iter().map(|v| v + 0.003 * (k * 4 + t) as f64).collect();
                        let v = p.gradient_into(&mut ws, &x, &mut g).unwrap();
                        let (fv, fg) = reverse::gradient(every, &x);
                        assert!(identical(v, fv), "thread {t}, k {k}");
                        for (a, b) in g.iter().zip(&fg) {
                            assert!(identical(*a, *b), "thread {t}, k {k}: {a} vs {b}");
                        }
                    }
                    ws.jit_runs()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert!(p.jit_compiled());
    assert_eq!(runs, 160);
}

// ---------------------------------------------------------------- compiled HVPs

/// The extended Rosenbrock function's gradient and Hessian-vector product
/// `∇²f(x) v` in closed form, pair by pair: for `(1 - a)² + 100 (b - a²)²`,
/// `∂²/∂a² = 2 - 400 b + 1200 a²`, `∂²/∂a∂b = -400 a`, `∂²/∂b² = 200`.
fn rosenbrock_gradient_hv(x: &[f64], v: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut g, mut hv) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    for i in 0..x.len() / 2 {
        let (a, b) = (x[2 * i], x[2 * i + 1]);
        let (va, vb) = (v[2 * i], v[2 * i + 1]);
        g[2 * i] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
        g[2 * i + 1] = 200.0 * (b - a * a);
        let (haa, hab) = (2.0 - 400.0 * b + 1200.0 * a * a, -400.0 * a);
        hv[2 * i] = haa * va + hab * vb;
        hv[2 * i + 1] = hab * va + 200.0 * vb;
    }
    (g, hv)
}

/// The compiled HVP of `p` at `x` along `v` (`Jit::Now`) and the
/// interpreted one (`Jit::Off`), bit for bit the same value, gradient and
/// product (up to NaN payloads); returns them and whether compiled code
/// gave them (where a NaN appears, the interpreter replays: see
/// `jit/hvp.rs`).
fn hvp_compiled_is_exact(
    p: &Program,
    x: &[f64],
    v: &[f64],
    case: &str,
) -> (f64, Vec<f64>, Vec<f64>, bool) {
    let (c, i) = both(p);
    let (mut wc, mut wi) = (Workspace::default(), Workspace::default());
    let n = x.len();
    let (mut gc, mut hc) = (vec![7.0; n], vec![7.0; n]);
    let (mut gi, mut hi) = (vec![7.0; n], vec![7.0; n]);
    // (twice into one workspace, as for the gradient)
    c.hvp_into(&mut wc, x, v, &mut gc, &mut hc).unwrap();
    let vc = c.hvp_into(&mut wc, x, v, &mut gc, &mut hc).unwrap();
    let vi = i.hvp_into(&mut wi, x, v, &mut gi, &mut hi).unwrap();
    assert!(c.jit_hvp_compiled(), "{case}: compiled");
    assert_eq!(wi.jit_runs(), 0, "{case}: Jit::Off interprets");
    assert!(
        identical(vc, vi),
        "{case}: value: compiled {vc}, interpreted {vi}"
    );
    for k in 0..n {
        assert!(
            identical(gc[k], gi[k]),
            "{case}: ∂/∂x{k}: compiled {}, interpreted {} at {x:?} along {v:?}",
            gc[k],
            gi[k]
        );
        assert!(
            identical(hc[k], hi[k]),
            "{case}: (Hv)_{k}: compiled {}, interpreted {} at {x:?} along {v:?}",
            hc[k],
            hi[k]
        );
    }
    (vc, gc, hc, wc.jit_runs() == 2)
}

#[test]
fn compiled_hvps_are_bit_exact_at_new_points() {
    for n in [2, 10, 100] {
        let x0: Vec<f64> = (0..n).map(|i| 0.3 + 0.1 * i as f64).collect();
        let p = reverse::record(rosenbrock, &x0);
        for k in 0..10 {
            let x: Vec<f64> = (0..n)
                .map(|i| ((i * 7 + k * 13) as f64 * 0.37).sin() * 1.7)
                .collect();
            let v: Vec<f64> = (0..n)
                .map(|i| ((i * 5 + k * 3) as f64 * 0.91).cos() * 2.0)
                .collect();
            let case = format!("rosenbrock n={n} k={k}");
            let (value, g, hv, compiled) = hvp_compiled_is_exact(&p, &x, &v, &case);
            assert!(compiled, "{case}: an ordinary point runs compiled");
            // a fresh recording's value and gradient, bit for bit; the
            // product as the closed form has it
            let (fv, fg) = reverse::gradient(rosenbrock, &x);
            assert!(identical(value, fv), "{case}: value {value} vs {fv}");
            for i in 0..n {
                assert!(identical(g[i], fg[i]), "{case}: ∂/∂x{i}");
            }
            let (cg, chv) = rosenbrock_gradient_hv(&x, &v);
            assert_all_rel(&format!("{case}: gradient"), &g, &cg, 1e-13, 1e4);
            assert_all_rel(&format!("{case}: Hv"), &hv, &chv, 1e-13, 1e4);
        }
    }
    let x0: Vec<f64> = (0..12).map(|i| 0.7 + 0.01 * i as f64).collect();
    let mut p = reverse::record(every, &x0);
    p.accept_kink_switches();
    for k in 0..10 {
        let x: Vec<f64> = x0.iter().map(|v| v - 0.23 * k as f64).collect();
        let v: Vec<f64> = (0..12).map(|i| 1.0 - 0.2 * (i + k) as f64).collect();
        let case = format!("every k={k}");
        let (value, _, hv, compiled) = hvp_compiled_is_exact(&p, &x, &v, &case);
        assert!(compiled, "{case}: an ordinary point runs compiled");
        // forward over reverse on a fresh recording: the same value, the
        // product summed in another order
        let (fv, fhv) = reverse::hvp(every, &x, &v);
        assert!(identical(value, fv), "{case}: value {value} vs {fv}");
        assert_all_close(&format!("{case}: Hv"), &hv, &fhv, 1e-12, 1e-12);
    }
}

#[test]
fn compiled_hvps_are_bit_exact_at_awkward_points() {
    let x0: Vec<f64> = (0..9).map(|i| 0.7 + 0.01 * i as f64).collect();
    let mut p = reverse::record(every, &x0);
    p.accept_kink_switches();
    let q = reverse::record(rosenbrock, &x0[..8]);
    let (mut compiled, mut all) = (0, 0);
    let mut run = |p: &Program, x: &[f64], v: &[f64], case: &str| {
        all += 1;
        compiled += usize::from(hvp_compiled_is_exact(p, x, v, case).3);
    };
    for k in 0..3 * AWKWARD.len() {
        let awkward = |i: usize, s: usize| AWKWARD[(i * s + k) % AWKWARD.len()];
        let x: Vec<f64> = (0..9)
            .map(|i| {
                if (i + k) % 3 == 0 {
                    awkward(i, 5)
                } else {
                    x0[i] - 0.05 * k as f64
                }
            })
            .collect();
        // the direction ordinary, or awkward where x is not
        let plain: Vec<f64> = (0..9).map(|i| 1.0 - 0.3 * i as f64).collect();
        let odd: Vec<f64> = (0..9)
            .map(|i| if (i + k) % 3 == 1 { awkward(i, 3) } else { 0.5 })
            .collect();
        for v in [&plain, &odd] {
            run(&p, &x, v, &format!("every k={k} v={v:?}"));
            run(&q, &x[..8], &v[..8], &format!("rosenbrock k={k} v={v:?}"));
        }
    }
    // the weight alone awkward, every entry one awkward value, and an
    // awkward direction at an ordinary point
    for &a in AWKWARD {
        let mut x = x0.clone();
        x[0] = a;
        let v = vec![1.0; 9];
        run(&p, &x, &v, &format!("w = {a}"));
        run(&q, &[a; 8], &v[..8], &format!("all {a}"));
        run(&p, &x0, &[a; 9], &format!("v = {a}"));
        run(&q, &x0[..8], &[a; 8], &format!("v = {a}"));
    }
    // most of these points have a NaN somewhere (the interpreter replays
    // them), but not all: the compiled code ran on some
    assert!(
        compiled > 0 && compiled < all,
        "{compiled} of {all} compiled"
    );
}

/// Rule 3 where the compiled code's plain products would give NaN: at
/// `x = (0, 0)` along `v = (1, 0)`, `f = sqrt(x0) · x1` has the adjoint of
/// `sqrt(x0)` zero (its partial `x1` is the zero dual `(0, 0)`), so the
/// infinite slope of `sqrt` at 0 adds nothing: ∂f/∂x0 = 0, and
/// `(Hv)_0 = ∂²f/∂x0∂x1 · v1 = ∞ · 0 = 0`, `(Hv)_1 = ∞ · 1 = ∞`. The
/// compiled code sees the NaN of `∞ · 0` and lets the interpreter replay.
#[test]
fn a_nan_in_the_compiled_hvp_makes_the_interpreter_replay() {
    let f = |x: &[Var]| x[0].sqrt() * x[1];
    let p = reverse::record(f, &[1.0, 2.0]);
    let (value, g, hv, compiled) = hvp_compiled_is_exact(&p, &[0.0, 0.0], &[1.0, 0.0], "at 0");
    assert!(!compiled, "the interpreter replayed");
    assert_eq!(
        (value, g, hv),
        (0.0, vec![0.0, 0.0], vec![0.0, f64::INFINITY])
    );
    // elsewhere, compiled: H = [[-x1/(4 x0^1.5), 1/(2 sqrt x0)], [·, 0]]
    let (value, g, hv, compiled) = hvp_compiled_is_exact(&p, &[4.0, 3.0], &[1.0, 2.0], "at 4");
    assert!(compiled);
    assert_eq!(value, 6.0);
    assert_eq!(g, vec![0.75, 2.0]);
    assert_eq!(hv, vec![-3.0 / 32.0 + 0.5, 0.25]);
}

/// The compiled HVP leaves a forward product's tangent unchecked: at `x0 =
/// ∞` along `v = (1, 0)`, `x0 · 2` has the plain tangent `1 · 2 + 0 · ∞`,
/// NaN, where the rules' is `2` (rule 3: `0 · ∞` is `0`). Reaching only
/// the output's tangent (never returned), it is harmless and the code runs;
/// reaching a partial that the sweep uses, it makes an adjoint NaN and the
/// interpreter replays; entering a rule (a shim, which could absorb a NaN
/// tangent), it is checked there and the interpreter replays.
#[test]
fn a_products_nan_tangent_is_caught_where_it_could_matter() {
    let (x, v) = ([f64::INFINITY, 1.0], [1.0, 0.0]);
    // only plain ops to the output: compiled; f = 2 x0 + x1, H = 0
    let p = reverse::record(|x: &[Var]| x[0] * 2.0 + x[1], &[1.0, 2.0]);
    let (value, g, hv, compiled) = hvp_compiled_is_exact(&p, &x, &v, "plain, to the output");
    assert!(compiled, "the NaN reaches nothing returned: compiled");
    assert_eq!(
        (value, g, hv),
        (f64::INFINITY, vec![2.0, 1.0], vec![0.0, 0.0])
    );
    // plain ops into a partial of `*`: f = (2 x0 + x1) x1, ∂f/∂x1 = 2 x0 +
    // 2 x1 = ∞; H = [[0, 2], [2, 2]], H v = (0, 2)
    let p = reverse::record(|x: &[Var]| (x[0] * 2.0 + x[1]) * x[1], &[1.0, 2.0]);
    let (value, g, hv, compiled) = hvp_compiled_is_exact(&p, &x, &v, "plain, to a partial");
    assert!(!compiled, "a NaN contribution: the interpreter replayed");
    assert_eq!(
        (value, g, hv),
        (f64::INFINITY, vec![2.0, f64::INFINITY], vec![0.0, 2.0])
    );
    // into a rule: tanh'(∞) = 0 would absorb it (`times(NaN, 0)` is 0);
    // f = tanh(2 x0) + x1, ∇f = (2 sech²(2 x0), 1) = (0, 1), H v = 0
    let p = reverse::record(|x: &[Var]| (x[0] * 2.0).tanh() + x[1], &[1.0, 2.0]);
    let (value, g, hv, compiled) = hvp_compiled_is_exact(&p, &x, &v, "into a rule");
    assert!(
        !compiled,
        "the rule's operand is checked: the interpreter replayed"
    );
    assert_eq!((value, g, hv), (2.0, vec![0.0, 1.0], vec![0.0, 0.0]));
    // the same inside a loop's body (jit/loops.rs): f = Σ tanh(2 xᵢ) at
    // x₃₀₀ = ∞ along e₃₀₀; ∂f/∂xᵢ = 2 sech²(2 xᵢ), H v = 0
    let sum = |x: &[Var]| (x.iter()).fold(Var::constant(0.0), |s, &a| s + (a * 2.0).tanh());
    let n = 600;
    let p = reverse::record(sum, &vec![0.5; n]);
    assert!(p.instructions().len() > 1024, "a loop");
    let (mut x, mut v) = (vec![0.5; n], vec![0.0; n]);
    (x[300], v[300]) = (f64::INFINITY, 1.0);
    let (_, g, hv, compiled) = hvp_compiled_is_exact(&p, &x, &v, "into a rule, looped");
    assert!(!compiled, "looped: the rule's operand is checked");
    let d = 2.0 / 1f64.cosh().powi(2);
    for i in 0..n {
        let want = if i == 300 { 0.0 } else { d };
        assert!((g[i] - want).abs() <= 1e-15, "∂f/∂x{i}: {} vs {want}", g[i]);
        assert_eq!(hv[i], 0.0, "(Hv)_{i}");
    }
    let (.., compiled) = hvp_compiled_is_exact(&p, &vec![0.5; n], &v, "looped, ordinary");
    assert!(compiled, "looped: compiled at an ordinary point");
    // and where a later pass reads the product (jit/loops.rs: a value kept
    // for it): 2 xᵢ in one pass, Σ tanh in the next
    let passes = |x: &[Var]| {
        let z: Vec<Var> = x.iter().map(|&a| a * 2.0).collect();
        (z.iter()).fold(Var::constant(0.0), |s, &z| s + z.tanh())
    };
    let p = reverse::record(passes, &vec![0.5; n]);
    let (_, g, hv, compiled) = hvp_compiled_is_exact(&p, &x, &v, "into a rule, a pass later");
    assert!(!compiled, "a pass later: the rule's operand is checked");
    for i in 0..n {
        let want = if i == 300 { 0.0 } else { d };
        assert!((g[i] - want).abs() <= 1e-15, "∂f/∂x{i}: {} vs {want}", g[i]);
        assert_eq!(hv[i], 0.0, "(Hv)_{i}");
    }
    let (.., compiled) = hvp_compiled_is_exact(&p, &vec![0.5; n], &v, "a pass later, ordinary");
    assert!(compiled, "a pass later: compiled at an ordinary point");
    // the same three at an ordinary point run compiled
    for (f, name) in [
        (
            &(|x: &[Var]| x[0] * 2.0 + x[1]) as &dyn Fn(&[Var]) -> Var,
            "plain",
        ),
        (&|x: &[Var]| (x[0] * 2.0 + x[1]) * x[1], "partial"),
        (&|x: &[Var]| (x[0] * 2.0).tanh() + x[1], "rule"),
    ] {
        let p = reverse::record(f, &[1.0, 2.0]);
        let (.., compiled) = hvp_compiled_is_exact(&p, &[0.5, 3.0], &[1.0, 0.0], name);
        assert!(compiled, "{name}: compiled at an ordinary point");
    }
}

#[test]
fn a_changed_comparison_gives_the_interpreters_error_for_hvps() {
    fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
        let s = if x[0] > S::constant(1.0) {
            x[0] * x[0]
        } else {
            x[0] * 2.0
        };
        s * x[1] + x[1].abs() + x[0].max(x[1])
    }
    let p = reverse::record(f, &[3.0, 2.0]);
    let (c, i) = both(&p);
    let mut ws = Workspace::default();
    let (mut g, mut hv) = ([7.0; 2], [7.0; 2]);
    // on the recorded branches: compiled; H = [[2 x1, 2 x0], [2 x0, 0]]
    let v = c
        .hvp_into(&mut ws, &[2.0, 0.5], &[1.0, -1.0], &mut g, &mut hv)
        .unwrap();
    assert_eq!(
        (v, g, hv),
        (2.0 + 0.5 + 2.0, [2.0 + 1.0, 4.0 + 1.0], [1.0 - 4.0, 4.0])
    );
    assert_eq!(ws.jit_runs(), 1);
    for x in [
        [0.5, 2.0],
        [3.0, -2.0],
        [1.5, 2.0],
        [3.0, f64::NAN],
        [f64::NAN, 2.0],
    ] {
        let want = i.hvp(&x, &[1.0, 1.0]).unwrap_err();
        assert!(
            matches!(want, ReplayError::ComparisonChanged { .. }),
            "{x:?}: {want}"
        );
        let (mut g, mut hv) = ([7.0; 2], [7.0; 2]);
        let got = c
            .hvp_into(&mut ws, &x, &[1.0, 1.0], &mut g, &mut hv)
            .unwrap_err();
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "{x:?}");
        assert_eq!(
            (g, hv),
            ([7.0; 2], [7.0; 2]),
            "{x:?}: an error writes nothing"
        );
    }
    assert_eq!(
        ws.jit_runs(),
        1,
        "a changed comparison is not a compiled run"
    );
    // kinks let through: compiled, the interpreter's result
    let (mut c, mut i) = both(&p);
    c.accept_kink_switches();
    i.accept_kink_switches();
    let mut ws = Workspace::default();
    let x = [3.0, -2.0];
    let got = c
        .hvp_into(&mut ws, &x, &[1.0, 1.0], &mut g, &mut hv)
        .unwrap();
    assert_eq!(ws.jit_runs(), 1);
    let (want, want_hv) = i.hvp(&x, &[1.0, 1.0]).unwrap();
    assert_eq!((got, hv.to_vec()), (want, want_hv));
}

#[test]
fn hvp_tiering_counts_hvps_apart_from_gradients() {
    let x: Vec<f64> = (0..10).map(|i| 0.1 * i as f64).collect();
    let v = vec![1.0; 10];
    let p = reverse::record(rosenbrock, &x);
    let mut ws = p.workspace();
    let mut g = vec![0.0; 10];
    for _ in 0..TIER {
        p.gradient_into(&mut ws, &x, &mut g).unwrap();
    }
    assert!(p.jit_compiled() && !p.jit_hvp_compiled());
    let mut hws = Workspace::default();
    let (mut hg, mut hv) = (vec![0.0; 10], vec![0.0; 10]);
    for k in 1..=TIER as u64 + 2 {
        p.hvp_into(&mut hws, &x, &v, &mut hg, &mut hv).unwrap();
        assert_eq!(p.jit_hvp_compiled(), k >= TIER as u64, "after {k} HVPs");
        assert_eq!(
            hws.jit_runs(),
            k.saturating_sub(TIER as u64 - 1),
            "after {k}"
        );
    }
    assert_eq!(hg, g);
    // a clone shares the code; Jit::Off on it interprets
    let mut q = p.clone();
    q.set_jit(Jit::Off);
    let mut wq = Workspace::default();
    q.hvp_into(&mut wq, &x, &v, &mut hg, &mut hv).unwrap();
    assert_eq!(wq.jit_runs(), 0);
    // a larger program waits longer (TIER · 2^1.5 HVPs for 2 blocks of
    // 512 instructions) and is compiled when asked (`chained`: straight
    // line, as its loops' sweeps cannot run two repetitions at a time)
    let n = 50;
    let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.01 * i as f64).collect();
    let v = vec![1.0; n];
    let mut mid = reverse::record(chained, &x);
    assert_eq!(tier(mid.instructions().len()), Some(11_585));
    let mut ws = Workspace::default();
    let (mut g, mut hv) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..2 * TIER {
        mid.hvp_into(&mut ws, &x, &v, &mut g, &mut hv).unwrap();
    }
    assert_eq!((mid.jit_hvp_compiled(), ws.jit_runs()), (false, 0));
    let want = hv.clone();
    mid.set_jit(Jit::Now);
    mid.hvp_into(&mut ws, &x, &v, &mut g, &mut hv).unwrap();
    assert_eq!((mid.jit_hvp_compiled(), ws.jit_runs()), (true, 1));
    assert!(hv.iter().zip(&want).all(|(a, b)| identical(*a, *b)));
    // above MAX_OPS: never by default, unless the program repeats a body
    // (then the compiled code's size counts, as for the gradient)
    let n = MAX_OPS / 4 + 2;
    let x: Vec<f64> = (0..n).map(|i| 0.01 * i as f64).collect();
    let big = reverse::record(varying, &x);
    assert_eq!(tier(big.instructions().len()), None);
    let (mut g, mut hv) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..TIER {
        big.hvp_into(&mut ws, &x, &x, &mut g, &mut hv).unwrap();
    }
    assert_eq!((big.jit_hvp_compiled(), ws.jit_runs()), (false, 1));
    let looped = reverse::record(rosenbrock, &x);
    assert_eq!(looped.instructions().len(), 4104);
    let mut ws = Workspace::default();
    for k in 1..=128 {
        looped.hvp_into(&mut ws, &x, &x, &mut g, &mut hv).unwrap();
        assert_eq!(looped.jit_hvp_compiled(), k == 128, "after {k} HVPs");
    }
    assert_eq!(ws.jit_runs(), 1);
    let (want_g, want_hv) = rosenbrock_gradient_hv(&x, &x);
    assert_all_rel("looped HVP's gradient", &g, &want_g, 1e-13, 1e4);
    assert_all_rel("looped HVP", &hv, &want_hv, 1e-13, 1e4);
}

/// The compiled HVP runs a program's repeated body as a loop too (as
/// `compiled_loops_are_bit_exact` for the gradient): the interpreter's
/// bits at ordinary and awkward points, and Rosenbrock's closed form.
#[test]
fn compiled_hvp_loops_are_bit_exact() {
    type F = fn(&[Var]) -> Var;
    type H = fn(&[Dual<Var>]) -> Dual<Var>;
    let fs: [(&str, F, H, f64); 13] = [
        ("layers", layers, layers, 0.3),
        ("passes", passes, passes, 0.3),
        (
            "passes_read_again",
            passes_read_again,
            passes_read_again,
            0.3,
        ),
        ("rosenbrock", rosenbrock, rosenbrock, 0.3),
        ("chained", chained, chained, 0.3),
        ("shared", shared, shared, 0.4),
        ("unrolled", unrolled, unrolled, 0.2),
        ("fit", fit, fit, 0.5),
        ("labelled", labelled, labelled, 0.5),
        ("overlapping", overlapping, overlapping, 0.5),
        (
            "overlapping_between",
            overlapping_between,
            overlapping_between,
            0.5,
        ),
        ("terms", terms, terms, 0.4),
        ("products", products, products, 0.4),
    ];
    for (name, f, h, scale) in fs {
        let sizes: &[usize] = if name == "fit" || name == "labelled" {
            &[200]
        } else if name.starts_with("passes") || name == "layers" {
            &[400]
        } else if name == "unrolled" || name == "shared" {
            &[101]
        } else if name == "products" {
            &[401, 2100]
        } else {
            &[400, 2102]
        };
        for &n in sizes {
            let x0: Vec<f64> = (0..n).map(|i| scale + 0.001 * i as f64).collect();
            let p = reverse::record(f, &x0);
            for k in 0..3 {
                let x: Vec<f64> = (0..n)
                    .map(|i| scale + 0.3 * (((i * 7 + k * 13) as f64) * 0.37).sin().abs())
                    .collect();
                let v: Vec<f64> = (0..n)
                    .map(|i| (((i * 5 + k) as f64) * 0.61).cos())
                    .collect();
                let case = format!("{name} n={n} k={k}");
                let (value, g, hv, compiled) = hvp_compiled_is_exact(&p, &x, &v, &case);
                assert!(compiled, "{case}: an ordinary point runs compiled");
                if name == "rosenbrock" {
                    let (want_g, want_hv) = rosenbrock_gradient_hv(&x, &v);
                    assert_all_rel(&format!("{case}: gradient"), &g, &want_g, 1e-13, 1e4);
                    assert_all_rel(&format!("{case}: Hv"), &hv, &want_hv, 1e-13, 1e4);
                } else {
                    let (fv, fhv) = reverse::hvp(h, &x, &v);
                    assert!(identical(value, fv), "{case}: value");
                    assert_all_close(&format!("{case}: Hv"), &hv, &fhv, 1e-12, 1e-12);
                }
            }
            let (mut compiled, mut all) = (0, 0);
            for k in 0..AWKWARD.len() {
                let mut x = x0.clone();
                for i in (k % 5..n).step_by(5) {
                    x[i] = AWKWARD[(i + k) % AWKWARD.len()];
                }
                let v: Vec<f64> = (0..n).map(|i| 1.0 - 0.01 * i as f64).collect();
                all += 1;
                let case = format!("{name} n={n} awkward {k}");
                compiled += usize::from(hvp_compiled_is_exact(&p, &x, &v, &case).3);
            }
            assert!(compiled < all, "{name} n={n}: a NaN somewhere replays");
            // signed zeros in the direction (tangents `-0` through the
            // loop's products and identities): the same bits, compiled
            for (k, v) in [vec![-0.0; n], vec![0.0; n]].into_iter().enumerate() {
                let x: Vec<f64> = (0..n).map(|i| scale + 0.001 * i as f64).collect();
                let case = format!("{name} n={n} zero direction {k}");
                let (.., compiled) = hvp_compiled_is_exact(&p, &x, &v, &case);
                assert!(compiled, "{case}: compiled");
            }
        }
    }
}

/// The notebook's network over 1,000 points in scalar loops: a program of
/// some 24,000 instructions, far above `MAX_OPS`, which `Jit::Auto`
/// compiles only because it loops over the points (their coordinates in
/// tables, the `z · 1` of a point labelled 1 removed); its compiled
/// gradients and HVPs are the interpreter's bits. Through nalgebra the
/// network is a sequence of passes over the points, each reading the ones
/// before at a stride: 17 loops, which compile too (under `Jit::Now`).
#[test]
fn the_benchmark_network_compiles_as_a_loop() {
    use crate::workloads::{Notebook, NotebookNalgebra, Workload};
    // (`auto`: whether `Jit::Auto` compiles it; else `Jit::Now` does)
    fn run<W: Workload>(w: &W, auto: bool) {
        let name = w.name();
        let x0 = w.x0().to_vec();
        let n = x0.len();
        let p = reverse::record(|v: &[Var]| w.eval(v), &x0);
        assert!(p.instructions().len() > 5 * MAX_OPS, "{name}");
        let mut ws = p.workspace();
        let mut g = vec![0.0; n];
        let mut calls = 0;
        while !p.jit_compiled() && calls < 1000 {
            p.gradient_into(&mut ws, &x0, &mut g).unwrap();
            calls += 1;
        }
        assert_eq!(
            p.jit_compiled(),
            auto,
            "{name}: compiled by 1,000 gradients"
        );
        let (mut c, mut i) = both(&p);
        c.set_jit(if auto { Jit::Auto } else { Jit::Now });
        i.set_jit(Jit::Off);
        let (mut wc, mut wi) = (c.workspace(), i.workspace());
        for k in 0..3 {
            let x: Vec<f64> = (0..n)
                .map(|j| x0[j] + 0.1 * ((j + 3 * k) as f64).sin())
                .collect();
            let (mut gc, mut gi) = (vec![0.0; n], vec![0.0; n]);
            let vc = c.gradient_into(&mut wc, &x, &mut gc).unwrap();
            let vi = i.gradient_into(&mut wi, &x, &mut gi).unwrap();
            let (fv, fg) = reverse::gradient(|v: &[Var]| w.eval(v), &x);
            assert!(
                identical(vc, vi) && identical(vc, fv),
                "{name} k={k}: value"
            );
            for j in 0..n {
                assert!(
                    identical(gc[j], gi[j]),
                    "{name} k={k}: ∂/∂x{j} vs interpreted"
                );
                assert!(identical(gc[j], fg[j]), "{name} k={k}: ∂/∂x{j} vs fresh");
            }
            let v: Vec<f64> = (0..n).map(|j| ((j * 5 + k) as f64 * 0.7).cos()).collect();
            let case = format!("{name} k={k}");
            let (.., compiled) = hvp_compiled_is_exact(&p, &x, &v, &case);
            assert!(compiled, "{case}: the HVP ran compiled");
        }
        assert_eq!(wc.jit_runs(), 3, "{name}: compiled");
    }
    run(&Notebook::new(1000), true);
    // (passes keeping most values in memory: no faster compiled, so
    // interpreted unless asked; see `looped_tier`)
    run(&NotebookNalgebra::new(1000), true);
}
