//! The executable form of a program and its interpreter.
//!
//! # Batches
//!
//! A program's [`Instr`](super::Instr) list stays the source of truth; from
//! it, once per program ([`Exec::compile`], when the program is built or
//! deserialised), comes an executable form in which the instructions are
//! *reordered into batches*: runs of instructions with the same operation
//! and the same operand shape (a slot, two slots, the same slot twice, a
//! slot and a constant, ...). The forward pass runs each batch as one tight
//! loop over its instructions, with the operation and the shape chosen once
//! per batch instead of once per instruction; the adjoint sweep runs the
//! batches backwards, each as a loop that only knows which operands receive
//! an adjoint. A program that repeats a computation (a sum over data
//! points, the pairs of Rosenbrock, a matrix product) thus pays the
//! interpreter's dispatch once per batch of up to [`BATCH`] instructions
//! instead of once per instruction. Where a batch's operand slots advance
//! by a fixed stride (the same computation on the next pair of inputs, on
//! the next data point), the loops compute them ([`Affine`]) instead of
//! loading them from the operand table.
//!
//! A single-use `+`, `-` or `*` is *fused* into its consumer where the
//! pair is a common one (`b - a²`, `(c - a)²`, `a·b + x`, ...: see
//! [`Exec::compile`]): one instruction computes both values and, in the
//! sweep, applies both rules' partials in the order the two instructions
//! would, so the intermediate value and adjoint never reach memory.
//! Where fused instructions form a *chain* (a running sum: each one's other
//! operand is the previous one's value, [`chain_of`]), the forward pass
//! keeps the previous value in a register and the sweep the contribution to
//! the previous adjoint, which takes a store and a reload off the sum's
//! critical path in both passes (the same additions in the same order).
//! Where every instruction of a run adds into one slot through the same
//! operand (a weight or bias shared by all data points: a *sink*,
//! [`sink_of`]), the sweep keeps that slot's running adjoint in a register
//! across the run and stores it once, which takes the same store and
//! reload off that sum's chain (again the same additions in the same
//! order, and a contribution rule 3 skips stays skipped); likewise a fused
//! run's other operand `c` where it repeats with a short period (a bias per
//! unit of a dense layer, in turn: [`csink_of`]).
//!
//! Slots are reused: a batch whose values are all read by later batches,
//! and not by the sweep, an output or a guard, hands its slots (values and
//! adjoints) to a later batch of its length ([`assign_slots`]), so a long
//! program's single-use intermediates stay in cache instead of each taking
//! a slot in memory (Rosenbrock at n = 10⁶: one value slot kept per term
//! instead of four).
//!
//! Large programs ([`DIRECT_MIN`] inputs or more) leave the inputs outside
//! the workspace ([`Exec::direct`]): for a gradient, whose caller has the
//! inputs as values of the replay's type, the loops read them from the
//! caller's `x`, and every sweep adds the inputs' adjoints straight into
//! the caller's output, each range cleared just before its first
//! contribution ([`lasts`]). Each batch and run reads each of its operands
//! all from inputs or all from the workspace ([`Batch::inp`]), so the place
//! is chosen once per batch ([`Bases`]), not per slot. At n = 10⁶ that takes
//! the inputs' copy into the workspace, and their adjoints' trip through
//! it, off the bytes each replay moves. (A replay on dual numbers built
//! from `f64` inputs, and `evaluate` followed by `pullback`, still copy the
//! inputs in: the sweep then reads them from the workspace.)
//!
//! Each instruction is still evaluated by its own rule of
//! [`rules`](crate::rules) ([`eval`], or the rule itself for `+`, `-`, `*`,
//! `/`), with the same operands, so every value and partial is the one a
//! fresh recording computes. For the operations whose partials are
//! constants or operands (`+`, `-`, `*`, negation: [`rederives`]) the
//! forward pass stores the value only, and the sweep evaluates the rule
//! again on the operand values for the partials (the same rule on the same
//! operands: the same partials), so no partial is written and read back. The chain rule is applied in [`Exec::sweep`]
//! only, per instruction, as the tape does: a zero adjoint or a zero partial
//! adds nothing (rule 3 of [`rules`](crate::rules)), and an operation whose
//! two operands are one slot (`x * x`) adds the sum of its two partials
//! once, that sum being formed in the forward pass instead of the sweep (the
//! same addition of the same values).
//!
//! # Why the reordering changes no bit
//!
//! The order is a topological order of the instructions (each after the
//! instructions whose results it reads), so the forward pass computes the
//! same values. In the sweep, each slot's adjoint is final when its
//! instruction is swept (its users are all later in the order), and each
//! slot receives its adjoint contributions in the same order as in the
//! program, because the order also keeps, for every slot, the instructions
//! that add into its adjoint in their program order (an edge from each such
//! instruction to the next). Floating-point addition is not associative, so
//! this second condition is what keeps the sums identical to the tape's.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use super::op::{eval, Op, Test};
use super::{Arg, Program, ReplayError};
use crate::{rules, Scalar};

/// The most instructions in one batch: enough to amortise the dispatch,
/// few enough that a batch's operands (written by the batches just before)
/// are still in cache.
pub(crate) const BATCH: usize = 256;

/// The fewest instructions in a batch whose operand slots the loops compute
/// ([`Affine`]) instead of loading: below it, the loop's set-up (strides,
/// first slots, LLVM's unrolled preamble) costs more than the loads save.
/// Under Miri it is 4, as it was before, so that the tests Miri runs (small
/// programs, to keep it fast) take the strided loops too.
const AFFINE_MIN: u32 = if cfg!(miri) { 4 } else { 16 };

/// An operand in the compiler: `Ok(program slot)` or `Err(constant index)`.
type Operand = Result<u32, u32>;

/// How an instruction reads its operands and where its adjoint goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Shape {
    /// A unary operation of a slot: one partial, into `a`.
    Unary,
    /// A binary operation whose operands are one slot: the summed partials,
    /// into `a`.
    Same,
    /// `a op c`: the partial for `a`.
    SlotConst,
    /// `c op b`: the partial for `b` (kept in `da`).
    ConstSlot,
    /// `a op b`, two distinct slots: both partials.
    Both,
    /// Only constant operands: no adjoint.
    Consts,
}

impl Shape {
    fn of(op: Op, a: Result<u32, u32>, b: Result<u32, u32>) -> Shape {
        match (a, b) {
            (Ok(_), _) if !op.is_binary() => Shape::Unary,
            (Ok(x), Ok(y)) if x == y => Shape::Same,
            (Ok(_), Ok(_)) => Shape::Both,
            (Ok(_), Err(_)) => Shape::SlotConst,
            (Err(_), Ok(_)) if op.is_binary() => Shape::ConstSlot,
            _ => Shape::Consts,
        }
    }

    /// The sweep's kind of loop for an operation `op` of this shape.
    fn sweep(self, op: Op) -> Sweep {
        match self {
            Shape::Consts => Sweep::Nothing,
            _ if rederives(op) => Sweep::Rule(op, self),
            Shape::Unary | Shape::Same | Shape::SlotConst => Sweep::A,
            Shape::ConstSlot => Sweep::B,
            Shape::Both => Sweep::Both,
        }
    }
}

/// Where the producer of a fused instruction sits among its consumer's
/// operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Side {
    /// `p op x`.
    Left,
    /// `x op p`.
    Right,
    /// `p op p`.
    Same,
}

/// The consumer half of a fused instruction (see [`Exec::compile`]): its
/// operation, where the producer's value goes, and whether its other
/// operand (slot `c`) is a slot that receives an adjoint (not a constant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Tail {
    pub(crate) op: Op,
    pub(crate) side: Side,
    pub(crate) other: bool,
}

/// The fused pairs the interpreter has loops for, as (index, producer
/// operation, producer shape, consumer operation, side, other operand a
/// slot): the repeated pairs of sums of squares and of dense layers. `$m!`
/// receives the list. The index (`0, 1, 2, ...` in order, below
/// [`NO_PAIR`]) is what a batch or run stores ([`Batch::pair`]), so that
/// the interpreter picks a pair's loop by one jump on it instead of
/// comparing five fields.
macro_rules! fused_pairs {
    ($m:ident) => {
        $m! {
            (0, Mul, Same, Sub, Right, true),      // b - a²
            (1, Sub, ConstSlot, Mul, Same, false), // (c - a)²
            (2, Mul, Same, Mul, Left, false),      // a² · c
            (3, Add, Both, Add, Left, true),       // (a + b) + x
            (4, Add, Both, Add, Right, true),      // x + (a + b)
            (5, Mul, Both, Add, Left, true),       // a · b + x
            (6, Mul, Both, Add, Right, true),      // x + a · b
            (7, Mul, SlotConst, Add, Left, true),  // a · c + x
            (8, Mul, SlotConst, Add, Right, true), // x + a · c
            (9, Mul, SlotConst, Sub, Right, true), // x - a · c
        }
    };
}

/// [`Batch::pair`] of a batch that is not fused.
pub(crate) const NO_PAIR: u8 = u8::MAX;

/// The index in [`fused_pairs`] of producer `(op, shape)` fused into
/// `tail`, [`NO_PAIR`] for `None` or a pair the interpreter has no loops
/// for.
fn pair_of(op: Op, shape: Shape, tail: Option<Tail>) -> u8 {
    let Some(tail) = tail else { return NO_PAIR };
    macro_rules! find {
        ($(($i:literal, $po:ident, $ps:ident, $co:ident, $side:ident, $other:literal)),* $(,)?) => {
            $(if op == Op::$po
                && shape == Shape::$ps
                && tail.op == Op::$co
                && tail.side == Side::$side
                && tail.other == $other
            {
                return $i;
            })*
        };
    }
    fused_pairs!(find);
    NO_PAIR
}

/// Whether the interpreter fuses producer `(op, shape)` into `tail`.
fn fusable(op: Op, shape: Shape, tail: Tail) -> bool {
    pair_of(op, shape, Some(tail)) != NO_PAIR
}

/// The rule of an operation of [`rederives`], by name.
macro_rules! rule_of {
    (Add) => {
        rules::add
    };
    (Sub) => {
        rules::sub
    };
    (Mul) => {
        rules::mul
    };
}

/// Whether the partials of an operation of [`rederives`] are nonzero
/// constants whatever the operands (see [`rule_run`]).
macro_rules! fixed_of {
    (Add) => {
        true
    };
    (Sub) => {
        true
    };
    (Mul) => {
        false
    };
}

/// What the sweep does for a run of instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sweep {
    /// Adds `da · g` into slot `a`.
    A,
    /// Adds `da · g` into slot `b`.
    B,
    /// Adds `da · g` into `a`, then `db · g` into `b`.
    Both,
    /// Clears the adjoint only.
    Nothing,
    /// Evaluates the rule of the operation (one of [`rederives`]) again on
    /// the operand values and adds its partials as the shape says: `pa`
    /// into `a` (`Unary`, `SlotConst`), `pa + pb` into `a` (`Same`), `pb`
    /// into `b` (`ConstSlot`), `pa` into `a` then `pb` into `b` (`Both`).
    Rule(Op, Shape),
    /// A fused instruction: producer `(op, shape)` on slots `a`, `b`,
    /// consumer `tail` (its other operand in slot `c`); both of
    /// [`rederives`], swept as [`fused_run`] says.
    Fused(Op, Shape, Tail),
}

/// Whether the forward pass stores only the value of `op`, and the sweep
/// re-derives its partials by evaluating its rule again on the operand
/// values: the operations whose partials are constants or operands (`+`,
/// `-`, `*`, negation). The same rule on the same operands gives the same
/// partials, so nothing changes but the bytes moved: no partials written
/// in the forward pass and read back in the sweep.
#[inline(always)]
pub(crate) fn rederives(op: Op) -> bool {
    matches!(op, Op::Add | Op::Sub | Op::Mul | Op::Neg)
}

/// Instructions `start..end` (executable positions), all of one operation
/// and one shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Batch {
    pub(crate) op: Op,
    pub(crate) shape: Shape,
    /// For fused instructions, the consumer (`op`, `shape` are the producer's).
    pub(crate) tail: Option<Tail>,
    /// The index of the fused pair in [`fused_pairs`] ([`pair_of`]), or
    /// [`NO_PAIR`]: the forward pass and the sweep jump on it.
    pub(crate) pair: u8,
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// Operand slots in arithmetic progression (a repeated computation):
    /// `a[start + i] == a0 + i * sa`, `b[start + i] == b0 + i * sb`, so the
    /// loops compute them instead of loading them.
    pub(crate) affine: Option<Affine>,
    /// A fused chain ([`chain_of`]); then `affine` describes `c` from the
    /// second instruction on only.
    pub(crate) chain: bool,
    /// The first instruction's slot; instruction `start + i` writes slot
    /// `out + i` ([`assign_slots`]).
    pub(crate) out: u32,
    /// In a program replayed with its inputs outside the workspace
    /// ([`Exec::direct`]): which operands are inputs, the same for every
    /// instruction of the batch ([`inputs_of`]); 0 otherwise.
    pub(crate) inp: u8,
}

impl Batch {
    /// The slot of instruction `k` is `ob() + k` (wrapping: `out` may be
    /// below `start`).
    #[inline(always)]
    pub(crate) fn ob(&self) -> usize {
        (self.out as usize).wrapping_sub(self.start as usize)
    }
}

/// Operand slots `a0 + i * sa`, `b0 + i * sb` for the `i`-th instruction of
/// a batch or run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Affine {
    pub(crate) a0: u32,
    pub(crate) sa: u32,
    pub(crate) b0: u32,
    pub(crate) sb: u32,
    pub(crate) c0: u32,
    pub(crate) sc: u32,
}

impl Affine {
    /// The progressions `a[s..e]`, `b[s..e]`, `c[s..e]` follow, if any
    /// (non-negative steps).
    fn of(a: &[u32], b: &[u32], c: &[u32], s: usize, e: usize) -> Option<Affine> {
        let step = |v: &[u32]| -> Option<(u32, u32)> {
            let d = if e - s >= 2 {
                v[s + 1].checked_sub(v[s])?
            } else {
                0
            };
            (s..e)
                .all(|k| v[k] as u64 == v[s] as u64 + (k - s) as u64 * d as u64)
                .then_some((v[s], d))
        };
        let ((a0, sa), (b0, sb), (c0, sc)) = (step(a)?, step(b)?, step(c)?);
        Some(Affine {
            a0,
            sa,
            b0,
            sb,
            c0,
            sc,
        })
    }

