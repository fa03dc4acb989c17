//! Where a NaN or an infinity first appears: [`first_nonfinite`] and the
//! [`Watch`] scalar it runs the model on.

use std::cell::RefCell;
use std::fmt;

use crate::reverse::program::{Code, Op, Test};
use crate::rules::{self, Binary, Unary};

/// A plain `f64` that notices the first operation turning finite operands
/// into NaN or an infinity. Model code runs on it like on any [`Scalar`](crate::Scalar);
/// use it through [`first_nonfinite`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Watch {
    value: f64,
}

/// The operation [`first_nonfinite`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct NonFiniteOp {
    /// Its position among the model's operations on `Watch` values,
    /// counting from 1 (operations whose operands are all constants
    /// included), so you can stop there in a debugger or count in your code.
    pub index: usize,
    /// The operands that are not constants lifted by the operation itself:
    /// one for a unary function or an operation with a plain constant
    /// (`x / 0.0` has the operand `x`), two for a binary one.
    pub operands: Vec<f64>,
    /// The NaN or infinity it produced.
    pub value: f64,
    /// The rules of [`rules`] that give this value and derivative from
    /// these operands, e.g. `["ln", "log2", "log10"]` for a logarithm of a
    /// negative number, or `["div"]`; empty for an operation with a plain
    /// constant operand (`x / 0.0`, `x.powi(-1)`), whose constant is not
    /// recorded.
    pub candidates: Vec<&'static str>,
}

impl fmt::Display for NonFiniteOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.candidates.is_empty() {
            "an operation with a constant operand (+ - * / % by a constant, powi, …)".to_string()
        } else {
            self.candidates.join(" or ")
        };
        let args: Vec<String> = self.operands.iter().map(|v| format!("{v:?}")).collect();
        write!(
            f,
            "operation #{} ({what}) of finite ({}) gave {:?}",
            self.index,
            args.join(", "),
            self.value
        )
    }
}

#[derive(Default)]
struct State {
    count: usize,
    found: Option<NonFiniteOp>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Runs `f` once at `x` on [`Watch`] values and returns the first operation
/// whose operands were all finite but whose result is NaN or an infinity, or
/// `None` if there is none (then `f(x)` is finite, or a non-finite `x`
/// carried through). Where reverse and forward mode quietly return a NaN
/// value and a gradient, this names the step that made it.
///
/// ```
/// use dualtape::check::{self, Watch};
/// use dualtape::{reverse, Scalar};
///
/// fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
///     (x[0] - 1.0).ln() + x[1].sqrt()
/// }
/// let (v, g) = reverse::gradient(f, &[0.5, 4.0]);
/// assert!(v.is_nan() && g == vec![-2.0, 0.25]); // silently NaN
///
/// let op = check::first_nonfinite(f::<Watch>, &[0.5, 4.0]).expect("a NaN");
/// assert_eq!(op.index, 2); // x0 - 1, then the logarithm
/// assert_eq!(op.operands, vec![-0.5]);
/// assert!(op.value.is_nan());
/// assert!(op.candidates.contains(&"ln"));
/// assert!(op.to_string().starts_with("operation #2 (ln"), "{op}");
/// ```
pub fn first_nonfinite(f: impl Fn(&[Watch]) -> Watch, x: &[f64]) -> Option<NonFiniteOp> {
    let xs: Vec<Watch> = x.iter().map(|&value| Watch { value }).collect();
    let before = STATE.with(|s| std::mem::take(&mut *s.borrow_mut()));
    let _ = f(&xs);
    STATE.with(|s| std::mem::replace(&mut *s.borrow_mut(), before).found)
}

/// The unary rules, by name, to identify an operation from its result.
/// A unary rule on `f64`.
type UnaryRule = fn(f64) -> Unary<f64>;
/// A binary rule on `f64`.
type BinaryRule = fn(f64, f64) -> Binary<f64>;

const UNARY: &[(&str, UnaryRule)] = &[
    ("sin", rules::sin),
    ("cos", rules::cos),
    ("tan", rules::tan),
    ("asin", rules::asin),
    ("acos", rules::acos),
    ("atan", rules::atan),
    ("sinh", rules::sinh),
    ("cosh", rules::cosh),
    ("tanh", rules::tanh),
    ("asinh", rules::asinh),
    ("acosh", rules::acosh),
    ("atanh", rules::atanh),
    ("exp", rules::exp),
    ("exp2", rules::exp2),
    ("exp_m1", rules::exp_m1),
    ("ln", rules::ln),
    ("ln_1p", rules::ln_1p),
    ("log2", rules::log2),
    ("log10", rules::log10),
    ("sqrt", rules::sqrt),
    ("cbrt", rules::cbrt),
    ("recip", rules::recip),
    ("sigmoid", rules::sigmoid),
    ("softplus", rules::softplus),
];

/// The binary rules, by name.
const BINARY: &[(&str, BinaryRule)] = &[
    ("add", rules::add),
    ("sub", rules::sub),
    ("mul", rules::mul),
    ("div", rules::div),
    ("rem", rules::rem),
    ("powf", rules::powf),
    ("atan2", rules::atan2),
    ("hypot", rules::hypot),
    ("log", rules::log),
];

/// Same value and partials, NaN matching NaN.
fn same(a: &[f64], b: &[f64]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

fn record(operands: &[f64], value: f64, candidates: impl FnOnce() -> Vec<&'static str>) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.count += 1;
        if s.found.is_none() && !value.is_finite() && operands.iter().all(|v| v.is_finite()) {
            s.found = Some(NonFiniteOp {
                index: s.count,
                operands: operands.to_vec(),
                value,
                candidates: candidates(),
            });
        }
    });
}

