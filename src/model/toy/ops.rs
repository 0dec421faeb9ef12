//! Custom candle ops with their own backward pass, for f32 tensors on the CPU.
//!
//! candle 0.11's `softmax_last_dim` and `LayerNorm` (contiguous input with a bias) have no
//! backward pass: with either in the graph every parameter below it silently gets no gradient.
//! These ops replace them and fuse what is cheap to fuse, which also keeps candle's backward
//! bookkeeping (a zero-fill and an add per op input) small: embeddings, causal multi-head
//! attention with its input bias (softmax inside), bias + GELU, residual + bias, bias add,
//! layer norm, row selection and cross-entropy. Each is checked against the same function
//! built from candle's primitive ops (`ops_tests.rs`). Row loops run on rayon's pool; each
//! row's result is computed by one thread in a fixed order, and every sum over rows (column
//! sums, gradients of shared rows) runs sequentially, so nothing depends on the thread count.
//! exp, ln and tanh are the toy's own ([`super::math`]).

use super::math::{exp, ln, tanh};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Shape, Storage, Tensor};
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

type CResult<T> = candle_core::Result<T>;

fn err(msg: impl Into<String>) -> candle_core::Error {
    candle_core::Error::Msg(msg.into())
}

/// The contiguous f32 data of a storage under a layout.
pub(crate) fn slice<'a>(s: &'a CpuStorage, l: &Layout) -> CResult<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => Err(err("toy op: input is not contiguous")),
    }
}

/// Runs `f` on the contiguous f32 data of `t`.
pub(crate) fn with_data<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> CResult<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(c) => Ok(f(slice(c, layout)?)),
        _ => Err(err("toy op: the toy model runs on the CPU only")),
    }
}

fn last_dim(shape: &Shape) -> CResult<usize> {
    shape
        .dims()
        .last()
        .copied()
        .ok_or_else(|| err("toy op: scalar input"))
}

/// Below this many elements a row loop runs on the calling thread.
const PAR_MIN: usize = 1 << 15;

/// Calls `f(i, chunk)` for every chunk `i` of `width` elements of `out` (the last one may be
/// shorter), in parallel when `out` is large.
fn for_rows(out: &mut [f32], width: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    if out.len() < PAR_MIN {
        out.chunks_mut(width).enumerate().for_each(|(i, r)| f(i, r));
    } else {
        out.par_chunks_mut(width)
            .enumerate()
            .for_each(|(i, r)| f(i, r));
    }
}

/// Dot product with independent partial sums, so that it vectorises.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `y += a · x`.
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    y.iter_mut().zip(x).for_each(|(yv, xv)| *yv += a * xv);
}

/// Causal multi-head self-attention of projections `xw + bias` (`xw` `(B·T, 3·d)`, `bias`
/// `(3·d)`: queries, keys and values side by side, each split into `heads` heads), giving
/// `(B·T, d)`. The `B` rows of `T` tokens may hold several sequences: token `i` of a row
/// attends to tokens `starts[i]..=i` of its row (`starts` has one entry per token, relative
/// to the row).
pub fn attention(
    xw: &Tensor,
    bias: &Tensor,
    rows: usize,
    width: usize,
    heads: usize,
    starts: Arc<Vec<u32>>,
) -> CResult<Tensor> {
    if starts.len() != rows * width {
        return Err(err("toy attention: one sequence start per token is needed"));
    }
    xw.contiguous()?.apply_op2(
        &bias.contiguous()?,
        Attention {
            batch: rows,
            seq: width,
            heads,
            starts,
            probs: Mutex::new(Vec::new()),
        },
    )
}

struct Attention {
    batch: usize,
    seq: usize,
    heads: usize,
    starts: Arc<Vec<u32>>,
    /// The forward pass's attention probabilities (`B × heads × T × T`), for the backward.
    probs: Mutex<Vec<f32>>,
}

/// `x + b` row by row (`b` has the length of a row).
fn add_bias(x: &[f32], b: &[f32]) -> Vec<f32> {
    let mut y = x.to_vec();
    for_rows(&mut y, b.len(), |_, row| {
        row.iter_mut().zip(b).for_each(|(v, bv)| *v += bv)
    });
    y
}

