//! How well a judge agrees with the labels its suite expects on its `examples`: accuracy and
//! Cohen's kappa.

use super::rules::RuleJudge;
use super::{JudgeInput, JudgeOutput};
use crate::suite::MISSING;
use crate::suite::{AgreementSpec, JudgeExample, JudgeSpec};
use anyhow::{Result, bail};
use std::collections::{BTreeMap, HashMap};

/// The allowed distance between a rating and an example's `score` when it gives no
/// `tolerance`.
pub const DEFAULT_TOLERANCE: f64 = 20.0;

/// One example the judge got wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Disagreement {
    /// The example's position in the list.
    pub index: usize,
    /// What the example expects (a label, `missing`, or `score ± tolerance`).
    pub expected: String,
    /// What the judge said (a label, `missing`, or a score).
    pub got: String,
}

/// Agreement of a judge with expected labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// Number of examples.
    pub n: usize,
    /// Share of examples where the judge agrees (NaN when `n` is 0).
    pub accuracy: f64,
    /// Cohen's kappa (unweighted); `None` when it is undefined (no examples, or expected and
    /// given labels all one and the same class) and for rating judges.
    pub kappa: Option<f64>,
    /// The examples where the judge and the expectation differ, in order.
    pub disagreements: Vec<Disagreement>,
}

impl Agreement {
    /// Whether the agreement reaches the suite's thresholds: accuracy at least
    /// `min_accuracy` and, where kappa is defined, kappa at least `min_kappa`.
    pub fn meets(&self, spec: &AgreementSpec) -> bool {
        self.accuracy >= spec.min_accuracy && self.kappa.is_none_or(|k| k >= spec.min_kappa)
    }
}

/// Accuracy and Cohen's kappa of `got` against `expected`, label by label (`missing` is a
/// label like any other). Kappa is (pₒ − pₑ)/(1 − pₑ), with pₒ the observed agreement and pₑ
/// the agreement expected by chance from the two label distributions, as
/// `sklearn.metrics.cohen_kappa_score` computes it.
///
/// # Panics
/// When the two slices differ in length.
pub fn agreement(expected: &[String], got: &[String]) -> Agreement {
    assert_eq!(
        expected.len(),
        got.len(),
        "agreement: expected and given labels differ in number"
    );
    let n = expected.len();
    let disagreements: Vec<Disagreement> = expected
        .iter()
        .zip(got)
        .enumerate()
        .filter(|(_, (e, g))| e != g)
        .map(|(index, (e, g))| Disagreement {
            index,
            expected: e.clone(),
            got: g.clone(),
        })
        .collect();
    let agree = (n - disagreements.len()) as f64;
    let mut counts: HashMap<&str, (f64, f64)> = HashMap::new();
    for e in expected {
        counts.entry(e).or_default().0 += 1.0;
    }
    for g in got {
        counts.entry(g).or_default().1 += 1.0;
    }
    // With A agreements and S = Σₖ eₖ·gₖ over class counts: kappa = (n·A − S) / (n² − S).
    let chance: f64 = counts.values().map(|(e, g)| e * g).sum();
    let nf = n as f64;
    let denominator = nf * nf - chance;
    Agreement {
        n,
        accuracy: if n == 0 { f64::NAN } else { agree / nf },
        kappa: (n > 0 && denominator > 0.0).then(|| (nf * agree - chance) / denominator),
        disagreements,
    }
}

/// How an output reads as a label: the label itself, `missing`, or the score.
pub fn output_label(out: &JudgeOutput) -> String {
    match out {
        JudgeOutput::Label(l) => l.clone(),
        JudgeOutput::Missing(_) => MISSING.to_string(),
        JudgeOutput::Score(s) => s.to_string(),
    }
}

/// An example's variables as a judge reads them.
pub fn example_vars(example: &JudgeExample) -> BTreeMap<String, String> {
    example
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect()
}

