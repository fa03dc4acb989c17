//! The generic network (`nn::Mlp`) against the notebook's hand-written f64
//! network and against hand-derived formulas; every gradient method against
//! every other.

use dualtape::finite_diff::Scheme;
use dualtape::{check, Differentiable};
use dualtape_nn::data::{disk_ring, xor_blobs, Dataset, Rng};
use dualtape_nn::{
    notebook, train, Activation, Adam, Analytic, Error, FiniteDifferences, Forward,
    GradientDescent, GradientMethod, Loss, Method, Mlp, Optimizer, Reverse,
};
use nalgebra::{DMatrix, DVector};

fn random_params(rng: &mut Rng, n: usize, scale: f64) -> Vec<f64> {
    (0..n).map(|_| scale * rng.normal()).collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().map(|x| x.abs()).fold(0.0, f64::max)
}

/// `|a - b| <= tol * (1 + max |b|)` componentwise, with a readable failure.
fn assert_grad_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    let bound = tol * (1.0 + max_abs(b));
    let err = max_abs_diff(a, b);
    assert!(
        err <= bound,
        "{what}: max difference {err:e} > {bound:e}\n  {a:?}\n  {b:?}"
    );
}

fn sets() -> Vec<(&'static str, Dataset)> {
    vec![("disk", disk_ring(120, 5)), ("xor", xor_blobs(120, 6))]
}

#[test]
fn notebook_network_loss_equals_the_hand_written_one() {
    let net = Mlp::notebook();
    let se = net.clone().with_loss(Loss::SquaredError);
    let mut rng = Rng::new(31);
    for (_, d) in [("disk", disk_ring(1000, 1)), ("xor", xor_blobs(1000, 2))] {
        let mut params = vec![net.init_params(0), net.init_params(9), vec![0.0; 13]];
        for scale in [0.3, 1.0, 4.0, 30.0] {
            params.push(random_params(&mut rng, 13, scale));
        }
        for w in &params {
            let (a, b) = (net.loss(w, &d), notebook::loss(w, &d));
            assert!((a - b).abs() <= 1e-15 * b.max(1.0), "{a} vs {b}");
            let (a, b) = (se.loss(w, &d), notebook::squared_error_loss(w, &d));
            assert!((a - b).abs() <= 1e-15 * b.max(1.0), "{a} vs {b}");
            assert_eq!(net.accuracy(w, &d), notebook::accuracy(w, &d));
            for &(x, y) in &[(0.1, -0.2), (2.0, 3.0), (-0.7, 0.0)] {
                let (p, q) = (net.predict(w, x, y), notebook::predict(w, x, y));
                assert!((p - q).abs() <= 1e-15, "{p} vs {q}");
            }
        }
    }
    // Same initial parameters, drawn in the same order.
    for seed in [0, 1, 77] {
        assert_eq!(net.init_params(seed), notebook::init_params(seed));
    }
}

#[test]
fn flat_parameters_are_row_major_weights_then_biases() {
    let net = Mlp::new(&[2, 4, 3, 1], Activation::Tanh, Activation::Sigmoid);
    assert_eq!(net.n_params(), 4 * 3 + 3 * 5 + 4);
    let flat: Vec<f64> = (0..net.n_params()).map(|i| i as f64).collect();
    let layers = net.unflatten(&flat);
    // Layer 1: W 4x2 row-major at 0..8, b at 8..12.
    assert_eq!(layers[0].w[(0, 1)], 1.0);
    assert_eq!(layers[0].w[(3, 0)], 6.0);
    assert_eq!(layers[0].b.as_slice(), &[8.0, 9.0, 10.0, 11.0]);
    // Layer 2: W 3x4 at 12..24, b at 24..27.
    assert_eq!(layers[1].w[(1, 0)], 16.0);
    assert_eq!(layers[1].w[(2, 3)], 23.0);
    assert_eq!(layers[1].b[0], 24.0);
    // Layer 3: W 1x3 at 27..30, b at 30.
    assert_eq!(layers[2].w[(0, 2)], 29.0);
    assert_eq!(layers[2].b[0], 30.0);
    assert_eq!(net.flatten(&layers), flat);
    assert_eq!(
        net.param_ranges(),
        vec![(0..8, 8..12), (12..24, 24..27), (27..30, 30..31)]
    );
}