    /// The operand slots of instruction `k` of a span starting at `s`.
    #[inline(always)]
    fn at(self, s: usize, k: usize) -> (usize, usize) {
        let i = k - s;
        (
            self.a0 as usize + i * self.sa as usize,
            self.b0 as usize + i * self.sb as usize,
        )
    }

    /// The slots `a`, `b`, `c` of instruction `k` of a span starting at `s`.
    #[inline(always)]
    fn at3(self, s: usize, k: usize) -> (usize, usize, usize) {
        let (a, b) = self.at(s, k);
        (a, b, self.c0 as usize + (k - s) * self.sc as usize)
    }
}

/// Instructions `start..end` swept by one loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run {
    pub(crate) kind: Sweep,
    /// As [`Batch::pair`], for a run of [`Sweep::Fused`].
    pub(crate) pair: u8,
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// As [`Batch::affine`].
    pub(crate) affine: Option<Affine>,
    /// As [`Batch::chain`].
    pub(crate) chain: bool,
    /// As [`Batch::out`].
    pub(crate) out: u32,
    /// A slot every instruction of the run adds into ([`sink_of`]), whose
    /// running adjoint the sweep keeps in a register.
    pub(crate) sink: Option<Sink>,
    /// For a fused run: the period (1 to 3; 0: none) of the slots `c`
    /// that every instruction adds into ([`csink_of`]), whose running
    /// adjoints the sweep keeps in registers ([`fused_run`]).
    pub(crate) csink: u8,
    /// As [`Batch::inp`].
    pub(crate) inp: u8,
}

/// The operand of a run whose slot is the same in every instruction
/// (a weight or a bias shared by all data points), and that slot: the
/// sweep loads its adjoint once, adds the run's contributions to it in a
/// register and stores it once ([`rule_run`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sink {
    /// `false`: operand `a`; `true`: operand `b`.
    pub(crate) b: bool,
    pub(crate) slot: u32,
}

impl Run {
    /// As [`Batch::ob`].
    #[inline(always)]
    pub(crate) fn ob(&self) -> usize {
        (self.out as usize).wrapping_sub(self.start as usize)
    }

    /// The consumer half of a fused run, as [`Batch::tail`]; `None` otherwise.
    fn tail(&self) -> Option<Tail> {
        match self.kind {
            Sweep::Fused(_, _, tail) => Some(tail),
            _ => None,
        }
    }
}

/// One comparison to re-check, in slots of the executable form.
#[derive(Clone, Copy, Debug)]
pub(crate) struct XGuard {
    pub(crate) test: Test,
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) outcome: u8,
}

/// A program compiled for replay. Slots: the `n` inputs, then the constants,
/// then the instructions' slots, up to `slots()`: instruction `k` of the
/// executable form writes slot `bt.ob() + k` of its batch `bt`, where batches
/// whose values are all read take over the slots of earlier ones
/// ([`assign_slots`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Exec {
    pub(crate) n: usize,
    pub(crate) consts: Vec<f64>,
    /// Operand slots of each instruction (for a unary operation or one slot
    /// used twice, `b == a`; a constant operand reads its constant's slot).
    pub(crate) a: Vec<u32>,
    pub(crate) b: Vec<u32>,
    /// The consumer's other operand of a fused instruction (`b` elsewhere).
    pub(crate) c: Vec<u32>,
    pub(crate) batches: Vec<Batch>,
    pub(crate) runs: Vec<Run>,
    pub(crate) outputs: Vec<u32>,
    pub(crate) guards: Vec<XGuard>,
    /// The number of slots.
    pub(crate) top: usize,
    /// Inputs `lo..hi` whose adjoints are final once run `r` is swept, as
    /// `(r, lo, hi)` in the sweep's order (runs backwards, then `r ==
    /// u32::MAX`: inputs no instruction reads), covering `0..n` ([`finals`]).
    pub(crate) finals: Vec<(u32, u32, u32)>,
    /// Inputs `lo..hi` whose values the forward pass copies in just before
    /// batch `b`, as `(b, lo, hi)` in the forward order (then `b ==
    /// batches.len()`: inputs no instruction reads, copied after the last
    /// batch), covering `0..n` ([`firsts`]).
    pub(crate) firsts: Vec<(u32, u32, u32)>,
    /// Whether the inputs stay outside the workspace where the caller gives
    /// them ([`DIRECT_MIN`] inputs or more, no `MulAddTail`): the forward
    /// pass reads their values from the caller's `x` where it has one
    /// ([`Exec::forward`]), and the sweep reads them from there and adds
    /// their adjoints straight into the caller's output ([`Exec::sweep`]).
    /// Then every batch and run reads each of its operands `a`, `b`, `c`
    /// either all from inputs or none ([`Batch::inp`]).
    pub(crate) direct: bool,
    /// With `direct`: the output ranges `lo..hi` the sweep clears just
    /// before run `r`, the first swept that adds into them, as `(r, lo,
    /// hi)` in the sweep's order: `r == runs.len()` first (inputs that are
    /// outputs: cleared before the seeds), then runs backwards, then `r ==
    /// u32::MAX` (inputs no instruction reads), covering `0..n`
    /// ([`lasts`]). Empty without `direct`.
    pub(crate) lasts: Vec<(u32, u32, u32)>,
    /// This compiled program's own number (from [`NEXT_ID`]; 0 only for
    /// the empty default, which has no constants), kept by its clones: a
    /// workspace whose [`Workspace::consts_of`] is this already holds its
    /// constants.
    pub(crate) id: u64,
}

