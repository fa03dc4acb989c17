//! The benchmark workloads, each written once over `S: Scalar<Real = f64>`,
//! their hand-written gradients, and one helper per differentiation method.
//!
//! Shared by `benches/*.rs` (criterion), `compare/` (the ratio tables, with
//! the other crates: its `workloads::common`), `examples/profile.rs` and
//! `tests/suite` (`allocations`, `bench_workloads`), which include this file
//! with `#[path]`.
//!
//! | workload | inputs | written with |
//! |---|---|---|
//! | [`Rosenbrock`] | `n` (even) | a scalar loop over pairs |
//! | [`Notebook`] | 13 | the notebook's 2-3-1 network, scalar loops, 1000 points (hand-written gradient: `dualtape_nn::notebook`) |
//! | [`NotebookNalgebra`] | 13 | the same network and loss through `DMatrix<S>` |
//! | [`Mlp`] | 4417 | a 2-64-64-1 tanh network through `DMatrix<S>`, 1000 points |
//! | [`LogDet`] | 400 | `ln det(B Bᵀ + 20 I)` by `DMatrix<S>::cholesky()`, B 20×20 |
//!
//! Every workload has a hand-written gradient ([`Workload::analytic`]); the
//! tests check each method against it.

#![allow(dead_code)]

use dualtape::finite_diff::{self, Scheme};
use dualtape::{forward, reverse, Dual, DualVec, Scalar, Var};
use dualtape_nn::data::{self, Dataset, Rng};
use dualtape_nn::notebook;
use nalgebra::{DMatrix, DVector};

// ------------------------------------------------------------------ the trait

/// A function of `dim()` inputs, written once for every scalar type.
pub trait Workload {
    /// A short name for tables.
    fn name(&self) -> String;
    /// The point the benchmarks differentiate at.
    fn x0(&self) -> &[f64];
    /// The function, for any scalar.
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S;
    /// The hand-written gradient: writes `∇f(x)` into `g`, returns `f(x)`.
    fn analytic(&self, x: &[f64], g: &mut [f64]) -> f64;
}

// ------------------------------------------------------------------ methods

/// Plain `f64` evaluation: the baseline every ratio divides by.
#[inline(never)]
pub fn eval_f64<W: Workload>(w: &W, x: &[f64]) -> f64 {
    w.eval::<f64>(x)
}

/// The hand-written gradient.
#[inline(never)]
pub fn analytic<W: Workload>(w: &W, x: &[f64], g: &mut [f64]) -> f64 {
    w.analytic(x, g)
}

/// Reverse mode into a caller's buffer (`reverse::gradient_into`).
#[inline(never)]
pub fn reverse_into<W: Workload>(w: &W, x: &[f64], g: &mut [f64]) -> f64 {
    reverse::gradient_into(|v: &[Var]| w.eval(v), x, g)
}

/// Forward mode, `DualVec<f64, N>`: `ceil(n / N)` passes (`forward::gradient`).
#[inline(never)]
pub fn dualvec<W: Workload, const N: usize>(w: &W, x: &[f64]) -> (f64, Vec<f64>) {
    forward::gradient(|v: &[DualVec<f64, N>]| w.eval(v), x)
}

/// Forward mode, `Dual<f64>`: `n` passes, one tangent each, the inputs'
/// storage reused between passes (what `forward::jvp` does once per call).
#[inline(never)]
pub fn dual_passes<W: Workload>(w: &W, x: &[f64], g: &mut [f64]) -> f64 {
    let mut xs: Vec<Dual<f64>> = x.iter().map(|&xi| Dual::new(xi, 0.0)).collect();
    let mut value = w.eval::<f64>(x);
    for i in 0..x.len() {
        xs[i].eps = 1.0;
        let y = w.eval(&xs);
        xs[i].eps = 0.0;
        value = y.re;
        g[i] = y.eps;
    }
    value
}

/// Central finite differences, `2n + 1` evaluations (`finite_diff::gradient`).
#[inline(never)]
pub fn central_fd<W: Workload>(w: &W, x: &[f64]) -> (f64, Vec<f64>) {
    finite_diff::gradient(|v: &[f64]| w.eval(v), x, Scheme::Central)
}