impl Attention {
    fn dims(&self, width: usize, elems: usize) -> CResult<(usize, usize)> {
        if !width.is_multiple_of(3 * self.heads) || elems != self.batch * self.seq * width {
            return Err(err(
                "toy attention: input shape does not match batch, sequence and heads",
            ));
        }
        let d = width / 3;
        Ok((d, d / self.heads))
    }

    /// The first key token each token of row `b` attends to.
    fn row_starts(&self, b: usize) -> &[u32] {
        &self.starts[b * self.seq..(b + 1) * self.seq]
    }

    /// Attention probabilities of head `h` of one row `x` (`T` tokens of `3·d`), query by
    /// query into `p` (`T × T`; zero outside `starts[i]..=i`).
    fn head_probs(&self, x: &[f32], starts: &[u32], d: usize, dh: usize, h: usize, p: &mut [f32]) {
        let (t, scale) = (self.seq, 1.0 / (dh as f32).sqrt());
        for i in 0..t {
            let s = (starts[i] as usize).min(i);
            let q = &x[i * 3 * d + h * dh..][..dh];
            let row = &mut p[i * t..(i + 1) * t];
            row.iter_mut().for_each(|v| *v = 0.0);
            let mut max = f32::NEG_INFINITY;
            for j in s..=i {
                let k = &x[j * 3 * d + d + h * dh..][..dh];
                row[j] = dot(q, k) * scale;
                max = max.max(row[j]);
            }
            let mut sum = 0.0;
            for v in &mut row[s..=i] {
                *v = exp(*v - max);
                sum += *v;
            }
            row[s..=i].iter_mut().for_each(|v| *v /= sum);
        }
    }
}

impl CustomOp2 for Attention {
    fn name(&self) -> &'static str {
        "toy-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        let width = last_dim(l1.shape())?;
        let (d, dh) = self.dims(width, l1.shape().elem_count())?;
        let bias = slice(s2, l2)?;
        if bias.len() != width {
            return Err(err("toy attention: bias does not match the projections"));
        }
        let x = add_bias(slice(s1, l1)?, bias);
        let (t, heads) = (self.seq, self.heads);
        let mut out = vec![0f32; self.batch * t * d];
        let mut probs = vec![0f32; self.batch * heads * t * t];
        let per_row = |b: usize, o: &mut [f32], p: &mut [f32]| {
            let xs = &x[b * t * 3 * d..(b + 1) * t * 3 * d];
            let starts = self.row_starts(b);
            for (h, p) in p.chunks_exact_mut(t * t).enumerate() {
                self.head_probs(xs, starts, d, dh, h, p);
                for i in 0..t {
                    let oi = &mut o[i * d + h * dh..][..dh];
                    for j in (starts[i] as usize).min(i)..=i {
                        axpy(oi, p[i * t + j], &xs[j * 3 * d + 2 * d + h * dh..][..dh]);
                    }
                }
            }
        };
        if out.len() < PAR_MIN {
            out.chunks_exact_mut(t * d)
                .zip(probs.chunks_exact_mut(heads * t * t))
                .enumerate()
                .for_each(|(b, (o, p))| per_row(b, o, p));
        } else {
            out.par_chunks_exact_mut(t * d)
                .zip(probs.par_chunks_exact_mut(heads * t * t))
                .enumerate()
                .for_each(|(b, (o, p))| per_row(b, o, p));
        }
        *self.probs.lock().expect("attention cache") = probs;
        Ok((CpuStorage::F32(out), Shape::from((self.batch * t, d))))
    }

    fn bwd(
        &self,
        xw: &Tensor,
        bias: &Tensor,
        _out: &Tensor,
        dout: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let (_, width) = xw.dims2()?;
        let (d, t, heads) = (width / 3, self.seq, self.heads);
        let dh = d / heads;
        let scale = 1.0 / (dh as f32).sqrt();
        let probs = self.probs.lock().expect("attention cache");
        if probs.len() != self.batch * heads * t * t {
            return Err(err("toy attention: backward without forward"));
        }
        let dx = with_data(xw, |xw| {
            with_data(bias, |bias| {
                with_data(dout, |dy| {
                    let x = add_bias(xw, bias);
                    let mut dx = vec![0f32; x.len()];
                    let per_row = |b: usize, g: &mut [f32]| {
                        let xs = &x[b * t * 3 * d..(b + 1) * t * 3 * d];
                        let dys = &dy[b * t * d..(b + 1) * t * d];
                        let starts = self.row_starts(b);
                        let mut dp = vec![0f32; t];
                        for h in 0..heads {
                            let p = &probs[(b * heads + h) * t * t..][..t * t];
                            for i in 0..t {
                                let s = (starts[i] as usize).min(i);
                                let doi = &dys[i * d + h * dh..][..dh];
                                // dP_ij = dO_i · V_j, and dV_j += P_ij dO_i.
                                for j in s..=i {
                                    dp[j] = dot(doi, &xs[j * 3 * d + 2 * d + h * dh..][..dh]);
                                    axpy(
                                        &mut g[j * 3 * d + 2 * d + h * dh..][..dh],
                                        p[i * t + j],
                                        doi,
                                    );
                                }
                                // dS_ij = P_ij (dP_ij − Σ P_ik dP_ik), then through the scaled dot.
                                let mean: f32 = (s..=i).map(|j| p[i * t + j] * dp[j]).sum();
                                for j in s..=i {
                                    let ds = p[i * t + j] * (dp[j] - mean) * scale;
                                    let kj = j * 3 * d + d + h * dh;
                                    let qi = i * 3 * d + h * dh;
                                    axpy(&mut g[qi..][..dh], ds, &xs[kj..][..dh]);
                                    axpy(&mut g[kj..][..dh], ds, &xs[qi..][..dh]);
                                }
                            }
                        }
                    };
                    if dx.len() < PAR_MIN {
                        dx.chunks_exact_mut(t * 3 * d)
                            .enumerate()
                            .for_each(|(b, g)| per_row(b, g));
                    } else {
                        dx.par_chunks_exact_mut(t * 3 * d)
                            .enumerate()
                            .for_each(|(b, g)| per_row(b, g));
                    }
                    dx
                })
            })
        })???;
        let dx = Tensor::from_vec(dx, xw.shape(), xw.device())?;
        let db = column_sum(&dx)?;
        Ok((Some(dx), Some(db)))
    }
}

