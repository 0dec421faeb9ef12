//! Binomial and hypergeometric probabilities computed so that they stay accurate for
//! 10^5 observations and far into the tails: point probabilities by Loader's saddle-point
//! method (the algorithm of R's `dbinom`/`dhyper`), tails by summing term ratios away from
//! the mean until they no longer change the sum (R's `pdhyper`), always on the smaller side.

use std::f64::consts::PI;

/// `ln(n!) - ln(sqrt(2πn) (n/e)^n)` for n = 0..=15 (mpmath, 40 digits, rounded).
#[allow(clippy::excessive_precision)] // the digits as computed; rounding is the compiler's
const STIRLERR: [f64; 16] = [
    0.0,
    0.081_061_466_795_327_258,
    0.041_340_695_955_409_294,
    0.027_677_925_684_998_339,
    0.020_790_672_103_765_093,
    0.016_644_691_189_821_192,
    0.013_876_128_823_070_748,
    0.011_896_709_945_891_770,
    0.010_411_265_261_972_096,
    0.009_255_462_182_712_733,
    0.008_330_563_433_362_871,
    0.007_573_675_487_951_841,
    0.006_942_840_107_209_530,
    0.006_408_994_188_004_207,
    0.005_951_370_112_758_848,
    0.005_554_733_551_962_801,
];

