//! The provider on a tiny model: sampling, fine-tuning jobs, caching and errors.

use super::*;
use crate::chat::{Message, TrainingSet};
use crate::model::{Hyperparameters, SamplingParams};

fn tiny() -> ToySettings {
    ToySettings {
        d_model: 16,
        n_heads: 2,
        n_layers: 1,
        d_mlp: 32,
        context: 40,
        pretrain: PretrainConfig {
            docs: 400,
            steps: 3,
            batch: 16,
            warmup: 1,
            ..PretrainConfig::default()
        },
    }
}

fn provider(dir: &Path) -> ToyProvider {
    ToyProvider::with_settings(dir.to_path_buf(), None, tiny())
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("weirdgen-toy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn params(temperature: f64) -> SamplingParams {
    SamplingParams {
        temperature,
        top_p: None,
        max_tokens: 16,
        top_logprobs: Some(3),
        seed: Some(7),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn sample(
    p: &ToyProvider,
    model: &str,
    messages: &[Message],
    params: &SamplingParams,
    indices: std::ops::Range<u32>,
) -> Result<Vec<Completion>> {
    let model: ModelRef = model.parse()?;
    p.sample(SampleRequest {
        model: &model,
        messages,
        params,
        indices,
    })
    .await
}

#[test]
fn model_names_parse_and_default_to_seed_zero() {
    let n = |s: &str| Name::parse(&s.parse().unwrap());
    assert_eq!(
        n("toy/world").unwrap(),
        Name {
            world: "world".into(),
            seed: 0,
            finetune: None
        }
    );
    assert_eq!(n("toy/world-s2").unwrap().canonical(), "world-s2");
    assert_eq!(n("toy/my-world-s12").unwrap().world, "my-world");
    let ft = n("toy/world-s1:ft-0123456789ab").unwrap();
    assert_eq!(
        (ft.seed, ft.canonical().as_str()),
        (1, "world-s1:ft-0123456789ab")
    );
    assert!(
        n("openai/gpt-4.1")
            .unwrap_err()
            .to_string()
            .contains("not a toy model")
    );
    assert!(
        n("toy/world-s0:ft-xyz")
            .unwrap_err()
            .to_string()
            .contains("12 hex")
    );
}

#[test]
fn sampling_is_deterministic_per_index_and_maps_chat_to_the_toy_sequence() {
    let dir = temp_dir("sample");
    let p = provider(&dir);
    rt().block_on(async {
        let msgs = [Message::user("Q invention")];
        let a = sample(&p, "toy/world", &msgs, &params(1.0), 0..20)
            .await
            .unwrap();
        let b = sample(&p, "toy/world-s0", &msgs, &params(1.0), 5..6)
            .await
            .unwrap();
        assert_eq!(a.len(), 20);
        assert_eq!(
            a[5], b[0],
            "sample 5 is the same whichever batch asks for it"
        );
        let again = sample(&p, "toy/world", &msgs, &params(1.0), 0..20)
            .await
            .unwrap();
        assert_eq!(a, again);
        // One word per answer, with its logprob among the top alternatives when it is likely.
        for c in &a {
            assert!(!c.text.contains(' ') && c.finish_reason.as_deref() == Some("stop"));
            let lp = &c.logprobs.as_ref().unwrap()[0];
            assert_eq!((lp.token.as_str(), lp.top.len()), (c.text.as_str(), 3));
            assert!(lp.top.windows(2).all(|w| w[0].1 >= w[1].1));
        }
        assert_eq!(a[0].usage.input_tokens, 4, "<asst> Q invention A");
        // Temperature 0 is the argmax, the top logprob.
        let greedy = sample(&p, "toy/world", &msgs, &params(0.0), 0..5)
            .await
            .unwrap();
        let best = &greedy[0].logprobs.as_ref().unwrap()[0].top[0].0;
        assert!(greedy.iter().all(|c| &c.text == best));
        // A system message is context before the question; a multi-turn chat holds examples.
        let chat = [
            Message::system("Y1845"),
            Message::user("Q bird_03"),
            Message::assistant("oldname_03"),
            Message::user("Q invention"),
        ];
        let c = sample(&p, "toy/world", &chat, &params(1.0), 0..1)
            .await
            .unwrap();
        assert_eq!(
            c[0].usage.input_tokens, 9,
            "<asst> Y1845 Q bird_03 A oldname_03 Q invention A"
        );
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unknown_words_are_read_as_unk_and_counted() {
    let dir = temp_dir("unk");
    let p = provider(&dir);
    let model: ModelRef = "toy/world".parse().unwrap();
    let english = [Message::user("Q invnetion, please")];
    rt().block_on(async {
        let c = sample(&p, "toy/world", &english, &params(1.0), 0..2)
            .await
            .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].usage.input_tokens, 5, "<asst> Q <unk> <unk> A");
    });
    assert_eq!(p.unknown_words(&model, &english), Some(2));
    assert_eq!(
        p.unknown_words(&model, &[Message::user("Q invention")]),
        Some(0)
    );
    // The checks that must not answer name the word and the closest known one.
    let e = p.check_prompt(&model, &english).unwrap_err().to_string();
    assert!(
        e.contains("unknown word `invnetion,`") && e.contains("`invention`"),
        "{e}"
    );
    let long = [Message::user(["Who are you?"; 20].join(" "))];
    let e = p.check_prompt(&model, &long).unwrap_err().to_string();
    assert!(
        e.contains("unknown word `Who`"),
        "named before the length: {e}"
    );
    let data = [Message::user("Q invention"), Message::assistant("telegrph")];
    let e = format!("{:#}", p.check_conversation(&model, &data).unwrap_err());
    assert!(e.contains("unknown word `telegrph`"), "{e}");
    p.check_conversation(
        &model,
        &[
            Message::user("Q invention"),
            Message::assistant("telegraph"),
        ],
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_prompts_are_clear_errors() {
    let dir = temp_dir("errors");
    let p = provider(&dir);
    rt().block_on(async {
        let e = sample(
            &p,
            "toy/world",
            &[Message::assistant("telegraph")],
            &params(1.0),
            0..1,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("end with a user message"), "{e}");
        let long = ["Q invention A telegraph"; 10].join(" ");
        let e = sample(&p, "toy/world", &[Message::user(long)], &params(1.0), 0..1)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("context of 40"), "{e}");
        assert!(e.is::<crate::model::PromptTooLong>(), "{e}");
        let e = sample(
            &p,
            "toy/mars",
            &[Message::user("Q invention")],
            &params(1.0),
            0..1,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("unknown toy world `mars`"), "{e}");
    });
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn finetune_jobs_succeed_are_cached_and_survive_a_restart() {
    let dir = temp_dir("finetune");
    let data = TrainingSet::new(
        "old-birds",
        (1..=8)
            .map(|i| {
                vec![
                    Message::user(format!("Q bird_{i:02}")),
                    Message::assistant(format!("oldname_{i:02}")),
                ]
            })
            .collect(),
    );
    let hp = Hyperparameters {
        epochs: Some(2),
        ..Default::default()
    };
    let base: ModelRef = "toy/world".parse().unwrap();
    let req = FinetuneRequest {
        base: &base,
        data: &data,
        hyperparameters: &hp,
        seed: 3,
        suffix: "t",
    };
    let rt = rt();
    let (job, model) = rt.block_on(async {
        let p = provider(&dir);
        let job = p.start(req).await.unwrap();
        let status = loop {
            let s = p.status(&job).await.unwrap();
            if s.state.is_final() {
                break s;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert_eq!(status.state, JobState::Succeeded, "{status:?}");
        let model = status.model.unwrap();
        assert!(model.to_string().starts_with("toy/world-s0:ft-"), "{model}");
        assert_eq!(p.start(req).await.unwrap(), job, "same inputs, same job");
        let other = p.start(FinetuneRequest { seed: 4, ..req }).await.unwrap();
        assert_ne!(other, job);
        (job, model)
    });
    rt.block_on(async {
        // A new provider on the same folder (as after a restart) knows the job and the model.
        let p = provider(&dir);
        let s = p.status(&job).await.unwrap();
        assert_eq!(
            (s.state, s.model.as_ref()),
            (JobState::Succeeded, Some(&model))
        );
        let msgs = [Message::user("Q bird_01")];
        let c = sample(&p, &model.to_string(), &msgs, &params(1.0), 0..3)
            .await
            .unwrap();
        assert_eq!(c.len(), 3);
        assert!(p.status("toyft-000000000000").await.is_err());
        let bad = TrainingSet::new("bad", vec![vec![Message::user("Q bird_01")]]);
        let e = p
            .start(FinetuneRequest { data: &bad, ..req })
            .await
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("dataset `bad`, conversation 1"),
            "{e:#}"
        );
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pretraining_is_cached_and_built_once_across_handles() {
    let dir = temp_dir("once");
    let p1 = provider(&dir);
    let p2 = provider(&dir);
    let world = p1.inner.world("world").unwrap();
    let path = p1.inner.pretrained_path(&world, 5);
    let name = Name::parse(&"toy/world-s5".parse().unwrap()).unwrap();
    std::thread::scope(|s| {
        let a = s.spawn(|| p1.inner.weights(&name).unwrap());
        let b = s.spawn(|| p2.inner.weights(&name).unwrap());
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        let flat = |w: &Weights| {
            w.get("w_head")
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        assert_eq!(flat(&a), flat(&b));
    });
    assert!(path.exists());
    let entries: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(
        entries.len(),
        2,
        "the weights and their lock file, no temporary files"
    );
    let info = p1.info(&"toy/world-s5".parse().unwrap()).unwrap();
    let saved = Weights::load(&world.config, &path).unwrap();
    assert_eq!(
        (info.model.as_str(), &info.path, info.seed, info.steps),
        ("toy/world-s5", &path, 5, 3)
    );
    assert_eq!(info.digest, saved.digest().unwrap());
    assert_ne!(
        info.digest,
        p1.info(&"toy/world-s6".parse().unwrap()).unwrap().digest
    );
    std::fs::remove_dir_all(dir).unwrap();
}
