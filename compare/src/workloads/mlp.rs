//! Hand-written backpropagation for the nalgebra network (the same network as
//! `na_generic::mlp_loss`, in f64 with matrix products).

use super::data::Dataset;
use nalgebra::{DMatrix, DVector};

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

pub fn gradient(p: &[f64], sizes: &[usize], data: &Dataset) -> (f64, Vec<f64>) {
    assert_eq!(*sizes.last().unwrap(), 1, "one output");
    let n = data.len();
    let mut acts = vec![DMatrix::from_fn(2, n, |r, c| data.points[c][r])];
    let mut layers = Vec::new(); // (W, offset of W in p)
    let mut off = 0;
    for pair in sizes.windows(2) {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        let w = DMatrix::from_row_slice(fan_out, fan_in, &p[off..off + fan_out * fan_in]);
        let b = DVector::from_column_slice(
            &p[off + fan_out * fan_in..off + fan_out * fan_in + fan_out],
        );
        let mut z = &w * acts.last().unwrap();
        for mut col in z.column_iter_mut() {
            col += &b;
        }
        acts.push(z.map(sigmoid));
        layers.push((w, off));
        off += fan_out * fan_in + fan_out;
    }

    let y = acts.last().unwrap();
    let mut sum = 0.0;
    for (&yi, &t) in y.iter().zip(&data.labels) {
        sum += t * yi.ln() + (1.0 - t) * (1.0 - yi).ln();
    }
    let loss = -sum / n as f64;

    // dL/dZ_last = (Y - Y_T) / N, then back layer by layer.
    let mut g = vec![0.0; p.len()];
    let mut delta = DMatrix::from_fn(1, n, |_, c| (y[(0, c)] - data.labels[c]) / n as f64);
    for (l, (w, off)) in layers.iter().enumerate().rev() {
        let a_prev = &acts[l];
        let dw = &delta * a_prev.transpose();
        let (fan_out, fan_in) = dw.shape();
        for i in 0..fan_out {
            for j in 0..fan_in {
                g[off + i * fan_in + j] = dw[(i, j)];
            }
        }
        let db = delta.column_sum();
        g[off + fan_out * fan_in..off + fan_out * fan_in + fan_out].copy_from_slice(db.as_slice());
        if l > 0 {
            let mut d = w.transpose() * &delta;
            d.zip_apply(a_prev, |di, a| *di *= a * (1.0 - a));
            delta = d;
        }
    }
    (loss, g)
}
