//! The static site: `index.html` (models × effects) and one page per suite × model, through
//! a template engine that escapes every value (model output is untrusted). The pages load
//! nothing: styles and the sorting script are inline, the script allowed by its hash in the
//! page's Content-Security-Policy, which forbids every request and every other script.

use super::board::{Board, BoardCell, Run, page_name};
use super::svg::{self, Point};
use crate::effect::{Aggregate, Scale, Verdict};
use crate::judge::JudgeOutput;
use crate::report::cell_name;
use anyhow::{Context, Result};
use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::Digest as _;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Samples shown per arm, replica and probe cell in a page's drill-down (all of them are in
/// the bundle's `answers.jsonl`).
pub const SHOWN_SAMPLES: usize = 5;

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}\
th[data-col]{cursor:pointer;background:#f4f4f4}.confirmed{background:#e3f4e3}\
.refuted{background:#f8e0e0}.inconclusive{background:#f6f1dc}.tie{font-weight:bold}\
.badge{font-size:80%;border-radius:3px;padding:0 3px;margin-left:3px;background:#333;color:#fff}\
.stale,.drifted{outline:2px dashed #c44e52}.whisker{stroke:#222;stroke-width:1.5}\
.grid{stroke:#e4e4e4}.axis{stroke:#888}.tick{font-size:10px;fill:#444}.fig-title{font-size:12px;fill:#222}\
pre{white-space:pre-wrap;margin:0}.answer{max-width:40em}";

/// Sorts the board's rows by a column's estimate (or by model); each cell keeps its own
/// tie-group mark, so sorting never changes who is tied with the leader.
const SORT_SCRIPT: &str = "document.querySelectorAll('th[data-col]').forEach(function(th){\
th.addEventListener('click',function(){var col=th.getAttribute('data-col');\
var body=document.querySelector('#board tbody');var desc=th.getAttribute('data-order')!=='desc';\
th.setAttribute('data-order',desc?'desc':'asc');var rows=Array.prototype.slice.call(body.rows);\
function key(r){if(col==='model')return r.getAttribute('data-model');\
var c=r.querySelector('td[data-col=\"'+col+'\"]');var v=c?c.getAttribute('data-sort'):null;\
return v===null||v===''?NaN:parseFloat(v);}\
rows.sort(function(a,b){var x=key(a),y=key(b);if(typeof x==='string')return desc?y.localeCompare(x):x.localeCompare(y);\
if(isNaN(x))return isNaN(y)?0:1;if(isNaN(y))return -1;return desc?y-x:x-y;});\
rows.forEach(function(r){body.appendChild(r);});});});";

/// The Content-Security-Policy of every page: nothing may be fetched, only the sorting
/// script runs.
fn csp() -> String {
    let hash = sha2::Sha256::digest(SORT_SCRIPT.as_bytes());
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp());
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Confirmed => "confirmed",
        Verdict::Refuted => "refuted",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// A small whisker of `c`'s interval on the column's common scale `lo..hi`.
fn whisker(c: &BoardCell, lo: f64, hi: f64) -> Markup {
    let (w, pad) = (90.0, 4.0);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let x = |v: f64| pad + (w - 2.0 * pad) * (v - lo) / span;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(w) height="12" class="mini" {
            @if lo < 0.0 && hi > 0.0 {
                line x1=(x(0.0)) x2=(x(0.0)) y1="0" y2="12" stroke="#bbb" {}
            }
            line class="whisker" x1=(x(c.ci.0)) x2=(x(c.ci.1)) y1="6" y2="6" {}
            circle cx=(x(c.estimate)) cy="6" r="3" fill="#222" {}
        }
    }
}

/// `index.html`.
pub fn index(board: &Board) -> Markup {
    let ranges: Vec<(f64, f64)> = (0..board.columns.len())
        .map(|c| {
            board
                .rows
                .iter()
                .filter_map(|r| r.cells[c].as_ref())
                .filter(|x| x.ci.0.is_finite() && x.ci.1.is_finite())
                .fold((0.0f64, 0.0f64), |(lo, hi), x| {
                    (lo.min(x.ci.0), hi.max(x.ci.1))
                })
        })
        .collect();
    page(
        &board.title,
        html! {
            h1 { (board.title) }
            @if !board.description.is_empty() { p { (board.description) } }
            p {
                "Each cell: the effect's estimate, its interval (whisker, at the level of the verdict's tests) and the verdict (colour). "
                span.badge { "=1" } " marks the leader's tie group: models not shown to differ from the most susceptible one "
                "(two-sided comparison on the shared probe cells, paired by replica, Holm-corrected over every pair of models on the effect). "
                "Groups are computed once: sorting a column reorders rows, never the groups. Click a column header to sort."
            }
            table #board {
                thead {
                    tr {
                        th data-col="model" { "model" }
                        @for (i, col) in board.columns.iter().enumerate() {
                            th data-col=(i) title=(col.claim) { (col.suite) br; (col.effect) }
                        }
                    }
                }
                tbody {
                    @for row in &board.rows {
                        tr data-model=(row.model) {
                            th { (row.model) }
                            @for (i, cell) in row.cells.iter().enumerate() {
                                @match cell {
                                    Some(c) => {
                                        @let class = format!("cell {}{}{}{}", verdict_class(c.verdict),
                                            if c.tied_with_leader { " tie" } else { "" },
                                            if c.stale.is_some() { " stale" } else { "" },
                                            if c.drifted.is_some() { " drifted" } else { "" });
                                        td class=(class) data-col=(i) data-sort=(c.estimate) data-tie=(u8::from(c.tied_with_leader))
                                            data-rank=(c.rank) {
                                            a href=(c.page) { (format!("{:+.3}", c.estimate)) }
                                            " " (whisker(c, ranges[i].0, ranges[i].1)) br;
                                            (format!("[{:+.3}, {:+.3}] ", c.ci.0, c.ci.1))
                                            (verdict_class(c.verdict)) ", rank " (c.rank)
                                            @if c.tied_with_leader { span.badge title="in the leader's tie group" { "=1" } }
                                            @if let Some(s) = &c.stale { span.badge title=(s) { "stale" } }
                                            @if let Some(d) = &c.drifted { span.badge title=(d) { "drifted" } }
                                        }
                                    }
                                    None => { td data-col=(i) data-sort="" { "-" } }
                                }
                            }
                        }
                    }
                }
            }
            p { "Also: " a href="leaderboard.json" { "leaderboard.json" } ", " a href="leaderboard.csv" { "leaderboard.csv" } ", "
                a href="leaderboard.md" { "leaderboard.md" } "." }
            script { (PreEscaped(SORT_SCRIPT)) }
        },
    )
}

/// Per cell and arm of `agg`: the pooled value with its 95% interval (Wilson for rates).
fn rates(agg: &Aggregate) -> Vec<Vec<Option<Point>>> {
    let named: HashMap<(String, String), Point> = crate::report::cell_rates(agg)
        .into_iter()
        .map(|r| {
            (
                (r.cell, r.arm),
                Point {
                    value: r.value,
                    ci: r.ci,
                },
            )
        })
        .collect();
    agg.cells
        .iter()
        .map(|c| {
            agg.arms
                .iter()
                .map(|a| named.get(&(cell_name(c), a.name.clone())).copied())
                .collect()
        })
        .collect()
}

/// The figures of one metric: bars per probe cell by arm (cells the metric's judge scores), and a line with a band for each
/// probe that sweeps one numeric variable over three or more values.
fn figures(metric: &str, agg: &Aggregate) -> Markup {
    let y = match agg.scale {
        Scale::Binary => (0.0, 1.0),
        Scale::Score { min, max } => (min, max),
    };
    let arms: Vec<String> = agg.arms.iter().map(|a| a.name.clone()).collect();
    let values = rates(agg);
    let groups: Vec<(String, Vec<Option<Point>>)> = agg
        .cells
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .map(|(c, v)| (cell_name(c), v.clone()))
        .collect();
    let mut sweeps: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, c) in agg.cells.iter().enumerate() {
        if let [(var, value)] = c.vars.iter().collect::<Vec<_>>()[..]
            && value.parse::<f64>().is_ok()
        {
            sweeps
                .entry((c.probe.clone(), var.clone()))
                .or_default()
                .push(i);
        }
    }
    html! {
        (svg::bars(&format!("{metric}: rate per probe cell and arm (95% interval)"), &arms, &groups, y))
        @for ((probe, var), cells) in sweeps.iter().filter(|(_, c)| c.len() >= 3) {
            @let series: Vec<Vec<(f64, Point)>> = (0..arms.len()).map(|a| {
                let mut s: Vec<(f64, Point)> = cells.iter().filter_map(|&i| {
                    let x: f64 = agg.cells[i].vars[var].parse().ok()?;
                    values[i][a].filter(|p| p.value.is_finite()).map(|p| (x, p))
                }).collect();
                s.sort_by(|p, q| p.0.total_cmp(&q.0));
                s
            }).collect();
            (svg::sweep(&format!("{metric} on {probe} over {var} (95% band)"), var, &arms, &series, y))
        }
    }
}

fn output_text(o: &JudgeOutput) -> String {
    match o {
        JudgeOutput::Label(l) => l.clone(),
        JudgeOutput::Score(s) => format!("{s}"),
        JudgeOutput::Missing(why) => format!("missing ({why})"),
    }
}

/// Judge and label of each sample, by (arm, replica, cell, sample).
type Labels<'a> = HashMap<(&'a str, u32, u32, u32), Vec<(String, String)>>;

/// One suite × model page.
pub fn run_page(run: &Run, bundle_link: Option<&str>) -> Markup {
    let m = &run.bundle.manifest;
    let results = &run.replay.results;
    let outcome = &run.replay.outcome;
    let mut labels: Labels = HashMap::new();
    for j in &run.bundle.judgments {
        labels
            .entry((j.arm.as_str(), j.replica, j.cell, j.sample))
            .or_default()
            .push((j.judge.clone(), output_text(&j.output)));
    }
    html! {
        p { a href="index.html" { "← leaderboard" } }
        h1 { (m.suite) " on " (m.model) }
        @if let Some(s) = &run.stale { p.stale { "Stale: " (s) } }
        @if let Some(d) = &run.drifted { p.drifted { "Drifted: " (d) } }
        table {
            tr { th { "suite fingerprint" } td { code { (m.fingerprint) } } }
            tr { th { "weirdgen" } td { (m.weirdgen_version) } }
            tr { th { "judge model" } td { (m.judge_model.as_deref().unwrap_or("none (rule judges only)")) } }
            tr { th { "bundle written" } td { (m.created) } }
            tr { th { "bundle" } td {
                @match bundle_link { Some(l) => a href=(l) { (l) }, None => code { (run.bundle.dir.display().to_string()) } }
                " (replay: " code { "weirdgen replay <bundle>" } ")"
            } }
            @for a in &m.arms {
                tr { th { "arm " (a.name) } td {
                    @for r in &a.replicas {
                        code { (r.model) }
                        @if let Some(f) = &r.finetune { " (job " (f.job_id.as_deref().unwrap_or("-")) ", seed " (f.seed) ", dataset " (f.dataset) ")" }
                        @if let Some(v) = r.screened_out { " screened out at " (v) }
                        br;
                    }
                } }
            }
        }
        h2 { "Effects" }
        table {
            tr { th { "effect" } th { "claim" } th { "estimate" } th { "interval" } th { "p" } th { "p adjusted" } th { "verdict" } th { "method" } }
            @for (decl, r) in &results.effects {
                tr class=(verdict_class(r.verdict)) {
                    td { (r.name) }
                    td { (decl.description.as_deref().unwrap_or("")) }
                    td { (format!("{:+.4}", r.estimate)) }
                    td { (format!("[{:+.4}, {:+.4}]", r.ci.0, r.ci.1)) }
                    td { (format!("{:.2e}", r.p_value)) }
                    td { (format!("{:.2e}", r.p_adjusted)) }
                    td { (verdict_class(r.verdict)) }
                    td { (r.method) }
                }
            }
        }
        h2 { "Figures" }
        @for (key, agg) in &results.metrics {
            (figures(&key.to_string(), agg))
        }
        h2 { "Answers and their judge labels" }
        p { "The first " (SHOWN_SAMPLES) " samples of each arm, replica and probe cell; every sample is in the bundle's answers.jsonl." }
        @for (c, cell) in outcome.cells.iter().enumerate() {
            details {
                summary { (cell.probe) " " (format!("{:?}", cell.vars)) " — " (cell.question) }
                table {
                    tr { th { "arm" } th { "replica" } th { "sample" } th { "answer" } th { "labels" } }
                    @for (a, arm) in outcome.arms.iter().enumerate() {
                        @for (r, per_cell) in outcome.answers[a].iter().enumerate() {
                            @for (s, text) in per_cell[c].iter().take(SHOWN_SAMPLES).enumerate() {
                                tr {
                                    td { (arm.name) } td { (r) } td { (s) }
                                    td.answer { pre { (text) } }
                                    td { @for (j, l) in labels.get(&(arm.name.as_str(), r as u32, c as u32, s as u32)).map(Vec::as_slice).unwrap_or(&[]) {
                                        (j) ": " (l) br;
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Writes the site into `out`: `index.html`, a page per run, `leaderboard.json`,
/// `leaderboard.csv`, `leaderboard.md` and each run's Every Eval Ever log in
/// `every_eval_ever/`.
pub fn write(out: &Path, board: &Board, runs: &[Run]) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let put = |name: &str, text: String| {
        let p = out.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
    };
    put("index.html", index(board).into_string())?;
    for run in runs {
        let m = &run.bundle.manifest;
        let name = page_name(&m.suite, &m.model);
        let link = run
            .bundle
            .dir
            .strip_prefix(out)
            .ok()
            .map(|p| format!("{}/manifest.json", p.display()));
        let title = format!("{} on {}", m.suite, m.model);
        put(
            &name,
            page(&title, run_page(run, link.as_deref())).into_string(),
        )?;
    }
    put("leaderboard.json", crate::bundle::json_text(board)?)?;
    put("leaderboard.csv", super::export::csv(board)?)?;
    put("leaderboard.md", super::export::markdown(board))?;
    let eee = out.join(super::every_eval_ever::FOLDER);
    std::fs::create_dir_all(&eee).with_context(|| format!("cannot create {}", eee.display()))?;
    for run in runs {
        let (name, log) = super::every_eval_ever::log(board, run);
        let p = eee.join(name);
        std::fs::write(&p, crate::bundle::json_text(&log)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}
