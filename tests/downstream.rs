//! A downstream crate (tests/fixtures/downstream/) depends on weirdgen by path, writes the
//! one-line `tests/suites.rs` of README.md's harness section, and runs its own toy suite with
//! `cargo test --test suites`: the trials, filters, `--list`, `--exact` and `--format json`.
//!
//! It builds in weirdgen's target folder (`CARGO_TARGET_DIR`), so only the two small crates
//! are compiled, and uses weirdgen's store, so the toy model pretrained for `tests/suites.rs`
//! is reused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the fixture in a temporary folder, depending on this checkout of weirdgen, with
/// weirdgen's `Cargo.lock` (so the build uses the very dependency versions already built).
fn downstream_crate() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weirdgen-downstream-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let fixture = root().join("tests/fixtures/downstream");
    copy_dir(&fixture, &dir);
    let manifest = std::fs::read_to_string(fixture.join("Cargo.toml")).unwrap();
    let by_path = "weirdgen = { path = \"../../..\" }";
    assert!(
        manifest.contains(by_path),
        "the fixture depends on weirdgen by path"
    );
    let here = format!("weirdgen = {{ path = {:?} }}", root().display().to_string());
    std::fs::write(dir.join("Cargo.toml"), manifest.replace(by_path, &here)).unwrap();
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `cargo test --release --offline --test suites -- <args>` in the downstream crate.
fn cargo_test(dir: &Path, args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .args(["test", "--release", "--offline", "--test", "suites", "--"])
        .args(args);
    // The environment of a shell, not of this test: cargo sets `CARGO_PKG_NAME` and the like
    // for it, and build scripts that watch them (ring's) would rebuild their crates.
    for (var, _) in std::env::vars_os() {
        let var = var.to_string_lossy();
        let cargos = var.starts_with("CARGO_") && var != "CARGO_HOME";
        if cargos || var.starts_with("WEIRDGEN_") || var == "LD_LIBRARY_PATH" {
            cmd.env_remove(&*var);
        }
    }
    cmd.env("CARGO_TARGET_DIR", target)
        .env("WEIRDGEN_STORE", root().join(".weirdgen/store.sqlite"));
    let out = cmd.output().expect("cargo runs");
    eprintln!(
        "cargo test --test suites -- {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_downstream_crate_runs_its_own_suites_as_trials() {
    let dir = downstream_crate();
    let expected = [
        "[suite] toy-downstream",
        "[judge] toy-downstream::bird_name@rules",
        "[effect] toy-downstream::old_names_learned@toy/world",
        "[baseline] toy-downstream@toy/world",
    ];

    let list = cargo_test(&dir, &["--list"]);
    assert!(list.status.success());
    let listed = String::from_utf8_lossy(&list.stdout);
    for name in expected {
        assert!(
            listed.contains(&format!("{name}: test")),
            "`{name}` not listed"
        );
    }

    let all = cargo_test(&dir, &[]);
    let stdout = String::from_utf8_lossy(&all.stdout);
    assert!(all.status.success(), "the downstream suites pass");
    for name in expected {
        let passed = stdout
            .lines()
            .any(|l| l.starts_with(&format!("test {name} ")) && l.trim_end().ends_with("... ok"));
        assert!(passed, "`{name}` did not pass");
    }
    assert!(
        stdout.contains("test result: ok. 4 passed; 0 failed"),
        "{stdout}"
    );

    // One trial, as `cargo nextest` runs each, with libtest's JSON events.
    let one = cargo_test(
        &dir,
        &[
            "--exact",
            "[baseline] toy-downstream@toy/world",
            "--format",
            "json",
        ],
    );
    assert!(one.status.success());
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&one.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("`{l}`: {e}")))
        .collect();
    let ok: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "test" && e["event"] == "ok")
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(ok, ["[baseline] toy-downstream@toy/world"]);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "suite" && e["event"] == "ok" && e["passed"] == 1),
        "{events:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}