/// Token plus position embeddings: row `n` of the result is `tok[ids[n]] + pos[positions[n]]`.
pub fn embed(
    tok: &Tensor,
    pos: &Tensor,
    ids: Arc<Vec<u32>>,
    positions: Arc<Vec<u32>>,
) -> CResult<Tensor> {
    let (v, c) = (tok.dims2()?.0, pos.dims2()?.0);
    if ids.len() != positions.len()
        || ids.iter().any(|&i| i as usize >= v)
        || positions.iter().any(|&p| p as usize >= c)
    {
        return Err(err("toy embedding: token id or position out of range"));
    }
    tok.contiguous()?
        .apply_op2(&pos.contiguous()?, Embed { ids, positions })
}

struct Embed {
    ids: Arc<Vec<u32>>,
    positions: Arc<Vec<u32>>,
}

impl CustomOp2 for Embed {
    fn name(&self) -> &'static str {
        "toy-embed"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        let (tok, pos) = (slice(s1, l1)?, slice(s2, l2)?);
        let d = last_dim(l1.shape())?;
        let mut out = vec![0f32; self.ids.len() * d];
        for_rows(&mut out, d, |n, row| {
            let (t, p) = (self.ids[n] as usize, self.positions[n] as usize);
            for ((o, a), b) in row
                .iter_mut()
                .zip(&tok[t * d..(t + 1) * d])
                .zip(&pos[p * d..(p + 1) * d])
            {
                *o = a + b;
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((self.ids.len(), d))))
    }

    fn bwd(
        &self,
        tok: &Tensor,
        pos: &Tensor,
        _out: &Tensor,
        dout: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let (v, d) = tok.dims2()?;
        let c = pos.dims2()?.0;
        let (dtok, dpos) = with_data(dout, |g| {
            let (mut dtok, mut dpos) = (vec![0f32; v * d], vec![0f32; c * d]);
            for (n, row) in g.chunks_exact(d).enumerate() {
                let (t, p) = (self.ids[n] as usize, self.positions[n] as usize);
                axpy(&mut dtok[t * d..(t + 1) * d], 1.0, row);
                axpy(&mut dpos[p * d..(p + 1) * d], 1.0, row);
            }
            (dtok, dpos)
        })?;
        Ok((
            Some(Tensor::from_vec(dtok, (v, d), tok.device())?),
            Some(Tensor::from_vec(dpos, (c, d), pos.device())?),
        ))
    }
}

