//! dualtape: every workload written once, generic over `S: Scalar<Real = f64>`,
//! and differentiated by choosing the type:
//!
//! - `Var`, reverse mode, through `reverse::gradient_into` (the caller's
//!   buffer; a warm tape allocates nothing). Its gradient is the reference
//!   for every method after it, once it agrees with the hand-written one.
//! - Replay: `reverse::record` once at the workload's point (it runs
//!   `Program::optimize` itself, as echidna's replay records and optimises
//!   once), then `Program::gradient_into` per call with a workspace kept across
//!   calls (no allocation). A replay checks the recorded comparisons, so a
//!   point where the control flow differs would be an error, not a wrong
//!   gradient; the workloads take the same branches at every point. With
//!   the `jit` feature (on here) a program of at most `MAX_OPS` instructions
//!   runs as compiled code from its `tier`-th gradient; a second row, "replay,
//!   interpreted", is the same program with the compiler off.
//! - `DualVec<f64, N>`, forward mode in chunks of N = 4, 8, 16
//!   (`forward::gradient_into_with`, ⌈n/N⌉ passes, the seeded inputs in a
//!   workspace kept across calls), and in a single pass with N = n where
//!   n ≤ 16 (`forward::gradient_into`, the inputs on the stack).
//! - `Dual<f64>`, one pass per input (a loop over one reused input vector).
//! - `f64`, central finite differences (`finite_diff::gradient`).
//!
//! The workloads are the benchmarks' (`benches/common`, through
//! `Workload::eval`), written once over `S: Scalar<Real = f64>` with the
//! crate's own `sigmoid` and `softplus` rules where the loss has them, and
//! with nalgebra matrices of `S` for the nalgebra workloads.

use crate::harness::{Method, Peer};
use crate::peers::baseline::FD_TOL;
use crate::workloads::{Workload, PASS_LANES};
use dualtape::finite_diff::{self, Scheme};
use dualtape::reverse::program::{tier, Jit};
use dualtape::{forward, reverse, Dual, DualVec, Scalar, Var};
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Dualtape;

/// Method names; the report and the plot find dualtape's methods by them.
pub const REVERSE: &str = "dualtape Var, reverse";
pub const REPLAY: &str = "dualtape replay (record + optimize once)";
/// The same replay with the compiler off (`Jit::Off`): the interpreter.
pub const REPLAY_INTERPRETED: &str = "dualtape replay, interpreted (jit off)";
pub const DUAL_N_PASSES: &str = "dualtape Dual<f64>, n passes";
pub const FINITE_DIFF: &str = "dualtape finite differences (central)";
/// The chunked forward method's name starts with this, then N.
pub const DUALVEC_PREFIX: &str = "dualtape DualVec<f64, ";

/// On Rosenbrock, in a full run, dualtape's n-pass methods (`Dual`,
/// `DualVec<f64, 8>`, finite differences) also run at n = 1e5, one decade
/// past the peers, so the gradient-cost plot shows the n-pass lines over
/// four decades (about a minute of CPU time per gradient evaluation round).
pub const MAX_PASSES_ROSENBROCK: usize = 100_000;

static WIDE_ROSENBROCK: AtomicBool = AtomicBool::new(false);

/// Whether the n-pass methods run up to `MAX_PASSES_ROSENBROCK` (set for a
/// full run; `--quick` and `--check` stop at `MAX_PASSES` like the peers).
pub fn set_wide_rosenbrock(on: bool) {
    WIDE_ROSENBROCK.store(on, Ordering::Relaxed);
}

/// The workload as one function of its inputs, at any dualtape scalar: the
/// benchmarks' own definition (`benches/common`), written as a user of the
/// crate writes it (`sigmoid`, `softplus` where the loss has them).
fn objective<S: Scalar<Real = f64>>(w: &Workload, x: &[S]) -> S {
    w.eval(x)
}

/// `Some(reason)` where a method costing one evaluation per input is not run.
/// `wide`: this method also runs Rosenbrock up to `MAX_PASSES_ROSENBROCK`.
fn skip_passes(w: &Workload, wide: bool) -> Option<String> {
    match w {
        Workload::Rosenbrock { n, .. }
            if wide && WIDE_ROSENBROCK.load(Ordering::Relaxed) && *n <= MAX_PASSES_ROSENBROCK =>
        {
            None
        }
        _ => w.skip_n_passes(),
    }
}

fn passes(n: usize, per_pass: usize) -> String {
    let p = n.div_ceil(per_pass);
    format!("{p} pass{}", if p == 1 { "" } else { "es" })
}

/// `forward::gradient` with chunks of N tangents.
fn chunked<const N: usize>(w: &Workload, wide: bool) -> Method {
    let name = format!("{DUALVEC_PREFIX}{N}>, {}", passes(w.dim(), N));
    match skip_passes(w, wide) {
        Some(reason) => Method::skip(name, reason),
        None => {
            let w = w.clone();
            let mut work = Vec::new();
            Method::run(name, move |x, g| {
                forward::gradient_into_with(
                    |v: &[DualVec<f64, N>]| objective(&w, v),
                    x,
                    g,
                    &mut work,
                )
            })
        }
    }
}