impl Watch {
    /// The value.
    #[inline]
    pub fn value(&self) -> f64 {
        self.value
    }

    #[inline(always)]
    pub(crate) fn lift(value: f64) -> Self {
        Watch { value }
    }

    #[inline(always)]
    pub(crate) fn primal(self) -> f64 {
        self.value
    }

    #[inline(always)]
    pub(crate) fn is_exact_zero(&self) -> bool {
        self.value == 0.0
    }

    /// A comparison or predicate on the values.
    #[inline(always)]
    pub(crate) fn test(&self, other: &Self, test: Test) -> u8 {
        test.outcome(self.value, other.value)
    }

    /// `self.mul_add(a, b)`: `(self·a) + b` with the value rounded once.
    pub(crate) fn fused_mul_add(self, a: Self, b: Self) -> Self {
        let (v, _, _, dc) = rules::mul_add(self.value, a.value, b.value);
        (self * a).chain2(b, Op::MulAddTail, (v, dc, dc))
    }

    pub(crate) fn chain1(self, _: Code, (v, d): Unary<f64>) -> Self {
        let x = self.value;
        record(&[x], v, || {
            UNARY
                .iter()
                .filter(|(_, r)| {
                    let (rv, rd) = r(x);
                    same(&[rv, rd], &[v, d])
                })
                .map(|(n, _)| *n)
                .collect()
        });
        Watch { value: v }
    }

    pub(crate) fn chain2(self, o: Self, _: Op, (v, dx, dy): Binary<f64>) -> Self {
        let (x, y) = (self.value, o.value);
        record(&[x, y], v, || {
            BINARY
                .iter()
                .filter(|(_, r)| {
                    let (rv, rx, ry) = r(x, y);
                    same(&[rv, rx, ry], &[v, dx, dy])
                })
                .map(|(n, _)| *n)
                .collect()
        });
        Watch { value: v }
    }
}

crate::ops::impl_scalar! {
    impl [] for Watch;
    inner f64;
    reals [f64];
}

impl From<f64> for Watch {
    /// A constant.
    fn from(value: f64) -> Self {
        Watch { value }
    }
}

impl fmt::Display for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value, f)
    }
}
