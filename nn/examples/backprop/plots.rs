//! The notebook's pictures, drawn with plotters as SVG: the data, the loss
//! curves, the loss differences and the decision maps.

use dualtape_nn::data::Dataset;
use dualtape_nn::Mlp;
use nalgebra::DMatrix;
use plotters::coord::types::RangedCoordf64;
use plotters::element::BitMapElement;
use plotters::prelude::*;
use std::path::Path;

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

/// Class 1 (the disk, or two of the XOR blobs) and class 0.
const CLASS1: RGBColor = RGBColor(200, 40, 40);
const CLASS0: RGBColor = RGBColor(30, 90, 170);
/// The loss curves' colours (colour-blind safe, Okabe-Ito).
const PALETTE: [RGBColor; 5] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(0, 114, 178),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
];
const FONT: &str = "sans-serif";

/// A tick label: plain for moderate magnitudes, `1e-12` style otherwise,
/// never `-0.0`.
fn tick(v: &f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e4).contains(&a) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

/// P(class 1) as a colour: blue (0) through white (0.5) to red (1).
fn blue_red(p: f64) -> RGBColor {
    let (lo, mid, hi) = (
        [70.0, 120.0, 210.0],
        [247.0, 247.0, 247.0],
        [215.0, 70.0, 60.0],
    );
    let p = p.clamp(0.0, 1.0);
    let (a, b, t) = if p < 0.5 {
        (lo, mid, p * 2.0)
    } else {
        (mid, hi, p * 2.0 - 1.0)
    };
    let c = |i: usize| (a[i] + (b[i] - a[i]) * t).round() as u8;
    RGBColor(c(0), c(1), c(2))
}

/// The training points, class 1 and class 0, with a legend entry each.
fn draw_points<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    data: &Dataset,
) -> Result
where
    DB::ErrorType: 'static,
{
    for (class, colour, name) in [(1.0, CLASS1, "class 1"), (0.0, CLASS0, "class 0")] {
        chart
            .draw_series(data.class_points(class).into_iter().map(|p| {
                EmptyElement::at(p)
                    + Circle::new((0, 0), 3, colour.filled())
                    + Circle::new((0, 0), 3, BLACK.mix(0.6).stroke_width(1))
            }))?
            .label(name)
            .legend(move |(x, y)| Circle::new((x, y), 4, colour.filled()));
    }
    Ok(())
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .label_font((FONT, 14))
        .draw()?;
    Ok(())
}