/// Record once at the workload's point, replay per call with a reused
/// workspace. `jit`: the program's default ([`Jit::Auto`]: with the `jit`
/// feature, which this crate turns on, a program of at most `MAX_OPS`
/// instructions, each loop's body counted once, runs compiled from its
/// `tier`-th gradient, sooner if it loops; the set-up asks for gradients
/// until it is compiled, at most `tier` of them or 2 s of them, so the
/// timed calls are that steady state) or [`Jit::Off`] (always the
/// interpreter).
fn replay(w: &Workload, jit: Jit) -> Method {
    let name = if jit == Jit::Off {
        REPLAY_INTERPRETED
    } else {
        REPLAY
    };
    let mut program = reverse::record(|v: &[Var]| objective(w, v), &w.point());
    if program.escaped_values() > 0 {
        return Method::cannot(
            name,
            "the recording reads values of active variables, so it may not hold elsewhere",
        );
    }
    program.set_jit(jit);
    let mut ws = program.workspace();
    if jit == Jit::Auto {
        let (x, mut g) = (w.point(), vec![0.0; w.dim()]);
        let calls = tier(program.instructions().len()).unwrap_or(u32::MAX);
        let start = std::time::Instant::now();
        for _ in 0..calls {
            if program.jit_compiled() || start.elapsed().as_secs_f64() > 2.0 {
                break;
            }
            let _ = program.gradient_into(&mut ws, &x, &mut g);
        }
    }
    Method::run(name, move |x, g| {
        program
            .gradient_into(&mut ws, x, g)
            .unwrap_or_else(|e| panic!("replay refused: {e}"))
    })
}

/// All n tangents in one pass, N = n, where n <= 16 (the sizes the workloads
/// use are instantiated).
fn single_pass(w: &Workload) -> Option<Method> {
    fn one<const N: usize>(w: &Workload) -> Method {
        let w = w.clone();
        Method::run(
            format!("{DUALVEC_PREFIX}{N}>, 1 pass (N = n)"),
            move |x, g| forward::gradient_into(|v: &[DualVec<f64, N>]| objective(&w, v), x, g),
        )
    }
    match w.dim() {
        1 => Some(one::<1>(w)),
        10 => Some(one::<10>(w)),
        13 => Some(one::<13>(w)),
        n if n <= 16 => Some(Method::skip(
            format!("{DUALVEC_PREFIX}{n}>, 1 pass (N = n)"),
            format!("skipped: N = {n} not instantiated"),
        )),
        _ => None,
    }
}

/// One forward pass of `DualVec<f64, PASS_LANES>`, the first inputs seeded,
/// where a whole gradient is too long (`Workload::one_pass_only`).
fn first_pass(w: &Workload) -> Method {
    const N: usize = PASS_LANES;
    let w = w.clone();
    let mut xs: Vec<DualVec<f64, N>> = Vec::new();
    Method::run(
        w.one_pass_name(&format!("{DUALVEC_PREFIX}{N}>")),
        move |x, g| {
            xs.clear();
            xs.extend(x.iter().map(|&xi| DualVec::from(xi)));
            for (k, xi) in xs[..N].iter_mut().enumerate() {
                xi.eps[k] = 1.0;
            }
            let y = objective(&w, &xs);
            g[..N].copy_from_slice(&y.eps);
            y.re
        },
    )
    .first_partials(N)
}

/// One `Dual<f64>` pass per input, the input vector reused across calls.
fn dual_n_passes(w: &Workload) -> Method {
    if let Some(reason) = skip_passes(w, true) {
        return Method::skip(DUAL_N_PASSES, reason);
    }
    let w = w.clone();
    let mut xs: Vec<Dual<f64>> = Vec::new();
    Method::run(DUAL_N_PASSES, move |x, g| {
        xs.clear();
        xs.extend(x.iter().map(|&xi| Dual::new(xi, 0.0)));
        let mut value = f64::NAN;
        for (i, gi) in g.iter_mut().enumerate() {
            xs[i].eps = 1.0;
            let y = objective(&w, &xs);
            xs[i].eps = 0.0;
            *gi = y.eps;
            value = y.re;
        }
        value
    })
}

impl Peer for Dualtape {
    fn name(&self) -> String {
        format!("dualtape {} (this crate)", env!("VERSION_DUALTAPE"))
    }

    fn is_reference(&self) -> bool {
        true
    }

    fn methods(&self, w: &Workload) -> Vec<Method> {
        let mut methods = Vec::new();
        {
            let w = w.clone();
            methods.push(Method::run(REVERSE, move |x, g| {
                reverse::gradient_into(|v: &[Var]| objective(&w, v), x, g)
            }));
        }
        methods.push(replay(w, Jit::Auto));
        methods.push(replay(w, Jit::Off));
        methods.extend(single_pass(w));
        methods.push(chunked::<4>(w, false));
        methods.push(chunked::<8>(w, true));
        methods.push(chunked::<16>(w, false));
        if w.one_pass_only() {
            methods.push(first_pass(w));
        }
        methods.push(dual_n_passes(w));
        methods.push(match skip_passes(w, true) {
            Some(reason) => Method::skip(FINITE_DIFF, reason),
            None => {
                let w = w.clone();
                Method::run_vec(FINITE_DIFF, move |x| {
                    finite_diff::gradient(|v: &[f64]| objective(&w, v), x, Scheme::Central)
                })
                .with_tol(FD_TOL)
            }
        });
        methods
    }
}