/// One `Dual<f64>` pass (a directional derivative along `e_0`): for workloads
/// where `n` passes are too slow to time, cost of the gradient ≈ n × this.
#[inline(never)]
pub fn dual_one_pass<W: Workload>(w: &W, x: &[f64]) -> (f64, f64) {
    let mut v = vec![0.0; x.len()];
    v[0] = 1.0;
    forward::jvp(|d: &[Dual<f64>]| w.eval(d), x, &v)
}

/// One `DualVec<f64, N>` pass (the first chunk of `forward::gradient`).
#[inline(never)]
pub fn dualvec_one_pass<W: Workload, const N: usize>(w: &W, x: &[f64]) -> DualVec<f64, N> {
    let xs: Vec<DualVec<f64, N>> = x
        .iter()
        .enumerate()
        .map(|(i, &xi)| {
            if i < N {
                DualVec::variable(xi, i)
            } else {
                DualVec::from(xi)
            }
        })
        .collect();
    w.eval(&xs)
}

/// One central-difference pair (two evaluations, one partial).
#[inline(never)]
pub fn fd_one_pair<W: Workload>(w: &W, x: &mut [f64]) -> f64 {
    let h = finite_diff::step_size(Scheme::Central, x[0]);
    let x0 = x[0];
    x[0] = x0 + h;
    let up = w.eval::<f64>(x);
    x[0] = x0 - h;
    let down = w.eval::<f64>(x);
    x[0] = x0;
    (up - down) / (2.0 * h)
}

/// Reverse mode's tape for one gradient of `w`, recorded on a fresh thread
/// (so `peak_nodes` and `capacity_bytes` are this workload's alone).
pub fn tape_of<W: Workload + Sync>(w: &W) -> reverse::TapeStats {
    std::thread::scope(|s| {
        s.spawn(|| {
            let x = w.x0().to_vec();
            let mut g = vec![0.0; x.len()];
            reverse_into(w, &x, &mut g);
            reverse::tape_stats()
        })
        .join()
        .expect("the reverse gradient panicked")
    })
}

/// One line about the tape of `w`, for the benchmarks' output.
pub fn tape_line<W: Workload + Sync>(w: &W) -> String {
    let s = tape_of(w);
    format!(
        "{}: tape {} nodes ({:.1} per input), {} bytes per node, peak {:.2} MB, storage held {:.2} MB",
        w.name(),
        s.peak_nodes,
        s.peak_nodes as f64 / w.x0().len() as f64,
        s.bytes_per_node,
        (s.peak_nodes * s.bytes_per_node) as f64 / 1e6,
        s.capacity_bytes as f64 / 1e6
    )
}

// ------------------------------------------------------------------ data

/// The notebook's disk-inside-ring data (`dualtape_nn::data::disk_ring`:
/// class 1 in the disk of radius 0.5, class 0 on the ring 0.6 ≤ r < 1),
/// with its columns unpacked for the workloads' loops.
#[derive(Clone, Debug)]
pub struct Points {
    /// The data set itself, for `dualtape_nn::notebook`.
    pub set: Dataset,
    /// First coordinates.
    pub x0: Vec<f64>,
    /// Second coordinates.
    pub x1: Vec<f64>,
    /// Classes, 0 or 1.
    pub t: Vec<f64>,
    /// The inputs as an N × 2 matrix (column 0 is `x0`, column 1 is `x1`).
    pub x: DMatrix<f64>,
    /// The inputs transposed, 2 × N.
    pub xt: DMatrix<f64>,
}

impl Points {
    /// `n` points of disk-inside-ring data from `seed`.
    pub fn disk_ring(n: usize, seed: u64) -> Self {
        let set = data::disk_ring(n, seed);
        let x = set.x.clone();
        let x0 = x.column(0).iter().copied().collect();
        let x1 = x.column(1).iter().copied().collect();
        let t = set.y.iter().copied().collect();
        let xt = x.transpose();
        Points {
            set,
            x0,
            x1,
            t,
            x,
            xt,
        }
    }

    pub fn len(&self) -> usize {
        self.t.len()
    }
}

// ------------------------------------------------------------------ shared pieces

/// `ln(1 + e^z)` without overflow: [`Scalar::softplus`], one rule, as a
/// user would write it.
#[inline(always)]
pub fn softplus<S: Scalar<Real = f64>>(z: S) -> S {
    z.softplus()
}

