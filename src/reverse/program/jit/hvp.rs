//! The Hessian-vector product compiled ([`compile`]): the interpreter's
//! [`Program::hvp_into`] (a forward pass on `Dual<f64>` with the direction
//! `v` as the inputs' tangents, then the sweep on `Dual<f64>`), with every
//! dual number as two SSA values, its value `re` and its tangent `eps`.
//!
//! # The same bits as the interpreter, or the interpreter
//!
//! On `Dual<f64>` the rules of [`rules`](crate::rules) apply rule 3 *per
//! product*: a tangent's product with a partial is `times`
//! (src/forward/dual.rs), which is `+0` where one factor is zero
//! and the other infinite or NaN; the sweep skips a contribution whose
//! adjoint or partial is an exact (dual) zero. Testing all of that per
//! product would cost the compiled code more than the arithmetic it
//! guards. Instead the code computes with plain IEEE products (the fast
//! path the interpreter takes for "plain" partials, `is_plain`) and adds
//! every contribution unconditionally, and gives up, for the interpreter
//! to replay, wherever that could differ from the rules. It can differ
//! only where a NaN appears:
//!
//! - A dual product `x · y` (`Op::Mul`, `powi(x, 2)`, the product inside
//!   `mul_add`) has the tangent `times(x.eps, y.re) + times(y.eps, x.re)`
//!   (both branches of `chain2`: where `x.re · y.re` is plain, so are both
//!   partials, and `times` is the plain product). `times(t, d)` differs
//!   from `t · d` only where `t · d` is NaN (a zero against an infinity or
//!   a NaN), and then the plain sum is NaN too. The code computes
//!   `x.eps · y.re + y.eps · x.re`: the rules' tangent, or NaN.
//! - `+`, `-` and negation are exact per component: `a.eps · 1 + b.eps ·
//!   1` is `a.eps + b.eps`, `b.eps · (-1)` is `-b.eps` (IEEE subtraction
//!   is the addition of the negation), whatever the operands.
//! - A sweep contribution `p · g` with a partial `p` in values is the dual
//!   product above: `(p.re·g.re, p.eps·g.re + g.eps·p.re)`, plain, where
//!   no NaN appears. Adding it where rule 3 would skip it (`g` or `p` an
//!   exact zero) adds `±0` to each component, where no NaN appears, and an
//!   adjoint is never `-0` (it starts at `+0`, its first contribution is
//!   added to `+0`, and `x + y` is `-0` only if both are), so the sum is the
//!   adjoint unchanged: the same bits as the skip.
//! - A constant partial (`±1` of `+`, `-`, negation, `mul_add`; a constant
//!   operand `c` of `*`) is `(c, ±0)` on `Dual<f64>` (`-T::one()` is
//!   `(-1, -0)`), and its contribution `(c·g.re, times(±0, g.re) + g.eps·c)`
//!   is added as `(c·g.re, c·g.eps)`: `times(±0, ·)` is a zero, which only
//!   decides the sign of a zero sum, and an adjoint (never `-0`) plus `±0`
//!   is itself. `c = 1` adds `g` (as the first contribution to an
//!   adjoint, the sum is `g` itself: `+0 + x` is `x` for every component
//!   `x` of an adjoint, never `-0`), `c = -1` subtracts it; a constant zero
//!   partial adds nothing (skipped when compiling, as rule 3 skips it).
//! - Where an adjoint's tangent is known to be a zero when compiling (the
//!   seed `(1, 0)` and what constant partials make of it), a contribution
//!   `p · g` with `p` in values is added as `(p.re·g.re, p.eps·g.re)`: the
//!   dropped `g.eps · p.re` is a zero, which only decides the sign of a
//!   zero sum (absorbed by the adjoint, above), or NaN where `p.re` is
//!   infinite or NaN. A NaN `p.re` makes `p.re·g.re` NaN, caught as any
//!   NaN adjoint; an infinite one is where the rules' `times(g.eps, p.re)`
//!   is `+0` too (a zero tangent blocks an infinite partial), so the code's
//!   sum is the interpreter's there as well. Values known when compiling
//!   are multiplied now, and `x · 1` is `x` ([`known`](super::known)).
//!
//! So wherever no NaN appears, the code's value, gradient and product are
//! the interpreter's, bit for bit. Where a NaN appears, the code need not
//! give up unless it could reach what is returned; it checks:
//!
//! - The adjoints. A NaN contribution makes its adjoint NaN for good
//!   (`x + NaN` is NaN), and a NaN adjoint's own contributions are NaN
//!   (NaN times anything, constant partials included), so it is enough to
//!   check the inputs' adjoints and the adjoints of instructions that add
//!   into nothing (constant operands, zero partials).
//! - The tangents entering a call of a rule ([`shim_eval`]) that may be
//!   NaN where the interpreter's are not: the rules may turn a NaN tangent
//!   into a number (`times(NaN, 0)` is `+0`, a `max` drops an operand).
//!
//! Not each product's tangent. Why that is enough: call a dual value
//! *tainted* if the code's differs from the interpreter's. Every `re` is
//! the interpreter's (no `re` reads a tangent: `+ - *`, negation and
//! `mul_add`'s shim read values only, and a rule's call is checked), so
//! taint is in tangents only, and a tainted tangent is NaN: a product's
//! is the rules' or NaN (above); `+`, `-`, negation and the products
//! propagate a NaN operand's tangent (`NaN op a` is NaN, and `0 · NaN`
//! too); a rule's results are the interpreter's once its operands'
//! tangents pass the check. Tangents computed from no product never are
//! tainted and are not checked (the compiler tracks which may be,
//! `nan_eps`). A tainted tangent is then harmless or caught:
//!
//! - The guards read values only, and the output's tangent is never
//!   returned.
//! - A partial (an operand of `*`, `x + x` of `powi(x, 2)`, a rule's
//!   results) is used only in the sweep, as the factor `p.eps · g.re` of
//!   its instruction's contributions: a tainted `p.eps` makes the
//!   contribution NaN, whatever `g`, and a checked adjoint NaN. Where it is
//!   not used (its instruction's adjoint is known to be zero when compiling,
//!   its operand a constant, the partial a constant zero), the interpreter
//!   does not use it either: rule 3 skips the same contributions.
//!
//! So where no check fails, every partial the sweep uses and every value
//! returned is the interpreter's, and the argument above gives the same
//! bits. Where one fails, the function returns status 2 (having written
//! at most `grad` and `hv`), and the caller runs the interpreter: its result, bit for bit,
//! at the price of an interpreted HVP at such points (a NaN or infinite
//! input, an overflow, a function evaluated outside its domain; a
//! product's NaN tangent that reaches only the output's tangent no longer
//! costs one). The operations other than `+`, `-`, `*`, negation,
//! `powi(x, 0)`, `powi(x, 2)` and `mul_add` call [`eval`] on `Dual<f64>`
//! itself ([`shim_eval`]), which computes exactly what the interpreter
//! does.
//!
//! The sweep's order is the gradient's ([`gradient`](super::gradient)):
//! reverse program order, operand `a` before `b`, the summed partials
//! (a dual sum) once for an operation whose operands are one slot.
//!
//! # Loops
//!
//! Where the program repeats one body ([`loops`](super::loops)), both
//! passes run the repetitions as loops over it, as the gradient's do (see
//! its module docs: the same order, the inline partials' values
//! recomputed per repetition from the same operands, a shim's results
//! stored per repetition and read back, a run-time `+0` adjoint entering
//! a repetition nothing added to, an identity a repetition lacks computed
//! with its contribution passed on, the inputs' adjoints and products
//! added into `grad` and `hv`, every such sum checked, a repetition's
//! contributions to one strided input added in registers and stored once,
//! from `(+0, +0)` with no load and no clearing where the repetition makes
//! all of them, [`owned`](super::owned)). Where a repetition
//! lacks an identity, the code takes its operand's tangent itself
//! ([`where_absent`]; for a shim, also into the stored results), the
//! program's, where `x · 1`'s product rule could give a zero of the other
//! sign. The argument above
//! carries over: it is per instruction, and a loop's instructions are the
//! program's, in its order. What changes is how the code knows which
//! tangents may be tainted (`nan_eps`): a body's instruction stands for
//! all its repetitions, so it is marked if it may be tainted in any of
//! them, grown from the values before the loop through the carried ones
//! (a running sum of products is tainted from its second repetition on)
//! until nothing changes; a rule's operand so marked is checked in every
//! repetition, its outcome carried through the loop in a flag. A value a
//! loop keeps in memory for later code ([`Loop::kept`]) is marked as its
//! body instruction is, wherever it is read.
//!
//! The forward loop computes only the tangents something reads
//! ([`tangents_needed`]): a tangent it does not compute is not checked
//! either, and nothing reads it, so the argument is unchanged. Where every
//! operation is inline and the repetitions share nothing but running sums
//! ([`paired`]), the sweep runs two repetitions at a time, each component
//! of a dual number an `f64x2` ([`sweep_pairs`]; the gradient's scheme,
//! [`pairs`](super::pairs): each lane the one-repetition sweep's
//! operations, rounded lane by lane, and the checks on the adjoints lane
//! by lane).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, BlockArg, InstBuilder, MemFlags, SigRef, StackSlot, StackSlotData, StackSlotKind, Type,
    Value,
};
use std::sync::Arc;

