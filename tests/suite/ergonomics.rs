//! Model code that reads like f64 code: the generic spellings that compile,
//! run in every mode and give the closed-form derivatives.

use dualtape::nalgebra::{DMatrix, DVector};
use dualtape::{finite_diff, forward, reverse, Differentiable, Dual, DualVec, Lift, LiftMul};
use dualtape::{Scalar, Var};

/// Comparisons with plain constants, `max_real`, `powf_real`, sums: a
/// piecewise model `Σ relu(x_i)^1.5 + (x_0 > 1 ? x_0 : 0)`.
fn piecewise<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let body: S = x.iter().map(|&xi| xi.max_real(0.0).powf_real(1.5)).sum();
    let branch = if x[0] > 1.0 { x[0] } else { S::constant(0.0) };
    body + branch
}

fn piecewise_closed(x: &[f64]) -> (f64, Vec<f64>) {
    let mut v = 0.0;
    let mut g = vec![0.0; x.len()];
    for (i, &xi) in x.iter().enumerate() {
        if xi > 0.0 {
            v += xi.powf(1.5);
            g[i] = 1.5 * xi.sqrt();
        }
    }
    if x[0] > 1.0 {
        v += x[0];
        g[0] += 1.0;
    }
    (v, g)
}

#[test]
fn comparisons_with_constants_sums_and_real_methods_in_every_mode() {
    for x in [[2.0, -1.0, 0.25], [0.5, 4.0, -3.0]] {
        let (v, g) = piecewise_closed(&x);
        let (vr, gr) = reverse::gradient(piecewise::<Var>, &x);
        let (vf, gf) = forward::gradient(piecewise::<DualVec<f64, 3>>, &x);
        let (vd, gd) = finite_diff::gradient(piecewise::<f64>, &x, finite_diff::Scheme::Central);
        assert_eq!((vr, vf, vd), (v, v, v));
        for i in 0..3 {
            assert!((gr[i] - g[i]).abs() < 1e-14, "reverse {i}: {gr:?} vs {g:?}");
            assert!((gf[i] - g[i]).abs() < 1e-14, "forward {i}: {gf:?} vs {g:?}");
            assert!(
                (gd[i] - g[i]).abs() < 1e-7,
                "finite differences {i}: {gd:?} vs {g:?}"
            );
        }
    }
}

/// `==`, `<=`, `>=`, `!=` and `partial_cmp` against a constant look at the
/// value only, in every type including nested ones.
fn compare_all<S: Scalar<Real = f64>>(x: S) -> [bool; 6] {
    [
        x == 2.0,
        x != 2.0,
        x < 2.0,
        x <= 2.0,
        x > 2.0,
        x.partial_cmp(&2.0) == Some(std::cmp::Ordering::Greater),
    ]
}

#[test]
fn comparisons_against_constants_look_at_values_only() {
    for (x, want) in [
        (2.0, [true, false, false, true, false, false]),
        (3.0, [false, true, false, false, true, true]),
        (1.0, [false, true, true, true, false, false]),
    ] {
        assert_eq!(compare_all(x), want);
        assert_eq!(compare_all(Dual::new(x, 5.0)), want);
        assert_eq!(compare_all(DualVec::<f64, 2>::variable(x, 1)), want);
        assert_eq!(
            compare_all(Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0))),
            want
        );
        reverse::gradient(
            |v| {
                assert_eq!(compare_all(v[0]), want);
                assert_eq!(compare_all(Dual::new(v[0], v[0])), want);
                v[0]
            },
            &[x],
        );
    }
    let nan = Dual::new(f64::NAN, 1.0);
    assert_eq!(compare_all(nan), [false, true, false, false, false, false]);
    // f32-based scalars compare with f32 constants.
    let y = Dual::<f32>::new(1.5, 1.0);
    assert!(y > 1.0 && y < 2.0 && y == 1.5);
}

