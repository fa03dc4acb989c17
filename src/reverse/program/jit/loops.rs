//! Repeated stretches of a program, found so that the compiled gradient
//! can run them as loops ([`find`]).
//!
//! A program recorded from a loop in the user's code (a sum over the pairs
//! of Rosenbrock, over data points, over the cells of a grid) repeats one
//! *body* of instructions: the same operations, with operands that advance
//! by a fixed stride from one repetition to the next. Compiled as straight
//! line, such a program costs compile time and instruction cache in
//! proportion to its length (which is why straight-line compiling stops at
//! [`MAX_OPS`](super::MAX_OPS)); compiled as a loop over its body, it costs
//! the body's. [`find`] finds the stretches that can be run as loops
//! without changing one bit of the gradient:
//!
//! - every repetition is the body with each operand described the same
//!   way ([`Src`]): a constant, a constant per repetition (a data point's
//!   coordinates: a table the code reads), an earlier instruction of the
//!   same repetition, an instruction of the previous repetition (a running
//!   sum), a value from before the loop, input `i₀ + r·d`, or a value of
//!   an earlier loop at a stride (a pass over data reading the pass
//!   before it, as a matrix product through nalgebra does);
//! - after the loop, only its last repetition's values are read, or the
//!   values of a body instruction are read only by later loops at a
//!   stride and by straight-line code: the code keeps those in memory
//!   ([`Loop::kept`]), their adjoints too, which must then have no other
//!   home (not the next repetition's, not a later loop's running one); and
//!   nothing after the loop reads the value the first repetition reads
//!   from before it as "the previous one";
//! - the compiled sweep recomputes, per repetition, the values the partials
//!   need instead of storing them: so every instruction whose partials
//!   depend on values must not depend on the previous repetition (a running
//!   sum's `+` has constant partials; a running product's `*` would not be
//!   recomputable, and its stretch is not a loop).
//!
//! The compiled sweep visits the instructions in reverse program order, a
//! loop's repetitions last to first and each body last to first, so every
//! adjoint still receives its contributions in the tape's order.

use std::cell::Cell;
use std::sync::Arc;

use super::super::op::Op;
use super::super::{Arg, Program};
use super::MAX_OPS;

/// The longest body looked for.
const MAX_PERIOD: usize = 64;

/// The fewest repetitions a loop has: fewer are compiled as straight line.
const MIN_REPS: usize = 8;

/// The most places [`find`] samples (evenly spaced, at most one per
/// `MAX_PERIOD · MIN_REPS` instructions) before it searches a program:
/// unless a loop begins within `MAX_PERIOD · MIN_REPS` instructions of
/// one of them, it finds none (so a program of up to `SAMPLES` times that,
/// 32,768 instructions, is tried at every start).
const SAMPLES: usize = 64;

/// The most instructions a program may have and still be compiled as
/// straight line throughout: there, every value stays in a register or
/// the frame, which beats a loop's loads and stores (Rosenbrock at
/// n = 100, 399 instructions: 3.8 f64 evaluations straight in session 10's
/// compare run, 4.8 looped in session 12's; at n = 10³, 3,999
/// instructions: 7.0 straight, 5.9 looped; not yet measured side by side
/// in one run). Programs above [`PAIRED_MIN`] instructions loop anyway
/// where every loop's sweep runs two repetitions at a time (the gradient's
/// `pairs`; Rosenbrock at n = 100: 3.79 evaluations straight in session
/// 16's first compare run, 2.11 looped in its second).
pub(crate) const STRAIGHT_MAX: usize = 1024;

/// The most instructions a program may have and be compiled as straight
/// line throughout whatever its loops ([`find`] looks for none).
pub(crate) const PAIRED_MIN: usize = 256;

/// An operand of a body instruction, the same description in every
/// repetition `r`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Src {
    /// A constant, the same bits in every repetition.
    Const(f64),
    /// A constant that differs between repetitions (a data point's
    /// coordinates): repetition `r` reads entry `r` of [`Loop::tables`]`[t]`.
    Table(usize),
    /// Body instruction `j` of the same repetition.
    Local(usize),
    /// Body instruction `j` of the previous repetition; in the first
    /// repetition, slot `n + start − period + j` (before the loop).
    Carried(usize),
    /// A slot of an instruction before the loop, the same in every
    /// repetition.
    Fixed(usize),
    /// Input `i₀ + r·d` (`d` may be 0).
    Input(usize, usize),
    /// Body instruction `j` of an earlier loop (the one starting at
    /// instruction `from`, which lacks no identity) in its repetition
    /// `r₀ + r·m` (`m ≥ 1`): a pass over data reading the pass before it,
    /// as a matrix product through nalgebra does. The earlier loop keeps
    /// those values in the caller's scratch memory, and their adjoints,
    /// which this loop's sweep adds into ([`Scratch::spill`]).
    Strided {
        from: usize,
        j: usize,
        r0: usize,
        m: usize,
    },
}

/// Instructions `start .. end` of a program: `reps` repetitions of a body
/// of `period` instructions, repetition `r`'s `j`-th being `ops[j]` on the
/// operands `body[j]` describe, or, where [`absent`](Self::absent) says
/// so, missing from the program as the identity it is there.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Loop {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) period: usize,
    pub(crate) reps: usize,
    pub(crate) ops: Vec<Op>,
    pub(crate) body: Vec<[Src; 2]>,
    /// The constants of the [`Src::Table`] operands, one per repetition,
    /// and the `absent` flags (shared with the compiled code, which reads
    /// them).
    pub(crate) tables: Vec<Arc<[f64]>>,
    /// Per body instruction `x op c`, the table (an index into `tables`)
    /// that is 1 for a repetition lacking it: `c` is the identity's
    /// constant there (in `tables` too, or the body's constant), and the
    /// program's next instruction reads `x` where the body reads this one.
    /// Computing `x op c` (the same value, partial 1) and passing its one
    /// contribution on to `x` gives the tape's bits for the value and the
    /// gradient; a Hessian-vector product takes `x`'s tangent unchanged
    /// there (a product's tangent could differ in the sign of a zero).
    pub(crate) absent: Vec<Option<usize>>,
    /// The slots of the last repetition's instructions (`None`: absent).
    pub(crate) last: Vec<Option<usize>>,
    /// Per body instruction: whether the code keeps its values (and
    /// adjoints) in memory, for later loops and straight-line code to read
    /// ([`Src::Strided`], [`Scratch::spill`]; set by `find`).
    pub(crate) kept: Vec<bool>,
    /// Per body instruction: the instruction it is in repetition 0, and
    /// from one repetition's to the next's (`start + j` and `period`, but
    /// in passes fused into one loop: [`fuse`]).
    pub(crate) seg: Vec<(usize, usize)>,
    /// Per body instruction: whether straight-line code reads its values
    /// but the last repetition's (a reason to keep them).
    read_straight: Vec<bool>,
}

impl Loop {
    /// The index one past the loop's last instruction.
    pub(crate) fn end(&self) -> usize {
        self.end
    }

    /// The slot of body instruction `j` in repetition `r` (of a program of
    /// `n` inputs; a loop lacking an identity: where it has it).
    pub(crate) fn slot(&self, n: usize, r: usize, j: usize) -> usize {
        n + self.seg[j].0 + r * self.seg[j].1
    }

    /// The slot the first repetition reads as body instruction `j` of
    /// "the previous one" ([`Src::Carried`]).
    pub(crate) fn prev(&self, n: usize, j: usize) -> usize {
        n + self.seg[j].0 - self.seg[j].1
    }

    /// Repetition and body instruction of instruction `k`, if in the loop
    /// (and the loop lacks no identity).
    fn locate(&self, k: usize) -> Option<(usize, usize)> {
        (0..self.period).find_map(|j| {
            let (k0, d) = self.seg[j];
            let o = k.checked_sub(k0)?;
            (o.is_multiple_of(d) && o / d < self.reps).then_some((o / d, j))
        })
    }

    /// The body instructions read as [`Src::Carried`], sorted.
    pub(crate) fn carried(&self) -> Vec<usize> {
        self.sources(|s| match s {
            Src::Carried(j) => Some(j),
            _ => None,
        })
    }

