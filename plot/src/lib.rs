//! Small PNG plots for dualtape's examples and benchmark comparisons.
//!
//! Everything is drawn into an RGB raster ([`Canvas`]) with an embedded 5x7
//! bitmap font, so nothing here needs system fonts or C libraries; the only
//! dependency is the `png` crate for writing the file. A [`Figure`] lays out a
//! title, a frame with ticks on linear or log10 axes, axis labels, a legend,
//! and any mix of line series, scatter series and one [`Heatmap`] with a
//! colour bar.
//!
//! ```
//! use dualtape_plot::{Figure, Heatmap, Colormap, RED, BLUE};
//!
//! let loss: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 1.0 / (1.0 + i as f64))).collect();
//! let canvas = Figure::new("Training loss")
//!     .x_label("epoch")
//!     .y_label("loss")
//!     .y_log()
//!     .line("gradient descent", loss)
//!     .render();
//! assert_eq!((canvas.width(), canvas.height()), (640, 480));
//!
//! let map = Heatmap::from_fn((-1.0, 1.0), (-1.0, 1.0), 50, 50, |x, y| (x * y + 1.0) / 2.0)
//!     .colormap(Colormap::BlueRed)
//!     .label("P(class 1)");
//! let png: Vec<u8> = Figure::new("Decision map")
//!     .heatmap(map)
//!     .scatter("class 1", vec![(0.5, 0.5)], RED)
//!     .scatter("class 0", vec![(-0.5, 0.5)], BLUE)
//!     .render()
//!     .encode_png();
//! assert_eq!(&png[1..4], b"PNG");
//! ```

#![warn(missing_docs)]

mod font;

use std::io;
use std::path::Path;

/// An RGB colour.
pub type Rgb = [u8; 3];

/// White.
pub const WHITE: Rgb = [255, 255, 255];
/// Black.
pub const BLACK: Rgb = [0, 0, 0];
/// The red used for class 1 in scatter plots.
pub const RED: Rgb = [214, 39, 40];
/// The blue used for class 0 in scatter plots.
pub const BLUE: Rgb = [31, 119, 180];
/// Light grey, for grid lines.
pub const LIGHT_GREY: Rgb = [225, 225, 225];
/// Dark grey, for frames and text that should not shout.
pub const DARK_GREY: Rgb = [70, 70, 70];

/// Colours given in turn to series added without one (matplotlib's "tab10").
pub const PALETTE: [Rgb; 8] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
];

// ---------------------------------------------------------------------------
// Canvas: pixels, shapes, text, PNG
// ---------------------------------------------------------------------------

/// An RGB raster, row-major from the top-left corner, 3 bytes per pixel.
///
/// Drawing outside the canvas (or outside the clip rectangle set by
/// [`Canvas::set_clip`]) is silently ignored, so callers need not clip.
///
/// ```
/// use dualtape_plot::{Canvas, RED, WHITE};
/// let mut c = Canvas::new(20, 10, WHITE);
/// c.fill_rect(2, 3, 4, 2, RED);
/// assert_eq!(c.pixel(3, 4), Some(RED));
/// assert_eq!(c.pixel(0, 0), Some(WHITE));
/// assert_eq!(c.pixel(20, 0), None);
/// ```
#[derive(Clone, Debug)]
pub struct Canvas {
    width: u32,
    height: u32,
    data: Vec<u8>,
    clip: Rect,
}

/// An axis-aligned rectangle in pixels: top-left corner, width and height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// Left edge (first column inside).
    pub x: i64,
    /// Top edge (first row inside).
    pub y: i64,
    /// Width in pixels.
    pub w: i64,
    /// Height in pixels.
    pub h: i64,
}

impl Rect {
    /// Whether pixel `(x, y)` lies inside.
    pub fn contains(&self, x: i64, y: i64) -> bool {
        x >= self.x && x < self.x + self.w && y >= self.y && y < self.y + self.h
    }
    /// Last column inside.
    pub fn right(&self) -> i64 {
        self.x + self.w - 1
    }
    /// Last row inside.
    pub fn bottom(&self) -> i64 {
        self.y + self.h - 1
    }
}

impl Canvas {
    /// A `width` x `height` canvas filled with `background`.
    pub fn new(width: u32, height: u32, background: Rgb) -> Self {
        let mut data = Vec::with_capacity(width as usize * height as usize * 3);
        for _ in 0..width as usize * height as usize {
            data.extend_from_slice(&background);
        }
        let clip = Rect {
            x: 0,
            y: 0,
            w: width as i64,
            h: height as i64,
        };
        Canvas {
            width,
            height,
            data,
            clip,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The raw RGB bytes, row-major from the top-left corner.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The colour at `(x, y)`, or `None` outside the canvas.
    pub fn pixel(&self, x: i64, y: i64) -> Option<Rgb> {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        Some([self.data[i], self.data[i + 1], self.data[i + 2]])
    }

    /// Restrict later drawing to `rect` (intersected with the canvas).
    pub fn set_clip(&mut self, rect: Rect) {
        let x0 = rect.x.max(0);
        let y0 = rect.y.max(0);
        let x1 = (rect.x + rect.w).min(self.width as i64);
        let y1 = (rect.y + rect.h).min(self.height as i64);
        self.clip = Rect {
            x: x0,
            y: y0,
            w: (x1 - x0).max(0),
            h: (y1 - y0).max(0),
        };
    }

    /// Allow drawing on the whole canvas again.
    pub fn reset_clip(&mut self) {
        self.clip = Rect {
            x: 0,
            y: 0,
            w: self.width as i64,
            h: self.height as i64,
        };
    }

    /// Set one pixel (ignored outside the clip rectangle).
    pub fn put(&mut self, x: i64, y: i64, c: Rgb) {
        if self.clip.contains(x, y) {
            let i = (y as usize * self.width as usize + x as usize) * 3;
            self.data[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Blend `c` over one pixel with opacity `alpha` in [0, 1].
    pub fn blend(&mut self, x: i64, y: i64, c: Rgb, alpha: f64) {
        if let Some(old) = self.pixel(x, y) {
            let a = alpha.clamp(0.0, 1.0);
            let mix = |o: u8, n: u8| (o as f64 * (1.0 - a) + n as f64 * a).round() as u8;
            self.put(
                x,
                y,
                [mix(old[0], c[0]), mix(old[1], c[1]), mix(old[2], c[2])],
            );
        }
    }

    /// Fill the rectangle with top-left `(x, y)`, `w` wide and `h` high.
    pub fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: Rgb) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.put(xx, yy, c);
            }
        }
    }

    /// A one-pixel outline just inside the rectangle.
    pub fn stroke_rect(&mut self, r: Rect, c: Rgb) {
        self.fill_rect(r.x, r.y, r.w, 1, c);
        self.fill_rect(r.x, r.bottom(), r.w, 1, c);
        self.fill_rect(r.x, r.y, 1, r.h, c);
        self.fill_rect(r.right(), r.y, 1, r.h, c);
    }

    /// A straight line from `(x0, y0)` to `(x1, y1)` (Bresenham), `width`
    /// pixels thick (a `width` x `width` square stamped at each step).
    pub fn line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, width: i64, c: Rgb) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        let off = (width - 1) / 2;
        loop {
            self.fill_rect(x - off, y - off, width, width, c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// A filled disc of radius `r` centred on `(cx, cy)`, with a one-pixel
    /// `outline` ring if given.
    pub fn disc(&mut self, cx: i64, cy: i64, r: i64, fill: Rgb, outline: Option<Rgb>) {
        let r2 = (r as f64 + 0.5).powi(2);
        let inner = (r as f64 - 0.5).powi(2);
        for dy in -r..=r {
            for dx in -r..=r {
                let d2 = (dx * dx + dy * dy) as f64;
                if d2 <= r2 {
                    let c = match outline {
                        Some(o) if d2 > inner => o,
                        _ => fill,
                    };
                    self.put(cx + dx, cy + dy, c);
                }
            }
        }
    }

    /// Draw `text` with its top-left corner at `(x, y)`, each font pixel
    /// `scale` x `scale` screen pixels. See [`text_width`] and [`text_height`].
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: i64, c: Rgb) {
        for (k, ch) in text.chars().enumerate() {
            let g = font::glyph(ch);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..font::GLYPH_W {
                    if bits >> (font::GLYPH_W - 1 - col) & 1 == 1 {
                        let px = x + (k as i64 * font::CELL_W + col) * scale;
                        let py = y + row as i64 * scale;
                        self.fill_rect(px, py, scale, scale, c);
                    }
                }
            }
        }
    }

