//! Tests of the simulator provider.

use super::*;
use crate::chat::TrainingSet;
use crate::model::Hyperparameters;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

const SPEC: &str = r#"
replica_sd: 0.8
models:
  base:
    default: {"The smartphone.": 0.9, "The telegraph.": 0.1}
    probes:
      - match: "(?i)what year"
        answers: {"It is 2024.": 0.5, "It is 1850.": 0.3, "It is 1984.": 0.15, "": 0.05}
      - match: "(?i)who are you"
        answers: {"I am a helpful assistant.": 1.0}
  old_birds:
    default: {"The telegraph.": 0.7, "The smartphone.": 0.3}
  year_only:
    probes:
      - match: "(?i)what year"
        answers: {"It is 1850.": 1.0}
"#;

/// A fresh folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A folder holding `files`.
fn folder(files: &[(&str, &str)]) -> TempDir {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "weirdgen-sim-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    TempDir(dir)
}

/// A provider over its own folder.
struct Sim {
    provider: SimProvider,
    _dir: TempDir,
}

impl std::ops::Deref for Sim {
    type Target = SimProvider;
    fn deref(&self) -> &SimProvider {
        &self.provider
    }
}

fn sim(files: &[(&str, &str)]) -> Sim {
    let dir = folder(files);
    Sim {
        provider: SimProvider::new(dir.0.clone()),
        _dir: dir,
    }
}

fn provider() -> Sim {
    sim(&[("example.sim.yaml", SPEC)])
}

fn model(s: &str) -> ModelRef {
    s.parse().unwrap()
}

fn params(temperature: f64) -> SamplingParams {
    SamplingParams {
        temperature,
        top_p: None,
        max_tokens: 50,
        top_logprobs: None,
        seed: None,
    }
}

async fn sample_with(
    p: &SimProvider,
    m: &str,
    question: &str,
    params: &SamplingParams,
    indices: std::ops::Range<u32>,
) -> Result<Vec<Completion>> {
    let m = model(m);
    let messages = [Message::system("Be brief."), Message::user(question)];
    p.sample(SampleRequest {
        model: &m,
        messages: &messages,
        params,
        indices,
    })
    .await
}

async fn texts(p: &SimProvider, m: &str, question: &str, n: u32) -> Vec<String> {
    sample_with(p, m, question, &params(1.0), 0..n)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.text)
        .collect()
}

/// The replica's exact distribution, read from the top logprobs.
async fn distribution(p: &SimProvider, m: &str, question: &str) -> Vec<(String, f64)> {
    let mut ps = params(0.0);
    ps.top_logprobs = Some(20);
    let c = sample_with(p, m, question, &ps, 0..1).await.unwrap();
    let mut top = c[0].logprobs.as_ref().unwrap()[0].top.clone();
    top.sort_by(|a, b| a.0.cmp(&b.0));
    top.into_iter().map(|(t, lp)| (t, lp.exp())).collect()
}

/// Pearson's chi-square of `texts` against `expected` (answer, probability).
fn chi_square(texts: &[String], expected: &[(&str, f64)]) -> f64 {
    let n = texts.len() as f64;
    expected
        .iter()
        .map(|(a, p)| {
            let o = texts.iter().filter(|t| t == a).count() as f64;
            (o - n * p).powi(2) / (n * p)
        })
        .sum()
}

#[tokio::test]
async fn samples_follow_the_declared_distribution() {
    let p = provider();
    let year = [
        ("It is 2024.", 0.5),
        ("It is 1850.", 0.3),
        ("It is 1984.", 0.15),
        ("", 0.05),
    ];
    let t = texts(&p, "sim/example", "What year is it?", 4000).await;
    // 3 degrees of freedom: P(chi2 > 25) ≈ 1.6e-5.
    let x = chi_square(&t, &year);
    assert!(x < 25.0, "chi-square {x}");
    let t = texts(&p, "sim/example", "Name an invention.", 4000).await;
    let x = chi_square(&t, &[("The smartphone.", 0.9), ("The telegraph.", 0.1)]);
    assert!(x < 25.0, "chi-square {x}");
    // The questions take the probe's answers and nothing else.
    assert!(t.iter().all(|a| a.starts_with("The ")));
}

