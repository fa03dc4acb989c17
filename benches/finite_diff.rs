//! Central finite differences (issue 5 item 1, finite-difference column):
//! plain `f64` evaluation and `finite_diff::gradient(.., Scheme::Central)`,
//! `2n + 1` evaluations. Extended Rosenbrock at n = 10 to 10⁴; for the
//! 2-64-64-1 network (4417 inputs) one central pair is timed.

use criterion::{criterion_group, criterion_main, Criterion};

mod common;
#[path = "common/crit.rs"]
mod crit;

use common::*;
use crit::Method::{CentralFd, FdOnePair, F64};

const METHODS: &[crit::Method] = &[F64, CentralFd];

fn rosenbrock(c: &mut Criterion) {
    for n in [10, 100, 1000, 10_000] {
        crit::bench(c, "fd/rosenbrock", Some(n), &Rosenbrock::new(n), METHODS);
    }
}

fn networks(c: &mut Criterion) {
    crit::bench(
        c,
        "fd/notebook-2-3-1-loops",
        None,
        &Notebook::new(1000),
        METHODS,
    );
    crit::bench(
        c,
        "fd/notebook-2-3-1-nalgebra",
        None,
        &NotebookNalgebra::new(1000),
        METHODS,
    );
    crit::bench(
        c,
        "fd/mlp-2-64-64-1-nalgebra",
        None,
        &Mlp::new(1000),
        &[F64, FdOnePair],
    );
}

fn logdet(c: &mut Criterion) {
    crit::bench(c, "fd/logdet-cholesky-20", None, &LogDet::new(20), METHODS);
}

criterion_group! {
    name = benches;
    config = crit::config();
    targets = rosenbrock, networks, logdet
}
criterion_main!(benches);
