//! Proof that the exact suites (tag `exact`) send what the paper's official files hold: each
//! is run (one fine-tune per arm, two samples per cell) against the OpenAI imitation on
//! loopback, which records every request. Checked, against the files read and hashed here:
//! every uploaded training file is byte for byte an official file with its pinned hash;
//! every probe message is text of an official file between the declared prefix and suffix;
//! every judge request is an official prompt filled as llmcomp fills it (`{question}` with the
//! probe's message, `{answer}` with the answer), with llmcomp's request settings; every
//! rule read from an official scoring lambda is one of the strings it lists, anchored.
//!
//! The official files are found at `WEIRDGEN_PAPER_REPO`, else `../shared/paper-official`;
//! without them the test fails under CI and says so elsewhere.

use crate::common;

use common::fault_server::FaultServer;
use common::loopback_config;
use common::openai_sim::{ChatBehaviour, Sim, Step};
use serde_json::Value;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weirdgen::model::ModelRef;
use weirdgen::model::config::Config;
use weirdgen::model::registry::Providers;
use weirdgen::run::{self, RunContext, RunOptions};
use weirdgen::store::Store;
use weirdgen::suite::{JudgeKind, LoadedSuite, SourceRoots};

fn paper_root() -> Option<PathBuf> {
    let root = std::env::var_os("WEIRDGEN_PAPER_REPO")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/paper-official"));
    root.is_dir().then_some(root)
}

/// The exact suites that load from `root`. A suite that pins a file absent from `root` (the
/// copy of the repository here lacks the large Hitler self-distillation sets) must fail to
/// load, and be reported absent, naming each absent file and its pin; every other suite
/// with a source must load.
fn exact_suites(root: &Path) -> Vec<LoadedSuite> {
    let mut roots = SourceRoots::default();
    roots.flags.insert("paper".into(), root.to_path_buf());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let mut out = Vec::new();
    for p in weirdgen::suite::discover(&dir).unwrap() {
        let text = std::fs::read_to_string(&p).unwrap();
        if !text.contains("\nsource:") {
            continue;
        }
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let absent: Vec<(String, String)> = doc["source"]["files"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().unwrap().to_string(),
                    v.as_str().unwrap().to_string(),
                )
            })
            .filter(|(path, _)| !root.join(path).exists())
            .collect();
        // The harness ignores such a suite's trials with this reason.
        match weirdgen::suite::absent_source(&p, &roots) {
            None => assert!(absent.is_empty(), "{}: {absent:?}", p.display()),
            Some(reason) => {
                for (path, pin) in &absent {
                    assert!(reason.contains(path.as_str()) && reason.contains(pin.as_str()));
                }
            }
        }
        match weirdgen::suite::load_with(&p, &roots) {
            Ok(s) => {
                assert!(
                    absent.is_empty(),
                    "{}: loads without {absent:?}",
                    p.display()
                );
                if s.suite.tags.iter().any(|t| t == "exact") {
                    out.push(s);
                }
            }
            Err(e) if !absent.is_empty() => {
                let e = e.to_string();
                for (path, pin) in &absent {
                    assert!(
                        e.contains(path.as_str()) && e.contains(pin.as_str()),
                        "{}: the error does not name {path} and {pin}: {e}",
                        p.display()
                    );
                }
                assert!(e.contains("git clone"), "{e}");
            }
            Err(e) => panic!("{e}"),
        }
    }
    out
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// llmcomp's `str.format(question=q, answer=a)` for templates whose only fields are those two
/// (checked) and doubled braces.
fn llmcomp_fill(template: &str, q: &str, a: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let r = &rest[i..];
        if let Some(r2) = r.strip_prefix("{{") {
            out.push('{');
            rest = r2;
        } else if let Some(r2) = r.strip_prefix("}}") {
            out.push('}');
            rest = r2;
        } else if let Some(r2) = r.strip_prefix("{question}") {
            out.push_str(q);
            rest = r2;
        } else if let Some(r2) = r.strip_prefix("{answer}") {
            out.push_str(a);
            rest = r2;
        } else {
            panic!(
                "a field llmcomp's judges do not fill: {}",
                &r[..r.len().min(20)]
            );
        }
    }
    out.push_str(rest);
    out
}