#[test]
fn forward_pass_equals_layer_by_layer_loops() {
    // The batch forward pass (DMatrix products) against plain loops over
    // points and units using the unflattened matrices.
    let net = Mlp::new(&[2, 5, 3, 1], Activation::Tanh, Activation::Sigmoid);
    let mut rng = Rng::new(4);
    let w = random_params(&mut rng, net.n_params(), 1.0);
    let d = xor_blobs(37, 3);
    let layers = net.unflatten(&w);
    let out = net.forward(&w, &d.x);
    for i in 0..d.len() {
        let mut a = vec![d.x[(i, 0)], d.x[(i, 1)]];
        for (k, lp) in layers.iter().enumerate() {
            let act = net.layers()[k].activation;
            a = (0..lp.w.nrows())
                .map(|j| {
                    let z: f64 = (0..a.len()).map(|m| lp.w[(j, m)] * a[m]).sum::<f64>() + lp.b[j];
                    act.apply(z)
                })
                .collect();
        }
        assert!((out[(i, 0)] - a[0]).abs() < 1e-14, "point {i}");
    }
}

#[test]
fn logistic_regression_gradient_by_hand() {
    // A [2, 1] sigmoid network is logistic regression: with z = w0 x0 + w1 x1 + b,
    // dL/d(w0, w1, b) = (1/N) sum (sigmoid(z) - t) (x0, x1, 1).
    let net = Mlp::new(&[2, 1], Activation::Identity, Activation::Sigmoid);
    let d = disk_ring(50, 2);
    let w = [0.7, -1.3, 0.2];
    let mut g = [0.0; 3];
    let mut l = 0.0;
    for i in 0..d.len() {
        let (x0, x1) = d.point(i);
        let t = d.y[i];
        let z: f64 = w[0] * x0 + w[1] * x1 + w[2];
        let y = 1.0 / (1.0 + (-z).exp());
        l += -t * y.ln() - (1.0 - t) * (1.0 - y).ln();
        for (gk, xk) in g.iter_mut().zip([x0, x1, 1.0]) {
            *gk += (y - t) * xk;
        }
    }
    let n = d.len() as f64;
    let g: Vec<f64> = g.iter().map(|v| v / n).collect();
    let o = net.objective(&d);
    assert!((o.value(&w) - l / n).abs() < 1e-14);
    for m in [Method::Reverse, Method::Forward] {
        let (lm, gm) = m.gradient(&o, &w).unwrap();
        assert!((lm - l / n).abs() < 1e-14);
        assert_grad_close(&gm, &g, 1e-14, m.label());
    }
}

#[test]
fn linear_two_layer_squared_error_gradient_by_hand() {
    // Identity activations, squared error: y = v . (W x + b) + c with W 3x2.
    // With r = y - t: dL/dW_jk = (1/N) sum r v_j x_k, dL/db_j = (1/N) sum r v_j,
    // dL/dv_j = (1/N) sum r h_j (h = W x + b), dL/dc = (1/N) sum r.
    let net = Mlp::new(&[2, 3, 1], Activation::Identity, Activation::Identity)
        .with_loss(Loss::SquaredError);
    let d = xor_blobs(40, 8);
    let p = [
        0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.1, -0.2, 0.3, 1.0, -2.0, 0.5, 0.05,
    ];
    let (wm, b, v, c) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let mut g = [0.0; 13];
    let mut l = 0.0;
    for i in 0..d.len() {
        let x = [d.x[(i, 0)], d.x[(i, 1)]];
        let h: Vec<f64> = (0..3)
            .map(|j| wm[2 * j] * x[0] + wm[2 * j + 1] * x[1] + b[j])
            .collect();
        let y = v[0] * h[0] + v[1] * h[1] + v[2] * h[2] + c;
        let r = y - d.y[i];
        l += 0.5 * r * r;
        for j in 0..3 {
            g[2 * j] += r * v[j] * x[0];
            g[2 * j + 1] += r * v[j] * x[1];
            g[6 + j] += r * v[j];
            g[9 + j] += r * h[j];
        }
        g[12] += r;
    }
    let n = d.len() as f64;
    let g: Vec<f64> = g.iter().map(|x| x / n).collect();
    let o = net.objective(&d);
    assert!((o.value(&p) - l / n).abs() < 1e-14);
    for m in [Method::Reverse, Method::Forward] {
        let (_, gm) = m.gradient(&o, &p).unwrap();
        assert_grad_close(&gm, &g, 1e-13, m.label());
    }
    // Not the notebook's network (identity units): no analytic gradient.
    assert!(Method::Analytic.gradient(&o, &p).is_err());
}

