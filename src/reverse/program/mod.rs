//! Record once, replay many: a recording as a [`Program`].
//!
//! [`record`](crate::reverse::record) runs your function once on [`Var`](crate::Var)s,
//! like [`reverse::gradient`](crate::reverse::gradient), but keeps the
//! *structure* of the computation instead of the partials at that point: per
//! operation its [`Op`] (the identity of a rule in [`rules`](crate::rules)),
//! its operand slots and any constant operand. A [`Program`] is plain data
//! (`Clone + Send + Sync`, no thread-local state): replay it at another point
//! from any thread, and the values and partials are computed again by the
//! same rule table, so
//!
//! - replaying on `f64` gives the value and gradient ([`Program::gradient`],
//!   [`Program::gradient_into`] with a reused [`Workspace`]: no allocation),
//!   a vector-Jacobian product or the Jacobian;
//! - replaying on [`Dual<f64>`](crate::Dual) (one tangent through the values
//!   and the partials) and then sweeping on `Dual<f64>` gives a
//!   Hessian-vector product ([`Program::hvp`]); on
//!   [`DualVec<f64, N>`](crate::DualVec), N Hessian columns per pass
//!   ([`Program::hessian`]).
//!
//! ```
//! use dualtape::{reverse, Scalar};
//!
//! fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
//!     x[0] * x[0] * x[1] + x[1].sin()
//! }
//! let program = reverse::record(f, &[1.0, 2.0]);
//! let mut ws = program.workspace();
//! let mut g = [0.0; 2];
//! for x in [[1.0, 2.0], [3.0, -1.0]] {
//!     let v = program.gradient_into(&mut ws, &x, &mut g).unwrap();
//!     // bit for bit what a fresh recording gives
//!     assert_eq!((v, g.to_vec()), reverse::gradient(f, &x));
//! }
//! ```
//!
//! # The rules
//!
//! A recording fixes the control flow it took. So that a replay never
//! returns a gradient of a different function silently:
//!
//! 1. **Comparisons are recorded and re-checked.** Every comparison made on an
//!    active value while recording (`<`, `<=`, `==`, `partial_cmp`, ... in your
//!    code or inside nalgebra, e.g. pivoting; `is_nan`, `is_finite`,
//!    `is_sign_negative`) is stored with its outcome, and so is the branch
//!    taken by every kinked operation (`abs`, `max`, `min` and so `clamp`,
//!    `signum`, `copysign`). A replay evaluates them again and, if any
//!    outcome differs, returns [`ReplayError::ComparisonChanged`] naming the
//!    first one that changed, never a gradient. (CppAD calls this the
//!    compare-change count.)
//!
//!    ```
//!    use dualtape::reverse::{self, ReplayError};
//!
//!    // f(x) = x² for x > 1, else 2x
//!    let p = reverse::record(|x| if x[0] > 1.0 { x[0] * x[0] } else { x[0] * 2.0 }, &[3.0]);
//!    assert_eq!(p.gradient(&[2.0]).unwrap(), (4.0, vec![4.0]));
//!    let err = p.gradient(&[0.5]).unwrap_err();
//!    assert!(matches!(err, ReplayError::ComparisonChanged { index: 0, .. }));
//!    ```
//!
//!    A kinked operation is evaluated by its rule at every replay, so a
//!    replay across its kink is still exact; [`Program::accept_kink_switches`]
//!    lets such replays through (comparisons in your code are still checked).
//! 2. **A value that escapes marks the program.** Reading the value of an
//!    active `Var` while recording ([`Var::value`](crate::Var::value),
//!    [`Scalar::value`], `to_f64`, ...) can turn it into
//!    a constant or a branch the program cannot see. Such a program is marked,
//!    and replaying it returns [`ReplayError::ValueEscaped`] unless you
//!    call [`Program::accept_value_escape`] (you know the value was only
//!    printed, say).
//!
//!    ```
//!    use dualtape::reverse::{self, ReplayError};
//!
//!    // the value of x[0] becomes a constant of the recording
//!    let p = reverse::record(|x| x[1] * x[0].value(), &[2.0, 3.0]);
//!    assert!(matches!(p.gradient(&[5.0, 3.0]), Err(ReplayError::ValueEscaped { reads: 1 })));
//!    ```
//! 3. **A program's operations never depend on the point.** Where today's
//!    tape skips an operation because of a value (`x * 1.0` with partial 1
//!    is `x` itself, a zero partial makes a constant), a program records the
//!    operation all the same: only operands that are constants of the
//!    recording (never inputs) are folded away. Simplifications that depend
//!    only on the operations and constants happen in [`Program::optimize`]
//!    (dead code, multiplication by a constant 1, ...), which [`record`]
//!    runs; [`Program::stats`] reports the size before and after.
//!
//! # Bit for bit
//!
//! The replay evaluates the same rules on the same operands as a recording,
//! and its sweep is the tape's loop (a zero adjoint or a zero partial adds
//! nothing, rule 3 of [`rules`](crate::rules); `x * x` adds the summed
//! partials once). For speed it runs the operations grouped into batches of
//! one kind (once per program, the instructions are reordered), in an order
//! that adds the contributions to every adjoint in the recording's order,
//! so every sum rounds as the tape's does. A `+`, `-` or `*` whose result
//! has one user is fused with that user into one instruction where the
//! pair is a common one (`b - a²`, `a·c + x`, ...); the pair's sweep forms
//! the same products and sums, in the same order, as the two operations'. So a replay at any point where the control flow is
//! unchanged equals [`reverse::gradient`](crate::reverse::gradient) at that
//! point bit for bit, with one exception: where the tape skipped an
//! operation because its value was its operand's to the bit with partial 1
//! (`x + 1e-20` at `x = 1`, `sin` at a tiny argument, `max(x, c)` on the `x`
//! side, `abs` of a positive `x`), the program keeps the operation, and the
//! sweep adds the adjoints of that value's users into it first and then
//! into the operand, where the tape adds them straight into the operand: a
//! different order of the same additions, so the last bits can differ when
//! the operand has other users in between.
//!
//! # Compiled gradients and HVPs (feature `jit`)
//!
//! With the `jit` feature (`features = ["jit"]`, off by default: it brings
//! in the Cranelift code generator), the `f64` gradient
//! ([`Program::gradient`], [`Program::gradient_into`]) and the
//! Hessian-vector product ([`Program::hvp`], [`Program::hvp_into`]) of a
//! small program run as machine code: one function each, straight-line
//! code for the forward pass, the recorded comparisons and the reverse
//! sweep, with no operand table and no dispatch. That is what a small
//! program spends most of an interpreted gradient on (Rosenbrock at
//! n = 10: 1.6 instead of 7.8 f64 evaluations; benches/README.md has the
//! measurements).
//!
//! - **Loops.** Where a program repeats one body of instructions (a sum
//!   over the pairs of Rosenbrock, over grid cells, over data points with
//!   the same operations), operands advancing by fixed strides, the
//!   compiled gradient and HVP run the repetitions as a loop over that body, in
//!   both passes, in the same order as straight-line code would: its size
//!   and compile time are the body's, not the program's. Rosenbrock at
//!   n = 10⁶ (4 million instructions) compiles to 16 and runs at 6 f64
//!   evaluations instead of the interpreter's 12. Constants that differ
//!   from one repetition to the next (a data point's coordinates) are read
//!   from a table, and a repetition may lack an identity that recording
//!   removed (`z · t` for a point whose label `t` is 1). The sweep
//!   recomputes the values a repetition's partials need, so a body whose
//!   partials need the previous repetition's values (a running product)
//!   stays straight line.
//! - **When.** By default ([`Jit::Auto`]) a program of at most
//!   [`MAX_OPS`] instructions (each loop's body counted
//!   once) has its gradient compiled at its [`tier`]-th
//!   gradient and its HVP at its [`tier`]-th HVP ([`TIER`] up to 512
//!   instructions, more the larger the compiled code, fewer the longer
//!   the program is than that code: compiling costs about as much as that
//!   many interpreted calls, so a few calls never pay for it); larger
//!   programs, whose compile time grows faster than the time
//!   it saves, are interpreted. [`Program::set_jit`] asks
//!   for compiling now ([`Jit::Now`], whatever the size) or never
//!   ([`Jit::Off`]). The code is compiled once and shared by the program's
//!   clones (and threads); a deserialised or [`optimize`](Program::optimize)d
//!   program compiles again. Hosts Cranelift does not support (or a failure
//!   to compile) get the interpreter. Once compiled, a gradient or an HVP
//!   that the compiled code returns allocates nothing, whatever the
//!   workspace, except where a loop's body calls a shim (a sigmoid, an
//!   `exp`): its results are kept per repetition in the workspace, which
//!   grows once ([`Program::workspace`] makes it large enough for the
//!   gradient). One the interpreter replays, below, fits the workspace.
//! - **The same bits.** The compiled gradient evaluates every instruction
//!   by the same rule of [`rules`](crate::rules) (`+`, `-`, `*`, `/`,
//!   negation, `recip`, `powi(x, 2)` inline as the same IEEE operations,
//!   the others by calling the rule), sweeps the instructions in the
//!   recording's reverse order and never fuses a multiplication and an
//!   addition. The compiled HVP does the same on dual numbers. Neither
//!   tests rule 3 per contribution: they add every contribution with plain
//!   IEEE products, which gives the rules' bits wherever no NaN appears,
//!   and check for the NaNs where those could differ from the rules; where
//!   one appears (a NaN or infinite input, an overflow, `∞ · 0` that rule 3
//!   removes), the interpreter replays instead. So the value, gradient and
//!   product are the interpreter's bit for bit (NaNs aside, whose payloads
//!   no result promises).
//! - **The rules above still hold.** A changed comparison makes the
//!   compiled code give up before writing anything; the interpreter then
//!   replays and returns its [`ReplayError`]. Escaped values are refused
//!   before any code runs.
//!
//! [`record`]: crate::reverse::record
// Without the `jit` feature the items above do not exist: their links
// point at this section instead of being broken.
#![cfg_attr(
    not(feature = "jit"),
    doc = "[`Jit::Auto`]: #compiled-gradients-and-hvps-feature-jit",
    doc = "[`Jit::Now`]: #compiled-gradients-and-hvps-feature-jit",
    doc = "[`Jit::Off`]: #compiled-gradients-and-hvps-feature-jit",
    doc = "[`MAX_OPS`]: #compiled-gradients-and-hvps-feature-jit",
    doc = "[`TIER`]: #compiled-gradients-and-hvps-feature-jit",
    doc = "[`tier`]: #compiled-gradients-and-hvps-feature-jit",
    doc = "[`Program::set_jit`]: #compiled-gradients-and-hvps-feature-jit"
)]

