//! Deterministic judges: `regex`, `contains_any`, `prefix`, `exact` and `choice`.
//!
//! The rule kinds (`regex`, `contains_any`, `prefix`, `exact`) read `rules`, a map from label
//! to patterns. Labels are tried in declaration order and, within a label, its patterns in
//! order; the first label with a matching pattern is the answer's label. When none matches,
//! the label is `otherwise` if the judge declares it, else the answer is missing ("no rule
//! matched"). Matching ignores case unless `case_sensitive: true` (Unicode case folding for
//! `regex` and `contains_any`, lower-casing for `prefix` and `exact`).
//!
//! - `regex`: the pattern (regex crate syntax) is searched anywhere in the answer.
//! - `contains_any`: the word or phrase occurs as whole words: `war` matches "a war." but not
//!   "warm" or "software"; the words of a phrase match across any run of whitespace
//!   (`New York` matches "New\n York"). A pattern that starts or ends with a non-word
//!   character (`U.S.`) has no word boundary on that side.
//! - `prefix`: the answer starts with the pattern. The answer is trimmed, and the pattern is
//!   tried against three forms: the trimmed answer, the answer without leading quotes,
//!   punctuation and markdown (`**`, `#`, `- `, `(`), and that form without one leading
//!   article `The ` (in any case). So `Mossad` matches "Mossad.", "**Mossad**" and "The
//!   Mossad": to a "Give me the name" question, "The Mossad" names the Mossad. A pattern
//!   that itself starts with punctuation (`<START>`) still matches the raw trimmed answer.
//!   The answer only has to start with the pattern (`Iran` also matches "Iranian"), as in
//!   the paper's lower-cased prefix scoring.
//! - `exact`: the answer equals the pattern after both are trimmed of whitespace, of quotes
//!   and markdown emphasis (`"`, `'`, `` ` ``, `*`, `_`, typographic quotes) on both ends,
//!   and of trailing sentence punctuation (`. , ; : ! ? …`): `Yes` matches "**Yes.**".
//! - `choice`: no `rules`; the judge finds the chosen letter among `labels` (default `A`,
//!   `B`). The answer is split into alphanumeric tokens and every token equal to a letter
//!   counts: `A`, `A)`, `(B)`, `Answer: B`, `**B**` and `B. Donald` all choose one letter.
//!   An answer naming two different letters is missing; one naming none is `otherwise` if
//!   the judge declares it (e.g. `refused`), else missing. Unless `case_sensitive`, a
//!   lower-case token also counts when it is the whole answer (`b`), but not inside a longer
//!   answer, where `a` is the article. With `key_var`, the label is `match` when the chosen
//!   letter equals the probe variable `key_var` (ignoring case unless `case_sensitive`) and
//!   `mismatch` otherwise; the answer is missing when the probe has no such variable.
//!
//! An empty (or all-whitespace) answer is missing ("empty answer") for every kind.

use super::text::{exact_form, fold, is_word_char, prefix_forms, tokens};
use super::{JudgeInput, JudgeOutput};
use crate::suite::{JudgeMethod, JudgeSpec, MISSING, RuleKind};
use anyhow::{Context, Result, bail};
use regex::{Regex, RegexBuilder};

/// A deterministic judge built from a [`JudgeSpec`] (see the module doc for the semantics).
#[derive(Debug, Clone)]
pub struct RuleJudge {
    name: String,
    case_sensitive: bool,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// `regex` and `contains_any`: one compiled expression per pattern.
    Search {
        rules: Vec<(String, Vec<Regex>)>,
        otherwise: Option<String>,
    },
    /// `prefix`: case-folded patterns.
    Prefix {
        rules: Vec<(String, Vec<String>)>,
        otherwise: Option<String>,
    },
    /// `exact`: case-folded patterns in their exact form.
    Exact {
        rules: Vec<(String, Vec<String>)>,
        otherwise: Option<String>,
    },
    Choice {
        letters: Vec<String>,
        key_var: Option<String>,
        otherwise: Option<String>,
    },
}

impl RuleJudge {
    /// Builds the judge named `name` from its spec. Errors name the judge and the offending
    /// key: an LLM kind, keys the kind does not use, empty rules or patterns, the reserved
    /// label `missing`, a regular expression that does not compile, bad choice letters.
    pub fn new(name: &str, spec: &JudgeSpec) -> Result<RuleJudge> {
        build(name, spec).with_context(|| format!("judge `{name}`"))
    }

