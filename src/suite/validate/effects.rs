//! Checks of `effects` and of metrics (also used by arm screens).

use super::Ck;
use crate::suite::error::{KeyPath, has_no, quoted_list, unknown};
use crate::suite::judge_def::JudgeMethod;
use crate::suite::query::{probe_variables, probes_scored_by};
use crate::suite::types::{DirectionName, EffectDecl, JudgeSpec, MetricSpec};

impl<'a> Ck<'a> {
    pub(super) fn effects(&mut self) {
        for (i, e) in self.s.effects.iter().enumerate() {
            let key = KeyPath::root().key("effects").index(i);
            self.name(&key.key("name"), &e.name);
            if let Some(j) = self.s.effects[..i].iter().position(|o| o.name == e.name) {
                self.d.at(
                    &key.key("name"),
                    format!("`{}` is already the name of effects[{j}]", e.name),
                );
            }
            self.effect(&key, e);
        }
    }

    fn effect(&mut self, key: &KeyPath, e: &EffectDecl) {
        let kind = e.kind.name();
        let takes = e.kind.needs();
        let given = [
            ("treatment", e.treatment.is_some()),
            ("control", e.control.is_some()),
            ("arm", e.arm.is_some()),
            ("condition", e.condition.is_some()),
            ("value", e.value.is_some()),
        ];
        for (k, present) in given {
            if takes.contains(&k) && !present {
                self.d.at(
                    key,
                    format!(
                        "effect kind `{kind}` needs `{k}` (it takes {})",
                        quoted_list(takes)
                    ),
                );
            } else if !takes.contains(&k) && present {
                self.d.at(
                    &key.key(k),
                    format!(
                        "`{k}` does not belong to effect kind `{kind}` (it takes {})",
                        quoted_list(takes)
                    ),
                );
            }
        }
        for (k, arm) in [
            ("treatment", &e.treatment),
            ("control", &e.control),
            ("arm", &e.arm),
        ] {
            if let Some(a) = arm
                && !self.s.arms.contains_key(a)
            {
                let msg = unknown("arm", a, self.s.arms.keys().map(String::as_str));
                self.d.at(&key.key(k), msg);
            }
        }
        if let (Some(t), Some(c)) = (&e.treatment, &e.control)
            && t == c
        {
            self.d.at(
                &key.key("control"),
                format!("the control arm is the treatment arm `{t}`: compare two arms"),
            );
        }
        let judge = self.metric(&key.key("metric"), &e.metric);
        let probes = self.effect_probes(key, e, judge.is_some());
        self.condition_and_filter(key, e, &probes);
        self.direction(key, e);
        if let (Some(v), Some(j)) = (e.value, judge) {
            let (lo, hi) = JudgeMethod::of(j).value_range();
            if !(lo..=hi).contains(&v) {
                self.d.at(
                    &key.key("value"),
                    format!("must be in [{lo}, {hi}] (the metric's range), got {v}"),
                );
            }
        }
        if let Some(a) = e.alpha
            && !(a > 0.0 && a < 1.0)
        {
            self.d
                .at(&key.key("alpha"), format!("must be in (0, 1), got {a}"));
        }
    }

