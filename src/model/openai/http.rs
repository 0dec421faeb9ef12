//! One provider's HTTP client: concurrency and rate limits, retries with backoff, timeouts,
//! and messages that never carry a credential.

use super::limits::TokenBucket;
use super::retry::{backoff, exhausted_delay, server_delay};
use crate::model::config::{ProviderConfig, RetryPolicy};
use crate::model::in_flight::InFlight;
use crate::model::redact::{conceal, redact_url, scrub};
use anyhow::{Context, Result, anyhow, bail};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// The server answered with an error that retrying does not fix (a 4xx other than 429, an
/// exhausted quota, or a body that is not what the API promises).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The request, e.g. `POST http://127.0.0.1:8000/v1/chat/completions`.
    pub request: String,
    /// The HTTP status, or `None` for a malformed success body.
    pub status: Option<u16>,
    /// The provider's message (credentials masked).
    pub message: String,
    /// The parameter the provider names (OpenAI `error.param`).
    pub param: Option<String>,
    /// The provider's error code (OpenAI `error.code`).
    pub code: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "{}: HTTP {s}: {}", self.request, self.message)?,
            None => write!(f, "{}: malformed response: {}", self.request, self.message)?,
        }
        if let Some(p) = &self.param {
            write!(f, " (parameter `{p}`)")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A request that does not repeat safely (an upload, a job or batch creation) failed after
/// it may have reached the server: it may or may not have taken effect.
#[derive(Debug, Clone)]
pub struct Ambiguous {
    pub request: String,
    pub reason: String,
}

impl fmt::Display for Ambiguous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: failed after it may have reached the server ({}); not repeated blindly",
            self.request, self.reason
        )
    }
}

impl std::error::Error for Ambiguous {}

/// A request body; kept as bytes so that a retry can send it again.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Json(Vec<u8>),
    /// A multipart `/files` upload.
    File {
        purpose: String,
        file_name: String,
        bytes: Vec<u8>,
    },
}

/// One API call.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    /// Relative to the base URL, e.g. `chat/completions`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Body,
    /// Estimated tokens, for the tokens-per-minute limit.
    pub tokens: u64,
    /// Whether repeating the call after it reached the server is harmless.
    pub idempotent: bool,
}

impl Call {
    /// A GET of `path`.
    pub(crate) fn get(path: impl Into<String>) -> Call {
        Call {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
            tokens: 0,
            idempotent: true,
        }
    }

    /// A POST of a JSON body; `idempotent` says whether repeating it is harmless.
    pub(crate) fn post_json(
        path: impl Into<String>,
        body: &serde_json::Value,
        idempotent: bool,
    ) -> Call {
        Call {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            body: Body::Json(body.to_string().into_bytes()),
            tokens: 0,
            idempotent,
        }
    }

    /// Adds a query parameter.
    pub(crate) fn query(mut self, name: &str, value: impl Into<String>) -> Call {
        self.query.push((name.to_string(), value.into()));
        self
    }
}

/// Why an attempt failed.
enum Failure {
    /// Worth retrying; `sent` says the request may have reached the server.
    Transient {
        wait: Option<Duration>,
        sent: bool,
        reason: String,
    },
    Fatal(anyhow::Error),
}

/// How a success body decodes: a truncated body is retried, a malformed one is not.
pub(crate) enum Decoded<T> {
    Ok(T),
    Truncated(String),
    Malformed(String),
}

