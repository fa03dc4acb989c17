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
//!   `1 · g` is `g`. A constant `-1` (`rules::sub`'s `∂/∂y`,
//!   `rules::neg`'s `∂/∂x`) subtracts it: `(-1) · g` is `-g` exactly, for
//!   zeros and infinities too, and IEEE subtraction `a - g` is `a + (-g)`,
//!   so `a - g` is the tape's `a + (-1) · g`, signed zeros included (only
//!   a NaN's sign could differ, and a NaN gives up). Another constant `c`
//!   (a constant operand of `*`; the summed constant partials of one slot
//!   twice, `2` for `x + x`) is multiplied, as the tape does. A constant
//!   zero partial (`powi(x, 0)`, `x - x`'s summed `1 + (-1)`) adds
//!   nothing, as rule 3 skips it.
//!
//! The checks: a NaN contribution makes its adjoint NaN for good (`a +
//! NaN` is NaN), and a NaN adjoint makes every contribution of its
//! instruction NaN (`p · NaN`, constant partials included), so a NaN
//! anywhere in the sweep reaches an input's adjoint or the adjoint of an
//! instruction that adds into nothing (constant operands, constant zero
//! partials). The code tests those (`fcmp uno`, two at a time; the
//! [`Checks`](super::Checks) the HVP uses), and where one is NaN it
//! returns status 2 before writing anything: the caller runs the
//! interpreter, whose result it then is. That costs an interpreted
//! gradient wherever a contribution is NaN: where the gradient has a NaN
//! itself (a NaN input, `∞ - ∞`, a function outside its domain), and where
//! rule 3 removes an `∞ · 0` (`sqrt(x) · y` at `x = y = 0`: ∂/∂x is
//! `0`, not `∞ · 0`).

use cranelift_codegen::ir::{types, InstBuilder, MemFlags, StackSlotData, StackSlotKind, Value};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use super::{
    declare, finish, guards, import, shim_mul_add, shim_test, targets, Checks, Code, Param, Targets,
};
use crate::reverse::program::op::{eval, Op, Test};
use crate::reverse::program::{Arg, Program};

/// The compiled gradient: `(x, grad, value, kinks) -> status`. Reads
/// `x[..n]`; on status 0 writes `grad[..n]` and `*value`; on status 1 (a
/// recorded comparison changed; kink branches only if `kinks != 0`) or 2
/// (a NaN where the code's shortcuts could differ from the rules: see the
/// [module docs](self)) writes nothing.
pub(crate) type GradientFn = unsafe extern "C" fn(*const f64, *mut f64, *mut f64, u32) -> u32;

