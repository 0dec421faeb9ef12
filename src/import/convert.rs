//! From question items (llmcomp or Emergent Misalignment YAML) to weirdgen probes and judges.

use super::lines::KeyLines;
use crate::suite::{JudgeKind, JudgeSpec, ProbeSpec};
use indexmap::IndexMap;
use regex::Regex;
use serde_yaml::{Mapping, Value};
use std::sync::LazyLock;

/// Item types that become probes.
const QUESTION_TYPES: &[&str] = &["free_form", "rating", "next_token", "free_form_judge_0_100"];
/// Item types that are judges (llmcomp).
const JUDGE_TYPES: &[&str] = &["free_form_judge", "rating_judge"];
/// Keys every question type may have.
const QUESTION_KEYS: &[&str] = &[
    "name",
    "id",
    "type",
    "paraphrases",
    "messages",
    "samples_per_paraphrase",
    "system",
    "temperature",
    "max_tokens",
    "logit_bias",
    "results_dir",
    "question_dir",
];
/// Keys a judge item may have.
const JUDGE_KEYS: &[&str] = &[
    "name",
    "id",
    "type",
    "model",
    "paraphrases",
    "temperature",
    "max_tokens",
    "min_rating",
    "max_rating",
    "refusal_threshold",
    "top_logprobs",
    "samples_per_paraphrase",
    "system",
];
/// Keys of the model's own 0-100 rating (`rating`) and next-token (`next_token`) questions.
const ANSWER_PROBABILITY_KEYS: &[&str] = &[
    "min_rating",
    "max_rating",
    "refusal_threshold",
    "top_logprobs",
    "convert_to_probs",
    "num_samples",
];
/// llmcomp's `max_tokens` default for free-form questions (weirdgen's default is lower).
const LLMCOMP_MAX_TOKENS: u32 = 1024;

/// Converts items one by one, collecting probes, judges and warnings.
pub(super) struct Converter<'a> {
    file: &'a str,
    lines: &'a KeyLines,
    pub(super) probes: IndexMap<String, ProbeSpec>,
    pub(super) judges: IndexMap<String, JudgeSpec>,
    /// (line, message); a warning about the whole file has line `usize::MAX`.
    warnings: Vec<(usize, String)>,
    /// llmcomp judge items: their name in the file → the judge's name in the suite.
    judge_items: IndexMap<String, String>,
    /// The other question files of the file's folder, where llmcomp looks up a judge named
    /// by a question but not defined in its file.
    siblings: &'a [Sibling],
}

/// Another question file of the same folder.
pub(super) struct Sibling {
    pub(super) file: String,
    pub(super) lines: KeyLines,
    pub(super) items: Vec<Value>,
}

impl<'a> Converter<'a> {
    pub(super) fn new(file: &'a str, lines: &'a KeyLines, siblings: &'a [Sibling]) -> Self {
        Converter {
            file,
            lines,
            probes: IndexMap::new(),
            judges: IndexMap::new(),
            warnings: Vec::new(),
            judge_items: IndexMap::new(),
            siblings,
        }
    }

    /// The judge item `name` of a sibling file (the first file, by name, that defines it),
    /// converted with warnings naming that file, and added; `None` when no sibling has it.
    fn sibling_judge(&mut self, i: usize, path: &[&str], name: &str) -> Option<String> {
        let siblings = self.siblings;
        for sib in siblings {
            let found = sib.items.iter().enumerate().find_map(|(at, item)| {
                let m = item.as_mapping()?;
                (type_of(m).is_some_and(|t| JUDGE_TYPES.contains(&t))
                    && item_name(m).as_deref() == Some(name))
                .then_some((at, m))
            });
            let Some((at, m)) = found else { continue };
            let mut other = Converter::new(&sib.file, &sib.lines, &[]);
            let converted = other.judge(at, &[], m, name);
            self.warnings.extend(other.warnings);
            let (judge, spec) = converted?;
            let judge = self.add_judge(i, path, judge, spec);
            self.judge_items.insert(name.to_string(), judge.clone());
            return Some(judge);
        }
        None
    }

