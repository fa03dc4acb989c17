//! Methods that need no AD crate: the hand-written gradient and central
//! finite differences on the plain f64 evaluation.

use crate::harness::{Method, Peer};
use crate::workloads::Workload;

pub struct Baseline;

/// Central differences need a looser tolerance than exact gradients.
pub const FD_TOL: f64 = 1e-6;

/// Central differences, 2n evaluations, step cbrt(eps) max(|x_i|, 1);
/// `xp` is scratch space of length n.
pub fn central_differences_into(
    f: impl Fn(&[f64]) -> f64,
    x: &[f64],
    xp: &mut [f64],
    g: &mut [f64],
) -> f64 {
    xp.copy_from_slice(x);
    for i in 0..x.len() {
        let h = f64::EPSILON.cbrt() * x[i].abs().max(1.0);
        xp[i] = x[i] + h;
        let fp = f(xp);
        xp[i] = x[i] - h;
        let fm = f(xp);
        xp[i] = x[i];
        g[i] = (fp - fm) / (2.0 * h);
    }
    f(x)
}

#[cfg(test)]
pub fn central_differences(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> (f64, Vec<f64>) {
    let (mut xp, mut g) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    let value = central_differences_into(f, x, &mut xp, &mut g);
    (value, g)
}

impl Peer for Baseline {
    fn name(&self) -> String {
        "hand-written baselines".into()
    }

    fn methods(&self, w: &Workload) -> Vec<Method> {
        let hand = {
            let w = w.clone();
            Method::run("hand-written gradient", move |x, g| w.analytic_into(x, g))
        };
        let fd_name = "finite differences (central, f64)";
        let fd = match w.skip_n_passes() {
            Some(reason) => Method::skip(fd_name, reason),
            None => {
                let w = w.clone();
                let mut xp = vec![0.0; w.dim()];
                Method::run(fd_name, move |x, g| {
                    central_differences_into(|x| w.eval(x), x, &mut xp, g)
                })
                .with_tol(FD_TOL)
            }
        };
        vec![hand, fd]
    }
}
