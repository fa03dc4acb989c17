//! The backpropagation notebook, end to end: two toy data sets, the 2-3-1
//! sigmoid network trained by full-batch gradient descent (learning rate 1,
//! 2000 epochs) with the gradient from each of four methods, a wider 2-16-1
//! network trained with Adam, and the notebook's pictures.
//!
//! ```text
//! cargo run --release --example backprop [OUT_DIR]     (default target/backprop)
//! ```
//!
//! Every method trains the same network from the same initial parameters
//! through `dualtape_nn::train`, so their loss curves lie on top of each
//! other; the table says how far apart they are. The network is written
//! once (`nn::Mlp`, nalgebra matrices over any `Scalar`); the analytic
//! method is the notebook's hand derivation (`nn::notebook`).
//!
//! Pictures written (SVG, by plotters: `plots.rs`), per data set: the data
//! with a class legend (`*_data.svg`), the loss per epoch for every run
//! (`*_loss.svg`; the four methods' curves coincide, so they are drawn
//! wide, dashed, dotted and marked, each visible on the others), how far
//! each method's loss curve is from the analytic one (`*_loss_gap.svg`),
//! and P(class 1) over the plane before and after training, with the
//! decision boundary P = 0.5 and the training points on top
//! (`*_before.svg`, `*_after.svg`, `*_after_2-16-1.svg`). Also
//! `decision_map.svg`, a small copy of the disk/ring map after training
//! for the README (docs/decision_map.svg).

use dualtape_nn::data::{disk_ring, xor_blobs, Dataset};
use dualtape_nn::{
    train, Activation, Adam, GradientDescent, GradientMethod, Method, Mlp, Optimizer, Reverse,
    ReverseTape, TrainLog, CHUNK,
};
use plots::{Curve, Stroke};
use plotters::chart::SeriesLabelPosition;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::path::{Path, PathBuf};

mod plots;
use std::time::Instant;

/// Points per data set, as in the notebook (and as many again held out).
const N: usize = 1000;
/// The notebook's training: full-batch gradient descent, 2000 epochs, rate 1.
const EPOCHS: usize = 2000;
const LEARNING_RATE: f64 = 1.0;
/// Seed of the initial parameters (the same for every method).
const INIT_SEED: u64 = 0;
/// The wider network: 2-16-1 tanh, Adam, reverse mode.
const WIDE_EPOCHS: usize = 300;
const WIDE_RATE: f64 = 0.1;

/// One training run and what the table says about it.
struct Row {
    method: String,
    network: String,
    optimiser: String,
    /// Threads the gradient ran on (`dualtape::parallel`, chunks of `nn::CHUNK` points).
    threads: usize,
    log: TrainLog,
    train_accuracy: f64,
    held_out_accuracy: f64,
    /// Time of one gradient as a multiple of one f64 loss evaluation.
    cost: f64,
    /// max_k |g_k - g_analytic_k| at the initial parameters.
    disagreement: Option<f64>,
}

/// A per-epoch series as points (epoch number from 1, value).
fn epochs(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(e, &v)| ((e + 1) as f64, v))
        .collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Median seconds of one plain f64 evaluation of the loss.
