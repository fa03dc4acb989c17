//! The notebook's 2-3-1 sigmoid network with the mean binary cross-entropy
//! loss over a data set, written with scalar loops. 13 parameters, laid out
//! W1 (3x2, row-major), b1 (3), W2 (3), b2 (1).

use super::data::Dataset;

pub const SIZES: [usize; 3] = [2, 3, 1];
pub const N_PARAMS: usize = 13;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Plain f64 evaluation: the baseline.
pub fn eval(p: &[f64], data: &Dataset) -> f64 {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let mut sum = 0.0;
    for (x, &t) in data.points.iter().zip(&data.labels) {
        let mut z2 = b2;
        for j in 0..3 {
            let a1 = sigmoid(w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]);
            z2 += w2[j] * a1;
        }
        let y = sigmoid(z2);
        sum += t * y.ln() + (1.0 - t) * (1.0 - y).ln();
    }
    -sum / data.len() as f64
}

/// The notebook's backpropagation: dL/dZ2 = (Y - Y_T) / N, then the chain
/// rule back through W2, the sigmoid (A1 (1 - A1)) and W1.
pub fn gradient(p: &[f64], data: &Dataset) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; N_PARAMS];
    let loss = gradient_into(p, data, &mut g);
    (loss, g)
}

/// The same, into `g`; returns the loss.
pub fn gradient_into(p: &[f64], data: &Dataset, g: &mut [f64]) -> f64 {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let n = data.len() as f64;
    g.fill(0.0);
    let mut sum = 0.0;
    for (x, &t) in data.points.iter().zip(&data.labels) {
        let mut a1 = [0.0; 3];
        let mut z2 = b2;
        for j in 0..3 {
            a1[j] = sigmoid(w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]);
            z2 += w2[j] * a1[j];
        }
        let y = sigmoid(z2);
        sum += t * y.ln() + (1.0 - t) * (1.0 - y).ln();

        let dz2 = (y - t) / n;
        g[12] += dz2;
        for j in 0..3 {
            g[9 + j] += dz2 * a1[j];
            let dz1 = dz2 * w2[j] * a1[j] * (1.0 - a1[j]);
            g[2 * j] += dz1 * x[0];
            g[2 * j + 1] += dz1 * x[1];
            g[6 + j] += dz1;
        }
    }
    -sum / n
}