/// `iter().sum()` over references, `product()`, `min_real`, `clamp_real`.
fn sums_and_products<S: Scalar<Real = f64>>(x: &[S]) -> S {
    let total: S = x.iter().sum();
    let prod: S = x.iter().product();
    let owned: S = x.iter().copied().product();
    total + prod * 0.5 + owned * 0.5 + x[0].min_real(1.0) + x[1].clamp_real(-1.0, 1.0)
}

#[test]
fn sums_products_and_clamps() {
    let x = [0.5, 3.0, 2.0];
    // total + prod + min(x0, 1) + clamp(x1): x1 = 3 is clamped (derivative 0)
    let v = 5.5 + 3.0 + 0.5 + 1.0;
    let g = [1.0 + 6.0 + 1.0, 1.0 + 1.0, 1.0 + 1.5];
    let (vr, gr) = reverse::gradient(sums_and_products::<Var>, &x);
    let (vf, gf) = forward::gradient(sums_and_products::<DualVec<f64, 4>>, &x);
    assert_eq!((vr, vf), (v, v));
    assert_eq!(gr, g.to_vec());
    assert_eq!(gf, g.to_vec());
}

/// f64 data times S parameters through nalgebra: `lift`, `lift_mul`, and a
/// matrix scaled by `S::constant`.
fn logistic<S: Scalar<Real = f64>>(x: &DMatrix<f64>, t: &DVector<f64>, w: &[S]) -> S {
    let w = DVector::from_column_slice(w);
    let z = x.lift_mul(&w) * S::constant(0.5);
    let z2 = x.lift::<S>() * &w * S::constant(0.5);
    assert_eq!(z, z2);
    z.iter()
        .zip(t.iter())
        .map(|(&zi, &ti)| zi.softplus() - zi * ti)
        .sum()
}

#[test]
fn nalgebra_data_with_scalar_parameters() {
    let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, -1.0, 0.5, 0.0, 3.0]);
    let t = DVector::from_column_slice(&[1.0, 0.0, 1.0]);
    let w = [0.3, -0.2];
    // closed form: ∂/∂w_j Σ softplus(z_i) - z_i t_i = Σ (σ(z_i) - t_i) x_ij / 2
    let sigma = |z: f64| 1.0 / (1.0 + (-z).exp());
    let mut g = [0.0; 2];
    let mut v = 0.0;
    for i in 0..3 {
        let z: f64 = 0.5 * (x[(i, 0)] * w[0] + x[(i, 1)] * w[1]);
        v += (1.0 + z.exp()).ln() - z * t[i];
        for (j, gj) in g.iter_mut().enumerate() {
            *gj += (sigma(z) - t[i]) * x[(i, j)] * 0.5;
        }
    }
    let (vr, gr) = reverse::gradient(|w| logistic(&x, &t, w), &w);
    let (vf, gf) = forward::gradient(|w: &[DualVec<f64, 2>]| logistic(&x, &t, w), &w);
    for (vm, gm) in [(vr, gr), (vf, gf)] {
        assert!((vm - v).abs() < 1e-15);
        assert!((gm[0] - g[0]).abs() < 1e-15 && (gm[1] - g[1]).abs() < 1e-15);
    }
    // Slices and arrays lift too.
    let s: Vec<Dual<f64>> = [1.0, 2.0][..].lift();
    let a: [Var; 2] = [1.0, 2.0].lift();
    assert_eq!((s[1].re, s[1].eps, a[0].value()), (2.0, 0.0, 1.0));
    assert!(a[1].is_constant());
}

#[test]
#[should_panic(expected = "lift_mul: the f64 matrix is 2x3 but the right-hand side is 2x1")]
fn lift_mul_names_both_shapes() {
    let x = DMatrix::<f64>::zeros(2, 3);
    let w = DVector::from_column_slice(&[Dual::new(1.0, 1.0), Dual::new(1.0, 0.0)]);
    let _ = x.lift_mul(&w);
}

/// Code written against num-traits alone: `.sin()` is unambiguous here.
fn float_only<F: num_traits::Float>(x: F) -> F {
    x.exp() * F::epsilon()
}

