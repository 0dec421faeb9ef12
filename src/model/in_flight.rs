//! The run's one concurrency figure: requests in flight at once, over all its providers.

use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits for requests in flight. Its figure can be changed (a run sets its own); requests
/// already started keep the permits of the figure they started under.
#[derive(Debug)]
pub struct InFlight {
    current: Mutex<(usize, Arc<Semaphore>)>,
}

impl InFlight {
    /// At most `n` requests at once (at least one).
    pub fn new(n: usize) -> InFlight {
        let n = n.max(1);
        InFlight {
            current: Mutex::new((n, Arc::new(Semaphore::new(n)))),
        }
    }

    /// The figure.
    pub fn get(&self) -> usize {
        self.lock().0
    }

    /// Sets the figure to `n` (at least one) for requests from now on.
    pub fn set(&self, n: usize) {
        let n = n.max(1);
        let mut cur = self.lock();
        if cur.0 != n {
            *cur = (n, Arc::new(Semaphore::new(n)));
        }
    }

    /// Waits for a permit; the request is in flight while it is held.
    pub async fn acquire(&self) -> OwnedSemaphorePermit {
        let sem = self.lock().1.clone();
        sem.acquire_owned().await.expect("never closed")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, Arc<Semaphore>)> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn holds_requests_to_the_figure_and_follows_a_new_one() {
        let limit = InFlight::new(2);
        let a = limit.acquire().await;
        let _b = limit.acquire().await;
        let third = tokio::time::timeout(std::time::Duration::from_millis(20), limit.acquire());
        assert!(
            third.await.is_err(),
            "a third request got in at a limit of 2"
        );
        drop(a);
        let _c = limit.acquire().await;
        limit.set(3);
        assert_eq!(limit.get(), 3);
        let held: Vec<_> = futures_util::future::join_all((0..3).map(|_| limit.acquire())).await;
        assert_eq!(held.len(), 3);
        assert_eq!(InFlight::new(0).get(), 1);
    }
}
