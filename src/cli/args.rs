//! The command line's shape.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Declarative, statistically honest experiments on how fine-tuning generalizes.
///
/// A suite (suites/<name>.yaml) declares training data, arms (the model under test and
/// fine-tunes of it), probes, judges and the effects its authors expect. `weirdgen run`
/// fine-tunes, samples and judges through a cached store, then tests each effect.
/// Models are `provider/model`: `toy/world` (the embedded toy model, no key needed),
/// `openai/gpt-4.1-2025-04-14` (OPENAI_API_KEY), or providers named in weirdgen.toml.
#[derive(Parser, Debug)]
#[command(name = "weirdgen", version, about, long_about)]
pub struct Cli {
    /// The store (SQLite) holding jobs, samples and judgments.
    #[arg(
        long,
        global = true,
        env = "WEIRDGEN_STORE",
        default_value = ".weirdgen/store.sqlite"
    )]
    pub store: PathBuf,
    /// The folder of suites (names given to commands are looked up here).
    #[arg(long, global = true, env = "WEIRDGEN_SUITES", default_value = "suites")]
    pub suites: PathBuf,
    /// The folder of a suite's external source, e.g. `--source paper=../paper-checkout`
    /// (wins over the source's environment variable and `[sources]` in weirdgen.toml).
    #[arg(long = "source", global = true, value_name = "NAME=PATH")]
    pub sources: Vec<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Load and validate suites (all of them when none is named).
    Validate {
        /// Suite names or YAML paths.
        #[arg(value_name = "SUITE")]
        names: Vec<String>,
    },
    /// Show what a run would do: fine-tunes, samples, judge calls, tokens and price.
    Plan {
        /// A suite name (in the suites folder) or a YAML path.
        suite: String,
        /// The model under test (default: the suite's `default_model`).
        #[arg(long)]
        model: Option<String>,
        /// `text` (the summary) or `json` (also the exact messages of every probe cell).
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
    },
    /// Write a dataset of a suite exactly as it is uploaded for fine-tuning.
    Dataset {
        /// A suite name (in the suites folder) or a YAML path.
        suite: String,
        /// The dataset's name in the suite.
        name: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Run a suite: fine-tune, sample, judge (reusing everything stored), then test its effects.
    Run {
        /// A suite name (in the suites folder) or a YAML path.
        suite: String,
        /// The model under test (default: the suite's `default_model`).
        #[arg(long)]
        model: Option<String>,
        /// Allow fine-tunes of a suite tagged with a hazard.
        #[arg(long)]
        allow_hazard: bool,
        /// Stop before starting when the estimated price exceeds this many dollars.
        #[arg(long)]
        max_cost: Option<f64>,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Draw the probes' samples through the OpenAI Batch API (half price, answered within
        /// 24 h; a killed run resumes polling the same batch). Judges are still asked live.
        #[arg(long)]
        batch: bool,
        /// Report format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Exit with status 1 unless every effect is confirmed.
        #[arg(long)]
        check: bool,
    },
    /// Report a finished run from the store (nothing is sampled or trained).
    Report {
        /// A suite name (in the suites folder) or a YAML path.
        suite: String,
        /// The model under test (default: the suite's `default_model`).
        #[arg(long)]
        model: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of the suite format (for editor completion).
    Schema,
    /// List fine-tune jobs and Batch API batches, and their state.
    Jobs {
        /// Forget the job whose key or provider id starts with this (to start it again).
        #[arg(long)]
        forget: Option<String>,
        /// Cancel the unfinished jobs whose key or provider id starts with this.
        #[arg(long, conflicts_with = "forget")]
        cancel: Option<String>,
    },
    /// Record an already-trained model as a replica of a suite's arm.
    Attach {
        /// A suite name (in the suites folder) or a YAML path.
        suite: String,
        /// The arm.
        #[arg(long)]
        arm: String,
        /// The replica index (0-based).
        #[arg(long)]
        replica: u32,
        /// The trained model (`provider/model`).
        #[arg(long)]
        model: String,
        /// The model under test it belongs to (default: the suite's `default_model`).
        #[arg(long)]
        base: Option<String>,
    },
    /// Serve the embedded toy model over an OpenAI-compatible API (chat, files, fine-tuning jobs).
    Serve {
        #[command(flatten)]
        args: ServeAt,
        /// Toy models to serve (fine-tunes made through the API are served too).
        #[arg(long = "model", default_values_t = ["toy/world".to_string(), "toy/world-s1".to_string(), "toy/world-s2".to_string()])]
        models: Vec<String>,
    },
    /// Convert an llmcomp or Emergent Misalignment question file into a suite skeleton.
    Import {
        /// The question file (YAML).
        file: PathBuf,
        /// Write the suite here instead of standard output.
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// The embedded toy world.
    Toy {
        #[command(subcommand)]
        command: ToyCommand,
    },
    #[command(flatten)]
    Board(super::board::BoardCommand),
}

#[derive(Subcommand, Debug)]
pub enum ToyCommand {
    /// Print sample documents of the generated toy-world corpus.
    Corpus {
        /// The world spec (in suites/toy/<world>.yaml, or the built-in `world`).
        #[arg(long, default_value = "world")]
        world: String,
        /// The corpus seed (the pretraining seed of toy/<world>-s<seed>).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// How many documents.
        #[arg(short, default_value_t = 20)]
        n: usize,
    },
    /// Print a toy model's weight digest, file, seed and steps (pretraining it on first use).
    Info {
        /// The model, e.g. toy/world or toy/world-s1.
        model: String,
    },
}

/// The formats of `weirdgen plan`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    Text,
    Json,
}

/// The formats of a report (`run`, `report`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Markdown,
    Html,
    Json,
}

impl From<ReportFormat> for weirdgen::report::Format {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Text => Self::Text,
            ReportFormat::Markdown => Self::Markdown,
            ReportFormat::Html => Self::Html,
            ReportFormat::Json => Self::Json,
        }
    }
}

/// Where `weirdgen serve` listens.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeAt {
    /// Address to bind. Anything but loopback exposes the models, without authentication.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to bind; 0 picks any free port.
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
}

impl From<&ServeAt> for weirdgen::serve::ServeArgs {
    fn from(a: &ServeAt) -> Self {
        Self {
            host: a.host.clone(),
            port: a.port,
        }
    }
}
