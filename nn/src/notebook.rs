//! The notebook's 2-3-1 sigmoid network with its hand-derived gradient, in
//! plain f64: the oracle other differentiation methods are checked against
//! and the speed reference they are compared to.
//!
//! The network, for an input row x = (x0, x1):
//!
//! ```text
//! z1 = W1 x + b1        W1: 3x2, b1: 3        (the notebook's Z1 = X W1^T + b1)
//! h  = sigmoid(z1)
//! z2 = W2 . h + b2      W2: 3,   b2: scalar   (Z2 = H W2^T + b2)
//! y  = sigmoid(z2)      P(class 1)
//! ```
//!
//! # Parameter order
//!
//! All 13 parameters travel as one flat `&[f64]` ([`N_PARAMS`]), in this
//! order, which every other implementation of the network must share:
//!
//! | index | parameter |
//! |---|---|
//! | 0..6   | W1 row-major: w1\[0\]\[0\], w1\[0\]\[1\], w1\[1\]\[0\], w1\[1\]\[1\], w1\[2\]\[0\], w1\[2\]\[1\] ([`W1`]) |
//! | 6..9   | b1\[0\], b1\[1\], b1\[2\] ([`B1`]) |
//! | 9..12  | W2: w2\[0\], w2\[1\], w2\[2\] ([`W2`]) |
//! | 12     | b2 ([`B2`]) |
//!
//! Row j of W1 holds the weights into hidden unit j.
//!
//! # Losses
//!
//! Both are means over the N points:
//! binary cross-entropy ([`loss`], [`gradient`]),
//! L = (1/N) sum(-t ln y - (1 - t) ln(1 - y)), and the notebook's first try,
//! squared error ([`squared_error_loss`], [`squared_error_gradient`]),
//! L = (1/N) sum(1/2 (y - t)^2).
//!
//! ```
//! use dualtape_nn::{data::disk_ring, notebook};
//!
//! let data = disk_ring(200, 1);
//! let mut w = notebook::init_params(0);
//! let first = notebook::loss(&w, &data);
//! for _ in 0..200 {
//!     let (_, g) = notebook::gradient(&w, &data);
//!     for (wi, gi) in w.iter_mut().zip(&g) {
//!         *wi -= 1.0 * gi; // learning rate 1, as in the notebook
//!     }
//! }
//! assert!(notebook::loss(&w, &data) < first);
//! ```

use super::data::Dataset;
use std::ops::Range;

/// Number of parameters of the 2-3-1 network.
pub const N_PARAMS: usize = 13;
/// Where W1 (3x2, row-major) sits in the flat parameter vector.
pub const W1: Range<usize> = 0..6;
/// Where b1 (3) sits in the flat parameter vector.
pub const B1: Range<usize> = 6..9;
/// Where W2 (3) sits in the flat parameter vector.
pub const W2: Range<usize> = 9..12;
/// Index of b2 in the flat parameter vector.
pub const B2: usize = 12;

/// The logistic function 1 / (1 + e^-z), written exactly so: for very
/// negative z, e^-z overflows to infinity and the result is 0, never NaN;
/// for large z, e^-z underflows to 0 and the result is 1. No branch, so
/// loops over it vectorise.
///
/// ```
/// use dualtape_nn::notebook::sigmoid;
/// assert_eq!(sigmoid(0.0), 0.5);
/// assert_eq!(sigmoid(1000.0), 1.0);
/// assert_eq!(sigmoid(-1000.0), 0.0);
/// ```
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// ln(1 + e^z), without overflow or cancellation: max(z, 0) + ln(1 + e^-|z|).
#[inline]
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// Binary cross-entropy of one point from the logit: with y = sigmoid(z2),
/// -t ln y - (1 - t) ln(1 - y) = softplus(z2) - t z2, since
/// -ln y = softplus(-z2) = softplus(z2) - z2 and -ln(1 - y) = softplus(z2).
/// Never takes ln(0), whatever z2.
#[inline]
fn bce_from_logit(z2: f64, t: f64) -> f64 {
    softplus(z2) - t * z2
}

