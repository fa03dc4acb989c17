//! Forward mode (issue 5 item 1, forward columns): plain `f64` evaluation,
//! `n` passes of `Dual<f64>`, and `forward::gradient` with `DualVec<f64, N>`
//! for N = 4, 8, 16. Extended Rosenbrock at n = 10 to 10⁴.
//!
//! The 2-64-64-1 network has 4417 inputs, so a forward gradient would take
//! seconds to minutes: there one pass of each is timed (the gradient costs
//! `n` Dual passes or `ceil(n / 16)` DualVec16 passes).

use criterion::{criterion_group, criterion_main, Criterion};

mod common;
#[path = "common/crit.rs"]
mod crit;

use common::*;
use crit::Method::{Dual, DualOnePass, DualVec16, DualVec16OnePass, DualVec4, DualVec8, F64};

const METHODS: &[crit::Method] = &[F64, Dual, DualVec4, DualVec8, DualVec16];

fn rosenbrock(c: &mut Criterion) {
    for n in [10, 100, 1000, 10_000] {
        crit::bench(
            c,
            "forward/rosenbrock",
            Some(n),
            &Rosenbrock::new(n),
            METHODS,
        );
    }
}

fn networks(c: &mut Criterion) {
    crit::bench(
        c,
        "forward/notebook-2-3-1-loops",
        None,
        &Notebook::new(1000),
        METHODS,
    );
    crit::bench(
        c,
        "forward/notebook-2-3-1-nalgebra",
        None,
        &NotebookNalgebra::new(1000),
        METHODS,
    );
    crit::bench(
        c,
        "forward/mlp-2-64-64-1-nalgebra",
        None,
        &Mlp::new(1000),
        &[F64, DualOnePass, DualVec16OnePass],
    );
}

fn logdet(c: &mut Criterion) {
    crit::bench(
        c,
        "forward/logdet-cholesky-20",
        None,
        &LogDet::new(20),
        METHODS,
    );
}

criterion_group! {
    name = benches;
    config = crit::config();
    targets = rosenbrock, networks, logdet
}
criterion_main!(benches);
