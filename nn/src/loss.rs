//! Losses for one output unit and a 0/1 target, written once for every
//! [`Scalar`].

use std::fmt;

use super::Activation;
use dualtape::Scalar;

/// How far an output is from its target, per point; a network's loss over a
/// data set is the mean of this over the points.
///
/// Both losses are computed from the output layer's *pre-activation* `z`
/// and its activation, so that cross-entropy can avoid forming the
/// probability at all (see [`Loss::CrossEntropy`]).
///
/// ```
/// use dualtape_nn::{Activation, Loss};
///
/// // A sigmoid output with logit 0 says 1/2: squared error 1/8, cross-entropy ln 2.
/// assert_eq!(Loss::SquaredError.point(Activation::Sigmoid, 0.0, 1.0), 0.125);
/// assert!((Loss::CrossEntropy.point(Activation::Sigmoid, 0.0, 1.0) - 2f64.ln()).abs() < 1e-16);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Loss {
    /// Half the squared error, 1/2 (y - t)^2: the notebook's first loss.
    SquaredError,
    /// Binary cross-entropy, -t ln y - (1 - t) ln(1 - y): the notebook's
    /// loss for classification, and the default.
    ///
    /// With a sigmoid output it is computed from the logit `z` alone, in
    /// the softplus form
    ///
    /// ```text
    /// -t ln y - (1 - t) ln(1 - y) = softplus(z) - t z,
    /// softplus(z) = ln(1 + e^z) = max(z, 0) + ln(1 + e^-|z|),
    /// ```
    ///
    /// (because -ln y = softplus(-z) = softplus(z) - z and
    /// -ln(1 - y) = softplus(z)), which never takes ln(0) and never
    /// overflows, however confident the network: at z = 800 with t = 0 the
    /// loss is 800, where ln(1 - sigmoid(800)) = ln(0) would be infinite.
    ///
    /// With any other output activation the output is not a probability;
    /// it is clamped to [1e-12, 1 - 1e-12] before the logarithms, so the
    /// loss stays finite (at most about 27.6 per point) and its derivative
    /// is 0 wherever the clamp is active.
    #[default]
    CrossEntropy,
}

/// Where [`Loss::CrossEntropy`] clamps outputs that do not come from a sigmoid.
const CLAMP: f64 = 1e-12;

/// ln(1 + e^z) without overflow or cancellation: [`Scalar::softplus`], one
/// rule (in f64, the same bits as `notebook`'s softplus).
#[inline]
fn softplus<S: Scalar<Real = f64>>(z: S) -> S {
    z.softplus()
}

impl Loss {
    /// The loss of one point: output pre-activation `z`, the output
    /// layer's `activation`, and the target `t` (0 or 1; values between
    /// are soft targets).
    ///
    /// The target is a scalar of the same type as `z`, and the loss never
    /// reads a value to decide what to compute: one formula for every
    /// target, and the clamp of the non-sigmoid cross-entropy is
    /// [`Scalar::clamp_real`], a recorded kink. So a recorded program of
    /// this loss ([`dualtape::reverse::record`]) can take the targets as
    /// inputs and serve every chunk of a data set (see
    /// [`dualtape::parallel::program`]). At `t = 0` the term `z t` is an
    /// exact zero, so the value is the same as skipping it.
    ///
    /// ```
    /// use dualtape_nn::{Activation, Loss};
    ///
    /// // Stable where the naive formula is not: ln(1 - sigmoid(800)) = ln 0.
    /// assert_eq!(Loss::CrossEntropy.point(Activation::Sigmoid, 800.0, 0.0), 800.0);
    /// assert_eq!(Loss::CrossEntropy.point(Activation::Sigmoid, 800.0, 1.0), 0.0);
    /// // Identity output, squared error: 1/2 (3 - 1)^2.
    /// assert_eq!(Loss::SquaredError.point(Activation::Identity, 3.0, 1.0), 2.0);
    /// ```
    #[inline]
    pub fn point<S: Scalar<Real = f64>>(self, activation: Activation, z: S, t: S) -> S {
        match (self, activation) {
            (Loss::SquaredError, _) => {
                let r = activation.apply(z) - t;
                r * r * 0.5
            }
            (Loss::CrossEntropy, Activation::Sigmoid) => softplus(z) - z * t,
            (Loss::CrossEntropy, _) => {
                let y = activation.apply(z).clamp_real(CLAMP, 1.0 - CLAMP);
                // Both logarithms are finite after the clamp, so a zero
                // weight (t = 0 or t = 1) makes its term an exact zero.
                -(y.ln() * t) - (S::one() - y).ln() * (S::one() - t)
            }
        }
    }

    /// A short name: `squared error` or `cross-entropy`.
    ///
    /// ```
    /// assert_eq!(dualtape_nn::Loss::default().name(), "cross-entropy");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Loss::SquaredError => "squared error",
            Loss::CrossEntropy => "cross-entropy",
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dualtape::{forward, reverse, Dual, Scalar};

