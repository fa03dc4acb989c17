//! The workloads written with nalgebra matrices, once, generic over
//! `RealField`. The peers are built on three different nalgebra releases
//! (num-dual and dualtape on 0.35, ad_trait on 0.34, autodiff on 0.32), whose
//! `RealField` traits are distinct, so the one source text below is expanded
//! once per release by `nalgebra_workloads!`. Constants are lifted with
//! `nalgebra::convert`, as a user of any of these releases would.

macro_rules! nalgebra_workloads {
    ($na:ident) => {
        use crate::workloads::Dataset;
        use $na::{convert, DMatrix, DVector, RealField};

        use crate::workloads::Hidden;

        fn sigmoid<T: RealField + Copy>(z: T) -> T {
            T::one() / (T::one() + (-z).exp())
        }

        /// Mean binary cross-entropy of a fully connected network with layer
        /// widths `sizes` (the last one 1) over `data`: `hidden` activation
        /// on the hidden layers, the output a logit z, the loss of a point
        /// `-t ln σ(z) - (1 - t) ln(1 - σ(z))`. Parameters are laid out layer
        /// after layer as W (out x in, row-major) then b (out).
        pub fn mlp_loss<T: RealField + Copy>(
            p: &[T],
            sizes: &[usize],
            hidden: Hidden,
            data: &Dataset,
        ) -> T {
            let n = data.len();
            let mut a = DMatrix::<T>::from_fn(2, n, |r, c| convert(data.points[c][r]));
            let mut off = 0;
            let layers = sizes.len() - 1;
            for (l, pair) in sizes.windows(2).enumerate() {
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
                a = if l + 1 == layers {
                    z
                } else {
                    match hidden {
                        Hidden::Sigmoid => z.map(sigmoid),
                        Hidden::Tanh => z.map(|v| v.tanh()),
                    }
                };
            }
            let one = T::one();
            let mut sum = T::zero();
            for (&z, &t) in a.iter().zip(&data.labels) {
                let y = sigmoid(z);
                let t: T = convert(t);
                sum += t * y.ln() + (one - t) * (one - y).ln();
            }
            -sum / convert(n as f64)
        }

        /// log det(A) with A = B B^T + m I, B the m x m matrix of the inputs
        /// (row-major), through a Cholesky factorisation: 2 sum ln L_ii.
        pub fn logdet<T: RealField + Copy>(x: &[T], m: usize) -> T {
            let b = DMatrix::from_row_slice(m, m, x);
            let mut a = &b * b.transpose();
            let shift: T = convert(m as f64);
            for i in 0..m {
                a[(i, i)] += shift;
            }
            let l = a
                .cholesky()
                .expect("B B^T + m I is positive definite")
                .unpack_dirty();
            let mut s = T::zero();
            for i in 0..m {
                s += l[(i, i)].ln();
            }
            s + s
        }
    };
}

/// For dualtape, num-dual and the f64 baselines.
pub mod na035 {
    nalgebra_workloads!(nalgebra);
}

/// For ad_trait (`ad_trait::nalgebra` is its nalgebra 0.34).
pub mod na034 {
    use ad_trait::nalgebra;
    nalgebra_workloads!(nalgebra);
}

/// For autodiff (its `na` feature implements nalgebra 0.32's traits).
pub mod na032 {
    use nalgebra032 as nalgebra;
    nalgebra_workloads!(nalgebra);
}
