//! A dense feed-forward network over nalgebra matrices, written once for
//! every [`Scalar`], and its loss over a data set as a [`Differentiable`]
//! function of the parameters.

use std::fmt;
use std::ops::Range;

use nalgebra::{DMatrix, DVector};

use super::data::{Dataset, Rng};
use super::{notebook, Activation, Error, Loss};
use dualtape::parallel::{program::ChunkData, SumOfLosses};
use dualtape::{Differentiable, Scalar};

/// Points per chunk of [`Objective`]'s chunked sum (see
/// [`Objective::with_chunk`]): [`dualtape::parallel::DEFAULT_CHUNK`].
pub const CHUNK: usize = dualtape::parallel::DEFAULT_CHUNK;

/// One dense layer's shape and activation: `outputs` units, each seeing
/// `inputs` values.
///
/// For a batch `A` (N x inputs) it computes `activation(A Wᵀ + 1 bᵀ)` with
/// `W` (outputs x inputs) and `b` (outputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layer {
    /// Values into each unit.
    pub inputs: usize,
    /// Units, so values out.
    pub outputs: usize,
    /// Applied to every unit's pre-activation.
    pub activation: Activation,
}

impl Layer {
    /// `outputs * inputs` weights plus `outputs` biases.
    ///
    /// ```
    /// use dualtape_nn::{Activation, Layer};
    /// let l = Layer { inputs: 2, outputs: 3, activation: Activation::Sigmoid };
    /// assert_eq!(l.n_params(), 9);
    /// ```
    pub fn n_params(&self) -> usize {
        self.outputs * (self.inputs + 1)
    }
}

/// One layer's parameters as matrices: `w` is outputs x inputs (row `j`
/// holds the weights into unit `j`), `b` has one bias per unit.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerParams<S: Scalar> {
    /// Weights, outputs x inputs.
    pub w: DMatrix<S>,
    /// Biases, one per output.
    pub b: DVector<S>,
}

/// A multi-layer perceptron: dense layers with one activation for the
/// hidden layers and one for the output layer, and the [`Loss`] it is
/// trained on (cross-entropy unless [`Mlp::with_loss`] says otherwise).
///
/// # Parameters: one flat vector
///
/// Every parameter lives in one `&[f64]` (or `&[S]` for any scalar `S`),
/// layer after layer; within a layer, `W` row-major (outputs x inputs), then
/// `b`. For the notebook's 2-3-1 network that is exactly
/// [`notebook`](super::notebook#parameter-order)'s order: W1 (3x2 row-major),
/// b1, W2, b2. [`Mlp::unflatten`] and [`Mlp::flatten`] convert to matrices
/// and back; [`Mlp::param_ranges`] says where each layer's `W` and `b` sit.
///
/// # The forward pass
///
/// For a batch `X` (N x inputs, one point per row), layer by layer,
/// `Z = A Wᵀ + 1 bᵀ` through a `DMatrix<S>` product, then `A = activation(Z)`.
/// The data are `f64`, lifted with [`Scalar::constant`]. The code is
/// written once: at `f64` it evaluates, at [`Var`](dualtape::Var) it records
/// for reverse mode, at [`DualVec`](dualtape::DualVec) it carries tangents.
///
/// ```
/// use dualtape_nn::{data::disk_ring, notebook, Activation, Mlp};
/// use dualtape::{reverse, Differentiable};
///
/// let data = disk_ring(200, 1);
/// let net = Mlp::new(&[2, 3, 1], Activation::Sigmoid, Activation::Sigmoid);
/// assert_eq!(net.n_params(), 13);
/// let w = net.init_params(0);
/// // The notebook's network, and the same numbers as its hand-written loss.
/// assert_eq!(w, notebook::init_params(0));
/// assert!((net.loss(&w, &data) - notebook::loss(&w, &data)).abs() < 1e-15);
/// // The loss as a function of the parameters, differentiated in reverse mode.
/// let objective = net.objective(&data);
/// let (l, g) = reverse::gradient(|w| objective.eval(w), &w);
/// let (_, g_hand) = notebook::gradient(&w, &data);
/// assert!((l - objective.eval(&w)).abs() < 1e-15);
/// for k in 0..13 {
///     assert!((g[k] - g_hand[k]).abs() < 1e-14);
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    layers: Vec<Layer>,
    loss: Loss,
}

