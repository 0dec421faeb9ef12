//! Creating things at most once on a server that has no idempotency keys.
//!
//! Uploads, fine-tuning jobs and batches are not repeated blindly: a failure after the
//! request may have reached the server (a timeout, a dropped connection, a 5xx, a truncated
//! answer) is [`Ambiguous`]. Each job and batch carries `metadata.weirdgen_key`, a hash of
//! its inputs, and each upload a file name holding its content hash. Before creating
//! anything — first, and again after an ambiguous failure — the provider looks for it
//! (`GET /fine_tuning/jobs?metadata[weirdgen_key]=…`, `GET /batches`, `GET /files`) and
//! reuses what it finds. A rerun of a suite, or a run resumed after a kill, thus never starts
//! a second job for the same inputs on servers that keep metadata; on servers that do not,
//! the runner's own record of the job id is the only guard.

use super::http::{Ambiguous, ApiError, Call, Http};
use super::retry::backoff;
use super::wire::List;
use crate::model::config::RetryPolicy;
use anyhow::Result;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The metadata key holding the hash of a job's or batch's inputs.
pub const KEY_METADATA: &str = "weirdgen_key";

/// At most this many list pages are read when looking for something.
const MAX_PAGES: usize = 20;

/// Attempts at creating one thing after ambiguous failures (each followed by a lookup).
const CREATE_ATTEMPTS: u32 = 3;

/// Whether an error is a 404/405/501: the server lacks the endpoint.
pub(crate) fn is_missing_endpoint(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ApiError>()
        .is_some_and(|a| matches!(a.status, Some(404 | 405 | 501)))
}

/// A listed object that may be the one looked for.
pub(crate) trait Listed: DeserializeOwned {
    fn id(&self) -> &str;
    fn metadata(&self) -> Option<&Map<String, Value>>;
    /// False for failed, cancelled or expired objects, which are not reused.
    fn usable(&self) -> bool;
}

/// The first usable object of the list at `call` (paged with `after`) whose
/// `metadata.weirdgen_key` is `key`. A server without the list endpoint has none.
pub(crate) async fn find_keyed<T: Listed>(
    http: &Http,
    call: Call,
    key: &str,
) -> Result<Option<String>> {
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut page_call = call.clone();
        if let Some(a) = &after {
            page_call = page_call.query("after", a.clone());
        }
        let page = match http.json::<List<T>>(&page_call).await {
            Ok(p) => p,
            Err(e) if is_missing_endpoint(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let keyed = |t: &T| {
            t.metadata()
                .and_then(|m| m.get(KEY_METADATA))
                .and_then(Value::as_str)
                == Some(key)
        };
        if let Some(t) = page.data.iter().find(|t| keyed(t) && t.usable()) {
            return Ok(Some(t.id().to_string()));
        }
        match (page.has_more, page.data.last()) {
            (Some(true), Some(last)) => after = Some(last.id().to_string()),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// Sends the non-idempotent `call`; after an ambiguous failure, `find` looks for what it
/// may have created before trying again.
pub(crate) async fn create_once<T, F, Fut>(
    http: &Http,
    retry: &RetryPolicy,
    call: &Call,
    id_of: impl Fn(T) -> String,
    find: F,
) -> Result<String>
where
    T: DeserializeOwned,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<String>>>,
{
    let mut attempt = 0;
    loop {
        let err = match http.json::<T>(call).await {
            Ok(v) => return Ok(id_of(v)),
            Err(e) => e,
        };
        if err.downcast_ref::<Ambiguous>().is_none() {
            return Err(err);
        }
        tokio::time::sleep(backoff(retry, attempt)).await;
        if let Some(id) = find().await? {
            return Ok(id);
        }
        attempt += 1;
        if attempt >= CREATE_ATTEMPTS {
            return Err(err.context(format!(
                "gave up after {CREATE_ATTEMPTS} attempts, none of which is visible on the server"
            )));
        }
    }
}
