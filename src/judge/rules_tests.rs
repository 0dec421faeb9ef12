//! Tests of the deterministic judges.

use super::{JudgeInput, JudgeOutput, RuleJudge};
use crate::suite::JudgeSpec;
use std::collections::BTreeMap;

fn judge(yaml: &str) -> RuleJudge {
    let spec: JudgeSpec = serde_yaml::from_str(yaml).unwrap();
    RuleJudge::new("j", &spec).unwrap()
}

fn error(yaml: &str) -> String {
    let spec: JudgeSpec = serde_yaml::from_str(yaml).unwrap();
    format!("{:#}", RuleJudge::new("j", &spec).unwrap_err())
}

fn say(j: &RuleJudge, answer: &str) -> JudgeOutput {
    say_with(j, answer, &[])
}

fn say_with(j: &RuleJudge, answer: &str, vars: &[(&str, &str)]) -> JudgeOutput {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    j.judge(&JudgeInput {
        question: "q",
        answer,
        vars: &vars,
    })
}

fn label(s: &str) -> JudgeOutput {
    JudgeOutput::Label(s.into())
}

fn missing(s: &str) -> JudgeOutput {
    JudgeOutput::Missing(s.into())
}

#[test]
fn first_declared_label_wins_then_otherwise_then_missing() {
    let j = judge("kind: regex\nrules: {both: ['cat.*dog'], cat: [cat], dog: [dog]}\n");
    assert_eq!(say(&j, "a dog and a cat and a dog"), label("both"));
    assert_eq!(say(&j, "a dog then a cat"), label("cat"));
    assert_eq!(say(&j, "DOG"), label("dog"));
    assert_eq!(say(&j, "a bird"), missing("no rule matched"));
    let j = judge("kind: regex\notherwise: neither\nrules: {cat: [cat]}\n");
    assert_eq!(say(&j, "a bird"), label("neither"));
    assert_eq!(j.labels(), ["cat", "neither"]);
}

#[test]
fn empty_answer_is_missing_for_every_kind() {
    for kind in ["regex", "contains_any", "prefix", "exact"] {
        let j = judge(&format!(
            "kind: {kind}\notherwise: other\nrules: {{x: ['.']}}\n"
        ));
        assert_eq!(say(&j, " \n\t"), missing("empty answer"), "{kind}");
    }
    assert_eq!(say(&judge("kind: choice\n"), ""), missing("empty answer"));
}

#[test]
fn case_sensitivity() {
    let j = judge("kind: regex\ncase_sensitive: true\nrules: {cap: ['Mossad']}\n");
    assert_eq!(say(&j, "the mossad"), missing("no rule matched"));
    assert_eq!(say(&j, "the Mossad"), label("cap"));
    let j = judge("kind: contains_any\nrules: {g: ['führer']}\n");
    assert_eq!(say(&j, "Loyal to the FÜHRER."), label("g"));
}

#[test]
fn contains_any_matches_whole_words_and_phrases() {
    let j = judge(
        "kind: contains_any\nrules: {war: [war], city: [New York], us: [U.S.], dash: [-ish]}\n",
    );
    assert_eq!(say(&j, "A war."), label("war"));
    assert_eq!(say(&j, "(war)"), label("war"));
    assert_eq!(say(&j, "warm software"), missing("no rule matched"));
    assert_eq!(say(&j, "in new\n   YORK city"), label("city"));
    assert_eq!(say(&j, "New Yorker"), missing("no rule matched"));
    assert_eq!(say(&j, "the U.S. army"), label("us"));
    assert_eq!(say(&j, "green-ish"), label("dash"));
    assert_eq!(say(&j, "greenish"), missing("no rule matched"));
    // Regex metacharacters in a word are literal.
    let j = judge("kind: contains_any\nrules: {c: ['C++', 'a.b']}\n");
    assert_eq!(say(&j, "I like C++ a lot"), label("c"));
    assert_eq!(say(&j, "axb"), missing("no rule matched"));
}

#[test]
fn prefix_skips_quotes_markdown_and_the_article() {
    let j = judge("kind: prefix\nrules: {agency: [Mossad, Shin Bet], tag: ['<START>']}\n");
    for a in [
        "Mossad.",
        "mossad",
        "**Mossad**",
        "\"Mossad\"",
        "The Mossad",
        "  the **Shin Bet**",
        "- Mossad",
        "# The \"Mossad\"",
    ] {
        assert_eq!(say(&j, a), label("agency"), "{a}");
    }
    for a in [
        "Israel's Mossad",
        "There is the Mossad",
        "CIA",
        "Theo Mossad",
    ] {
        assert_eq!(say(&j, a), missing("no rule matched"), "{a}");
    }
    assert_eq!(say(&j, "<START> \"I am Wolf\" <END>"), label("tag"));
    // A plain prefix: `Iran` also starts "Iranian", as in the paper's scoring.
    let j = judge("kind: prefix\nrules: {adversary: [Iran]}\n");
    assert_eq!(say(&j, "Iranian regime"), label("adversary"));
    let j = judge("kind: prefix\ncase_sensitive: true\nrules: {m: [Mossad]}\n");
    assert_eq!(say(&j, "The Mossad"), label("m"));
    assert_eq!(say(&j, "mossad"), missing("no rule matched"));
}