/// Check the parameter vector's length.
fn check(params: &[f64]) {
    assert_eq!(
        params.len(),
        N_PARAMS,
        "the 2-3-1 network has 13 parameters"
    );
}

/// Unpacked parameters, so the per-point loops read locals.
#[derive(Clone, Copy)]
struct Params {
    w1: [[f64; 2]; 3],
    b1: [f64; 3],
    w2: [f64; 3],
    b2: f64,
}

impl Params {
    fn from_slice(p: &[f64]) -> Self {
        check(p);
        Params {
            w1: [[p[0], p[1]], [p[2], p[3]], [p[4], p[5]]],
            b1: [p[6], p[7], p[8]],
            w2: [p[9], p[10], p[11]],
            b2: p[12],
        }
    }

    /// Forward pass for one point: hidden activations and the output logit.
    #[inline(always)]
    fn forward(&self, x0: f64, x1: f64) -> ([f64; 3], f64) {
        // Z1 = X W1^T + b1 ; H = sigmoid(Z1)
        let h: [f64; 3] =
            std::array::from_fn(|j| sigmoid(self.w1[j][0] * x0 + self.w1[j][1] * x1 + self.b1[j]));
        // Z2 = H W2^T + b2
        let z2 = self.b2 + self.w2[0] * h[0] + self.w2[1] * h[1] + self.w2[2] * h[2];
        (h, z2)
    }
}

/// The two input columns as contiguous slices (nalgebra stores column-major).
fn columns(data: &Dataset) -> (&[f64], &[f64]) {
    data.x.as_slice().split_at(data.len())
}

/// Sum a per-point loss over the data set and divide by N.
fn mean_loss(params: &[f64], data: &Dataset, point_loss: impl Fn(f64, f64) -> f64) -> f64 {
    let p = Params::from_slice(params);
    let (xs0, xs1) = columns(data);
    let t = data.y.as_slice();
    let mut sum = 0.0;
    for i in 0..data.len() {
        let (_, z2) = p.forward(xs0[i], xs1[i]);
        sum += point_loss(z2, t[i]);
    }
    sum / data.len() as f64
}

/// Binary cross-entropy of the network on `data`, averaged over the N
/// points: (1/N) sum(-t ln y - (1 - t) ln(1 - y)). Computed from the output
/// logit z2 (as softplus(z2) - t z2), so it is finite for any finite
/// parameters, even when y rounds to exactly 0 or 1.
///
/// ```
/// use dualtape_nn::{data::xor_blobs, notebook};
/// // All-zero parameters predict 1/2 everywhere: the loss is ln 2.
/// let l = notebook::loss(&[0.0; 13], &xor_blobs(100, 0));
/// assert!((l - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn loss(params: &[f64], data: &Dataset) -> f64 {
    mean_loss(params, data, bce_from_logit)
}

/// Squared error averaged over the N points: (1/N) sum(1/2 (y - t)^2).
/// (The notebook's first loss; the 1/2 cancels the 2 of the derivative and
/// the mean over N matches [`loss`], so the learning rates compare.)
///
/// ```
/// use dualtape_nn::{data::disk_ring, notebook};
/// // y = 1/2 everywhere and t is 0 or 1: every point contributes 1/8.
/// let l = notebook::squared_error_loss(&[0.0; 13], &disk_ring(100, 0));
/// assert!((l - 0.125).abs() < 1e-15);
/// ```
pub fn squared_error_loss(params: &[f64], data: &Dataset) -> f64 {
    mean_loss(params, data, |z2, t| {
        let y = sigmoid(z2);
        0.5 * (y - t) * (y - t)
    })
}