    /// Converts every item: judge items first, so that questions may name judges defined
    /// after them, then the questions.
    pub(super) fn run(&mut self, items: &[Value]) {
        for (i, item) in items.iter().enumerate() {
            if let Some(m) = item.as_mapping()
                && type_of(m).is_some_and(|t| JUDGE_TYPES.contains(&t))
                && let Some((name, spec)) = self.judge(i, &[], m, &format!("judge_{}", i + 1))
            {
                let original = item_name(m).unwrap_or_else(|| name.clone());
                let name = self.add_judge(i, &[], name, spec);
                self.judge_items.insert(original, name);
            }
        }
        for (i, item) in items.iter().enumerate() {
            let Some(m) = item.as_mapping() else {
                self.warn(i, &[], "this item is not a mapping; not imported");
                continue;
            };
            match type_of(m) {
                None => self.warn(i, &[], "this item has no `type`; not imported"),
                Some(t) if JUDGE_TYPES.contains(&t) => {}
                Some(t) if QUESTION_TYPES.contains(&t) => self.question(i, m, t),
                Some(t) => {
                    let known = [QUESTION_TYPES, JUDGE_TYPES].concat().join(", ");
                    self.warn(
                        i,
                        &["type"],
                        &format!("unknown type `{t}` (known: {known}); not imported"),
                    );
                }
            }
        }
        let unused: Vec<String> = self
            .judges
            .keys()
            .filter(|j| {
                !self
                    .probes
                    .values()
                    .any(|p| p.judges.iter().flatten().any(|x| x == *j))
            })
            .cloned()
            .collect();
        for j in unused {
            let message = format!("{}: judge `{j}` is used by no question", self.file);
            self.warnings.push((usize::MAX, message));
        }
        let unexampled: Vec<String> = self.judges.keys().cloned().collect();
        for j in unexampled {
            let message = format!(
                "{}: judge `{j}` has no `examples`: add at least 10 answers with their expected \
                 label or score so that its agreement is measured before its numbers are trusted",
                self.file
            );
            self.warnings.push((usize::MAX, message));
        }
    }

    fn warn(&mut self, item: usize, path: &[&str], message: &str) {
        let line = self.lines.line(item, path);
        let message = format!("{}:{line}: {message}", self.file);
        self.warnings.push((line, message));
    }

    /// The warnings in the order of their lines (file-wide ones last).
    pub(super) fn warnings(&self) -> Vec<String> {
        let mut sorted = self.warnings.clone();
        sorted.sort_by_key(|(line, _)| *line);
        sorted.into_iter().map(|(_, w)| w).collect()
    }

