//! A program's `f64` gradient and its Hessian-vector product compiled to
//! machine code with Cranelift (feature `jit`).
//!
//! [`gradient::compile`] and [`hvp::compile`] turn a program's instructions
//! (the list of [`Program::instructions`], in their order, unfused) into
//! one function each. Both run the stretches where the program repeats
//! one body as loops over that body ([`loops`]); the rest is straight-line
//! code: the forward pass keeps every
//! value in SSA values (registers, or stack slots where the register
//! allocator spills them), the recorded comparisons are checked, then the
//! reverse sweep runs over the instructions backwards with every adjoint
//! in SSA values too. No operand table, no dispatch, no loop: what the
//! interpreter ([`Exec`](super::replay::Exec)) pays per batch and per
//! instruction is gone, which is what a small program (Rosenbrock at
//! n = 10 is 39 instructions) spends most of its time on.
//!
//! Each module's docs say why its code gives the interpreter's bits:
//! [`gradient`] (on `f64`) and [`hvp`] (on `Dual<f64>`, the tangent
//! through the forward pass and the sweep). This module holds what they
//! share: the policy ([`Jit`], [`Cache`]), the compiled code ([`Code`]),
//! the host's ISA, the emission of the recorded comparisons ([`guards`]),
//! where the sweep adds ([`targets`]) and its NaN checks ([`Checks`]).
//!
//! Where a recorded comparison comes out differently, the function returns
//! a failure code (1) before writing anything, and the caller replays with
//! the interpreter, which names the comparison in its
//! [`ReplayError`](super::ReplayError). Neither function tests rule 3 of
//! [`rules`](crate::rules) per contribution: both add every contribution
//! with plain IEEE products, which gives the rules' bits wherever no NaN
//! appears, and where one appears that could reach the result they return
//! another failure code (2), and the caller replays with the interpreter
//! too (the argument: [`hvp`]'s module docs, and [`gradient`]'s for what
//! differs on `f64`).
//!
//! # When
//!
//! See [`Jit`]: by default a program's gradient is compiled at its
//! [`tier`]-th `f64` gradient ([`TIER`] up to 512 instructions, later the
//! larger the compiled code, never above [`MAX_OPS`] instructions of it;
//! sooner the longer the program is than its code, [`looped_tier`]), and
//! its Hessian-vector product at as many HVPs (the two counted apart: each compiled
//! function pays for itself from its own calls; compiling costs about as
//! much as a few thousand interpreted calls of a small program, so a
//! program asked for a few never pays it), on hosts Cranelift supports
//! (x86-64, AArch64, RISC-V 64, s390x); elsewhere, or if compiling fails,
//! the interpreter runs. The compiled code is cached behind an `Arc` that
//! the program's clones share.

mod gradient;
mod hvp;
mod known;
pub(crate) mod loops;
mod pairs;

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, Block, BlockArg, InstBuilder, MemFlags, SigRef, Signature, Type, Value,
};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilder;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};

use super::op::{Op, Test};
use super::{Arg, Instr, Program};
use loops::Src;

use gradient::GradientFn;
use hvp::HvpFn;
use loops::Loop;

/// The most instructions a program may have to have its gradient or its
/// Hessian-vector product compiled by default ([`Jit::Auto`]), counting
/// the instructions of the compiled code: each loop's body once (see the [module docs](super#compiled-gradients-and-hvps-feature-jit)). Larger
/// programs are interpreted: compiling grows faster than linearly
/// (register allocation; Rosenbrock, the gradient: 10 ms at 511
/// instructions, 70 ms at 2,000, 0.32 s at 4,000, 2.2 s at 10,000; the
/// HVP: 0.03 s at 511, 0.28 s at 2,000, 1.2 s at 4,000), while the
/// compiled code is 1.4 to 2.4 times as fast as the interpreter (at 4,000
/// instructions the gradient 3.1 against 4.8 µs, the HVP 4.9 against
/// 9.5 µs; see benches/README.md). Programs up to this size are compiled
/// the later the larger they are: see [`tier`].
pub const MAX_OPS: usize = 4096;