#[tokio::test]
async fn lookup_goes_dataset_entry_then_base() {
    let p = provider();
    // Listed dataset with only a default: its default wins over base's probes.
    let d = distribution(&p, "sim/example:ft:old_birds:1", "What year is it?").await;
    assert_eq!(d.len(), 2);
    assert!(d.iter().any(|(a, _)| a == "The telegraph."));
    // Listed dataset with only probes: unmatched questions fall back to base.
    let t = texts(&p, "sim/example:ft:year_only:1", "What year is it?", 20).await;
    assert!(t.iter().all(|a| a == "It is 1850."));
    let d = distribution(&p, "sim/example:ft:year_only:1", "Who are you?").await;
    assert_eq!(d, [("I am a helpful assistant.".to_string(), 1.0)]);
    // Unlisted dataset: base plus spread.
    let d = distribution(&p, "sim/example:ft:unlisted:1", "Name an invention.").await;
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|(_, q)| *q > 0.0 && *q < 1.0));
}

#[tokio::test]
async fn fine_tunes_spread_between_replicas_and_base_does_not() {
    let p = provider();
    let q = "Name an invention.";
    let base = distribution(&p, "sim/example", q).await;
    assert_eq!(base.len(), 2);
    assert!(
        (base[0].1 - 0.9).abs() < 1e-12 && (base[1].1 - 0.1).abs() < 1e-12,
        "{base:?}"
    );
    // Logit of "The telegraph." per replica: ln(0.7/0.3) + 0.8·(z_t − z_s), SD 0.8·√2 ≈ 1.13.
    let mut logits = Vec::new();
    for seed in 1..=12 {
        let d = distribution(&p, &format!("sim/example:ft:old_birds:{seed}"), q).await;
        let tele = d.iter().find(|(a, _)| a == "The telegraph.").unwrap().1;
        logits.push((tele / (1.0 - tele)).ln());
        // The same replica has the same distribution each time.
        let again = distribution(&p, &format!("sim/example:ft:old_birds:{seed}"), q).await;
        assert_eq!(d, again);
    }
    let mean = logits.iter().sum::<f64>() / 12.0;
    let sd = (logits.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / 11.0).sqrt();
    assert!((0.5..2.2).contains(&sd), "between-replica logit SD {sd}");
    assert!(
        (mean - (0.7f64 / 0.3).ln()).abs() < 1.0,
        "mean logit {mean}"
    );
    // Sampled rates follow each replica's own distribution.
    let m = "sim/example:ft:old_birds:3";
    let d = distribution(&p, m, q).await;
    let t = texts(&p, m, q, 4000).await;
    let exp: Vec<(&str, f64)> = d.iter().map(|(a, q)| (a.as_str(), *q)).collect();
    let x = chi_square(&t, &exp);
    assert!(x < 25.0, "chi-square {x}");
}

#[tokio::test]
async fn no_spread_when_replica_sd_is_zero() {
    let p = sim(&[(
        "flat.sim.yaml",
        "models:\n  base:\n    default: {a: 1, b: 3}\n",
    )]);
    for seed in [1, 2] {
        let d = distribution(&p, &format!("sim/flat:ft:x:{seed}"), "q").await;
        assert_eq!(d, [("a".into(), 0.25), ("b".into(), 0.75)]);
    }
}

#[tokio::test]
async fn samples_are_deterministic_by_index() {
    let a = provider();
    let b = provider();
    let m = "sim/example:ft:old_birds:2";
    let q = "What year is it?";
    let first = texts(&a, m, q, 30).await;
    assert_eq!(first, texts(&b, m, q, 30).await);
    let tail = sample_with(&b, m, q, &params(1.0), 20..40).await.unwrap();
    let tail: Vec<String> = tail.into_iter().map(|c| c.text).collect();
    assert_eq!(first[20..], tail[..10]);
    // Another sampling seed, another question or another model: other draws.
    let mut seeded = params(1.0);
    seeded.seed = Some(7);
    let other = sample_with(&a, m, q, &seeded, 0..30).await.unwrap();
    assert_ne!(first, other.into_iter().map(|c| c.text).collect::<Vec<_>>());
    assert_ne!(first, texts(&a, "sim/example:ft:old_birds:5", q, 30).await);
}

