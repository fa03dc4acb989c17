//! The notebook's two toy data sets, seeded and reproducible.
//!
//! Both are two-class problems in the plane: [`disk_ring`] (class 1 inside a
//! disk, class 0 on a ring around it) and [`xor_blobs`] (four Gaussian blobs
//! in an XOR pattern). Randomness comes from [`Rng`], a small self-contained
//! generator (SplitMix64 seeding xoshiro256\*\*), so a seed gives the same
//! points on every platform and with every dependency version.
//!
//! ```
//! use dualtape_nn::data::{disk_ring, xor_blobs};
//!
//! let d = disk_ring(1000, 42);
//! assert_eq!(d.len(), 1000);
//! assert_eq!(d.count(1.0), 500);
//! assert_eq!(d, disk_ring(1000, 42)); // same seed, same data
//! let (train, held_out) = xor_blobs(1000, 7).split(800);
//! assert_eq!((train.len(), held_out.len()), (800, 200));
//! ```

use dualtape::rng::SplitMix64;
use nalgebra::{DMatrix, DVector};
use std::f64::consts::TAU;

/// A small, fast, seedable pseudo-random number generator: xoshiro256\*\*
/// (Blackman and Vigna, 2018), its 256-bit state filled from a 64-bit seed
/// by SplitMix64 (Steele, Lea and Flood, 2014), as the xoshiro authors
/// recommend.
///
/// It is for reproducible test data, not for cryptography. The stream for a
/// given seed is fixed: data sets and initial parameters built from it do not
/// change between versions.
///
/// ```
/// use dualtape_nn::data::Rng;
/// let mut a = Rng::new(1);
/// let mut b = Rng::new(1);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let u = a.uniform();
/// assert!((0.0..1.0).contains(&u));
/// ```
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
    /// Box–Muller makes normals in pairs; the second waits here.
    spare_normal: Option<f64>,
}

impl Rng {
    /// A generator whose state is four SplitMix64 outputs from `seed`
    /// (never all zero, which xoshiro must avoid).
    pub fn new(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        Self::from_state(s)
    }

    /// A generator with the given raw xoshiro256\*\* state (not all zero).
    pub fn from_state(s: [u64; 4]) -> Self {
        assert!(s != [0; 4], "xoshiro256** state must not be all zero");
        Rng {
            s,
            spare_normal: None,
        }
    }

    /// The next 64 random bits (xoshiro256\*\*).
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1): the top 53 bits as a multiple of 2^-53.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal N(0, 1), by the Box–Muller transform: from uniforms
    /// u1 in (0, 1] and u2 in [0, 1), r = sqrt(-2 ln u1) gives the pair
    /// (r cos 2 pi u2, r sin 2 pi u2); the second is kept for the next call.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln never sees 0
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (TAU * u2).sin_cos();
        self.spare_normal = Some(r * s);
        r * c
    }

    /// Uniform integer in `0..n` (`n > 0`), by the multiply-shift method;
    /// its bias, at most n / 2^64, is far below anything observable here.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0) has no values to choose from");
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Shuffle in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// A labelled two-dimensional data set for binary classification.
///
/// Row `i` of `x` is point `i` (its two coordinates); `y[i]` is its class,
/// exactly `0.0` or `1.0`. `x` is stored column-major by nalgebra, so
/// `x.as_slice()` is all first coordinates followed by all second ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Inputs, N x 2.
    pub x: DMatrix<f64>,
    /// Targets, N, each 0 or 1.
    pub y: DVector<f64>,
}

/// The rectangle `[x_min, x_max] x [y_min, y_max]` (for plot ranges).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// Smallest first coordinate.
    pub x_min: f64,
    /// Largest first coordinate.
    pub x_max: f64,
    /// Smallest second coordinate.
    pub y_min: f64,
    /// Largest second coordinate.
    pub y_max: f64,
}

impl Bounds {
    /// The same rectangle grown (or shrunk) by `factor` about its centre:
    /// `scaled(1.1)` spans 1.1 x the data range, as the notebook's plots do.
    ///
    /// ```
    /// use dualtape_nn::data::Bounds;
    /// let b = Bounds { x_min: 0.0, x_max: 1.0, y_min: -1.0, y_max: 1.0 }.scaled(1.1);
    /// assert!((b.x_min + 0.05).abs() < 1e-12 && (b.x_max - 1.05).abs() < 1e-12);
    /// assert!((b.y_min + 1.1).abs() < 1e-12 && (b.y_max - 1.1).abs() < 1e-12);
    /// ```
    pub fn scaled(&self, factor: f64) -> Bounds {
        let (cx, cy) = (
            (self.x_min + self.x_max) / 2.0,
            (self.y_min + self.y_max) / 2.0,
        );
        let (hx, hy) = (
            (self.x_max - self.x_min) / 2.0 * factor,
            (self.y_max - self.y_min) / 2.0 * factor,
        );
        Bounds {
            x_min: cx - hx,
            x_max: cx + hx,
            y_min: cy - hy,
            y_max: cy + hy,
        }
    }
}

