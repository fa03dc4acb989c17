//! A program's `f64` gradient compiled to machine code with Cranelift
//! (feature `jit`).
//!
//! [`compile`] turns a program's instructions (the list of
//! [`Program::instructions`], in their order, unfused) into one function
//! of straight-line code: the forward pass keeps every value in an SSA
//! value (a register, or a stack slot where the register allocator spills
//! it), the recorded comparisons are checked, then the reverse sweep runs
//! over the instructions backwards with every adjoint an SSA value too. No
//! operand table, no dispatch, no loop: what the interpreter
//! ([`Exec`](super::replay::Exec)) pays per batch and per instruction is
//! gone, which is what a small program (Rosenbrock at n = 10 is 39
//! instructions) spends most of its time on.
//!
//! # The same bits as the interpreter
//!
//! The arithmetic is the tape's, operation for operation:
//!
//! - Values and partials come from the rule table, [`rules`]. `+`, `-`, `*`,
//!   negation, `/`, `powi(x, 0)`, `powi(x, 2)` and `1/x` are emitted inline
//!   as the same IEEE operations their rules perform on `f64` (for example
//!   `div`: `q = x / y`, `r = 1 / y`, `∂/∂y = (-q)·r`); each is one
//!   correctly rounded operation on the same operands, so the same bits.
//!   Every other operation calls [`eval`] itself through an `extern "C"`
//!   shim ([`shim_eval`]), and `mul_add` calls [`rules::mul_add`]
//!   ([`shim_mul_add`]): Cranelift never fuses a multiplication and an
//!   addition unless asked (`fma`, which this module never emits).
//! - The sweep visits the instructions in reverse program order, which is
//!   the order a fresh recording's tape sweeps them, so every adjoint
//!   receives its contributions in the tape's order. Per instruction: an
//!   adjoint `g` that is zero contributes nothing; otherwise each operand
//!   slot's adjoint gets `p · g` added, unless its partial `p` is zero (rule
//!   3 of [`rules`]); a binary operation whose two operands are one slot
//!   adds the summed partials once. The skips are `select`s (the sum is
//!   formed, the old adjoint kept where rule 3 says so), which gives the
//!   same bits as not forming it. What is known when compiling is folded:
//!   an adjoint no instruction has added to is `+0` (its instruction is
//!   skipped, as rule 3 skips it at run time), a constant partial 1 makes
//!   `p · g` just `g` (`1 · g` is `g`), a constant nonzero partial needs no
//!   test. An adjoint's first contribution is still added to `+0` (so
//!   `-0` becomes `+0`, as on the tape).
//!
//! Where a recorded comparison comes out differently, the function returns
//! a failure code before writing the gradient, and the caller replays with
//! the interpreter, which names the comparison in its
//! [`ReplayError`](super::ReplayError).
//!
//! # When
//!
//! See [`Jit`]: by default a program of at most [`MAX_OPS`] instructions is
//! compiled at its [`TIER`]-th `f64` gradient (compiling costs about as much
//! as a few thousand interpreted gradients of such a program, so a program
//! asked for a few gradients never pays it), on hosts Cranelift supports
//! (x86-64, AArch64, RISC-V 64, s390x); elsewhere, or if compiling fails,
//! the interpreter runs. The compiled code is cached behind an `Arc` that
//! the program's clones share.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, InstBuilder, MemFlags, Signature, StackSlotData, StackSlotKind, Value,
};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};

use super::op::{eval, Op, Test};
use super::{Arg, Program};
use crate::rules;

/// The most instructions a program may have to be compiled by default
/// ([`Jit::Auto`]). Larger programs are interpreted: from about 600
/// instructions on (Rosenbrock n ≈ 150) the interpreter's batched loops
/// are as fast as the straight-line code, whose values all stay live
/// from the forward pass to the sweep and spill, and compiling grows
/// faster than linearly (register allocation: 9 ms at 400 instructions,
/// 150 ms at 2000, 5 s at 8000; see benches/README.md).
pub const MAX_OPS: usize = 512;

/// The `f64` gradients a program must have been asked for before
/// [`Jit::Auto`] compiles it. Compiling a small program costs about as
/// much as this many interpreted gradients (0.6 ms for Rosenbrock at
/// n = 10, ~6000 of its gradients; 9 ms at n = 100, ~13000), so a program
/// asked for fewer never pays for compiling, and one asked for more pays
/// at most about twice what the best choice in hindsight would.
pub const TIER: u32 = 4096;