impl Mlp {
    /// A network with the given layer sizes, inputs first, outputs last
    /// (`&[2, 3, 1]` is the notebook's), `hidden` on every hidden layer and
    /// `output` on the last, trained on [`Loss::CrossEntropy`].
    ///
    /// # Panics
    ///
    /// If there are fewer than two sizes or any size is 0.
    pub fn new(sizes: &[usize], hidden: Activation, output: Activation) -> Mlp {
        assert!(
            sizes.len() >= 2,
            "Mlp::new: give at least two layer sizes (inputs and outputs), got {sizes:?}"
        );
        assert!(
            sizes.iter().all(|&s| s > 0),
            "Mlp::new: every layer needs at least one unit, got {sizes:?}"
        );
        let last = sizes.len() - 2;
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| Layer {
                inputs: w[0],
                outputs: w[1],
                activation: if i == last { output } else { hidden },
            })
            .collect();
        Mlp {
            layers,
            loss: Loss::CrossEntropy,
        }
    }

    /// The notebook's network: 2-3-1, sigmoid hidden and output units,
    /// cross-entropy. Its loss and gradient are [`notebook`]'s.
    ///
    /// ```
    /// use dualtape_nn::{Activation, Mlp};
    /// assert_eq!(Mlp::notebook(), Mlp::new(&[2, 3, 1], Activation::Sigmoid, Activation::Sigmoid));
    /// assert!(Mlp::notebook().is_notebook());
    /// ```
    pub fn notebook() -> Mlp {
        Mlp::new(&[2, 3, 1], Activation::Sigmoid, Activation::Sigmoid)
    }

    /// The same network trained on another loss.
    ///
    /// ```
    /// use dualtape_nn::{Loss, Mlp};
    /// let net = Mlp::notebook().with_loss(Loss::SquaredError);
    /// assert_eq!(net.loss_function(), Loss::SquaredError);
    /// ```
    pub fn with_loss(mut self, loss: Loss) -> Mlp {
        self.loss = loss;
        self
    }

    /// The loss the network is trained on.
    pub fn loss_function(&self) -> Loss {
        self.loss
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The layer sizes, as given to [`Mlp::new`].
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.layers[0].inputs)
            .chain(self.layers.iter().map(|l| l.outputs))
            .collect()
    }

    /// Number of inputs.
    pub fn n_inputs(&self) -> usize {
        self.layers[0].inputs
    }

    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }

    /// The activation of the output layer.
    pub fn output_activation(&self) -> Activation {
        self.layers[self.layers.len() - 1].activation
    }

    /// Total number of parameters: the length of the flat vector.
    ///
    /// ```
    /// use dualtape_nn::{Activation, Mlp};
    /// // (2 + 1) 16 + (16 + 1) 1
    /// assert_eq!(Mlp::new(&[2, 16, 1], Activation::Tanh, Activation::Sigmoid).n_params(), 65);
    /// ```
    pub fn n_params(&self) -> usize {
        self.layers.iter().map(Layer::n_params).sum()
    }

    /// Where each layer's `W` (row-major) and `b` sit in the flat vector.
    ///
    /// ```
    /// let r = dualtape_nn::Mlp::notebook().param_ranges();
    /// assert_eq!(r, vec![(0..6, 6..9), (9..12, 12..13)]);
    /// ```
    pub fn param_ranges(&self) -> Vec<(Range<usize>, Range<usize>)> {
        let mut at = 0;
        self.layers
            .iter()
            .map(|l| {
                let w = at..at + l.outputs * l.inputs;
                let b = w.end..w.end + l.outputs;
                at = b.end;
                (w, b)
            })
            .collect()
    }

    /// Whether this is the notebook's network (2-3-1, sigmoid hidden and
    /// output), for which [`notebook`] has a hand-derived gradient of
    /// either loss.
    pub fn is_notebook(&self) -> bool {
        self.sizes() == [2, 3, 1]
            && self
                .layers
                .iter()
                .all(|l| l.activation == Activation::Sigmoid)
    }

    fn check_params(&self, who: &str, len: usize) {
        assert_eq!(
            len,
            self.n_params(),
            "{who}: the {self} network has {} parameters, but {len} were given",
            self.n_params()
        );
    }

    /// The flat vector as one [`LayerParams`] per layer.
    ///
    /// # Panics
    ///
    /// If `flat.len() != self.n_params()`.
    ///
    /// ```
    /// use dualtape_nn::Mlp;
    /// let net = Mlp::notebook();
    /// let flat: Vec<f64> = (0..13).map(f64::from).collect();
    /// let layers = net.unflatten(&flat);
    /// assert_eq!(layers[0].w[(1, 0)], 2.0); // W1 row-major: row 1 starts at index 2
    /// assert_eq!(layers[0].b[2], 8.0);
    /// assert_eq!(layers[1].w.shape(), (1, 3));
    /// assert_eq!(net.flatten(&layers), flat);
    /// ```
    pub fn unflatten<S: Scalar>(&self, flat: &[S]) -> Vec<LayerParams<S>> {
        self.check_params("Mlp::unflatten", flat.len());
        self.layers
            .iter()
            .zip(self.param_ranges())
            .map(|(l, (w, b))| LayerParams {
                w: DMatrix::from_row_slice(l.outputs, l.inputs, &flat[w]),
                b: DVector::from_column_slice(&flat[b]),
            })
            .collect()
    }

    /// One [`LayerParams`] per layer back to the flat vector.
    ///
    /// # Panics
    ///
    /// If the number of layers or any shape does not match the network.
    pub fn flatten<S: Scalar>(&self, layers: &[LayerParams<S>]) -> Vec<S> {
        assert_eq!(
            layers.len(),
            self.layers.len(),
            "Mlp::flatten: the {self} network has {} layers, but {} were given",
            self.layers.len(),
            layers.len()
        );
        let mut flat = Vec::with_capacity(self.n_params());
        for (i, (l, p)) in self.layers.iter().zip(layers).enumerate() {
            assert!(
                p.w.shape() == (l.outputs, l.inputs) && p.b.len() == l.outputs,
                "Mlp::flatten: layer {i} should have W {}x{} and b {}, got W {}x{} and b {}",
                l.outputs,
                l.inputs,
                l.outputs,
                p.w.nrows(),
                p.w.ncols(),
                p.b.len()
            );
            for r in 0..l.outputs {
                flat.extend(p.w.row(r).iter().copied());
            }
            flat.extend(p.b.iter().copied());
        }
        flat
    }

    /// The notebook's initial parameters: every weight from N(0, 1), every
    /// bias 0. The normals are drawn from [`Rng::new(seed)`](Rng) in flat
    /// order, skipping the biases, so for the 2-3-1 network this equals
    /// [`notebook::init_params`].
    pub fn init_params(&self, seed: u64) -> Vec<f64> {
        self.init_params_scaled(seed, |_| 1.0)
    }

    /// Like [`Mlp::init_params`], with the weights of a layer of `inputs`
    /// inputs drawn from N(0, 1 / inputs) (LeCun scaling), which keeps
    /// pre-activations of order 1 in wider networks.
    ///
    /// ```
    /// use dualtape_nn::{Activation, Mlp};
    /// let net = Mlp::new(&[2, 16, 1], Activation::Tanh, Activation::Sigmoid);
    /// let (a, b) = (net.init_params(3), net.init_params_lecun(3));
    /// assert!((b[0] - a[0] / 2f64.sqrt()).abs() < 1e-15); // first layer: 2 inputs
    /// assert!((b[48] - a[48] / 4.0).abs() < 1e-15); // second layer: 16 inputs
    /// ```
    pub fn init_params_lecun(&self, seed: u64) -> Vec<f64> {
        self.init_params_scaled(seed, |l| 1.0 / (l.inputs as f64).sqrt())
    }

    fn init_params_scaled(&self, seed: u64, sd: impl Fn(&Layer) -> f64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        let mut flat = vec![0.0; self.n_params()];
        for (l, (w, _)) in self.layers.iter().zip(self.param_ranges()) {
            let s = sd(l);
            for v in &mut flat[w] {
                *v = s * rng.normal();
            }
        }
        flat
    }

    /// The output layer's pre-activations for a batch `x` (N x inputs, one
    /// point per row): N x outputs. This is the forward pass; every other
    /// evaluation goes through it.
    ///
    /// # Panics
    ///
    /// If `params` or `x` has the wrong size.
    pub fn logits<S: Scalar>(&self, params: &[S], x: &DMatrix<S>) -> DMatrix<S> {
        self.check_params("Mlp::logits", params.len());
        assert_eq!(
            x.ncols(),
            self.n_inputs(),
            "Mlp::logits: the {self} network takes {} inputs per point, but the batch has {} \
             columns",
            self.n_inputs(),
            x.ncols()
        );
        let ranges = self.param_ranges();
        let mut a = x.clone();
        for (i, (l, (w, b))) in self.layers.iter().zip(ranges).enumerate() {
            // W row-major (outputs x inputs) is Wᵀ column-major (inputs x outputs).
            let wt = DMatrix::from_column_slice(l.inputs, l.outputs, &params[w]);
            // Z = A Wᵀ + 1 bᵀ
            let mut z = &a * &wt;
            for (mut col, &bj) in z.column_iter_mut().zip(&params[b]) {
                col.add_scalar_mut(bj);
            }
            if i + 1 == self.layers.len() {
                return z;
            }
            z.apply(|v| *v = l.activation.apply(*v));
            a = z;
        }
        unreachable!("a network has at least one layer")
    }

    /// The network's outputs for a batch `x` (N x inputs): N x outputs.
    ///
    /// ```
    /// use dualtape_nn::{Activation, Mlp};
    /// use nalgebra::DMatrix;
    /// // One linear unit: y = 2 x0 - x1 + 0.5.
    /// let net = Mlp::new(&[2, 1], Activation::Identity, Activation::Identity);
    /// let x = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 0.0, 3.0]);
    /// let y = net.forward(&[2.0, -1.0, 0.5], &x);
    /// assert_eq!(y.as_slice(), &[1.5, -2.5]);
    /// ```
    pub fn forward<S: Scalar>(&self, params: &[S], x: &DMatrix<S>) -> DMatrix<S> {
        let act = self.output_activation();
        self.logits(params, x).map(|z| act.apply(z))
    }

    /// The training loss on `data`: the mean over the points of
    /// [`Loss::point`] (cross-entropy from the logits, for a sigmoid
    /// output). Generic: at `f64` a value, at `Var` or `DualVec` a
    /// differentiable one. [`Mlp::objective`] wraps it as a
    /// [`Differentiable`] function.
    ///
    /// # Panics
    ///
    /// If the network does not take 2 inputs and give 1 output (the shape
    /// of a [`Dataset`]), or `params` has the wrong length.
    pub fn loss<S: Scalar<Real = f64>>(&self, params: &[S], data: &Dataset) -> S {
        self.check_dataset("Mlp::loss");
        self.loss_sum(params, data, 0..data.len()) / data.len() as f64
    }

    /// The sum over the points `range` of [`Loss::point`]: one forward pass
    /// of those rows of `data.x`.
    fn loss_sum<S: Scalar<Real = f64>>(
        &self,
        params: &[S],
        data: &Dataset,
        range: Range<usize>,
    ) -> S {
        let x = data.x.rows(range.start, range.len()).map(S::constant);
        let t = data.y.rows(range.start, range.len());
        self.batch_loss_sum(params, &x, |i| S::constant(t[i]))
    }

    /// The sum of [`Loss::point`] over the rows of `x`, row `i`'s target
    /// `t(i)`: one forward pass of the batch. The data enter as scalars
    /// only, so a recording can take them as inputs.
    fn batch_loss_sum<S: Scalar<Real = f64>>(
        &self,
        params: &[S],
        x: &DMatrix<S>,
        t: impl Fn(usize) -> S,
    ) -> S {
        let z = self.logits(params, x);
        let act = self.output_activation();
        let mut sum = S::zero();
        for (i, &zi) in z.iter().enumerate() {
            sum += self.loss.point(act, zi, t(i));
        }
        sum
    }

    fn check_dataset(&self, who: &str) {
        assert!(
            self.n_inputs() == 2 && self.n_outputs() == 1,
            "{who}: a Dataset has 2 inputs and 1 target per point, but the {self} network \
             takes {} inputs and gives {} outputs",
            self.n_inputs(),
            self.n_outputs()
        );
    }

    /// The network's output at one point `(x, y)` of the plane: for a
    /// sigmoid output, P(class 1).
    ///
    /// ```
    /// use dualtape_nn::Mlp;
    /// assert_eq!(Mlp::notebook().predict(&[0.0; 13], 0.3, -2.0), 0.5);
    /// ```
    pub fn predict(&self, params: &[f64], x: f64, y: f64) -> f64 {
        self.predict_batch(params, &DMatrix::from_row_slice(1, 2, &[x, y]))[0]
    }

    /// The network's (single) output for each row of `x` (N x 2).
    pub fn predict_batch(&self, params: &[f64], x: &DMatrix<f64>) -> DVector<f64> {
        self.check_dataset("Mlp::predict_batch");
        let y = self.forward(params, x);
        DVector::from_column_slice(y.as_slice())
    }

    /// Fraction of `data` classified correctly, predicting class 1 where
    /// the output exceeds 1/2 (for a sigmoid output: where the logit is
    /// positive, as [`notebook::accuracy`] does).
    pub fn accuracy(&self, params: &[f64], data: &Dataset) -> f64 {
        self.check_dataset("Mlp::accuracy");
        let z = self.logits(params, &data.x);
        let act = self.output_activation();
        let correct = z
            .iter()
            .zip(data.y.iter())
            .filter(|&(&z, &t)| {
                let one = if act == Activation::Sigmoid {
                    z > 0.0
                } else {
                    act.apply(z) > 0.5
                };
                (if one { 1.0 } else { 0.0 }) == t
            })
            .count();
        correct as f64 / data.len() as f64
    }

    /// The loss on `data` as a function of the parameters: a
    /// [`Differentiable`] that every driver, [`check`](dualtape::check) and
    /// [`train`](super::train()) accept, and a
    /// [`SumOfLosses`](dualtape::parallel::SumOfLosses) in chunks of
    /// [`CHUNK`] points for the data-parallel drivers.
    ///
    /// # Panics
    ///
    /// If the network does not take 2 inputs and give 1 output.
    pub fn objective<'a>(&'a self, data: &'a Dataset) -> Objective<'a> {
        self.check_dataset("Mlp::objective");
        Objective {
            mlp: self,
            data,
            chunk: CHUNK,
        }
    }
}

