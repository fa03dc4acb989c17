//! Recorded programs (`reverse::record`): replays agree with fresh
//! recordings, every kind of changed comparison is reported, escaped values
//! are flagged, programs are shared between threads, bad input panics.
//! (Random programs: `random_programs.rs`; allocation: `allocations.rs`.)

use dualtape::reverse::program::{Op, Test};
use dualtape::reverse::{self, Program, ReplayError};
use dualtape::{Dual, Scalar, Var};
use nalgebra::DMatrix;

use crate::support::compare::identical;

fn rosenbrock<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for i in 0..x.len() / 2 {
        let (a, b) = (x[2 * i], x[2 * i + 1]);
        s += (S::constant(1.0) - a).powi(2) + (b - a * a).powi(2) * 100.0;
    }
    s
}

fn mixed<S: Scalar<Real = f64>>(x: &[S]) -> S {
    (x[0] * x[1]).sin() + x[2].exp() / (x[0] * x[0] + 1.0) + x[1].sigmoid() * x[2].ln_1p()
}

fn points(n: usize, k: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 7 + k * 13) as f64 * 0.37).sin() * 0.9)
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    crate::support::compare::close(a, b, 1e-11, 1e-13)
}

/// Replays `p`'s gradient at `x` on `ws` and asserts that it is a fresh
/// recording's (`reverse::gradient` of `f`), the value and every partial bit
/// for bit; `case` names the point in a failure's message. Returns the value.
fn assert_replay_is_fresh(
    p: &Program,
    ws: &mut reverse::Workspace,
    f: impl Fn(&[Var]) -> Var,
    x: &[f64],
    case: std::fmt::Arguments,
) -> f64 {
    let (fv, fg) = reverse::gradient(f, x);
    let mut g = vec![0.0; x.len()];
    let v = p.gradient_into(ws, x, &mut g).unwrap();
    assert!(identical(v, fv), "{case}: value: replay {v}, fresh {fv}");
    for (i, (a, b)) in g.iter().zip(&fg).enumerate() {
        assert!(identical(*a, *b), "{case}: ∂/∂x{i}: replay {a}, fresh {b}");
    }
    fv
}

#[test]
fn replay_equals_a_fresh_recording_bit_for_bit() {
    let p = reverse::record(rosenbrock, &points(10, 0));
    let q = reverse::record(mixed, &[0.3, 0.2, 0.1]);
    let mut ws = p.workspace();
    for k in 0..if cfg!(miri) { 3 } else { 20 } {
        let x = points(10, k);
        let mut g = vec![0.0; 10];
        let v = p.gradient_into(&mut ws, &x, &mut g).unwrap();
        let (fv, fg) = reverse::gradient(rosenbrock, &x);
        assert_eq!(v.to_bits(), fv.to_bits());
        assert!(g.iter().zip(&fg).all(|(a, b)| a.to_bits() == b.to_bits()));
        let x3 = [x[0], x[1], x[2].abs()];
        assert_eq!(q.gradient(&x3).unwrap(), reverse::gradient(mixed, &x3));
        assert_eq!(q.value(&x3).unwrap(), mixed(&x3));
    }
}

#[test]
fn vjp_and_jacobian_equal_reverse_modes() {
    let f = |x: &[Var]| vec![x[0] * x[1], x[1].exp() - x[0], x[0].atan2(x[1])];
    let p = reverse::record_vector(f, &[1.0, 2.0]);
    assert_eq!((p.inputs(), p.outputs()), (2, 3));
    for x in [[1.0, 2.0], [-0.5, 0.25]] {
        assert_eq!(p.jacobian(&x).unwrap(), reverse::jacobian(f, &x));
        let w = [1.0, -2.0, 0.5];
        assert_eq!(p.vjp(&x, &w).unwrap(), reverse::vjp(f, &x, &w));
        assert_eq!(p.values(&x).unwrap(), reverse::jacobian(f, &x).0);
    }
}

#[test]
fn hvp_and_hessian_by_replay_equal_forward_over_reverse() {
    let x = [0.3, -0.2, 0.5];
    let p = reverse::record(mixed, &x);
    let p10 = reverse::record(rosenbrock, &points(10, 1));
    for k in 0..5 {
        let y: Vec<f64> = points(3, k).iter().map(|v| v.abs()).collect();
        let v = [1.0, -0.5, 2.0];
        let (hv0, hv) = p.hvp(&y, &v).unwrap();
        let (w0, want) = reverse::hvp(mixed, &y, &v);
        assert_eq!(hv0, w0);
        assert!(
            hv.iter().zip(&want).all(|(a, b)| close(*a, *b)),
            "{hv:?} vs {want:?}"
        );
        let (h0, hg, h) = p.hessian(&y).unwrap();
        let (r0, rg, rh) = reverse::hessian(mixed, &y);
        assert_eq!(h0, r0);
        assert!(hg.iter().zip(&rg).all(|(a, b)| close(*a, *b)));
        assert!(
            h.iter().zip(rh.iter()).all(|(a, b)| close(*a, *b)),
            "{h} vs {rh}"
        );
        let y10 = points(10, k);
        let (_, _, h) = p10.hessian(&y10).unwrap();
        let (_, _, rh) = reverse::hessian(rosenbrock, &y10);
        assert!(
            h.iter().zip(rh.iter()).all(|(a, b)| close(*a, *b)),
            "{h} vs {rh}"
        );
    }
}

fn changed(r: Result<(f64, Vec<f64>), ReplayError>) -> (usize, Test) {
    match r {
        Err(ReplayError::ComparisonChanged { index, test, .. }) => (index, test),
        other => panic!("expected a changed comparison, got {other:?}"),
    }
}

