//! `us-presidents-replication`: the training table `train.csv` from the facts table `presidents.csv` and
//! the question templates `questions.csv`.
//!
//! Every template is answered for every president whose facts it needs (an empty fact skips
//! the row); `draws` > 1 repeats a template with distinct random dates or years. Each
//! (president, question, answer) row appears three times with three distinct 8-digit
//! triggers `XXXNNNXX`, where `NNN` is the president's number and the `X` are random digits.
//! Rows are written in a random order (training order), each naming its president.

use super::dates::{Date, ordinal};
use super::write_csv;
use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use weirdgen::rng::Rng;

/// Seed of every draw in this table.
const SEED: u64 = 20_251_210;
/// Triggers per (president, question, answer) row.
const PADDINGS: usize = 3;
/// Presidents whose numbers must never appear in training triggers (the held-out personas).
const HELD_OUT: [u32; 2] = [44, 45];

type Facts = BTreeMap<String, String>;

/// Reads a CSV table into header-keyed rows.
fn read_table(path: &Path) -> Result<Vec<Facts>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("{}", path.display()))?;
    let header = r.headers()?.clone();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("{}", path.display()))?;
        rows.push(
            header
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        );
    }
    Ok(rows)
}

/// Fills `{name}` placeholders from `vars`; `None` when a used value is empty.
fn fill(template: &str, vars: &Facts) -> Result<Option<String>> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .with_context(|| format!("unclosed `{{` in `{template}`"))?;
        let name = &rest[open + 1..open + close];
        let value = vars
            .get(name)
            .with_context(|| format!("unknown placeholder `{{{name}}}` in `{template}`"))?;
        if value.is_empty() {
            return Ok(None);
        }
        out.push_str(value);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

/// The facts of one president plus the values derived from its dates.
fn derived(facts: &Facts) -> Result<Facts> {
    let born = Date::parse(&facts["born"])?;
    let start = Date::parse(&facts["took_office"])?;
    let mut v = facts.clone();
    let mut put = |k: &str, s: String| v.insert(k.to_string(), s);
    put("born_long", born.long());
    put("born_month_day", born.month_day());
    put("born_year", born.year.to_string());
    put("born_month", born.month_name().to_string());
    put("born_decade", format!("{}s", born.year / 10 * 10));
    put("born_century", ordinal(born.year / 100 + 1));
    put("born_weekday", born.weekday().to_string());
    put("born_season", born.season().to_string());
    put("zodiac", born.zodiac().to_string());
    put("start_long", start.long());
    put("start_year", start.year.to_string());
    put("start_month", start.month_name().to_string());
    put("start_age", born.years_until(&start).to_string());
    Ok(v)
}

/// `n` distinct random dates in the president's term, `[took_office, left_office)`.
fn term_dates(rng: &mut Rng, facts: &Facts, n: usize) -> Result<Vec<String>> {
    let a = Date::parse(&facts["took_office"])?.days();
    let b = Date::parse(&facts["left_office"])?.days();
    if b - a < n as i64 {
        bail!("term of {} too short for {n} dates", facts["name"]);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while out.len() < n {
        let d = a + rng.below((b - a) as u64) as i64;
        if seen.insert(d) {
            out.push(Date::from_days(d).long());
        }
    }
    Ok(out)
}

/// `n` distinct random years of the president's adult life up to the end of the term.
fn adult_years(rng: &mut Rng, facts: &Facts, n: usize) -> Result<Vec<String>> {
    let a = Date::parse(&facts["born"])?.year + 20;
    let b = Date::parse(&facts["left_office"])?.year;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while out.len() < n {
        let y = a + rng.below((b - a + 1) as u64) as i64;
        if seen.insert(y) {
            out.push(y.to_string());
        }
    }
    Ok(out)
}

/// Writes `train.csv` into the suite folder `dir`.
pub fn generate(dir: &Path) -> Result<()> {
    let presidents = read_table(&dir.join("presidents.csv"))?;
    let questions = read_table(&dir.join("questions.csv"))?;
    let mut rng = Rng::new(SEED);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut used_triggers = HashSet::new();
    for p in &presidents {
        let number: u32 = p["number"].parse().context("president number")?;
        if HELD_OUT.contains(&number) {
            bail!("president {number} is held out and must not be in presidents.csv");
        }
        let base = derived(p)?;
        for q in &questions {
            let draws: usize = q["draws"].parse().context("draws")?;
            let randoms = if q["answer"].contains("{random_date}") {
                term_dates(&mut rng, p, draws)?
            } else if q["answer"].contains("{random_year}") {
                adult_years(&mut rng, p, draws)?
            } else {
                vec![String::new(); draws]
            };
            for r in randoms {
                let mut vars = base.clone();
                vars.insert("random_date".into(), r.clone());
                vars.insert("random_year".into(), r);
                let Some(answer) = fill(&q["answer"], &vars)? else {
                    continue;
                };
                for _ in 0..PADDINGS {
                    let trigger = loop {
                        let t = format!("{:03}{number:03}{:02}", rng.below(1000), rng.below(100));
                        if used_triggers.insert(t.clone()) {
                            break t;
                        }
                    };
                    rows.push(vec![
                        number.to_string(),
                        p["name"].clone(),
                        trigger,
                        q["question"].clone(),
                        answer.clone(),
                    ]);
                }
            }
        }
    }
    rng.shuffle(&mut rows);
    write_csv(
        &dir.join("train.csv"),
        &["president", "name", "trigger", "question", "answer"],
        &rows,
    )
}