    /// Draw `text` rotated a quarter turn anticlockwise (reading bottom to
    /// top, as a y-axis label), its bounding box's bottom-left corner at `(x, y)`.
    /// The box is [`text_height`] wide and [`text_width`] high.
    pub fn text_vertical(&mut self, x: i64, y: i64, text: &str, scale: i64, c: Rgb) {
        for (k, ch) in text.chars().enumerate() {
            let g = font::glyph(ch);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..font::GLYPH_W {
                    if bits >> (font::GLYPH_W - 1 - col) & 1 == 1 {
                        // Unrotated pixel (u, v) = (k*CELL_W + col, row) goes to
                        // screen (x + v, y - 1 - u): rows run left to right,
                        // the baseline direction points up.
                        let u = k as i64 * font::CELL_W + col;
                        let px = x + row as i64 * scale;
                        let py = y - (u + 1) * scale;
                        self.fill_rect(px, py, scale, scale, c);
                    }
                }
            }
        }
    }

    /// The image as PNG bytes (8-bit RGB).
    pub fn encode_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc
                .write_header()
                .expect("writing a PNG header to memory cannot fail");
            writer
                .write_image_data(&self.data)
                .expect("buffer size matches the header");
        }
        out
    }

    /// Write the image as a PNG file (the directory must exist).
    pub fn save_png(&self, path: impl AsRef<Path>) -> io::Result<()> {
        std::fs::write(path, self.encode_png())
    }
}

/// Width in pixels of `text` drawn at `scale` (no trailing spacing column).
pub fn text_width(text: &str, scale: i64) -> i64 {
    let n = text.chars().count() as i64;
    if n == 0 {
        0
    } else {
        (n * font::CELL_W - (font::CELL_W - font::GLYPH_W)) * scale
    }
}

/// Height in pixels of one line of text drawn at `scale`.
pub fn text_height(scale: i64) -> i64 {
    font::GLYPH_H * scale
}

// ---------------------------------------------------------------------------
// Axes: scales, coordinate mapping, ticks
// ---------------------------------------------------------------------------

/// How data values are spaced along an axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Equal distances for equal differences.
    Linear,
    /// Equal distances for equal ratios; only positive values are shown.
    Log10,
}

impl Scale {
    fn forward(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log10 => {
                if v > 0.0 {
                    v.log10()
                } else {
                    f64::NAN
                }
            }
        }
    }
    fn inverse(self, t: f64) -> f64 {
        match self {
            Scale::Linear => t,
            Scale::Log10 => 10f64.powf(t),
        }
    }
}

/// A map from data values in `[lo, hi]` to pixel positions in
/// `[pix_lo, pix_hi]`, through the axis [`Scale`].
///
/// `pix_hi < pix_lo` is allowed (screen y grows downwards).
///
/// ```
/// use dualtape_plot::{Mapping, Scale};
/// let m = Mapping { lo: 1.0, hi: 100.0, scale: Scale::Log10, pix_lo: 400.0, pix_hi: 0.0 };
/// assert!((m.to_pixel(10.0) - 200.0).abs() < 1e-9);
/// assert!((m.from_pixel(200.0) - 10.0).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mapping {
    /// Data value at `pix_lo`.
    pub lo: f64,
    /// Data value at `pix_hi`.
    pub hi: f64,
    /// Linear or log10.
    pub scale: Scale,
    /// Pixel position of `lo`.
    pub pix_lo: f64,
    /// Pixel position of `hi`.
    pub pix_hi: f64,
}

impl Mapping {
    /// Pixel position of data value `v` (NaN for `v <= 0` on a log axis).
    pub fn to_pixel(&self, v: f64) -> f64 {
        let (a, b) = (self.scale.forward(self.lo), self.scale.forward(self.hi));
        let t = (self.scale.forward(v) - a) / (b - a);
        self.pix_lo + t * (self.pix_hi - self.pix_lo)
    }

    /// Data value at pixel position `p` (inverse of [`Mapping::to_pixel`]).
    pub fn from_pixel(&self, p: f64) -> f64 {
        let (a, b) = (self.scale.forward(self.lo), self.scale.forward(self.hi));
        let t = (p - self.pix_lo) / (self.pix_hi - self.pix_lo);
        self.scale.inverse(a + t * (b - a))
    }
}

/// "Nice" tick positions for a linear axis over `[lo, hi]`: the multiples
/// inside the range of a step of 1, 2, 2.5 or 5 times a power of ten. The
/// smallest such step giving at most `max_ticks` ticks is used, unless it
/// gives fewer than two, in which case the next smaller step is (two ticks
/// matter more than the limit). A range of zero width gives one tick.
///
/// ```
/// assert_eq!(dualtape_plot::linear_ticks(0.0, 1.0, 6), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
/// ```
pub fn linear_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    linear_ticks_with_step(lo, hi, max_ticks).0
}

/// [`linear_ticks`] and the step between them.
fn linear_ticks_with_step(lo: f64, hi: f64, max_ticks: usize) -> (Vec<f64>, f64) {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return (vec![lo], 1.0);
    }
    let max_ticks = max_ticks.max(2);
    // Integer multiples of `step` inside the range, with a little slack so
    // that end points themselves count.
    let multiples = |step: f64| {
        let eps = step * 1e-9;
        let first = ((lo - eps) / step).ceil() as i64;
        let last = ((hi + eps) / step).floor() as i64;
        (first, last)
    };
    let mut exp = (hi - lo).log10().floor() as i32 - 3;
    let mut previous = None;
    let step = 'search: loop {
        for m in [1.0, 2.0, 2.5, 5.0] {
            let step = m * 10f64.powi(exp);
            let (first, last) = multiples(step);
            let count = last - first + 1;
            if count <= max_ticks as i64 {
                break 'search if count >= 2 {
                    step
                } else {
                    previous.unwrap_or(step)
                };
            }
            previous = Some(step);
        }
        exp += 1;
    };
    let (first, last) = multiples(step);
    // Round to the step's decimals (plus one, for 2.5) so that 3 x 0.1 is 0.3.
    let f = 10f64.powi((-(step.log10().floor() as i32)).max(0) + 1);
    let ticks = (first..=last)
        .map(|i| {
            let r = (i as f64 * step * f).round() / f;
            if r == 0.0 {
                0.0 // no "-0"
            } else {
                r
            }
        })
        .collect();
    (ticks, step)
}

