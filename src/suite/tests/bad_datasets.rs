//! Dataset errors: sources, paths, bad JSONL lines and CSV rows (file and line), columns.

use super::{Tmp, assert_diag, assert_yaml_diag, error_of, load_text, yaml};
use crate::suite::load;

const TEMPLATE: &str = "\n    template:\n      - {role: user, content: Name a bird.}\n      - {role: assistant, content: '{name}'}";

fn datasets(body: &str, files: &[(&str, &[u8])]) -> String {
    error_of(&yaml(&[("datasets", body)]), files)
}

#[test]
fn exactly_one_source() {
    let e = datasets(
        &format!(
            "\n  birds:\n    description: nothing\n  two:\n    file: a.jsonl\n    rows: [{{name: x}}]{TEMPLATE}"
        ),
        &[],
    );
    assert_yaml_diag(
        &e,
        "datasets.birds: a dataset needs one of `file`, `from_source`, `table`, `rows`, `mix`",
    );
    assert_yaml_diag(
        &e,
        "datasets.two: `file`, `rows` are exclusive: give exactly one of `file`, `from_source`, `table`, `rows`, `mix`",
    );
}

#[test]
fn keys_that_need_rows() {
    let e = datasets(
        "\n  birds:\n    file: birds.jsonl\n    where: {year: 1}\n    shuffle: [name]\n    distill: {}\n    template: [{role: user, content: x}]\n  t:\n    rows: [{name: x}]\n  m:\n    mix: []",
        &[("birds.jsonl", b"")],
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.distill: `distill` takes its prompts from `table` or `rows` filled into `template`",
    );
    assert_yaml_diag(
        &e,
        "datasets.t: a `table` or `rows` dataset needs `template` (the messages its rows fill)",
    );
    assert_yaml_diag(&e, "datasets.m.mix: must list at least one dataset");
    let e = datasets(
        "\n  birds:\n    file: birds.jsonl\n    where: {year: 1}\n    shuffle: [name]\n    template: [{role: user, content: x}]\n  r:\n    rows: []\n    template: [{role: assistant, content: x}]",
        &[(
            "birds.jsonl",
            br#"{"messages":[{"role":"assistant","content":"x"}]}"#,
        )],
    );
    for k in ["where", "shuffle", "template"] {
        assert_yaml_diag(
            &e,
            &format!(
                "datasets.birds.{k}: `{k}` does not belong to a `file` or `mix` dataset (it has no rows)"
            ),
        );
    }
    assert_yaml_diag(&e, "datasets.r.rows: must list at least one row");
}

#[test]
fn template_roles() {
    let e = datasets(
        "\n  birds:\n    rows: [{name: x}]\n    template: [{role: assistant, content: '{name}'}, {role: user, content: more?}]\n  d:\n    rows: [{name: x}]\n    distill: {model: gpt, temperature: 5, max_tokens: 0}\n    template: [{role: user, content: '{name}'}, {role: assistant, content: x}]",
        &[],
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.template: the last message must be the assistant's (the answer to learn)",
    );
    assert_yaml_diag(
        &e,
        "datasets.d.template: the last message of a distilled dataset's template must be the user's (the prompt to answer)",
    );
    assert!(
        e.contains("datasets.d.distill.model: bad model reference `gpt`"),
        "{e}"
    );
    assert_yaml_diag(
        &e,
        "datasets.d.distill.temperature: must be in [0, 2], got 5",
    );
    assert_yaml_diag(&e, "datasets.d.distill.max_tokens: must be at least 1");
}

#[test]
fn mixes_reference_datasets_without_cycles() {
    let e = datasets(
        &format!(
            "\n  birds:\n    rows: [{{name: x}}]{TEMPLATE}\n  a: {{mix: [birds, b]}}\n  b: {{mix: [a]}}\n  c: {{mix: [c, brids]}}"
        ),
        &[],
    );
    assert_yaml_diag(&e, "datasets.a.mix[1]: mix cycle: a → b → a");
    assert_yaml_diag(&e, "datasets.b.mix[0]: mix cycle: b → a → b");
    assert_yaml_diag(&e, "datasets.c.mix[0]: mix cycle: c → c");
    assert_yaml_diag(
        &e,
        "datasets.c.mix[1]: unknown dataset `brids` (did you mean `birds`?)",
    );
}

