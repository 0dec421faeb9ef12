//! Matrix products with a fixed reduction order, the same bits on every machine.
//!
//! Each output element is accumulated over the inner dimension in ascending order, in one f32
//! accumulator, with a separate multiply and add (never a fused multiply-add). Vector code
//! runs across output columns only, so every lane does exactly the scalar computation and the
//! SIMD width (baseline SSE2/NEON, AVX2, AVX-512, chosen at run time) cannot change a bit.
//! Threads split the output rows; blocking over rows and depth only changes when an
//! accumulator is parked in the output, never the order of its additions. The block sizes
//! ([`set_blocks`]) and the SIMD level ([`set_simd_cap`], `WEIRDGEN_TOY_SIMD`) can be forced,
//! so that a test can show the result does not move.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

type CResult<T> = candle_core::Result<T>;

fn err(msg: impl Into<String>) -> candle_core::Error {
    candle_core::Error::Msg(msg.into())
}

/// A SIMD level the products can run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Simd {
    /// The target's baseline (SSE2 on x86-64, NEON on aarch64).
    Baseline,
    /// 256-bit AVX2 (x86-64).
    Avx2,
    /// 512-bit AVX-512F (x86-64).
    Avx512,
}

impl Simd {
    /// Every level, lowest first.
    pub const ALL: [Simd; 3] = [Simd::Baseline, Simd::Avx2, Simd::Avx512];

    /// Parses a `WEIRDGEN_TOY_SIMD` value: `baseline` (or `sse2`, `neon`), `avx2`, `avx512`.
    pub fn parse(s: &str) -> Option<Simd> {
        match s.trim().to_ascii_lowercase().as_str() {
            "baseline" | "sse2" | "neon" => Some(Simd::Baseline),
            "avx2" => Some(Simd::Avx2),
            "avx512" => Some(Simd::Avx512),
            _ => None,
        }
    }

    /// The highest level this CPU supports.
    pub fn detected() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Simd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Simd::Avx2;
            }
        }
        Simd::Baseline
    }
}

/// 0: no cap set in the process (the environment decides); else `1 + Simd as u8`.
static SIMD_CAP: AtomicU8 = AtomicU8::new(0);
/// Rows of the output per task; 0: the default.
static ROW_BLOCK: AtomicUsize = AtomicUsize::new(0);
/// Inner-dimension block; 0: the default.
static DEPTH_BLOCK: AtomicUsize = AtomicUsize::new(0);

const DEFAULT_ROW_BLOCK: usize = 32;
const DEFAULT_DEPTH_BLOCK: usize = 512;
/// Below this many multiply-adds a product runs on the calling thread.
const PAR_MIN: usize = 1 << 18;

/// Caps the SIMD level of this process's products (`None`: back to `WEIRDGEN_TOY_SIMD`).
pub fn set_simd_cap(cap: Option<Simd>) {
    SIMD_CAP.store(cap.map_or(0, |s| 1 + s as u8), Ordering::SeqCst);
}

/// Forces the row and depth block sizes (0: the default), e.g. to show they change nothing.
pub fn set_blocks(rows: usize, depth: usize) {
    ROW_BLOCK.store(rows, Ordering::SeqCst);
    DEPTH_BLOCK.store(depth, Ordering::SeqCst);
}

fn env_cap() -> CResult<Option<Simd>> {
    static ENV: OnceLock<Result<Option<Simd>, String>> = OnceLock::new();
    ENV.get_or_init(|| match std::env::var("WEIRDGEN_TOY_SIMD") {
        Err(_) => Ok(None),
        Ok(v) => Simd::parse(&v).map(Some).ok_or_else(|| {
            format!("WEIRDGEN_TOY_SIMD=`{v}`: expected baseline (or sse2, neon), avx2 or avx512")
        }),
    })
    .clone()
    .map_err(err)
}

/// The level products run at: the CPU's best, capped by [`set_simd_cap`] or
/// `WEIRDGEN_TOY_SIMD`.
pub fn simd_level() -> CResult<Simd> {
    let cap = match SIMD_CAP.load(Ordering::SeqCst) {
        0 => env_cap()?,
        c => Some(Simd::ALL[c as usize - 1]),
    };
    let best = Simd::detected();
    Ok(cap.map_or(best, |c| c.min(best)))
}

/// A read-only matrix view: element `(r, c)` is `data[r · rs + c · cs]`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

impl View<'_> {
    #[inline(always)]
    fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.rs + c * self.cs]
    }
}

/// `B` (`k × m`) in panels of `nr` columns: panel `p` holds rows `0..k` of columns
/// `p·nr..(p+1)·nr`, each row contiguous, zero beyond `m`.
fn pack(b: View, k: usize, m: usize, nr: usize) -> Vec<f32> {
    let panels = m.div_ceil(nr);
    let mut out = vec![0f32; panels * k * nr];
    for (p, panel) in out.chunks_exact_mut(k * nr).enumerate() {
        let (j0, w) = (p * nr, nr.min(m - p * nr));
        for (kk, row) in panel.chunks_exact_mut(nr).enumerate() {
            for (c, v) in row[..w].iter_mut().enumerate() {
                *v = b.at(kk, j0 + c);
            }
        }
    }
    out
}

