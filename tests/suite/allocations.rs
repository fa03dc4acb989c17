//! A warm reverse-mode gradient allocates nothing: `reverse::gradient_into`
//! reuses the thread's tape, adjoints and input storage, so once a recording
//! of the same size has run on this thread, recording and sweeping touch the
//! heap zero times. `reverse::gradient` allocates exactly its returned `Vec`.
//!
//! Counted by `support::alloc`, on the thread that asked only.

use crate::support::compare::assert_all_rel;
use crate::workloads as common;
use common::*;
use dualtape::{reverse, Scalar, Var};

use crate::support::alloc::allocations;

#[test]
fn the_counter_counts() {
    let (v, n) = allocations(|| vec![1.0f64; 10]);
    assert_eq!((v.len(), n), (10, 1));
    let (_, n) = allocations(|| 1.0f64 + 2.0);
    assert_eq!(n, 0);
}

#[test]
fn warm_gradient_into_allocates_nothing_rosenbrock() {
    let w = Rosenbrock::new(1000);
    let x = w.x0.clone();
    let mut g = vec![0.0; x.len()];
    reverse_into(&w, &x, &mut g); // cold: the tape grows
    for _ in 0..3 {
        let (_, n) = allocations(|| reverse::gradient_into(common::rosenbrock::<Var>, &x, &mut g));
        assert_eq!(n, 0, "a warm reverse::gradient_into allocated {n} times");
    }
    let mut exact = vec![0.0; x.len()];
    rosenbrock_gradient(&x, &mut exact);
    assert_all_rel("gradient", &g, &exact, 1e-12, 1.0);
}

#[test]
fn warm_gradient_into_allocates_nothing_notebook() {
    let w = Notebook::new(1000);
    let x = w.x0.clone();
    let mut g = vec![0.0; x.len()];
    reverse_into(&w, &x, &mut g);
    let (_, n) = allocations(|| reverse_into(&w, &x, &mut g));
    assert_eq!(n, 0, "a warm reverse::gradient_into allocated {n} times");
}

#[test]
fn a_smaller_recording_after_a_larger_one_allocates_nothing() {
    let big = Rosenbrock::new(10_000);
    let mut g = vec![0.0; big.x0.len()];
    reverse_into(&big, &big.x0, &mut g);
    let small = Rosenbrock::new(10);
    let mut gs = vec![0.0; 10];
    let (_, n) = allocations(|| reverse_into(&small, &small.x0, &mut gs));
    assert_eq!(n, 0);
}

#[test]
fn warm_gradient_allocates_only_the_returned_vector() {
    let w = Rosenbrock::new(100);
    let x = w.x0.clone();
    let _ = reverse::gradient(common::rosenbrock::<Var>, &x);
    let ((_, g), n) = allocations(|| reverse::gradient(common::rosenbrock::<Var>, &x));
    assert_eq!(g.len(), 100);
    assert_eq!(n, 1, "reverse::gradient should allocate only its result");
}

/// A function that allocates its own matrices (nalgebra) costs no more
/// allocations under reverse mode than in plain f64: the tape adds none.
/// (It can cost fewer: nalgebra's `f64` products go through `matrixmultiply`,
/// which allocates packing buffers; products of `Var` take nalgebra's generic
/// loops.)
#[test]
fn reverse_adds_no_allocation_to_a_function_that_allocates() {
    fn same<W: Workload>(w: &W) {
        let x = w.x0().to_vec();
        let mut g = vec![0.0; x.len()];
        reverse_into(w, &x, &mut g);
        let (_, plain) = allocations(|| eval_f64(w, &x));
        let (_, rev) = allocations(|| reverse_into(w, &x, &mut g));
        assert!(
            plain > 0,
            "{}: expected the function itself to allocate",
            w.name()
        );
        assert!(
            rev <= plain,
            "{}: reverse allocated {rev} times, f64 {plain}",
            w.name()
        );
    }
    same(&NotebookNalgebra::new(1000));
    same(&LogDet::new(20));
}