/// The next [`Exec::id`].
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Exec {
    /// The first instruction's slot.
    #[inline(always)]
    pub(crate) fn base(&self) -> usize {
        self.n + self.consts.len()
    }

    /// The number of instructions.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.a.len()
    }

    /// The number of slots (inputs, constants, instructions' slots).
    pub(crate) fn slots(&self) -> usize {
        self.top
    }

    /// Compiles the instructions of `p` (already validated: every operand
    /// refers to an input or an earlier instruction, `MulAddTail`'s first
    /// operand is a `Mul`).
    ///
    /// # Fusion
    ///
    /// Where an instruction `P` of [`rederives`] has exactly one user `C`,
    /// also of [`rederives`], and `(P, C)` is one of the pairs the
    /// interpreter has loops for ([`fusable`]), the executable form holds
    /// one *fused* instruction in `C`'s place: `P`'s operation on slots `a`,
    /// `b`, then `C`'s on `P`'s value and slot `c`. `P`'s value and adjoint
    /// never reach memory. The forward pass computes the same two values
    /// from the same operands; the sweep adds `C`'s contributions, then
    /// `P`'s with `P`'s adjoint (the one contribution `C` made to it), each
    /// by its own rule and rule 3, so every product and sum is one the
    /// unfused sweep forms. What moves is the moment `P`'s contributions
    /// are added: at `C`'s place in the sweep instead of `P`'s. So a pair is
    /// fused only if no instruction between `P` and `C` adds into a slot
    /// `P` adds into: then every slot still receives its contributions in
    /// the program's order.
    pub(crate) fn compile(p: &Program) -> Exec {
        let n = p.inputs;
        let len = p.instrs.len();
        // constants, deduplicated by bit pattern
        let mut consts: Vec<f64> = Vec::new();
        let mut const_slot = FxHashMap::<u64, u32>::default();
        let mut resolve = |a: Arg, consts: &mut Vec<f64>| -> Result<u32, u32> {
            match a {
                Arg::Slot(s) => Ok(s),
                Arg::Const(c) => Err(*const_slot.entry(c.to_bits()).or_insert_with(|| {
                    consts.push(c);
                    (consts.len() - 1) as u32
                })),
            }
        };
        let mut args = Vec::with_capacity(len);
        for ins in &p.instrs {
            let a = resolve(ins.a, &mut consts);
            let b = if ins.op.is_binary() {
                resolve(ins.b, &mut consts)
            } else {
                a
            };
            args.push((a, b));
        }
        let outs: Vec<Result<u32, u32>> =
            p.outputs.iter().map(|&o| resolve(o, &mut consts)).collect();
        let guards: Vec<(Result<u32, u32>, Result<u32, u32>)> = p
            .guards
            .iter()
            .map(|g| (resolve(g.a, &mut consts), resolve(g.b, &mut consts)))
            .collect();
        let shapes: Vec<Shape> = p
            .instrs
            .iter()
            .zip(&args)
            .map(|(ins, &(a, b))| Shape::of(ins.op, a, b))
            .collect();

        let pre = fuse(n, p, &args, &shapes, &outs, &guards);
        let order = schedule(n, p, &args, &shapes, &pre);

        // program slot -> executable slot
        let nc = consts.len();
        let base = n + nc;
        let mut pos = vec![u32::MAX; len];
        for (e, &k) in order.iter().enumerate() {
            pos[k as usize] = e as u32;
        }
        let slot = |s: u32| -> u32 {
            if (s as usize) < n {
                s
            } else {
                let e = pos[s as usize - n];
                assert!(
                    e != u32::MAX,
                    "dualtape: internal error: a fused instruction's value is read"
                );
                (base as u32) + e
            }
        };
        let place = |r: Result<u32, u32>| -> u32 {
            match r {
                Ok(s) => slot(s),
                Err(c) => (n as u32) + c,
            }
        };
        let m = order.len();
        let direct = n >= DIRECT_MIN && p.instrs.iter().all(|i| i.op != Op::MulAddTail);
        let (mut a, mut b, mut c) = (
            Vec::with_capacity(m),
            Vec::with_capacity(m),
            Vec::with_capacity(m),
        );
        let mut batches: Vec<Batch> = Vec::new();
        for (e, &k) in order.iter().enumerate() {
            let k = k as usize;
            let (op, shape, tail) = match pre[k] {
                Some((q, tail)) => {
                    let q = q as usize;
                    let (qa, qb) = args[q];
                    a.push(place(qa));
                    b.push(place(qb));
                    let (ra, rb) = args[k];
                    let other = match tail.side {
                        Side::Left => rb,
                        Side::Right => ra,
                        Side::Same => qa,
                    };
                    c.push(place(other));
                    (p.instrs[q].op, shapes[q], Some(tail))
                }
                None => {
                    let (ra, rb) = args[k];
                    a.push(place(ra));
                    b.push(place(rb));
                    c.push(place(rb));
                    (p.instrs[k].op, shapes[k], None)
                }
            };
            // (with `direct`, a batch's operands are all inputs or none)
            let inp = if direct {
                inputs_of(n, [&a, &b, &c], e)
            } else {
                0
            };
            match batches.last_mut() {
                Some(last)
                    if last.op == op
                        && last.shape == shape
                        && last.tail == tail
                        && last.inp == inp
                        && (last.end - last.start) < BATCH as u32 =>
                {
                    last.end += 1
                }
                _ => batches.push(Batch {
                    op,
                    shape,
                    tail,
                    pair: pair_of(op, shape, tail),
                    start: e as u32,
                    end: e as u32 + 1,
                    affine: None,
                    chain: false,
                    out: 0,
                    inp,
                }),
            }
        }
        let mut outputs: Vec<u32> = outs.into_iter().map(place).collect();
        let mut guards: Vec<XGuard> = p
            .guards
            .iter()
            .zip(guards)
            .map(|(g, (a, b))| XGuard {
                test: g.test,
                a: place(a),
                b: place(b),
                outcome: g.outcome,
            })
            .collect();
        let top = assign_slots(
            base,
            &mut batches,
            [&mut a, &mut b, &mut c],
            &mut outputs,
            &mut guards,
        );
        for bt in &mut batches {
            let (s, e) = (bt.start as usize, bt.end as usize);
            // (exec) chains: the progression of `c` from the second on
            bt.chain = chain_of(&a, &b, &c, bt.ob(), bt.tail, s, e);
            let c_first = c.get(s).copied();
            if bt.chain {
                c[s] = bt.out.wrapping_sub(1);
            }
            if bt.end - bt.start >= AFFINE_MIN && bt.op != Op::MulAddTail {
                bt.affine = Affine::of(&a, &b, &c, s, e);
            }
            if let Some(c_first) = c_first {
                c[s] = c_first;
            }
        }
        let mut runs: Vec<Run> = Vec::new();
        for bt in &batches {
            let kind = match bt.tail {
                Some(tail) => Sweep::Fused(bt.op, bt.shape, tail),
                None => bt.shape.sweep(bt.op),
            };
            // (sweep) a batch with a sink ([`sink_of`]) joins only a run with
            // the same sink, so that merging keeps it
            let sink = sink_of(kind, &a, &b, bt.ob(), bt.start as usize, bt.end as usize);
            match runs.last_mut() {
                Some(last)
                    if last.kind == kind
                        && last.affine.is_none()
                        && bt.affine.is_none()
                        && last.ob() == bt.ob()
                        && last.sink == sink
                        && last.inp == bt.inp =>
                {
                    last.end = bt.end
                }
                _ => runs.push(Run {
                    kind,
                    pair: bt.pair,
                    start: bt.start,
                    end: bt.end,
                    affine: bt.affine,
                    chain: false,
                    out: bt.out,
                    sink,
                    csink: 0,
                    inp: bt.inp,
                }),
            }
        }
        // (exec) a run's chain: a merged run is one only as a whole; an
        // affine run is one batch, with that batch's `affine`
        for r in &mut runs {
            r.chain = chain_of(
                &a,
                &b,
                &c,
                r.ob(),
                r.tail(),
                r.start as usize,
                r.end as usize,
            );
            r.sink = sink_of(r.kind, &a, &b, r.ob(), r.start as usize, r.end as usize);
            r.csink = csink_of(r, &a, &b, &c);
        }
        let finals = finals(n, &runs, [&a, &b, &c]);
        let firsts = firsts(n, &batches, [&a, &b, &c]);
        let lasts = match direct {
            true => lasts(n, &runs, [&a, &b, &c], &outputs),
            false => Vec::new(),
        };
        let exec = Exec {
            n,
            consts,
            a,
            b,
            c,
            batches,
            runs,
            outputs,
            guards,
            top,
            finals,
            firsts,
            direct,
            lasts,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        };
        exec.validate();
        exec
    }

    /// [`validate`](Self::validate)'s part for [`Exec::direct`]: with it,
    /// every batch and run reads each operand from inputs in all its
    /// instructions or in none, as its `inp` says (the loops read an input
    /// operand from the caller's `x`, of `n` entries, and any other from the
    /// workspace), no instruction is a `MulAddTail`, and `lasts` covers the
    /// inputs once, in the sweep's order, each range cleared before anything
    /// adds into it (a seed, for an output; else the last run reading it);
    /// without it, every `inp` is 0 and `lasts` is empty.
    fn validate_direct(&self) {
        let n = self.n;
        let spans = self.batches.iter().map(|b| (b.start, b.end, b.inp));
        let runs = self.runs.iter().map(|r| (r.start, r.end, r.inp));
        for (s, e, inp) in spans.chain(runs) {
            for k in s as usize..e as usize {
                assert!(
                    inp == if self.direct {
                        inputs_of(n, [&self.a, &self.b, &self.c], k)
                    } else {
                        0
                    },
                    "dualtape: internal error: a batch reads inputs and other slots through one operand"
                );
            }
        }
        if !self.direct {
            assert!(
                self.lasts.is_empty(),
                "dualtape: internal error: malformed lasts"
            );
            return;
        }
        assert!(
            self.batches.iter().all(|b| b.op != Op::MulAddTail),
            "dualtape: internal error: MulAddTail with the inputs outside the workspace"
        );
        let nr = self.runs.len() as u32;
        let spans = self
            .runs
            .iter()
            .enumerate()
            .rev()
            .map(|(i, r)| (i as u32, r.start, r.end));
        let last = first_readers(n, spans, [&self.a, &self.b, &self.c], u32::MAX);
        let mut output = vec![false; n];
        for &o in &self.outputs {
            if (o as usize) < n {
                output[o as usize] = true;
            }
        }
        let mut cleared = vec![false; n];
        for (i, &(r, lo, hi)) in self.lasts.iter().enumerate() {
            assert!(
                lo < hi
                    && hi as usize <= n
                    && (r == u32::MAX || r <= nr)
                    && self
                        .lasts
                        .get(i + 1)
                        .is_none_or(|&(q, _, _)| q == u32::MAX || (r != u32::MAX && q <= r)),
                "dualtape: internal error: malformed lasts"
            );
            for x in lo as usize..hi as usize {
                assert!(
                    !cleared[x]
                        && (!output[x] || r == nr)
                        && (last[x] == u32::MAX || (r != u32::MAX && r >= last[x])),
                    "dualtape: internal error: malformed lasts"
                );
                cleared[x] = true;
            }
        }
        assert!(
            cleared.iter().all(|&c| c),
            "dualtape: internal error: malformed lasts"
        );
    }

    /// The structural facts the interpreter's unchecked indexing relies on,
    /// checked once: every operand slot is below `slots()` and written by an
    /// earlier instruction (or an input or constant), every instruction's
    /// own slot `ob + k` is in `base()..slots()` and the same in its batch
    /// and its run, the batches and the runs each cover `0..len()` in
    /// order, and where a
    /// batch or run computes its operand slots by [`Affine`], they are the
    /// ones in `a`, `b` and `c`.
    fn validate(&self) {
        let base = self.base();
        assert!(
            self.b.len() == self.len() && self.c.len() == self.len(),
            "dualtape: internal error: malformed operand table"
        );
        let covers = |spans: &mut dyn Iterator<Item = (u32, u32)>| {
            let mut at = 0;
            for (s, e) in spans {
                assert!(
                    s == at && s < e,
                    "dualtape: internal error: malformed batches"
                );
                at = e;
            }
            assert!(
                at as usize == self.len(),
                "dualtape: internal error: malformed batches"
            );
        };
        covers(&mut self.batches.iter().map(|b| (b.start, b.end)));
        covers(&mut self.runs.iter().map(|r| (r.start, r.end)));
        // every slot read is below `slots()` and written before (an input, a
        // constant, an earlier instruction's); every instruction writes a
        // slot of `base()..slots()`, the same one in the forward pass and
        // the sweep
        let top = self.slots();
        assert!(base <= top, "dualtape: internal error: malformed slots");
        let mut written = vec![false; top];
        written[self.n..base].fill(true);
        // `firsts` covers the inputs once, in the forward order, each range
        // copied (so written) before the batch it names
        let mut first = 0;
        let mut copy_firsts = |b: usize, written: &mut [bool]| {
            while let Some(&(q, lo, hi)) = self.firsts.get(first) {
                if q as usize != b {
                    break;
                }
                assert!(
                    lo < hi && hi as usize <= self.n,
                    "dualtape: internal error: malformed firsts"
                );
                for w in &mut written[lo as usize..hi as usize] {
                    assert!(!*w, "dualtape: internal error: malformed firsts");
                    *w = true;
                }
                first += 1;
            }
        };
        // (the batches cover `0..len()` in order)
        let mut slot_of = Vec::with_capacity(self.len());
        for (i, bt) in self.batches.iter().enumerate() {
            copy_firsts(i, &mut written);
            for k in bt.start as usize..bt.end as usize {
                for s in [self.a[k], self.b[k], self.c[k]] {
                    assert!(
                        (s as usize) < top && written[s as usize],
                        "dualtape: internal error: instruction {k} of a compiled program reads a slot not yet written"
                    );
                }
                let o = bt.ob().wrapping_add(k);
                assert!(
                    (base..top).contains(&o),
                    "dualtape: internal error: instruction {k} of a compiled program writes outside its slots"
                );
                written[o] = true;
                slot_of.push(o);
            }
        }
        copy_firsts(self.batches.len(), &mut written);
        assert!(
            first == self.firsts.len() && written[..self.n].iter().all(|&w| w),
            "dualtape: internal error: malformed firsts"
        );
        // `finals` covers the inputs once, in the sweep's order
        let mut copied = vec![false; self.n];
        for (i, &(r, lo, hi)) in self.finals.iter().enumerate() {
            assert!(
                lo < hi
                    && hi as usize <= self.n
                    && (r == u32::MAX || (r as usize) < self.runs.len())
                    && self
                        .finals
                        .get(i + 1)
                        .is_none_or(|&(q, _, _)| q == u32::MAX || (r != u32::MAX && q <= r)),
                "dualtape: internal error: malformed finals"
            );
            for c in &mut copied[lo as usize..hi as usize] {
                assert!(!*c, "dualtape: internal error: malformed finals");
                *c = true;
            }
        }
        assert!(
            copied.iter().all(|&c| c),
            "dualtape: internal error: malformed finals"
        );
        self.validate_direct();
        for r in &self.runs {
            let s = r.start as usize;
            for (i, &o) in slot_of[s..r.end as usize].iter().enumerate() {
                assert!(
                    r.ob().wrapping_add(s + i) == o,
                    "dualtape: internal error: a run's slots are not its batches'"
                );
            }
        }
        let spans = self
            .batches
            .iter()
            .map(|b| (b.start, b.end, b.affine, b.chain, b.tail, b.ob()));
        let runs = self
            .runs
            .iter()
            .map(|r| (r.start, r.end, r.affine, r.chain, r.tail(), r.ob()));
        for (s, e, affine, chain, tail, ob) in spans.chain(runs) {
            let (s, e) = (s as usize, e as usize);
            assert!(
                chain == chain_of(&self.a, &self.b, &self.c, ob, tail, s, e),
                "dualtape: internal error: a malformed chain"
            );
            if let Some(af) = affine {
                for k in s..e {
                    let (ia, ib, ic) = af.at3(s, k);
                    assert!(
                        (ia, ib) == (self.a[k] as usize, self.b[k] as usize)
                            && (ic == self.c[k] as usize || (chain && k == s)),
                        "dualtape: internal error: a batch's operands are not in progression"
                    );
                }
            }
        }
        for r in &self.runs {
            assert!(
                r.sink
                    == sink_of(
                        r.kind,
                        &self.a,
                        &self.b,
                        r.ob(),
                        r.start as usize,
                        r.end as usize
                    ),
                "dualtape: internal error: a malformed sink"
            );
            assert!(
                r.csink == csink_of(r, &self.a, &self.b, &self.c),
                "dualtape: internal error: a malformed sink"
            );
        }
        for bt in &self.batches {
            if bt.op == Op::MulAddTail {
                // (`mul_add_tail` finds the Mul at position `a[k] - base()`:
                // no slot is reused in such a program)
                assert!(
                    self.batches.iter().all(|b| b.ob() == base),
                    "dualtape: internal error: MulAddTail with reused slots"
                );
                for k in bt.start as usize..bt.end as usize {
                    assert!(
                        (base..base + k).contains(&(self.a[k] as usize)),
                        "dualtape: internal error: MulAddTail without its Mul"
                    );
                }
            }
            if let Some(tail) = bt.tail {
                assert!(
                    fusable(bt.op, bt.shape, tail),
                    "dualtape: internal error: a fused pair without its loops"
                );
            }
            assert!(
                bt.pair == pair_of(bt.op, bt.shape, bt.tail),
                "dualtape: internal error: a batch's pair index is wrong"
            );
        }
        for r in &self.runs {
            let pair = match r.kind {
                Sweep::Fused(op, shape, tail) => pair_of(op, shape, Some(tail)),
                _ => NO_PAIR,
            };
            assert!(
                r.pair == pair && (pair != NO_PAIR || !matches!(r.kind, Sweep::Fused(..))),
                "dualtape: internal error: a run's pair index is wrong"
            );
        }
    }
}

/// Whether fused instructions `s..e` (executable positions; `tail` their
/// consumer, instruction `k` writing slot `ob + k`) form a *chain*, as a
/// running sum does: the consumer's other operand is a slot (`tail.other`,
/// not [`Side::Same`]), and from the second instruction on it is the
/// previous instruction's value (`c[k] == ob + k - 1`), while the
/// producer's operands `a`, `b` and the first `c` are none of the span's
/// own slots. Then the
/// forward pass keeps the previous value in a register, and the sweep the
/// contribution to the previous adjoint ([`fused_run`]): nothing else in
/// the span reads or adds into the span's own slots.
pub(crate) fn chain_of(
    a: &[u32],
    b: &[u32],
    c: &[u32],
    ob: usize,
    tail: Option<Tail>,
    s: usize,
    e: usize,
) -> bool {
    let Some(tail) = tail else { return false };
    let own = |x: u32| (s..e).contains(&(x as usize).wrapping_sub(ob));
    tail.other
        && tail.side != Side::Same
        && e >= s + 2
        && e <= c.len()
        && (s + 1..e).all(|k| c[k] as usize == ob.wrapping_add(k - 1))
        && !own(c[s])
        && (s..e).all(|k| !own(a[k]) && !own(b[k]))
}

/// The slot of a run of [`Sweep::Rule`] instructions `s..e` (executable
/// positions; instruction `k`'s own slot `ob + k`, wrapping) that every instruction
/// adds into through the same operand, if there is one: the *sink*. Then
/// the sweep keeps that slot's running adjoint in a register across the
/// run ([`rule_run`]), which takes a store and a reload off the critical
/// path of its sum (nalgebra's products `h·w` and bias additions `z + b`
/// over the data points, all into one weight's, one bias's, adjoint).
///
/// The slot must not be one of the span's own slots (no instruction of
/// the span reads or clears it as its adjoint), and no instruction of the
/// span may add into it through its other operand; then the run's contributions to it are the only
/// accesses to it during the run, and adding them in a register, in the
/// sweep's order, forms the same sums as adding them in memory.
pub(crate) fn sink_of(
    kind: Sweep,
    a: &[u32],
    b: &[u32],
    ob: usize,
    s: usize,
    e: usize,
) -> Option<Sink> {
    let Sweep::Rule(_, shape) = kind else {
        return None;
    };
    if e < s + 2 || e > a.len() {
        return None;
    }
    let own = |x: u32| (s..e).contains(&(x as usize).wrapping_sub(ob));
    let same = |v: &[u32]| (s..e).all(|k| v[k] == v[s]) && !own(v[s]);
    match shape {
        Shape::Unary | Shape::Same | Shape::SlotConst => same(a).then_some(Sink {
            b: false,
            slot: a[s],
        }),
        Shape::ConstSlot => same(b).then_some(Sink {
            b: true,
            slot: b[s],
        }),
        Shape::Both => {
            if same(a) && (s..e).all(|k| b[k] != a[s]) {
                Some(Sink {
                    b: false,
                    slot: a[s],
                })
            } else if same(b) && (s..e).all(|k| a[k] != b[s]) {
                Some(Sink {
                    b: true,
                    slot: b[s],
                })
            } else {
                None
            }
        }
        Shape::Consts => None,
    }
}

/// Whether the sweep of an instruction of operation `op`, shape `shape`
/// and consumer `tail` (fused) reads the values of its operands: `(a and
/// b, c)`. Only where a partial depends on them: the operations with
/// stored partials read none, and `+`, `-` and negation have constant
/// partials ([`rule_run`], [`fused_run`] may load such a value, but no
/// result depends on it); a product's partials are its operands, and a
/// fused product's consumer needs the producer's value, recomputed from
/// `a` and `b`.
fn sweep_reads(op: Op, shape: Shape, tail: Option<Tail>) -> (bool, bool) {
    match tail {
        Some(t) => (
            op == Op::Mul || t.op == Op::Mul,
            t.op == Op::Mul && t.side != Side::Same,
        ),
        None => match shape.sweep(op) {
            Sweep::Rule(op, _) => (op == Op::Mul, false),
            _ => (false, false),
        },
    }
}