/// Binary cross-entropy of one point from its logit `z` (target `t`):
/// `-t ln σ(z) - (1 - t) ln(1 - σ(z)) = softplus(z) - t z`.
#[inline(always)]
pub fn bce_from_logit<S: Scalar<Real = f64>>(z: S, t: f64) -> S {
    softplus(z) - z * t
}

// ------------------------------------------------------------------ Rosenbrock

/// Extended Rosenbrock, the *pairs* variant (Moré, Garbow, Hillstrom 1981):
/// `f(x) = Σ_{i=1}^{n/2} 100 (x_{2i} − x_{2i−1}²)² + (1 − x_{2i−1})²`,
/// `n` even, at the standard start `(−1.2, 1, −1.2, 1, ...)`.
/// Its cost is linear in `n` and every input appears in one pair only.
pub struct Rosenbrock {
    pub x0: Vec<f64>,
}

impl Rosenbrock {
    pub fn new(n: usize) -> Self {
        assert!(n.is_multiple_of(2), "extended Rosenbrock needs an even n");
        Rosenbrock {
            x0: (0..n)
                .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
                .collect(),
        }
    }
}

/// The Rosenbrock function itself, as a plain generic `fn`.
#[inline(always)]
pub fn rosenbrock<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let mut sum = S::constant(0.0);
    for p in x.chunks_exact(2) {
        let (a, b) = (p[0], p[1]);
        let t = b - a * a;
        let u = S::constant(1.0) - a;
        sum += t * t * 100.0 + u * u;
    }
    sum
}

/// Hand-written gradient of [`rosenbrock`]: ∂/∂a = −400 a t − 2 u, ∂/∂b = 200 t.
#[inline(always)]
pub fn rosenbrock_gradient(x: &[f64], g: &mut [f64]) -> f64 {
    let mut sum = 0.0;
    for (p, gp) in x.chunks_exact(2).zip(g.chunks_exact_mut(2)) {
        let (a, b) = (p[0], p[1]);
        let t = b - a * a;
        let u = 1.0 - a;
        sum += t * t * 100.0 + u * u;
        gp[0] = -400.0 * a * t - 2.0 * u;
        gp[1] = 200.0 * t;
    }
    sum
}

impl Workload for Rosenbrock {
    fn name(&self) -> String {
        format!("rosenbrock n={}", self.x0.len())
    }
    fn x0(&self) -> &[f64] {
        &self.x0
    }
    #[inline(always)]
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        rosenbrock(x)
    }
    fn analytic(&self, x: &[f64], g: &mut [f64]) -> f64 {
        rosenbrock_gradient(x, g)
    }
}

// ------------------------------------------------------------------ notebook 2-3-1

/// The notebook's 2-3-1 network (`dualtape_nn::notebook`, in the same
/// parameter order): inputs 2, hidden 3 (sigmoid), output 1 (sigmoid),
/// binary cross-entropy averaged over the points. The sigmoid is
/// [`Scalar::sigmoid`] (one operation, one tape node), as a user of the
/// crate would write it.
///
/// Parameters (13): `W1` 3×2 row-major (0..6), `b1` (6..9), `W2` (9..12),
/// `b2` (12). The loss is computed from the output logit `z2` as
/// `softplus(z2) − t z2`, which equals `−t ln y − (1 − t) ln(1 − y)` with
/// `y = σ(z2)` and never takes `ln 0` (as `dualtape_nn::notebook::loss` does).
pub const NOTEBOOK_PARAMS: usize = notebook::N_PARAMS;

/// The notebook's starting parameters (`W1`, `W2` standard normal, biases 0).
pub fn notebook_params(seed: u64) -> Vec<f64> {
    notebook::init_params(seed)
}

/// The 2-3-1 network written as scalar loops, one point at a time.
pub struct Notebook {
    pub data: Points,
    pub x0: Vec<f64>,
}

impl Notebook {
    pub fn new(points: usize) -> Self {
        Notebook {
            data: Points::disk_ring(points, 42),
            x0: notebook_params(3),
        }
    }
}

