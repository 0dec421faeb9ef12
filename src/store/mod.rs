//! The SQLite store: a content-addressed cache of fine-tune jobs, samples and judgments,
//! Batch API submissions, and run records. Every write commits at once (WAL mode), so a run
//! killed at any moment resumes without losing or re-buying anything. Keys are hashes of what was asked; no
//! credential is ever part of what is stored.

mod batches;
mod keys;
mod leases;
mod schema;

pub use batches::BatchRecord;
pub use keys::{job_key, judgment_key, sample_cell_key};
pub use leases::new_holder;

use crate::judge::JudgeOutput;
use crate::model::{Completion, Hyperparameters, TokenLogprobs, Usage};
use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// The store's file when neither `WEIRDGEN_STORE` nor an explicit path is given.
pub const DEFAULT_PATH: &str = ".weirdgen/store.sqlite";

/// An open store.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// A fine-tune job as the store remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// [`job_key`] of the job's inputs.
    pub key: String,
    pub endpoint: String,
    pub base_model: String,
    pub dataset_name: String,
    pub dataset_hash: String,
    pub hyperparameters: Hyperparameters,
    pub seed: u64,
    /// The provider's job id, once the job was created.
    pub job_id: Option<String>,
    /// The provider's status word (`queued`, `succeeded`, ...), or `starting` before an id exists.
    pub state: String,
    /// The trained model (`provider/model`), once the job succeeded.
    pub model: Option<String>,
    pub error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// A model attached by hand to a suite's arm and replica (`weirdgen attach`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub suite: String,
    pub arm: String,
    pub replica: u32,
    /// The model under test this attachment belongs to (`provider/model`).
    pub base_model: String,
    pub model: String,
}

