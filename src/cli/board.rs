//! `weirdgen bundle`, `replay`, `leaderboard` and `compare`: run bundles and what is built
//! from them.

use super::args::Cli;
use super::commands::{context, load, model_of};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use weirdgen::bundle::{self, Bundle, BundleMeta};
use weirdgen::leaderboard::{self, Run, Spec, compare};
use weirdgen::model::ModelRef;
use weirdgen::run::{self, RunContext, RunOptions};
use weirdgen::suite::LoadedSuite;
use weirdgen::terminal::printable;

#[derive(Subcommand, Debug)]
pub enum BoardCommand {
    /// Run a suite (reusing everything stored) and write its run bundle: manifest, resolved
    /// suite, answers, judgments and results, enough to re-derive every number offline.
    Bundle {
        /// A suite name (in the suites folder) or a YAML path.
        suite: String,
        /// The model under test (default: the suite's `default_model`).
        #[arg(long)]
        model: Option<String>,
        /// The bundle's folder.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Recompute every estimate, interval, p-value and verdict of a bundle from the bundle
    /// alone, and its suite's fingerprint from its suite.yaml and datasets; exits non-zero
    /// unless they equal the bundle's results and manifest.
    Replay {
        /// The bundle's folder.
        bundle: PathBuf,
    },
    /// Build a static leaderboard site from a spec (suites × models), running each cell
    /// through the store and writing its bundle into `<out>/bundles/`.
    Leaderboard {
        /// The spec (YAML).
        spec: PathBuf,
        /// The site's folder.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Compare one suite's effects on two models: the difference, its interval (replicas as
    /// the unit) and whether the new model is more or less susceptible, equivalent within the
    /// margin, or inconclusive.
    Compare {
        /// A suite name or YAML path (runs read from the store); omit with --bundles.
        suite: Option<String>,
        /// The new model.
        #[arg(long)]
        model: Option<String>,
        /// The old model.
        #[arg(long)]
        against: Option<String>,
        /// Compare two bundles instead: NEW OLD.
        #[arg(long, num_args = 2, value_names = ["NEW", "OLD"])]
        bundles: Vec<PathBuf>,
        /// The margin (default: the suite's `baseline.margin`).
        #[arg(long)]
        margin: Option<f64>,
    },
}

/// Runs `suite` on `model` through the store (everything stored is reused).
async fn run_suite(
    cli: &Cli,
    s: &LoadedSuite,
    model: &ModelRef,
    cache_only: bool,
) -> Result<(run::RunOutcome, run::SuiteResults, BundleMeta)> {
    let ctx = context(cli, s)?;
    let outcome = run_suite_in(&ctx, s, model, cache_only).await;
    // Whatever the outcome, providers end what they started (deployments included).
    ctx.providers.close().await;
    outcome
}

async fn run_suite_in(
    ctx: &RunContext,
    s: &LoadedSuite,
    model: &ModelRef,
    cache_only: bool,
) -> Result<(run::RunOutcome, run::SuiteResults, BundleMeta)> {
    if let Some(r) = ctx.providers.unavailable(model) {
        bail!("cannot run {} on {model}: {r}", s.suite.name);
    }
    let mut opts = RunOptions::new(model.clone());
    opts.cache_only = cache_only;
    if !cache_only {
        opts.progress = run::Progress::stderr();
    }
    let plan = run::plan(s, model, &ctx.store, &ctx.providers)?;
    let outcome = run::execute(s, &plan, ctx, &opts).await?;
    let results = run::evaluate(s, &outcome)?;
    let meta = BundleMeta::collect(s, &ctx.store)?;
    Ok((outcome, results, meta))
}

/// Reads and replays a bundle; an error unless the replay reproduces its results.
fn replayed(dir: &Path) -> Result<(Bundle, bundle::Replay)> {
    let b = bundle::read(dir)?;
    let r = bundle::replay(&b)?;
    if !r.differences.is_empty() {
        bail!(
            "{}: the replay does not reproduce the bundle: {}",
            dir.display(),
            r.differences.join("; ")
        );
    }
    Ok((b, r))
}

/// Runs one of these commands.
pub async fn dispatch(cli: &Cli, command: &BoardCommand) -> Result<ExitCode> {
    match command {
        BoardCommand::Bundle { suite, model, out } => {
            let s = load(suite, cli)?;
            let model = model_of(&s, model.as_deref())?;
            let (outcome, results, meta) = run_suite(cli, &s, &model, false).await?;
            bundle::write(out, &s, &outcome, &results, &meta)?;
            eprintln!("wrote bundle {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        BoardCommand::Replay { bundle: dir } => {
            let b = bundle::read(dir)?;
            let r = bundle::replay(&b)?;
            print!(
                "{}",
                printable(&weirdgen::report::text(&r.suite, &r.outcome, &r.results))
            );
            if r.differences.is_empty() {
                println!(
                    "replay of {}: the suite's fingerprint and every number equal the bundle's",
                    dir.display()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "replay of {}: DIFFERS from the bundle in {}",
                    dir.display(),
                    r.differences.join("; ")
                );
                Ok(ExitCode::FAILURE)
            }
        }
        BoardCommand::Leaderboard { spec, out } => {
            let spec = Spec::load(spec)?;
            let mut runs = Vec::new();
            for dir in &spec.bundles {
                runs.push(board_run(cli, &spec, dir)?);
            }
            for name in &spec.suites {
                let s = load(name, cli)?;
                for m in &spec.models {
                    if runs.iter().any(|r| {
                        r.bundle.manifest.suite == s.suite.name && r.bundle.manifest.model == *m
                    }) {
                        continue;
                    }
                    let model: ModelRef = m.parse()?;
                    eprintln!("{} on {model}", s.suite.name);
                    let (outcome, results, meta) = run_suite(cli, &s, &model, false).await?;
                    let dir = out
                        .join("bundles")
                        .join(leaderboard::page_name(&s.suite.name, m).trim_end_matches(".html"));
                    bundle::write(&dir, &s, &outcome, &results, &meta)?;
                    runs.push(board_run(cli, &spec, &dir)?);
                }
            }
            let mut board = leaderboard::build(
                &spec.title,
                &spec.description,
                &spec.suites,
                &spec.models,
                &runs,
            )?;
            board.organization = spec.organization.clone();
            leaderboard::write(out, &board, &runs)?;
            eprintln!("wrote {}", out.join("index.html").display());
            Ok(ExitCode::SUCCESS)
        }
        BoardCommand::Compare {
            suite,
            model,
            against,
            bundles,
            margin,
        } => {
            let (new, old) = match (suite, bundles.as_slice()) {
                (None, [n, o]) => (replayed(n)?.1, replayed(o)?.1),
                (Some(name), []) => {
                    let s = load(name, cli)?;
                    let (Some(n), Some(o)) = (model, against) else {
                        bail!("give --model NEW and --against OLD (or --bundles NEW OLD)");
                    };
                    let mut side = Vec::new();
                    for m in [n, o] {
                        let m: ModelRef = m.parse()?;
                        let (outcome, results, _) = run_suite(cli, &s, &m, true)
                            .await
                            .with_context(|| format!("{} on {m} (from the store)", s.suite.name))?;
                        side.push((outcome, results));
                    }
                    let (o, n) = (side.pop().expect("two"), side.pop().expect("two"));
                    let as_replay =
                        |(outcome, results): (run::RunOutcome, run::SuiteResults)| bundle::Replay {
                            suite: s.clone(),
                            outcome,
                            results,
                            results_text: String::new(),
                            differences: Vec::new(),
                        };
                    (as_replay(n), as_replay(o))
                }
                _ => bail!("give a suite with --model and --against, or --bundles NEW OLD"),
            };
            print!("{}", printable(&comparison_text(&new, &old, *margin)?));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A bundle as a leaderboard run: replayed, and marked stale or drifted against the spec.
fn board_run(cli: &Cli, spec: &Spec, dir: &Path) -> Result<Run> {
    let (b, replay) = replayed(dir)?;
    let m = &b.manifest;
    let stale = match load(&m.suite, cli) {
        Ok(current) if current.hash == m.fingerprint => None,
        Ok(current) => Some(format!(
            "made with suite fingerprint {}, the current suite's is {}",
            &m.fingerprint[..12.min(m.fingerprint.len())],
            &current.hash[..12.min(current.hash.len())]
        )),
        Err(e) => Some(format!("the current suite cannot be loaded: {e:#}")),
    };
    let drifted = match (&spec.judge_model, &m.judge_model) {
        (Some(want), Some(got)) if want != got => {
            Some(format!("judged by {got}, the spec's judge model is {want}"))
        }
        _ => None,
    };
    Ok(Run {
        bundle: b,
        replay,
        stale,
        drifted,
    })
}

/// The per-effect comparison of two runs of one suite, as text.
fn comparison_text(
    new: &bundle::Replay,
    old: &bundle::Replay,
    margin: Option<f64>,
) -> Result<String> {
    use std::fmt::Write as _;
    let margin = margin.unwrap_or(new.suite.suite.baseline.margin);
    let mut s = String::new();
    writeln!(
        s,
        "suite {}: {} against {} (margin {margin})",
        new.outcome.suite, new.outcome.model, old.outcome.model
    )?;
    for (i, (decl, _)) in new.results.effects.iter().enumerate() {
        let Some(j) = old
            .results
            .effects
            .iter()
            .position(|(d, _)| d.name() == decl.name())
        else {
            writeln!(s, "  effect `{}`: not in the old run", decl.name())?;
            continue;
        };
        let spec = &new.results.inputs[i].spec;
        let v = compare::versus(
            spec,
            &new.results.inputs[i].data,
            &old.results.inputs[j].data,
            margin,
        );
        let f = &v.forward;
        writeln!(
            s,
            "  effect `{}`: {}\n    new {:+.4} [{:+.4}, {:+.4}], old {:+.4} [{:+.4}, {:+.4}] on {} shared probe cells\n    difference {:+.4}, {:.0}% interval [{:+.4}, {:+.4}]; p(more by > {margin}) = {:.3e}, p(less by > {margin}) = {:.3e}; unit: {:?}",
            decl.name(),
            v.verdict,
            f.new.estimate,
            f.new.ci.0,
            f.new.ci.1,
            f.old.estimate,
            f.old.ci.0,
            f.old.ci.1,
            v.shared_cells,
            f.difference,
            f.level * 100.0,
            f.ci.0,
            f.ci.1,
            f.p_more,
            v.p_less,
            f.new.unit
        )?;
    }
    Ok(s)
}