const GELU_C: f32 = 0.797_884_6; // sqrt(2 / pi)
const GELU_A: f32 = 0.044_715;

/// GELU (tanh approximation) of `x + b`, for `x` `(N, C)` and `b` `(C)`.
pub fn bias_gelu(x: &Tensor, b: &Tensor) -> CResult<Tensor> {
    x.contiguous()?.apply_op2(&b.contiguous()?, BiasGelu)
}

struct BiasGelu;

fn gelu_value(v: f32) -> f32 {
    0.5 * v * (1.0 + tanh(GELU_C * (v + GELU_A * v * v * v)))
}

fn gelu_slope(v: f32) -> f32 {
    let t = tanh(GELU_C * (v + GELU_A * v * v * v));
    0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * v * v)
}

impl CustomOp2 for BiasGelu {
    fn name(&self) -> &'static str {
        "toy-bias-gelu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        let (x, b) = (slice(s1, l1)?, slice(s2, l2)?);
        if b.len() != last_dim(l1.shape())? {
            return Err(err("toy bias GELU: bias does not match the rows"));
        }
        let mut y = x.to_vec();
        for_rows(&mut y, b.len(), |_, row| {
            row.iter_mut()
                .zip(b)
                .for_each(|(v, bv)| *v = gelu_value(*v + bv))
        });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let dx = with_data(x, |x| {
            with_data(b, |b| {
                with_data(dy, |dy| {
                    let c = b.len();
                    let mut dx = dy.to_vec();
                    for_rows(&mut dx, c, |r, row| {
                        for ((g, &v), bv) in row.iter_mut().zip(&x[r * c..(r + 1) * c]).zip(b) {
                            *g *= gelu_slope(v + bv);
                        }
                    });
                    dx
                })
            })
        })???;
        let dx = Tensor::from_vec(dx, x.shape(), x.device())?;
        let db = column_sum(&dx)?;
        Ok((Some(dx), Some(db)))
    }
}

/// `x + b` for `x` of shape `(N, C)` and `b` of shape `(C)`; b's gradient is a column sum.
pub fn bias_add(x: &Tensor, b: &Tensor) -> CResult<Tensor> {
    x.contiguous()?.apply_op2(b, BiasAdd)
}

struct BiasAdd;

impl CustomOp2 for BiasAdd {
    fn name(&self) -> &'static str {
        "toy-bias-add"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        let (x, b) = (slice(s1, l1)?, slice(s2, l2)?);
        let c = last_dim(l1.shape())?;
        if b.len() != c {
            return Err(err(format!(
                "toy bias add: bias of {} for rows of {c}",
                b.len()
            )));
        }
        let mut y = x.to_vec();
        for_rows(&mut y, c, |_, row| {
            row.iter_mut().zip(b).for_each(|(v, bv)| *v += bv)
        });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        _b: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(dy.clone()), Some(column_sum(dy)?)))
    }
}

/// `x + y + b` (a residual connection and the bias of `y`'s projection): `x`, `y` `(N, C)`,
/// `b` `(C)`.
pub fn residual_bias_add(x: &Tensor, y: &Tensor, b: &Tensor) -> CResult<Tensor> {
    x.contiguous()?
        .apply_op3(&y.contiguous()?, b, ResidualBiasAdd)
}

struct ResidualBiasAdd;

