//! autodiff: forward mode with one tangent, `F1` (= `F<f64, f64>`), one pass
//! per input through its `grad` driver.
//!
//! It has a single number type, so the scalar workloads are written for `F1`
//! directly, with `f64` constants on either side (`1.0 - x`, `1.0 / x` exist,
//! though a bare literal on the left needs its type, `1.0_f64 - x`, since
//! `f32 - F1` exists too).
//! The nalgebra workloads come from `na_generic::na032`: autodiff's `na`
//! feature implements nalgebra 0.32's `RealField`.

use crate::harness::{Method, Peer};
use crate::workloads::na_generic::na032;
use crate::workloads::Dataset;
use crate::workloads::{consts, Workload};
use autodiff::{grad, Float, F1};
use std::cell::Cell;

pub struct Autodiff;

fn rosenbrock(x: &[F1]) -> F1 {
    let mut s = F1::cst(0.0);
    for p in x.chunks_exact(2) {
        let a = p[1] - p[0] * p[0];
        let b = 1.0_f64 - p[0];
        s += a * a * 100.0 + b * b;
    }
    s
}

fn sigmoid(z: F1) -> F1 {
    1.0_f64 / (1.0 + (-z).exp())
}

fn net231(p: &[F1], data: &Dataset) -> F1 {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let mut sum = F1::cst(0.0);
    for (x, &t) in data.points.iter().zip(&data.labels) {
        let mut z2 = b2;
        for j in 0..3 {
            let a1 = sigmoid(w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]);
            z2 += w2[j] * a1;
        }
        let y = sigmoid(z2);
        sum += y.ln() * t + (1.0_f64 - y).ln() * (1.0 - t);
    }
    -sum / data.len() as f64
}

fn objective(w: &Workload, x: &[F1]) -> F1 {
    match w {
        Workload::ConstDiv => consts::C / x[0],
        Workload::ConstSub => consts::C - x[0],
        Workload::Rosenbrock { .. } => rosenbrock(x),
        Workload::Net231 { data, .. } => net231(x, data),
        Workload::Mlp {
            sizes,
            hidden,
            data,
            ..
        } => na032::mlp_loss(x, sizes, *hidden, data),
        Workload::LogDet { m, .. } => na032::logdet(x, *m),
    }
}

impl Peer for Autodiff {
    fn name(&self) -> String {
        format!("autodiff {}", env!("VERSION_AUTODIFF"))
    }

    fn methods(&self, w: &Workload) -> Vec<Method> {
        let name = "autodiff F1, n passes";
        let method = match w.skip_n_passes() {
            Some(reason) => Method::skip(name, reason),
            None => {
                let w = w.clone();
                Method::run_vec(name, move |x: &[f64]| {
                    // `grad` returns only the gradient; keep the value of a pass.
                    let value = Cell::new(f64::NAN);
                    let g = grad(
                        |v: &[F1]| {
                            let y = objective(&w, v);
                            value.set(y.value());
                            y
                        },
                        x,
                    );
                    (value.get(), g)
                })
            }
        };
        vec![method]
    }
}
