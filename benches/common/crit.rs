//! Criterion plumbing shared by `benches/{reverse,forward,finite_diff}.rs`:
//! one benchmark group per workload, one function per method, with sample
//! counts chosen from a trial call so the whole `cargo bench` stays within a
//! few minutes on a 2-core machine.

#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode};

use crate::common::*;

/// The methods a group can time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Plain `f64` evaluation (the baseline).
    F64,
    /// The hand-written gradient.
    HandWritten,
    /// `reverse::gradient_into`.
    Reverse,
    /// `n` passes of `Dual<f64>`.
    Dual,
    /// `forward::gradient` with `DualVec<f64, 4>`.
    DualVec4,
    /// `forward::gradient` with `DualVec<f64, 8>`.
    DualVec8,
    /// `forward::gradient` with `DualVec<f64, 16>`.
    DualVec16,
    /// `finite_diff::gradient(.., Scheme::Central)`.
    CentralFd,
    /// One `Dual<f64>` pass (`forward::jvp`): the gradient costs `n` of these.
    DualOnePass,
    /// One `DualVec<f64, 16>` pass: the gradient costs `ceil(n / 16)`.
    DualVec16OnePass,
    /// One central-difference pair: the gradient costs `n` of these.
    FdOnePair,
}

impl Method {
    pub fn label(self) -> &'static str {
        match self {
            Method::F64 => "f64",
            Method::HandWritten => "hand-written",
            Method::Reverse => "reverse",
            Method::Dual => "Dual",
            Method::DualVec4 => "DualVec4",
            Method::DualVec8 => "DualVec8",
            Method::DualVec16 => "DualVec16",
            Method::CentralFd => "central-fd",
            Method::DualOnePass => "Dual-one-pass",
            Method::DualVec16OnePass => "DualVec16-one-pass",
            Method::FdOnePair => "central-fd-one-pair",
        }
    }
}

/// The default configuration: short warm-up and measurement, fewer
/// bootstrap resamples; the command line (`cargo bench -- ...`) still wins.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(20)
        .nresamples(10_000)
}

/// Sets the group's sampling for a routine of about `t` seconds per call.
fn settings(g: &mut BenchmarkGroup<'_, WallTime>, t: f64) {
    if t < 1e-3 {
        g.sampling_mode(SamplingMode::Auto)
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_millis(1500));
    } else if t < 50e-3 {
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs_f64((35.0 * t).max(1.5)));
    } else {
        // Criterion runs at least one call per sample, so ask for 10 samples
        // with room to spare: the trial call may have been a fast one.
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_secs_f64(t.max(0.3)))
            .measurement_time(Duration::from_secs_f64(16.0 * t));
    }
}

/// Times one routine in the group, after trial calls that size the sampling
/// (the slower of two warm calls).
fn one<R>(g: &mut BenchmarkGroup<'_, WallTime>, id: BenchmarkId, mut f: impl FnMut() -> R) {
    black_box(f());
    let mut t = 0.0f64;
    for _ in 0..2 {
        let start = Instant::now();
        black_box(f());
        t = t.max(start.elapsed().as_secs_f64());
    }
    settings(g, t);
    g.bench_function(id, |b| b.iter(&mut f));
}

/// Benchmarks `methods` on `w` in the group `group` (function ids are the
/// method labels, with `param` as the parameter when given).
pub fn bench<W: Workload>(
    c: &mut Criterion,
    group: &str,
    param: Option<usize>,
    w: &W,
    methods: &[Method],
) {
    let x = w.x0().to_vec();
    let n = x.len();
    let mut g = c.benchmark_group(group);
    for &m in methods {
        let id = match param {
            Some(p) => BenchmarkId::new(m.label(), p),
            None => BenchmarkId::from_parameter(m.label()),
        };
        let x = black_box(&x);
        let mut grad = vec![0.0; n];
        let mut xm = x.clone();
        match m {
            Method::F64 => one(&mut g, id, || eval_f64(w, black_box(x))),
            Method::HandWritten => one(&mut g, id, || analytic(w, black_box(x), &mut grad)),
            Method::Reverse => one(&mut g, id, || reverse_into(w, black_box(x), &mut grad)),
            Method::Dual => one(&mut g, id, || dual_passes(w, black_box(x), &mut grad)),
            Method::DualVec4 => one(&mut g, id, || dualvec::<W, 4>(w, black_box(x))),
            Method::DualVec8 => one(&mut g, id, || dualvec::<W, 8>(w, black_box(x))),
            Method::DualVec16 => one(&mut g, id, || dualvec::<W, 16>(w, black_box(x))),
            Method::CentralFd => one(&mut g, id, || central_fd(w, black_box(x))),
            Method::DualOnePass => one(&mut g, id, || dual_one_pass(w, black_box(x))),
            Method::DualVec16OnePass => {
                one(&mut g, id, || dualvec_one_pass::<W, 16>(w, black_box(x)))
            }
            Method::FdOnePair => one(&mut g, id, || fd_one_pair(w, black_box(&mut xm))),
        }
    }
    g.finish();
}