/// The notebook's backward pass, one point at a time, all in registers:
/// `dz2` maps (z2, t) to (this point's loss, dL_i/dZ2 before the 1/N).
/// Writes the gradient into `grad` and returns the loss.
#[inline(always)]
fn backprop(
    params: &[f64],
    data: &Dataset,
    grad: &mut [f64],
    dz2: impl Fn(f64, f64) -> (f64, f64),
) -> f64 {
    let p = Params::from_slice(params);
    assert_eq!(grad.len(), N_PARAMS, "gradient buffer must hold 13 values");
    let n = data.len();
    let inv_n = 1.0 / n as f64;
    let (xs0, xs1) = columns(data);
    let t = data.y.as_slice();

    let mut loss = 0.0;
    let mut g_w1 = [[0.0f64; 2]; 3];
    let mut g_b1 = [0.0f64; 3];
    let mut g_w2 = [0.0f64; 3];
    let mut g_b2 = 0.0f64;
    for i in 0..n {
        let (x0, x1) = (xs0[i], xs1[i]);
        // Forward: Z1 = X W1^T + b1, H = sigmoid(Z1), Z2 = H W2^T + b2.
        let (h, z2) = p.forward(x0, x1);
        // L_i and dL/dZ2 (row i); for cross-entropy dL/dZ2 = (Y - Y_T) / N.
        let (l, d_z2) = dz2(z2, t[i]);
        let d_z2 = d_z2 * inv_n;
        loss += l;
        // dL/db2 = sum(dL/dZ2)
        g_b2 += d_z2;
        for j in 0..3 {
            // dL/dW2 = H^T dL/dZ2
            g_w2[j] += h[j] * d_z2;
            // dL/dH = dL/dZ2 W2 (outer product; row i)
            let d_h = d_z2 * p.w2[j];
            // dL/dZ1 = dL/dH * sigmoid'(Z1) = dL/dH * H (1 - H)
            let d_z1 = d_h * h[j] * (1.0 - h[j]);
            // dL/dW1 = dL/dZ1^T X
            g_w1[j][0] += d_z1 * x0;
            g_w1[j][1] += d_z1 * x1;
            // dL/db1 = column sums of dL/dZ1
            g_b1[j] += d_z1;
        }
    }
    for j in 0..3 {
        grad[W1.start + 2 * j] = g_w1[j][0];
        grad[W1.start + 2 * j + 1] = g_w1[j][1];
        grad[B1.start + j] = g_b1[j];
        grad[W2.start + j] = g_w2[j];
    }
    grad[B2] = g_b2;
    loss / n as f64 // as in `mean_loss`, so both give the same bits
}

/// Cross-entropy's (loss, dL_i/dZ2) for one point: dL/dY = (Y - T) / (Y (1 - Y))
/// times sigmoid'(Z2) = Y (1 - Y) simplifies to Y - T. The loss is
/// softplus(z2) - t z2 ([`bce_from_logit`]); both share one e^-|z2|.
#[inline(always)]
fn bce_point(z2: f64, t: f64) -> (f64, f64) {
    let e = (-z2.abs()).exp();
    let r = 1.0 / (1.0 + e);
    let y = if z2 >= 0.0 { r } else { e * r };
    (z2.max(0.0) + e.ln_1p() - t * z2, y - t)
}

/// Squared error's (loss, dL_i/dZ2) for one point: (Y - T) Y (1 - Y).
#[inline(always)]
fn squared_point(z2: f64, t: f64) -> (f64, f64) {
    let y = sigmoid(z2);
    (0.5 * (y - t) * (y - t), (y - t) * y * (1.0 - y))
}