#[test]
fn forward_gradient_into_allocates_nothing_for_up_to_16_inputs() {
    let x = [0.3, -1.2, 0.8, 1.1, 0.5, -0.4, 2.0, 0.9, -0.7, 1.3];
    let mut g = [0.0; 10];
    let (_, n) = allocations(|| {
        dualtape::forward::gradient_into(
            common::rosenbrock::<dualtape::DualVec<f64, 4>>,
            &x,
            &mut g,
        )
    });
    assert_eq!(n, 0, "forward::gradient_into allocated {n} times");
    // and the gradient is Rosenbrock's (pairs variant), from the hand-written one
    let mut want = [0.0; 10];
    let _ = common::rosenbrock_gradient(&x, &mut want);
    assert_all_rel("gradient", &g, &want, 1e-12, 1.0);
}

#[test]
fn forward_gradient_into_with_a_warm_workspace_allocates_nothing_for_many_inputs() {
    let w = Rosenbrock::new(1000);
    let x = w.x0.clone();
    let mut g = vec![0.0; x.len()];
    let mut work = Vec::new();
    let f = common::rosenbrock::<dualtape::DualVec<f64, 8>>;
    let (_, cold) = allocations(|| dualtape::forward::gradient_into_with(f, &x, &mut g, &mut work));
    assert_eq!(cold, 1, "the cold call grows the workspace once");
    for _ in 0..3 {
        let (_, n) =
            allocations(|| dualtape::forward::gradient_into_with(f, &x, &mut g, &mut work));
        assert_eq!(n, 0, "forward::gradient_into_with allocated {n} times");
    }
    let mut want = vec![0.0; x.len()];
    rosenbrock_gradient(&x, &mut want);
    assert_all_rel("gradient", &g, &want, 1e-12, 1.0);
}

#[test]
fn forward_gradient_of_the_notebook_loops_allocates_nothing() {
    // 13 inputs: one pass of DualVec<f64, 13>, or four of DualVec<f64, 4>
    let w = Notebook::new(200);
    let x = w.x0.clone();
    let mut g = vec![0.0; x.len()];
    let mut want = vec![0.0; x.len()];
    w.analytic(&x, &mut want);
    let (_, n13) = allocations(|| {
        dualtape::forward::gradient_into(|p: &[dualtape::DualVec<f64, 13>]| w.eval(p), &x, &mut g)
    });
    assert_eq!(
        n13, 0,
        "DualVec<f64, 13>: forward::gradient_into allocated {n13} times"
    );
    let (_, n4) = allocations(|| {
        dualtape::forward::gradient_into(|p: &[dualtape::DualVec<f64, 4>]| w.eval(p), &x, &mut g)
    });
    assert_eq!(
        n4, 0,
        "DualVec<f64, 4>: forward::gradient_into allocated {n4} times"
    );
    assert_all_rel("gradient", &g, &want, 1e-12, 1e-3);
}

/// Where the function allocates its own matrices, one forward pass costs no
/// more allocations than one f64 evaluation: the duals add none.
#[test]
fn forward_adds_no_allocation_to_a_function_that_allocates() {
    fn same<W: Workload>(w: &W) {
        let x = w.x0().to_vec();
        let n = x.len();
        let mut g = vec![0.0; n];
        let (_, plain) = allocations(|| eval_f64(w, &x));
        let (_, fwd) = allocations(|| {
            dualtape::forward::gradient_into(
                |p: &[dualtape::DualVec<f64, 16>]| w.eval(p),
                &x,
                &mut g,
            )
        });
        let passes = n.div_ceil(16);
        assert!(
            plain > 0,
            "{}: expected the function itself to allocate",
            w.name()
        );
        assert!(
            fwd <= passes * plain,
            "{}: {passes} forward passes allocated {fwd} times, one f64 evaluation {plain}",
            w.name()
        );
    }
    same(&NotebookNalgebra::new(100));
}

/// The chained Rosenbrock function (overlapping pairs, unlike the workload's).
fn chained_rosenbrock<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::constant(0.0);
    for w in x.windows(2) {
        s += (S::constant(1.0) - w[0]).powi(2) + (w[1] - w[0] * w[0]).powi(2) * 100.0;
    }
    s
}