impl Workload for Notebook {
    fn name(&self) -> String {
        format!("notebook 2-3-1, loops, N={}", self.data.len())
    }
    fn x0(&self) -> &[f64] {
        &self.x0
    }
    fn eval<S: Scalar<Real = f64>>(&self, p: &[S]) -> S {
        assert_eq!(p.len(), NOTEBOOK_PARAMS);
        let d = &self.data;
        let mut sum = S::constant(0.0);
        for i in 0..d.len() {
            let (x0, x1) = (d.x0[i], d.x1[i]);
            // z2 = b2 + Σ_j W2_j σ(W1_j · x + b1_j)
            let mut z2 = p[12];
            for j in 0..3 {
                let z1 = p[2 * j] * x0 + p[2 * j + 1] * x1 + p[6 + j];
                z2 += p[9 + j] * z1.sigmoid();
            }
            sum += bce_from_logit(z2, d.t[i]);
        }
        sum / d.len() as f64
    }
    /// The notebook's hand-derived backward pass (`dualtape_nn::notebook::gradient_into`).
    fn analytic(&self, p: &[f64], g: &mut [f64]) -> f64 {
        notebook::gradient_into(p, &self.data.set, g)
    }
}

/// The same 2-3-1 network and loss through nalgebra matrices:
/// `Z1 = X W1ᵀ + 1 b1ᵀ` (N×3), `H = σ(Z1)`, `z2 = H W2 + b2` (N).
pub struct NotebookNalgebra {
    pub data: Points,
    pub x0: Vec<f64>,
}

impl NotebookNalgebra {
    pub fn new(points: usize) -> Self {
        NotebookNalgebra {
            data: Points::disk_ring(points, 42),
            x0: notebook_params(3),
        }
    }
}

impl Workload for NotebookNalgebra {
    fn name(&self) -> String {
        format!("notebook 2-3-1, nalgebra, N={}", self.data.len())
    }
    fn x0(&self) -> &[f64] {
        &self.x0
    }
    fn eval<S: Scalar<Real = f64>>(&self, p: &[S]) -> S {
        assert_eq!(p.len(), NOTEBOOK_PARAMS);
        let d = &self.data;
        let w1 = DMatrix::from_row_slice(3, 2, &p[0..6]);
        let w2 = DVector::from_column_slice(&p[9..12]);
        let x: DMatrix<S> = d.x.map(S::constant);
        let mut z1 = x * w1.transpose();
        for j in 0..3 {
            z1.column_mut(j).add_scalar_mut(p[6 + j]);
        }
        let h = z1.map(|v| v.sigmoid());
        let z2 = (h * w2).add_scalar(p[12]);
        let mut sum = S::constant(0.0);
        for (&z, &t) in z2.iter().zip(&d.t) {
            sum += bce_from_logit(z, t);
        }
        sum / d.len() as f64
    }
    /// The notebook's matrix backward pass, in nalgebra `f64`.
    fn analytic(&self, p: &[f64], g: &mut [f64]) -> f64 {
        let d = &self.data;
        let n = d.len() as f64;
        let w1 = DMatrix::from_row_slice(3, 2, &p[0..6]);
        let w2 = DVector::from_column_slice(&p[9..12]);
        let mut z1 = &d.x * w1.transpose();
        for j in 0..3 {
            z1.column_mut(j).add_scalar_mut(p[6 + j]);
        }
        let h = z1.map(|v| v.sigmoid());
        let z2 = (&h * &w2).add_scalar(p[12]);
        let t = DVector::from_column_slice(&d.t);
        let loss = z2
            .iter()
            .zip(&d.t)
            .map(|(&z, &t)| bce_from_logit(z, t))
            .sum::<f64>()
            / n;
        // dL/dz2 = (σ(z2) − t) / N
        let dz2 = (z2.map(|v| v.sigmoid()) - t) / n;
        let gw2 = h.tr_mul(&dz2); // Hᵀ dz2
        let gb2 = dz2.sum();
        // dZ1 = (dz2 W2ᵀ) ∘ H ∘ (1 − H)
        let mut dz1 = &dz2 * w2.transpose();
        dz1.component_mul_assign(&h.map(|v| v * (1.0 - v)));
        let gw1 = dz1.tr_mul(&d.x); // 3 × 2
        for j in 0..3 {
            g[2 * j] = gw1[(j, 0)];
            g[2 * j + 1] = gw1[(j, 1)];
            g[6 + j] = dz1.column(j).sum();
            g[9 + j] = gw2[j];
        }
        g[12] = gb2;
        loss
    }
}

