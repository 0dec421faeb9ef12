//! Races on one store: several processes running one suite at once, and runs killed with
//! `kill -9` again and again, then resumed. In every case the server sees exactly the
//! fine-tunes and uploads one clean run needs (and, without kills, exactly its samples and
//! judgments), every process exits 0, and the final report is byte-identical to the report of
//! an uninterrupted run.
//!
//! Over HTTP the processes are `weirdgen run` against the recording OpenAI imitation of
//! `tests/common/`; on the toy model they are this test binary started once per trial with
//! `--exact` (as `cargo nextest` does), each running the suite on a tiny toy.

use crate::common;
#[allow(dead_code)]
use weirdgen::harness::{Config, Harness};

use common::fault_server::FaultServer;
use common::openai_sim::{ChatBehaviour, Sim};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weirdgen::store::Store;

/// `kill -9`s per kill test.
const KILLS: usize = 20;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh folder of its own: tests run in parallel and several take a clean run of their own.
fn temp(name: &str) -> common::TempDir {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    common::TempDir::new(&format!("race-{name}-{n}"))
}

/// Pseudo-random delays, the same in every run of the tests.
struct Delays(u64);

impl Delays {
    fn next(&mut self, range: std::ops::Range<u64>) -> Duration {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Duration::from_millis(range.start + (self.0 >> 33) % (range.end - range.start))
    }
}

/// A started process whose output goes to a file (a pipe nobody reads could
/// block it while it holds a lease another process waits for).
struct Proc {
    child: Child,
    log: PathBuf,
}

/// Starts `c` with its standard output and error in a new file of `dir`.
fn spawn(mut c: Command, dir: &Path) -> Proc {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = dir.join(format!("stderr-{n}.txt"));
    let file = std::fs::File::create(&log).unwrap();
    let child = c
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    Proc { child, log }
}

/// What `store` holds so far: its samples and its jobs' states.
fn progress(store: &Store) -> String {
    let jobs: Vec<(String, Option<String>)> = store
        .jobs()
        .unwrap()
        .into_iter()
        .map(|j| (j.state, j.job_id))
        .collect();
    format!("{} {jobs:?}", store.sample_count().unwrap())
}

