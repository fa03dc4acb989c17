//! dualtape: every workload written once, generic over `S: Scalar<Real = f64>`,
//! and differentiated by choosing the type:
//!
//! - `Var`, reverse mode, through `reverse::gradient_into` (the caller's
//!   buffer; a warm tape allocates nothing). Its gradient is the reference
//!   for every method after it, once it agrees with the hand-written one.
//! - `DualVec<f64, N>`, forward mode in chunks of N = 4, 8, 16
//!   (`forward::gradient`, ⌈n/N⌉ passes), and in a single pass with N = n
//!   where n ≤ 16.
//! - `Dual<f64>`, one pass per input (a loop over one reused input vector).
//! - `f64`, central finite differences (`finite_diff::gradient`).
//!
//! Constants: `x * 100.0` and `x - 1.0` work as for f64; on the left of an
//! operator generic code writes `S::constant(c) - x`. The nalgebra workloads
//! are `na_generic::na035`, the same text as for num-dual: dualtape's scalars
//! are nalgebra 0.35 `RealField`s.

use crate::harness::{Method, Peer};
use crate::peers::baseline::FD_TOL;
use crate::workloads::data::Dataset;
use crate::workloads::na_generic::na035;
use crate::workloads::{consts, Workload};
use dualtape::finite_diff::{self, Scheme};
use dualtape::{forward, reverse, Dual, DualVec, Scalar, Var};
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Dualtape;

/// Method names; the report and the plot find dualtape's methods by them.
pub const REVERSE: &str = "dualtape Var, reverse";
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

fn rosenbrock<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut s = S::zero();
    for p in x.chunks_exact(2) {
        let a = p[1] - p[0] * p[0];
        let b = S::constant(1.0) - p[0];
        s += a * a * 100.0 + b * b;
    }
    s
}

fn sigmoid<S: Scalar<Real = f64>>(z: S) -> S {
    S::constant(1.0) / (S::constant(1.0) + (-z).exp())
}

fn net231<S: Scalar<Real = f64>>(p: &[S], data: &Dataset) -> S {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let mut sum = S::zero();
    for (x, &t) in data.points.iter().zip(&data.labels) {
        let mut z2 = b2;
        for j in 0..3 {
            let a1 = sigmoid(w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]);
            z2 += w2[j] * a1;
        }
        let y = sigmoid(z2);
        sum += y.ln() * t + (S::constant(1.0) - y).ln() * (1.0 - t);
    }
    -sum / data.len() as f64
}

/// The workload as one function of its inputs, at any dualtape scalar.
fn objective<S: Scalar<Real = f64>>(w: &Workload, x: &[S]) -> S {
    match w {
        Workload::ConstDiv => S::constant(consts::C) / x[0],
        Workload::ConstSub => S::constant(consts::C) - x[0],
        Workload::Rosenbrock { .. } => rosenbrock(x),
        Workload::Net231 { data } => net231(x, data),
        Workload::Mlp { sizes, data } => na035::mlp_loss(x, sizes, data),
        Workload::LogDet { m } => na035::logdet(x, *m),
    }
}

/// `Some(reason)` where a method costing one evaluation per input is not run.
/// `wide`: this method also runs Rosenbrock up to `MAX_PASSES_ROSENBROCK`.
fn skip_passes(w: &Workload, wide: bool) -> Option<String> {
    match w {
        Workload::Rosenbrock { n }
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
            Method::run_vec(name, move |x| {
                forward::gradient(|v: &[DualVec<f64, N>]| objective(&w, v), x)
            })
        }
    }
}

/// All n tangents in one pass, N = n, where n <= 16 (the sizes the workloads
/// use are instantiated).
fn single_pass(w: &Workload) -> Option<Method> {
    fn one<const N: usize>(w: &Workload) -> Method {
        let w = w.clone();
        Method::run_vec(format!("{DUALVEC_PREFIX}{N}>, 1 pass (N = n)"), move |x| {
            forward::gradient(|v: &[DualVec<f64, N>]| objective(&w, v), x)
        })
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
        methods.extend(single_pass(w));
        methods.push(chunked::<4>(w, false));
        methods.push(chunked::<8>(w, true));
        methods.push(chunked::<16>(w, false));
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
