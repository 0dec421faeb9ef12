//! Semantic errors of judges and effects: key path, problem, hint.

use super::{assert_yaml_diag, error_of, yaml};

fn err(over: &[(&str, &str)]) -> String {
    error_of(&yaml(over), &[])
}

fn judges(j: &str) -> String {
    err(&[("judges", j), ("effects", "[]")])
}

#[test]
fn deterministic_judges_need_rules() {
    let e = judges(
        "\n  era: {kind: regex}\n  b: {kind: prefix, rules: {x: []}}\n  c: {kind: exact, rules: {x: ['  ']}}",
    );
    assert_yaml_diag(
        &e,
        "judges.era: judge kind `regex` needs `rules` (label → patterns)",
    );
    assert_yaml_diag(&e, "judges.b.rules.x: rule `x` needs at least one pattern");
    assert_yaml_diag(
        &e,
        "judges.c.rules.x[0]: an empty pattern matches everything: remove it",
    );
}

#[test]
fn regexes_compile_and_errors_name_the_rule() {
    let e = judges("\n  era: {kind: regex, rules: {old: ['telegraph', '(steam']}}");
    assert_yaml_diag(
        &e,
        "judges.era.rules.old[1]: rule `old`: bad regular expression `(steam`: unclosed group",
    );
}

#[test]
fn keys_that_do_not_belong_to_the_kind() {
    let e = judges(
        "\n  era:\n    kind: contains_any\n    rules: {old: [x]}\n    prompt: '{answer}'\n    key_var: k\n    min: 1\n    labels: [a]\n  llm:\n    kind: llm_label\n    prompt: '{answer}'\n    labels: [a, b]\n    rules: {a: [x]}\n    otherwise: b\n    max: 3",
    );
    assert_yaml_diag(
        &e,
        "judges.era.prompt: `prompt` does not belong to judge kind `contains_any`",
    );
    assert_yaml_diag(
        &e,
        "judges.era.key_var: `key_var` does not belong to judge kind `contains_any`",
    );
    assert_yaml_diag(
        &e,
        "judges.era.min: `min` does not belong to judge kind `contains_any`",
    );
    assert_yaml_diag(
        &e,
        "judges.era.labels: `labels` does not belong to judge kind `contains_any`",
    );
    assert_yaml_diag(
        &e,
        "judges.llm.rules: `rules` does not belong to judge kind `llm_label`",
    );
    assert_yaml_diag(
        &e,
        "judges.llm.otherwise: `otherwise` does not belong to judge kind `llm_label`",
    );
    assert_yaml_diag(
        &e,
        "judges.llm.max: `max` does not belong to judge kind `llm_label`",
    );
}

#[test]
fn llm_judges_need_a_prompt_with_the_answer() {
    let e = judges(
        "\n  era: {kind: llm_rating}\n  b: {kind: llm_rating, prompt: 'Rate {question}'}\n  c: {kind: llm_label, prompt: '{answer}'}\n  d: {kind: llm_rating, prompt: '{answer', model: gpt}",
    );
    assert_yaml_diag(
        &e,
        "judges.era: judge kind `llm_rating` needs a `prompt` (with `{answer}`)",
    );
    assert_yaml_diag(
        &e,
        "judges.b.prompt: must contain `{answer}` (where the judged answer goes)",
    );
    assert_yaml_diag(
        &e,
        "judges.c: judge kind `llm_label` needs `labels` (the fixed set it picks from)",
    );
    assert_yaml_diag(
        &e,
        "judges.d.prompt: bad template: unclosed `{`; write `{{` for a literal brace (at character 1)",
    );
    assert!(
        e.contains("judges.d.model: bad model reference `gpt`"),
        "{e}"
    );
}

#[test]
fn labels_and_rating_ranges() {
    let e = judges(
        "\n  era: {kind: choice, labels: [A, A, 'x y', missing]}\n  r: {kind: llm_rating, prompt: '{answer}', min: 10, max: 10, min_numeric_mass: 0}\n  o: {kind: exact, rules: {missing: [x]}, otherwise: ''}",
    );
    assert_yaml_diag(&e, "judges.era.labels[1]: label `A` is listed twice");
    assert_yaml_diag(
        &e,
        "judges.era.labels[2]: `x y` is not a choice letter: use a word without spaces, e.g. `A`",
    );
    assert_yaml_diag(
        &e,
        "judges.era.labels[3]: `missing` is reserved for answers a judge cannot decide: use another label",
    );
    assert_yaml_diag(&e, "judges.r.max: must be greater than `min` (10), got 10");
    assert_yaml_diag(&e, "judges.r.min_numeric_mass: must be in (0, 1], got 0");
    assert_yaml_diag(
        &e,
        "judges.o.rules.missing: `missing` is reserved for answers a judge cannot decide: use another label",
    );
    assert_yaml_diag(&e, "judges.o.otherwise: a label must not be empty");
}

