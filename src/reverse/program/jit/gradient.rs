//! The `f64` gradient compiled ([`compile`]).
//!
//! # The same bits as the interpreter, or the interpreter
//!
//! The forward pass is the tape's arithmetic, operation for operation:
//! values and partials come from the rule table, [`rules`](crate::rules).
//! `+`, `-`, `*`, negation, `/`, `powi(x, 0)`, `powi(x, 2)` and `1/x` are
//! emitted inline as the same IEEE operations their rules perform on `f64`
//! (for example `div`: `q = x / y`, `r = 1 / y`, `∂/∂y = (-q)·r`); each is
//! one correctly rounded operation on the same operands, so the same bits.
//! Every other operation calls [`eval`] itself through an `extern "C"` shim
//! ([`shim_eval`]), and `mul_add` calls
//! [`rules::mul_add`](crate::rules::mul_add) ([`shim_mul_add`]): Cranelift
//! never fuses a multiplication and an addition unless asked (`fma`, which
//! this module never emits).
//!
//! The sweep visits the instructions in reverse program order, which is
//! the order a fresh recording's tape sweeps them, so every adjoint
//! receives its contributions in the tape's order: per instruction with
//! adjoint `g`, `∂/∂a · g` into operand `a`'s adjoint, then `∂/∂b · g`
//! into `b`'s, or the summed partials once for a binary operation whose
//! two operands are one slot. An adjoint starts at `+0` and its first
//! contribution is added to `+0` (so `-0` becomes `+0`, as on the tape).
//!
//! Where the program repeats one body ([`find`](super::loops::find)),
//! both passes run the repetitions as a loop over that body, in the same
//! order: the forward loop first to last, the sweep loop last to first
//! and each body last to first, so the argument above holds unchanged.
//! The sweep loop recomputes, from the repetition's operands, the values
//! its inline partials need (the same operations on the same operands:
//! the same bits); a shim's value and partials, which the forward loop
//! had it write to the caller's scratch memory ([`Scratch`]), it reads
//! back. It passes from one repetition to the next the adjoints entering
//! it, the running adjoints of values from before the loop, and the NaN
//! flag. A repetition that lacks an identity the body has ([`Loop::absent`])
//! computes it (`x · 1`, `x / 1`, `x + (-0)`, `x - 0`: `x` itself, partial
//! 1), and passes its one contribution on to `x` before anything else
//! reaches `x` (its reader is the next instruction): `x`'s adjoint plus
//! `(+0 + p·g)` is `x`'s adjoint plus `p·g`, as an adjoint is never `-0`. An
//! adjoint entering a repetition that nothing has added to is a run-time
//! `+0` where straight-line code would know it is zero and skip its
//! instruction: adding its contributions (`p · 0`) changes nothing but
//! where a NaN appears, which the checks below catch, as for any other
//! contribution.
//!
//! An input's adjoint lives in `grad` where the code has loops. A sweep
//! loop's repetition adds its contributions to a strided input (input
//! `i + r·d`) in a register, loaded at the first and stored after the
//! body: the same additions in the same order as adding each in memory,
//! as long as no other operand of the repetition reaches that entry (the
//! code does this where the body's strided inputs have one stride, so
//! distinct `i` are distinct entries, and every input it reads at stride
//! 0 it holds in a register through the loop, which it does only for
//! inputs no strided operand reaches). Where the repetition makes all of
//! the entry's contributions in the program ([`owned`]), the sum starts
//! at `+0`, as the cleared entry would, and the entry is neither loaded
//! nor cleared: its first contribution is added to `+0` in the register
//! instead of in memory.
//!
//! Where the repetitions' sweeps share nothing but the adjoints of running
//! sums ([`pairs`]: every operation inline, every input strided and owned,
//! no fixed operand, every carried value a running sum `s + t` whose
//! adjoint passes to the previous repetition's `s` unchanged, as the first
//! contribution `+0 + 1 · g` is `g`), the sweep runs two repetitions at a
//! time in the two lanes of `f64x2` values ([`sweep_pairs`]), and the
//! last one or two alone. Each lane performs its repetition's operations
//! (IEEE, rounded lane by lane) on its repetition's operands in the
//! one-repetition sweep's order, and a repetition's contributions reach
//! only its own locals and its own inputs' entries, so the order between
//! the two repetitions changes no sum: the same bits.
//!
//! A value that later code reads from more than the last repetition (a
//! pass over data reading the one before it at a stride, as a matrix
//! product through nalgebra does: [`Loop::kept`]) the forward loop stores
//! into the scratch memory, and its adjoint lives there too, cleared when
//! the sweep starts: every later reader, visited first as the sweep goes
//! backwards, adds its contribution there in the tape's order, and the
//! loop's sweep starts the value's adjoint from what they added. As
//! nothing else reads such a value after its loop, nor the next
//! repetition of its own ([`find`](super::loops::find) checks), that is
//! the tape's sum, bit for bit. These sums go unchecked: a NaN among them
//! reaches the loop's sweep, which checks as everywhere else.
//!
//! Rule 3: the tape skips a contribution `p · g` whose adjoint `g` or
//! partial `p` is zero (either sign). The code does not test for that per
//! contribution: it adds every contribution with a plain IEEE product,
//! and gives up, for the interpreter to replay, wherever that could differ
//! from the rules. This is [`hvp`](super::hvp)'s scheme and argument
//! (see its module docs), on one `f64` instead of a dual number's two
//! components, where it is simpler: there is no `times` in the forward
//! pass (on `f64` every product is the plain one), so only the sweep
//! needs checks. It can differ only where a NaN appears:
//!
//! - A skipped contribution `p · g` (`p` or `g` zero) is `±0` unless the
//!   other factor is infinite or NaN, and then it is NaN.
//! - An adjoint is never `-0` (it starts at `+0`, its first contribution is
//!   added to `+0`, and `x + y` is `-0` only if both are), and `a + (±0)`
//!   is `a` for every `a` but `-0`. So adding a skipped contribution that
//!   is not NaN leaves the adjoint as the skip would, and, by induction
//!   over the sweep, where no contribution is NaN every adjoint is the
//!   tape's, bit for bit.
//! - What is known when compiling is folded. An adjoint no instruction has
//!   added to is `+0` (its instruction is skipped, as rule 3 skips it at
//!   run time). A constant partial `1` (of `+`, `-`, `mul_add`) adds `g`:
//!   `1 · g` is `g`; as the first contribution to an adjoint, the sum is
//!   `g` itself (`+0 + g` is `g`, as `g`, an adjoint, is never `-0`: in a
//!   loop, a running sum's adjoint passes from one repetition to the next
//!   with no addition at all). A constant `-1` (`rules::sub`'s `∂/∂y`,
//!   `rules::neg`'s `∂/∂x`) subtracts it: `(-1) · g` is `-g` exactly, for
//!   zeros and infinities too, and IEEE subtraction `a - g` is `a + (-g)`,
//!   so `a - g` is the tape's `a + (-1) · g`, signed zeros included (only
//!   a NaN's sign could differ, and a NaN gives up). Another constant `c`
//!   (a constant operand of `*`; the summed constant partials of one slot
//!   twice, `2` for `x + x`) is multiplied, as the tape does. A constant
//!   zero partial (`powi(x, 0)`, `x - x`'s summed `1 + (-1)`) adds
//!   nothing, as rule 3 skips it. An adjoint known when compiling (the
//!   seed `1`, and what constant partials make of it: in a loop, a running
//!   sum's) is multiplied by a constant partial now, and a varying partial
//!   `p` times a known `1` is `p` ([`known`](super::known): the same bits).
//!
//! The checks: a NaN contribution makes its adjoint NaN for good (`a +
//! NaN` is NaN), and a NaN adjoint makes every contribution of its
//! instruction NaN (`p · NaN`, constant partials included), so a NaN
//! anywhere in the sweep reaches an input's adjoint or the adjoint of an
//! instruction that adds into nothing (constant operands, constant zero
//! partials). The code tests those (`fcmp uno`, two at a time; the
//! [`Checks`](super::Checks) the HVP uses), and where one is NaN it
//! returns status 2 (having written at most `grad`, which code with loops
//! adds into as it sweeps): the caller runs the interpreter, whose result
//! it then is. That costs an interpreted
//! gradient wherever a contribution is NaN: where the gradient has a NaN
//! itself (a NaN input, `∞ - ∞`, a function outside its domain), and where
//! rule 3 removes an `∞ · 0` (`sqrt(x) · y` at `x = y = 0`: ∂/∂x is
//! `0`, not `∞ · 0`).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, BlockArg, InstBuilder, MemFlags, SigRef, StackSlot, StackSlotData, StackSlotKind, Type,
    Value,
};
use std::sync::Arc;