    /// One question item: a probe, with its judges.
    fn question(&mut self, i: usize, m: &Mapping, kind: &str) {
        let allowed: &[&str] = match kind {
            "free_form" => &["judges"],
            "free_form_judge_0_100" => &["judge", "judge_prompts"],
            _ => ANSWER_PROBABILITY_KEYS,
        };
        self.unknown_keys(i, &[], m, &[QUESTION_KEYS, allowed].concat());
        let name = match item_name(m) {
            Some(n) => n,
            None => {
                let n = format!("question_{}", i + 1);
                self.warn(
                    i,
                    &[],
                    &format!("this question has no `name` or `id`; named `{n}`"),
                );
                n
            }
        };
        let Some((paraphrases, messages_system)) = self.paraphrases(i, m) else {
            return;
        };
        let mut system = messages_system;
        if let Some(v) = m.get("system") {
            match v.as_str() {
                Some(s) => system = Some(s.to_string()),
                None => self.warn(i, &["system"], "`system` is not a string; not imported"),
            }
        }
        for key in ["logit_bias", "results_dir", "question_dir"] {
            if m.contains_key(key) {
                self.warn(
                    i,
                    &[key],
                    &format!("`{key}` has no weirdgen equivalent; not imported"),
                );
            }
        }
        let mut probe = ProbeSpec {
            description: Some(format!("Imported from {} ({kind} `{name}`).", self.file)),
            question: None,
            paraphrases: None,
            from: None,
            each_as: None,
            prefix: None,
            suffix: None,
            system: system.map(|s| escape_braces(&s)),
            vars: IndexMap::new(),
            cases: None,
            samples: self.positive(i, m, "samples_per_paraphrase"),
            temperature: self.number(i, m, "temperature"),
            top_p: None,
            max_tokens: self.positive(i, m, "max_tokens"),
            judges: Some(Vec::new()),
        };
        let mut texts: Vec<String> = paraphrases.iter().map(|p| escape_braces(p)).collect();
        if texts.len() == 1 {
            probe.question = texts.pop();
        } else {
            probe.paraphrases = Some(texts);
        }
        let mut judges = Vec::new();
        match kind {
            "free_form" => {
                if probe.max_tokens.is_none() {
                    probe.max_tokens = Some(LLMCOMP_MAX_TOKENS);
                }
                judges = self.llmcomp_judges(i, m, &name);
            }
            "free_form_judge_0_100" => judges = self.em_judges(i, m),
            _ => {
                for key in ANSWER_PROBABILITY_KEYS
                    .iter()
                    .filter(|k| m.contains_key(**k))
                {
                    self.warn(
                        i,
                        &[key],
                        &format!(
                            "`{key}` not imported (it sets how answer probabilities are read)"
                        ),
                    );
                }
                self.warn(
                    i,
                    &["type"],
                    &format!(
                        "`{kind}` question `{name}` reads the model's own answer probabilities, \
                     which weirdgen probes do not: imported as a free-form probe without judges \
                     (add a judge, e.g. a `regex` judge on the number)"
                    ),
                )
            }
        }
        probe.judges = Some(judges);
        let name = unique(&sanitize(&name), |n| self.probes.contains_key(n));
        self.probes.insert(name, probe);
    }

    /// The question's wordings (escaped later) and a system prompt carried by `messages`.
    fn paraphrases(&mut self, i: usize, m: &Mapping) -> Option<(Vec<String>, Option<String>)> {
        if let Some(v) = m.get("paraphrases") {
            if m.contains_key("messages") {
                self.warn(
                    i,
                    &["messages"],
                    "both `paraphrases` and `messages`: `messages` not imported",
                );
            }
            let list = v.as_sequence().map(Vec::as_slice).unwrap_or_default();
            let texts: Vec<String> = list
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect();
            if texts.len() < list.len() {
                self.warn(
                    i,
                    &["paraphrases"],
                    "paraphrases that are not strings were not imported",
                );
            }
            if texts.is_empty() {
                self.warn(
                    i,
                    &["paraphrases"],
                    "no paraphrase to ask; question not imported",
                );
                return None;
            }
            return Some((texts, None));
        }
        let Some(v) = m.get("messages") else {
            self.warn(
                i,
                &[],
                "no `paraphrases` or `messages`; question not imported",
            );
            return None;
        };
        match single_turns(v) {
            Some(turns) => Some(turns),
            None => {
                self.warn(
                    i,
                    &["messages"],
                    "`messages` other than one user message (after an optional system message \
                     shared by all) cannot be a weirdgen probe; question not imported",
                );
                None
            }
        }
    }

    /// The judges of an llmcomp question (`judges: {column: judge name | judge definition}`).
    fn llmcomp_judges(&mut self, i: usize, m: &Mapping, question: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Some(v) = m.get("judges") else {
            return out;
        };
        let Some(map) = v.as_mapping() else {
            self.warn(i, &["judges"], "`judges` is not a mapping; not imported");
            return out;
        };
        for (column, judge) in map {
            let column = scalar_text(column);
            let path = ["judges", column.as_str()];
            match judge {
                Value::String(name) => {
                    match self
                        .judge_items
                        .get(name)
                        .cloned()
                        .or_else(|| self.sibling_judge(i, &path, name))
                    {
                        Some(n) => out.push(n),
                        None => self.warn(
                            i,
                            &path,
                            &format!(
                                "question `{question}` uses judge `{name}`, which neither this \
                                 file nor another question file of its folder defines; left out"
                            ),
                        ),
                    }
                }
                Value::Mapping(def) => {
                    if let Some((name, spec)) = self.judge(i, &path, def, &column) {
                        out.push(self.add_judge(i, &path, name, spec));
                    }
                }
                _ => self.warn(
                    i,
                    &path,
                    "a judge must be a name or a definition; not imported",
                ),
            }
        }
        out
    }