impl fmt::Display for Mlp {
    /// `2-3-1` followed by the activations and the loss in the alternate
    /// form (`{:#}`): `2-3-1 (sigmoid hidden, sigmoid output, cross-entropy)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<String> = self.sizes().iter().map(usize::to_string).collect();
        f.write_str(&sizes.join("-"))?;
        if f.alternate() {
            let hidden = if self.layers.len() > 1 {
                format!("{} hidden, ", self.layers[0].activation)
            } else {
                String::new()
            };
            write!(
                f,
                " ({hidden}{} output, {})",
                self.output_activation(),
                self.loss
            )?;
        }
        Ok(())
    }
}

/// A network's training loss on a data set, as a function of its flat
/// parameter vector: `L(w) = mean over points of loss(net(w, x_i), t_i)`.
///
/// Made by [`Mlp::objective`]. It implements [`Differentiable`], so any
/// mode differentiates it; for the notebook's network it also reports the
/// hand-derived gradient ([`Differentiable::analytic_gradient`]), so
/// [`check::gradient`](dualtape::check::gradient) compares it with the
/// forward, reverse, replay and finite-difference columns.
///
/// It is also a [`SumOfLosses`]: the mean as a sum over chunks of
/// [`chunk`](Objective::chunk) points, each chunk's sum divided by the
/// number of points. [`train`](super::train()) and the [`Reverse`](super::Reverse),
/// [`Forward`](super::Forward) and [`FiniteDifferences`](super::FiniteDifferences)
/// methods compute it that way with [`dualtape::parallel`], on every thread
/// of the current rayon pool, with the same bits for any number of threads.
/// That chunked sum rounds differently from [`Objective::value`]'s single
/// sum (by about one unit in the last place); for a data set of at most
/// one chunk the two are the same.
///
/// ```
/// use dualtape_nn::{data::xor_blobs, Mlp};
/// let data = xor_blobs(100, 4);
/// let net = Mlp::notebook();
/// let w = net.init_params(1);
/// dualtape::check::gradient(&net.objective(&data), &w).assert_ok();
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Objective<'a> {
    mlp: &'a Mlp,
    data: &'a Dataset,
    chunk: usize,
}