use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use super::known::{self, fconst};
use super::loops::{Loop, Scratch, Src};
use super::pairs::{pairs, Lanes};
use super::{
    clear, clear_some, declare, entries, finish, guards, import, owned, running, shim_mul_add,
    shim_test, stride, table, targets, Checks, Code, Param, Targets,
};
use crate::reverse::program::op::{eval, Op, Test};
use crate::reverse::program::{Arg, Program};

/// The compiled gradient: `(x, grad, value, kinks, scratch) -> status`
/// (`scratch`: [`Scratch::len`] writable `f64`s for its loops). Reads
/// `x[..n]`; on status 0 writes `grad[..n]` and `*value`; on status 1 (a
/// recorded comparison changed; kink branches only if `kinks != 0`) writes
/// nothing, on status 2 (a NaN where the code's shortcuts could differ
/// from the rules: see the [module docs](self)) at most `grad[..n]` (code
/// with loops adds into it as it sweeps; the caller replays into it).
pub(crate) type GradientFn =
    unsafe extern "C" fn(*const f64, *mut f64, *mut f64, u32, *mut f64) -> u32;

impl Code<GradientFn> {
    /// Runs the compiled gradient: `Some(f(x))` with `∇f(x)` in `grad`, or
    /// `None` if a recorded comparison (a kink's branch only with `kinks`)
    /// came out differently or the interpreter must replay (status 2;
    /// `grad` may then be written, see [`GradientFn`]).
    ///
    /// # Panics
    ///
    /// Unless `x` and `grad` have one entry per input of the program this
    /// was compiled from (checked by its caller too: the assertion keeps
    /// the call sound on its own).
    #[inline]
    pub(crate) fn run(
        &self,
        n: usize,
        x: &[f64],
        grad: &mut [f64],
        kinks: bool,
        scratch: &mut Vec<f64>,
    ) -> Option<f64> {
        assert!(x.len() == n && grad.len() == n);
        if scratch.len() < self.scratch {
            scratch.resize(self.scratch, 0.0);
        }
        let mut v = 0.0;
        // SAFETY: `entry` was compiled from a program with `n` inputs: it
        // reads `x[..n]`, writes `grad[..n]` and `v`, all valid (asserted),
        // reads and writes `scratch[..self.scratch]` (resized above), and
        // nothing else but its own stack frame (stack probes on: a large
        // frame faults on the guard page instead of skipping it).
        let status = unsafe {
            (self.entry)(
                x.as_ptr(),
                grad.as_mut_ptr(),
                &mut v,
                kinks.into(),
                scratch.as_mut_ptr(),
            )
        };
        (status == 0).then_some(v)
    }
}