/// The data set's two classes as a scatter plot, with a class legend.
pub fn data(path: &Path, title: &str, data: &Dataset) -> Result {
    let b = data.bounds().scaled(1.1);
    let root = SVGBackend::new(path, (560, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(b.x_min..b.x_max, b.y_min..b.y_max)?;
    chart
        .configure_mesh()
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .disable_mesh()
        .x_desc("x1")
        .y_desc("x2")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    draw_points(&mut chart, data)?;
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}

/// The 0.5 level of `v` on a grid (`v[j][i]` at `xs[i]`, `ys[j]`), by
/// marching squares: one segment per grid cell it crosses.
fn contour(xs: &[f64], ys: &[f64], v: &[Vec<f64>], level: f64) -> Vec<[(f64, f64); 2]> {
    let mut segments = Vec::new();
    let cross = |(xa, ya, va): (f64, f64, f64), (xb, yb, vb): (f64, f64, f64)| {
        let t = (level - va) / (vb - va);
        (xa + t * (xb - xa), ya + t * (yb - ya))
    };
    for j in 0..ys.len() - 1 {
        for i in 0..xs.len() - 1 {
            // Corners counter-clockwise from the lower left.
            let c = [
                (xs[i], ys[j], v[j][i]),
                (xs[i + 1], ys[j], v[j][i + 1]),
                (xs[i + 1], ys[j + 1], v[j + 1][i + 1]),
                (xs[i], ys[j + 1], v[j + 1][i]),
            ];
            let mut hits = Vec::with_capacity(4);
            for k in 0..4 {
                let (a, b) = (c[k], c[(k + 1) % 4]);
                if (a.2 >= level) != (b.2 >= level) {
                    hits.push(cross(a, b));
                }
            }
            // Two crossings: one segment; four (a saddle): two.
            for pair in hits.chunks_exact(2) {
                segments.push([pair[0], pair[1]]);
            }
        }
    }
    segments
}

/// P(class 1) over 1.1 x the data range as a heat map, the decision boundary
/// P = 0.5 as a black line, the training points on top, a legend, and a
/// colour bar.
pub fn decision_map(
    path: &Path,
    title: &str,
    net: &Mlp,
    params: &[f64],
    data: &Dataset,
    size: (u32, u32),
) -> Result {
    let b = data.bounds().scaled(1.1);
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 20))?;
    let (left, right) = root.split_horizontally(size.0 - 100);
    let mut chart = ChartBuilder::on(&left)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(b.x_min..b.x_max, b.y_min..b.y_max)?;
    chart
        .configure_mesh()
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .disable_mesh()
        .x_desc("x1")
        .y_desc("x2")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;

    // The heat map: one prediction per pixel of the plotting area, a row
    // of pixels per batch.
    let (w, h) = chart.plotting_area().dim_in_pixel();
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for row in 0..h {
        let y = b.y_max - (row as f64 + 0.5) / h as f64 * (b.y_max - b.y_min);
        let x = DMatrix::from_fn(w as usize, 2, |i, c| {
            if c == 0 {
                b.x_min + (i as f64 + 0.5) / w as f64 * (b.x_max - b.x_min)
            } else {
                y
            }
        });
        for p in net.predict_batch(params, &x).iter() {
            let RGBColor(r, g, bl) = blue_red(*p);
            pixels.extend([r, g, bl]);
        }
    }
    let map = BitMapElement::with_owned_buffer((b.x_min, b.y_max), (w, h), pixels)
        .expect("a buffer of w x h RGB pixels");
    chart.draw_series(std::iter::once(map))?;

    // The decision boundary, from a 201 x 201 grid.
    let n = 201;
    let xs: Vec<f64> = (0..n)
        .map(|i| b.x_min + i as f64 / (n - 1) as f64 * (b.x_max - b.x_min))
        .collect();
    let ys: Vec<f64> = (0..n)
        .map(|j| b.y_min + j as f64 / (n - 1) as f64 * (b.y_max - b.y_min))
        .collect();
    let v: Vec<Vec<f64>> = ys
        .iter()
        .map(|&y| {
            let x = DMatrix::from_fn(n, 2, |i, c| if c == 0 { xs[i] } else { y });
            net.predict_batch(params, &x).iter().copied().collect()
        })
        .collect();
    let boundary = BLACK.stroke_width(2);
    chart
        .draw_series(
            contour(&xs, &ys, &v, 0.5)
                .into_iter()
                .map(move |s| PathElement::new(s.to_vec(), boundary)),
        )?
        .label("P(class 1) = 0.5: decision boundary")
        .legend(move |(x, y)| PathElement::new(vec![(x - 8, y), (x + 8, y)], boundary));
    draw_points(&mut chart, data)?;
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;

    // The colour bar.
    let mut bar = ChartBuilder::on(&right)
        .margin_top(10)
        .margin_bottom(50)
        .margin_right(20)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    bar.configure_mesh()
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&tick)
        .y_desc("P(class 1)")
        .draw()?;
    let (bw, bh) = bar.plotting_area().dim_in_pixel();
    let mut strip = Vec::with_capacity((bw * bh * 3) as usize);
    for row in 0..bh {
        let RGBColor(r, g, bl) = blue_red(1.0 - (row as f64 + 0.5) / bh as f64);
        for _ in 0..bw {
            strip.extend([r, g, bl]);
        }
    }
    bar.draw_series(std::iter::once(
        BitMapElement::with_owned_buffer((0.0, 1.0), (bw, bh), strip).expect("bw x bh RGB"),
    ))?;
    bar.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.5), (1.0, 0.5)],
        BLACK.stroke_width(2),
    )))?;
    root.present()?;
    Ok(())
}

