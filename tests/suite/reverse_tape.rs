//! The tape: 24 bytes per node, constants never recorded (node counts of
//! small programs), storage reused, `x * x` and `x + x` as one-parent nodes.

use dualtape::reverse::{self, tape_stats};
use dualtape::{Dual, Scalar, Var};

/// Nodes recorded by `f` beyond the sentinel and the inputs.
fn recorded(n_inputs: usize, f: impl Fn(&[Var]) -> Var) -> usize {
    let x: Vec<f64> = (0..n_inputs).map(|i| 0.5 + i as f64).collect();
    reverse::gradient(f, &x);
    tape_stats().nodes - 1 - n_inputs
}

#[test]
fn a_node_is_24_bytes() {
    reverse::gradient(|x| x[0].sin(), &[1.0]);
    assert_eq!(tape_stats().bytes_per_node, 24);
}

#[test]
fn constants_are_never_recorded() {
    // x * 2.0 is one node, whichever side the constant is on.
    assert_eq!(recorded(1, |x| x[0] * 2.0), 1);
    assert_eq!(recorded(1, |x| 2.0 * x[0]), 1);
    assert_eq!(recorded(1, |x| 1.0 - x[0]), 1);
    assert_eq!(recorded(1, |x| 2.0 / x[0]), 1);
    assert_eq!(recorded(1, |x| x[0] * Var::from(2.0)), 1);
    assert_eq!(recorded(1, |x| x[0] * Var::constant(2.0)), 1);
    // 2.0 * 3.0 records nothing, nor does any function of constants.
    assert_eq!(recorded(1, |_| Var::from(2.0) * 3.0), 0);
    assert_eq!(recorded(1, |_| 2.0 * Var::from(3.0)), 0);
    assert_eq!(
        recorded(1, |_| (Var::from(2.0).sin() + 3.0)
            .exp()
            .powf(Var::from(0.5))),
        0
    );
    // a constant subexpression costs nothing in a recorded one
    assert_eq!(
        recorded(1, |x| x[0] * (Var::from(2.0).sqrt() * 3.0).ln()),
        1
    );
    // inputs that are not used record nothing beyond themselves
    assert_eq!(recorded(5, |x| x[3]), 0);
    // one node per operation on recorded values
    assert_eq!(recorded(2, |x| x[0] * x[1]), 1);
    assert_eq!(recorded(2, |x| (x[0] * x[1]).sin()), 2);
    assert_eq!(recorded(1, |x| x[0].powi(3)), 1);
    assert_eq!(recorded(2, |x| x[0].atan2(x[1])), 1);
}

#[test]
fn a_constant_output_has_a_zero_gradient() {
    let (v, g) = reverse::gradient(|_| Var::from(2.0) * 3.0, &[1.0, 2.0]);
    assert_eq!((v, g), (6.0, vec![0.0, 0.0]));
    let (v, g) = reverse::gradient(|x| x[1], &[1.0, 2.0, 3.0]);
    assert_eq!((v, g), (2.0, vec![0.0, 1.0, 0.0]));
}

#[test]
fn the_stats_count_the_active_recording() {
    reverse::gradient(
        |x| {
            assert_eq!(tape_stats().nodes, 2); // sentinel + input
            let y = x[0] * 2.0;
            assert_eq!(tape_stats().nodes, 3);
            let z = y * 3.0 + 1.0;
            assert_eq!(tape_stats().nodes, 5);
            z
        },
        &[1.0],
    );
}

type Program = fn(&[Var]) -> Var;

#[test]
#[allow(clippy::eq_op)] // x - x, x / x on purpose
fn a_repeated_operand_is_one_parent() {
    // x * x, x + x, x - x, x / x and max(x, x) record one node with one
    // parent (the partials summed) and give the right derivatives.
    let x0 = 3.0;
    let cases: [(&str, Program, f64); 6] = [
        ("x * x", |x| x[0] * x[0], 2.0 * x0),
        ("x + x", |x| x[0] + x[0], 2.0),
        ("x - x", |x| x[0] - x[0], 0.0),
        ("x / x", |x| x[0] / x[0], 0.0),
        ("max(x, x)", |x| x[0].max(x[0]), 1.0),
        ("hypot(x, x)", |x| x[0].hypot(x[0]), 2f64.sqrt()),
    ];
    for (name, f, want) in cases {
        let (_, g) = reverse::gradient(f, &[x0]);
        assert!(
            (g[0] - want).abs() <= 1e-15 * want.abs(),
            "{name}: {} vs {want}",
            g[0]
        );
        assert_eq!(tape_stats().nodes, 3, "{name} records one node");
    }
    // (x * x) * x = x³: two nodes, 3x² = 27
    let (v, g) = reverse::gradient(|x| x[0] * x[0] * x[0], &[x0]);
    assert_eq!((v, g), (27.0, vec![27.0]));
    assert_eq!(tape_stats().nodes, 4);
    // x * x + x * x: the shared value used twice, 4x = 12
    let (_, g) = reverse::gradient(
        |x| {
            let s = x[0] * x[0];
            s + s
        },
        &[x0],
    );
    assert_eq!(g, vec![12.0]);
    assert_eq!(tape_stats().nodes, 4);
}

fn sq<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0] * x[0] + x[0] + x[0]
}

#[test]
fn repeated_operands_in_second_order() {
    // f = x² + 2x: f'' = 2.
    let (_, g, h) = reverse::hessian(sq, &[1.5]);
    assert_eq!(g, vec![5.0]);
    assert_eq!(h[(0, 0)], 2.0);
}

