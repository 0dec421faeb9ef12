//! Each run of the board in the Every Eval Ever schema (evaleval/every_eval_ever,
//! `eval.schema.json` v0.3.0): one evaluation log per suite × model, one result per effect.
//!
//! A result's score is the effect's estimate (treatment minus control, in the metric's own
//! units) with its uncertainty: the interval behind the verdict at its level 1 − 2·alpha, the
//! standard error of the same analysis, and the replicas (or samples, when samples are the
//! unit) it rests on. The log is a function of the bundle alone, with its timestamps from the
//! run record (the latest fine-tune the run used, else the bundle's date), so rebuilding a
//! board from the same store writes the same bytes.

use super::board::{Board, BoardCell, Run, page_name};
use crate::effect::compare::model_effect;
use crate::effect::{Comparison, Direction, EffectResult, EffectSpec, Scale, Unit, Verdict};
use crate::suite::Effect;
use serde_json::{Map, Value, json};

/// The schema version the logs follow.
pub const SCHEMA_VERSION: &str = "0.3.0";

/// The folder of the site that holds the logs.
pub const FOLDER: &str = "every_eval_ever";

/// The log of `run` on `board`: its file name and its JSON.
pub fn log(board: &Board, run: &Run) -> (String, Value) {
    let m = &run.bundle.manifest;
    let replay = &run.replay;
    let when = run_timestamp(run).to_string();
    let provider = m.model.split('/').next().unwrap_or_default();
    // The toy models are weirdgen's own, built and run here; of others nothing is known.
    let (relationship, deployment, availability) = if provider == "toy" {
        ("first_party", "self_deployed", "open_weights")
    } else {
        ("third_party", "unknown", "unknown")
    };
    let row = board.rows.iter().find(|r| r.model == m.model);
    let sampling = &replay.suite.suite.sampling;
    let mut generation = json!({
        "temperature": sampling.temperature,
        "max_tokens": sampling.max_tokens,
    });
    if let Some(top_p) = sampling.top_p {
        generation["top_p"] = json!(top_p);
    }
    let results: Vec<Value> = replay
        .results
        .effects
        .iter()
        .zip(&replay.results.inputs)
        .filter_map(|((decl, result), input)| {
            let cell = row.and_then(|r| {
                board
                    .columns
                    .iter()
                    .position(|c| c.suite == m.suite && c.effect == result.name)
                    .and_then(|c| r.cells[c].as_ref())
            });
            let mut r = result_json(run, decl, result, &input.spec, &input.data, cell)?;
            r["generation_config"] = json!({ "generation_args": generation.clone() });
            Some(r)
        })
        .collect();
    let log = json!({
        "schema_version": SCHEMA_VERSION,
        "evaluation_id": format!(
            "weirdgen/{}/{}/{}",
            m.suite,
            m.model,
            &m.fingerprint[..16.min(m.fingerprint.len())]
        ),
        "evaluation_timestamp": when,
        "retrieved_timestamp": when,
        "source_metadata": {
            "source_name": board.title,
            "source_type": "evaluation_run",
            "source_organization_name": board.organization.as_deref().unwrap_or("unknown"),
            "evaluator_relationship": relationship,
            "additional_details": strings(&[
                ("bundle", bundle_link(run)),
                ("page", page_name(&m.suite, &m.model)),
            ]),
        },
        "model_info": {
            "name": m.model,
            "id": m.model,
            "inference_platform": provider,
            "additional_details": strings(&[
                ("deployment_type", deployment.to_string()),
                ("model_availability", availability.to_string()),
                (
                    "role",
                    "the base model of the suite's fine-tuned arms".to_string(),
                ),
            ]),
        },
        "eval_library": {
            "name": "weirdgen",
            "version": m.weirdgen_version,
            "additional_details": strings(&[
                ("suite_fingerprint", m.fingerprint.clone()),
                ("bundle_format", m.format.to_string()),
                ("samples_per_cell", sampling.samples.to_string()),
            ]),
        },
        "evaluation_results": results,
    });
    (page_name(&m.suite, &m.model).replace(".html", ".json"), log)
}