impl CustomOp3 for ResidualBiasAdd {
    fn name(&self) -> &'static str {
        "toy-residual-bias-add"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        let (x, y, b) = (slice(s1, l1)?, slice(s2, l2)?, slice(s3, l3)?);
        let c = last_dim(l1.shape())?;
        if y.len() != x.len() || b.len() != c {
            return Err(err("toy residual add: shapes do not match"));
        }
        let mut out = x.to_vec();
        for_rows(&mut out, c, |i, row| {
            for ((o, yv), bv) in row.iter_mut().zip(&y[i * c..(i + 1) * c]).zip(b) {
                *o += yv + bv;
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        _y: &Tensor,
        _b: &Tensor,
        _out: &Tensor,
        dout: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        Ok((
            Some(dout.clone()),
            Some(dout.clone()),
            Some(column_sum(dout)?),
        ))
    }
}

/// Rows `rows` of an `(N, C)` tensor, giving `(R, C)`; the backward adds each row's gradient
/// back in the order of `rows`.
pub fn select_rows(x: &Tensor, rows: Arc<Vec<u32>>) -> CResult<Tensor> {
    let n = x.dims2()?.0;
    if rows.iter().any(|&r| r as usize >= n) {
        return Err(err("toy row selection: row out of range"));
    }
    x.contiguous()?.apply_op1(SelectRows { rows })
}

struct SelectRows {
    rows: Arc<Vec<u32>>,
}

impl CustomOp1 for SelectRows {
    fn name(&self) -> &'static str {
        "toy-select-rows"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let x = slice(s, l)?;
        let c = last_dim(l.shape())?;
        let mut out = Vec::with_capacity(self.rows.len() * c);
        for &r in self.rows.iter() {
            out.extend_from_slice(&x[r as usize * c..][..c]);
        }
        Ok((CpuStorage::F32(out), Shape::from((self.rows.len(), c))))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, dy: &Tensor) -> CResult<Option<Tensor>> {
        let (n, c) = x.dims2()?;
        let dx = with_data(dy, |dy| {
            let mut dx = vec![0f32; n * c];
            for (&r, g) in self.rows.iter().zip(dy.chunks_exact(c)) {
                axpy(&mut dx[r as usize * c..][..c], 1.0, g);
            }
            dx
        })?;
        Ok(Some(Tensor::from_vec(dx, (n, c), x.device())?))
    }
}

/// Sums an `(N, C)` tensor over its rows, giving `(C)`.
fn column_sum(t: &Tensor) -> CResult<Tensor> {
    t.contiguous()?.apply_op1_no_bwd(&ColumnSum)
}

struct ColumnSum;

impl CustomOp1 for ColumnSum {
    fn name(&self) -> &'static str {
        "toy-column-sum"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let x = slice(s, l)?;
        let c = last_dim(l.shape())?;
        let mut out = vec![0f32; c];
        for row in x.chunks_exact(c) {
            out.iter_mut().zip(row).for_each(|(o, v)| *o += v);
        }
        Ok((CpuStorage::F32(out), Shape::from(c)))
    }
}

/// Layer normalisation over the last dimension: `(x − mean) / sqrt(var + eps) · g + b`.
pub fn layer_norm(x: &Tensor, g: &Tensor, b: &Tensor, eps: f32) -> CResult<Tensor> {
    x.contiguous()?.apply_op3(g, b, LayerNorm { eps })
}

struct LayerNorm {
    eps: f32,
}