/// The HTTP client of one provider.
pub(crate) struct Http {
    client: reqwest::Client,
    base: Url,
    shown_base: String,
    key: Option<String>,
    key_header: Option<HeaderName>,
    secrets: Vec<String>,
    timeout: Duration,
    retry: RetryPolicy,
    /// The provider's own cap on requests in flight (`max_concurrency`), if set.
    permits: Option<Semaphore>,
    /// The run's figure of requests in flight, if the provider serves a run.
    in_flight: Option<Arc<InFlight>>,
    requests: Option<TokenBucket>,
    tokens: Option<TokenBucket>,
    paused_until: Mutex<Option<Instant>>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("base", &self.shown_base)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client for `base_url` with the limits of `cfg` and of `in_flight`; `key` is sent with
    /// every request.
    pub(crate) fn new(
        base_url: &str,
        cfg: &ProviderConfig,
        key: Option<String>,
        in_flight: Option<Arc<InFlight>>,
    ) -> Result<Http> {
        let parsed = Url::parse(base_url.trim()).map_err(|e| {
            anyhow!(
                "the base URL {} is not a URL: {e}",
                scrub(base_url, &[base_url])
            )
        })?;
        let mut secrets: Vec<String> = key.iter().cloned().collect();
        secrets.extend(parsed.password().map(str::to_string));
        if !parsed.username().is_empty() {
            secrets.push(parsed.username().to_string());
        }
        secrets.extend(
            parsed
                .query_pairs()
                .filter(|(k, _)| {
                    let k = k.to_ascii_lowercase();
                    ["key", "token", "secret", "sig", "auth", "pass"]
                        .iter()
                        .any(|w| k.contains(w))
                })
                .map(|(_, v)| v.into_owned()),
        );
        let shown_base = redact_url(&parsed);
        let mut base = parsed;
        if key.is_some() && cfg.api_key_header.is_none() {
            // The key is the one Authorization header: URL credentials would add a second.
            let _ = base.set_username("");
            let _ = base.set_password(None);
        }
        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .with_context(|| format!("bad header name `{k}`"))?;
            let value =
                HeaderValue::from_str(v).with_context(|| format!("bad value of header `{k}`"))?;
            headers.insert(name, value);
        }
        let key_header = match &cfg.api_key_header {
            Some(h) => Some(
                HeaderName::from_bytes(h.as_bytes())
                    .with_context(|| format!("bad api_key_header `{h}`"))?,
            ),
            None => None,
        };
        let timeout = Duration::from_secs_f64(cfg.timeout_seconds);
        let client = super::client_builder()
            .default_headers(headers)
            .user_agent(concat!("weirdgen/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .tcp_nodelay(true)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Http {
            client,
            base,
            shown_base,
            key,
            key_header,
            secrets,
            timeout,
            retry: cfg.retry,
            permits: cfg.max_concurrency.map(|n| Semaphore::new(n.max(1))),
            in_flight,
            requests: cfg
                .requests_per_minute
                .map(|r| TokenBucket::per_minute(f64::from(r))),
            tokens: cfg
                .tokens_per_minute
                .map(|t| TokenBucket::per_minute(t as f64)),
            paused_until: Mutex::new(None),
        })
    }

    /// The base URL without credentials.
    pub(crate) fn shown_base(&self) -> &str {
        &self.shown_base
    }

    /// `text` with the provider's credentials and anything key-like masked.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        scrub(text, &secrets)
    }

    fn url(&self, call: &Call) -> Url {
        let mut url = self.base.clone();
        let path = format!(
            "{}/{}",
            self.base.path().trim_end_matches('/'),
            call.path.trim_start_matches('/')
        );
        url.set_path(&path);
        if !call.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &call.query {
                q.append_pair(k, v);
            }
        }
        url
    }

    /// `METHOD url` for messages: base without credentials, the call's own path.
    pub(crate) fn describe(&self, call: &Call) -> String {
        format!(
            "{} {}/{}",
            call.method,
            self.shown_base
                .split('?')
                .next()
                .unwrap_or_default()
                .trim_end_matches('/'),
            call.path.trim_start_matches('/')
        )
    }

    /// Sends `call` and decodes its JSON body as `T`.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T> {
        self.send(call, |bytes| decode_json(bytes)).await
    }

    /// Sends `call` and returns its body as text.
    pub(crate) async fn text(&self, call: &Call) -> Result<String> {
        self.send(call, |bytes| match std::str::from_utf8(bytes) {
            Ok(s) => Decoded::Ok(s.to_string()),
            Err(e) => Decoded::Malformed(format!("the body is not UTF-8: {e}")),
        })
        .await
    }

    /// Sends `call` until it succeeds or fails for good, retrying transient failures (all of
    /// them for idempotent calls; only those that surely did not reach the server otherwise).
    async fn send<T>(&self, call: &Call, decode: impl Fn(&[u8]) -> Decoded<T>) -> Result<T> {
        let request = self.describe(call);
        let mut retries = 0u32;
        loop {
            self.wait_while_paused().await;
            let outcome = {
                let _own = match &self.permits {
                    Some(p) => Some(p.acquire().await.expect("never closed")),
                    None => None,
                };
                let _run = match &self.in_flight {
                    Some(l) => Some(l.acquire().await),
                    None => None,
                };
                if let Some(b) = &self.requests {
                    b.acquire(1.0).await;
                }
                if let Some(b) = &self.tokens {
                    b.acquire(call.tokens as f64).await;
                }
                self.attempt(call).await
            };
            let failure = match outcome {
                Ok((status, headers, bytes)) => {
                    // A server that echoes the key (in an answer, a model name, an id) must
                    // not put it anywhere: it goes before anything reads the body.
                    let bytes = conceal(bytes, &self.secrets);
                    match self.classify(&request, status, &headers, &bytes) {
                        None => {
                            if let Some(d) = exhausted_delay(&headers) {
                                self.pause_for(d);
                            }
                            match decode(&bytes) {
                                Decoded::Ok(v) => return Ok(v),
                                Decoded::Truncated(reason) => Failure::Transient {
                                    wait: None,
                                    sent: true,
                                    reason: format!("truncated body: {reason}"),
                                },
                                Decoded::Malformed(reason) => Failure::Fatal(
                                    ApiError {
                                        request: request.clone(),
                                        status: None,
                                        message: self.scrub(&reason),
                                        param: None,
                                        code: None,
                                    }
                                    .into(),
                                ),
                            }
                        }
                        Some(f) => f,
                    }
                }
                Err(e) if e.is_builder() => Failure::Fatal(anyhow!(
                    "{request}: cannot build the request: {}",
                    self.describe_error(&e)
                )),
                Err(e) => Failure::Transient {
                    wait: None,
                    sent: !e.is_connect(),
                    reason: self.describe_error(&e),
                },
            };
            match failure {
                Failure::Fatal(e) => return Err(e),
                Failure::Transient {
                    sent: true, reason, ..
                } if !call.idempotent => {
                    return Err(Ambiguous { request, reason }.into());
                }
                Failure::Transient { wait, reason, .. } => {
                    if retries >= self.retry.max_retries {
                        bail!(
                            "{request}: gave up after {} attempts; last failure: {reason}",
                            retries + 1
                        );
                    }
                    match wait {
                        Some(w) if w.as_secs_f64() > self.retry.max_wait_seconds => bail!(
                            "{request}: the server asks to wait {:.0} s ({reason}), longer than max_retry_wait_seconds = {}",
                            w.as_secs_f64(),
                            self.retry.max_wait_seconds
                        ),
                        Some(w) => self.pause_for(w),
                        None => tokio::time::sleep(backoff(&self.retry, retries)).await,
                    }
                    retries += 1;
                }
            }
        }
    }

    /// One attempt: the status, headers and whole body.
    async fn attempt(
        &self,
        call: &Call,
    ) -> std::result::Result<(StatusCode, HeaderMap, Vec<u8>), reqwest::Error> {
        let mut rb = self
            .client
            .request(call.method.clone(), self.url(call))
            .timeout(self.timeout);
        if let Some(key) = &self.key {
            let (name, value) = match &self.key_header {
                Some(h) => (h.clone(), key.clone()),
                None => (AUTHORIZATION, format!("Bearer {key}")),
            };
            // A key with characters a header cannot hold is sent as nothing rather than
            // shown in an error.
            if let Ok(mut v) = HeaderValue::from_str(&value) {
                v.set_sensitive(true);
                rb = rb.header(name, v);
            }
        }
        rb = match &call.body {
            Body::Empty => rb,
            Body::Json(bytes) => rb
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Body::File {
                purpose,
                file_name,
                bytes,
            } => {
                let part = reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name(file_name.clone())
                    .mime_str("application/jsonl")?;
                let form = reqwest::multipart::Form::new()
                    .text("purpose", purpose.clone())
                    .part("file", part);
                rb.multipart(form)
            }
        };
        let resp = rb.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await?;
        Ok((status, headers, bytes.to_vec()))
    }

    /// `None` for a success status, else how the failure is handled.
    fn classify(
        &self,
        request: &str,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Option<Failure> {
        if status.is_success() {
            return None;
        }
        // Key-like tokens are masked in the whole body, before it is cut to an excerpt.
        let body = self.scrub(&String::from_utf8_lossy(body));
        let (message, param, code) = error_details(body.as_bytes());
        let message = self.scrub(&message);
        let code = code.map(|c| self.scrub(&c));
        let transient = |wait, sent| Failure::Transient {
            wait,
            sent,
            reason: format!("HTTP {}: {message}", status.as_u16()),
        };
        Some(match status.as_u16() {
            429 if code.as_deref() != Some("insufficient_quota") => {
                transient(server_delay(headers, SystemTime::now()), false)
            }
            408 | 425 | 500..=599 => transient(retry_after_only(headers), true),
            s => Failure::Fatal(
                ApiError {
                    request: request.to_string(),
                    status: Some(s),
                    message,
                    param: param.map(|p| self.scrub(&p)),
                    code,
                }
                .into(),
            ),
        })
    }

    /// A reqwest error without its URL, with its causes, credentials masked.
    fn describe_error(&self, e: &reqwest::Error) -> String {
        let kind = if e.is_timeout() {
            format!("timed out after {:.1} s", self.timeout.as_secs_f64())
        } else if e.is_connect() {
            "cannot connect".to_string()
        } else {
            "connection failed".to_string()
        };
        let mut parts = vec![kind];
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            parts.push(s.to_string());
            source = s.source();
        }
        self.scrub(&parts.join(": "))
    }

    /// Holds every request of this provider back for `d` (a rate limit answer).
    fn pause_for(&self, d: Duration) {
        let until = Instant::now() + d;
        let mut p = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if p.is_none_or(|t| t < until) {
            *p = Some(until);
        }
    }

    async fn wait_while_paused(&self) {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }
}

