//! The notebook's argument, measured: the cost of a gradient as a multiple
//! of one evaluation against the number of inputs n, on extended Rosenbrock,
//! for reverse mode (one backward sweep), forward mode (chunks of 8, and one
//! pass per input) and central finite differences (2n evaluations).

use crate::harness::{Row, Status};
use crate::peers::dualtape::{DUALVEC_PREFIX, DUAL_N_PASSES, FINITE_DIFF, REVERSE};
use dualtape_plot::{Figure, LegendPos, Rgb, Series, Style, DARK_GREY, PALETTE};
use std::path::Path;

const WORKLOAD: &str = "extended Rosenbrock";

/// One measured point: method, n, ratio to one f64 evaluation.
pub type Point = (String, usize, f64);

/// The timed Rosenbrock points of a run.
pub fn points_from_rows(rows: &[Row]) -> Vec<Point> {
    rows.iter()
        .filter(|r| r.workload == WORKLOAD && r.status == Status::Ok)
        .filter_map(|r| r.ratio.map(|x| (r.method.clone(), r.n, x)))
        .collect()
}

/// Splits one CSV line (fields quoted where they hold a comma or a quote).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// The timed Rosenbrock points of a CSV written by `report::csv`.
pub fn points_from_csv(csv: &str) -> Vec<Point> {
    csv.lines()
        .skip(1)
        .map(csv_fields)
        .filter(|f| f.len() >= 6 && f[0] == WORKLOAD && f[5] == "ok")
        .filter_map(|f| Some((f[2].clone(), f[1].parse().ok()?, f[4].parse().ok()?)))
        .collect()
}

/// Draws the plot to `path` (PNG). Returns false, drawing nothing, if the
/// points hold no dualtape reverse-mode Rosenbrock measurement.
pub fn draw(points: &[Point], path: &Path) -> std::io::Result<bool> {
    let series_of = |pick: &dyn Fn(&str) -> bool| -> Vec<(f64, f64)> {
        let mut s: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| pick(&p.0))
            .map(|p| (p.1 as f64, p.2))
            .collect();
        s.sort_by(|a, b| a.0.total_cmp(&b.0));
        s
    };
    let chunk8 = format!("{DUALVEC_PREFIX}8>,");
    type Line = (&'static str, Vec<(f64, f64)>, Rgb);
    let lines: [Line; 5] = [
        (
            "finite differences, central (2n evaluations)",
            series_of(&|m| m == FINITE_DIFF),
            PALETTE[3],
        ),
        (
            "forward, Dual<f64>: n passes",
            series_of(&|m| m == DUAL_N_PASSES),
            PALETTE[1],
        ),
        (
            "forward, DualVec<f64, 8>: n/8 passes",
            series_of(&|m| m.starts_with(&chunk8)),
            PALETTE[2],
        ),
        (
            "reverse, Var: one backward sweep",
            series_of(&|m| m == REVERSE),
            PALETTE[0],
        ),
        (
            "hand-written gradient",
            series_of(&|m| m == "hand-written gradient"),
            DARK_GREY,
        ),
    ];
    if lines[3].1.is_empty() {
        return Ok(false);
    }
    let (lo, hi, top) = points
        .iter()
        .fold((f64::INFINITY, 0.0f64, 1.0f64), |(lo, hi, top), p| {
            (lo.min(p.1 as f64), hi.max(p.1 as f64), top.max(p.2))
        });
    let mut fig = Figure::new("Cost of a gradient, extended Rosenbrock")
        .size(800, 600)
        .x_label("n (inputs)")
        .y_label("gradient time / one f64 evaluation")
        .x_log()
        .y_log()
        .x_range(lo / 1.5, hi * 1.5)
        // Room above the lines for the legend.
        .y_range(0.5, (top * 1e3).max(hi * 10.0))
        .legend(LegendPos::TopLeft)
        // For scale: the cost of n evaluations.
        .line_colored(
            "n evaluations (for scale)",
            [(lo, lo), (hi, hi)],
            [150, 150, 150],
        );
    for (label, pts, color) in lines {
        if pts.is_empty() {
            continue;
        }
        fig = fig.line_colored(label, pts.clone(), color).series(Series {
            label: String::new(),
            points: pts,
            color,
            style: Style::Markers { radius: 4 },
        });
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    fig.save(path)?;
    Ok(true)
}