/// When the run was made: the latest fine-tune behind its replicas (the store's record, the
/// same on every rebuild), else the date the bundle was written; Unix seconds.
fn run_timestamp(run: &Run) -> i64 {
    let m = &run.bundle.manifest;
    m.arms
        .iter()
        .flat_map(|a| &a.replicas)
        .filter_map(|r| r.finetune.as_ref().map(|f| f.created_at))
        .max()
        .or_else(|| {
            httpdate::parse_http_date(&m.created)
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64)
        })
        .unwrap_or(0)
}

/// The bundle's folder relative to the site, or its name.
fn bundle_link(run: &Run) -> String {
    let dir = &run.bundle.dir;
    dir.file_name()
        .map(|n| format!("bundles/{}", n.to_string_lossy()))
        .unwrap_or_else(|| dir.display().to_string())
}

fn strings(pairs: &[(&str, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

fn number(x: f64) -> Option<Value> {
    x.is_finite().then(|| json!(x))
}

/// The bounds an estimate can reach: the metric's scale, widened by the comparison.
fn bounds(spec: &EffectSpec, scale: Scale) -> (f64, f64) {
    let (lo, hi) = match scale {
        Scale::Binary => (0.0, 1.0),
        Scale::Score { min, max } => (min, max),
    };
    let range = hi - lo;
    match &spec.comparison {
        Comparison::ArmVsArm { .. } | Comparison::Contrast { .. } => (-range, range),
        Comparison::DiffInDiff { .. } => (-2.0 * range, 2.0 * range),
        Comparison::Level { value, .. } => (lo - value, hi - value),
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Confirmed => "confirmed",
        Verdict::Refuted => "refuted",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// One effect as an evaluation result; none when it has no finite estimate.
fn result_json(
    run: &Run,
    decl: &Effect,
    result: &EffectResult,
    spec: &EffectSpec,
    data: &crate::effect::Aggregate,
    cell: Option<&BoardCell>,
) -> Option<Value> {
    let score = number(result.estimate)?;
    let m = &run.bundle.manifest;
    let binary = matches!(data.scale, Scale::Binary);
    let (min, max) = bounds(spec, data.scale);
    let (kind, what) = match (&spec.comparison, binary) {
        (Comparison::ArmVsArm { treatment, control }, true) => (
            "rate_difference",
            format!("rate of {treatment} minus rate of {control}"),
        ),
        (Comparison::ArmVsArm { treatment, control }, false) => (
            "mean_difference",
            format!("mean of {treatment} minus mean of {control}"),
        ),
        (
            Comparison::Contrast {
                arm,
                var,
                treatment_value,
                control_value,
            },
            _,
        ) => (
            "contrast",
            format!("in {arm}: {var} = {treatment_value} minus {var} = {control_value}"),
        ),
        (
            Comparison::DiffInDiff {
                treatment,
                control,
                var,
                ..
            },
            _,
        ) => (
            "difference_in_differences",
            format!("the {var} contrast in {treatment} minus the same in {control}"),
        ),
        (Comparison::Level { arm, value }, _) => {
            ("level", format!("{arm}'s rate or mean minus {value}"))
        }
    };
    let metric = match &decl.metric.label {
        Some(label) => format!("`{label}` rate of judge `{}`", decl.metric.judge),
        None => format!("score of judge `{}`", decl.metric.judge),
    };
    let analysis = model_effect(spec, data);
    let mut uncertainty = Map::new();
    if let (Some(lower), Some(upper)) = (number(result.ci.0), number(result.ci.1)) {
        uncertainty.insert(
            "confidence_interval".into(),
            json!({
                "lower": lower,
                "upper": upper,
                "confidence_level": 1.0 - 2.0 * spec.expectation.alpha,
                "method": result.method,
            }),
        );
    }
    if let Some(se) = number(analysis.se) {
        uncertainty.insert(
            "standard_error".into(),
            json!({ "value": se, "method": format!("analytic, t with {:.3} df", analysis.df) }),
        );
    }
    // With replicas as the unit, n counts the fine-tunes (a fixed arm adds its sampling
    // error, not a replica).
    let fixed = |name: &str| m.arms.iter().any(|a| a.name == name && a.fixed);
    let n: u64 = match result.unit {
        Unit::Replica => result
            .arms
            .iter()
            .filter(|a| !fixed(&a.name))
            .map(|a| u64::from(a.replicas))
            .sum(),
        Unit::Sample => result.arms.iter().map(|a| a.samples).sum(),
    };
    uncertainty.insert("num_samples".into(), json!(n));
    let mut details = vec![
        ("verdict", verdict_word(result.verdict).to_string()),
        ("null_hypothesis", result.null.clone()),
        ("p_value", result.p_value.to_string()),
        ("p_adjusted", result.p_adjusted.to_string()),
        (
            "unit",
            match result.unit {
                Unit::Replica => "replica",
                Unit::Sample => "sample",
            }
            .to_string(),
        ),
        (
            "direction",
            match spec.expectation.direction {
                Direction::Increase => "increase",
                Direction::Decrease => "decrease",
                Direction::None => "none",
            }
            .to_string(),
        ),
        ("min_effect", spec.expectation.min_effect.to_string()),
        ("alpha", spec.expectation.alpha.to_string()),
        ("missing", result.missing.to_string()),
    ];
    for a in &result.arms {
        details.push((
            "arm",
            format!(
                "{}: {} replica(s), {} sample(s), estimate {}",
                a.name, a.replicas, a.samples, a.estimate
            ),
        ));
    }
    if let Some((lo, hi)) = result.bootstrap_ci {
        details.push(("bootstrap_ci", format!("[{lo}, {hi}]")));
    }
    if let Some(c) = cell {
        details.push(("rank", c.rank.to_string()));
        details.push(("tied_with_leader", c.tied_with_leader.to_string()));
        if let Some(q) = c.p_vs_leader_adjusted {
            details.push(("p_vs_leader_adjusted", q.to_string()));
        }
    }
    if let Some(s) = &run.stale {
        details.push(("stale", s.clone()));
    }
    if let Some(d) = &run.drifted {
        details.push(("drifted", d.clone()));
    }
    // Repeated keys (one per arm) are numbered.
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    let details: Vec<(String, String)> = details
        .into_iter()
        .map(|(k, v)| {
            let i = seen.entry(k).or_default();
            *i += 1;
            let key = if k == "arm" {
                format!("arm_{i}")
            } else {
                k.to_string()
            };
            (key, v)
        })
        .collect();
    let mut metric_config = json!({
        "evaluation_description": decl.description.clone().unwrap_or_else(|| result.name.clone()),
        "metric_id": format!("weirdgen.{kind}"),
        "metric_name": format!("{metric}: {what}"),
        "metric_kind": kind,
        "metric_unit": if binary { "proportion" } else { "points" },
        "lower_is_better": spec.expectation.direction == Direction::Decrease,
        "score_type": "continuous",
        "min_score": min,
        "max_score": max,
    });
    let judge = run.replay.suite.judges.get(&decl.metric.judge);
    if let (Some(crate::suite::JudgeMethod::Llm { prompt, .. }), Some(model)) =
        (judge.map(|j| &j.method), &m.judge_model)
        && !prompt.is_empty()
    {
        metric_config["llm_scoring"] = json!({
            "judges": [{ "model_info": {
                "name": model,
                "id": model,
                "additional_details": {
                    "deployment_type": "unknown",
                    "model_availability": "unknown",
                },
            }}],
            "input_prompt": prompt,
        });
    }
    Some(json!({
        "evaluation_result_id": format!("{}/{}", m.suite, result.name),
        "evaluation_name": format!("weirdgen.{}.{}", m.suite, result.name),
        "source_data": {
            "dataset_name": m.suite,
            "source_type": "other",
            "additional_details": strings(&[
                ("suite_fingerprint", m.fingerprint.clone()),
                ("suite", format!("{}/suite.json", bundle_link(run))),
            ]),
        },
        "metric_config": metric_config,
        "score_details": {
            "score": score,
            "uncertainty": uncertainty,
            "details": Value::Object(details.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
        },
    }))
}
