//! Client-side limits: a token bucket for requests and tokens per minute.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket holding up to one minute's allowance, refilled continuously.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    capacity: f64,
    per_second: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A full bucket allowing `per_minute` units per minute.
    pub(crate) fn per_minute(per_minute: f64) -> Self {
        let capacity = per_minute.max(1.0);
        TokenBucket {
            capacity,
            per_second: capacity / 60.0,
            state: Mutex::new((capacity, Instant::now())),
        }
    }

    /// Takes `n` units at `now` if they are there; otherwise the wait until they will be.
    /// A request larger than the whole bucket waits for a full bucket.
    fn try_take(&self, n: f64, now: Instant) -> Option<Duration> {
        let n = n.min(self.capacity);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (avail, last) = *st;
        let avail = (avail + now.saturating_duration_since(last).as_secs_f64() * self.per_second)
            .min(self.capacity);
        if avail >= n {
            *st = (avail - n, now);
            None
        } else {
            *st = (avail, now);
            Some(Duration::from_secs_f64((n - avail) / self.per_second))
        }
    }

    /// Waits until `n` units are available and takes them.
    pub(crate) async fn acquire(&self, n: f64) {
        while let Some(wait) = self.try_take(n, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_minute_then_refills_at_the_rate() {
        let b = TokenBucket::per_minute(60.0);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert_eq!(b.try_take(1.0, t0), None);
        }
        let wait = b.try_take(1.0, t0).unwrap();
        assert!((wait.as_secs_f64() - 1.0).abs() < 1e-9, "{wait:?}");
        // Half a second later half a unit is there: still half a second to go.
        let wait = b.try_take(1.0, t0 + Duration::from_millis(500)).unwrap();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        assert_eq!(b.try_take(1.0, t0 + Duration::from_secs(1)), None);
        // A request bigger than the bucket waits for a full bucket, not forever.
        let wait = b.try_take(1000.0, t0 + Duration::from_secs(1)).unwrap();
        assert!((wait.as_secs_f64() - 60.0).abs() < 1e-6, "{wait:?}");
    }
}
