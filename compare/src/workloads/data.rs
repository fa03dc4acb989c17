//! Deterministic inputs: a tiny seeded generator, the notebook's disk/ring
//! data set, and starting parameters. No `rand` dependency, so every run and
//! every machine sees the same numbers.

/// SplitMix64: small, fast, and good enough for test inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
}

/// Labelled points in the plane, as in the backpropagation notebook.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub points: Vec<[f64; 2]>,
    /// 1.0 or 0.0
    pub labels: Vec<f64>,
}

impl Dataset {
    /// `n` points: half in the disk r < 0.5 (label 1), half in the ring
    /// 0.7 < r < 1.0 (label 0), alternating.
    pub fn disk_ring(n: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut points = Vec::with_capacity(n);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let inside = i % 2 == 0;
            let angle = rng.range(0.0, std::f64::consts::TAU);
            let r = if inside {
                0.5 * rng.uniform().sqrt()
            } else {
                rng.range(0.7, 1.0)
            };
            points.push([r * angle.cos(), r * angle.sin()]);
            labels.push(if inside { 1.0 } else { 0.0 });
        }
        Dataset { points, labels }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }
}

/// Parameters of a fully connected network with layer widths `sizes`, laid
/// out layer after layer as `W` (out x in, row-major) then `b` (out). For
/// sizes [2, 3, 1] this is the notebook's layout: W1 3x2, b1 3, W2 3, b2 1.
pub fn network_params(sizes: &[usize], seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let mut p = Vec::new();
    for pair in sizes.windows(2) {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        let scale = 2.0 / (fan_in as f64).sqrt();
        for _ in 0..fan_in * fan_out {
            p.push(rng.range(-scale, scale));
        }
        for _ in 0..fan_out {
            p.push(rng.range(-0.5, 0.5));
        }
    }
    p
}

/// Number of parameters of a network with layer widths `sizes`.
pub fn network_len(sizes: &[usize]) -> usize {
    sizes.windows(2).map(|p| p[0] * p[1] + p[1]).sum()
}

/// `n` values uniform in [lo, hi).
pub fn uniform_vec(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.range(lo, hi)).collect()
}
