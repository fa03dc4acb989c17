//! Training: where the gradient comes from ([`Method`], or one of the
//! [`GradientMethod`] types), how a step is taken ([`GradientDescent`],
//! [`Adam`]), and the loop ([`train`]) that logs loss and time per epoch.
//!
//! The automatic methods ([`Reverse`], [`Forward`], [`FiniteDifferences`])
//! compute the full-batch gradient with [`dualtape::parallel`]: the data in
//! chunks of [`Objective::chunk`] points, on every thread of the current
//! rayon pool (the global one, or the one whose `install` runs [`train`]),
//! the chunk results summed in a fixed order. So a training run follows the
//! same trajectory, bit for bit, on any number of threads.

use std::fmt;
use std::time::Instant;

use super::{Error, Objective};
use dualtape::finite_diff::{Config, Scheme};
use dualtape::parallel::{self, program::Replayer};

/// Tangents per forward pass for [`Forward`] and [`Method::Forward`]: the
/// 13 parameters of the notebook's network in one pass of
/// `DualVec<f64, 16>`.
pub const FORWARD_CHUNK: usize = 16;

/// A way of computing the loss and its gradient with respect to the
/// parameters. Implemented by the zero-sized types [`Analytic`],
/// [`Reverse`], [`Forward`] and [`FiniteDifferences`] (the method chosen by
/// type, resolved at compile time) and by [`Method`] (chosen by value, at
/// run time).
pub trait GradientMethod {
    /// A short name for tables and legends.
    fn name(&self) -> String;

    /// Writes the gradient of `objective` at `params` into `grad` and
    /// returns the loss there.
    ///
    /// # Errors
    ///
    /// [`Error::AnalyticUnavailable`] from [`Analytic`] for any network
    /// but the notebook's. The other methods never fail.
    fn gradient_into(
        &self,
        objective: &Objective<'_>,
        params: &[f64],
        grad: &mut [f64],
    ) -> Result<f64, Error>;

    /// [`gradient_into`](GradientMethod::gradient_into) into a new vector:
    /// `(loss, gradient)`.
    ///
    /// # Errors
    ///
    /// As [`gradient_into`](GradientMethod::gradient_into).
    fn gradient(
        &self,
        objective: &Objective<'_>,
        params: &[f64],
    ) -> Result<(f64, Vec<f64>), Error> {
        let mut g = vec![0.0; params.len()];
        let l = self.gradient_into(objective, params, &mut g)?;
        Ok((l, g))
    }

    /// The gradient function that [`train`] calls once per epoch, for many
    /// gradients of one `objective`: `(params, grad) -> loss`, free to keep
    /// state between the calls. By default it calls
    /// [`gradient_into`](GradientMethod::gradient_into) every time;
    /// [`Reverse`] records its programs at the first call and replays them
    /// after.
    ///
    /// ```
    /// use dualtape_nn::{data::disk_ring, GradientMethod, Mlp, Reverse};
    ///
    /// let data = disk_ring(600, 1);
    /// let net = Mlp::notebook();
    /// let objective = net.objective(&data);
    /// let w = net.init_params(0);
    /// let mut gradient = Reverse.for_training(&objective);
    /// let mut g = vec![0.0; w.len()];
    /// let l = gradient(&w, &mut g).unwrap(); // records, then replays
    /// let l2 = gradient(&w, &mut g).unwrap(); // replays
    /// // The same bits as recording every chunk on the tape.
    /// let (l3, g3) = Reverse.gradient(&objective, &w).unwrap();
    /// assert_eq!((l, l2, g), (l3, l3, g3));
    /// ```
    fn for_training<'a>(&'a self, objective: &'a Objective<'a>) -> GradientFn<'a> {
        Box::new(move |params, grad| self.gradient_into(objective, params, grad))
    }
}

/// A gradient function for many calls ([`GradientMethod::for_training`]):
/// writes the gradient at `params` into `grad`, returns the loss.
pub type GradientFn<'a> = Box<dyn FnMut(&[f64], &mut [f64]) -> Result<f64, Error> + 'a>;

