//! Correctness of the comparison itself (no timing is asserted anywhere).

use crate::harness::{self, rel_err, Config, Status};
use crate::peers::{self, baseline::central_differences};
use crate::workloads::na_generic::{na032, na034, na035};
use crate::workloads::{Workload, PASS_LANES};

/// Small instances of every workload, quick in a debug build.
fn small_workloads() -> Vec<Workload> {
    vec![
        Workload::ConstDiv,
        Workload::ConstSub,
        Workload::rosenbrock(10),
        Workload::net231(40),
        Workload::net231_nalgebra(40),
        Workload::mlp(10),
        Workload::logdet(4),
    ]
}

#[test]
fn hand_written_gradients_match_finite_differences() {
    for w in small_workloads() {
        let x = w.point();
        let (value, g) = w.analytic(&x);
        let (fd_value, fd) = central_differences(|x| w.eval(x), &x);
        assert_eq!(value, fd_value, "{}", w.name());
        let err = rel_err(&g, &fd);
        assert!(
            err < 1e-7,
            "{}: hand-written vs finite differences {err:e}",
            w.name()
        );
    }
}

/// The peers' nalgebra text computes the benchmarks' functions, in every
/// nalgebra release it is expanded for.
#[test]
fn nalgebra_workloads_agree_with_the_benchmarks_and_across_releases() {
    for w in [Workload::net231_nalgebra(40), Workload::mlp(10)] {
        let Workload::Mlp {
            sizes,
            hidden,
            data,
            ..
        } = &w
        else {
            unreachable!()
        };
        let p = w.point();
        let a = w.eval(&p);
        let b = na035::mlp_loss(&p, sizes, *hidden, data);
        assert!((a - b).abs() < 1e-13 * a.abs().max(1.0), "{}", w.name());
        assert!((b - na034::mlp_loss(&p, sizes, *hidden, data)).abs() < 1e-14);
        assert!((b - na032::mlp_loss(&p, sizes, *hidden, data)).abs() < 1e-14);
    }
    let w = Workload::logdet(4);
    let x = w.point();
    let d = na035::logdet(&x, 4);
    assert!((d - w.eval(&x)).abs() < 1e-12);
    assert!((d - na034::logdet(&x, 4)).abs() < 1e-12);
    assert!((d - na032::logdet(&x, 4)).abs() < 1e-12);
}

