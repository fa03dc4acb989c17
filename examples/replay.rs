//! Record once, replay many: a recorded program's gradient and
//! Hessian-vector product against one plain `f64` evaluation, the
//! hand-written gradient and a fresh reverse-mode recording, side by side in
//! one run (medians of interleaved rounds, per call); with feature `jit`
//! (on in the examples) the gradient and HVP of a small program run
//! compiled, and the `interpreted` columns are the same program with
//! `Jit::Off`.
//!
//! ```text
//! cargo run --release --example replay            # the full table
//! cargo run --release --example replay -- quick   # n ≤ 10⁵, shorter rounds (~15 s)
//! cargo run --release --example replay -- quick 1000000   # only these Rosenbrock sizes, no net
//! cargo run --release --example replay -- quick net       # only the notebook net rows
//! ```

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use common::*;
use dualtape::{reverse, Var};

/// Median seconds per call of each method, over `rounds` interleaved rounds
/// of about `budget` seconds each in total.
fn measure(methods: &mut [&mut dyn FnMut()], rounds: usize, budget: f64) -> Vec<f64> {
    // calls per round: so that the slowest method's round takes budget/rounds
    let mut per = Vec::new();
    for m in methods.iter_mut() {
        m(); // warm
        let t = Instant::now();
        m();
        per.push(t.elapsed().as_secs_f64().max(1e-9));
    }
    let slowest = per.iter().cloned().fold(0.0, f64::max);
    let calls = ((budget / rounds as f64 / methods.len() as f64) / slowest).max(1.0) as usize;
    let mut samples = vec![Vec::new(); methods.len()];
    for _ in 0..rounds {
        for (k, m) in methods.iter_mut().enumerate() {
            let reps = (calls as f64 * slowest / per[k]).max(1.0) as usize;
            let t = Instant::now();
            for _ in 0..reps {
                m();
            }
            samples[k].push(t.elapsed().as_secs_f64() / reps as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect()
}

fn row<W: Workload>(w: &W, rounds: usize, budget: f64) {
    let x = w.x0().to_vec();
    let n = x.len();
    let t = Instant::now();
    let program = reverse::record(|v: &[Var]| w.eval(v), &x);
    let record_time = t.elapsed().as_secs_f64();
    // the same program, always interpreted (the `jit` feature compiles
    // `program`'s gradient at its `tier`-th call where it is small enough)
    let mut interp = program.clone();
    interp.set_jit(dualtape::reverse::program::Jit::Off);
    let mut iws = interp.workspace();
    let mut ws = program.workspace();
    let mut hws = reverse::Workspace::default();
    let (mut g1, mut g2, mut g3, mut g4, mut hg, mut hv) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    let dir: Vec<f64> = (0..n).map(|i| 1.0 - (i % 3) as f64 * 0.5).collect();
    // every gradient is checked against the hand-written one first
    let v0 = w.analytic(&x, &mut g1);
    let v1 = program.gradient_into(&mut ws, &x, &mut g2).unwrap();
    assert!(
        (v0 - v1).abs() <= 1e-12 * v0.abs(),
        "{}: {v0} vs {v1}",
        w.name()
    );
    for (a, b) in g1.iter().zip(&g2) {
        assert!(
            (a - b).abs() <= 1e-9 * a.abs().max(1.0),
            "{}: {a} vs {b}",
            w.name()
        );
    }
    // past the tiering (`Jit::Auto` compiles the gradient at its `tier`-th
    // call, the HVP at its `tier`-th HVP, where the program is small
    // enough)
    let mut ihws = reverse::Workspace::default();
    let (mut ihg, mut ihv) = (vec![0.0; n], vec![0.0; n]);
    let len = program.instructions().len();
    for _ in 0..dualtape::reverse::program::tier(len).unwrap_or(0) {
        program.gradient_into(&mut ws, &x, &mut g2).unwrap();
        program
            .hvp_into(&mut hws, &x, &dir, &mut hg, &mut hv)
            .unwrap();
    }
    let (eval, hand, fresh, replay, hvp, interpreted, ihvp) = {
        let mut m_eval = || {
            black_box(eval_f64(w, black_box(&x)));
        };
        let mut m_hand = || {
            black_box(analytic(w, black_box(&x), &mut g1));
        };
        let mut m_fresh = || {
            black_box(reverse_into(w, black_box(&x), &mut g3));
        };
        let mut m_replay = || {
            black_box(
                program
                    .gradient_into(&mut ws, black_box(&x), &mut g2)
                    .unwrap(),
            );
        };
        let mut m_interp = || {
            black_box(
                interp
                    .gradient_into(&mut iws, black_box(&x), &mut g4)
                    .unwrap(),
            );
        };
        let mut m_hvp = || {
            black_box(
                program
                    .hvp_into(&mut hws, black_box(&x), &dir, &mut hg, &mut hv)
                    .unwrap(),
            );
        };
        let mut m_ihvp = || {
            black_box(
                interp
                    .hvp_into(&mut ihws, black_box(&x), &dir, &mut ihg, &mut ihv)
                    .unwrap(),
            );
        };
        let t = measure(
            &mut [
                &mut m_eval,
                &mut m_hand,
                &mut m_fresh,
                &mut m_replay,
                &mut m_hvp,
                &mut m_interp,
                &mut m_ihvp,
            ],
            rounds,
            budget,
        );
        (t[0], t[1], t[2], t[3], t[4], t[5], t[6])
    };
    let s = program.stats();
    println!(
        "| {} | {:.3} µs | {:.1} | {:.1} | **{:.1}** | {:.1} | {:.1} ({:.2}x replay) | {:.1} ({:.2}x interpreted) | {} → {} ops, {} KiB, {:.0} ops/batch | {:.0} |",
        w.name(),
        eval * 1e6,
        hand / eval,
        fresh / eval,
        replay / eval,
        interpreted / eval,
        hvp / eval,
        hvp / replay,
        ihvp / eval,
        ihvp / interpreted,
        s.recorded.ops,
        s.optimized.ops,
        s.optimized.bytes / 1024,
        s.optimized.ops as f64 / s.batches.max(1) as f64,
        record_time / eval,
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let (rounds, budget) = if quick { (5, 0.5) } else { (9, 4.0) };
    println!(
        "ratios to one f64 evaluation (median of {rounds} interleaved rounds)\n\n\
         | workload | f64 eval | hand | reverse::gradient | replay gradient | interpreted | replay HVP | interpreted HVP | program (recorded → optimised) | record |\n\
         |---|---|---|---|---|---|---|---|---|---|"
    );
    let chosen: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let net = std::env::args().any(|a| a == "net");
    let sizes: &[usize] = if net {
        &[]
    } else if !chosen.is_empty() {
        &chosen
    } else if quick {
        &[10, 100, 1000, 10_000, 100_000]
    } else {
        &[10, 100, 1000, 10_000, 100_000, 1_000_000]
    };
    for &n in sizes {
        row(&Rosenbrock::new(n), rounds, budget);
    }
    if chosen.is_empty() {
        row(&Notebook::new(1000), rounds, budget);
        row(&NotebookNalgebra::new(1000), rounds, budget);
    }
}