#[cfg(feature = "jit")]
mod jit;
mod op;
pub(crate) mod record;
mod replay;

#[cfg(feature = "jit")]
pub use jit::{tier, Jit, MAX_OPS, TIER};
pub use op::{eval, Op, Test};
pub(crate) use op::{opcode, test_on, Code};
pub use replay::Workspace;

use std::fmt;

use nalgebra::DMatrix;

use crate::{Dual, DualVec, Scalar};
use replay::Exec;

/// An operand of an instruction: a slot (an input `0..n`, or the result of
/// instruction `k` at slot `n + k`) or a constant of the recording.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Arg {
    /// The value in a slot.
    Slot(u32),
    /// A constant.
    Const(f64),
}

/// One operation of a program: `slot n + k = op(a, b)` for the `k`-th
/// instruction (`b` is unused, a `Const(0.0)`, for a unary operation).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Instr {
    /// The operation.
    pub op: Op,
    /// The first operand.
    pub a: Arg,
    /// The second operand (binary operations only).
    pub b: Arg,
}

/// A recorded test on values and its outcome (see [`Test::outcome`]).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Guard {
    /// What was tested.
    pub test: Test,
    /// The first operand.
    pub a: Arg,
    /// The second operand (`Const(0.0)` for a predicate of one value).
    pub b: Arg,
    /// The outcome when recorded.
    pub outcome: u8,
}