use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use super::known::{self, fconst};
use super::loops::{loop_at, Loop, Scratch, Src};
use super::pairs::{pairs, Lanes};
use super::{
    clear, clear_some, declare, entries, finish, guards, import, owned, running, shim_mul_add,
    shim_test, stride, table, targets, Checks, Code, Param, Targets,
};
use crate::reverse::program::op::{eval, Op, Test};
use crate::reverse::program::{Arg, Program};
use crate::Dual;

/// The compiled HVP: `(x, v, grad, hv, value, kinks, scratch) -> status`
/// (`scratch`: [`Scratch::len`] writable `f64`s for its loops). Reads
/// `x[..n]` and `v[..n]`; on status 0 writes `grad[..n]`, `hv[..n]` and
/// `*value`; on status 1 (a recorded comparison changed; kink branches
/// only if `kinks != 0`) writes nothing, on status 2 (a NaN where the
/// code's shortcuts could differ from the rules: see the [module
/// docs](self)) at most `grad[..n]` and `hv[..n]` (code with loops adds
/// into them as it sweeps; the caller replays into them).
pub(crate) type HvpFn = unsafe extern "C" fn(
    *const f64,
    *const f64,
    *mut f64,
    *mut f64,
    *mut f64,
    u32,
    *mut f64,
) -> u32;

impl Code<HvpFn> {
    /// Runs the compiled HVP: `Some(f(x))` with `∇f(x)` in `grad` and
    /// `∇²f(x) v` in `hv`, or `None` if a recorded comparison (a kink's
    /// branch only with `kinks`) came out differently or the interpreter
    /// must replay (status 2; `grad` and `hv` may then be written, see
    /// [`HvpFn`]).
    ///
    /// # Panics
    ///
    /// Unless the slices have one entry per input of the program this was
    /// compiled from (checked by its caller too: the assertion keeps the
    /// call sound on its own).
    #[inline]
    // (the entry point's arguments, and the input count they are checked
    // against)
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run(
        &self,
        n: usize,
        x: &[f64],
        v: &[f64],
        grad: &mut [f64],
        hv: &mut [f64],
        kinks: bool,
        scratch: &mut Vec<f64>,
    ) -> Option<f64> {
        assert!(x.len() == n && v.len() == n && grad.len() == n && hv.len() == n);
        if scratch.len() < self.scratch {
            scratch.resize(self.scratch, 0.0);
        }
        let mut value = 0.0;
        // SAFETY: `entry` was compiled from a program with `n` inputs: it
        // reads `x[..n]`, `v[..n]`, writes `grad[..n]`, `hv[..n]` and
        // `value`, all valid (asserted), reads and writes
        // `scratch[..self.scratch]` (resized above), and nothing else but
        // its own stack frame (stack probes on).
        let status = unsafe {
            (self.entry)(
                x.as_ptr(),
                v.as_ptr(),
                grad.as_mut_ptr(),
                hv.as_mut_ptr(),
                &mut value,
                kinks.into(),
                scratch.as_mut_ptr(),
            )
        };
        (status == 0).then_some(value)
    }
}

/// `eval(*op, a, b)` on `Dual<f64>` (`a = (are, aeps)`, `b = (bre,
/// beps)`) into `out[0..6]`: the value, ∂/∂a, ∂/∂b, each `re` then `eps`.
///
/// # Safety
///
/// `op` points to an `Op`, `out` to six writable `f64`s (the code passes
/// an element of [`Code::_ops`] and a stack slot of its frame).
unsafe extern "C" fn shim_eval(
    op: *const Op,
    are: f64,
    aeps: f64,
    bre: f64,
    beps: f64,
    out: *mut f64,
) {
    // SAFETY: the caller's contract.
    unsafe {
        let (v, da, db) = eval(*op, Dual::new(are, aeps), Dual::new(bre, beps));
        for (i, d) in [v, da, db].into_iter().enumerate() {
            out.add(2 * i).write(d.re);
            out.add(2 * i + 1).write(d.eps);
        }
    }
}

/// A dual number in SSA values.
#[derive(Clone, Copy)]
struct D {
    re: Value,
    eps: Value,
}

/// A strided input's adjoint in a sweep loop's repetition: input `i +
/// r·d` for `key` `(i, d)` (at `8·i` bytes from `at`'s addresses in `grad`
/// and `hv`), the sum so far (`None`: `(+0, +0)`), and whether anything
/// was added to it.
struct Cell {
    key: (usize, usize),
    at: (Value, Value),
    sum: Option<D>,
    added: bool,
}

/// A partial as far as known when compiling: a constant `(re, eps)` (its
/// tangent a zero), or values.
#[derive(Clone, Copy)]
enum P {
    Const(f64, f64),
    Val(D),
}

/// The tangent of the dual product `x · y` by plain products,
/// `x.eps · y.re + y.eps · x.re` (unchecked: a NaN here is caught where it
/// could matter, see the [module docs](self)).
fn product_eps(b: &mut FunctionBuilder, x: D, y: D) -> Value {
    let s = b.ins().fmul(x.eps, y.re);
    let t = b.ins().fmul(y.eps, x.re);
    b.ins().fadd(s, t)
}

/// Whether `op` is emitted inline by [`emit_op`] (else it calls
/// [`shim_eval`], whose operands' tangents must be checked where they may
/// be NaN where the interpreter's are not).
fn inline(op: Op) -> bool {
    matches!(
        op,
        Op::Add | Op::Sub | Op::Neg | Op::Mul | Op::Powi(0) | Op::Powi(2)
    )
}

