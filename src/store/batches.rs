//! Batch API submissions: what was submitted, for which endpoint and model, and whether its
//! results are already in `samples`. A killed run finds its uncollected batches here and
//! resumes polling them instead of submitting again.

use super::{Store, now};
use anyhow::Result;
use rusqlite::params;
use serde::{Deserialize, Serialize};

/// A submitted batch as the store remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// The provider's batch id.
    pub batch_id: String,
    /// The sampler endpoint (as in sample cell keys).
    pub endpoint: String,
    /// The model every request of the batch asks (`provider/model`).
    pub model: String,
    /// The provider's handle to poll and collect with (JSON).
    pub handle: serde_json::Value,
    /// The provider's status word (`validating`, `in_progress`, `completed`, ...).
    pub state: String,
    /// Whether the results were collected into `samples` (nothing left to wait for).
    pub collected: bool,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "batch_id, endpoint, model, handle, state, collected, created_at, updated_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BatchRecord> {
    let handle: String = r.get(3)?;
    Ok(BatchRecord {
        batch_id: r.get(0)?,
        endpoint: r.get(1)?,
        model: r.get(2)?,
        handle: serde_json::from_str(&handle).unwrap_or(serde_json::Value::Null),
        state: r.get(4)?,
        collected: r.get::<_, i64>(5)? != 0,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

impl Store {
    /// Inserts a batch record, or updates its state and `collected` flag.
    pub fn put_batch(&self, rec: &BatchRecord) -> Result<()> {
        self.conn().execute(
            "INSERT INTO batches (batch_id, endpoint, model, handle, state, collected, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(batch_id) DO UPDATE SET state = excluded.state,
                 collected = excluded.collected, updated_at = excluded.updated_at",
            params![
                rec.batch_id,
                rec.endpoint,
                rec.model,
                rec.handle.to_string(),
                rec.state,
                i64::from(rec.collected),
                rec.created_at,
                rec.updated_at,
            ],
        )?;
        Ok(())
    }

    /// Records a batch's new state (and whether its results are collected).
    pub fn update_batch(&self, batch_id: &str, state: &str, collected: bool) -> Result<()> {
        self.conn().execute(
            "UPDATE batches SET state = ?2, collected = ?3, updated_at = ?4 WHERE batch_id = ?1",
            params![batch_id, state, i64::from(collected), now()],
        )?;
        Ok(())
    }

    /// The batches of `model` at `endpoint` whose results are not collected yet, oldest first.
    pub fn pending_batches(&self, endpoint: &str, model: &str) -> Result<Vec<BatchRecord>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {COLS} FROM batches WHERE endpoint = ?1 AND model = ?2 AND collected = 0
             ORDER BY created_at, batch_id"
        ))?;
        let rows = st.query_map(params![endpoint, model], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every batch, newest first.
    pub fn batches(&self) -> Result<Vec<BatchRecord>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {COLS} FROM batches ORDER BY created_at DESC, batch_id"
        ))?;
        let rows = st.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