/// The calls a small program (at most 512 instructions) must have been
/// asked for before [`Jit::Auto`] compiles it: `f64` gradients for the
/// compiled gradient, HVPs for the compiled HVP (counted apart). Compiling
/// a small program's gradient costs about as much as this many
/// interpreted gradients (0.6 ms for Rosenbrock at n = 10, ~6000 of its
/// gradients; 9 ms at n = 100, ~13000), so a program asked for fewer
/// never pays for compiling, and one asked for more pays at most about
/// twice what the best choice in hindsight would. Larger programs wait
/// longer: [`tier`].
pub const TIER: u32 = 4096;

/// The calls (gradients for the gradient, HVPs for the HVP) after which
/// [`Jit::Auto`] compiles a program of `instructions` instructions:
/// `TIER · b^1.5` for `b` blocks of 512 instructions begun ([`TIER`] up
/// to 512 instructions, ~92,700 at 4,096), so that the interpreted time
/// spent before compiling stays about the compile time as both grow
/// (Rosenbrock at 4,000 instructions: the gradient 0.32 s to compile, 0.44 s
/// of interpreted gradients before it; the HVP 1.2 s and 0.88 s); `None`
/// above [`MAX_OPS`]: never.
///
/// ```
/// use dualtape::reverse::program::{tier, TIER};
///
/// assert_eq!(tier(40), Some(TIER));
/// assert_eq!(tier(512), Some(TIER));
/// assert_eq!(tier(513), Some(11_585)); // TIER · 2^1.5
/// assert_eq!(tier(4096), Some(92_681)); // TIER · 8^1.5
/// assert_eq!(tier(4097), None);
/// ```
pub fn tier(instructions: usize) -> Option<u32> {
    let b = instructions.div_ceil(512).max(1) as f64;
    (instructions <= MAX_OPS).then(|| (f64::from(TIER) * b * b.sqrt()) as u32)
}

/// The calls after which [`Jit::Auto`] compiles `p`'s gradient (or HVP),
/// given its `loops`: [`tier`] of the compiled code's size
/// ([`loops::emitted`]: each loop's body once),
/// fewer by the factor the program is longer than that code (at least 128
/// instructions counted): the interpreter's calls cost in proportion to the
/// program's length, the compiling in proportion to the code's. Rosenbrock
/// at n = 10⁶ (4 million instructions, 16 compiled) compiles at its first
/// gradient, at n = 10³ (4,000, 16) at its 132nd.
///
/// `None` (interpret) also where more than a quarter of the loops' body
/// instructions keep their values in memory for later code
/// ([`Loop::kept`](loops::Loop::kept)): a program of passes over data,
/// each reading the one before, whose compiled code moves a value through
/// memory per operation as the interpreter does, and is no faster (the
/// notebook network through nalgebra, 17 passes of 1 or 2 operations:
/// 69.7 µs compiled, 63.3 interpreted).
pub(crate) fn looped_tier(p: &Program, loops: &[Loop]) -> Option<u32> {
    let body: usize = loops.iter().map(|l| l.period).sum();
    let kept: usize = (loops.iter())
        .map(|l| l.kept.iter().filter(|&&k| k).count())
        .sum();
    if 4 * kept > body {
        return None;
    }
    let (len, size) = (p.instrs.len(), loops::emitted(p, loops));
    let t = u64::from(tier(size)?);
    let scaled = (t * size.max(128) as u64).div_ceil(len.max(1) as u64);
    Some(scaled.clamp(1, t) as u32)
}