#[test]
fn all_four_methods_agree_on_the_notebook_network() {
    let net = Mlp::notebook();
    let mut rng = Rng::new(1234);
    for loss in [Loss::CrossEntropy, Loss::SquaredError] {
        let net = net.clone().with_loss(loss);
        for (name, d) in sets() {
            let o = net.objective(&d);
            for scale in [0.5, 1.0, 3.0] {
                let w = random_params(&mut rng, 13, scale);
                let (la, ga) = Analytic.gradient(&o, &w).unwrap();
                // The oracle is the notebook's own function.
                let reference = match loss {
                    Loss::CrossEntropy => notebook::gradient(&w, &d),
                    Loss::SquaredError => notebook::squared_error_gradient(&w, &d),
                };
                assert_eq!((la, ga.clone()), reference);
                let what = |m: &str| format!("{name}, {loss}, scale {scale}: {m}");
                let (lr, gr) = Reverse.gradient(&o, &w).unwrap();
                assert!((lr - la).abs() <= 1e-15 * la.max(1.0));
                assert_grad_close(&gr, &ga, 1e-13, &what("reverse"));
                let (lf, gf) = Forward::<16>.gradient(&o, &w).unwrap();
                assert_eq!(lf, lr);
                assert_grad_close(&gf, &ga, 1e-13, &what("forward 16"));
                let (_, gf8) = Forward::<8>.gradient(&o, &w).unwrap();
                assert_grad_close(&gf8, &ga, 1e-13, &what("forward 8"));
                let rich = FiniteDifferences {
                    scheme: Scheme::Richardson,
                };
                let (_, gd) = rich.gradient(&o, &w).unwrap();
                assert_grad_close(&gd, &ga, 1e-9, &what("Richardson"));
                let (_, gc) = Method::FiniteDifferences.gradient(&o, &w).unwrap();
                assert_grad_close(&gc, &ga, 1e-7, &what("central"));
                // And the crate's checker, which adds the analytic column itself.
                let report = check::gradient(&o, &w);
                assert_eq!(report.modes().len(), 5); // forward, reverse, replay, fd, analytic
                report.assert_ok();
            }
        }
    }
}