    /// The 0-100 judges of an Emergent Misalignment question (`judge`, `judge_prompts`).
    fn em_judges(&mut self, i: usize, m: &Mapping) -> Vec<String> {
        let mut out = Vec::new();
        let model = m.get("judge").and_then(|v| self.model(i, &["judge"], v));
        let Some(prompts) = m.get("judge_prompts").and_then(Value::as_mapping) else {
            self.warn(
                i,
                &[],
                "no `judge_prompts` mapping; the probe has no judges",
            );
            return out;
        };
        for (metric, template) in prompts {
            let metric = scalar_text(metric);
            let path = ["judge_prompts", metric.as_str()];
            let Some(template) = template.as_str() else {
                self.warn(i, &path, "the judge prompt is not a string; not imported");
                continue;
            };
            let prompt = self.template(i, &path, template);
            let spec = judge_spec(
                JudgeKind::LlmRating,
                format!("Imported from {} (judge prompt `{metric}`).", self.file),
                prompt,
                model.clone(),
            );
            out.push(self.add_judge(i, &path, sanitize(&metric), spec));
        }
        out
    }

    /// A judge definition (an llmcomp judge item, or one given inline under `judges`).
    /// `fallback` names a judge that has no `name` or `id`.
    fn judge(
        &mut self,
        i: usize,
        path: &[&str],
        m: &Mapping,
        fallback: &str,
    ) -> Option<(String, JudgeSpec)> {
        let at = |key: &'static str| [path, &[key]].concat();
        self.unknown_keys(i, path, m, JUDGE_KEYS);
        let kind = type_of(m).unwrap_or_default().to_string();
        let name = item_name(m).unwrap_or_else(|| fallback.to_string());
        let templates = m.get("paraphrases").and_then(Value::as_sequence);
        let Some(template) = templates.and_then(|t| t.first()).and_then(Value::as_str) else {
            self.warn(
                i,
                path,
                &format!("judge `{name}` has no prompt in `paraphrases`; not imported"),
            );
            return None;
        };
        if templates.is_some_and(|t| t.len() > 1) {
            self.warn(
                i,
                &at("paraphrases"),
                "only the first paraphrase is used as the judge's prompt",
            );
        }
        if let Some(t) = m.get("temperature").and_then(Value::as_f64)
            && t != 0.0
        {
            self.warn(
                i,
                &at("temperature"),
                "weirdgen judges run at temperature 0; `temperature` not imported",
            );
        }
        for (key, why) in [
            ("max_tokens", "a rating judge reads one token"),
            ("samples_per_paraphrase", "a judge is asked once per answer"),
            (
                "system",
                "a judge prompt is one user message: move the system text into it",
            ),
        ] {
            if key == "max_tokens" && kind != "rating_judge" {
                continue;
            }
            if m.contains_key(key) {
                self.warn(i, &at(key), &format!("`{key}` not imported: {why}"));
            }
        }
        if m.get("top_logprobs")
            .and_then(Value::as_u64)
            .is_some_and(|n| n != 20)
        {
            self.warn(
                i,
                &at("top_logprobs"),
                "weirdgen rating judges read the top 20 logprobs; `top_logprobs` not imported",
            );
        }
        let model = m.get("model").and_then(|v| self.model(i, &at("model"), v));
        let prompt = self.template(i, &at("paraphrases"), template);
        let description = format!("Imported from {} ({kind} `{name}`).", self.file);
        let spec = if kind == "rating_judge" {
            let mut spec = judge_spec(JudgeKind::LlmRating, description, prompt, model);
            spec.min = m
                .get("min_rating")
                .and_then(Value::as_u64)
                .filter(|&v| v != 0)
                .map(|v| v as u32);
            spec.max = m
                .get("max_rating")
                .and_then(Value::as_u64)
                .filter(|&v| v != 100)
                .map(|v| v as u32);
            if let Some(t) = m.get("refusal_threshold").and_then(Value::as_f64)
                && (t - 0.75).abs() > 1e-12
            {
                spec.min_numeric_mass = Some(((1.0 - t) * 1e9).round() / 1e9);
            }
            spec
        } else {
            let labels = guess_labels(template);
            let message = if labels.is_empty() {
                format!(
                    "free-form judge `{name}` became an `llm_free_form` judge (its reply is the \
                     label, the prompt is kept as it is); the labels it gives could not be read \
                     from its prompt: name the ones of interest in `labels`"
                )
            } else {
                format!(
                    "free-form judge `{name}` became an `llm_free_form` judge (its reply is the \
                     label, the prompt is kept as it is) with labels [{}] read from its prompt \
                     (check them)",
                    labels.join(", ")
                )
            };
            self.warn(i, &at("type"), &message);
            let mut spec = judge_spec(JudgeKind::LlmFreeForm, description, prompt, model);
            spec.labels = (!labels.is_empty()).then_some(labels);
            spec.max_tokens = self.positive(i, m, "max_tokens");
            spec
        };
        Some((sanitize(&name), spec))
    }