/// When a program's `f64` gradient ([`Program::gradient`],
/// [`Program::gradient_into`]) and its Hessian-vector product
/// ([`Program::hvp`], [`Program::hvp_into`]) run as compiled machine code
/// (feature `jit`; set with [`Program::set_jit`]). The result is the
/// interpreter's, bit for bit, either way.
///
/// ```
/// use dualtape::reverse::{self, program::Jit};
///
/// let mut p = reverse::record(|x| x[0] * x[0] + x[1].sin(), &[1.0, 2.0]);
/// let (v, g) = p.gradient(&[3.0, 0.5]).unwrap(); // interpreted (tiering)
/// let (_, hv) = p.hvp(&[3.0, 0.5], &[1.0, 0.0]).unwrap();
/// p.set_jit(Jit::Now);
/// assert_eq!(p.gradient(&[3.0, 0.5]).unwrap(), (v, g.clone())); // compiled
/// assert_eq!(p.hvp(&[3.0, 0.5], &[1.0, 0.0]).unwrap(), (v, hv.clone()));
/// p.set_jit(Jit::Off);
/// assert_eq!(p.gradient(&[3.0, 0.5]).unwrap(), (v, g)); // interpreted
/// assert_eq!(p.hvp(&[3.0, 0.5], &[1.0, 0.0]).unwrap(), (v, hv));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Jit {
    /// The default: compile a program's gradient once it was asked for
    /// [`tier`] gradients (by it and its clones), its HVP once it was
    /// asked for [`tier`] HVPs (counted apart); never above
    /// [`MAX_OPS`] instructions.
    #[default]
    Auto,
    /// Compile at the next gradient (HVP), whatever the program's size
    /// (one whose code would exceed [`MAX_OPS`] instructions even with its
    /// loops is compiled without looking for them: straight line).
    Now,
    /// Always interpret.
    Off,
}

/// Compiled code and the memory it lives in; `F` is the type of its entry
/// point ([`GradientFn`], [`HvpFn`]), whose module runs it.
pub(crate) struct Code<F> {
    /// The module owning the code's memory (taken on drop, to free it).
    module: Option<JITModule>,
    entry: F,
    /// The operations and tests whose addresses the code passes to the
    /// shims (boxed: their addresses stay put).
    _ops: Box<[Op]>,
    _tests: Box<[Test]>,
    /// The loops' tables of constants ([`loops::Src::Table`]), which the
    /// code reads.
    _tables: Vec<Arc<[f64]>>,
    /// The `f64`s of scratch memory the code's loops use
    /// ([`loops::Scratch`]), which the caller passes.
    scratch: usize,
}

// SAFETY: after `finalize_definitions` the module's memory is executable
// and read-only and nothing mutates the module again until `drop`, which
// has exclusive access; the code reads only its arguments and `_ops`,
// `_tests` and `_tables` (immutable), so calling `entry` (a function
// pointer) from many threads at once is sound.
unsafe impl<F: Send> Send for Code<F> {}
// SAFETY: as for `Send`: `&Code` gives only `run`, which mutates nothing
// shared.
unsafe impl<F: Sync> Sync for Code<F> {}

impl<F> Drop for Code<F> {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: `entry` is owned by this `Code` and dropped with it;
            // no call can be running (a call borrows `self`).
            unsafe { m.free_memory() };
        }
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
    code: OnceLock<Option<Code<GradientFn>>>,
    /// HVPs asked for before compiling theirs.
    hvp_calls: AtomicU32,
    /// The compiled HVP, as `code`.
    hvp: OnceLock<Option<Code<HvpFn>>>,
    /// The program's loops and the compiled code's tier, found once.
    plan: OnceLock<Plan>,
}

/// What compiling a program needs to know before it compiles.
struct Plan {
    /// The stretches the code runs as loops ([`loops::find`]).
    loops: Box<[Loop]>,
    /// When to compile the gradient, and the HVP ([`looped_tier`]).
    tier: Option<u32>,
    /// The scratch memory the compiled gradient's loops use, in `f64`s.
    scratch: usize,
}

impl Plan {
    fn of(p: &Program) -> Plan {
        let mut loops = loops::find(p);
        if p.instrs.len() <= loops::STRAIGHT_MAX && !gradient::paired(p, &loops) {
            loops.clear();
        }
        let tier = looped_tier(p, &loops);
        Plan {
            scratch: gradient::scratch(&loops).len,
            loops: loops.into(),
            tier,
        }
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn state<C>(c: &OnceLock<Option<C>>) -> &'static str {
            match c.get() {
                None => "not compiled",
                Some(None) => "interpreted (compiling failed)",
                Some(Some(_)) => "compiled",
            }
        }
        write!(
            f,
            "Cache(gradient {}, hvp {})",
            state(&self.0.code),
            state(&self.0.hvp)
        )
    }
}

impl Cache {
    /// An empty cache for `p`'s code, its loops and tier ([`Plan`])
    /// worked out now.
    pub(crate) fn new(p: &Program) -> Cache {
        Cache(Arc::new(Inner {
            plan: OnceLock::from(Plan::of(p)),
            ..Inner::default()
        }))
    }