impl Dataset {
    /// A data set from N x 2 inputs and N targets (panics on other shapes).
    pub fn new(x: DMatrix<f64>, y: DVector<f64>) -> Self {
        assert_eq!(x.ncols(), 2, "inputs must be N x 2");
        assert_eq!(x.nrows(), y.len(), "one target per input row");
        Dataset { x, y }
    }

    /// Number of points N.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Point `i` as `(x, y)` coordinates.
    pub fn point(&self, i: usize) -> (f64, f64) {
        (self.x[(i, 0)], self.x[(i, 1)])
    }

    /// Number of points whose target equals `class`.
    pub fn count(&self, class: f64) -> usize {
        self.y.iter().filter(|&&t| t == class).count()
    }

    /// The points of one class, as `(x, y)` pairs (for scatter plots).
    pub fn class_points(&self, class: f64) -> Vec<(f64, f64)> {
        (0..self.len())
            .filter(|&i| self.y[i] == class)
            .map(|i| self.point(i))
            .collect()
    }

    /// The first `n_train` points and the rest, as two data sets. The
    /// generators here shuffle their points, so both parts are random
    /// samples with roughly the same class balance.
    pub fn split(&self, n_train: usize) -> (Dataset, Dataset) {
        assert!(
            n_train <= self.len(),
            "cannot train on more points than exist"
        );
        let rest = self.len() - n_train;
        (
            Dataset::new(
                self.x.rows(0, n_train).into_owned(),
                self.y.rows(0, n_train).into_owned(),
            ),
            Dataset::new(
                self.x.rows(n_train, rest).into_owned(),
                self.y.rows(n_train, rest).into_owned(),
            ),
        )
    }

    /// The smallest rectangle holding every point.
    pub fn bounds(&self) -> Bounds {
        let c0 = self.x.column(0);
        let c1 = self.x.column(1);
        Bounds {
            x_min: c0.min(),
            x_max: c0.max(),
            y_min: c1.min(),
            y_max: c1.max(),
        }
    }

    /// Build from `(x, y, class)` triples after shuffling them.
    fn from_shuffled(mut points: Vec<(f64, f64, f64)>, rng: &mut Rng) -> Dataset {
        rng.shuffle(&mut points);
        let n = points.len();
        let x = DMatrix::from_fn(n, 2, |i, j| if j == 0 { points[i].0 } else { points[i].1 });
        let y = DVector::from_fn(n, |i, _| points[i].2);
        Dataset::new(x, y)
    }
}

/// The notebook's disk/ring data: `n` points, `n / 2` (rounded down) of
/// class 1 at radius U(0, 0.5) and the rest of class 0 at radius U(0.6, 1),
/// each at angle U(0, 2 pi), in shuffled order.
///
/// The radius, not the area, is uniform (as in the notebook), so class 1 is
/// denser near the centre.
///
/// ```
/// let d = dualtape_nn::data::disk_ring(100, 3);
/// for i in 0..d.len() {
///     let (a, b) = d.point(i);
///     let r = a.hypot(b);
///     if d.y[i] == 1.0 { assert!(r < 0.5 + 1e-12) } else { assert!(r > 0.6 - 1e-12) }
/// }
/// ```
pub fn disk_ring(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let n1 = n / 2;
    let mut points = Vec::with_capacity(n);
    for i in 0..n {
        let (class, r) = if i < n1 {
            (1.0, rng.uniform_in(0.0, 0.5))
        } else {
            (0.0, rng.uniform_in(0.6, 1.0))
        };
        let (s, c) = rng.uniform_in(0.0, TAU).sin_cos();
        points.push((r * c, r * s, class));
    }
    Dataset::from_shuffled(points, &mut rng)
}

/// The four blob centres of [`xor_blobs`] and their classes, in the order
/// the points are drawn.
pub const XOR_CENTRES: [(f64, f64, f64); 4] = [
    (0.25, 0.75, 1.0),
    (0.75, 0.25, 1.0),
    (0.25, 0.25, 0.0),
    (0.75, 0.75, 0.0),
];

/// Standard deviation of each [`xor_blobs`] blob in each coordinate.
pub const XOR_SD: f64 = 0.15;

