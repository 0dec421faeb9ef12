//! Judges after validation: each kind with its own parameters, defaults filled in once, and
//! the judge model picked by the one precedence rule.

use super::types::{JudgeKind, JudgeSpec};
use indexmap::IndexMap;

/// The environment variable that pins the judge model of every LLM judge.
pub const JUDGE_MODEL_ENV: &str = "WEIRDGEN_JUDGE_MODEL";

/// The word for a judgment a judge could not make: never a label.
pub const MISSING: &str = "missing";

/// `choice`: the letters when `labels` is not given.
const CHOICE_LETTERS: [&str; 2] = ["A", "B"];
/// `llm_rating`: the range when `min` and `max` are not given.
const RATING_RANGE: (u32, u32) = (0, 100);
/// `llm_rating`: the share of probability mass that must be on numbers, by default.
const MIN_NUMERIC_MASS: f64 = 0.25;
/// `llm_free_form`: the reply budget by default (as llmcomp's).
const FREE_FORM_MAX_TOKENS: u32 = 1024;

/// How a rule judge matches its patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Regex,
    ContainsAny,
    Prefix,
    Exact,
}

/// What an LLM judge reads from its reply.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmRead {
    /// One label of a fixed set, on the final line.
    Label { labels: Vec<String> },
    /// The expected rating over the top log-probabilities.
    Rating {
        min: u32,
        max: u32,
        min_numeric_mass: f64,
    },
    /// The reply text itself (in [`normal_label`] form if `normalise`); `labels` are the
    /// ones the suite names (an open set).
    FreeForm {
        max_tokens: u32,
        labels: Vec<String>,
        normalise: bool,
    },
}

/// A judge kind with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum JudgeMethod {
    /// `regex`, `contains_any`, `prefix`, `exact`: label → patterns, first match wins.
    Rules {
        kind: RuleKind,
        rules: IndexMap<String, Vec<String>>,
        otherwise: Option<String>,
        case_sensitive: bool,
    },
    /// `choice`: the letter the answer names, or `match`/`mismatch` against `key_var`.
    Choice {
        letters: Vec<String>,
        key_var: Option<String>,
        otherwise: Option<String>,
        case_sensitive: bool,
    },
    /// `llm_label`, `llm_rating`, `llm_free_form`: a judge model asked with `prompt`.
    Llm { prompt: String, read: LlmRead },
}

impl JudgeMethod {
    /// The method `spec` declares, its defaults filled in. Keys of other kinds are ignored:
    /// validation reports them.
    pub fn of(spec: &JudgeSpec) -> JudgeMethod {
        let rules = |kind| JudgeMethod::Rules {
            kind,
            rules: spec.rules.clone(),
            otherwise: spec.otherwise.clone(),
            case_sensitive: spec.case_sensitive,
        };
        let llm = |read| JudgeMethod::Llm {
            prompt: spec.prompt.clone().unwrap_or_default(),
            read,
        };
        let labels = || spec.labels.clone().unwrap_or_default();
        match spec.kind {
            JudgeKind::Regex => rules(RuleKind::Regex),
            JudgeKind::ContainsAny => rules(RuleKind::ContainsAny),
            JudgeKind::Prefix => rules(RuleKind::Prefix),
            JudgeKind::Exact => rules(RuleKind::Exact),
            JudgeKind::Choice => JudgeMethod::Choice {
                letters: spec
                    .labels
                    .clone()
                    .unwrap_or_else(|| CHOICE_LETTERS.map(String::from).to_vec()),
                key_var: spec.key_var.clone(),
                otherwise: spec.otherwise.clone(),
                case_sensitive: spec.case_sensitive,
            },
            JudgeKind::LlmLabel => llm(LlmRead::Label { labels: labels() }),
            JudgeKind::LlmRating => llm(LlmRead::Rating {
                min: spec.min.unwrap_or(RATING_RANGE.0),
                max: spec.max.unwrap_or(RATING_RANGE.1),
                min_numeric_mass: spec.min_numeric_mass.unwrap_or(MIN_NUMERIC_MASS),
            }),
            JudgeKind::LlmFreeForm => llm(LlmRead::FreeForm {
                max_tokens: spec.max_tokens.unwrap_or(FREE_FORM_MAX_TOKENS),
                labels: labels(),
                normalise: spec.normalise,
            }),
        }
    }