/// Whether the tangent of `op`'s result may be NaN where the interpreter's
/// is not, given whether its operands' may (`a`, `b`): a plain product's
/// tangent, or one computed from such a tangent by plain arithmetic (a
/// shim's result is the interpreter's, its operands checked).
fn taints(op: Op, a: bool, b: bool) -> bool {
    match op {
        Op::Mul | Op::Powi(2) | Op::MulAddTail => true,
        Op::Add | Op::Sub | Op::Neg => a || b,
        _ => false,
    }
}

/// The shims' signatures and addresses, and the stack slot `shim_eval`
/// writes into.
#[derive(Clone, Copy)]
struct Shims {
    ptr: Type,
    eval: (SigRef, Value),
    out: StackSlot,
}

/// Emits `op(x, y)` on duals (any operation but `MulAddTail`; `opp` points
/// to `op`, for the shim): its value and partials. A shim writes its
/// results to `out` (six `f64`s), or, if `None`, to the stack.
fn emit_op(
    b: &mut FunctionBuilder,
    sh: Shims,
    op: Op,
    opp: *const Op,
    [x, y]: [D; 2],
    out: Option<Value>,
) -> (D, P, P) {
    // `T::one()`, `-T::one()` (`(-1, -0)`), `T::zero()`
    let (one, minus, zero) = (P::Const(1.0, 0.0), P::Const(-1.0, -0.0), P::Const(0.0, 0.0));
    match op {
        // per component (see the module docs)
        Op::Add => {
            let re = b.ins().fadd(x.re, y.re);
            let eps = b.ins().fadd(x.eps, y.eps);
            (D { re, eps }, one, one)
        }
        Op::Sub => {
            let re = b.ins().fsub(x.re, y.re);
            let eps = b.ins().fsub(x.eps, y.eps);
            (D { re, eps }, one, minus)
        }
        // `-x`: `(-x.re, x.eps · -1)`, the sign bits flipped
        Op::Neg => {
            let re = b.ins().fneg(x.re);
            let eps = b.ins().fneg(x.eps);
            (D { re, eps }, minus, zero)
        }
        // rules::mul: (x · y, y, x)
        Op::Mul => {
            let re = b.ins().fmul(x.re, y.re);
            let eps = product_eps(b, x, y);
            (D { re, eps }, P::Val(y), P::Val(x))
        }
        // rules::powi: n = 0 is (1, 0), n = 2 is (x · x, x + x)
        Op::Powi(0) => {
            let ty = b.func.dfg.value_type(x.re);
            let re = fconst(b, ty, 1.0);
            let eps = fconst(b, ty, 0.0);
            (D { re, eps }, zero, zero)
        }
        Op::Powi(2) => {
            let re = b.ins().fmul(x.re, x.re);
            let eps = product_eps(b, x, x);
            let pre = b.ins().fadd(x.re, x.re);
            let peps = b.ins().fadd(x.eps, x.eps);
            (D { re, eps }, P::Val(D { re: pre, eps: peps }), zero)
        }
        _ => {
            let opp = b.ins().iconst(sh.ptr, opp as i64);
            let outp = out.unwrap_or_else(|| b.ins().stack_addr(sh.ptr, sh.out, 0));
            b.ins()
                .call_indirect(sh.eval.0, sh.eval.1, &[opp, x.re, x.eps, y.re, y.eps, outp]);
            read_back(b, outp)
        }
    }
}

/// The value and partials a shim wrote to `at` (six `f64`s).
fn read_back(b: &mut FunctionBuilder, at: Value) -> (D, P, P) {
    let mut d = |i: i32| D {
        re: b.ins().load(types::F64, MemFlags::trusted(), at, 16 * i),
        eps: b
            .ins()
            .load(types::F64, MemFlags::trusted(), at, 16 * i + 8),
    };
    (d(0), P::Val(d(1)), P::Val(d(2)))
}

/// The scratch memory `loops`' compiled HVP needs ([`Scratch`]: a shim's
/// dual value and two dual partials per instruction and repetition).
fn scratch(loops: &[Loop]) -> Scratch {
    Scratch::new(loops, |op| !inline(op), 6)
}

/// `cur + p · g` on duals as the module docs add a contribution (`cur`
/// `None`: nothing added yet, `(+0, +0)`); `None` for a constant zero
/// partial (rule 3: nothing added).
fn contribute(b: &mut FunctionBuilder, cur: Option<D>, p: P, g: D) -> Option<D> {
    let ty = b.func.dfg.value_type(g.re);
    // (`==` on floats, as the rules test them, not patterns)
    #[allow(clippy::redundant_guards)]
    let cur = match (cur, p) {
        (_, P::Const(c, e)) if c == 0.0 && e == 0.0 => return None,
        // `(+0, +0) + g` is `g`: no component of an adjoint is `-0`
        (None, P::Const(c, _)) if c == 1.0 => return Some(g),
        (Some(cur), _) => cur,
        (None, _) => {
            let z = fconst(b, ty, 0.0);
            D { re: z, eps: z }
        }
    };
    // (folded where `g` is known: see `known`, and the module docs for a
    // known zero `g.eps`)
    let (add, sub, mul) = (known::add, known::sub, known::mul);
    #[allow(clippy::redundant_guards)]
    let sum = match p {
        P::Const(c, _) if c == 1.0 => D {
            re: add(b, cur.re, g.re),
            eps: add(b, cur.eps, g.eps),
        },
        P::Const(c, _) if c == -1.0 => D {
            re: sub(b, cur.re, g.re),
            eps: sub(b, cur.eps, g.eps),
        },
        P::Const(c, _) => {
            let c = fconst(b, ty, c);
            let re = mul(b, c, g.re);
            let eps = mul(b, c, g.eps);
            D {
                re: add(b, cur.re, re),
                eps: add(b, cur.eps, eps),
            }
        }
        P::Val(p) => {
            let re = mul(b, p.re, g.re);
            let s = mul(b, p.eps, g.re);
            let eps = if known::known(b, g.eps) == Some(0.0) {
                // `g.eps · p.re` is a zero, or NaN where `p.re` is
                // infinite or NaN (see the module docs)
                s
            } else {
                let t = mul(b, g.eps, p.re);
                add(b, s, t)
            };
            D {
                re: add(b, cur.re, re),
                eps: add(b, cur.eps, eps),
            }
        }
    };
    Some(sum)
}

/// The partial a slot read twice by one instruction receives: the two
/// summed (a dual sum, once, as the tape sums them).
fn summed(b: &mut FunctionBuilder, pa: P, pb: P) -> P {
    match (pa, pb) {
        (P::Const(x, xe), P::Const(y, ye)) => P::Const(x + y, xe + ye),
        _ => {
            let ty = match (pa, pb) {
                (P::Val(v), _) | (_, P::Val(v)) => b.func.dfg.value_type(v.re),
                _ => unreachable!("one partial varies (matched above)"),
            };
            let mut v = |q: P| match q {
                P::Const(c, e) => D {
                    re: fconst(b, ty, c),
                    eps: fconst(b, ty, e),
                },
                P::Val(v) => v,
            };
            let (x, y) = (v(pa), v(pb));
            P::Val(D {
                re: b.ins().fadd(x.re, y.re),
                eps: b.ins().fadd(x.eps, y.eps),
            })
        }
    }
}