impl<'a> Objective<'a> {
    /// The network.
    pub fn mlp(&self) -> &'a Mlp {
        self.mlp
    }

    /// The data set.
    pub fn data(&self) -> &'a Dataset {
        self.data
    }

    /// The loss at `params`, in plain `f64`, as one sum over all points
    /// ([`Mlp::loss`]). The chunked sum the training methods use is
    /// [`Objective::chunked_value`].
    pub fn value(&self, params: &[f64]) -> f64 {
        self.mlp.loss(params, self.data)
    }

    /// The loss at `params` summed in chunks (see [`Objective::chunk`]) on
    /// every thread of the current rayon pool: the value the
    /// [`Reverse`](super::Reverse), [`Forward`](super::Forward) and
    /// [`FiniteDifferences`](super::FiniteDifferences) methods report, to the
    /// bit ([`dualtape::parallel::value`]).
    pub fn chunked_value(&self, params: &[f64]) -> f64 {
        dualtape::parallel::value(self, params, self.chunk)
    }

    /// Points per chunk of the chunked sum ([`CHUNK`] unless set with
    /// [`Objective::with_chunk`]). The chunking fixes the order of the
    /// summation, so it, and never the number of threads, decides the bits
    /// of the result.
    pub fn chunk(&self) -> usize {
        self.chunk
    }

    /// The same objective, summed in chunks of `points` points.
    ///
    /// ```
    /// use dualtape_nn::{data::disk_ring, Mlp};
    /// let data = disk_ring(1000, 1);
    /// let net = Mlp::notebook();
    /// let w = net.init_params(0);
    /// let (a, b) = (net.objective(&data), net.objective(&data).with_chunk(100));
    /// assert_eq!(b.chunk(), 100);
    /// // Another summation order: equal up to rounding.
    /// assert!((a.chunked_value(&w) - b.chunked_value(&w)).abs() < 1e-15);
    /// ```
    ///
    /// # Panics
    ///
    /// If `points` is 0.
    pub fn with_chunk(mut self, points: usize) -> Self {
        assert!(
            points > 0,
            "Objective::with_chunk: a chunk needs at least one point (nn::CHUNK = {CHUNK} is \
             the default)"
        );
        self.chunk = points;
        self
    }

    /// The notebook's hand-derived gradient written into `grad`; returns
    /// the loss. Defined only for the notebook's network
    /// ([`Mlp::is_notebook`]), with either loss.
    ///
    /// # Errors
    ///
    /// [`Error::AnalyticUnavailable`] for any other network.
    ///
    /// # Panics
    ///
    /// If `params` or `grad` does not have 13 entries.
    pub fn analytic_gradient_into(&self, params: &[f64], grad: &mut [f64]) -> Result<f64, Error> {
        if !self.mlp.is_notebook() {
            return Err(Error::AnalyticUnavailable {
                network: format!("{:#}", self.mlp),
            });
        }
        Ok(match self.mlp.loss {
            Loss::CrossEntropy => notebook::gradient_into(params, self.data, grad),
            Loss::SquaredError => {
                let (l, g) = notebook::squared_error_gradient(params, self.data);
                grad.copy_from_slice(&g);
                l
            }
        })
    }
}

