//! Nesting is safe from perturbation confusion.
//!
//! The classic example (Siskind and Pearlmutter):
//! d/dx [x · (d/dy (x + y) at y = 1)] at x = 1. The inner derivative is 1
//! whatever x is, so the answer is d/dx x = 1. An implementation that lets
//! the inner derivative see x's perturbation gets 2.
//!
//! dualtape keeps the perturbations apart with types: the inner derivative
//! runs one level deeper (`Dual<T>` over the outer scalar `T`), and an outer
//! value enters it only through an explicit lift, `Dual::from(x)`, which gives
//! it a zero inner tangent. Adding an un-lifted outer value to an inner one
//! does not compile (a `compile_fail` doctest in `dualtape::model` shows
//! it); the last test here shows that collapsing both perturbations into one
//! level, which the types would otherwise force you to write, gives the
//! confused answer.

use dualtape::{check, forward, reverse, Differentiable, Dual, Scalar, Var};

/// The derivative of `g` at `y`, one nesting level above any scalar `T`:
/// `d/dy g(y)`, as a `T` (which keeps the outer perturbations).
fn derivative<T: Scalar>(g: impl Fn(Dual<T>) -> Dual<T>, y: T) -> T {
    g(Dual::variable(y)).eps
}

#[test]
fn classic_example_forward_over_forward_is_one() {
    let (v, d) = forward::derivative(
        |x| {
            // x: Dual<f64>, the outer perturbation. The inner y is a
            // Dual<Dual<f64>>; x joins it only through Dual::from.
            let inner = derivative(|y| Dual::from(x) + y, Dual::from(1.0));
            x * inner
        },
        1.0,
    );
    assert_eq!(v, 1.0);
    assert_eq!(d, 1.0);
}

#[test]
fn classic_example_reverse_over_forward_is_one() {
    // The outer derivative by reverse mode: x is a Var, the inner derivative
    // runs on Dual<Var>.
    let (v, g) = reverse::gradient(
        |x| {
            let inner = derivative(|y| Dual::from(x[0]) + y, Var::from(1.0));
            x[0] * inner
        },
        &[1.0],
    );
    assert_eq!(v, 1.0);
    assert_eq!(g, vec![1.0]);
}

#[test]
fn the_inner_derivative_may_depend_on_the_outer_variable() {
    // d/dx [x · d/dy (x · y)] = d/dx x² = 2x: the inner derivative is x, and
    // its outer tangent (1) must survive; at x = 3 the answer is 6.
    let (v, d) = forward::derivative(
        |x| x * derivative(|y| Dual::from(x) * y, Dual::from(2.0)),
        3.0,
    );
    assert_eq!((v, d), (9.0, 6.0));
    let (v, g) = reverse::gradient(
        |x| x[0] * derivative(|y| Dual::from(x[0]) * y, Var::from(2.0)),
        &[3.0],
    );
    assert_eq!((v, g), (9.0, vec![6.0]));
}

#[test]
fn three_levels_keep_three_perturbations_apart() {
    // d/dx [x · d/dy [y · d/dz (x·y·z)]] = d/dx [x · d/dy (x·y²)] = d/dx (2x²y)|_{y=1} = 4x
    let (_, d) = forward::derivative(
        |x| {
            let dy = derivative(
                |y: Dual<Dual<f64>>| {
                    // Lift x one level for y, and x and y one more for z.
                    let x2: Dual<Dual<f64>> = Dual::from(x);
                    let five: Dual<Dual<f64>> = Dual::from(Dual::from(5.0));
                    let dz = derivative(
                        |z: Dual<Dual<Dual<f64>>>| Dual::from(x2) * Dual::from(y) * z,
                        five,
                    );
                    y * dz
                },
                Dual::from(1.0),
            );
            x * dy
        },
        1.5,
    );
    assert_eq!(d, 6.0);
}

/// A model whose value is itself a derivative: f(x) = x · d/dy (x + y),
/// written once and checked in every mode (the inner derivative then runs
/// on Dual<DualVec>, Dual<Var>, Dual<Dual<Var>>, ...).
struct Nested;

impl Differentiable for Nested {
    fn dim(&self) -> usize {
        1
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x[0] * derivative(|y| Dual::from(x[0]) + y, S::constant(1.0))
    }
}

#[test]
fn a_model_taking_an_inner_derivative_checks_in_every_mode() {
    let report = check::gradient(&Nested, &[1.0]);
    report.assert_ok();
    assert_eq!(
        report.get(check::Index::Gradient(0), check::Mode::Forward),
        Some(1.0)
    );
    assert_eq!(
        report.get(check::Index::Gradient(0), check::Mode::Reverse),
        Some(1.0)
    );
    let h = check::hessian(&Nested, &[1.0]);
    h.assert_ok();
    assert_eq!(
        h.get(check::Index::Hessian(0, 0), check::Mode::ForwardOverReverse),
        Some(0.0)
    );
}

#[test]
fn one_level_for_two_perturbations_is_the_confusion() {
    // What the types prevent: taking the inner derivative on the *same*
    // level as the outer one, by seeding y with a tangent in the slot that
    // already carries x's. The inner "derivative" then picks up x's
    // perturbation too: d/dy (x + y) comes out 2, and the result 2 is wrong.
    let (_, confused) = forward::derivative(
        |x| {
            let y = Dual::variable(1.0); // same level as x: Dual<f64>
            let inner = Dual::new((x + y).eps, 0.0);
            x * inner
        },
        1.0,
    );
    assert_eq!(confused, 2.0);
}

#[test]
#[should_panic(expected = "Reverse mode does not nest")]
fn reverse_inside_reverse_is_refused() {
    // The tape cannot hold two recordings at once: an inner reverse
    // derivative inside an outer one panics instead of mixing them up.
    let _ = reverse::gradient(
        |x| {
            let (_, g) = reverse::gradient(|y| y[0] * y[0], &[x[0].value()]);
            x[0] * g[0]
        },
        &[1.0],
    );
}
