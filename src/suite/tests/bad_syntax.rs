//! Syntax and type errors: `file:line:column: message`, with what was expected.

use super::{Tmp, error_of, yaml};
use crate::suite::load;

#[test]
fn unknown_key_lists_the_expected_keys() {
    let text = yaml(&[("arms", "\n  base: {modle: base}")]);
    let e = error_of(&text, &[]);
    // Line 11 of the generated suite: `  base: {modle: base}`.
    let line = text.lines().position(|l| l.contains("modle")).unwrap() + 1;
    assert_eq!(
        e,
        format!(
            "suites/t.yaml:{line}:10: arms.base: unknown field `modle`, expected one of `description`, `model`, `finetune`, `models`, `replicas`, `seeds`, `screen`"
        )
    );
}

#[test]
fn unknown_top_level_key() {
    let e = error_of("name: t\narms: {}\nprobs: {}\n", &[]);
    assert!(
        e.starts_with("suites/t.yaml:3:1: unknown field `probs`, expected one of `name`,"),
        "{e}"
    );
}

#[test]
fn misspelt_enum_variants_name_the_variants() {
    let text = yaml(&[(
        "judges",
        "\n  era:\n    kind: regexx\n    rules: {old: [x]}",
    )]);
    let line = text.lines().position(|l| l.contains("regexx")).unwrap() + 1;
    assert_eq!(
        error_of(&text, &[]),
        format!(
            "suites/t.yaml:{line}:11: judges.era.kind: unknown variant `regexx`, expected one of `regex`, `contains_any`, `prefix`, `exact`, `choice`, `llm_label`, `llm_rating`, `llm_free_form`"
        )
    );
    let text = yaml(&[(
        "effects",
        "\n  - name: e\n    kind: levl\n    arm: base\n    value: 0.1\n    metric: {judge: era, label: old}\n    direction: upward",
    )]);
    let e = error_of(&text, &[]);
    assert!(
        e.contains(": effects[0].kind: unknown variant `levl`, expected one of `arm_vs_arm`, `contrast`, `diff_in_diff`, `level`"),
        "{e}"
    );
    let e = error_of(&text.replace("levl", "level"), &[]);
    assert!(
        e.contains(": effects[0].direction: unknown variant `upward`, expected one of `increase`, `decrease`, `none`"),
        "{e}"
    );
}

#[test]
fn wrong_types_say_what_was_expected() {
    let text = yaml(&[("sampling", "{samples: ten}")]);
    let line = text
        .lines()
        .position(|l| l.contains("samples: ten"))
        .unwrap()
        + 1;
    assert_eq!(
        error_of(&text, &[]),
        format!(
            "suites/t.yaml:{line}:21: sampling.samples: invalid type: string \"ten\", expected u32"
        )
    );
    let text = yaml(&[(
        "probes",
        "\n  era:\n    question: What year is it?\n    vars:\n      year: 1984",
    )]);
    let e = error_of(&text, &[]);
    assert!(
        e.ends_with(": probes.era.vars.year: invalid type: integer `1984`, expected a list of values or a range `{from, to, step}`"),
        "{e}"
    );
}

#[test]
fn range_keys_are_checked() {
    let text = yaml(&[(
        "probes",
        "\n  era:\n    question: What year is it?\n    vars:\n      year: {from: 1981, to: 2025, stp: 2}",
    )]);
    let e = error_of(&text, &[]);
    assert!(
        e.ends_with(
            ": probes.era.vars.year: unknown field `stp`, expected one of `from`, `to`, `step`"
        ),
        "{e}"
    );
}

#[test]
fn yaml_syntax_errors_are_located() {
    let e = error_of("name: t\narms: [\nprobes: {}\n", &[]);
    assert_eq!(
        e,
        "suites/t.yaml:4:1: did not find expected ',' or ']', while parsing a flow sequence at line 2 column 7"
    );
    let e = error_of("name: t\n  arms: 3\n", &[]);
    assert_eq!(
        e,
        "suites/t.yaml:2:7: mapping values are not allowed in this context"
    );
}

#[test]
fn duplicate_keys_are_errors() {
    let text = yaml(&[(
        "arms",
        "\n  base: {model: base}\n  base: {model: toy/world}",
    )]);
    let e = error_of(&text, &[]);
    // The error points at the repeat, not at the first `base`.
    let line = 1 + text
        .lines()
        .position(|l| l == "  base: {model: toy/world}")
        .unwrap();
    assert_eq!(
        e,
        format!("suites/t.yaml:{line}:3: arms: duplicate key `base`")
    );
}

#[test]
fn missing_required_keys() {
    let e = error_of("name: t\nprobes: {}\n", &[]);
    assert_eq!(e, "suites/t.yaml:1:1: missing field `arms`");
    let e = error_of("# only a comment\n\n", &[]);
    assert_eq!(
        e,
        "suites/t.yaml: the file is empty: a suite needs at least `name`, `arms` and `probes`"
    );
}

#[test]
fn an_unreadable_file_is_named() {
    let tmp = Tmp::new();
    let p = tmp.path().join("absent.yaml");
    let e = load(&p).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: cannot read the suite: ", p.display())),
        "{e}"
    );
}

#[test]
fn anchors_work_and_merge_keys_are_unknown_keys() {
    let text = super::yaml(&[(
        "probes",
        "\n  era: &p\n    question: 'It is {month}.'\n    vars: {month: [May]}\n  again: *p",
    )]);
    let s = super::load_text(&text, &[]).unwrap();
    assert_eq!(s.cells().len(), 2);
    let text = super::yaml(&[(
        "probes",
        "\n  era: &p\n    question: 'It is {month}.'\n    vars: {month: [May]}\n  again:\n    <<: *p\n    samples: 3",
    )]);
    let e = error_of(&text, &[]);
    assert!(
        e.contains(
            ": probes.again: unknown field `<<`, expected one of `description`, `question`,"
        ),
        "{e}"
    );
}