    /// The slots read as [`Src::Fixed`], sorted.
    pub(crate) fn fixed(&self) -> Vec<usize> {
        self.sources(|s| match s {
            Src::Fixed(x) => Some(x),
            _ => None,
        })
    }

    /// The operands of body instruction `j` that receive a contribution in
    /// a compiled sweep, with their partials (`pa`, `pb`): a unary
    /// operation's one; a binary one's two, or its one slot read twice with
    /// the partials `summed` (once, as the tape sums them).
    pub(crate) fn targets<P>(
        &self,
        j: usize,
        (pa, pb): (P, P),
        summed: impl FnOnce(P, P) -> P,
    ) -> [Option<(Src, P)>; 2] {
        let [sa, sb] = self.body[j];
        if !self.ops[j].is_binary() {
            [Some((sa, pa)), None]
        } else if sa == sb {
            [Some((sa, summed(pa, pb))), None]
        } else {
            [Some((sa, pa)), Some((sb, pb))]
        }
    }

    /// Which body instructions a compiled sweep recomputes in every
    /// repetition: those whose partials vary ([`partials_vary`]) and the
    /// ones of the same repetition they read, directly or not, but for the
    /// ones whose results the forward loop stored (`stored`: read back).
    pub(crate) fn recomputed(&self, stored: impl Fn(Op) -> bool) -> Vec<bool> {
        let mut emit = vec![false; self.period];
        for j in (0..self.period).rev() {
            if stored(self.ops[j]) {
                emit[j] = false;
                continue;
            }
            emit[j] |= partials_vary(self.ops[j]);
            if emit[j] {
                for src in self.body[j] {
                    if let Src::Local(i) = src {
                        emit[i] = true;
                    }
                }
            }
        }
        emit
    }

    /// The inputs every repetition reads as [`Src::Input`]`(i, 0)` and no
    /// repetition as a strided `Input` (whose adjoints the compiled sweep
    /// may hold in registers through the loop), sorted.
    pub(crate) fn held_inputs(&self) -> Vec<usize> {
        let strided: Vec<(usize, usize)> = self
            .body
            .iter()
            .flatten()
            .filter_map(|s| match *s {
                Src::Input(i, d) if d > 0 => Some((i, d)),
                _ => None,
            })
            .collect();
        let hit = |x: usize| {
            (strided.iter())
                .any(|&(i, d)| x >= i && (x - i).is_multiple_of(d) && (x - i) / d < self.reps)
        };
        let mut held = self.sources(|s| match s {
            Src::Input(i, 0) => Some(i),
            _ => None,
        });
        held.retain(|&x| !hit(x));
        held
    }

    /// Whether a compiled sweep may add a repetition's contributions to a
    /// strided input it does not own in a register (loaded at the first,
    /// stored after the body): every strided input the body reads has one
    /// stride (distinct `i`: distinct entries), and every input it reads
    /// at stride 0 is in `held` (so none is one of those).
    pub(crate) fn caches_inputs(&self, held: &[usize]) -> bool {
        let operands = || self.body.iter().flatten();
        operands()
            .filter_map(|s| match *s {
                Src::Input(_, d) if d > 0 => Some(d),
                _ => None,
            })
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0] == w[1])
            && operands().all(|s| match *s {
                Src::Input(x, 0) => held.binary_search(&x).is_ok(),
                _ => true,
            })
    }

    /// What `pick` takes from the body's operands, sorted, once each.
    fn sources(&self, pick: impl Fn(Src) -> Option<usize>) -> Vec<usize> {
        let mut c: Vec<usize> = self
            .body
            .iter()
            .flatten()
            .filter_map(|s| pick(*s))
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    }
}

/// Where compiled loops keep, per repetition, the results of the body
/// instructions that call a shim (`width` `f64`s each: the value and the
/// partials, on `f64` or on dual numbers), so that the sweep reads them
/// back instead of calling the shim again: the caller's scratch memory
/// (a workspace's), `len` `f64`s.
pub(crate) struct Scratch {
    /// Per loop: where its entries begin, in `f64`s.
    pub(crate) base: Vec<usize>,
    /// Per loop: its entries per repetition, in `f64`s.
    pub(crate) stride: Vec<usize>,
    /// Per loop, per body instruction: its entry's offset in a
    /// repetition's, in `f64`s, if stored.
    pub(crate) at: Vec<Vec<Option<usize>>>,
    /// Per loop: where the values it passes to later loops begin
    /// ([`Src::Strided`]: `spills` per repetition, `width / 3` `f64`s
    /// each), and their adjoints, `reps · spills` values on.
    spill_base: Vec<usize>,
    /// Per loop: how many of its body instructions pass their values on.
    spills: Vec<usize>,
    /// Per loop, per body instruction: its index among those, if it does.
    spill_at: Vec<Vec<Option<usize>>>,
    /// `f64`s per value passed on.
    spill_width: usize,
    /// Per loop: its repetitions.
    reps: Vec<usize>,
    pub(crate) len: usize,
}

impl Scratch {
    /// The layout for `loops` whose instructions `stored` says call a
    /// shim, each with `width` `f64`s of results.
    pub(crate) fn new(loops: &[Loop], stored: impl Fn(Op) -> bool, width: usize) -> Scratch {
        let mut s = Scratch {
            base: Vec::new(),
            stride: Vec::new(),
            at: Vec::new(),
            spill_base: Vec::new(),
            spills: Vec::new(),
            spill_at: Vec::new(),
            spill_width: width / 3,
            reps: loops.iter().map(|l| l.reps).collect(),
            len: 0,
        };
        for l in loops {
            let mut k = 0;
            let at: Vec<Option<usize>> = (l.kept.iter())
                .map(|&x| {
                    x.then(|| {
                        k += 1;
                        k - 1
                    })
                })
                .collect();
            s.spill_base.push(s.len);
            s.spills.push(k);
            s.spill_at.push(at);
            s.len += 2 * k * l.reps * s.spill_width;
        }
        for l in loops {
            let mut k = 0;
            let at: Vec<Option<usize>> = (l.ops.iter())
                .map(|&op| {
                    stored(op).then(|| {
                        k += width;
                        k - width
                    })
                })
                .collect();
            s.base.push(s.len);
            s.stride.push(k);
            s.at.push(at);
            s.len += k * l.reps;
        }
        s
    }
}

impl Scratch {
    /// Where loop `i`'s body instruction `j` keeps its values for later
    /// loops, if it does: the offset of repetition 0's value (in `f64`s),
    /// the `f64`s from one repetition's to the next's, and from a value to
    /// its adjoint.
    pub(crate) fn spill(&self, i: usize, j: usize) -> Option<(usize, usize, usize)> {
        let w = self.spill_width;
        let k = self.spill_at[i][j]?;
        let per = self.spills[i] * w;
        Some((self.spill_base[i] + k * w, per, self.reps[i] * per))
    }

    /// The adjoints of loop `i`'s values for later loops, which its code
    /// clears before the sweep: their offset and length, in `f64`s.
    pub(crate) fn adjoints(&self, i: usize) -> Option<(usize, usize)> {
        let len = self.spills[i] * self.spill_width * self.reps[i];
        (len > 0).then(|| (self.spill_base[i] + len, len))
    }

    /// Where slot `s` of a program with `n` inputs is kept (the offset of
    /// its value, in `f64`s, and from it to its adjoint), if one of
    /// `loops` keeps it.
    pub(crate) fn slot(&self, loops: &[Loop], n: usize, s: usize) -> Option<(usize, usize)> {
        let k = s.checked_sub(n)?;
        let i = loops.partition_point(|l| l.start <= k).checked_sub(1)?;
        let l = &loops[i];
        if k >= l.end || self.spills[i] == 0 {
            return None;
        }
        let (r, j) = l.locate(k)?;
        let (at, per, adj) = self.spill(i, j)?;
        Some((at + r * per, adj))
    }

    /// Where a [`Src::Strided`] operand of one of `loops` is: the offset
    /// of the value its repetition 0 reads (in `f64`s), the `f64`s from
    /// one repetition's to the next's, and from a value to its adjoint.
    pub(crate) fn strided(&self, loops: &[Loop], src: Src) -> Option<(usize, usize, usize)> {
        let Src::Strided { from, j, r0, m } = src else {
            return None;
        };
        let (at, per, adj) = self.spill(loop_at(loops, from), j)?;
        Some((at + r0 * per, m * per, adj))
    }
}