/// The notebook's hand-derived backward pass ([`super::notebook`]): only
/// for its 2-3-1 sigmoid network (either loss); any other network gives
/// [`Error::AnalyticUnavailable`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Analytic;

/// Reverse mode, recording once and replaying: in [`train`], one
/// [`Program`](dualtape::reverse::Program) of a chunk's loss is recorded
/// per chunk length at the first epoch, with the points as inputs, and
/// replayed for every chunk at every epoch after, on every thread
/// ([`dualtape::parallel::program::Replayer`]). A chunk whose control flow
/// differs from the program (a comparison in a ReLU or a clamp comes out
/// the other way) is recorded again. A single
/// [`gradient_into`](GradientMethod::gradient_into) records every chunk on
/// its thread's tape instead ([`dualtape::parallel::reverse::gradient`]),
/// as [`ReverseTape`] does at every epoch. Both give the same bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reverse;

/// Reverse mode recording every epoch: per chunk of the data, one
/// recording of its loss at [`Var`](dualtape::Var) on the running thread's
/// tape and one backward sweep, at every gradient
/// ([`dualtape::parallel::reverse::gradient`]). The same trajectory as
/// [`Reverse`], bit for bit, usually slower; the baseline that replay is
/// measured against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReverseTape;

/// Forward mode: per chunk of the data, `ceil(n / N)` passes of its loss
/// at [`DualVec<f64, N>`](dualtape::DualVec), each carrying `N` tangents
/// ([`dualtape::parallel::forward::gradient`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forward<const N: usize = FORWARD_CHUNK>;

/// Finite differences of the loss at `f64`, with the given scheme, chunk by
/// chunk ([`dualtape::parallel::finite_diff::gradient`]): central
/// differences cost `2n + 1` evaluations, Richardson `4n + 1`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiniteDifferences {
    /// The difference formula.
    pub scheme: Scheme,
}

impl GradientMethod for Analytic {
    fn name(&self) -> String {
        "analytic".into()
    }
    fn gradient_into(&self, o: &Objective<'_>, p: &[f64], g: &mut [f64]) -> Result<f64, Error> {
        o.analytic_gradient_into(p, g)
    }
}

impl GradientMethod for Reverse {
    fn name(&self) -> String {
        "reverse".into()
    }
    fn gradient_into(&self, o: &Objective<'_>, p: &[f64], g: &mut [f64]) -> Result<f64, Error> {
        ReverseTape.gradient_into(o, p, g)
    }
    fn for_training<'a>(&'a self, o: &'a Objective<'a>) -> GradientFn<'a> {
        let replayer = Replayer::new(o, o.chunk());
        Box::new(move |p, g| Ok(replayer.gradient_into(p, g)))
    }
}

impl GradientMethod for ReverseTape {
    fn name(&self) -> String {
        "reverse, re-record".into()
    }
    fn gradient_into(&self, o: &Objective<'_>, p: &[f64], g: &mut [f64]) -> Result<f64, Error> {
        Ok(parallel::reverse::gradient_into(o, p, o.chunk(), g))
    }
}

impl<const N: usize> GradientMethod for Forward<N> {
    fn name(&self) -> String {
        format!("forward ({N})")
    }
    fn gradient_into(&self, o: &Objective<'_>, p: &[f64], g: &mut [f64]) -> Result<f64, Error> {
        Ok(parallel::forward::gradient_into::<N, _>(o, p, o.chunk(), g))
    }
}

impl GradientMethod for FiniteDifferences {
    fn name(&self) -> String {
        match self.scheme {
            Scheme::Forward => "finite diff (forward)",
            Scheme::Central => "finite diff (central)",
            Scheme::Richardson => "finite diff (Richardson)",
        }
        .into()
    }
    fn gradient_into(&self, o: &Objective<'_>, p: &[f64], g: &mut [f64]) -> Result<f64, Error> {
        let config = Config::new(self.scheme);
        let (l, grad) = parallel::finite_diff::gradient_with(o, p, o.chunk(), &config);
        g.copy_from_slice(&grad);
        Ok(l)
    }
}