/// `eval(*op, a, b)` into `out[0..3]` (value, ∂/∂a, ∂/∂b).
///
/// # Safety
///
/// `op` points to an `Op`, `out` to three writable `f64`s (the code passes
/// an element of [`Code::_ops`] and a stack slot of its frame).
unsafe extern "C" fn shim_eval(op: *const Op, a: f64, b: f64, out: *mut f64) {
    // SAFETY: the caller's contract.
    unsafe {
        let (v, da, db) = eval(*op, a, b);
        out.write(v);
        out.add(1).write(da);
        out.add(2).write(db);
    }
}

/// A strided input's adjoint in a sweep loop's repetition: input `i +
/// r·d` for `key` `(i, d)` (at `8·i` bytes from `at`), the sum so far
/// (`None`: `+0`), and whether anything was added to it.
struct Cell {
    key: (usize, usize),
    at: Value,
    sum: Option<Value>,
    added: bool,
}

/// A partial as far as known when compiling.
#[derive(Clone, Copy)]
enum P {
    Const(f64),
    Val(Value),
}

/// The constant partials of `+`, `-`, negation and `powi(·, 0)` (the
/// operations [`partials_vary`](super::loops::partials_vary) excludes), as
/// their rules give them.
fn fixed_partials(op: Op) -> Option<(f64, f64)> {
    match op {
        Op::Add => Some((1.0, 1.0)),
        Op::Sub => Some((1.0, -1.0)),
        Op::Neg => Some((-1.0, 0.0)),
        Op::Powi(0) => Some((0.0, 0.0)),
        _ => None,
    }
}

/// Whether `op` is emitted inline by [`emit_op`] (else it calls
/// [`shim_eval`], and a loop stores its results: [`Scratch`]).
pub(crate) fn inline(op: Op) -> bool {
    fixed_partials(op).is_some() || matches!(op, Op::Mul | Op::Div | Op::Recip | Op::Powi(2))
}

/// The scratch memory `loops`' compiled gradient needs ([`Scratch`]: a
/// shim's value and two partials per instruction and repetition).
pub(crate) fn scratch(loops: &[Loop]) -> Scratch {
    Scratch::new(loops, |op| !inline(op), 3)
}

/// The shims' signatures and addresses, and the stack slot `shim_eval`
/// writes into.
#[derive(Clone, Copy)]
struct Shims {
    ptr: Type,
    eval: (SigRef, Value),
    out: StackSlot,
}

