//! The workloads. Their definitions (the function at `f64` and at every
//! dualtape scalar, the start point, the data, the hand-written gradient)
//! are the criterion benchmarks' own, `benches/common/mod.rs`, included here
//! as [`common`]: written once for the benches, the tests, the profiler and
//! this comparison. This module adds what only the comparison needs: the
//! workloads as one enum the peers match on, the data as plain points for
//! the peers' own loops, and the nalgebra text every peer expands
//! (`na_generic`).

#[path = "../../../benches/common/mod.rs"]
pub mod common;
pub mod consts;
pub mod na_generic;

use std::sync::Arc;

/// Forward-mode n-pass methods and finite differences cost n evaluations per
/// gradient; past this many inputs they are skipped (the issue: Rosenbrock
/// forward and finite differences up to n = 1e4).
pub const MAX_PASSES: usize = 10_000;

/// Lanes of the one forward pass timed where a whole forward gradient would
/// take too long ([`Workload::one_pass_only`]).
pub const PASS_LANES: usize = 16;

/// Order of the log-determinant's matrix (400 inputs).
pub const LOGDET_M: usize = 20;

/// The notebook's disk/ring points, as the peers' loops read them.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub points: Vec<[f64; 2]>,
    /// 1.0 (disk) or 0.0 (ring).
    pub labels: Vec<f64>,
}

impl Dataset {
    fn of(p: &common::Points) -> Self {
        Dataset {
            points: p.x0.iter().zip(&p.x1).map(|(&a, &b)| [a, b]).collect(),
            labels: p.t.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }
}

/// The hidden layers' activation of a nalgebra network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hidden {
    Sigmoid,
    Tanh,
}

/// The benchmark network behind an `Mlp` workload.
pub enum Net {
    /// The notebook's 2-3-1 network through nalgebra (sigmoid hidden layer).
    Notebook(common::NotebookNalgebra),
    /// The 2-64-64-1 tanh network.
    Wide(common::Mlp),
}

#[derive(Clone)]
pub enum Workload {
    /// f(x) = c / x: one operation, checked only.
    ConstDiv,
    /// f(x) = c - x: one operation, checked only.
    ConstSub,
    /// Extended Rosenbrock with n inputs (`common::Rosenbrock`).
    Rosenbrock {
        n: usize,
        f: Arc<common::Rosenbrock>,
    },
    /// The notebook's 2-3-1 network, scalar loops, 13 parameters
    /// (`common::Notebook`).
    Net231 {
        data: Arc<Dataset>,
        net: Arc<common::Notebook>,
    },
    /// A network with layer widths `sizes` written with nalgebra matrices:
    /// W (out x in, row-major) then b per layer, `hidden` activation, a
    /// logit out, mean binary cross-entropy.
    Mlp {
        sizes: Vec<usize>,
        hidden: Hidden,
        data: Arc<Dataset>,
        net: Arc<Net>,
    },
    /// log det(B B^T + m I) through Cholesky, B the m x m inputs
    /// (`common::LogDet`).
    LogDet { m: usize, det: Arc<common::LogDet> },
}

/// One benchmark workload, whatever its type, for the generic calls below.
macro_rules! with_common {
    ($w:expr, |$c:ident| $body:expr) => {
        match $w {
            Workload::ConstDiv | Workload::ConstSub => unreachable!("not a benchmark workload"),
            Workload::Rosenbrock { f, .. } => {
                let $c = &**f;
                $body
            }
            Workload::Net231 { net, .. } => {
                let $c = &**net;
                $body
            }
            Workload::Mlp { net, .. } => match &**net {
                Net::Notebook($c) => $body,
                Net::Wide($c) => $body,
            },
            Workload::LogDet { det, .. } => {
                let $c = &**det;
                $body
            }
        }
    };
}

impl Workload {
    pub fn rosenbrock(n: usize) -> Self {
        Workload::Rosenbrock {
            n,
            f: Arc::new(common::Rosenbrock::new(n)),
        }
    }

    /// The notebook's 2-3-1 network on `points` disk/ring points, in loops.
    pub fn net231(points: usize) -> Self {
        let net = common::Notebook::new(points);
        Workload::Net231 {
            data: Arc::new(Dataset::of(&net.data)),
            net: Arc::new(net),
        }
    }

