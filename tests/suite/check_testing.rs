//! `dualtape::testing`: point generators, shrinking, and the properties
//! users call from their own tests.

use dualtape::check;
use dualtape::testing::{self, Arbitrary, Gen, Point, Points, Property};
use dualtape::VectorFunction;
use dualtape::{Differentiable, Scalar};
use quickcheck::TestResult;

use crate::support::seeded;

// ------------------------------------------------------------------ what users write

/// Logistic regression on fixed data: the kind of model a user checks.
struct Logistic {
    features: Vec<[f64; 2]>,
    labels: Vec<f64>,
}

impl Differentiable for Logistic {
    fn dim(&self) -> usize {
        3
    }
    fn eval<S: Scalar<Real = f64>>(&self, w: &[S]) -> S {
        let mut loss = S::constant(0.0);
        for (x, &y) in self.features.iter().zip(&self.labels) {
            let z = w[0] * x[0] + w[1] * x[1] + w[2];
            let p = (S::constant(1.0) + (-z).exp()).recip();
            loss -= p.ln() * y + (S::constant(1.0) - p).ln() * (1.0 - y);
        }
        loss / self.labels.len() as f64
    }
}

fn logistic() -> Logistic {
    Logistic {
        features: (0..12)
            .map(|i| [(i as f64 * 0.7).sin(), (i as f64 * 1.3).cos()])
            .collect(),
        labels: (0..12).map(|i| (i % 2) as f64).collect(),
    }
}

#[test]
fn users_check_their_model_in_one_line() {
    testing::check_gradients(&logistic());
    testing::check_hessians(&logistic());
}

struct Polar;
impl VectorFunction for Polar {
    fn dim(&self) -> usize {
        2
    }
    fn outputs(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, p: &[S]) -> Vec<S> {
        vec![p[0] * p[1].cos(), p[0] * p[1].sin()]
    }
}

#[test]
fn jacobians_are_property_tested_too() {
    testing::check_jacobians(&Polar);
}

/// n = 200: above `FULL_CHECK_MAX_DIM`, so the property uses the fast check.
struct Chain(usize);
impl Differentiable for Chain {
    fn dim(&self) -> usize {
        self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x.windows(2)
            .fold(S::constant(0.0), |acc, w| acc + (w[0] - w[1]).tanh() * w[1])
    }
}

#[test]
fn large_models_are_checked_along_random_directions() {
    const { assert!(200 > testing::FULL_CHECK_MAX_DIM) };
    let result = Property::gradients(&Chain(200)).tests(10).quicktest();
    assert_eq!(result.unwrap(), 10);
}

// ------------------------------------------------------------------ failing and shrinking

/// sin(x0) + x1 x2, whose analytic gradient is wrong wherever x0 > 0.5.
struct WrongAboveHalf;
impl Differentiable for WrongAboveHalf {
    fn dim(&self) -> usize {
        3
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x[0].sin() + x[1] * x[2]
    }
    fn analytic_gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        let extra = if x[0] > 0.5 { 0.1 } else { 0.0 };
        Some(vec![x[0].cos() + extra, x[2], x[1]])
    }
}

#[test]
fn a_failure_is_shrunk_to_a_simple_point_that_still_fails() {
    let failure = Property::gradients(&WrongAboveHalf)
        .tests(1000)
        .seed(12345)
        .quicktest()
        .expect_err("x0 > 0.5 happens in a quarter of [-1, 1]");
    // Shrinking moves x1 and x2 to 0 and x0 to a short decimal just above 0.5.
    assert_eq!(failure.point[1], 0.0);
    assert_eq!(failure.point[2], 0.0);
    let x0 = failure.point[0];
    assert!(x0 > 0.5 && x0 <= 0.6, "{x0}");
    assert!(
        ((x0 * 1000.0).round() / 1000.0 - x0).abs() < 1e-15,
        "x0 = {x0} is not short"
    );
    assert!(failure.original[0] > 0.5);
    assert!(failure.shrinks > 0);
    let report = failure.report.as_ref().unwrap();
    assert_eq!(report.point(), &failure.point[..]);
    assert!(!report.is_ok());
    assert!(failure.panic.is_none());
    // The same seed finds the same point.
    let again = Property::gradients(&WrongAboveHalf)
        .tests(1000)
        .seed(12345)
        .quicktest()
        .unwrap_err();
    assert_eq!(again.original, failure.original);
    assert_eq!(again.point, failure.point);
}

