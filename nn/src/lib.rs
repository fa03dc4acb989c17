//! The backpropagation notebook's neural networks, written once over
//! dualtape's [`Scalar`](dualtape::Scalar) types.
//!
//! - [`data`]: the notebook's data sets (disk/ring, XOR blobs) from a seeded
//!   generator.
//! - [`Mlp`]: dense layers over nalgebra `DMatrix<S>`, with [`Activation`]s
//!   (sigmoid, tanh, ReLU, identity) and a [`Loss`] (squared error or a
//!   stable binary cross-entropy); parameters as one flat vector.
//!   [`Mlp::objective`] is the loss on a data set as a
//!   [`Differentiable`](dualtape::Differentiable) function of the parameters.
//! - [`notebook`]: the notebook's 2-3-1 network with its hand-derived
//!   gradient in plain f64: the oracle and the speed reference.
//! - [`train()`]: full-batch training with [`GradientDescent`] or [`Adam`],
//!   the gradient from any [`GradientMethod`]: [`Analytic`], [`Reverse`]
//!   (recorded once, replayed every epoch), [`ReverseTape`] (recorded every
//!   epoch), [`Forward`] or [`FiniteDifferences`] by type, or a [`Method`] value.
//!
//! The notebook, end to end, in brief (its example, `cargo run --release
//! --example backprop`, does this for every method with the notebook's
//! gradient descent at rate 1 for 2000 epochs, and draws the pictures):
//!
//! ```
//! use dualtape_nn::{data::disk_ring, train, Adam, Method, Mlp};
//!
//! let (data, held_out) = (disk_ring(200, 1), disk_ring(500, 101));
//! let net = Mlp::notebook(); // 2-3-1, sigmoid, cross-entropy
//! let init = net.init_params(0);
//! // Adam gets past the plateau that gradient descent sits on for ~500 epochs.
//! let mut adam = Adam::new(0.05);
//! let log = train(&net.objective(&data), &Method::Reverse, &mut adam, &init, 100).unwrap();
//! assert!(log.final_loss() < 0.5 * log.losses[0]);
//! assert!(net.accuracy(&log.params, &held_out) > 0.9);
//! ```

mod activation;
pub mod data;
mod loss;
mod mlp;
pub mod notebook;
mod train;

pub use activation::Activation;
pub use loss::Loss;
pub use mlp::{Layer, LayerParams, Mlp, Objective, CHUNK};
pub use train::{
    train, Adam, Analytic, FiniteDifferences, Forward, GradientDescent, GradientFn, GradientMethod,
    Method, Optimizer, Reverse, ReverseTape, TrainLog, FORWARD_CHUNK,
};

use std::fmt;

/// What can go wrong in [`nn`](self) that a caller may want to handle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The hand-derived gradient ([`Method::Analytic`]) exists only for the
    /// notebook's 2-3-1 network with sigmoid hidden and output units;
    /// `network` describes the one that was asked for.
    AnalyticUnavailable {
        /// The network, e.g. `2-16-1 (tanh hidden, sigmoid output, cross-entropy)`.
        network: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AnalyticUnavailable { network } => write!(
                f,
                "no analytic gradient for the {network} network: the hand-derived gradient \
                 (nn::notebook) is only for the notebook's 2-3-1 network with sigmoid hidden \
                 and output units; use Method::Reverse, Method::Forward or \
                 Method::FiniteDifferences"
            ),
        }
    }
}

impl std::error::Error for Error {}