/// `v`, the value of body instruction `j` of `l` on the operands
/// `xy` in the repetition whose counter is `r`, with the tangent of its
/// non-constant operand where the repetition lacks it ([`Loop::absent`]:
/// there the program reads that operand itself, tangent and all; `x · 1`'s
/// tangent `x.eps · 1 + 0 · x.re` could differ from it in the sign of a
/// zero). Its value is the operand's already: the identity's.
fn where_absent(
    b: &mut FunctionBuilder,
    ptr: Type,
    l: &Loop,
    j: usize,
    r: Value,
    v: D,
    xy: [D; 2],
) -> D {
    let Some(t) = l.absent[j] else {
        return v;
    };
    let x = match l.body[j][0] {
        Src::Const(_) | Src::Table(_) => xy[1],
        _ => xy[0],
    };
    let flag = table(b, ptr, &l.tables[t], r);
    let zero = b.ins().f64const(0.0);
    let lacks = b.ins().fcmp(FloatCC::NotEqual, flag, zero);
    D {
        re: v.re,
        eps: b.ins().select(lacks, x.eps, v.eps),
    }
}

/// The constant partials of `+`, `-`, negation and `powi(·, 0)` on duals
/// (the operations [`partials_vary`](super::loops::partials_vary)
/// excludes), as [`emit_op`] gives them.
fn fixed_partials(op: Op) -> (P, P) {
    let (one, minus, zero) = (P::Const(1.0, 0.0), P::Const(-1.0, -0.0), P::Const(0.0, 0.0));
    match op {
        Op::Add => (one, one),
        Op::Sub => (one, minus),
        Op::Neg => (minus, zero),
        Op::Powi(0) => (zero, zero),
        _ => unreachable!("partials that vary (loops::find checked)"),
    }
}

/// Which tangents of `l`'s body (of `p`) its forward loop computes: those
/// something reads after the loop (kept in memory for later loops, or the
/// last repetition's read by a later instruction: as a partial, its
/// tangent is the sweep's), a rule's call (its results, read back by the
/// sweep) and, in every repetition, those they are computed from. The
/// sweep recomputes the rest from the repetition's operands; the output's
/// tangent is never returned. So a sum of terms, as Rosenbrock's, computes
/// values only: the tangents the forward loop would compute feed nothing
/// but the sum's, which the block's parameters would otherwise carry
/// around the loop.
fn tangents_needed(p: &Program, l: &Loop) -> Vec<bool> {
    let per = l.period;
    let reads_later = |s: usize| {
        let s = Arg::Slot(s as u32);
        p.instrs[l.end()..].iter().any(|i| i.a == s || i.b == s)
    };
    let mut need: Vec<bool> = (0..per)
        .map(|j| !inline(l.ops[j]) || l.kept[j] || l.last[j].is_some_and(reads_later))
        .collect();
    loop {
        let mut grown = false;
        for j in (0..per).rev() {
            if !need[j] {
                continue;
            }
            let operands = &l.body[j][..1 + usize::from(l.ops[j].is_binary())];
            for &src in operands {
                if let Src::Local(i) | Src::Carried(i) = src {
                    grown |= !need[i];
                    need[i] = true;
                }
            }
        }
        if !grown {
            return need;
        }
    }
}

/// Whether the HVP's sweep of `l` runs two repetitions at a time
/// ([`sweep_pairs`]): where [`pairs`] holds for the operations emitted
/// inline here and no repetition lacks an identity (whose tangent
/// [`where_absent`] would take per repetition).
fn paired(l: &Loop, own: &[(usize, usize)]) -> bool {
    pairs(l, own, inline) && l.absent.iter().all(Option::is_none)
}

/// Emits the HVP's sweep of repetitions `reps − 1` down to `last` (`≥ 1`;
/// an even number of them, at least two) of `l`, where [`paired`] holds,
/// two repetitions at a time ([`Lanes`]): each component of a dual number
/// an `f64x2`, the gradient's paired sweep on duals. `g` holds the
/// adjoints entering every repetition (the carried values'); `arrays` are
/// `x`, `v`, `grad` and `hv`. Returns the NaN flag (`i8`).
///
/// Every operation is inline, so no tangent enters a rule's call here
/// (the forward loop checked those it passes to one); the checks are the
/// one-repetition sweep's, on the adjoints, lane by lane.
#[allow(clippy::too_many_arguments)]
fn sweep_pairs(
    b: &mut FunctionBuilder,
    sh: Shims,
    l: &Loop,
    ops: &[Op],
    [px, pv, pgrad, phv]: [Value; 4],
    g: &[(usize, D)],
    own: &[(usize, usize)],
    last: usize,
) -> Value {
    let v2 = types::F64X2;
    let per = l.period;
    let gs: Vec<(usize, D)> = (g.iter())
        .map(|&(j, d)| {
            let re = b.ins().splat(v2, d.re);
            let eps = b.ins().splat(v2, d.eps);
            (j, D { re, eps })
        })
        .collect();
    let mut lanes = Lanes::open(b, sh.ptr, l, own);
    // a constant or a table's entry is `T::constant(c)`: `(c, +0)`
    let mut operand = |b: &mut FunctionBuilder, src: Src, bv: &[Option<D>]| match src {
        Src::Const(c) => D {
            re: fconst(b, v2, c),
            eps: fconst(b, v2, 0.0),
        },
        Src::Table(t) => D {
            re: lanes.table(b, t),
            eps: fconst(b, v2, 0.0),
        },
        Src::Local(i) => bv[i].expect("an earlier instruction of the body"),
        Src::Input(i, d) => D {
            re: lanes.input(b, px, i, d),
            eps: lanes.input(b, pv, i, d),
        },
        _ => unreachable!("no partial reads another (find), no other operands (pairs)"),
    };
    // recompute the values the partials need
    let emit = l.recomputed(|op| !inline(op));
    let mut bv: Vec<Option<D>> = vec![None; per];
    let mut part: Vec<(P, P)> = Vec::with_capacity(per);
    for j in 0..per {
        if !emit[j] {
            part.push(fixed_partials(l.ops[j]));
            continue;
        }
        let [x, y] = l.body[j].map(|src| operand(b, src, &bv));
        let (v, pa, pb) = emit_op(b, sh, l.ops[j], &ops[l.seg[j].0], [x, y], None);
        bv[j] = Some(v);
        part.push((pa, pb));
    }
    // the body's sweep, as in `compile`'s loop
    let mut ga: Vec<Option<D>> = vec![None; per];
    for &(j, d) in &gs {
        ga[j] = Some(d);
    }
    // (the owned inputs' sums, in `own`'s order)
    let mut sums: Vec<Option<D>> = vec![None; own.len()];
    let mut lc = Checks::default();
    for j in (0..per).rev() {
        let Some(g) = ga[j] else {
            continue; // a zero adjoint: rule 3
        };
        let targets = l.targets(j, part[j], |pa, pb| summed(b, pa, pb));
        let mut added = false;
        for (src, p) in targets.into_iter().flatten() {
            let cell = match src {
                Src::Const(_) | Src::Table(_) => continue,
                Src::Local(i) => &mut ga[i],
                // the previous repetition's running sum: `(+0, +0) + 1 · g`
                // is `g`, which `gs` holds (pairs)
                Src::Carried(_) => {
                    added = true;
                    continue;
                }
                Src::Input(i, d) => {
                    let e = own.iter().position(|&o| o == (i, d));
                    &mut sums[e.expect("owned (pairs)")]
                }
                _ => unreachable!("pairs"),
            };
            if let Some(s) = contribute(b, *cell, p, g) {
                *cell = Some(s);
                added = true;
            }
        }
        if !added {
            lc.pair(b, g.re, g.eps);
        }
    }
    let zero = fconst(b, v2, 0.0);
    let sums: Vec<D> = (sums.into_iter())
        .map(|s| match s {
            Some(s) => {
                lc.pair(b, s.re, s.eps);
                s
            }
            None => D {
                re: zero,
                eps: zero,
            },
        })
        .collect();
    let (re, eps): (Vec<Value>, Vec<Value>) = sums.iter().map(|d| (d.re, d.eps)).unzip();
    lanes.store(b, pgrad, &re);
    lanes.store(b, phv, &eps);
    let flag = match lc.take(b) {
        Some(f) => b.ins().bor(lanes.flag, f),
        None => lanes.flag,
    };
    lanes.close(b, flag, last)
}