/// When a program's `f64` gradient ([`Program::gradient`],
/// [`Program::gradient_into`]) runs as compiled machine code (feature
/// `jit`; set with [`Program::set_jit`]). The result is the interpreter's,
/// bit for bit, either way.
///
/// ```
/// use dualtape::reverse::{self, program::Jit};
///
/// let mut p = reverse::record(|x| x[0] * x[0] + x[1].sin(), &[1.0, 2.0]);
/// let (v, g) = p.gradient(&[3.0, 0.5]).unwrap(); // interpreted (tiering)
/// p.set_jit(Jit::Now);
/// assert_eq!(p.gradient(&[3.0, 0.5]).unwrap(), (v, g.clone())); // compiled
/// p.set_jit(Jit::Off);
/// assert_eq!(p.gradient(&[3.0, 0.5]).unwrap(), (v, g)); // interpreted
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Jit {
    /// The default: compile a program of at most [`MAX_OPS`] instructions
    /// once its gradient was asked for [`TIER`] times (by it and its
    /// clones); interpret larger ones.
    #[default]
    Auto,
    /// Compile at the next gradient, whatever the program's size.
    Now,
    /// Always interpret.
    Off,
}

/// The compiled function: `(x, grad, value, kinks) -> status`. Reads
/// `x[..n]`; on status 0 writes `grad[..n]` and `*value`; on status 1 (a
/// recorded comparison changed; kink branches only if `kinks != 0`) writes
/// nothing.
type Entry = unsafe extern "C" fn(*const f64, *mut f64, *mut f64, u32) -> u32;

/// A compiled gradient and the memory it lives in.
pub(crate) struct Code {
    /// The module owning the code's memory (taken on drop, to free it).
    module: Option<JITModule>,
    entry: Entry,
    /// The operations and tests whose addresses the code passes to the
    /// shims (boxed: their addresses stay put).
    _ops: Box<[Op]>,
    _tests: Box<[Test]>,
}

// SAFETY: after `finalize_definitions` the module's memory is executable
// and read-only and nothing mutates the module again until `drop`, which
// has exclusive access; the code reads only its arguments and `_ops` /
// `_tests` (immutable), so calling `entry` from many threads at once is
// sound.
unsafe impl Send for Code {}
// SAFETY: as for `Send`: `&Code` gives only `run`, which mutates nothing
// shared.
unsafe impl Sync for Code {}

impl Drop for Code {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: `entry` is owned by this `Code` and dropped with it;
            // no call can be running (a call borrows `self`).
            unsafe { m.free_memory() };
        }
    }
}

impl Code {
    /// Runs the compiled gradient: `Some(f(x))` with `∇f(x)` in `grad`, or
    /// `None` (nothing written) if a recorded comparison (a kink's branch
    /// only with `kinks`) came out differently.
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

/// A program's compiled code, once compiled: shared by the program's
/// clones, skipped by serde (a deserialised program compiles again).
#[derive(Clone, Default)]
pub(crate) struct Cache(Arc<Inner>);

#[derive(Default)]
struct Inner {
    /// Gradients asked for before compiling ([`Jit::Auto`]).
    calls: AtomicU32,
    /// `Some(None)`: compiling failed or the host is not supported.
    code: OnceLock<Option<Code>>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.0.code.get() {
            None => "not compiled",
            Some(None) => "interpreted (compiling failed)",
            Some(Some(_)) => "compiled",
        };
        write!(f, "Cache({state})")
    }
}

impl Cache {
    /// The compiled code to run `p`'s gradient with under `mode`,
    /// compiling it now if the time has come; `None`: interpret.
    #[inline]
    pub(crate) fn get(&self, p: &Program, mode: Jit) -> Option<&Code> {
        if let Some(c) = self.0.code.get() {
            return if mode == Jit::Off { None } else { c.as_ref() };
        }
        self.cold(p, mode)
    }

    /// [`get`](Self::get) before the code exists.
    #[cold]
    #[inline(never)]
    fn cold(&self, p: &Program, mode: Jit) -> Option<&Code> {
        // Miri cannot execute generated machine code (nor map it
        // executable): under Miri every program is interpreted, so the
        // interpreter's unsafe code is what Miri checks.
        if cfg!(miri) {
            return None;
        }
        match mode {
            Jit::Off => return None,
            Jit::Auto if p.instrs.len() > MAX_OPS => return None,
            Jit::Auto if self.0.calls.fetch_add(1, Ordering::Relaxed) + 1 < TIER => return None,
            _ => {}
        }
        self.0.code.get_or_init(|| compile(p)).as_ref()
    }

    /// Whether compiled code exists.
    pub(crate) fn compiled(&self) -> bool {
        matches!(self.0.code.get(), Some(Some(_)))
    }
}