/// Whether `op`'s partials depend on values (all but `+`, `-`, negation and
/// `powi(·, 0)`, whose partials are constants).
pub(crate) fn partials_vary(op: Op) -> bool {
    !matches!(op, Op::Add | Op::Sub | Op::Neg | Op::Powi(0))
}

/// The slots an instruction reads.
fn reads(op: Op, a: Arg, b: Arg) -> impl Iterator<Item = usize> {
    let slot = |x: Arg| match x {
        Arg::Slot(s) => Some(s as usize),
        Arg::Const(_) => None,
    };
    [slot(a), if op.is_binary() { slot(b) } else { None }]
        .into_iter()
        .flatten()
}

/// The stretches of `p` to run as loops, in program order, not
/// overlapping (see the [module docs](self)); none if `p` has at most
/// [`PAIRED_MIN`] instructions (up to [`STRAIGHT_MAX`] the caller keeps
/// them only if every sweep runs paired), a `mul_add` (whose compiled form reads
/// its `Mul`'s operands) or more than one output, or if no loop begins
/// near any of the places it samples (up to [`SAMPLES`]: a loop that
/// covers less than about 1/64 of a long program may be missed), or if
/// the code would be larger than [`MAX_OPS`](super::MAX_OPS) instructions
/// with them ([`Jit::Auto`](super::Jit::Auto) interprets such a program;
/// [`Jit::Now`](super::Jit::Now) compiles it straight).
pub(crate) fn find(p: &Program) -> Vec<Loop> {
    let (n, ins) = (p.inputs, &p.instrs);
    if ins.len() <= PAIRED_MIN || p.outputs.len() != 1 || ins.iter().any(|i| i.op == Op::MulAddTail)
    {
        return Vec::new();
    }
    // per slot: one past its last reader's index (0: none; MAX: a
    // comparison or the output reads it)
    // (u32: a slot's index is one already; 35 MB instead of 70 for the
    // 8.7 million instructions of a 2-64-64-1 network)
    let mut last = vec![0u32; n + ins.len()];
    for (k, i) in ins.iter().enumerate() {
        for s in reads(i.op, i.a, i.b) {
            last[s] = last[s].max(k as u32 + 1);
        }
    }
    for (a, b) in p
        .guards
        .iter()
        .map(|g| (g.a, g.b))
        .chain([(p.outputs[0], p.outputs[0])])
    {
        for x in [a, b] {
            if let Arg::Slot(s) = x {
                last[s as usize] = u32::MAX;
            }
        }
    }
    // a program without loops is ruled out by sampling, not searched:
    // every start tried costs up to MAX_PERIOD attempts (a full search of
    // a 2-64-64-1 network's 8.7 million instructions took half of its
    // recording), while a loop of at least MIN_REPS repetitions begins at
    // most MAX_PERIOD instructions after any sample inside it if its
    // repetitions are all alike, and a little further if some lack an
    // identity (its body is taken from two that do not): every start up
    // to MAX_PERIOD · MIN_REPS on is tried
    // (at most one sample per MAX_PERIOD · MIN_REPS instructions: a
    // sample costs up to MAX_PERIOD² · MIN_REPS attempts, most ruled out
    // at their first instruction)
    let window = MAX_PERIOD * MIN_REPS;
    let samples = (ins.len() / window).clamp(1, SAMPLES);
    let sampled = (0..samples).any(|k| {
        let s0 = k * ins.len() / samples;
        (s0..s0 + window).any(|s| {
            (1..=MAX_PERIOD).any(|period| {
                s + period * MIN_REPS <= ins.len()
                    && try_loop(p, &last, &[], false, false, s, period, MIN_REPS).is_ok()
            })
        })
    });
    if !sampled {
        return Vec::new();
    }
    // loops may pass values to later ones (`Src::Strided`); where the
    // values of one that does are read otherwise, it is found again
    // without passing them
    let mut strict = Vec::new();
    loop {
        let mut loops = search(p, &last, &strict);
        let bad = validate(p, &mut loops);
        if bad.is_empty() {
            return fuse(p.inputs, loops);
        }
        strict.extend(bad);
        strict.sort_unstable();
        strict.dedup();
    }
}

/// The loops of `p` from its first instruction on, each the longest that
/// starts where the one before ends (or at the first instruction after
/// it that begins one); those starting at an instruction in `strict`
/// (sorted) pass no value but their last repetition's to what follows.
/// None once the code would emit more than [`MAX_OPS`] instructions.
fn search(p: &Program, last: &[u32], strict: &[usize]) -> Vec<Loop> {
    let ins = &p.instrs;
    let mut loops: Vec<Loop> = Vec::new();
    let mut s = 0;
    // the instructions the code would emit so far ([`emitted`])
    let mut size = 0;
    while s + MIN_REPS <= ins.len() {
        if size > MAX_OPS {
            // code this large is not compiled under `Jit::Auto`: the rest
            // is not searched (a 2-64-64-1 network's 8.7 million
            // instructions are 64,000 loops of dot products, 225,000
            // instructions of code: searching them took 3 of the 5.5 s
            // its recording took)
            return Vec::new();
        }
        let mut best: Option<Loop> = None;
        let mut skip = 1;
        let mut rotate = Vec::new();
        let strict_at = |s: usize| strict.binary_search(&s).is_ok();
        // the periods that gave a loop here, and its length: a multiple
        // whose first two repetitions lie inside such a loop describes the
        // same stretch unrolled, which repeats no further, and is not
        // tried (a pass of 1,000 two-instruction repetitions would be
        // scanned again for each of 32 even periods: 35 s of a 2-64-64-1
        // network's recording; this only chooses among correct loops)
        let mut found: Vec<(usize, usize)> = Vec::new();
        for period in 1..=MAX_PERIOD {
            if s + period * MIN_REPS > ins.len() {
                break;
            }
            if (found.iter()).any(|&(f, len)| period.is_multiple_of(f) && 2 * period <= len) {
                continue;
            }
            match try_loop(p, last, &loops, strict_at(s), false, s, period, usize::MAX) {
                Ok(l) => {
                    found.push((period, l.end - l.start));
                    if best.as_ref().is_none_or(|b| l.end() > b.end()) {
                        best = Some(l);
                    }
                }
                // a long stretch that repeats but is not a loop: not looked
                // into again (that would take time quadratic in its length)
                // but for the same body begun later, if that may be one
                Err(m) => {
                    skip = skip.max(m.extent);
                    if m.rotate {
                        rotate.push(period);
                    }
                }
            }
        }
        if best.is_none() {
            // (the shortest such body: the others repeat it)
            best = rotate.first().and_then(|&period| {
                (1..period).find_map(|d| {
                    let s = s + d;
                    try_loop(p, last, &loops, strict_at(s), true, s, period, usize::MAX).ok()
                })
            });
        }
        match best {
            Some(l) => {
                s = l.end();
                size += l.period;
                loops.push(l);
            }
            None => {
                s += skip;
                size += skip;
            }
        }
    }
    if size + ins.len().saturating_sub(s) > MAX_OPS {
        return Vec::new();
    }
    loops
}

