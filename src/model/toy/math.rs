//! The toy model's own elementary functions: exp, ln, tanh, cos and integer powers from plain
//! IEEE arithmetic (range reduction + polynomial), so that no result depends on which libm, or
//! which of its CPU-specific code paths, a machine has. Only `+ − × ÷`, `sqrt` (correctly
//! rounded everywhere), comparisons and exact bit manipulations are used; never a fused
//! multiply-add (Rust does not contract `a * b + c`, and this crate never calls `mul_add`).

/// `e^x` in f32 (relative error ~2e-7); inputs are clamped to [-87, 88], so it never
/// overflows and tiny results stay normal. Branch-free, so loops over it vectorise.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that `n · LN2_HI` is exact for |n| < 2^9.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2^23: adding and subtracting it rounds to the nearest integer (ties to even).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * (r * r) + r + 1.0;
    y * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// `tanh(u)` through [`exp`] (absolute error ~2e-7).
#[inline(always)]
pub fn tanh(u: f32) -> f32 {
    let u = u.clamp(-15.0, 15.0);
    1.0 - 2.0 / (exp(2.0 * u) + 1.0)
}

/// `e^x` in f64 (relative error ~1e-15); 0 below -745, +∞ above 709.
pub fn exp64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < -745.0 {
        return 0.0;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let n = (x * std::f64::consts::LOG2_E + 6_755_399_441_055_744.0) - 6_755_399_441_055_744.0;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Taylor series to degree 13 (|r| <= 0.35: the remainder is below 1e-17).
    let mut p = 1.0;
    for k in (1..=13).rev() {
        p = 1.0 + p * r / k as f64;
    }
    // 2^n in two halves, so that results between 2^-1074 and 2^-1022 stay representable.
    let n = n as i64;
    let (h1, h2) = (n / 2, n - n / 2);
    p * f64::from_bits(((h1 + 1023) as u64) << 52) * f64::from_bits(((h2 + 1023) as u64) << 52)
}

/// Natural logarithm in f64 (relative error ~1e-16); `-∞` at 0, NaN below.
pub fn ln64(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x == f64::INFINITY {
        return x;
    }
    let (mut x, mut e) = (x, 0i64);
    if x < f64::MIN_POSITIVE {
        x *= 18_014_398_509_481_984.0; // 2^54
        e = -54;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2 atanh(s) = 2 (s + s³/3 + s⁵/5 + …), |s| <= 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut p = 0.0;
    for k in (0..=12).rev() {
        p = p * s2 + 1.0 / (2 * k + 1) as f64;
    }
    2.0 * s * p + e as f64 * std::f64::consts::LN_2
}

/// Natural logarithm in f32 (through [`ln64`]).
pub fn ln(x: f32) -> f32 {
    ln64(x as f64) as f32
}

/// `cos(x)` in f64 (absolute error ~1e-15 for |x| up to a few thousand).
pub fn cos64(x: f64) -> f64 {
    use std::f64::consts::{PI, TAU};
    if !x.is_finite() {
        return f64::NAN;
    }
    // Reduce to [-π, π], then cos(y) = −cos(y − π·sign(y)) folds it to [-π/2, π/2].
    let mut y = x - (x / TAU + 6_755_399_441_055_744.0 - 6_755_399_441_055_744.0) * TAU;
    let mut sign = 1.0;
    if y > PI / 2.0 {
        y -= PI;
        sign = -1.0;
    } else if y < -PI / 2.0 {
        y += PI;
        sign = -1.0;
    }
    // Taylor series to y^26 (|y| <= π/2: the remainder is below 1e-20).
    let y2 = y * y;
    let mut p = 1.0;
    for k in (1..=13).rev() {
        p = 1.0 - p * y2 / ((2 * k - 1) * (2 * k)) as f64;
    }
    sign * p
}

/// `x^n` by repeated multiplication, in a fixed order.
pub fn powi(x: f64, n: u32) -> f64 {
    (0..n).fold(1.0, |acc, _| acc * x)
}

/// A standard normal draw from two uniforms of `rng` (Box–Muller with this module's ln and
/// cos, so the same on every machine).
pub fn normal(rng: &mut crate::rng::Rng) -> f64 {
    let u1 = 1.0 - rng.next_f64(); // (0, 1]
    let u2 = rng.next_f64();
    (-2.0 * ln64(u1)).sqrt() * cos64(std::f64::consts::TAU * u2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_match_the_standard_library_closely() {
        let mut x = -80.0f32;
        while x < 80.0 {
            let (a, b) = (exp(x), x.exp());
            assert!(((a - b) / b).abs() < 4e-7, "exp({x}) = {a}, std {b}");
            let (a, b) = (tanh(x / 8.0), (x / 8.0).tanh());
            assert!((a - b).abs() < 4e-7, "tanh({}) = {a}, std {b}", x / 8.0);
            x += 0.0137;
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) > 0.0 && exp(-1000.0) < 1e-37);
        let mut x = -740.0f64;
        while x < 709.0 {
            let (a, b) = (exp64(x), x.exp());
            assert!(((a - b) / b).abs() < 4e-15, "exp64({x}) = {a}, std {b}");
            x += 0.371;
        }
        assert_eq!((exp64(f64::NEG_INFINITY), exp64(0.0)), (0.0, 1.0));
        for &v in &[
            1e-310, 1e-300, 1e-5, 0.3, 0.999, 1.0, 1.5, 2.0, 10.0, 1e10, 1e300,
        ] {
            let (a, b) = (ln64(v), v.ln());
            assert!(
                (a - b).abs() <= 2e-16 * b.abs().max(1.0),
                "ln64({v}) = {a}, std {b}"
            );
        }
        assert_eq!(ln64(0.0), f64::NEG_INFINITY);
        assert!(ln64(-1.0).is_nan());
        let mut x = -20.0f64;
        while x < 20.0 {
            let (a, b) = (cos64(x), x.cos());
            assert!((a - b).abs() < 2e-15, "cos64({x}) = {a}, std {b}");
            x += 0.0173;
        }
        assert_eq!(powi(0.9, 3), 0.9 * 0.9 * 0.9);
        assert_eq!(powi(2.0, 0), 1.0);
    }

    #[test]
    fn normal_draws_have_unit_variance() {
        let mut rng = crate::rng::Rng::new(7);
        let xs: Vec<f64> = (0..20_000).map(|_| normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
