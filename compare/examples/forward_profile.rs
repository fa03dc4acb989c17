//! Forward mode side by side, for callgrind and perf: dualtape's `DualVec`,
//! echidna's `DualVec` and num-dual's `DualSVec64`, on the same generic text
//! of compare/'s workloads (constants lifted with `T::one()` / `convert` for
//! every crate alike; `x * 100.0` and `x * data` by a plain float where the
//! crate allows it, as all three do through nalgebra's `RealField` bounds).
//!
//! ```text
//! cargo build --release -p dualtape-compare --example forward_profile
//! target/release/examples/forward_profile WORKLOAD METHOD          # median time per call, ~1 s
//! target/release/examples/forward_profile WORKLOAD METHOD CALLS    # exactly CALLS calls (callgrind)
//! compare/forward_instructions.sh WORKLOAD METHOD LO HI             # instructions per call
//! ```
//!
//! WORKLOAD: ros10, ros100, ros1000, ros10000, net (2-3-1 loops), na (2-3-1
//! nalgebra), mlp (2-64-64-1), logdet (20x20). METHOD: f64; dt4, dt8, dt10,
//! dt13, dt16 (dualtape `forward::gradient_into`, chunks of N); ec4 ... ec16
//! (echidna `DualVec<f64, N>`, the same chunk loop); nd10, nd13 (num-dual
//! `gradient` over `DualSVec64<N>`, one pass, N = n).

/// The disk/ring data set and a seeded generator (SplitMix64), as compare/
/// draws them.
#[allow(dead_code)]
mod data {
    // Deterministic inputs: a tiny seeded generator, the notebook's disk/ring
    // data set, and starting parameters. No `rand` dependency, so every run and
    // every machine sees the same numbers.

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
}
use data::Dataset;
use nalgebra::{convert, DMatrix, DVector, RealField};
use std::hint::black_box;
use std::ops::{Div, Mul};
use std::time::Instant;

trait S: RealField + Copy + Mul<f64, Output = Self> + Div<f64, Output = Self> {}
impl<T: RealField + Copy + Mul<f64, Output = T> + Div<f64, Output = T>> S for T {}

fn rosenbrock<T: S>(x: &[T]) -> T {
    let mut s = T::zero();
    for p in x.chunks_exact(2) {
        let a = p[1] - p[0] * p[0];
        let b = T::one() - p[0];
        s += a * a * 100.0 + b * b;
    }
    s
}
fn sigmoid<T: S>(z: T) -> T {
    T::one() / (T::one() + (-z).exp())
}
fn net231<T: S>(p: &[T], data: &Dataset) -> T {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let mut sum = T::zero();
    for (x, &t) in data.points.iter().zip(&data.labels) {
        let mut z2 = b2;
        for j in 0..3 {
            let a1 = sigmoid(w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]);
            z2 += w2[j] * a1;
        }
        let y = sigmoid(z2);
        sum += y.ln() * t + (T::one() - y).ln() * (1.0 - t);
    }
    -sum / data.len() as f64
}
pub fn mlp_loss<T: RealField + Copy>(p: &[T], sizes: &[usize], data: &Dataset) -> T {
    let n = data.len();
    let mut a = DMatrix::<T>::from_fn(2, n, |r, c| convert(data.points[c][r]));
    let mut off = 0;
    for pair in sizes.windows(2) {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        let w = DMatrix::from_row_slice(fan_out, fan_in, &p[off..off + fan_out * fan_in]);
        off += fan_out * fan_in;
        let b = DVector::from_column_slice(&p[off..off + fan_out]);
        off += fan_out;
        let mut z = w * &a;
        for j in 0..n {
            for i in 0..fan_out {
                z[(i, j)] += b[i];
            }
        }
        a = z.map(|z| T::one() / (T::one() + (-z).exp()));
    }
    let one = T::one();
    let mut sum = T::zero();
    for (y, &t) in a.iter().zip(&data.labels) {
        let t: T = convert(t);
        sum += t * y.ln() + (one - t) * (one - *y).ln();
    }
    -sum / convert(n as f64)
}
pub fn logdet<T: RealField + Copy>(x: &[T], m: usize) -> T {
    let b = DMatrix::from_row_slice(m, m, x);
    let mut a = &b * b.transpose();
    let shift: T = convert(m as f64);
    for i in 0..m {
        a[(i, i)] += shift;
    }
    let l = a.cholesky().expect("pd").unpack_dirty();
    let mut s = T::zero();
    for i in 0..m {
        s += l[(i, i)].ln();
    }
    s + s
}

#[derive(Clone)]
enum W {
    Ros(usize),
    Net,
    Na(Vec<usize>),
    LogDet(usize),
}
fn obj<T: S>(w: &W, data: &Dataset, x: &[T]) -> T {
    match w {
        W::Ros(_) => rosenbrock(x),
        W::Net => net231(x, data),
        W::Na(s) => mlp_loss(x, s, data),
        W::LogDet(m) => logdet(x, *m),
    }
}