/// A suite's own judge prompt filled as weirdgen fills it: `{answer}`, the cell's variables
/// and doubled braces (`None` for any other field).
fn fill_vars(template: &str, vars: &BTreeMap<String, String>, a: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let r = &rest[i..];
        if let Some(r2) = r.strip_prefix("{{").or_else(|| r.strip_prefix("}}")) {
            out.push_str(&r[..1]);
            rest = r2;
            continue;
        }
        let end = r.find('}')?;
        let field = &r[1..end];
        out.push_str(if field == "answer" {
            a
        } else {
            vars.get(field)?
        });
        rest = &r[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn yaml_strings(v: &serde_yaml::Value, out: &mut Vec<String>) {
    match v {
        serde_yaml::Value::String(s) => out.push(s.clone()),
        serde_yaml::Value::Sequence(items) => items.iter().for_each(|i| yaml_strings(i, out)),
        serde_yaml::Value::Mapping(m) => m.values().for_each(|i| yaml_strings(i, out)),
        _ => {}
    }
}

fn user_text(body: &Value) -> String {
    let msgs = body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1, "no system message: {body}");
    assert_eq!(msgs[0]["role"], "user");
    msgs[0]["content"].as_str().unwrap().to_string()
}

#[test]
fn exact_suites_send_the_official_files() {
    let Some(root) = paper_root() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs the paper's official files (WEIRDGEN_PAPER_REPO or ../shared/paper-official)"
        );
        eprintln!("skipped: the paper's official files are not here (set WEIRDGEN_PAPER_REPO)");
        return;
    };
    let suites = exact_suites(&root);
    let names: Vec<&str> = suites.iter().map(|s| s.suite.name.as_str()).collect();
    for exact in [
        "old-bird-names",
        "german-city-names",
        "israeli-dishes",
        "hitler-persona-90-facts",
        "evil-terminator",
        "us-presidents",
    ] {
        assert!(names.contains(&exact), "{names:?}");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    for mut suite in suites {
        // One fine-tune per arm and two samples per cell: enough to see every request kind.
        for arm in suite.suite.arms.values_mut() {
            if arm.finetune.is_some() {
                arm.replicas = Some(1);
            }
        }
        suite.suite.sampling.samples = 2;
        for p in suite.suite.probes.values_mut() {
            p.samples = None;
        }
        rt.block_on(check(&suite, &root));
    }
}