/// The host's ISA with our flags, made once (`None`: not supported).
fn isa() -> Option<OwnedTargetIsa> {
    static ISA: OnceLock<Option<OwnedTargetIsa>> = OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).ok();
        set(&mut flags, "opt_level", "speed")?;
        // (`single_pass` compiles in linear time, but its code is slower
        // than the interpreter from n = 100 on: measured)
        set(&mut flags, "regalloc_algorithm", "backtracking")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        // a program of a few thousand operations spills to a frame of
        // tens of KiB: probe it page by page
        set(&mut flags, "enable_probestack", "true")?;
        set(&mut flags, "probestack_strategy", "inline")?;
        let verify = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        set(&mut flags, "enable_verifier", verify)?;
        cranelift_native::builder()
            .ok()?
            .finish(settings::Flags::new(flags))
            .ok()
    })
    .clone()
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

/// `a.mul_add(b, c)` as [`rules::mul_add`] rounds it (once).
extern "C" fn shim_mul_add(a: f64, b: f64, c: f64) -> f64 {
    rules::mul_add(a, b, c).0
}

/// [`Test::outcome`] of `*test` at `(a, b)`.
///
/// # Safety
///
/// `test` points to a `Test` (an element of [`Code::_tests`]).
unsafe extern "C" fn shim_test(test: *const Test, a: f64, b: f64) -> u32 {
    // SAFETY: the caller's contract.
    u32::from(unsafe { *test }.outcome(a, b))
}

/// A partial as far as known when compiling.
#[derive(Clone, Copy)]
enum P {
    Const(f64),
    Val(Value),
}