#[test]
fn automatic_methods_agree_on_deeper_networks() {
    let nets = [
        Mlp::new(&[2, 8, 8, 1], Activation::Tanh, Activation::Sigmoid),
        Mlp::new(&[2, 16, 1], Activation::Sigmoid, Activation::Sigmoid),
        Mlp::new(&[2, 6, 5, 1], Activation::Relu, Activation::Sigmoid),
        Mlp::new(&[2, 4, 4, 1], Activation::Tanh, Activation::Identity)
            .with_loss(Loss::SquaredError),
        Mlp::new(&[2, 5, 1], Activation::Sigmoid, Activation::Tanh).with_loss(Loss::SquaredError),
    ];
    let mut rng = Rng::new(777);
    for net in &nets {
        for (name, d) in sets() {
            let o = net.objective(&d);
            let w = random_params(&mut rng, net.n_params(), 0.8);
            let what = |m: &str| format!("{net:#} on {name}: {m}");
            let (lr, gr) = Reverse.gradient(&o, &w).unwrap();
            let (lf, gf) = Forward::<8>.gradient(&o, &w).unwrap();
            assert!((lr - o.value(&w)).abs() <= 1e-15 * lr.max(1.0));
            assert!((lf - lr).abs() <= 1e-15 * lr.max(1.0));
            assert_grad_close(&gf, &gr, 1e-13, &what("forward vs reverse"));
            // Central differences: a step small enough that no ReLU kink is
            // crossed at these random points.
            let (_, gc) = Method::FiniteDifferences.gradient(&o, &w).unwrap();
            assert_grad_close(&gc, &gr, 1e-7, &what("central vs reverse"));
            // No hand-derived gradient for these: a clear error, not a panic.
            let err = Analytic.gradient(&o, &w).unwrap_err();
            assert_eq!(
                err,
                Error::AnalyticUnavailable {
                    network: format!("{net:#}")
                }
            );
            assert!(o.analytic_gradient(&w).is_none());
        }
    }
}

#[test]
fn cross_entropy_stays_finite_for_saturated_networks() {
    // Weights of size 200 push the logits to hundreds: sigmoid(z) rounds to
    // exactly 0 or 1 and the naive -ln(y) is infinite. Here the loss and
    // every gradient stay finite, and the methods still agree.
    let d = disk_ring(100, 3);
    let mut rng = Rng::new(5);
    for net in [
        Mlp::notebook(),
        Mlp::new(&[2, 8, 1], Activation::Tanh, Activation::Sigmoid),
    ] {
        let o = net.objective(&d);
        let w = random_params(&mut rng, net.n_params(), 200.0);
        let (l, gr) = Reverse.gradient(&o, &w).unwrap();
        let (_, gf) = Forward::<8>.gradient(&o, &w).unwrap();
        assert!(l.is_finite() && l > 1.0, "{l}");
        assert!(gr.iter().chain(&gf).all(|g| g.is_finite()));
        assert_grad_close(&gf, &gr, 1e-12, "saturated");
        if net.is_notebook() {
            let (la, ga) = Analytic.gradient(&o, &w).unwrap();
            assert!((la - l).abs() <= 1e-13 * l);
            assert_grad_close(&gr, &ga, 1e-12, "saturated, analytic");
        }
    }
}

#[test]
fn analytic_error_message_names_the_network_and_the_alternatives() {
    let d = xor_blobs(20, 1);
    let net = Mlp::new(&[2, 16, 1], Activation::Tanh, Activation::Sigmoid);
    let o = net.objective(&d);
    let w = net.init_params(0);
    let err = train(&o, &Method::Analytic, &mut Adam::new(0.1), &w, 10).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("2-16-1 (tanh hidden, sigmoid output, cross-entropy)"),
        "{msg}"
    );
    assert!(msg.contains("Method::Reverse"), "{msg}");
    // The notebook's shape with another activation is not the notebook's network either.
    let other = Mlp::new(&[2, 3, 1], Activation::Tanh, Activation::Sigmoid);
    assert!(Analytic.gradient(&other.objective(&d), &w[..13]).is_err());
}

#[test]
fn training_by_type_and_by_value_is_the_same_computation() {
    let d = disk_ring(100, 9);
    let net = Mlp::notebook();
    let o = net.objective(&d);
    let init = net.init_params(2);
    let gd = GradientDescent { learning_rate: 1.0 };
    let pairs: [(&dyn GradientMethod, &dyn GradientMethod); 4] = [
        (&Analytic, &Method::Analytic),
        (&Reverse, &Method::Reverse),
        (&Forward::<16>, &Method::Forward),
        (
            &FiniteDifferences {
                scheme: Scheme::Central,
            },
            &Method::FiniteDifferences,
        ),
    ];
    let analytic = train(&o, &Analytic, &mut gd.clone(), &init, 30).unwrap();
    for (by_type, by_value) in pairs {
        let a = train(&o, by_type, &mut gd.clone(), &init, 30).unwrap();
        let b = train(&o, by_value, &mut gd.clone(), &init, 30).unwrap();
        assert_eq!(a.losses, b.losses, "{}", by_value.name());
        assert_eq!(a.params, b.params);
        assert_eq!((a.losses.len(), a.epoch_seconds.len()), (31, 30));
        // Every method follows the analytic trajectory.
        let tol = if by_value.name() == "finite differences" {
            1e-7
        } else {
            1e-12
        };
        assert!(
            max_abs_diff(&a.params, &analytic.params) < tol,
            "{}",
            by_value.name()
        );
    }
}

