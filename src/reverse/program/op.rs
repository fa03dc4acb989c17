//! The operations of a program: one per rule of [`rules`](crate::rules),
//! and their evaluation through that table.

use crate::rules;
use crate::Scalar;

/// One operation of a recorded [`Program`](super::Program): the identity of
/// a rule in [`rules`](crate::rules). Operands (slots or constants) are kept
/// apart, in the program's instructions; an operation never stores a value of
/// the point where it was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[allow(missing_docs)] // each variant is the rule of the same name in `rules`
pub enum Op {
    // ---- binary
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Powf,
    Atan2,
    Hypot,
    Log,
    Max,
    Min,
    Copysign,
    /// The second half of `a.mul_add(b, c)`: its first operand is the
    /// program's `Mul` of `a` and `b`, its second `c`; the value is
    /// `a.mul_add(b, c)` rounded once, the partials `(1, 1)` (as the tape
    /// records it).
    MulAddTail,
    // ---- unary
    Neg,
    Recip,
    Sqrt,
    Cbrt,
    Powi(i32),
    Exp,
    Exp2,
    ExpM1,
    Ln,
    Ln1p,
    Log2,
    Log10,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Sigmoid,
    Softplus,
    Abs,
    Signum,
    Floor,
    Ceil,
    Round,
    Trunc,
    Fract,
}

impl Op {
    /// Whether the operation takes two operands.
    #[inline]
    pub fn is_binary(self) -> bool {
        use Op::*;
        matches!(
            self,
            Add | Sub
                | Mul
                | Div
                | Rem
                | Powf
                | Atan2
                | Hypot
                | Log
                | Max
                | Min
                | Copysign
                | MulAddTail
        )
    }

    /// Whether the operation has a kink or jump whose branch a recording fixes
    /// and a replay checks (see the [module docs](super)): `abs`, `max`,
    /// `min` (so `clamp`), `signum`, `copysign`.
    #[inline]
    pub fn is_kinked(self) -> bool {
        matches!(
            self,
            Op::Abs | Op::Max | Op::Min | Op::Signum | Op::Copysign
        )
    }

    /// Whether the operation is linear in each operand with constant
    /// partials (`+`, `-`, negation): its second derivatives are all zero.
    #[inline]
    pub fn is_linear(self) -> bool {
        matches!(self, Op::Add | Op::Sub | Op::Neg)
    }

    /// The name of the rule, as in [`rules`](crate::rules).
    pub fn name(self) -> &'static str {
        use Op::*;
        match self {
            Add => "add",
            Sub => "sub",
            Mul => "mul",
            Div => "div",
            Rem => "rem",
            Powf => "powf",
            Atan2 => "atan2",
            Hypot => "hypot",
            Log => "log",
            Max => "max",
            Min => "min",
            Copysign => "copysign",
            MulAddTail => "mul_add",
            Neg => "neg",
            Recip => "recip",
            Sqrt => "sqrt",
            Cbrt => "cbrt",
            Powi(_) => "powi",
            Exp => "exp",
            Exp2 => "exp2",
            ExpM1 => "exp_m1",
            Ln => "ln",
            Ln1p => "ln_1p",
            Log2 => "log2",
            Log10 => "log10",
            Sin => "sin",
            Cos => "cos",
            Tan => "tan",
            Asin => "asin",
            Acos => "acos",
            Atan => "atan",
            Sinh => "sinh",
            Cosh => "cosh",
            Tanh => "tanh",
            Asinh => "asinh",
            Acosh => "acosh",
            Atanh => "atanh",
            Sigmoid => "sigmoid",
            Softplus => "softplus",
            Abs => "abs",
            Signum => "signum",
            Floor => "floor",
            Ceil => "ceil",
            Round => "round",
            Trunc => "trunc",
            Fract => "fract",
        }
    }
}

#[inline(always)]
fn un<T: Scalar>((v, d): rules::Unary<T>) -> rules::Binary<T> {
    (v, d, T::zero())
}