/// echidna: chunked gradient, seeding like dualtape's driver, caller's buffer.
fn echidna_grad<const N: usize>(w: &W, data: &Dataset, x: &[f64], g: &mut [f64]) -> f64 {
    use echidna::DualVec;
    let n = x.len();
    let mut xs: Vec<DualVec<f64, N>> = x.iter().map(|&v| DualVec::constant(v)).collect();
    let mut val = 0.0;
    for start in (0..n).step_by(N) {
        let end = (start + N).min(n);
        for (k, xi) in xs[start..end].iter_mut().enumerate() {
            xi.eps[k] = 1.0;
        }
        let y = obj(w, data, &xs);
        val = y.re;
        g[start..end].copy_from_slice(&y.eps[..end - start]);
        for xi in &mut xs[start..end] {
            xi.eps = [0.0; N];
        }
    }
    val
}
fn dualtape_grad<const N: usize>(w: &W, data: &Dataset, x: &[f64], g: &mut [f64]) -> f64 {
    dualtape::forward::gradient_into(|v: &[dualtape::DualVec<f64, N>]| obj(w, data, v), x, g)
}
fn numdual_grad<const N: usize>(w: &W, data: &Dataset, x: &[f64], g: &mut [f64]) -> f64 {
    use nalgebra::SVector;
    let xv = SVector::<f64, N>::from_column_slice(x);
    let (v, gr) = num_dual::gradient(
        |v: SVector<num_dual::DualSVec64<N>, N>| obj(w, data, v.as_slice()),
        &xv,
    );
    g.copy_from_slice(gr.as_slice());
    v
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let data = Dataset::disk_ring(1000, 0xD15C);
    let w = match a[0].as_str() {
        "ros10" => W::Ros(10),
        "ros100" => W::Ros(100),
        "ros1000" => W::Ros(1000),
        "ros10000" => W::Ros(10000),
        "net" => W::Net,
        "na" => W::Na(vec![2, 3, 1]),
        "mlp" => W::Na(vec![2, 64, 64, 1]),
        "logdet" => W::LogDet(20),
        o => panic!("{o}"),
    };
    let n = match &w {
        W::Ros(n) => *n,
        W::Net | W::Na(_) => 13,
        W::LogDet(m) => m * m,
    };
    let mut rng = data::Rng::new(7);
    let x: Vec<f64> = (0..n)
        .map(|i| match w {
            W::Ros(_) => (if i % 2 == 0 { -1.2 } else { 1.0 }) + rng.range(-0.1, 0.1),
            _ => rng.range(-1.0, 1.0),
        })
        .collect();
    let mut g = vec![0.0; n];
    let m = a[1].as_str();
    let call = |g: &mut [f64]| -> f64 {
        let x = black_box(&x[..]);
        match m {
            "f64" => obj::<f64>(&w, &data, x),
            "dt4" => dualtape_grad::<4>(&w, &data, x, g),
            "dt8" => dualtape_grad::<8>(&w, &data, x, g),
            "dt16" => dualtape_grad::<16>(&w, &data, x, g),
            "dt10" => dualtape_grad::<10>(&w, &data, x, g),
            "dt13" => dualtape_grad::<13>(&w, &data, x, g),
            "ec4" => echidna_grad::<4>(&w, &data, x, g),
            "ec8" => echidna_grad::<8>(&w, &data, x, g),
            "ec16" => echidna_grad::<16>(&w, &data, x, g),
            "ec10" => echidna_grad::<10>(&w, &data, x, g),
            "ec13" => echidna_grad::<13>(&w, &data, x, g),
            "nd10" => numdual_grad::<10>(&w, &data, x, g),
            "nd13" => numdual_grad::<13>(&w, &data, x, g),
            o => panic!("{o}"),
        }
    };
    let v = call(&mut g);
    if let Some(c) = a.get(2) {
        let c: u64 = c.parse().unwrap();
        for _ in 0..c {
            black_box(call(&mut g));
        }
        println!("{v} {:?}", &g[..n.min(4)]);
        return;
    }
    // time: rounds of ~20 ms, median
    let mut per = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed().as_secs_f64() < 1.0 || per.len() < 5 {
        let s = Instant::now();
        let mut k = 0u64;
        while s.elapsed().as_secs_f64() < 0.02 {
            black_box(call(&mut g));
            k += 1;
        }
        per.push(s.elapsed().as_secs_f64() / k as f64);
    }
    per.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{} {} {:.3} us  v={v} g0={}",
        a[0],
        m,
        per[per.len() / 2] * 1e6,
        g[0]
    );
}
