//! Where a NaN or an infinity first appears: [`first_nonfinite`] and the
//! [`Watch`] scalar it runs the model on.

use std::cell::RefCell;
use std::fmt;

use crate::reverse::program::{test_on, Code, Op, Test};
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
    /// The operands, in order: one for a unary function, two for a binary
    /// operation, including a plain constant (`x / 0.0` has the operands
    /// `x` and `0.0`).
    pub operands: Vec<f64>,
    /// The NaN or infinity it produced.
    pub value: f64,
    /// The operation: the name of its rule in [`rules`] (`"ln"`, `"div"`,
    /// `"powi"`, ...).
    pub operation: &'static str,
}

impl fmt::Display for NonFiniteOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self.operands.iter().map(|v| format!("{v:?}")).collect();
        write!(
            f,
            "operation #{}, {}({}), gave {:?}",
            self.index,
            self.operation,
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
/// assert_eq!(op.operation, "ln");
/// assert_eq!(op.to_string(), "operation #2, ln(-0.5), gave NaN");
/// ```
pub fn first_nonfinite(f: impl Fn(&[Watch]) -> Watch, x: &[f64]) -> Option<NonFiniteOp> {
    let xs: Vec<Watch> = x.iter().map(|&value| Watch { value }).collect();
    let before = STATE.with(|s| std::mem::take(&mut *s.borrow_mut()));
    let _ = f(&xs);
    STATE.with(|s| std::mem::replace(&mut *s.borrow_mut(), before).found)
}

/// The unary rules, by name, to identify an operation from its result.
fn record(operation: &'static str, operands: &[f64], value: f64) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.count += 1;
        if s.found.is_none() && !value.is_finite() && operands.iter().all(|v| v.is_finite()) {
            s.found = Some(NonFiniteOp {
                index: s.count,
                operands: operands.to_vec(),
                value,
                operation,
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

    #[inline(always)]
    pub(crate) fn test(&self, other: &Self, test: Test) -> u8 {
        test_on(test, self.value, other.value)
    }

    pub(crate) fn chain1(self, code: Code, (v, _): Unary<f64>) -> Self {
        let x = self.value;
        match code {
            Code::Unary(op) => record(op.name(), &[x], v),
            Code::Rhs(op, c) => record(op.name(), &[x, c], v),
            Code::Lhs(op, c) => record(op.name(), &[c, x], v),
        }
        Watch { value: v }
    }

    pub(crate) fn chain2(self, o: Self, op: Op, (v, _, _): Binary<f64>) -> Self {
        record(op.name(), &[self.value, o.value], v);
        Watch { value: v }
    }

    pub(crate) fn fused_mul_add(self, a: Self, b: Self) -> Self {
        let (v, _, _, dc) = rules::mul_add(self.value, a.value, b.value);
        (self * a).chain2(b, Op::MulAddTail, (v, dc, dc))
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