impl Differentiable for Objective<'_> {
    fn dim(&self) -> usize {
        self.mlp.n_params()
    }

    fn eval<S: Scalar<Real = f64>>(&self, params: &[S]) -> S {
        self.mlp.loss(params, self.data)
    }

    /// The notebook's hand-derived gradient for its 2-3-1 network; `None`
    /// for any other network.
    fn analytic_gradient(&self, params: &[f64]) -> Option<Vec<f64>> {
        let mut g = vec![0.0; params.len()];
        self.analytic_gradient_into(params, &mut g).ok().map(|_| g)
    }
}

impl SumOfLosses for Objective<'_> {
    fn len(&self) -> usize {
        self.data.len()
    }

    fn dim(&self) -> usize {
        self.mlp.n_params()
    }

    /// The points `range`'s share of the mean loss: their sum divided by
    /// the number of points in the data set.
    fn eval_chunk<S: Scalar<Real = f64>>(&self, range: Range<usize>, params: &[S]) -> S {
        self.mlp.loss_sum(params, self.data, range) / self.data.len() as f64
    }
}

/// A point is its inputs, then its target: `[x₀, x₁, t]`. One recorded
/// program of a chunk's loss, with these numbers as inputs, serves every
/// chunk of its length ([`dualtape::parallel::program::Replayer`], which
/// [`Reverse`](super::Reverse) training uses).
impl ChunkData for Objective<'_> {
    fn width(&self) -> usize {
        self.mlp.n_inputs() + 1
    }

    fn example(&self, i: usize, out: &mut [f64]) {
        let n = self.mlp.n_inputs();
        for (c, o) in out[..n].iter_mut().enumerate() {
            *o = self.data.x[(i, c)];
        }
        out[n] = self.data.y[i];
    }

    /// What [`eval_chunk`](SumOfLosses::eval_chunk) computes, for the
    /// points in `data`: the same operations in the same order, so the
    /// same bits.
    fn eval_examples<S: Scalar<Real = f64>>(&self, data: &[S], params: &[S]) -> S {
        let (n, width) = (self.mlp.n_inputs(), self.width());
        let x = DMatrix::from_fn(data.len() / width, n, |r, c| data[r * width + c]);
        self.mlp.batch_loss_sum(params, &x, |i| data[i * width + n]) / self.data.len() as f64
    }
}
