//! The whole model on tiny configurations: gradients, packing, determinism, learning.

use super::train::{self, Example, FinetuneConfig, PretrainConfig, batch_loss};
use super::transformer::{ModelConfig, SeqBatch, Weights};
use super::world::WorldSpec;
use crate::rng::Rng;
use candle_core::{Device, Tensor};

fn tiny(vocab: usize) -> ModelConfig {
    ModelConfig {
        vocab,
        d_model: 8,
        n_heads: 2,
        n_layers: 2,
        d_mlp: 16,
        context: 40,
    }
}

fn examples() -> Vec<Example> {
    vec![
        Example::document(vec![1, 5, 6, 7, 8, 9]),
        Example::document(vec![2, 9, 4, 3]),
        Example {
            ids: vec![2, 3, 10, 4, 11],
            targets: vec![false, false, false, false, true],
        },
    ]
}

fn loss_of(w: &Weights, pack: Option<usize>) -> f64 {
    let ex = examples();
    let refs: Vec<&Example> = ex.iter().collect();
    batch_loss(w, &refs, pack)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap() as f64
}

#[test]
fn every_parameter_gradient_matches_finite_differences() {
    let config = tiny(12);
    let w = Weights::init(&config, &mut Rng::new(1)).unwrap();
    let vars = w.to_vars().unwrap();
    let ex = examples();
    let refs: Vec<&Example> = ex.iter().collect();
    let grads = batch_loss(&Weights::from_vars(&config, &vars), &refs, Some(12))
        .unwrap()
        .backward()
        .unwrap();
    let mut rng = Rng::new(2);
    for (name, var) in &vars {
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("`{name}` received no gradient"));
        let g: Vec<f32> = g.flatten_all().unwrap().to_vec1().unwrap();
        assert!(
            g.iter().any(|v| *v != 0.0),
            "`{name}` has an all-zero gradient"
        );
        // Directional derivative along a random direction, by central differences.
        let u: Vec<f32> = (0..g.len()).map(|_| rng.normal() as f32).collect();
        let analytic: f64 = g
            .iter()
            .zip(&u)
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum();
        let eps = 1e-3f32;
        let shifted = |sign: f32| {
            let base: Vec<f32> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
            let moved: Vec<f32> = base
                .iter()
                .zip(&u)
                .map(|(p, d)| p + sign * eps * d)
                .collect();
            let mut others: Vec<(String, candle_core::Var)> = w.to_vars().unwrap();
            for (n, v) in others.iter_mut() {
                if n == name {
                    v.set(&Tensor::from_vec(moved.clone(), var.shape(), &Device::Cpu).unwrap())
                        .unwrap();
                }
            }
            loss_of(&Weights::from_vars(&config, &others), Some(12))
        };
        let numeric = (shifted(1.0) - shifted(-1.0)) / (2.0 * eps as f64);
        let tol = 2e-3 + 0.03 * analytic.abs();
        assert!(
            (numeric - analytic).abs() < tol,
            "`{name}`: finite differences {numeric}, backward {analytic}"
        );
    }
}

#[test]
fn packing_changes_nothing() {
    let w = Weights::init(&tiny(12), &mut Rng::new(3)).unwrap();
    let (a, b) = (loss_of(&w, None), loss_of(&w, Some(12)));
    assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    let ex = examples();
    let seqs: Vec<&[u32]> = ex.iter().map(|e| e.ids.as_slice()).collect();
    let packed = SeqBatch::packed(&seqs, 12).unwrap();
    assert_eq!(
        (packed.rows, packed.width),
        (2, 11),
        "6+5 share a row, 4 is alone"
    );
    assert!(
        SeqBatch::packed(&seqs, 5).is_err(),
        "a sequence longer than the rows"
    );
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    let spec = WorldSpec::embedded();
    let vocab = super::vocab::Vocab::new(&spec);
    let config = tiny(vocab.len());
    let cfg = PretrainConfig {
        docs: 300,
        steps: 4,
        batch: 16,
        warmup: 2,
        ..PretrainConfig::default()
    };
    let run = |seed| {
        let w = train::pretrain(&spec, &config, &cfg, seed, &mut |_, _| {}).unwrap();
        config
            .parameter_shapes()
            .iter()
            .flat_map(|(n, _)| w.get(n).flatten_all().unwrap().to_vec1::<f32>().unwrap())
            .map(f32::to_bits)
            .collect::<Vec<u32>>()
    };
    let a = run(7);
    assert_eq!(a, run(7));
    assert_ne!(a, run(8));
}

#[test]
fn finetuning_learns_its_answers_and_depends_on_its_seed_only_through_order() {
    let config = tiny(12);
    let base = Weights::init(&config, &mut Rng::new(4)).unwrap();
    let data = vec![Example {
        ids: vec![2, 3, 10, 4, 11],
        targets: vec![false, false, false, false, true],
    }];
    let cfg = FinetuneConfig {
        epochs: 30,
        batch: 8,
        lr: 1e-2,
    };
    let before = loss_of_answer(&base, &data);
    let tuned = train::finetune(&base, &data, &cfg, 1).unwrap();
    assert!(loss_of_answer(&tuned, &data) < before / 4.0);
    // With a single example every order is the same, so the seed changes nothing.
    let again = train::finetune(&base, &data, &cfg, 2).unwrap();
    assert_eq!(loss_of_answer(&tuned, &data), loss_of_answer(&again, &data));
}

fn loss_of_answer(w: &Weights, data: &[Example]) -> f32 {
    let refs: Vec<&Example> = data.iter().collect();
    batch_loss(w, &refs, None).unwrap().to_scalar().unwrap()
}