/// num-traits' `Float` next to `Scalar`: a name both declare (`sin`, `exp`,
/// `max`, ...) is called fully qualified; or call a helper bounded by
/// `Float` alone.
fn with_float<S: Scalar<Real = f64> + num_traits::Float>(x: S) -> S {
    num_traits::Float::sin(x) + float_only(x)
}

#[test]
fn num_traits_float_alongside_scalar() {
    let (v, d) = forward::derivative(with_float, 0.5);
    assert_eq!(v, 0.5f64.sin() + 0.5f64.exp() * f64::EPSILON);
    assert_eq!(d, 0.5f64.cos() + 0.5f64.exp() * f64::EPSILON);
}

struct Quartic;
impl Differentiable for Quartic {
    fn dim(&self) -> usize {
        3
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x.iter().map(|&xi| xi.powi(4)).sum()
    }
}

#[test]
fn gradient_auto_matches_the_closed_form_for_many_sizes() {
    struct Sum4(usize);
    impl Differentiable for Sum4 {
        fn dim(&self) -> usize {
            self.0
        }
        fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
            x.iter().map(|&xi| xi.powi(4)).sum()
        }
    }
    for n in [0, 1, 2, 3, 5, 9, 16, 17, 33, 100] {
        let x: Vec<f64> = (0..n).map(|i| 0.25 * i as f64 - 1.0).collect();
        let (v, g) = forward::gradient_auto(&Sum4(n), &x);
        assert_eq!(v, x.iter().map(|xi| xi.powi(4)).sum::<f64>());
        assert_eq!(g, x.iter().map(|xi| 4.0 * xi.powi(3)).collect::<Vec<_>>());
    }
    let (v, g) = forward::gradient_auto(&Quartic, &[1.0, 2.0, -1.0]);
    assert_eq!((v, g), (18.0, vec![4.0, 32.0, -4.0]));
}

#[test]
#[should_panic(expected = "forward::gradient_auto: x has 2 entries but the model's dim() is 3")]
fn gradient_auto_checks_the_dimension() {
    forward::gradient_auto(&Quartic, &[1.0, 2.0]);
}

#[test]
#[should_panic(expected = "forward::jvp: the direction v has 1 components but the point x has 2")]
fn jvp_message_has_no_contradictory_left_right() {
    let r = std::panic::catch_unwind(|| {
        forward::jvp(|x| x[0] * x[1], &[1.0, 2.0], &[1.0]);
    });
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(!msg.contains("left:"), "{msg}");
    std::panic::resume_unwind(Box::new(msg.clone()));
}

struct LogSqrt;
impl Differentiable for LogSqrt {
    fn dim(&self) -> usize {
        2
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        (x[0] - 1.0).ln() + x[1].sqrt()
    }
}

#[test]
fn a_nan_value_is_named_as_such_not_blamed_on_a_kink() {
    let x = [0.5, 4.0];
    // The drivers return the NaN value and the partials of each operation.
    let (v, g) = reverse::gradient(|x| LogSqrt.eval(x), &x);
    assert!(v.is_nan());
    assert_eq!(g, vec![-2.0, 0.25]);
    let report = dualtape::check::gradient(&LogSqrt, &x);
    assert!(!report.is_ok());
    let text = crate::check_report::flat(&report.to_string());
    assert!(text.contains("hint: f(x) is NaN here"), "{text}");
    assert!(text.contains("this is not a kink"), "{text}");
    assert!(text.contains("check::first_nonfinite"), "{text}");
}

