//! Delays: exponential backoff with jitter, the server's `Retry-After` and
//! `x-ratelimit-reset-*` headers, and the fine-tune polling schedule.

use crate::model::config::RetryPolicy;
use crate::rng::Rng;
use reqwest::header::HeaderMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Jitter only spreads clients apart, so its stream is seeded from the clock.
static JITTER: LazyLock<Mutex<Rng>> = LazyLock::new(|| {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    Mutex::new(Rng::new(
        nanos ^ u64::from(std::process::id()).rotate_left(32),
    ))
});

fn unit() -> f64 {
    JITTER.lock().unwrap_or_else(|e| e.into_inner()).next_f64()
}

/// The backoff before retry `attempt` (0 = the first retry): `initial · 2^attempt` capped at
/// `max`, of which a random half is waited ("equal jitter").
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .initial_ms
        .saturating_mul(1u64 << attempt.min(30))
        .min(policy.max_ms) as f64;
    Duration::from_secs_f64((exp / 2.0 + unit() * exp / 2.0) / 1000.0)
}

/// How long to wait before polling a fine-tuning job or batch again after `attempt`
/// polls: 5 s doubling to a cap of 2 min, ±25 % jitter.
pub fn poll_delay(attempt: u32) -> Duration {
    let base = (5.0 * 2f64.powi(attempt.min(10) as i32)).min(120.0);
    Duration::from_secs_f64(base * (0.75 + 0.5 * unit()))
}

/// The wait a server asks for: `retry-after-ms`, `Retry-After` (seconds or HTTP-date), else
/// the `x-ratelimit-reset-*` of the exhausted limit (or the longer one when none says it is
/// exhausted, as a 429 means one is).
pub(crate) fn server_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    if let Some(v) = get("retry-after") {
        if let Ok(secs) = v.parse::<f64>()
            && secs.is_finite()
            && secs >= 0.0
        {
            return Some(Duration::from_secs_f64(secs));
        }
        if let Ok(at) = httpdate::parse_http_date(v) {
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    exhausted_reset(headers, true)
}

/// After a success: the wait before the next request when a limit is used up
/// (`x-ratelimit-remaining-*: 0`).
pub(crate) fn exhausted_delay(headers: &HeaderMap) -> Option<Duration> {
    exhausted_reset(headers, false)
}

fn exhausted_reset(headers: &HeaderMap, any_if_none_exhausted: bool) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let mut exhausted = None;
    let mut longest = None;
    for kind in ["requests", "tokens"] {
        let Some(reset) = get(&format!("x-ratelimit-reset-{kind}")).and_then(parse_duration) else {
            continue;
        };
        longest = longest.max(Some(reset));
        if get(&format!("x-ratelimit-remaining-{kind}")).and_then(|v| v.parse::<f64>().ok())
            == Some(0.0)
        {
            exhausted = exhausted.max(Some(reset));
        }
    }
    if any_if_none_exhausted {
        exhausted.or(longest)
    } else {
        exhausted
    }
}

/// Parses `1s`, `6m0s`, `20ms`, `1h2m3.5s`, `150us` or a bare number of seconds.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let mut total = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn parses_go_style_durations() {
        let d = |s| parse_duration(s).map(|d| d.as_secs_f64());
        assert_eq!(d("1s"), Some(1.0));
        assert_eq!(d("6m0s"), Some(360.0));
        assert_eq!(d("20ms"), Some(0.02));
        assert_eq!(d("1h2m3.5s"), Some(3723.5));
        assert_eq!(d("2.5"), Some(2.5));
        assert_eq!(d(""), None);
        assert_eq!(d("soon"), None);
        assert_eq!(d("5x"), None);
    }

    #[test]
    fn retry_after_in_seconds_ms_and_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            server_delay(&headers(&[("retry-after", "3")]), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            server_delay(
                &headers(&[("retry-after-ms", "250"), ("retry-after", "3")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(
            server_delay(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(7))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(
            server_delay(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(server_delay(&headers(&[]), now), None);
    }

    #[test]
    fn ratelimit_reset_headers_pick_the_exhausted_limit() {
        let now = SystemTime::now();
        let h = headers(&[
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "2s"),
            ("x-ratelimit-remaining-tokens", "5000"),
            ("x-ratelimit-reset-tokens", "1m0s"),
        ]);
        assert_eq!(server_delay(&h, now), Some(Duration::from_secs(2)));
        assert_eq!(exhausted_delay(&h), Some(Duration::from_secs(2)));
        let h = headers(&[
            ("x-ratelimit-reset-requests", "2s"),
            ("x-ratelimit-reset-tokens", "500ms"),
        ]);
        assert_eq!(server_delay(&h, now), Some(Duration::from_secs(2)));
        assert_eq!(exhausted_delay(&h), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy {
            max_retries: 10,
            initial_ms: 100,
            max_ms: 1000,
            max_wait_seconds: 10.0,
        };
        for attempt in 0..12 {
            let exp = (100u64 << attempt.min(30)).min(1000) as f64 / 1000.0;
            let d = backoff(&p, attempt).as_secs_f64();
            assert!(d >= exp / 2.0 && d <= exp, "attempt {attempt}: {d}");
        }
        for attempt in 0..20 {
            let d = poll_delay(attempt).as_secs_f64();
            let base = (5.0 * 2f64.powi(attempt.min(10) as i32)).min(120.0);
            assert!(d >= base * 0.75 && d <= base * 1.25, "poll {attempt}: {d}");
        }
    }
}
