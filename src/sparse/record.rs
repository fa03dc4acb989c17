//! The adapter from a recorded [`Program`] to detection's [`Graph`].

use super::detect::{Graph, GraphOp, Kind, NONE};
use crate::model::{eval_vector, Differentiable, VectorFunction};
use crate::reverse::program::{Arg, Op};
use crate::reverse::Program;

/// How each operation of a program depends on its operands.
fn kind(op: Op) -> Kind {
    use Op::*;
    match op {
        // Linear, or piecewise linear with constant partials on each piece.
        Add | Sub | Neg | Abs | Max | Min | Rem | Fract | MulAddTail => Kind::Linear,
        Copysign => Kind::LinearFirst,
        Mul => Kind::Product,
        Div => Kind::Quotient,
        Powi(0) => Kind::Constant,
        Powi(1) => Kind::Linear,
        Signum | Floor | Ceil | Round | Trunc => Kind::Constant,
        // Everything else (and any operation added later): nonlinear in
        // every operand, which can only add entries, never miss one.
        _ => Kind::Nonlinear,
    }
}

fn slot(a: Arg) -> u32 {
    match a {
        Arg::Slot(s) => s,
        Arg::Const(_) => NONE,
    }
}

/// A program as detection sees it.
pub(crate) fn graph(p: &Program) -> Graph {
    Graph {
        inputs: p.inputs(),
        ops: p
            .instructions()
            .iter()
            .map(|ins| GraphOp {
                kind: match (ins.op, ins.a, ins.b) {
                    // A product with a constant 0 depends on nothing.
                    (Op::Mul, Arg::Const(c), _) | (Op::Mul, _, Arg::Const(c)) if c == 0.0 => {
                        Kind::Constant
                    }
                    (op, _, _) => kind(op),
                },
                args: [
                    slot(ins.a),
                    if ins.op.is_binary() {
                        slot(ins.b)
                    } else {
                        NONE
                    },
                ],
            })
            .collect(),
        outputs: p.output_args().iter().map(|&a| slot(a)).collect(),
    }
}

/// Records a vector function at `x`.
pub(crate) fn vector<F: VectorFunction + ?Sized>(f: &F, x: &[f64]) -> Program {
    crate::reverse::record_vector(|v| eval_vector("sparse::jacobian_sparsity", f, v), x)
}

/// Records a scalar function at `x`.
pub(crate) fn scalar<M: Differentiable + ?Sized>(f: &M, x: &[f64]) -> Program {
    crate::reverse::record(|v| f.eval(v), x)
}