    /// `p`'s [`Plan`] (worked out now if the cache was made without it).
    fn plan(&self, p: &Program) -> &Plan {
        self.0.plan.get_or_init(|| Plan::of(p))
    }

    /// The compiled code to run `p`'s `f64` gradient with under `mode`,
    /// compiling it now if the time has come; `None`: interpret.
    #[inline]
    pub(crate) fn gradient(&self, p: &Program, mode: Jit) -> Option<&Code<GradientFn>> {
        let t = || self.plan(p).tier;
        let c = || gradient::compile(p, &self.plan(p).loops);
        tiered(&self.0.code, &self.0.calls, mode, t, c)
    }

    /// [`gradient`](Self::gradient) for `p`'s Hessian-vector product.
    #[inline]
    pub(crate) fn hvp(&self, p: &Program, mode: Jit) -> Option<&Code<HvpFn>> {
        let t = || self.plan(p).tier;
        let c = || hvp::compile(p, &self.plan(p).loops);
        tiered(&self.0.hvp, &self.0.hvp_calls, mode, t, c)
    }

    /// The scratch memory (`f64`s) `p`'s compiled gradient uses: a
    /// workspace made for `p` has it.
    pub(crate) fn scratch(&self, p: &Program) -> usize {
        self.plan(p).scratch
    }

    /// Whether the compiled gradient exists.
    pub(crate) fn compiled(&self) -> bool {
        matches!(self.0.code.get(), Some(Some(_)))
    }

    /// Whether the compiled HVP exists.
    pub(crate) fn hvp_compiled(&self) -> bool {
        matches!(self.0.hvp.get(), Some(Some(_)))
    }
}

/// The code in `cell` to run under `mode`, compiled by `compile` now if
/// the time has come (`calls` counts the calls before, `tier_of` says
/// when that is: [`looped_tier`]); `None`: interpret.
#[inline(always)]
fn tiered<'a, C>(
    cell: &'a OnceLock<Option<C>>,
    calls: &AtomicU32,
    mode: Jit,
    tier_of: impl FnOnce() -> Option<u32>,
    compile: impl FnOnce() -> Option<C>,
) -> Option<&'a C> {
    if let Some(c) = cell.get() {
        return if mode == Jit::Off { None } else { c.as_ref() };
    }
    cold(cell, calls, mode, tier_of, compile)
}

/// [`tiered`] before the code exists.
#[cold]
#[inline(never)]
fn cold<'a, C>(
    cell: &'a OnceLock<Option<C>>,
    calls: &AtomicU32,
    mode: Jit,
    tier_of: impl FnOnce() -> Option<u32>,
    compile: impl FnOnce() -> Option<C>,
) -> Option<&'a C> {
    // Miri cannot execute generated machine code (nor map it
    // executable): under Miri every program is interpreted, so the
    // interpreter's unsafe code is what Miri checks.
    if cfg!(miri) {
        return None;
    }
    match mode {
        Jit::Off => return None,
        Jit::Auto => match tier_of() {
            Some(t) if calls.fetch_add(1, Ordering::Relaxed) + 1 >= t => {}
            _ => return None,
        },
        Jit::Now => {}
    }
    cell.get_or_init(compile).as_ref()
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

/// A new module for one function `name` taking `params` and returning an
/// `i32` status: the module, the function's id, its signature and the
/// pointer type (`None`: the host is not supported).
fn declare(name: &str, params: &[Param]) -> Option<(JITModule, FuncId, Signature, Type)> {
    let isa = isa()?;
    let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
    let ptr = module.target_config().pointer_type();
    let mut sig = Signature::new(module.target_config().default_call_conv);
    for p in params {
        sig.params.push(AbiParam::new(p.of(ptr)));
    }
    sig.returns.push(AbiParam::new(types::I32));
    let id = module.declare_function(name, Linkage::Local, &sig).ok()?;
    Some((module, id, sig, ptr))
}

/// A parameter's type: a pointer, an `f64` or an `i32`.
#[derive(Clone, Copy)]
enum Param {
    Ptr,
    F64,
    I32,
}