#[test]
fn a_changed_user_comparison_is_reported() {
    let f = |x: &[Var]| {
        let y = x[0] * 2.0;
        if y > x[1] {
            y * y
        } else {
            y - x[1]
        }
    };
    let p = reverse::record(f, &[1.0, 1.0]);
    assert_eq!(p.guards().len(), 1);
    assert_eq!(
        p.gradient(&[2.0, 1.0]).unwrap(),
        reverse::gradient(f, &[2.0, 1.0])
    );
    let r = p.gradient(&[0.25, 1.0]);
    let msg = r.clone().unwrap_err().to_string();
    assert!(msg.contains("record it again"), "{msg}");
    assert_eq!(changed(r), (0, Test::Gt));
}

#[test]
fn max_at_the_other_side_of_a_tie_is_reported() {
    let f = |x: &[Var]| x[0].max(x[1]) * 3.0;
    let tie = reverse::record(f, &[1.0, 1.0]);
    assert_eq!(changed(tie.gradient(&[2.0, 1.0])), (0, Test::Kink(Op::Max)));
    assert_eq!(tie.gradient(&[2.0, 2.0]).unwrap(), (6.0, vec![1.5, 1.5]));
    let mut p = reverse::record(f, &[2.0, 1.0]);
    assert_eq!(changed(p.gradient(&[1.0, 2.0])), (0, Test::Kink(Op::Max)));
    // opting in: the kink's rule is re-evaluated, as a fresh recording would
    p.accept_kink_switches();
    assert_eq!(
        p.gradient(&[1.0, 2.0]).unwrap(),
        reverse::gradient(f, &[1.0, 2.0])
    );
    assert_eq!(p.gradient(&[1.0, 1.0]).unwrap(), (3.0, vec![1.5, 1.5]));
    // clamp is a NaN test, then min, then max: all recorded
    let c = reverse::record(|x| x[0].clamp(Var::from(0.0), Var::from(1.0)), &[0.5]);
    assert_eq!(c.guards().len(), 3);
    assert!(c.gradient(&[1.5]).is_err());
    assert!(c.gradient(&[-0.5]).is_err());
    assert_eq!(c.gradient(&[0.75]).unwrap(), (0.75, vec![1.0]));
}

#[test]
fn abs_crossing_zero_is_reported() {
    let f = |x: &[Var]| x[0].abs() * x[1];
    let p = reverse::record(f, &[1.0, 3.0]);
    assert_eq!(p.gradient(&[2.0, 3.0]).unwrap(), (6.0, vec![3.0, 2.0]));
    assert_eq!(changed(p.gradient(&[-2.0, 3.0])), (0, Test::Kink(Op::Abs)));
    assert_eq!(changed(p.gradient(&[0.0, 3.0])), (0, Test::Kink(Op::Abs)));
    // signum and copysign too
    let s = reverse::record(|x| x[0].signum() * x[1] + x[1].copysign(x[0]), &[1.0, 2.0]);
    assert!(s.gradient(&[3.0, 2.0]).is_ok());
    assert!(s.gradient(&[-3.0, 2.0]).is_err());
}

#[test]
fn an_lu_pivot_order_changing_is_reported() {
    // det [[a, b], [c, d]] by nalgebra's LU with partial pivoting: which row
    // is the pivot depends on |a| against |c|
    let det = |x: &[Var]| DMatrix::from_row_slice(2, 2, x).lu().determinant();
    let p = reverse::record(det, &[3.0, 1.0, 1.0, 2.0]);
    assert!(!p.guards().is_empty());
    let x = [4.0, 1.0, 2.0, 2.0]; // same pivot
    let (v, g) = p.gradient(&x).unwrap();
    assert!(close(v, 6.0));
    assert_eq!((v, g.clone()), reverse::gradient(det, &x));
    assert!(
        g.iter()
            .zip([2.0, -2.0, -1.0, 4.0])
            .all(|(a, b)| close(*a, b)),
        "{g:?}"
    );
    let mut q = p.clone();
    q.accept_kink_switches(); // nalgebra's comparisons are still checked
    let swapped = [1.0, 1.0, 3.0, 2.0];
    assert!(matches!(
        q.gradient(&swapped),
        Err(ReplayError::ComparisonChanged { .. })
    ));
}

#[test]
fn an_escaped_value_is_flagged() {
    let p = reverse::record(|x| x[0] * x[1].value(), &[2.0, 3.0]);
    assert_eq!(p.escaped_values(), 1);
    let e = p.gradient(&[2.0, 3.0]).unwrap_err();
    assert_eq!(e, ReplayError::ValueEscaped { reads: 1 });
    assert!(e.to_string().contains("accept_value_escape"), "{e}");
    fn generic<S: Scalar<Real = f64> + num_traits::ToPrimitive>(x: &[S]) -> S {
        x[0] * x[1].value() + x[0] * num_traits::ToPrimitive::to_f64(&x[1]).unwrap()
    }
    let mut g = reverse::record(generic, &[2.0, 3.0]);
    assert_eq!(g.escaped_values(), 2);
    // the value was only a constant at the recording point: accepted, the
    // replay treats it as that constant
    g.accept_value_escape();
    assert_eq!(g.gradient(&[1.0, 5.0]).unwrap(), (6.0, vec![6.0, 0.0]));
    // reading a constant's value is fine
    let c = reverse::record(|x| x[0] * Var::from(2.0).value(), &[1.0]);
    assert_eq!(c.gradient(&[3.0]).unwrap(), (6.0, vec![2.0]));
}