/// The starts of the loops among `loops` whose values are read in a way
/// the compiled code cannot give them, and of the loops reading those at
/// a stride; for the others, which body instructions keep their values in
/// memory ([`Loop::kept`]).
///
/// A body instruction keeps its values (and adjoints: [`Scratch::spill`])
/// if a later loop reads them as [`Src::Strided`], or straight-line code
/// after the loop reads one but the last repetition's; straight-line code
/// then reads them all from memory. Any other reader after the loop (a
/// later loop's other operands, a comparison, the output), or the next
/// repetition of its own loop, would give a kept value's adjoint a second
/// home; an instruction that keeps nothing has only its last repetition's
/// value read after the loop (which the code keeps in a register), and
/// one of a loop lacking an identity somewhere keeps nothing.
fn validate(p: &Program, loops: &mut [Loop]) -> Vec<usize> {
    let n = p.inputs;
    for l in loops.iter_mut() {
        l.kept = vec![false; l.period];
        l.read_straight = vec![false; l.period];
    }
    for li in 0..loops.len() {
        for jb in 0..loops[li].period {
            for src in loops[li].body[jb] {
                if let Src::Strided { from, j, .. } = src {
                    let k = loop_at(loops, from);
                    loops[k].kept[j] = true;
                }
            }
        }
    }
    // the loop holding instruction `k`, looked for first where the last
    // one was found (`hint`) and just before: the instruction being read
    // and the one reading it each move on slowly (a binary search over the
    // 8,000 loops of a 2-64-64-1 network per read took a second of
    // recording)
    let owner = |loops: &[Loop], hint: &Cell<usize>, k: usize| {
        let h = hint.get();
        let found = [h, h.wrapping_sub(1)]
            .into_iter()
            .find(|&i| loops.get(i).is_some_and(|l| l.start <= k))
            .filter(|&i| loops.get(i + 1).is_none_or(|l| k < l.start));
        let i = match found {
            Some(i) => i,
            None => loops.partition_point(|l| l.start <= k).checked_sub(1)?,
        };
        hint.set(i);
        (k < loops[i].end).then_some(i)
    };
    // per instruction in a loop: which of its operands (bit 0: the first)
    // the body reads at a stride there (an instruction after one its
    // repetition lacks reads that one's operand)
    let mut strided = vec![0u8; p.instrs.len()];
    let is_strided = |s: &Src| matches!(s, Src::Strided { .. });
    for l in loops
        .iter()
        .filter(|l| l.body.iter().flatten().any(is_strided))
    {
        let mut k = l.start;
        for r in 0..l.reps {
            let lacks = |j: usize| l.absent[j].is_some_and(|t| l.tables[t][r] == 1.0);
            for j in (0..l.period).filter(|&j| !lacks(j)) {
                for (side, src) in l.body[j].into_iter().enumerate() {
                    let src = match src {
                        Src::Local(i) if lacks(i) => (l.body[i].into_iter())
                            .find(|s| !matches!(s, Src::Const(_) | Src::Table(_)))
                            .expect("an identity's operand"),
                        src => src,
                    };
                    strided[k] |= u8::from(is_strided(&src)) << side;
                }
                k += 1;
            }
        }
        debug_assert_eq!(k, l.end);
    }
    // every read of a loop's slot from outside the loop: (slot, its loop,
    // how: 0 a later loop's `Src::Strided`, 1 straight line, 2 otherwise)
    let mut reads = Vec::new();
    let (reader, read) = (Cell::new(0), Cell::new(0));
    for (k, i) in p.instrs.iter().enumerate() {
        let mine = owner(loops, &reader, k);
        let arity = if i.op.is_binary() { 2 } else { 1 };
        for (side, x) in [i.a, i.b].into_iter().take(arity).enumerate() {
            let Arg::Slot(s) = x else { continue };
            let s = s as usize;
            let Some(li) = s.checked_sub(n).and_then(|k| owner(loops, &read, k)) else {
                continue;
            };
            let how = match mine {
                Some(m) if m == li => continue, // in its own loop
                Some(_) => {
                    if strided[k] >> side & 1 == 1 {
                        0
                    } else {
                        2
                    }
                }
                None => 1,
            };
            reads.push((s, li, how));
        }
    }
    let others = (p.guards.iter().flat_map(|g| [g.a, g.b])).chain(p.outputs.iter().copied());
    for x in others {
        if let Arg::Slot(s) = x {
            let s = s as usize;
            if let Some(li) = s.checked_sub(n).and_then(|k| owner(loops, &read, k)) {
                reads.push((s, li, 2));
            }
        }
    }
    let mut bad = vec![false; loops.len()];
    // (repetition, body instruction) of slot `s` of loop `l`
    let at = |l: &Loop, s: usize| {
        let o = s - n - l.start;
        (o / l.period, o % l.period)
    };
    for &(s, li, how) in &reads {
        let l = &mut loops[li];
        if l.absent.iter().any(Option::is_some) {
            bad[li] |= !l.last.contains(&Some(s));
            continue;
        }
        let (r, j) = at(l, s);
        if how == 1 && r + 1 < l.reps {
            l.kept[j] = true;
            l.read_straight[j] = true;
        }
    }
    for &(s, li, how) in &reads {
        let l = &loops[li];
        if how == 2 && l.absent.iter().all(Option::is_none) {
            let (r, j) = at(l, s);
            bad[li] |= l.kept[j] || r + 1 < l.reps;
        }
    }
    for (li, l) in loops.iter().enumerate() {
        if l.carried().iter().any(|&j| l.kept[j]) {
            bad[li] = true;
        }
    }
    // the loops reading a bad one's values
    let mut changed = true;
    while changed {
        changed = false;
        for (li, l) in loops.iter().enumerate() {
            let reads_bad = (l.body.iter().flatten())
                .any(|s| matches!(*s, Src::Strided { from, .. } if bad[loop_at(loops, from)]));
            if reads_bad && !bad[li] {
                bad[li] = true;
                changed = true;
            }
        }
    }
    (loops.iter().zip(&bad))
        .filter(|(_, &b)| b)
        .map(|(l, _)| l.start)
        .collect()
}

/// `loops` with runs of adjacent passes over the same repetitions fused
/// into one loop whose body is theirs, one after the other: repetition `r`
/// of the fused loop runs each pass's repetition `r`, so a value one pass
/// reads from an earlier one's same repetition ([`Src::Strided`] with
/// `r₀ = 0`, `m = 1`) stays in a register ([`Src::Local`]) instead of
/// going through memory. The sweep then visits a later pass's repetition
/// `r` before an earlier pass's repetition `r`, but the earlier pass's
/// repetition `r + 1` before both: so that every adjoint still receives
/// its contributions in the tape's order, the passes fused share no
/// adjoint that several repetitions add to (no input, no value from
/// before them, no value of an earlier loop); a value one reads from
/// another is not also carried to the next repetition of its own
/// (`validate` rules that out for any value read at a stride). Each
/// pass's first repetition's "previous" values come from before the
/// fused loop, and no pass lacks an identity.
fn fuse(n: usize, loops: Vec<Loop>) -> Vec<Loop> {
    // what a pass's sweep adds into across its repetitions: the inputs it
    // reads (as a range), values before it, values of earlier loops
    #[derive(Default)]
    struct Targets {
        inputs: Vec<(usize, usize)>,
        fixed: Vec<usize>,
        strided: Vec<(usize, usize)>,
    }
    let targets = |l: &Loop, group_start: usize| {
        let mut t = Targets::default();
        for src in l.body.iter().flatten() {
            match *src {
                Src::Input(i, d) => t.inputs.push((i, i + (l.reps - 1) * d)),
                Src::Fixed(x) => t.fixed.push(x),
                Src::Strided { from, j, .. } if from < group_start => t.strided.push((from, j)),
                _ => {}
            }
        }
        t
    };
    let disjoint = |a: &Targets, b: &Targets| {
        (a.inputs.iter()).all(|&(lo, hi)| b.inputs.iter().all(|&(l2, h2)| hi < l2 || h2 < lo))
            && a.fixed.iter().all(|x| !b.fixed.contains(x))
            && a.strided.iter().all(|x| !b.strided.contains(x))
    };
    let mut out: Vec<Loop> = Vec::with_capacity(loops.len());
    // (per original loop start: its fused loop's start and body offset)
    let mut moved: Vec<(usize, usize, usize)> = Vec::new();
    let mut group: Vec<Targets> = Vec::new();
    for mut l in loops {
        // the later loops' strided reads of fused passes
        for src in l.body.iter_mut().flatten() {
            if let Src::Strided { from, j, .. } = src {
                if let Ok(k) = moved.binary_search_by_key(from, |m| m.0) {
                    (*from, *j) = (moved[k].1, moved[k].2 + *j);
                }
            }
        }
        let fits = out.last().is_some_and(|g| {
            let gs = g.start;
            g.end == l.start
                && g.reps == l.reps
                && (g.absent.iter().chain(&l.absent)).all(Option::is_none)
                // (each pass's "previous" values from before the group)
                && l.carried().iter().all(|&j| l.prev(n, j) < n + gs)
                && (l.body.iter().flatten()).all(|src| match *src {
                    // an earlier pass of the group: the same repetition
                    // (a value read at a stride is not carried in its own
                    // pass: `validate` rules that out)
                    Src::Strided { from, r0, m, .. } if from == gs => r0 == 0 && m == 1,
                    _ => true,
                })
                && {
                    let t = targets(&l, gs);
                    group.iter().all(|u| disjoint(u, &t))
                }
        });
        if !fits {
            group = vec![targets(&l, l.start)];
            out.push(l);
            continue;
        }
        let g = out.last_mut().expect("fits");
        group.push(targets(&l, g.start));
        let (off, tables) = (g.period, g.tables.len());
        moved.push((l.start, g.start, off));
        let body = l.body.iter().map(|ops| {
            ops.map(|src| match src {
                Src::Local(i) => Src::Local(off + i),
                Src::Carried(i) => Src::Carried(off + i),
                Src::Table(t) => Src::Table(tables + t),
                Src::Strided { from, j, .. } if from == g.start => Src::Local(j),
                src => src,
            })
        });
        g.body.extend(body);
        g.ops.extend(&l.ops);
        g.tables.extend(l.tables);
        g.absent.extend(l.absent);
        g.last.extend(l.last);
        g.kept.extend(l.kept);
        g.read_straight.extend(l.read_straight);
        g.seg.extend(l.seg);
        g.period += l.period;
        g.end = l.end;
    }
    // what is now read in a register needs no memory but for straight-line
    // code and the loops still reading it at a stride
    let mut strided: Vec<(usize, usize)> = (out.iter())
        .flat_map(|l| l.body.iter().flatten())
        .filter_map(|src| match *src {
            Src::Strided { from, j, .. } => Some((from, j)),
            _ => None,
        })
        .collect();
    strided.sort_unstable();
    for l in &mut out {
        for j in 0..l.period {
            l.kept[j] = l.read_straight[j] || strided.binary_search(&(l.start, j)).is_ok();
        }
    }
    out
}