    fn naive_bce(y: f64, t: f64) -> f64 {
        -t * y.ln() - (1.0 - t) * (1.0 - y).ln()
    }

    #[test]
    fn cross_entropy_matches_the_definition_where_that_is_accurate() {
        for z in [-5.0f64, -1.0, -0.1, 0.0, 0.2, 1.5, 6.0] {
            let y = 1.0 / (1.0 + (-z).exp());
            // The naive formula's own error: ln(1 - y) and ln(y) lose about
            // eps / min(y, 1 - y) when y or 1 - y is small.
            let tol = 1e-15 / y.min(1.0 - y);
            for t in [0.0, 1.0, 0.3] {
                let l = Loss::CrossEntropy.point(Activation::Sigmoid, z, t);
                assert!((l - naive_bce(y, t)).abs() < tol, "z {z} t {t}");
                // Non-sigmoid path, fed the same probability through the identity.
                let l2 = Loss::CrossEntropy.point(Activation::Identity, y, t);
                assert!((l2 - naive_bce(y, t)).abs() < tol, "z {z} t {t}");
            }
        }
    }

    #[test]
    fn cross_entropy_derivative_is_y_minus_t() {
        // d/dz [softplus(z) - t z] = sigmoid(z) - t, on both branches and far out.
        for z in [-700.0, -30.0, -2.0, 0.0, 0.5, 30.0, 700.0] {
            for t in [0.0, 1.0] {
                let (l, d) = forward::derivative(
                    |z: Dual<f64>| {
                        Loss::CrossEntropy.point(Activation::Sigmoid, z, Dual::constant(t))
                    },
                    z,
                );
                let y = Activation::Sigmoid.apply(z);
                assert!(l.is_finite() && l >= 0.0);
                assert!((d - (y - t)).abs() < 1e-15, "z {z} t {t}: {d}");
            }
        }
        // Far out, the loss is |z| on the wrong side and 0 on the right side.
        assert_eq!(
            Loss::CrossEntropy.point(Activation::Sigmoid, -900.0, 1.0),
            900.0
        );
        assert_eq!(
            Loss::CrossEntropy.point(Activation::Sigmoid, -900.0, 0.0),
            0.0
        );
    }

    #[test]
    fn clamped_cross_entropy_is_finite() {
        let l = Loss::CrossEntropy.point(Activation::Identity, 0.0, 1.0);
        assert!((l - (-(1e-12f64).ln())).abs() < 1e-9);
        let (l, d) = forward::derivative(
            |z: Dual<f64>| Loss::CrossEntropy.point(Activation::Relu, z, Dual::constant(0.0)),
            5.0,
        );
        assert!(l.is_finite() && d == 0.0);
    }

    #[test]
    fn squared_error_derivative_by_hand() {
        // d/dz 1/2 (s(z) - t)^2 = (s - t) s (1 - s); at z = ln 3, s = 3/4, t = 0: 3/4 * 3/16.
        let (l, d) = forward::derivative(
            |z: Dual<f64>| Loss::SquaredError.point(Activation::Sigmoid, z, Dual::constant(0.0)),
            3f64.ln(),
        );
        assert!((l - 0.5 * 0.5625).abs() < 1e-15);
        assert!((d - 0.75 * 3.0 / 16.0).abs() < 1e-15);
    }

    #[test]
    fn one_recording_serves_every_target_and_point() {
        // The target is an input of the program, and the loss reads no
        // value: a program recorded at (z, t) = (0.3, 1) replays at other
        // targets and points with the bits of a direct evaluation, for
        // every loss and activation.
        let losses = [Loss::SquaredError, Loss::CrossEntropy];
        let acts = [
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Relu,
            Activation::Identity,
        ];
        for loss in losses {
            for act in acts {
                let program = reverse::record(|v| loss.point(act, v[0], v[1]), &[0.3, 1.0]);
                assert_eq!(program.escaped_values(), 0, "{loss} {act}");
                for (z, t) in [(0.7, 0.0), (0.2, 1.0), (0.9, 0.25)] {
                    // Every point is on the recording's side of each kink.
                    let (l, g) = program.gradient(&[z, t]).expect("the same branches");
                    let direct = loss.point(act, z, t);
                    assert_eq!(l.to_bits(), direct.to_bits(), "{loss} {act} {z} {t}");
                    let (_, d) = forward::derivative(
                        |z: Dual<f64>| loss.point(act, z, Dual::constant(t)),
                        z,
                    );
                    assert!((g[0] - d).abs() <= 1e-15 * d.abs().max(1.0), "{loss} {act}");
                }
            }
        }
        // Past the clamp (an identity output of 2 is clamped to 1 - 1e-12):
        // refused, never a wrong gradient.
        let program = reverse::record(
            |v| Loss::CrossEntropy.point(Activation::Identity, v[0], v[1]),
            &[0.3, 1.0],
        );
        assert!(program.gradient(&[2.0, 1.0]).is_err());
        assert!(program.gradient(&[0.6, 0.0]).is_ok());
    }
}