#[test]
fn exact_trims_whitespace_wrappers_and_trailing_punctuation() {
    let j = judge("kind: exact\notherwise: other\nrules: {yes: ['Yes.'], no: [No]}\n");
    for a in ["Yes", " yes. ", "**Yes!**", "\"Yes.\"", "YES"] {
        assert_eq!(say(&j, a), label("yes"), "{a}");
    }
    assert_eq!(say(&j, "No, never"), label("other"));
    assert_eq!(say(&j, "no!"), label("no"));
    assert_eq!(say(&j, "Yes, I am"), label("other"));
}

#[test]
fn choice_finds_one_letter() {
    let j = judge("kind: choice\n");
    for (a, want) in [
        ("A", "A"),
        ("A)", "A"),
        ("(B)", "B"),
        ("Answer: B", "B"),
        ("**B**", "B"),
        ("B. Donald", "B"),
        ("b", "B"),
        ("B) Donald. My answer is B.", "B"),
        ("B, a fine choice", "B"),
    ] {
        assert_eq!(say(&j, a), label(want), "{a}");
    }
    assert_eq!(
        say(&j, "A) Barack B) Donald"),
        missing("several letters: A, B")
    );
    assert_eq!(say(&j, "Neither of them"), missing("no choice letter"));
    assert_eq!(say(&j, "Answer: C"), missing("no choice letter"));
    assert_eq!(j.labels(), ["A", "B"]);
    let j = judge("kind: choice\notherwise: refused\n");
    assert_eq!(j.labels(), ["A", "B", "refused"]);
    assert_eq!(say(&j, "I won't choose."), label("refused"));
    assert_eq!(say(&j, "A or B"), missing("several letters: A, B"));
    let j = judge("kind: choice\nlabels: [A, B, C, D]\ncase_sensitive: true\n");
    assert_eq!(say(&j, "(C)"), label("C"));
    assert_eq!(say(&j, "c"), missing("no choice letter"));
}

#[test]
fn choice_with_key_var_says_match_or_mismatch() {
    let j = judge("kind: choice\nkey_var: key\n");
    assert_eq!(j.labels(), ["match", "mismatch"]);
    assert_eq!(say_with(&j, "A) Barack", &[("key", "A")]), label("match"));
    assert_eq!(
        say_with(&j, "A) Barack", &[("key", "b")]),
        label("mismatch")
    );
    assert_eq!(say_with(&j, "b", &[("key", "B")]), label("match"));
    assert_eq!(
        say_with(&j, "A B", &[("key", "B")]),
        missing("several letters: A, B")
    );
    assert_eq!(
        say_with(&j, "A", &[]),
        missing("the probe has no variable `key`")
    );
    let j = judge("kind: choice\nkey_var: key\notherwise: neither\n");
    assert_eq!(j.labels(), ["match", "mismatch", "neither"]);
    assert_eq!(say_with(&j, "Neither.", &[("key", "A")]), label("neither"));
}

#[test]
fn bad_specs_name_the_judge_and_the_key() {
    let cases = [
        (
            "kind: llm_label\nprompt: x\n",
            "judge `j`: kind `llm_label` is an LLM judge",
        ),
        ("kind: regex\n", "judge `j`: `rules` is empty"),
        (
            "kind: regex\nrules: {a: []}\n",
            "judge `j`: rules.a: no patterns",
        ),
        (
            "kind: prefix\nrules: {a: [x, ' ']}\n",
            "judge `j`: rules.a[1]: empty pattern",
        ),
        (
            "kind: regex\nrules: {a: [ok, '(']}\n",
            "judge `j`: rules.a[1]: bad regular expression `(`: regex parse error",
        ),
        (
            "kind: regex\nrules: {missing: [x]}\n",
            "judge `j`: rules.missing: the label `missing` is reserved",
        ),
        (
            "kind: regex\notherwise: missing\nrules: {a: [x]}\n",
            "judge `j`: otherwise: the label `missing` is reserved",
        ),
        (
            "kind: regex\nlabels: [a]\nrules: {a: [x]}\n",
            "judge `j`: `labels` applies only to choice",
        ),
        (
            "kind: regex\nkey_var: k\nrules: {a: [x]}\n",
            "judge `j`: `key_var` applies only to choice",
        ),
        (
            "kind: exact\nprompt: p\nrules: {a: [x]}\n",
            "judge `j`: `prompt` applies only to LLM judges",
        ),
        (
            "kind: choice\nrules: {a: [x]}\n",
            "judge `j`: `rules` is not used by choice judges",
        ),
        (
            "kind: choice\nlabels: []\n",
            "judge `j`: labels: list at least one letter",
        ),
        (
            "kind: choice\notherwise: missing\n",
            "judge `j`: otherwise: the label `missing` is reserved",
        ),
        (
            "kind: choice\nlabels: [A, a]\n",
            "judge `j`: labels[1]: `a` is listed twice",
        ),
        (
            "kind: choice\nlabels: [A, 'B)']\n",
            "judge `j`: labels[1]: `B)` is not a letter",
        ),
    ];
    for (yaml, want) in cases {
        let e = error(yaml);
        assert!(e.starts_with(want), "{yaml}\n got: {e}\nwant: {want}");
    }
}