/// How `x0` (in repetition 0 of a body of `period` starting at
/// instruction `s`, body instruction `j`) and `x1` (in repetition 1) are
/// described, if they are (two constants: as repetition 0's constant, which
/// becomes a [`Src::Table`] if another repetition's differs).
fn classify(
    n: usize,
    done: &[Loop],
    s: usize,
    period: usize,
    j: usize,
    x0: Arg,
    x1: Arg,
) -> Option<Src> {
    match (x0, x1) {
        (Arg::Const(c0), Arg::Const(_)) => Some(Src::Const(c0)),
        (Arg::Slot(a0), Arg::Slot(a1)) => {
            let (a0, a1) = (a0 as usize, a1 as usize);
            let d = a1.checked_sub(a0)?;
            let first = n + s;
            if a0 < n {
                (a1 < n).then_some(Src::Input(a0, d))
            } else if a0 >= first {
                (d == period && a0 - first < j).then(|| Src::Local(a0 - first))
            } else if d == 0 {
                Some(Src::Fixed(a0))
            } else if d == period && a0 + period >= first {
                Some(Src::Carried(a0 + period - first))
            } else {
                strided(n, done, a0, d)
            }
        }
        _ => None,
    }
}

/// Slot `a0` and on by `d` as [`Src::Strided`]: `a0` in one of the loops
/// `done` (lacking no identity), `d` a multiple of its period.
fn strided(n: usize, done: &[Loop], a0: usize, d: usize) -> Option<Src> {
    let k = a0.checked_sub(n)?;
    let l = &done[done.partition_point(|l| l.start <= k).checked_sub(1)?];
    if k >= l.end || l.absent.iter().any(Option::is_some) || !d.is_multiple_of(l.period) {
        return None;
    }
    let o = k - l.start;
    Some(Src::Strided {
        from: l.start,
        j: o % l.period,
        r0: o / l.period,
        m: d / l.period,
    })
}

/// The loop of `loops` starting at instruction `from`.
pub(crate) fn loop_at(loops: &[Loop], from: usize) -> usize {
    (loops.binary_search_by_key(&from, |l| l.start)).expect("a loop starts there")
}

/// The constant `c` for which `op` with `c` as its operand `side` (0: `c
/// op x`, 1: `x op c`) is the identity, as `optimize` and the tape remove
/// it (`Code::is_identity`): `x · 1`, `1 · x`, `x / 1`, `x + (-0)`,
/// `(-0) + x`, `x - (+0)`.
fn identity(op: Op, side: usize) -> Option<f64> {
    match (op, side) {
        (Op::Mul, _) | (Op::Div, 1) => Some(1.0),
        (Op::Add, _) => Some(-0.0),
        (Op::Sub, 1) => Some(0.0),
        _ => None,
    }
}

/// The operand `src` describes in repetition `r` (`strided`: its
/// [`resolve`]d loop, for [`Src::Strided`]), whose body instructions
/// so far are in the slots `cur` (an absent one: the slot of its operand),
/// the previous repetition's in `prev` (`None`: an input past the last; a
/// constant: repetition 0's, which others may differ from).
fn expect(
    src: Src,
    strided: Option<(usize, usize, usize)>,
    n: usize,
    r: usize,
    cur: &[usize],
    prev: &[usize],
) -> Option<Arg> {
    let slot = |s: usize| Some(Arg::Slot(s as u32));
    match src {
        Src::Strided { r0, m, .. } => {
            // (the slot of repetition 0, slots per repetition, repetitions)
            let (base, step, reps) = strided.expect("resolved (resolve)");
            let rep = r0 + r * m;
            (rep < reps).then(|| Arg::Slot((base + rep * step) as u32))
        }
        Src::Const(c) => Some(Arg::Const(c)),
        Src::Table(_) => None,
        Src::Local(j) => slot(cur[j]),
        Src::Carried(j) => slot(prev[j]),
        Src::Fixed(x) => slot(x),
        Src::Input(i, d) => {
            let i = i + r * d;
            if i < n {
                slot(i)
            } else {
                None
            }
        }
    }
}

/// For [`expect`]: a [`Src::Strided`] operand's loop among `done`, as the
/// slot of body instruction `j` in its repetition 0, the slots from one
/// repetition to the next and its repetitions (looked up once per body
/// instruction, not per repetition matched).
fn resolve(n: usize, done: &[Loop], src: Src) -> Option<(usize, usize, usize)> {
    let Src::Strided { from, j, .. } = src else {
        return None;
    };
    let l = &done[loop_at(done, from)];
    Some((n + l.start + j, l.period, l.reps))
}

/// Whether two operands are the same (constants by their bits).
fn same(x: Arg, y: Arg) -> bool {
    match (x, y) {
        (Arg::Const(a), Arg::Const(b)) => a.to_bits() == b.to_bits(),
        _ => x == y,
    }
}

/// Why [`try_loop`] found no loop: how many instructions were found
/// repeating before it was ruled out (1 if none), and whether the same
/// body begun at one of the next `period - 1` instructions might be one
/// (the partials of an instruction need the previous repetition: a body
/// rotated so that its reader comes after what it reads may not).
#[derive(Clone, Copy, Debug)]
struct Miss {
    extent: usize,
    rotate: bool,
}

impl Miss {
    const ONE: Miss = Miss {
        extent: 1,
        rotate: false,
    };

    fn at(extent: usize) -> Miss {
        Miss {
            extent,
            rotate: false,
        }
    }
}