#[test]
fn examples_fit_the_judge() {
    let e = judges(
        "\n  era:\n    kind: contains_any\n    rules: {old: [x]}\n    otherwise: modern\n    examples:\n      - {answer: a, label: olde}\n      - {answer: b}\n      - {answer: c, label: missing}\n      - {answer: d, label: old, score: 3}\n  r:\n    kind: llm_rating\n    prompt: '{answer}'\n    examples:\n      - {answer: a, label: old}\n      - {answer: b, score: 101}\n      - {answer: c, score: 5, tolerance: -1}\n  pick:\n    kind: choice\n    key_var: key\n    examples:\n      - {answer: A, label: match}",
    );
    assert_yaml_diag(
        &e,
        "judges.era.examples[0].label: unknown label `olde` (did you mean `old`?)",
    );
    assert_yaml_diag(
        &e,
        "judges.era.examples[1]: an example needs `label`: one of `old`, `modern` or `missing`",
    );
    assert_yaml_diag(
        &e,
        "judges.era.examples[3].score: `score` does not belong to an example of a label judge (it has `label`)",
    );
    assert_yaml_diag(
        &e,
        "judges.r.examples[0].label: `label` does not belong to an example of a rating judge (it has `score`)",
    );
    assert_yaml_diag(
        &e,
        "judges.r.examples[0]: an example of a rating judge needs `score`",
    );
    assert_yaml_diag(
        &e,
        "judges.r.examples[1].score: must be in [0, 100] (the judge's range), got 101",
    );
    assert_yaml_diag(
        &e,
        "judges.r.examples[2].tolerance: must be at least 0, got -1",
    );
    assert_yaml_diag(
        &e,
        "judges.pick.examples[0]: needs `vars: {key: ...}`: the judge reads `key` (its `key_var`)",
    );
    assert!(
        !e.contains("examples[2]: "),
        "`missing` is a valid example label: {e}"
    );
}

fn effect(body: &str) -> String {
    err(&[("effects", &format!("\n  - name: e\n{body}"))])
}

#[test]
fn unknown_arms_with_hints() {
    let e = effect(
        "    kind: arm_vs_arm\n    treatment: treatmnt\n    control: bsae\n    metric: {judge: era, label: old}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0].treatment: unknown arm `treatmnt` (did you mean `treatment`?)",
    );
    assert_yaml_diag(
        &e,
        "effects[0].control: unknown arm `bsae` (did you mean `base`?)",
    );
    // Located at the key itself.
    let text = yaml(&[(
        "effects",
        "\n  - name: e\n    kind: arm_vs_arm\n    treatment: treatmnt\n    control: base\n    metric: {judge: era, label: old}\n    direction: increase",
    )]);
    let line = text.lines().position(|l| l.contains("treatmnt")).unwrap() + 1;
    assert_eq!(
        error_of(&text, &[]),
        format!(
            "suites/t.yaml:{line}:5: effects[0].treatment: unknown arm `treatmnt` (did you mean `treatment`?)"
        )
    );
    let e = effect(
        "    kind: level\n    arm: zzz\n    value: 0.5\n    metric: {judge: era, label: old}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0].arm: unknown arm `zzz` (defined: `base`, `treatment`)",
    );
}

#[test]
fn fields_per_kind() {
    let e = effect(
        "    kind: arm_vs_arm\n    treatment: treatment\n    value: 0.5\n    condition: {var: month, treatment: May, control: June}\n    metric: {judge: era, label: old}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0]: effect kind `arm_vs_arm` needs `control` (it takes `treatment`, `control`)",
    );
    assert_yaml_diag(
        &e,
        "effects[0].value: `value` does not belong to effect kind `arm_vs_arm` (it takes `treatment`, `control`)",
    );
    assert_yaml_diag(
        &e,
        "effects[0].condition: `condition` does not belong to effect kind `arm_vs_arm` (it takes `treatment`, `control`)",
    );
    let e = effect(
        "    kind: diff_in_diff\n    treatment: treatment\n    control: treatment\n    arm: base\n    metric: {judge: era, label: old}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0]: effect kind `diff_in_diff` needs `condition` (it takes `treatment`, `control`, `condition`)",
    );
    assert_yaml_diag(
        &e,
        "effects[0].arm: `arm` does not belong to effect kind `diff_in_diff` (it takes `treatment`, `control`, `condition`)",
    );
    assert_yaml_diag(
        &e,
        "effects[0].control: the control arm is the treatment arm `treatment`: compare two arms",
    );
}