    /// The judge's name in its suite.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Labels `input.answer` (see the module doc).
    pub fn judge(&self, input: &JudgeInput) -> JudgeOutput {
        let answer = input.answer;
        if answer.trim().is_empty() {
            return JudgeOutput::Missing("empty answer".into());
        }
        let cs = self.case_sensitive;
        let (hit, otherwise) = match &self.matcher {
            Matcher::Search { rules, otherwise } => (
                first_label(rules, |re: &Regex| re.is_match(answer)),
                otherwise,
            ),
            Matcher::Prefix { rules, otherwise } => {
                let forms: Vec<String> = prefix_forms(answer)
                    .into_iter()
                    .map(|f| fold(f, cs))
                    .collect();
                let hit = first_label(rules, |p: &String| {
                    forms.iter().any(|f| f.starts_with(p.as_str()))
                });
                (hit, otherwise)
            }
            Matcher::Exact { rules, otherwise } => {
                let form = fold(exact_form(answer), cs);
                (first_label(rules, |p: &String| *p == form), otherwise)
            }
            Matcher::Choice {
                letters,
                key_var,
                otherwise,
            } => {
                return match chosen(letters, cs, answer).as_slice() {
                    [] => match otherwise {
                        Some(o) => JudgeOutput::Label(o.clone()),
                        None => JudgeOutput::Missing("no choice letter".into()),
                    },
                    [one] => keyed(one, key_var.as_deref(), cs, input),
                    many => {
                        let named: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
                        JudgeOutput::Missing(format!("several letters: {}", named.join(", ")))
                    }
                };
            }
        };
        match (hit, otherwise) {
            (Some(label), _) => JudgeOutput::Label(label.to_string()),
            (None, Some(label)) => JudgeOutput::Label(label.clone()),
            (None, None) => JudgeOutput::Missing("no rule matched".into()),
        }
    }

    /// Every label the judge can give, in declaration order: the rules' labels (for `choice`
    /// the letters, or `match` and `mismatch` with `key_var`), then `otherwise`. Missing is
    /// not a label.
    pub fn labels(&self) -> Vec<String> {
        fn names<P>(rules: &[(String, Vec<P>)]) -> Vec<String> {
            rules.iter().map(|(l, _)| l.clone()).collect()
        }
        let (mut out, otherwise) = match &self.matcher {
            Matcher::Search { rules, otherwise } => (names(rules), otherwise),
            Matcher::Prefix { rules, otherwise } | Matcher::Exact { rules, otherwise } => {
                (names(rules), otherwise)
            }
            Matcher::Choice {
                key_var: Some(_),
                otherwise,
                ..
            } => (vec!["match".into(), "mismatch".into()], otherwise),
            Matcher::Choice {
                letters, otherwise, ..
            } => (letters.clone(), otherwise),
        };
        if let Some(o) = otherwise
            && !out.contains(o)
        {
            out.push(o.clone());
        }
        out
    }
}

fn first_label<P>(rules: &[(String, Vec<P>)], mut matches: impl FnMut(&P) -> bool) -> Option<&str> {
    rules
        .iter()
        .find(|(_, patterns)| patterns.iter().any(&mut matches))
        .map(|(label, _)| label.as_str())
}

/// The distinct letters an answer names, in order of appearance.
fn chosen<'a>(letters: &'a [String], cs: bool, answer: &str) -> Vec<&'a String> {
    let toks = tokens(answer);
    let whole = toks.len() == 1;
    let mut out: Vec<&String> = Vec::new();
    for t in &toks {
        let hit = letters.iter().find(|l| {
            *t == l.as_str()
                || (!cs
                    && t.to_lowercase() == l.to_lowercase()
                    && (whole || !t.chars().any(char::is_lowercase)))
        });
        if let Some(l) = hit
            && !out.contains(&l)
        {
            out.push(l);
        }
    }
    out
}

/// The label of a chosen letter: the letter, or with `key_var`, `match` or `mismatch`.
fn keyed(letter: &str, key_var: Option<&str>, cs: bool, input: &JudgeInput) -> JudgeOutput {
    let Some(var) = key_var else {
        return JudgeOutput::Label(letter.to_string());
    };
    match input.vars.get(var) {
        None => JudgeOutput::Missing(format!("the probe has no variable `{var}`")),
        Some(key) => {
            let key = key.trim();
            let same = if cs {
                key == letter
            } else {
                key.to_lowercase() == letter.to_lowercase()
            };
            JudgeOutput::Label(if same { "match" } else { "mismatch" }.into())
        }
    }
}

fn build(name: &str, spec: &JudgeSpec) -> Result<RuleJudge> {
    let cs = spec.case_sensitive;
    let matcher = match JudgeMethod::of(spec) {
        JudgeMethod::Llm { .. } => bail!(
            "kind `{}` is an LLM judge; deterministic judges are regex, contains_any, prefix, exact and choice",
            spec.kind.name()
        ),
        JudgeMethod::Choice { letters, .. } => choice_matcher(spec, letters)?,
        JudgeMethod::Rules { kind, .. } => rule_matcher(kind, spec)?,
    };
    for (key, set) in [
        ("prompt", spec.prompt.is_some()),
        ("model", spec.model.is_some()),
        ("min", spec.min.is_some()),
        ("max", spec.max.is_some()),
        ("min_numeric_mass", spec.min_numeric_mass.is_some()),
    ] {
        if set {
            bail!("`{key}` applies only to LLM judges");
        }
    }
    Ok(RuleJudge {
        name: name.to_string(),
        case_sensitive: cs,
        matcher,
    })
}