/// The loop of bodies of `period` from instruction `s`, as long as it
/// repeats (at most `max_reps` repetitions); `Err` if there is none.
///
/// The body is repetitions 0 and 1, which must have all of it. A later
/// repetition may lack an instruction `x op c` that is the identity there
/// (`c` the identity's constant, which `optimize` removes: `z · t` for a
/// data point whose target `t` is 1), if its one reader is the next
/// instruction: the code computes it as the identity (the same value,
/// partial 1, one contribution passed on unchanged, and no other reaching
/// its operand in between: the tape's bits; see [`Loop::absent`]).
#[allow(clippy::too_many_arguments)]
fn try_loop(
    p: &Program,
    last: &[u32],
    done: &[Loop],
    strict: bool,
    rotated: bool,
    s: usize,
    period: usize,
    max_reps: usize,
) -> Result<Loop, Miss> {
    let (n, ins) = (p.inputs, &p.instrs);
    let first = n + s;
    if s + 2 * period > ins.len() {
        return Err(Miss::ONE);
    }
    // (ruled out first without allocating, at the first instruction that
    // differs: most starts repeat nothing, and this runs for every start
    // and period of a program without loops)
    let differs = |j: usize| {
        let (i0, i1) = (ins[s + j], ins[s + period + j]);
        i0.op != i1.op
            || classify(n, done, s, period, j, i0.a, i1.a).is_none()
            || (i0.op.is_binary() && classify(n, done, s, period, j, i0.b, i1.b).is_none())
    };
    if (0..period).any(differs) {
        return Err(Miss::ONE);
    }
    // the description, from repetitions 0 and 1
    let mut ops = Vec::with_capacity(period);
    let mut body = Vec::with_capacity(period);
    for j in 0..period {
        let (i0, i1) = (ins[s + j], ins[s + period + j]);
        if i0.op != i1.op || i0.op == Op::MulAddTail {
            return Err(Miss::ONE);
        }
        let a = classify(n, done, s, period, j, i0.a, i1.a).ok_or(Miss::ONE)?;
        let b = if i0.op.is_binary() {
            classify(n, done, s, period, j, i0.b, i1.b).ok_or(Miss::ONE)?
        } else {
            Src::Const(0.0)
        };
        ops.push(i0.op);
        body.push([a, b]);
    }
    // the sweep recomputes what the partials need: nothing of that may
    // come from the previous repetition (known now; a rotated body, tried
    // after one that is not, gives up now, else after finding the extent)
    let mut fresh = vec![true; period];
    let mut stale = false;
    for j in 0..period {
        fresh[j] = body[j].iter().all(|src| match *src {
            Src::Carried(_) => false,
            Src::Local(k) => fresh[k],
            _ => true,
        });
        stale |= partials_vary(ops[j]) && !fresh[j];
    }
    if stale && rotated {
        return Err(Miss::ONE);
    }
    // the instructions a repetition may lack: `x op c` an identity for
    // some `c`, read once in the body, by the next instruction, and not by
    // the next repetition (which the tape would pass straight to `x`)
    let readers = |j: usize| {
        (body.iter().flatten())
            .filter(|src| matches!(src, Src::Local(i) | Src::Carried(i) if *i == j))
            .count()
    };
    let optional: Vec<Option<usize>> = (0..period)
        .map(|j| {
            let constant = |src: Src| matches!(src, Src::Const(_));
            let side = match body[j] {
                [x, c] if constant(c) && !constant(x) => 1,
                [c, x] if constant(c) && !constant(x) => 0,
                _ => return None,
            };
            identity(ops[j], side)?;
            let next = body.get(j + 1)?;
            let read = next.iter().filter(|src| **src == Src::Local(j)).count();
            (read == 1 && readers(j) == 1).then_some(side)
        })
        .collect();
    // as many repetitions as follow the description, each with the same
    // operands equal to each other as in repetition 0 (one slot twice adds
    // its summed partials once: that must not change between repetitions)
    let at: Vec<_> = (body.iter().flatten())
        .map(|&src| resolve(n, done, src))
        .collect();
    let same0: Vec<bool> = (0..period)
        .map(|j| same(ins[s + j].a, ins[s + j].b))
        .collect();
    // the constants of operand `2j + side` per repetition, from the first
    // repetition whose constant differs from repetition 0's on
    let mut consts: Vec<Option<Vec<f64>>> = vec![None; 2 * period];
    let keep = |consts: &mut [Option<Vec<f64>>], o: usize, c0: f64, c: f64, r: usize| {
        let t = &mut consts[o];
        if t.is_none() && c.to_bits() != c0.to_bits() {
            *t = Some(vec![c0; r]);
        }
        if let Some(t) = t {
            t.truncate(r);
            t.push(c);
        }
    };
    // per optional instruction, the repetitions that lack it (from the
    // first that does on)
    let mut lacks: Vec<Option<Vec<bool>>> = vec![None; period];
    // the slots of the body's instructions in the repetition being matched
    // (`cur`) and the previous one (`prev`: before the loop, repetition
    // 0's "previous" values)
    let mut prev: Vec<usize> = (0..period)
        .map(|j| (first + j).wrapping_sub(period))
        .collect();
    let mut cur = vec![0usize; period];
    let (mut reps, mut pos, mut last_start, mut end) = (0, s, s, s);
    'reps: while reps < max_reps {
        let start = pos;
        for j in 0..period {
            let follows =
                |consts: &mut [Option<Vec<f64>>], o: usize, src: Src, x: Arg, cur| match (src, x) {
                    (Src::Const(c0), Arg::Const(c)) => {
                        keep(consts, o, c0, c, reps);
                        true
                    }
                    _ => expect(src, at[o], n, reps, cur, &prev).is_some_and(|e| same(x, e)),
                };
            let present = pos < ins.len() && {
                let i = ins[pos];
                i.op == ops[j]
                    && follows(&mut consts, 2 * j, body[j][0], i.a, &cur)
                    && (!i.op.is_binary() || follows(&mut consts, 2 * j + 1, body[j][1], i.b, &cur))
                    && same(i.a, i.b) == same0[j]
            };
            if present {
                cur[j] = n + pos;
                pos += 1;
                if let Some(l) = &mut lacks[j] {
                    l.truncate(reps);
                    l.push(false);
                }
                continue;
            }
            // absent: the identity of its operand (repetitions 0 and 1
            // have every instruction)
            let Some(side) = optional[j].filter(|_| reps >= 2) else {
                break 'reps;
            };
            let o = 2 * j + 1 - side;
            let Some(Arg::Slot(x)) = expect(body[j][1 - side], at[o], n, reps, &cur, &prev) else {
                break 'reps;
            };
            cur[j] = x as usize;
            let c = identity(ops[j], side).expect("optional: an identity");
            match body[j][side] {
                Src::Const(c0) => keep(&mut consts, 2 * j + side, c0, c, reps),
                _ => unreachable!("optional: a constant operand"),
            }
            let l = lacks[j].get_or_insert_with(|| vec![false; reps]);
            l.truncate(reps);
            l.push(true);
        }
        reps += 1;
        (last_start, end) = (start, pos);
        std::mem::swap(&mut prev, &mut cur);
    }
    // (`prev` is the last repetition's slots; a stretch found repeating
    // once only is not long: the next start may begin a loop, as the
    // first element of a pass over data often differs from the rest)
    let extent = if reps < 2 { 1 } else { (end - s).max(1) };
    if reps < MIN_REPS {
        return Err(Miss::at(extent));
    }
    // the constants that differ between repetitions, and the repetitions
    // lacking an instruction: tables
    let mut tables = Vec::new();
    for (o, t) in consts.into_iter().enumerate() {
        if let Some(mut t) = t {
            t.truncate(reps);
            if t.iter().all(|c| c.to_bits() == t[0].to_bits()) {
                continue; // (a repetition ruled out differed)
            }
            body[o / 2][o % 2] = Src::Table(tables.len());
            tables.push(Arc::from(t));
        }
    }
    let mut absent = vec![None; period];
    let mut last_slots: Vec<Option<usize>> = prev.iter().map(|&x| Some(x)).collect();
    for (j, l) in lacks.into_iter().enumerate() {
        let Some(mut l) = l else { continue };
        l.resize(reps, false);
        if !l.contains(&true) {
            continue; // (a repetition ruled out lacked it)
        }
        if l[reps - 1] {
            last_slots[j] = None;
        }
        let t: Vec<f64> = l.iter().map(|&a| if a { 1.0 } else { 0.0 }).collect();
        absent[j] = Some(tables.len());
        tables.push(Arc::from(t));
    }
    let l = Loop {
        start: s,
        end,
        period,
        reps,
        ops,
        body,
        tables,
        absent,
        last: last_slots,
        kept: vec![false; period],
        seg: (0..period).map(|j| (s + j, period)).collect(),
        read_straight: vec![false; period],
    };
    if stale {
        return Err(Miss {
            extent,
            rotate: true,
        });
    }
    // the first repetition's "previous" values are read by nothing after
    // the loop and are not also fixed operands (their adjoints leave the
    // loop's sweep as the carried ones)
    for j in l.carried() {
        let x = first + j - period;
        let fixed = l.body.iter().flatten().any(|src| *src == Src::Fixed(x));
        if fixed || last[x] as usize > end {
            return Err(Miss::at(extent));
        }
    }
    // no value but the last repetition's is read after the loop (unless
    // later loops may read them at a stride: `validate` checks that)
    if strict && (first..n + last_start).any(|x| last[x] as usize > end) {
        return Err(Miss::at(extent));
    }
    Ok(l)
}