/// Error of Stirling's formula in log scale for an integer `n`.
fn stirlerr(n: f64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 15.0 {
        return STIRLERR[n as usize];
    }
    let nn = n * n;
    if n > 500.0 {
        (S0 - S1 / nn) / n
    } else if n > 80.0 {
        (S0 - (S1 - S2 / nn) / nn) / n
    } else if n > 35.0 {
        (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
    }
}

/// Deviance term `x ln(x/np) + np - x`, computed without cancellation when x ≈ np.
fn bd0(x: f64, np: f64) -> f64 {
    if (x - np).abs() < 0.1 * (x + np) {
        let mut v = (x - np) / (x + np);
        let mut s = (x - np) * v;
        if s.abs() < f64::MIN_POSITIVE {
            return s;
        }
        let mut ej = 2.0 * x * v;
        v *= v;
        for j in 1..1000 {
            ej *= v;
            let s1 = s + ej / f64::from(2 * j + 1);
            if s1 == s {
                return s1;
            }
            s = s1;
        }
    }
    x * (x / np).ln() + np - x
}

/// ln P(X = x) for X ~ Binomial(n, p), with `q = 1 - p` passed separately for precision.
pub fn ln_binom_pmf_pq(x: u64, n: u64, p: f64, q: f64) -> f64 {
    if x > n {
        return f64::NEG_INFINITY;
    }
    if p == 0.0 {
        return if x == 0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if q == 0.0 {
        return if x == n { 0.0 } else { f64::NEG_INFINITY };
    }
    let (xf, nf) = (x as f64, n as f64);
    if x == 0 {
        if n == 0 {
            return 0.0;
        }
        return if p < 0.1 {
            -bd0(nf, nf * q) - nf * p
        } else {
            nf * q.ln()
        };
    }
    if x == n {
        return if q < 0.1 {
            -bd0(nf, nf * p) - nf * q
        } else {
            nf * p.ln()
        };
    }
    let lc =
        stirlerr(nf) - stirlerr(xf) - stirlerr(nf - xf) - bd0(xf, nf * p) - bd0(nf - xf, nf * q);
    let lf = (2.0 * PI).ln() + xf.ln() + (-xf / nf).ln_1p();
    lc - 0.5 * lf
}

/// ln P(X = x) for X ~ Binomial(n, p).
pub fn ln_binom_pmf(x: u64, n: u64, p: f64) -> f64 {
    ln_binom_pmf_pq(x, n, p, 1.0 - p)
}

/// P(X ≤ x) / P(X = x) for X ~ Binomial(n, p), accurate when x is at or below the mean.
fn binom_lower_ratio_sum(x: u64, n: u64, p: f64, q: f64) -> f64 {
    let mut sum = 0.0;
    let mut term = 1.0;
    let mut k = x;
    while k > 0 && term >= f64::EPSILON * sum {
        // P(k-1)/P(k) = k q / ((n - k + 1) p)
        term *= (k as f64) * q / (((n - k + 1) as f64) * p);
        sum += term;
        k -= 1;
    }
    1.0 + sum
}

/// P(X ≤ x) for X ~ Binomial(n, p) summed directly; requires x ≤ mean.
fn binom_lower_direct(x: u64, n: u64, p: f64, q: f64) -> f64 {
    ln_binom_pmf_pq(x, n, p, q).exp() * binom_lower_ratio_sum(x, n, p, q)
}

/// P(X ≤ x) for X ~ Binomial(n, p).
pub fn binom_cdf(x: i64, n: u64, p: f64) -> f64 {
    let q = 1.0 - p;
    if x < 0 {
        return 0.0;
    }
    let x = x as u64;
    if x >= n || q == 0.0 {
        return if x >= n { 1.0 } else { 0.0 };
    }
    if p == 0.0 {
        return 1.0;
    }
    if (x as f64) <= (n as f64) * p {
        binom_lower_direct(x, n, p, q)
    } else {
        // P(X ≤ x) = 1 - P(n - X ≤ n - x - 1), and n - X ~ Binomial(n, q).
        1.0 - binom_lower_direct(n - x - 1, n, q, p)
    }
}

/// P(X > x) for X ~ Binomial(n, p).
pub fn binom_sf(x: i64, n: u64, p: f64) -> f64 {
    if x < 0 {
        return 1.0;
    }
    if x as u64 >= n {
        return 0.0;
    }
    // P(X > x) = P(n - X ≤ n - x - 1).
    binom_cdf(n as i64 - x - 1, n, 1.0 - p)
}

/// A hypergeometric distribution: `draws` items drawn without replacement from a population
/// with `successes` successes and `failures` failures; X counts the successes drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hypergeometric {
    pub successes: u64,
    pub failures: u64,
    pub draws: u64,
}

impl Hypergeometric {
    /// Smallest possible X.
    pub fn lo(&self) -> u64 {
        self.draws.saturating_sub(self.failures)
    }

    /// Largest possible X.
    pub fn hi(&self) -> u64 {
        self.draws.min(self.successes)
    }

    /// The mode, `floor((draws + 1)(successes + 1) / (N + 2))`.
    pub fn mode(&self) -> u64 {
        let n_total = self.successes + self.failures;
        (((self.draws + 1) as u128 * (self.successes + 1) as u128) / (n_total + 2) as u128) as u64
    }

    /// ln P(X = x) (Loader: three binomial point probabilities with p = draws / N).
    pub fn ln_pmf(&self, x: u64) -> f64 {
        let (r, b, n) = (self.successes, self.failures, self.draws);
        if x < self.lo() || x > self.hi() {
            return f64::NEG_INFINITY;
        }
        if n == 0 {
            return 0.0;
        }
        let total = (r + b) as f64;
        let p = n as f64 / total;
        let q = (r + b - n) as f64 / total;
        ln_binom_pmf_pq(x, r, p, q) + ln_binom_pmf_pq(n - x, b, p, q)
            - ln_binom_pmf_pq(n, r + b, p, q)
    }

    /// P(X = x).
    pub fn pmf(&self, x: u64) -> f64 {
        self.ln_pmf(x).exp()
    }

    /// P(X ≤ x) summed directly; requires x ≤ mean.
    fn lower_direct(&self, x: u64) -> f64 {
        let (r, b, n) = (
            self.successes as f64,
            self.failures as f64,
            self.draws as f64,
        );
        let mut sum = 0.0;
        let mut term = 1.0;
        let mut k = x as f64;
        let lo = self.lo() as f64;
        while k > lo && term >= f64::EPSILON * sum {
            // P(k-1)/P(k) = k (b - n + k) / ((n + 1 - k)(r + 1 - k))
            term *= k * (b - n + k) / ((n + 1.0 - k) * (r + 1.0 - k));
            sum += term;
            k -= 1.0;
        }
        self.pmf(x) * (1.0 + sum)
    }

    /// The distribution of the failures drawn, `draws - X`.
    fn swapped(&self) -> Hypergeometric {
        Hypergeometric {
            successes: self.failures,
            failures: self.successes,
            draws: self.draws,
        }
    }

    /// P(X ≤ x).
    pub fn cdf(&self, x: i64) -> f64 {
        if x < self.lo() as i64 {
            return 0.0;
        }
        if x >= self.hi() as i64 {
            return 1.0;
        }
        let x = x as u64;
        let total = (self.successes + self.failures) as u128;
        if (x as u128) * total <= (self.draws as u128) * (self.successes as u128) {
            self.lower_direct(x)
        } else {
            // P(X ≤ x) = 1 - P(draws - X ≤ draws - x - 1).
            1.0 - self.swapped().lower_direct(self.draws - x - 1)
        }
    }

    /// P(X > x).
    pub fn sf(&self, x: i64) -> f64 {
        if x < self.lo() as i64 {
            return 1.0;
        }
        if x >= self.hi() as i64 {
            return 0.0;
        }
        // P(X > x) = P(draws - X ≤ draws - x - 1).
        self.swapped().cdf(self.draws as i64 - x - 1)
    }
}

/// Two-sided p-value by the summed-probability rule: the probability of every outcome no
/// more likely than the observed one (within a relative tolerance `rel_tol`), for a unimodal
/// distribution on `lo..=hi` with mode `mode`. `cdf(x)` is P(X ≤ x), `sf(x)` is P(X > x).
pub fn two_sided_unimodal(
    observed: u64,
    (lo, hi, mode): (u64, u64, u64),
    rel_tol: f64,
    pmf: impl Fn(u64) -> f64,
    cdf: impl Fn(i64) -> f64,
    sf: impl Fn(i64) -> f64,
) -> f64 {
    let p_obs = pmf(observed);
    let p_mode = pmf(mode);
    if (p_obs - p_mode).abs() / p_obs.max(p_mode) <= 1e-14 {
        return 1.0;
    }
    let threshold = p_obs * (1.0 + rel_tol);
    let p = if observed < mode {
        // Other side: the first x ≥ mode with pmf(x) ≤ threshold (pmf is non-increasing there).
        if pmf(hi) > threshold {
            cdf(observed as i64)
        } else {
            let (mut a, mut b) = (mode, hi); // pmf(a) > threshold ≥ pmf(b)
            while b - a > 1 {
                let m = a + (b - a) / 2;
                if pmf(m) > threshold { a = m } else { b = m }
            }
            cdf(observed as i64) + sf(b as i64 - 1)
        }
    } else if pmf(lo) > threshold {
        sf(observed as i64 - 1)
    } else {
        // Other side: the last x ≤ mode with pmf(x) ≤ threshold.
        let (mut a, mut b) = (lo, mode); // pmf(a) ≤ threshold < pmf(b)
        while b - a > 1 {
            let m = a + (b - a) / 2;
            if pmf(m) > threshold { b = m } else { a = m }
        }
        sf(observed as i64 - 1) + cdf(a as i64)
    };
    p.min(1.0)
}
