//! Leases: a row per paid action (a fine-tune, an upload, a batch, a sample cell) naming the
//! one holder that works on it, until a deadline its holder keeps pushing back. Taking a lease
//! is one `BEGIN IMMEDIATE` transaction, so of several processes (or tasks) asking at once
//! exactly one gets it; the others wait and reuse its result. A lease whose deadline passed,
//! or whose holder is a process of this machine that no longer exists (killed with `kill -9`),
//! is free again.

use super::Store;
use anyhow::Result;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// This machine's boot id (Linux), so that a holder's process id is only read on the machine
/// and boot it belongs to.
/// Read once per process: it is asked for every lease taken or looked at.
fn boot_id() -> &'static str {
    static BOOT_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BOOT_ID.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into())
    })
}

/// A new holder name, unique on this machine: `boot id/process id/counter`.
pub fn new_holder() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}/{}/{}",
        boot_id(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// False when `holder` is provably gone: a process of this boot of this machine that no
/// longer runs (or is a zombie). Holders elsewhere count as alive until their deadline.
fn holder_alive(holder: &str) -> bool {
    let mut parts = holder.split('/');
    let (Some(boot), Some(pid)) = (parts.next(), parts.next()) else {
        return true;
    };
    if boot == "unknown" || boot != boot_id() {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: `Z` is a zombie, `X` dead.
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next()),
            Some("Z" | "X")
        ),
        Err(_) => false,
    }
}

/// The deadline of a lease taken or renewed now for `ttl`.
pub(super) fn deadline(ttl: Duration) -> i64 {
    now_ms() + ttl.as_millis() as i64
}

/// Whether a lease row still binds others.
pub(super) fn live(holder: &str, expires_at: i64) -> bool {
    expires_at > now_ms() && holder_alive(holder)
}

impl Store {
    /// Takes the lease `key` for `holder` until `ttl` from now, unless another live holder has
    /// it; returns whether `holder` has it now.
    pub fn try_lease(&self, key: &str, holder: &str, ttl: Duration) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Option<(String, i64)> = tx
            .query_row(
                "SELECT owner, expires_at FROM leases WHERE key = ?1",
                params![key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((owner, expires_at)) = &current
            && owner != holder
            && live(owner, *expires_at)
        {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO leases (key, owner, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
            params![key, holder, deadline(ttl)],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Pushes the deadline of `holder`'s lease `key` to `ttl` from now; false when `holder`
    /// no longer has it.
    pub fn renew_lease(&self, key: &str, holder: &str, ttl: Duration) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE leases SET expires_at = ?3 WHERE key = ?1 AND owner = ?2",
            params![key, holder, deadline(ttl)],
        )?;
        Ok(n == 1)
    }

    /// Gives up `holder`'s lease `key` (nothing happens if it is not `holder`'s).
    pub fn release_lease(&self, key: &str, holder: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM leases WHERE key = ?1 AND owner = ?2",
            params![key, holder],
        )?;
        Ok(())
    }

    /// Whether someone live holds the lease `key`.
    pub fn lease_held(&self, key: &str) -> Result<bool> {
        let current: Option<(String, i64)> = self
            .conn()
            .query_row(
                "SELECT owner, expires_at FROM leases WHERE key = ?1",
                params![key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(current.is_some_and(|(owner, exp)| live(&owner, exp)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(name: &str) -> (Store, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("weirdgen-lease-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        (Store::open(&dir.join("store.sqlite")).unwrap(), dir)
    }

    #[test]
    fn one_holder_at_a_time_until_release_or_expiry() {
        let (s, dir) = store("one");
        let (a, b) = (new_holder(), new_holder());
        let long = Duration::from_secs(60);
        assert!(s.try_lease("k", &a, long).unwrap());
        assert!(!s.try_lease("k", &b, long).unwrap());
        assert!(s.lease_held("k").unwrap());
        assert!(s.renew_lease("k", &a, long).unwrap());
        assert!(!s.renew_lease("k", &b, long).unwrap());
        s.release_lease("k", &b).unwrap();
        assert!(
            !s.try_lease("k", &b, long).unwrap(),
            "b cannot release a's lease"
        );
        s.release_lease("k", &a).unwrap();
        assert!(!s.lease_held("k").unwrap());
        assert!(s.try_lease("k", &b, Duration::ZERO).unwrap());
        assert!(!s.lease_held("k").unwrap(), "an expired lease binds no one");
        assert!(s.try_lease("k", &a, long).unwrap());
        assert!(!s.renew_lease("k", &b, long).unwrap(), "b lost it");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_dead_holder_frees_its_lease_at_once() {
        let (s, dir) = store("dead");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = format!("{}/{pid}/0", boot_id());
        let long = Duration::from_secs(600);
        assert!(s.try_lease("k", &dead, long).unwrap());
        if boot_id() != "unknown" {
            assert!(!s.lease_held("k").unwrap());
            assert!(s.try_lease("k", &new_holder(), long).unwrap());
        }
        // A holder on another machine counts as alive until its deadline.
        assert!(s.try_lease("j", "other-machine/1/0", long).unwrap());
        assert!(!s.try_lease("j", &new_holder(), long).unwrap());
        std::fs::remove_dir_all(dir).ok();
    }
}