/// Evaluates `op` at `(a, b)` through [`rules`](crate::rules): the value and
/// the partials with respect to `a` and `b` (`∂/∂b = 0` for a unary
/// operation, which ignores `b`). `MulAddTail` is evaluated by the replay
/// itself (it needs the operands of its `Mul`); here it is `a + b`.
#[inline(always)]
pub fn eval<T: Scalar>(op: Op, a: T, b: T) -> rules::Binary<T> {
    use Op::*;
    match op {
        Add | MulAddTail => rules::add(a, b),
        Sub => rules::sub(a, b),
        Mul => rules::mul(a, b),
        Div => rules::div(a, b),
        Rem => rules::rem(a, b),
        Powf => rules::powf(a, b),
        Atan2 => rules::atan2(a, b),
        Hypot => rules::hypot(a, b),
        Log => rules::log(a, b),
        Max => rules::max(a, b),
        Min => rules::min(a, b),
        Copysign => rules::copysign(a, b),
        Neg => un(rules::neg(a)),
        Recip => un(rules::recip(a)),
        Sqrt => un(rules::sqrt(a)),
        Cbrt => un(rules::cbrt(a)),
        Powi(n) => un(rules::powi(a, n)),
        Exp => un(rules::exp(a)),
        Exp2 => un(rules::exp2(a)),
        ExpM1 => un(rules::exp_m1(a)),
        Ln => un(rules::ln(a)),
        Ln1p => un(rules::ln_1p(a)),
        Log2 => un(rules::log2(a)),
        Log10 => un(rules::log10(a)),
        Sin => un(rules::sin(a)),
        Cos => un(rules::cos(a)),
        Tan => un(rules::tan(a)),
        Asin => un(rules::asin(a)),
        Acos => un(rules::acos(a)),
        Atan => un(rules::atan(a)),
        Sinh => un(rules::sinh(a)),
        Cosh => un(rules::cosh(a)),
        Tanh => un(rules::tanh(a)),
        Asinh => un(rules::asinh(a)),
        Acosh => un(rules::acosh(a)),
        Atanh => un(rules::atanh(a)),
        Sigmoid => un(rules::sigmoid(a)),
        Softplus => un(rules::softplus(a)),
        Abs => un(rules::abs(a)),
        Signum => un(rules::signum(a)),
        Floor => un(rules::floor(a)),
        Ceil => un(rules::ceil(a)),
        Round => un(rules::round(a)),
        Trunc => un(rules::trunc(a)),
        Fract => un(rules::fract(a)),
    }
}

/// The branch a kinked operation takes at `(a, b)` (plain values), as the
/// rule in [`rules`](crate::rules) decides it; `None` for an operation
/// without kinks.
pub(crate) fn branch(op: Op, a: f64, b: f64) -> Option<u8> {
    let class = |x: f64| -> u8 {
        if x > 0.0 {
            0
        } else if x < 0.0 {
            1
        } else if x == 0.0 {
            2
        } else {
            3
        }
    };
    Some(match op {
        Op::Abs => class(a),
        Op::Max => {
            if a > b || b.is_nan() {
                0
            } else if b > a || a.is_nan() {
                1
            } else {
                2
            }
        }
        Op::Min => {
            if a < b || b.is_nan() {
                0
            } else if b < a || a.is_nan() {
                1
            } else {
                2
            }
        }
        Op::Signum => u8::from(a.is_sign_negative()) + 2 * u8::from(a.is_nan()),
        Op::Copysign => class(a) + 4 * u8::from(b.is_sign_negative()),
        _ => return None,
    })
}

/// A test on values made while recording: a comparison or a predicate in
/// user code (or in nalgebra), or the branch of a kinked operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Test {
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
    /// `a == b`.
    Eq,
    /// `a.partial_cmp(&b)`.
    PartialCmp,
    /// `a.is_nan()`.
    IsNan,
    /// `a.is_finite()`.
    IsFinite,
    /// `a.is_infinite()`.
    IsInfinite,
    /// `a.is_sign_negative()` (so also `is_sign_positive`).
    SignNegative,
    /// The branch of a kinked operation (see [`Op::is_kinked`]).
    Kink(Op),
}

