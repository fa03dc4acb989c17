//! SplitMix64 (Steele, Lea and Flood, 2014): the one small seeded generator
//! the crate uses for reproducible inputs (random directions in [`check`](crate::check),
//! points in [`testing`](crate::testing)), and that `dualtape-nn` uses to
//! seed its data sets.
//!
//! It is for test inputs, not for cryptography or statistics. The stream for a
//! given seed is fixed: it does not change between versions.
//!
//! ```
//! use dualtape::rng::SplitMix64;
//!
//! let mut r = SplitMix64::new(0);
//! // The first output from state 0, as published with the reference code.
//! assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
//! assert!((0.0..1.0).contains(&r.uniform()));
//! ```

/// SplitMix64's state: one `u64`, advanced by a fixed odd increment and
/// mixed on output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// A generator whose first output is [`mix`]`(seed)`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// Advances the state and returns a well-mixed word.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalise(self.0)
    }

    /// Uniform in `[0, 1)`: the top 53 bits of [`next_u64`](Self::next_u64).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, 1]`, both ends included: the top 53 bits over `2^53 - 1`.
    pub fn uniform_closed(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / ((1u64 << 53) - 1) as f64
    }
}

/// One SplitMix64 step from state `z` without keeping the state: a
/// bijective scramble of `z`, so nearby or repeated inputs give unrelated
/// outputs.
pub fn mix(z: u64) -> u64 {
    SplitMix64::new(z).next_u64()
}

/// SplitMix64's output function (MurmurHash3's finaliser with Stafford's
/// "variant 13" constants).
fn finalise(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