#[test]
fn first_nonfinite_names_the_operation() {
    use dualtape::check::{first_nonfinite, Watch};
    // ln of a negative number: operation 2 (after x0 - 1).
    let op = first_nonfinite(|x| LogSqrt.eval(x), &[0.5, 4.0]).unwrap();
    assert_eq!(
        (op.index, op.operation, op.operands.clone()),
        (2, "ln", vec![-0.5])
    );
    assert!(op.value.is_nan());
    assert_eq!(op.to_string(), "operation #2, ln(-0.5), gave NaN");
    // sqrt of a negative number is operation 3 when the logarithm is fine.
    let op = first_nonfinite(|x| LogSqrt.eval(x), &[2.0, -4.0]).unwrap();
    assert_eq!(
        (op.index, op.operation, op.operands.clone()),
        (3, "sqrt", vec![-4.0])
    );
    // An infinity: x0 / x1 with x1 = 0, a binary operation.
    let op = first_nonfinite(|x: &[Watch]| x[0] / x[1] + x[0], &[1.0, 0.0]).unwrap();
    assert_eq!(
        (op.index, op.operation, op.value),
        (1, "div", f64::INFINITY)
    );
    assert_eq!(op.operands, vec![1.0, 0.0]);
    // A constant operand is named with the operation, on its side.
    let op = first_nonfinite(|x: &[Watch]| (x[0] * 1e300) * 1e300, &[1.0]).unwrap();
    assert_eq!(
        (op.index, op.operation, op.value),
        (2, "mul", f64::INFINITY)
    );
    assert_eq!(op.operands, vec![1e300, 1e300]);
    let op = first_nonfinite(|x: &[Watch]| 1.0 / x[0], &[0.0]).unwrap();
    assert_eq!((op.operation, op.operands.clone()), ("div", vec![1.0, 0.0]));
    let op = first_nonfinite(|x: &[Watch]| x[0].powi(-2), &[0.0]).unwrap();
    assert_eq!((op.operation, op.value), ("powi", f64::INFINITY));
    // Finite everywhere, and a NaN that came in with x, are not reported.
    assert_eq!(first_nonfinite(|x| LogSqrt.eval(x), &[2.0, 4.0]), None);
    assert_eq!(first_nonfinite(|x| LogSqrt.eval(x), &[f64::NAN, 4.0]), None);
    // Through nalgebra: the logarithm of a negative determinant.
    let op = first_nonfinite(
        |x: &[Watch]| {
            let a = DMatrix::from_row_slice(2, 2, &[x[0], x[1], x[1], x[0]]);
            a.determinant().ln()
        },
        &[1.0, 2.0],
    )
    .unwrap();
    assert_eq!((op.operation, op.operands.clone()), ("ln", vec![-3.0]));
}

#[test]
#[should_panic(expected = "forward::gradient: DualVec<f64, 0> carries no tangent")]
fn gradient_with_n_zero_names_itself() {
    forward::gradient(|x: &[DualVec<f64, 0>]| x[0], &[1.0]);
}

#[test]
#[allow(deprecated)]
#[should_panic(
    expected = "function::reverse::hvp: the direction v has 1 entries but the model's dim() is 3"
)]
fn the_deprecated_model_hvp_names_itself_for_a_short_direction() {
    dualtape::function::reverse::hvp(&Quartic, &[1.0, 2.0, 3.0], &[1.0]);
}

#[test]
#[allow(deprecated)]
fn the_deprecated_finite_diff_module_carries_its_scheme() {
    use dualtape::function::finite_diff::{gradient, Scheme};
    let (v, g) = gradient(&Quartic, &[1.0, 2.0, -1.0], Scheme::Richardson);
    assert_eq!(v, 18.0);
    for (gi, want) in g.iter().zip([4.0, 32.0, -4.0]) {
        assert!((gi - want).abs() < 1e-8, "{g:?}");
    }
}

#[test]
fn a_comparison_with_a_constant_is_guarded_in_a_recorded_program() {
    use dualtape::reverse::program::{ReplayError, Test};
    // `x > 0.0` goes through the same comparison as `x > y`, so a recorded
    // program guards it like any other.
    let f = |x: &[Var]| if x[0] > 0.5 { x[0] * x[0] } else { -x[0] };
    let p = reverse::record(f, &[1.0]);
    assert_eq!(p.guards().len(), 1);
    assert_eq!(p.gradient(&[2.0]).unwrap(), (4.0, vec![4.0]));
    match p.gradient(&[0.25]) {
        Err(ReplayError::ComparisonChanged { test, .. }) => assert_eq!(test, Test::Gt),
        other => panic!("expected a changed comparison, got {other:?}"),
    }
}