#[test]
#[should_panic(expected = "the gradient property failed after")]
fn run_panics_with_the_shrunk_point_and_the_report() {
    Property::gradients(&WrongAboveHalf).tests(1000).run();
}

#[test]
fn the_panic_message_contains_the_report_at_the_shrunk_point() {
    let failure = Property::gradients(&WrongAboveHalf)
        .tests(1000)
        .seed(1)
        .quicktest()
        .unwrap_err();
    let message = failure.to_string();
    assert!(message.contains("shrunk in"));
    assert!(message.contains(&format!("gradient check at x = {:?}", failure.point)));
    assert!(message.contains("analytic gradient is likely wrong"));
}

struct PanicsAboveHalf;
impl Differentiable for PanicsAboveHalf {
    fn dim(&self) -> usize {
        1
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        // A comparison on the variable (recorded), not on `.value()` (which the
        // replay column would report as an escaped value).
        assert!(x[0] <= 0.5, "model refuses x > 0.5");
        x[0]
    }
}

#[test]
fn a_panicking_model_is_a_failure_with_its_message() {
    let failure = Property::gradients(&PanicsAboveHalf)
        .tests(1000)
        .seed(3)
        .quicktest()
        .unwrap_err();
    assert!(failure.report.is_none());
    assert!(failure
        .panic
        .as_deref()
        .unwrap()
        .contains("model refuses x > 0.5"));
    // Finite differences evaluate up to 2h ≈ 1.5e-3 above the point.
    assert!(failure.point[0] > 0.5 - 2e-3, "{:?}", failure.point);
}

/// ln and sqrt: defined only for positive inputs.
struct NeedsPositive;
impl Differentiable for NeedsPositive {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x[0].ln() * x[1].sqrt()
    }
}

#[test]
fn the_box_and_the_tolerances_are_chosen_per_property() {
    // In [-1, 1]² the model is NaN half of the time.
    let failure = Property::gradients(&NeedsPositive)
        .seed(5)
        .quicktest()
        .unwrap_err();
    assert!(failure.point.iter().any(|&v| v <= 0.0));
    let report = failure.report.unwrap();
    assert!(report.first_nonfinite().is_some());
    // In [0.5, 3]² it is fine.
    Property::gradients(&NeedsPositive)
        .within(0.5, 3.0)
        .tests(50)
        .run();
    Property::gradients(&NeedsPositive)
        .points(Points::new(vec![0.5, 1.0], vec![2.0, 4.0]))
        .config(check::Config::default().with_fd(1e-6, 1e-5))
        .tests(20)
        .run();
}

// ------------------------------------------------------------------ generators

#[test]
fn points_are_finite_and_inside_their_box() {
    let mut g = Gen::new(100);
    let boxes = [
        Points::cube(3, -1.0, 1.0),
        Points::new(vec![0.0, -1e300, 5.0], vec![1e-300, 1e300, 5.0]),
        Points::cube(2, -f64::MAX, f64::MAX),
    ];
    for points in &boxes {
        let mut seen_lo = false;
        for _ in 0..500 {
            let x = points.generate(&mut g);
            assert!(x.iter().all(|v| v.is_finite()));
            assert!(points.contains(&x), "{x:?} outside {points:?}");
            seen_lo |= x[0] < (points.lower()[0] + points.upper()[0]) / 2.0;
        }
        assert!(seen_lo, "the lower half of the box is never drawn");
    }
    // A degenerate coordinate is constant.
    let x = boxes[1].generate(&mut g);
    assert_eq!(x[2], 5.0);
}

