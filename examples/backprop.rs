//! The backpropagation notebook, end to end: two toy data sets, the 2-3-1
//! sigmoid network, full-batch gradient descent with learning rate 1 for
//! 2000 epochs, and the notebook's pictures.
//!
//! ```text
//! cargo run --release --example backprop [OUT_DIR]     (default target/backprop)
//! ```
//!
//! Each way of computing the gradient is one entry in [`methods`]; every
//! method trains from the same initial parameters, so their loss curves
//! should lie on top of each other. Today the list holds the notebook's
//! hand-derived backward pass; forward mode, reverse mode and finite
//! differences join it as closures of the same shape.
//!
//! Pictures written, per data set: the data (`*_data.png`), the loss per
//! epoch for every method (`*_loss.png`), and P(class 1) over the plane
//! before and after training (`*_before.png`, `*_after.png`).

use dualtape::nn::data::{disk_ring, xor_blobs, Dataset};
use dualtape::nn::notebook;
use dualtape_plot::{Colormap, Figure, Heatmap, LegendPos, BLUE, RED};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Points per data set, as in the notebook.
const N: usize = 1000;
/// Training epochs (full-batch gradient descent steps).
const EPOCHS: usize = 2000;
/// Learning rate.
const LEARNING_RATE: f64 = 1.0;
/// Seed for the initial parameters (the same for every method).
const INIT_SEED: u64 = 0;

/// A way of computing the cross-entropy loss and its gradient with respect
/// to the 13 parameters (in `notebook`'s order).
type Gradient = Box<dyn Fn(&[f64], &Dataset) -> (f64, Vec<f64>)>;

/// One differentiation method to train with.
struct Method {
    name: &'static str,
    gradient: Gradient,
}

/// The methods compared. Add one by pushing another closure.
fn methods() -> Vec<Method> {
    vec![Method {
        name: "hand-derived backprop",
        gradient: Box::new(notebook::gradient),
    }]
}

/// What one training run produced.
struct Run {
    /// Loss before each epoch's step, then the final loss: EPOCHS + 1 values.
    losses: Vec<f64>,
    /// Parameters after training.
    params: Vec<f64>,
    /// Wall-clock seconds per epoch (one gradient and one update).
    seconds_per_epoch: f64,
}

/// Full-batch gradient descent from `init`.
fn train(gradient: &Gradient, data: &Dataset, init: &[f64]) -> Run {
    let mut w = init.to_vec();
    let mut losses = Vec::with_capacity(EPOCHS + 1);
    let start = Instant::now();
    for _ in 0..EPOCHS {
        let (loss, g) = gradient(&w, data);
        losses.push(loss);
        for (wi, gi) in w.iter_mut().zip(&g) {
            *wi -= LEARNING_RATE * gi;
        }
    }
    let seconds_per_epoch = start.elapsed().as_secs_f64() / EPOCHS as f64;
    losses.push(notebook::loss(&w, data));
    Run {
        losses,
        params: w,
        seconds_per_epoch,
    }
}

/// The data set's two classes as a scatter plot (red class 1, blue class 0),
/// on axes spanning 1.1 x the data range.
fn data_figure(title: &str, data: &Dataset) -> Figure {
    let b = data.bounds().scaled(1.1);
    Figure::new(title)
        .size(560, 560)
        .x_label("x1")
        .y_label("x2")
        .x_range(b.x_min, b.x_max)
        .y_range(b.y_min, b.y_max)
        .scatter("class 1", data.class_points(1.0), RED)
        .scatter("class 0", data.class_points(0.0), BLUE)
        .legend(LegendPos::Hidden)
}

/// P(class 1) over 1.1 x the data range, with the 0.5 contour, a colour
/// bar, and the training points on top.
fn decision_map(title: &str, params: &[f64], data: &Dataset) -> Figure {
    let b = data.bounds().scaled(1.1);
    let map = Heatmap::from_fn((b.x_min, b.x_max), (b.y_min, b.y_max), 201, 201, |x, y| {
        notebook::predict(params, x, y)
    })
    .value_range(0.0, 1.0)
    .colormap(Colormap::BlueRed)
    .contour(0.5)
    .label("P(class 1)");
    data_figure(title, data).size(680, 560).heatmap(map)
}

fn save(fig: &Figure, dir: &Path, name: &str, written: &mut Vec<PathBuf>) {
    let path = dir.join(name);
    fig.save(&path)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    written.push(path);
}

fn main() {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target").join("backprop"));
    std::fs::create_dir_all(&out)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
    if cfg!(debug_assertions) {
        println!("(debug build: times are not representative; use --release)");
    }

    let sets = [
        ("disk_ring", "disk/ring", disk_ring(N, 1), disk_ring(N, 101)),
        ("xor", "XOR blobs", xor_blobs(N, 2), xor_blobs(N, 102)),
    ];
    let methods = methods();
    let init = notebook::init_params(INIT_SEED);
    let mut written = Vec::new();

    for (file, label, data, fresh) in &sets {
        println!(
            "\n{label}: {} points, {EPOCHS} epochs, learning rate {LEARNING_RATE}",
            data.len()
        );
        save(
            &data_figure(&format!("{label} data"), data),
            &out,
            &format!("{file}_data.png"),
            &mut written,
        );

        let before = decision_map(
            &format!(
                "{label}: before training (loss {:.3})",
                notebook::loss(&init, data)
            ),
            &init,
            data,
        );
        save(&before, &out, &format!("{file}_before.png"), &mut written);

        println!(
            "  {:<24} {:>10} {:>10} {:>10} {:>14} {:>12}",
            "method", "loss", "accuracy", "fresh acc", "us per epoch", "max |dw|"
        );
        let mut loss_fig = Figure::new(format!("{label}: training loss"))
            .x_label("epoch")
            .y_label("cross-entropy loss")
            .x_range(0.0, EPOCHS as f64);
        let mut runs = Vec::new();
        for m in &methods {
            let run = train(&m.gradient, data, &init);
            // How far this method's final parameters are from the first's.
            let dw = runs.first().map_or(0.0, |r: &Run| {
                r.params
                    .iter()
                    .zip(&run.params)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            });
            println!(
                "  {:<24} {:>10.5} {:>9.1}% {:>9.1}% {:>14.2} {:>12.2e}",
                m.name,
                run.losses[EPOCHS],
                100.0 * notebook::accuracy(&run.params, data),
                100.0 * notebook::accuracy(&run.params, fresh),
                run.seconds_per_epoch * 1e6,
                dw,
            );
            loss_fig = loss_fig.line(
                m.name,
                run.losses.iter().enumerate().map(|(i, &l)| (i as f64, l)),
            );
            runs.push(run);
        }
        save(&loss_fig, &out, &format!("{file}_loss.png"), &mut written);

        let trained = &runs[0].params;
        let after = decision_map(
            &format!(
                "{label}: after training (loss {:.3}, {:.1}% right)",
                notebook::loss(trained, data),
                100.0 * notebook::accuracy(trained, data)
            ),
            trained,
            data,
        );
        save(&after, &out, &format!("{file}_after.png"), &mut written);
    }

    println!("\nwrote:");
    for p in &written {
        println!("  {}", p.display());
    }
}