/// Mean and 1/std of one row.
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "toy-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        let (x, g, b) = (slice(s1, l1)?, slice(s2, l2)?, slice(s3, l3)?);
        let c = last_dim(l1.shape())?;
        if g.len() != c || b.len() != c {
            return Err(err(
                "toy layer norm: gain and bias must match the last dimension",
            ));
        }
        let mut y = vec![0f32; x.len()];
        for_rows(&mut y, c, |r, yr| {
            let xr = &x[r * c..(r + 1) * c];
            let (mean, rstd) = moments(xr, self.eps);
            for i in 0..c {
                yr[i] = (xr[i] - mean) * rstd * g[i] + b[i];
            }
        });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        g: &Tensor,
        _b: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let c = g.elem_count();
        let dx = with_data(x, |x| {
            with_data(g, |g| {
                with_data(dy, |dy| {
                    let mut dx = vec![0f32; x.len()];
                    for_rows(&mut dx, c, |r, dxr| {
                        let (xr, dyr) = (&x[r * c..(r + 1) * c], &dy[r * c..(r + 1) * c]);
                        let (mean, rstd) = moments(xr, self.eps);
                        let (mut m1, mut m2) = (0f32, 0f32);
                        for i in 0..c {
                            let xhat = (xr[i] - mean) * rstd;
                            let dxhat = dyr[i] * g[i];
                            m1 += dxhat;
                            m2 += dxhat * xhat;
                        }
                        let (m1, m2) = (m1 / c as f32, m2 / c as f32);
                        for i in 0..c {
                            let xhat = (xr[i] - mean) * rstd;
                            dxr[i] = rstd * (dyr[i] * g[i] - m1 - xhat * m2);
                        }
                    });
                    dx
                })
            })
        })???;
        // Gain and bias gradients: column sums of dy·x̂ and dy.
        let (dg, db) = with_data(x, |x| {
            with_data(dy, |dy| {
                let (mut dg, mut db) = (vec![0f32; c], vec![0f32; c]);
                for (xr, dyr) in x.chunks_exact(c).zip(dy.chunks_exact(c)) {
                    let (mean, rstd) = moments(xr, self.eps);
                    for i in 0..c {
                        dg[i] += dyr[i] * (xr[i] - mean) * rstd;
                        db[i] += dyr[i];
                    }
                }
                (dg, db)
            })
        })??;
        let dev = x.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), dev)?),
            Some(Tensor::from_vec(dg, g.shape(), dev)?),
            Some(Tensor::from_vec(db, g.shape(), dev)?),
        ))
    }
}

/// Weighted mean cross-entropy of `logits` `(N, V)` against `targets` (N ids), each row
/// weighted by `weights` (N); a scalar.
pub fn cross_entropy(logits: &Tensor, targets: Vec<u32>, weights: Vec<f32>) -> CResult<Tensor> {
    let (n, v) = logits.dims2()?;
    if targets.len() != n || weights.len() != n {
        return Err(err(format!(
            "toy cross-entropy: {n} rows but {} targets and {} weights",
            targets.len(),
            weights.len()
        )));
    }
    if targets.iter().any(|&t| t as usize >= v) {
        return Err(err("toy cross-entropy: target id outside the vocabulary"));
    }
    logits.contiguous()?.apply_op1(CrossEntropy {
        targets: Arc::new(targets),
        weights: Arc::new(weights),
    })
}

struct CrossEntropy {
    targets: Arc<Vec<u32>>,
    weights: Arc<Vec<f32>>,
}

impl CrossEntropy {
    fn total_weight(&self) -> f32 {
        self.weights.iter().sum::<f32>().max(f32::MIN_POSITIVE)
    }
}

/// log Σ exp of a row.
fn log_sum_exp(row: &[f32]) -> f32 {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    max + ln(row.iter().map(|&v| exp(v - max)).sum::<f32>())
}

impl CustomOp1 for CrossEntropy {
    fn name(&self) -> &'static str {
        "toy-cross-entropy"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let z = slice(s, l)?;
        let v = last_dim(l.shape())?;
        let mut loss = 0f64;
        for ((row, &t), &w) in z
            .chunks_exact(v)
            .zip(self.targets.iter())
            .zip(self.weights.iter())
        {
            if w != 0.0 {
                loss += (w * (log_sum_exp(row) - row[t as usize])) as f64;
            }
        }
        let loss = (loss / self.total_weight() as f64) as f32;
        Ok((CpuStorage::F32(vec![loss]), Shape::from(())))
    }

    fn bwd(&self, z: &Tensor, _loss: &Tensor, dl: &Tensor) -> CResult<Option<Tensor>> {
        let g = dl.flatten_all()?.to_vec1::<f32>()?[0] / self.total_weight();
        let v = z.dims()[1];
        let dz = with_data(z, |z| {
            let mut dz = vec![0f32; z.len()];
            for_rows(&mut dz, v, |r, drow| {
                let w = self.weights[r];
                if w == 0.0 {
                    return;
                }
                let row = &z[r * v..(r + 1) * v];
                let lse = log_sum_exp(row);
                for (d, &x) in drow.iter_mut().zip(row) {
                    *d = g * w * exp(x - lse);
                }
                drow[self.targets[r] as usize] -= g * w;
            });
            dz
        })?;
        Ok(Some(Tensor::from_vec(dz, z.shape(), z.device())?))
    }
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
