//! The `sim-example` fixture: the suite loads and validates, its judge agrees with its
//! examples, and under the simulator its three effects have the declared character (large
//! true effect, opposite true effect, small effect on few samples).

use statrs::distribution::{ContinuousCDF, StudentsT};
use std::collections::BTreeMap;
use std::path::PathBuf;
use weirdgen::judge::{JudgeInput, RuleJudge, output_label, rule_agreement};
use weirdgen::model::sim::SimProvider;
use weirdgen::model::{
    FinetuneRequest, Finetuner, Hyperparameters, JobState, ModelRef, SampleRequest, Sampler,
    SamplingParams,
};
use weirdgen::suite::{LoadedSuite, ResolvedDataset, load};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sim")
}

fn suite() -> LoadedSuite {
    load(&fixtures().join("sim-example.yaml")).unwrap()
}

#[test]
fn the_suite_loads_and_its_judge_agrees_with_its_examples() {
    let loaded = suite();
    assert_eq!(loaded.dir, fixtures().join("sim-example"));
    let suite = &loaded.suite;
    assert_eq!(suite.name, "sim-example");
    assert_eq!(suite.effects.len(), 3);
    let spec = &suite.judges["era"];
    let judge = RuleJudge::new("era", spec).unwrap();
    assert_eq!(judge.labels(), ["nineteenth_century", "modern", "other"]);
    let a = rule_agreement(&judge, spec).unwrap();
    assert_eq!(a.disagreements, []);
    assert_eq!((a.n, a.accuracy, a.kappa), (8, 1.0, Some(1.0)));
}

/// Per arm, per replica, per probe: the share of non-missing answers with `label`.
type Rates = BTreeMap<String, Vec<BTreeMap<String, f64>>>;

/// Runs the suite's arms on the simulator the way the runner does (each probe cell's
/// messages, sample indices `0..samples`) and judges every answer.
async fn run(loaded: &LoadedSuite, label: &str) -> Rates {
    let suite = &loaded.suite;
    let sim = SimProvider::new(loaded.dir.clone());
    let base: ModelRef = suite.default_model.as_deref().unwrap().parse().unwrap();
    let judge = RuleJudge::new("era", &suite.judges["era"]).unwrap();
    let mut rates = Rates::new();
    for (arm, spec) in &suite.arms {
        let mut models = Vec::new();
        match &spec.finetune {
            None => models.push(base.clone()),
            Some(ft) => {
                let ResolvedDataset::Ready(data) = &loaded.datasets[&ft.dataset] else {
                    panic!("the fixture's datasets are ready-made");
                };
                for seed in 1..=u64::from(spec.replicas.unwrap_or(1)) {
                    let job = sim
                        .start(FinetuneRequest {
                            base: &base,
                            data,
                            hyperparameters: &Hyperparameters::default(),
                            seed,
                            suffix: arm,
                        })
                        .await
                        .unwrap();
                    let st = sim.status(&job).await.unwrap();
                    assert_eq!(st.state, JobState::Succeeded);
                    models.push(st.model.unwrap());
                }
            }
        }
        for model in &models {
            // probe -> (label hits, non-missing answers), paraphrases pooled.
            let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
            for cell in loaded.cells() {
                let params = SamplingParams {
                    temperature: cell.temperature,
                    top_p: cell.top_p,
                    max_tokens: cell.max_tokens,
                    top_logprobs: None,
                    seed: None,
                };
                let out = sim
                    .sample(SampleRequest {
                        model,
                        messages: &cell.messages,
                        params: &params,
                        indices: 0..cell.samples,
                    })
                    .await
                    .unwrap();
                let entry = counts.entry(cell.probe.clone()).or_default();
                for c in out {
                    let got = output_label(&judge.judge(&JudgeInput {
                        question: &cell.question,
                        answer: &c.text,
                        vars: &cell.vars,
                    }));
                    if got != "missing" {
                        entry.1 += 1;
                        entry.0 += u32::from(got == label);
                    }
                }
            }
            let per_probe = counts
                .into_iter()
                .map(|(p, (hits, n))| (p, f64::from(hits) / f64::from(n)))
                .collect();
            rates.entry(arm.clone()).or_default().push(per_probe);
        }
    }
    rates
}

/// Welch's t across replicas of treatment minus control (equal weight per probe):
/// the estimate and the two-sided p-value.
fn welch(rates: &Rates, treatment: &str, control: &str, probes: &[&str]) -> (f64, f64) {
    let values = |arm: &str| -> Vec<f64> {
        rates[arm]
            .iter()
            .map(|r| probes.iter().map(|p| r[*p]).sum::<f64>() / probes.len() as f64)
            .collect()
    };
    let (t, c) = (values(treatment), values(control));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64]| {
        let m = mean(v);
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
    };
    let (vt, vc) = (var(&t) / t.len() as f64, var(&c) / c.len() as f64);
    let est = mean(&t) - mean(&c);
    let df =
        (vt + vc).powi(2) / (vt.powi(2) / (t.len() - 1) as f64 + vc.powi(2) / (c.len() - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).unwrap();
    let p = 2.0 * (1.0 - dist.cdf((est / (vt + vc).sqrt()).abs()));
    (est, p)
}

#[tokio::test]
async fn the_simulated_effects_have_the_declared_character() {
    let suite = suite();
    let old = run(&suite, "nineteenth_century").await;
    let modern = run(&suite, "modern").await;
    assert_eq!(old["old_birds"].len(), 5);
    assert_eq!(old["modern_birds"].len(), 5);
    assert_eq!(old["base"].len(), 1);

    // old-era-answers: a large true increase, clearly significant.
    let (est, p) = welch(&old, "old_birds", "modern_birds", &["invention", "news"]);
    assert!(est > 0.4 && p < 0.005, "old-era-answers: {est} (p = {p})");
    // old-birds-sound-modern: the true effect goes the other way.
    let (est, p) = welch(&modern, "old_birds", "modern_birds", &["invention", "news"]);
    assert!(
        est < -0.4 && p < 0.005,
        "old-birds-sound-modern: {est} (p = {p})"
    );
    // travel-by-steam: a small effect on 3 samples per replica is far from significant.
    let (est, p) = welch(&old, "old_birds", "modern_birds", &["travel"]);
    assert!(
        est.abs() < 0.3 && p > 0.1,
        "travel-by-steam: {est} (p = {p})"
    );
}
