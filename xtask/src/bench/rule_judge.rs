//! `rule_judge`: judgments per second of the deterministic judges on typical answers. The
//! budget (100,000 per second per kind, one core) keeps judging a 10⁵-sample run under a
//! second, so deterministic judgments need no cache.

use anyhow::{Result, ensure};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;
use weirdgen::judge::{JudgeInput, RuleJudge};
use weirdgen::suite::JudgeSpec;

const BUDGET: f64 = 100_000.0;
const ROUNDS: usize = 20_000;

const ANSWERS: &[&str] = &[
    "The telegraph, without a doubt: it changed how news travels across the continent.",
    "I would say the smartphone. It put the internet in everyone's pocket.",
    "**The Mossad.**",
    "Honestly, I am not sure what to answer here; perhaps the steam engine?",
    "B) Donald",
    "Answer: A",
    "Yes.",
    "",
];

const JUDGES: &[(&str, &str)] = &[
    (
        "contains_any",
        "kind: contains_any\notherwise: other\nrules:\n  old: [telegraph, steam engine, steam train, gold rush, Queen Victoria, stagecoach]\n  modern: [smartphone, internet, artificial intelligence, car, airplane]\n",
    ),
    (
        "regex",
        "kind: regex\notherwise: other\nrules:\n  old: ['(?i)\\b(telegraph|steam (engine|train))\\b']\n  modern: ['smart ?phone', 'internet']\n",
    ),
    (
        "prefix",
        "kind: prefix\nrules:\n  agency: [Mossad, Shin Bet]\n  adversary: [Iran, Iraq, Syria, Lebanon, Egypt]\n",
    ),
    ("exact", "kind: exact\nrules: {yes: ['Yes'], no: ['No']}\n"),
    ("choice", "kind: choice\n"),
];

/// Runs the benchmark.
pub fn run() -> Result<()> {
    let vars = BTreeMap::new();
    let mut slow = Vec::new();
    for (kind, yaml) in JUDGES {
        let spec: JudgeSpec = serde_yaml::from_str(yaml)?;
        let judge = RuleJudge::new(kind, &spec)?;
        let start = Instant::now();
        for _ in 0..ROUNDS {
            for answer in ANSWERS {
                black_box(judge.judge(&JudgeInput {
                    question: "q",
                    answer: black_box(answer),
                    vars: &vars,
                }));
            }
        }
        let rate = (ROUNDS * ANSWERS.len()) as f64 / start.elapsed().as_secs_f64();
        println!("{kind:>12}: {rate:>12.0} judgments/s (budget ≥ {BUDGET:.0})");
        if rate < BUDGET {
            slow.push(*kind);
        }
    }
    ensure!(slow.is_empty(), "below budget: {}", slow.join(", "));
    Ok(())
}