/// One `MR × NR` tile of output rows `i..i+MR`, columns `j0..j0+w` (`w <= NR`), depth
/// `k0..k1`: each accumulator starts at 0 (first depth block) or at the value parked in `c`,
/// then adds `a(i, kk) · b(kk, j)` for `kk` ascending.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<const MR: usize, const NR: usize>(
    a: View,
    panel: &[f32],
    c: &mut [f32],
    m: usize,
    i: usize,
    j0: usize,
    w: usize,
    (k0, k1): (usize, usize),
) {
    let mut acc = [[0f32; NR]; MR];
    if k0 > 0 {
        for (r, acc_r) in acc.iter_mut().enumerate() {
            acc_r[..w].copy_from_slice(&c[r * m + j0..][..w]);
        }
    }
    for (kk, bk) in (k0..k1).zip(panel[k0 * NR..k1 * NR].chunks_exact(NR)) {
        let bk: &[f32; NR] = bk.try_into().expect("panel row");
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = a.at(i + r, kk);
            for (x, &bv) in acc_r.iter_mut().zip(bk) {
                *x += av * bv;
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        c[r * m + j0..][..w].copy_from_slice(&acc_r[..w]);
    }
}

/// Output rows `i0..i0 + c.len() / m` of `A · B` into `c`, `B` packed by [`pack`] with `NR`.
#[inline(always)]
fn rows<const MR: usize, const NR: usize>(
    a: View,
    packed: &[f32],
    c: &mut [f32],
    i0: usize,
    (k, m): (usize, usize),
    kc: usize,
) {
    let n = c.len() / m;
    let mut k0 = 0;
    while k0 < k {
        let k1 = (k0 + kc).min(k);
        for (p, panel) in packed.chunks_exact(k * NR).enumerate() {
            let (j0, w) = (p * NR, NR.min(m - p * NR));
            let mut i = 0;
            while i + MR <= n {
                tile::<MR, NR>(a, panel, &mut c[i * m..], m, i0 + i, j0, w, (k0, k1));
                i += MR;
            }
            while i < n {
                tile::<1, NR>(a, panel, &mut c[i * m..], m, i0 + i, j0, w, (k0, k1));
                i += 1;
            }
        }
        k0 = k1;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn rows_avx512(a: View, p: &[f32], c: &mut [f32], i0: usize, km: (usize, usize), kc: usize) {
    rows::<4, 32>(a, p, c, i0, km, kc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn rows_avx2(a: View, p: &[f32], c: &mut [f32], i0: usize, km: (usize, usize), kc: usize) {
    rows::<4, 16>(a, p, c, i0, km, kc)
}

/// Panel width of a level's kernel.
fn panel_width(level: Simd) -> usize {
    match level {
        Simd::Baseline => 8,
        Simd::Avx2 => 16,
        Simd::Avx512 => 32,
    }
}

fn rows_at(
    level: Simd,
    a: View,
    p: &[f32],
    c: &mut [f32],
    i0: usize,
    km: (usize, usize),
    kc: usize,
) {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `simd_level` never returns a level above the one the CPU reports.
        Simd::Avx512 => unsafe { rows_avx512(a, p, c, i0, km, kc) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Simd::Avx2 => unsafe { rows_avx2(a, p, c, i0, km, kc) },
        _ => rows::<4, 8>(a, p, c, i0, km, kc),
    }
}

/// `A · B` for views `A` (`n × k`) and `B` (`k × m`): a row-major `n × m` result.
fn product(a: View, b: View, (n, k, m): (usize, usize, usize)) -> CResult<Vec<f32>> {
    let level = simd_level()?;
    let mut c = vec![0f32; n * m];
    if n == 0 || m == 0 {
        return Ok(c);
    }
    let packed = pack(b, k, m, panel_width(level));
    let block = |v: &AtomicUsize, default: usize| match v.load(Ordering::SeqCst) {
        0 => default,
        x => x,
    };
    let (mc, kc) = (
        block(&ROW_BLOCK, DEFAULT_ROW_BLOCK),
        block(&DEPTH_BLOCK, DEFAULT_DEPTH_BLOCK),
    );
    let run = |(t, c): (usize, &mut [f32])| rows_at(level, a, &packed, c, t * mc, (k, m), kc);
    if n * k * m < PAR_MIN {
        c.chunks_mut(mc * m).enumerate().for_each(run);
    } else {
        c.par_chunks_mut(mc * m).enumerate().for_each(run);
    }
    Ok(c)
}

/// `A · B`: `a` row-major `n × k`, `b` row-major `k × m`.
pub fn matmul(a: &[f32], b: &[f32], n: usize, k: usize, m: usize) -> CResult<Vec<f32>> {
    check(a.len() == n * k && b.len() == k * m)?;
    product(
        View {
            data: a,
            rs: k,
            cs: 1,
        },
        View {
            data: b,
            rs: m,
            cs: 1,
        },
        (n, k, m),
    )
}

/// `A · Bᵀ`: `a` row-major `n × m`, `b` row-major `k × m`; an `n × k` result.
pub fn matmul_bt(a: &[f32], b: &[f32], n: usize, m: usize, k: usize) -> CResult<Vec<f32>> {
    check(a.len() == n * m && b.len() == k * m)?;
    product(
        View {
            data: a,
            rs: m,
            cs: 1,
        },
        View {
            data: b,
            rs: 1,
            cs: m,
        },
        (n, m, k),
    )
}

/// `Aᵀ · B`: `a` row-major `n × k`, `b` row-major `n × m`; a `k × m` result.
pub fn matmul_at(a: &[f32], b: &[f32], n: usize, k: usize, m: usize) -> CResult<Vec<f32>> {
    check(a.len() == n * k && b.len() == n * m)?;
    product(
        View {
            data: a,
            rs: 1,
            cs: k,
        },
        View {
            data: b,
            rs: m,
            cs: 1,
        },
        (k, n, m),
    )
}

fn check(ok: bool) -> CResult<()> {
    if ok {
        Ok(())
    } else {
        Err(err("toy matmul: operand sizes do not match"))
    }
}

/// `a · b` of `(N, K)` and `(K, M)` tensors, as a candle op whose backward pass uses the same
/// products (`dA = dC · Bᵀ`, `dB = Aᵀ · dC`).
pub fn mm(a: &Tensor, b: &Tensor) -> CResult<Tensor> {
    a.contiguous()?.apply_op2(&b.contiguous()?, MatMul)
}

struct MatMul;

impl CustomOp2 for MatMul {
    fn name(&self) -> &'static str {
        "toy-matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        let ((n, k), (k2, m)) = (l1.shape().dims2()?, l2.shape().dims2()?);
        if k != k2 {
            return Err(err(format!("toy matmul: ({n}, {k}) · ({k2}, {m})")));
        }
        let (a, b) = (super::ops::slice(s1, l1)?, super::ops::slice(s2, l2)?);
        Ok((CpuStorage::F32(matmul(a, b, n, k, m)?), Shape::from((n, m))))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _c: &Tensor,
        dc: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let ((n, k), m) = (a.dims2()?, b.dims2()?.1);
        let (da, db) = super::ops::with_data(a, |a| {
            super::ops::with_data(b, |b| {
                super::ops::with_data(dc, |dc| {
                    Ok::<_, candle_core::Error>((
                        matmul_bt(dc, b, n, m, k)?,
                        matmul_at(a, dc, n, k, m)?,
                    ))
                })
            })
        })????;
        Ok((
            Some(Tensor::from_vec(da, (n, k), a.device())?),
            Some(Tensor::from_vec(db, (k, m), b.device())?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product written as the definition: one accumulator per element, `k` ascending.
    fn reference(a: &[f32], b: &[f32], n: usize, k: usize, m: usize) -> Vec<f32> {
        let mut c = vec![0f32; n * m];
        for i in 0..n {
            for j in 0..m {
                let mut acc = 0f32;
                for kk in 0..k {
                    acc += a[i * k + kk] * b[kk * m + j];
                }
                c[i * m + j] = acc;
            }
        }
        c
    }

    fn transpose(x: &[f32], r: usize, c: usize) -> Vec<f32> {
        (0..c * r).map(|t| x[(t % r) * c + t / r]).collect()
    }

    #[test]
    fn every_level_and_block_size_gives_the_definitions_bits() {
        let mut rng = crate::rng::Rng::new(3);
        let mut draw = |len: usize| -> Vec<f32> {
            (0..len)
                .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
                .collect()
        };
        for &(n, k, m) in &[(1, 1, 1), (7, 13, 37), (70, 129, 33), (5, 600, 70)] {
            let (a, b) = (draw(n * k), draw(k * m));
            let want = reference(&a, &b, n, k, m);
            let dc = draw(n * m);
            let want_bt = reference(&dc, &transpose(&b, k, m), n, m, k);
            let want_at = reference(&transpose(&a, n, k), &dc, k, n, m);
            for level in Simd::ALL {
                for (rows, depth) in [(0, 0), (1, 1), (3, 5), (64, 2048)] {
                    set_simd_cap(Some(level));
                    set_blocks(rows, depth);
                    let what = format!("{n}×{k}×{m} at {level:?}, blocks {rows}/{depth}");
                    assert_eq!(matmul(&a, &b, n, k, m).unwrap(), want, "{what}");
                    assert_eq!(matmul_bt(&dc, &b, n, m, k).unwrap(), want_bt, "{what}");
                    assert_eq!(matmul_at(&a, &dc, n, k, m).unwrap(), want_at, "{what}");
                }
            }
        }
        set_simd_cap(None);
        set_blocks(0, 0);
    }

    #[test]
    fn simd_levels_parse() {
        assert_eq!(Simd::parse("AVX2"), Some(Simd::Avx2));
        assert_eq!(Simd::parse("sse2"), Some(Simd::Baseline));
        assert_eq!(Simd::parse("avx512"), Some(Simd::Avx512));
        assert_eq!(Simd::parse("fast"), None);
    }
}