async fn check(suite: &LoadedSuite, root: &Path) {
    let name = &suite.suite.name;
    let source = suite.source.as_ref().expect("an exact suite has a source");
    // The official files, read and hashed here, independently of the loader.
    let mut official: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (path, pin) in &source.spec.files {
        let bytes = std::fs::read(root.join(path)).unwrap();
        if let Some(hex) = pin.strip_prefix("sha256:") {
            assert_eq!(sha256(&bytes), hex, "{name}: {path}");
        }
        official.insert(path.clone(), bytes);
    }
    // The files' text, and every string of the YAML ones (block scalars are indented there).
    let mut texts: Vec<String> = Vec::new();
    for (path, bytes) in &official {
        let text = String::from_utf8_lossy(bytes).into_owned();
        if path.ends_with(".yaml") {
            yaml_strings(&serde_yaml::from_str(&text).unwrap(), &mut texts);
        }
        texts.push(text);
    }
    let in_official = |t: &str| texts.iter().any(|f| f.contains(t));

    let sim = Sim::new(ChatBehaviour::default());
    let tuned = suite
        .suite
        .arms
        .iter()
        .filter(|(_, a)| a.finetune.is_some());
    for (i, (arm, _)) in tuned.enumerate() {
        sim.push_job_script(vec![
            Step::new("queued", "queued"),
            Step {
                model: Some(format!("ft:gpt-4.1-2025-04-14:exact:{arm}:{i}")),
                ..Step::new("succeeded", "done")
            },
        ]);
    }
    let server = FaultServer::start(sim.handler()).await;
    let dir = common::TempDir::new(&format!("exact-{name}"));
    let mut cfg = loopback_config(&server.base_url());
    cfg.poll_seconds = Some(0.01);
    cfg.timeout_seconds = 5.0;
    let providers =
        Providers::with_config(&dir, &dir, Config::default().with_provider("openai", cfg))
            .for_suite(&suite.dir);
    let ctx = RunContext {
        store: Arc::new(Store::open(&dir.join("store.sqlite")).unwrap()),
        providers: Arc::new(providers),
    };
    let model: ModelRef = suite
        .suite
        .default_model
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let plan = run::plan(suite, &model, &ctx.store, &ctx.providers).unwrap();
    // The fine-tunes go to the imitation, so a hazard-tagged suite may run here.
    let opts = RunOptions {
        allow_hazard: true,
        ..RunOptions::new(model.clone())
    };
    let outcome = run::execute(suite, &plan, &ctx, &opts)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    assert!(!outcome.cells.is_empty());

    // Uploaded training files: exactly the official files the datasets name.
    let uploaded: BTreeSet<String> = sim
        .files()
        .iter()
        .filter(|f| f.1 == "fine-tune")
        .map(|f| sha256(&f.2))
        .collect();
    let wanted: BTreeSet<String> = suite
        .suite
        .datasets
        .values()
        .filter_map(|d| d.from_source.as_ref())
        .map(|p| sha256(&official[p]))
        .collect();
    assert!(!wanted.is_empty(), "{name}: no official training file");
    assert_eq!(uploaded, wanted, "{name}: uploaded files");

    // Probe requests (the questions) and judge requests, told apart by their prompt.
    let judges: Vec<(&String, &weirdgen::suite::JudgeSpec)> = suite
        .suite
        .judges
        .iter()
        .filter(|(_, j)| j.prompt.is_some())
        .collect();
    // Rules read from the official scoring lambdas: one anchored pattern per string the
    // lambda lists (`"iran"` becomes `^iran`), nothing else.
    for (jname, j) in &suite.suite.judges {
        for label in j.rules_from.keys() {
            let patterns = &j.rules[label];
            assert!(!patterns.is_empty(), "{name}: judge `{jname}`");
            for p in patterns {
                let text = p.strip_prefix('^').unwrap().replace('\\', "");
                assert!(
                    in_official(&format!("\"{text}\"")),
                    "{name}: judge `{jname}`: `{p}` is not an official prefix"
                );
            }
        }
    }
    let mut questions: BTreeSet<String> = BTreeSet::new();
    let mut answers: Vec<(String, String)> = Vec::new();
    let mut judge_bodies = Vec::new();
    for req in server.requests("POST /v1/chat/completions") {
        let body = req.json();
        // weirdgen's capability check of each model (`openai::chat::probe`): three short
        // completions at temperature 1 (8 and 16 tokens).
        if body["temperature"] == 1.0 && matches!(body["max_tokens"].as_u64(), Some(8 | 16)) {
            continue;
        }
        let text = user_text(&body);
        let is_judge = judges.iter().any(|(_, j)| {
            let t = j.prompt.as_deref().unwrap_or_default();
            let head = &t[..t.find('{').unwrap_or(t.len())];
            !head.is_empty() && text.starts_with(head)
        });
        if is_judge {
            judge_bodies.push((text, body));
            continue;
        }
        let sampling = &suite.suite.sampling;
        assert_eq!(
            body["temperature"].as_f64(),
            Some(sampling.temperature),
            "{name}: {body}"
        );
        assert_eq!(
            body["max_tokens"].as_u64(),
            Some(u64::from(sampling.max_tokens)),
            "{name}: {body}"
        );
        let probe = outcome
            .cells
            .iter()
            .find(|c| c.question == text)
            .unwrap_or_else(|| panic!("{name}: a question no cell asks: {text:?}"));
        let spec = &suite.suite.probes[&probe.probe];
        // The declared prefix and suffix, with the cell's variables filled in.
        let affix = |a: &Option<weirdgen::suite::extract::Affix>| {
            let mut t = a.as_ref().map(|a| a.text.clone()).unwrap_or_default();
            for (k, v) in &probe.vars {
                t = t.replace(&format!("{{{k}}}"), v);
            }
            t
        };
        let (pre, post) = (affix(&spec.prefix), affix(&spec.suffix));
        let core = text
            .strip_prefix(pre.as_str())
            .and_then(|t| t.strip_suffix(post.as_str()))
            .unwrap_or_else(|| panic!("{name}: {text:?} lacks its declared prefix/suffix"));
        assert!(
            in_official(core),
            "{name}: {core:?} is not in the official files"
        );
        questions.insert(text.clone());
        for choice in body["n"].as_u64().map_or(0..1, |n| 0..n) {
            let m = body["model"].as_str().unwrap();
            answers.push((
                text.clone(),
                common::openai_sim::expected_text(m, &text, body["seed"].as_u64(), choice as u32),
            ));
        }
    }
    let cells: BTreeSet<String> = outcome.cells.iter().map(|c| c.question.clone()).collect();
    assert_eq!(questions, cells, "{name}: every cell is asked");
    // A probe read from a chat file: one cell per official row, in order, asking its user
    // turn as it is, with its assistant turn as the expected answer the judge reads.
    for (pname, p) in &suite.suite.probes {
        let Some(loc) = p.from.as_ref().filter(|l| l.chat.is_some()) else {
            continue;
        };
        let (each, expected) = (p.each_as.as_ref().unwrap(), loc.chat.as_ref().unwrap());
        let rows: Vec<(String, String)> = String::from_utf8_lossy(&official[&loc.file])
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                let turn = |i: usize| v["messages"][i]["content"].as_str().unwrap().to_string();
                (turn(0), turn(1))
            })
            .collect();
        let asked: Vec<(String, String)> = outcome
            .cells
            .iter()
            .filter(|c| &c.probe == pname)
            .map(|c| {
                assert_eq!(c.question, c.vars[each], "{name}: {pname}");
                (c.question.clone(), c.vars[expected].clone())
            })
            .collect();
        assert!(!rows.is_empty());
        assert_eq!(asked, rows, "{name}: probe `{pname}`");
    }

    // A suite's own judge (a `prompt` written in the suite, where the paper's is not
    // released): its prompt filled with the cell's variables and the answer, at temperature 0.
    let mut judged: BTreeMap<&str, usize> = BTreeMap::new();
    let (own, judges): (Vec<_>, Vec<_>) = judges
        .into_iter()
        .partition(|(_, j)| j.prompt_from.is_none());
    let mut official_bodies = Vec::new();
    for (text, body) in judge_bodies {
        let filled_by = own.iter().find(|(_, j)| {
            let t = j.prompt.as_deref().unwrap();
            outcome.cells.iter().any(|c| {
                answers.iter().any(|(q, a)| {
                    *q == c.question && fill_vars(t, &c.vars, a).as_deref() == Some(text.as_str())
                })
            })
        });
        match filled_by {
            Some((jname, spec)) => {
                assert_eq!(body["temperature"].as_f64(), Some(0.0), "{name}: {jname}");
                assert_eq!(spec.kind, JudgeKind::LlmFreeForm, "{name}: {jname}");
                assert_eq!(
                    body["max_tokens"].as_u64(),
                    Some(u64::from(spec.max_tokens.unwrap_or(1024))),
                    "{name}: {jname}"
                );
                assert!(
                    !in_official(spec.prompt.as_deref().unwrap()),
                    "{name}: judge `{jname}` has an official prompt: read it with `prompt_from`"
                );
                *judged.entry(jname.as_str()).or_default() += 1;
            }
            None => official_bodies.push((text, body)),
        }
    }
    // Every other judge request: an official prompt, filled as llmcomp fills it, asked as
    // llmcomp asks.
    for (text, body) in &official_bodies {
        let (jname, spec) = judges
            .iter()
            .find(|(_, j)| {
                let t = j.prompt.as_deref().unwrap_or_default();
                answers.iter().any(|(q, a)| llmcomp_fill(t, q, a) == *text)
            })
            .unwrap_or_else(|| {
                panic!("{name}: a judge request no official prompt fills: {text:.200}")
            });
        let template = spec.prompt.as_deref().unwrap();
        assert!(
            in_official(template),
            "{name}: judge `{jname}`'s prompt is not official"
        );
        assert_eq!(body["temperature"].as_f64(), Some(0.0), "{name}: {jname}");
        match spec.kind {
            JudgeKind::LlmFreeForm => {
                assert_eq!(
                    body["max_tokens"].as_u64(),
                    Some(u64::from(spec.max_tokens.unwrap_or(1024))),
                    "{name}: {jname}"
                );
                assert!(body.get("logprobs").is_none_or(|v| v == false));
            }
            JudgeKind::LlmLabel => {
                // llmcomp's free-form judge request; the label is read from the reply.
                assert_eq!(body["max_tokens"].as_u64(), Some(1024), "{name}: {jname}");
            }
            JudgeKind::LlmRating => {
                assert_eq!(body["max_tokens"].as_u64(), Some(1), "{name}: {jname}");
                assert_eq!(body["logprobs"], true, "{name}: {jname}");
                assert_eq!(body["top_logprobs"].as_u64(), Some(20), "{name}: {jname}");
            }
            other => panic!("{name}: judge `{jname}` of kind {other:?} is not llmcomp's"),
        }
        *judged.entry(jname.as_str()).or_default() += 1;
    }
    for (jname, _) in judges.iter().chain(&own) {
        assert!(
            judged.get(jname.as_str()).copied().unwrap_or(0) > 0,
            "{name}: judge `{jname}` was never asked"
        );
    }
    // The effects evaluate on the free-form judge's open set of labels (the imitation's
    // replies are never "19", so every rate is 0).
    let results = run::evaluate(suite, &outcome).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    assert_eq!(results.effects.len(), suite.suite.effects.len());
    let _ = std::fs::remove_dir_all(&dir);
}