/// The notebook's XOR-like data: `n` points from four Gaussian blobs of
/// standard deviation 0.15 ([`XOR_SD`]) in each coordinate. Class 1 comes
/// from the blobs centred at (0.25, 0.75) and (0.75, 0.25), class 0 from
/// (0.25, 0.25) and (0.75, 0.75) ([`XOR_CENTRES`]). Each blob gets `n / 4`
/// points; when 4 does not divide `n`, the first `n % 4` blobs in that
/// order get one more. The points are shuffled.
///
/// ```
/// let d = dualtape_nn::data::xor_blobs(1000, 1);
/// assert_eq!((d.count(1.0), d.count(0.0)), (500, 500));
/// ```
pub fn xor_blobs(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut points = Vec::with_capacity(n);
    for (b, &(cx, cy, class)) in XOR_CENTRES.iter().enumerate() {
        let m = n / 4 + usize::from(b < n % 4);
        for _ in 0..m {
            let px = cx + XOR_SD * rng.normal();
            let py = cy + XOR_SD * rng.normal();
            points.push((px, py, class));
        }
    }
    Dataset::from_shuffled(points, &mut rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::FRAC_1_SQRT_2;

    #[test]
    fn xoshiro_steps_by_hand() {
        // From state [1, 2, 3, 4]: output 1 is rotl(2 * 5, 7) * 9 = 1280 * 9.
        // The update then leaves s1 = 0 (output 2 is 0) and next s1 = 262149
        // (output 3 is 262149 * 5 * 128 * 9); worked through by hand from the
        // xoshiro256** definition.
        let mut r = Rng::from_state([1, 2, 3, 4]);
        assert_eq!(r.next_u64(), 11520);
        assert_eq!(r.next_u64(), 0);
        assert_eq!(r.next_u64(), 262_149 * 5 * 128 * 9);
    }

    #[test]
    fn uniform_moments() {
        let mut r = Rng::new(5);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.uniform()).collect();
        assert!(xs.iter().all(|&u| (0.0..1.0).contains(&u)));
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|u| (u - mean).powi(2)).sum::<f64>() / n as f64;
        // U(0,1): mean 1/2 (sd of the mean 0.00065), variance 1/12.
        assert!((mean - 0.5).abs() < 0.004, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "var {var}");
    }

    #[test]
    fn normal_moments() {
        let mut r = Rng::new(9);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / n as f64;
        let within1 = xs.iter().filter(|z| z.abs() < 1.0).count() as f64 / n as f64;
        assert!(mean.abs() < 0.012, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        // P(|Z| < 1) = erf(1/sqrt 2) = 0.682689...
        assert!((within1 - 0.682_689).abs() < 0.005, "{within1}");
    }

    #[test]
    fn below_and_shuffle() {
        let mut r = Rng::new(11);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[r.below(3)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        let mut v: Vec<usize> = (0..50).collect();
        r.shuffle(&mut v);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn disk_ring_counts_and_radii() {
        for &n in &[1000usize, 7, 2] {
            let d = disk_ring(n, 17);
            assert_eq!(d.len(), n);
            assert_eq!(d.count(1.0), n / 2);
            assert_eq!(d.count(0.0), n - n / 2);
        }
        let d = disk_ring(4000, 17);
        let radii = |class: f64| -> Vec<f64> {
            d.class_points(class)
                .iter()
                .map(|(a, b)| a.hypot(*b))
                .collect()
        };
        let (r1, r0) = (radii(1.0), radii(0.0));
        let max = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
        let min = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
        // Exact ranges (up to rounding in cos/sin and hypot).
        assert!(min(&r1) >= 0.0 && max(&r1) < 0.5 + 1e-12);
        assert!(min(&r0) >= 0.6 - 1e-12 && max(&r0) < 1.0 + 1e-12);
        // And filled: with 2000 uniform draws the extremes are within 0.01.
        assert!(max(&r1) > 0.49 && min(&r1) < 0.01);
        assert!(min(&r0) < 0.61 && max(&r0) > 0.99);
        // Uniform radius: mean 0.25 for class 1, 0.8 for class 0.
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&r1) - 0.25).abs() < 0.01);
        assert!((mean(&r0) - 0.8).abs() < 0.01);
        // Uniform angle: the centroid of each class is near the origin.
        for class in [0.0, 1.0] {
            let p = d.class_points(class);
            let cx = p.iter().map(|q| q.0).sum::<f64>() / p.len() as f64;
            let cy = p.iter().map(|q| q.1).sum::<f64>() / p.len() as f64;
            assert!(cx.abs() < 0.03 && cy.abs() < 0.03, "{cx} {cy}");
        }
    }

    #[test]
    fn xor_blob_counts_means_and_sds() {
        let n = 20_000;
        let d = xor_blobs(n, 23);
        assert_eq!(d.len(), n);
        assert_eq!((d.count(1.0), d.count(0.0)), (n / 2, n / 2));
        // Class 1's centres lie on the line a + b = 1, class 0's on a = b.
        // So for class 1, (a + b - 1) / sqrt 2 is exactly N(0, sd^2) whichever
        // blob a point came from, and the side of the diagonal tells the blob
        // apart except for the ~1% of points that cross it (P(Z < -2.36),
        // equally often both ways, so counts per side are n/4 in expectation).
        let sd = XOR_SD;
        type Proj = fn(f64, f64) -> f64;
        // (class, distance across its line of centres, position along it)
        let projections: [(f64, Proj, Proj); 2] = [
            (
                1.0,
                |a, b| (a + b - 1.0) * FRAC_1_SQRT_2,
                |a, b| (b - a) * FRAC_1_SQRT_2,
            ),
            (
                0.0,
                |a, b| (a - b) * FRAC_1_SQRT_2,
                |a, b| (a + b - 1.0) * FRAC_1_SQRT_2,
            ),
        ];
        for (class, across, along) in projections {
            let p = d.class_points(class);
            let m = p.len() as f64;
            let mean =
                |f: &dyn Fn(f64, f64) -> f64| p.iter().map(|&(a, b)| f(a, b)).sum::<f64>() / m;
            // Each class is symmetric about (0.5, 0.5).
            let (ma, mb) = (mean(&|a, _| a), mean(&|_, b| b));
            assert!(
                (ma - 0.5).abs() < 0.01 && (mb - 0.5).abs() < 0.01,
                "{ma} {mb}"
            );
            // Spread across the line of centres: sd^2 (sd of the estimate ~1.4%).
            let v = mean(&|a, b| across(a, b).powi(2));
            assert!((v.sqrt() - sd).abs() < 0.005, "sd {} vs {sd}", v.sqrt());
            // Along it: two centres at +-0.25 sqrt 2 plus noise.
            let v = mean(&|a, b| along(a, b).powi(2));
            assert!((v - (0.125 + sd * sd)).abs() < 0.006, "{v}");
        }
        // Per blob: split each class by the side of its separating diagonal.
        for &(cx, cy, class) in &XOR_CENTRES {
            let p: Vec<(f64, f64)> = d
                .class_points(class)
                .into_iter()
                .filter(|&(a, b)| {
                    if class == 1.0 {
                        (b > a) == (cy > cx)
                    } else {
                        (a + b > 1.0) == (cx + cy > 1.0)
                    }
                })
                .collect();
            // Binomial-ish spread of the count: sqrt(5000 * 0.01) ~ 7.
            assert!(
                (p.len() as f64 - n as f64 / 4.0).abs() < 60.0,
                "{}",
                p.len()
            );
            let mx = p.iter().map(|q| q.0).sum::<f64>() / p.len() as f64;
            let my = p.iter().map(|q| q.1).sum::<f64>() / p.len() as f64;
            assert!(
                (mx - cx).abs() < 0.015 && (my - cy).abs() < 0.015,
                "{mx} {my}"
            );
        }
        // Blob sizes when 4 does not divide n: 3 + 3 + 3 + 2.
        let d = xor_blobs(11, 1);
        assert_eq!((d.count(1.0), d.count(0.0)), (6, 5));
    }

    #[test]
    fn seeds() {
        assert_eq!(disk_ring(200, 1), disk_ring(200, 1));
        assert_eq!(xor_blobs(200, 1), xor_blobs(200, 1));
        assert_ne!(disk_ring(200, 1), disk_ring(200, 2));
        assert_ne!(xor_blobs(200, 1), xor_blobs(200, 2));
    }

    #[test]
    fn split_and_bounds() {
        let d = disk_ring(1000, 4);
        let (a, b) = d.split(700);
        assert_eq!((a.len(), b.len()), (700, 300));
        assert_eq!(a.point(0), d.point(0));
        assert_eq!(b.point(0), d.point(700));
        assert_eq!(b.y[299], d.y[999]);
        // Shuffled order: both parts have close to half of each class.
        assert!((a.count(1.0) as f64 / 700.0 - 0.5).abs() < 0.06);
        let bd = d.bounds();
        for i in 0..d.len() {
            let (x, y) = d.point(i);
            assert!(x >= bd.x_min && x <= bd.x_max && y >= bd.y_min && y <= bd.y_max);
        }
        // The ring reaches past 0.9 in every direction (about a dozen points
        // beyond each such line are expected among 500).
        assert!(bd.x_min < -0.9 && bd.x_max > 0.9 && bd.y_min < -0.9 && bd.y_max > 0.9);
    }
}
