//! `Dual<f32>` (and `DualVec<f32, N>`, `Dual<Dual<f32>>`) works like
//! `Dual<f64>`: values equal `f32`'s own functions bit for bit, derivatives
//! equal closed forms to f32 precision. And constants on either side of an
//! operator (`1.0 - x`, `2.0 / x`, `x % 3.0`, ...) give the right
//! derivatives for every differentiable type, in concrete and generic code.

use crate::support::forward as common;

use crate::support::compare::*;
use common::*;
use dualtape::{forward, Dual, DualVec, Scalar};

type F = Dual<f32>;

/// f32 results against closed forms evaluated in f64 at the same (f32)
/// point: a few f32 roundings, so 2e-6 relative (with a floor where the
/// rule's formula is a difference of terms of that size).
fn close32(what: &str, got: f32, want: f64, floor: f64) -> Result<(), String> {
    check_rel(what, got as f64, want, 2e-6, floor)
}

macro_rules! unary32 {
    ($(
        $name:ident: x = |$u:ident| $dom:expr; f = |$x:ident| $body:expr;
            d1 = |$y:ident| $d1:expr; d2 = $d2:expr $(, floor = $floor:expr)?;
    )*) => {$(
        #[test]
        fn $name() {
            fn plain($x: f32) -> f32 { $body }
            fn dual($x: F) -> F { $body }
            fn dual2($x: Dual<F>) -> Dual<F> { $body }
            fn dvec($x: DualVec<f32, 2>) -> DualVec<f32, 2> { $body }
            #[allow(unused_variables)]
            fn prop($u: u64) -> Result<(), String> {
                let x32: f32 = ($dom) as f32;
                let $y = x32 as f64;
                #[allow(unused_mut, unused_assignments)]
                let mut floor = 0.0;
                $( floor = $floor; )?
                let y = dual(Dual::variable(x32));
                if !identical32(y.re, plain(x32)) {
                    return Err(format!("value at {x32:e}: {} vs {}", y.re, plain(x32)));
                }
                close32(&format!("f' at {x32:e}"), y.eps, $d1, floor)?;
                let h = dual2(Dual::new(Dual::new(x32, 1.0), Dual::new(1.0, 0.0)));
                close32(&format!("f'' at {x32:e}"), h.eps.eps, $d2, floor)?;
                let v = dvec(DualVec::new(x32, [1.0, -2.0]));
                if !(identical32(v.re, y.re) && v.eps[0] == y.eps && v.eps[1] == -2.0 * y.eps) {
                    return Err(format!("DualVec<f32, 2> at {x32:e}: {v:?} vs {y:?}"));
                }
                Ok(())
            }
            qc1(prop);
        }
    )*};
}

