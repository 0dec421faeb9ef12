//! Checks of `arms`.

use super::Ck;
use crate::suite::error::{KeyPath, unknown};
use crate::suite::judge_def::JudgeMethod;
use crate::suite::query::probes_scored_by;
use crate::suite::types::{ArmSpec, FinetuneSpec, ScreenSpec};

impl Ck<'_> {
    pub(super) fn arms(&mut self) {
        for (name, arm) in &self.s.arms {
            self.arm(&KeyPath::root().key("arms").key(name.as_str()), arm);
        }
    }

    fn arm(&mut self, key: &KeyPath, a: &ArmSpec) {
        self.exactly_one(
            key,
            "an arm",
            &[
                ("model", a.model.is_some()),
                ("finetune", a.finetune.is_some()),
                ("models", a.models.is_some()),
            ],
        );
        if let Some(m) = &a.model {
            self.model_ref(&key.key("model"), m, true);
        }
        if let Some(ms) = &a.models {
            if ms.is_empty() {
                self.d
                    .at(&key.key("models"), "must list at least one model");
            }
            for (i, m) in ms.iter().enumerate() {
                self.model_ref(&key.key("models").index(i), m, false);
                if ms[..i].contains(m) {
                    self.d.at(
                        &key.key("models").index(i),
                        format!("model `{m}` is listed twice"),
                    );
                }
            }
        }
        match &a.finetune {
            Some(f) => {
                self.finetune(&key.key("finetune"), f);
                self.replicas(key, a);
            }
            None => self.absent(
                key,
                "an arm without `finetune` (only fine-tunes have replicas, seeds and screens)",
                &[
                    ("replicas", a.replicas.is_some()),
                    ("seeds", a.seeds.is_some()),
                    ("screen", a.screen.is_some()),
                ],
            ),
        }
        if let Some(s) = &a.screen {
            self.screen(&key.key("screen"), s);
        }
    }

    fn finetune(&mut self, key: &KeyPath, f: &FinetuneSpec) {
        if !self.s.datasets.contains_key(&f.dataset) {
            let msg = unknown(
                "dataset",
                &f.dataset,
                self.s.datasets.keys().map(String::as_str),
            );
            self.d.at(&key.key("dataset"), msg);
        }
        if f.epochs == Some(0) {
            self.d.at(&key.key("epochs"), "must be at least 1");
        }
        if f.batch_size == Some(0) {
            self.d.at(&key.key("batch_size"), "must be at least 1");
        }
        if let Some(lr) = f.learning_rate_multiplier
            && !(lr > 0.0 && lr.is_finite())
        {
            self.d.at(
                &key.key("learning_rate_multiplier"),
                format!("must be greater than 0, got {lr}"),
            );
        }
        if let Some(m) = &f.from {
            self.model_ref(&key.key("from"), m, true);
        }
    }

    fn replicas(&mut self, key: &KeyPath, a: &ArmSpec) {
        if a.replicas == Some(0) {
            self.d.at(&key.key("replicas"), "must be at least 1");
        }
        let Some(seeds) = &a.seeds else { return };
        if seeds.is_empty() {
            self.d.at(
                &key.key("seeds"),
                "must list one seed per replica (omit it for 1, 2, ...)",
            );
        }
        if let Some(r) = a.replicas
            && r > 0
            && seeds.len() != r as usize
        {
            self.d.at(
                &key.key("seeds"),
                format!(
                    "{} seeds for {r} replicas: give one seed per replica",
                    seeds.len()
                ),
            );
        }
        for (i, s) in seeds.iter().enumerate() {
            if seeds[..i].contains(s) {
                self.d.at(
                    &key.key("seeds").index(i),
                    format!("seed {s} is listed twice: replicas need distinct seeds"),
                );
            }
        }
    }

    fn screen(&mut self, key: &KeyPath, s: &ScreenSpec) {
        let judge = self.metric(&key.key("metric"), &s.metric);
        if s.probes.is_empty() {
            self.d
                .at(&key.key("probes"), "must list at least one probe");
        }
        let scored = probes_scored_by(self.s, &s.metric.judge);
        for (i, p) in s.probes.iter().enumerate() {
            self.measured_probe(
                &key.key("probes").index(i),
                p,
                judge.is_some(),
                &scored,
                &s.metric.judge,
            );
        }
        if let Some(j) = judge {
            let (lo, hi) = JudgeMethod::of(j).value_range();
            if !(lo..=hi).contains(&s.min) {
                self.d.at(
                    &key.key("min"),
                    format!(
                        "must be in [{lo}, {hi}] (the metric's range), got {}",
                        s.min
                    ),
                );
            }
        }
    }

    /// A probe measured by a metric: it exists and (if the judge exists) the judge scores it.
    pub(super) fn measured_probe(
        &mut self,
        key: &KeyPath,
        probe: &str,
        judge_exists: bool,
        scored: &[String],
        judge: &str,
    ) {
        if !self.s.probes.contains_key(probe) {
            let msg = unknown("probe", probe, self.s.probes.keys().map(String::as_str));
            self.d.at(key, msg);
        } else if judge_exists && !scored.iter().any(|p| p == probe) {
            self.d.at(
                key,
                format!(
                    "probe `{probe}` is not scored by judge `{judge}` (add `{judge}` to the probe's `judges`)"
                ),
            );
        }
    }
}