/// The gradient method chosen by value, for when it is picked at run time
/// (a command-line flag, a loop over all of them).
///
/// ```
/// use dualtape_nn::{data::disk_ring, GradientMethod, Method, Mlp, Activation};
///
/// let data = disk_ring(100, 0);
/// let net = Mlp::notebook();
/// let w = net.init_params(0);
/// let (_, exact) = Method::Analytic.gradient(&net.objective(&data), &w).unwrap();
/// for m in Method::ALL {
///     let (_, g) = m.gradient(&net.objective(&data), &w).unwrap();
///     let err = g.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
///     assert!(err < 1e-8, "{m}: {err}");
/// }
/// // Any other network has no hand-derived gradient: an error, not a panic.
/// let deeper = Mlp::new(&[2, 8, 1], Activation::Tanh, Activation::Sigmoid);
/// let w = deeper.init_params(0);
/// let err = Method::Analytic.gradient(&deeper.objective(&data), &w).unwrap_err();
/// assert!(err.to_string().contains("2-8-1"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// [`Analytic`]: the notebook's hand derivation (2-3-1 sigmoid only).
    Analytic,
    /// [`Reverse`]: reverse mode.
    Reverse,
    /// [`Forward`]: forward mode in chunks of [`FORWARD_CHUNK`] tangents.
    Forward,
    /// [`FiniteDifferences`] with central differences (`2n + 1` evaluations).
    FiniteDifferences,
}

impl Method {
    /// All four, the oracle first.
    pub const ALL: [Method; 4] = [
        Method::Analytic,
        Method::Reverse,
        Method::Forward,
        Method::FiniteDifferences,
    ];

    /// Like [`GradientMethod::name`], without allocating.
    pub fn label(self) -> &'static str {
        match self {
            Method::Analytic => "analytic",
            Method::Reverse => "reverse",
            Method::Forward => "forward",
            Method::FiniteDifferences => "finite differences",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl GradientMethod for Method {
    fn name(&self) -> String {
        self.label().into()
    }
    fn gradient_into(&self, o: &Objective<'_>, p: &[f64], g: &mut [f64]) -> Result<f64, Error> {
        match self {
            Method::Analytic => Analytic.gradient_into(o, p, g),
            Method::Reverse => Reverse.gradient_into(o, p, g),
            Method::Forward => Forward::<FORWARD_CHUNK>.gradient_into(o, p, g),
            Method::FiniteDifferences => FiniteDifferences {
                scheme: Scheme::Central,
            }
            .gradient_into(o, p, g),
        }
    }
    fn for_training<'a>(&'a self, o: &'a Objective<'a>) -> GradientFn<'a> {
        match self {
            Method::Reverse => Reverse.for_training(o),
            _ => Box::new(move |p, g| self.gradient_into(o, p, g)),
        }
    }
}

impl<M: GradientMethod + ?Sized> GradientMethod for &M {
    fn name(&self) -> String {
        (**self).name()
    }
    fn gradient_into(&self, o: &Objective<'_>, p: &[f64], g: &mut [f64]) -> Result<f64, Error> {
        (**self).gradient_into(o, p, g)
    }
    fn for_training<'a>(&'a self, o: &'a Objective<'a>) -> GradientFn<'a> {
        (**self).for_training(o)
    }
}

/// A rule for updating the parameters from the gradient, one step per epoch.
pub trait Optimizer {
    /// Moves `params` given the gradient `grad` at them.
    fn step(&mut self, params: &mut [f64], grad: &[f64]);

    /// A short description for tables, e.g. `gradient descent (rate 1)`.
    fn describe(&self) -> String;
}

/// Plain gradient descent, `w -= learning_rate * g`: the notebook's
/// optimiser, with learning rate 1.
///
/// ```
/// use dualtape_nn::{GradientDescent, Optimizer};
/// let mut gd = GradientDescent { learning_rate: 0.5 };
/// let mut w = [1.0, 2.0];
/// gd.step(&mut w, &[4.0, -2.0]);
/// assert_eq!(w, [-1.0, 3.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientDescent {
    /// The step size.
    pub learning_rate: f64,
}

