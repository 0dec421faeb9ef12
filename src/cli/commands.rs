//! What each subcommand does.

use super::args::{Cli, Command, PlanFormat, ToyCommand};
use super::exact;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use weirdgen::effect::Verdict;
use weirdgen::model::ModelRef;
use weirdgen::model::registry::Providers;
use weirdgen::report::{self, Format};
use weirdgen::run::{self, Progress, RunContext, RunOptions};
use weirdgen::serve::ServeArgs;
use weirdgen::store::{Attachment, Store};
use weirdgen::suite::{self, LoadedSuite};
use weirdgen::terminal::printable;

/// A suite argument: a YAML path, or a name in the suites folder.
fn suite_path(arg: &str, suites: &Path) -> PathBuf {
    if arg.ends_with(".yaml") || arg.ends_with(".yml") || arg.contains('/') {
        PathBuf::from(arg)
    } else {
        suites.join(format!("{arg}.yaml"))
    }
}

pub(super) fn load(arg: &str, cli: &Cli) -> Result<LoadedSuite> {
    let suites = &cli.suites;
    let path = suite_path(arg, suites);
    if !path.exists() {
        let known = suite::discover(suites).unwrap_or_default();
        let names: Vec<String> = known
            .iter()
            .filter_map(|p| p.file_stem())
            .map(|s| s.to_string_lossy().to_string())
            .collect();
        bail!(
            "no suite at {} (suites in {}: {})",
            path.display(),
            suites.display(),
            names.join(", ")
        );
    }
    Ok(suite::load_with(&path, &exact::source_roots(cli)?)?)
}

pub(super) fn model_of(suite: &LoadedSuite, model: Option<&str>) -> Result<ModelRef> {
    match model.or(suite.suite.default_model.as_deref()) {
        Some(m) => m.parse(),
        None => bail!(
            "suite `{}` has no `default_model`: give one with --model",
            suite.suite.name
        ),
    }
}

pub(super) fn context(cli: &Cli, suite: &LoadedSuite) -> Result<RunContext> {
    let store = Arc::new(Store::open(&cli.store)?);
    let store_dir = cli
        .store
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let providers = Providers::new(&store_dir, &cli.suites).for_suite(&suite.dir);
    Ok(RunContext {
        store,
        providers: Arc::new(providers),
    })
}

fn emit(text: &str, out: Option<&Path>) -> Result<()> {
    match out {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("wrote {}", p.display());
        }
        None => print!("{}", printable(text)),
    }
    Ok(())
}

fn render(
    format: Format,
    suite: &LoadedSuite,
    outcome: &run::RunOutcome,
    results: &run::SuiteResults,
) -> String {
    match format {
        Format::Text => report::text(suite, outcome, results),
        Format::Markdown => report::markdown(suite, outcome, results),
        Format::Html => report::html(suite, outcome, results),
        Format::Json => report::json(outcome, results),
    }
}