impl Code<GradientFn> {
    /// Runs the compiled gradient: `Some(f(x))` with `∇f(x)` in `grad`, or
    /// `None` (nothing written) if a recorded comparison (a kink's branch
    /// only with `kinks`) came out differently or the interpreter must
    /// replay (status 2).
    ///
    /// # Panics
    ///
    /// Unless `x` and `grad` have one entry per input of the program this
    /// was compiled from (checked by its caller too: the assertion keeps
    /// the call sound on its own).
    #[inline]
    pub(crate) fn run(&self, n: usize, x: &[f64], grad: &mut [f64], kinks: bool) -> Option<f64> {
        assert!(x.len() == n && grad.len() == n);
        let mut v = 0.0;
        // SAFETY: `entry` was compiled from a program with `n` inputs: it
        // reads `x[..n]`, writes `grad[..n]` and `v`, all valid (asserted),
        // and nothing else but its own stack frame (stack probes on: a
        // large frame faults on the guard page instead of skipping it).
        let status = unsafe { (self.entry)(x.as_ptr(), grad.as_mut_ptr(), &mut v, kinks.into()) };
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

/// A partial as far as known when compiling.
#[derive(Clone, Copy)]
enum P {
    Const(f64),
    Val(Value),
}

/// Compiles `p`'s `f64` gradient (`p` has one output); `None` if the host
/// is not supported or Cranelift fails.
pub(crate) fn compile(p: &Program) -> Option<Code<GradientFn>> {
    // (the code addresses inputs and gradient entries by 32-bit offsets)
    if p.inputs > (i32::MAX / 8) as usize || p.outputs.len() != 1 {
        return None;
    }
    let (mut module, id, sig, ptr) = declare(
        "gradient",
        &[Param::Ptr, Param::Ptr, Param::Ptr, Param::I32],
    )?;
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
    let (px, pgrad, pvalue, pkinks) = (params[0], params[1], params[2], params[3]);
    let mem = MemFlags::trusted();

    // the shims
    let (sig_eval, fn_eval) = import(
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

    // ---- forward: every slot's value, every instruction's partials
    let n = p.inputs;
    let mut vals: Vec<Value> = Vec::with_capacity(n + p.instrs.len());
    for i in 0..n {
        vals.push(b.ins().load(types::F64, mem, px, (8 * i) as i32));
    }
    let arg = |b: &mut FunctionBuilder, vals: &[Value], a: Arg| match a {
        Arg::Slot(s) => vals[s as usize],
        Arg::Const(c) => b.ins().f64const(c),
    };
    let mut partials: Vec<(P, P)> = Vec::with_capacity(p.instrs.len());
    for (k, ins) in p.instrs.iter().enumerate() {
        let x = arg(&mut b, &vals, ins.a);
        let y = arg(&mut b, &vals, ins.b);
        let one = P::Const(1.0);
        let (v, pa, pb) = match ins.op {
            // rules::add, sub, mul: one IEEE operation, constant or
            // operand partials
            Op::Add => (b.ins().fadd(x, y), one, one),
            Op::Sub => (b.ins().fsub(x, y), one, P::Const(-1.0)),
            Op::Mul => (b.ins().fmul(x, y), P::Val(y), P::Val(x)),
            // rules::neg: `-x` flips the sign bit, as `fneg` does
            Op::Neg => (b.ins().fneg(x), P::Const(-1.0), P::Const(0.0)),
            // rules::div: q = x / y, r = y.recip() = 1 / y, (q, r, -q * r)
            Op::Div => {
                let q = b.ins().fdiv(x, y);
                let c1 = b.ins().f64const(1.0);
                let r = b.ins().fdiv(c1, y);
                let nq = b.ins().fneg(q);
                let db = b.ins().fmul(nq, r);
                (q, P::Val(r), P::Val(db))
            }
            // rules::recip: r = 1 / x, -(r * r)
            Op::Recip => {
                let c1 = b.ins().f64const(1.0);
                let r = b.ins().fdiv(c1, x);
                let rr = b.ins().fmul(r, r);
                (r, P::Val(b.ins().fneg(rr)), P::Const(0.0))
            }
            // rules::powi: n = 0 is (1, 0), n = 2 is (x * x, x + x)
            Op::Powi(0) => (b.ins().f64const(1.0), P::Const(0.0), P::Const(0.0)),
            Op::Powi(2) => {
                let v = b.ins().fmul(x, x);
                (v, P::Val(b.ins().fadd(x, x)), P::Const(0.0))
            }
            // the value of `a.mul_add(b, c)` from the Mul's operands,
            // partials (1, 1) as the tape records them
            Op::MulAddTail => {
                let Arg::Slot(m) = ins.a else {
                    return None; // (validated: never)
                };
                let mul = p.instrs[m as usize - n];
                let mx = arg(&mut b, &vals, mul.a);
                let my = arg(&mut b, &vals, mul.b);
                let call = b.ins().call_indirect(sig_fma, fn_fma, &[mx, my, y]);
                (b.inst_results(call)[0], one, one)
            }
            _ => {
                let opp = b.ins().iconst(ptr, &ops[k] as *const Op as i64);
                let outp = b.ins().stack_addr(ptr, out, 0);
                b.ins().call_indirect(sig_eval, fn_eval, &[opp, x, y, outp]);
                let v = b.ins().stack_load(types::F64, out, 0);
                let da = b.ins().stack_load(types::F64, out, 8);
                let db = b.ins().stack_load(types::F64, out, 16);
                (v, P::Val(da), P::Val(db))
            }
        };
        vals.push(v);
        partials.push((pa, pb));
    }

    // ---- the recorded comparisons: one branch on whether any changed
    guards(
        &mut b,
        p,
        &tests,
        |b, a| arg(b, &vals, a),
        pkinks,
        test_shim,
        sweep,
    );

    // ---- the sweep, in reverse program order: every contribution added
    // (see the module docs)
    b.switch_to_block(sweep);
    // `None`: no contribution yet, so `+0`
    let mut adj: Vec<Option<Value>> = vec![None; vals.len()];
    let zero = b.ins().f64const(0.0);
    let out_arg = p.outputs[0];
    if let Arg::Slot(s) = out_arg {
        // the seed, added to the zero adjoint: `0 + 1`
        adj[s as usize] = Some(b.ins().f64const(1.0));
    }
    let mut checks = Checks::default();
    for k in (0..p.instrs.len()).rev() {
        let ins = p.instrs[k];
        let Some(g) = adj[n + k] else {
            continue; // a zero adjoint: rule 3
        };
        let (pa, pb) = partials[k];
        let mut added = false;
        let mut add = |b: &mut FunctionBuilder, t: usize, p: P| {
            // `adj[t] += p * g`, unconditionally (see the module docs)
            let cur = adj[t].unwrap_or(zero);
            // (`==` on floats, as the rules test them, not patterns)
            #[allow(clippy::redundant_guards)]
            let sum = match p {
                // rule 3: a zero partial (either sign) adds nothing
                P::Const(c) if c == 0.0 => return,
                P::Const(c) if c == 1.0 => b.ins().fadd(cur, g),
                P::Const(c) if c == -1.0 => b.ins().fsub(cur, g),
                P::Const(c) => {
                    let c = b.ins().f64const(c);
                    let prod = b.ins().fmul(c, g);
                    b.ins().fadd(cur, prod)
                }
                P::Val(v) => {
                    let prod = b.ins().fmul(v, g);
                    b.ins().fadd(cur, prod)
                }
            };
            adj[t] = Some(sum);
            added = true;
        };
        match targets(&ins) {
            Targets::Same(a) => {
                // one slot twice: the summed partials, once
                let p = match (pa, pb) {
                    (P::Const(x), P::Const(y)) => P::Const(x + y),
                    _ => {
                        let mut v = |q: P| match q {
                            P::Const(c) => b.ins().f64const(c),
                            P::Val(v) => v,
                        };
                        let (x, y) = (v(pa), v(pb));
                        P::Val(b.ins().fadd(x, y))
                    }
                };
                add(&mut b, a, p);
            }
            Targets::Each(a, bb) => {
                if let Some(a) = a {
                    add(&mut b, a, pa);
                }
                if let Some(bb) = bb {
                    add(&mut b, bb, pb);
                }
            }
        }
        if !added {
            // a NaN here would reach no input's adjoint
            checks.one(&mut b, g);
        }
    }
    for a in adj.iter().take(n).flatten() {
        checks.one(&mut b, *a);
    }
    checks.branch(&mut b, inexact, write);
    b.switch_to_block(inexact);
    let two = b.ins().iconst(types::I32, 2);
    b.ins().return_(&[two]);

    b.switch_to_block(write);
    for (i, a) in adj.iter().take(n).enumerate() {
        b.ins().store(mem, a.unwrap_or(zero), pgrad, (8 * i) as i32);
    }
    let value = arg(&mut b, &vals, out_arg);
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
    })
}