#[test]
fn constants_are_not_recorded_in_forward_over_reverse() {
    // The tangent of x * 2.0 is v * 2.0: a constant, so only the value's
    // node is recorded.
    fn twice<S: Scalar<Real = f64>>(x: &[S]) -> S {
        x[0] * 2.0
    }
    let (v, hv) = reverse::hvp(twice, &[1.0], &[1.0]);
    assert_eq!((v, hv), (2.0, vec![0.0]));
    assert_eq!(tape_stats().nodes, 3);
}

/// A program of about 10 n nodes.
fn chain<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for w in x.windows(2) {
        let (a, b) = (w[0], w[1]);
        s += (S::constant(1.0) - a).powi(2) + (b - a * a).powi(2) * 100.0 + a.sin() * b;
    }
    s
}

#[test]
fn storage_is_reused() {
    let x: Vec<f64> = (0..500).map(|i| (i as f64 * 0.1).cos()).collect();
    let (_, g1) = reverse::gradient(chain, &x);
    let s1 = tape_stats();
    let (_, g2) = reverse::gradient(chain, &x);
    let s2 = tape_stats();
    assert_eq!(g1, g2);
    assert_eq!(s1.nodes, s2.nodes);
    assert_eq!(
        s1.capacity_bytes, s2.capacity_bytes,
        "the tape grew on a second identical gradient"
    );
    assert!(s1.capacity_bytes >= s1.nodes * 24 + s1.nodes * 8);
    // a smaller gradient keeps the storage, and the big one fits again
    reverse::gradient(chain, &x[..10]);
    assert_eq!(tape_stats().capacity_bytes, s1.capacity_bytes);
    assert_eq!(tape_stats().peak_nodes, s1.nodes);
    let mut g3 = vec![0.0; x.len()];
    reverse::gradient_into(chain, &x, &mut g3);
    assert_eq!(g3, g1);
    assert_eq!(tape_stats().capacity_bytes, s1.capacity_bytes);
    // the same holds for the other drivers
    reverse::jacobian(|v| vec![chain(v), chain(&v[1..])], &x);
    let s4 = tape_stats();
    reverse::jacobian(|v| vec![chain(v), chain(&v[1..])], &x);
    assert_eq!(tape_stats().capacity_bytes, s4.capacity_bytes);
}

#[test]
fn gradient_into_matches_gradient() {
    let x = [0.3, -1.2, 2.0, 0.7];
    let (v, g) = reverse::gradient(chain, &x);
    let mut buf = [f64::NAN; 4];
    let v2 = reverse::gradient_into(chain, &x, &mut buf);
    assert_eq!(v, v2);
    assert_eq!(g, buf.to_vec());
    // and equals the hand-derived gradient of the chain
    let mut want = [0.0; 4];
    for i in 0..3 {
        let (a, b) = (x[i], x[i + 1]);
        want[i] += -2.0 * (1.0 - a) - 400.0 * a * (b - a * a) + a.cos() * b;
        want[i + 1] += 200.0 * (b - a * a) + a.sin();
    }
    crate::support::compare::assert_all_close("chain gradient", &buf, &want, 1e-13, 1e-13);
}

#[test]
#[should_panic(expected = "the gradient buffer has 2 entries but x has 3")]
fn gradient_into_rejects_a_wrong_buffer() {
    let mut g = [0.0; 2];
    reverse::gradient_into(|x| x[0], &[1.0, 2.0, 3.0], &mut g);
}

#[test]
#[should_panic(expected = "f returned 2 outputs but w has 1 entries")]
fn vjp_rejects_a_wrong_weight_vector() {
    reverse::vjp(|x| vec![x[0], x[1]], &[1.0, 2.0], &[1.0]);
}

#[test]
#[should_panic(expected = "the direction v has 1 components but x has 2")]
fn hvp_rejects_a_wrong_direction() {
    reverse::hvp(|x: &[Dual<Var>]| x[0] * x[1], &[1.0, 2.0], &[1.0]);
}

#[test]
fn empty_inputs() {
    let (v, g) = reverse::gradient(|_| Var::from(4.0), &[]);
    assert_eq!((v, g), (4.0, vec![]));
    let (v, g, h) = reverse::hessian(|_: &[Dual<Var>]| Dual::from(Var::from(1.0)), &[]);
    assert_eq!((v, g.len(), h.len()), (1.0, 0, 0));
}

#[test]
fn the_identity_records_nothing() {
    // x * 1, x / 1, x - 0 and x + (-0) are x itself (to the bit, at every
    // point), so no node is recorded, and the gradient is unchanged:
    // d/dx ((x·1 - 0) + (-0))/1 · x = 2x.
    let (v, g) = reverse::gradient(|x| ((x[0] * 1.0 - 0.0) + (-0.0)) / 1.0 * x[0], &[3.0]);
    assert_eq!((v, g[0]), (9.0, 6.0));
    // sentinel + input + the final product
    assert_eq!(reverse::tape_stats().nodes, 3);
    // x + 0 is +0 at x = -0, so it is not an identity and is recorded at
    // every point, where its value is unchanged too: the tape's structure
    // (and a replay's) does not depend on the point
    for (x, value) in [(3.0, 6.0), (-0.0, 0.0f64)] {
        let (v, g) = reverse::gradient(|x| (x[0] + 0.0) * 2.0, &[x]);
        assert_eq!((v.to_bits(), g[0]), (value.to_bits(), 2.0));
        assert_eq!(reverse::tape_stats().nodes, 4);
    }
}