/// Gives each batch its slots (`Batch::out`) and renames the slots in `abc`,
/// `outputs` and `guards` from positional (instruction `k` in slot `base +
/// k`) to those; returns the number of slots.
///
/// A batch takes over the slots of an earlier batch of the same length
/// once every instruction reading that batch's values has run (the most
/// recently freed first, so they are still in cache) and none of its values
/// is read after the forward pass: by the sweep ([`sweep_reads`]), as an
/// output or by a guard. So the single-use intermediates of a long program
/// (three of Rosenbrock's four instructions per term) live in a few blocks
/// of slots that stay in cache instead of one slot each in memory. The
/// adjoints share the slots: a slot's adjoint is nonzero in the sweep only
/// between its last reader and its writer, the value's lifetime swept
/// backwards, and the sweep leaves every adjoint it reads zero, so each
/// block's adjoints are zero again when the block's earlier owner's
/// readers start adding into them. An instruction never writes a slot it
/// reads (the reader batch's slots are taken before its operands' blocks
/// are freed). Programs with `MulAddTail` keep positional slots
/// ([`Exec::mul_add_tail`] finds the `Mul` by its position).
fn assign_slots(
    base: usize,
    batches: &mut [Batch],
    abc: [&mut Vec<u32>; 3],
    outputs: &mut [u32],
    guards: &mut [XGuard],
) -> usize {
    let len = abc[0].len();
    if !REUSE || batches.iter().any(|bt| bt.op == Op::MulAddTail) {
        for bt in batches.iter_mut() {
            bt.out = (base + bt.start as usize) as u32;
        }
        return base + len;
    }
    let nb = batches.len();
    let mut batch_of = vec![0u32; len];
    for (t, bt) in batches.iter().enumerate() {
        batch_of[bt.start as usize..bt.end as usize].fill(t as u32);
    }
    // until[q]: the last batch reading a value of batch q; kept[q]: a value
    // of batch q is read after the forward pass
    let mut until: Vec<u32> = (0..nb as u32).collect();
    let mut kept = vec![false; nb];
    let [a, b, c] = abc;
    for (t, bt) in batches.iter().enumerate() {
        let (ab, cr) = sweep_reads(bt.op, bt.shape, bt.tail);
        for k in bt.start as usize..bt.end as usize {
            for (x, swept) in [(a[k], ab), (b[k], ab), (c[k], cr)] {
                if x as usize >= base {
                    let q = batch_of[x as usize - base] as usize;
                    until[q] = until[q].max(t as u32);
                    kept[q] |= swept;
                }
            }
        }
    }
    let fixed = outputs
        .iter()
        .chain(guards.iter().flat_map(|g| [&g.a, &g.b]));
    for &x in fixed {
        if x as usize >= base {
            kept[batch_of[x as usize - base] as usize] = true;
        }
    }
    // the batches freed after each batch, in order
    let mut frees: Vec<(u32, u32)> = (0..nb as u32)
        .filter(|&q| !kept[q as usize])
        .map(|q| (until[q as usize], q))
        .collect();
    frees.sort_unstable();
    let mut free = FxHashMap::<u32, Vec<u32>>::default();
    let mut top = base;
    let mut next = 0;
    for t in 0..nb {
        let size = batches[t].end - batches[t].start;
        batches[t].out = match free.get_mut(&size).and_then(|v| v.pop()) {
            Some(o) => o,
            None => {
                top += size as usize;
                (top - size as usize) as u32
            }
        };
        while next < frees.len() && frees[next].0 as usize == t {
            let q = &batches[frees[next].1 as usize];
            free.entry(q.end - q.start).or_default().push(q.out);
            next += 1;
        }
    }
    let rename = |x: &mut u32| {
        if *x as usize >= base {
            let e = *x as usize - base;
            *x = batches[batch_of[e] as usize].ob().wrapping_add(e) as u32;
        }
    };
    for x in a
        .iter_mut()
        .chain(b.iter_mut())
        .chain(c.iter_mut())
        .chain(outputs.iter_mut())
    {
        rename(x);
    }
    for g in guards {
        rename(&mut g.a);
        rename(&mut g.b);
    }
    top
}

/// For each input, the run of its first reader (exec order), in ranges of
/// consecutive inputs: `(run, lo, hi)` in the sweep's order, runs backwards,
/// then (`run == u32::MAX`) the inputs no instruction reads. Every
/// contribution to an input's adjoint comes from an instruction reading it,
/// so once its first reader's run is swept the adjoint is final, and the
/// sweep copies it out and clears it while it is still in cache (instead of
/// one pass over all inputs' adjoints at the end, which at n = 10⁶ reads
/// them back from memory).
///
/// Below [`FINALS_MIN`] inputs, all are copied at the end (their adjoints
/// stay in cache anyway), which costs the sweep one comparison per run.
/// A [`direct`](Exec::direct) program's sweep copies nothing (the adjoints
/// are added where the caller wants them, [`lasts`]), so from
/// [`DIRECT_MIN`] on this serves only programs with `MulAddTail`.
fn finals(n: usize, runs: &[Run], abc: [&[u32]; 3]) -> Vec<(u32, u32, u32)> {
    if n < FINALS_MIN {
        return (n > 0)
            .then_some((u32::MAX, 0, n as u32))
            .into_iter()
            .collect();
    }
    let spans = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (i as u32, r.start, r.end));
    let mut f = ranges(&first_readers(n, spans, abc, u32::MAX));
    f.sort_by_key(|&(r, lo, _)| (r == u32::MAX, Reverse(r), lo));
    f
}

/// For each input, the first of `spans` (`(index, start, end)`, in the
/// order given) whose instructions read it, as that span's index (`never`
/// for none). What [`finals`], [`firsts`] and [`lasts`] group into
/// [`ranges`] and order their own way.
fn first_readers(
    n: usize,
    spans: impl Iterator<Item = (u32, u32, u32)>,
    abc: [&[u32]; 3],
    never: u32,
) -> Vec<u32> {
    let mut first = vec![never; n];
    for (i, start, end) in spans {
        for k in start as usize..end as usize {
            for x in abc.map(|v| v[k] as usize) {
                if x < n && first[x] == never {
                    first[x] = i;
                }
            }
        }
    }
    first
}

/// `of[i]` for each input `i` as ranges of consecutive inputs with the same
/// entry: `(of[i], lo, hi)`, by input.
fn ranges(of: &[u32]) -> Vec<(u32, u32, u32)> {
    let mut f: Vec<(u32, u32, u32)> = Vec::new();
    for (i, &r) in of.iter().enumerate() {
        match f.last_mut() {
            Some((q, _, hi)) if *q == r => *hi = i as u32 + 1,
            _ => f.push((r, i as u32, i as u32 + 1)),
        }
    }
    f
}

/// The fewest inputs for which the sweep copies adjoints out run by run
/// ([`finals`]): 128 KiB of `f64` adjoints, well inside L2.
const FINALS_MIN: usize = 1 << 14;

/// For each input, the batch of its first reader, in ranges of consecutive
/// inputs: `(batch, lo, hi)` in the forward order, then (`batch ==
/// batches.len()`) the inputs no instruction reads. The forward pass copies
/// each range into the inputs' slots just before its batch, so that the
/// batch finds them in cache (one pass over all inputs up front would, at
/// n = 10⁶, evict them before the first batch reads them); those no
/// instruction reads last, so that all inputs are in place for the outputs,
/// the comparisons and the sweep.
///
/// Below [`FIRSTS_MIN`] inputs, all are copied before the first batch (one
/// copy, as cheap as a `memcpy` can be).
fn firsts(n: usize, batches: &[Batch], abc: [&[u32]; 3]) -> Vec<(u32, u32, u32)> {
    if n == 0 {
        return Vec::new();
    }
    if n < FIRSTS_MIN {
        return vec![(0, 0, n as u32)];
    }
    let spans = batches
        .iter()
        .enumerate()
        .map(|(i, b)| (i as u32, b.start, b.end));
    let mut f = ranges(&first_readers(n, spans, abc, batches.len() as u32));
    f.sort_by_key(|&(b, lo, _)| (b, lo));
    f
}

/// For a program replayed with its inputs outside the workspace
/// ([`Exec::direct`]): for each input, the run whose sweep adds into its
/// adjoint first, in ranges of consecutive inputs, as `(run, lo, hi)` in
/// the sweep's order: first (`run == runs.len()`) the inputs that are
/// outputs (a seed adds into them before any run), then the last run (in
/// executable order) reading each input, runs backwards, then (`run ==
/// u32::MAX`) the inputs no instruction reads. The sweep clears each range
/// of the caller's output just before that run ([`Exec::sweep`]), so that
/// its first contribution is added to `+0`, as in the workspace, while the
/// range is in cache (clearing all of it up front would, at n = 10⁶, evict
/// it before the sweep adds into it); those no instruction reads last.
fn lasts(n: usize, runs: &[Run], abc: [&[u32]; 3], outputs: &[u32]) -> Vec<(u32, u32, u32)> {
    let spans = runs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, r)| (i as u32, r.start, r.end));
    let mut last = first_readers(n, spans, abc, u32::MAX);
    for &o in outputs {
        if (o as usize) < n {
            last[o as usize] = runs.len() as u32;
        }
    }
    // blocks of `LASTS_BLOCK` inputs are cleared at once, before the first
    // run swept that adds into any of them (the largest run, `u32::MAX`
    // least): inputs read by different runs in turn (Rosenbrock's `a` by
    // two, `b` by one) would otherwise make ranges of one input each, a
    // table as large as the inputs
    for block in last.chunks_mut(LASTS_BLOCK) {
        let r = block
            .iter()
            .copied()
            .filter(|&r| r != u32::MAX)
            .max()
            .unwrap_or(u32::MAX);
        block.fill(r);
    }
    let mut f = ranges(&last);
    f.sort_by_key(|&(r, lo, _)| (r == u32::MAX, Reverse(r), lo));
    f
}

/// The inputs [`lasts`] clears at once (512 bytes of `f64`).
const LASTS_BLOCK: usize = 64;

/// Which operands of instruction `k` are inputs (slots below `n`): bit 0
/// `a`, bit 1 `b`, bit 2 `c` ([`Batch::inp`]).
fn inputs_of(n: usize, [a, b, c]: [&[u32]; 3], k: usize) -> u8 {
    let is = |v: &[u32]| ((v[k] as usize) < n) as u8;
    is(a) | is(b) << 1 | is(c) << 2
}

/// The fewest inputs for which the forward pass copies them in batch by
/// batch ([`firsts`]), as [`FINALS_MIN`] (small under Miri, so that its
/// tests reach that path).
const FIRSTS_MIN: usize = if cfg!(miri) { 64 } else { 1 << 14 };

/// The fewest inputs for which the replay keeps the inputs outside the
/// workspace ([`Exec::direct`]), as [`FIRSTS_MIN`] (small under Miri, so
/// that its tests reach that path). Below it, the inputs' values and
/// adjoints live in the workspace (one copy in, one copy out, in cache),
/// which keeps the loops' one base address per pass that the small
/// programs' instruction counts depend on.
const DIRECT_MIN: usize = if cfg!(miri) { 64 } else { 1 << 14 };

/// Whether [`Exec::compile`] lets batches reuse slots ([`assign_slots`]).
const REUSE: bool = true;

/// For a fused run `r` that is not a chain and whose consumer adds into
/// its other operand `c`: the least period `p` (1 to 3) with which `c`
/// repeats (`c[k] == c[k - p]`: a bias, or a few biases in turn, shared by
/// all data points), if its `p` slots are distinct, none is one of the
/// run's own slots and no instruction adds into one through `a` or `b`;
/// else 0. Then the sweep keeps those `p` adjoints in registers across the
/// run ([`fused_run`]), as for [`sink_of`].
pub(crate) fn csink_of(r: &Run, a: &[u32], b: &[u32], c: &[u32]) -> u8 {
    let Some(tail) = r.tail() else { return 0 };
    let (s, e, ob) = (r.start as usize, r.end as usize, r.ob());
    if r.chain || !tail.other || tail.side == Side::Same || e > c.len() {
        return 0;
    }
    let own = |x: u32| (s..e).contains(&(x as usize).wrapping_sub(ob));
    for p in 1..=3usize {
        if e - s < 2 * p {
            break;
        }
        let slots = &c[s..s + p];
        if (s + p..e).all(|k| c[k] == c[k - p])
            && (0..p).all(|j| !own(slots[j]) && !slots[..j].contains(&slots[j]))
            && (s..e).all(|k| !slots.contains(&a[k]) && !slots.contains(&b[k]))
        {
            return p as u8;
        }
    }
    0
}

/// The slots that instruction `k` of shape `shape` adds into (`a`, then
/// `b`), as program slots.
fn targets(shape: Shape, (a, b): (Operand, Operand)) -> [Option<u32>; 2] {
    match shape {
        Shape::Unary | Shape::Same | Shape::SlotConst => [a.ok(), None],
        Shape::ConstSlot => [b.ok(), None],
        Shape::Both => [a.ok(), b.ok()],
        Shape::Consts => [None, None],
    }
}

/// The fused pairs (see [`Exec::compile`]): for each instruction `C` that
/// absorbs its producer `P`, `Some((P, tail))`. Greedy in program order;
/// an instruction is in one pair at most.
fn fuse(
    n: usize,
    p: &Program,
    args: &[(Operand, Operand)],
    shapes: &[Shape],
    outs: &[Operand],
    guards: &[(Operand, Operand)],
) -> Vec<Option<(u32, Tail)>> {
    let len = args.len();
    let mut pre: Vec<Option<(u32, Tail)>> = vec![None; len];
    if !FUSE {
        return pre;
    }
    // users of each instruction's slot; pinned: read by an output, a guard
    // or a MulAddTail (which reads its Mul's operands: that Mul stays as it
    // is, `whole`)
    let mut users = vec![0u32; len];
    let mut pinned = vec![false; len];
    let mut whole = vec![false; len];
    let pin = |o: Operand, pinned: &mut Vec<bool>| {
        if let Ok(s) = o {
            if s as usize >= n {
                pinned[s as usize - n] = true;
            }
        }
    };
    for &o in outs {
        pin(o, &mut pinned);
    }
    for &(a, b) in guards {
        pin(a, &mut pinned);
        pin(b, &mut pinned);
    }
    for (k, &(a, b)) in args.iter().enumerate() {
        if let (Op::MulAddTail, Ok(m)) = (p.instrs[k].op, a) {
            pinned[m as usize - n] = true;
            whole[m as usize - n] = true;
        }
        for s in [a.ok(), if a == b { None } else { b.ok() }]
            .into_iter()
            .flatten()
        {
            if s as usize >= n {
                users[s as usize - n] += 1;
            }
        }
    }
    let mut taken = vec![false; len];
    let mut last_add = vec![u32::MAX; n + len];
    for k in 0..len {
        let (op, shape) = (p.instrs[k].op, shapes[k]);
        if rederives(op) && op.is_binary() && shape != Shape::Consts && !whole[k] {
            let (ra, rb) = args[k];
            for cand in [ra, rb] {
                let Ok(slot) = cand else { continue };
                if (slot as usize) < n {
                    continue;
                }
                let q = slot as usize - n;
                let (qop, qshape) = (p.instrs[q].op, shapes[q]);
                if taken[q] || users[q] != 1 || pinned[q] || !rederives(qop) {
                    continue;
                }
                // nothing between q and k adds into q's targets
                if targets(qshape, args[q])
                    .into_iter()
                    .flatten()
                    .any(|t| last_add[t as usize] != q as u32)
                {
                    continue;
                }
                let (side, other) = match shape {
                    Shape::Same => (Side::Same, false),
                    _ if ra == cand => (Side::Left, rb.is_ok()),
                    _ => (Side::Right, ra.is_ok()),
                };
                let tail = Tail { op, side, other };
                if !fusable(qop, qshape, tail) {
                    continue;
                }
                pre[k] = Some((q as u32, tail));
                taken[q] = true;
                taken[k] = true;
                break;
            }
        }
        for t in targets(shape, args[k]).into_iter().flatten() {
            last_add[t as usize] = k as u32;
        }
    }
    pre
}

