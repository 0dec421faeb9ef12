//! Reading an LLM judge's reply: a label from its final line, a rating from the first
//! token's top log-probabilities (or, failing those, from its text). Pure functions.

use super::llmcomp;
use crate::judge::JudgeOutput;

/// Characters that decorate a final line in Markdown and never belong to a label.
const DECORATION: [char; 2] = ['*', '`'];

/// Lower case with runs of whitespace collapsed: how labels are compared.
pub(super) fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `s` shortened for an error message.
fn excerpt(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

/// `s` without trailing `.`/`!` and enclosing quotes, brackets or underscores, repeatedly.
fn strip_value(s: &str) -> &str {
    const PAIRS: [(char, char); 7] = [
        ('"', '"'),
        ('\'', '\''),
        ('[', ']'),
        ('(', ')'),
        ('<', '>'),
        ('_', '_'),
        ('“', '”'),
    ];
    crate::suite::strip_enclosing(s, &PAIRS)
}

/// What follows `prefix` (ASCII, any case) and a colon at the start of `line`.
fn after_prefix<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let head = line.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    line[prefix.len()..].trim_start().strip_prefix(':')
}

/// The label named by the reply's final non-empty line: `ANSWER: <label>` (also `Final
/// answer:`, any case, Markdown emphasis, quotes and a trailing period tolerated) or the
/// bare label alone. Anything else is missing, with the reason.
pub(super) fn label(text: &str, labels: &[String], finish_reason: Option<&str>) -> JudgeOutput {
    let cut = if finish_reason == Some("length") {
        " (the reply was cut at its token limit)"
    } else {
        ""
    };
    let Some(line) = text.lines().map(str::trim).rfind(|l| !l.is_empty()) else {
        return JudgeOutput::Missing(format!("the judge's reply is empty{cut}"));
    };
    let cleaned: String = line.chars().filter(|c| !DECORATION.contains(c)).collect();
    let cleaned = cleaned.trim().trim_start_matches(['#', '>']).trim();
    let value = ["final answer", "answer"]
        .iter()
        .find_map(|p| after_prefix(cleaned, p))
        .unwrap_or(cleaned);
    let value = normalise(strip_value(value));
    match labels.iter().find(|l| normalise(l) == value) {
        Some(l) => JudgeOutput::Label(l.clone()),
        None => JudgeOutput::Missing(format!(
            "the final line `{}` names none of the labels {}{cut}",
            excerpt(line),
            labels.join(", ")
        )),
    }
}

/// The expected rating over one token's top alternatives, by llmcomp's rule
/// ([`super::llmcomp`]): integer tokens within `min..=max` are kept and renormalised;
/// missing unless their total probability is more than `min_mass` (llmcomp's refusal
/// threshold is `1 - min_mass`).
pub(super) fn rating_from_logprobs(
    top: &[(String, f64)],
    min: u32,
    max: u32,
    min_mass: f64,
) -> JudgeOutput {
    let Some(stored) = llmcomp::stored_probs(top) else {
        return JudgeOutput::Missing("the judge's top log-probabilities name a token twice".into());
    };
    match llmcomp::expected_rating(&stored, i64::from(min), i64::from(max), 1.0 - min_mass) {
        Ok(v) => JudgeOutput::Score(v),
        Err(mass) => JudgeOutput::Missing(format!(
            "only {:.1}% of the judge's probability mass is on integers {min}..={max} (more than {:.1}% needed)",
            100.0 * mass.unwrap_or(0.0),
            100.0 * min_mass
        )),
    }
}

/// The first integer written in `text`, if it lies within `min..=max`: the fallback when the
/// provider gives no log-probabilities.
pub(super) fn rating_from_text(text: &str, min: u32, max: u32) -> JudgeOutput {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    match llmcomp::python_int(&digits) {
        Some(v) if (i64::from(min)..=i64::from(max)).contains(&v) => JudgeOutput::Score(v as f64),
        _ => JudgeOutput::Missing(format!(
            "no log-probabilities, and the reply `{}` holds no integer in {min}..={max}",
            excerpt(text.trim())
        )),
    }
}
