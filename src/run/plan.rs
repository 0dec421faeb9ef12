//! Planning: a suite × a model → the fine-tunes, sample cells and judge calls a run needs,
//! with token counts and an estimated price.

use crate::judge::llm::judge_model;
use crate::model::openweights::{self, cost::GpuPlan, cost::GpuSummary};
use crate::model::registry::Providers;
use crate::model::{Hyperparameters, ModelRef};
use crate::store::Store;
use crate::suite::{ArmSpec, JudgeMethod, LoadedSuite, ProbeCell, ResolvedDataset, ScreenSpec};
use anyhow::{Context, Result};
use std::fmt::Write as _;

/// Where a replica's model comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplicaSource {
    /// A model used as it is: the model under test or a fixed model.
    Model(ModelRef),
    /// A fine-tune of `base` on a dataset of the suite.
    Finetune {
        base: ModelRef,
        dataset: String,
        hyperparameters: Hyperparameters,
        seed: u64,
    },
}

/// One replica to obtain.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedReplica {
    pub source: ReplicaSource,
    /// A model attached by hand (`weirdgen attach`) that replaces the fine-tune.
    pub attached: Option<ModelRef>,
}

/// One arm to run.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedArm {
    pub name: String,
    pub fixed: bool,
    pub replicas: Vec<PlannedReplica>,
    pub screen: Option<ScreenSpec>,
}

/// Counts and tokens of a run, before it starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimate {
    pub finetunes: u64,
    pub training_examples: u64,
    /// Tokens trained on (dataset tokens × epochs), over all fine-tunes.
    pub training_tokens: u64,
    /// Samples to draw (arms × replicas × cells × samples, plus distillation answers).
    pub samples: u64,
    pub sample_input_tokens: u64,
    pub sample_output_tokens: u64,
    /// LLM judge calls (one per judged sample).
    pub judge_calls: u64,
    pub judge_input_tokens: u64,
    pub judge_output_tokens: u64,
    /// The models that run the LLM judges, resolved as the run resolves them.
    pub judge_models: Vec<String>,
    /// Estimated price in dollars, from the price table.
    pub cost: f64,
    /// Models without a price in the table (their part of the cost is not counted).
    pub unpriced: Vec<String>,
    /// GPU hours and dollars of work on OpenWeights (included in `cost`).
    pub gpu: Option<GpuSummary>,
}

impl Estimate {
    /// The estimated price of a run sampling through batch APIs (`batch`) or live: on
    /// OpenWeights, batch inference jobs take the place of deployments.
    pub fn cost_for(&self, batch: bool) -> f64 {
        match &self.gpu {
            Some(g) if batch => self.cost - g.usd + g.batch_usd,
            _ => self.cost,
        }
    }
}

/// What a run of a suite against a model will do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub suite: String,
    pub model: ModelRef,
    pub arms: Vec<PlannedArm>,
    pub cells: Vec<ProbeCell>,
    pub estimate: Estimate,
}

/// Rough token count of a text (≈ 4 characters per token, at least 1 per word).
pub(crate) fn tokens(text: &str) -> u64 {
    let chars = text.chars().count() as u64;
    let words = text.split_whitespace().count() as u64;
    (chars / 4).max(words).max(1)
}

fn resolve(reference: &str, model_under_test: &ModelRef) -> Result<ModelRef> {
    if reference == "base" {
        Ok(model_under_test.clone())
    } else {
        reference.parse()
    }
}