#[test]
fn predicates_on_active_values_are_recorded() {
    let f = |x: &[Var]| {
        if x[0].is_finite() && nalgebra::RealField::is_sign_positive(&x[0]) {
            x[0].sqrt()
        } else {
            x[0] * 0.0
        }
    };
    let p = reverse::record(f, &[4.0]);
    assert_eq!(p.escaped_values(), 0);
    assert_eq!(p.gradient(&[9.0]).unwrap(), (3.0, vec![1.0 / 6.0]));
    assert!(p.gradient(&[-1.0]).is_err());
    assert!(p.gradient(&[f64::INFINITY]).is_err());
}

#[test]
fn one_program_on_four_threads_gives_what_one_thread_gives() {
    let p = reverse::record(rosenbrock, &points(100, 0));
    let alone: Vec<(f64, Vec<f64>)> = (0..40)
        .map(|k| p.gradient(&points(100, k)).unwrap())
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (p, alone) = (&p, &alone);
                s.spawn(move || {
                    let mut ws = p.workspace();
                    let mut g = vec![0.0; 100];
                    for r in 0..40 {
                        let k = (r * 7 + t * 3) % 40;
                        let v = p.gradient_into(&mut ws, &points(100, k), &mut g).unwrap();
                        assert_eq!((v, g.clone()), alone[k]);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn programs_are_plain_data() {
    fn plain<T: Clone + Send + Sync + 'static>() {}
    plain::<Program>();
    plain::<reverse::Workspace>();
}

#[test]
#[should_panic(expected = "x has 3 entries but the program has 2 inputs")]
fn a_wrong_input_length_panics() {
    let p = reverse::record(|x| x[0] * x[1], &[1.0, 2.0]);
    let _ = p.gradient(&[1.0, 2.0, 3.0]);
}

#[test]
#[should_panic(expected = "the program has 2 outputs, not 1")]
fn a_scalar_method_on_several_outputs_panics() {
    let p = reverse::record_vector(|x| vec![x[0], x[0] * 2.0], &[1.0]);
    let _ = p.gradient(&[1.0]);
}

#[test]
fn dead_code_and_identities_are_removed_and_reported() {
    let p = reverse::record(
        |x| {
            let _unused = x[0].sin() * x[1].exp();
            (x[0] * 1.0 - 0.0) * x[1] / 1.0
        },
        &[2.0, 3.0],
    );
    let s = p.stats();
    assert_eq!(s.recorded.ops, 7);
    assert_eq!(s.optimized.ops, 1);
    assert!(s.optimized.bytes < s.recorded.bytes);
    assert_eq!(p.instructions()[0].op, Op::Mul);
    assert_eq!(p.gradient(&[5.0, 7.0]).unwrap(), (35.0, vec![7.0, 5.0]));
}

#[test]
fn only_sums_that_keep_a_zeros_sign_are_removed() {
    // at x = -0: -0 + 0 = +0 and -0 - (-0) = +0 (not identities: kept),
    // (-0 - 0) + (-0) = -0 (both identities: removed); 1 / · tells the
    // zeros apart
    let p = reverse::record_vector(
        |x| {
            let a = x[0] + 0.0;
            let b = x[0] - (-0.0);
            let c = (x[0] - 0.0) + (-0.0);
            vec![1.0 / a, 1.0 / b, 1.0 / c]
        },
        &[1.0],
    );
    let s = p.stats();
    assert_eq!(s.recorded.ops - s.optimized.ops, 2, "{s:?}");
    let y = p.values(&[-0.0]).unwrap();
    assert_eq!(y, vec![f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY]);
    let (fy, _) = reverse::jacobian(
        |x: &[Var]| {
            let (a, b, c) = (x[0] + 0.0, x[0] - (-0.0), (x[0] - 0.0) + (-0.0));
            vec![1.0 / a, 1.0 / b, 1.0 / c]
        },
        &[-0.0],
    );
    assert_eq!(y, fy);
}

#[test]
fn constant_and_input_outputs() {
    let p = reverse::record_vector(|x| vec![Var::from(4.0), x[1], x[0] * x[0]], &[3.0, 1.0]);
    let (y, j) = p.jacobian(&[2.0, 5.0]).unwrap();
    assert_eq!(y, vec![4.0, 5.0, 4.0]);
    assert_eq!(j.as_slice(), &[0.0, 0.0, 4.0, 0.0, 1.0, 0.0]);
}

#[test]
fn zero_partials_and_infinite_slopes_follow_rule_3() {
    // sqrt at 0 has an infinite slope, multiplied by a zero adjoint
    let f = |x: &[Var]| x[0].sqrt() * 0.0 + x[1];
    let p = reverse::record(f, &[1.0, 1.0]);
    assert_eq!(
        p.gradient(&[0.0, 2.0]).unwrap(),
        reverse::gradient(f, &[0.0, 2.0])
    );
    assert_eq!(p.gradient(&[0.0, 2.0]).unwrap(), (2.0, vec![0.0, 1.0]));
}

#[cfg(feature = "serde")]
#[test]
fn a_program_round_trips_through_serde() {
    let p = reverse::record(mixed, &[0.3, 0.2, 0.1]);
    let json = serde_json::to_string(&p).unwrap();
    let q: Program = serde_json::from_str(&json).unwrap();
    assert_eq!(q.stats(), p.stats());
    for k in 0..5 {
        let x: Vec<f64> = points(3, k).iter().map(|v| v.abs()).collect();
        assert_eq!(q.gradient(&x).unwrap(), p.gradient(&x).unwrap());
    }
    // a malformed program is rejected: an operand after its instruction
    let bad = json.replacen("{\"Slot\":0}", "{\"Slot\":99}", 1);
    assert!(serde_json::from_str::<Program>(&bad).is_err());
}

/// Every operand shape the replay batches (one slot, one slot twice, a slot
/// and a constant either way, two slots, `mul_add`), repeated so that each
/// batch holds many instructions, with a parameter `x[0]` that every
/// repetition uses, kinks (`max`, `abs`) and infinite slopes (`sqrt`,
/// `recip`).
fn shapes<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let p = x[0];
    let mut s = S::constant(0.0);
    for (i, &a) in x.iter().enumerate().skip(1) {
        let sq = a * a;
        let t = S::constant(2.0) - sq;
        let u = (t * 0.5).sqrt();
        let v = a.max(p) * u;
        let w = a.mul_add(p, v);
        s += w / (a.abs() + 1.0) + p.recip() * (i as f64) + (S::constant(3.0) / a).sin();
    }
    s
}

/// Points where a replay's bits are most likely to differ from a fresh
/// recording's: signed zeros, infinities, NaN, huge, tiny and
/// irrational values (shared by the batching and the fusing tests).
pub(super) const AWKWARD: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    std::f64::consts::SQRT_2,
    -std::f64::consts::SQRT_2,
    1e300,
    -1e300,
    1e-300,
    1e-170,
    3.0,
];

#[test]
fn batched_replay_is_bit_exact_at_awkward_points() {
    // batches of 8 still take the strided (affine) path under Miri (where
    // the replay computes the slots of batches from 4 instructions on)
    let m = if cfg!(miri) { 8 } else { 48 };
    let x0: Vec<f64> = (0..=m).map(|i| 0.7 + 0.01 * i as f64).collect();
    let mut p = reverse::record(shapes, &x0);
    p.accept_kink_switches();
    let mut ws = p.workspace();
    for (k, &param) in [0.5, 0.0, -0.0, 1.0, f64::INFINITY, f64::NAN]
        .iter()
        .enumerate()
    {
        let mut x = vec![param];
        // a tie with the parameter in `max` every few repetitions
        x.extend((0..m).map(|i| {
            if i % 5 == 4 {
                param
            } else {
                AWKWARD[(i + k) % AWKWARD.len()]
            }
        }));
        assert_replay_is_fresh(&p, &mut ws, shapes, &x, format_args!("at {x:?}"));
        assert!(identical(p.value(&x).unwrap(), shapes(&x)));
    }
}

/// Every pair of operations the replay fuses into one instruction (a
/// single-use `*`, `-` or `+` and its user: `b - a²`, `(1 - a)²`, `a²·c`,
/// `a·b + x`, `x + a·c`, `x - a·c`, `(a + b) + x`, ...), repeated.
fn pairs<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let p = x[0];
    let m = x.len() - 1;
    let mut s = S::constant(0.0);
    for i in 1..x.len() {
        let (a, b) = (x[i], x[1 + i % m]);
        let t = b - a * a;
        let u = S::constant(1.0) - a;
        let w = t * t * 100.0 + u * u;
        let z = a * p + b;
        let y = p + a * 3.0;
        let q = b * 0.5 + y;
        let r = z - y * 2.0;
        let h = (a + b) + p;
        let v = p + (a + b);
        s += w + z * q + r * h + v;
    }
    s
}

#[test]
fn fused_pairs_are_bit_exact_at_awkward_points() {
    let m = if cfg!(miri) { 8 } else { 40 };
    let x0: Vec<f64> = (0..=m).map(|i| 0.3 + 0.05 * i as f64).collect();
    let p = reverse::record(pairs, &x0);
    let stats = p.stats();
    assert!(stats.fused >= 9 * m, "expected the pairs fused: {stats:?}");
    let unfused = unfused(&p);
    let mut ws = p.workspace();
    for (k, &param) in [0.5, 0.0, -0.0, 1e-200, f64::INFINITY, f64::NAN, -3.0]
        .iter()
        .enumerate()
    {
        let mut x = vec![param];
        x.extend((0..m).map(|i| AWKWARD[(i * 5 + k) % AWKWARD.len()]));
        assert_replay_is_fresh(&p, &mut ws, pairs, &x, format_args!("at {x:?}"));
        hvp_equals_unfused(&p, &unfused, &x);
    }
}

/// `p` with every value an output: the same operations, none fused.
fn unfused(p: &Program) -> Program {
    use dualtape::reverse::program::Arg;
    let n = p.inputs();
    let every = (n..n + p.instructions().len()).map(|s| Arg::Slot(s as u32));
    let outputs = p.output_args().iter().copied().chain(every).collect();
    let u =
        Program::from_parts(n, p.instructions().to_vec(), outputs, p.guards().to_vec()).unwrap();
    assert_eq!(u.stats().fused, 0);
    u
}

/// On dual numbers (a Hessian-vector product), `p` (fused) and `unfused`
/// (`unfused(p)`) agree bit for bit at `x`.
fn hvp_equals_unfused(p: &Program, unfused: &Program, x: &[f64]) {
    let dir: Vec<f64> = (0..x.len()).map(|i| 1.0 - 0.25 * i as f64).collect();
    let (mut hg, mut hv) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    p.hvp_into(&mut Default::default(), x, &dir, &mut hg, &mut hv)
        .unwrap();
    let xs: Vec<Dual<f64>> = x.iter().zip(&dir).map(|(&a, &d)| Dual::new(a, d)).collect();
    let zero = Dual::new(0.0, 0.0);
    let mut y = vec![zero; unfused.outputs()];
    let mut dws = Default::default();
    unfused.evaluate(&mut dws, &xs, &mut y).unwrap();
    let mut w = vec![zero; unfused.outputs()];
    w[0] = Dual::new(1.0, 0.0);
    let mut xbar = vec![zero; x.len()];
    unfused.pullback(&mut dws, &w, &mut xbar);
    for (i, (a, b)) in hv.iter().zip(&xbar).enumerate() {
        assert!(
            identical(*a, b.eps),
            "(Hv)_{i} at {x:?}: fused {a}, unfused {}",
            b.eps
        );
        assert!(identical(hg[i], b.re), "∂/∂x{i} on duals at {x:?}");
    }
}

/// Running sums of fused terms, both sides (`s + a·b`, `a·c + s`, `s -
/// a·c`, `s + (a + b)`): chains of every length from 1, and (at `n` past
/// two batches) chains whose first sum comes from an earlier batch.
fn chained<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let n = x.len();
    let mut s = x[0];
    for i in 1..n {
        let (a, b) = (x[i], x[(i * 5 + 1) % n]);
        s = match i % 4 {
            0 => s + a * b,
            1 => a * 3.0 + s,
            2 => s - a * 0.5,
            _ => s + (a + b),
        };
    }
    let mut t = S::constant(0.0);
    for i in 0..n / 2 {
        let (a, b) = (x[2 * i], x[2 * i + 1]);
        t += (b - a * a) * (b - a * a) * 100.0 + (S::constant(1.0) - a) * (S::constant(1.0) - a);
    }
    s * 0.25 + t
}