// ------------------------------------------------------------------ 2-64-64-1 MLP

/// Hidden width of [`Mlp`].
pub const MLP_WIDTH: usize = 64;

/// A 2-64-64-1 network through nalgebra, on 1000 disk/ring points:
/// `H1 = tanh(W1 Xᵀ + b1)` (64×N), `H2 = tanh(W2 H1 + b2)` (64×N),
/// `z = H2ᵀ w3 + b3` (N), binary cross-entropy from the logits.
///
/// Parameters (4417): `W1` 64×2 row-major, `b1` 64, `W2` 64×64 row-major,
/// `b2` 64, `w3` 64, `b3` 1.
pub struct Mlp {
    pub data: Points,
    pub x0: Vec<f64>,
}

/// Offsets of the MLP's parameter blocks.
const fn mlp_offsets() -> [usize; 7] {
    let h = MLP_WIDTH;
    let w1 = 0;
    let b1 = w1 + 2 * h;
    let w2 = b1 + h;
    let b2 = w2 + h * h;
    let w3 = b2 + h;
    let b3 = w3 + h;
    [w1, b1, w2, b2, w3, b3, b3 + 1]
}
pub const MLP_PARAMS: usize = mlp_offsets()[6];

impl Mlp {
    pub fn new(points: usize) -> Self {
        let mut rng = Rng::new(11);
        let [w1, b1, w2, b2, w3, b3, end] = mlp_offsets();
        let mut x0 = vec![0.0; end];
        // Scaled normal weights (variance 1 / fan-in), biases 0.
        for (range, fan_in) in [(w1..b1, 2.0), (w2..b2, MLP_WIDTH as f64), (w3..b3, 64.0)] {
            for v in &mut x0[range] {
                *v = rng.normal() / f64::sqrt(fan_in);
            }
        }
        Mlp {
            data: Points::disk_ring(points, 42),
            x0,
        }
    }
}

impl Workload for Mlp {
    fn name(&self) -> String {
        format!("mlp 2-64-64-1, nalgebra, N={}", self.data.len())
    }
    fn x0(&self) -> &[f64] {
        &self.x0
    }
    fn eval<S: Scalar<Real = f64>>(&self, p: &[S]) -> S {
        let h = MLP_WIDTH;
        let [w1, b1, w2, b2, w3, b3, end] = mlp_offsets();
        assert_eq!(p.len(), end);
        let d = &self.data;
        let xt: DMatrix<S> = d.xt.map(S::constant);
        let w1 = DMatrix::from_row_slice(h, 2, &p[w1..b1]);
        let b1 = DVector::from_column_slice(&p[b1..w2]);
        let w2 = DMatrix::from_row_slice(h, h, &p[w2..b2]);
        let b2 = DVector::from_column_slice(&p[b2..w3]);
        let w3 = DVector::from_column_slice(&p[w3..b3]);
        let mut h1 = w1 * xt;
        for mut col in h1.column_iter_mut() {
            col += &b1;
        }
        h1.apply(|v| *v = v.tanh());
        let mut h2 = w2 * h1;
        for mut col in h2.column_iter_mut() {
            col += &b2;
        }
        h2.apply(|v| *v = v.tanh());
        let z = h2.tr_mul(&w3);
        let mut sum = S::constant(0.0);
        for (&z, &t) in z.iter().zip(&d.t) {
            sum += bce_from_logit(z + p[b3], t);
        }
        sum / d.len() as f64
    }
    /// Backpropagation by hand, in nalgebra `f64`.
    fn analytic(&self, p: &[f64], g: &mut [f64]) -> f64 {
        let h = MLP_WIDTH;
        let [ow1, ob1, ow2, ob2, ow3, ob3, _] = mlp_offsets();
        let d = &self.data;
        let n = d.len() as f64;
        let w1 = DMatrix::from_row_slice(h, 2, &p[ow1..ob1]);
        let b1 = DVector::from_column_slice(&p[ob1..ow2]);
        let w2 = DMatrix::from_row_slice(h, h, &p[ow2..ob2]);
        let b2 = DVector::from_column_slice(&p[ob2..ow3]);
        let w3 = DVector::from_column_slice(&p[ow3..ob3]);
        let b3 = p[ob3];
        let mut h1 = &w1 * &d.xt;
        for mut col in h1.column_iter_mut() {
            col += &b1;
        }
        h1.apply(|v| *v = v.tanh());
        let mut h2 = &w2 * &h1;
        for mut col in h2.column_iter_mut() {
            col += &b2;
        }
        h2.apply(|v| *v = v.tanh());
        let z = h2.tr_mul(&w3).add_scalar(b3);
        let loss = z
            .iter()
            .zip(&d.t)
            .map(|(&z, &t)| bce_from_logit(z, t))
            .sum::<f64>()
            / n;
        // dz = (σ(z) − t) / N, a row vector over the points
        let dz = DVector::from_iterator(
            d.len(),
            z.iter().zip(&d.t).map(|(&z, &t)| (z.sigmoid() - t) / n),
        );
        let gw3 = &h2 * &dz;
        let gb3 = dz.sum();
        // dZ2 = (w3 dzᵀ) ∘ (1 − H2²)
        let mut dz2 = &w3 * dz.transpose();
        dz2.zip_apply(&h2, |g, h| *g *= 1.0 - h * h);
        let gw2 = &dz2 * h1.transpose();
        let gb2 = dz2.column_sum();
        // dZ1 = (W2ᵀ dZ2) ∘ (1 − H1²)
        let mut dz1 = w2.tr_mul(&dz2);
        dz1.zip_apply(&h1, |g, h| *g *= 1.0 - h * h);
        let gw1 = &dz1 * &d.x; // 64 × 2
        let gb1 = dz1.column_sum();
        for i in 0..h {
            for j in 0..2 {
                g[ow1 + 2 * i + j] = gw1[(i, j)];
            }
            for j in 0..h {
                g[ow2 + h * i + j] = gw2[(i, j)];
            }
        }
        g[ob1..ow2].copy_from_slice(gb1.as_slice());
        g[ob2..ow3].copy_from_slice(gb2.as_slice());
        g[ow3..ob3].copy_from_slice(gw3.as_slice());
        g[ob3] = gb3;
        loss
    }
}