#[test]
fn effect_names_are_unique_and_well_formed() {
    let one = "    kind: level\n    arm: base\n    value: 0.1\n    metric: {judge: era, label: old}\n    direction: increase\n";
    let e = err(&[(
        "effects",
        &format!("\n  - name: a\n{one}  - name: a\n{one}  - name: 'b c'\n{one}"),
    )]);
    assert_yaml_diag(&e, "effects[1].name: `a` is already the name of effects[0]");
    assert_yaml_diag(
        &e,
        "effects[2].name: `b c` is not a valid name: use letters, digits, `-` and `_`",
    );
}

#[test]
fn metrics_name_a_judge_and_a_label_it_gives() {
    let e = effect(
        "    kind: level\n    arm: base\n    value: 0.1\n    metric: {judge: eras, label: old}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0].metric.judge: unknown judge `eras` (did you mean `era`?)",
    );
    let e = effect(
        "    kind: level\n    arm: base\n    value: 0.1\n    metric: {judge: era, label: olde}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0].metric.label: judge `era` has no label `olde` (did you mean `old`?)",
    );
    let e = effect(
        "    kind: level\n    arm: base\n    value: 0.1\n    metric: {judge: era}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0].metric: needs `label`: the label of judge `era` whose rate is measured (`old`, `modern`)",
    );
    let e = err(&[
        ("judges", "\n  r: {kind: llm_rating, prompt: '{answer}'}"),
        (
            "effects",
            "\n  - {name: e, kind: level, arm: base, value: 150, metric: {judge: r, label: old}, direction: increase}",
        ),
    ]);
    assert_yaml_diag(
        &e,
        "effects[0].metric.label: judge `r` gives scores (the metric is their mean): remove `label`",
    );
    assert_yaml_diag(
        &e,
        "effects[0].value: must be in [0, 100] (the metric's range), got 150",
    );
}

#[test]
fn measured_probes_exist_and_are_scored() {
    let e = err(&[
        (
            "probes",
            "\n  era: {question: q}\n  other: {question: q, judges: [two]}",
        ),
        (
            "judges",
            "\n  era: {kind: exact, rules: {old: [x]}}\n  two: {kind: exact, rules: {old: [x]}}",
        ),
        (
            "effects",
            "\n  - {name: e, kind: level, arm: base, value: 0.1, metric: {judge: era, label: old}, direction: increase, probes: [eras, other]}\n  - {name: f, kind: level, arm: base, value: 0.1, metric: {judge: era, label: old}, direction: increase, probes: []}",
        ),
    ]);
    assert_yaml_diag(
        &e,
        "effects[0].probes[0]: unknown probe `eras` (did you mean `era`?)",
    );
    assert_yaml_diag(
        &e,
        "effects[0].probes[1]: probe `other` is not scored by judge `era` (add `era` to the probe's `judges`)",
    );
    assert_yaml_diag(
        &e,
        "effects[1].probes: must list at least one probe (omit `probes` for every probe the judge scores)",
    );
    let e = err(&[
        ("probes", "\n  era: {question: q, judges: [two]}"),
        (
            "judges",
            "\n  era: {kind: exact, rules: {old: [x]}}\n  two: {kind: exact, rules: {old: [x]}}",
        ),
    ]);
    assert_yaml_diag(
        &e,
        "effects[0].metric.judge: no probe is scored by judge `era`",
    );
}

#[test]
fn conditions_name_a_variable_and_values_that_occur() {
    let e = effect(
        "    kind: contrast\n    arm: treatment\n    condition: {var: mnth, treatment: May, control: June}\n    metric: {judge: era, label: old}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0].condition.var: probe `era` has no variable `mnth` (did you mean `month`?)",
    );
    let e = effect(
        "    kind: contrast\n    arm: treatment\n    condition: {var: month, treatment: July, control: July}\n    where: {month: [May, June]}\n    metric: {judge: era, label: old}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0].condition.treatment: `July` is not a value of `month` in probe `era` (`May`, `June`)",
    );
    assert_yaml_diag(
        &e,
        "effects[0].condition.control: equals `treatment` (`July`): contrast two values",
    );
    assert_yaml_diag(
        &e,
        "effects[0].condition.control: `July` is excluded by this effect's `where.month`",
    );
}