fn plan_arm(
    name: &str,
    arm: &ArmSpec,
    model: &ModelRef,
    attached: &[(String, u32, ModelRef)],
) -> Result<PlannedArm> {
    let attached_for = |i: u32| {
        attached
            .iter()
            .find(|(a, r, _)| a == name && *r == i)
            .map(|(_, _, m)| m.clone())
    };
    if let Some(m) = &arm.model {
        let m = resolve(m, model)?;
        return Ok(PlannedArm {
            name: name.to_string(),
            fixed: true,
            replicas: vec![PlannedReplica {
                source: ReplicaSource::Model(m),
                attached: None,
            }],
            screen: None,
        });
    }
    if let Some(models) = &arm.models {
        let replicas = models
            .iter()
            .map(|m| {
                Ok(PlannedReplica {
                    source: ReplicaSource::Model(m.parse()?),
                    attached: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(PlannedArm {
            name: name.to_string(),
            fixed: false,
            replicas,
            screen: arm.screen.clone(),
        });
    }
    let ft = arm
        .finetune
        .as_ref()
        .context("an arm needs `model`, `finetune` or `models`")?;
    let base = resolve(ft.from.as_deref().unwrap_or("base"), model)?;
    let n = arm.replicas.unwrap_or(1);
    let seeds: Vec<u64> = arm
        .seeds
        .clone()
        .unwrap_or_else(|| (1..=n as u64).collect());
    // OpenWeights-only hyperparameters count where the fine-tune runs on OpenWeights.
    let extra = if base.provider == openweights::PROVIDER {
        openweights::params::extra(&ft.openweights)?
    } else {
        Default::default()
    };
    let hp = Hyperparameters {
        epochs: ft.epochs,
        batch_size: ft.batch_size,
        learning_rate_multiplier: ft.learning_rate_multiplier,
        extra,
    };
    let replicas = seeds
        .iter()
        .enumerate()
        .map(|(i, seed)| PlannedReplica {
            source: ReplicaSource::Finetune {
                base: base.clone(),
                dataset: ft.dataset.clone(),
                hyperparameters: hp.clone(),
                seed: *seed,
            },
            attached: attached_for(i as u32),
        })
        .collect();
    Ok(PlannedArm {
        name: name.to_string(),
        fixed: false,
        replicas,
        screen: arm.screen.clone(),
    })
}

/// Plans a run of `suite` against `model`, taking attached models from the store.
pub fn plan(
    suite: &LoadedSuite,
    model: &ModelRef,
    store: &Store,
    providers: &Providers,
) -> Result<Plan> {
    let attached: Vec<(String, u32, ModelRef)> = store
        .attachments(&suite.suite.name, &model.to_string())?
        .into_iter()
        .map(|a| Ok((a.arm, a.replica, a.model.parse()?)))
        .collect::<Result<_>>()?;
    let arms = suite
        .suite
        .arms
        .iter()
        .map(|(name, arm)| {
            plan_arm(name, arm, model, &attached).with_context(|| format!("arm `{name}`"))
        })
        .collect::<Result<Vec<_>>>()?;
    let cells = suite.cells();
    let estimate = estimate(suite, model, &arms, &cells, providers);
    Ok(Plan {
        suite: suite.suite.name.clone(),
        model: model.clone(),
        arms,
        cells,
        estimate,
    })
}

fn dataset_size(suite: &LoadedSuite, name: &str) -> (u64, u64) {
    match suite.datasets.get(name) {
        Some(ResolvedDataset::Ready(ts)) => {
            let toks = ts
                .conversations
                .iter()
                .flatten()
                .map(|m| tokens(&m.content))
                .sum();
            (ts.conversations.len() as u64, toks)
        }
        Some(ResolvedDataset::Distill { prompts, spec }) => {
            let answer = spec.answer_max_tokens() as u64 / 2;
            let toks = prompts
                .iter()
                .flatten()
                .map(|m| tokens(&m.content))
                .sum::<u64>()
                + answer * prompts.len() as u64;
            (prompts.len() as u64, toks)
        }
        Some(ResolvedDataset::Mix(parts)) => parts
            .iter()
            .map(|p| dataset_size(suite, p))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
        None => (0, 0),
    }
}

fn estimate(
    suite: &LoadedSuite,
    model: &ModelRef,
    arms: &[PlannedArm],
    cells: &[ProbeCell],
    providers: &Providers,
) -> Estimate {
    let mut e = Estimate::default();
    let gpu = std::cell::RefCell::new(GpuPlan::default());
    let add_cost = |e: &mut Estimate,
                    m: &ModelRef,
                    input: u64,
                    output: u64,
                    training: u64,
                    finetuned: bool| {
        let mut unpriced = |what: String| {
            if !e.unpriced.contains(&what) {
                e.unpriced.push(what);
            }
        };
        if m.provider == openweights::PROVIDER {
            let mut gpu = gpu.borrow_mut();
            if training > 0 {
                gpu.add_finetune(&m.model, training);
            }
            if input + output > 0 {
                gpu.add_sampling(&m.model, input, output);
            }
        }
        match providers.price(m, finetuned) {
            Some(p) => {
                e.cost += p.cost(input, output);
                match p.training_cost(training) {
                    Some(c) => e.cost += c,
                    None if training > 0 => unpriced(format!("{m} (training)")),
                    None => {}
                }
            }
            None => unpriced(m.to_string()),
        }
    };
    // Distillation answers.
    for ds in suite.datasets.values() {
        if let ResolvedDataset::Distill { prompts, spec } = ds {
            let m = spec
                .model
                .as_deref()
                .map(|s| resolve(s, model))
                .transpose()
                .ok()
                .flatten()
                .unwrap_or(model.clone());
            let input: u64 = prompts.iter().flatten().map(|m| tokens(&m.content)).sum();
            let output = spec.answer_max_tokens() as u64 / 2 * prompts.len() as u64;
            e.samples += prompts.len() as u64;
            e.sample_input_tokens += input;
            e.sample_output_tokens += output;
            add_cost(&mut e, &m, input, output, 0, false);
        }
    }
    let per_replica_samples: u64 = cells.iter().map(|c| c.samples as u64).sum();
    let per_replica_input: u64 = cells
        .iter()
        .map(|c| c.samples as u64 * c.messages.iter().map(|m| tokens(&m.content)).sum::<u64>())
        .sum();
    // Answers are assumed to use half their token limit on average.
    let per_replica_output: u64 = cells
        .iter()
        .map(|c| c.samples as u64 * (c.max_tokens as u64 / 2).max(1))
        .sum();
    for arm in arms {
        for r in &arm.replicas {
            let (sampled_model, finetuned) = match (&r.source, &r.attached) {
                (_, Some(m)) => (m.clone(), true),
                (ReplicaSource::Model(m), None) => (m.clone(), !arm.fixed),
                (
                    ReplicaSource::Finetune {
                        base,
                        dataset,
                        hyperparameters,
                        ..
                    },
                    None,
                ) => {
                    let (n, toks) = dataset_size(suite, dataset);
                    // The provider's default epochs: OpenAI's 3, OpenWeights' 1.
                    let default_epochs = if base.provider == openweights::PROVIDER {
                        openweights::params::DEFAULT_EPOCHS
                    } else {
                        3
                    };
                    let epochs = hyperparameters.epochs.unwrap_or(default_epochs) as u64;
                    e.finetunes += 1;
                    e.training_examples += n;
                    e.training_tokens += toks * epochs;
                    add_cost(&mut e, base, 0, 0, toks * epochs, false);
                    (base.clone(), true)
                }
            };
            e.samples += per_replica_samples;
            e.sample_input_tokens += per_replica_input;
            e.sample_output_tokens += per_replica_output;
            add_cost(
                &mut e,
                &sampled_model,
                per_replica_input,
                per_replica_output,
                0,
                finetuned,
            );
        }
    }
    // LLM judge calls: one per judged sample.
    let replicas: u64 = arms.iter().map(|a| a.replicas.len() as u64).sum();
    for (name, judge) in &suite.judges {
        let JudgeMethod::Llm { prompt, .. } = &judge.method else {
            continue;
        };
        let judged: Vec<&ProbeCell> = cells
            .iter()
            .filter(|c| c.judges.iter().any(|j| j == name))
            .collect();
        let calls: u64 = judged.iter().map(|c| c.samples as u64).sum::<u64>() * replicas;
        let prompt = tokens(prompt);
        let input: u64 = judged
            .iter()
            .map(|c| {
                c.samples as u64 * (prompt + tokens(&c.question) + (c.max_tokens as u64 / 2).max(1))
            })
            .sum::<u64>()
            * replicas;
        let output_per = if judge.method.is_rating() { 1 } else { 200 };
        e.judge_calls += calls;
        e.judge_input_tokens += input;
        e.judge_output_tokens += calls * output_per;
        // The judge model the run asks: the one the suite picked.
        if let Ok(jm) = judge_model(judge) {
            if !e.judge_models.contains(&jm.to_string()) {
                e.judge_models.push(jm.to_string());
            }
            add_cost(&mut e, &jm, input, calls * output_per, 0, false);
        }
    }
    // The GPU the user chose, if any (a bad setting is reported when the run starts).
    let chosen = providers.openweights_settings().ok().and_then(|s| s.gpu);
    if let Some(g) = gpu.into_inner().summary(chosen) {
        e.cost += g.usd;
        e.gpu = Some(g);
    }
    e
}

impl Plan {
    /// The plan as text: arms and replicas, counts, tokens and price.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let e = &self.estimate;
        let _ = writeln!(s, "plan: {} on {}", self.suite, self.model);
        for arm in &self.arms {
            let what = match arm.replicas.first().map(|r| &r.source) {
                Some(ReplicaSource::Model(m)) if arm.fixed => format!("model {m}"),
                Some(ReplicaSource::Model(_)) => "attached models".to_string(),
                Some(ReplicaSource::Finetune {
                    base,
                    dataset,
                    hyperparameters: hp,
                    ..
                }) => format!(
                    "fine-tunes of {base} on `{dataset}` (epochs {}, batch {}, lr x{}{})",
                    hp.epochs.map_or("default".into(), |v| v.to_string()),
                    hp.batch_size.map_or("default".into(), |v| v.to_string()),
                    hp.learning_rate_multiplier
                        .map_or("default".into(), |v| v.to_string()),
                    hp.extra
                        .iter()
                        .map(|(k, v)| format!(", {k} {v}"))
                        .collect::<String>(),
                ),
                None => "no replicas".to_string(),
            };
            let attached = arm.replicas.iter().filter(|r| r.attached.is_some()).count();
            let _ = write!(
                s,
                "  arm {:<16} {} replica(s): {what}",
                arm.name,
                arm.replicas.len()
            );
            if attached > 0 {
                let _ = write!(s, " ({attached} attached)");
            }
            let _ = writeln!(s);
        }
        let probes: std::collections::BTreeSet<&str> =
            self.cells.iter().map(|c| c.probe.as_str()).collect();
        let _ = writeln!(s, "  probes: {} ({} cells)", probes.len(), self.cells.len());
        let _ = writeln!(
            s,
            "  fine-tunes: {} ({} examples, ~{} training tokens)",
            e.finetunes, e.training_examples, e.training_tokens
        );
        let _ = writeln!(
            s,
            "  samples: {} (~{} input + ~{} output tokens)",
            e.samples, e.sample_input_tokens, e.sample_output_tokens
        );
        let _ = writeln!(
            s,
            "  LLM judge calls: {} (~{} input + ~{} output tokens){}",
            e.judge_calls,
            e.judge_input_tokens,
            e.judge_output_tokens,
            if e.judge_models.is_empty() {
                String::new()
            } else {
                format!(" on {}", e.judge_models.join(", "))
            }
        );
        if let Some(g) = &e.gpu {
            let _ = writeln!(
                s,
                "  GPU on OpenWeights (estimates): {} fine-tuning job(s), {} deployment(s), ~{:.2} GPU hours, ~${:.2}",
                g.jobs, g.deployments, g.hours, g.usd
            );
            let _ = writeln!(
                s,
                "  with --batch (estimates): {} fine-tuning job(s), {} batch inference job(s), ~{:.2} GPU hours, ~${:.2}",
                g.jobs, g.batch_jobs, g.batch_hours, g.batch_usd
            );
            for line in &g.lines {
                let _ = writeln!(s, "    {line}");
            }
            let _ = writeln!(
                s,
                "    (assumed throughputs and start-up times, OpenWeights' indicative hourly prices; RunPod bills its actual rate)"
            );
        }
        let _ = write!(s, "  estimated price: ${:.2}", e.cost);
        if !e.unpriced.is_empty() {
            let _ = write!(
                s,
                " (not counted, no price known: {})",
                e.unpriced.join(", ")
            );
        }
        let _ = writeln!(s);
        s
    }
}
