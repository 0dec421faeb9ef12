//! Checks of `judges`: the keys each kind takes, rules and regexes, prompts, labels, examples.

use super::Ck;
use crate::suite::error::{KeyPath, quoted_list, unknown};
use crate::suite::judge_def::{JudgeMethod, MISSING, RuleKind};
use crate::suite::template::Template;
use crate::suite::types::{JudgeKind, JudgeSpec};

/// The first line of a regex syntax error that says what is wrong.
fn regex_problem(e: &regex::Error) -> String {
    let s = e.to_string();
    s.lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or_else(|| s.lines().last().unwrap_or(""))
        .to_string()
}

impl Ck<'_> {
    pub(super) fn judges(&mut self) {
        for (name, j) in &self.s.judges {
            self.judge(&KeyPath::root().key("judges").key(name.as_str()), j);
        }
    }

    fn judge(&mut self, key: &KeyPath, j: &JudgeSpec) {
        let kind = j.kind.name();
        let ctx = format!("judge kind `{kind}`");
        let method = JudgeMethod::of(j);
        let llm = method.is_llm();
        let ruled = matches!(method, JudgeMethod::Rules { .. });
        let choice = matches!(method, JudgeMethod::Choice { .. });
        let given = [
            ("rules", !j.rules.is_empty()),
            ("otherwise", j.otherwise.is_some()),
            ("case_sensitive", j.case_sensitive),
            ("labels", j.labels.is_some()),
            ("key_var", j.key_var.is_some()),
            ("prompt", j.prompt.is_some()),
            ("max_tokens", j.max_tokens.is_some()),
            ("normalise", j.normalise),
            ("model", j.model.is_some()),
            ("min", j.min.is_some()),
            ("max", j.max.is_some()),
            ("min_numeric_mass", j.min_numeric_mass.is_some()),
        ]
        .map(|(k, present)| (k, present && !method.takes(k)));
        self.absent(key, &ctx, &given);
        if ruled {
            self.rules(key, j, kind);
        }
        if llm {
            self.prompt(key, j, kind);
        }
        if let Some(o) = &j.otherwise {
            self.label_word(&key.key("otherwise"), o);
        }
        match j.kind {
            JudgeKind::LlmLabel if j.labels.is_none() => self.d.at(
                key,
                "judge kind `llm_label` needs `labels` (the fixed set it picks from)",
            ),
            JudgeKind::LlmRating => {
                let (lo, hi) = method.value_range();
                if lo >= hi {
                    self.d.at(
                        &key.key("max"),
                        format!("must be greater than `min` ({lo}), got {hi}"),
                    );
                }
                if let Some(m) = j.min_numeric_mass
                    && !(m > 0.0 && m <= 1.0)
                {
                    self.d.at(
                        &key.key("min_numeric_mass"),
                        format!("must be in (0, 1], got {m}"),
                    );
                }
            }
            _ => {}
        }
        if let Some(labels) = &j.labels
            && method.takes("labels")
        {
            if labels.is_empty() {
                self.d
                    .at(&key.key("labels"), "must list at least one label");
            }
            for (i, l) in labels.iter().enumerate() {
                let lkey = key.key("labels").index(i);
                self.label_word(&lkey, l);
                if method.normalises() && *l != crate::suite::normal_label(l) {
                    self.d.at(
                        &lkey,
                        format!(
                            "the judge labels replies in normal form, so `{l}` never occurs: write `{}`",
                            crate::suite::normal_label(l)
                        ),
                    );
                }
                if labels[..i].contains(l) {
                    self.d.at(&lkey, format!("label `{l}` is listed twice"));
                }
                if choice && l.chars().any(char::is_whitespace) {
                    self.d.at(
                        &lkey,
                        format!(
                            "`{l}` is not a choice letter: use a word without spaces, e.g. `A`"
                        ),
                    );
                }
            }
        }
        self.examples(key, j, &method);
    }

    fn rules(&mut self, key: &KeyPath, j: &JudgeSpec, kind: &str) {
        if j.rules.is_empty() {
            self.d.at(
                key,
                format!("judge kind `{kind}` needs `rules` (label → patterns)"),
            );
        }
        let regex = matches!(
            JudgeMethod::of(j),
            JudgeMethod::Rules {
                kind: RuleKind::Regex,
                ..
            }
        );
        for (label, pats) in &j.rules {
            let rkey = key.key("rules").key(label.as_str());
            self.label_word(&rkey, label);
            if pats.is_empty() {
                self.d
                    .at(&rkey, format!("rule `{label}` needs at least one pattern"));
            }
            for (i, pat) in pats.iter().enumerate() {
                let pkey = rkey.index(i);
                if pat.trim().is_empty() {
                    self.d
                        .at(&pkey, "an empty pattern matches everything: remove it");
                } else if regex
                    && let Err(e) = regex::RegexBuilder::new(pat)
                        .case_insensitive(!j.case_sensitive)
                        .build()
                {
                    self.d.at(
                        &pkey,
                        format!(
                            "rule `{label}`: bad regular expression `{pat}`: {}",
                            regex_problem(&e)
                        ),
                    );
                }
            }
        }
    }

    fn prompt(&mut self, key: &KeyPath, j: &JudgeSpec, kind: &str) {
        if let Some(m) = &j.model {
            self.model_ref(&key.key("model"), m, false);
        }
        let Some(p) = &j.prompt else {
            self.d.at(
                key,
                format!("judge kind `{kind}` needs a `prompt` (with `{{answer}}`)"),
            );
            return;
        };
        match Template::parse(p) {
            Err(e) => self.d.at(&key.key("prompt"), format!("bad template: {e}")),
            Ok(t) if !t.placeholders().contains(&"answer") => self.d.at(
                &key.key("prompt"),
                "must contain `{answer}` (where the judged answer goes)",
            ),
            Ok(_) => {}
        }
    }

    /// A label: non-empty, and not the word for a missing judgment.
    fn label_word(&mut self, key: &KeyPath, label: &str) {
        if label.trim().is_empty() {
            self.d.at(key, "a label must not be empty");
        } else if label == MISSING {
            self.d.at(
                key,
                format!(
                    "`{MISSING}` is reserved for answers a judge cannot decide: use another label"
                ),
            );
        }
    }

    fn examples(&mut self, key: &KeyPath, j: &JudgeSpec, method: &JudgeMethod) {
        let labels = method.labels();
        let (lo, hi) = method.value_range();
        for (i, ex) in j.examples.iter().enumerate() {
            let ekey = key.key("examples").index(i);
            if method.is_rating() {
                self.absent(
                    &ekey,
                    "an example of a rating judge (it has `score`)",
                    &[("label", ex.label.is_some())],
                );
                match ex.score {
                    None => self
                        .d
                        .at(&ekey, "an example of a rating judge needs `score`"),
                    Some(s) if !(lo..=hi).contains(&s) => self.d.at(
                        &ekey.key("score"),
                        format!("must be in [{lo}, {hi}] (the judge's range), got {s}"),
                    ),
                    Some(_) => {}
                }
                if let Some(t) = ex.tolerance
                    && !(t >= 0.0 && t.is_finite())
                {
                    self.d.at(
                        &ekey.key("tolerance"),
                        format!("must be at least 0, got {t}"),
                    );
                }
            } else {
                self.absent(
                    &ekey,
                    "an example of a label judge (it has `label`)",
                    &[
                        ("score", ex.score.is_some()),
                        ("tolerance", ex.tolerance.is_some()),
                    ],
                );
                match &ex.label {
                    None => self.d.at(
                        &ekey,
                        format!(
                            "an example needs `label`: one of {} or `{MISSING}`",
                            quoted_list(&labels)
                        ),
                    ),
                    Some(l) if method.normalises() && *l != crate::suite::normal_label(l) => {
                        self.d.at(
                            &ekey.key("label"),
                            format!(
                                "the judge labels replies in normal form, so `{l}` never occurs: write `{}`",
                                crate::suite::normal_label(l)
                            ),
                        );
                    }
                    // An open set: an example may name a label the suite does not list.
                    Some(l) if l != MISSING && !labels.contains(l) && !method.open_labels() => {
                        let msg = unknown(
                            "label",
                            l,
                            labels.iter().map(String::as_str).chain([MISSING]),
                        );
                        self.d.at(&ekey.key("label"), msg);
                    }
                    Some(_) => {}
                }
            }
            if let Some(kv) = &j.key_var
                && matches!(method, JudgeMethod::Choice { .. })
                && !ex.vars.contains_key(kv)
            {
                self.d.at(
                    &ekey,
                    format!("needs `vars: {{{kv}: ...}}`: the judge reads `{kv}` (its `key_var`)"),
                );
            }
        }
    }
}