    /// The same network through nalgebra.
    pub fn net231_nalgebra(points: usize) -> Self {
        let net = common::NotebookNalgebra::new(points);
        Workload::Mlp {
            sizes: vec![2, 3, 1],
            hidden: Hidden::Sigmoid,
            data: Arc::new(Dataset::of(&net.data)),
            net: Arc::new(Net::Notebook(net)),
        }
    }

    /// The 2-64-64-1 tanh network through nalgebra.
    pub fn mlp(points: usize) -> Self {
        let net = common::Mlp::new(points);
        Workload::Mlp {
            sizes: vec![2, common::MLP_WIDTH, common::MLP_WIDTH, 1],
            hidden: Hidden::Tanh,
            data: Arc::new(Dataset::of(&net.data)),
            net: Arc::new(Net::Wide(net)),
        }
    }

    pub fn logdet(m: usize) -> Self {
        Workload::LogDet {
            m,
            det: Arc::new(common::LogDet::new(m)),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Workload::ConstDiv => format!("c / x (c = {}, x = {})", consts::C, consts::X),
            Workload::ConstSub => format!("c - x (c = {}, x = {})", consts::C, consts::X),
            Workload::Rosenbrock { .. } => "extended Rosenbrock".into(),
            Workload::Net231 { data, .. } => {
                format!("2-3-1 net, scalar loops, {} points", data.len())
            }
            Workload::Mlp { sizes, data, .. } => format!(
                "{} net, nalgebra, {} points",
                sizes
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join("-"),
                data.len()
            ),
            Workload::LogDet { m, .. } => format!("logdet(B B^T + {m} I), Cholesky {m}x{m}"),
        }
    }

    /// Number of inputs (parameters) differentiated with respect to.
    pub fn dim(&self) -> usize {
        match self {
            Workload::ConstDiv | Workload::ConstSub => 1,
            Workload::Rosenbrock { n, .. } => *n,
            w => w.point().len(),
        }
    }

    /// The point the gradient is taken at.
    pub fn point(&self) -> Vec<f64> {
        use common::Workload as _;
        match self {
            Workload::ConstDiv | Workload::ConstSub => vec![consts::X],
            w => with_common!(w, |c| c.x0().to_vec()),
        }
    }

    /// The workload at any dualtape scalar (for dualtape's own methods).
    pub fn eval<S: dualtape::Scalar<Real = f64>>(&self, x: &[S]) -> S {
        use common::Workload as _;
        match self {
            Workload::ConstDiv => S::constant(consts::C) / x[0],
            Workload::ConstSub => S::constant(consts::C) - x[0],
            w => with_common!(w, |c| c.eval(x)),
        }
    }

    /// Hand-written gradient into `g`, returning the value.
    pub fn analytic_into(&self, x: &[f64], g: &mut [f64]) -> f64 {
        use common::Workload as _;
        match self {
            Workload::ConstDiv => consts::div_gradient(x, g),
            Workload::ConstSub => consts::sub_gradient(x, g),
            w => with_common!(w, |c| c.analytic(x, g)),
        }
    }

    /// Hand-written gradient: (value, gradient).
    pub fn analytic(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let mut g = vec![0.0; x.len()];
        let value = self.analytic_into(x, &mut g);
        (value, g)
    }

    /// dualtape's reverse-mode tape for one gradient (nodes, bytes), where
    /// the workload is timed.
    pub fn tape(&self) -> Option<dualtape::reverse::TapeStats> {
        self.timed()
            .then(|| with_common!(self, |c| common::tape_of(c)))
    }

    /// One-operation workloads are only checked, not timed.
    pub fn timed(&self) -> bool {
        !matches!(self, Workload::ConstDiv | Workload::ConstSub)
    }

    /// Whether forward mode is timed as one pass of [`PASS_LANES`] lanes
    /// (the first inputs seeded, those partials checked) instead of a whole
    /// gradient: the 2-64-64-1 network, whose forward gradient is 277 passes
    /// of a 1000-point network. Every pass costs the same, so the crates'
    /// times for one pass compare as their gradients would.
    pub fn one_pass_only(&self) -> bool {
        matches!(self, Workload::Mlp { .. }) && self.skip_n_passes().is_some()
    }

    /// A one-pass method's name: `prefix`, then "1 pass (of P)".
    pub fn one_pass_name(&self, prefix: &str) -> String {
        format!("{prefix}, 1 pass (of {})", self.dim().div_ceil(PASS_LANES))
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