    /// The metric's judge exists and its label fits the judge; returns the judge.
    pub(super) fn metric(&mut self, key: &KeyPath, m: &MetricSpec) -> Option<&'a JudgeSpec> {
        let s = self.s;
        let Some(j) = s.judges.get(&m.judge) else {
            let msg = unknown("judge", &m.judge, s.judges.keys().map(String::as_str));
            self.d.at(&key.key("judge"), msg);
            return None;
        };
        let method = JudgeMethod::of(j);
        let labels = method.labels();
        match &m.label {
            Some(_) if method.is_rating() => self.d.at(
                &key.key("label"),
                format!(
                    "judge `{}` gives scores (the metric is their mean): remove `label`",
                    m.judge
                ),
            ),
            None if !method.is_rating() => self.d.at(
                key,
                format!(
                    "needs `label`: the label of judge `{}` whose rate is measured ({})",
                    m.judge,
                    quoted_list(&labels)
                ),
            ),
            Some(l) if method.normalises() && *l != crate::suite::normal_label(l) => self.d.at(
                &key.key("label"),
                format!(
                    "judge `{}` labels replies in normal form, so `{l}` never occurs: write `{}`",
                    m.judge,
                    crate::suite::normal_label(l)
                ),
            ),
            Some(l) if !labels.contains(l) && !method.open_labels() => {
                let msg = has_no(
                    &format!("judge `{}`", m.judge),
                    "label",
                    l,
                    labels.iter().map(String::as_str),
                );
                self.d.at(&key.key("label"), msg);
            }
            _ => {}
        }
        Some(j)
    }

    /// The measured probes (given, or every probe the judge scores), checked; the valid ones.
    fn effect_probes(&mut self, key: &KeyPath, e: &EffectDecl, judge_exists: bool) -> Vec<String> {
        let scored = probes_scored_by(self.s, &e.metric.judge);
        match &e.probes {
            Some(ps) => {
                if ps.is_empty() {
                    self.d.at(
                        &key.key("probes"),
                        "must list at least one probe (omit `probes` for every probe the judge scores)",
                    );
                }
                for (i, p) in ps.iter().enumerate() {
                    self.measured_probe(
                        &key.key("probes").index(i),
                        p,
                        judge_exists,
                        &scored,
                        &e.metric.judge,
                    );
                }
                ps.iter().filter(|p| scored.contains(p)).cloned().collect()
            }
            None => {
                if judge_exists && scored.is_empty() {
                    self.d.at(
                        &key.key("metric").key("judge"),
                        format!("no probe is scored by judge `{}`", e.metric.judge),
                    );
                }
                scored
            }
        }
    }

    /// `condition.var` and the `where` keys are variables of every measured probe, and the
    /// values named occur.
    fn condition_and_filter(&mut self, key: &KeyPath, e: &EffectDecl, probes: &[String]) {
        let vars: Vec<(&String, _)> = probes
            .iter()
            .filter_map(|p| self.s.probes.get(p).map(|spec| (p, probe_variables(spec))))
            .collect();
        if let Some(c) = &e.condition {
            let ckey = key.key("condition");
            if c.treatment == c.control {
                self.d.at(
                    &ckey.key("control"),
                    format!("equals `treatment` (`{}`): contrast two values", c.control),
                );
            }
            for (p, pv) in &vars {
                match pv.get(&c.var) {
                    None => {
                        let msg = has_no(
                            &format!("probe `{p}`"),
                            "variable",
                            &c.var,
                            pv.keys().map(String::as_str),
                        );
                        self.d.at(&ckey.key("var"), msg);
                    }
                    Some(vals) => {
                        for (k, v) in [("treatment", &c.treatment), ("control", &c.control)] {
                            if !vals.contains(&v.0) {
                                self.d.at(
                                    &ckey.key(k),
                                    format!(
                                        "`{v}` is not a value of `{}` in probe `{p}` ({})",
                                        c.var,
                                        quoted_list(vals)
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            if let Some(f) = e.filter.get(&c.var) {
                for (k, v) in [("treatment", &c.treatment), ("control", &c.control)] {
                    if !f.accepts(&v.0) {
                        self.d.at(
                            &ckey.key(k),
                            format!("`{v}` is excluded by this effect's `where.{}`", c.var),
                        );
                    }
                }
            }
        }
        for (var, accepted) in &e.filter {
            let wkey = key.key("where").key(var.as_str());
            for (p, pv) in &vars {
                match pv.get(var) {
                    None => {
                        let msg = has_no(
                            &format!("probe `{p}`"),
                            "variable",
                            var,
                            pv.keys().map(String::as_str),
                        );
                        self.d.at(&wkey, msg);
                    }
                    Some(vals) if !vals.iter().any(|v| accepted.accepts(v)) => self.d.at(
                        &wkey,
                        format!(
                            "selects no cell of probe `{p}`: `{var}` takes {}",
                            quoted_list(vals)
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    fn direction(&mut self, key: &KeyPath, e: &EffectDecl) {
        if let Some(m) = e.min_effect {
            if e.direction == DirectionName::None {
                self.d.at(
                    &key.key("min_effect"),
                    "`min_effect` is for `direction: increase` or `decrease` (`none` takes `margin`)",
                );
            } else if !(m >= 0.0 && m.is_finite()) {
                self.d.at(
                    &key.key("min_effect"),
                    format!("must be at least 0, got {m}"),
                );
            }
        }
        match (e.direction, e.margin) {
            (DirectionName::None, None) => self.d.at(
                key,
                "`direction: none` needs `margin` (the equivalence margin, > 0)",
            ),
            (DirectionName::None, Some(m)) if !(m > 0.0 && m.is_finite()) => self.d.at(
                &key.key("margin"),
                format!("must be greater than 0, got {m}"),
            ),
            (DirectionName::Increase | DirectionName::Decrease, Some(_)) => self.d.at(
                &key.key("margin"),
                "`margin` is for `direction: none` (`increase` and `decrease` take `min_effect`)",
            ),
            _ => {}
        }
    }
}

/// Warnings about designs that load but cannot support their claims: an effect about
/// fine-tuning in general (no `unit: sample`) that compares an arm with a single replica,
/// which makes its verdict INCONCLUSIVE whatever the data. Each as `file:line:column: key:
/// message`, in file order.
pub fn design_warnings(loaded: &crate::suite::LoadedSuite) -> Vec<String> {
    use crate::suite::types::ClaimUnitName;
    let s = &loaded.suite;
    let text = std::fs::read_to_string(&loaded.path).unwrap_or_default();
    let mut out = Vec::new();
    for (i, e) in s.effects.iter().enumerate() {
        if e.unit == Some(ClaimUnitName::Sample) {
            continue;
        }
        for (k, arm) in [
            ("treatment", &e.treatment),
            ("control", &e.control),
            ("arm", &e.arm),
        ] {
            let Some((name, spec)) = arm.as_ref().and_then(|a| s.arms.get_key_value(a)) else {
                continue;
            };
            let tuned = spec.finetune.is_some() || spec.models.is_some();
            if !tuned || spec.replica_count() >= 2 {
                continue;
            }
            let key = KeyPath::root().key("effects").index(i).key(k);
            let at = match crate::suite::locate::locate(&text, &key) {
                Some((l, c)) => format!("{}:{l}:{c}", loaded.path.display()),
                None => loaded.path.display().to_string(),
            };
            out.push(format!(
                "{at}: {key}: arm `{name}` has 1 replica, so effect `{}` (a claim about fine-tuning in general) will be INCONCLUSIVE: give the arm `replicas: 2` or more, or add `unit: sample` to the effect to make the claim about that one fine-tune",
                e.name
            ));
        }
    }
    out
}