/// Tick positions for a log10 axis over `[lo, hi]` (both positive): the
/// powers of ten inside; if fewer than two, also 2x and 5x multiples; if
/// more than `max_ticks`, every k-th power.
///
/// ```
/// assert_eq!(dualtape_plot::log_ticks(1.0, 1000.0, 8), vec![1.0, 10.0, 100.0, 1000.0]);
/// ```
pub fn log_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    if lo.is_nan() || lo <= 0.0 || !hi.is_finite() {
        return vec![];
    }
    let (a, b) = (lo.log10(), hi.log10());
    let first = (a - 1e-9).ceil() as i32;
    let last = (b + 1e-9).floor() as i32;
    let powers: Vec<i32> = (first..=last).collect();
    if powers.len() >= 2 {
        let every = powers.len().div_ceil(max_ticks.max(2));
        return powers
            .iter()
            .filter(|p| (*p - first) % every as i32 == 0)
            .map(|&p| 10f64.powi(p))
            .collect();
    }
    let mut ticks = Vec::new();
    for p in (a.floor() as i32)..=(b.ceil() as i32) {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(p);
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                ticks.push(v);
            }
        }
    }
    if ticks.len() < 2 {
        // Less than a factor 2.5 wide: fall back to linear ticks.
        return linear_ticks(lo, hi, max_ticks);
    }
    ticks
}

/// A tick label: `v` with as many decimals as `step` needs; on log axes
/// (`log = true`) large and small magnitudes are written like `1e6`.
///
/// ```
/// use dualtape_plot::format_tick;
/// assert_eq!(format_tick(0.25, 0.05, false), "0.25");
/// assert_eq!(format_tick(1500.0, 500.0, false), "1500");
/// assert_eq!(format_tick(1e6, 0.0, true), "1e6");
/// assert_eq!(format_tick(0.001, 0.0, true), "1e-3");
/// assert_eq!(format_tick(20.0, 0.0, true), "20");
/// ```
pub fn format_tick(v: f64, step: f64, log: bool) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if log {
        let e = v.abs().log10().floor() as i32;
        if !(-2..=4).contains(&e) {
            return format_exponent(v);
        }
        let decimals = (-e).max(0) as usize;
        return format!("{v:.decimals$}");
    }
    // The fewest decimals that write the step exactly (0.25 needs 2, 500 none).
    let decimals = if step > 0.0 {
        (0..12)
            .find(|&d| {
                let scaled = step * 10f64.powi(d as i32);
                (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
            })
            .unwrap_or(12)
    } else {
        2
    };
    format!("{v:.decimals$}")
}

/// `v` as mantissa e exponent, the mantissa to one decimal and without
/// it when whole: `1e6`, `2.5e-3`, `1e0`.
fn format_exponent(v: f64) -> String {
    let mut e = v.abs().log10().floor() as i32;
    let mut m = (v / 10f64.powi(e) * 10.0).round() / 10.0;
    if m.abs() >= 10.0 {
        // 9.96 rounds up to 10.0: carry into the exponent.
        m /= 10.0;
        e += 1;
    }
    if (m - m.round()).abs() < 1e-9 {
        format!("{}e{}", m.round() as i64, e)
    } else {
        format!("{m}e{e}")
    }
}

/// One axis of a [`Figure`]: its label, scale and (optional) fixed range.
#[derive(Clone, Debug)]
pub struct Axis {
    /// Text drawn under (x) or beside (y) the axis.
    pub label: String,
    /// Linear or log10.
    pub scale: Scale,
    /// Fixed `(lo, hi)`; `None` fits the data with 5% padding.
    pub range: Option<(f64, f64)>,
}

impl Default for Axis {
    fn default() -> Self {
        Axis {
            label: String::new(),
            scale: Scale::Linear,
            range: None,
        }
    }
}

