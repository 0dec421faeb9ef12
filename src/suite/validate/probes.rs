//! Checks of `probes`: text, templates, variables, sampling, judges.

use super::Ck;
use crate::suite::error::{KeyPath, closest, quoted_list, unknown};
use crate::suite::query::{probe_judges, probe_variables};
use crate::suite::template::Template;
use crate::suite::types::{JudgeKind, ProbeSpec, Scalar, VarValues};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};

impl Ck<'_> {
    pub(super) fn probes(&mut self) {
        for (name, p) in &self.s.probes {
            self.probe(&KeyPath::root().key("probes").key(name.as_str()), p);
        }
    }

    fn probe(&mut self, key: &KeyPath, p: &ProbeSpec) {
        let vars = probe_variables(p);
        self.exactly_one(
            key,
            "a probe",
            &[
                ("question", p.question.is_some()),
                ("paraphrases", p.paraphrases.is_some()),
            ],
        );
        if let Some(q) = &p.question {
            self.text(&key.key("question"), q, &vars, true);
        }
        if let Some(ps) = &p.paraphrases {
            if ps.is_empty() {
                self.d
                    .at(&key.key("paraphrases"), "must list at least one question");
            }
            for (i, q) in ps.iter().enumerate() {
                self.text(&key.key("paraphrases").index(i), q, &vars, true);
            }
        }
        if let Some(s) = &p.system {
            self.text(&key.key("system"), s, &vars, false);
        }
        self.vars(key, p);
        self.sampling(key, p.samples, p.temperature, p.top_p, p.max_tokens);
        self.probe_judges(key, p, &vars);
    }

    /// A question or system prompt: non-empty (questions), a valid template over the variables.
    fn text(
        &mut self,
        key: &KeyPath,
        text: &str,
        vars: &IndexMap<String, Vec<String>>,
        required: bool,
    ) {
        if required && text.trim().is_empty() {
            self.d.at(key, "must not be empty");
        }
        match Template::parse(text) {
            Err(e) => self.d.at(key, format!("bad template: {e}")),
            Ok(t) => {
                for ph in t.placeholders() {
                    if !vars.contains_key(ph) {
                        let names: Vec<&str> = vars.keys().map(String::as_str).collect();
                        let hint = match closest(ph, &names) {
                            Some(c) => format!(" (did you mean `{c}`?)"),
                            None if names.is_empty() => {
                                " (it has none: declare it in `vars` or `cases`)".into()
                            }
                            None => format!(" (its variables: {})", quoted_list(&names)),
                        };
                        self.d.at(
                            key,
                            format!("placeholder `{{{ph}}}` is not a variable of this probe{hint}"),
                        );
                    }
                }
            }
        }
    }

    fn vars(&mut self, key: &KeyPath, p: &ProbeSpec) {
        for (name, vv) in &p.vars {
            let vkey = key.key("vars").key(name.as_str());
            self.var_name(&vkey, name);
            match vv {
                VarValues::List(vals) => {
                    if vals.is_empty() {
                        self.d.at(&vkey, "must list at least one value");
                    }
                    let mut seen = HashSet::new();
                    for (i, v) in vals.iter().enumerate() {
                        if !seen.insert(v) {
                            self.d
                                .at(&vkey.index(i), format!("value `{v}` is listed twice"));
                        }
                    }
                }
                VarValues::Range { from, to, step } => {
                    if *step <= 0 {
                        self.d
                            .at(&vkey.key("step"), format!("must be positive, got {step}"));
                    } else if from > to {
                        self.d.at(
                            &vkey,
                            format!("empty range: `from` ({from}) is greater than `to` ({to})"),
                        );
                    }
                }
            }
            if p.cases.iter().flatten().any(|c| c.contains_key(name)) {
                self.d.at(
                    &vkey,
                    format!("`{name}` is set both in `cases` and in `vars`: set it in one"),
                );
            }
        }
        let Some(cases) = &p.cases else { return };
        if cases.is_empty() {
            self.d.at(
                &key.key("cases"),
                "must list at least one case (omit `cases` for none)",
            );
        }
        // Each case by its sorted assignments, to find repeats in one pass.
        let mut first_of: HashMap<Vec<(&String, &Scalar)>, usize> = HashMap::new();
        for (i, c) in cases.iter().enumerate() {
            let ckey = key.key("cases").index(i);
            if c.is_empty() {
                self.d.at(&ckey, "a case must set at least one variable");
            }
            for name in c.keys() {
                self.var_name(&ckey.key(name.as_str()), name);
            }
            let mut mine: Vec<&String> = c.keys().collect();
            let mut first: Vec<&String> = cases[0].keys().collect();
            mine.sort();
            first.sort();
            if i > 0 && mine != first {
                self.d.at(
                    &ckey,
                    format!(
                        "sets {} but cases[0] sets {}: every case sets the same variables",
                        quoted_list(&mine),
                        quoted_list(&first)
                    ),
                );
            } else {
                let mut pairs: Vec<(&String, &Scalar)> = c.iter().collect();
                pairs.sort();
                let j = *first_of.entry(pairs).or_insert(i);
                if j != i {
                    self.d.at(&ckey, format!("repeats cases[{j}]"));
                }
            }
        }
    }

    /// Variable names are placeholder names: letters, digits, `_` and `-`.
    fn var_name(&mut self, key: &KeyPath, name: &str) {
        if !crate::names::is_name(name) {
            self.d.at(
                key,
                format!("`{name}` is not a valid variable name: use letters, digits, `-` and `_`"),
            );
        }
        if name == "question" || name == "answer" {
            self.d.at(
                key,
                format!("`{name}` is reserved for LLM judge prompts: name the variable otherwise"),
            );
        }
    }

    /// The probe's judges exist, and each finds the variables it reads.
    fn probe_judges(&mut self, key: &KeyPath, p: &ProbeSpec, vars: &IndexMap<String, Vec<String>>) {
        if let Some(js) = &p.judges {
            if js.is_empty() {
                self.d.at(
                    &key.key("judges"),
                    "must list at least one judge (omit `judges` for every judge)",
                );
            }
            for (i, j) in js.iter().enumerate() {
                let jkey = key.key("judges").index(i);
                if !self.s.judges.contains_key(j) {
                    let msg = unknown("judge", j, self.s.judges.keys().map(String::as_str));
                    self.d.at(&jkey, msg);
                } else if js[..i].contains(j) {
                    self.d.at(&jkey, format!("judge `{j}` is listed twice"));
                }
            }
        }
        for (i, jname) in probe_judges(self.s, p).into_iter().enumerate() {
            let Some(j) = self.s.judges.get(jname) else {
                continue;
            };
            let at = if p.judges.is_some() {
                key.key("judges").index(i)
            } else {
                key.clone()
            };
            if let Some(kv) = &j.key_var
                && j.kind == JudgeKind::Choice
            {
                match vars.get(kv) {
                    None => self.d.at(
                        &at,
                        format!(
                            "judge `{jname}` reads the variable `{kv}` (its `key_var`), which this probe does not set"
                        ),
                    ),
                    Some(vals) => {
                        let letters = j.labels.clone().unwrap_or_else(|| vec!["A".into(), "B".into()]);
                        for v in vals.iter().filter(|v| !letters.contains(v)) {
                            self.d.at(
                                &at,
                                format!(
                                    "value `{v}` of `{kv}` is not one of judge `{jname}`'s letters ({})",
                                    quoted_list(&letters)
                                ),
                            );
                        }
                    }
                }
            }
            if let Some(prompt) = &j.prompt
                && let Ok(t) = Template::parse(prompt)
            {
                for ph in t.placeholders() {
                    if ph != "question" && ph != "answer" && !vars.contains_key(ph) {
                        self.d.at(
                            &at,
                            format!(
                                "judge `{jname}`'s prompt uses `{{{ph}}}`, which is not a variable of this probe"
                            ),
                        );
                    }
                }
            }
        }
    }
}