#[test]
fn a_warm_tape_serves_the_same_and_a_smaller_problem_without_allocating() {
    let x: Vec<f64> = (0..1000).map(|i| (i as f64).sin()).collect();
    let mut g = vec![0.0; x.len()];
    let (_, cold) = allocations(|| reverse::gradient_into(chained_rosenbrock, &x, &mut g));
    assert!(cold > 0, "the counter counts: the cold tape had to grow");
    let first = g.clone();
    let (_, warm) = allocations(|| {
        for _ in 0..5 {
            reverse::gradient_into(chained_rosenbrock, &x, &mut g);
        }
    });
    assert_eq!(warm, 0, "a warm gradient_into allocated");
    assert_eq!(g, first);
    // and a smaller problem on the warm tape allocates nothing either
    let (_, smaller) =
        allocations(|| reverse::gradient_into(chained_rosenbrock, &x[..10], &mut g[..10]));
    assert_eq!(smaller, 0);
}

/// A recorded program replayed with a reused workspace allocates nothing:
/// gradients on `f64` and Hessian-vector products on `Dual<f64>`.
#[test]
fn a_replay_with_a_reused_workspace_allocates_nothing() {
    fn check<W: Workload>(w: &W) {
        let x = w.x0().to_vec();
        let program = reverse::record(|v: &[Var]| w.eval(v), &x);
        let mut ws = program.workspace();
        let mut g = vec![0.0; x.len()];
        let (r, n) = allocations(|| program.gradient_into(&mut ws, &x, &mut g));
        r.unwrap();
        assert_eq!(n, 0, "{}: a replay allocated {n} times", w.name());
        let mut hws = reverse::Workspace::default();
        let (mut hg, mut hv) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let v = vec![1.0; x.len()];
        program
            .hvp_into(&mut hws, &x, &v, &mut hg, &mut hv)
            .unwrap(); // cold
        let (r, n) = allocations(|| program.hvp_into(&mut hws, &x, &v, &mut hg, &mut hv));
        r.unwrap();
        assert_eq!(n, 0, "{}: a replayed HVP allocated {n} times", w.name());
        assert_eq!(hg, g);
    }
    check(&Rosenbrock::new(1000));
    check(&Notebook::new(100));
    check(&NotebookNalgebra::new(100));
}

/// A compiled gradient (feature `jit`) allocates nothing once compiled, not
/// even with an empty workspace (the compiled code keeps its values in its
/// own stack frame); a program compiled by tiering too. (Not under Miri,
/// which cannot run code made at run time.)
#[cfg(all(feature = "jit", not(miri)))]
#[test]
fn a_compiled_gradient_allocates_nothing() {
    use dualtape::reverse::program::{Jit, TIER};
    for n in [10, 100] {
        let w = Rosenbrock::new(n);
        let x = w.x0().to_vec();
        let mut g = vec![0.0; n];
        let mut program = reverse::record(|v: &[Var]| w.eval(v), &x);
        program.set_jit(Jit::Now);
        program.gradient(&x).unwrap(); // compiles
        let mut ws = reverse::Workspace::default();
        let (r, count) = allocations(|| program.gradient_into(&mut ws, &x, &mut g));
        r.unwrap();
        assert_eq!(
            count, 0,
            "n = {n}: a compiled gradient allocated {count} times"
        );
        assert_eq!(ws.jit_runs(), 1);
        // by tiering (a new program): from its tier-th gradient on (at
        // most TIER: sooner where the program loops)
        let tiered = reverse::record(|v: &[Var]| w.eval(v), &x);
        let mut ws = tiered.workspace();
        for _ in 0..TIER {
            tiered.gradient_into(&mut ws, &x, &mut g).unwrap();
            if tiered.jit_compiled() {
                break;
            }
        }
        assert!(tiered.jit_compiled());
        let (r, count) = allocations(|| tiered.gradient_into(&mut ws, &x, &mut g));
        r.unwrap();
        assert_eq!(
            count, 0,
            "n = {n}: a tiered compiled gradient allocated {count} times"
        );
        assert_eq!(ws.jit_runs(), 2);
        let mut exact = vec![0.0; n];
        rosenbrock_gradient(&x, &mut exact);
        assert_all_rel("gradient", &g, &exact, 1e-12, 1.0);
    }
}