/// Agreement of a judge's `outputs` with its `examples` (same order). Label examples agree
/// when the label is the expected one (`missing` included) and give kappa. If any example
/// has a `score` (a rating judge), a score agrees when within the example's `tolerance`
/// (default [`DEFAULT_TOLERANCE`]) of it, and kappa is `None`. Errors when the lengths differ
/// or an example gives both or neither of `label` and `score`.
pub fn examples_agreement(examples: &[JudgeExample], outputs: &[JudgeOutput]) -> Result<Agreement> {
    if examples.len() != outputs.len() {
        bail!(
            "{} examples but {} judge outputs",
            examples.len(),
            outputs.len()
        );
    }
    let mut expected = Vec::with_capacity(examples.len());
    for (i, ex) in examples.iter().enumerate() {
        match (&ex.label, ex.score) {
            (Some(l), None) => expected.push(Expected::Label(l)),
            (None, Some(s)) => expected.push(Expected::Score(
                s,
                ex.tolerance.unwrap_or(DEFAULT_TOLERANCE),
            )),
            (Some(_), Some(_)) => bail!("examples[{i}]: give `label` or `score`, not both"),
            (None, None) => bail!("examples[{i}]: give the expected `label` (or `score`)"),
        }
    }
    let got: Vec<String> = outputs.iter().map(output_label).collect();
    if expected.iter().all(|e| matches!(e, Expected::Label(_))) {
        let labels: Vec<String> = expected.iter().map(Expected::text).collect();
        return Ok(agreement(&labels, &got));
    }
    let disagreements: Vec<Disagreement> = expected
        .iter()
        .zip(outputs)
        .enumerate()
        .filter(|(_, (e, out))| !e.agrees(out))
        .map(|(index, (e, _))| Disagreement {
            index,
            expected: e.text(),
            got: got[index].clone(),
        })
        .collect();
    let n = examples.len();
    Ok(Agreement {
        n,
        accuracy: (n - disagreements.len()) as f64 / n as f64,
        kappa: None,
        disagreements,
    })
}

/// Runs a deterministic judge over `spec.examples` and measures its agreement (see
/// [`examples_agreement`]). Errors also when an example expects a label the judge cannot
/// give.
pub fn rule_agreement(judge: &RuleJudge, spec: &JudgeSpec) -> Result<Agreement> {
    let labels = judge.labels();
    let mut outputs = Vec::with_capacity(spec.examples.len());
    for (i, ex) in spec.examples.iter().enumerate() {
        if let Some(l) = &ex.label
            && l != MISSING
            && !labels.contains(l)
        {
            bail!(
                "judge `{}`: examples[{i}] expects the label `{l}`, which the judge cannot give (labels: {})",
                judge.name(),
                labels.join(", ")
            );
        }
        let vars = example_vars(ex);
        outputs.push(judge.judge(&JudgeInput {
            question: ex.question.as_deref().unwrap_or(""),
            answer: &ex.answer,
            vars: &vars,
        }));
    }
    examples_agreement(&spec.examples, &outputs)
        .map_err(|e| e.context(format!("judge `{}`", judge.name())))
}

enum Expected<'a> {
    Label(&'a str),
    Score(f64, f64),
}

