//! The notebook's argument, measured: the cost of a gradient as a multiple
//! of one evaluation against the number of inputs n, on extended Rosenbrock,
//! for reverse mode (one backward sweep), forward mode (chunks of 8, and one
//! pass per input) and central finite differences (2n evaluations).

use crate::harness::{Row, Status};
use crate::peers::dualtape::{DUALVEC_PREFIX, DUAL_N_PASSES, FINITE_DIFF, REVERSE};
use plotters::prelude::*;
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

/// Okabe-Ito colours (colour-blind safe), and grey for the scale line.
const COLOURS: [RGBColor; 5] = [
    RGBColor(213, 94, 0),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(0, 114, 178),
    RGBColor(60, 60, 60),
];
const GREY: RGBColor = RGBColor(160, 160, 160);

/// `1e3` style tick labels for the log axes.
fn tick(v: &f64) -> String {
    format!("{v:.0e}")
}

/// Draws the plot to `path` (SVG, by plotters). Returns false, drawing
/// nothing, if the points hold no dualtape reverse-mode Rosenbrock
/// measurement.
pub fn draw(points: &[Point], path: &Path) -> Result<bool, Box<dyn std::error::Error>> {
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
    let lines: [(&str, Vec<(f64, f64)>); 5] = [
        (
            "finite differences, central (2n evaluations)",
            series_of(&|m| m == FINITE_DIFF),
        ),
        (
            "forward, Dual<f64>: n passes",
            series_of(&|m| m == DUAL_N_PASSES),
        ),
        (
            "forward, DualVec<f64, 8>: n/8 passes",
            series_of(&|m| m.starts_with(&chunk8)),
        ),
        (
            "reverse, Var: one backward sweep",
            series_of(&|m| m == REVERSE),
        ),
        (
            "hand-written gradient",
            series_of(&|m| m == "hand-written gradient"),
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
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let root = SVGBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Cost of a gradient, extended Rosenbrock",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (lo / 1.5..hi * 1.5).log_scale(),
            // Room above the lines for the legend.
            (0.5..(top * 1e3).max(hi * 10.0)).log_scale(),
        )?;
    chart
        .configure_mesh()
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .x_desc("n (inputs)")
        .y_desc("gradient time / one f64 evaluation")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.1))
        .draw()?;
    // For scale: the cost of n evaluations.
    chart
        .draw_series(LineSeries::new([(lo, lo), (hi, hi)], GREY.stroke_width(2)))?
        .label("n evaluations (for scale)")
        .legend(|(x, y)| PathElement::new([(x - 10, y), (x + 10, y)], GREY.stroke_width(2)));
    for ((label, pts), colour) in lines.into_iter().zip(COLOURS) {
        if pts.is_empty() {
            continue;
        }
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
        chart
            .draw_series(LineSeries::new(pts, colour.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new([(-10, 0), (10, 0)], colour.stroke_width(2))
                    + Circle::new((0, 0), 4, colour.filled())
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;
    root.present()?;
    Ok(true)
}