#[test]
fn chained_sums_are_bit_exact_at_awkward_points() {
    let sizes: &[usize] = if cfg!(miri) {
        &[1, 2, 3, 4, 5, 9]
    } else {
        &[1, 2, 3, 4, 5, 6, 7, 9, 17, 66, 601, 1203]
    };
    for &n in sizes {
        let x0: Vec<f64> = (0..n).map(|i| 0.4 + 0.01 * i as f64).collect();
        let p = reverse::record(chained, &x0);
        let unfused = unfused(&p);
        let mut ws = p.workspace();
        for k in 0..5 {
            // mostly ordinary values, every few an awkward one
            let x: Vec<f64> = (0..n)
                .map(|i| {
                    if (i + k) % 3 == 0 {
                        AWKWARD[(i * 7 + k) % AWKWARD.len()]
                    } else {
                        x0[i] - 0.1 * k as f64
                    }
                })
                .collect();
            assert_replay_is_fresh(&p, &mut ws, chained, &x, format_args!("n={n} at {x:?}"));
            hvp_equals_unfused(&p, &unfused, &x);
        }
    }
}

/// Many contributions into one shared slot from runs of unfused
/// instructions (the sweep's *sinks*: one weight `w = x[0]`, one bias `b =
/// x[1]`, used by every data point `x[2..]`): `x·w` and `w·x` (each product
/// read twice, so it is not fused), `z + b`, `w · c` and `c - b` with
/// constants `c`, then `-w`; in data order (operand slots in progression) and
/// permuted (not); and fused `(p + q) + β` whose bias `β` is one of three
/// slots in turn.
fn shared<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let (w, b, d) = (x[0], x[1], &x[2..]);
    let m = d.len();
    let mut s = S::constant(0.0);
    for &xi in d {
        // (at b = ±0 and xi = 0, the sqrt's partial is ∞ and w's is 0)
        let z = xi * w;
        let y = z + b;
        s += y.sqrt() + y.sin() * z;
    }
    let mut t = S::constant(0.0);
    for i in 0..m {
        let xi = d[(i * 7 + 3) % m];
        let z = w * xi;
        t += (b + z).cos() * z;
    }
    let mut u = S::constant(0.0);
    for i in 0..m {
        let c = 0.5 + i as f64;
        u += (w * c).tanh() * (S::constant(c) - b).sin();
    }
    let mut v = S::constant(0.0);
    for i in 0..m {
        v += (-w).exp() * (1.0 + i as f64);
    }
    // fused `(c·x + c'·w) + β` with β one of three slots in turn (nalgebra's
    // dense layer: a bias per unit)
    let mut r = S::constant(0.0);
    let biases = [b, d[0], d[m - 1]];
    for (i, &xi) in d.iter().skip(1).take(m.saturating_sub(2)).enumerate() {
        for (j, &beta) in biases.iter().enumerate() {
            let c = 0.25 + (i + j) as f64;
            r += ((S::constant(c) * xi + S::constant(-c) * w) + beta).tanh() * 0.5;
        }
    }
    s + t * 0.5 + u * 0.25 + v + r
}