impl Test {
    /// The outcome of the test at plain values, as a small code (a `bool`
    /// as 0/1; `partial_cmp` as 0 `Less`, 1 `Equal`, 2 `Greater`, 3 `None`;
    /// a kink's branch number).
    pub fn outcome(self, a: f64, b: f64) -> u8 {
        use std::cmp::Ordering::*;
        match self {
            Test::Lt => u8::from(a < b),
            Test::Le => u8::from(a <= b),
            Test::Gt => u8::from(a > b),
            Test::Ge => u8::from(a >= b),
            Test::Eq => u8::from(a == b),
            Test::PartialCmp => match a.partial_cmp(&b) {
                Some(Less) => 0,
                Some(Equal) => 1,
                Some(Greater) => 2,
                None => 3,
            },
            Test::IsNan => u8::from(a.is_nan()),
            Test::IsFinite => u8::from(a.is_finite()),
            Test::IsInfinite => u8::from(a.is_infinite()),
            Test::SignNegative => u8::from(a.is_sign_negative()),
            Test::Kink(op) => branch(op, a, b).unwrap_or(0),
        }
    }

    /// Whether the test is the branch of a kinked operation.
    pub fn is_kink(self) -> bool {
        matches!(self, Test::Kink(_))
    }

    /// Describes an outcome code in words.
    pub(crate) fn describe(self, outcome: u8) -> String {
        match self {
            Test::PartialCmp => ["Less", "Equal", "Greater", "None (NaN)"]
                .get(outcome as usize)
                .unwrap_or(&"?")
                .to_string(),
            Test::Kink(Op::Abs) => ["x > 0", "x < 0", "x == 0", "x is NaN"]
                .get(outcome as usize)
                .unwrap_or(&"?")
                .to_string(),
            Test::Kink(Op::Max) | Test::Kink(Op::Min) => {
                ["first argument", "second argument", "a tie"]
                    .get(outcome as usize)
                    .unwrap_or(&"?")
                    .to_string()
            }
            Test::Kink(Op::Signum) => ["x positive", "x negative", "x NaN", "x NaN"]
                .get(outcome as usize)
                .unwrap_or(&"?")
                .to_string(),
            Test::Kink(Op::Copysign) => {
                let x = ["x > 0", "x < 0", "x == 0", "x NaN"][(outcome % 4) as usize];
                let s = if outcome >= 4 {
                    "sign negative"
                } else {
                    "sign positive"
                };
                format!("{x}, {s}")
            }
            _ => (outcome != 0).to_string(),
        }
    }

    /// The test as code, e.g. `a < b`.
    pub(crate) fn symbol(self) -> String {
        match self {
            Test::Lt => "a < b".into(),
            Test::Le => "a <= b".into(),
            Test::Gt => "a > b".into(),
            Test::Ge => "a >= b".into(),
            Test::Eq => "a == b".into(),
            Test::PartialCmp => "a.partial_cmp(b)".into(),
            Test::IsNan => "a.is_nan()".into(),
            Test::IsFinite => "a.is_finite()".into(),
            Test::IsInfinite => "a.is_infinite()".into(),
            Test::SignNegative => "a.is_sign_negative()".into(),
            Test::Kink(op) => format!("the branch of {}", op.name()),
        }
    }
}

impl Code {
    /// Whether the operation is the identity at every point, its value its
    /// operand's to the bit and its partial 1: `x * 1`, `1 * x`, `x / 1`,
    /// `powi(x, 1)`, and of the sums only `x + (-0)`, `(-0) + x` and
    /// `x - (+0)`. (`x + 0.0` and `x - (-0.0)` are not: they are `+0` at
    /// `x = -0`, which an `atan2`, a division or a `copysign` after them
    /// tells apart.) These, and only these, are skipped by the tape and
    /// removed from a program ([`Program::optimize`](super::Program::optimize)),
    /// so that a fresh recording and a replay have the same structure and
    /// add the adjoints in the same order.
    #[inline(always)]
    pub(crate) fn is_identity(self) -> bool {
        let zero = |c: f64, negative: bool| c == 0.0 && c.is_sign_negative() == negative;
        match self {
            Code::Rhs(Op::Mul, c) | Code::Lhs(Op::Mul, c) | Code::Rhs(Op::Div, c) => c == 1.0,
            Code::Rhs(Op::Add, c) | Code::Lhs(Op::Add, c) => zero(c, true),
            Code::Rhs(Op::Sub, c) => zero(c, false),
            Code::Unary(Op::Powi(1)) => true,
            _ => false,
        }
    }
}