/// Why a replay returned no result.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ReplayError {
    /// A recorded comparison (or a kinked operation's branch) comes out
    /// differently at this point: the function's control flow differs from
    /// the recording. Record the program again at this point.
    ComparisonChanged {
        /// The comparison's index in [`Program::guards`] (in recording order).
        index: usize,
        /// What was compared.
        test: Test,
        /// The first operand's value now.
        a: f64,
        /// The second operand's value now.
        b: f64,
        /// The outcome when recorded.
        recorded: u8,
        /// The outcome now.
        now: u8,
    },
    /// The recording read the value of an active `Var` (see rule 2 in the
    /// [module docs](self)), so the program may hold a branch or a constant
    /// that depends on the recording point.
    ValueEscaped {
        /// How many times a value was read.
        reads: usize,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReplayError::ComparisonChanged {
                index,
                test,
                a,
                b,
                recorded,
                now,
            } => {
                let what = if test.is_kink() {
                    "the branch of a kinked operation"
                } else {
                    "a comparison"
                };
                write!(
                    f,
                    "dualtape: replaying a recorded program: {what} changed: test #{index} \
                     ({}) was {} when recorded but is {} now (a = {a:e}, b = {b:e}). The function \
                     takes another branch at this point than where it was recorded, so the \
                     program does not compute it here; record it again at this point \
                     (reverse::record){}.",
                    test.symbol(),
                    test.describe(recorded),
                    test.describe(now),
                    if test.is_kink() {
                        ", or call Program::accept_kink_switches if the kink's rule is what you \
                         want on both sides"
                    } else {
                        ""
                    }
                )
            }
            ReplayError::ValueEscaped { reads } => write!(
                f,
                "dualtape: replaying a recorded program: the recording read the value of an \
                 active Var {reads} time(s) (Var::value, Scalar::value, to_f64, ...), so a value \
                 of the recording point may have become a constant or a branch the program \
                 cannot check. Compute with the Var instead (comparisons on Vars are recorded), \
                 or, if the value was only looked at, call Program::accept_value_escape."
            ),
        }
    }
}

impl std::error::Error for ReplayError {}

/// The size of a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Size {
    /// Operations (instructions).
    pub ops: usize,
    /// Recorded comparisons and kink branches.
    pub guards: usize,
    /// Distinct constants.
    pub constants: usize,
    /// Bytes of the executable form (instructions, constants, guards).
    pub bytes: usize,
}

/// The size of a program as recorded and after [`Program::optimize`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    /// As recorded.
    pub recorded: Size,
    /// Now (after optimisation).
    pub optimized: Size,
    /// Bytes of workspace a replay on `f64` uses.
    pub workspace_bytes: usize,
    /// Batches of the executable form: runs of operations of one kind that
    /// the replay executes as one loop (see the [module docs](self)).
    pub batches: usize,
    /// Operations fused into their one user in the executable form (each
    /// pair replays as one instruction: see the [module docs](self)).
    pub fused: usize,
}

/// A recorded computation, replayable at any point: see the [module
/// docs](self).
///
/// Made by [`reverse::record`](crate::reverse::record) or
/// [`reverse::record_vector`](crate::reverse::record_vector). Plain data:
/// `Clone + Send + Sync`; share one between threads by reference, each
/// thread with its own [`Workspace`].
///
/// # Panics
///
/// Every replay method panics if `x` (or `v`, `w`, an output buffer) has
/// the wrong length; the scalar methods ([`gradient`](Self::gradient),
/// [`hvp`](Self::hvp), ...) panic if the program does not have exactly one
/// output.
#[derive(Clone, Debug)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "Parts", into = "Parts")
)]
pub struct Program {
    inputs: usize,
    instrs: Vec<Instr>,
    outputs: Vec<Arg>,
    guards: Vec<Guard>,
    escapes: usize,
    accept_escapes: bool,
    accept_kinks: bool,
    recorded: Size,
    exec: Exec,
    /// When the `f64` gradient runs compiled ([`Program::set_jit`]).
    #[cfg(feature = "jit")]
    jit_mode: Jit,
    /// The compiled gradient, shared by clones.
    #[cfg(feature = "jit")]
    jit: jit::Cache,
}

/// The serialised form of a program: everything but the executable form,
/// which is rebuilt (after validation) on deserialisation.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Parts {
    inputs: usize,
    instrs: Vec<Instr>,
    outputs: Vec<Arg>,
    guards: Vec<Guard>,
    escapes: usize,
    accept_escapes: bool,
    accept_kinks: bool,
    recorded: (usize, usize, usize, usize),
}