unary32! {
    sin: x = |u| uniform(u, -10.0, 10.0); f = |x| x.sin(); d1 = |x| x.cos(); d2 = -x.sin(), floor = 1.0;
    cos: x = |u| uniform(u, -10.0, 10.0); f = |x| x.cos(); d1 = |x| -x.sin(); d2 = -x.cos(), floor = 1.0;
    tan: x = |u| uniform(u, -1.4, 1.4); f = |x| x.tan(); d1 = |x| 1.0 / x.cos().powi(2);
        d2 = 2.0 * x.sin() / x.cos().powi(3), floor = 1.0;
    asin: x = |u| uniform(u, -0.95, 0.95); f = |x| x.asin(); d1 = |x| 1.0 / (1.0 - x * x).sqrt();
        d2 = x / (1.0 - x * x).powf(1.5), floor = 1.0;
    atan: x = |u| uniform(u, -20.0, 20.0); f = |x| x.atan(); d1 = |x| 1.0 / (1.0 + x * x);
        d2 = -2.0 * x / (1.0 + x * x).powi(2);
    tanh: x = |u| uniform(u, -8.0, 8.0); f = |x| x.tanh(); d1 = |x| 1.0 / x.cosh().powi(2);
        d2 = -2.0 * x.sinh() / x.cosh().powi(3), floor = 1.0;
    exp: x = |u| uniform(u, -20.0, 20.0); f = |x| x.exp(); d1 = |x| x.exp(); d2 = x.exp();
    ln: x = |u| log_uniform(u, -3.0, 3.0); f = |x| x.ln(); d1 = |x| 1.0 / x; d2 = -1.0 / (x * x);
    log10: x = |u| log_uniform(u, -3.0, 3.0); f = |x| x.log10();
        d1 = |x| 1.0 / (x * std::f64::consts::LN_10); d2 = -1.0 / (x * x * std::f64::consts::LN_10);
    sqrt: x = |u| log_uniform(u, -3.0, 3.0); f = |x| x.sqrt(); d1 = |x| 0.5 / x.sqrt();
        d2 = -0.25 / (x * x.sqrt());
    cbrt: x = |u| signed_log_uniform(u, -3.0, 3.0); f = |x| x.cbrt();
        d1 = |x| 1.0 / (3.0 * x.cbrt().powi(2)); d2 = -2.0 / (9.0 * x.cbrt().powi(5));
    acosh: x = |u| 1.0 + log_uniform(u, -1.0, 1.0); f = |x| x.acosh();
        d1 = |x| 1.0 / (x * x - 1.0).sqrt(); d2 = -x / (x * x - 1.0).powf(1.5);
    powi: x = |u| signed_log_uniform(u, -1.0, 1.0); f = |x| x.powi(-3);
        d1 = |x| -3.0 / x.powi(4); d2 = 12.0 / x.powi(5);
    one_minus_x: x = |u| uniform(u, -10.0, 10.0); f = |x| 1.0 - x; d1 = |x| -1.0; d2 = 0.0;
    two_over_x: x = |u| signed_log_uniform(u, -2.0, 2.0); f = |x| 2.0 / x;
        d1 = |x| -2.0 / (x * x); d2 = 4.0 / (x * x * x);
    x_rem_three: x = |u| 3.0 * (((u % 40) as f64 - 20.0) + uniform(u, 0.05, 0.95)); f = |x| x % 3.0;
        d1 = |x| 1.0; d2 = 0.0;
    three_rem_x: x = |u| 3.0 / ((u % 20) as f64 + uniform(u, 1.05, 1.95)); f = |x| 3.0 % x;
        d1 = |x| -(3.0 / x).trunc(); d2 = 0.0;
    mixed_constants: x = |u| uniform(u, 0.5, 4.0); f = |x| (2.0 * x + 1.0) / (3.0 - x) - 0.5 * x;
        // d/dx (2x + 1)/(3 - x) = 7/(3 - x)²
        d1 = |x| 7.0 / ((3.0 - x) * (3.0 - x)) - 0.5; d2 = 14.0 / (3.0 - x).powi(3), floor = 1.0;
}

#[test]
fn f32_binary_functions() {
    let (x, y) = (0.6f32, -1.3f32);
    let (xd, yd) = (x as f64, y as f64);
    let r2 = xd * xd + yd * yd;
    let c = |v: f32| Dual::from(v);
    let cases: [(&str, F, f32, f64); 8] = [
        (
            "atan2 in y",
            Dual::variable(x).atan2(c(y)),
            x.atan2(y),
            yd / r2,
        ),
        (
            "atan2 in x",
            c(x).atan2(Dual::variable(y)),
            x.atan2(y),
            -xd / r2,
        ),
        (
            "hypot",
            Dual::variable(x).hypot(c(y)),
            x.hypot(y),
            xd / r2.sqrt(),
        ),
        (
            "powf base",
            Dual::variable(x).powf(c(2.5)),
            x.powf(2.5),
            2.5 * xd.powf(1.5),
        ),
        (
            "powf exponent",
            c(x).powf(Dual::variable(y)),
            x.powf(y),
            xd.powf(yd) * xd.ln(),
        ),
        (
            "x / y in y",
            c(x) / Dual::variable(y),
            x / y,
            -xd / (yd * yd),
        ),
        ("max", Dual::variable(x).max(c(y)), x.max(y), 1.0),
        (
            "copysign",
            Dual::variable(x).copysign(c(y)),
            x.copysign(y),
            -1.0,
        ),
    ];
    for (name, got, value, slope) in cases {
        assert!(
            identical32(got.re, value),
            "{name}: value {} vs {value}",
            got.re
        );
        close32(name, got.eps, slope, 0.0).unwrap();
    }
    // mul_add is fused, as f32::mul_add
    let (a, b, d) = (0.1f32, 10.0f32, -1.0f32);
    let m = Dual::variable(a).mul_add(c(b), c(d));
    assert!(
        identical32(m.re, a.mul_add(b, d)),
        "{} vs {}",
        m.re,
        a.mul_add(b, d)
    );
    assert_eq!(m.eps, 10.0);
}