/// Emits `op(x, y)` (any operation but `MulAddTail`; `opp` points to
/// `op`, for the shim): its value and partials. A shim writes its results
/// to `out` (three `f64`s), or, if `None`, to the stack.
fn emit_op(
    b: &mut FunctionBuilder,
    sh: Shims,
    op: Op,
    opp: *const Op,
    [x, y]: [Value; 2],
    out: Option<Value>,
) -> (Value, P, P) {
    let ty = b.func.dfg.value_type(x);
    if let Some((pa, pb)) = fixed_partials(op) {
        let v = match op {
            // rules::add, sub: one IEEE operation
            Op::Add => b.ins().fadd(x, y),
            Op::Sub => b.ins().fsub(x, y),
            // rules::neg: `-x` flips the sign bit, as `fneg` does
            Op::Neg => b.ins().fneg(x),
            // rules::powi: n = 0 is (1, 0)
            _ => fconst(b, ty, 1.0),
        };
        return (v, P::Const(pa), P::Const(pb));
    }
    match op {
        // rules::mul: one IEEE operation, the operands as partials
        Op::Mul => (b.ins().fmul(x, y), P::Val(y), P::Val(x)),
        // rules::div: q = x / y, r = y.recip() = 1 / y, (q, r, -q * r)
        Op::Div => {
            let q = b.ins().fdiv(x, y);
            let c1 = fconst(b, ty, 1.0);
            let r = b.ins().fdiv(c1, y);
            let nq = b.ins().fneg(q);
            let db = b.ins().fmul(nq, r);
            (q, P::Val(r), P::Val(db))
        }
        // rules::recip: r = 1 / x, -(r * r)
        Op::Recip => {
            let c1 = fconst(b, ty, 1.0);
            let r = b.ins().fdiv(c1, x);
            let rr = b.ins().fmul(r, r);
            (r, P::Val(b.ins().fneg(rr)), P::Const(0.0))
        }
        // rules::powi: n = 2 is (x * x, x + x)
        Op::Powi(2) => {
            let v = b.ins().fmul(x, x);
            (v, P::Val(b.ins().fadd(x, x)), P::Const(0.0))
        }
        _ => {
            let opp = b.ins().iconst(sh.ptr, opp as i64);
            let outp = out.unwrap_or_else(|| b.ins().stack_addr(sh.ptr, sh.out, 0));
            b.ins()
                .call_indirect(sh.eval.0, sh.eval.1, &[opp, x, y, outp]);
            read_back(b, outp)
        }
    }
}

/// The value and partials a shim wrote to `at` (three `f64`s).
fn read_back(b: &mut FunctionBuilder, at: Value) -> (Value, P, P) {
    let mem = MemFlags::trusted();
    let v = b.ins().load(types::F64, mem, at, 0);
    let da = b.ins().load(types::F64, mem, at, 8);
    let db = b.ins().load(types::F64, mem, at, 16);
    (v, P::Val(da), P::Val(db))
}

/// `cur + p · g` as the tape adds a contribution (see the module docs;
/// `cur` `None`: nothing added yet, `+0`); `None` for a constant zero
/// partial (rule 3: nothing added).
fn contribute(b: &mut FunctionBuilder, cur: Option<Value>, p: P, g: Value) -> Option<Value> {
    let ty = b.func.dfg.value_type(g);
    // (`==` on floats, as the rules test them, not patterns)
    #[allow(clippy::redundant_guards)]
    let cur = match (cur, p) {
        (_, P::Const(c)) if c == 0.0 => return None,
        // `+0 + 1 · g` is `g`: an adjoint is never `-0`
        (None, P::Const(c)) if c == 1.0 => return Some(g),
        (Some(cur), _) => cur,
        (None, _) => fconst(b, ty, 0.0),
    };
    // (folded where `g` is known: see `known`)
    #[allow(clippy::redundant_guards)]
    let sum = match p {
        P::Const(c) if c == 1.0 => known::add(b, cur, g),
        P::Const(c) if c == -1.0 => known::sub(b, cur, g),
        P::Const(c) => {
            let c = fconst(b, ty, c);
            let prod = known::mul(b, c, g);
            known::add(b, cur, prod)
        }
        P::Val(v) => {
            let prod = known::mul(b, v, g);
            known::add(b, cur, prod)
        }
    };
    Some(sum)
}

/// The partial a slot read twice by one instruction receives: the two
/// summed (once, as the tape sums them).
fn summed(b: &mut FunctionBuilder, pa: P, pb: P) -> P {
    match (pa, pb) {
        (P::Const(x), P::Const(y)) => P::Const(x + y),
        _ => {
            let ty = match (pa, pb) {
                (P::Val(v), _) | (_, P::Val(v)) => b.func.dfg.value_type(v),
                _ => unreachable!("one partial varies (matched above)"),
            };
            let mut v = |q: P| match q {
                P::Const(c) => fconst(b, ty, c),
                P::Val(v) => v,
            };
            let (x, y) = (v(pa), v(pb));
            P::Val(b.ins().fadd(x, y))
        }
    }
}

/// Whether every loop of `loops` (of `p`) has its sweep run two
/// repetitions at a time ([`pairs`]).
pub(crate) fn paired(p: &Program, loops: &[Loop]) -> bool {
    let (own, _) = owned(p, loops);
    loops.iter().zip(&own).all(|(l, o)| pairs(l, o, inline))
}

