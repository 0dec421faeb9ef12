//! Semantic checks of a parsed suite: every reference resolves, every combination of keys
//! makes sense, every number is in range. All problems are collected, not just the first.
//! Dataset contents (files, columns, rows) are checked where they are read: `super::datasets`.

mod arms;
mod datasets;
mod effects;

pub use effects::design_warnings;
mod judges;
mod probes;

use super::diags::Diags;
use super::error::{KeyPath, quoted_list};
use super::types::{SamplingDefaults, Suite};
use crate::model::ModelRef;

/// Checks everything but the datasets' contents; `stem` is the file's name without `.yaml`.
pub(crate) fn check(suite: &Suite, stem: &str, d: &mut Diags) {
    let mut ck = Ck { s: suite, d };
    ck.suite_keys(stem);
    ck.datasets();
    ck.arms();
    ck.probes();
    ck.judges();
    ck.effects();
}

/// The checker: the suite and where problems go.
struct Ck<'a> {
    s: &'a Suite,
    d: &'a mut Diags,
}

impl Ck<'_> {
    fn suite_keys(&mut self, stem: &str) {
        let r = KeyPath::root();
        let s = self.s;
        if !crate::names::is_name(&s.name) || s.name.contains('_') {
            self.d.at(
                &r.key("name"),
                format!(
                    "`{}` is not a valid suite name: use letters, digits and `-`",
                    s.name
                ),
            );
        } else if s.name != stem {
            self.d.at(
                &r.key("name"),
                format!(
                    "the name `{}` differs from the file's name `{stem}`: name the file `{}.yaml` or the suite `{stem}`",
                    s.name, s.name
                ),
            );
        }
        if let Some(m) = &s.default_model {
            self.model_ref(&r.key("default_model"), m, false);
        }
        if let Some(m) = &s.judge_model {
            self.model_ref(&r.key("judge_model"), m, false);
        }
        if s.hazard.as_deref().is_some_and(|h| h.trim().is_empty()) {
            self.d
                .at(&r.key("hazard"), "must name a hazard class when given");
        }
        self.sampling_defaults(&r.key("sampling"), &s.sampling);
        for (section, names) in [
            ("datasets", s.datasets.keys().collect::<Vec<_>>()),
            ("arms", s.arms.keys().collect()),
            ("probes", s.probes.keys().collect()),
            ("judges", s.judges.keys().collect()),
        ] {
            for n in names {
                self.name(&r.key(section).key(n.as_str()), n);
            }
        }
        if s.arms.is_empty() {
            self.d.at(&r.key("arms"), "at least one arm is required");
        }
        if s.probes.is_empty() {
            self.d
                .at(&r.key("probes"), "at least one probe is required");
        }
        if !(s.baseline.margin > 0.0 && s.baseline.margin.is_finite()) {
            self.d.at(
                &r.key("baseline").key("margin"),
                format!("must be greater than 0, got {}", s.baseline.margin),
            );
        }
        let a = &s.judge_agreement;
        if !(0.0..=1.0).contains(&a.min_accuracy) {
            self.d.at(
                &r.key("judge_agreement").key("min_accuracy"),
                format!("must be in [0, 1], got {}", a.min_accuracy),
            );
        }
        if !(-1.0..=1.0).contains(&a.min_kappa) {
            self.d.at(
                &r.key("judge_agreement").key("min_kappa"),
                format!("must be in [-1, 1], got {}", a.min_kappa),
            );
        }
    }

    fn sampling_defaults(&mut self, key: &KeyPath, s: &SamplingDefaults) {
        self.sampling(
            key,
            Some(s.samples),
            Some(s.temperature),
            s.top_p,
            Some(s.max_tokens),
        );
    }

    /// Range checks shared by the suite's sampling defaults and each probe's overrides.
    fn sampling(
        &mut self,
        key: &KeyPath,
        samples: Option<u32>,
        temperature: Option<f64>,
        top_p: Option<f64>,
        max_tokens: Option<u32>,
    ) {
        if samples == Some(0) {
            self.d.at(&key.key("samples"), "must be at least 1");
        }
        if let Some(t) = temperature {
            self.temperature(&key.key("temperature"), t);
        }
        if let Some(p) = top_p
            && !(p > 0.0 && p <= 1.0)
        {
            self.d
                .at(&key.key("top_p"), format!("must be in (0, 1], got {p}"));
        }
        if max_tokens == Some(0) {
            self.d.at(&key.key("max_tokens"), "must be at least 1");
        }
    }

    fn temperature(&mut self, key: &KeyPath, t: f64) {
        if !(0.0..=2.0).contains(&t) {
            self.d.at(key, format!("must be in [0, 2], got {t}"));
        }
    }

    /// Names of datasets, arms, probes, judges and effects: letters, digits, `-` and `_`.
    fn name(&mut self, key: &KeyPath, name: &str) {
        if !crate::names::is_name(name) {
            self.d.at(
                key,
                format!("`{name}` is not a valid name: use letters, digits, `-` and `_`"),
            );
        }
    }

    /// `provider/model`, or also `base` (the model under test) where `base_ok`.
    fn model_ref(&mut self, key: &KeyPath, value: &str, base_ok: bool) {
        if base_ok && value == "base" {
            return;
        }
        if let Err(e) = value.parse::<ModelRef>() {
            let also = if base_ok {
                " (or `base`, the model under test)"
            } else {
                ""
            };
            self.d.at(key, format!("{e}{also}"));
        }
    }

    /// Exactly one of the present keys: reports none or several at `key`.
    fn exactly_one(&mut self, key: &KeyPath, what: &str, keys: &[(&str, bool)]) -> bool {
        let names: Vec<&str> = keys.iter().map(|(n, _)| *n).collect();
        let present: Vec<&str> = keys.iter().filter(|(_, p)| *p).map(|(n, _)| *n).collect();
        match present.len() {
            1 => true,
            0 => {
                self.d
                    .at(key, format!("{what} needs one of {}", quoted_list(&names)));
                false
            }
            _ => {
                self.d.at(
                    key,
                    format!(
                        "{} are exclusive: give exactly one of {}",
                        quoted_list(&present),
                        quoted_list(&names)
                    ),
                );
                false
            }
        }
    }

    /// Reports, at `key.<name>`, each given key that does not belong here.
    fn absent(&mut self, key: &KeyPath, context: &str, keys: &[(&str, bool)]) {
        for (n, given) in keys {
            if *given {
                self.d
                    .at(&key.key(*n), format!("`{n}` does not belong to {context}"));
            }
        }
    }
}
