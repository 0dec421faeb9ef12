//! Each custom op against the same function built from candle's primitive ops (which have
//! candle's own backward): values and gradients must agree.

use super::*;
use crate::rng::Rng;
use candle_core::{D, Device, Var};

fn random(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
    Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Runs `custom` and `reference` on the same inputs, contracts both outputs with the same
/// random tensor, and compares outputs and the gradients of every input.
fn check(
    inputs: &[Tensor],
    custom: impl Fn(&[Tensor]) -> Tensor,
    reference: impl Fn(&[Tensor]) -> Tensor,
    tol: f32,
) {
    let vars: Vec<Var> = inputs
        .iter()
        .map(|t| Var::from_tensor(t).unwrap())
        .collect();
    let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let (out_c, out_r) = (custom(&ts), reference(&ts));
    assert!(
        max_abs_diff(&out_c, &out_r) < tol,
        "outputs differ by {}",
        max_abs_diff(&out_c, &out_r)
    );
    let r = random(out_c.dims(), 99);
    let grads_c = (&out_c * &r)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let grads_r = (&out_r * &r)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    for (i, v) in vars.iter().enumerate() {
        let gc = grads_c
            .get(v)
            .unwrap_or_else(|| panic!("input {i} got no gradient from the custom op"));
        let gr = grads_r.get(v).expect("reference gradient");
        let scale = max_abs_diff(gr, &gr.zeros_like().unwrap()).max(1.0);
        let diff = max_abs_diff(gc, gr) / scale;
        assert!(diff < tol, "gradient of input {i} differs by {diff}");
    }
}

#[test]
fn attention_matches_primitive_ops() {
    let (b, t, h, dh) = (3, 5, 2, 4);
    let d = h * dh;
    let (qkv, bias) = (random(&[b * t, 3 * d], 1), random(&[3 * d], 31));
    let reference = |x: &[Tensor]| {
        let x = x[0]
            .broadcast_add(&x[1])
            .unwrap()
            .reshape((b, t, 3, h, dh))
            .unwrap()
            .permute((2, 0, 3, 1, 4))
            .unwrap();
        let (q, k, v) = (x.get(0).unwrap(), x.get(1).unwrap(), x.get(2).unwrap());
        let s = (q
            .contiguous()
            .unwrap()
            .matmul(&k.contiguous().unwrap().t().unwrap())
            .unwrap()
            / (dh as f64).sqrt())
        .unwrap();
        let mask: Vec<f32> = (0..t * t)
            .map(|i| if i % t > i / t { -1e4 } else { 0.0 })
            .collect();
        let mask = Tensor::from_vec(mask, (t, t), &Device::Cpu).unwrap();
        let s = s.broadcast_add(&mask).unwrap().exp().unwrap();
        let p = s.broadcast_div(&s.sum_keepdim(D::Minus1).unwrap()).unwrap();
        p.matmul(&v.contiguous().unwrap())
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .reshape((b * t, d))
            .unwrap()
    };
    check(
        &[qkv, bias],
        |x| attention(&x[0], &x[1], b, t, h, Arc::new(vec![0; b * t])).unwrap(),
        reference,
        1e-4,
    );
}

#[test]
fn attention_never_crosses_sequence_starts() {
    // Row 0 holds a sequence of 3 tokens then one of 2; row 1 one sequence of 5. Each
    // sequence's output must equal attention over that sequence alone.
    let (h, dh) = (2, 4);
    let d = h * dh;
    let (qkv, bias) = (random(&[10, 3 * d], 21), random(&[3 * d], 24));
    let starts = Arc::new(vec![0, 0, 0, 3, 3, 0, 0, 0, 0, 0]);
    let packed: Vec<Vec<f32>> = attention(&qkv, &bias, 2, 5, h, starts)
        .unwrap()
        .to_vec2()
        .unwrap();
    let alone = |from: usize, len: usize| -> Vec<Vec<f32>> {
        let part = qkv.narrow(0, from, len).unwrap();
        attention(&part, &bias, 1, len, h, Arc::new(vec![0; len]))
            .unwrap()
            .to_vec2()
            .unwrap()
    };
    let expected: Vec<Vec<f32>> = [alone(0, 3), alone(3, 2), alone(5, 5)].concat();
    for (a, b) in packed.iter().flatten().zip(expected.iter().flatten()) {
        assert!((a - b).abs() < 1e-6);
    }
}

#[test]
fn embedding_matches_primitive_ops() {
    let (tok, pos) = (random(&[7, 4], 22), random(&[5, 4], 23));
    let ids = vec![3u32, 0, 3, 6];
    let positions = vec![0u32, 1, 2, 0];
    let (ids_t, pos_t) = (
        Tensor::new(ids.as_slice(), &Device::Cpu).unwrap(),
        Tensor::new(positions.as_slice(), &Device::Cpu).unwrap(),
    );
    check(
        &[tok, pos],
        |t| {
            embed(
                &t[0],
                &t[1],
                Arc::new(ids.clone()),
                Arc::new(positions.clone()),
            )
            .unwrap()
        },
        |t| {
            (t[0].index_select(&ids_t, 0).unwrap() + t[1].index_select(&pos_t, 0).unwrap()).unwrap()
        },
        1e-6,
    );
}

/// GELU (tanh approximation) of `x + b` from primitive ops.
fn gelu_reference(t: &[Tensor]) -> Tensor {
    let x = &t[0].broadcast_add(&t[1]).unwrap();
    let inner =
        ((x + (x.powf(3.0).unwrap() * GELU_A as f64).unwrap()).unwrap() * GELU_C as f64).unwrap();
    ((x * 0.5).unwrap() * (inner.tanh().unwrap() + 1.0).unwrap()).unwrap()
}

#[test]
fn bias_gelu_matches_primitive_ops() {
    let (x, b) = (random(&[7, 9], 2), random(&[9], 25));
    check(
        &[x, b],
        |t| bias_gelu(&t[0], &t[1]).unwrap(),
        gelu_reference,
        1e-5,
    );
}

#[test]
fn layer_norm_matches_primitive_ops() {
    let (x, g, b) = (random(&[6, 8], 3), random(&[8], 4), random(&[8], 5));
    let reference = |t: &[Tensor]| {
        let x = &t[0];
        let centred = x
            .broadcast_sub(&x.mean_keepdim(D::Minus1).unwrap())
            .unwrap();
        let var = centred.sqr().unwrap().mean_keepdim(D::Minus1).unwrap();
        let xhat = centred
            .broadcast_div(&(var + 1e-5).unwrap().sqrt().unwrap())
            .unwrap();
        xhat.broadcast_mul(&t[1])
            .unwrap()
            .broadcast_add(&t[2])
            .unwrap()
    };
    check(
        &[x, g, b],
        |t| layer_norm(&t[0], &t[1], &t[2], 1e-5).unwrap(),
        reference,
        1e-4,
    );
}

#[test]
fn bias_and_residual_adds_match_primitive_ops() {
    let (x, y, b) = (random(&[5, 4], 6), random(&[5, 4], 7), random(&[4], 8));
    check(
        &[x.clone(), b.clone()],
        |t| bias_add(&t[0], &t[1]).unwrap(),
        |t| t[0].broadcast_add(&t[1]).unwrap(),
        1e-6,
    );
    check(
        &[x, y, b],
        |t| residual_bias_add(&t[0], &t[1], &t[2]).unwrap(),
        |t| (&t[0] + &t[1]).unwrap().broadcast_add(&t[2]).unwrap(),
        1e-6,
    );
}

#[test]
fn cross_entropy_matches_primitive_ops() {
    let z = random(&[4, 6], 9);
    let targets = vec![0u32, 5, 2, 2];
    let weights = vec![1.0f32, 0.0, 2.0, 0.5];
    let reference = |t: &[Tensor]| {
        let z = &t[0];
        let lse = z
            .exp()
            .unwrap()
            .sum_keepdim(D::Minus1)
            .unwrap()
            .log()
            .unwrap();
        let logp = z.broadcast_sub(&lse).unwrap();
        let onehot: Vec<f32> = (0..24)
            .map(|i| {
                if targets[i / 6] as usize == i % 6 {
                    weights[i / 6]
                } else {
                    0.0
                }
            })
            .collect();
        let onehot = Tensor::from_vec(onehot, (4, 6), &Device::Cpu).unwrap();
        ((logp * onehot).unwrap().sum_all().unwrap() * (-1.0 / 3.5)).unwrap()
    };
    check(
        &[z],
        |t| cross_entropy(&t[0], targets.clone(), weights.clone()).unwrap(),
        reference,
        1e-5,
    );
}

#[test]
fn large_inputs_take_the_parallel_path_and_agree() {
    // Above PAR_MIN elements the row loops run on rayon; results must not change.
    let x = random(&[300, 128], 10);
    let (g, b) = (random(&[128], 11), random(&[128], 12));
    check(
        &[x, g, b],
        |t| layer_norm(&t[0], &t[1], &t[2], 1e-5).unwrap(),
        |t| {
            let x = &t[0];
            let centred = x
                .broadcast_sub(&x.mean_keepdim(D::Minus1).unwrap())
                .unwrap();
            let var = centred.sqr().unwrap().mean_keepdim(D::Minus1).unwrap();
            let xhat = centred
                .broadcast_div(&(var + 1e-5).unwrap().sqrt().unwrap())
                .unwrap();
            xhat.broadcast_mul(&t[1])
                .unwrap()
                .broadcast_add(&t[2])
                .unwrap()
        },
        1e-3,
    );
    let (y, b) = (random(&[300, 200], 13), random(&[200], 14));
    check(
        &[y, b],
        |t| bias_gelu(&t[0], &t[1]).unwrap(),
        gelu_reference,
        1e-4,
    );
    // Attention over 128 rows of 16 tokens (above the parallel threshold) against the same
    // op on one row at a time.
    let (h, d) = (2, 16);
    let (qkv, bias) = (random(&[128 * 16, 3 * d], 15), random(&[3 * d], 16));
    let all: Vec<f32> = attention(&qkv, &bias, 128, 16, h, Arc::new(vec![0; 128 * 16]))
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    for r in [0, 77, 127] {
        let one: Vec<f32> = attention(
            &qkv.narrow(0, r * 16, 16).unwrap(),
            &bias,
            1,
            16,
            h,
            Arc::new(vec![0; 16]),
        )
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
        assert_eq!(one, all[r * 16 * d..(r + 1) * 16 * d]);
    }
}