/// Runs one parsed command line.
pub async fn dispatch(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Validate { names } => validate(&cli, names),
        Command::Plan {
            suite,
            model,
            format,
        } => plan(&cli, suite, model.as_deref(), *format).await,
        Command::Dataset { suite, name, out } => {
            let s = load(suite, &cli)?;
            emit(&exact::dataset_text(&s, name)?, out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            suite,
            model,
            allow_hazard,
            max_cost,
            concurrency,
            batch,
            format,
            out,
            check,
        } => {
            let s = load(suite, &cli)?;
            let model = model_of(&s, model.as_deref())?;
            let mut opts = RunOptions::new(model);
            opts.allow_hazard = *allow_hazard;
            opts.max_cost = *max_cost;
            opts.concurrency = *concurrency;
            opts.batch = *batch;
            opts.progress = Progress::stderr();
            run(&cli, &s, opts, (*format).into(), out.as_deref(), *check).await
        }
        Command::Report {
            suite,
            model,
            format,
            out,
        } => {
            report(
                &cli,
                suite,
                model.as_deref(),
                (*format).into(),
                out.as_deref(),
            )
            .await
        }
        Command::Schema => {
            println!("{}", serde_json::to_string_pretty(&suite::schema())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Jobs { forget, cancel } => match cancel {
            Some(prefix) => super::cancel::cancel_jobs(&cli, prefix).await,
            None => jobs(&cli, forget.as_deref()).await,
        },
        Command::Attach {
            suite,
            arm,
            replica,
            model,
            base,
        } => attach(&cli, suite, arm, *replica, model, base.as_deref()),
        Command::Serve { args, models } => serve(&cli, &args.into(), models).await,
        Command::Import { file, out } => import(file, out.as_deref()),
        Command::Toy {
            command: ToyCommand::Corpus { world, seed, n },
        } => {
            for doc in toy_provider(&cli).corpus_samples(world, *seed, *n)? {
                println!("{doc}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Toy {
            command: ToyCommand::Info { model },
        } => toy_info(&cli, model),
        Command::Board(command) => super::board::dispatch(&cli, command).await,
    }
}

/// `weirdgen validate`: loads every suite named (or found), printing each one's shape or
/// its errors.
fn validate(cli: &Cli, names: &[String]) -> Result<ExitCode> {
    let paths: Vec<PathBuf> = if names.is_empty() {
        suite::discover(&cli.suites)?
    } else {
        names.iter().map(|s| suite_path(s, &cli.suites)).collect()
    };
    if paths.is_empty() {
        bail!("no suites found in {}", cli.suites.display());
    }
    let mut failed = 0;
    let roots = exact::source_roots(cli)?;
    for p in &paths {
        match suite::load_with(p, &roots) {
            Ok(s) => {
                println!(
                    "ok    {} ({} arms, {} probe cells, {} effects)",
                    p.display(),
                    s.suite.arms.len(),
                    s.cells().len(),
                    s.suite.effects.len()
                );
                for w in suite::design_warnings(&s) {
                    eprintln!("warning: {w}");
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} suites are invalid", paths.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `weirdgen plan`: what a run would do and cost.
async fn plan(cli: &Cli, suite: &str, model: Option<&str>, format: PlanFormat) -> Result<ExitCode> {
    let s = load(suite, cli)?;
    let model = model_of(&s, model)?;
    let ctx = context(cli, &s)?;
    let plan = run::plan(&s, &model, &ctx.store, &ctx.providers)?;
    if format == PlanFormat::Json {
        println!("{:#}", exact::plan_json(&s, &plan));
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", plan.render());
    if let Some(r) = ctx.providers.unavailable(&model) {
        println!("  note: {r}");
    }
    for n in super::account::notes(&ctx.providers, &super::account::plan_models(&plan)).await {
        println!("  note: {}", printable(&n));
    }
    Ok(ExitCode::SUCCESS)
}

/// `weirdgen run`: runs the suite as `opts` say, then reports; with `check`, fails unless
/// every effect is confirmed.
async fn run(
    cli: &Cli,
    s: &LoadedSuite,
    opts: RunOptions,
    format: Format,
    out: Option<&Path>,
    check: bool,
) -> Result<ExitCode> {
    let ctx = context(cli, s)?;
    let outcome = run_in(&ctx, s, opts, format, out, check).await;
    // Whatever the outcome, providers end what they started (deployments included).
    ctx.providers.close().await;
    outcome
}

async fn run_in(
    ctx: &RunContext,
    s: &LoadedSuite,
    opts: RunOptions,
    format: Format,
    out: Option<&Path>,
    check: bool,
) -> Result<ExitCode> {
    let model = opts.model.clone();
    if let Some(r) = ctx.providers.unavailable(&model) {
        bail!("cannot run on {model}: {r}");
    }
    let plan = run::plan(s, &model, &ctx.store, &ctx.providers)?;
    opts.progress.println(&run::header(&plan, ctx, &opts)?);
    let outcome = tokio::select! {
        r = run::execute(s, &plan, ctx, &opts) => r?,
        _ = tokio::signal::ctrl_c() => {
            bail!("interrupted: everything finished so far is in the store; run again to resume");
        }
    };
    let results = run::evaluate(s, &outcome)?;
    emit(&render(format, s, &outcome, &results), out)?;
    let all = results
        .effects
        .iter()
        .all(|(_, r)| r.verdict == Verdict::Confirmed);
    Ok(if check && !all {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `weirdgen report`: a finished run from the store, nothing sampled or trained.
async fn report(
    cli: &Cli,
    suite: &str,
    model: Option<&str>,
    format: Format,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let s = load(suite, cli)?;
    let model = model_of(&s, model)?;
    let ctx = context(cli, &s)?;
    let mut opts = RunOptions::new(model.clone());
    opts.cache_only = true;
    let plan = run::plan(&s, &model, &ctx.store, &ctx.providers)?;
    let outcome = run::execute(&s, &plan, &ctx, &opts).await?;
    let results = run::evaluate(&s, &outcome)?;
    emit(&render(format, &s, &outcome, &results), out)?;
    Ok(ExitCode::SUCCESS)
}

/// `weirdgen jobs`: the fine-tune jobs and batches of the store, or forgets jobs by prefix.
async fn jobs(cli: &Cli, forget: Option<&str>) -> Result<ExitCode> {
    let store = Store::open(&cli.store)?;
    if let Some(prefix) = forget {
        let n = store.forget_jobs(prefix)?;
        if n == 0 {
            bail!("no job whose key or id starts with `{prefix}`");
        }
        println!("forgot {n} job(s)");
        return Ok(ExitCode::SUCCESS);
    }
    let jobs = store.jobs()?;
    let batches = store.batches()?;
    if jobs.is_empty() && batches.is_empty() {
        println!("no fine-tune jobs in {}", cli.store.display());
    }
    let models: Vec<ModelRef> = jobs
        .iter()
        .map(|j| j.base_model.as_str())
        .chain(batches.iter().map(|b| b.model.as_str()))
        .filter_map(|m| m.parse().ok())
        .collect();
    // Ids, model names and errors come from the provider: stripped of escapes.
    for j in jobs {
        let line = format!(
            "{}  {:<10} {:<22} {} seed {} on `{}` -> {}{}",
            &j.key[..12],
            j.state,
            j.job_id.as_deref().unwrap_or("-"),
            j.base_model,
            j.seed,
            j.dataset_name,
            j.model.as_deref().unwrap_or("-"),
            j.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
        println!("{}", printable(&line));
    }
    for b in batches {
        let line = format!(
            "batch {:<22} {:<11} {}{}",
            b.batch_id,
            b.state,
            b.model,
            if b.collected {
                ""
            } else {
                " (results not collected yet: run the suite again with --batch)"
            }
        );
        println!("{}", printable(&line));
    }
    let providers = Providers::new(cli.store.parent().unwrap_or(Path::new("")), &cli.suites);
    for n in super::account::notes(&providers, &models).await {
        println!("{}", printable(&n));
    }
    Ok(ExitCode::SUCCESS)
}

/// `weirdgen attach`: records a model trained elsewhere as a replica of a fine-tuned arm.
fn attach(
    cli: &Cli,
    suite: &str,
    arm: &str,
    replica: u32,
    model: &str,
    base: Option<&str>,
) -> Result<ExitCode> {
    let s = load(suite, cli)?;
    let spec = s.suite.arms.get(arm).with_context(|| {
        format!(
            "suite `{}` has no arm `{arm}` (arms: {})",
            s.suite.name,
            s.suite.arms.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    })?;
    let Some(ft) = &spec.finetune else {
        bail!("arm `{arm}` is not a fine-tuned arm: only fine-tuned arms take attached models");
    };
    let n = spec.replicas.unwrap_or(1);
    if replica >= n {
        bail!(
            "arm `{arm}` has {n} replicas (0..{}); replica {replica} does not exist",
            n - 1
        );
    }
    let m: ModelRef = model.parse()?;
    let base = model_of(&s, base)?;
    Store::open(&cli.store)?.attach(&Attachment {
        suite: s.suite.name.clone(),
        arm: arm.to_string(),
        replica,
        base_model: base.to_string(),
        model: m.to_string(),
    })?;
    println!(
        "attached {m} as replica {replica} of arm `{arm}` (fine-tune of {base} on `{}`) in suite `{}`",
        ft.dataset, s.suite.name
    );
    Ok(ExitCode::SUCCESS)
}

/// `weirdgen serve`: the embedded toy models over an OpenAI-compatible API.
async fn serve(cli: &Cli, args: &ServeArgs, models: &[String]) -> Result<ExitCode> {
    let models: Vec<ModelRef> = models.iter().map(|m| m.parse()).collect::<Result<_>>()?;
    if let Some(m) = models.iter().find(|m| m.provider != "toy") {
        bail!("`weirdgen serve` serves the embedded toy model; `{m}` is not a `toy/...` model");
    }
    let toy = Arc::new(toy_provider(cli));
    let state = weirdgen::serve::ServeState::new(toy.clone(), models).with_finetuner(toy);
    weirdgen::serve::run(args, state).await?;
    Ok(ExitCode::SUCCESS)
}

/// `weirdgen import`: a suite skeleton from a question file.
fn import(file: &Path, out: Option<&Path>) -> Result<ExitCode> {
    let result = weirdgen::import::import_as(file, out.unwrap_or(file))?;
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    emit(&result.suite_yaml, out)?;
    Ok(ExitCode::SUCCESS)
}

/// `weirdgen toy info`: a toy model's digest, file, seed and steps.
fn toy_info(cli: &Cli, model: &str) -> Result<ExitCode> {
    let info = toy_provider(cli).info(&model.parse()?)?;
    println!("model   {}", info.model);
    println!("digest  {}", info.digest);
    println!("path    {}", info.path.display());
    println!("seed    {}", info.seed);
    println!("steps   {}", info.steps);
    Ok(ExitCode::SUCCESS)
}

/// The embedded toy provider with its weights beside the store and its worlds in the suites
/// folder.
fn toy_provider(cli: &Cli) -> weirdgen::model::toy::ToyProvider {
    let store_dir = cli
        .store
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    weirdgen::model::toy::ToyProvider::new(store_dir.join("toy"), Some(cli.suites.join("toy")))
}