#[test]
fn f32_generic_code_and_constants() {
    fn f<S: Scalar<Real = f32>>(x: S) -> S {
        // (Scalar has + - * / with Self::Real on the right, not %: x % S::constant(c))
        x * x * 3.0 - x / 2.0 + S::constant(1.0) + (x % S::constant(2.0))
    }
    let x = 1.25f32;
    let y = f(Dual::variable(x));
    assert_eq!(y.re, 3.0 * x * x - x / 2.0 + 1.0 + (x % 2.0));
    assert_eq!(y.eps, 6.0 * x - 0.5 + 1.0);
    assert_eq!(<F as Scalar>::constant(0.1).re, 0.1f32);
    assert_eq!(
        f(DualVec::<f32, 2>::variable(x, 1)).eps,
        [0.0, 6.0 * x + 0.5]
    );
    // Dual<Dual<f32>>: f'' = 6
    let h = f(Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0)));
    assert_eq!(h.eps.eps, 6.0);
}

// ------------------------------------------------------------------ constants on either side, f64

/// Every operator with a constant on the left and on the right, for one
/// differentiable type: derivatives written out.
macro_rules! constants_both_sides {
    ($name:ident, $t:ty, $var:expr, $slope:expr) => {
        #[test]
        fn $name() {
            let var: fn(f64) -> $t = $var;
            let slope: fn(&$t) -> f64 = $slope;
            let x = 1.75;
            let v = var(x);
            let cases: [(&str, $t, f64, f64); 14] = [
                ("x + 2", v + 2.0, x + 2.0, 1.0),
                ("2 + x", 2.0 + v, 2.0 + x, 1.0),
                ("x - 2", v - 2.0, x - 2.0, 1.0),
                ("1 - x", 1.0 - v, 1.0 - x, -1.0),
                ("x * 2", v * 2.0, x * 2.0, 2.0),
                ("2 * x", 2.0 * v, 2.0 * x, 2.0),
                ("x / 2", v / 2.0, x / 2.0, 0.5),
                ("2 / x", 2.0 / v, 2.0 / x, -2.0 / (x * x)),
                ("x % 3", v % 3.0, x % 3.0, 1.0),
                ("x % 0.5", v % 0.5, x % 0.5, 1.0),
                // 3 % x = 3 - trunc(3/x) x
                ("3 % x", 3.0 % v, 3.0 % x, -(3.0f64 / x).trunc()),
                ("x % x", v % v, 0.0, 0.0),
                ("x / x", v / v, 1.0, 0.0),
                ("x - x", v - v, 0.0, 0.0),
            ];
            for (what, got, value, d) in cases {
                assert_eq!(dualtape::Scalar::value(&got), value, "{what}: value");
                assert_eq!(slope(&got), d, "{what}: derivative");
            }
            let mut a = v;
            a += 1.0;
            a -= 0.5;
            a *= 4.0;
            a /= 8.0;
            a %= 10.0;
            // ((x + 1 - 0.5) 4 / 8) % 10: slope ½
            assert_eq!(dualtape::Scalar::value(&a), ((x + 0.5) * 4.0 / 8.0) % 10.0);
            assert_eq!(slope(&a), 0.5);
        }
    };
}

constants_both_sides!(constants_dual, Dual<f64>, Dual::variable, |d| d.eps);
constants_both_sides!(constants_dual_vec, DualVec<f64, 2>, |x| DualVec::variable(x, 1), |d| {
    assert_eq!(d.eps[0], 0.0);
    d.eps[1]
});
constants_both_sides!(
    constants_dual_dual,
    Dual<Dual<f64>>,
    |x| Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0)),
    |d| {
        assert_eq!(d.re.eps, d.eps.re);
        d.eps.re
    }
);

#[test]
fn constants_second_derivatives() {
    // (2/x)'' = 4/x³, (1 - x)'' = 0, (3 % x)'' = 0
    let x = 1.75;
    let h = |f: fn(Dual<Dual<f64>>) -> Dual<Dual<f64>>| f(common::d2(x, 1.0, 1.0)).eps.eps;
    assert_rel(h(|x| 2.0 / x), 4.0 / (x * x * x), 1e-15, "(2/x)''");
    assert_eq!(h(|x| 1.0 - x), 0.0);
    assert_eq!(h(|x| 3.0 % x), 0.0);
    assert_rel(
        h(|x| 1.0 / (1.0 - x * x)),
        {
            // d²/dx² (1 - x²)⁻¹ = (2 + 6x²)/(1 - x²)³
            (2.0 + 6.0 * x * x) / (1.0 - x * x).powi(3)
        },
        1e-14,
        "(1/(1 - x²))''",
    );
    // the derivative driver with a constant on the left
    let (_, d) = forward::derivative(|t| 1.0 / (2.0 - t), x);
    assert_rel(d, 1.0 / ((2.0 - x) * (2.0 - x)), 1e-15, "d/dx 1/(2 - x)");
}