    /// Whether the kind reads `key`, one of the keys only some kinds read (`rules`,
    /// `otherwise`, `case_sensitive`, `labels`, `key_var`, `prompt`, `model`, `max_tokens`,
    /// `normalise`, `min`, `max`, `min_numeric_mass`); validation reports the others as
    /// misplaced.
    pub fn takes(&self, key: &str) -> bool {
        match key {
            "rules" => matches!(self, JudgeMethod::Rules { .. }),
            "otherwise" | "case_sensitive" => !self.is_llm(),
            "labels" => matches!(
                self,
                JudgeMethod::Choice { .. }
                    | JudgeMethod::Llm {
                        read: LlmRead::Label { .. } | LlmRead::FreeForm { .. },
                        ..
                    }
            ),
            "key_var" => matches!(self, JudgeMethod::Choice { .. }),
            "prompt" | "model" => self.is_llm(),
            "max_tokens" | "normalise" => self.open_labels(),
            "min" | "max" | "min_numeric_mass" => self.is_rating(),
            _ => true,
        }
    }

    /// Whether the judge asks an LLM.
    pub fn is_llm(&self) -> bool {
        matches!(self, JudgeMethod::Llm { .. })
    }

    /// Whether the judge gives scores (`llm_rating`) rather than labels.
    pub fn is_rating(&self) -> bool {
        matches!(
            self,
            JudgeMethod::Llm {
                read: LlmRead::Rating { .. },
                ..
            }
        )
    }

    /// Whether the judge's labels form an open set (`llm_free_form`: its reply is the label).
    pub fn open_labels(&self) -> bool {
        matches!(
            self,
            JudgeMethod::Llm {
                read: LlmRead::FreeForm { .. },
                ..
            }
        )
    }

    /// Whether the judge's labels are replies in [`normal_label`] form: a label it can give
    /// is then in that form too.
    pub fn normalises(&self) -> bool {
        matches!(
            self,
            JudgeMethod::Llm {
                read: LlmRead::FreeForm {
                    normalise: true,
                    ..
                },
                ..
            }
        )
    }

    /// The range of the judge's values: `[0, 1]` for labels (a rate), `[min, max]` for
    /// ratings.
    pub fn value_range(&self) -> (f64, f64) {
        match self {
            JudgeMethod::Llm {
                read: LlmRead::Rating { min, max, .. },
                ..
            } => (f64::from(*min), f64::from(*max)),
            _ => (0.0, 1.0),
        }
    }

    /// The labels the judge can give, in order (empty for a rating judge).
    pub fn labels(&self) -> Vec<String> {
        let (mut out, otherwise): (Vec<String>, _) = match self {
            JudgeMethod::Rules {
                rules, otherwise, ..
            } => (rules.keys().cloned().collect(), otherwise),
            JudgeMethod::Choice {
                key_var: Some(_),
                otherwise,
                ..
            } => (vec!["match".into(), "mismatch".into()], otherwise),
            JudgeMethod::Choice {
                letters, otherwise, ..
            } => (letters.clone(), otherwise),
            JudgeMethod::Llm { read, .. } => match read {
                LlmRead::Label { labels } | LlmRead::FreeForm { labels, .. } => {
                    (labels.clone(), &None)
                }
                LlmRead::Rating { .. } => return Vec::new(),
            },
        };
        if let Some(o) = otherwise
            && !out.contains(o)
        {
            out.push(o.clone());
        }
        out
    }
}

/// A free-form reply as an open-set label: trimmed, enclosing quotes or brackets and a final
/// `.` or `!` dropped (repeatedly), runs of whitespace collapsed, lower case. `" \"Barack
/// Obama.\"\n"` is `barack obama`.
pub fn normal_label(reply: &str) -> String {
    const PAIRS: [(char, char); 5] = [('"', '"'), ('\'', '\''), ('“', '”'), ('(', ')'), ('[', ']')];
    strip_enclosing(reply, &PAIRS)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `s` trimmed, without a final `.` or `!` and without an enclosing pair of `pairs`,
/// repeatedly: the one rule by which judge replies are unwrapped.
pub(crate) fn strip_enclosing<'a>(mut s: &'a str, pairs: &[(char, char)]) -> &'a str {
    loop {
        let t = s.trim().trim_end_matches(['.', '!']).trim_end();
        let inner = pairs.iter().find_map(|(a, b)| {
            t.strip_prefix(*a)
                .and_then(|r| r.strip_suffix(*b))
                .filter(|_| t.chars().count() >= 2)
        });
        match inner {
            Some(i) => s = i,
            None => return t,
        }
    }
}

/// The judge model of an LLM judge, and where it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeModel {
    /// `provider/model`, as given.
    pub reference: String,
    /// Where: the environment variable, the judge's `model` or the suite's `judge_model`.
    pub from: &'static str,
}

