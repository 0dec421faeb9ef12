//! Run bundles, offline replay and the leaderboard site, end to end on tiny toy models
//! (pretrained in seconds): each run's bundle replays to the same numbers, also from another
//! folder; a tampered judgment is caught; the site has every cell, tie groups that sorting
//! cannot move, escaped model output, and (with Debian's `chromium`) a real browser that
//! sorts the table, runs no injected script and makes no request.

use crate::common;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weirdgen::bundle::{self, BundleMeta};
use weirdgen::leaderboard::{self, Run};
use weirdgen::model::ModelRef;
use weirdgen::model::registry::Providers;
use weirdgen::model::toy::{ToyProvider, ToySettings};
use weirdgen::run::{self, RunContext, RunOptions};
use weirdgen::store::Store;

const MODELS: [&str; 3] = ["toy/world-s0", "toy/world-s1", "toy/world-s2"];
/// Model output that must never run as markup.
const HOSTILE: &str =
    "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("board-{name}"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Runs the toy-serve suite on each tiny model and writes its bundle; returns the bundles'
/// folders.
fn bundles(dir: &Path) -> Vec<PathBuf> {
    let suite_path = root().join("tests/fixtures/toy-serve/toy-serve.yaml");
    let suite = weirdgen::suite::load(&suite_path).unwrap();
    let providers = Providers::new(dir, &root().join("tests/fixtures/toy-serve"));
    providers
        .set_toy(ToyProvider::with_settings(
            dir.join("toy"),
            None,
            ToySettings::tiny(),
        ))
        .unwrap();
    let ctx = RunContext {
        store: Arc::new(Store::open(&dir.join("store.sqlite")).unwrap()),
        providers: Arc::new(providers),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    MODELS
        .iter()
        .map(|m| {
            let model: ModelRef = m.parse().unwrap();
            let plan = run::plan(&suite, &model, &ctx.store, &ctx.providers).unwrap();
            let outcome = rt
                .block_on(run::execute(&suite, &plan, &ctx, &RunOptions::new(model)))
                .unwrap();
            let results = run::evaluate(&suite, &outcome).unwrap();
            let meta = BundleMeta::collect(&suite, &ctx.store).unwrap();
            let out = dir.join("bundles").join(m.replace('/', "_"));
            bundle::write(&out, &suite, &outcome, &results, &meta).unwrap();
            out
        })
        .collect()
}

/// Replaces the text of `answers.jsonl`'s first line with `text` (answers are not numbers:
/// the replay must still reproduce the results).
fn plant_answer(dir: &Path, text: &str) {
    let path = dir.join("answers.jsonl");
    let body = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = body.lines().map(String::from).collect();
    let mut first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    first["text"] = text.into();
    lines[0] = first.to_string();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

fn site(dir: &Path, dirs: &[PathBuf]) -> (leaderboard::Board, PathBuf) {
    let runs: Vec<Run> = dirs
        .iter()
        .map(|d| {
            let b = bundle::read(d).unwrap();
            let replay = bundle::replay(&b).unwrap();
            assert!(replay.differences.is_empty(), "{:?}", replay.differences);
            Run {
                bundle: b,
                replay,
                stale: None,
                drifted: None,
            }
        })
        .collect();
    let models: Vec<String> = MODELS.iter().map(|m| m.to_string()).collect();
    let board = leaderboard::build(
        "Tiny toy board",
        "test",
        &["toy-serve".to_string()],
        &models,
        &runs,
    )
    .unwrap();
    let out = dir.join("site");
    leaderboard::write(&out, &board, &runs).unwrap();
    (board, out)
}

#[test]
fn bundles_replay_and_build_a_safe_leaderboard() {
    let dir = temp_dir("e2e");
    let dirs = bundles(&dir);

    // Replay from the bundle alone reproduces results.json byte for byte, also after the
    // bundle is copied to another folder (and the store is gone).
    std::fs::remove_file(dir.join("store.sqlite")).unwrap();
    for d in &dirs {
        let b = bundle::read(d).unwrap();
        let r = bundle::replay(&b).unwrap();
        assert!(
            r.differences.is_empty(),
            "{}: {:?}",
            d.display(),
            r.differences
        );
        assert_eq!(
            r.results_text,
            std::fs::read_to_string(d.join("results.json")).unwrap()
        );
        assert_eq!(r.results.effects.len(), 2);
        let moved = dir.join("elsewhere").join(d.file_name().unwrap());
        copy_dir(d, &moved);
        let again = bundle::replay(&bundle::read(&moved).unwrap()).unwrap();
        assert_eq!(again.results_text, r.results_text);
        // The manifest records the fine-tunes behind the replicas, with their seeds.
        let tuned = b
            .manifest
            .arms
            .iter()
            .find(|a| a.name == "old_birds")
            .unwrap();
        assert_eq!(tuned.replicas.len(), 2);
        for rep in &tuned.replicas {
            let f = rep
                .finetune
                .as_ref()
                .expect("the fine-tune job is recorded");
            assert_eq!(f.dataset, "old_birds");
            assert!(f.job_id.is_some());
        }
        assert_eq!(b.answers.len(), 16 * 3 * 3, "one line per sample");
    }

    // A changed judgment is caught by the replay.
    let tampered = dir.join("tampered");
    copy_dir(&dirs[0], &tampered);
    let path = tampered.join("judgments.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let flipped = if text.contains("{\"label\":\"other\"}") {
        text.replacen("{\"label\":\"other\"}", "{\"label\":\"old\"}", 1)
    } else {
        text.replacen("{\"label\":\"old\"}", "{\"label\":\"other\"}", 1)
    };
    assert_ne!(flipped, text);
    std::fs::write(&path, flipped).unwrap();
    let r = bundle::replay(&bundle::read(&tampered).unwrap()).unwrap();
    assert!(
        !r.differences.is_empty(),
        "a changed judgment must change the numbers"
    );

    // The bundle holds the suite's file and datasets: the replay recomputes the fingerprint
    // the manifest states, and a changed dataset row, suite file or resolved suite is caught
    // although every number still replays.
    let b = bundle::read(&dirs[0]).unwrap();
    assert_eq!(
        bundle::fingerprint_of(&b.suite_yaml, &b.datasets),
        b.manifest.fingerprint
    );
    assert_eq!(b.datasets.len(), 1, "the old_birds dataset");
    for (file, from, to) in [
        ("datasets.jsonl", "oldname_03", "oldname_33"),
        ("suite.yaml", "samples: 3", "samples: 4"),
        ("suite.json", "\"min_effect\": 0.3", "\"min_effect\": 0.2"),
    ] {
        let copy = dir.join(format!("tampered-{file}"));
        copy_dir(&dirs[0], &copy);
        let text = std::fs::read_to_string(copy.join(file)).unwrap();
        assert!(text.contains(from), "{file}");
        std::fs::write(copy.join(file), text.replacen(from, to, 1)).unwrap();
        let r = bundle::replay(&bundle::read(&copy).unwrap()).unwrap();
        let want = if file == "suite.json" {
            "suite.json"
        } else {
            "the suite fingerprint"
        };
        assert!(
            r.differences.iter().any(|d| d.starts_with(want)),
            "{file}: {:?}",
            r.differences
        );
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_weirdgen"))
            .arg("replay")
            .arg(&copy)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{file}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("DIFFERS"));
    }

    // The same through the command line: `replay` fails on the tampered copy only, and
    // `compare` reads two bundles (each effect is on the 8 cells its judge scores).
    let weirdgen = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_weirdgen"))
            .args(args)
            .output()
            .unwrap()
    };
    let ok = weirdgen(&["replay".as_ref(), dirs[0].as_os_str()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("fingerprint and every number equal"));
    let bad = weirdgen(&["replay".as_ref(), tampered.as_os_str()]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stdout).contains("DIFFERS"));
    let cmp = weirdgen(&[
        "compare".as_ref(),
        "--bundles".as_ref(),
        dirs[1].as_os_str(),
        dirs[0].as_os_str(),
    ]);
    let text = String::from_utf8_lossy(&cmp.stdout);
    assert!(cmp.status.success(), "{text}");
    assert_eq!(text.matches("  effect `").count(), 2, "{text}");
    assert!(text.contains("on 8 shared probe cells"), "{text}");

    // Untrusted output in an answer: the numbers still replay, the page escapes it.
    plant_answer(&dirs[1], HOSTILE);
    let (board, out) = site(&dir, &dirs);
    assert_eq!(board.rows.len(), 3);
    assert_eq!(board.columns.len(), 2);
    for (c, col) in board.columns.iter().enumerate() {
        let cells: Vec<_> = board
            .rows
            .iter()
            .map(|r| r.cells[c].clone().unwrap())
            .collect();
        let leader = cells.iter().find(|x| x.rank == 1).unwrap();
        assert!(
            leader.tied_with_leader,
            "{}: the leader is in its group",
            col.effect
        );
        let mut ranks: Vec<usize> = cells.iter().map(|x| x.rank).collect();
        ranks.sort();
        assert_eq!(ranks, [1, 2, 3]);
        for x in &cells {
            // Ranked by estimate, most susceptible first (both effects are `increase`).
            assert!(x.estimate <= leader.estimate);
            let q = x.p_vs_leader_adjusted;
            assert_eq!(x.tied_with_leader, q.is_none_or(|q| q >= 0.05), "{q:?}");
        }
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(
        index.matches("<td class=\"cell ").count(),
        6,
        "every cell renders"
    );
    assert!(!index.contains("http://") || !index.contains("src=\"http"));
    let page_name = leaderboard::page_name("toy-serve", MODELS[1]);
    let page = std::fs::read_to_string(out.join(&page_name)).unwrap();
    assert!(
        page.contains("&lt;script&gt;document.title="),
        "the answer is shown, escaped"
    );
    assert!(!page.contains("<script>document.title"));
    assert!(!page.contains("<img src=x"));
    for p in [&index, &page] {
        assert!(
            p.contains("default-src 'none'"),
            "the page may fetch nothing"
        );
        assert!(!p.contains("src=\"http") && !p.contains("href=\"http"));
    }
    let json: leaderboard::Board =
        serde_json::from_str(&std::fs::read_to_string(out.join("leaderboard.json")).unwrap())
            .unwrap();
    assert_eq!(json, board);
    let csv = std::fs::read_to_string(out.join("leaderboard.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 6);
    let md = std::fs::read_to_string(out.join("leaderboard.md")).unwrap();
    assert_eq!(md.lines().count(), 2 + 2);
    every_eval_ever(&dir, &out, &board, &dirs);

    browser(&dir, &out, &board, &page_name);
    std::fs::remove_dir_all(&dir).ok();
}

/// The site's Every Eval Ever export: one log per run, each valid against the vendored
/// upstream schema (which rejects a broken copy), each result the board's estimate with its
/// interval, and the same bytes when the bundles are written again at another time.
fn every_eval_ever(dir: &Path, out: &Path, board: &leaderboard::Board, dirs: &[PathBuf]) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/every_eval_ever/eval.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let folder = out.join(leaderboard::every_eval_ever::FOLDER);
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), MODELS.len(), "one log per run: {names:?}");
    for (m, model) in MODELS.iter().enumerate() {
        let name = leaderboard::page_name("toy-serve", model).replace(".html", ".json");
        let text = std::fs::read_to_string(folder.join(&name)).unwrap();
        let log: serde_json::Value = serde_json::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert_eq!(log["model_info"]["id"], *model);
        assert_eq!(log["eval_library"]["name"], "weirdgen");
        assert_eq!(log["eval_library"]["version"], env!("CARGO_PKG_VERSION"));
        let results = log["evaluation_results"].as_array().unwrap();
        assert_eq!(results.len(), board.columns.len());
        for (c, col) in board.columns.iter().enumerate() {
            let cell = board.rows[m].cells[c].as_ref().unwrap();
            let r = results
                .iter()
                .find(|r| r["evaluation_name"] == format!("weirdgen.toy-serve.{}", col.effect))
                .unwrap();
            let s = &r["score_details"];
            assert_eq!(s["score"].as_f64().unwrap(), cell.estimate);
            let ci = &s["uncertainty"]["confidence_interval"];
            assert_eq!(ci["lower"].as_f64().unwrap(), cell.ci.0);
            assert_eq!(ci["upper"].as_f64().unwrap(), cell.ci.1);
            assert_eq!(ci["confidence_level"].as_f64().unwrap(), col.level);
            // Two replicas of the tuned arm (against the fixed base model): replicas are the unit.
            assert_eq!(s["uncertainty"]["num_samples"], 2);
            let se = s["uncertainty"]["standard_error"]["value"]
                .as_f64()
                .unwrap();
            assert!(se > 0.0 && se < cell.ci.1 - cell.ci.0, "{se}");
            assert_eq!(
                s["details"]["tied_with_leader"],
                cell.tied_with_leader.to_string()
            );
        }
        // A document the schema must reject: each break alone fails validation.
        for (path, value) in [
            ("/source_metadata/evaluator_relationship", json!("self")),
            ("/evaluation_results/0/score_details/score", json!("0.5")),
            (
                "/model_info/additional_details/deployment_type",
                json!("cloud"),
            ),
        ] {
            let mut broken = log.clone();
            *broken.pointer_mut(path).unwrap() = value;
            assert!(!validator.is_valid(&broken), "{path} must be rejected");
        }
        let mut broken = log.clone();
        broken.as_object_mut().unwrap().remove("eval_library");
        assert!(!validator.is_valid(&broken), "eval_library is required");
    }
    // Written again at another time, the bundles give the same logs: the timestamps come
    // from the run record, not the clock.
    let again = dir.join("again");
    let moved: Vec<PathBuf> = dirs
        .iter()
        .map(|d| {
            let to = again.join("bundles").join(d.file_name().unwrap());
            copy_dir(d, &to);
            let path = to.join("manifest.json");
            let mut manifest: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            manifest["created"] = json!("Thu, 01 Jan 2099 00:00:00 GMT");
            std::fs::write(&path, manifest.to_string()).unwrap();
            to
        })
        .collect();
    let (_, out2) = site(&again, &moved);
    for name in &names {
        assert_eq!(
            std::fs::read(folder.join(name)).unwrap(),
            std::fs::read(out2.join(leaderboard::every_eval_ever::FOLDER).join(name)).unwrap(),
            "{name}"
        );
    }
}

/// The site in headless chromium, when it is installed: a harness page loads the board in a
/// frame (`--allow-file-access-from-files` makes the file pages one origin), sorts every
/// column both ways and reads back the rows, the tie marks, the title the hostile answer
/// would change, and the resources each page fetched.
fn browser(dir: &Path, out: &Path, board: &leaderboard::Board, page: &str) {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok()
    }) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs chromium: the browser test must run there"
        );
        eprintln!("chromium is not installed: the browser part is skipped");
        return;
    };
    let harness = format!(
        r#"<!DOCTYPE html><html><body><pre id="out"></pre>
<iframe id="board" src="index.html"></iframe><iframe id="page" src="{page}"></iframe>
<script>
var log = [];
function ties(d) {{
  var m = [];
  d.querySelectorAll('#board tbody tr').forEach(function(r) {{
    r.querySelectorAll('td[data-col]').forEach(function(c) {{
      m.push(r.getAttribute('data-model') + '/' + c.getAttribute('data-col') + '=' + c.getAttribute('data-tie') + ':' + c.getAttribute('data-rank'));
    }});
  }});
  return m.sort().join(' ');
}}
function order(d) {{
  return Array.prototype.map.call(d.querySelectorAll('#board tbody tr'), function(r) {{ return r.getAttribute('data-model'); }}).join(',');
}}
window.onload = function() {{ try {{
  var d = document.getElementById('board').contentDocument;
  var p = document.getElementById('page').contentDocument;
  log.push('cells ' + d.querySelectorAll('td.cell').length);
  var before = ties(d);
  d.querySelectorAll('th[data-col]').forEach(function(th) {{
    th.click(); log.push('sorted ' + th.getAttribute('data-col') + ' desc ' + order(d) + ' ties ' + (ties(d) === before));
    th.click(); log.push('sorted ' + th.getAttribute('data-col') + ' asc ' + order(d) + ' ties ' + (ties(d) === before));
  }});
  log.push('title ' + p.title);
  log.push('escaped ' + (p.body.textContent.indexOf('<scr' + "ipt>document.title='pwned'</scr" + 'ipt>') >= 0));
  log.push('scripts ' + p.querySelectorAll('script').length + ' imgs ' + p.querySelectorAll('img').length);
  log.push('requests ' + (document.getElementById('board').contentWindow.performance.getEntriesByType('resource').length
    + document.getElementById('page').contentWindow.performance.getEntriesByType('resource').length));
  }} catch (e) {{ log.push('error ' + e); }}
  document.getElementById('out').textContent = log.join('\n');
}};
</script></body></html>"#
    );
    std::fs::write(out.join("harness.html"), harness).unwrap();
    let profile = dir.join("chromium-profile");
    let run = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
        ])
        .arg(format!("file://{}", out.join("harness.html").display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&run.stdout);
    let log: Vec<&str> = dom
        .split("<pre id=\"out\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| {
            panic!(
                "no result from chromium:\n{dom}\n{}",
                String::from_utf8_lossy(&run.stderr)
            )
        })
        .lines()
        .collect();
    eprintln!("{}", log.join("\n"));
    assert_eq!(
        log[0],
        format!("cells {}", board.rows.len() * board.columns.len())
    );
    let sorts: Vec<&&str> = log.iter().filter(|l| l.starts_with("sorted ")).collect();
    assert_eq!(
        sorts.len(),
        2 * (board.columns.len() + 1),
        "every column sorts both ways"
    );
    for s in &sorts {
        assert!(s.ends_with(" ties true"), "sorting moved a tie group: {s}");
    }
    // Sorting a column by its estimate puts the rows in the estimates' order.
    for (c, _) in board.columns.iter().enumerate() {
        let mut rows: Vec<(f64, &str)> = board
            .rows
            .iter()
            .map(|r| (r.cells[c].as_ref().unwrap().estimate, r.model.as_str()))
            .collect();
        rows.sort_by(|a, b| b.0.total_cmp(&a.0));
        let desc = format!("sorted {c} desc ");
        let line = sorts.iter().find(|l| l.starts_with(&desc)).unwrap();
        let got: Vec<&str> = line[desc.len()..]
            .split(" ties")
            .next()
            .unwrap()
            .split(',')
            .collect();
        let got_est: Vec<f64> = got
            .iter()
            .map(|m| rows.iter().find(|r| r.1 == *m).unwrap().0)
            .collect();
        assert!(got_est.windows(2).all(|w| w[0] >= w[1]), "{line}");
    }
    let title = format!("title toy-serve on {}", MODELS[1]);
    assert!(
        log.contains(&title.as_str()),
        "an injected script ran: {log:?}"
    );
    assert!(log.contains(&"escaped true"));
    assert!(log.contains(&"scripts 0 imgs 0"), "{log:?}");
    assert!(log.contains(&"requests 0"), "{log:?}");
}