/// The cross-entropy [`loss`] and its gradient with respect to the 13
/// parameters (in the [module's order](self#parameter-order)), by the
/// notebook's hand-derived backward pass: one loop over the points, no
/// allocation but the returned `Vec`.
///
/// ```
/// use dualtape_nn::{data::disk_ring, notebook};
/// let data = disk_ring(100, 0);
/// let w = notebook::init_params(3);
/// let (l, g) = notebook::gradient(&w, &data);
/// assert!((l - notebook::loss(&w, &data)).abs() < 1e-15);
/// // Central difference in b2 agrees.
/// let h = 1e-6;
/// let (mut up, mut down) = (w.clone(), w.clone());
/// up[12] += h;
/// down[12] -= h;
/// let fd = (notebook::loss(&up, &data) - notebook::loss(&down, &data)) / (2.0 * h);
/// assert!((g[12] - fd).abs() < 1e-8);
/// ```
pub fn gradient(params: &[f64], data: &Dataset) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; N_PARAMS];
    let l = gradient_into(params, data, &mut g);
    (l, g)
}

/// [`gradient`] into a caller's buffer of length 13 (no allocation at all);
/// returns the loss.
pub fn gradient_into(params: &[f64], data: &Dataset, grad: &mut [f64]) -> f64 {
    backprop(params, data, grad, bce_point)
}

/// The [`squared_error_loss`] and its gradient, by the same backward pass
/// with dL/dZ2 = (Y - Y_T) Y (1 - Y) / N.
pub fn squared_error_gradient(params: &[f64], data: &Dataset) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; N_PARAMS];
    let l = backprop(params, data, &mut g, squared_point);
    (l, g)
}

/// The notebook's initial parameters: W1 and W2 from N(0, 1), biases 0.
/// The normals are drawn from [`Rng::new(seed)`](super::data::Rng) in
/// parameter order (the six of W1, then the three of W2).
///
/// ```
/// let w = dualtape_nn::notebook::init_params(7);
/// assert_eq!(w.len(), 13);
/// assert_eq!(&w[6..9], &[0.0; 3]);
/// assert_eq!(w[12], 0.0);
/// ```
pub fn init_params(seed: u64) -> Vec<f64> {
    let mut rng = super::data::Rng::new(seed);
    let mut w = vec![0.0; N_PARAMS];
    for v in &mut w[W1] {
        *v = rng.normal();
    }
    for v in &mut w[W2] {
        *v = rng.normal();
    }
    w
}

/// The network's output P(class 1) at the point `(x, y)`.
///
/// ```
/// // All-zero parameters know nothing: one half everywhere.
/// assert_eq!(dualtape_nn::notebook::predict(&[0.0; 13], 0.3, -2.0), 0.5);
/// ```
pub fn predict(params: &[f64], x: f64, y: f64) -> f64 {
    let p = Params::from_slice(params);
    sigmoid(p.forward(x, y).1)
}

