//! xad-rs (behind this crate's `xad` feature: xad-rs 1.0 declares
//! rust-version 1.98, so building it on an older stable toolchain takes
//! `cargo run --release -p dualtape-compare --features xad --ignore-rust-version`).
//!
//! - `AReal<f64>`, reverse mode, through `ops::compute_gradient_rev_with` on a
//!   tape kept across calls (its documented form for loops: the recording
//!   reuses the tape's allocation).
//! - `JetK<f64, K>`, forward mode with K tangent lanes, through
//!   `ops::compute_gradient_fwd_k`: K = n where n <= 16 (one pass), and
//!   K = 8 (⌈n/8⌉ passes).
//!
//! The scalar workloads are written once over `Real<Passive = f64>` (xad-rs's
//! mode-agnostic trait), with constants on the right as `R op f64` and on the
//! left as `R::one()` or `R::from(c)` (its documented form: `f64 op R` exists
//! for each concrete type, but a generic `R: Real<Passive = f64>` does not
//! see it) and `.clone()` where a value is used twice (`AReal`
//! is not `Copy`). xad-rs implements no nalgebra trait: the nalgebra
//! workloads cannot be written.

use crate::harness::{Method, Peer};
use crate::workloads::Dataset;
use crate::workloads::{consts, Workload};
use xad_rs::ops::{compute_gradient_fwd_k, compute_gradient_rev_with};
use xad_rs::{AReal, JetK, Real, Tape};

pub struct Xad;

pub const REVERSE: &str = "xad-rs AReal, tape reused";

fn rosenbrock<R: Real<Passive = f64>>(x: &[R]) -> R {
    let mut s = R::zero();
    for p in x.chunks_exact(2) {
        let a = p[1].clone() - p[0].clone() * p[0].clone();
        let b = R::one() - p[0].clone();
        s = s + a.clone() * a * 100.0 + b.clone() * b;
    }
    s
}

fn sigmoid<R: Real<Passive = f64>>(z: R) -> R {
    R::one() / (R::one() + Real::exp(&-z))
}

fn net231<R: Real<Passive = f64>>(p: &[R], data: &Dataset) -> R {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], &p[12]);
    let mut sum = R::zero();
    for (x, &t) in data.points.iter().zip(&data.labels) {
        let mut z2 = b2.clone();
        for j in 0..3 {
            let z1 = w1[2 * j].clone() * x[0] + w1[2 * j + 1].clone() * x[1] + b1[j].clone();
            z2 = z2 + w2[j].clone() * sigmoid(z1);
        }
        let y = sigmoid(z2);
        sum = sum + Real::ln(&y) * t + Real::ln(&(R::one() - y)) * (1.0 - t);
    }
    -sum / data.len() as f64
}

fn objective<R: Real<Passive = f64>>(w: &Workload, x: &[R]) -> R {
    match w {
        Workload::ConstDiv => R::from(consts::C) / x[0].clone(),
        Workload::ConstSub => R::from(consts::C) - x[0].clone(),
        Workload::Rosenbrock { .. } => rosenbrock(x),
        Workload::Net231 { data, .. } => net231(x, data),
        Workload::Mlp { .. } | Workload::LogDet { .. } => {
            unreachable!("nalgebra workloads are `cannot express` for xad-rs")
        }
    }
}

fn jetk<const K: usize>(w: &Workload) -> Method {
    let n = w.dim();
    let p = n.div_ceil(K);
    let name = if n == K {
        format!("xad-rs JetK<f64, {K}>, 1 pass (K = n)")
    } else {
        format!(
            "xad-rs JetK<f64, {K}>, {p} pass{}",
            if p == 1 { "" } else { "es" }
        )
    };
    if n != K {
        if let Some(reason) = w.skip_n_passes() {
            return Method::skip(name, reason);
        }
    }
    let w = w.clone();
    Method::run_vec(name, move |x| {
        compute_gradient_fwd_k::<K, _>(x, |v: &[JetK<f64, K>]| objective(&w, v))
    })
}

impl Peer for Xad {
    fn name(&self) -> String {
        format!("xad-rs {}", env!("VERSION_XAD"))
    }

    fn methods(&self, w: &Workload) -> Vec<Method> {
        if matches!(w, Workload::Mlp { .. } | Workload::LogDet { .. }) {
            return vec![Method::cannot(
                REVERSE,
                "xad-rs implements no nalgebra trait (its scalars are not RealField)",
            )];
        }
        let mut methods = Vec::new();
        {
            let w = w.clone();
            let mut tape = Tape::<f64>::new(false);
            methods.push(Method::run_vec(REVERSE, move |x| {
                compute_gradient_rev_with(&mut tape, x, |v: &[AReal<f64>]| objective(&w, v))
            }));
        }
        match w.dim() {
            1 => methods.push(jetk::<1>(w)),
            10 => methods.push(jetk::<10>(w)),
            13 => methods.push(jetk::<13>(w)),
            _ => {}
        }
        methods.push(jetk::<8>(w));
        methods
    }
}
