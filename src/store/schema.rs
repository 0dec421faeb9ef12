//! The store's tables, created or upgraded on open.

use rusqlite::Connection;

/// Bumped when a table changes; older stores are upgraded step by step.
const VERSION: i64 = 2;

/// Brings the store at `PRAGMA user_version` up to [`VERSION`], one step per version, each
/// in its own transaction: a store of any earlier version keeps its data.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v >= VERSION {
        return Ok(());
    }
    if v < 1 {
        conn.execute_batch(V1)?;
    }
    if v < 2 {
        conn.execute_batch(V2)?;
    }
    Ok(())
}

/// Version 1: jobs, samples, judgments, attachments, capabilities and runs.
pub(super) const V1: &str = "BEGIN;
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
         PRAGMA user_version = 1;
         COMMIT;";

/// Version 2: Batch API submissions, kept until their results are in `samples`, so a killed
/// run resumes polling the same batch.
const V2: &str = "BEGIN;
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
         PRAGMA user_version = 2;
         COMMIT;";