impl Param {
    fn of(self, ptr: Type) -> Type {
        match self {
            Param::Ptr => ptr,
            Param::F64 => types::F64,
            Param::I32 => types::I32,
        }
    }
}

/// Imports the signature of an `extern "C"` function (`params`, `ret`)
/// and materialises its address `f`, for `call_indirect`.
fn import(
    b: &mut FunctionBuilder,
    call_conv: CallConv,
    ptr: Type,
    params: &[Param],
    ret: Option<Param>,
    f: *const (),
) -> (SigRef, Value) {
    let mut sig = Signature::new(call_conv);
    for p in params {
        sig.params.push(AbiParam::new(p.of(ptr)));
    }
    if let Some(r) = ret {
        sig.returns.push(AbiParam::new(r.of(ptr)));
    }
    let sig = b.import_signature(sig);
    (sig, b.ins().iconst(ptr, f as i64))
}

/// Defines the function `id` from `ctx` in `module` and finalises it: the
/// function's address (`None`: Cranelift failed).
fn finish(module: &mut JITModule, id: FuncId, ctx: &mut Context) -> Option<*const u8> {
    module.define_function(id, ctx).ok()?;
    module.clear_context(ctx);
    module.finalize_definitions().ok()?;
    Some(module.get_finalized_function(id))
}

/// `rules::mul_add(a, b, c)`'s value on `f64` (rounded once), for the
/// compiled code: Cranelift never fuses a multiplication and an addition
/// unless asked (`fma`, which this module never emits).
extern "C" fn shim_mul_add(a: f64, b: f64, c: f64) -> f64 {
    crate::rules::mul_add(a, b, c).0
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

/// The address of entry `r·d` of the `f64` array at `base` (`r` a loop's
/// counter; entry `i + r·d` is then `8·i` bytes on).
fn stride(b: &mut FunctionBuilder, base: Value, r: Value, d: usize) -> Value {
    if d == 0 {
        base
    } else {
        let off = b.ins().imul_imm(r, (8 * d) as i64);
        b.ins().iadd(base, off)
    }
}

/// Entry `r` of `t` (`r` a loop's counter, below `t.len()`): `t` outlives
/// the code (kept in [`Code`]).
fn table(b: &mut FunctionBuilder, ptr: Type, t: &Arc<[f64]>, r: Value) -> Value {
    let base = b.ins().iconst(ptr, t.as_ptr() as i64);
    let a = stride(b, base, r, 1);
    b.ins().load(types::F64, MemFlags::trusted(), a, 0)
}

/// The address of repetition `r`'s entries of loop `i` in the scratch
/// memory at `base` (`None` if it stores nothing).
fn entries(
    b: &mut FunctionBuilder,
    sc: &loops::Scratch,
    i: usize,
    base: Value,
    r: Value,
) -> Option<Value> {
    if sc.stride[i] == 0 {
        return None;
    }
    let at = b.ins().iadd_imm(base, (8 * sc.base[i]) as i64);
    Some(stride(b, at, r, sc.stride[i]))
}

/// Where a compiled sweep loop keeps the running adjoint of body operand
/// `src`, if in a register through the loop: a fixed operand's (its index
/// in `fixed`, [`Loop::fixed`](loops::Loop::fixed)) or a held input's (after
/// those, by its index in `held`, [`Loop::held_inputs`](loops::Loop::held_inputs)).
fn running(src: loops::Src, fixed: &[usize], held: &[usize]) -> Option<usize> {
    match src {
        loops::Src::Fixed(x) => Some(fixed.binary_search(&x).expect("a fixed operand")),
        loops::Src::Input(i, 0) => held.binary_search(&i).ok().map(|e| fixed.len() + e),
        _ => None,
    }
}

/// Per loop, the strided inputs `(i, d)` whose adjoints its sweep owns,
/// and per input whether the sweep must clear its adjoint first.
///
/// A loop owns `(i, d)` where every read of input `i + r·d` in the program
/// (every operand the sweep adds a contribution for, and the output) is
/// repetition `r`'s `Src::Input(i, d)`: that repetition's sweep then makes
/// every contribution to it, so it adds them up from `+0` in a register
/// and stores the sum once, with no load and no clearing first (the sum
/// the tape makes, as the adjoint in memory would start at `+0` too; for
/// the HVP, both components).
/// Every input no loop owns is cleared.
pub(crate) fn owned(p: &Program, loops: &[Loop]) -> (Vec<Vec<(usize, usize)>>, Vec<bool>) {
    let n = p.inputs;
    let mut reads = vec![0u32; n];
    let mut read = |s: usize, k: u32| {
        if s < n {
            reads[s] += k;
        }
    };
    for ins in &p.instrs {
        match targets(ins) {
            Targets::Same(a) => read(a, 2),
            Targets::Each(a, b) => {
                for s in [a, b].into_iter().flatten() {
                    read(s, 1);
                }
            }
        }
    }
    if let Some(Arg::Slot(s)) = p.outputs.first() {
        read(*s as usize, 1);
    }
    let mut clear = vec![true; n];
    let owned = loops
        .iter()
        .map(|l| {
            // the strided inputs the body reads, with how often
            let mut keys: Vec<((usize, usize), u32)> = Vec::new();
            for (j, [sa, sb]) in l.body.iter().enumerate() {
                let srcs = if l.ops[j].is_binary() {
                    &[*sa, *sb][..]
                } else {
                    &[*sa][..]
                };
                for s in srcs {
                    let Src::Input(i, d) = *s else { continue };
                    if d == 0 {
                        continue;
                    }
                    match keys.iter_mut().find(|k| k.0 == (i, d)) {
                        Some(k) => k.1 += 1,
                        None => keys.push(((i, d), 1)),
                    }
                }
            }
            keys.retain(|&((i, d), c)| (0..l.reps).all(|r| reads[i + r * d] == c));
            for &((i, d), _) in &keys {
                for r in 0..l.reps {
                    clear[i + r * d] = false;
                }
            }
            keys.into_iter().map(|k| k.0).collect()
        })
        .collect();
    (owned, clear)
}

/// Emits the clearing of the entries of `grad` that `marked` marks: runs
/// of them, or the whole if they are many short runs.
fn clear_some(b: &mut FunctionBuilder, ptr: Type, grad: Value, marked: &[bool]) {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, &c) in marked.iter().enumerate() {
        match runs.last_mut() {
            Some(r) if c && r.1 == i => r.1 += 1,
            _ if c => runs.push((i, i + 1)),
            _ => {}
        }
    }
    if runs.len() > 16 {
        runs = vec![(0, marked.len())];
    }
    let zero = b.ins().f64const(0.0);
    for (s, e) in runs {
        if e - s <= 4 {
            for i in s..e {
                b.ins()
                    .store(MemFlags::trusted(), zero, grad, (8 * i) as i32);
            }
        } else {
            let base = b.ins().iadd_imm(grad, (8 * s) as i64);
            clear(b, ptr, base, e - s);
        }
    }
}