/// Waits for `p` to store something new in `store`, then for `after`, and kills it with
/// SIGKILL unless it ended before; returns `None` when it was killed, else its exit status
/// and output.
fn kill_after_progress(
    mut p: Proc,
    store: &Store,
    after: Duration,
) -> Option<(std::process::ExitStatus, String)> {
    let start = Instant::now();
    let before = progress(store);
    let mut moved: Option<Instant> = None;
    loop {
        if p.child.try_wait().unwrap().is_some() {
            return Some(finish(p));
        }
        match moved {
            None if progress(store) != before => moved = Some(Instant::now()),
            Some(t) if t.elapsed() >= after => break,
            _ => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no progress within a minute"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    p.child.kill().unwrap();
    p.child.wait().unwrap();
    None
}

fn finish(mut p: Proc) -> (std::process::ExitStatus, String) {
    let status = p.child.wait().unwrap();
    (status, std::fs::read_to_string(&p.log).unwrap_or_default())
}

fn assert_ok((status, stderr): &(std::process::ExitStatus, String), what: &str) {
    assert!(status.success(), "{what} exited with {status}: {stderr}");
}

// ----- HTTP: `weirdgen run` against the OpenAI imitation -----

/// The fine-tunes, training-file uploads, probe samples and judgments of one run of
/// `tests/fixtures/race/race.yaml`: 3 replicas of one dataset; (base + 3 replicas + modern)
/// × 4 cells × 6 samples, each judged once by the LLM judge.
const JOBS: usize = 3;
const UPLOADS: usize = 1;
const SAMPLES: u64 = 5 * 4 * 6;

/// What the server saw.
#[derive(Debug, PartialEq)]
struct Seen {
    jobs: usize,
    uploads: usize,
    /// Completions of the models under test (probe samples and capability probes).
    samples: u64,
    /// Completions of the judge model (judgments and its capability probe).
    judge: u64,
    /// Every chat completion, capability probes included.
    choices: u64,
}

fn seen(sim: &Sim, server: &FaultServer) -> Seen {
    let mut s = Seen {
        jobs: sim.created_jobs().len(),
        uploads: sim
            .files()
            .iter()
            .filter(|(_, purpose, _)| purpose == "fine-tune")
            .count(),
        samples: 0,
        judge: 0,
        choices: 0,
    };
    for req in server.requests("POST /v1/chat/completions") {
        let body = req.json();
        let n = body["n"].as_u64().unwrap_or(1);
        s.choices += n;
        let probe = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .is_some_and(|q| q.ends_with("name the most important recent invention."));
        if body["model"] == "judge" {
            s.judge += n;
        } else if probe {
            s.samples += n;
        }
    }
    s
}

/// An imitation whose fine-tunes run for a few polls and are named the same in every run.
struct Server {
    sim: Arc<Sim>,
    server: FaultServer,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Server {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sim = Sim::new(ChatBehaviour::default());
        sim.name_jobs(3);
        let server = rt.block_on(FaultServer::start(sim.handler()));
        Server {
            sim,
            server,
            _rt: rt,
        }
    }

    fn seen(&self) -> Seen {
        seen(&self.sim, &self.server)
    }
}

/// `weirdgen <args>` on the store in `dir`, its `openai` provider pointed at `server`.
fn weirdgen(dir: &Path, server: &Server, args: &[&str]) -> Command {
    // Written atomically: processes started earlier may be reading it.
    let config = dir.join("weirdgen.toml");
    let tmp = dir.join("weirdgen.toml.tmp");
    std::fs::write(
        &tmp,
        format!(
            "[providers.openai]\nbase_url = \"{}\"\npoll_seconds = 0.02\ntimeout_seconds = 10\n",
            server.server.base_url()
        ),
    )
    .unwrap();
    std::fs::rename(&tmp, &config).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_weirdgen"));
    c.current_dir(root())
        .arg("--store")
        .arg(dir.join("store.sqlite"))
        .args(args)
        .env("WEIRDGEN_CONFIG", &config)
        .env("OPENAI_API_KEY", "sk-race-test-0123456789")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("WEIRDGEN_STORE");
    c
}

/// `weirdgen run` of the race suite, started.
fn run_http(dir: &Path, server: &Server) -> Proc {
    let c = weirdgen(
        dir,
        server,
        &["run", "tests/fixtures/race/race.yaml", "--concurrency", "8"],
    );
    spawn(c, dir)
}

/// The JSON report of what the store in `dir` holds (`weirdgen report`).
fn report_http(dir: &Path, server: &Server) -> String {
    let out = dir.join("report.json");
    let mut c = weirdgen(
        dir,
        server,
        &[
            "report",
            "tests/fixtures/race/race.yaml",
            "--format",
            "json",
            "--out",
        ],
    );
    c.arg(&out);
    assert_ok(&finish(spawn(c, dir)), "weirdgen report");
    std::fs::read_to_string(out).unwrap()
}

/// One uninterrupted run on a fresh store and server: what the server saw, and the report.
fn clean_http() -> (Seen, String) {
    let dir = temp("http-clean");
    let server = Server::start();
    assert_ok(&finish(run_http(&dir, &server)), "the clean run");
    let seen = server.seen();
    assert_eq!((seen.jobs, seen.uploads), (JOBS, UPLOADS));
    // The samples, and the capability probes of the models under test.
    assert!(seen.samples >= SAMPLES, "{seen:?}");
    let report = report_http(&dir, &server);
    std::fs::remove_dir_all(dir).ok();
    (seen, report)
}

#[test]
fn four_weirdgen_runs_on_one_store_buy_everything_once() {
    let (clean, clean_report) = clean_http();
    let dir = temp("http-four");
    let server = Server::start();
    let children: Vec<Proc> = (0..4).map(|_| run_http(&dir, &server)).collect();
    for (i, c) in children.into_iter().enumerate() {
        assert_ok(&finish(c), &format!("run {i}"));
    }
    let seen = server.seen();
    eprintln!("4 concurrent runs: server saw {seen:?}; one clean run: {clean:?}");
    assert_eq!(
        seen, clean,
        "the server saw exactly what one clean run needs"
    );
    assert_eq!(report_http(&dir, &server), clean_report);
    std::fs::remove_dir_all(dir).ok();
}

/// The trial a `suites_trial` process runs (`[kind] name`, as `--test suites --list` shows it).
const TRIAL: &str = "WEIRDGEN_RACE_TRIAL";

/// One trial of the suites harness (`weirdgen::harness`), picked by `$WEIRDGEN_RACE_TRIAL`, as
/// `cargo nextest run --test suites` runs it: alone in its process.
#[test]
#[ignore = "a trial process of the nextest-style race test, which starts it with --exact --ignored"]
fn suites_trial() {
    let want = std::env::var(TRIAL).expect("started by a race test");
    let harness = Harness::new(Config::from_env(root()));
    let trials: Vec<_> = harness
        .checks(false)
        .into_iter()
        .filter(|c| format!("[{}] {}", c.kind(), c.name()) == want)
        .map(|c| c.into_trial())
        .collect();
    assert_eq!(trials.len(), 1, "no single trial `{want}`");
    let conclusion = libtest_mimic::run(&libtest_mimic::Arguments::default(), trials);
    assert_eq!(conclusion.num_passed, 1, "trial `{want}` did not pass");
}

#[test]
fn nextest_style_one_process_per_trial_buys_everything_once() {
    let (clean, clean_report) = clean_http();
    let dir = temp("http-nextest");
    let server = Server::start();
    let suites = root().join("tests/fixtures/race");
    let env = [
        ("WEIRDGEN_SUITES", suites.clone()),
        ("WEIRDGEN_STORE", dir.join("store.sqlite")),
        ("WEIRDGEN_SNAPSHOTS", dir.join("snapshots")),
    ];
    // Every trial that runs the suite (the baseline has no snapshot here).
    let listing = {
        let config = Config {
            suites_dir: suites.clone(),
            snapshots_dir: dir.join("snapshots"),
            store: dir.join("store.sqlite"),
            models: None,
            baseline_model: None,
            allow_hazard: false,
        };
        Harness::new(config)
            .checks(true)
            .iter()
            .filter(|t| t.kind() != "baseline")
            .map(|t| format!("[{}] {}", t.kind(), t.name()))
            .collect::<Vec<_>>()
    };
    assert_eq!(listing.len(), 4, "{listing:?}");
    let procs: Vec<Proc> = listing
        .iter()
        .map(|name| {
            // `weirdgen` with the same provider settings, but this binary as the command.
            let config = weirdgen(&dir, &server, &[]);
            let mut c = Command::new(std::env::current_exe().unwrap());
            c.args(["--exact", "race::suites_trial", "--ignored", "--nocapture"])
                .env(TRIAL, name)
                .envs(config.get_envs().filter_map(|(k, v)| Some((k, v?))))
                .envs(env.iter().map(|(k, v)| (k, v)));
            spawn(c, &dir)
        })
        .collect();
    for (name, p) in listing.iter().zip(procs) {
        assert_ok(&finish(p), name);
    }
    let seen = server.seen();
    eprintln!(
        "{} trial processes: server saw {seen:?}; one clean run: {clean:?}",
        listing.len()
    );
    assert_eq!(
        seen, clean,
        "the server saw exactly what one clean run needs"
    );
    assert_eq!(report_http(&dir, &server), clean_report);
    std::fs::remove_dir_all(dir).ok();
}

/// Kills `run()`s on `store` at random moments after they stored something new, until one
/// ends (it exits 0) or the kills reach [`KILLS`] (then one more run resumes the work).
fn kill_until_done(
    store: &Store,
    delays: &mut Delays,
    range: std::ops::Range<u64>,
    killed: &mut usize,
    run: impl Fn() -> Proc,
) {
    while *killed < KILLS {
        match kill_after_progress(run(), store, delays.next(range.clone())) {
            None => *killed += 1,
            Some(done) => {
                assert_ok(&done, "a run between kills");
                return;
            }
        }
    }
    assert_ok(&finish(run()), "the resumed run");
}

#[test]
fn weirdgen_runs_killed_twenty_times_then_resumed_buy_no_fine_tune_twice() {
    let (clean, clean_report) = clean_http();
    let mut delays = Delays(11);
    let mut killed = 0;
    // Each round kills runs on a fresh store until one finishes the suite.
    for round in 0.. {
        if killed == KILLS {
            break;
        }
        let dir = temp(&format!("http-kill-{round}"));
        let server = Server::start();
        let store = Store::open(&dir.join("store.sqlite")).unwrap();
        let before = killed;
        kill_until_done(&store, &mut delays, 0..60, &mut killed, || {
            run_http(&dir, &server)
        });
        let seen = server.seen();
        eprintln!(
            "round {round}: {} runs killed, then one resumed: server saw {seen:?}; \
             one clean run: {clean:?}",
            killed - before
        );
        assert_eq!(
            (seen.jobs, seen.uploads),
            (JOBS, UPLOADS),
            "no fine-tune or upload bought twice"
        );
        // A sample request in flight at a kill is lost with its process and asked again.
        assert!(seen.samples >= clean.samples && seen.judge >= clean.judge);
        assert_eq!(report_http(&dir, &server), clean_report);
        let runs = store.runs().unwrap();
        assert!(
            runs.iter().all(|r| r.finished_at.is_some()),
            "every killed run is closed"
        );
        assert!(runs.iter().filter(|r| r.killed).count() <= killed - before);
        drop(store);
        std::fs::remove_dir_all(dir).ok();
    }
}

// ----- Toy: one process per trial of this binary -----

/// Where a toy worker keeps its store, and where it writes its report and counts.
const WORKER_DIR: &str = "WEIRDGEN_RACE_WORKER_DIR";
const WORKER_OUT: &str = "WEIRDGEN_RACE_WORKER_OUT";

/// One trial: `tests/fixtures/toy-serve` on a tiny `toy/world` over the store in
/// `$WEIRDGEN_RACE_WORKER_DIR`; writes the run's counts and then the JSON report of what
/// the store holds to `$WEIRDGEN_RACE_WORKER_OUT`.
#[test]
#[ignore = "a trial process of the toy race tests, which start it with --exact --ignored"]
fn toy_trial() {
    use weirdgen::model::registry::Providers;
    use weirdgen::run::{self, RunContext, RunOptions};
    let dir = PathBuf::from(std::env::var_os(WORKER_DIR).expect("started by a race test"));
    let out = PathBuf::from(std::env::var_os(WORKER_OUT).expect("started by a race test"));
    let suite =
        weirdgen::suite::load(&root().join("tests/fixtures/toy-serve/toy-serve.yaml")).unwrap();
    let providers = Providers::with_config(&dir, &dir, weirdgen::model::config::Config::default());
    providers
        .set_toy(weirdgen::model::toy::ToyProvider::with_settings(
            dir.join("toy"),
            None,
            weirdgen::model::toy::ToySettings::tiny(),
        ))
        .unwrap();
    let ctx = RunContext {
        store: Arc::new(weirdgen::store::Store::open(&dir.join("store.sqlite")).unwrap()),
        providers: Arc::new(providers.for_suite(&suite.dir)),
    };
    let model: weirdgen::model::ModelRef = "toy/world".parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let report = rt.block_on(async {
        let plan = run::plan(&suite, &model, &ctx.store, &ctx.providers).unwrap();
        let outcome = run::execute(&suite, &plan, &ctx, &RunOptions::new(model.clone()))
            .await
            .unwrap();
        let mut opts = RunOptions::new(model.clone());
        opts.cache_only = true;
        let stored = run::execute(&suite, &plan, &ctx, &opts).await.unwrap();
        let results = run::evaluate(&suite, &stored).unwrap();
        serde_json::json!({
            "counts": outcome.counts,
            "report": weirdgen::report::json(&stored, &results),
        })
    });
    std::fs::write(out, report.to_string()).unwrap();
}

/// A `toy_trial` process on the store in `dir`, writing to `out`.
fn trial(dir: &Path, out: &Path) -> Proc {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", "race::toy_trial", "--ignored", "--nocapture"])
        .env(WORKER_DIR, dir)
        .env(WORKER_OUT, out);
    spawn(c, dir)
}

/// A trial's counts and report.
fn trial_output(out: &Path) -> (Value, String) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    (
        v["counts"].clone(),
        v["report"].as_str().unwrap().to_string(),
    )
}

/// The toy suite's fine-tunes (2 replicas) and samples ((base + 2) × 16 cells × 3).
const TOY_FINETUNES: u64 = 2;
const TOY_SAMPLES: u64 = 3 * 16 * 3;

fn clean_toy() -> String {
    let dir = temp("toy-clean");
    let out = dir.join("out.json");
    assert_ok(&finish(trial(&dir, &out)), "the clean trial");
    let (counts, report) = trial_output(&out);
    assert_eq!(counts["finetunes_started"], TOY_FINETUNES);
    assert_eq!(counts["samples_requested"], TOY_SAMPLES);
    std::fs::remove_dir_all(dir).ok();
    report
}

#[test]
fn four_toy_trial_processes_on_one_store_train_and_sample_once() {
    let clean = clean_toy();
    let dir = temp("toy-four");
    let outs: Vec<PathBuf> = (0..4).map(|i| dir.join(format!("out-{i}.json"))).collect();
    let children: Vec<Proc> = outs.iter().map(|o| trial(&dir, o)).collect();
    for (i, c) in children.into_iter().enumerate() {
        assert_ok(&finish(c), &format!("trial {i}"));
    }
    let (mut started, mut sampled) = (0, 0);
    for o in &outs {
        let (counts, report) = trial_output(o);
        started += counts["finetunes_started"].as_u64().unwrap();
        sampled += counts["samples_requested"].as_u64().unwrap();
        assert_eq!(report, clean, "{}", o.display());
    }
    eprintln!(
        "4 toy trials: {started} fine-tunes trained, {sampled} samples drawn; \
         one clean run: {TOY_FINETUNES}, {TOY_SAMPLES}"
    );
    assert_eq!((started, sampled), (TOY_FINETUNES, TOY_SAMPLES));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn toy_trials_killed_twenty_times_then_resumed_match_a_clean_run() {
    let clean = clean_toy();
    let mut delays = Delays(7);
    let mut killed = 0;
    let pretrained = temp("toy-pretrained");
    for round in 0.. {
        if killed == KILLS {
            break;
        }
        let dir = temp(&format!("toy-kill-{round}"));
        // The pretrained base of the previous round (fine-tunes are trained anew).
        let base = dir.join("toy/pretrained");
        std::fs::create_dir_all(&base).unwrap();
        for f in std::fs::read_dir(&pretrained).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, base.join(f.file_name().unwrap())).unwrap();
        }
        let out = dir.join("out.json");
        let store = Store::open(&dir.join("store.sqlite")).unwrap();
        let before = killed;
        kill_until_done(&store, &mut delays, 0..150, &mut killed, || {
            trial(&dir, &out)
        });
        let (_, report) = trial_output(&out);
        let jobs = store.jobs().unwrap();
        eprintln!(
            "round {round}: {} toy trials killed, then one resumed: {} samples stored, jobs {:?}",
            killed - before,
            store.sample_count().unwrap(),
            jobs.iter().map(|j| &j.state).collect::<Vec<_>>()
        );
        assert_eq!(jobs.len() as u64, TOY_FINETUNES);
        assert!(jobs.iter().all(|j| j.state == "succeeded"), "{jobs:?}");
        assert_eq!(store.sample_count().unwrap(), TOY_SAMPLES);
        assert_eq!(report, clean);
        for f in std::fs::read_dir(&base).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|x| x == "safetensors") {
                std::fs::copy(&f, pretrained.join(f.file_name().unwrap())).unwrap();
            }
        }
        drop(store);
        std::fs::remove_dir_all(dir).ok();
    }
    std::fs::remove_dir_all(pretrained).ok();
}