#[cfg(feature = "serde")]
impl From<Program> for Parts {
    fn from(p: Program) -> Parts {
        let r = p.recorded;
        Parts {
            inputs: p.inputs,
            instrs: p.instrs,
            outputs: p.outputs,
            guards: p.guards,
            escapes: p.escapes,
            accept_escapes: p.accept_escapes,
            accept_kinks: p.accept_kinks,
            recorded: (r.ops, r.guards, r.constants, r.bytes),
        }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<Parts> for Program {
    type Error = String;
    fn try_from(p: Parts) -> Result<Program, String> {
        let mut prog = Program::from_parts(p.inputs, p.instrs, p.outputs, p.guards)?;
        prog.escapes = p.escapes;
        prog.accept_escapes = p.accept_escapes;
        prog.accept_kinks = p.accept_kinks;
        let r = p.recorded;
        prog.recorded = Size {
            ops: r.0,
            guards: r.1,
            constants: r.2,
            bytes: r.3,
        };
        Ok(prog)
    }
}

impl Program {
    /// A program from its parts, after checking its structure: every operand
    /// refers to an input or an earlier instruction, `MulAddTail`'s first
    /// operand is a `Mul`, outputs and guards refer to existing slots.
    ///
    /// # Errors
    ///
    /// A description of the first malformed part.
    pub fn from_parts(
        inputs: usize,
        instrs: Vec<Instr>,
        outputs: Vec<Arg>,
        guards: Vec<Guard>,
    ) -> Result<Program, String> {
        let mut p = Program::checked(inputs, instrs, outputs, guards)?;
        p.prepare();
        Ok(p)
    }

    /// [`from_parts`](Self::from_parts) without the executable form (left
    /// empty: compile it before any replay).
    fn checked(
        inputs: usize,
        instrs: Vec<Instr>,
        outputs: Vec<Arg>,
        guards: Vec<Guard>,
    ) -> Result<Program, String> {
        let mut instrs = instrs;
        validate(inputs, &mut instrs, &outputs, &guards)?;
        let recorded = size_of(&instrs, &outputs, &guards, &mut Vec::new());
        Ok(Program {
            inputs,
            instrs,
            outputs,
            guards,
            escapes: 0,
            accept_escapes: false,
            accept_kinks: false,
            recorded,
            exec: Exec::default(),
            #[cfg(feature = "jit")]
            jit_mode: Jit::default(),
            #[cfg(feature = "jit")]
            jit: jit::Cache::default(),
        })
    }

    /// The number of inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// The number of outputs.
    pub fn outputs(&self) -> usize {
        self.outputs.len()
    }

    /// The instructions, in order: instruction `k` writes slot `inputs() + k`.
    pub fn instructions(&self) -> &[Instr] {
        &self.instrs
    }

    /// The outputs as operands.
    pub fn output_args(&self) -> &[Arg] {
        &self.outputs
    }

    /// The recorded comparisons and kink branches, in recording order.
    pub fn guards(&self) -> &[Guard] {
        &self.guards
    }

    /// How many times the recording read the value of an active `Var`.
    pub fn escaped_values(&self) -> usize {
        self.escapes
    }

    /// Lets replays through although the recording read values (rule 2 of
    /// the [module docs](self)): do this only if no value read during the
    /// recording became a constant or a branch.
    pub fn accept_value_escape(&mut self) -> &mut Self {
        self.accept_escapes = true;
        self
    }

    /// Lets replays through where a kinked operation (`abs`, `max`, `min`,
    /// `clamp`, `signum`, `copysign`) takes another branch than when
    /// recorded. The replay evaluates the kinked operation's rule at the new
    /// point, so the result is what a fresh recording gives; comparisons in
    /// your own code (and nalgebra's) are still checked.
    pub fn accept_kink_switches(&mut self) -> &mut Self {
        self.accept_kinks = true;
        self
    }

    fn size(&self) -> Size {
        size_of(&self.instrs, &self.outputs, &self.guards, &mut Vec::new())
    }

    /// The program's size as recorded and now.
    pub fn stats(&self) -> Stats {
        Stats {
            recorded: self.recorded,
            optimized: self.size(),
            workspace_bytes: (2 * self.exec.slots() + 2 * self.exec.len()) * 8,
            batches: self.exec.batches.len(),
            fused: self.instrs.len() - self.exec.len(),
        }
    }

    /// When the `f64` gradient ([`gradient`](Self::gradient),
    /// [`gradient_into`](Self::gradient_into)) and the Hessian-vector
    /// product ([`hvp`](Self::hvp), [`hvp_into`](Self::hvp_into)) run as
    /// machine code compiled with Cranelift (feature `jit`; see [`Jit`] and
    /// the [module docs](self)). The default, [`Jit::Auto`], compiles a
    /// program's gradient at its [`tier`]-th gradient (at most [`MAX_OPS`]
    /// instructions) and its HVP at its [`tier`]-th HVP. The
    /// results are the interpreter's bit for bit either way. Clones made
    /// before share the compiled code but keep their own setting.
    #[cfg(feature = "jit")]
    pub fn set_jit(&mut self, jit: Jit) -> &mut Self {
        self.jit_mode = jit;
        self
    }

    /// Whether the `f64` gradient has been compiled (feature `jit`; for
    /// tests).
    #[cfg(feature = "jit")]
    #[doc(hidden)]
    pub fn jit_compiled(&self) -> bool {
        self.jit.compiled()
    }

    /// Whether the Hessian-vector product has been compiled (feature
    /// `jit`; for tests).
    #[cfg(feature = "jit")]
    #[doc(hidden)]
    pub fn jit_hvp_compiled(&self) -> bool {
        self.jit.hvp_compiled()
    }

    /// A workspace for replays on `f64`, sized for this program.
    pub fn workspace(&self) -> Workspace<f64> {
        let mut ws = Workspace::default();
        ws.fit(&self.exec);
        #[cfg(feature = "jit")]
        ws.scratch.resize(self.jit.scratch(self), 0.0);
        ws
    }

    fn check_policy(&self) -> Result<(), ReplayError> {
        if self.escapes > 0 && !self.accept_escapes {
            return Err(ReplayError::ValueEscaped {
                reads: self.escapes,
            });
        }
        Ok(())
    }

    /// Panics unless `got == want` (the test inline, the message out of
    /// line: nothing but a comparison on a replay's path).
    #[inline(always)]
    fn check_len(&self, what: &str, name: &str, got: usize, want: usize) {
        if got != want {
            Self::wrong_len(what, name, got, want)
        }
    }

    /// [`check_len`](Self::check_len)'s panic.
    #[cold]
    #[inline(never)]
    fn wrong_len(what: &str, name: &str, got: usize, want: usize) -> ! {
        panic!(
            "Program::{what}: {name} has {got} entries but the program has {want} {}; pass one \
             per {}",
            if name == "w" || name == "y" {
                "outputs"
            } else {
                "inputs"
            },
            if name == "w" || name == "y" {
                "output"
            } else {
                "input"
            },
        );
    }

    /// Panics unless the program has one output (as
    /// [`check_len`](Self::check_len): the test inline, the message out of
    /// line).
    #[inline(always)]
    fn one_output(&self, what: &str) {
        if self.outputs.len() != 1 {
            Self::not_one_output(what, self.outputs.len())
        }
    }

    /// [`one_output`](Self::one_output)'s panic.
    #[cold]
    #[inline(never)]
    fn not_one_output(what: &str, outputs: usize) -> ! {
        panic!(
            "Program::{what}: the program has {outputs} outputs, not 1; use vjp, jacobian or \
             evaluate for a program recorded with record_vector"
        )
    }

    /// Replays the forward pass on any scalar type: the inputs `x`, the
    /// outputs into `y`. The partials stay in `ws` for a following
    /// [`pullback`](Self::pullback).
    ///
    /// # Errors
    ///
    /// As the [module docs](self) say: a changed comparison, or escaped values.
    ///
    /// # Panics
    ///
    /// If `x` or `y` has the wrong length.
    pub fn evaluate<T: Scalar<Real = f64>>(
        &self,
        ws: &mut Workspace<T>,
        x: &[T],
        y: &mut [T],
    ) -> Result<(), ReplayError> {
        self.check_len("evaluate", "x", x.len(), self.inputs);
        self.check_len("evaluate", "y", y.len(), self.outputs.len());
        self.check_policy()?;
        ws.fit(&self.exec);
        // (the inputs copied into the workspace, for `pullback`)
        self.exec
            .forward(ws, !self.accept_kinks, replay::inputs(x), None)?;
        for (i, yi) in y.iter_mut().enumerate() {
            *yi = self.exec.output(ws, i);
        }
        Ok(())
    }

    /// After [`evaluate`](Self::evaluate) on the same workspace: `wᵀ J` into
    /// `xbar` (the adjoint sweep on `T`).
    ///
    /// # Panics
    ///
    /// If `w` or `xbar` has the wrong length.
    pub fn pullback<T: Scalar<Real = f64>>(&self, ws: &mut Workspace<T>, w: &[T], xbar: &mut [T]) {
        self.check_len("pullback", "w", w.len(), self.outputs.len());
        self.check_len("pullback", "xbar", xbar.len(), self.inputs);
        ws.fit(&self.exec);
        self.exec
            .sweep(ws, w.iter().copied().enumerate(), xbar, None);
    }

    /// The value at `x` (of the first output).
    ///
    /// # Errors
    ///
    /// As [`gradient`](Self::gradient).
    pub fn value(&self, x: &[f64]) -> Result<f64, ReplayError> {
        Ok(self.values(x)?[0])
    }

    /// Every output's value at `x`.
    ///
    /// # Errors
    ///
    /// As [`gradient`](Self::gradient).
    pub fn values(&self, x: &[f64]) -> Result<Vec<f64>, ReplayError> {
        let mut ws = Workspace::default();
        let mut y = vec![0.0; self.outputs.len()];
        self.evaluate(&mut ws, x, &mut y)?;
        Ok(y)
    }

    /// `(f(x), ∇f(x))` by one replay and one sweep.
    ///
    /// # Errors
    ///
    /// A [`ReplayError`] if a recorded comparison changed at `x` or the
    /// recording read values (see the [module docs](self)).
    pub fn gradient(&self, x: &[f64]) -> Result<(f64, Vec<f64>), ReplayError> {
        let mut g = vec![0.0; self.inputs];
        let mut ws = Workspace::default();
        let v = self.gradient_into(&mut ws, x, &mut g)?;
        Ok((v, g))
    }

    /// [`gradient`](Self::gradient) into `grad`, with a reused workspace:
    /// no allocation once `ws` has the program's size. Returns `f(x)`.
    ///
    /// # Errors
    ///
    /// As [`gradient`](Self::gradient).
    ///
    /// # Panics
    ///
    /// If `x` or `grad` does not have one entry per input, or the program
    /// has more than one output.
    pub fn gradient_into(
        &self,
        ws: &mut Workspace<f64>,
        x: &[f64],
        grad: &mut [f64],
    ) -> Result<f64, ReplayError> {
        self.one_output("gradient_into");
        self.check_len("gradient_into", "x", x.len(), self.inputs);
        self.check_len("gradient_into", "grad", grad.len(), self.inputs);
        self.check_policy()?;
        #[cfg(feature = "jit")]
        if let Some(code) = self.jit.gradient(self, self.jit_mode) {
            if let Some(v) = code.run(self.inputs, x, grad, !self.accept_kinks, &mut ws.scratch) {
                ws.jit_runs += 1;
                return Ok(v);
            }
            // a comparison changed (the interpreter names it), or a NaN
            // where the compiled shortcuts could differ from the rules
        }
        ws.fit(&self.exec);
        // (a large program reads `x` where it is, and adds into `grad`)
        self.exec
            .forward(ws, !self.accept_kinks, replay::inputs(x), Some(x))?;
        let v = self.exec.output(ws, 0);
        self.exec.sweep(ws, [(0, 1.0)], grad, Some(x));
        Ok(v)
    }

    /// A vector-Jacobian product: `(f(x), wᵀ J(x))`.
    ///
    /// # Errors
    ///
    /// As [`gradient`](Self::gradient).
    pub fn vjp(&self, x: &[f64], w: &[f64]) -> Result<(Vec<f64>, Vec<f64>), ReplayError> {
        let mut ws = Workspace::default();
        let mut y = vec![0.0; self.outputs.len()];
        self.check_len("vjp", "w", w.len(), self.outputs.len());
        self.evaluate(&mut ws, x, &mut y)?;
        let mut out = vec![0.0; self.inputs];
        self.pullback(&mut ws, w, &mut out);
        Ok((y, out))
    }

    /// The Jacobian, one sweep per output: `(f(x), J)` with
    /// `J[(i, j)] = ∂f_i/∂x_j`.
    ///
    /// # Errors
    ///
    /// As [`gradient`](Self::gradient).
    pub fn jacobian(&self, x: &[f64]) -> Result<(Vec<f64>, DMatrix<f64>), ReplayError> {
        let (m, n) = (self.outputs.len(), self.inputs);
        let mut ws = Workspace::default();
        let mut y = vec![0.0; m];
        self.evaluate(&mut ws, x, &mut y)?;
        let mut jac = DMatrix::zeros(m, n);
        let mut row = vec![0.0; n];
        for i in 0..m {
            self.exec.sweep(&mut ws, [(i, 1.0)], &mut row, None);
            for (j, &r) in row.iter().enumerate() {
                jac[(i, j)] = r;
            }
        }
        Ok((y, jac))
    }

    /// A Hessian-vector product by replaying on `Dual<f64>` (the direction
    /// `v` as the inputs' tangents) and sweeping on `Dual<f64>`:
    /// `(f(x), ∇²f(x) v)`.
    ///
    /// # Errors
    ///
    /// As [`gradient`](Self::gradient).
    pub fn hvp(&self, x: &[f64], v: &[f64]) -> Result<(f64, Vec<f64>), ReplayError> {
        let mut ws = Workspace::default();
        let mut hv = vec![0.0; self.inputs];
        let mut g = vec![0.0; self.inputs];
        let value = self.hvp_into(&mut ws, x, v, &mut g, &mut hv)?;
        Ok((value, hv))
    }

    /// [`hvp`](Self::hvp) with a reused workspace, also giving the gradient:
    /// writes `∇f(x)` into `grad` and `∇²f(x) v` into `hv`, returns `f(x)`.
    ///
    /// # Errors
    ///
    /// As [`gradient`](Self::gradient).
    ///
    /// # Panics
    ///
    /// If a buffer does not have one entry per input, or the program has
    /// more than one output.
    pub fn hvp_into(
        &self,
        ws: &mut Workspace<Dual<f64>>,
        x: &[f64],
        v: &[f64],
        grad: &mut [f64],
        hv: &mut [f64],
    ) -> Result<f64, ReplayError> {
        self.one_output("hvp");
        for (name, len) in [
            ("x", x.len()),
            ("v", v.len()),
            ("grad", grad.len()),
            ("hv", hv.len()),
        ] {
            self.check_len("hvp", name, len, self.inputs);
        }
        self.check_policy()?;
        #[cfg(feature = "jit")]
        if let Some(code) = self.jit.hvp(self, self.jit_mode) {
            if let Some(value) = code.run(
                self.inputs,
                x,
                v,
                grad,
                hv,
                !self.accept_kinks,
                &mut ws.scratch,
            ) {
                ws.jit_runs += 1;
                return Ok(value);
            }
            // a comparison changed (the interpreter names it), or a NaN
            // where the compiled shortcuts could differ from the rules
        }
        ws.fit(&self.exec);
        // (the inputs are built from `x` and `v` into the workspace)
        self.exec.forward(
            ws,
            !self.accept_kinks,
            |lo, s| {
                for ((s, &xi), &vi) in s.iter_mut().zip(&x[lo..]).zip(&v[lo..]) {
                    *s = Dual::new(xi, vi);
                }
            },
            None,
        )?;
        let value = self.exec.output(ws, 0).re;
        let n = self.inputs;
        let mut xbar = std::mem::take(&mut ws.out);
        xbar.resize(n, Dual::new(0.0, 0.0));
        self.exec
            .sweep(ws, [(0, Dual::new(1.0, 0.0))], &mut xbar, None);
        for i in 0..n {
            grad[i] = xbar[i].re;
            hv[i] = xbar[i].eps;
        }
        ws.out = xbar;
        Ok(value)
    }

    /// The Hessian by replaying on `DualVec<f64, 4>`, four columns per pass:
    /// `(f(x), ∇f(x), ∇²f(x))`.
    ///
    /// # Errors
    ///
    /// As [`gradient`](Self::gradient).
    pub fn hessian(&self, x: &[f64]) -> Result<(f64, Vec<f64>, DMatrix<f64>), ReplayError> {
        const N: usize = 4;
        self.one_output("hessian");
        self.check_len("hessian", "x", x.len(), self.inputs);
        let n = self.inputs;
        let mut ws: Workspace<DualVec<f64, N>> = Workspace::default();
        let mut hess = DMatrix::zeros(n, n);
        let mut grad = vec![0.0; n];
        let mut xs = vec![DualVec::new(0.0, [0.0; N]); n];
        let mut xbar = vec![DualVec::new(0.0, [0.0; N]); n];
        let mut y = [DualVec::new(0.0, [0.0; N])];
        let mut value;
        let mut start = 0;
        loop {
            for (i, s) in xs.iter_mut().enumerate() {
                let mut eps = [0.0; N];
                if (start..start + N).contains(&i) {
                    eps[i - start] = 1.0;
                }
                *s = DualVec::new(x[i], eps);
            }
            self.evaluate(&mut ws, &xs, &mut y)?;
            value = y[0].re;
            self.exec
                .sweep(&mut ws, [(0, DualVec::new(1.0, [0.0; N]))], &mut xbar, None);
            for i in 0..n {
                grad[i] = xbar[i].re;
                for l in 0..N.min(n.saturating_sub(start)) {
                    hess[(i, start + l)] = xbar[i].eps[l];
                }
            }
            start += N;
            if start >= n {
                break;
            }
        }
        Ok((value, grad, hess))
    }
}

/// Checks a program's structure (see [`Program::from_parts`]) and sets the
/// unused operand of every unary instruction to `Const(0.0)`.
fn validate(
    inputs: usize,
    instrs: &mut [Instr],
    outputs: &[Arg],
    guards: &[Guard],
) -> Result<(), String> {
    let total = inputs
        .checked_add(instrs.len())
        .filter(|&t| t <= u32::MAX as usize / 2)
        .ok_or("too many slots for u32 indices")?;
    let ok = |a: Arg, below: usize| match a {
        Arg::Slot(s) => (s as usize) < below,
        Arg::Const(_) => true,
    };
    for k in 0..instrs.len() {
        let ins = &mut instrs[k];
        if !ins.op.is_binary() {
            ins.b = Arg::Const(0.0);
        }
        let below = inputs + k;
        if !ok(ins.a, below) || !ok(ins.b, below) {
            return Err(format!(
                "instruction {k} ({:?}) refers to a slot at or after its own ({below})",
                ins
            ));
        }
        if let Op::MulAddTail = ins.op {
            let ins = instrs[k];
            let good = match ins.a {
                Arg::Slot(s) => (s as usize) >= inputs && instrs[s as usize - inputs].op == Op::Mul,
                Arg::Const(_) => false,
            };
            if !good {
                return Err(format!(
                    "instruction {k}: the first operand of MulAddTail must be a Mul"
                ));
            }
        }
    }
    for (i, &o) in outputs.iter().enumerate() {
        if !ok(o, total) {
            return Err(format!(
                "output {i} refers to slot {o:?}, beyond the program"
            ));
        }
    }
    for (i, g) in guards.iter().enumerate() {
        if !ok(g.a, total) || !ok(g.b, total) {
            return Err(format!("guard {i} refers to a slot beyond the program"));
        }
    }
    Ok(())
}

/// The size of a program's parts; `bits` is scratch (the constants' bit
/// patterns, sorted to count the distinct ones).
fn size_of(instrs: &[Instr], outputs: &[Arg], guards: &[Guard], bits: &mut Vec<u64>) -> Size {
    bits.clear();
    // a small direct-mapped cache of constants seen: a program's few
    // distinct constants recur in every term, and only misses are sorted
    let (mut seen, mut valid) = ([0u64; 64], 0u64);
    let mut note = |a: Arg| {
        if let Arg::Const(c) = a {
            let b = c.to_bits();
            let i = (b.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize;
            if valid & (1 << i) == 0 || seen[i] != b {
                seen[i] = b;
                valid |= 1 << i;
                bits.push(b);
            }
        }
    };
    for i in instrs {
        note(i.a);
        if i.op.is_binary() {
            note(i.b);
        }
    }
    for &o in outputs {
        note(o);
    }
    for g in guards {
        note(g.a);
        note(g.b);
    }
    bits.sort_unstable();
    bits.dedup();
    let constants = bits.len();
    Size {
        ops: instrs.len(),
        guards: guards.len(),
        constants,
        // two operand slots per operation (the batch table is a few
        // bytes per hundreds of operations)
        bytes: instrs.len() * 8
            + constants * 8
            + guards.len() * std::mem::size_of::<replay::XGuard>()
            + outputs.len() * 4,
    }
}

/// Builds a program from a finished recording: `n` inputs, the builder's
/// instructions and guards, the outputs as tape operands. The builder's
/// buffers are scratch for the optimiser and keep their capacity for the
/// next recording; the program gets exact-size copies of what it keeps.
pub(crate) fn finish(n: usize, b: &mut record::Builder, mut outputs: Vec<Arg>) -> Program {
    validate(n, &mut b.instrs, &outputs, &b.guards).unwrap_or_else(|e| {
        panic!("dualtape: internal error: a recorded program is malformed: {e}")
    });
    let recorded = size_of(&b.instrs, &outputs, &b.guards, &mut b.constants);
    let instrs = optimized(
        n,
        &mut b.instrs,
        &mut outputs,
        &mut b.guards,
        &mut b.map,
        &mut b.flags,
    );
    let mut p = Program {
        inputs: n,
        instrs,
        outputs,
        guards: b.guards.clone(),
        escapes: b.escapes,
        accept_escapes: false,
        accept_kinks: false,
        recorded,
        exec: Exec::default(),
        #[cfg(feature = "jit")]
        jit_mode: Jit::default(),
        #[cfg(feature = "jit")]
        jit: jit::Cache::default(),
    };
    p.prepare();
    p
}

impl Program {
    /// Simplifies the program without changing what any replay computes:
    /// removes operations whose results reach no output and no recorded
    /// comparison (dead code), and multiplications and divisions by a
    /// constant 1, `powi(x, 1)`, additions of `-0.0` and subtractions of
    /// `+0.0` (their values are their operands' to the bit, with partial 1,
    /// at every point). `x + 0.0` is kept: it is `+0` at `x = -0`, which an
    /// `atan2`, `1/x` or `copysign` after it tells apart; the tape records
    /// it too, at every point, so a replay adds the adjoints in a fresh
    /// recording's order. [`record`](crate::reverse::record)
    /// calls it; [`stats`](Self::stats) gives the size before and after.
    pub fn optimize(&mut self) {
        let (mut map, mut flags) = (Vec::new(), Vec::new());
        self.instrs = optimized(
            self.inputs,
            &mut self.instrs,
            &mut self.outputs,
            &mut self.guards,
            &mut map,
            &mut flags,
        );
        // (the instructions changed: compile again when asked)
        self.prepare();
    }

    /// Makes the executable form of the instructions, and (feature `jit`)
    /// a new cache for their compiled code, its tier known: once per
    /// program, so that no replay pays (or allocates) for either.
    fn prepare(&mut self) {
        self.exec = Exec::compile(self);
        #[cfg(feature = "jit")]
        {
            self.jit = jit::Cache::new(self);
        }
    }
}

/// A product kept because a `MulAddTail` reads it.
const FUSED: u8 = 1;
/// A slot whose value reaches an output or a guard.
const LIVE: u8 = 2;

/// [`Program::optimize`] on a program's parts: returns the kept
/// instructions (an exact-size vector), renumbers `outputs` and `guards` in
/// place. `instrs` is scratch (left with every operand resolved through
/// the identities); `map` and `flags` are scratch of one entry per slot.
///
/// Three passes over the instructions, no copy of them but the result:
/// identities found and operands resolved in place (slot → the slot it is
/// identical to), liveness backwards from the outputs and guards, then the
/// kept instructions renumbered into the result.
fn optimized(
    n: usize,
    instrs: &mut [Instr],
    outputs: &mut [Arg],
    guards: &mut [Guard],
    map: &mut Vec<u32>,
    flags: &mut Vec<u8>,
) -> Vec<Instr> {
    let total = n + instrs.len();
    flags.clear();
    flags.resize(total, 0);
    // `1 * a` fused into `mul_add` is `a + b` to the bit (the tape, which
    // skips the product, records it so): make it an addition; the products
    // still fused stay (their values are read by the tail)
    for k in 0..instrs.len() {
        if let (Op::MulAddTail, Arg::Slot(s)) = (instrs[k].op, instrs[k].a) {
            let m = instrs[s as usize - n];
            let other = match (m.a, m.b) {
                (Arg::Const(c), other) | (other, Arg::Const(c)) if c == 1.0 => Some(other),
                _ => None,
            };
            if let Some(other @ Arg::Slot(_)) = other {
                instrs[k] = Instr {
                    op: Op::Add,
                    a: other,
                    b: instrs[k].b,
                };
            } else {
                flags[s as usize] |= FUSED;
            }
        }
    }
    // 1. identities: `map[s]` is the slot `s` is identical to (itself if
    // kept); operands resolved in place
    map.clear();
    map.extend(0..total as u32);
    let resolve = |a: Arg, map: &[u32]| match a {
        Arg::Slot(s) => Arg::Slot(map[s as usize]),
        c => c,
    };
    for k in 0..instrs.len() {
        let ins = instrs[k];
        let a = resolve(ins.a, map);
        let b = resolve(ins.b, map);
        // the operations whose value is their operand's to the bit at every
        // point, the same ones the tape skips (`Code::is_identity`: not
        // `x + 0.0`, which is `+0` at `x = -0`)
        let identity = match (a, b) {
            _ if flags[n + k] & FUSED != 0 => None,
            (Arg::Slot(_), Arg::Const(c)) if Code::Rhs(ins.op, c).is_identity() => Some(a),
            (Arg::Const(c), Arg::Slot(_)) if Code::Lhs(ins.op, c).is_identity() => Some(b),
            _ if Code::Unary(ins.op).is_identity() => Some(a),
            _ => None,
        };
        match identity {
            Some(Arg::Slot(src)) => map[n + k] = src,
            _ => instrs[k] = Instr { op: ins.op, a, b },
        }
    }
    for o in outputs.iter_mut() {
        *o = resolve(*o, map);
    }
    for g in guards.iter_mut() {
        g.a = resolve(g.a, map);
        g.b = resolve(g.b, map);
    }
    // 2. dead code: keep what reaches an output or a guard
    let mark = |a: Arg, flags: &mut [u8]| {
        if let Arg::Slot(s) = a {
            flags[s as usize] |= LIVE;
        }
    };
    for &o in outputs.iter() {
        mark(o, flags);
    }
    for g in guards.iter() {
        mark(g.a, flags);
        mark(g.b, flags);
    }
    let kept = |k: usize, map: &[u32], flags: &[u8]| {
        flags[n + k] & LIVE != 0 && map[n + k] as usize == n + k
    };
    let mut count = 0;
    for k in (0..instrs.len()).rev() {
        if kept(k, map, flags) {
            count += 1;
            mark(instrs[k].a, flags);
            mark(instrs[k].b, flags);
        }
    }
    // 3. the kept instructions, renumbered: `map` now maps a kept slot to
    // its new number (operands are kept slots, already renumbered)
    let mut out = Vec::with_capacity(count);
    for k in 0..instrs.len() {
        if kept(k, map, flags) {
            let ins = instrs[k];
            out.push(Instr {
                a: resolve(ins.a, map),
                b: resolve(ins.b, map),
                ..ins
            });
            map[n + k] = (n + out.len() - 1) as u32;
        }
    }
    for o in outputs.iter_mut() {
        *o = resolve(*o, map);
    }
    for g in guards.iter_mut() {
        g.a = resolve(g.a, map);
        g.b = resolve(g.b, map);
    }
    out
}