#[test]
fn shrink_candidates_stay_in_the_box_and_move_towards_the_target() {
    let points = Points::new(vec![-2.0, 0.5, -3.0], vec![2.0, 4.0, -1.0]);
    // The simplest point: 0 where allowed, else the bound nearest 0.
    assert_eq!(points.target(), vec![0.0, 0.5, -1.0]);
    let mut g = Gen::new(100);
    for _ in 0..200 {
        let x = points.generate(&mut g);
        let t = points.target();
        for c in points.shrink(&x) {
            assert!(points.contains(&c));
            let moved: Vec<usize> = (0..3).filter(|&i| c[i] != x[i]).collect();
            assert!(!moved.is_empty());
            for i in moved {
                assert!((c[i] - t[i]).abs() < (x[i] - t[i]).abs());
            }
        }
    }
    // Shrinking always ends: follow the first candidate until there is none.
    let mut x = vec![1.987654321, 3.99, -2.5];
    let mut steps = 0;
    while let Some(next) = points.shrink(&x).next() {
        x = next;
        steps += 1;
        assert!(steps < 10_000);
    }
    assert_eq!(x, points.target());
    assert_eq!(points.shrink(&points.target()).count(), 0);
}

#[test]
fn greedy_shrinking_finds_round_numbers_near_the_boundary() {
    // Fails when x0 >= 0.123: shrinking by quickcheck's rule (take the
    // first failing candidate) ends on a short decimal at or just above,
    // with x1 at 0. (The boundary is closed: with `x0 > 0.123`, a point in
    // (0.123, 0.124) has no failing candidate with three decimals, since
    // truncation gives 0.123, and about one run in 40 stopped there.)
    let points = Points::cube(2, -1.0, 1.0);
    let fails = |x: &[f64]| x[0] >= 0.123;
    let mut g = Gen::new(100);
    for _ in 0..50 {
        let mut x = points.generate(&mut g);
        if !fails(&x) {
            continue;
        }
        'outer: loop {
            for c in points.shrink(&x) {
                if fails(&c) {
                    x = c;
                    continue 'outer;
                }
            }
            break;
        }
        assert_eq!(x[1], 0.0);
        assert!(fails(&x) && x[0] <= 0.15, "{x:?}");
        assert!(
            ((x[0] * 1000.0).round() / 1000.0 - x[0]).abs() < 1e-15,
            "{x:?}"
        );
    }
}

#[test]
#[should_panic(expected = "the bounds must be finite with lo <= hi")]
fn an_empty_box_panics() {
    let _ = Points::cube(2, 1.0, -1.0);
}

#[test]
#[should_panic(expected = "the box has 3 coordinates but the model has 2 inputs")]
fn a_box_of_the_wrong_dimension_panics() {
    let _ = Property::gradients(&NeedsPositive).points(Points::cube(3, 0.5, 1.0));
}

#[test]
fn point_types_work_in_users_own_quickcheck_properties() {
    fn prop(p: Point<4, -3, 2>) -> TestResult {
        let x = p.as_slice();
        TestResult::from_bool(x.len() == 4 && x.iter().all(|v| (-3.0..=2.0).contains(v)))
    }
    seeded()
        .tests(200)
        .quickcheck(prop as fn(Point<4, -3, 2>) -> TestResult);

    // Shrinking a Point shrinks its coordinates.
    let p = Point::<2>([0.75, -0.3]);
    let shrunk: Vec<Point<2>> = p.shrink().collect();
    assert_eq!(shrunk[0], Point([0.0, 0.0]));
    assert!(shrunk.iter().all(|s| s.0.iter().all(|v| v.abs() <= 1.0)));
    let _ = Point::<3, 0, 10>::arbitrary(&mut Gen::new(10));
}