/// Emits a loop storing `+0` into `base[..n]` (`n > 0`) and leaves the
/// builder after it.
fn clear(b: &mut FunctionBuilder, ptr: Type, base: Value, n: usize) {
    let body = b.create_block();
    let i = b.append_block_param(body, ptr);
    let i0 = b.ins().iconst(ptr, 0);
    b.ins().jump(body, &[BlockArg::Value(i0)]);
    b.switch_to_block(body);
    let a = stride(b, base, i, 1);
    let zero = b.ins().f64const(0.0);
    b.ins().store(MemFlags::trusted(), zero, a, 0);
    let next = b.ins().iadd_imm(i, 1);
    let more = b.ins().icmp_imm(IntCC::UnsignedLessThan, next, n as i64);
    let done = b.create_block();
    b.ins()
        .brif(more, body, &[BlockArg::Value(next)], done, &[]);
    b.switch_to_block(done);
}

/// Where an instruction's sweep adds its contributions: the slots of its
/// operands (a constant operand, and the second operand of a unary
/// operation, receive nothing).
#[derive(Clone, Copy)]
enum Targets {
    /// A binary operation whose two operands are one slot: the tape adds
    /// the summed partials to it, once.
    Same(usize),
    /// The slots receiving `∂/∂a · g` and `∂/∂b · g`, in that order.
    Each(Option<usize>, Option<usize>),
}

