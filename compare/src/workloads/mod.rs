//! The workloads: each has a plain f64 evaluation (the baseline of every
//! ratio), a hand-written gradient (the reference every method is checked
//! against), and a start point.

pub mod consts;
pub mod data;
pub mod logdet;
pub mod mlp;
pub mod na_generic;
pub mod net231;
pub mod rosenbrock;

use data::Dataset;
use std::sync::Arc;

/// Forward-mode n-pass methods and finite differences cost n evaluations per
/// gradient; past this many inputs they are skipped (the issue: Rosenbrock
/// forward and finite differences up to n = 1e4).
pub const MAX_PASSES: usize = 10_000;

#[derive(Clone, Debug)]
pub enum Workload {
    /// f(x) = c / x: one operation, checked only.
    ConstDiv,
    /// f(x) = c - x: one operation, checked only.
    ConstSub,
    /// Extended Rosenbrock with n inputs.
    Rosenbrock { n: usize },
    /// The notebook's 2-3-1 network, scalar loops, 13 parameters.
    Net231 { data: Arc<Dataset> },
    /// A sigmoid network with layer widths `sizes` written with nalgebra
    /// matrices.
    Mlp {
        sizes: Vec<usize>,
        data: Arc<Dataset>,
    },
    /// log det(B B^T + m I) through Cholesky, B the m x m inputs.
    LogDet { m: usize },
}

impl Workload {
    pub fn name(&self) -> String {
        match self {
            Workload::ConstDiv => format!("c / x (c = {}, x = {})", consts::C, consts::X),
            Workload::ConstSub => format!("c - x (c = {}, x = {})", consts::C, consts::X),
            Workload::Rosenbrock { .. } => "extended Rosenbrock".into(),
            Workload::Net231 { data } => format!("2-3-1 net, scalar loops, {} points", data.len()),
            Workload::Mlp { sizes, data } => format!(
                "{} net, nalgebra, {} points",
                sizes
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join("-"),
                data.len()
            ),
            Workload::LogDet { m } => format!("logdet(B B^T + {m} I), Cholesky {m}x{m}"),
        }
    }

    /// Number of inputs (parameters) differentiated with respect to.
    pub fn dim(&self) -> usize {
        match self {
            Workload::ConstDiv | Workload::ConstSub => 1,
            Workload::Rosenbrock { n } => *n,
            Workload::Net231 { .. } => net231::N_PARAMS,
            Workload::Mlp { sizes, .. } => data::network_len(sizes),
            Workload::LogDet { m } => m * m,
        }
    }

    /// The point the gradient is taken at.
    pub fn point(&self) -> Vec<f64> {
        match self {
            Workload::ConstDiv | Workload::ConstSub => vec![consts::X],
            Workload::Rosenbrock { n } => rosenbrock::start(*n),
            Workload::Net231 { .. } => data::network_params(&net231::SIZES, 0x2_3_1),
            Workload::Mlp { sizes, .. } => data::network_params(sizes, 0x3117),
            Workload::LogDet { m } => data::uniform_vec(m * m, -1.0, 1.0, 0x10_6de7),
        }
    }

    /// Plain f64 evaluation.
    pub fn eval(&self, x: &[f64]) -> f64 {
        match self {
            Workload::ConstDiv => consts::C / x[0],
            Workload::ConstSub => consts::C - x[0],
            Workload::Rosenbrock { .. } => rosenbrock::eval(x),
            Workload::Net231 { data } => net231::eval(x, data),
            Workload::Mlp { sizes, data } => na_generic::na035::mlp_loss(x, sizes, data),
            Workload::LogDet { m } => na_generic::na035::logdet(x, *m),
        }
    }

    /// Hand-written gradient: (value, gradient).
    pub fn analytic(&self, x: &[f64]) -> (f64, Vec<f64>) {
        match self {
            Workload::ConstDiv => consts::div_gradient(x),
            Workload::ConstSub => consts::sub_gradient(x),
            Workload::Rosenbrock { .. } => rosenbrock::gradient(x),
            Workload::Net231 { data } => net231::gradient(x, data),
            Workload::Mlp { sizes, data } => mlp::gradient(x, sizes, data),
            Workload::LogDet { m } => logdet::gradient(x, *m),
        }
    }

    /// Hand-written gradient into `g`, returning the value; without
    /// allocating where the workload allows (Rosenbrock, the scalar network).
    pub fn analytic_into(&self, x: &[f64], g: &mut [f64]) -> f64 {
        match self {
            Workload::Rosenbrock { .. } => rosenbrock::gradient_into(x, g),
            Workload::Net231 { data } => net231::gradient_into(x, data, g),
            _ => {
                let (value, grad) = self.analytic(x);
                g.copy_from_slice(&grad);
                value
            }
        }
    }

    /// One-operation workloads are only checked, not timed.
    pub fn timed(&self) -> bool {
        !matches!(self, Workload::ConstDiv | Workload::ConstSub)
    }

    /// `Some(reason)` when methods that need one evaluation per input
    /// (forward n passes, finite differences) are skipped here.
    pub fn skip_n_passes(&self) -> Option<String> {
        let n = self.dim();
        let too_many = match self {
            Workload::Mlp { .. } => n > 100, // each pass is a full 1000-point network
            _ => n > MAX_PASSES,
        };
        too_many.then(|| format!("skipped: n passes (n = {n})"))
    }
}