/// How the operation is applied in the ops plumbing: by itself, or with a
/// constant operand on the right (`x op c`) or on the left (`c op x`).
/// Forward mode ignores it; a `Var` recording a program stores it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Code {
    /// A unary operation.
    Unary(Op),
    /// `x op c`.
    Rhs(Op, f64),
    /// `c op x`.
    Lhs(Op, f64),
}

/// `test` evaluated on values of any scalar type through its own
/// comparisons, so that a nested type (`Dual<Var>`) records the test on its
/// innermost `Var`.
#[inline(always)]
pub(crate) fn test_on<T: Scalar>(test: Test, a: T, b: T) -> u8 {
    use std::cmp::Ordering::*;
    match test {
        Test::Lt => u8::from(a < b),
        Test::Le => u8::from(a <= b),
        Test::Gt => u8::from(a > b),
        Test::Ge => u8::from(a >= b),
        Test::Eq => u8::from(a == b),
        Test::PartialCmp => match a.partial_cmp(&b) {
            Some(Less) => 0,
            Some(Equal) => 1,
            Some(Greater) => 2,
            None => 3,
        },
        #[allow(clippy::eq_op)]
        Test::IsNan => u8::from(a != a),
        Test::IsFinite => u8::from(nalgebra::ComplexField::is_finite(&a)),
        Test::IsInfinite => {
            #[allow(clippy::eq_op)]
            let nan = a != a;
            u8::from(!nalgebra::ComplexField::is_finite(&a) && !nan)
        }
        Test::SignNegative => u8::from(nalgebra::RealField::is_sign_negative(&a)),
        Test::Kink(op) => branch(op, a.value().into(), b.value().into()).unwrap_or(0),
    }
}

/// The operation of each rule, by the rule's name (for the ops macro).
#[allow(non_upper_case_globals, missing_docs)]
pub(crate) mod opcode {
    use super::Op;
    pub const add: Op = Op::Add;
    pub const sub: Op = Op::Sub;
    pub const mul: Op = Op::Mul;
    pub const div: Op = Op::Div;
    pub const rem: Op = Op::Rem;
    pub const powf: Op = Op::Powf;
    pub const atan2: Op = Op::Atan2;
    pub const hypot: Op = Op::Hypot;
    pub const log: Op = Op::Log;
    pub const max: Op = Op::Max;
    pub const min: Op = Op::Min;
    pub const copysign: Op = Op::Copysign;
    pub const neg: Op = Op::Neg;
    pub const recip: Op = Op::Recip;
    pub const sqrt: Op = Op::Sqrt;
    pub const cbrt: Op = Op::Cbrt;
    pub const exp: Op = Op::Exp;
    pub const exp2: Op = Op::Exp2;
    pub const exp_m1: Op = Op::ExpM1;
    pub const ln: Op = Op::Ln;
    pub const ln_1p: Op = Op::Ln1p;
    pub const log2: Op = Op::Log2;
    pub const log10: Op = Op::Log10;
    pub const sin: Op = Op::Sin;
    pub const cos: Op = Op::Cos;
    pub const tan: Op = Op::Tan;
    pub const asin: Op = Op::Asin;
    pub const acos: Op = Op::Acos;
    pub const atan: Op = Op::Atan;
    pub const sinh: Op = Op::Sinh;
    pub const cosh: Op = Op::Cosh;
    pub const tanh: Op = Op::Tanh;
    pub const asinh: Op = Op::Asinh;
    pub const acosh: Op = Op::Acosh;
    pub const atanh: Op = Op::Atanh;
    pub const sigmoid: Op = Op::Sigmoid;
    pub const softplus: Op = Op::Softplus;
    pub const abs: Op = Op::Abs;
    pub const signum: Op = Op::Signum;
    pub const floor: Op = Op::Floor;
    pub const ceil: Op = Op::Ceil;
    pub const round: Op = Op::Round;
    pub const trunc: Op = Op::Trunc;
    pub const fract: Op = Op::Fract;
}