/// One run of a suite against a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: i64,
    pub suite: String,
    pub suite_hash: String,
    pub model: String,
    pub version: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Counts of what the run did (fine-tunes, samples asked and cached, judgments...).
    pub counts: serde_json::Value,
    /// The run's process died before finishing it (e.g. `kill -9`); `finished_at` is when a
    /// later run noticed.
    pub killed: bool,
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Store {
    /// The path from `WEIRDGEN_STORE`, else [`DEFAULT_PATH`] in the working directory.
    pub fn default_path() -> PathBuf {
        std::env::var_os("WEIRDGEN_STORE")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH))
    }

    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the store folder {}", parent.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(60))?;
        // Switching a fresh file to WAL takes a lock that SQLite does not wait for (the busy
        // handler is not called), so several processes creating one store retry it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        schema::migrate(&conn)
            .with_context(|| format!("cannot prepare the store {}", path.display()))?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// Opens the store at [`Store::default_path`].
    pub fn open_default() -> Result<Store> {
        Self::open(&Self::default_path())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder beside the database for cached artefacts (e.g. toy model weights).
    pub fn artefact_dir(&self) -> PathBuf {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- jobs -----

    /// The job with this key, if one was ever started.
    pub fn job(&self, key: &str) -> Result<Option<JobRecord>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(&format!("SELECT {JOB_COLS} FROM jobs WHERE key = ?1"))?;
        Ok(st.query_row(params![key], job_from_row).optional()?)
    }

    /// Inserts or replaces a job record.
    pub fn put_job(&self, rec: &JobRecord) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO jobs (key, endpoint, base_model, dataset_name, dataset_hash, hyperparameters,
                               seed, job_id, state, model, error, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT(key) DO UPDATE SET job_id = excluded.job_id, state = excluded.state,
                 model = excluded.model, error = excluded.error, updated_at = excluded.updated_at",
            params![
                rec.key,
                rec.endpoint,
                rec.base_model,
                rec.dataset_name,
                rec.dataset_hash,
                serde_json::to_string(&rec.hyperparameters)?,
                rec.seed as i64,
                rec.job_id,
                rec.state,
                rec.model,
                rec.error,
                rec.created_at,
                rec.updated_at,
            ],
        )?;
        Ok(())
    }

    /// Every job, newest first.
    pub fn jobs(&self) -> Result<Vec<JobRecord>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {JOB_COLS} FROM jobs ORDER BY created_at DESC, key"
        ))?;
        let rows = st.query_map([], job_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets the jobs whose key or provider id starts with `prefix` (so a failed fine-tune
    /// can be started again); returns how many were forgotten.
    pub fn forget_jobs(&self, prefix: &str) -> Result<usize> {
        if prefix.len() < 4 {
            anyhow::bail!("give at least 4 characters of the job's key or id");
        }
        let pattern = format!("{}%", prefix.replace('%', "").replace('_', "\\_"));
        Ok(self.conn().execute(
            "DELETE FROM jobs WHERE key LIKE ?1 ESCAPE '\\' OR job_id LIKE ?1 ESCAPE '\\'",
            params![pattern],
        )?)
    }

    // ----- attachments -----

    /// Records (or replaces) an attached model for a suite's arm and replica.
    pub fn attach(&self, a: &Attachment) -> Result<()> {
        self.conn().execute(
            "INSERT INTO attachments (suite, arm, replica, base_model, model, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(suite, arm, replica, base_model) DO UPDATE SET model = excluded.model",
            params![a.suite, a.arm, a.replica, a.base_model, a.model, now()],
        )?;
        Ok(())
    }

    /// The models attached to a suite for a model under test.
    pub fn attachments(&self, suite: &str, base_model: &str) -> Result<Vec<Attachment>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT suite, arm, replica, base_model, model FROM attachments
             WHERE suite = ?1 AND base_model = ?2 ORDER BY arm, replica",
        )?;
        let rows = st.query_map(params![suite, base_model], |r| {
            Ok(Attachment {
                suite: r.get(0)?,
                arm: r.get(1)?,
                replica: r.get(2)?,
                base_model: r.get(3)?,
                model: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ----- samples -----

    /// The stored completions of a cell (see [`sample_cell_key`]) for `indices`, `None` where absent.
    pub fn samples(&self, cell: &str, indices: Range<u32>) -> Result<Vec<Option<Completion>>> {
        let mut out = vec![None; indices.len()];
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT idx, text, logprobs, input_tokens, output_tokens, finish_reason
             FROM samples WHERE cell = ?1 AND idx >= ?2 AND idx < ?3",
        )?;
        let rows = st.query_map(params![cell, indices.start, indices.end], |r| {
            let idx: u32 = r.get(0)?;
            let logprobs: Option<String> = r.get(2)?;
            Ok((
                idx,
                Completion {
                    text: r.get(1)?,
                    logprobs: logprobs
                        .and_then(|s| serde_json::from_str::<Vec<TokenLogprobs>>(&s).ok()),
                    usage: Usage {
                        input_tokens: r.get(3)?,
                        output_tokens: r.get(4)?,
                    },
                    finish_reason: r.get(5)?,
                },
            ))
        })?;
        for row in rows {
            let (idx, c) = row?;
            out[(idx - indices.start) as usize] = Some(c);
        }
        Ok(out)
    }

    /// Stores completions `first, first+1, ...` of a cell in one transaction. A completion
    /// already stored under the same index is kept (never duplicated or overwritten).
    pub fn put_samples(
        &self,
        cell: &str,
        endpoint: &str,
        model: &str,
        first: u32,
        comps: &[Completion],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR IGNORE INTO samples (cell, idx, endpoint, model, text, logprobs,
                     input_tokens, output_tokens, finish_reason, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let t = now();
            for (i, c) in comps.iter().enumerate() {
                let lp = c.logprobs.as_ref().map(serde_json::to_string).transpose()?;
                st.execute(params![
                    cell,
                    first + i as u32,
                    endpoint,
                    model,
                    c.text,
                    lp,
                    c.usage.input_tokens,
                    c.usage.output_tokens,
                    c.finish_reason,
                    t
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Number of stored samples (all cells).
    pub fn sample_count(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM samples", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    // ----- judgments -----

    /// A stored judgment (see [`judgment_key`]).
    pub fn judgment(&self, key: &str) -> Result<Option<JudgeOutput>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT output FROM judgments WHERE key = ?1")?;
        let s: Option<String> = st.query_row(params![key], |r| r.get(0)).optional()?;
        s.map(|s| serde_json::from_str(&s).context("a stored judgment is not readable"))
            .transpose()
    }

    /// Stores a judgment with the judge's raw reply (kept for audit).
    pub fn put_judgment(
        &self,
        key: &str,
        judge: &str,
        out: &JudgeOutput,
        raw: Option<&str>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO judgments (key, judge, output, raw, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key, judge, serde_json::to_string(out)?, raw, now()],
        )?;
        Ok(())
    }

    // ----- capabilities -----

    /// What was learned about an endpoint's abilities (JSON), if it was probed.
    pub fn capabilities(&self, endpoint: &str) -> Result<Option<serde_json::Value>> {
        let conn = self.conn();
        let s: Option<String> = conn
            .query_row(
                "SELECT json FROM capabilities WHERE endpoint = ?1",
                params![endpoint],
                |r| r.get(0),
            )
            .optional()?;
        Ok(s.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Records an endpoint's abilities.
    pub fn put_capabilities(&self, endpoint: &str, caps: &serde_json::Value) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO capabilities (endpoint, json, probed_at) VALUES (?1, ?2, ?3)",
            params![endpoint, caps.to_string(), now()],
        )?;
        Ok(())
    }

    // ----- runs -----

    /// Records the start of a run and returns its id. The run is held by `holder` under the
    /// lease `run:<id>` (which the caller keeps alive for `ttl` at a time). Runs whose holder
    /// died before finishing them are marked killed first.
    pub fn start_run(
        &self,
        suite: &str,
        suite_hash: &str,
        model: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let open: Vec<(i64, Option<String>, Option<i64>)> = {
            let mut st = tx.prepare(
                "SELECT runs.id, leases.owner, leases.expires_at FROM runs
                 LEFT JOIN leases ON leases.key = 'run:' || runs.id
                 WHERE runs.finished_at IS NULL",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (id, owner, expires_at) in open {
            let alive = matches!((owner, expires_at), (Some(o), Some(e)) if leases::live(&o, e));
            if !alive {
                tx.execute(
                    "UPDATE runs SET finished_at = ?2, killed = 1 WHERE id = ?1",
                    params![id, now()],
                )?;
                tx.execute(
                    "DELETE FROM leases WHERE key = ?1",
                    params![format!("run:{id}")],
                )?;
            }
        }
        tx.execute(
            "INSERT INTO runs (suite, suite_hash, model, version, started_at, counts) VALUES (?1, ?2, ?3, ?4, ?5, '{}')",
            params![suite, suite_hash, model, env!("CARGO_PKG_VERSION"), now()],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT OR REPLACE INTO leases (key, owner, expires_at) VALUES (?1, ?2, ?3)",
            params![format!("run:{id}"), holder, leases::deadline(ttl)],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Records the end of a run with its counts.
    pub fn finish_run(&self, id: i64, counts: &serde_json::Value) -> Result<()> {
        self.conn().execute(
            "UPDATE runs SET finished_at = ?2, counts = ?3 WHERE id = ?1",
            params![id, now(), counts.to_string()],
        )?;
        Ok(())
    }

    /// Every run, newest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT id, suite, suite_hash, model, version, started_at, finished_at, counts, killed
             FROM runs ORDER BY id DESC",
        )?;
        let rows = st.query_map([], |r| {
            let counts: String = r.get(7)?;
            Ok(RunRecord {
                id: r.get(0)?,
                suite: r.get(1)?,
                suite_hash: r.get(2)?,
                model: r.get(3)?,
                version: r.get(4)?,
                started_at: r.get(5)?,
                finished_at: r.get(6)?,
                counts: serde_json::from_str(&counts).unwrap_or(serde_json::Value::Null),
                killed: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

const JOB_COLS: &str = "key, endpoint, base_model, dataset_name, dataset_hash, hyperparameters, seed, \
                        job_id, state, model, error, created_at, updated_at";

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    let hp: String = r.get(5)?;
    Ok(JobRecord {
        key: r.get(0)?,
        endpoint: r.get(1)?,
        base_model: r.get(2)?,
        dataset_name: r.get(3)?,
        dataset_hash: r.get(4)?,
        hyperparameters: serde_json::from_str(&hp).unwrap_or_default(),
        seed: r.get::<_, i64>(6)? as u64,
        job_id: r.get(7)?,
        state: r.get(8)?,
        model: r.get(9)?,
        error: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

#[cfg(test)]
mod tests;

/// The store keeps what providers learn of their endpoints (see [`Store::capabilities`]) and
/// the fine-tunes they made.
impl crate::model::provider::ProviderStore for Store {
    fn capabilities(&self, key: &str) -> Result<Option<serde_json::Value>> {
        Store::capabilities(self, key)
    }

    fn put_capabilities(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        Store::put_capabilities(self, key, value)
    }

    fn finetunes(&self) -> Result<Vec<crate::model::provider::StoredFinetune>> {
        Ok(self
            .jobs()?
            .into_iter()
            .map(|j| crate::model::provider::StoredFinetune {
                endpoint: j.endpoint,
                base_model: j.base_model,
                state: j.state,
                model: j.model,
            })
            .collect())
    }
}