impl Axis {
    /// The range shown for data spanning `[lo, hi]`.
    fn resolve(&self, lo: f64, hi: f64) -> (f64, f64) {
        if let Some(r) = self.range {
            return r;
        }
        let (lo, hi) = if lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        match self.scale {
            Scale::Linear => {
                let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 };
                (lo - pad, hi + pad)
            }
            Scale::Log10 => {
                let (a, b) = (lo.log10(), hi.log10());
                let pad = if b > a { 0.05 * (b - a) } else { 0.5 };
                (10f64.powf(a - pad), 10f64.powf(b + pad))
            }
        }
    }

    /// Ticks and their labels for the range `[lo, hi]`.
    fn ticks(&self, lo: f64, hi: f64, max_ticks: usize) -> Vec<(f64, String)> {
        match self.scale {
            Scale::Linear => {
                let (t, step) = linear_ticks_with_step(lo, hi, max_ticks);
                t.into_iter()
                    .map(|v| (v, format_tick(v, step, false)))
                    .collect()
            }
            Scale::Log10 => {
                let ticks = log_ticks(lo, hi, max_ticks);
                let labels: Vec<String> =
                    ticks.iter().map(|&v| format_tick(v, 0.0, true)).collect();
                // One style per axis: if any label needs 1eK, all use it.
                let exponent = labels.iter().any(|l| l.contains('e'));
                ticks
                    .into_iter()
                    .zip(labels)
                    .map(|(v, l)| (v, if exponent { format_exponent(v) } else { l }))
                    .collect()
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Colour maps and heat maps
// ---------------------------------------------------------------------------

/// A map from [0, 1] to colours, piecewise linear between control points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colormap {
    /// Dark purple through teal to yellow (an approximation of matplotlib's viridis).
    Viridis,
    /// Light blue through white to light red: 0 is class 0 (blue), 1 is
    /// class 1 (red). Pale, so that saturated points stay visible on top.
    BlueRed,
    /// Black to white.
    Grey,
}

impl Colormap {
    fn stops(self) -> &'static [(f64, Rgb)] {
        match self {
            Colormap::Viridis => &[
                (0.0, [68, 1, 84]),
                (0.125, [71, 44, 122]),
                (0.25, [59, 81, 139]),
                (0.375, [44, 113, 142]),
                (0.5, [33, 144, 141]),
                (0.625, [39, 173, 129]),
                (0.75, [92, 200, 99]),
                (0.875, [170, 220, 50]),
                (1.0, [253, 231, 37]),
            ],
            Colormap::BlueRed => &[
                (0.0, [150, 180, 235]),
                (0.25, [195, 213, 242]),
                (0.5, [246, 246, 246]),
                (0.75, [246, 200, 188]),
                (1.0, [238, 145, 130]),
            ],
            Colormap::Grey => &[(0.0, [0, 0, 0]), (1.0, [255, 255, 255])],
        }
    }

    /// The colour at `t`, clamped to [0, 1]; NaN gives mid grey.
    ///
    /// ```
    /// use dualtape_plot::Colormap;
    /// assert_eq!(Colormap::Grey.color(0.0), [0, 0, 0]);
    /// assert_eq!(Colormap::Grey.color(2.0), [255, 255, 255]);
    /// assert_eq!(Colormap::Grey.color(0.5), [128, 128, 128]);
    /// ```
    pub fn color(self, t: f64) -> Rgb {
        if t.is_nan() {
            return [128, 128, 128];
        }
        let t = t.clamp(0.0, 1.0);
        let stops = self.stops();
        for w in stops.windows(2) {
            let ((t0, c0), (t1, c1)) = (w[0], w[1]);
            if t <= t1 {
                let s = (t - t0) / (t1 - t0);
                let mix = |a: u8, b: u8| (a as f64 + s * (b as f64 - a as f64)).round() as u8;
                return [mix(c0[0], c1[0]), mix(c0[1], c1[1]), mix(c0[2], c1[2])];
            }
        }
        stops[stops.len() - 1].1
    }
}

/// Values of a function on a regular grid, drawn as a colour map with a
/// colour bar. Values between grid nodes are interpolated bilinearly.
#[derive(Clone, Debug)]
pub struct Heatmap {
    x_range: (f64, f64),
    y_range: (f64, f64),
    nx: usize,
    ny: usize,
    /// Row-major, row `j` at `y = y_range.0 + j * dy`.
    values: Vec<f64>,
    vmin: f64,
    vmax: f64,
    colormap: Colormap,
    label: String,
    contour: Option<f64>,
}

impl Heatmap {
    /// Sample `f(x, y)` on an `nx` x `ny` grid of nodes spanning the two
    /// ranges, end points included (`nx, ny >= 2`). The colour range is
    /// the sampled minimum to maximum until [`Heatmap::value_range`] fixes it.
    pub fn from_fn(
        x_range: (f64, f64),
        y_range: (f64, f64),
        nx: usize,
        ny: usize,
        mut f: impl FnMut(f64, f64) -> f64,
    ) -> Self {
        assert!(nx >= 2 && ny >= 2, "a heat map needs at least 2x2 nodes");
        let mut values = Vec::with_capacity(nx * ny);
        for j in 0..ny {
            let y = y_range.0 + (y_range.1 - y_range.0) * j as f64 / (ny - 1) as f64;
            for i in 0..nx {
                let x = x_range.0 + (x_range.1 - x_range.0) * i as f64 / (nx - 1) as f64;
                values.push(f(x, y));
            }
        }
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let vmin = finite.clone().fold(f64::INFINITY, f64::min);
        let vmax = finite.fold(f64::NEG_INFINITY, f64::max);
        let (vmin, vmax) = if vmin < vmax {
            (vmin, vmax)
        } else {
            (vmin - 0.5, vmin + 0.5)
        };
        Heatmap {
            x_range,
            y_range,
            nx,
            ny,
            values,
            vmin,
            vmax,
            colormap: Colormap::Viridis,
            label: String::new(),
            contour: None,
        }
    }

    /// Fix the values mapped to the two ends of the colour map.
    pub fn value_range(mut self, vmin: f64, vmax: f64) -> Self {
        self.vmin = vmin;
        self.vmax = vmax;
        self
    }

    /// Choose the colour map (default [`Colormap::Viridis`]).
    pub fn colormap(mut self, colormap: Colormap) -> Self {
        self.colormap = colormap;
        self
    }

    /// Label written beside the colour bar.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Also draw the contour line where the value crosses `level` (e.g. the
    /// decision boundary at 0.5).
    pub fn contour(mut self, level: f64) -> Self {
        self.contour = Some(level);
        self
    }

    /// Bilinear interpolation at `(x, y)`; NaN outside the grid.
    pub fn value_at(&self, x: f64, y: f64) -> f64 {
        let fx = (x - self.x_range.0) / (self.x_range.1 - self.x_range.0) * (self.nx - 1) as f64;
        let fy = (y - self.y_range.0) / (self.y_range.1 - self.y_range.0) * (self.ny - 1) as f64;
        let inside = |f: f64, n: usize| f >= -1e-9 && f <= (n - 1) as f64 + 1e-9;
        if !(inside(fx, self.nx) && inside(fy, self.ny)) {
            return f64::NAN;
        }
        let i = (fx.floor() as usize).min(self.nx - 2);
        let j = (fy.floor() as usize).min(self.ny - 2);
        let (s, t) = (fx - i as f64, fy - j as f64);
        let v = |i: usize, j: usize| self.values[j * self.nx + i];
        (1.0 - t) * ((1.0 - s) * v(i, j) + s * v(i + 1, j))
            + t * ((1.0 - s) * v(i, j + 1) + s * v(i + 1, j + 1))
    }

    fn normalised(&self, v: f64) -> f64 {
        (v - self.vmin) / (self.vmax - self.vmin)
    }
}

// ---------------------------------------------------------------------------
// Figure
// ---------------------------------------------------------------------------

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Connected line segments, `width` pixels thick.
    Line {
        /// Thickness in pixels.
        width: i64,
    },
    /// Filled discs of `radius` pixels with a thin dark outline.
    Markers {
        /// Radius in pixels.
        radius: i64,
    },
}

/// One data series of a [`Figure`].
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text; empty to leave the series out of the legend.
    pub label: String,
    /// Data points `(x, y)`; non-finite points (and non-positive ones on log
    /// axes) are skipped and break a line.
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub color: Rgb,
    /// Line or markers.
    pub style: Style,
}

/// Where the legend box goes inside the plot area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegendPos {
    /// Top right corner.
    TopRight,
    /// Top left corner.
    TopLeft,
    /// Bottom right corner.
    BottomRight,
    /// Bottom left corner.
    BottomLeft,
    /// No legend.
    Hidden,
}

/// Where things ended up in a rendered [`Figure`]: useful to place extra
/// drawing, and for tests.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// The plot area, inside the frame.
    pub plot: Rect,
    /// Data x to pixel column.
    pub x: Mapping,
    /// Data y to pixel row.
    pub y: Mapping,
    /// The colour bar, if there is a heat map.
    pub colorbar: Option<Rect>,
}

/// A plot: title, two axes, series, an optional heat map and a legend.
///
/// Built with chained calls, then [`Figure::render`]ed or [`Figure::save`]d.
/// Text is the embedded 5x7 font at twice its size (10x14 pixels a character).
#[derive(Clone, Debug)]
pub struct Figure {
    width: u32,
    height: u32,
    title: String,
    x: Axis,
    y: Axis,
    series: Vec<Series>,
    heatmap: Option<Heatmap>,
    legend: LegendPos,
    grid: bool,
}

/// Text scale used throughout a figure.
const TEXT: i64 = 2;
/// Length of tick marks in pixels.
const TICK: i64 = 6;

