//! TEMPORARY (not to be committed): tape-based Jacobian graph until Program lands.

use super::detect::{Graph, GraphOp, Kind, NONE};
use crate::function::{eval_vector, Differentiable, VectorFunction};
use crate::reverse::{record, Recording};
use crate::reverse::tape::with_tape;

pub(crate) fn vector<F: VectorFunction + ?Sized>(f: &F, x: &[f64]) -> Graph {
    let n = x.len();
    let rec = Recording::start("tmp");
    let ys = record(&rec, x, |v| eval_vector("tmp", f, v));
    let ops = with_tape(|t| {
        t.nodes()[n + 1..]
            .iter()
            .enumerate()
            .map(|(k, node)| {
                let me = (n + 1 + k) as u32;
                let s = |p: u32| if p == 0 || p == me { NONE } else { p - 1 };
                GraphOp { kind: Kind::Linear, args: [s(node.parent[0]), s(node.parent[1])] }
            })
            .collect()
    });
    Graph { inputs: n, ops, outputs: ys.iter().map(|y| if y.index() == 0 { NONE } else { y.index() as u32 - 1 }).collect() }
}

pub(crate) fn scalar<M: Differentiable + ?Sized>(_f: &M, _x: &[f64]) -> Graph {
    unimplemented!()
}