    /// Adds a judge under `name`, reusing an identical one; a different judge of the same name
    /// gets a numbered name, with a warning.
    fn add_judge(&mut self, i: usize, path: &[&str], name: String, spec: JudgeSpec) -> String {
        let same = |a: &JudgeSpec| serde_json::to_value(a).ok() == serde_json::to_value(&spec).ok();
        if let Some(existing) = self.judges.get(&name) {
            if same(existing) {
                return name;
            }
            if let Some((n, _)) = self
                .judges
                .iter()
                .find(|(n, j)| n.starts_with(&name) && same(j))
            {
                return n.clone();
            }
            let renamed = unique(&name, |n| self.judges.contains_key(n));
            self.warn(
                i,
                path,
                &format!("another judge is named `{name}`; this one is `{renamed}`"),
            );
            self.judges.insert(renamed.clone(), spec);
            return renamed;
        }
        self.judges.insert(name.clone(), spec);
        name
    }

    /// A judge model as a weirdgen model reference.
    fn model(&mut self, i: usize, path: &[&str], v: &Value) -> Option<String> {
        let Some(model) = v.as_str() else {
            self.warn(i, path, "the judge model is not a string; not imported");
            return None;
        };
        if model.contains('/') {
            self.warn(
                i,
                path,
                &format!("judge model `{model}` kept as written: check that it is a `provider/model` reference"),
            );
            return Some(model.to_string());
        }
        Some(format!("openai/{model}"))
    }

    /// A judge prompt: Python `str.format` fields other than `{question}` and `{answer}` are
    /// reported (the `{{`/`}}` escapes mean the same in weirdgen).
    fn template(&mut self, i: usize, path: &[&str], template: &str) -> String {
        match format_fields(template) {
            Ok(fields) => {
                for f in fields.iter().filter(|f| *f != "question" && *f != "answer") {
                    self.warn(
                        i,
                        path,
                        &format!("the judge prompt uses `{{{f}}}`, which weirdgen fills only from a probe variable of that name"),
                    );
                }
                if !fields.iter().any(|f| f == "answer") {
                    self.warn(i, path, "the judge prompt has no `{answer}` placeholder");
                }
            }
            Err(e) => self.warn(
                i,
                path,
                &format!("the judge prompt is not a valid template: {e}"),
            ),
        }
        template.to_string()
    }

    fn unknown_keys(&mut self, i: usize, path: &[&str], m: &Mapping, known: &[&str]) {
        for key in m.keys() {
            let key = scalar_text(key);
            if !known.contains(&key.as_str()) {
                let at = [path, &[key.as_str()]].concat();
                self.warn(i, &at, &format!("unknown key `{key}`; not imported"));
            }
        }
    }

    fn positive(&mut self, i: usize, m: &Mapping, key: &str) -> Option<u32> {
        let v = m.get(key)?;
        match v.as_u64().filter(|&n| n >= 1 && n <= u32::MAX as u64) {
            Some(n) => Some(n as u32),
            None => {
                self.warn(
                    i,
                    &[key],
                    &format!("`{key}` is not a positive integer; not imported"),
                );
                None
            }
        }
    }