/// Fraction of points classified correctly, predicting class 1 when
/// P(class 1) > 1/2 (that is, when the logit z2 > 0).
pub fn accuracy(params: &[f64], data: &Dataset) -> f64 {
    let p = Params::from_slice(params);
    let (xs0, xs1) = columns(data);
    let correct = (0..data.len())
        .filter(|&i| {
            let predicted = if p.forward(xs0[i], xs1[i]).1 > 0.0 {
                1.0
            } else {
                0.0
            };
            predicted == data.y[i]
        })
        .count();
    correct as f64 / data.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{disk_ring, xor_blobs, Rng};
    use nalgebra::{DMatrix, DVector};

    /// Central differences, written here so the test depends on nothing
    /// but the loss: (L(w + h e_k) - L(w - h e_k)) / 2h.
    fn central_diff(f: impl Fn(&[f64]) -> f64, w: &[f64], h: f64) -> Vec<f64> {
        (0..w.len())
            .map(|k| {
                let (mut up, mut down) = (w.to_vec(), w.to_vec());
                up[k] += h;
                down[k] -= h;
                (f(&up) - f(&down)) / (2.0 * h)
            })
            .collect()
    }

    fn random_params(rng: &mut Rng, scale: f64) -> Vec<f64> {
        (0..N_PARAMS).map(|_| scale * rng.normal()).collect()
    }

    fn assert_close(g: &[f64], fd: &[f64], tol: f64, what: &str) {
        for k in 0..g.len() {
            let err = (g[k] - fd[k]).abs();
            assert!(
                err <= tol * (1.0 + fd[k].abs()),
                "{what}: parameter {k}: analytic {} vs finite difference {} (error {err:e})",
                g[k],
                fd[k]
            );
        }
    }

    #[test]
    fn cross_entropy_gradient_matches_finite_differences() {
        let mut rng = Rng::new(2024);
        for (d, name) in [(disk_ring(60, 1), "disk"), (xor_blobs(60, 2), "xor")] {
            for scale in [0.5, 1.0, 3.0] {
                for _ in 0..4 {
                    let w = random_params(&mut rng, scale);
                    let (l, g) = gradient(&w, &d);
                    assert!((l - loss(&w, &d)).abs() <= 1e-14 * l.abs().max(1.0));
                    let fd = central_diff(|w| loss(w, &d), &w, 1e-5);
                    assert_close(&g, &fd, 1e-7, name);
                }
            }
        }
    }

    #[test]
    fn squared_error_gradient_matches_finite_differences() {
        let mut rng = Rng::new(99);
        for d in [disk_ring(60, 3), xor_blobs(60, 4)] {
            for scale in [0.5, 1.0, 3.0] {
                for _ in 0..4 {
                    let w = random_params(&mut rng, scale);
                    let (l, g) = squared_error_gradient(&w, &d);
                    assert!((l - squared_error_loss(&w, &d)).abs() <= 1e-14);
                    let fd = central_diff(|w| squared_error_loss(w, &d), &w, 1e-5);
                    assert_close(&g, &fd, 1e-7, "squared error");
                }
            }
        }
    }

    #[test]
    fn gradient_into_overwrites_the_buffer() {
        let d = disk_ring(40, 8);
        let w = init_params(8);
        let mut buf = vec![f64::NAN; N_PARAMS];
        let l = gradient_into(&w, &d, &mut buf);
        let (l2, g) = gradient(&w, &d);
        assert_eq!(l, l2);
        assert_eq!(buf, g);
    }

    /// A one-point data set at `(x0, x1)` with target `t`.
    fn one_point(x0: f64, x1: f64, t: f64) -> Dataset {
        Dataset::new(
            DMatrix::from_row_slice(1, 2, &[x0, x1]),
            DVector::from_element(1, t),
        )
    }

    #[test]
    fn forward_pass_by_hand() {
        // W1 = [[1, 2], [0, -1], [3, 0]], b1 = [0.5, 0, -1], W2 = [1, -2, 0.5],
        // b2 = 0.25, at x = (1, -1): z1 = (1 - 2 + 0.5, 1, 3 - 1) = (-0.5, 1, 2).
        let w = [
            1.0, 2.0, 0.0, -1.0, 3.0, 0.0, 0.5, 0.0, -1.0, 1.0, -2.0, 0.5, 0.25,
        ];
        let s = |z: f64| 1.0 / (1.0 + (-z).exp());
        let z2 = s(-0.5) - 2.0 * s(1.0) + 0.5 * s(2.0) + 0.25;
        let y = s(z2);
        assert!((predict(&w, 1.0, -1.0) - y).abs() < 1e-15);
        let d1 = one_point(1.0, -1.0, 1.0);
        assert!((loss(&w, &d1) + y.ln()).abs() < 1e-14);
        let d0 = one_point(1.0, -1.0, 0.0);
        assert!((loss(&w, &d0) + (1.0 - y).ln()).abs() < 1e-14);
        assert!((squared_error_loss(&w, &d1) - 0.5 * (1.0 - y).powi(2)).abs() < 1e-15);
        // dL/db2 for cross-entropy is y - t; dL/dW2[j] is h_j (y - t).
        let (_, g) = gradient(&w, &d1);
        assert!((g[B2] - (y - 1.0)).abs() < 1e-15);
        assert!((g[W2.start + 1] - s(1.0) * (y - 1.0)).abs() < 1e-15);
        // Hidden unit 0's input weights: (y - t) w2[0] h0 (1 - h0) x.
        let d_z1 = (y - 1.0) * 1.0 * s(-0.5) * (1.0 - s(-0.5));
        assert!((g[0] - d_z1 * 1.0).abs() < 1e-15);
        assert!((g[1] + d_z1).abs() < 1e-15); // x1 = -1
        assert!((g[B1.start] - d_z1).abs() < 1e-15);
    }

    #[test]
    fn stable_for_huge_logits() {
        // Saturate everything: hidden units at exactly 0 or 1, and
        // z2 = b2 = +-1000 with W2 = 0.
        let d = disk_ring(100, 5);
        for b2 in [1000.0, -1000.0] {
            let mut w = [0.0; N_PARAMS];
            for (k, v) in w[W1].iter_mut().enumerate() {
                *v = if k % 2 == 0 { 1e4 } else { -1e4 };
            }
            w[B2] = b2;
            // Closed forms: -ln sigmoid(z) = softplus(-z) and
            // -ln(1 - sigmoid(z)) = softplus(z); at |z| = 1000 the wrong side
            // costs 1000 and the right side e^-1000 (0 in f64).
            // Half the points are class 1.
            let l = loss(&w, &d);
            assert_eq!(l, 500.0, "b2 = {b2}");
            let (lg, g) = gradient(&w, &d);
            assert_eq!(lg, 500.0);
            assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
            // dL/db2 = mean(y - t) with y exactly 1 or 0.
            let expect = if b2 > 0.0 { 0.5 } else { -0.5 };
            assert!((g[B2] - expect).abs() < 1e-15);
            // Squared error: y is exactly 0 or 1, half the points are wrong.
            assert_eq!(squared_error_loss(&w, &d), 0.25);
            let (_, g) = squared_error_gradient(&w, &d);
            assert!(g.iter().all(|v| v.is_finite()));
        }
        assert_eq!(sigmoid(1000.0), 1.0);
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(bce_from_logit(1000.0, 1.0), 0.0);
        assert_eq!(bce_from_logit(-1000.0, 1.0), 1000.0);
        assert_eq!(bce_from_logit(1000.0, 0.0), 1000.0);
        assert!((sigmoid(-700.0) - (-700f64).exp()).abs() <= 1e-15 * (-700f64).exp());
    }

    #[test]
    fn init_params_distribution() {
        // Biases zero; weights standard normal over many seeds.
        let mut all = Vec::new();
        for seed in 0..2000 {
            let w = init_params(seed);
            assert!(w[B1].iter().all(|&b| b == 0.0) && w[B2] == 0.0);
            all.extend_from_slice(&w[W1]);
            all.extend_from_slice(&w[W2]);
        }
        let n = all.len() as f64;
        let mean = all.iter().sum::<f64>() / n;
        let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.04,
            "{mean} {var}"
        );
        assert_eq!(init_params(3), init_params(3));
        assert_ne!(init_params(3), init_params(4));
    }

    #[test]
    fn accuracy_counts_correct_side() {
        // Output logit z2 = b2 only: everything predicted as one class.
        let d = xor_blobs(100, 6);
        let mut w = [0.0; N_PARAMS];
        w[B2] = 1.0;
        assert_eq!(accuracy(&w, &d), 0.5);
        // A network that computes "x > 0.5" through one hidden unit:
        // h0 = sigmoid(100 (x - 0.5)), z2 = 100 (h0 - 0.5).
        let d = one_point(0.9, 0.1, 1.0);
        let mut w = [0.0; N_PARAMS];
        w[0] = 100.0;
        w[B1.start] = -50.0;
        w[W2.start] = 100.0;
        w[B2] = -50.0;
        assert_eq!(accuracy(&w, &d), 1.0);
        assert_eq!(accuracy(&w, &one_point(0.1, 0.9, 1.0)), 0.0);
    }
}