/// A program compiled as a loop whose body calls shims (the notebook's
/// network over 1,000 points: sigmoids, a softplus) keeps their results per
/// repetition in the workspace's scratch memory: a workspace made by
/// `Program::workspace` has it, so the compiled gradient allocates nothing
/// from its first run; the HVP's workspace grows once. (Not under Miri.)
#[cfg(all(feature = "jit", not(miri)))]
#[test]
fn a_compiled_loop_keeps_its_results_in_the_workspace() {
    use dualtape::reverse::program::Jit;
    let w = Notebook::new(1000);
    let x = w.x0().to_vec();
    let n = x.len();
    let mut program = reverse::record(|v: &[Var]| w.eval(v), &x);
    program.set_jit(Jit::Now);
    let mut ws = program.workspace();
    let mut g = vec![0.0; n];
    let (r, count) = allocations(|| program.gradient_into(&mut ws, &x, &mut g));
    r.unwrap();
    assert!(program.jit_compiled() && ws.jit_runs() == 1);
    // (the first call compiles: only the second counts)
    let (r, count2) = allocations(|| program.gradient_into(&mut ws, &x, &mut g));
    r.unwrap();
    assert_eq!(
        count2, 0,
        "the looped gradient allocated {count2} times (first: {count})"
    );
    assert_eq!(ws.jit_runs(), 2);
    let mut exact = vec![0.0; n];
    analytic(&w, &x, &mut exact);
    assert_all_rel("gradient", &g, &exact, 1e-10, 1e-3);
    let dir = vec![1.0; n];
    let (mut hg, mut hv) = (vec![0.0; n], vec![0.0; n]);
    let mut hws = reverse::Workspace::default();
    program
        .hvp_into(&mut hws, &x, &dir, &mut hg, &mut hv)
        .unwrap();
    let (r, count) = allocations(|| program.hvp_into(&mut hws, &x, &dir, &mut hg, &mut hv));
    r.unwrap();
    assert_eq!(count, 0, "the looped HVP allocated {count} times");
    assert_eq!(hws.jit_runs(), 2);
    assert_eq!(hg, g);
}

/// A compiled Hessian-vector product (feature `jit`) with a reused
/// workspace allocates nothing, compiled at once or by tiering. (Not under
/// Miri, which cannot run code made at run time.)
#[cfg(all(feature = "jit", not(miri)))]
#[test]
fn a_compiled_hvp_allocates_nothing() {
    use dualtape::reverse::program::{Jit, TIER};
    for n in [10, 100] {
        let w = Rosenbrock::new(n);
        let x = w.x0().to_vec();
        let dir: Vec<f64> = (0..n).map(|i| 1.0 - 0.1 * i as f64).collect();
        let (mut hg, mut hv) = (vec![0.0; n], vec![0.0; n]);
        let mut program = reverse::record(|v: &[Var]| w.eval(v), &x);
        program.set_jit(Jit::Now);
        let mut ws = reverse::Workspace::default();
        program
            .hvp_into(&mut ws, &x, &dir, &mut hg, &mut hv)
            .unwrap(); // compiles
        let (r, count) = allocations(|| program.hvp_into(&mut ws, &x, &dir, &mut hg, &mut hv));
        r.unwrap();
        assert_eq!(count, 0, "n = {n}: a compiled HVP allocated {count} times");
        assert_eq!(ws.jit_runs(), 2);
        // by tiering (a new program): from the TIER-th HVP on
        let tiered = reverse::record(|v: &[Var]| w.eval(v), &x);
        let mut ws = reverse::Workspace::default();
        let (mut tg, mut tv) = (vec![0.0; n], vec![0.0; n]);
        for _ in 0..TIER {
            tiered
                .hvp_into(&mut ws, &x, &dir, &mut tg, &mut tv)
                .unwrap();
        }
        let (r, count) = allocations(|| tiered.hvp_into(&mut ws, &x, &dir, &mut tg, &mut tv));
        r.unwrap();
        assert_eq!(
            count, 0,
            "n = {n}: a tiered compiled HVP allocated {count} times"
        );
        // (compiled by the TIER-th HVP; sooner at n = 100, which loops:
        // its code is shorter than the program, `looped_tier`)
        if n == 10 {
            assert_eq!(ws.jit_runs(), 2);
        } else {
            assert!(ws.jit_runs() >= 2, "n = {n}: {} runs", ws.jit_runs());
        }
        assert_eq!((tg, tv), (hg.clone(), hv.clone()));
        // the closed form: ∇f, and ∇²f · dir pair by pair
        let mut exact = vec![0.0; n];
        rosenbrock_gradient(&x, &mut exact);
        assert_all_rel("gradient", &hg, &exact, 1e-12, 1.0);
        let mut want = vec![0.0; n];
        for i in 0..n / 2 {
            let (a, b) = (x[2 * i], x[2 * i + 1]);
            let (haa, hab) = (2.0 - 400.0 * b + 1200.0 * a * a, -400.0 * a);
            want[2 * i] = haa * dir[2 * i] + hab * dir[2 * i + 1];
            want[2 * i + 1] = hab * dir[2 * i] + 200.0 * dir[2 * i + 1];
        }
        assert_all_rel("Hv", &hv, &want, 1e-12, 1e3);
    }
}