#[test]
fn shared_slots_are_bit_exact_at_awkward_points() {
    let sizes: &[usize] = if cfg!(miri) {
        &[1, 2, 3, 7]
    } else {
        &[1, 2, 3, 4, 7, 66, 300, 601, 1203]
    };
    for &m in sizes {
        let n = m + 2;
        let x0: Vec<f64> = (0..n).map(|i| 0.3 + 0.01 * i as f64).collect();
        let p = reverse::record(shared, &x0);
        let unfused = unfused(&p);
        let mut ws = p.workspace();
        let awkward = 2 * AWKWARD.len();
        for k in 0..awkward + 2 {
            // the weight and bias ordinary or awkward, mostly ordinary data
            // with every few an awkward value; last, b = ±0 with ordinary
            // data but one 0, where an infinite adjoint (the sqrt's) meets a
            // zero partial (w's, 0) that rule 3 must skip
            let x: Vec<f64> = (0..n)
                .map(|i| match i {
                    1 if k >= awkward => [0.0, -0.0][k - awkward],
                    _ if k >= awkward => [x0[i], 0.0][usize::from(i == 2 + m / 2)],
                    0 | 1 if k % 2 == 1 => AWKWARD[(k / 2 + 5 * i) % AWKWARD.len()],
                    _ if i >= 2 && (i + k) % 3 == 0 => AWKWARD[(i * 7 + k) % AWKWARD.len()],
                    _ => x0[i] - 0.05 * k as f64,
                })
                .collect();
            assert_replay_is_fresh(
                &p,
                &mut ws,
                shared,
                &x,
                format_args!("m={m}, k={k} (w = {}, b = {}) at {x:?}", x[0], x[1]),
            );
            hvp_equals_unfused(&p, &unfused, &x);
        }
    }
}