/// Emits the sweep of repetitions `reps − 1` down to `last` (`≥ 1`; an
/// even number of them, at least two) of `l`, where [`pairs`] holds, two
/// repetitions at a time ([`Lanes`]). `g` holds the adjoints entering every
/// repetition (the carried values'). Returns the NaN flag (`i8`).
#[allow(clippy::too_many_arguments)]
fn sweep_pairs(
    b: &mut FunctionBuilder,
    sh: Shims,
    l: &Loop,
    ops: &[Op],
    [px, pgrad]: [Value; 2],
    g: &[(usize, Value)],
    own: &[(usize, usize)],
    last: usize,
) -> Value {
    let v2 = types::F64X2;
    let per = l.period;
    let gs: Vec<(usize, Value)> = g.iter().map(|&(j, v)| (j, b.ins().splat(v2, v))).collect();
    let mut lanes = Lanes::open(b, sh.ptr, l, own);
    let mut operand = |b: &mut FunctionBuilder, src: Src, bv: &[Option<Value>]| match src {
        Src::Const(c) => fconst(b, v2, c),
        Src::Table(t) => lanes.table(b, t),
        Src::Local(i) => bv[i].expect("an earlier instruction of the body"),
        Src::Input(i, d) => lanes.input(b, px, i, d),
        _ => unreachable!("no partial reads another (find), no other operands (pairs)"),
    };
    // recompute the values the partials need
    let emit = l.recomputed(|op| !inline(op));
    let mut bv: Vec<Option<Value>> = vec![None; per];
    let mut part: Vec<(P, P)> = Vec::with_capacity(per);
    for j in 0..per {
        if !emit[j] {
            let (pa, pb) = fixed_partials(l.ops[j]).expect("constant partials (find checked)");
            part.push((P::Const(pa), P::Const(pb)));
            continue;
        }
        let [x, y] = l.body[j].map(|src| operand(b, src, &bv));
        let (v, pa, pb) = emit_op(b, sh, l.ops[j], &ops[l.seg[j].0], [x, y], None);
        bv[j] = Some(v);
        part.push((pa, pb));
    }
    // the body's sweep, as in `compile`'s loop
    let mut ga: Vec<Option<Value>> = vec![None; per];
    for &(j, v) in &gs {
        ga[j] = Some(v);
    }
    // (the owned inputs' sums, in `own`'s order)
    let mut sums: Vec<Option<Value>> = vec![None; own.len()];
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
                // the previous repetition's running sum: `+0 + 1 · g` is
                // `g`, which `gs` holds (pairs)
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
            lc.one(b, g);
        }
    }
    let sums: Vec<Value> = (sums.into_iter())
        .map(|s| match s {
            Some(s) => {
                lc.one(b, s);
                s
            }
            None => fconst(b, v2, 0.0),
        })
        .collect();
    lanes.store(b, pgrad, &sums);
    let flag = match lc.take(b) {
        Some(f) => b.ins().bor(lanes.flag, f),
        None => lanes.flag,
    };
    lanes.close(b, flag, last)
}