#[test]
fn paths_stay_inside_the_suite_folder() {
    let e = datasets(
        "\n  birds: {file: /etc/passwd}\n  b: {file: ../t.yaml}\n  c: {file: sub/../../x.jsonl}\n  d: {file: absent.jsonl}\n  e: {file: ''}\n  f: {file: sub}",
        &[("sub/x.jsonl", b"")],
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.file: `/etc/passwd` must be a path relative to the suite's folder `suites/t/`",
    );
    assert_yaml_diag(
        &e,
        "datasets.b.file: `../t.yaml` must not leave the suite's folder `suites/t/` (no `..`)",
    );
    assert_yaml_diag(
        &e,
        "datasets.c.file: `sub/../../x.jsonl` must not leave the suite's folder `suites/t/` (no `..`)",
    );
    assert_yaml_diag(&e, "datasets.d.file: file not found: suites/t/absent.jsonl");
    assert_yaml_diag(
        &e,
        "datasets.e.file: must name a file in the suite's folder",
    );
    assert_yaml_diag(&e, "datasets.f.file: suites/t/sub is not a file");
}

#[test]
fn a_path_relative_to_the_wrong_folder_gets_a_hint() {
    let e = datasets(
        "\n  birds: {file: t/birds.jsonl}",
        &[(
            "birds.jsonl",
            br#"{"messages":[{"role":"assistant","content":"x"}]}"#,
        )],
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.file: file not found: suites/t/t/birds.jsonl (paths are relative to the suite's folder `suites/t/`: write `birds.jsonl`)",
    );
}

#[test]
fn a_missing_suite_folder_is_named() {
    let e = datasets("\n  birds: {file: birds.jsonl}", &[]);
    assert_yaml_diag(
        &e,
        "datasets.birds.file: file not found: suites/t/birds.jsonl (the suite's folder `suites/t/` does not exist)",
    );
}

#[cfg(unix)]
#[test]
fn symlinks_may_not_escape() {
    let tmp = Tmp::new();
    let outside = tmp.write(
        "secret.jsonl",
        br#"{"messages":[{"role":"assistant","content":"x"}]}"#,
    );
    let path = tmp.write(
        "t.yaml",
        yaml(&[("datasets", "\n  birds: {file: link.jsonl}")]),
    );
    std::fs::create_dir_all(tmp.path().join("t")).unwrap();
    std::os::unix::fs::symlink(&outside, tmp.path().join("t/link.jsonl")).unwrap();
    let e = load(&path).unwrap_err().to_string();
    let real = outside.canonicalize().unwrap();
    assert!(
        e.contains(&format!(
            "datasets.birds.file: `link.jsonl` resolves to {}, outside the suite's folder `{}/t/`",
            real.display(),
            tmp.path().display()
        )),
        "{e}"
    );
    // A link that stays inside the folder is fine.
    std::fs::copy(&outside, tmp.path().join("t/real.jsonl")).unwrap();
    std::fs::remove_file(tmp.path().join("t/link.jsonl")).unwrap();
    std::os::unix::fs::symlink(
        tmp.path().join("t/real.jsonl"),
        tmp.path().join("t/link.jsonl"),
    )
    .unwrap();
    assert!(load(&path).is_ok());
}

#[test]
fn bad_jsonl_lines_name_their_line() {
    let data = concat!(
        r#"{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}"#,
        "\n\n",
        r#"{"messages":[{"role":"user","content":"a"},{"role":"bot","content":"b"}]}"#,
        "\n",
        r#"{"messages":[{"role":"user","content":"a"}"#,
        "\n",
        r#"{"msgs":[]}"#,
        "\n",
        r#"{"messages":[]}"#,
        "\n",
        r#"{"messages":[{"role":"assistant","content":"b"},{"role":"user","content":"a"}]}"#,
        "\n"
    );
    let mut bytes = data.as_bytes().to_vec();
    bytes.extend_from_slice(b"{\"messages\":[{\"role\":\"assistant\",\"content\":\"\xff\"}]}\n");
    let e = datasets("\n  birds: {file: birds.jsonl}", &[("birds.jsonl", &bytes)]);
    let f = "suites/t/birds.jsonl";
    assert_diag(
        &e,
        &format!("{f}:3:56"),
        "unknown variant `bot`, expected one of `system`, `user`, `assistant`",
        false,
    );
    assert_diag(&e, &format!("{f}:4:42"), "EOF while parsing a list", false);
    assert_diag(
        &e,
        &format!("{f}:5:7"),
        "unknown field `msgs`, expected `messages`",
        false,
    );
    assert_diag(&e, &format!("{f}:6"), "`messages` is empty", false);
    assert_diag(
        &e,
        &format!("{f}:7"),
        "the last message must be the assistant's (the answer to learn)",
        false,
    );
    assert_diag(&e, &format!("{f}:8:45"), "not valid UTF-8", false);
    assert!(e.starts_with("suites/t.yaml: 6 errors:"), "{e}");
}

#[test]
fn many_bad_lines_are_summarised() {
    let e = datasets(
        "\n  birds: {file: birds.jsonl}",
        &[("birds.jsonl", "x\n".repeat(13).as_bytes())],
    );
    assert!(e.starts_with("suites/t.yaml: 11 errors:"), "{e}");
    assert_diag(
        &e,
        "suites/t/birds.jsonl",
        "3 more bad lines not shown",
        false,
    );
}

#[test]
fn empty_datasets_are_errors() {
    let e = datasets(
        &format!(
            "\n  birds: {{file: birds.jsonl}}\n  y:\n    rows: [{{name: x, year: 1}}]\n    where: {{year: 2}}{TEMPLATE}\n  c:\n    table: c.csv{TEMPLATE}"
        ),
        &[("birds.jsonl", b"\n\n"), ("c.csv", b"name\n")],
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.file: the dataset is empty: it has no conversations",
    );
    assert_yaml_diag(
        &e,
        "datasets.y: the dataset is empty: it has no rows that pass `where`",
    );
    assert_yaml_diag(&e, "datasets.c: the dataset is empty: it has no rows");
}

#[test]
fn csv_errors_name_their_line() {
    let e = datasets(
        &format!("\n  birds:\n    table: birds.csv{TEMPLATE}\n  h:\n    table: h.csv{TEMPLATE}"),
        &[
            (
                "birds.csv",
                b"name,year\nPuffin,1838\nTitlark\n\"Ibis\",1838\nx,1,2\n",
            ),
            ("h.csv", b"name,,name\n"),
        ],
    );
    assert_diag(
        &e,
        "suites/t/birds.csv:3",
        "found 1 fields, expected 2 (as many as the header has)",
        false,
    );
    assert_diag(
        &e,
        "suites/t/birds.csv:5",
        "found 3 fields, expected 2 (as many as the header has)",
        false,
    );
    assert_diag(&e, "suites/t/h.csv:1", "column 2 has no name", false);
    assert_diag(&e, "suites/t/h.csv:1", "column `name` appears twice", false);
}

#[test]
fn columns_are_checked() {
    let e = datasets(
        "\n  birds:\n    table: birds.csv\n    where: {yr: 1838}\n    shuffle: [name, name, nme]\n    template:\n      - {role: user, content: 'Name a bird from {yeer}.'}\n      - {role: assistant, content: '{name'}",
        &[("birds.csv", b"name,year\nPuffin,1838\n")],
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.template[0].content: placeholder `{yeer}`: unknown column `yeer` (did you mean `year`?)",
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.template[1].content: bad template: unclosed `{`; write `{{` for a literal brace (at character 1)",
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.where.yr: unknown column `yr` (defined: `name`, `year`)",
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.shuffle[1]: column `name` is listed twice",
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.shuffle[2]: unknown column `nme` (did you mean `name`?)",
    );
}

#[test]
fn inline_rows_set_every_column_used() {
    let e = datasets(
        &format!(
            "\n  birds:\n    rows:\n      - {{name: x, year: 1}}\n      - {{year: 2}}\n    where: {{year: [1, 2]}}{TEMPLATE}"
        ),
        &[],
    );
    assert_yaml_diag(
        &e,
        "datasets.birds.rows[1]: has no value for `name` (every row sets the columns the dataset uses)",
    );
    // A column no template, filter or shuffle uses may be absent.
    let ok = load_text(
        &yaml(&[(
            "datasets",
            &format!(
                "\n  birds:\n    rows:\n      - {{name: x, note: n}}\n      - {{name: y}}{TEMPLATE}"
            ),
        )]),
        &[],
    );
    assert!(ok.is_ok(), "{ok:?}");
}
