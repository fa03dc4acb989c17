//! Reverse mode (issue 3 item 6; issue 5 item 1, reverse column): for each
//! workload, plain `f64` evaluation, the hand-written gradient and
//! `reverse::gradient_into`, side by side in one group. Before each group the
//! tape of one gradient is printed: nodes, bytes per node, peak size.
//!
//! Extended Rosenbrock runs at n = 10, 100, ..., 10⁶. Criterion gives
//! absolute times; the ratios to `f64` in one run come from compare/
//! (`cargo run --release -p dualtape-compare`).

use criterion::{criterion_group, criterion_main, Criterion};

mod common;
#[path = "common/crit.rs"]
mod crit;

use common::*;
use crit::Method::{HandWritten, Reverse, F64};

const METHODS: &[crit::Method] = &[F64, HandWritten, Reverse];

fn rosenbrock(c: &mut Criterion) {
    for n in [10, 100, 1000, 10_000, 100_000, 1_000_000] {
        let w = Rosenbrock::new(n);
        eprintln!("{}", tape_line(&w));
        crit::bench(c, "reverse/rosenbrock", Some(n), &w, METHODS);
    }
}

fn networks(c: &mut Criterion) {
    let w = Notebook::new(1000);
    eprintln!("{}", tape_line(&w));
    crit::bench(c, "reverse/notebook-2-3-1-loops", None, &w, METHODS);

    let w = NotebookNalgebra::new(1000);
    eprintln!("{}", tape_line(&w));
    crit::bench(c, "reverse/notebook-2-3-1-nalgebra", None, &w, METHODS);

    let w = Mlp::new(1000);
    eprintln!("{}", tape_line(&w));
    crit::bench(c, "reverse/mlp-2-64-64-1-nalgebra", None, &w, METHODS);
}

fn logdet(c: &mut Criterion) {
    let w = LogDet::new(20);
    eprintln!("{}", tape_line(&w));
    crit::bench(c, "reverse/logdet-cholesky-20", None, &w, METHODS);
}

criterion_group! {
    name = benches;
    config = crit::config();
    targets = rosenbrock, networks, logdet
}
criterion_main!(benches);