impl Expected<'_> {
    fn text(&self) -> String {
        match self {
            Expected::Label(l) => l.to_string(),
            Expected::Score(s, tol) => format!("{s} ± {tol}"),
        }
    }

    fn agrees(&self, out: &JudgeOutput) -> bool {
        match (self, out) {
            (Expected::Score(s, tol), JudgeOutput::Score(x)) => (x - s).abs() <= *tol,
            (Expected::Score(..), _) => false,
            (Expected::Label(l), out) => *l == output_label(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    // Reference values: sklearn 1.9.1 `cohen_kappa_score(expected, got)`.
    #[test]
    fn kappa_matches_sklearn() {
        let cases = [
            (
                "evil good good evil good good evil good good good",
                "evil good evil evil good good good good good good",
                0.5238095238095238,
            ),
            (
                "old old modern modern other old modern missing other old modern modern",
                "old modern modern modern other old missing missing old old modern other",
                0.5294117647058824,
            ),
            ("A B A B", "B A B A", -1.0),
            ("A B C", "A B C", 1.0),
            ("A A A A", "A B A A", 0.0),
        ];
        for (e, g, want) in cases {
            let a = agreement(&labels(e), &labels(g));
            assert!(close(a.kappa.unwrap(), want), "{e} / {g}: {:?}", a.kappa);
        }
    }

    #[test]
    fn accuracy_and_disagreements() {
        let a = agreement(&labels("A B missing B"), &labels("A A missing C"));
        assert_eq!(a.n, 4);
        assert!(close(a.accuracy, 0.5));
        assert_eq!(
            a.disagreements,
            [
                Disagreement {
                    index: 1,
                    expected: "B".into(),
                    got: "A".into()
                },
                Disagreement {
                    index: 3,
                    expected: "B".into(),
                    got: "C".into()
                },
            ]
        );
    }

    #[test]
    fn kappa_undefined_for_one_shared_class_or_no_examples() {
        let a = agreement(&labels("A A A"), &labels("A A A"));
        assert_eq!((a.accuracy, a.kappa), (1.0, None));
        let empty = agreement(&[], &[]);
        assert!(empty.accuracy.is_nan() && empty.kappa.is_none());
        assert!(!empty.meets(&AgreementSpec::default()));
    }

    #[test]
    fn meets_checks_both_thresholds() {
        let spec = AgreementSpec {
            min_accuracy: 0.8,
            min_kappa: 0.6,
        };
        let good = agreement(&labels("A B A B A"), &labels("A B A B A"));
        assert!(good.meets(&spec));
        // 4/5 right but kappa = (5·4 − 14)/(25 − 14) = 6/11 < 0.6 (sklearn: 0.5454545454545454).
        let weak = agreement(&labels("A B A B A"), &labels("A A A B A"));
        assert!(close(weak.accuracy, 0.8));
        assert!(close(weak.kappa.unwrap(), 6.0 / 11.0));
        assert!(!weak.meets(&spec));
    }

    fn example(yaml: &str) -> JudgeExample {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn rating_examples_agree_within_tolerance() {
        let examples = [
            example("{answer: a, score: 90}"),
            example("{answer: b, score: 10, tolerance: 5}"),
            example("{answer: c, score: 50}"),
            example("{answer: d, label: missing}"),
        ];
        let outputs = [
            JudgeOutput::Score(71.0),
            JudgeOutput::Score(16.0),
            JudgeOutput::Missing("too little numeric mass".into()),
            JudgeOutput::Missing("no number".into()),
        ];
        let a = examples_agreement(&examples, &outputs).unwrap();
        assert!(close(a.accuracy, 0.5));
        assert_eq!(a.kappa, None);
        assert_eq!(
            a.disagreements,
            [
                Disagreement {
                    index: 1,
                    expected: "10 ± 5".into(),
                    got: "16".into()
                },
                Disagreement {
                    index: 2,
                    expected: "50 ± 20".into(),
                    got: "missing".into()
                },
            ]
        );
    }

    #[test]
    fn malformed_examples_are_errors() {
        let both = [example("{answer: a, score: 9, label: x}")];
        let e = examples_agreement(&both, &[JudgeOutput::Score(9.0)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "examples[0]: give `label` or `score`, not both"
        );
        let neither = [example("{answer: a}")];
        let e = examples_agreement(&neither, &[JudgeOutput::Score(9.0)]).unwrap_err();
        assert!(
            e.to_string()
                .contains("examples[0]: give the expected `label`"),
            "{e}"
        );
        let e = examples_agreement(&neither, &[]).unwrap_err();
        assert_eq!(e.to_string(), "1 examples but 0 judge outputs");
    }

    #[test]
    fn rule_judge_over_its_examples() {
        let spec: JudgeSpec = serde_yaml::from_str(
            r#"
kind: choice
key_var: key
examples:
  - {answer: "A) Barack", vars: {key: A}, label: match}
  - {answer: "B", vars: {key: A}, label: mismatch}
  - {answer: "**B**", vars: {key: B}, label: match}
  - {answer: "A or B", vars: {key: B}, label: missing}
  - {answer: "Neither", vars: {key: B}, label: mismatch}
"#,
        )
        .unwrap();
        let judge = RuleJudge::new("order", &spec).unwrap();
        let a = rule_agreement(&judge, &spec).unwrap();
        assert!(close(a.accuracy, 0.8));
        assert_eq!(
            a.disagreements,
            [Disagreement {
                index: 4,
                expected: "mismatch".into(),
                got: "missing".into()
            }]
        );
        // expected = [m, mm, m, miss, mm], got = [m, mm, m, miss, miss]:
        // A = 4, S = 2·2 + 2·1 + 1·2 = 8, kappa = (5·4 − 8)/(25 − 8) = 12/17 (sklearn: 0.7058823529411765).
        assert!(close(a.kappa.unwrap(), 12.0 / 17.0));
    }

    #[test]
    fn example_expecting_an_impossible_label_is_an_error() {
        let spec: JudgeSpec = serde_yaml::from_str(
            "kind: exact\nrules: {yes: [Yes]}\nexamples: [{answer: 'Yes', label: yes}, {answer: 'No', label: no}]\n",
        )
        .unwrap();
        let judge = RuleJudge::new("yn", &spec).unwrap();
        let e = rule_agreement(&judge, &spec).unwrap_err().to_string();
        assert_eq!(
            e,
            "judge `yn`: examples[1] expects the label `no`, which the judge cannot give (labels: yes)"
        );
    }
}
