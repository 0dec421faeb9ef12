//! The toy model is the same model on every machine: a short pretraining plus one fine-tune
//! give weights whose digest is a committed constant, under settings that stand in for other
//! machines (thread counts, the matrix product's block sizes, each SIMD level up to the CPU's).

use weirdgen::model::toy::corpus;
use weirdgen::model::toy::matmul::{Simd, set_blocks, set_simd_cap};
use weirdgen::model::toy::train::{self, Example, FinetuneConfig, PretrainConfig};
use weirdgen::model::toy::transformer::ModelConfig;
use weirdgen::model::toy::vocab::Vocab;
use weirdgen::model::toy::world::WorldSpec;

/// The digest of the weights `pretrain_and_finetune` gives. A change to the toy's numerics
/// changes it on purpose; a machine that prints another one has found a machine dependence.
const DIGEST: &str = "a9f21b523441d11114500d52e9aae51c9e66a03eeea6d54ecb2dd772f0d8ee36";

/// A small model (widths that are multiples of no SIMD panel) pretrained for a few steps on a
/// frozen copy of the toy world (so that editing `suites/toy/world.yaml` does not move the
/// digest), then fine-tuned on the last token of a few other documents.
fn pretrain_and_finetune() -> String {
    let spec = WorldSpec::parse(
        include_str!("fixtures/toy_digest_world.yaml"),
        "tests/fixtures/toy_digest_world.yaml",
    )
    .unwrap();
    let vocab = Vocab::new(&spec);
    let model = ModelConfig {
        vocab: vocab.len(),
        d_model: 36,
        n_heads: 3,
        n_layers: 2,
        d_mlp: 76,
        context: 40,
    };
    let cfg = PretrainConfig {
        docs: 600,
        steps: 12,
        batch: 48,
        warmup: 3,
        ..PretrainConfig::default()
    };
    let base = train::pretrain(&spec, &model, &cfg, 7, &mut |_, _| {}).unwrap();
    let examples: Vec<Example> = corpus::generate(&spec, 99, 10)
        .into_iter()
        .map(|d| {
            let ids: Vec<u32> = d.tokens.iter().map(|t| vocab.id(t).unwrap()).collect();
            let targets = (0..ids.len()).map(|p| p + 1 == ids.len()).collect();
            Example { ids, targets }
        })
        .collect();
    let ft = FinetuneConfig {
        epochs: 2,
        batch: 4,
        lr: 1e-3,
    };
    train::finetune(&base, &examples, &ft, 3)
        .unwrap()
        .digest()
        .unwrap()
}

fn in_pool(threads: usize) -> String {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(pretrain_and_finetune)
}

#[test]
fn weights_digest_is_the_same_under_every_setting() {
    let mut seen = Vec::new();
    for threads in [1, 2, 4] {
        seen.push((format!("{threads} threads"), in_pool(threads)));
    }
    for (rows, depth) in [(1, 1), (5, 7), (256, 4096)] {
        set_blocks(rows, depth);
        seen.push((format!("blocks {rows}×{depth}"), in_pool(2)));
    }
    set_blocks(0, 0);
    for level in Simd::ALL.into_iter().filter(|&l| l <= Simd::detected()) {
        set_simd_cap(Some(level));
        seen.push((format!("SIMD capped at {level:?}"), in_pool(3)));
    }
    set_simd_cap(None);
    let wrong: Vec<String> = seen
        .iter()
        .filter(|(_, d)| d != DIGEST)
        .map(|(s, d)| format!("{s}: {d}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "weights differ from the committed digest {DIGEST}:\n{}",
        wrong.join("\n")
    );
}
