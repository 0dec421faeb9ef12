//! The screen stage: replicas that fail their arm's in-distribution check are not analysed.

use crate::judge::JudgeOutput;
use crate::run::plan::Plan;
use crate::run::{ArmOutcome, Counts, Judged};
use anyhow::{Context, Result};
use indexmap::IndexMap;

/// Marks the replicas of `arms` below their arm's `screen` minimum as screened out.
pub(super) fn screen(
    plan: &Plan,
    judgments: &IndexMap<String, Vec<Judged>>,
    arms: &mut [ArmOutcome],
    counts: &mut Counts,
) -> Result<()> {
    let cells = &plan.cells;
    for (a, planned) in plan.arms.iter().enumerate() {
        let Some(screen) = &planned.screen else {
            continue;
        };
        let label = screen.metric.label.as_deref();
        let judged = judgments
            .get(&screen.metric.judge)
            .context("screen judge")?;
        for (r, rep) in arms[a].replicas.iter_mut().enumerate() {
            let (mut sum, mut n) = (0.0, 0u64);
            for j in judged
                .iter()
                .filter(|j| j.arm as usize == a && j.replica as usize == r)
            {
                if !screen
                    .probes
                    .iter()
                    .any(|p| *p == cells[j.cell as usize].probe)
                {
                    continue;
                }
                match (&j.output, label) {
                    (JudgeOutput::Label(l), Some(want)) => {
                        sum += f64::from(u8::from(l == want));
                        n += 1;
                    }
                    (JudgeOutput::Score(v), None) => {
                        sum += v;
                        n += 1;
                    }
                    _ => {}
                }
            }
            let value = if n == 0 { 0.0 } else { sum / n as f64 };
            if value < screen.min {
                rep.screened_out = Some(value);
                counts.screened_out += 1;
            }
        }
    }
    Ok(())
}