/// Whether [`Exec::compile`] fuses pairs of instructions.
const FUSE: bool = true;

/// The executable order: a topological order of the instructions that keeps
/// the adjoint contributions into every slot in program order, grouping
/// instructions of one class (operation and shape) into batches. Greedy:
/// take the earliest ready instruction, then as many ready instructions of
/// its class as there are (up to [`BATCH`]), earliest first, where
/// "earliest" is the depth-first rank ([`depth_first`]), not the program
/// index. Where the program already works depth first (a loop over data
/// points, Rosenbrock's terms) the two give the same schedule. Where it
/// computes one step for all data points before the next step (a matrix
/// library's products), ranking by program index made batches that add
/// into one slot (one weight) hundreds of times in a row, so the sweep
/// waited on one chain of dependent loads and stores (the notebook net
/// through nalgebra: 60 % of a replay in the sweep against 42 % for the
/// same net in loops); ranked depth first, a batch covers a slice of the
/// points and its consecutive instructions add into different weights.
///
/// A fused pair (`pre`) is one node in its consumer's place: it reads the
/// producer's operands and the consumer's other operand, and adds into the
/// consumer's other operand, then into the producer's targets; the
/// producer is left out.
fn schedule(
    n: usize,
    p: &Program,
    args: &[(Operand, Operand)],
    shapes: &[Shape],
    pre: &[Option<(u32, Tail)>],
) -> Vec<u32> {
    let len = args.len();
    let mut absorbed = vec![false; len];
    for &(q, _) in pre.iter().flatten() {
        absorbed[q as usize] = true;
    }
    // predecessors: producers of slot operands, and the previous instruction
    // adding into the same adjoint
    let mut last_user = vec![u32::MAX; n + len];
    let mut preds: Vec<[u32; 8]> = Vec::with_capacity(len);
    let mut npred = vec![0u8; len];
    for (k, &(a, b)) in args.iter().enumerate() {
        let mut ps = [u32::MAX; 8];
        let mut np = 0usize;
        if !absorbed[k] {
            // (a fused pair may add into one slot twice: no edge to itself)
            let add = |q: u32, ps: &mut [u32; 8], np: &mut usize| {
                if q != u32::MAX && q != k as u32 && !ps[..*np].contains(&q) {
                    ps[*np] = q;
                    *np += 1;
                }
            };
            // (slots read, slots added into, in the sweep's order)
            let (reads, adds): ([Option<u32>; 3], [Option<u32>; 3]) = match pre[k] {
                Some((q, tail)) => {
                    let (qa, qb) = args[q as usize];
                    let other = match tail.side {
                        Side::Left => b,
                        Side::Right => a,
                        Side::Same => Err(0),
                    };
                    let [t1, t2] = targets(shapes[q as usize], (qa, qb));
                    (
                        [qa.ok(), qb.ok(), other.ok()],
                        [if tail.other { other.ok() } else { None }, t1, t2],
                    )
                }
                None => {
                    let [t1, t2] = targets(shapes[k], (a, b));
                    ([a.ok(), b.ok(), None], [t1, t2, None])
                }
            };
            for s in reads.into_iter().flatten() {
                if s as usize >= n {
                    add(s - n as u32, &mut ps, &mut np);
                }
            }
            for s in adds.into_iter().flatten() {
                add(last_user[s as usize], &mut ps, &mut np);
                last_user[s as usize] = k as u32;
            }
        }
        // earliest first: the order the depth-first ranking visits them in
        ps[..np].sort_unstable();
        preds.push(ps);
        npred[k] = np as u8;
    }
    // successors (CSR)
    let mut start = vec![0u32; len + 1];
    for (k, ps) in preds.iter().enumerate() {
        for &q in &ps[..npred[k] as usize] {
            start[q as usize + 1] += 1;
        }
    }
    for k in 0..len {
        start[k + 1] += start[k];
    }
    let mut fill = start.clone();
    let mut succ = vec![0u32; start[len] as usize];
    for (k, ps) in preds.iter().enumerate() {
        for &q in &ps[..npred[k] as usize] {
            succ[fill[q as usize] as usize] = k as u32;
            fill[q as usize] += 1;
        }
    }
    let rank = depth_first(&preds, &npred, &start, &absorbed);
    // classes
    let mut class_of = FxHashMap::<(Op, Shape, Option<Tail>), u32>::default();
    let class: Vec<u32> = (0..len)
        .map(|k| {
            let key = match pre[k] {
                Some((q, tail)) => (p.instrs[q as usize].op, shapes[q as usize], Some(tail)),
                None => (p.instrs[k].op, shapes[k], None),
            };
            let next = class_of.len() as u32;
            *class_of.entry(key).or_insert(next)
        })
        .collect();
    // (rank, instruction): a ready instruction of a class with the least rank
    // comes first
    let key = |k: usize| Reverse((rank[k], k as u32));
    let mut ready: Vec<BinaryHeap<Reverse<(u32, u32)>>> = vec![BinaryHeap::new(); class_of.len()];
    let mut indeg = npred;
    for k in 0..len {
        if indeg[k] == 0 && !absorbed[k] {
            ready[class[k] as usize].push(key(k));
        }
    }
    // The instructions by rank. The ranking is a topological order of all
    // the edges, so the first instruction not yet scheduled in it is ready:
    // the earliest ready instruction without a heap.
    let mut by_rank = vec![0u32; len];
    for k in 0..len {
        if !absorbed[k] {
            by_rank[rank[k] as usize] = k as u32;
        }
    }
    let ranked = len - absorbed.iter().filter(|&&x| x).count();
    let mut done = vec![false; len];
    let mut order = Vec::with_capacity(ranked);
    for &k in &by_rank[..ranked] {
        if done[k as usize] {
            continue;
        }
        let c = class[k as usize] as usize;
        let mut taken = 0;
        while taken < BATCH {
            let Some(Reverse((_, j))) = ready[c].pop() else {
                break;
            };
            done[j as usize] = true;
            order.push(j);
            taken += 1;
            for &s in &succ[start[j as usize] as usize..start[j as usize + 1] as usize] {
                indeg[s as usize] -= 1;
                if indeg[s as usize] == 0 {
                    ready[class[s as usize] as usize].push(key(s as usize));
                }
            }
        }
    }
    assert!(
        order.len() == len - absorbed.iter().filter(|&&x| x).count(),
        "dualtape: internal error: a program's instructions do not form a DAG"
    );
    order
}

/// A depth-first post-order of the instructions over their predecessors
/// (`preds`), from the instructions nothing depends on (the sinks, in
/// program order): each instruction's rank in it. A topological order in
/// which an instruction comes just after what it needs, so that the
/// computation of one data point, one term of a sum, is finished before the
/// next begins even where the program computes all points' first steps,
/// then all their second steps (as a matrix library does).
fn depth_first(
    preds: &[[u32; 8]],
    npred: &[u8],
    succ_start: &[u32],
    absorbed: &[bool],
) -> Vec<u32> {
    let len = preds.len();
    let mut rank = vec![u32::MAX; len];
    let mut next = 0u32;
    // (instruction, its next predecessor to visit)
    let mut stack: Vec<(u32, u8)> = Vec::new();
    for root in 0..len {
        if absorbed[root] || rank[root] != u32::MAX || succ_start[root] != succ_start[root + 1] {
            continue;
        }
        rank[root] = u32::MAX - 1; // on the stack
        stack.push((root as u32, 0));
        while let Some(top) = stack.last_mut() {
            let k = top.0 as usize;
            if top.1 < npred[k] {
                let q = preds[k][top.1 as usize] as usize;
                top.1 += 1;
                if rank[q] == u32::MAX {
                    rank[q] = u32::MAX - 1;
                    stack.push((q as u32, 0));
                }
            } else {
                rank[k] = next;
                next += 1;
                stack.pop();
            }
        }
    }
    rank
}

/// Reusable storage for replays on values of type `T`: with one kept
/// between calls, [`Program::gradient_into`] and friends allocate nothing.
///
/// Make one with [`Program::workspace`] (or `Workspace::default()`, which
/// grows on first use). A workspace is not tied to one program.
#[derive(Clone, Debug)]
pub struct Workspace<T = f64> {
    pub(crate) vals: Vec<T>,
    pub(crate) da: Vec<T>,
    pub(crate) db: Vec<T>,
    pub(crate) adj: Vec<T>,
    pub(crate) out: Vec<T>,
    /// The [`Exec::id`] of the program whose constants `vals` holds in
    /// their slots (0: none): the forward pass writes them only when
    /// another program used the workspace last. Nothing else writes those
    /// slots (instructions write slots from `base()` on).
    pub(crate) consts_of: u64,
    /// Gradients (HVPs) run by compiled code with this workspace (feature
    /// `jit`).
    pub(crate) jit_runs: u64,
    /// The scratch memory of compiled code's loops (feature `jit`: a
    /// shim's results per repetition, read back by the sweep).
    pub(crate) scratch: Vec<f64>,
}

impl<T> Default for Workspace<T> {
    fn default() -> Self {
        Workspace {
            vals: Vec::new(),
            da: Vec::new(),
            db: Vec::new(),
            adj: Vec::new(),
            out: Vec::new(),
            consts_of: 0,
            jit_runs: 0,
            scratch: Vec::new(),
        }
    }
}

impl<T> Workspace<T> {
    /// How many gradients (for a `Workspace<Dual<f64>>`: HVPs) compiled
    /// code ran with this workspace (feature `jit`; for tests).
    #[doc(hidden)]
    pub fn jit_runs(&self) -> u64 {
        self.jit_runs
    }
}

impl<T: Scalar<Real = f64>> Workspace<T> {
    /// Sizes the buffers for `e` (allocating only when they are too small):
    /// three comparisons inline, the growing out of line.
    #[inline(always)]
    pub(crate) fn fit(&mut self, e: &Exec) {
        let (slots, ops) = (e.slots(), e.len());
        if self.vals.len() < slots || self.adj.len() < slots || self.da.len() < ops {
            self.grow(e);
        }
    }

    /// [`fit`](Self::fit)'s allocation.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, e: &Exec) {
        let (slots, ops) = (e.slots(), e.len());
        if self.vals.len() < slots {
            self.vals.resize(slots, T::zero());
        }
        if self.adj.len() < slots {
            self.adj.resize(slots, T::zero());
        }
        if self.da.len() < ops {
            self.da.resize(ops, T::zero());
            self.db.resize(ops, T::zero());
        }
    }
}

/// [`eval`] out of line: one copy per scalar type for the operations
/// without a loop of their own.
#[inline(never)]
fn eval_outlined<T: Scalar>(op: Op, a: T, b: T) -> rules::Binary<T> {
    eval(op, a, b)
}

/// Where a loop finds its slots: instruction `k` of a batch or run writes
/// (in the sweep: reads and clears) its own slot at `own`, and reads (adds
/// into) its operand slots `a`, `b`, `c` at bases `a`, `b`, `c`. All are
/// the workspace's buffer, except, with [`Exec::direct`], the operands a
/// batch's or run's `inp` marks as inputs, which are at the caller's `x`
/// (values) or output (adjoints). Pointers, not slices: one buffer is read
/// through several of them and written through another.
#[derive(Clone, Copy)]
struct Bases<T> {
    own: *mut T,
    a: *mut T,
    b: *mut T,
    c: *mut T,
}

impl<T> Bases<T> {
    /// Every slot in `mem` (one address: the loops of small programs keep
    /// one register for it).
    #[inline(always)]
    fn all(mem: *mut T) -> Self {
        Bases {
            own: mem,
            a: mem,
            b: mem,
            c: mem,
        }
    }

    /// The operands `inp` marks as inputs ([`Batch::inp`]) at `inputs`, all
    /// other slots in `mem`: chosen once per batch or run, not per slot.
    #[inline(always)]
    fn of(mem: *mut T, inputs: *mut T, inp: u8) -> Self {
        let at = |bit: u8| if inp & bit != 0 { inputs } else { mem };
        Bases {
            own: mem,
            a: at(1),
            b: at(2),
            c: at(4),
        }
    }
}

/// [`Exec::forward_from`]'s ways to the inputs: all copied in on entry,
/// copied in range by range ([`firsts`]), or read where the caller has them
/// ([`Exec::direct`]).
const UPFRONT: u8 = 0;
const EACH: u8 = 1;
const DIRECT: u8 = 2;

