//! Activation functions, written once for every [`Scalar`].

use std::fmt;

use dualtape::Scalar;

/// An elementwise activation function of a layer.
///
/// [`apply`](Activation::apply) is generic over the scalar type, so one
/// definition serves plain evaluation, forward mode and reverse mode alike.
/// Where a function has a kink (ReLU at 0) the derivative there is 0.
///
/// ```
/// use dualtape_nn::Activation;
/// use dualtape::{forward, Dual};
///
/// assert_eq!(Activation::Sigmoid.apply(0.0), 0.5);
/// assert_eq!(Activation::Relu.apply(-2.0), 0.0);
/// // The derivative of the sigmoid at 0 is 1/4, by forward mode.
/// let (_, d) = forward::derivative(|z: Dual<f64>| Activation::Sigmoid.apply(z), 0.0);
/// assert_eq!(d, 0.25);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    /// The logistic function 1 / (1 + e^-z): outputs in (0, 1). Computed
    /// without overflow for any z (see [`Activation::apply`]).
    Sigmoid,
    /// The hyperbolic tangent: outputs in (-1, 1).
    Tanh,
    /// The rectified linear unit max(z, 0); its derivative at 0 is taken to be 0.
    Relu,
    /// The identity z (a linear layer).
    Identity,
}

impl Activation {
    /// The activation at `z`, in any scalar type.
    ///
    /// The sigmoid is [`Scalar::sigmoid`]: one rule (one tape node), whose
    /// branch never exponentiates a positive number: 1 / (1 + e^-z) for
    /// z >= 0 and e^z / (1 + e^z) for z < 0. So for any finite z neither the
    /// value nor any derivative overflows: at z = -1000 the value is 0 and
    /// the derivative is 0, never NaN (the one-formula version would give
    /// the derivative inf / inf there). For z >= 0 it is the same
    /// expression, bit for bit, as [`notebook::sigmoid`](super::notebook::sigmoid).
    ///
    /// ```
    /// use dualtape_nn::Activation;
    /// use dualtape::{forward, Dual};
    ///
    /// let d = |z| forward::derivative(|z: Dual<f64>| Activation::Sigmoid.apply(z), z);
    /// assert_eq!(d(-1000.0), (0.0, 0.0));
    /// assert_eq!(d(1000.0), (1.0, 0.0));
    /// assert_eq!(Activation::Tanh.apply(1000.0), 1.0);
    /// ```
    #[inline]
    pub fn apply<S: Scalar>(self, z: S) -> S {
        match self {
            Activation::Sigmoid => z.sigmoid(),
            Activation::Tanh => z.tanh(),
            // A comparison of the scalar, not of its value: a recorded
            // program checks it at every replay.
            Activation::Relu => {
                if z > <S::Real as num_traits::Zero>::zero() {
                    z
                } else {
                    S::zero()
                }
            }
            Activation::Identity => z,
        }
    }

    /// A short lower-case name: `sigmoid`, `tanh`, `relu`, `identity`.
    ///
    /// ```
    /// assert_eq!(dualtape_nn::Activation::Tanh.name(), "tanh");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Identity => "identity",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dualtape::{forward, Dual};

    fn deriv(a: Activation, z: f64) -> (f64, f64) {
        forward::derivative(|z: Dual<f64>| a.apply(z), z)
    }

    #[test]
    fn values_and_derivatives_by_hand() {
        // sigmoid(z) = 1/(1+e^-z), sigmoid' = s(1-s); at ln 3: s = 3/4, s' = 3/16.
        let (v, d) = deriv(Activation::Sigmoid, 3f64.ln());
        assert!((v - 0.75).abs() < 1e-15 && (d - 3.0 / 16.0).abs() < 1e-15);
        // At -ln 3 (the other branch): s = 1/4, s' = 3/16.
        let (v, d) = deriv(Activation::Sigmoid, -(3f64.ln()));
        assert!((v - 0.25).abs() < 1e-15 && (d - 3.0 / 16.0).abs() < 1e-15);
        // tanh(ln 2) = (2 - 1/2)/(2 + 1/2) = 3/5, tanh' = 1 - 9/25 = 16/25.
        let (v, d) = deriv(Activation::Tanh, 2f64.ln());
        assert!((v - 0.6).abs() < 1e-15 && (d - 0.64).abs() < 1e-15);
        assert_eq!(deriv(Activation::Relu, 2.5), (2.5, 1.0));
        assert_eq!(deriv(Activation::Relu, -2.5), (0.0, 0.0));
        assert_eq!(deriv(Activation::Relu, 0.0), (0.0, 0.0));
        assert_eq!(deriv(Activation::Identity, -4.0), (-4.0, 1.0));
    }

    #[test]
    fn sigmoid_is_finite_everywhere() {
        for z in [-1e308, -800.0, -40.0, 0.0, 40.0, 800.0, 1e308] {
            let (v, d) = deriv(Activation::Sigmoid, z);
            assert!(v.is_finite() && d.is_finite(), "z = {z}: {v} {d}");
            assert!((0.0..=1.0).contains(&v) && d >= 0.0);
        }
        // Symmetry s(-z) = 1 - s(z) holds across the branch, up to the
        // rounding of each side (at most an ulp of numbers below 1).
        for z in [0.1, 1.0, 5.0, 30.0] {
            let s = |z: f64| Activation::Sigmoid.apply(z);
            assert!((s(-z) - (1.0 - s(z))).abs() <= f64::EPSILON, "z = {z}");
        }
        // The z >= 0 branch is the notebook's expression, bit for bit.
        for z in [0.0, 0.3, 2.0, 17.0] {
            assert_eq!(Activation::Sigmoid.apply(z), crate::notebook::sigmoid(z));
        }
    }

    #[test]
    fn reverse_mode_too() {
        let (v, g) = dualtape::reverse::gradient(|z| Activation::Sigmoid.apply(z[0]), &[-800.0]);
        assert_eq!((v, g[0]), (0.0, 0.0));
        let (_, g) = dualtape::reverse::gradient(|z| Activation::Tanh.apply(z[0]), &[0.0]);
        assert_eq!(g[0], 1.0);
    }
}