// ------------------------------------------------------------------ log-determinant

/// `ln det(B Bᵀ + m I)` through `DMatrix<S>::cholesky()`, with `B` the `m×m`
/// matrix of the inputs (row-major), `m = 20` (400 inputs): `2 Σ ln L_ii`.
pub struct LogDet {
    pub m: usize,
    pub x0: Vec<f64>,
}

impl LogDet {
    pub fn new(m: usize) -> Self {
        let mut rng = Rng::new(5);
        LogDet {
            m,
            x0: (0..m * m).map(|_| rng.uniform_in(-1.0, 1.0)).collect(),
        }
    }
}

impl Workload for LogDet {
    fn name(&self) -> String {
        format!("logdet cholesky {0}x{0}", self.m)
    }
    fn x0(&self) -> &[f64] {
        &self.x0
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        let m = self.m;
        let b = DMatrix::from_row_slice(m, m, x);
        let mut a = &b * b.transpose();
        for i in 0..m {
            a[(i, i)] += S::constant(m as f64);
        }
        let l = a
            .cholesky()
            .expect("B Bᵀ + m I is positive definite")
            .unpack_dirty();
        let mut s = S::constant(0.0);
        for i in 0..m {
            s += l[(i, i)].ln();
        }
        s * 2.0
    }
    /// `∇_B ln det(B Bᵀ + m I) = 2 A⁻¹ B`, by the same Cholesky factor.
    fn analytic(&self, x: &[f64], g: &mut [f64]) -> f64 {
        let m = self.m;
        let b = DMatrix::from_row_slice(m, m, x);
        let mut a = &b * b.transpose();
        for i in 0..m {
            a[(i, i)] += m as f64;
        }
        let chol = a.cholesky().expect("B Bᵀ + m I is positive definite");
        let logdet = chol
            .l_dirty()
            .diagonal()
            .iter()
            .map(|v| v.ln())
            .sum::<f64>()
            * 2.0;
        let grad = chol.solve(&b) * 2.0;
        for i in 0..m {
            for j in 0..m {
                g[m * i + j] = grad[(i, j)];
            }
        }
        logdet
    }
}