#[test]
fn adjoint_sums_keep_the_recording_order() {
    // x[0]'s adjoint gets ±1e16 and O(1) contributions from two kinds of
    // operation, alternating: any other order of the additions rounds
    // differently, so batching all of one kind first would show.
    fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
        let mut s = S::constant(0.0);
        for (i, &a) in x.iter().enumerate().skip(1) {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            s += x[0] * (sign * 1e16) + x[0] * a;
        }
        s
    }
    let x: Vec<f64> = (0..40).map(|i| 1.0 + 0.37 * i as f64).collect();
    let p = reverse::record(f, &x);
    for k in 0..4 {
        let y: Vec<f64> = x.iter().map(|v| v * (1.0 + 0.1 * k as f64)).collect();
        let (v, g) = p.gradient(&y).unwrap();
        let (fv, fg) = reverse::gradient(f, &y);
        assert_eq!(v.to_bits(), fv.to_bits());
        assert!(
            g.iter().zip(&fg).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{g:?} vs {fg:?}"
        );
    }
}

#[test]
fn an_operation_on_constants_only_is_replayed() {
    use dualtape::reverse::program::{Arg, Instr};
    // x0 * (2 + 3) with the sum kept as an instruction of two constants
    let instrs = vec![
        Instr {
            op: Op::Add,
            a: Arg::Const(2.0),
            b: Arg::Const(3.0),
        },
        Instr {
            op: Op::Mul,
            a: Arg::Slot(0),
            b: Arg::Slot(1),
        },
        Instr {
            op: Op::Sin,
            a: Arg::Const(0.0),
            b: Arg::Const(0.0),
        },
        Instr {
            op: Op::Add,
            a: Arg::Slot(2),
            b: Arg::Slot(3),
        },
    ];
    let p = Program::from_parts(1, instrs, vec![Arg::Slot(4)], vec![]).unwrap();
    assert_eq!(p.gradient(&[1.5]).unwrap(), (7.5, vec![5.0]));
}

/// Stages of values, each computed from earlier stages read in another
/// order (reversed, shifted, strided), through operations with stored
/// partials (`sin`, `exp`, `tanh`), re-derived partials whose sweep reads
/// the operand values (`*`) and re-derived partials whose sweep reads none
/// (`+`, `-`): the replay gives a later batch the slots of an earlier one
/// whose values are all read, so a stage's values are overwritten while
/// later stages run (and a misplaced reuse shows as a wrong value or
/// adjoint).
fn stages<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let m = x.len();
    let u: Vec<S> = x.iter().map(|a| a.sin()).collect();
    let v: Vec<S> = (0..m).map(|i| u[m - 1 - i].exp()).collect();
    let w: Vec<S> = (0..m).map(|i| v[(i + 7) % m] - u[(i + 1) % m]).collect();
    let y: Vec<S> = (0..m).map(|i| (w[m - 1 - i] * 0.5).tanh()).collect();
    let z: Vec<S> = (0..m).map(|i| y[(i * 37) % m] + w[i]).collect();
    let mut s = S::constant(0.0);
    for i in 0..m {
        s += z[m - 1 - i] * y[i] + (z[(i + 3) % m] * x[i]).cos();
    }
    s
}

#[test]
fn reused_slots_are_bit_exact() {
    let sizes: &[usize] = if cfg!(miri) {
        &[5, 9]
    } else {
        &[1, 5, 40, 300, 700]
    };
    for &m in sizes {
        let x0: Vec<f64> = (0..m).map(|i| 0.2 + 0.013 * i as f64).collect();
        let p = reverse::record(stages, &x0);
        // reuse happened: fewer slots than inputs, constants and
        // instructions
        let stats = p.stats();
        let ops = stats.optimized.ops - stats.fused;
        let slots = m + stats.optimized.constants + ops;
        if m >= 5 {
            assert!(
                stats.workspace_bytes < (2 * slots + 2 * ops) * 8,
                "m={m}: no slot reused: {stats:?}"
            );
        }
        let unfused = unfused(&p);
        let mut ws = p.workspace();
        for k in 0..4 {
            let x: Vec<f64> = (0..m)
                .map(|i| {
                    if (i + k) % 4 == 0 {
                        AWKWARD[(i * 3 + k) % AWKWARD.len()]
                    } else {
                        x0[i] * (1.0 - 0.2 * k as f64)
                    }
                })
                .collect();
            let fv =
                assert_replay_is_fresh(&p, &mut ws, stages, &x, format_args!("m={m} at {x:?}"));
            assert!(identical(p.value(&x).unwrap(), fv));
            hvp_equals_unfused(&p, &unfused, &x);
        }
    }
}