#[test]
fn gradient_descent_and_adam_by_hand() {
    // Gradient descent on L = 1/2 sum a_i w_i^2 (gradient a_i w_i) multiplies
    // w_i by (1 - rate a_i) each step.
    let a = [1.0, 0.5, 0.1];
    let mut w = [1.0, -2.0, 3.0];
    let mut gd = GradientDescent { learning_rate: 0.5 };
    for _ in 0..10 {
        let g: Vec<f64> = w.iter().zip(&a).map(|(w, a)| a * w).collect();
        gd.step(&mut w, &g);
    }
    let expect = [
        1.0 * 0.5f64.powi(10),
        -2.0 * 0.75f64.powi(10),
        3.0 * 0.95f64.powi(10),
    ];
    // Neither side is exact. Each step computes w - fl(0.5 fl(a w)): two
    // roundings, relative error at most (r a / (1 - r a) + 1) ε ≤ 2ε per
    // step, so 20ε after 10 steps; powi(10) is four or five multiplications
    // (and release builds may evaluate it differently), at most 5ε more.
    for (got, want) in w.iter().zip(&expect) {
        let tol = 25.0 * f64::EPSILON * want.abs();
        assert!(
            (got - want).abs() <= tol,
            "{got} vs {want}: {:e} > {tol:e}",
            (got - want).abs()
        );
    }

    // Adam with a constant gradient g: m_t = (1 - b1^t) g and v_t = (1 - b2^t) g^2,
    // so after bias correction every step is rate * g / (|g| + eps).
    let mut adam = Adam::new(0.01);
    let mut w = [0.0, 0.0];
    for _ in 0..25 {
        adam.step(&mut w, &[3.0, -1e-4]);
    }
    assert_eq!(adam.steps(), 25);
    let step = |g: f64| 0.01 * g / (g.abs() + 1e-8);
    assert!((w[0] + 25.0 * step(3.0)).abs() < 1e-12, "{w:?}");
    assert!((w[1] + 25.0 * step(-1e-4)).abs() < 1e-12, "{w:?}");

    // Second step with a changed gradient, by the formulas:
    // g1 = 1, g2 = 3: m2 = 0.9*0.1 + 0.1*3 = 0.39, v2 = 0.999*0.001 + 0.001*9 = 0.009999,
    // m̂ = 0.39 / 0.19, v̂ = 0.009999 / 0.001999.
    let mut adam = Adam::new(1.0);
    let mut w = [0.0];
    adam.step(&mut w, &[1.0]);
    let after_one = w[0];
    adam.step(&mut w, &[3.0]);
    let expect = (0.39 / 0.19) / ((0.009999f64 / 0.001999).sqrt() + 1e-8);
    assert!((after_one - w[0] - expect).abs() < 1e-12);
}

#[test]
fn batch_prediction_matches_points() {
    let net = Mlp::new(&[2, 6, 1], Activation::Tanh, Activation::Sigmoid);
    let w = net.init_params(5);
    let x = DMatrix::from_row_slice(3, 2, &[0.0, 0.0, 1.0, -1.0, 0.3, 0.9]);
    let batch: DVector<f64> = net.predict_batch(&w, &x);
    for i in 0..3 {
        assert_eq!(batch[i], net.predict(&w, x[(i, 0)], x[(i, 1)]));
        assert!(batch[i] > 0.0 && batch[i] < 1.0);
    }
}
