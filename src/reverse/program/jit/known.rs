//! Arithmetic on values that may be known when compiling: the sweep's
//! seed `1`, and what constant partials make of it (Rosenbrock's terms
//! `t + 100·u` give `t`'s adjoint `1` and `u`'s `100` in every
//! repetition).
//!
//! [`mul`], [`add`] and [`sub`] emit one IEEE operation, or fold it where
//! that gives the same bits: two known operands are computed now (Rust's
//! `f64` arithmetic is the same IEEE operation, rounded the same way), and
//! `x · 1` is `x` (exactly, for every `x` but a NaN, whose payload is not
//! kept: a NaN adjoint gives up, see the [gradient's docs](super::gradient)).
//! What that saves is the sweep's multiplications by the seed: a
//! contribution `p · 1` is `p`.

use cranelift_codegen::ir::{types, InstBuilder, InstructionData, Opcode, Type, Value, ValueDef};
use cranelift_frontend::FunctionBuilder;

/// The constant `c` of type `ty`: `f64`, or `f64x2` (both lanes `c`).
pub(super) fn fconst(b: &mut FunctionBuilder, ty: Type, c: f64) -> Value {
    let x = b.ins().f64const(c);
    if ty == types::F64 {
        x
    } else {
        b.ins().splat(ty, x)
    }
}

/// `v`'s value (in every lane) if it is a constant: an `f64const`, or a
/// `splat` of one.
pub(super) fn known(b: &FunctionBuilder, v: Value) -> Option<f64> {
    let dfg = &b.func.dfg;
    let ValueDef::Result(inst, _) = dfg.value_def(v) else {
        return None; // (a block parameter)
    };
    match dfg.insts[inst] {
        InstructionData::UnaryIeee64 {
            opcode: Opcode::F64const,
            imm,
        } => Some(f64::from_bits(imm.bits())),
        InstructionData::Unary {
            opcode: Opcode::Splat,
            arg,
        } => known(b, arg),
        _ => None,
    }
}

/// `x · y`: computed now if both are known, `x` if `y` is a known `1` (or
/// `y` if `x` is).
pub(super) fn mul(b: &mut FunctionBuilder, x: Value, y: Value) -> Value {
    // (`==` on floats: `1.0` as a pattern would read as a bit pattern)
    #[allow(clippy::redundant_guards)]
    match (known(b, x), known(b, y)) {
        (Some(c), Some(d)) => fconst(b, b.func.dfg.value_type(x), c * d),
        (_, Some(d)) if d == 1.0 => x,
        (Some(c), _) if c == 1.0 => y,
        _ => b.ins().fmul(x, y),
    }
}

/// `x + y`: computed now if both are known.
pub(super) fn add(b: &mut FunctionBuilder, x: Value, y: Value) -> Value {
    match (known(b, x), known(b, y)) {
        (Some(c), Some(d)) => fconst(b, b.func.dfg.value_type(x), c + d),
        _ => b.ins().fadd(x, y),
    }
}

/// `x - y`: computed now if both are known.
pub(super) fn sub(b: &mut FunctionBuilder, x: Value, y: Value) -> Value {
    match (known(b, x), known(b, y)) {
        (Some(c), Some(d)) => fconst(b, b.func.dfg.value_type(x), c - d),
        _ => b.ins().fsub(x, y),
    }
}