/// The number of instructions `p`'s compiled gradient emits: each loop's
/// body once, every other instruction once.
pub(crate) fn emitted(p: &Program, loops: &[Loop]) -> usize {
    p.instrs.len()
        - loops
            .iter()
            .map(|l| l.end - l.start - l.period)
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reverse::{self, Var};
    use crate::Scalar;

    fn rosenbrock(x: &[Var]) -> Var {
        let mut s = Var::constant(0.0);
        for p in x.chunks_exact(2) {
            s += (Var::constant(1.0) - p[0]).powi(2) + (p[1] - p[0] * p[0]).powi(2) * 100.0;
        }
        s
    }

    #[test]
    fn rosenbrock_is_one_loop_after_its_first_term() {
        let x: Vec<f64> = (0..300).map(|i| 0.01 * i as f64).collect();
        let p = reverse::record(rosenbrock, &x);
        let loops = find(&p);
        // a term: 1 - a, ², a·a, b - a·a, ², ·100, +, s + (first: 0 + ·)
        let per = p.instructions().len() / 150;
        assert_eq!(per * 150, p.instructions().len());
        assert_eq!(loops.len(), 1, "{loops:?}");
        let l = &loops[0];
        assert_eq!((l.start, l.period, l.reps), (per, per, 149));
        assert_eq!(l.carried(), vec![per - 1]);
        // pair r (the loop's repetition r - 1... r = 0 is the second pair)
        assert!(l.body.iter().flatten().any(|s| *s == Src::Input(2, 2)));
        assert!(l.body.iter().flatten().any(|s| *s == Src::Input(3, 2)));
        assert_eq!(emitted(&p, &loops), 2 * per);
    }

    #[test]
    fn a_running_product_is_not_a_loop() {
        // `p · x[i]`'s partial for x[i] is the previous repetition's value
        let x: Vec<f64> = (0..2000).map(|i| 1.0 + 1e-5 * i as f64).collect();
        let p = reverse::record(|x| x.iter().fold(Var::constant(1.0), |p, &a| p * a), &x);
        assert_eq!(find(&p), vec![]);
        // a running sum of products is (the partials come from the inputs)
        let q = reverse::record(|x| x.iter().fold(Var::constant(0.0), |s, &a| s + a * a), &x);
        let loops = find(&q);
        assert_eq!(loops.len(), 1, "{loops:?}");
        assert_eq!((loops[0].period, loops[0].reps), (2, 1999));
        // and a small program is straight line
        let q = reverse::record(
            |x| x.iter().fold(Var::constant(0.0), |s, &a| s + a * a),
            &x[..100],
        );
        assert!(q.instructions().len() <= PAIRED_MIN);
        assert_eq!(find(&q), vec![]);
    }

    #[test]
    fn constants_that_differ_per_repetition_are_tables() {
        // Σ (w₀ + w₁ tₖ - yₖ)², a point's coordinates constants (no
        // `tₖ = 1`: `optimize` removes `w₁ · 1`, and the body with it)
        let t = |k: usize| 0.01 * k as f64 + 0.005;
        let y = |k: usize| (3.0 * t(k)).cos();
        let f = |w: &[Var]| {
            (0..400).fold(Var::constant(0.0), |s, k| {
                let r = w[0] + w[1] * t(k) - y(k);
                s + r * r
            })
        };
        let p = reverse::record(f, &[0.5, 0.5]);
        let loops = find(&p);
        assert_eq!(loops.len(), 1, "{loops:?}");
        let l = &loops[0];
        // (the first point adds to a constant 0: a term of its own)
        assert_eq!((l.start, l.period, l.reps), (5, 5, 399));
        assert_eq!(l.end(), p.instructions().len());
        assert_eq!(l.tables.len(), 2, "{l:?}");
        let first = 1;
        for (t, want) in [(0, &t as &dyn Fn(usize) -> f64), (1, &y)] {
            assert_eq!(l.tables[t].len(), l.reps);
            for r in 0..l.reps {
                assert_eq!(l.tables[t][r].to_bits(), want(first + r).to_bits());
            }
        }
        assert!(l.body.iter().flatten().any(|s| *s == Src::Table(0)));
        assert!(l.body.iter().flatten().any(|s| *s == Src::Table(1)));
    }

    #[test]
    fn a_repetition_may_lack_an_identity() {
        // binary cross-entropy `softplus(z) - z · t` over points labelled
        // 0 or 1: `optimize` removes `z · 1`
        let label = |k: usize| ((k.wrapping_mul(2_654_435_761) >> 13) & 1) as f64;
        let f = |w: &[Var]| {
            (0..300).fold(Var::constant(0.0), |s, k| {
                let z = w[0] * (0.01 * k as f64 + 0.005) + w[1];
                s + (z.softplus() - z * label(k))
            })
        };
        let p = reverse::record(f, &[0.5, 0.5]);
        let ones = (0..300).filter(|&k| label(k) == 1.0).count();
        assert!((100..200).contains(&ones), "{ones}");
        assert_eq!(p.instructions().len(), 300 * 6 - ones);
        let loops = find(&p);
        assert_eq!(loops.len(), 1, "{loops:?}");
        let l = &loops[0];
        assert_eq!((l.period, l.end), (6, p.instructions().len()));
        // the points from the loop's first on, one repetition each
        let first = 300 - l.reps;
        let start: usize = (0..first).map(|k| 6 - label(k) as usize).sum();
        assert_eq!(l.start, start);
        assert_eq!(l.ops[3], Op::Mul);
        let t = l.absent[3].expect("z · t may be absent");
        for r in 0..l.reps {
            let lacks = label(first + r) == 1.0;
            assert_eq!(l.tables[t][r], if lacks { 1.0 } else { 0.0 }, "{r}");
        }
        assert!(l
            .absent
            .iter()
            .enumerate()
            .all(|(j, a)| a.is_none() || j == 3));
        assert_eq!(emitted(&p, &loops), l.start + 6);
    }

    /// Passes over data, each reading the one before at a stride, as
    /// through nalgebra: `z = x·w₀ + ½`, `u = sin z + x·w₁`, then
    /// `Σ u₂ᵢ₊₁ · tanh zᵢ` (times a middle `z` with `fixed`), and a middle
    /// `u` after.
    fn passes(fixed: bool) -> impl Fn(&[Var]) -> Var {
        move |x: &[Var]| {
            let z: Vec<Var> = x.iter().map(|&a| a * x[0] + 0.5).collect();
            let u: Vec<Var> = (z.iter().zip(x))
                .map(|(&zi, &a)| zi.sin() + a * x[1])
                .collect();
            let c = if fixed {
                z[x.len() / 3]
            } else {
                Var::constant(1.5)
            };
            let mut s = Var::constant(0.0);
            for i in 0..x.len() / 2 {
                s += u[2 * i + 1] * z[i].tanh() * c;
            }
            s + u[x.len() / 2]
        }
    }

    #[test]
    fn passes_read_earlier_passes_at_a_stride() {
        let x: Vec<f64> = (0..600).map(|i| 0.3 + 0.001 * i as f64).collect();
        let p = reverse::record(passes(false), &x);
        let n = p.inputs();
        let loops = find(&p);
        let strided = |l: &Loop| -> Vec<Src> {
            (l.body.iter().flatten())
                .copied()
                .filter(|s| matches!(s, Src::Strided { .. }))
                .collect()
        };
        // z (`x₀ · x₀` apart) in two loops: i < 300, read by every pass,
        // and the odd i from 301, read by u only (the even ones are dead
        // code); the same for u and the sum, each reading the loops
        // before it at a stride
        let shape: Vec<(usize, usize)> = loops.iter().map(|l| (l.period, l.reps)).collect();
        assert_eq!(shape.len(), 6, "{loops:?}");
        assert!(shape[..2].iter().all(|s| s.0 == 2), "{shape:?}");
        assert!(shape[2..4].iter().all(|s| s.0 == 3), "{shape:?}");
        assert!(shape[4..].iter().all(|s| s.0 == 4), "{shape:?}");
        assert!(strided(&loops[0]).is_empty() && strided(&loops[1]).is_empty());
        // u at i < 300 reads z at every other repetition, from 300 on at
        // every one
        let from = |l: &Loop, s: Src| matches!(s, Src::Strided { from, .. } if from == l.start);
        let m = |s: Src| match s {
            Src::Strided { m, .. } => m,
            _ => unreachable!(),
        };
        let (u0, u1) = (strided(&loops[2]), strided(&loops[3]));
        assert!(
            u0.len() == 1 && from(&loops[0], u0[0]) && m(u0[0]) == 2,
            "{u0:?}"
        );
        assert!(
            u1.len() == 1 && from(&loops[1], u1[0]) && m(u1[0]) == 1,
            "{u1:?}"
        );
        // the sum reads z and u at every repetition
        for (k, u) in [(4, 2), (5, 3)] {
            let s = strided(&loops[k]);
            assert_eq!(s.len(), 2, "{s:?}");
            assert!(s.iter().any(|&x| from(&loops[0], x) && m(x) == 1), "{s:?}");
            assert!(s.iter().any(|&x| from(&loops[u], x) && m(x) == 1), "{s:?}");
        }
        // what is read after a loop, its `+`, is kept, nothing of the sums
        for (k, l) in loops.iter().enumerate() {
            let want: Vec<bool> = (0..l.period)
                .map(|j| k < 4 && l.ops[j] == Op::Add)
                .collect();
            assert_eq!(l.kept, want, "{l:?}");
        }
        // a middle z read as a fixed operand: the loop of z at i < 300
        // would need its adjoint in two places, so no loop hides it (the
        // later passes still loop where they read the other z loop)
        let p = reverse::record(passes(true), &x);
        let mid = n + 1 + 2 * (n / 3);
        assert_eq!(p.instructions()[mid - n].op, Op::Add);
        let loops = find(&p);
        for l in &loops {
            let last = n + l.start + (l.reps - 1) * l.period;
            assert!(!(n + l.start..last).contains(&mid), "{l:?}");
        }
        assert!(loops.iter().any(|l| !strided(l).is_empty()), "{loops:?}");
    }

    #[test]
    fn passes_over_the_same_points_fuse_unless_they_share_an_adjoint() {
        // a = x·w₀, b = tanh(a + ¼), c = b·w₁, d = c·w₁ + a, Σ d²: a, b
        // and c fuse; d adds into w₁'s adjoint at every point as c does, so
        // it stays apart (fused, w₁ would receive d's and c's contributions
        // point by point, not all of d's first)
        // (the points x[2..]: every one alike)
        let f = |x: &[Var]| {
            let a: Vec<Var> = x[2..].iter().map(|&v| v * x[0]).collect();
            let b: Vec<Var> = a.iter().map(|&v| (v + 0.25).tanh()).collect();
            let c: Vec<Var> = b.iter().map(|&v| v * x[1]).collect();
            let d: Vec<Var> = (c.iter().zip(&a)).map(|(&v, &u)| v * x[1] + u).collect();
            d.iter().fold(Var::constant(0.0), |s, &v| s + v * v)
        };
        let x: Vec<f64> = (0..500).map(|i| 0.3 + 0.001 * i as f64).collect();
        let p = reverse::record(f, &x);
        let loops = find(&p);
        let ops: Vec<&[Op]> = loops.iter().map(|l| &l.ops[..]).collect();
        assert_eq!(
            ops,
            [
                &[Op::Mul, Op::Add, Op::Tanh, Op::Mul][..],
                &[Op::Mul, Op::Add],
                &[Op::Mul, Op::Add]
            ],
            "{loops:?}"
        );
        // a, b and c, one point a repetition, each reading the one before
        // in a register
        let abc = &loops[0];
        let (s, r) = (abc.start, abc.reps);
        assert_eq!(r, 498);
        for j in 1..4 {
            assert_eq!(abc.body[j][0], Src::Local(j - 1), "{abc:?}");
        }
        assert_eq!(
            abc.seg,
            [(s, 1), (s + r, 2), (s + r + 1, 2), (s + 3 * r, 1)]
        );
        // d reads c and a at a stride, so they are kept; b is not
        assert_eq!(abc.kept, [true, false, false, true]);
        let d = &loops[1];
        let from_abc = |j: usize| Src::Strided {
            from: s,
            j,
            r0: 0,
            m: 1,
        };
        assert_eq!(
            d.body,
            [
                [from_abc(3), Src::Input(1, 0)],
                [Src::Local(0), from_abc(0)]
            ]
        );
    }

    #[test]
    fn a_value_read_after_the_loop_is_kept_or_of_its_last_repetition() {
        let x: Vec<f64> = (0..400).map(|i| 1.0 + 0.001 * i as f64).collect();
        let f = |k: usize, compare: bool| {
            move |x: &[Var]| {
                let mut s = Var::constant(0.0);
                let mut terms = Vec::new();
                for &a in x {
                    let t = (a - 1.0).powi(2) * a.cos();
                    terms.push(t);
                    s += t;
                }
                if compare && terms[k] > 0.5 {
                    s *= 2.0;
                }
                s + terms[k] * 3.0
            }
        };
        let read = |p: &Program| match p.instructions()[p.instructions().len() - 2].a {
            Arg::Slot(s) => s as usize,
            Arg::Const(_) => unreachable!(),
        };
        // the last term: one loop keeping nothing
        let p = reverse::record(f(399, false), &x);
        let loops = find(&p);
        assert_eq!(loops.len(), 1);
        assert!(loops[0].kept.iter().all(|k| !k));
        // a middle one read by straight-line code: kept
        let p = reverse::record(f(200, false), &x);
        let (n, t) = (p.inputs(), read(&p));
        let loops = find(&p);
        assert_eq!(loops.len(), 1);
        let l = &loops[0];
        let j = (t - n - l.start) % l.period;
        assert!(l.start < t - n && t - n < l.end, "{l:?}");
        let kept: Vec<usize> = (0..l.period).filter(|&j| l.kept[j]).collect();
        assert_eq!(kept, [j], "{l:?}");
        // and by a comparison: no loop hides it
        let p = reverse::record(f(200, true), &x);
        let (n, t) = (p.inputs(), read(&p));
        assert!(!p.guards().is_empty());
        for l in find(&p) {
            let last = n + l.start + (l.reps - 1) * l.period;
            assert!(!(n + l.start..last).contains(&t), "{l:?} hides slot {t}");
        }
    }

    #[test]
    fn no_loops_where_the_code_would_exceed_max_ops() {
        // `k` dot products of 40 inputs each, summed: per product a loop
        // over its terms, and a few instructions around it
        let dots = |k: usize| {
            move |x: &[Var]| {
                let mut s = Var::constant(0.0);
                for _ in 0..k {
                    let mut c = x[0] * x[40];
                    for i in 1..40 {
                        c += x[i] * x[40 + i];
                    }
                    s += c;
                }
                s
            }
        };
        let x: Vec<f64> = (0..80).map(|i| 0.1 + 0.01 * i as f64).collect();
        let p = reverse::record(dots(600), &x);
        let loops = find(&p);
        assert_eq!(loops.len(), 600);
        let code = emitted(&p, &loops);
        assert!(code <= MAX_OPS && code.is_multiple_of(600), "{code}");
        // 700 products: more code than `MAX_OPS` (interpreted under
        // `Jit::Auto`), so not searched
        assert!(code / 600 * 700 > MAX_OPS);
        let p = reverse::record(dots(700), &x);
        let loops = find(&p);
        assert!(loops.is_empty(), "{} loops", loops.len());
    }
}