impl Exec {
    /// The forward pass: `input(lo, s)` writes the values of the inputs
    /// from `lo` on into `s` (one per entry), called for each range of
    /// [`firsts`] just before the batch that first reads it; on return
    /// every slot holds its value (the inputs' too), and `da`/`db` every
    /// instruction's partials. Then checks the recorded comparisons.
    ///
    /// With `x` (the inputs' values, where the caller has them as `T`) and
    /// a [`direct`](Exec::direct) program, the instructions read the inputs
    /// from `x` instead and `input` is not called: the inputs' slots then
    /// hold their values only where an output is an input, and a following
    /// [`sweep`](Self::sweep) must be given the same `x`. (`evaluate` has
    /// no `x` to give: its [`pullback`](super::Program::pullback) reads the
    /// inputs from the workspace; nor does a replay on dual numbers built
    /// from `f64` inputs.)
    ///
    /// # Panics
    ///
    /// If `x` does not have one entry per input.
    #[inline(never)]
    pub(crate) fn forward<T: Scalar<Real = f64>>(
        &self,
        ws: &mut Workspace<T>,
        kinks: bool,
        mut input: impl FnMut(usize, &mut [T]),
        x: Option<&[T]>,
    ) -> Result<(), ReplayError> {
        if self.firsts.len() <= 1 {
            // one range (below `FIRSTS_MIN`): all inputs up front, and a
            // loop over the batches that checks nothing more
            input(0, &mut ws.vals[..self.n]);
            self.forward_from::<T, UPFRONT>(ws, kinks, input, &[])
        } else {
            match x {
                Some(x) if self.direct => self.forward_from::<T, DIRECT>(ws, kinks, input, x),
                _ => self.forward_from::<T, EACH>(ws, kinks, input, &[]),
            }
        }
    }

    /// [`forward`](Self::forward); by `MODE`, the inputs in place on entry
    /// ([`UPFRONT`]), copied in range by range ([`EACH`], [`firsts`]), or
    /// read from `x` ([`DIRECT`]).
    #[inline(always)]
    fn forward_from<T: Scalar<Real = f64>, const MODE: u8>(
        &self,
        ws: &mut Workspace<T>,
        kinks: bool,
        mut input: impl FnMut(usize, &mut [T]),
        x: &[T],
    ) -> Result<(), ReplayError> {
        if MODE == DIRECT {
            assert!(
                x.len() == self.n,
                "dualtape: internal error: inputs of the wrong length"
            );
        }
        // (read only)
        let xp = x.as_ptr() as *mut T;
        let (base, len) = (self.base(), self.len());
        let vals = &mut ws.vals[..self.slots()];
        let (da, db) = (&mut ws.da[..len], &mut ws.db[..len]);
        // (once per workspace and program: they stay in their slots)
        if ws.consts_of != self.id {
            for (c, v) in self.consts.iter().zip(&mut vals[self.n..base]) {
                *v = T::constant(*c);
            }
            ws.consts_of = self.id;
        }
        // the next inputs to copy in (`firsts`): entry `first`, before batch
        // `next`
        let (mut first, mut next) = match MODE {
            EACH => (0, self.firsts.first().map_or(u32::MAX, |f| f.0)),
            _ => (self.firsts.len(), u32::MAX),
        };
        for (bn, bt) in self.batches.iter().enumerate() {
            if MODE == EACH && bn as u32 == next {
                (first, next) = copy_firsts(&self.firsts, first, vals, &mut input);
            }
            let (s, e) = (bt.start as usize, bt.end as usize);
            // instruction `k` writes slot `ob + k` (see `assign_slots`)
            let ob = bt.ob();
            // (taken per batch: `copy_firsts` and `mul_add_tail` write
            // through the slice in between)
            let vp = vals.as_mut_ptr();
            let v = match MODE {
                DIRECT => Bases::of(vp, xp, bt.inp),
                _ => Bases::all(vp),
            };
            // SAFETY: `validate` checked, once per compiled program, that
            // the batches cover `0..len` (so `s <= e <= len == da.len() ==
            // db.len() == ai.len() == bi.len()`), that every operand slot
            // `a[k]`, `b[k]`, `c[k]` and own slot `ob + k` (wrapping) is below
            // `slots() == vals.len()`, and that an affine batch's slots are
            // those; with `DIRECT` (a `direct` program), that an operand
            // `inp` marks is an input in every instruction, below `n ==
            // x.len()` (asserted above); a `MulAddTail`'s
            // `a[k]` is an instruction slot `base + m` with `m < k`, whose
            // operands are below `base + m` in turn; and that a fused
            // batch's pair is one of `fused_pairs`.
            unsafe {
                let (ai, bi, ci) = (&self.a[..], &self.b[..], &self.c[..]);
                if bt.pair != NO_PAIR {
                    macro_rules! fused {
                        ($(($i:literal, $po:ident, $ps:ident, $co:ident, $side:ident, $other:literal)),* $(,)?) => {
                            match bt.pair {
                                $($i => {
                                    // (a chain only where `chain_of` allows one)
                                    let chain = $other && Side::$side != Side::Same && bt.chain;
                                    macro_rules! with {
                                        ($chain:literal) => {
                                            match bt.affine {
                                                Some(af) => self.fused_values::<T, $chain>(
                                                    s, e, ob, v, rule_of!($po), rule_of!($co),
                                                    Side::$side, |k| af.at3(s, k),
                                                ),
                                                None => self.fused_values::<T, $chain>(
                                                    s, e, ob, v, rule_of!($po), rule_of!($co),
                                                    Side::$side, |k| (
                                                        *ai.get_unchecked(k) as usize,
                                                        *bi.get_unchecked(k) as usize,
                                                        *ci.get_unchecked(k) as usize,
                                                    ),
                                                ),
                                            }
                                        };
                                    }
                                    if chain { with!(true) } else { with!(false) }
                                })*
                                _ => unreachable!("dualtape: internal error: no loop for a fused pair"),
                            }
                        };
                    }
                    fused_pairs!(fused);
                    continue;
                }
                macro_rules! go {
                    ($f:expr) => {
                        match bt.affine {
                            Some(af) => {
                                self.batch(bt.shape, s, e, ob, v, da, db, $f, |k| af.at(s, k))
                            }
                            None => self.batch(bt.shape, s, e, ob, v, da, db, $f, |k| {
                                (*ai.get_unchecked(k) as usize, *bi.get_unchecked(k) as usize)
                            }),
                        }
                    };
                }
                // the operations of `rederives`: the value only
                macro_rules! value {
                    ($f:expr) => {
                        match bt.affine {
                            Some(af) => self.values(s, e, ob, v, $f, |k| af.at(s, k)),
                            None => self.values(s, e, ob, v, $f, |k| {
                                (*ai.get_unchecked(k) as usize, *bi.get_unchecked(k) as usize)
                            }),
                        }
                    };
                }
                match bt.op {
                    Op::Add => value!(rules::add),
                    Op::Sub => value!(rules::sub),
                    Op::Mul => value!(rules::mul),
                    Op::Neg => value!(|x, y| eval(Op::Neg, x, y)),
                    Op::Div => go!(rules::div),
                    // the activations of neural networks, inline
                    Op::Sigmoid => go!(|x, y| eval(Op::Sigmoid, x, y)),
                    Op::Softplus => go!(|x, y| eval(Op::Softplus, x, y)),
                    Op::MulAddTail => self.mul_add_tail(bt.shape, s, e, vals, da, db),
                    op => go!(|x, y| eval_outlined(op, x, y)),
                }
            }
        }
        // those no instruction reads; with `DIRECT`, the outputs that are
        // inputs (for `output`)
        for &(_, lo, hi) in self.firsts.get(first..).unwrap_or_default() {
            input(lo as usize, &mut vals[lo as usize..hi as usize]);
        }
        if MODE == DIRECT {
            for &o in &self.outputs {
                if (o as usize) < self.n {
                    vals[o as usize] = x[o as usize];
                }
            }
        }
        let value = |s: u32| match MODE {
            DIRECT if (s as usize) < self.n => x[s as usize].value(),
            _ => vals[s as usize].value(),
        };
        for (index, g) in self.guards.iter().enumerate() {
            if !kinks && g.test.is_kink() {
                continue;
            }
            let (a, b) = (value(g.a), value(g.b));
            let now = g.test.outcome(a, b);
            if now != g.outcome {
                return Err(ReplayError::ComparisonChanged {
                    index,
                    test: g.test,
                    a,
                    b,
                    recorded: g.outcome,
                    now,
                });
            }
        }
        Ok(())
    }