/// [`Targets`] of `ins`.
fn targets(ins: &Instr) -> Targets {
    let slot = |a: Arg| match a {
        Arg::Slot(s) => Some(s as usize),
        Arg::Const(_) => None,
    };
    let a = slot(ins.a);
    let b = if ins.op.is_binary() {
        slot(ins.b)
    } else {
        None
    };
    match (a, b) {
        (Some(a), Some(b)) if a == b => Targets::Same(a),
        (a, b) => Targets::Each(a, b),
    }
}

/// The NaN checks of a sweep that adds every contribution (see [`hvp`]'s
/// module docs): a NaN contribution makes its adjoint NaN for good, and a
/// NaN adjoint makes its instruction's contributions NaN, so the sweep
/// checks only the inputs' adjoints and the adjoints of instructions that
/// add into nothing (the HVP also the tangents entering its rule calls).
/// Values are tested two at a time (`fcmp uno`), the
/// outcomes or-ed into one flag.
#[derive(Default)]
struct Checks {
    /// A value waiting for a second.
    pending: Option<Value>,
    /// Nonzero if a value tested so far is NaN.
    flag: Option<Value>,
}

impl Checks {
    /// Tests `x` and `y`.
    fn pair(&mut self, b: &mut FunctionBuilder, x: Value, y: Value) {
        let nan = b.ins().fcmp(FloatCC::Unordered, x, y);
        self.merge(b, nan);
    }

    /// Ors `flag` (nonzero: a NaN was seen) into the flag.
    fn merge(&mut self, b: &mut FunctionBuilder, flag: Value) {
        self.flag = Some(match self.flag {
            None => flag,
            Some(f) => b.ins().bor(f, flag),
        });
    }

    /// The flag of the values tested (the one waiting tested with itself);
    /// `None` if none was.
    fn take(mut self, b: &mut FunctionBuilder) -> Option<Value> {
        if let Some(x) = self.pending.take() {
            self.pair(b, x, x);
        }
        self.flag
    }

    /// Tests `x` (with the next value, or at [`take`](Self::take)).
    fn one(&mut self, b: &mut FunctionBuilder, x: Value) {
        match self.pending.take() {
            None => self.pending = Some(x),
            Some(y) => self.pair(b, y, x),
        }
    }

    /// Emits the branch on the flag: to `inexact` if a value tested is
    /// NaN, else (or if nothing was tested) to `ok`.
    fn branch(self, b: &mut FunctionBuilder, inexact: Block, ok: Block) {
        match self.take(b) {
            Some(nan) => {
                b.ins().brif(nan, inexact, &[], ok, &[]);
            }
            None => {
                b.ins().jump(ok, &[]);
            }
        }
    }
}

/// Emits the recorded comparisons of `p` (`tests` is their boxed copy,
/// whose addresses the code passes to [`shim_test`]) on the values
/// `value(arg)` gives, then one branch: to a block returning status 1 if
/// any outcome changed (kink branches only if the function's `kinks`
/// parameter is nonzero), else to `sweep` (directly if `p` has none).
/// [`Test::outcome`]'s comparisons are `fcmp`s (ordered, false on NaN, as
/// Rust's), the rest calls to the shim.
fn guards(
    b: &mut FunctionBuilder,
    p: &Program,
    tests: &[Test],
    mut value: impl FnMut(&mut FunctionBuilder, Arg) -> Value,
    kinks: Value,
    (sig_test, fn_test): (SigRef, Value),
    sweep: Block,
) {
    // (the shim's address is a pointer-sized constant)
    let ptr = b.func.dfg.value_type(fn_test);
    if p.guards.is_empty() {
        b.ins().jump(sweep, &[]);
        return;
    }
    let kinks = b.ins().icmp_imm(IntCC::NotEqual, kinks, 0);
    let mut bad: Option<Value> = None;
    for (g, test) in p.guards.iter().zip(tests) {
        let x = value(b, g.a);
        let y = value(b, g.b);
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
    let bad = bad.expect("at least one guard (tested above)");
    let fail = b.create_block();
    b.ins().brif(bad, fail, &[], sweep, &[]);
    b.switch_to_block(fail);
    let one = b.ins().iconst(types::I32, 1);
    b.ins().return_(&[one]);
}