impl Optimizer for GradientDescent {
    fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        assert_eq!(params.len(), grad.len(), "one gradient entry per parameter");
        for (w, g) in params.iter_mut().zip(grad) {
            *w -= self.learning_rate * g;
        }
    }

    fn describe(&self) -> String {
        format!("gradient descent (rate {})", self.learning_rate)
    }
}

/// Adam (Kingma and Ba, 2015) with bias correction: running means of the
/// gradient `m` and of its square `v`, and the step
/// `w -= rate * m̂ / (sqrt(v̂) + epsilon)` with `m̂ = m / (1 - beta1^t)`,
/// `v̂ = v / (1 - beta2^t)` at step `t`.
///
/// The state (`m`, `v`, `t`) starts empty and is sized at the first step;
/// use a fresh `Adam` for each training run.
///
/// ```
/// use dualtape_nn::{Adam, Optimizer};
/// // With bias correction the first step is rate * g / (|g| + eps): about
/// // `rate` in every coordinate, whatever the gradient's scale.
/// let mut adam = Adam::new(0.1);
/// let mut w = [0.0, 0.0];
/// adam.step(&mut w, &[1e-3, -50.0]);
/// assert!((w[0] + 0.1).abs() < 1e-5 && (w[1] - 0.1).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    /// The step size (default 0.001).
    pub learning_rate: f64,
    /// Decay of the running mean of the gradient (default 0.9).
    pub beta1: f64,
    /// Decay of the running mean of its square (default 0.999).
    pub beta2: f64,
    /// Added to the root mean square before dividing (default 1e-8).
    pub epsilon: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    /// Adam with the standard constants (beta1 0.9, beta2 0.999, epsilon
    /// 1e-8) and the given learning rate.
    pub fn new(learning_rate: f64) -> Adam {
        Adam {
            learning_rate,
            ..Adam::default()
        }
    }

    /// The number of steps taken so far.
    pub fn steps(&self) -> usize {
        self.t as usize
    }
}

impl Default for Adam {
    /// The paper's defaults: rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8.
    fn default() -> Adam {
        Adam {
            learning_rate: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        }
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        assert_eq!(params.len(), grad.len(), "one gradient entry per parameter");
        if self.t == 0 {
            self.m = vec![0.0; params.len()];
            self.v = vec![0.0; params.len()];
        }
        assert_eq!(
            self.m.len(),
            params.len(),
            "Adam: this optimiser was used with {} parameters; use a fresh Adam for another \
             problem",
            self.m.len()
        );
        self.t += 1;
        let c1 = 1.0 - self.beta1.powi(self.t);
        let c2 = 1.0 - self.beta2.powi(self.t);
        for i in 0..params.len() {
            let g = grad[i];
            self.m[i] = self.beta1 * self.m[i] + (1.0 - self.beta1) * g;
            self.v[i] = self.beta2 * self.v[i] + (1.0 - self.beta2) * g * g;
            let m_hat = self.m[i] / c1;
            let v_hat = self.v[i] / c2;
            params[i] -= self.learning_rate * m_hat / (v_hat.sqrt() + self.epsilon);
        }
    }

    fn describe(&self) -> String {
        format!("Adam (rate {})", self.learning_rate)
    }
}

/// What a training run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainLog {
    /// The parameters after the last epoch.
    pub params: Vec<f64>,
    /// The loss at the start of every epoch (as computed alongside its
    /// gradient), then the loss after the last
    /// ([`Objective::chunked_value`]): `epochs + 1` values.
    pub losses: Vec<f64>,
    /// Wall-clock seconds of every epoch: one gradient and one step.
    pub epoch_seconds: Vec<f64>,
}

impl TrainLog {
    /// The loss after training.
    pub fn final_loss(&self) -> f64 {
        self.losses[self.losses.len() - 1]
    }

    /// Mean seconds per epoch (0 for no epochs).
    pub fn seconds_per_epoch(&self) -> f64 {
        if self.epoch_seconds.is_empty() {
            0.0
        } else {
            self.epoch_seconds.iter().sum::<f64>() / self.epoch_seconds.len() as f64
        }
    }