/// Compiles `p`'s `f64` gradient (`p` has one output); `None` if the host
/// is not supported or Cranelift fails.
///
/// The stretches in `loops` (those [`find`](super::loops::find) finds) run
/// as loops; then the inputs' adjoints live in `grad` (cleared when the
/// sweep starts, every contribution loaded, added and stored, every sum
/// checked for NaN; a loop's repetition adds its contributions to one
/// strided input in a register and stores the sum once, and where it makes
/// all of that input's contributions, [`owned`], it starts from `+0`
/// without loading or clearing), so a status 2 may leave `grad` written
/// (the caller replays into it).
/// Without loops every adjoint is an SSA value and `grad` is written once,
/// at the end.
pub(crate) fn compile(p: &Program, loops: &[Loop]) -> Option<Code<GradientFn>> {
    // (the code addresses inputs and gradient entries by 32-bit offsets)
    if p.inputs > (i32::MAX / 8) as usize || p.outputs.len() != 1 {
        return None;
    }
    let looped = !loops.is_empty();
    let (mut module, id, sig, ptr) = declare(
        "gradient",
        &[Param::Ptr, Param::Ptr, Param::Ptr, Param::I32, Param::Ptr],
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
    let (px, pgrad, pvalue, pkinks, pscratch) =
        (params[0], params[1], params[2], params[3], params[4]);
    let mem = MemFlags::trusted();

    // the shims
    let eval = import(
        &mut b,
        call_conv,
        ptr,
        &[Param::Ptr, Param::F64, Param::F64, Param::Ptr],
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
    let out = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 24, 3));
    let sh = Shims { ptr, eval, out };

    // ---- forward: every slot's value (inputs loaded where first read;
    // a loop's values only for its last repetition), every straight-line
    // instruction's partials
    let n = p.inputs;
    let len = p.instrs.len();
    let mut vals: Vec<Option<Value>> = vec![None; n + len];
    // the value of slot `s` (an input: loaded now, in a block every later
    // use is dominated by, as the code is one line of blocks)
    // (or one a loop keeps in memory, read by straight-line code after it)
    let kept = |s: usize| sc.slot(loops, n, s);
    let val = |b: &mut FunctionBuilder, vals: &mut [Option<Value>], s: usize| -> Value {
        *vals[s].get_or_insert_with(|| match kept(s) {
            Some((at, _)) => b.ins().load(types::F64, mem, pscratch, (8 * at) as i32),
            None => b.ins().load(types::F64, mem, px, (8 * s) as i32),
        })
    };
    let arg = |b: &mut FunctionBuilder, vals: &mut [Option<Value>], a: Arg| match a {
        Arg::Slot(s) => val(b, vals, s as usize),
        Arg::Const(c) => b.ins().f64const(c),
    };
    // the value of a body's operand `src` in the repetition whose counter
    // is `r`: `local` holds the repetition's values so far, `from` the
    // previous repetition's (body index, value) it reads
    let operand = |b: &mut FunctionBuilder,
                   vals: &mut [Option<Value>],
                   src: Src,
                   r: Value,
                   local: &[Option<Value>],
                   from: &[(usize, Value)],
                   tables: &[Arc<[f64]>]| match src {
        Src::Const(c) => b.ins().f64const(c),
        Src::Table(t) => table(b, ptr, &tables[t], r),
        Src::Local(i) => local[i].expect("an earlier instruction of the body"),
        Src::Carried(i) => {
            (from.iter().find(|c| c.0 == i))
                .expect("a value the previous repetition passes")
                .1
        }
        Src::Fixed(x) | Src::Input(x, 0) => val(b, vals, x),
        Src::Input(i, d) => {
            let a = stride(b, px, r, d);
            b.ins().load(types::F64, mem, a, (8 * i) as i32)
        }
        Src::Strided { .. } => {
            let (at, per, _) = sc.strided(loops, src).expect("kept (Scratch::new)");
            let a = stride(b, pscratch, r, per);
            b.ins().load(types::F64, mem, a, (8 * at) as i32)
        }
    };
    let mut partials: Vec<(P, P)> = vec![(P::Const(0.0), P::Const(0.0)); len];
    let mut k = 0;
    for (li, l) in (0..=loops.len()).map(|i| (i, loops.get(i))) {
        let line_end = l.map_or(len, |l| l.start);
        for k in k..line_end {
            let ins = p.instrs[k];
            let x = arg(&mut b, &mut vals, ins.a);
            let y = arg(&mut b, &mut vals, ins.b);
            let (v, pa, pb) = if ins.op == Op::MulAddTail {
                // the value of `a.mul_add(b, c)` from the Mul's operands,
                // partials (1, 1) as the tape records them
                let Arg::Slot(m) = ins.a else {
                    return None; // (validated: never)
                };
                let mul = p.instrs[m as usize - n];
                let mx = arg(&mut b, &mut vals, mul.a);
                let my = arg(&mut b, &mut vals, mul.b);
                let call = b.ins().call_indirect(sig_fma, fn_fma, &[mx, my, y]);
                (b.inst_results(call)[0], P::Const(1.0), P::Const(1.0))
            } else {
                emit_op(&mut b, sh, ins.op, &ops[k], [x, y], None)
            };
            vals[n + k] = Some(v);
            partials[k] = (pa, pb);
        }
        let Some(l) = l else { break };
        // a loop: the body once, repetition `r` in a block with `r` and
        // the carried values as parameters
        let per = l.period;
        let carried = l.carried();
        let body = b.create_block();
        let r = b.append_block_param(body, ptr);
        let cps: Vec<Value> = carried
            .iter()
            .map(|_| b.append_block_param(body, types::F64))
            .collect();
        let mut args = vec![BlockArg::Value(b.ins().iconst(ptr, 0))];
        for &j in &carried {
            args.push(BlockArg::Value(val(&mut b, &mut vals, l.prev(n, j))));
        }
        b.ins().jump(body, &args);
        b.switch_to_block(body);
        let from: Vec<(usize, Value)> = carried.iter().copied().zip(cps).collect();
        let ents = entries(&mut b, &sc, li, pscratch, r);
        let mut bv: Vec<Option<Value>> = vec![None; per];
        for j in 0..per {
            let [x, y] =
                l.body[j].map(|src| operand(&mut b, &mut vals, src, r, &bv, &from, &l.tables));
            // (a shim writes its results to the repetition's entries)
            let out = ents
                .zip(sc.at[li][j])
                .map(|(e, at)| b.ins().iadd_imm(e, (8 * at) as i64));
            let (v, _, _) = emit_op(&mut b, sh, l.ops[j], &ops[l.seg[j].0], [x, y], out);
            bv[j] = Some(v);
            if let Some((at, per, _)) = sc.spill(li, j) {
                // (for later loops to read)
                let a = stride(&mut b, pscratch, r, per);
                b.ins().store(mem, v, a, (8 * at) as i32);
            }
        }
        let bv: Vec<Value> = bv.into_iter().flatten().collect();
        let next = b.ins().iadd_imm(r, 1);
        let more = b
            .ins()
            .icmp_imm(IntCC::UnsignedLessThan, next, l.reps as i64);
        let mut args = vec![BlockArg::Value(next)];
        args.extend(carried.iter().map(|&j| BlockArg::Value(bv[j])));
        let exit = b.create_block();
        b.ins().brif(more, body, &args, exit, &[]);
        b.switch_to_block(exit);
        // (the body's block dominates its exit: the last repetition's
        // values are usable after the loop)
        for (j, v) in bv.into_iter().enumerate() {
            let Some(last) = l.last[j] else { continue };
            vals[last] = Some(v);
        }
        k = l.end();
    }

    // ---- the recorded comparisons: one branch on whether any changed
    guards(
        &mut b,
        p,
        &tests,
        |b, a| arg(b, &mut vals, a),
        pkinks,
        test_shim,
        sweep,
    );

    // ---- the sweep, in reverse program order: every contribution added
    // (see the module docs)
    b.switch_to_block(sweep);
    let zero = b.ins().f64const(0.0);
    // (the strided inputs whose adjoints the loops' sweeps store: [`owned`])
    let (own, to_clear) = if looped {
        owned(p, loops)
    } else {
        Default::default()
    };
    if looped && n > 0 {
        // the inputs' adjoints live in `grad`: cleared first, but those a
        // loop's sweep stores
        clear_some(&mut b, ptr, pgrad, &to_clear);
    }
    // (and so do those of the values loops pass to later ones)
    for li in 0..loops.len() {
        if let Some((at, len)) = sc.adjoints(li) {
            let base = b.ins().iadd_imm(pscratch, (8 * at) as i64);
            clear(&mut b, ptr, base, len);
        }
    }
    // `None`: no contribution yet, so `+0` (inputs' adjoints when looped:
    // in `grad`)
    let mut adj: Vec<Option<Value>> = vec![None; n + len];
    let mut checks = Checks::default();
    // `grad[i + r·d] += p · g` (`r` the loop's counter, or `i` alone)
    // `a[off] += p · g` in memory (a kept value's adjoint: unchecked, the
    // loop keeping it checks): the sum, `None` if nothing was added
    let add_at = |b: &mut FunctionBuilder, a: Value, off: usize, p: P, g: Value| {
        let cur = b.ins().load(types::F64, mem, a, (8 * off) as i32);
        let sum = contribute(b, Some(cur), p, g)?;
        b.ins().store(mem, sum, a, (8 * off) as i32);
        Some(sum)
    };
    let add_grad =
        |b: &mut FunctionBuilder, checks: &mut Checks, a: Value, i: usize, p: P, g: Value| {
            let Some(sum) = add_at(b, a, i, p, g) else {
                return false;
            };
            checks.one(b, sum);
            true
        };
    let out_arg = p.outputs[0];
    if let Arg::Slot(s) = out_arg {
        // the seed, added to the zero adjoint: `0 + 1`
        let one = b.ins().f64const(1.0);
        if looped && (s as usize) < n {
            b.ins().store(mem, one, pgrad, (8 * s) as i32);
        } else {
            adj[s as usize] = Some(one);
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
                    added |= add_grad(b, checks, pgrad, t, p, g);
                } else if let Some((at, adj)) = kept(t) {
                    added |= add_at(b, pscratch, at + adj, p, g).is_some();
                } else if let Some(sum) = contribute(b, adj[t], p, g) {
                    adj[t] = Some(sum);
                    added = true;
                }
            };
            match targets(&ins) {
                Targets::Same(a) => {
                    // one slot twice: the summed partials, once
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
                checks.one(&mut b, g);
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
        let eps: Vec<Value> = (entering.iter())
            .map(|_| b.append_block_param(body, types::F64))
            .collect();
        let fps: Vec<Value> = (fixed.iter())
            .chain(&held)
            .map(|_| b.append_block_param(body, types::F64))
            .collect();
        let flag = b.append_block_param(body, types::I8);
        let mut args = vec![BlockArg::Value(b.ins().iconst(ptr, (l.reps - 1) as i64))];
        args.extend(
            entering
                .iter()
                .map(|&j| BlockArg::Value(after(j).unwrap_or(zero))),
        );
        args.extend(
            fixed
                .iter()
                .map(|&x| BlockArg::Value(adj[x].unwrap_or(zero))),
        );
        for &i in &held {
            let v = b.ins().load(types::F64, mem, pgrad, (8 * i) as i32);
            args.push(BlockArg::Value(v));
        }
        args.push(BlockArg::Value(b.ins().iconst(types::I8, 0)));
        if pairs(l, &own[li], inline) && entering.iter().all(|j| carried.binary_search(j).is_ok()) {
            // repetitions `reps − 1` down to `last` two at a time first,
            // then the rest (one or two) by this loop
            let g: Vec<(usize, Value)> = (entering.iter())
                .map(|&j| (j, after(j).unwrap_or(zero)))
                .collect();
            let last = 2 - l.reps % 2;
            let flag = sweep_pairs(&mut b, sh, l, &ops, [px, pgrad], &g, &own[li], last);
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
        let mut bv: Vec<Option<Value>> = vec![None; per];
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
                let (pa, pb) = fixed_partials(l.ops[j]).expect("constant partials (find checked)");
                part.push((P::Const(pa), P::Const(pb)));
                continue;
            }
            // (no carried value: find checked that no partial needs one)
            let [x, y] =
                l.body[j].map(|src| operand(&mut b, &mut vals, src, r, &bv, &[], &l.tables));
            let (v, pa, pb) = emit_op(&mut b, sh, l.ops[j], &ops[l.seg[j].0], [x, y], None);
            bv[j] = Some(v);
            part.push((pa, pb));
        }
        // the body's sweep
        let mut ga: Vec<Option<Value>> = vec![None; per];
        for (&j, &v) in entering.iter().zip(&eps) {
            ga[j] = Some(v);
        }
        for (j, g) in ga.iter_mut().enumerate() {
            // (what later loops added, nothing else: find validated)
            if let Some((at, per, adj)) = sc.spill(li, j) {
                let a = stride(&mut b, pscratch, r, per);
                *g = Some(b.ins().load(types::F64, mem, a, (8 * (at + adj)) as i32));
            }
        }
        let mut gout: Vec<Option<Value>> = vec![None; per];
        let mut acc = fps.clone();
        let mut lc = Checks::default();
        // the adjoints of the strided inputs this repetition adds to, in
        // registers: from `+0` where the loop owns them ([`owned`]), else
        // loaded at the first contribution; stored after the body. Also
        // those the loop does not own, where `Loop::caches_inputs`.
        let one_stride = l.caches_inputs(&held);
        let mut cells: Vec<Cell> = (own[li].iter())
            .map(|&(i, d)| Cell {
                key: (i, d),
                at: stride(&mut b, pgrad, r, d),
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
                                let at = stride(&mut b, pgrad, r, d);
                                let cur = b.ins().load(types::F64, mem, at, (8 * i) as i32);
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
                        let a = stride(&mut b, pgrad, r, d);
                        added |= add_grad(&mut b, &mut lc, a, i, p, g);
                        continue;
                    }
                    Src::Strided { .. } => {
                        let (at, per, adj) = sc.strided(loops, src).expect("kept (Scratch::new)");
                        let a = stride(&mut b, pscratch, r, per);
                        added |= add_at(&mut b, a, at + adj, p, g).is_some();
                        continue;
                    }
                };
                if let Some(s) = contribute(&mut b, *cell, p, g) {
                    *cell = Some(s);
                    added = true;
                }
            }
            if !added {
                lc.one(&mut b, g);
            }
        }
        for c in &cells {
            // (an owned adjoint nothing was added to is `+0`)
            let sum = match (c.sum, c.added) {
                (Some(s), true) => {
                    lc.one(&mut b, s);
                    s
                }
                (None, _) => zero,
                (Some(_), false) => continue,
            };
            b.ins().store(mem, sum, c.at, (8 * c.key.0) as i32);
        }
        let flag = match lc.take(&mut b) {
            Some(f) => b.ins().bor(flag, f),
            None => flag,
        };
        let more = b.ins().icmp_imm(IntCC::NotEqual, r, 0);
        let prev = b.ins().iadd_imm(r, -1);
        let mut args = vec![BlockArg::Value(prev)];
        args.extend(
            entering
                .iter()
                .map(|&j| BlockArg::Value(gout[j].unwrap_or(zero))),
        );
        args.extend(acc.iter().map(|&v| BlockArg::Value(v)));
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
            b.ins().store(mem, v, pgrad, (8 * i) as i32);
            checks.one(&mut b, v);
        }
        checks.merge(&mut b, flag);
        k = l.start;
    }
    if !looped {
        for a in adj.iter().take(n).flatten() {
            checks.one(&mut b, *a);
        }
    }
    checks.branch(&mut b, inexact, write);
    b.switch_to_block(inexact);
    let two = b.ins().iconst(types::I32, 2);
    b.ins().return_(&[two]);

    b.switch_to_block(write);
    if !looped {
        for (i, a) in adj.iter().take(n).enumerate() {
            b.ins().store(mem, a.unwrap_or(zero), pgrad, (8 * i) as i32);
        }
    }
    let value = arg(&mut b, &mut vals, out_arg);
    b.ins().store(mem, value, pvalue, 0);
    let ok = b.ins().iconst(types::I32, 0);
    b.ins().return_(&[ok]);
    b.seal_all_blocks();
    b.finalize();

    let f = finish(&mut module, id, &mut ctx)?;
    // SAFETY: `f` is the function just defined with the signature `GradientFn`
    // describes (three pointers and an i32 in, an i32 out, the platform's
    // C calling convention).
    let entry = unsafe { std::mem::transmute::<*const u8, GradientFn>(f) };
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