/// Compiles `p`'s Hessian-vector product (`p` has one output); `None` if
/// the host is not supported or Cranelift fails.
///
/// The stretches in `loops` (those [`find`](super::loops::find) finds) run
/// as loops, as in the compiled gradient
/// ([`gradient::compile`](super::gradient::compile)); then the inputs'
/// adjoints live in `grad` and `hv` (cleared when the sweep starts, every
/// contribution loaded, added and stored, every sum checked for NaN), so a
/// status 2 may leave them written (the caller replays into them).
pub(crate) fn compile(p: &Program, loops: &[Loop]) -> Option<Code<HvpFn>> {
    // (the code addresses inputs and outputs by 32-bit offsets)
    if p.inputs > (i32::MAX / 8) as usize || p.outputs.len() != 1 {
        return None;
    }
    let looped = !loops.is_empty();
    let (mut module, id, sig, ptr) = declare(
        "hvp",
        &[
            Param::Ptr,
            Param::Ptr,
            Param::Ptr,
            Param::Ptr,
            Param::Ptr,
            Param::I32,
            Param::Ptr,
        ],
    )?;
    let sc = scratch(loops);
    let call_conv = sig.call_conv;
    let ops: Box<[Op]> = p.instrs.iter().map(|i| i.op).collect();
    let tests: Box<[Test]> = p.guards.iter().map(|g| g.test).collect();

    let mut ctx = Context::new();
    ctx.func.signature = sig;
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let entry = b.create_block();
    let sweep = b.create_block();
    let inexact = b.create_block();
    let write = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (px, pv, pgrad, phv, pvalue, pkinks, pscratch) = (
        params[0], params[1], params[2], params[3], params[4], params[5], params[6],
    );
    let mem = MemFlags::trusted();

    // the shims
    let eval = import(
        &mut b,
        call_conv,
        ptr,
        &[
            Param::Ptr,
            Param::F64,
            Param::F64,
            Param::F64,
            Param::F64,
            Param::Ptr,
        ],
        None,
        shim_eval as *const (),
    );
    let (sig_fma, fn_fma) = import(
        &mut b,
        call_conv,
        ptr,
        &[Param::F64; 3],
        Some(Param::F64),
        shim_mul_add as *const (),
    );
    let test_shim = import(
        &mut b,
        call_conv,
        ptr,
        &[Param::Ptr, Param::F64, Param::F64],
        Some(Param::I32),
        shim_test as *const (),
    );
    let out = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 48, 3));
    let sh = Shims { ptr, eval, out };
    let mut checks = Checks::default();

    // ---- forward: every slot's dual value (inputs loaded where first
    // read; a loop's values only for its last repetition), every
    // straight-line instruction's partials
    let n = p.inputs;
    let len = p.instrs.len();
    let mut vals: Vec<Option<D>> = vec![None; n + len];
    // input `i + r·d`'s dual value, `(x, v)` (`r` a loop's counter)
    let input = |b: &mut FunctionBuilder, r: Option<Value>, i: usize, d: usize| {
        let (xa, va) = match r {
            Some(r) if d != 0 => (stride(b, px, r, d), stride(b, pv, r, d)),
            _ => (px, pv),
        };
        D {
            re: b.ins().load(types::F64, mem, xa, (8 * i) as i32),
            eps: b.ins().load(types::F64, mem, va, (8 * i) as i32),
        }
    };
    // the value of slot `s` (an input: loaded now, in a block every later
    // use is dominated by, as the code is one line of blocks)
    // (or one a loop keeps in memory, read by straight-line code after it)
    let kept = |s: usize| sc.slot(loops, n, s);
    let load = |b: &mut FunctionBuilder, a: Value, at: usize| D {
        re: b.ins().load(types::F64, mem, a, (8 * at) as i32),
        eps: b.ins().load(types::F64, mem, a, (8 * at + 8) as i32),
    };
    let store = |b: &mut FunctionBuilder, a: Value, at: usize, d: D| {
        b.ins().store(mem, d.re, a, (8 * at) as i32);
        b.ins().store(mem, d.eps, a, (8 * at + 8) as i32);
    };
    let val = |b: &mut FunctionBuilder, vals: &mut [Option<D>], s: usize| -> D {
        *vals[s].get_or_insert_with(|| match kept(s) {
            Some((at, _)) => load(b, pscratch, at),
            None => input(b, None, s, 0),
        })
    };
    // a constant is `T::constant(c)`: `(c, +0)`
    let constant = |b: &mut FunctionBuilder, c: f64| D {
        re: b.ins().f64const(c),
        eps: b.ins().f64const(0.0),
    };
    let arg = |b: &mut FunctionBuilder, vals: &mut [Option<D>], a: Arg| match a {
        Arg::Slot(s) => val(b, vals, s as usize),
        Arg::Const(c) => constant(b, c),
    };
    // the value of a body's operand `src` in the repetition whose counter
    // is `r`: `local` holds the repetition's values so far, `from` the
    // previous repetition's (body index, value) it reads
    let operand = |b: &mut FunctionBuilder,
                   vals: &mut [Option<D>],
                   src: Src,
                   r: Value,
                   local: &[Option<D>],
                   from: &[(usize, D)],
                   tables: &[Arc<[f64]>]| match src {
        Src::Const(c) => constant(b, c),
        Src::Table(t) => D {
            re: table(b, ptr, &tables[t], r),
            eps: b.ins().f64const(0.0),
        },
        Src::Local(i) => local[i].expect("an earlier instruction of the body"),
        Src::Carried(i) => {
            (from.iter().find(|c| c.0 == i))
                .expect("a value the previous repetition passes")
                .1
        }
        Src::Fixed(x) | Src::Input(x, 0) => val(b, vals, x),
        Src::Input(i, d) => input(b, Some(r), i, d),
        Src::Strided { .. } => {
            let (at, per, _) = sc.strided(loops, src).expect("kept (Scratch::new)");
            let a = stride(b, pscratch, r, per);
            load(b, a, at)
        }
    };
    let mut partials: Vec<(P, P)> = vec![(P::Const(0.0, 0.0), P::Const(0.0, 0.0)); len];
    // whether a slot's tangent may be NaN where the interpreter's is not
    // (see the module docs; a loop's: for any repetition)
    let mut nan_eps: Vec<bool> = vec![false; n + len];
    // (per loop, per body instruction: for its values kept in memory)
    let mut loop_nan: Vec<Vec<bool>> = Vec::with_capacity(loops.len());
    let strided_nan = |loop_nan: &[Vec<bool>], src: Src| match src {
        Src::Strided { from, j, .. } => loop_nan[loop_at(loops, from)][j],
        _ => unreachable!("a strided operand"),
    };
    let mut k = 0;
    for (li, l) in (0..=loops.len()).map(|i| (i, loops.get(i))) {
        let line_end = l.map_or(len, |l| l.start);
        for k in k..line_end {
            let ins = p.instrs[k];
            let x = arg(&mut b, &mut vals, ins.a);
            let y = arg(&mut b, &mut vals, ins.b);
            let from = |a: Arg| matches!(a, Arg::Slot(s) if nan_eps[s as usize]);
            let (v, pa, pb) = if ins.op == Op::MulAddTail {
                // `a.mul_add(b, c)` on duals: the value rounded once from
                // the values, the tangent `(a · b).eps · 1 + c.eps · 1`;
                // partials (1, 1) as the tape records them
                let Arg::Slot(m) = ins.a else {
                    return None; // (validated: never)
                };
                let mul = p.instrs[m as usize - n];
                let mx = arg(&mut b, &mut vals, mul.a);
                let my = arg(&mut b, &mut vals, mul.b);
                let call = b
                    .ins()
                    .call_indirect(sig_fma, fn_fma, &[mx.re, my.re, y.re]);
                let re = b.inst_results(call)[0];
                let prod = product_eps(&mut b, mx, my);
                let eps = b.ins().fadd(prod, y.eps);
                let one = P::Const(1.0, 0.0);
                (D { re, eps }, one, one)
            } else {
                if !inline(ins.op) {
                    // the rules may absorb a NaN tangent (`times`): check
                    // the tangents that may be NaN where the
                    // interpreter's are not
                    for (a, d) in [(ins.a, x), (ins.b, y)] {
                        if from(a) {
                            checks.one(&mut b, d.eps);
                        }
                    }
                }
                emit_op(&mut b, sh, ins.op, &ops[k], [x, y], None)
            };
            nan_eps[n + k] = taints(ins.op, from(ins.a), from(ins.b));
            vals[n + k] = Some(v);
            partials[k] = (pa, pb);
        }
        let Some(l) = l else { break };
        // a loop: the body once, repetition `r` in a block with `r`, the
        // carried values and a NaN flag as parameters
        let per = l.period;
        let carried = l.carried();
        // which body tangents may be NaN where the interpreter's are not,
        // in any repetition: grown from the values before the loop until
        // the carried ones agree
        let mut cn: Vec<bool> = carried.iter().map(|&j| nan_eps[l.prev(n, j)]).collect();
        let bn = loop {
            let mut bn = vec![false; per];
            for j in 0..per {
                let [sa, sb] = l.body[j].map(|src| match src {
                    Src::Local(i) => bn[i],
                    Src::Carried(i) => cn[carried.binary_search(&i).expect("carried")],
                    Src::Fixed(x) => nan_eps[x],
                    Src::Const(_) | Src::Table(_) | Src::Input(..) => false,
                    Src::Strided { .. } => strided_nan(&loop_nan, src),
                });
                // (where the repetition lacks it: its operand's tangent)
                bn[j] = taints(l.ops[j], sa, sb) || (l.absent[j].is_some() && (sa || sb));
            }
            let mut grown = false;
            for (c, &j) in cn.iter_mut().zip(&carried) {
                grown |= bn[j] && !*c;
                *c |= bn[j];
            }
            if !grown {
                break bn;
            }
        };
        // (the tangents computed: the others are `+0` here, never read)
        let need = tangents_needed(p, l);
        let zero = b.ins().f64const(0.0);
        let body = b.create_block();
        let r = b.append_block_param(body, ptr);
        let cps: Vec<D> = carried
            .iter()
            .map(|&j| D {
                re: b.append_block_param(body, types::F64),
                eps: if need[j] {
                    b.append_block_param(body, types::F64)
                } else {
                    zero
                },
            })
            .collect();
        let flag = b.append_block_param(body, types::I8);
        let mut args = vec![BlockArg::Value(b.ins().iconst(ptr, 0))];
        for &j in &carried {
            let v = val(&mut b, &mut vals, l.prev(n, j));
            args.push(BlockArg::Value(v.re));
            if need[j] {
                args.push(BlockArg::Value(v.eps));
            }
        }
        args.push(BlockArg::Value(b.ins().iconst(types::I8, 0)));
        b.ins().jump(body, &args);
        b.switch_to_block(body);
        let from: Vec<(usize, D)> = carried.iter().copied().zip(cps).collect();
        let ents = entries(&mut b, &sc, li, pscratch, r);
        let mut bv: Vec<Option<D>> = vec![None; per];
        let mut lc = Checks::default();
        for j in 0..per {
            let [x, y] =
                l.body[j].map(|src| operand(&mut b, &mut vals, src, r, &bv, &from, &l.tables));
            if !inline(l.ops[j]) {
                for (src, d) in l.body[j].into_iter().zip([x, y]) {
                    let nan = match src {
                        Src::Local(i) => bn[i],
                        Src::Carried(i) => bn[i] || cn[carried.binary_search(&i).expect("carried")],
                        Src::Fixed(x) => nan_eps[x],
                        Src::Const(_) | Src::Table(_) | Src::Input(..) => false,
                        Src::Strided { .. } => strided_nan(&loop_nan, src),
                    };
                    if nan {
                        lc.one(&mut b, d.eps);
                    }
                }
            }
            // (a shim writes its results to the repetition's entries; where
            // the repetition lacks the instruction, its tangent is replaced
            // there too, for the sweep to read back)
            let out = (ents.zip(sc.at[li][j])).map(|(e, at)| b.ins().iadd_imm(e, (8 * at) as i64));
            let (v, _, _) = emit_op(&mut b, sh, l.ops[j], &ops[l.seg[j].0], [x, y], out);
            let v = where_absent(&mut b, ptr, l, j, r, v, [x, y]);
            if let (Some(out), Some(_)) = (out, l.absent[j]) {
                b.ins().store(mem, v.eps, out, 8);
            }
            if let Some((at, per, _)) = sc.spill(li, j) {
                // (for later code to read)
                let a = stride(&mut b, pscratch, r, per);
                store(&mut b, a, at, v);
            }
            // (a tangent nothing reads: Cranelift drops its arithmetic)
            let eps = if need[j] { v.eps } else { zero };
            bv[j] = Some(D { re: v.re, eps });
        }
        let bv: Vec<D> = bv.into_iter().flatten().collect();
        let flag = match lc.take(&mut b) {
            Some(f) => b.ins().bor(flag, f),
            None => flag,
        };
        let next = b.ins().iadd_imm(r, 1);
        let more = b
            .ins()
            .icmp_imm(IntCC::UnsignedLessThan, next, l.reps as i64);
        let mut args = vec![BlockArg::Value(next)];
        for &j in &carried {
            args.push(BlockArg::Value(bv[j].re));
            if need[j] {
                args.push(BlockArg::Value(bv[j].eps));
            }
        }
        args.push(BlockArg::Value(flag));
        let exit = b.create_block();
        b.ins().brif(more, body, &args, exit, &[]);
        b.switch_to_block(exit);
        checks.merge(&mut b, flag);
        // (the body's block dominates its exit: the last repetition's
        // values are usable after the loop)
        for (j, v) in bv.into_iter().enumerate() {
            let Some(last) = l.last[j] else { continue };
            vals[last] = Some(v);
            nan_eps[last] = bn[j];
        }
        for j in (0..per).filter(|&j| l.kept[j]) {
            // (a loop keeping values lacks no instruction: find checked)
            for r in 0..l.reps {
                nan_eps[l.slot(n, r, j)] = bn[j];
            }
        }
        loop_nan.push(bn);
        k = l.end();
    }

    // ---- the recorded comparisons (on the values): one branch
    guards(
        &mut b,
        p,
        &tests,
        |b, a| arg(b, &mut vals, a).re,
        pkinks,
        test_shim,
        sweep,
    );

    // ---- the sweep on duals, in reverse program order
    b.switch_to_block(sweep);
    let zero = b.ins().f64const(0.0);
    let dzero = D {
        re: zero,
        eps: zero,
    };
    // (the strided inputs whose adjoints the loops' sweeps store: [`owned`])
    let (own, to_clear) = if looped {
        owned(p, loops)
    } else {
        Default::default()
    };
    if looped && n > 0 {
        // the inputs' adjoints live in `grad` and `hv`: cleared first, but
        // those a loop's sweep stores
        clear_some(&mut b, ptr, pgrad, &to_clear);
        clear_some(&mut b, ptr, phv, &to_clear);
    }
    // (and so do those of the values loops keep)
    for li in 0..loops.len() {
        if let Some((at, len)) = sc.adjoints(li) {
            let base = b.ins().iadd_imm(pscratch, (8 * at) as i64);
            clear(&mut b, ptr, base, len);
        }
    }
    // `None`: no contribution yet, so `(+0, +0)` (inputs' adjoints when
    // looped: in `grad` and `hv`)
    let mut adj: Vec<Option<D>> = vec![None; n + len];
    // `(grad, hv)[i + r·d] += p · g` (`r` a loop's counter, or `i` alone)
    let add_grad = |b: &mut FunctionBuilder,
                    checks: &mut Checks,
                    r: Option<Value>,
                    i: usize,
                    d: usize,
                    p: P,
                    g: D| {
        let (ga, ha) = match r {
            Some(r) if d != 0 => (stride(b, pgrad, r, d), stride(b, phv, r, d)),
            _ => (pgrad, phv),
        };
        let cur = D {
            re: b.ins().load(types::F64, mem, ga, (8 * i) as i32),
            eps: b.ins().load(types::F64, mem, ha, (8 * i) as i32),
        };
        let Some(sum) = contribute(b, Some(cur), p, g) else {
            return false;
        };
        b.ins().store(mem, sum.re, ga, (8 * i) as i32);
        b.ins().store(mem, sum.eps, ha, (8 * i) as i32);
        checks.pair(b, sum.re, sum.eps);
        true
    };
    // `a[at] += p · g` in memory (a kept value's adjoint: unchecked, the
    // loop keeping it checks): whether anything was added
    let add_at = |b: &mut FunctionBuilder, a: Value, at: usize, p: P, g: D| {
        let cur = load(b, a, at);
        let Some(sum) = contribute(b, Some(cur), p, g) else {
            return false;
        };
        store(b, a, at, sum);
        true
    };
    let out_arg = p.outputs[0];
    if let Arg::Slot(s) = out_arg {
        // the seed `(1, 0)` added to the zero adjoint: `(0 + 1, 0 + 0)`
        let one = b.ins().f64const(1.0);
        if looped && (s as usize) < n {
            b.ins().store(mem, one, pgrad, (8 * s) as i32);
        } else {
            adj[s as usize] = Some(D { re: one, eps: zero });
        }
    }
    let mut k = len;
    for (li, l) in (0..=loops.len())
        .rev()
        .map(|i| (i, loops.get(i)))
        .skip(1)
        .chain([(0, None)])
    {
        let line_start = l.map_or(0, |l| l.end());
        for k in (line_start..k).rev() {
            let ins = p.instrs[k];
            let Some(g) = adj[n + k] else {
                continue; // a zero adjoint: rule 3
            };
            let (pa, pb) = partials[k];
            let mut added = false;
            let mut add = |b: &mut FunctionBuilder, checks: &mut Checks, t: usize, p: P| {
                if looped && t < n {
                    added |= add_grad(b, checks, None, t, 0, p, g);
                } else if let Some((at, adj)) = kept(t) {
                    added |= add_at(b, pscratch, at + adj, p, g);
                } else if let Some(sum) = contribute(b, adj[t], p, g) {
                    adj[t] = Some(sum);
                    added = true;
                }
            };
            match targets(&ins) {
                Targets::Same(a) => {
                    // one slot twice: the summed partials (a dual sum), once
                    let p = summed(&mut b, pa, pb);
                    add(&mut b, &mut checks, a, p);
                }
                Targets::Each(a, bb) => {
                    if let Some(a) = a {
                        add(&mut b, &mut checks, a, pa);
                    }
                    if let Some(bb) = bb {
                        add(&mut b, &mut checks, bb, pb);
                    }
                }
            }
            if !added {
                // a NaN here would reach no input's adjoint
                checks.pair(&mut b, g.re, g.eps);
            }
        }
        let Some(l) = l else { break };
        // a loop, repetitions last to first: in a block with the counter,
        // the adjoints entering a repetition (from the next one, or from
        // after the loop), the fixed operands' running adjoints and the
        // NaN flag as parameters
        let per = l.period;
        // (the adjoint after the loop of the last repetition's `j`)
        let after = |j: usize| l.last[j].and_then(|s| adj[s]);
        let carried = l.carried();
        let entering: Vec<usize> = (0..per)
            .filter(|&j| carried.binary_search(&j).is_ok() || after(j).is_some())
            .collect();
        let fixed = l.fixed();
        // (the adjoints of the inputs every repetition reads, held in
        // registers through the loop: loaded before, stored after)
        let held = l.held_inputs();
        let body = b.create_block();
        let r = b.append_block_param(body, ptr);
        let dual_param = |b: &mut FunctionBuilder| D {
            re: b.append_block_param(body, types::F64),
            eps: b.append_block_param(body, types::F64),
        };
        let eps: Vec<D> = entering.iter().map(|_| dual_param(&mut b)).collect();
        let fps: Vec<D> = (fixed.iter().chain(&held))
            .map(|_| dual_param(&mut b))
            .collect();
        let flag = b.append_block_param(body, types::I8);
        let pass = |d: D| [BlockArg::Value(d.re), BlockArg::Value(d.eps)];
        let mut args = vec![BlockArg::Value(b.ins().iconst(ptr, (l.reps - 1) as i64))];
        for &j in &entering {
            args.extend(pass(after(j).unwrap_or(dzero)));
        }
        for &x in &fixed {
            args.extend(pass(adj[x].unwrap_or(dzero)));
        }
        for &i in &held {
            args.extend(pass(D {
                re: b.ins().load(types::F64, mem, pgrad, (8 * i) as i32),
                eps: b.ins().load(types::F64, mem, phv, (8 * i) as i32),
            }));
        }
        args.push(BlockArg::Value(b.ins().iconst(types::I8, 0)));
        if paired(l, &own[li]) && entering.iter().all(|j| carried.binary_search(j).is_ok()) {
            // repetitions `reps − 1` down to `last` two at a time first,
            // then the rest (one or two) by this loop
            let g: Vec<(usize, D)> = (entering.iter())
                .map(|&j| (j, after(j).unwrap_or(dzero)))
                .collect();
            let last = 2 - l.reps % 2;
            let arrays = [px, pv, pgrad, phv];
            let flag = sweep_pairs(&mut b, sh, l, &ops, arrays, &g, &own[li], last);
            args[0] = BlockArg::Value(b.ins().iconst(ptr, (last - 1) as i64));
            *args.last_mut().expect("the flag") = BlockArg::Value(flag);
        }
        b.ins().jump(body, &args);
        b.switch_to_block(body);
        // recompute the values the partials need (from this repetition's
        // operands only: loops::find checked)
        // (a shim's results: read back from the forward loop's entries)
        let emit = l.recomputed(|op| !inline(op));
        let ents = entries(&mut b, &sc, li, pscratch, r);
        let mut bv: Vec<Option<D>> = vec![None; per];
        let mut part: Vec<(P, P)> = Vec::with_capacity(per);
        for j in 0..per {
            if let (Some(e), Some(at)) = (ents, sc.at[li][j]) {
                let at = b.ins().iadd_imm(e, (8 * at) as i64);
                let (v, pa, pb) = read_back(&mut b, at);
                bv[j] = Some(v);
                part.push((pa, pb));
                continue;
            }
            if !emit[j] {
                part.push(fixed_partials(l.ops[j]));
                continue;
            }
            // (no carried value: find checked that no partial needs one;
            // the forward loop checked the tangents entering a shim)
            let [x, y] =
                l.body[j].map(|src| operand(&mut b, &mut vals, src, r, &bv, &[], &l.tables));
            let (v, pa, pb) = emit_op(&mut b, sh, l.ops[j], &ops[l.seg[j].0], [x, y], None);
            bv[j] = Some(where_absent(&mut b, ptr, l, j, r, v, [x, y]));
            part.push((pa, pb));
        }
        // the body's sweep
        let mut ga: Vec<Option<D>> = vec![None; per];
        for (&j, &v) in entering.iter().zip(&eps) {
            ga[j] = Some(v);
        }
        for (j, g) in ga.iter_mut().enumerate() {
            // (what later code added, nothing else: find validated)
            if let Some((at, per, adj)) = sc.spill(li, j) {
                let a = stride(&mut b, pscratch, r, per);
                *g = Some(load(&mut b, a, at + adj));
            }
        }
        let mut gout: Vec<Option<D>> = vec![None; per];
        let mut acc = fps.clone();
        let mut lc = Checks::default();
        // the adjoints of the strided inputs this repetition adds to, in
        // registers, as in the gradient (see its sweep loop)
        let one_stride = l.caches_inputs(&held);
        let mut cells: Vec<Cell> = (own[li].iter())
            .map(|&(i, d)| Cell {
                key: (i, d),
                at: (stride(&mut b, pgrad, r, d), stride(&mut b, phv, r, d)),
                sum: None,
                added: false,
            })
            .collect();
        for j in (0..per).rev() {
            let Some(g) = ga[j] else {
                continue; // a zero adjoint: rule 3
            };
            let targets = l.targets(j, part[j], |pa, pb| summed(&mut b, pa, pb));
            let mut added = false;
            for (src, p) in targets.into_iter().flatten() {
                // a fixed operand's or a held input's running adjoint
                if let Some(e) = running(src, &fixed, &held) {
                    if let Some(s) = contribute(&mut b, Some(acc[e]), p, g) {
                        acc[e] = s;
                        added = true;
                    }
                    continue;
                }
                let cell = match src {
                    Src::Const(_) | Src::Table(_) => continue,
                    Src::Local(i) => &mut ga[i],
                    Src::Carried(i) => &mut gout[i],
                    Src::Fixed(_) => unreachable!("a running adjoint (above)"),
                    Src::Input(i, d) if d > 0 && (one_stride || own[li].contains(&(i, d))) => {
                        let c = match cells.iter().position(|c| c.key == (i, d)) {
                            Some(c) => c,
                            None => {
                                let at = (stride(&mut b, pgrad, r, d), stride(&mut b, phv, r, d));
                                let cur = D {
                                    re: b.ins().load(types::F64, mem, at.0, (8 * i) as i32),
                                    eps: b.ins().load(types::F64, mem, at.1, (8 * i) as i32),
                                };
                                cells.push(Cell {
                                    key: (i, d),
                                    at,
                                    sum: Some(cur),
                                    added: false,
                                });
                                cells.len() - 1
                            }
                        };
                        if let Some(s) = contribute(&mut b, cells[c].sum, p, g) {
                            cells[c].sum = Some(s);
                            cells[c].added = true;
                            added = true;
                        }
                        continue;
                    }
                    Src::Input(i, d) => {
                        added |= add_grad(&mut b, &mut lc, Some(r), i, d, p, g);
                        continue;
                    }
                    Src::Strided { .. } => {
                        // (unchecked: the earlier loop's sweep checks)
                        let (at, per, adj) = sc.strided(loops, src).expect("kept (Scratch::new)");
                        let a = stride(&mut b, pscratch, r, per);
                        added |= add_at(&mut b, a, at + adj, p, g);
                        continue;
                    }
                };
                if let Some(s) = contribute(&mut b, *cell, p, g) {
                    *cell = Some(s);
                    added = true;
                }
            }
            if !added {
                lc.pair(&mut b, g.re, g.eps);
            }
        }
        for c in &cells {
            // (an owned adjoint nothing was added to is `(+0, +0)`)
            let sum = match (c.sum, c.added) {
                (Some(s), true) => {
                    lc.pair(&mut b, s.re, s.eps);
                    s
                }
                (None, _) => dzero,
                (Some(_), false) => continue,
            };
            let off = (8 * c.key.0) as i32;
            b.ins().store(mem, sum.re, c.at.0, off);
            b.ins().store(mem, sum.eps, c.at.1, off);
        }
        let flag = match lc.take(&mut b) {
            Some(f) => b.ins().bor(flag, f),
            None => flag,
        };
        let more = b.ins().icmp_imm(IntCC::NotEqual, r, 0);
        let prev = b.ins().iadd_imm(r, -1);
        let mut args = vec![BlockArg::Value(prev)];
        for &j in &entering {
            args.extend(pass(gout[j].unwrap_or(dzero)));
        }
        for &v in &acc {
            args.extend(pass(v));
        }
        args.push(BlockArg::Value(flag));
        let exit = b.create_block();
        b.ins().brif(more, body, &args, exit, &[]);
        b.switch_to_block(exit);
        // the first repetition's contributions to the values before the
        // loop (nothing after the loop reads those: find checked, so these
        // are their first)
        for &j in &carried {
            if let Some(v) = gout[j] {
                adj[l.prev(n, j)] = Some(v);
            }
        }
        for (&x, &v) in fixed.iter().zip(&acc) {
            adj[x] = Some(v);
        }
        for (&i, &v) in held.iter().zip(&acc[fixed.len()..]) {
            b.ins().store(mem, v.re, pgrad, (8 * i) as i32);
            b.ins().store(mem, v.eps, phv, (8 * i) as i32);
            checks.pair(&mut b, v.re, v.eps);
        }
        checks.merge(&mut b, flag);
        k = l.start;
    }
    if !looped {
        for a in adj.iter().take(n).flatten() {
            checks.pair(&mut b, a.re, a.eps);
        }
    }
    checks.branch(&mut b, inexact, write);
    b.switch_to_block(inexact);
    let two = b.ins().iconst(types::I32, 2);
    b.ins().return_(&[two]);

    b.switch_to_block(write);
    if !looped {
        for (i, a) in adj.iter().take(n).enumerate() {
            let a = a.unwrap_or(dzero);
            b.ins().store(mem, a.re, pgrad, (8 * i) as i32);
            b.ins().store(mem, a.eps, phv, (8 * i) as i32);
        }
    }
    let value = arg(&mut b, &mut vals, out_arg).re;
    b.ins().store(mem, value, pvalue, 0);
    let ok = b.ins().iconst(types::I32, 0);
    b.ins().return_(&[ok]);
    b.seal_all_blocks();
    b.finalize();

    let f = finish(&mut module, id, &mut ctx)?;
    // SAFETY: `f` is the function just defined with the signature `HvpFn`
    // describes (five pointers and an i32 in, an i32 out, the platform's
    // C calling convention).
    let entry = unsafe { std::mem::transmute::<*const u8, HvpFn>(f) };
    Some(Code {
        module: Some(module),
        entry,
        _ops: ops,
        _tests: tests,
        _tables: loops
            .iter()
            .flat_map(|l| l.tables.iter().cloned())
            .collect(),
        scratch: sc.len,
    })
}