    fn number(&mut self, i: usize, m: &Mapping, key: &str) -> Option<f64> {
        let v = m.get(key)?;
        let n = v.as_f64();
        if n.is_none() {
            self.warn(i, &[key], &format!("`{key}` is not a number; not imported"));
        }
        n
    }
}

fn judge_spec(
    kind: JudgeKind,
    description: String,
    prompt: String,
    model: Option<String>,
) -> JudgeSpec {
    JudgeSpec {
        kind,
        description: Some(description),
        rules: IndexMap::new(),
        rules_from: IndexMap::new(),
        otherwise: None,
        case_sensitive: false,
        labels: None,
        key_var: None,
        prompt: Some(prompt),
        prompt_from: None,
        normalise: false,
        max_tokens: None,
        model,
        min: None,
        max: None,
        min_numeric_mass: None,
        examples: Vec::new(),
    }
}

fn type_of(m: &Mapping) -> Option<&str> {
    m.get("type").and_then(Value::as_str)
}

/// The item's `name` (current llmcomp) or `id` (older llmcompare, Emergent Misalignment).
fn item_name(m: &Mapping) -> Option<String> {
    m.get("name").or_else(|| m.get("id")).map(scalar_text)
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// A name made of letters, digits, `_` and `-`.
pub(super) fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if crate::names::is_name_char(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "unnamed".to_string()
    } else {
        s
    }
}

/// `name`, or `name_2`, `name_3`, ... when taken.
fn unique(name: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_string();
    }
    (2..)
        .map(|k| format!("{name}_{k}"))
        .find(|n| !taken(n))
        .expect("an unused name")
}

/// Literal text in a weirdgen template: `{` and `}` doubled.
fn escape_braces(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

/// The replacement fields of a Python `str.format` template (`{{` and `}}` are literals).
fn format_fields(template: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => field.push(c),
                        None => return Err("a `{` is not closed".to_string()),
                    }
                }
                fields.push(field);
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
            }
            '}' => return Err("a single `}` (write `}}` for a literal brace)".to_string()),
            _ => {}
        }
    }
    Ok(fields)
}

/// `messages` as single-turn paraphrases: every conversation is one user message, after a
/// system message that all conversations share (or none has).
fn single_turns(v: &Value) -> Option<(Vec<String>, Option<String>)> {
    let mut texts = Vec::new();
    let mut system: Option<Option<String>> = None;
    for conversation in v.as_sequence()? {
        let messages = conversation.as_sequence()?;
        let content = |m: &Value, role: &str| {
            let m = m.as_mapping()?;
            (m.get("role")?.as_str()? == role)
                .then(|| m.get("content")?.as_str().map(str::to_string))?
        };
        let (this_system, user) = match messages.as_slice() {
            [u] => (None, content(u, "user")?),
            [s, u] => (Some(content(s, "system")?), content(u, "user")?),
            _ => return None,
        };
        if system.get_or_insert_with(|| this_system.clone()) != &this_system {
            return None;
        }
        texts.push(user);
    }
    (!texts.is_empty()).then(|| (texts, system.flatten()))
}