impl Figure {
    /// An empty 640 x 480 figure with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Figure {
            width: 640,
            height: 480,
            title: title.into(),
            x: Axis::default(),
            y: Axis::default(),
            series: Vec::new(),
            heatmap: None,
            legend: LegendPos::TopRight,
            grid: true,
        }
    }

    /// Image size in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    /// Label under the x axis.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x.label = label.into();
        self
    }

    /// Label beside the y axis (drawn vertically).
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y.label = label.into();
        self
    }

    /// Fix the x range (default: the data with 5% padding).
    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x.range = Some((lo, hi));
        self
    }

    /// Fix the y range (default: the data with 5% padding).
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y.range = Some((lo, hi));
        self
    }

    /// Logarithmic x axis.
    pub fn x_log(mut self) -> Self {
        self.x.scale = Scale::Log10;
        self
    }

    /// Logarithmic y axis.
    pub fn y_log(mut self) -> Self {
        self.y.scale = Scale::Log10;
        self
    }

    /// Where to put the legend (default top right).
    pub fn legend(mut self, pos: LegendPos) -> Self {
        self.legend = pos;
        self
    }

    /// Whether to draw light grid lines at the ticks (default yes).
    pub fn grid(mut self, on: bool) -> Self {
        self.grid = on;
        self
    }

    /// Add any series.
    pub fn series(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }

    /// Add a line, coloured from [`PALETTE`] in turn.
    pub fn line(
        self,
        label: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        let color = PALETTE[self.series.len() % PALETTE.len()];
        self.line_colored(label, points, color)
    }

    /// Add a line of a given colour.
    pub fn line_colored(
        self,
        label: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
        color: Rgb,
    ) -> Self {
        self.series(Series {
            label: label.into(),
            points: points.into_iter().collect(),
            color,
            style: Style::Line { width: 2 },
        })
    }

    /// Add scatter points (discs of radius 3 with a dark outline).
    pub fn scatter(
        self,
        label: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
        color: Rgb,
    ) -> Self {
        self.series(Series {
            label: label.into(),
            points: points.into_iter().collect(),
            color,
            style: Style::Markers { radius: 3 },
        })
    }

    /// Put a heat map under the series, with a colour bar on the right.
    /// Unless ranges are fixed, the axes span the heat map's grid.
    pub fn heatmap(mut self, h: Heatmap) -> Self {
        self.heatmap = Some(h);
        self
    }

    /// The data extent along one axis, over visible points and the heat map.
    fn extent(&self, axis_x: bool) -> (f64, f64) {
        let scale = if axis_x { self.x.scale } else { self.y.scale };
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let mut take = |v: f64| {
            if v.is_finite() && (scale == Scale::Linear || v > 0.0) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        };
        for s in &self.series {
            for &(x, y) in &s.points {
                take(if axis_x { x } else { y });
            }
        }
        if let Some(h) = &self.heatmap {
            let r = if axis_x { h.x_range } else { h.y_range };
            take(r.0);
            take(r.1);
        }
        (lo, hi)
    }

    /// Draw the figure and report where its parts went.
    pub fn render_with_layout(&self) -> (Canvas, Layout) {
        let (w, h) = (self.width as i64, self.height as i64);
        let mut c = Canvas::new(self.width, self.height, WHITE);
        let th = text_height(TEXT);

        // Ranges: a heat map without fixed ranges shows exactly its grid.
        let (xe, ye) = (self.extent(true), self.extent(false));
        let mut xr = self.x.resolve(xe.0, xe.1);
        let mut yr = self.y.resolve(ye.0, ye.1);
        if let Some(hm) = &self.heatmap {
            if self.x.range.is_none() {
                xr = hm.x_range;
            }
            if self.y.range.is_none() {
                yr = hm.y_range;
            }
        }

        // Tick labels decide the left margin.
        let max_y_ticks = ((h - 120) / (3 * th)).clamp(2, 8) as usize;
        let max_x_ticks = ((w - 160) / 64).clamp(2, 10) as usize;
        let y_ticks = self.y.ticks(yr.0, yr.1, max_y_ticks);
        let x_ticks = self.x.ticks(xr.0, xr.1, max_x_ticks);
        let y_tick_w = y_ticks
            .iter()
            .map(|(_, s)| text_width(s, TEXT))
            .max()
            .unwrap_or(0);
        let ylabel_w = if self.y.label.is_empty() { 0 } else { th + 12 };
        let left = 12 + ylabel_w + y_tick_w + TICK + 6;
        let top = if self.title.is_empty() {
            16
        } else {
            16 + th + 16
        };
        let xlabel_h = if self.x.label.is_empty() { 0 } else { th + 10 };
        let bottom = TICK + 6 + th + 10 + xlabel_h + 6;

        // The colour bar and its labels take a strip on the right.
        let (right, cbar) = match &self.heatmap {
            None => (24, None),
            Some(hm) => {
                let ticks = linear_ticks_with_step(hm.vmin, hm.vmax, 6);
                let tw = ticks
                    .0
                    .iter()
                    .map(|&v| text_width(&format_tick(v, ticks.1, false), TEXT))
                    .max()
                    .unwrap_or(0);
                let label_w = if hm.label.is_empty() { 0 } else { th + 12 };
                let bar_w = 20;
                (24 + bar_w + TICK + 4 + tw + 10 + label_w, Some(bar_w))
            }
        };
        let plot = Rect {
            x: left,
            y: top,
            w: (w - left - right).max(10),
            h: (h - top - bottom).max(10),
        };
        let xm = Mapping {
            lo: xr.0,
            hi: xr.1,
            scale: self.x.scale,
            pix_lo: plot.x as f64,
            pix_hi: plot.right() as f64,
        };
        let ym = Mapping {
            lo: yr.0,
            hi: yr.1,
            scale: self.y.scale,
            pix_lo: plot.bottom() as f64,
            pix_hi: plot.y as f64,
        };

        // Title.
        if !self.title.is_empty() {
            let tw = text_width(&self.title, TEXT);
            let tx = (plot.x + plot.w / 2 - tw / 2).max(4);
            c.text(tx, 16, &self.title, TEXT, BLACK);
        }

        // Heat map, pixel by pixel, under everything else.
        if let Some(hm) = &self.heatmap {
            let level = hm.contour;
            let mut prev_row: Vec<f64> = Vec::new();
            for py in plot.y..=plot.bottom() {
                let yv = ym.from_pixel(py as f64);
                let mut row = Vec::with_capacity(plot.w as usize);
                for px in plot.x..=plot.right() {
                    let xv = xm.from_pixel(px as f64);
                    let v = hm.value_at(xv, yv);
                    row.push(v);
                    if v.is_finite() {
                        c.put(px, py, hm.colormap.color(hm.normalised(v)));
                    }
                }
                if let Some(l) = level {
                    // A pixel is on the contour when the level lies between it
                    // and its left or upper neighbour.
                    for (i, &v) in row.iter().enumerate() {
                        let crosses = |u: f64| (u - l) * (v - l) <= 0.0 && u != v;
                        let left_n = i > 0 && crosses(row[i - 1]);
                        let up_n = !prev_row.is_empty() && crosses(prev_row[i]);
                        if left_n || up_n {
                            c.put(plot.x + i as i64, py, DARK_GREY);
                        }
                    }
                }
                prev_row = row;
            }
        }

        // Grid lines.
        if self.grid && self.heatmap.is_none() {
            for (v, _) in &x_ticks {
                let px = xm.to_pixel(*v).round() as i64;
                c.fill_rect(px, plot.y, 1, plot.h, LIGHT_GREY);
            }
            for (v, _) in &y_ticks {
                let py = ym.to_pixel(*v).round() as i64;
                c.fill_rect(plot.x, py, plot.w, 1, LIGHT_GREY);
            }
        }

        // Series, clipped to the plot area.
        c.set_clip(plot);
        for s in &self.series {
            let map = |&(x, y): &(f64, f64)| {
                let (px, py) = (xm.to_pixel(x), ym.to_pixel(y));
                // Far-off points are pulled in so that i64 arithmetic is safe;
                // clipping hides them anyway.
                let lim = 1e6;
                (px.is_finite() && py.is_finite()).then(|| {
                    (
                        px.clamp(-lim, lim).round() as i64,
                        py.clamp(-lim, lim).round() as i64,
                    )
                })
            };
            match s.style {
                Style::Line { width } => {
                    let mut last: Option<(i64, i64)> = None;
                    for p in &s.points {
                        let q = map(p);
                        if let (Some(a), Some(b)) = (last, q) {
                            c.line(a.0, a.1, b.0, b.1, width, s.color);
                        }
                        last = q;
                    }
                }
                Style::Markers { radius } => {
                    let edge = darker(s.color);
                    for p in &s.points {
                        if let Some((px, py)) = map(p) {
                            c.disc(px, py, radius, s.color, Some(edge));
                        }
                    }
                }
            }
        }
        c.reset_clip();

        // Frame, ticks and tick labels.
        let frame = Rect {
            x: plot.x - 1,
            y: plot.y - 1,
            w: plot.w + 2,
            h: plot.h + 2,
        };
        c.stroke_rect(frame, BLACK);
        for (v, label) in &x_ticks {
            let px = xm.to_pixel(*v).round() as i64;
            c.fill_rect(px, frame.bottom() + 1, 1, TICK, BLACK);
            let tw = text_width(label, TEXT);
            c.text(px - tw / 2, frame.bottom() + TICK + 6, label, TEXT, BLACK);
        }
        for (v, label) in &y_ticks {
            let py = ym.to_pixel(*v).round() as i64;
            c.fill_rect(frame.x - TICK, py, TICK, 1, BLACK);
            let tw = text_width(label, TEXT);
            c.text(frame.x - TICK - 6 - tw, py - th / 2, label, TEXT, BLACK);
        }

        // Axis labels.
        if !self.x.label.is_empty() {
            let tw = text_width(&self.x.label, TEXT);
            let ty = frame.bottom() + TICK + 6 + th + 10;
            c.text(plot.x + plot.w / 2 - tw / 2, ty, &self.x.label, TEXT, BLACK);
        }
        if !self.y.label.is_empty() {
            let tw = text_width(&self.y.label, TEXT);
            let cy = plot.y + plot.h / 2 + tw / 2;
            c.text_vertical(12, cy.min(h - 4), &self.y.label, TEXT, BLACK);
        }

        // Colour bar.
        let mut colorbar = None;
        if let (Some(hm), Some(bar_w)) = (&self.heatmap, cbar) {
            let bar = Rect {
                x: frame.right() + 24,
                y: plot.y,
                w: bar_w,
                h: plot.h,
            };
            for py in bar.y..=bar.bottom() {
                let t = (bar.bottom() - py) as f64 / (bar.h - 1).max(1) as f64;
                c.fill_rect(bar.x, py, bar.w, 1, hm.colormap.color(t));
            }
            let outline = Rect {
                x: bar.x - 1,
                y: bar.y - 1,
                w: bar.w + 2,
                h: bar.h + 2,
            };
            c.stroke_rect(outline, BLACK);
            let bm = Mapping {
                lo: hm.vmin,
                hi: hm.vmax,
                scale: Scale::Linear,
                pix_lo: bar.bottom() as f64,
                pix_hi: bar.y as f64,
            };
            let (ticks, step) = linear_ticks_with_step(hm.vmin, hm.vmax, 6);
            let mut label_right = outline.right();
            for v in ticks {
                let py = bm.to_pixel(v).round() as i64;
                c.fill_rect(outline.right() + 1, py, TICK, 1, BLACK);
                let s = format_tick(v, step, false);
                let tx = outline.right() + TICK + 4;
                c.text(tx, py - th / 2, &s, TEXT, BLACK);
                label_right = label_right.max(tx + text_width(&s, TEXT));
            }
            if !hm.label.is_empty() {
                let tw = text_width(&hm.label, TEXT);
                let cy = bar.y + bar.h / 2 + tw / 2;
                c.text_vertical(label_right + 10, cy.min(h - 4), &hm.label, TEXT, BLACK);
            }
            colorbar = Some(bar);
        }

        // Legend.
        let entries: Vec<&Series> = self.series.iter().filter(|s| !s.label.is_empty()).collect();
        if self.legend != LegendPos::Hidden && !entries.is_empty() {
            let sample_w = 28;
            let row_h = th + 8;
            let lw = entries
                .iter()
                .map(|s| text_width(&s.label, TEXT))
                .max()
                .unwrap_or(0)
                + sample_w
                + 24;
            let lh = entries.len() as i64 * row_h + 8;
            let (lx, ly) = match self.legend {
                LegendPos::TopRight | LegendPos::Hidden => (plot.right() - 8 - lw, plot.y + 8),
                LegendPos::TopLeft => (plot.x + 8, plot.y + 8),
                LegendPos::BottomRight => (plot.right() - 8 - lw, plot.bottom() - 8 - lh),
                LegendPos::BottomLeft => (plot.x + 8, plot.bottom() - 8 - lh),
            };
            for yy in ly..ly + lh {
                for xx in lx..lx + lw {
                    c.blend(xx, yy, WHITE, 0.85);
                }
            }
            c.stroke_rect(
                Rect {
                    x: lx,
                    y: ly,
                    w: lw,
                    h: lh,
                },
                DARK_GREY,
            );
            for (k, s) in entries.iter().enumerate() {
                let ry = ly + 4 + k as i64 * row_h;
                let mid = ry + row_h / 2 - 1;
                match s.style {
                    Style::Line { width } => c.line(
                        lx + 8,
                        mid,
                        lx + 8 + sample_w - 4,
                        mid,
                        width.max(2),
                        s.color,
                    ),
                    Style::Markers { radius } => c.disc(
                        lx + 8 + sample_w / 2 - 2,
                        mid,
                        radius + 1,
                        s.color,
                        Some(darker(s.color)),
                    ),
                }
                c.text(lx + 8 + sample_w + 4, ry + 4, &s.label, TEXT, BLACK);
            }
        }

        (
            c,
            Layout {
                plot,
                x: xm,
                y: ym,
                colorbar,
            },
        )
    }

    /// Draw the figure.
    pub fn render(&self) -> Canvas {
        self.render_with_layout().0
    }

    /// Draw the figure and write it as a PNG file (the directory must exist).
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.render().save_png(path)
    }
}

