//! reverse: reverse mode on an explicit `Tape`; `Var<'a>` borrows it.
//!
//! `Var` implements no numeric trait (no `num_traits::Float`, no nalgebra
//! `RealField`), so the scalar workloads are written for `Var` directly, and
//! the nalgebra workloads cannot be expressed (nalgebra scalars must also be
//! `'static`, which a `Var<'a>` is not).
//!
//! Its `f64 / Var` records the derivative -1/x instead of -c/x^2; every
//! workload that divides a constant by a variable (the sigmoid
//! `1 / (1 + e^-z)`) is therefore run twice: as written, and with `.recip()`.

use crate::harness::{Method, Peer};
use crate::workloads::Dataset;
use crate::workloads::{consts, Workload};
use reverse::{Gradient, Tape, Var};

pub struct Reverse;

fn rosenbrock<'a>(x: &[Var<'a>]) -> Var<'a> {
    x.chunks_exact(2)
        .map(|p| {
            let a = p[1] - p[0] * p[0];
            let b = 1.0 - p[0];
            a * a * 100.0 + b * b
        })
        .sum()
}

/// As anyone would write it: `c / x`.
fn sigmoid<'a>(z: Var<'a>) -> Var<'a> {
    1.0 / (1.0 + (-z).exp())
}

/// The workaround for `f64 / Var`.
fn sigmoid_recip<'a>(z: Var<'a>) -> Var<'a> {
    (1.0 + (-z).exp()).recip()
}

fn net231<'a>(p: &[Var<'a>], data: &Dataset, sigmoid: fn(Var<'a>) -> Var<'a>) -> Var<'a> {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let sum: Var = data
        .points
        .iter()
        .zip(&data.labels)
        .map(|(x, &t)| {
            let mut z2 = b2;
            for j in 0..3 {
                let a1 = sigmoid(w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]);
                z2 = z2 + w2[j] * a1;
            }
            let y = sigmoid(z2);
            y.ln() * t + (1.0 - y).ln() * (1.0 - t)
        })
        .sum();
    -sum / data.len() as f64
}

/// Records `f` on a tape kept across calls (cleared each time), then one
/// backward sweep.
fn taped(
    f: impl for<'a> Fn(&[Var<'a>]) -> Var<'a> + 'static,
) -> impl FnMut(&[f64]) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    move |x: &[f64]| {
        tape.clear();
        let vars = tape.add_vars(x);
        let y = f(&vars);
        let grads = y.grad();
        (y.val(), grads.wrt(&vars))
    }
}

impl Peer for Reverse {
    fn name(&self) -> String {
        format!("reverse {}", env!("VERSION_REVERSE"))
    }

    fn methods(&self, w: &Workload) -> Vec<Method> {
        let name = "reverse Var, tape";
        let workaround = "reverse Var, tape, .recip() for c / x";
        match w {
            Workload::ConstDiv => vec![
                Method::run_vec(name, taped(|x| consts::C / x[0])),
                Method::run_vec(workaround, taped(|x| x[0].recip() * consts::C)),
            ],
            Workload::ConstSub => vec![Method::run_vec(name, taped(|x| consts::C - x[0]))],
            Workload::Rosenbrock { .. } => vec![Method::run_vec(name, taped(rosenbrock))],
            Workload::Net231 { data, .. } => {
                let (d1, d2) = (data.clone(), data.clone());
                vec![
                    Method::run_vec(name, taped(move |p| net231(p, &d1, sigmoid))),
                    Method::run_vec(workaround, taped(move |p| net231(p, &d2, sigmoid_recip))),
                ]
            }
            Workload::Mlp { .. } | Workload::LogDet { .. } => vec![Method::cannot(
                name,
                "Var<'a> borrows its tape (not 'static) and implements no nalgebra RealField",
            )],
        }
    }
}