/// How a curve is drawn, so that curves lying on top of each other all
/// show: a wide pale line under dashed, dotted and marked ones.
#[derive(Clone, Copy)]
pub enum Stroke {
    Wide,
    Dashed,
    Dotted,
    Marked,
    /// Small dots at every 10th point: for noise-level values, where a line
    /// would jump between rounding levels.
    Dots,
    Solid,
}

/// One curve of a line chart.
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub stroke: Stroke,
}

/// Curves on log or linear axes, a legend at `position`. Points with a
/// non-positive y on a log axis are left out (the y label says so).
#[allow(clippy::too_many_arguments)]
pub fn lines(
    path: &Path,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    x_range: (f64, f64),
    y_range: (f64, f64),
    (x_log, y_log): (bool, bool),
    curves: &[Curve],
    position: SeriesLabelPosition,
) -> Result {
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let keep = |&(x, y): &(f64, f64)| (!x_log || x > 0.0) && (!y_log || y > 0.0);
    // plotters types the chart by its axes: one arm per combination used.
    macro_rules! draw {
        ($xs:expr, $ys:expr) => {{
            let mut chart = ChartBuilder::on(&root)
                .caption(title, (FONT, 20))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d($xs, $ys)?;
            chart
                .configure_mesh()
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 14))
                .x_desc(x_desc)
                .y_desc(y_desc)
                .x_label_formatter(&tick)
                .y_label_formatter(&tick)
                .light_line_style(BLACK.mix(0.05))
                .bold_line_style(BLACK.mix(0.12))
                .draw()?;
            for (i, c) in curves.iter().enumerate() {
                let colour = PALETTE[i % PALETTE.len()];
                let pts: Vec<(f64, f64)> = c.points.iter().copied().filter(keep).collect();
                let legend_style = match c.stroke {
                    Stroke::Wide => colour.mix(0.35).stroke_width(7),
                    _ => colour.stroke_width(2),
                };
                let anno = match c.stroke {
                    Stroke::Wide => chart.draw_series(LineSeries::new(pts, legend_style))?,
                    Stroke::Solid => chart.draw_series(LineSeries::new(pts, legend_style))?,
                    Stroke::Dashed => chart.draw_series(DashedLineSeries::new(
                        pts,
                        10,
                        6,
                        colour.stroke_width(2),
                    ))?,
                    Stroke::Dotted => chart.draw_series(DashedLineSeries::new(
                        pts,
                        2,
                        4,
                        colour.stroke_width(2),
                    ))?,
                    Stroke::Dots => chart.draw_series(
                        pts.iter()
                            .step_by(10)
                            .map(|&p| Circle::new(p, 2, colour.filled())),
                    )?,
                    Stroke::Marked => {
                        // Markers only, at points spread evenly along x.
                        let every = (pts.len() / 40).max(1);
                        chart.draw_series(
                            pts.iter()
                                .enumerate()
                                .filter(|(k, _)| k % every == 0 || k.is_power_of_two())
                                .map(|(_, &p)| Cross::new(p, 4, colour.stroke_width(2))),
                        )?
                    }
                };
                let stroke = c.stroke;
                anno.label(c.name.clone())
                    .legend(move |(x, y)| match stroke {
                        Stroke::Marked => Cross::new((x, y), 4, colour.stroke_width(2)).into_dyn(),
                        Stroke::Dots => Circle::new((x, y), 3, colour.filled()).into_dyn(),
                        Stroke::Dotted => PathElement::new(
                            vec![(x - 10, y), (x - 6, y), (x - 2, y), (x + 2, y), (x + 6, y)],
                            colour.stroke_width(2),
                        )
                        .into_dyn(),
                        _ => PathElement::new(vec![(x - 10, y), (x + 10, y)], legend_style)
                            .into_dyn(),
                    });
            }
            legend(&mut chart, position)?;
        }};
    }
    let (xr, yr) = (x_range.0..x_range.1, y_range.0..y_range.1);
    match (x_log, y_log) {
        (true, true) => draw!(xr.log_scale(), yr.log_scale()),
        (false, true) => draw!(xr, yr.log_scale()),
        (true, false) => draw!(xr.log_scale(), yr),
        (false, false) => draw!(xr, yr),
    }
    root.present()?;
    Ok(())
}
