//! How a `check::Report` reads: the table, its shortening, the panic of
//! `assert_ok`.

use dualtape::check::{self, Index, Mode};
use dualtape::{Differentiable, Scalar};

/// Σ xᵢ³ / 3 over n inputs, with ∂f/∂xᵢ = xᵢ²; component `wrong` of the
/// analytic gradient is off by 1.
struct Cubes {
    n: usize,
    wrong: Option<usize>,
}

impl Differentiable for Cubes {
    fn dim(&self) -> usize {
        self.n
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        x.iter()
            .fold(S::constant(0.0), |acc, &xi| acc + xi * xi * xi / 3.0)
    }
    fn analytic_gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        let mut g: Vec<f64> = x.iter().map(|v| v * v).collect();
        if let Some(w) = self.wrong {
            g[w] += 1.0;
        }
        Some(g)
    }
}

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + 0.01 * i as f64).collect()
}

#[test]
fn a_small_report_prints_every_row_with_every_mode_and_pair() {
    let report = check::gradient(&Cubes { n: 3, wrong: None }, &point(3));
    // `{:#}`: every mode and every pair as columns.
    let text = format!("{report:#}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("gradient check at x = [0.5, 0.51, 0.52] (n = 3): ok"));
    let header = lines
        .iter()
        .find(|l| l.starts_with("entry"))
        .expect("a header row");
    for title in [
        "forward",
        "reverse",
        "finite diff",
        "analytic",
        "fwd~rev",
        "rev~fd",
        "fd~hand",
        "status",
    ] {
        assert!(header.contains(title), "{title} missing from {header}");
    }
    for label in ["f(x)", "∂f/∂x[0]", "∂f/∂x[1]", "∂f/∂x[2]"] {
        assert!(lines.iter().any(|l| l.starts_with(label)), "{label}");
    }
    // 0.5² = 0.25 exactly, printed with 13 significant digits.
    assert!(text.contains("2.500000000000e-1"), "{text}");
    assert!(text.contains("worst: "));
    assert!(!text.contains("hint:"));
}

#[test]
fn the_default_report_names_every_mode_and_each_rows_worst_pair_within_100_columns() {
    let report = check::gradient(&Cubes { n: 3, wrong: None }, &point(3));
    let text = report.to_string();
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("gradient check at x = [0.5, 0.51, 0.52] (n = 3): ok"));
    for title in [
        "forward (fwd)",
        "reverse (rev)",
        "finite diff (fd)",
        "analytic (hand)",
    ] {
        assert!(text.contains(title), "{title} missing from {text}");
    }
    let header = lines
        .iter()
        .find(|l| l.starts_with("entry"))
        .expect("a header row");
    for title in ["pair a~b", "|a − b|", "status"] {
        assert!(header.contains(title), "{title} missing from {header}");
    }
    for label in ["f(x)", "∂f/∂x[0]", "∂f/∂x[1]", "∂f/∂x[2]"] {
        let row = lines.iter().find(|l| l.starts_with(label)).expect(label);
        // each row names one pair of modes and ends in its status
        assert!(row.contains('~') && row.ends_with("| ok"), "{row}");
    }
    // ∂f/∂x[0] = 0.5² = 0.25 in the exact modes, with 13 significant digits.
    assert!(text.contains("2.500000000000e-1"), "{text}");
    assert!(text.contains("worst: "));
    assert!(!text.contains("hint:"));
}

/// The report's text with line breaks and indentation collapsed: the
/// default form wraps long sentences at 100 columns.
pub(crate) fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_large_report_shows_the_failures_and_the_worst_and_counts_the_rest() {
    let n = 100;
    let report = check::gradient(&Cubes { n, wrong: Some(57) }, &point(n));
    assert!(!report.is_ok());
    let short = report.to_string();
    let rows = |t: &str| t.lines().filter(|l| l.starts_with("∂f/∂x[")).count();
    // Only the failing row is shown (it is also the worst), besides f(x).
    assert_eq!(rows(&short), 1);
    assert!(short.contains("∂f/∂x[57]"));
    assert!(short.contains("… 99 more rows agree"));
    assert!(short.contains("1 of 101 rows disagree"));
    assert!(short.contains("worst: ∂f/∂x[57], forward vs analytic: |a − b| = 1.00e0"));
    // The alternate form prints them all.
    let full = format!("{report:#}");
    assert_eq!(rows(&full), n);
    assert!(!full.contains("more rows agree"));
}

#[test]
#[should_panic(expected = "∂f/∂x[1]")]
fn assert_ok_panics_with_the_table() {
    check::gradient(
        &Cubes {
            n: 2,
            wrong: Some(1),
        },
        &[1.0, 2.0],
    )
    .assert_ok();
}

#[test]
fn labels_of_rows_and_modes() {
    assert_eq!(Index::Value.to_string(), "f(x)");
    assert_eq!(Index::Output(2).to_string(), "f[2](x)");
    assert_eq!(Index::Gradient(3).to_string(), "∂f/∂x[3]");
    assert_eq!(Index::Jacobian(1, 0).to_string(), "∂f[1]/∂x[0]");
    assert_eq!(Index::Hessian(0, 1).to_string(), "∂²f/∂x[0]∂x[1]");
    assert_eq!(Index::Directional.to_string(), "∇f·v");
    assert_eq!(Mode::FiniteDiff.to_string(), "finite diff");
    assert!(Mode::ForwardOverReverse.is_exact());
    assert!(!Mode::FiniteDiffOfGradient.is_exact());
}

#[test]
fn worst_is_the_largest_ratio_to_the_tolerance() {
    let report = check::gradient(&Cubes { n: 4, wrong: None }, &point(4));
    let (entry, worst) = report.worst().unwrap();
    for e in report.entries() {
        for c in &e.comparisons {
            assert!(c.ratio() <= worst.ratio(), "{:?} beats {:?}", c, worst);
            assert!(c.ok && c.error <= c.tolerance);
        }
    }
    assert!(!entry.index.is_value() || worst.error == 0.0);
}
