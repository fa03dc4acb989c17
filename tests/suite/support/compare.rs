//! Comparing floats: one name per meaning, for every test module.
//!
//! - [`identical`]: the same bits (`0.0` and `-0.0` differ), or both NaN;
//!   [`exact`] and [`assert_identical`] say what differed.
//! - [`equal`]: equal as `f64`s compare (`0.0 == -0.0`), or both NaN.
//! - [`check_rel`], [`rel`], [`assert_rel`], [`assert_all_rel`]: relative to the wanted value,
//!   `|got - want| <= rel · max(|want|, floor)`, with an absolute floor for
//!   results that are a difference of terms of size `floor`.
//! - [`close`], [`check_close`], [`assert_close`], [`assert_all_close`]:
//!   `|got - want| <= abs + rel · max(|got|, |want|)`, and non-finite
//!   values must be [`equal`].

/// The same number: the same bits (so `0.0` is not `-0.0`), or both NaN.
pub fn identical(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// [`identical`] for `f32`.
pub fn identical32(a: f32, b: f32) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// Equal as `f64`s compare (so up to the sign of a zero), or both NaN.
pub fn equal(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// `Ok` when `got` and `want` are [`identical`].
pub fn exact(what: &str, got: f64, want: f64) -> Result<(), String> {
    if identical(got, want) {
        Ok(())
    } else {
        Err(format!("{what}: got {got:e}, want {want:e} (bit for bit)"))
    }
}

/// [`exact`] that panics: for plain (non-quickcheck) tests.
#[track_caller]
pub fn assert_identical(got: f64, want: f64, what: &str) {
    assert!(
        identical(got, want),
        "{what}: got {got:?}, want {want:?} (bit for bit)"
    );
}

/// The closed-form tolerance of the forward-mode tests: 1e-13 relative.
pub const REL: f64 = 1e-13;

/// `|got - want| <= rel * max(|want|, floor)`: relative to the wanted value,
/// with an absolute floor for results that are a difference of terms of size
/// `floor`.
pub fn check_rel(what: &str, got: f64, want: f64, rel: f64, floor: f64) -> Result<(), String> {
    let tol = rel * want.abs().max(floor);
    if got == want || (got - want).abs() <= tol {
        Ok(())
    } else {
        Err(format!(
            "{what}: got {got:e}, want {want:e} (difference {:e}, tolerance {tol:e})",
            (got - want).abs()
        ))
    }
}

/// [`check_rel`] with [`REL`] and no floor.
pub fn rel(what: &str, got: f64, want: f64) -> Result<(), String> {
    check_rel(what, got, want, REL, 0.0)
}

/// [`check_rel`] with no floor, as an assertion.
#[track_caller]
pub fn assert_rel(got: f64, want: f64, rel: f64, what: &str) {
    if let Err(e) = check_rel(what, got, want, rel, 0.0) {
        panic!("{e}");
    }
}

/// [`check_rel`] for every entry of two equally long slices, as an
/// assertion.
#[track_caller]
pub fn assert_all_rel(what: &str, got: &[f64], want: &[f64], rel: f64, floor: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if let Err(e) = check_rel(&format!("{what}[{i}]"), g, w, rel, floor) {
            panic!("{e}");
        }
    }
}

/// `|got - want| <= abs + rel * max(|got|, |want|)`; non-finite values must
/// be [`equal`].
pub fn close(got: f64, want: f64, rel: f64, abs: f64) -> bool {
    if !got.is_finite() || !want.is_finite() {
        return equal(got, want);
    }
    (got - want).abs() <= abs + rel * got.abs().max(want.abs())
}

/// [`close`] as a `Result` naming what was compared.
pub fn check_close(what: &str, got: f64, want: f64, rel: f64, abs: f64) -> Result<(), String> {
    if close(got, want, rel, abs) {
        Ok(())
    } else {
        Err(format!(
            "{what}: got {got:e}, want {want:e} (difference {:e}, allowed {rel:e} relative + {abs:e} \
             absolute)",
            (got - want).abs()
        ))
    }
}

/// [`close`] as an assertion naming what was compared.
#[track_caller]
pub fn assert_close(what: &str, got: f64, want: f64, rel: f64, abs: f64) {
    if let Err(e) = check_close(what, got, want, rel, abs) {
        panic!("{e}");
    }
}

/// [`assert_close`] for every entry of two equally long slices.
#[track_caller]
pub fn assert_all_close(what: &str, got: &[f64], want: &[f64], rel: f64, abs: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_close(&format!("{what}[{i}]"), g, w, rel, abs);
    }
}
