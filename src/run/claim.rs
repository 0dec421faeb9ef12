//! Claiming paid work through the store's leases: of the tasks and processes that want the
//! same fine-tune, upload, batch or sample cell, one takes the lease and does the work while
//! the others wait for its result in the store and reuse it. A holder keeps its lease alive
//! while it works; a holder that dies lets it lapse (at once when its process is gone from
//! this machine, else after [`TTL`]), and a waiter then takes over.

use super::RunContext;
use crate::chat::Message;
use crate::model::ModelRef;
use crate::model::registry::Readiness;
use crate::store::{Store, new_holder};
use anyhow::Result;
use std::sync::Arc;
use std::time::Duration;

/// How long a lease binds others after its holder's last sign of life.
pub(super) const TTL: Duration = Duration::from_secs(60);
/// How often a holder renews its lease.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// The first wait before looking at the store again.
const FIRST_WAIT: Duration = Duration::from_millis(20);
/// The longest wait between two looks at the store.
const MAX_WAIT: Duration = Duration::from_secs(1);

/// A lease this task holds, renewed in the background and given up when dropped.
pub(super) struct Lease {
    store: Arc<Store>,
    key: String,
    holder: String,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Lease {
    /// Keeps alive the lease `key` that `holder` took.
    pub(super) fn keep(store: &Arc<Store>, key: String, holder: String) -> Lease {
        let heartbeat = {
            let (store, key, holder) = (store.clone(), key.clone(), holder.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    // A failed renewal is retried at the next beat; the deadline is far off.
                    let _ = store.renew_lease(&key, &holder, TTL);
                }
            })
        };
        Lease {
            store: store.clone(),
            key,
            holder,
            heartbeat,
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.heartbeat.abort();
        // Left behind on failure, it lapses at its deadline.
        let _ = self.store.release_lease(&self.key, &self.holder);
    }
}

/// What [`claim`] found: the work's result, or the lease to do it.
pub(super) enum Claimed<T> {
    Done(T),
    Mine(Lease),
}

/// Waits until `done` finds the work's result in the store, or this task takes the lease
/// `key` (and `done`, asked once more under the lease, still finds nothing).
pub(super) async fn claim<T>(
    store: &Arc<Store>,
    key: &str,
    mut done: impl FnMut() -> Result<Option<T>>,
) -> Result<Claimed<T>> {
    let holder = new_holder();
    let mut wait = FIRST_WAIT;
    loop {
        if let Some(v) = done()? {
            return Ok(Claimed::Done(v));
        }
        if store.try_lease(key, &holder, TTL)? {
            let lease = Lease::keep(store, key.to_string(), holder);
            return Ok(match done()? {
                Some(v) => Claimed::Done(v),
                None => Claimed::Mine(lease),
            });
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_WAIT);
    }
}

/// Waits until this task takes the lease `key`: for work whose result is not a row of the
/// store (an upload), which is only serialised.
pub(super) async fn exclusive(store: &Arc<Store>, key: &str) -> Result<Lease> {
    match claim::<std::convert::Infallible>(store, key, || Ok(None)).await? {
        Claimed::Mine(lease) => Ok(lease),
        Claimed::Done(never) => match never {},
    }
}

/// Readies `model` for requests (see [`crate::model::registry::Providers::prepare`]): an
/// HTTP model the store knows nothing of yet is probed by one run at a time, so concurrent
/// runs probe it once and the others read what it found.
pub(super) async fn prepare(
    ctx: &RunContext,
    model: &ModelRef,
    question: Option<&[Message]>,
) -> Result<Readiness> {
    let _lease = match ctx.providers.recorded(model, &ctx.store)? {
        Some(_) => None,
        None => {
            let endpoint = ctx.providers.sampler(model)?.endpoint();
            Some(exclusive(&ctx.store, &format!("probe:{endpoint}:{model}")).await?)
        }
    };
    ctx.providers.prepare(model, &ctx.store, question).await
}