/// The one precedence rule of the judge model: `WEIRDGEN_JUDGE_MODEL` (it pins every LLM
/// judge), else the judge's own `model`, else the suite's `judge_model`; blank values do not
/// count.
pub fn pick_judge_model(
    env: Option<&str>,
    judge: Option<&str>,
    suite: Option<&str>,
) -> Option<JudgeModel> {
    [
        (env, JUDGE_MODEL_ENV),
        (judge, "the judge's `model`"),
        (suite, "`judge_model`"),
    ]
    .into_iter()
    .find_map(|(value, from)| {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        Some(JudgeModel {
            reference: v.to_string(),
            from,
        })
    })
}

/// A judge of a loaded suite.
#[derive(Debug, Clone)]
pub struct JudgeDef {
    pub name: String,
    pub method: JudgeMethod,
    /// LLM judges: the judge model by [`pick_judge_model`] (none for rule judges).
    pub model: Option<JudgeModel>,
    /// The declaration as written: its examples, and what cached judgments are keyed by.
    pub spec: JudgeSpec,
}

impl JudgeDef {
    /// The judge `name` of a validated suite whose `judge_model` is `suite_model`, with
    /// `env` the value of `WEIRDGEN_JUDGE_MODEL`.
    pub fn new(
        name: &str,
        spec: &JudgeSpec,
        suite_model: Option<&str>,
        env: Option<&str>,
    ) -> JudgeDef {
        let method = JudgeMethod::of(spec);
        let model = method
            .is_llm()
            .then(|| pick_judge_model(env, spec.model.as_deref(), suite_model))
            .flatten();
        JudgeDef {
            name: name.to_string(),
            method,
            model,
            spec: spec.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> JudgeSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn defaults_are_filled_in() {
        let m = JudgeMethod::of(&spec("kind: llm_rating\nprompt: \"{answer}\""));
        assert_eq!(m.value_range(), (0.0, 100.0));
        assert!(m.is_rating() && m.is_llm());
        let m = JudgeMethod::of(&spec("kind: llm_free_form\nprompt: \"{answer}\""));
        assert!(matches!(
            m,
            JudgeMethod::Llm {
                read: LlmRead::FreeForm {
                    max_tokens: 1024,
                    ..
                },
                ..
            }
        ));
        let m = JudgeMethod::of(&spec("kind: choice\notherwise: refused"));
        assert_eq!(m.labels(), ["A", "B", "refused"]);
        let m = JudgeMethod::of(&spec("kind: choice\nkey_var: key"));
        assert_eq!(m.labels(), ["match", "mismatch"]);
        let m = JudgeMethod::of(&spec("kind: regex\nrules: {old: [x], new: [y]}"));
        assert_eq!(m.labels(), ["old", "new"]);
        assert!(!m.is_llm());
    }

    #[test]
    fn open_labels_in_normal_form() {
        assert_eq!(normal_label(" \"Barack  Obama.\"\n"), "barack obama");
        assert_eq!(normal_label("'Donald Trump'!"), "donald trump");
        assert_eq!(normal_label("(NONE)."), "none");
        assert_eq!(normal_label("Abraham Lincoln"), "abraham lincoln");
        assert_eq!(normal_label("  "), "");
        assert_eq!(normal_label("\""), "\"");
        let m = JudgeMethod::of(&spec(
            "kind: llm_free_form\nnormalise: true\nprompt: \"{answer}\"",
        ));
        assert!(m.normalises() && m.takes("normalise"));
        let m = JudgeMethod::of(&spec("kind: llm_free_form\nprompt: \"{answer}\""));
        assert!(!m.normalises());
        assert!(
            !JudgeMethod::of(&spec("kind: llm_rating\nprompt: \"{answer}\"")).takes("normalise")
        );
    }

    #[test]
    fn judge_model_precedence() {
        let pick = |env, judge, suite| pick_judge_model(env, judge, suite).map(|m| m.reference);
        assert_eq!(pick(None, None, None), None);
        assert_eq!(pick(None, None, Some("a/s")).as_deref(), Some("a/s"));
        assert_eq!(pick(None, Some("a/j"), Some("a/s")).as_deref(), Some("a/j"));
        assert_eq!(
            pick(Some("a/e"), Some("a/j"), Some("a/s")).as_deref(),
            Some("a/e")
        );
        assert_eq!(pick(Some(" "), None, Some("a/s")).as_deref(), Some("a/s"));
        let j = spec("kind: llm_label\nlabels: [A, B]\nprompt: \"{answer}\"\nmodel: a/j");
        let d = JudgeDef::new("j", &j, Some("a/s"), Some("a/e"));
        assert_eq!(d.model.unwrap().from, JUDGE_MODEL_ENV);
        let r = spec("kind: exact\nrules: {yes: [yes]}");
        assert_eq!(JudgeDef::new("r", &r, Some("a/s"), Some("a/e")).model, None);
    }
}