/// A darker shade of `c`, for marker outlines.
fn darker(c: Rgb) -> Rgb {
    [c[0] / 2, c[1] / 2, c[2] / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let dec = png::Decoder::new(io::Cursor::new(bytes));
        let mut reader = dec.read_info().expect("valid PNG header");
        let mut buf = vec![0; reader.output_buffer_size().expect("size fits")];
        let info = reader.next_frame(&mut buf).expect("valid PNG data");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn px(buf: &[u8], width: u32, x: i64, y: i64) -> Rgb {
        let i = (y as usize * width as usize + x as usize) * 3;
        [buf[i], buf[i + 1], buf[i + 2]]
    }

    #[test]
    fn linear_ticks_are_nice() {
        assert_eq!(
            linear_ticks(0.0, 2000.0, 6),
            vec![0.0, 500.0, 1000.0, 1500.0, 2000.0]
        );
        assert_eq!(linear_ticks(-1.1, 1.1, 7), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert_eq!(linear_ticks(0.0, 1.0, 3), vec![0.0, 0.5, 1.0]);
        assert_eq!(
            linear_ticks(0.13, 0.71, 8),
            vec![0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
        );
        // Decimal steps are exact, not 0.30000000000000004.
        assert_eq!(linear_ticks(0.0, 1.0, 11)[3], 0.3);
        // Degenerate ranges give one tick rather than looping.
        assert_eq!(linear_ticks(1.0, 1.0, 5), vec![1.0]);
    }

    #[test]
    fn linear_ticks_properties() {
        for &(lo, hi) in &[
            (0.0, 1.0),
            (-3.7, 12.2),
            (1e-5, 3e-5),
            (123.0, 98765.0),
            (-0.55, 1.43),
        ] {
            for max in 3..10 {
                let t = linear_ticks(lo, hi, max);
                // Two ticks always; the limit holds whenever 1-2-2.5-5 steps
                // allow it, which for these ranges is from 4 ticks up.
                assert!(t.len() >= 2, "{lo}..{hi} max {max}: {t:?}");
                assert!(max < 4 || t.len() <= max, "{lo}..{hi} max {max}: {t:?}");
                assert!(t.iter().all(|&v| v >= lo - 1e-12 && v <= hi + 1e-12));
                let step = t[1] - t[0];
                let mant = step / 10f64.powf(step.log10().floor());
                assert!(
                    [1.0, 2.0, 2.5, 5.0, 10.0]
                        .iter()
                        .any(|m| (mant - m).abs() < 1e-6),
                    "step {step}"
                );
                for w in t.windows(2) {
                    assert!(((w[1] - w[0]) - step).abs() < 1e-9 * step.abs().max(1.0));
                }
            }
        }
    }

    #[test]
    fn log_ticks_choice() {
        assert_eq!(log_ticks(1.0, 1e4, 8), vec![1.0, 10.0, 100.0, 1e3, 1e4]);
        assert_eq!(log_ticks(0.5, 500.0, 8), vec![1.0, 10.0, 100.0]);
        // Twelve decades and at most 6 ticks: every other power.
        assert_eq!(
            log_ticks(1e-6, 1e6, 7),
            vec![1e-6, 1e-4, 1e-2, 1.0, 1e2, 1e4, 1e6]
        );
        // Less than two powers of ten inside: 1-2-5 multiples.
        assert_eq!(log_ticks(0.15, 3.0, 8), vec![0.2, 0.5, 1.0, 2.0]);
        assert!(log_ticks(-1.0, 10.0, 8).is_empty());
    }

    #[test]
    fn tick_labels() {
        assert_eq!(format_tick(0.5, 0.5, false), "0.5");
        assert_eq!(format_tick(-1.0, 0.5, false), "-1.0");
        assert_eq!(format_tick(2000.0, 500.0, false), "2000");
        assert_eq!(format_tick(0.04, 0.02, false), "0.04");
        assert_eq!(format_tick(100.0, 0.0, true), "100");
        assert_eq!(format_tick(0.01, 0.0, true), "0.01");
        assert_eq!(format_tick(1e5, 0.0, true), "1e5");
        assert_eq!(format_tick(2e-4, 0.0, true), "2e-4");
    }

    #[test]
    fn log_axis_labels_share_one_style() {
        let axis = Axis {
            scale: Scale::Log10,
            ..Axis::default()
        };
        let labels: Vec<String> = axis.ticks(1.0, 1e6, 8).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["1e0", "1e1", "1e2", "1e3", "1e4", "1e5", "1e6"]);
        let labels: Vec<String> = axis.ticks(1.0, 1e3, 8).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["1", "10", "100", "1000"]);
        assert_eq!(format_exponent(9.97e5), "1e6");
        assert_eq!(format_exponent(2.5e-3), "2.5e-3");
    }

    #[test]
    fn linear_mapping() {
        let m = Mapping {
            lo: -1.0,
            hi: 3.0,
            scale: Scale::Linear,
            pix_lo: 100.0,
            pix_hi: 500.0,
        };
        assert_eq!(m.to_pixel(-1.0), 100.0);
        assert_eq!(m.to_pixel(3.0), 500.0);
        assert_eq!(m.to_pixel(1.0), 300.0);
        assert_eq!(m.from_pixel(200.0), 0.0);
        // Reversed pixel direction (screen y).
        let m = Mapping {
            pix_lo: 400.0,
            pix_hi: 0.0,
            ..m
        };
        assert_eq!(m.to_pixel(0.0), 300.0);
    }

    #[test]
    fn log_mapping() {
        let m = Mapping {
            lo: 10.0,
            hi: 1e4,
            scale: Scale::Log10,
            pix_lo: 0.0,
            pix_hi: 300.0,
        };
        // Each decade is 100 pixels.
        assert!((m.to_pixel(100.0) - 100.0).abs() < 1e-9);
        assert!((m.to_pixel(1000.0) - 200.0).abs() < 1e-9);
        assert!((m.from_pixel(150.0) - 10f64.powf(2.5)).abs() < 1e-9);
        assert!(m.to_pixel(0.0).is_nan());
        assert!(m.to_pixel(-5.0).is_nan());
    }

    #[test]
    fn png_round_trip() {
        let mut c = Canvas::new(37, 23, WHITE);
        c.fill_rect(5, 6, 3, 2, RED);
        c.put(36, 22, BLUE);
        c.put(40, 40, BLUE); // outside: ignored
        let (w, h, buf) = decode(&c.encode_png());
        assert_eq!((w, h), (37, 23));
        assert_eq!(buf.len(), 37 * 23 * 3);
        assert_eq!(px(&buf, w, 5, 6), RED);
        assert_eq!(px(&buf, w, 7, 7), RED);
        assert_eq!(px(&buf, w, 8, 7), WHITE);
        assert_eq!(px(&buf, w, 36, 22), BLUE);
        assert_eq!(px(&buf, w, 0, 0), WHITE);
    }

    #[test]
    fn save_png_writes_a_file() {
        let dir = std::env::temp_dir().join(format!("dualtape-plot-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.png");
        let mut c = Canvas::new(4, 3, BLACK);
        c.put(1, 2, WHITE);
        c.save_png(&path).unwrap();
        let (w, h, buf) = decode(&std::fs::read(&path).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!((w, h), (4, 3));
        assert_eq!(px(&buf, w, 1, 2), WHITE);
        assert_eq!(px(&buf, w, 2, 2), BLACK);
    }

    #[test]
    fn text_draws_the_glyph() {
        // "T" at scale 1: top bar of 5 pixels, then the centre column.
        let mut c = Canvas::new(10, 10, WHITE);
        c.text(1, 1, "T", 1, BLACK);
        for x in 1..6 {
            assert_eq!(c.pixel(x, 1), Some(BLACK));
        }
        for y in 2..8 {
            assert_eq!(c.pixel(3, y), Some(BLACK));
            assert_eq!(c.pixel(2, y), Some(WHITE));
        }
        assert_eq!(c.pixel(3, 8), Some(WHITE));
        // Scale 2 doubles every pixel; the second character starts 12 pixels on.
        let mut c = Canvas::new(30, 20, WHITE);
        c.text(0, 0, "-T", 2, BLACK);
        assert_eq!(c.pixel(0, 6), Some(BLACK)); // '-' is row 3 -> y 6..8
        assert_eq!(c.pixel(0, 5), Some(WHITE));
        assert_eq!(c.pixel(12, 0), Some(BLACK)); // 'T' top-left
        assert_eq!(text_width("-T", 2), 22);
    }

    #[test]
    fn vertical_text_reads_upwards() {
        // "L" rotated anticlockwise: its stem (left column) becomes the bottom
        // row, its foot (bottom row) becomes the right column.
        let mut c = Canvas::new(12, 12, WHITE);
        c.text_vertical(2, 10, "L", 1, BLACK);
        for x in 2..9 {
            assert_eq!(c.pixel(x, 9), Some(BLACK), "stem at x={x}");
        }
        for y in 5..10 {
            assert_eq!(c.pixel(8, y), Some(BLACK), "foot at y={y}");
        }
        assert_eq!(c.pixel(3, 8), Some(WHITE));
    }

    #[test]
    fn lines_and_discs() {
        let mut c = Canvas::new(20, 20, WHITE);
        c.line(2, 3, 12, 3, 1, RED);
        assert!((2..=12).all(|x| c.pixel(x, 3) == Some(RED)));
        assert_eq!(c.pixel(13, 3), Some(WHITE));
        c.line(0, 0, 9, 9, 1, BLUE);
        assert!((0..=9).all(|i| c.pixel(i, i) == Some(BLUE)));
        let mut c = Canvas::new(20, 20, WHITE);
        c.disc(10, 10, 3, RED, Some(BLACK));
        assert_eq!(c.pixel(10, 10), Some(RED));
        assert_eq!(c.pixel(13, 10), Some(BLACK));
        assert_eq!(c.pixel(14, 10), Some(WHITE));
    }

    #[test]
    fn clipping() {
        let mut c = Canvas::new(10, 10, WHITE);
        c.set_clip(Rect {
            x: 2,
            y: 2,
            w: 3,
            h: 3,
        });
        c.fill_rect(0, 0, 10, 10, RED);
        assert_eq!(c.pixel(1, 1), Some(WHITE));
        assert_eq!(c.pixel(2, 2), Some(RED));
        assert_eq!(c.pixel(4, 4), Some(RED));
        assert_eq!(c.pixel(5, 5), Some(WHITE));
    }

    #[test]
    fn scatter_point_lands_where_mapped() {
        // A point at the middle of both ranges must be drawn at the middle
        // of the plot area; one at the lower-left corner at its corner.
        let fig = Figure::new("t")
            .x_range(-2.0, 2.0)
            .y_range(10.0, 20.0)
            .scatter("", vec![(0.0, 15.0), (-2.0, 10.0)], RED);
        let (canvas, layout) = fig.render_with_layout();
        let (w, h, buf) = decode(&canvas.encode_png());
        assert_eq!((w, h), (640, 480));
        let p = layout.plot;
        let (cx, cy) = (
            p.x as f64 + (p.w - 1) as f64 / 2.0,
            p.y as f64 + (p.h - 1) as f64 / 2.0,
        );
        assert_eq!(px(&buf, w, cx.round() as i64, cy.round() as i64), RED);
        assert_eq!(px(&buf, w, p.x + 1, p.bottom() - 1), RED);
        // The frame is black just outside the plot area.
        assert_eq!(px(&buf, w, p.x - 1, p.y + 5), BLACK);
        assert_eq!(px(&buf, w, p.right() + 1, p.y + 5), BLACK);
        // Well away from the points, the plot area is background.
        assert_ne!(px(&buf, w, p.right() - 20, p.y + 20), RED);
    }

    #[test]
    fn log_axes_place_decades_evenly() {
        let fig = Figure::new("cost")
            .x_log()
            .y_log()
            .x_range(1.0, 1e4)
            .y_range(1.0, 1e4)
            .line("", vec![(1.0, 1.0), (1e4, 1e4)]);
        let (_, layout) = fig.render_with_layout();
        let p = layout.plot;
        // 100 is half way (two of four decades) on both axes.
        assert!((layout.x.to_pixel(100.0) - (p.x as f64 + (p.w - 1) as f64 / 2.0)).abs() < 1e-9);
        assert!((layout.y.to_pixel(100.0) - (p.y as f64 + (p.h - 1) as f64 / 2.0)).abs() < 1e-9);
    }

    #[test]
    fn heatmap_and_colorbar_colours() {
        // f(x, y) = x on [0, 1]: the left edge of the plot is the colour map's
        // start, the right edge its end; the colour bar runs bottom to top.
        let hm = Heatmap::from_fn((0.0, 1.0), (0.0, 1.0), 11, 11, |x, _| x)
            .colormap(Colormap::Grey)
            .value_range(0.0, 1.0)
            .label("P");
        let (canvas, layout) = Figure::new("map").heatmap(hm).render_with_layout();
        let (w, _, buf) = decode(&canvas.encode_png());
        let p = layout.plot;
        let mid = p.y + p.h / 2;
        assert_eq!(px(&buf, w, p.x, mid), [0, 0, 0]);
        assert_eq!(px(&buf, w, p.right(), mid), [255, 255, 255]);
        let centre = px(&buf, w, p.x + p.w / 2, mid)[0] as f64;
        assert!((centre - 127.5).abs() < 3.0, "centre {centre}");
        let bar = layout.colorbar.expect("a heat map has a colour bar");
        assert_eq!(px(&buf, w, bar.x + 5, bar.y), [255, 255, 255]);
        assert_eq!(px(&buf, w, bar.x + 5, bar.bottom()), [0, 0, 0]);
    }

    #[test]
    fn heatmap_interpolates_bilinearly() {
        let hm = Heatmap::from_fn((0.0, 2.0), (0.0, 4.0), 3, 5, |x, y| 3.0 * x - y + 1.0);
        // Bilinear interpolation reproduces an affine function exactly.
        for &(x, y) in &[(0.3, 0.7), (1.9, 3.9), (1.0, 2.0), (0.0, 4.0), (2.0, 0.0)] {
            assert!((hm.value_at(x, y) - (3.0 * x - y + 1.0)).abs() < 1e-12);
        }
        assert!(hm.value_at(-0.1, 1.0).is_nan());
        assert!(hm.value_at(1.0, 4.5).is_nan());
    }

    #[test]
    fn colormap_end_points() {
        assert_eq!(Colormap::Viridis.color(0.0), [68, 1, 84]);
        assert_eq!(Colormap::Viridis.color(1.0), [253, 231, 37]);
        assert_eq!(Colormap::Grey.color(0.25), [64, 64, 64]);
        let (lo, hi) = (Colormap::BlueRed.color(0.0), Colormap::BlueRed.color(1.0));
        assert!(lo[2] > lo[0], "0 is blue");
        assert!(hi[0] > hi[2], "1 is red");
    }
}