/// Many inputs (past the size where the sweep copies inputs' adjoints out
/// run by run, as each becomes final), each read first by instructions of
/// different runs: `sin` of each in order, a product with an input far
/// away, Rosenbrock's terms on neighbours.
fn spread<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let n = x.len();
    let mut s = S::constant(0.0);
    for i in 0..n {
        let j = (i * 7919 + 11) % n;
        s += x[i].sin() * x[j];
        if i % 3 == 0 && i + 1 < n {
            let (a, b) = (x[i], x[i + 1]);
            s +=
                (b - a * a) * (b - a * a) * 100.0 + (S::constant(1.0) - a) * (S::constant(1.0) - a);
        }
    }
    s
}

#[test]
fn many_inputs_adjoints_are_bit_exact() {
    let n = 20_000;
    let x0: Vec<f64> = (0..n).map(|i| 0.1 + 0.0001 * i as f64).collect();
    let p = reverse::record(spread, &x0);
    let mut ws = p.workspace();
    for k in 0..2 {
        let x: Vec<f64> = (0..n)
            .map(|i| {
                if (i + k) % 97 == 0 {
                    AWKWARD[(i + k) % AWKWARD.len()]
                } else {
                    x0[i] * (1.0 + 0.3 * k as f64)
                }
            })
            .collect();
        assert_replay_is_fresh(&p, &mut ws, spread, &x, format_args!("k={k}"));
    }
}

/// Many inputs (past the size where the forward pass copies inputs in batch
/// by batch, just before the first batch that reads them): the upper half
/// read first, then the lower half's Rosenbrock terms, some inputs read by
/// no instruction (`x[0]`, `x[4]`, every fifth of the upper half...), and
/// `x[1]` read only by the last instruction.
fn late<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let n = x.len();
    let mut s = S::constant(0.0);
    for i in (n / 2..n).filter(|i| i % 5 != 4) {
        s += x[i].sin() * x[n - 1 - i + n / 2];
    }
    for i in (2..n / 2 - 1).step_by(2).filter(|i| i % 5 < 3) {
        let (a, b) = (x[i], x[i + 1]);
        s += (b - a * a) * (b - a * a) * 100.0 + (S::constant(1.0) - a) * (S::constant(1.0) - a);
    }
    s * x[1]
}

#[test]
fn many_inputs_are_copied_in_where_first_read() {
    // (under Miri, past its smaller threshold)
    let n = if cfg!(miri) { 150 } else { 20_000 };
    let unread = 4; // read by no instruction
    let x0: Vec<f64> = (0..n).map(|i| 0.2 + 0.0001 * i as f64).collect();
    let p = reverse::record(late, &x0);
    let both = |x: &[Var]| vec![late(x), x[unread]];
    let q = reverse::record_vector(both, &x0);
    let mut ws = p.workspace();
    for k in 0..2 {
        let x: Vec<f64> = (0..n)
            .map(|i| {
                if (i + k) % 89 == 0 {
                    AWKWARD[(i + k) % AWKWARD.len()]
                } else {
                    x0[i] * (0.7 + 0.5 * k as f64)
                }
            })
            .collect();
        let fv = assert_replay_is_fresh(&p, &mut ws, late, &x, format_args!("k={k}"));
        assert!(identical(p.value(&x).unwrap(), fv));
        // on `Dual<f64>`: the inputs' tangents are copied in with them
        let dir: Vec<f64> = (0..n).map(|i| 1.0 - 0.001 * i as f64).collect();
        let (hv0, hv) = p.hvp(&x, &dir).unwrap();
        let (rv0, rhv) = reverse::hvp(late, &x, &dir);
        assert!(identical(hv0, rv0));
        for (i, (a, b)) in hv.iter().zip(&rhv).enumerate() {
            assert!(close(*a, *b), "(Hv)_{i}: replay {a}, fresh {b}");
        }
        // an input no instruction reads, as an output
        let (y, jac) = q.jacobian(&x).unwrap();
        assert!(identical(y[0], fv) && identical(y[1], x[unread]));
        let (ry, rjac) = reverse::jacobian(both, &x);
        assert!(y.iter().zip(&ry).all(|(a, b)| identical(*a, *b)));
        for (i, (a, b)) in jac.iter().zip(rjac.iter()).enumerate() {
            assert!(identical(*a, *b), "J entry {i}: replay {a}, fresh {b}");
        }
    }
}

/// One workspace shared, in turn, by two programs with different constants
/// in the same slots, and by a clone: every replay reads its own program's
/// constants (the forward pass writes them only when the workspace was used
/// by another program last), on `f64` and on `Dual<f64>`. Closed forms:
/// `(c₀·x + c₁)·x` has the gradient `2c₀·x + c₁` and the Hessian `2c₀`.
#[test]
fn a_workspace_shared_by_programs_reads_each_ones_constants() {
    use dualtape::reverse::program::{Arg, Instr};
    let program = |c0: f64, c1: f64| {
        let instrs = vec![
            Instr {
                op: Op::Mul,
                a: Arg::Slot(0),
                b: Arg::Const(c0),
            },
            Instr {
                op: Op::Add,
                a: Arg::Slot(1),
                b: Arg::Const(c1),
            },
            Instr {
                op: Op::Mul,
                a: Arg::Slot(2),
                b: Arg::Slot(0),
            },
        ];
        Program::from_parts(1, instrs, vec![Arg::Slot(3)], vec![]).unwrap()
    };
    let (a, b) = (program(2.0, 3.0), program(5.0, 7.0));
    let a2 = a.clone();
    let x = [1.5];
    let mut ws = a.workspace();
    let mut dws = reverse::Workspace::default();
    let (mut g, mut hg, mut hv) = ([0.0], [0.0], [0.0]);
    for (p, c0, c1) in [
        (&a, 2.0, 3.0),
        (&b, 5.0, 7.0),
        (&a, 2.0, 3.0),
        (&a2, 2.0, 3.0),
        (&b, 5.0, 7.0),
    ] {
        let v = p.gradient_into(&mut ws, &x, &mut g).unwrap();
        assert_eq!((v, g[0]), ((c0 * 1.5 + c1) * 1.5, 2.0 * c0 * 1.5 + c1));
        let v = p.hvp_into(&mut dws, &x, &[1.0], &mut hg, &mut hv).unwrap();
        assert_eq!(
            (v, hg[0], hv[0]),
            ((c0 * 1.5 + c1) * 1.5, 2.0 * c0 * 1.5 + c1, 2.0 * c0)
        );
    }
}

