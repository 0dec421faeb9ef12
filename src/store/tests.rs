use super::*;
use std::time::Duration;

fn temp_store() -> (Store, PathBuf) {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("weirdgen-store-{}-{n}", std::process::id()));
    let path = dir.join("store.sqlite");
    (Store::open(&path).unwrap(), dir)
}

fn comp(text: &str) -> Completion {
    Completion {
        text: text.into(),
        logprobs: None,
        usage: Usage {
            input_tokens: 3,
            output_tokens: 1,
        },
        finish_reason: Some("stop".into()),
    }
}

#[test]
fn samples_extend_and_never_duplicate() {
    let (s, dir) = temp_store();
    s.put_samples("cell", "toy", "toy/world", 0, &[comp("a"), comp("b")])
        .unwrap();
    // A retry of an overlapping range keeps the first answers.
    s.put_samples("cell", "toy", "toy/world", 1, &[comp("X"), comp("c")])
        .unwrap();
    let got = s.samples("cell", 0..4).unwrap();
    let texts: Vec<Option<&str>> = got
        .iter()
        .map(|c| c.as_ref().map(|c| c.text.as_str()))
        .collect();
    assert_eq!(texts, vec![Some("a"), Some("b"), Some("c"), None]);
    assert_eq!(s.sample_count().unwrap(), 3);
    assert_eq!(got[0].as_ref().unwrap().usage.input_tokens, 3);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn jobs_round_trip_and_update() {
    let (s, dir) = temp_store();
    let hp = Hyperparameters {
        epochs: Some(3),
        batch_size: Some(1),
        learning_rate_multiplier: Some(2.0),
        ..Default::default()
    };
    let key = job_key("toy", "toy/world", "abc", &hp, 7);
    assert_ne!(key, job_key("toy", "toy/world", "abc", &hp, 8));
    let mut rec = JobRecord {
        key: key.clone(),
        endpoint: "toy".into(),
        base_model: "toy/world".into(),
        dataset_name: "d".into(),
        dataset_hash: "abc".into(),
        hyperparameters: hp,
        seed: 7,
        job_id: Some("job-1".into()),
        state: "running".into(),
        model: None,
        error: None,
        created_at: 1,
        updated_at: 1,
    };
    s.put_job(&rec).unwrap();
    rec.state = "succeeded".into();
    rec.model = Some("toy/world:ft-1".into());
    s.put_job(&rec).unwrap();
    assert_eq!(s.job(&key).unwrap().unwrap(), rec);
    assert_eq!(s.jobs().unwrap().len(), 1);
    assert!(s.job("nope").unwrap().is_none());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn judgments_and_runs_round_trip() {
    let (s, dir) = temp_store();
    let k = judgment_key("j", "q", &Default::default(), "a");
    s.put_judgment(
        &k,
        "era",
        &JudgeOutput::Label("old".into()),
        Some("ANSWER: old"),
    )
    .unwrap();
    assert_eq!(
        s.judgment(&k).unwrap(),
        Some(JudgeOutput::Label("old".into()))
    );
    let id = s
        .start_run(
            "suite",
            "h",
            "toy/world",
            &new_holder(),
            Duration::from_secs(60),
        )
        .unwrap();
    s.finish_run(id, &serde_json::json!({"samples": 3}))
        .unwrap();
    let runs = s.runs().unwrap();
    assert_eq!(runs[0].counts["samples"], 3);
    assert!(runs[0].finished_at.is_some());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn two_connections_see_each_others_writes() {
    let (a, dir) = temp_store();
    let b = Store::open(a.path()).unwrap();
    a.put_samples("c", "e", "m", 0, &[comp("x")]).unwrap();
    assert_eq!(b.samples("c", 0..1).unwrap()[0].as_ref().unwrap().text, "x");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn forget_jobs_by_prefix() {
    let (s, dir) = temp_store();
    let hp = Hyperparameters::default();
    let rec = JobRecord {
        key: job_key("toy", "toy/world", "abc", &hp, 1),
        endpoint: "toy".into(),
        base_model: "toy/world".into(),
        dataset_name: "d".into(),
        dataset_hash: "abc".into(),
        hyperparameters: hp,
        seed: 1,
        job_id: Some("ftjob-abc_1".into()),
        state: "failed".into(),
        model: None,
        error: Some("boom".into()),
        created_at: 1,
        updated_at: 1,
    };
    s.put_job(&rec).unwrap();
    assert!(
        s.forget_jobs("ft").is_err(),
        "too short a prefix is refused"
    );
    assert_eq!(s.forget_jobs("ftjob-abd").unwrap(), 0);
    assert_eq!(s.forget_jobs("ftjob-abc_").unwrap(), 1);
    assert!(s.jobs().unwrap().is_empty());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn batches_are_pending_until_collected() {
    let (s, dir) = temp_store();
    let rec = |id: &str, model: &str| BatchRecord {
        batch_id: id.into(),
        endpoint: "openai@http://x/v1".into(),
        model: model.into(),
        handle: serde_json::json!({"batch_id": id, "lines": []}),
        state: "validating".into(),
        collected: false,
        created_at: 1,
        updated_at: 1,
    };
    s.put_batch(&rec("batch_1", "openai/a")).unwrap();
    s.put_batch(&rec("batch_2", "openai/b")).unwrap();
    let pending = s.pending_batches("openai@http://x/v1", "openai/a").unwrap();
    assert_eq!(pending, vec![rec("batch_1", "openai/a")]);
    assert!(s.pending_batches("other", "openai/a").unwrap().is_empty());
    s.update_batch("batch_1", "completed", true).unwrap();
    assert!(
        s.pending_batches("openai@http://x/v1", "openai/a")
            .unwrap()
            .is_empty()
    );
    let all = s.batches().unwrap();
    assert_eq!(all.len(), 2);
    let done = all.iter().find(|b| b.batch_id == "batch_1").unwrap();
    assert_eq!((done.state.as_str(), done.collected), ("completed", true));
    assert_eq!(done.handle["batch_id"], "batch_1");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_version_1_store_is_upgraded_and_keeps_its_data() {
    let dir = std::env::temp_dir().join(format!("weirdgen-store-v1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("store.sqlite");
    let _ = std::fs::remove_file(&path);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema::V1).unwrap();
        conn.execute(
            "INSERT INTO samples (cell, idx, endpoint, model, text, input_tokens, output_tokens, created_at)
             VALUES ('cell', 0, 'toy', 'toy/world', 'kept', 1, 1, 0)",
            [],
        )
        .unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(
        s.samples("cell", 0..1).unwrap()[0].as_ref().unwrap().text,
        "kept"
    );
    let v: i64 = s
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, schema::VERSION);
    assert!(s.batches().unwrap().is_empty());
    drop(s);
    // Opening again is a no-op.
    assert!(Store::open(&path).unwrap().batches().unwrap().is_empty());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_run_whose_process_died_is_marked_killed_by_the_next() {
    let (s, dir) = temp_store();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    // A holder that is gone (this boot, no such process) or whose deadline passed.
    let dead = new_holder().replacen(&format!("/{}/", std::process::id()), &format!("/{pid}/"), 1);
    let day = Duration::from_secs(86_400);
    let killed = s.start_run("suite", "h", "toy/world", &dead, day).unwrap();
    let lapsed = s
        .start_run("suite", "h", "toy/world", &new_holder(), Duration::ZERO)
        .unwrap();
    let alive = s
        .start_run("suite", "h", "toy/world", &new_holder(), day)
        .unwrap();
    let runs = s.runs().unwrap();
    let get = |id: i64| runs.iter().find(|r| r.id == id).unwrap();
    assert!(get(lapsed).killed && get(lapsed).finished_at.is_some());
    if std::path::Path::new("/proc/sys/kernel/random/boot_id").exists() {
        assert!(get(killed).killed);
    }
    assert!(!get(alive).killed && get(alive).finished_at.is_none());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_store_of_a_newer_schema_is_refused_naming_both_versions() {
    let (s, dir) = temp_store();
    s.conn()
        .execute_batch(&format!("PRAGMA user_version = {}", schema::VERSION + 1))
        .unwrap();
    let path = s.path().to_path_buf();
    drop(s);
    let e = format!("{:#}", Store::open(&path).err().expect("refused"));
    assert!(
        e.contains(&format!("version {}", schema::VERSION + 1))
            && e.contains(&format!("version {} of this weirdgen", schema::VERSION)),
        "{e}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_fresh_store_opened_by_many_at_once_is_created_once() {
    let dir = std::env::temp_dir().join(format!("weirdgen-store-fresh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("store.sqlite");
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(&dir);
        std::thread::scope(|sc| {
            let opened: Vec<_> = (0..6)
                .map(|_| sc.spawn(|| Store::open(&path).map(|s| s.sample_count())))
                .collect();
            for o in opened {
                let count = o.join().unwrap().expect("opened").expect("readable");
                assert_eq!(count, 0);
            }
        });
    }
    std::fs::remove_dir_all(dir).ok();
}