/// `y_i = x_i sin x_{i+1}`: a bidiagonal Jacobian.
#[cfg(feature = "sparse")]
fn bidiagonal<S: Scalar<Real = f64>>(x: &[S]) -> Vec<S> {
    x.windows(2).map(|p| p[0] * p[1].sin()).collect()
}

/// A sparse plan replaying a program with a reused `sparse::Workspace`
/// allocates nothing after the first call: Hessians (forward over reverse on
/// `DualVec`) and Jacobians on both sides. The values are the dense
/// drivers'.
#[cfg(feature = "sparse")]
#[test]
fn a_sparse_replay_with_a_reused_workspace_allocates_nothing() {
    use crate::support::compare::assert_close;
    use dualtape::sparse::{self, HessianPlan, JacobianPlan, Side};
    let w = Rosenbrock::new(200);
    let x = w.x0.clone();
    let mut ws = sparse::Workspace::default();
    let program = reverse::record(common::rosenbrock::<Var>, &x);
    let plan = HessianPlan::new(sparse::hessian_sparsity_of(&program));
    let (mut h, mut g) = (vec![0.0; plan.sparsity().nnz()], vec![0.0; x.len()]);
    plan.values_program_with(&mut ws, &program, &x, &mut h, &mut g)
        .unwrap(); // cold
    let (r, n) = allocations(|| plan.values_program_with(&mut ws, &program, &x, &mut h, &mut g));
    r.unwrap();
    assert_eq!(n, 0, "a warm sparse Hessian replay allocated {n} times");
    let (_, _, dense) = reverse::hessian(common::rosenbrock, &x);
    for ((i, j), &v) in plan.sparsity().entries().zip(&h) {
        assert_close("Hessian entry", v, dense[(i, j)], 1e-12, 1e-12);
    }
    let program = reverse::record_vector(bidiagonal, &x);
    let (_, dense) = dualtape::forward::jacobian(bidiagonal, &x);
    for side in [Side::Forward, Side::Reverse] {
        let plan = JacobianPlan::new(sparse::jacobian_sparsity_of(&program), side);
        let (mut j, mut y) = (vec![0.0; plan.sparsity().nnz()], vec![0.0; x.len() - 1]);
        plan.values_program_with(&mut ws, &program, &x, &mut j, &mut y)
            .unwrap(); // cold
        let (r, n) =
            allocations(|| plan.values_program_with(&mut ws, &program, &x, &mut j, &mut y));
        r.unwrap();
        assert_eq!(
            n, 0,
            "{side:?}: a warm sparse Jacobian replay allocated {n} times"
        );
        for ((i, k), &v) in plan.sparsity().entries().zip(&j) {
            assert_close("Jacobian entry", v, dense[(i, k)], 1e-12, 1e-12);
        }
    }
}