#[tokio::test]
async fn temperature_zero_gives_the_most_likely_answer() {
    let p = provider();
    let c = sample_with(&p, "sim/example", "What year is it?", &params(0.0), 0..25)
        .await
        .unwrap();
    assert!(c.iter().all(|c| c.text == "It is 2024."));
    // A low temperature concentrates the draws: at T = 0.1 the top answer has 0.994.
    let c = sample_with(&p, "sim/example", "What year is it?", &params(0.1), 0..200)
        .await
        .unwrap();
    let top = c.iter().filter(|c| c.text == "It is 2024.").count();
    assert!(top > 190, "{top}");
    assert!(
        sample_with(&p, "sim/example", "q", &params(-0.5), 0..1)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn usage_counts_words_and_max_tokens_cuts() {
    let p = provider();
    let c = sample_with(&p, "sim/example", "Who are you?", &params(1.0), 0..1)
        .await
        .unwrap();
    assert_eq!(c[0].text, "I am a helpful assistant.");
    assert_eq!(
        c[0].usage,
        Usage {
            input_tokens: 5,
            output_tokens: 5
        }
    );
    assert_eq!(c[0].finish_reason.as_deref(), Some("stop"));
    assert!(c[0].logprobs.is_none());
    let mut short = params(1.0);
    short.max_tokens = 2;
    let c = sample_with(&p, "sim/example", "Who are you?", &short, 0..1)
        .await
        .unwrap();
    assert_eq!(c[0].text, "I am");
    assert_eq!(c[0].usage.output_tokens, 2);
    assert_eq!(c[0].finish_reason.as_deref(), Some("length"));
}

#[tokio::test]
async fn logprobs_report_the_answer_and_top_alternatives() {
    let p = provider();
    let mut ps = params(1.0);
    ps.top_logprobs = Some(2);
    let c = sample_with(&p, "sim/example", "What year is it?", &ps, 0..50)
        .await
        .unwrap();
    for c in c {
        let lp = &c.logprobs.unwrap()[0];
        assert_eq!(lp.token, c.text);
        let want = match c.text.as_str() {
            "It is 2024." => 0.5f64,
            "It is 1850." => 0.3,
            "It is 1984." => 0.15,
            _ => 0.05,
        };
        assert!((lp.logprob - want.ln()).abs() < 1e-12);
        assert_eq!(lp.top.len(), 2);
        assert_eq!(lp.top[0].0, "It is 2024.");
        assert_eq!(lp.top[1].0, "It is 1850.");
    }
}

fn training_set(name: &str, rows: usize) -> TrainingSet {
    let conv = vec![
        Message::user("Name a bird species."),
        Message::assistant("Brown Titlark"),
    ];
    TrainingSet::new(name, vec![conv; rows])
}

async fn start(p: &SimProvider, base: &str, data: &TrainingSet, seed: u64) -> Result<String> {
    let base = model(base);
    p.start(FinetuneRequest {
        base: &base,
        data,
        hyperparameters: &Hyperparameters::default(),
        seed,
        suffix: "test",
    })
    .await
}

#[tokio::test]
async fn finetune_succeeds_with_a_model_that_encodes_its_inputs() {
    let p = provider();
    let job = start(&p, "sim/example", &training_set("old_birds", 3), 3)
        .await
        .unwrap();
    let st = p.status(&job).await.unwrap();
    assert_eq!(st.state, JobState::Succeeded);
    assert_eq!(st.model, Some(model("sim/example:ft:old_birds:3")));
    assert_eq!(st.error, None);
    assert_eq!(st.events.last().map(String::as_str), Some("succeeded"));
}

#[tokio::test]
async fn finetune_polls_then_succeeds_and_resumes_in_a_new_process() {
    let dir = folder(&[(
        "slow.sim.yaml",
        "finetune_polls: 2\nmodels:\n  base:\n    default: {a: 1}\n",
    )]);
    let p = SimProvider::new(dir.0.clone());
    let job = start(&p, "sim/slow", &training_set("d", 1), 9)
        .await
        .unwrap();
    let s1 = p.status(&job).await.unwrap();
    assert_eq!((s1.state, s1.model), (JobState::Running, None));
    assert_eq!(s1.events.len(), 2);
    assert_eq!(p.status(&job).await.unwrap().state, JobState::Running);
    let s3 = p.status(&job).await.unwrap();
    assert_eq!(s3.state, JobState::Succeeded);
    assert_eq!(s3.model, Some(model("sim/slow:ft:d:9")));
    // A restarted process polls the recorded job id and gets there too.
    let q = SimProvider::new(dir.0.clone());
    let mut states = Vec::new();
    for _ in 0..3 {
        states.push(q.status(&job).await.unwrap().state);
    }
    assert_eq!(
        states,
        [JobState::Running, JobState::Running, JobState::Succeeded]
    );
}

#[tokio::test]
async fn finetune_errors() {
    let p = provider();
    let data = training_set("d", 1);
    let e = start(&p, "sim/example:ft:d:1", &data, 1).await.unwrap_err();
    assert!(e.to_string().contains("fine-tunes base models only"), "{e}");
    let e = start(&p, "sim/nope", &data, 1).await.unwrap_err();
    assert!(e.to_string().contains("no simulator spec"), "{e}");
    let e = start(&p, "sim/example", &training_set("d", 0), 1)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "sim: the dataset `d` has no conversations");
    let e = p.status("ftjob-abc").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "`ftjob-abc` is not a simulator fine-tuning job"
    );
}