fn loss_seconds(net: &Mlp, params: &[f64], data: &Dataset) -> f64 {
    let mut t: Vec<f64> = (0..101)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(net.loss(std::hint::black_box(params), data));
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Time of one gradient by `method` as a multiple of one plain f64
/// evaluation of the loss: the median over interleaved rounds (one gradient,
/// then one loss) of the ratio, so that other work on the machine affects
/// both alike.
fn gradient_cost(net: &Mlp, method: &dyn GradientMethod, params: &[f64], data: &Dataset) -> f64 {
    let objective = net.objective(data);
    let mut grad = vec![0.0; params.len()];
    // As in training: reverse mode records at the first call, then replays.
    let mut gradient = method.for_training(&objective);
    gradient(params, &mut grad).expect("the method worked in training");
    let mut ratios: Vec<f64> = (0..41)
        .map(|_| {
            let start = Instant::now();
            let l = gradient(params, &mut grad).expect("the method worked in training");
            let t_grad = start.elapsed().as_secs_f64();
            std::hint::black_box((l, &grad));
            let start = Instant::now();
            std::hint::black_box(net.loss(std::hint::black_box(params), data));
            t_grad / start.elapsed().as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// Where a picture goes; draws it with `draw` and records the path.
fn save(
    dir: &Path,
    name: &str,
    written: &mut Vec<PathBuf>,
    draw: impl FnOnce(&Path) -> Result<(), Box<dyn std::error::Error>>,
) {
    let path = dir.join(name);
    draw(&path).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    written.push(path);
}

/// Train `net` on `data` on the threads of `pool` and fill in a table row.
#[allow(clippy::too_many_arguments)]
fn run(
    pool: &ThreadPool,
    net: &Mlp,
    method: &(dyn GradientMethod + Sync),
    optimiser: &mut (dyn Optimizer + Send),
    epochs: usize,
    init: &[f64],
    data: &Dataset,
    held_out: &Dataset,
    oracle: Option<&[f64]>,
) -> Row {
    pool.install(|| train_row(net, method, optimiser, epochs, init, data, held_out, oracle))
}

#[allow(clippy::too_many_arguments)]
fn train_row(
    net: &Mlp,
    method: &dyn GradientMethod,
    optimiser: &mut dyn Optimizer,
    epochs: usize,
    init: &[f64],
    data: &Dataset,
    held_out: &Dataset,
    oracle: Option<&[f64]>,
) -> Row {
    let objective = net.objective(data);
    let disagreement = oracle.map(|g_hand| {
        let (_, g) = method
            .gradient(&objective, init)
            .expect("every method works on the notebook's network");
        max_abs_diff(&g, g_hand)
    });
    let optimiser_name = optimiser.describe().replace("gradient descent", "GD");
    let log = train(&objective, method, optimiser, init, epochs)
        .unwrap_or_else(|e| panic!("training {net} with {}: {e}", method.name()));
    let cost = gradient_cost(net, method, init, data);
    Row {
        method: method.name(),
        network: net.to_string(),
        optimiser: format!("{optimiser_name} x {epochs}"),
        // The hand-derived gradient is one serial loop.
        threads: if method.name() == Method::Analytic.name() {
            1
        } else {
            dualtape::parallel::threads()
        },
        train_accuracy: net.accuracy(&log.params, data),
        held_out_accuracy: net.accuracy(&log.params, held_out),
        log,
        cost,
        disagreement,
    }
}

fn print_row(r: &Row) {
    let dis = r.disagreement.map_or_else(
        || "n/a".to_string(),
        |d| {
            if d == 0.0 {
                "0".to_string()
            } else {
                format!("{d:.1e}")
            }
        },
    );
    println!(
        "  {:<18} {:<7} {:<22} {:>7} {:>8.5} {:>7.1}% {:>7.1}% {:>9.0} {:>7.1} {:>9}",
        r.method,
        r.network,
        r.optimiser,
        r.threads,
        r.log.final_loss(),
        100.0 * r.train_accuracy,
        100.0 * r.held_out_accuracy,
        r.log.median_epoch_seconds() * 1e6,
        r.cost,
        dis,
    );
}

fn main() {
    let started = Instant::now();
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target").join("backprop"));
    std::fs::create_dir_all(&out)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
    if cfg!(debug_assertions) {
        println!("(debug build: slow, and times are not representative; use --release)");
    }

    let sets = [
        ("disk_ring", "disk/ring", disk_ring(N, 1), disk_ring(N, 101)),
        ("xor", "XOR blobs", xor_blobs(N, 2), xor_blobs(N, 102)),
    ];
    let notebook = Mlp::notebook();
    let wide = Mlp::new(&[2, 16, 1], Activation::Tanh, Activation::Sigmoid);
    let init = notebook.init_params(INIT_SEED);
    let wide_init = wide.init_params_lecun(INIT_SEED);
    let mut written = Vec::new();
    // Every core (rayon's default pool size), and one thread for comparison.
    let all = ThreadPoolBuilder::new().build().expect("a thread pool");
    let one = ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool");

    for (file, label, data, held_out) in &sets {
        let objective = notebook.objective(data);
        let (_, oracle) = Method::Analytic
            .gradient(&objective, &init)
            .expect("the notebook's network has an analytic gradient");
        println!(
            "\n{label}: {} training points, {} held out. At the initial parameters the \
             loss is {:.4} and max |dL/dw| is {:.3}; one f64 loss evaluation takes {:.1} us.",
            data.len(),
            held_out.len(),
            objective.value(&init),
            oracle.iter().fold(0.0f64, |m, g| m.max(g.abs())),
            loss_seconds(&notebook, &init, data) * 1e6,
        );
        save(&out, &format!("{file}_data.svg"), &mut written, |p| {
            plots::data(p, &format!("{label} data"), data)
        });
        let title = format!(
            "{label}: 2-3-1 before training (loss {:.3})",
            objective.value(&init)
        );
        save(&out, &format!("{file}_before.svg"), &mut written, |p| {
            plots::decision_map(p, &title, &notebook, &init, data, (680, 560))
        });

        println!(
            "  {:<18} {:<7} {:<22} {:>7} {:>8} {:>8} {:>8} {:>9} {:>7} {:>9}",
            "method",
            "network",
            "optimiser",
            "threads",
            "loss",
            "train",
            "held-out",
            "us/epoch",
            "grad/f",
            "max |dg|"
        );
        let mut rows = Vec::new();
        for method in Method::ALL {
            let mut gd = GradientDescent {
                learning_rate: LEARNING_RATE,
            };
            let row = run(
                &all,
                &notebook,
                &method,
                &mut gd,
                EPOCHS,
                &init,
                data,
                held_out,
                Some(&oracle),
            );
            print_row(&row);
            rows.push(row);
        }
        // Reverse mode recording every epoch instead of replaying: the same
        // trajectory, bit for bit.
        let rerecord = run(
            &all,
            &notebook,
            &ReverseTape,
            &mut GradientDescent {
                learning_rate: LEARNING_RATE,
            },
            EPOCHS,
            &init,
            data,
            held_out,
            Some(&oracle),
        );
        print_row(&rerecord);
        assert!(
            rerecord.log.losses == rows[1].log.losses && rerecord.log.params == rows[1].log.params,
            "reverse mode replaying and recording every epoch trained differently"
        );
        // Reverse mode again on one thread: the same trajectory, bit for bit.
        let single = run(
            &one,
            &notebook,
            &Method::Reverse,
            &mut GradientDescent {
                learning_rate: LEARNING_RATE,
            },
            EPOCHS,
            &init,
            data,
            held_out,
            Some(&oracle),
        );
        print_row(&single);
        let reverse = &rows[1];
        assert!(
            single.log.losses == reverse.log.losses && single.log.params == reverse.log.params,
            "reverse mode on 1 and on {} threads trained differently",
            reverse.threads
        );
        let wide_row = run(
            &all,
            &wide,
            &Reverse,
            &mut Adam::new(WIDE_RATE),
            WIDE_EPOCHS,
            &wide_init,
            data,
            held_out,
            None,
        );
        print_row(&wide_row);

        // Loss curves: the four methods coincide (wide, dashed, dotted and
        // marked, so that each shows on the others); the wide network is its
        // own curve. Log-log over epochs 1..=2000, so the early and the late
        // phase both show.
        let all = rows.iter().chain([&wide_row]).flat_map(|r| &r.log.losses);
        let lo = all.clone().fold(f64::INFINITY, |m, &l| m.min(l));
        let hi = all.fold(0.0f64, |m, &l| m.max(l));
        let strokes = [Stroke::Wide, Stroke::Dashed, Stroke::Dotted, Stroke::Marked];
        let mut curves: Vec<Curve> = rows
            .iter()
            .zip(strokes)
            .map(|(r, stroke)| Curve {
                name: format!("2-3-1 {}", r.method),
                points: epochs(&r.log.losses),
                stroke,
            })
            .collect();
        curves.push(Curve {
            name: format!("{} Adam", wide_row.network),
            points: epochs(&wide_row.log.losses),
            stroke: Stroke::Solid,
        });
        save(&out, &format!("{file}_loss.svg"), &mut written, |p| {
            plots::lines(
                p,
                &format!("{label}: loss (2-3-1: 4 methods on one curve)"),
                ("epoch", "cross-entropy loss"),
                (1.0, EPOCHS as f64),
                (lo * 0.8, hi * 1.2),
                (true, true),
                &curves,
                SeriesLabelPosition::LowerLeft,
            )
        });

        // How far each method's loss curve is from the analytic one's.
        // Dots for the exact methods (their differences are rounding,
        // between 0 and a few 1e-16), crosses for finite differences.
        let gap_strokes = [Stroke::Dots, Stroke::Dots, Stroke::Dots, Stroke::Marked];
        let gaps: Vec<Curve> = rows
            .iter()
            .zip(gap_strokes)
            .skip(1)
            .map(|(r, stroke)| Curve {
                name: r.method.clone(),
                points: epochs(
                    &r.log
                        .losses
                        .iter()
                        .zip(&rows[0].log.losses)
                        .map(|(a, b)| (a - b).abs())
                        .collect::<Vec<_>>(),
                ),
                stroke,
            })
            .collect();
        let positive = gaps.iter().flat_map(|c| &c.points).map(|p| p.1);
        let gap_lo = positive
            .clone()
            .filter(|&g| g > 0.0)
            .fold(f64::INFINITY, f64::min);
        let gap_hi = positive.fold(0.0f64, f64::max);
        if gap_hi > 0.0 {
            save(&out, &format!("{file}_loss_gap.svg"), &mut written, |p| {
                plots::lines(
                    p,
                    &format!("{label}: |loss - analytic loss|, 2-3-1"),
                    ("epoch", "difference (0 not shown)"),
                    (1.0, EPOCHS as f64),
                    (gap_lo / 2.0, gap_hi * 20.0),
                    (false, true),
                    &gaps,
                    SeriesLabelPosition::UpperLeft,
                )
            });
        }

        // Decision maps after training: the reverse-mode runs.
        let trained = &rows[1];
        let title = |net: &str, r: &Row| {
            format!(
                "{label}: {net} after training ({:.1}% held out)",
                100.0 * r.held_out_accuracy
            )
        };
        save(&out, &format!("{file}_after.svg"), &mut written, |p| {
            plots::decision_map(
                p,
                &title("2-3-1", trained),
                &notebook,
                &trained.log.params,
                data,
                (680, 560),
            )
        });
        save(
            &out,
            &format!("{file}_after_2-16-1.svg"),
            &mut written,
            |p| {
                plots::decision_map(
                    p,
                    &title("2-16-1", &wide_row),
                    &wide,
                    &wide_row.log.params,
                    data,
                    (680, 560),
                )
            },
        );
        if *file == "disk_ring" {
            // A small copy for the README.
            save(&out, "decision_map.svg", &mut written, |p| {
                plots::decision_map(
                    p,
                    "disk/ring, 2-3-1 network, trained",
                    &notebook,
                    &trained.log.params,
                    data,
                    (560, 460),
                )
            });
        }
    }

    println!(
        "\nColumns: final cross-entropy on the training set; accuracy on the training set \
         and on {N} held-out points;\nmedian wall-clock time per epoch (one gradient and one \
         step); grad/f = the time of one gradient as a\nmultiple of one f64 evaluation of the \
         same network's loss (median of interleaved rounds);\nmax |dg| = max over the \
         parameters of |g - g_analytic|, the method's gradient against the hand-derived\none, \
         at the initial parameters (n/a: no hand derivation for 2-16-1). GD = gradient \
         descent.\nthreads = threads of the full-batch gradient (dualtape::parallel: chunks of \
         {CHUNK} points summed in a\nfixed order, so reverse mode on 1 thread follows the same \
         trajectory bit for bit; checked).\nreverse = one program per chunk length recorded at the \
         first epoch and replayed after;\nreverse, re-record = every chunk recorded on the tape \
         at every epoch (the same trajectory, bit for bit; checked).\nForward mode carries 16 \
         tangents per pass; finite differences are central (27 loss evaluations\nper gradient)."
    );
    println!("\nwrote:");
    for p in &written {
        println!("  {}", p.display());
    }
    println!("\ntotal time {:.1} s", started.elapsed().as_secs_f64());
}