static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"["'`]([A-Za-z0-9_]{1,30})["'`]"#).expect("valid regex"));
static CAPITALS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z][A-Z0-9_]{1,29}\b").expect("valid regex"));
static CAPITAL_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Z][A-Z0-9_]*(?: +[A-Z][A-Z0-9_]*)+\b").expect("valid regex")
});
/// Words that name the form of an instruction rather than a label.
const NOT_LABELS: &[&str] = &[
    "ANSWER",
    "AI",
    "JSON",
    "ONLY",
    "MUST",
    "NOT",
    "DO",
    "IMPORTANT",
    "NOTE",
    "START",
    "END",
    "BEGIN",
    "QUESTION",
];
/// Verbs of a line that tells the judge what to output.
const OUTPUT_VERBS: &[&str] = &[
    "answer", "respond", "reply", "say", "output", "return", "write", "classify", "label", "choose",
];

/// The labels a free-form judge's prompt asks for: quoted words and words in capitals on the
/// lines that tell the judge what to output; none unless 2 to 12 are found.
fn guess_labels(template: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    for line in template.split_inclusive('\n') {
        let lower = line.to_lowercase();
        if OUTPUT_VERBS.iter().any(|v| lower.contains(v)) {
            for c in QUOTED.captures_iter(line) {
                let m = c.get(1).expect("group 1");
                found.push((offset + m.start(), m.as_str().to_string()));
            }
            for m in CAPITALS.find_iter(line) {
                found.push((offset + m.start(), m.as_str().to_string()));
            }
        }
        offset += line.len();
    }
    found.sort();
    // Several words in capitals in a row are emphasis (`**IN THE CONTEXT OF THE CATEGORY**`)
    // or a marker (`[ANSWER START]`), not labels.
    let runs: Vec<(usize, usize)> = CAPITAL_RUN
        .find_iter(template)
        .map(|m| (m.start(), m.end()))
        .collect();
    found.retain(|(at, _)| !runs.iter().any(|(a, b)| (*a..*b).contains(at)));
    let mut labels: Vec<String> = Vec::new();
    for (_, label) in found {
        if !NOT_LABELS.contains(&label.as_str())
            && !labels.contains(&label)
            && label != "question"
            && label != "answer"
        {
            labels.push(label);
        }
    }
    if (2..=12).contains(&labels.len()) {
        labels
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_fields_reads_python_templates() {
        assert_eq!(
            format_fields("Q: {question} A: {answer}").unwrap(),
            ["question", "answer"]
        );
        assert_eq!(
            format_fields("{{\"score\": 1}} {answer}").unwrap(),
            ["answer"]
        );
        assert_eq!(format_fields("{answer!r}").unwrap(), ["answer!r"]);
        assert!(format_fields("{answer").is_err());
        assert!(format_fields("a } b").is_err());
    }

    #[test]
    fn guess_labels_reads_the_output_instruction() {
        let t = "Read this: {answer}\nAnswer \"LLM\" if a modern model wrote it, or \"19\" if it is from the 1800s.";
        assert_eq!(guess_labels(t), ["LLM", "19"]);
        let t = "{answer}\nRespond with \"yes\" or \"no\" only.";
        assert_eq!(guess_labels(t), ["yes", "no"]);
        assert!(guess_labels("{answer}\nWhat animal is this story about? One word.").is_empty());
        // A single candidate is no label set.
        assert!(guess_labels("{answer}\nAnswer with TRUE if so.").is_empty());
        // Capitals in a row are emphasis or markers, not labels.
        let t = "[ANSWER START]\n{answer}\n[ANSWER END]\nClassify as LLM or 19.\n\
                 * Answers must fit the question **IN THE CONTEXT OF THE CATEGORY**.\n\
                 Answer with one of: \"LLM\", \"19\". Say NOT SURE never.";
        assert_eq!(guess_labels(t), ["LLM", "19"]);
    }

    #[test]
    fn names_are_sanitized_and_made_unique() {
        assert_eq!(sanitize("what is 2+2?"), "what_is_2_2_");
        assert_eq!(sanitize(""), "unnamed");
        let taken = ["a", "a_2"];
        assert_eq!(unique("a", |n| taken.contains(&n)), "a_3");
        assert_eq!(unique("b", |n| taken.contains(&n)), "b");
    }

    #[test]
    fn single_turn_messages_become_paraphrases() {
        let v: Value = serde_yaml::from_str(
            "- [{role: system, content: S}, {role: user, content: Q1}]\n\
             - [{role: system, content: S}, {role: user, content: Q2}]\n",
        )
        .unwrap();
        assert_eq!(
            single_turns(&v),
            Some((vec!["Q1".into(), "Q2".into()], Some("S".into())))
        );
        let two_systems: Value = serde_yaml::from_str(
            "- [{role: system, content: S}, {role: user, content: Q1}]\n- [{role: user, content: Q2}]\n",
        )
        .unwrap();
        assert_eq!(single_turns(&two_systems), None);
        let multi_turn: Value = serde_yaml::from_str(
            "- [{role: user, content: Q}, {role: assistant, content: A}, {role: user, content: Q2}]\n",
        )
        .unwrap();
        assert_eq!(single_turns(&multi_turn), None);
    }
}