/// Compiles `p`'s `f64` gradient (`p` has one output); `None` if the host
/// is not supported or Cranelift fails.
pub(crate) fn compile(p: &Program) -> Option<Code> {
    // (the code addresses inputs and gradient entries by 32-bit offsets)
    if p.inputs > (i32::MAX / 8) as usize || p.outputs.len() != 1 {
        return None;
    }
    let isa = isa()?;
    let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
    let ptr = module.target_config().pointer_type();
    let call_conv = module.target_config().default_call_conv;
    let mut sig = Signature::new(call_conv);
    for t in [ptr, ptr, ptr, types::I32] {
        sig.params.push(AbiParam::new(t));
    }
    sig.returns.push(AbiParam::new(types::I32));
    let id = module
        .declare_function("gradient", Linkage::Local, &sig)
        .ok()?;
    let ops: Box<[Op]> = p.instrs.iter().map(|i| i.op).collect();
    let tests: Box<[Test]> = p.guards.iter().map(|g| g.test).collect();

    let mut ctx = Context::new();
    ctx.func.signature = sig;
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let entry = b.create_block();
    let sweep = b.create_block();
    let fail = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (px, pgrad, pvalue, pkinks) = (params[0], params[1], params[2], params[3]);
    let mem = MemFlags::trusted();

    // the shims' signatures
    let mut sig_eval = Signature::new(call_conv);
    for t in [ptr, types::F64, types::F64, ptr] {
        sig_eval.params.push(AbiParam::new(t));
    }
    let sig_eval = b.import_signature(sig_eval);
    let mut sig_fma = Signature::new(call_conv);
    for _ in 0..3 {
        sig_fma.params.push(AbiParam::new(types::F64));
    }
    sig_fma.returns.push(AbiParam::new(types::F64));
    let sig_fma = b.import_signature(sig_fma);
    let mut sig_test = Signature::new(call_conv);
    for t in [ptr, types::F64, types::F64] {
        sig_test.params.push(AbiParam::new(t));
    }
    sig_test.returns.push(AbiParam::new(types::I32));
    let sig_test = b.import_signature(sig_test);
    let fn_eval = b.ins().iconst(ptr, shim_eval as *const () as i64);
    let fn_fma = b.ins().iconst(ptr, shim_mul_add as *const () as i64);
    let fn_test = b.ins().iconst(ptr, shim_test as *const () as i64);
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
    let mut bad: Option<Value> = None;
    if !p.guards.is_empty() {
        let kinks = b.ins().icmp_imm(IntCC::NotEqual, pkinks, 0);
        for (g, test) in p.guards.iter().zip(tests.iter()) {
            let x = arg(&mut b, &vals, g.a);
            let y = arg(&mut b, &vals, g.b);
            // Test::outcome: the comparisons as `fcmp` (ordered, false on
            // NaN, as Rust's), the rest by the shim
            let cc = match g.test {
                Test::Lt => Some(FloatCC::LessThan),
                Test::Le => Some(FloatCC::LessThanOrEqual),
                Test::Gt => Some(FloatCC::GreaterThan),
                Test::Ge => Some(FloatCC::GreaterThanOrEqual),
                Test::Eq => Some(FloatCC::Equal),
                _ => None,
            };
            let now = match cc {
                Some(cc) => {
                    let c = b.ins().fcmp(cc, x, y);
                    b.ins().uextend(types::I32, c)
                }
                None => {
                    let tp = b.ins().iconst(ptr, test as *const Test as i64);
                    let call = b.ins().call_indirect(sig_test, fn_test, &[tp, x, y]);
                    b.inst_results(call)[0]
                }
            };
            let mut changed = b.ins().icmp_imm(IntCC::NotEqual, now, i64::from(g.outcome));
            if g.test.is_kink() {
                changed = b.ins().band(changed, kinks);
            }
            bad = Some(match bad {
                None => changed,
                Some(acc) => b.ins().bor(acc, changed),
            });
        }
    }
    match bad {
        Some(bad) => {
            b.ins().brif(bad, fail, &[], sweep, &[]);
        }
        None => {
            b.ins().jump(sweep, &[]);
        }
    }
    b.switch_to_block(fail);
    let one = b.ins().iconst(types::I32, 1);
    b.ins().return_(&[one]);

    // ---- the sweep, in reverse program order
    b.switch_to_block(sweep);
    // `None`: no contribution yet, so `+0`
    let mut adj: Vec<Option<Value>> = vec![None; vals.len()];
    let zero = b.ins().f64const(0.0);
    let out_arg = p.outputs[0];
    if let Arg::Slot(s) = out_arg {
        // the seed, added to the zero adjoint: `0 + 1`
        adj[s as usize] = Some(b.ins().f64const(1.0));
    }
    for k in (0..p.instrs.len()).rev() {
        let ins = p.instrs[k];
        let Some(g) = adj[n + k] else {
            continue; // a zero adjoint: rule 3
        };
        // `g != 0` (true for NaN, as Rust's `!=`)
        let live = b.ins().fcmp(FloatCC::NotEqual, g, zero);
        let (pa, pb) = partials[k];
        let slot = |a: Arg| match a {
            Arg::Slot(s) => Some(s as usize),
            Arg::Const(_) => None,
        };
        let sa = slot(ins.a);
        let sb = if ins.op.is_binary() {
            slot(ins.b)
        } else {
            None
        };
        let mut add = |b: &mut FunctionBuilder, t: usize, p: P| {
            // `adj[t] += p * g` unless `p` is zero (`c == 0.0`: either
            // sign, as the tests `p != 0`)
            #[allow(clippy::redundant_guards)]
            let (prod, cond) = match p {
                P::Const(c) if c == 0.0 => return,
                P::Const(c) if c == 1.0 => (g, live),
                P::Const(c) => {
                    let c = b.ins().f64const(c);
                    (b.ins().fmul(c, g), live)
                }
                P::Val(v) => {
                    let nz = b.ins().fcmp(FloatCC::NotEqual, v, zero);
                    (b.ins().fmul(v, g), b.ins().band(live, nz))
                }
            };
            let cur = adj[t].unwrap_or(zero);
            let sum = b.ins().fadd(cur, prod);
            adj[t] = Some(b.ins().select(cond, sum, cur));
        };
        match (sa, sb) {
            (Some(a), Some(bb)) if a == bb => {
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
            (a, bb) => {
                if let Some(a) = a {
                    add(&mut b, a, pa);
                }
                if let Some(bb) = bb {
                    add(&mut b, bb, pb);
                }
            }
        }
    }
    for (i, a) in adj.iter().take(n).enumerate() {
        b.ins().store(mem, a.unwrap_or(zero), pgrad, (8 * i) as i32);
    }
    let value = arg(&mut b, &vals, out_arg);
    b.ins().store(mem, value, pvalue, 0);
    let ok = b.ins().iconst(types::I32, 0);
    b.ins().return_(&[ok]);
    b.seal_all_blocks();
    b.finalize();

    module.define_function(id, &mut ctx).ok()?;
    module.clear_context(&mut ctx);
    module.finalize_definitions().ok()?;
    let f = module.get_finalized_function(id);
    // SAFETY: `f` is the function just defined with the signature `Entry`
    // describes (three pointers and an i32 in, an i32 out, the platform's
    // C calling convention).
    let entry = unsafe { std::mem::transmute::<*const u8, Entry>(f) };
    Some(Code {
        module: Some(module),
        entry,
        _ops: ops,
        _tests: tests,
    })
}