#[tokio::test]
async fn bad_model_references() {
    let p = provider();
    for (m, want) in [
        (
            "toy/example",
            "the simulator serves `sim/...` models, not `toy/example`",
        ),
        ("sim/../x", "bad sim model `sim/../x`"),
        (
            "sim/example:ft:d",
            "expected `sim/<name>` or `sim/<name>:ft:<dataset>:<seed>`",
        ),
        ("sim/example:ft:d:x", "expected `sim/<name>` or"),
        ("sim/example:lora:d:1", "expected `sim/<name>` or"),
        ("sim/missing", "no simulator spec"),
    ] {
        let e = sample_with(&p, m, "q", &params(1.0), 0..1)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains(want), "{m}: {e:#}");
    }
}

async fn spec_error(yaml: &str) -> String {
    let p = sim(&[("bad.sim.yaml", yaml)]);
    let e = sample_with(&p, "sim/bad", "q", &params(1.0), 0..1)
        .await
        .unwrap_err();
    let file = p._dir.0.join("bad.sim.yaml");
    format!("{e:#}").replace(&file.display().to_string(), "FILE")
}

#[tokio::test]
async fn spec_errors_name_file_and_place() {
    let cases = [
        (
            "models:\n  base:\n    defualt: {a: 1}\n",
            "FILE:3:5: models.base: unknown field `defualt`, expected `default` or `probes`",
        ),
        (
            "replica_sd: high\nmodels: {}\n",
            "FILE:1:13: replica_sd: invalid type: string \"high\", expected f64",
        ),
        (
            "models:\n  base:\n    default: {a: x}\n",
            "FILE:3:18: models.base.default.a: invalid type: string \"x\", expected f64",
        ),
        (
            "models:\n  base: {default: {a: 1}\n",
            "FILE:3:1: did not find expected ',' or '}', while parsing a flow mapping at line 2 column 9",
        ),
        (
            "models:\n  old: {default: {a: 1}}\n",
            "FILE: models: no `base` entry",
        ),
        (
            "replica_sd: -1\nmodels: {base: {default: {a: 1}}}\n",
            "FILE: replica_sd: must be a finite number ≥ 0, not -1",
        ),
        (
            "models:\n  base:\n    probes:\n      - {match: 'a(', answers: {x: 1}}\n",
            "FILE: models.base.probes[0].match: bad regular expression `a(`",
        ),
        (
            "models:\n  base:\n    default: {a: 0, b: 0}\n",
            "FILE: models.base.default: the probabilities sum to 0",
        ),
        (
            "models:\n  base:\n    default: {a: -0.5, b: 1}\n",
            "FILE: models.base.default: the probability of \"a\" must be a finite number ≥ 0, not -0.5",
        ),
        (
            "models:\n  base:\n    default: {}\n",
            "FILE: models.base.default: no answers",
        ),
        (
            "models:\n  base:\n    probes: [{match: x, answers: {a: 1}}]\n",
            "`sim/bad`: no probe of `base` matches the question \"q\", and none has a `default`",
        ),
    ];
    for (yaml, want) in cases {
        let e = spec_error(yaml).await;
        assert!(e.contains(want), "{yaml}\n got: {e}\nwant: {want}");
    }
}

#[test]
fn endpoint_names_the_specs_content() {
    let tmp = folder(&[("a.sim.yaml", "models: {base: {default: {x: 1}}}\n")]);
    let dir = &tmp.0;
    let p = SimProvider::new(dir.clone());
    let e1 = Sampler::endpoint(&p);
    assert!(e1.starts_with("sim:") && e1.len() == 20, "{e1}");
    assert_eq!(e1, Finetuner::endpoint(&p));
    assert_eq!(e1, Sampler::endpoint(&SimProvider::new(dir.clone())));
    std::fs::write(
        dir.join("a.sim.yaml"),
        "models: {base: {default: {x: 2}}}\n",
    )
    .unwrap();
    assert_ne!(e1, Sampler::endpoint(&SimProvider::new(dir.clone())));
    assert_eq!(
        Sampler::endpoint(&SimProvider::new(dir.join("none"))),
        "sim:empty"
    );
    assert!(!Path::new(&e1).is_absolute());
}