    /// Evaluates instructions `s..e`, all of shape `shape`, by `f` (a rule):
    /// the value into the instruction's slot, the partials the sweep needs
    /// into `da` (and `db`).
    ///
    /// # Safety
    ///
    /// `s <= e <= da.len(), db.len()`, and for every `k` in `s..e` the
    /// operand slots `ix(k)` in bounds of what `v.a`, `v.b` point into,
    /// and the own slot `base + k` (wrapping) of what `v.own` points into,
    /// which no other pointer or reference writes meanwhile.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn batch<T: Scalar<Real = f64>>(
        &self,
        shape: Shape,
        s: usize,
        e: usize,
        base: usize,
        v: Bases<T>,
        da: &mut [T],
        db: &mut [T],
        f: impl Fn(T, T) -> rules::Binary<T>,
        ix: impl Fn(usize) -> (usize, usize),
    ) {
        // SAFETY (every access below): the caller's contract.
        match shape {
            Shape::Unary => {
                for k in s..e {
                    let x = *v.a.add(ix(k).0);
                    let (y, pa, _) = f(x, x);
                    *v.own.add(base.wrapping_add(k)) = y;
                    *da.get_unchecked_mut(k) = pa;
                }
            }
            Shape::Same => {
                for k in s..e {
                    let x = *v.a.add(ix(k).0);
                    let (y, pa, pb) = f(x, x);
                    *v.own.add(base.wrapping_add(k)) = y;
                    *da.get_unchecked_mut(k) = pa + pb;
                }
            }
            Shape::SlotConst => {
                for k in s..e {
                    let (ia, ib) = ix(k);
                    let (x, y) = (*v.a.add(ia), *v.b.add(ib));
                    let (z, pa, _) = f(x, y);
                    *v.own.add(base.wrapping_add(k)) = z;
                    *da.get_unchecked_mut(k) = pa;
                }
            }
            Shape::ConstSlot => {
                for k in s..e {
                    let (ia, ib) = ix(k);
                    let (x, y) = (*v.a.add(ia), *v.b.add(ib));
                    let (z, _, pb) = f(x, y);
                    *v.own.add(base.wrapping_add(k)) = z;
                    *da.get_unchecked_mut(k) = pb;
                }
            }
            Shape::Both => {
                for k in s..e {
                    let (ia, ib) = ix(k);
                    let (x, y) = (*v.a.add(ia), *v.b.add(ib));
                    let (z, pa, pb) = f(x, y);
                    *v.own.add(base.wrapping_add(k)) = z;
                    *da.get_unchecked_mut(k) = pa;
                    *db.get_unchecked_mut(k) = pb;
                }
            }
            // operands both constant: no partial is read, as in `values`
            Shape::Consts => self.values(s, e, base, v, f, ix),
        }
    }

    /// Evaluates instructions `s..e` by `f` (a rule), keeping only the
    /// value: the operations of [`rederives`], and any operation whose
    /// operands are both constants (no partial of it is read).
    ///
    /// # Safety
    ///
    /// As [`batch`](Self::batch).
    #[inline(always)]
    unsafe fn values<T: Scalar<Real = f64>>(
        &self,
        s: usize,
        e: usize,
        base: usize,
        v: Bases<T>,
        f: impl Fn(T, T) -> rules::Binary<T>,
        ix: impl Fn(usize) -> (usize, usize),
    ) {
        for k in s..e {
            let (ia, ib) = ix(k);
            // SAFETY: the caller's contract.
            let (x, y) = (*v.a.add(ia), *v.b.add(ib));
            *v.own.add(base.wrapping_add(k)) = f(x, y).0;
        }
    }

    /// Evaluates fused instructions `s..e`: the producer's rule `fp` on
    /// slots `a`, `b`, then the consumer's `fc` on its value and slot `c`
    /// (on its value twice for [`Side::Same`]); stores the consumer's value.
    ///
    /// `CHAIN`: the instructions form a chain ([`chain_of`]), so slot `c`
    /// of each but the first holds the previous instruction's value, which
    /// is taken from a register instead of memory (the same value: a
    /// store and reload less on the running sum's critical path). The
    /// first reads `self.c[s]` (`ix(s).2` may be the progression's slot).
    ///
    /// # Safety
    ///
    /// As [`batch`](Self::batch), for the three slots `ix(k)` and `self.c[s]`;
    /// with `CHAIN`, `s < e` and the span is a chain.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn fused_values<T: Scalar<Real = f64>, const CHAIN: bool>(
        &self,
        s: usize,
        e: usize,
        base: usize,
        v: Bases<T>,
        fp: impl Fn(T, T) -> rules::Binary<T>,
        fc: impl Fn(T, T) -> rules::Binary<T>,
        side: Side,
        ix: impl Fn(usize) -> (usize, usize, usize),
    ) {
        // SAFETY (every access): the caller's contract.
        let mut prev = if CHAIN {
            *v.c.add(*self.c.get_unchecked(s) as usize)
        } else {
            T::zero()
        };
        for k in s..e {
            let (ia, ib, ic) = ix(k);
            let p = fp(*v.a.add(ia), *v.b.add(ib)).0;
            let other = |ic: usize| if CHAIN { prev } else { *v.c.add(ic) };
            let w = match side {
                Side::Left => fc(p, other(ic)),
                Side::Right => fc(other(ic), p),
                Side::Same => fc(p, p),
            };
            *v.own.add(base.wrapping_add(k)) = w.0;
            if CHAIN {
                prev = w.0;
            }
        }
    }

    /// A batch of `MulAddTail`: `a.mul_add(b, c)` where `a[k]` is the slot
    /// of the program's `a * b`, with the partials `(1, 1)` as the tape
    /// records them.
    ///
    /// # Safety
    ///
    /// As [`batch`](Self::batch), and every `a[k]` is an instruction's slot
    /// `base() + m` (so `m < k`).
    #[allow(clippy::too_many_arguments)]
    #[cold]
    unsafe fn mul_add_tail<T: Scalar<Real = f64>>(
        &self,
        shape: Shape,
        s: usize,
        e: usize,
        vals: &mut [T],
        da: &mut [T],
        db: &mut [T],
    ) {
        let base = self.base();
        for k in s..e {
            let m = *self.a.get_unchecked(k) as usize - base;
            let x = *vals.get_unchecked(*self.a.get_unchecked(m) as usize);
            let y = *vals.get_unchecked(*self.b.get_unchecked(m) as usize);
            let c = *vals.get_unchecked(*self.b.get_unchecked(k) as usize);
            let (v, _, _, _) = rules::mul_add(x, y, c);
            *vals.get_unchecked_mut(base.wrapping_add(k)) = v;
            match shape {
                Shape::Same => *da.get_unchecked_mut(k) = T::one() + T::one(),
                _ => {
                    *da.get_unchecked_mut(k) = T::one();
                    *db.get_unchecked_mut(k) = T::one();
                }
            }
        }
    }

    /// The value of output `i` after a forward pass.
    #[inline]
    pub(crate) fn output<T: Copy>(&self, ws: &Workspace<T>, i: usize) -> T {
        ws.vals[self.outputs[i] as usize]
    }

    /// The adjoint sweep: seeds `w[j]` on output `j`, sweeps every
    /// instruction in reverse executable order (the tape's loop: a zero
    /// adjoint or a zero partial contributes nothing, rule 3), writes the
    /// inputs' adjoints into `out` and leaves `ws.adj` all zeros.
    ///
    /// The inputs' values are in the workspace, where the forward pass put
    /// them, or with `x` (and a [`direct`](Exec::direct) program) in `x`,
    /// the forward pass's `x`. In a `direct` program the inputs' adjoints
    /// add straight into `out`, each range cleared just before the first
    /// contribution to it ([`lasts`]); else in the workspace, then copied
    /// out.
    ///
    /// # Panics
    ///
    /// If `out` or `x` does not have one entry per input.
    #[inline]
    pub(crate) fn sweep<T: Scalar<Real = f64>>(
        &self,
        ws: &mut Workspace<T>,
        seeds: impl IntoIterator<Item = (usize, T)>,
        out: &mut [T],
        x: Option<&[T]>,
    ) {
        if self.direct {
            self.sweep_in::<T, true>(ws, seeds, out, x)
        } else {
            self.sweep_in::<T, false>(ws, seeds, out, None)
        }
    }

    /// [`sweep`](Self::sweep); `DIRECT`: the program's
    /// [`direct`](Exec::direct).
    #[inline(never)]
    fn sweep_in<T: Scalar<Real = f64>, const DIRECT: bool>(
        &self,
        ws: &mut Workspace<T>,
        seeds: impl IntoIterator<Item = (usize, T)>,
        out: &mut [T],
        x: Option<&[T]>,
    ) {
        let (base, len) = (self.base(), self.len());
        let adj = &mut ws.adj[..self.slots()];
        assert!(
            out.len() == self.n,
            "dualtape: internal error: an adjoint output of the wrong length"
        );
        // with `DIRECT`, the next ranges of `out` to clear (`lasts`): entry
        // `last`, before run `clear` (those that are outputs: before the
        // seeds)
        let mut last = 0;
        let mut clear = self.lasts.first().map_or(u32::MAX, |f| f.0);
        if DIRECT && clear == self.runs.len() as u32 {
            (last, clear) = clear_lasts(&self.lasts, last, out);
        }
        for (j, w) in seeds {
            let s = self.outputs[j] as usize;
            if DIRECT && s < self.n {
                out[s] += w;
            } else if s < self.n || s >= base {
                adj[s] += w;
            }
        }
        let (da, db) = (&ws.da[..len], &ws.db[..len]);
        let vals = &ws.vals[..self.slots()];
        // the inputs' values (read only)
        let xs = match x {
            Some(x) if DIRECT => {
                assert!(
                    x.len() == self.n,
                    "dualtape: internal error: inputs of the wrong length"
                );
                x
            }
            _ => vals,
        };
        let (ai, bi, ci) = (&self.a[..], &self.b[..], &self.c[..]);
        // SAFETY (both, where called below): `k < len`, as below
        let ta = |k: usize| unsafe { *ai.get_unchecked(k) as usize };
        let tb = |k: usize| unsafe { *bi.get_unchecked(k) as usize };
        // the next inputs whose adjoints are final (`finals`, without
        // `DIRECT`): entry `fin`, final after run `next`; `after`: the run
        // swept last, plus one (a counter, not `enumerate`, whose index
        // costs a division per run)
        let mut fin = 0;
        let mut next = self.finals.first().map_or(u32::MAX, |f| f.0);
        let mut after = self.runs.len() as u32 + 1;
        for run in self.runs.iter().rev() {
            after -= 1;
            if DIRECT {
                if after - 1 == clear {
                    // those the run about to be swept adds into first
                    (last, clear) = clear_lasts(&self.lasts, last, out);
                }
            } else if after == next {
                // those final after the run swept last
                (fin, next) = copy_finals(&self.finals, fin, adj, out);
            }
            let (s, e) = (run.start as usize, run.end as usize);
            // instruction `k`'s slot is `base + k` (see `assign_slots`)
            let base = run.ob();
            // where the adjoints of the run's slots are, for the loops with
            // stored partials (taken per run: `copy_finals` and `clear_lasts`
            // write through the slice in between); the fused and re-derived
            // runs take the slices (so that their loops know that the
            // workspace's adjoints alias nothing else) and `inp`
            let inp = if DIRECT { run.inp } else { 0 };
            let am = Bases::of(adj.as_mut_ptr(), out.as_mut_ptr(), inp);
            // SAFETY: `validate` checked that the runs cover `0..len`, so
            // `k < len == da.len() == db.len() == ai.len() == bi.len()`, that
            // `a[k]`, `b[k]`, `c[k]` and `base + k` (wrapping) are below
            // `slots() == adj.len() == vals.len()`, that an affine run's
            // slots are those, and with `DIRECT` (a `direct` program) that
            // an operand `inp` marks is an input in every instruction, below
            // `n == out.len() == xs.len()` (asserted above). `am`'s pointers
            // (the workspace's adjoints or `out`) are written through nothing
            // else while a loop uses them.
            unsafe {
                // one loop per kind: `$t(k)` is the slot that receives
                // `da[k] · g` (A, B) at `$at`, `$ta`/`$tb` those of
                // `da`/`db` (Both)
                macro_rules! one {
                    ($at:expr, $t:expr) => {
                        for k in (s..e).rev() {
                            let i = base.wrapping_add(k);
                            let g = *am.own.add(i);
                            if !g.is_zero() {
                                *am.own.add(i) = T::zero();
                                let p = *da.get_unchecked(k);
                                if !p.is_zero() {
                                    *$at.add($t(k)) += p * g;
                                }
                            }
                        }
                    };
                }
                macro_rules! two {
                    ($ta:expr, $tb:expr) => {
                        for k in (s..e).rev() {
                            let i = base.wrapping_add(k);
                            let g = *am.own.add(i);
                            if !g.is_zero() {
                                *am.own.add(i) = T::zero();
                                let (pa, pb) = (*da.get_unchecked(k), *db.get_unchecked(k));
                                if !pa.is_zero() {
                                    *am.a.add($ta(k)) += pa * g;
                                }
                                if !pb.is_zero() {
                                    *am.b.add($tb(k)) += pb * g;
                                }
                            }
                        }
                    };
                }
                // a fused pair: one jump on its index
                if run.pair != NO_PAIR {
                    macro_rules! fused {
                        ($(($i:literal, $po:ident, $ps:ident, $co:ident, $side:ident, $other:literal)),* $(,)?) => {
                            match run.pair {
                                $($i => {
                                    let pair = Pair {
                                        shape: Shape::$ps,
                                        side: Side::$side,
                                        other: $other,
                                        fixed_p: fixed_of!($po),
                                        fixed_c: fixed_of!($co),
                                    };
                                    // (a chain only where `chain_of` allows one)
                                    let chain = $other && Side::$side != Side::Same && run.chain;
                                    macro_rules! with {
                                        ($chain:literal, $cp:literal) => {{
                                            // (read by a chain only)
                                            let c_first = if $chain {
                                                *ci.get_unchecked(s) as usize
                                            } else {
                                                0
                                            };
                                            match run.affine {
                                                Some(af) => fused_run::<T, $chain, $cp>(
                                                    pair, s, e, base, vals, adj, xs, out, inp,
                                                    rule_of!($po), rule_of!($co),
                                                    |k| af.at3(s, k), c_first,
                                                ),
                                                None => fused_run::<T, $chain, $cp>(
                                                    pair, s, e, base, vals, adj, xs, out, inp,
                                                    rule_of!($po), rule_of!($co),
                                                    |k| (ta(k), tb(k), *ci.get_unchecked(k) as usize),
                                                    c_first,
                                                ),
                                            }
                                        }};
                                    }
                                    match (chain, run.csink) {
                                        (true, _) => with!(true, 0),
                                        (false, 1) => with!(false, 1),
                                        (false, 2) => with!(false, 2),
                                        (false, 3) => with!(false, 3),
                                        _ => with!(false, 0),
                                    }
                                })*
                                _ => unreachable!("dualtape: internal error: no loop for a fused pair"),
                            }
                        };
                    }
                    fused_pairs!(fused);
                    continue;
                }
                match (run.kind, run.affine) {
                    (Sweep::A, Some(af)) => one!(am.a, |k: usize| af.at(s, k).0),
                    (Sweep::A, None) => one!(am.a, ta),
                    (Sweep::B, Some(af)) => one!(am.b, |k: usize| af.at(s, k).1),
                    (Sweep::B, None) => one!(am.b, tb),
                    (Sweep::Both, Some(af)) => {
                        two!(|k: usize| af.at(s, k).0, |k: usize| af.at(s, k).1)
                    }
                    (Sweep::Both, None) => two!(ta, tb),
                    (Sweep::Nothing, _) => {
                        for k in s..e {
                            *am.own.add(base.wrapping_add(k)) = T::zero();
                        }
                    }
                    (Sweep::Rule(op, shape), affine) => {
                        macro_rules! with_sink {
                            ($f:expr, $fixed:expr, $sink:literal, $slot:expr) => {
                                match affine {
                                    Some(af) => rule_run::<T, $sink>(
                                        shape,
                                        s,
                                        e,
                                        base,
                                        vals,
                                        adj,
                                        xs,
                                        out,
                                        inp,
                                        $f,
                                        $fixed,
                                        |k| af.at(s, k),
                                        $slot,
                                    ),
                                    None => rule_run::<T, $sink>(
                                        shape,
                                        s,
                                        e,
                                        base,
                                        vals,
                                        adj,
                                        xs,
                                        out,
                                        inp,
                                        $f,
                                        $fixed,
                                        |k| (ta(k), tb(k)),
                                        $slot,
                                    ),
                                }
                            };
                        }
                        macro_rules! rule {
                            ($f:expr, $fixed:expr) => {
                                match run.sink {
                                    None => with_sink!($f, $fixed, 0, 0),
                                    Some(Sink { b: false, slot }) => {
                                        with_sink!($f, $fixed, 1, slot as usize)
                                    }
                                    Some(Sink { b: true, slot }) => {
                                        with_sink!($f, $fixed, 2, slot as usize)
                                    }
                                }
                            };
                        }
                        match op {
                            Op::Add => rule!(rules::add, true),
                            Op::Sub => rule!(rules::sub, true),
                            Op::Mul => rule!(rules::mul, false),
                            Op::Neg => rule!(|x, y| eval(Op::Neg, x, y), true),
                            _ => unreachable!("dualtape: internal error: {op:?} is not re-derived"),
                        }
                    }
                    (Sweep::Fused(..), _) => {
                        unreachable!("dualtape: internal error: a fused run without its pair index")
                    }
                }
            }
        }
        if DIRECT {
            // those no instruction reads
            for &(_, lo, hi) in &self.lasts[last..] {
                out[lo as usize..hi as usize].fill(T::zero());
            }
        } else {
            // those final after run 0, and those no instruction reads
            for &(_, lo, hi) in &self.finals[fin..] {
                copy_out(adj, out, lo, hi);
            }
        }
    }
}

/// Clears (to `+0`, where the workspace's adjoints start) the ranges of
/// `out` in the entries of `lasts` from `last` on that share its run;
/// returns the next entry and its run (`u32::MAX`: none).
#[inline(never)]
fn clear_lasts<T: Scalar>(
    lasts: &[(u32, u32, u32)],
    mut last: usize,
    out: &mut [T],
) -> (usize, u32) {
    let r = lasts[last].0;
    while let Some(&(q, lo, hi)) = lasts.get(last) {
        if q != r {
            return (last, q);
        }
        out[lo as usize..hi as usize].fill(T::zero());
        last += 1;
    }
    (last, u32::MAX)
}

/// Copies in (by `input`, see [`Exec::forward`]) the entries of `firsts`
/// from `first` on that share its batch; returns the next entry and its
/// batch (`u32::MAX`: none).
#[inline(never)]
fn copy_firsts<T>(
    firsts: &[(u32, u32, u32)],
    mut first: usize,
    vals: &mut [T],
    input: &mut impl FnMut(usize, &mut [T]),
) -> (usize, u32) {
    let b = firsts[first].0;
    while let Some(&(q, lo, hi)) = firsts.get(first) {
        if q != b {
            return (first, q);
        }
        input(lo as usize, &mut vals[lo as usize..hi as usize]);
        first += 1;
    }
    (first, u32::MAX)
}

/// The inputs `x` for [`Exec::forward`]: copies `x[lo..lo + s.len()]`
/// into `s`.
pub(crate) fn inputs<T: Copy>(x: &[T]) -> impl FnMut(usize, &mut [T]) + '_ {
    |lo, s| s.copy_from_slice(&x[lo..lo + s.len()])
}

/// Copies out (as [`copy_out`]) the entries of `finals` from `fin` on that
/// share its run; returns the next entry and its run (`u32::MAX`: none).
#[inline(never)]
fn copy_finals<T: Scalar>(
    finals: &[(u32, u32, u32)],
    mut fin: usize,
    adj: &mut [T],
    out: &mut [T],
) -> (usize, u32) {
    let r = finals[fin].0;
    while let Some(&(q, lo, hi)) = finals.get(fin) {
        if q != r {
            return (fin, q);
        }
        copy_out(adj, out, lo, hi);
        fin += 1;
    }
    (fin, u32::MAX)
}