#[test]
fn rel_err_counts_nan_as_wrong() {
    assert_eq!(rel_err(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
    assert!(rel_err(&[f64::NAN, 2.0], &[1.0, 2.0]).is_infinite());
    assert!(rel_err(&[1.0], &[1.0, 2.0]).is_infinite());
}

/// Every method of every crate checks out, except the reverse crate's
/// `f64 / Var` (it records -1/x instead of -c/x^2), which is reported WRONG
/// wherever the workload divides a constant by a variable.
#[test]
fn peers_are_right_except_reverse_crate_constant_division() {
    let peers = peers::all();
    for w in small_workloads() {
        let rows = harness::run_workload(&w, &peers, &Config::check_only(), &mut |_| {});
        for r in rows {
            let known_wrong = r.method == "reverse Var, tape"
                && matches!(w, Workload::ConstDiv | Workload::Net231 { .. });
            match &r.status {
                Status::Wrong(_) if known_wrong => {}
                Status::Ok | Status::Baseline | Status::Skipped(_) | Status::Cannot(_)
                    if !known_wrong => {}
                other => panic!("{} / {}: unexpected {other:?}", w.name(), r.method),
            }
        }
    }
}

/// dualtape's reverse gradient agrees with the hand-written one on every
/// workload, so it becomes the reference for every peer after it.
#[test]
fn dualtape_reverse_is_the_reference() {
    let peers = peers::all();
    for w in small_workloads() {
        let mut log = Vec::new();
        let rows = harness::run_workload(&w, &peers, &Config::check_only(), &mut |s| {
            log.push(s.to_string())
        });
        assert!(
            log.iter()
                .any(|l| l.ends_with("reference from now on: dualtape Var, reverse")),
            "{}: {log:?}",
            w.name()
        );
        let dualtape: Vec<_> = rows
            .iter()
            .filter(|r| r.method.starts_with("dualtape "))
            .collect();
        assert!(dualtape.len() >= 5, "{}", w.name());
        for r in dualtape {
            assert!(
                matches!(r.status, Status::Ok | Status::Skipped(_)),
                "{} / {}: {:?}",
                w.name(),
                r.method,
                r.status
            );
        }
    }
}

#[test]
fn compact_columns_drop_pass_counts_and_name_n() {
    use crate::report::column_key;
    assert_eq!(
        column_key("ad_trait adfn<16>, 7 passes", 100),
        "ad_trait adfn<16>"
    );
    assert_eq!(
        column_key("ad_trait adfn<13>, 1 pass", 13),
        "ad_trait adfn<n>"
    );
    assert_eq!(
        column_key("num-dual DualSVec64<13>, 1 pass", 13),
        "num-dual DualSVec64<n>"
    );
    assert_eq!(
        column_key("dualtape DualVec<f64, 10>, 1 pass (N = n)", 10),
        "dualtape DualVec<f64, n>, 1 pass (N = n)"
    );
    assert_eq!(
        column_key("dualtape DualVec<f64, 8>, 125 passes", 1000),
        "dualtape DualVec<f64, 8>"
    );
    assert_eq!(
        column_key("finite differences (central, f64)", 10),
        "finite differences (central, f64)"
    );
}

/// The plot reads the same points back from the CSV as from the rows.
#[test]
fn plot_points_survive_the_csv() {
    use crate::harness::Row;
    let row = |method: &str, n: usize, ratio: Option<f64>, status: Status| Row {
        workload: "extended Rosenbrock".into(),
        n,
        method: method.into(),
        median: ratio.map(|r| r * 1e-9),
        ratio,
        status,
        rounds: 3,
        iters: 1,
        note: None,
        min_max: None,
    };
    let rows = vec![
        row("f64 evaluation", 10, Some(1.0), Status::Baseline),
        row("dualtape Var, reverse", 10, Some(12.5), Status::Ok),
        row(
            "dualtape finite differences (central)",
            10,
            Some(30.25),
            Status::Ok,
        ),
        row(
            "dualtape DualVec<f64, 8>, 2 passes",
            10,
            None,
            Status::Skipped("s".into()),
        ),
    ];
    let from_rows = crate::plot::points_from_rows(&rows);
    assert_eq!(from_rows.len(), 2);
    assert_eq!(
        crate::plot::points_from_csv(&crate::report::csv(&rows)),
        from_rows
    );
}

/// The newest peers are checked, not just listed: every echidna (and, with
/// the `xad` feature, xad-rs) method that can express a workload passes the
/// check against dualtape's reverse gradient on it.
#[test]
fn echidna_and_xad_methods_are_checked_and_right() {
    let peers = peers::all();
    for w in small_workloads() {
        let rows = harness::run_workload(&w, &peers, &Config::check_only(), &mut |_| {});
        let (mut checked, mut skipped) = (0, 0);
        for r in rows
            .iter()
            .filter(|r| r.method.starts_with("echidna ") || r.method.starts_with("xad-rs "))
        {
            match &r.status {
                Status::Ok => checked += 1,
                Status::Skipped(_) if w.skip_n_passes().is_some() => skipped += 1,
                Status::Cannot(_)
                    if matches!(w, Workload::Mlp { .. } | Workload::LogDet { .. }) => {}
                other => panic!("{} / {}: {other:?}", w.name(), r.method),
            }
        }
        // echidna: Reverse and DualVec everywhere, replay on the scalar workloads.
        let scalar = !matches!(w, Workload::Mlp { .. } | Workload::LogDet { .. });
        let want = 2
            + usize::from(scalar)
            + usize::from(matches!(w.dim(), 1 | 10 | 13))
            + usize::from(w.one_pass_only());
        let want = want
            + if cfg!(feature = "xad") && scalar {
                2 + usize::from(matches!(w.dim(), 1 | 10 | 13))
            } else {
                0
            };
        assert_eq!(checked + skipped, want, "{}", w.name());
        assert!(checked >= 1, "{}", w.name());
    }
}

/// Where a forward gradient is too long (the 2-64-64-1 network), each
/// forward crate's one pass is checked on the partials it computes and is
/// right; the check catches right numbers in the wrong places.
#[test]
fn one_forward_pass_is_checked_on_its_partials() {
    let w = Workload::mlp(10);
    assert!(w.one_pass_only());
    let rows = harness::run_workload(&w, &peers::all(), &Config::check_only(), &mut |_| {});
    let one: Vec<_> = rows
        .iter()
        .filter(|r| r.method.ends_with(", 1 pass (of 277)"))
        .collect();
    assert_eq!(
        one.len(),
        3,
        "dualtape, num-dual and echidna each time one pass"
    );
    for r in one {
        assert_eq!(r.status, Status::Ok, "{}", r.method);
    }

    /// The hand-written partials of the first `PASS_LANES` inputs, from `shift` on.
    struct FirstLanes(usize);
    impl harness::Peer for FirstLanes {
        fn name(&self) -> String {
            "first lanes".into()
        }
        fn methods(&self, w: &Workload) -> Vec<harness::Method> {
            let (w, shift) = (w.clone(), self.0);
            vec![harness::Method::run("first lanes", move |x, g| {
                let (v, full) = w.analytic(x);
                g[..PASS_LANES].copy_from_slice(&full[shift..shift + PASS_LANES]);
                v
            })
            .first_partials(PASS_LANES)]
        }
    }
    let status = |shift| {
        let peers: Vec<Box<dyn harness::Peer>> = vec![Box::new(FirstLanes(shift))];
        let rows = harness::run_workload(&w, &peers, &Config::check_only(), &mut |_| {});
        rows.last().unwrap().status.clone()
    };
    assert_eq!(status(0), Status::Ok);
    assert!(matches!(status(1), Status::Wrong(_)), "{:?}", status(1));
}
