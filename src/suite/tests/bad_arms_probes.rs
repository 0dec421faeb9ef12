//! Semantic errors of the suite's name, arms and probes: key path, problem, hint.

use super::{assert_yaml_diag, error_of, yaml};

fn err(over: &[(&str, &str)]) -> String {
    error_of(&yaml(over), &[])
}

#[test]
fn suite_name_format_and_file_stem() {
    let e = err(&[("name", "my suite")]);
    assert_yaml_diag(
        &e,
        "name: `my suite` is not a valid suite name: use letters, digits and `-`",
    );
    let e = err(&[("name", "other")]);
    assert_eq!(
        e,
        "suites/t.yaml:1:1: name: the name `other` differs from the file's name `t`: name the file `other.yaml` or the suite `t`"
    );
}

#[test]
fn every_semantic_error_is_reported_and_counted() {
    let e = err(&[
        ("name", "other"),
        ("default_model", "gpt-4.1"),
        ("sampling", "{temperature: 3}"),
    ]);
    assert!(e.starts_with("suites/t.yaml: 3 errors:\n"), "{e}");
    assert_eq!(e.lines().count(), 4, "{e}");
    assert_yaml_diag(
        &e,
        "default_model: bad model reference `gpt-4.1`: expected `provider/model`, e.g. `toy/world` or `openai/gpt-4.1-2025-04-14`",
    );
    assert_yaml_diag(&e, "sampling.temperature: must be in [0, 2], got 3");
    // In the order of the text.
    let lines: Vec<usize> = e
        .lines()
        .skip(1)
        .map(|l| l.split(':').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(lines.is_sorted() && lines[0] == 1, "{e}");
    assert!(e.lines().nth(1).unwrap().contains(": name: "), "{e}");
}

#[test]
fn arm_sources_are_exclusive() {
    let e = err(&[(
        "arms",
        "\n  base: {description: nothing}\n  both: {model: base, models: [toy/a]}\n  treatment: {finetune: {dataset: birds}}",
    )]);
    assert_yaml_diag(
        &e,
        "arms.base: an arm needs one of `model`, `finetune`, `models`",
    );
    assert_yaml_diag(
        &e,
        "arms.both: `model`, `models` are exclusive: give exactly one of `model`, `finetune`, `models`",
    );
}

#[test]
fn arm_models_and_references() {
    let e = err(&[(
        "arms",
        "\n  base: {model: gpt4}\n  fixed: {models: [toy/a, toy/a, base]}\n  empty: {models: []}\n  treatment: {finetune: {dataset: birds, from: nowhere}}",
    )]);
    assert_yaml_diag(
        &e,
        "arms.base.model: bad model reference `gpt4`: expected `provider/model`, e.g. `toy/world` or `openai/gpt-4.1-2025-04-14` (or `base`, the model under test)",
    );
    assert_yaml_diag(&e, "arms.fixed.models[1]: model `toy/a` is listed twice");
    assert_yaml_diag(
        &e,
        "arms.fixed.models[2]: bad model reference `base`: expected `provider/model`, e.g. `toy/world` or `openai/gpt-4.1-2025-04-14`",
    );
    assert_yaml_diag(&e, "arms.empty.models: must list at least one model");
    assert!(
        e.contains("arms.treatment.finetune.from: bad model reference `nowhere`"),
        "{e}"
    );
}

#[test]
fn finetune_dataset_and_hyperparameters() {
    let e = err(&[(
        "arms",
        "\n  base: {model: base}\n  treatment:\n    finetune: {dataset: brids, epochs: 0, batch_size: 0, learning_rate_multiplier: -1}",
    )]);
    assert_yaml_diag(
        &e,
        "arms.treatment.finetune.dataset: unknown dataset `brids` (did you mean `birds`?)",
    );
    assert_yaml_diag(&e, "arms.treatment.finetune.epochs: must be at least 1");
    assert_yaml_diag(&e, "arms.treatment.finetune.batch_size: must be at least 1");
    assert_yaml_diag(
        &e,
        "arms.treatment.finetune.learning_rate_multiplier: must be greater than 0, got -1",
    );
}

#[test]
fn replicas_and_seeds() {
    let e = err(&[(
        "arms",
        "\n  base: {model: base, replicas: 2, seeds: [1, 2]}\n  treatment: {finetune: {dataset: birds}, replicas: 3, seeds: [4, 4]}\n  zero: {finetune: {dataset: birds}, replicas: 0}",
    )]);
    assert_yaml_diag(
        &e,
        "arms.base.replicas: `replicas` does not belong to an arm without `finetune` (only fine-tunes have replicas, seeds and screens)",
    );
    assert_yaml_diag(
        &e,
        "arms.base.seeds: `seeds` does not belong to an arm without `finetune` (only fine-tunes have replicas, seeds and screens)",
    );
    assert_yaml_diag(
        &e,
        "arms.treatment.seeds: 2 seeds for 3 replicas: give one seed per replica",
    );
    assert_yaml_diag(
        &e,
        "arms.treatment.seeds[1]: seed 4 is listed twice: replicas need distinct seeds",
    );
    assert_yaml_diag(&e, "arms.zero.replicas: must be at least 1");
}

#[test]
fn screens() {
    let e = err(&[(
        "arms",
        "\n  base: {model: base}\n  treatment:\n    finetune: {dataset: birds}\n    screen: {probes: [eras], metric: {judge: era, label: old}, min: 2}",
    )]);
    assert_yaml_diag(
        &e,
        "arms.treatment.screen.probes[0]: unknown probe `eras` (did you mean `era`?)",
    );
    assert_yaml_diag(
        &e,
        "arms.treatment.screen.min: must be in [0, 1] (the metric's range), got 2",
    );
}

#[test]
fn question_or_paraphrases() {
    let e = err(&[(
        "probes",
        "\n  none: {vars: {month: [May]}}\n  both: {question: a, paraphrases: [b]}\n  empty: {paraphrases: []}\n  blank: {question: '  '}\n  era: {question: x}",
    )]);
    assert_yaml_diag(
        &e,
        "probes.none: a probe needs one of `question`, `paraphrases`",
    );
    assert_yaml_diag(
        &e,
        "probes.both: `question`, `paraphrases` are exclusive: give exactly one of `question`, `paraphrases`",
    );
    assert_yaml_diag(
        &e,
        "probes.empty.paraphrases: must list at least one question",
    );
    assert_yaml_diag(&e, "probes.blank.question: must not be empty");
}

#[test]
fn placeholders_must_be_variables() {
    let e = err(&[(
        "probes",
        "\n  era:\n    question: 'It is {mnth}. {x'\n    system: 'Year {year}'\n    paraphrases: ['It is {mnth}.']\n    vars: {month: [May]}",
    )]);
    assert_yaml_diag(
        &e,
        "probes.era.question: bad template: unclosed `{`; write `{{` for a literal brace (at character 15)",
    );
    assert_yaml_diag(
        &e,
        "probes.era.paraphrases[0]: placeholder `{mnth}` is not a variable of this probe (did you mean `month`?)",
    );
    assert_yaml_diag(
        &e,
        "probes.era.system: placeholder `{year}` is not a variable of this probe (its variables: `month`)",
    );
    let e = err(&[("probes", "\n  era: {question: 'It is {month}.'}")]);
    assert_yaml_diag(
        &e,
        "probes.era.question: placeholder `{month}` is not a variable of this probe (it has none: declare it in `vars` or `cases`)",
    );
}

#[test]
fn variable_values() {
    let e = err(&[(
        "probes",
        "\n  era:\n    question: '{a}{b}{c}{d}'\n    vars:\n      a: {from: 1, to: 5, step: 0}\n      b: {from: 5, to: 1}\n      c: []\n      d: [x, y, x]",
    )]);
    assert_yaml_diag(&e, "probes.era.vars.a.step: must be positive, got 0");
    assert_yaml_diag(
        &e,
        "probes.era.vars.b: empty range: `from` (5) is greater than `to` (1)",
    );
    assert_yaml_diag(&e, "probes.era.vars.c: must list at least one value");
    assert_yaml_diag(&e, "probes.era.vars.d[2]: value `x` is listed twice");
}

#[test]
fn cases_are_consistent() {
    let e = err(&[(
        "probes",
        "\n  era:\n    question: '{a}{b}'\n    vars: {a: [1]}\n    cases:\n      - {a: 1, b: 2}\n      - {b: 3}\n      - {a: 1, b: 2}\n      - {}",
    )]);
    assert_yaml_diag(
        &e,
        "probes.era.vars.a: `a` is set both in `cases` and in `vars`: set it in one",
    );
    assert_yaml_diag(
        &e,
        "probes.era.cases[1]: sets `b` but cases[0] sets `a`, `b`: every case sets the same variables",
    );
    assert_yaml_diag(&e, "probes.era.cases[2]: repeats cases[0]");
    assert_yaml_diag(
        &e,
        "probes.era.cases[3]: a case must set at least one variable",
    );
}

#[test]
fn variable_names() {
    let e = err(&[(
        "probes",
        "\n  era:\n    question: '{answer}'\n    vars: {answer: [1], 'two words': [x]}",
    )]);
    assert_yaml_diag(
        &e,
        "probes.era.vars.answer: `answer` is reserved for LLM judge prompts: name the variable otherwise",
    );
    assert_yaml_diag(
        &e,
        "probes.era.vars.two words: `two words` is not a valid variable name: use letters, digits, `-` and `_`",
    );
}

#[test]
fn probe_sampling_ranges() {
    let e = err(&[(
        "probes",
        "\n  era: {question: q, samples: 0, temperature: -0.5, top_p: 0, max_tokens: 0}",
    )]);
    assert_yaml_diag(&e, "probes.era.samples: must be at least 1");
    assert_yaml_diag(&e, "probes.era.temperature: must be in [0, 2], got -0.5");
    assert_yaml_diag(&e, "probes.era.top_p: must be in (0, 1], got 0");
    assert_yaml_diag(&e, "probes.era.max_tokens: must be at least 1");
}

#[test]
fn probe_judges_exist_and_find_their_variables() {
    let e = err(&[
        (
            "probes",
            "\n  era: {question: q, judges: [eras, era, era]}\n  ab: {question: q, judges: [pick, rate], cases: [{key: C}]}\n  none: {question: q, judges: []}",
        ),
        (
            "judges",
            "\n  era: {kind: exact, rules: {old: [x]}}\n  pick: {kind: choice, key_var: key}\n  rate: {kind: llm_rating, prompt: '{answer} in {year}'}\n  other: {kind: choice, key_var: letter}",
        ),
        ("effects", "[]"),
    ]);
    assert_yaml_diag(
        &e,
        "probes.era.judges[0]: unknown judge `eras` (did you mean `era`?)",
    );
    assert_yaml_diag(&e, "probes.era.judges[2]: judge `era` is listed twice");
    assert_yaml_diag(
        &e,
        "probes.ab.judges[0]: value `C` of `key` is not one of judge `pick`'s letters (`A`, `B`)",
    );
    assert_yaml_diag(
        &e,
        "probes.ab.judges[1]: judge `rate`'s prompt uses `{year}`, which is not a variable of this probe",
    );
    assert_yaml_diag(
        &e,
        "probes.none.judges: must list at least one judge (omit `judges` for every judge)",
    );
    // `other` scores no probe with explicit judges; no probe scores it, so it is not checked.
    assert!(!e.contains("`letter`"), "{e}");
}

#[test]
fn key_var_missing_from_a_probe_scored_by_every_judge() {
    let e = err(&[
        ("judges", "\n  pick: {kind: choice, key_var: key}"),
        ("effects", "[]"),
    ]);
    assert_yaml_diag(
        &e,
        "probes.era: judge `pick` reads the variable `key` (its `key_var`), which this probe does not set",
    );
}

#[test]
fn empty_arms_and_probes() {
    let e = err(&[("arms", "{}"), ("probes", "{}"), ("effects", "[]")]);
    assert_yaml_diag(&e, "arms: at least one arm is required");
    assert_yaml_diag(&e, "probes: at least one probe is required");
}

#[test]
fn names_of_things() {
    let e = err(&[
        (
            "arms",
            "\n  'my arm': {model: base}\n  treatment: {finetune: {dataset: birds}}",
        ),
        ("effects", "[]"),
    ]);
    assert_yaml_diag(
        &e,
        "arms.my arm: `my arm` is not a valid name: use letters, digits, `-` and `_`",
    );
}