/// Copies the adjoints of inputs `lo..hi` into `out` and clears them (one
/// pass, not `copy_from_slice` then `fill`).
#[inline(always)]
fn copy_out<T: Scalar>(adj: &mut [T], out: &mut [T], lo: u32, hi: u32) {
    let (lo, hi) = (lo as usize, hi as usize);
    for (o, a) in out[lo..hi].iter_mut().zip(&mut adj[lo..hi]) {
        *o = *a;
        *a = T::zero();
    }
}

/// The sweep of instructions `s..e` of one operation of [`rederives`] and
/// one shape: the partials are `f` (the operation's rule) evaluated again
/// on the operand values, added as [`Sweep::Rule`] says, with the tape's
/// rule 3 (a zero adjoint or a zero partial adds nothing).
///
/// `fixed` says that the partials are nonzero constants (`±1`: `+`, `-`,
/// negation), whatever the operands. Then rule 3's tests are left out,
/// which changes no bit: a zero adjoint `g` gives the contribution `±1 · g`,
/// a zero, and adding a zero to an adjoint leaves it as it is, since an
/// adjoint is never `-0` (it starts at `+0` and `x + y` is `-0` only when
/// both are); clearing a zero adjoint stores the `+0` it holds. (For a
/// dual number the same holds per component.)
///
/// `SINK` (1: operand `a`, 2: operand `b`, 0: none): the run's sink
/// ([`sink_of`]), slot `sink`, every instruction's target through that
/// operand. Its adjoint is loaded once into a register (`acc`), each
/// contribution rule 3 lets through is added to it there, in the sweep's
/// order, and it is stored once at the end: the same additions of the
/// same values in the same order, off the store and reload that otherwise
/// put every one of them on one dependent chain. A contribution rule 3
/// skips is skipped here too (not added as a zero, which could turn a
/// `-0` sum into `+0`).
///
/// # Safety
///
/// `s <= e`, and for every `k` in `s..e` the own slot `base + k`
/// (wrapping) below `adj.len()`, and the operand slots `ix(k)` below
/// `vals.len()`, `adj.len()`, or, for those `inp` marks as inputs
/// ([`Bases::of`]: `v`, `g`), below `x.len()`, `out.len()`; with `SINK`,
/// `sink` likewise for operand `a` (1) or `b` (2), and the run's sink
/// ([`sink_of`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn rule_run<T: Scalar<Real = f64>, const SINK: u8>(
    shape: Shape,
    s: usize,
    e: usize,
    base: usize,
    vals: &[T],
    adj: &mut [T],
    x: &[T],
    out: &mut [T],
    inp: u8,
    f: impl Fn(T, T) -> rules::Binary<T>,
    fixed: bool,
    ix: impl Fn(usize) -> (usize, usize),
    sink: usize,
) {
    let v = Bases::of(vals.as_ptr() as *mut T, x.as_ptr() as *mut T, inp);
    let g = Bases::of(adj.as_mut_ptr(), out.as_mut_ptr(), inp);
    // SAFETY: the caller's contract.
    let at = if SINK == 2 { g.b } else { g.a };
    let mut acc = if SINK != 0 { *at.add(sink) } else { T::zero() };
    // one loop per shape; `$p` the partial(s) from `(pa, pb)`
    macro_rules! each {
        ($fixed:expr, |$ia:ident, $ib:ident, $pa:ident, $pb:ident, $g:ident| $body:block) => {
            for k in (s..e).rev() {
                let i = base.wrapping_add(k);
                // SAFETY (every access): the caller's contract.
                let $g = *g.own.add(i);
                // (on every path, as in `fused_run`)
                let ($ia, $ib) = ix(k);
                if $fixed || !$g.is_zero() {
                    *g.own.add(i) = T::zero();
                    let (_, $pa, $pb) = f(*v.a.add($ia), *v.b.add($ib));
                    $body
                }
            }
        };
    }
    // `$sink`: whether target `$t` is the sink (then `acc` takes the sum)
    macro_rules! add {
        ($fixed:expr, $at:expr, $t:expr, $p:expr, $g:expr, $sink:expr) => {{
            let p = $p;
            if $fixed || !p.is_zero() {
                if $sink {
                    acc += p * $g;
                } else {
                    *$at.add($t) += p * $g;
                }
            }
        }};
    }
    match shape {
        Shape::Unary | Shape::SlotConst => {
            each!(fixed, |ia, _ib, pa, _pb, d| {
                add!(fixed, g.a, ia, pa, d, SINK == 1)
            })
        }
        // `x - x`: the summed partial is 0, so keep the tests
        Shape::Same => each!(false, |ia, _ib, pa, pb, d| {
            add!(false, g.a, ia, pa + pb, d, SINK == 1)
        }),
        Shape::ConstSlot => each!(fixed, |_ia, ib, _pa, pb, d| {
            add!(fixed, g.b, ib, pb, d, SINK == 2)
        }),
        Shape::Both => each!(fixed, |ia, ib, pa, pb, d| {
            add!(fixed, g.a, ia, pa, d, SINK == 1);
            add!(fixed, g.b, ib, pb, d, SINK == 2);
        }),
        Shape::Consts => {
            for k in s..e {
                *g.own.add(base.wrapping_add(k)) = T::zero();
            }
        }
    }
    if SINK != 0 {
        *at.add(sink) = acc;
    }
}

/// What [`fused_run`] needs to know of a fused pair, all constants where
/// it is called, so that the loop keeps none of these tests.
#[derive(Clone, Copy)]
struct Pair {
    /// The producer's shape (on slots `a`, `b`).
    shape: Shape,
    /// Where its value goes in the consumer.
    side: Side,
    /// Whether the consumer's other operand (slot `c`) receives an adjoint.
    other: bool,
    /// Whether the producer's, and the consumer's, partials are nonzero
    /// constants (see [`rule_run`]).
    fixed_p: bool,
    fixed_c: bool,
}

/// The sweep of fused instructions `s..e` (see [`Exec::compile`]): with
/// the consumer's adjoint `g`, the consumer's partials (its rule `fc`
/// again, on the producer's value, recomputed by `fp`, and slot `c`) add
/// into slot `c` and give the producer's adjoint, its one contribution;
/// then the producer's partials add that into `a`, `b`. Each step with
/// rule 3 as the unfused sweep applies it ([`rule_run`]). The producer's
/// adjoint is the product `p · g`, where the unfused sweep stores `0 + p ·
/// g`: they differ only for `p · g = -0`, which the next step treats as
/// the zero it is (skipped by rule 3, or a `±0` that leaves an adjoint as
/// it is).
///
/// `CHAIN`: the span is a chain ([`chain_of`]): slot `c` of instruction
/// `k > s` is the slot of instruction `k - 1`, the next one swept, and no
/// other instruction of the span adds into the span's slots. Then
/// instruction `k`'s contribution `d` to that adjoint is kept in a register
/// (`carry`) and added when instruction `k - 1` reads its adjoint: `adj +
/// d`, the very sum the store and reload would form, off the memory round
/// trip that is otherwise on the running sum's critical path. A
/// contribution rule 3 skips is no carry at all, as it is no addition. The
/// adjoint slot is cleared whatever it held, as the sum would have been
/// read from it. The first instruction adds into `c_first` (its `c`, where
/// `ix(s).2` may be the progression's slot) in memory, in its place among
/// its contributions.
///
/// # Safety
///
/// As [`rule_run`], for the three slots `ix(k)` (the third by `inp`'s bit
/// for `c`) and `c_first` (likewise); with `CHAIN`, the span is a chain; with `CP > 0`, not a chain, and `CP` the
/// span's [`csink_of`].
///
/// `CP > 0`: slot `c` repeats with period `CP` ([`csink_of`]). Then the
/// `CP` adjoints are loaded once into registers, instruction `k` adds its
/// contribution to slot `c` (where rule 3 lets one through) into the
/// `(k - s) % CP`-th, in the sweep's order, and they are stored once at
/// the end: the same sums, off the store and reload on their chains. The
/// loop is unrolled by `CP` so that each register is a constant index.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn fused_run<T: Scalar<Real = f64>, const CHAIN: bool, const CP: usize>(
    pair: Pair,
    s: usize,
    e: usize,
    base: usize,
    vals: &[T],
    adj: &mut [T],
    x: &[T],
    out: &mut [T],
    inp: u8,
    fp: impl Fn(T, T) -> rules::Binary<T>,
    fc: impl Fn(T, T) -> rules::Binary<T>,
    ix: impl Fn(usize) -> (usize, usize, usize),
    c_first: usize,
) {
    // `p · g` by rule 3 (zero if either is), `fixed`: `p` a nonzero constant
    #[inline(always)]
    fn times<T: Scalar>(fixed: bool, p: T, g: T) -> Option<T> {
        (fixed || !p.is_zero()).then(|| p * g)
    }
    let vm = Bases::of(vals.as_ptr() as *mut T, x.as_ptr() as *mut T, inp);
    let am = Bases::of(adj.as_mut_ptr(), out.as_mut_ptr(), inp);
    let fixed_c = pair.fixed_c && pair.side != Side::Same;
    // with `CHAIN`: instruction `k + 1`'s contribution to this adjoint
    let mut carry: Option<T> = None;
    // with `CP`: the adjoints of slots `c` of instructions `s..s + CP`
    let mut acc = [T::zero(); 3];
    for (j, acc) in acc.iter_mut().enumerate().take(CP) {
        if s + j < e {
            *acc = *am.c.add(ix(s + j).2);
        }
    }
    // instruction `k`; `sink`: with `CP`, its slot `c`'s register
    let mut one = |k: usize, sink: &mut T| {
        let i = base.wrapping_add(k);
        // SAFETY (every access): the caller's contract.
        let g = match carry.take() {
            Some(d) => *am.own.add(i) + d,
            None => *am.own.add(i),
        };
        if CHAIN {
            *am.own.add(i) = T::zero();
        }
        // (the operand slots on every path: an affine run's are then
        // running sums, not products of `k`)
        let (ia, ib, ic) = ix(k);
        if fixed_c || !g.is_zero() {
            if !CHAIN {
                *am.own.add(i) = T::zero();
            }
            let ic = if CHAIN && k == s { c_first } else { ic };
            // into the consumer's other operand: carried to the next
            // instruction swept, into its register, or added in memory
            let mut into_c = |d: T| {
                if CHAIN && k > s {
                    carry = Some(d);
                } else if CP > 0 {
                    *sink += d;
                } else {
                    *am.c.add(ic) += d;
                }
            };
            let (x, y) = (*vm.a.add(ia), *vm.b.add(ib));
            let v = fp(x, y).0;
            // the consumer: `a` then `b`, as the unfused sweep adds them
            let gp = match pair.side {
                Side::Left => {
                    let (_, ca, cb) = fc(v, *vm.c.add(ic));
                    let gp = times(fixed_c, ca, g);
                    if pair.other {
                        if let Some(d) = times(fixed_c, cb, g) {
                            into_c(d);
                        }
                    }
                    gp
                }
                Side::Right => {
                    let (_, ca, cb) = fc(*vm.c.add(ic), v);
                    if pair.other {
                        if let Some(d) = times(fixed_c, ca, g) {
                            into_c(d);
                        }
                    }
                    times(fixed_c, cb, g)
                }
                Side::Same => {
                    let (_, ca, cb) = fc(v, v);
                    times(false, ca + cb, g)
                }
            };
            // the producer, with its adjoint `gp`
            if let Some(gp) = gp.filter(|gp| pair.fixed_p || !gp.is_zero()) {
                let (_, pa, pb) = fp(x, y);
                let fixed = pair.fixed_p;
                match pair.shape {
                    Shape::Unary | Shape::SlotConst => {
                        if let Some(d) = times(fixed, pa, gp) {
                            *am.a.add(ia) += d;
                        }
                    }
                    Shape::Same => {
                        if let Some(d) = times(false, pa + pb, gp) {
                            *am.a.add(ia) += d;
                        }
                    }
                    Shape::ConstSlot => {
                        if let Some(d) = times(fixed, pb, gp) {
                            *am.b.add(ib) += d;
                        }
                    }
                    Shape::Both => {
                        if let Some(d) = times(fixed, pa, gp) {
                            *am.a.add(ia) += d;
                        }
                        if let Some(d) = times(fixed, pb, gp) {
                            *am.b.add(ib) += d;
                        }
                    }
                    Shape::Consts => {}
                }
            }
        }
    };
    if CP == 0 {
        let mut none = T::zero();
        for k in (s..e).rev() {
            one(k, &mut none);
        }
    } else {
        // the last, partial, group, then whole groups of `CP` downwards
        let full = (e - s) - (e - s) % CP;
        for j in (0..CP).rev() {
            if s + full + j < e {
                one(s + full + j, &mut acc[j]);
            }
        }
        let mut g = full;
        while g > 0 {
            g -= CP;
            for j in (0..CP).rev() {
                one(s + g + j, &mut acc[j]);
            }
        }
        for (j, acc) in acc.iter().enumerate().take(CP) {
            if s + j < e {
                *am.c.add(ix(s + j).2) = *acc;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indices in `fused_pairs` are `0, 1, 2, ...` in order, each pair
    /// maps to its own index, and an unlisted pair to `NO_PAIR`: the loops
    /// the forward pass and the sweep jump to by index are the pair's.
    #[test]
    fn fused_pair_indices_are_positions() {
        let mut at = 0u8;
        macro_rules! check {
            ($(($i:literal, $po:ident, $ps:ident, $co:ident, $side:ident, $other:literal)),* $(,)?) => {
                $(
                    assert_eq!($i, at, "fused_pairs: index out of order");
                    let tail = Tail { op: Op::$co, side: Side::$side, other: $other };
                    assert_eq!(pair_of(Op::$po, Shape::$ps, Some(tail)), at);
                    assert!(fusable(Op::$po, Shape::$ps, tail));
                    at += 1;
                )*
            };
        }
        fused_pairs!(check);
        assert!(at < NO_PAIR);
        let tail = Tail {
            op: Op::Div,
            side: Side::Left,
            other: true,
        };
        assert_eq!(pair_of(Op::Mul, Shape::Both, Some(tail)), NO_PAIR);
        assert_eq!(pair_of(Op::Mul, Shape::Both, None), NO_PAIR);
    }
}