/// A `Retry-After` on a 5xx/408 answer (rate-limit reset headers concern only 429s).
fn retry_after_only(headers: &HeaderMap) -> Option<Duration> {
    let mut h = HeaderMap::new();
    for name in ["retry-after", "retry-after-ms"] {
        if let Some(v) = headers.get(name) {
            h.insert(HeaderName::from_static(name), v.clone());
        }
    }
    server_delay(&h, SystemTime::now())
}

/// Decodes a JSON body; a body cut short is `Truncated`, any other mismatch `Malformed`.
pub(crate) fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Decoded<T> {
    match serde_json::from_slice::<T>(bytes) {
        Ok(v) => Decoded::Ok(v),
        Err(e) if e.is_eof() => Decoded::Truncated(e.to_string()),
        Err(e) => Decoded::Malformed(format!("{e}; body starts `{}`", excerpt(bytes, 120))),
    }
}

fn excerpt(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(bytes);
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// The message, parameter and code of an error body, however the server shapes it
/// (`{"error":{"message",...}}`, `{"error":"..."}`, `{"message"}`, `{"detail"}`, or text).
fn error_details(body: &[u8]) -> (String, Option<String>, Option<String>) {
    let text_of = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    };
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let err = v.get("error").unwrap_or(&v);
        let message = err
            .get("message")
            .or_else(|| err.get("detail"))
            .and_then(text_of)
            .or_else(|| err.as_str().map(str::to_string));
        if let Some(message) = message {
            let param = err.get("param").and_then(text_of);
            let code = err.get("code").and_then(text_of);
            return (message, param, code);
        }
    }
    let text = excerpt(body, 300);
    let text = if text.trim().is_empty() {
        "(empty body)".to_string()
    } else {
        text
    };
    (text, None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_details_read_every_common_shape() {
        let d = |s: &str| error_details(s.as_bytes());
        assert_eq!(
            d(r#"{"error":{"message":"bad n","param":"n","code":"invalid"}}"#),
            ("bad n".into(), Some("n".into()), Some("invalid".into()))
        );
        assert_eq!(d(r#"{"error":"nope"}"#).0, "nope");
        assert_eq!(
            d(r#"{"object":"error","message":"vllm says"}"#).0,
            "vllm says"
        );
        assert_eq!(d(r#"{"detail":"not found"}"#).0, "not found");
        assert_eq!(d("plain text").0, "plain text");
        assert_eq!(d("").0, "(empty body)");
    }

    #[test]
    fn truncated_and_malformed_bodies_differ() {
        assert!(matches!(
            decode_json::<serde_json::Value>(br#"{"choices":[{"#),
            Decoded::Truncated(_)
        ));
        assert!(matches!(
            decode_json::<serde_json::Value>(b"<html>oops</html>"),
            Decoded::Malformed(_)
        ));
    }

    #[test]
    fn urls_keep_the_base_query_and_path() {
        let cfg = ProviderConfig::new("http://u:pw@h:1/openai/v1/?api-version=2024&sig=s1gnature");
        let http = Http::new(
            cfg.base_url.as_deref().unwrap(),
            &cfg,
            Some("k3y-secret".into()),
            None,
        )
        .unwrap();
        let call = Call::get("fine_tuning/jobs").query("limit", "5");
        assert_eq!(
            http.url(&call).as_str(),
            "http://h:1/openai/v1/fine_tuning/jobs?api-version=2024&sig=s1gnature&limit=5"
        );
        assert_eq!(
            http.describe(&call),
            "GET http://h:1/openai/v1/fine_tuning/jobs"
        );
        assert!(!format!("{http:?}").contains("k3y"));
        assert_eq!(
            http.scrub("key k3y-secret, sig s1gnature, version 2024"),
            "key ***, sig ***, version 2024"
        );
    }

    #[test]
    fn a_key_straddling_the_excerpt_cut_is_masked_whole() {
        let cfg = ProviderConfig::new("http://h:1/v1");
        let key = "k3y0123456789abcdefghij0123456789";
        let http = Http::new("http://h:1/v1", &cfg, Some(key.into()), None).unwrap();
        let body = format!("{}{key} trailing text", "x".repeat(290));
        let Some(Failure::Fatal(e)) = http.classify(
            "GET x",
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            body.as_bytes(),
        ) else {
            panic!("a 400 is fatal")
        };
        let e = e.to_string();
        assert!(!e.contains("k3y0123"), "{e}");
        assert!(e.contains("xxx***"), "{e}");
    }
}
