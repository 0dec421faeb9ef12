//! The store's tables, created or upgraded on open.

use anyhow::{Result, bail};
use rusqlite::Connection;

/// Bumped when a table changes; older stores are upgraded step by step.
pub(super) const VERSION: i64 = 3;

/// Brings the store at `PRAGMA user_version` up to [`VERSION`] in one `BEGIN IMMEDIATE`
/// transaction (which waits under the busy timeout, so processes opening a fresh store at
/// once upgrade it one after the other): a store of any earlier version keeps its data. A
/// store of a later version is refused rather than misread.
pub(super) fn migrate(conn: &Connection) -> Result<()> {
    let version = |conn: &Connection| -> rusqlite::Result<i64> {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    };
    let check = |v: i64| -> Result<bool> {
        if v > VERSION {
            bail!(
                "the store's schema is version {v}, newer than version {VERSION} of this weirdgen {}: \
                 use a newer weirdgen, or another store (WEIRDGEN_STORE)",
                env!("CARGO_PKG_VERSION")
            );
        }
        Ok(v == VERSION)
    };
    if check(version(conn)?)? {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let upgraded = (|| -> Result<()> {
        // Another process may have upgraded it while this one waited for the lock.
        let v = version(conn)?;
        if check(v)? {
            return Ok(());
        }
        for (step, sql) in [(1, V1), (2, V2), (3, V3)] {
            if v < step {
                conn.execute_batch(sql)?;
            }
        }
        Ok(())
    })();
    match upgraded {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Version 1: jobs, samples, judgments, attachments, capabilities and runs.
pub(super) const V1: &str = "
         CREATE TABLE IF NOT EXISTS jobs (
             key TEXT PRIMARY KEY,
             endpoint TEXT NOT NULL,
             base_model TEXT NOT NULL,
             dataset_name TEXT NOT NULL,
             dataset_hash TEXT NOT NULL,
             hyperparameters TEXT NOT NULL,
             seed INTEGER NOT NULL,
             job_id TEXT,
             state TEXT NOT NULL,
             model TEXT,
             error TEXT,
             created_at INTEGER NOT NULL,
             updated_at INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS samples (
             cell TEXT NOT NULL,
             idx INTEGER NOT NULL,
             endpoint TEXT NOT NULL,
             model TEXT NOT NULL,
             text TEXT NOT NULL,
             logprobs TEXT,
             input_tokens INTEGER NOT NULL,
             output_tokens INTEGER NOT NULL,
             finish_reason TEXT,
             created_at INTEGER NOT NULL,
             PRIMARY KEY (cell, idx)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS judgments (
             key TEXT PRIMARY KEY,
             judge TEXT NOT NULL,
             output TEXT NOT NULL,
             raw TEXT,
             created_at INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS attachments (
             suite TEXT NOT NULL,
             arm TEXT NOT NULL,
             replica INTEGER NOT NULL,
             base_model TEXT NOT NULL,
             model TEXT NOT NULL,
             created_at INTEGER NOT NULL,
             PRIMARY KEY (suite, arm, replica, base_model)
         );
         CREATE TABLE IF NOT EXISTS capabilities (
             endpoint TEXT PRIMARY KEY,
             json TEXT NOT NULL,
             probed_at INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS runs (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             suite TEXT NOT NULL,
             suite_hash TEXT NOT NULL,
             model TEXT NOT NULL,
             version TEXT NOT NULL,
             started_at INTEGER NOT NULL,
             finished_at INTEGER,
             counts TEXT NOT NULL
         );
         PRAGMA user_version = 1;";

/// Version 2: Batch API submissions, kept until their results are in `samples`, so a killed
/// run resumes polling the same batch.
const V2: &str = "
         CREATE TABLE IF NOT EXISTS batches (
             batch_id TEXT PRIMARY KEY,
             endpoint TEXT NOT NULL,
             model TEXT NOT NULL,
             handle TEXT NOT NULL,
             state TEXT NOT NULL,
             collected INTEGER NOT NULL,
             created_at INTEGER NOT NULL,
             updated_at INTEGER NOT NULL
         );
         CREATE INDEX IF NOT EXISTS batches_pending ON batches (endpoint, model, collected);
         PRAGMA user_version = 2;";

/// Version 3: leases (one process at a time works on a paid action; see `leases.rs`) and
/// runs marked as killed when their process died before finishing them.
const V3: &str = "
         CREATE TABLE IF NOT EXISTS leases (
             key TEXT PRIMARY KEY,
             owner TEXT NOT NULL,
             expires_at INTEGER NOT NULL
         );
         ALTER TABLE runs ADD COLUMN killed INTEGER NOT NULL DEFAULT 0;
         PRAGMA user_version = 3;";