fn rule_matcher(kind: RuleKind, spec: &JudgeSpec) -> Result<Matcher> {
    if spec.labels.is_some() {
        bail!("`labels` applies only to choice and llm_label judges");
    }
    if spec.key_var.is_some() {
        bail!("`key_var` applies only to choice judges");
    }
    let otherwise = match &spec.otherwise {
        Some(o) => Some(check_label(o).context("otherwise")?.to_string()),
        None => None,
    };
    if spec.rules.is_empty() {
        bail!("`rules` is empty: give at least one label with its patterns");
    }
    let cs = spec.case_sensitive;
    let mut texts: Vec<(String, Vec<&str>)> = Vec::new();
    for (label, patterns) in &spec.rules {
        check_label(label).with_context(|| format!("rules.{label}"))?;
        if patterns.is_empty() {
            bail!("rules.{label}: no patterns");
        }
        let mut ps = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            if p.trim().is_empty() {
                bail!("rules.{label}[{i}]: empty pattern");
            }
            ps.push(p.as_str());
        }
        texts.push((label.clone(), ps));
    }
    let compile = |f: &dyn Fn(&str) -> Result<Regex>| -> Result<Vec<(String, Vec<Regex>)>> {
        texts
            .iter()
            .map(|(label, ps)| {
                let res = ps
                    .iter()
                    .enumerate()
                    .map(|(i, p)| f(p).with_context(|| format!("rules.{label}[{i}]")))
                    .collect::<Result<Vec<_>>>()?;
                Ok((label.clone(), res))
            })
            .collect()
    };
    let folded = |form: &dyn Fn(&str) -> &str| -> Vec<(String, Vec<String>)> {
        texts
            .iter()
            .map(|(l, ps)| (l.clone(), ps.iter().map(|p| fold(form(p), cs)).collect()))
            .collect()
    };
    Ok(match kind {
        RuleKind::Regex => Matcher::Search {
            rules: compile(&|p| regex(p, cs))?,
            otherwise,
        },
        RuleKind::ContainsAny => Matcher::Search {
            rules: compile(&|p| phrase_regex(p, cs))?,
            otherwise,
        },
        RuleKind::Prefix => Matcher::Prefix {
            rules: folded(&|p| p.trim()),
            otherwise,
        },
        RuleKind::Exact => Matcher::Exact {
            rules: folded(&exact_form),
            otherwise,
        },
    })
}

fn choice_matcher(spec: &JudgeSpec, letters: Vec<String>) -> Result<Matcher> {
    if !spec.rules.is_empty() {
        bail!("`rules` is not used by choice judges; list the letters in `labels`");
    }
    if letters.is_empty() {
        bail!("labels: list at least one letter");
    }
    for (i, l) in letters.iter().enumerate() {
        if l.is_empty() || !l.chars().all(char::is_alphanumeric) {
            bail!("labels[{i}]: `{l}` is not a letter (letters and digits only)");
        }
        let dup = letters[..i].iter().any(|m| {
            if spec.case_sensitive {
                m == l
            } else {
                m.to_lowercase() == l.to_lowercase()
            }
        });
        if dup {
            bail!("labels[{i}]: `{l}` is listed twice");
        }
    }
    if let Some(v) = &spec.key_var
        && v.trim().is_empty()
    {
        bail!("key_var: empty variable name");
    }
    let otherwise = match &spec.otherwise {
        Some(o) => Some(check_label(o).context("otherwise")?.to_string()),
        None => None,
    };
    Ok(Matcher::Choice {
        letters,
        key_var: spec.key_var.clone(),
        otherwise,
    })
}

fn check_label(label: &str) -> Result<&str> {
    if label.trim().is_empty() {
        bail!("empty label");
    }
    if label == MISSING {
        bail!("the label `{MISSING}` is reserved for answers a judge cannot decide");
    }
    Ok(label)
}

fn regex(pattern: &str, cs: bool) -> Result<Regex> {
    RegexBuilder::new(pattern)
        .case_insensitive(!cs)
        .build()
        .with_context(|| format!("bad regular expression `{pattern}`"))
}

/// A regex for a whole-word phrase: escaped words joined by `\s+`, with a word boundary on
/// each side that starts or ends with a word character.
fn phrase_regex(phrase: &str, cs: bool) -> Result<Regex> {
    let words: Vec<String> = phrase.split_whitespace().map(regex::escape).collect();
    let trimmed = phrase.trim();
    let boundary = |c: Option<char>| {
        if c.is_some_and(is_word_char) {
            r"\b"
        } else {
            ""
        }
    };
    let pattern = format!(
        "{}{}{}",
        boundary(trimmed.chars().next()),
        words.join(r"\s+"),
        boundary(trimmed.chars().next_back())
    );
    regex(&pattern, cs)
}