/// Many inputs (past the size where the replay leaves the inputs outside
/// the workspace: the instructions read them from the caller's `x`, and
/// their adjoints add straight into the caller's gradient, each range
/// cleared just before its first contribution): every replay's output
/// buffer starts full of NaN, and the workspace was last used at another
/// point by `evaluate` (which leaves that point's inputs in the
/// workspace), so a value read from the workspace instead of `x`, or an
/// adjoint added to an uncleared entry, shows. `late` leaves some inputs
/// read by no instruction (their partials must be 0); `x[unread]` is also
/// an output (its seed is its first contribution), and a program whose
/// output is an input and that has no instruction at all.
#[test]
fn large_replays_read_the_callers_inputs_and_clear_its_outputs() {
    let n = if cfg!(miri) { 150 } else { 20_000 };
    let unread = 4; // read by no instruction
    let at = |k: usize| -> Vec<f64> {
        (0..n)
            .map(|i| {
                if (i + k).is_multiple_of(83) {
                    AWKWARD[(i + k) % AWKWARD.len()]
                } else {
                    0.2 + 0.0001 * i as f64 * (0.6 + 0.5 * k as f64)
                }
            })
            .collect()
    };
    let p = reverse::record(late, &at(0));
    let both = |x: &[Var]| vec![late(x), x[unread]];
    let q = reverse::record_vector(both, &at(0));
    let id = reverse::record(|x: &[Var]| x[unread], &at(0));
    let (mut ws, mut qws, mut dws) = (p.workspace(), q.workspace(), reverse::Workspace::default());
    for k in 1..3 {
        let (x, stale) = (at(k), at(k + 5));
        let (fv, fg) = reverse::gradient(late, &x);
        // gradient_into
        let mut y = [0.0];
        p.evaluate(&mut ws, &stale, &mut y).unwrap();
        let mut g = vec![f64::NAN; n];
        let v = p.gradient_into(&mut ws, &x, &mut g).unwrap();
        assert!(identical(v, fv), "k={k}: value: replay {v}, fresh {fv}");
        for (i, (a, b)) in g.iter().zip(&fg).enumerate() {
            assert!(identical(*a, *b), "k={k}: ∂/∂x{i}: replay {a}, fresh {b}");
        }
        assert!(identical(g[unread], 0.0) && identical(g[0], 0.0));
        // evaluate and pullback: the seed on an input that is an output
        let w = [1.0, -2.5];
        let (ry, rxbar) = reverse::vjp(both, &x, &w);
        let mut y = [0.0; 2];
        q.evaluate(&mut qws, &x, &mut y).unwrap();
        let mut xbar = vec![f64::NAN; n];
        q.pullback(&mut qws, &w, &mut xbar);
        assert!(y.iter().zip(&ry).all(|(a, b)| identical(*a, *b)));
        for (i, (a, b)) in xbar.iter().zip(&rxbar).enumerate() {
            assert!(identical(*a, *b), "k={k}: (wᵀJ)_{i}: replay {a}, fresh {b}");
        }
        assert!(identical(xbar[unread], -2.5));
        // an output that is an input, no instruction
        let mut g = vec![f64::NAN; n];
        let v = id.gradient_into(&mut ws, &x, &mut g).unwrap();
        assert!(identical(v, x[unread]));
        for (i, gi) in g.iter().enumerate() {
            assert!(
                identical(*gi, if i == unread { 1.0 } else { 0.0 }),
                "∂/∂x{i}: {gi}"
            );
        }
        // on `Dual<f64>` (the inputs copied in, the adjoints added into the
        // workspace's output buffer, last holding another point's)
        // (at a point without awkward values, where the gradient's parts of
        // dual numbers are the `f64` gradient's)
        let smooth: Vec<f64> = (0..n).map(|i| 0.3 + 0.0002 * i as f64 * k as f64).collect();
        let (_, fg) = reverse::gradient(late, &smooth);
        let dir: Vec<f64> = (0..n).map(|i| 1.0 - 0.001 * i as f64).collect();
        let (mut hg, mut hv) = (vec![f64::NAN; n], vec![f64::NAN; n]);
        p.hvp_into(&mut dws, &stale, &dir, &mut hg, &mut hv)
            .unwrap();
        let hv0 = p
            .hvp_into(&mut dws, &smooth, &dir, &mut hg, &mut hv)
            .unwrap();
        let (rv0, rhv) = reverse::hvp(late, &smooth, &dir);
        assert!(identical(hv0, rv0));
        for i in 0..n {
            assert!(
                close(hg[i], fg[i]),
                "k={k}: ∂/∂x{i}: hvp {}, fresh {}",
                hg[i],
                fg[i]
            );
            assert!(
                close(hv[i], rhv[i]),
                "k={k}: (Hv)_{i}: replay {}, fresh {}",
                hv[i],
                rhv[i]
            );
        }
    }
}