#[test]
fn where_keys_are_variables_with_values_that_occur() {
    let e = effect(
        "    kind: arm_vs_arm\n    treatment: treatment\n    control: base\n    where: {year: 1984, month: July}\n    metric: {judge: era, label: old}\n    direction: increase",
    );
    assert_yaml_diag(
        &e,
        "effects[0].where.year: probe `era` has no variable `year` (defined: `month`)",
    );
    assert_yaml_diag(
        &e,
        "effects[0].where.month: selects no cell of probe `era`: `month` takes `May`, `June`",
    );
}

#[test]
fn direction_margin_min_effect_alpha() {
    let e = effect(
        "    kind: level\n    arm: base\n    value: 0.1\n    metric: {judge: era, label: old}\n    direction: none",
    );
    assert_yaml_diag(
        &e,
        "effects[0]: `direction: none` needs `margin` (the equivalence margin, > 0)",
    );
    let e = effect(
        "    kind: level\n    arm: base\n    value: 0.1\n    metric: {judge: era, label: old}\n    direction: none\n    margin: 0\n    min_effect: 0.1\n    alpha: 1",
    );
    assert_yaml_diag(&e, "effects[0].margin: must be greater than 0, got 0");
    assert_yaml_diag(
        &e,
        "effects[0].min_effect: `min_effect` is for `direction: increase` or `decrease` (`none` takes `margin`)",
    );
    assert_yaml_diag(&e, "effects[0].alpha: must be in (0, 1), got 1");
    let e = effect(
        "    kind: level\n    arm: base\n    value: 0.1\n    metric: {judge: era, label: old}\n    direction: increase\n    margin: 0.1\n    min_effect: -0.1",
    );
    assert_yaml_diag(
        &e,
        "effects[0].margin: `margin` is for `direction: none` (`increase` and `decrease` take `min_effect`)",
    );
    assert_yaml_diag(&e, "effects[0].min_effect: must be at least 0, got -0.1");
}

#[test]
fn baseline_and_agreement_ranges() {
    let e = err(&[
        ("baseline", "{margin: 0}"),
        ("judge_agreement", "{min_accuracy: 1.5, min_kappa: -2}"),
    ]);
    assert_yaml_diag(&e, "baseline.margin: must be greater than 0, got 0");
    assert_yaml_diag(
        &e,
        "judge_agreement.min_accuracy: must be in [0, 1], got 1.5",
    );
    assert_yaml_diag(&e, "judge_agreement.min_kappa: must be in [-1, 1], got -2");
}

#[test]
fn a_normalising_judge_names_labels_in_normal_form() {
    let speaker = "\n  era:\n    kind: llm_free_form\n    normalise: true\n    prompt: \"Who says {answer}?\"\n    labels: [Barack Obama, none]\n    examples:\n      - {answer: \"I am Abe.\", label: abraham lincoln}\n      - {answer: \"Hi.\", label: \"None.\"}";
    let e = err(&[
        ("judges", speaker),
        (
            "effects",
            "\n  - name: e\n    kind: arm_vs_arm\n    treatment: treatment\n    control: base\n    metric: {judge: era, label: Donald Trump}\n    direction: increase",
        ),
    ]);
    assert_yaml_diag(
        &e,
        "judges.era.labels[0]: the judge labels replies in normal form, so `Barack Obama` never occurs: write `barack obama`",
    );
    assert_yaml_diag(
        &e,
        "judges.era.examples[1].label: the judge labels replies in normal form, so `None.` never occurs: write `none`",
    );
    assert_yaml_diag(
        &e,
        "effects[0].metric.label: judge `era` labels replies in normal form, so `Donald Trump` never occurs: write `donald trump`",
    );
    // An open set: an example may name a label the judge does not list.
    assert!(!e.contains("examples[0]"), "{e}");
    // `normalise` is the free-form judge's only.
    let e = judges("\n  era: {kind: contains_any, normalise: true, rules: {old: [x]}}");
    assert!(e.contains("judges.era.normalise"), "{e}");
}