    /// Median seconds per epoch (0 for no epochs): less sensitive than the
    /// mean to other work on the machine.
    pub fn median_epoch_seconds(&self) -> f64 {
        if self.epoch_seconds.is_empty() {
            return 0.0;
        }
        let mut t = self.epoch_seconds.clone();
        t.sort_by(f64::total_cmp);
        let m = t.len() / 2;
        if t.len() % 2 == 1 {
            t[m]
        } else {
            (t[m - 1] + t[m]) / 2.0
        }
    }
}

/// Full-batch training: `epochs` times, the gradient of `objective` by
/// `method` at the current parameters, then one `optimizer` step. Starts
/// from `init`; logs the loss and the time of every epoch. The gradients
/// come from [`method.for_training`](GradientMethod::for_training): with
/// [`Reverse`], recorded programs replayed from the second epoch on.
///
/// The automatic methods use every thread of the current rayon pool and
/// give the same trajectory, bit for bit, on any number of them; to choose
/// the number, run `train` inside a pool's `install` (inside `install` the
/// loop itself runs on a pool thread, which then works on the chunks too).
/// On a machine that runs nothing else,
/// [`dualtape::parallel::pinned_pool`] gives a pool whose threads stay on
/// their cores (the same bits):
///
/// ```
/// use dualtape_nn::{data::disk_ring, train, GradientDescent, Mlp, Reverse};
///
/// let data = disk_ring(1000, 1);
/// let net = Mlp::notebook();
/// let objective = net.objective(&data).with_chunk(100); // 10 chunks
/// let init = net.init_params(0);
/// let run = |threads| {
///     let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
///     let mut gd = GradientDescent { learning_rate: 1.0 };
///     pool.install(|| train(&objective, &Reverse, &mut gd, &init, 20).unwrap())
/// };
/// let (one, three) = (run(1), run(3));
/// assert_eq!(one.losses, three.losses);
/// assert_eq!(one.params, three.params);
/// ```
///
/// ```
/// use dualtape_nn::{data::disk_ring, train, GradientDescent, Method, Mlp, Reverse};
///
/// let data = disk_ring(200, 1);
/// let net = Mlp::notebook();
/// let init = net.init_params(0);
/// let rate = GradientDescent { learning_rate: 1.0 };
/// // The method by type...
/// let by_type = train(&net.objective(&data), &Reverse, &mut rate.clone(), &init, 50).unwrap();
/// // ... or by value: the same computation.
/// let by_value = train(&net.objective(&data), &Method::Reverse, &mut rate.clone(), &init, 50).unwrap();
/// assert_eq!(by_type.losses, by_value.losses);
/// assert_eq!(by_type.losses.len(), 51);
/// assert!(by_type.final_loss() < by_type.losses[0]);
/// ```
///
/// # Errors
///
/// The method's error, at the first epoch: [`Error::AnalyticUnavailable`]
/// if `method` is [`Analytic`] and the network is not the notebook's.
///
/// # Panics
///
/// If `init.len()` is not the network's number of parameters.
pub fn train<M, O>(
    objective: &Objective<'_>,
    method: &M,
    optimizer: &mut O,
    init: &[f64],
    epochs: usize,
) -> Result<TrainLog, Error>
where
    M: GradientMethod + ?Sized,
    O: Optimizer + ?Sized,
{
    let n = objective.mlp().n_params();
    assert_eq!(
        init.len(),
        n,
        "train: the {} network has {n} parameters, but the initial vector has {}",
        objective.mlp(),
        init.len()
    );
    let mut params = init.to_vec();
    let mut grad = vec![0.0; n];
    let mut losses = Vec::with_capacity(epochs + 1);
    let mut epoch_seconds = Vec::with_capacity(epochs);
    let mut gradient = method.for_training(objective);
    for _ in 0..epochs {
        let start = Instant::now();
        let loss = gradient(&params, &mut grad)?;
        optimizer.step(&mut params, &grad);
        epoch_seconds.push(start.elapsed().as_secs_f64());
        losses.push(loss);
    }
    losses.push(objective.chunked_value(&params));
    Ok(TrainLog {
        params,
        losses,
        epoch_seconds,
    })
}
