//! Keeping credentials out of messages: URLs lose their userinfo and query values, known
//! secrets and key-like tokens (`sk-...`, `Bearer ...`) are masked.

use regex::Regex;
use std::sync::LazyLock;

static KEY_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(sk|gsk|hf|xai|pplx|r8|ghp)([-_])[A-Za-z0-9_\-*.]{3,}").expect("key pattern")
});
static AUTH_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-*]+").expect("auth pattern")
});
static URL_CREDENTIALS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(\b[a-z][a-z0-9+.\-]*://)[^/\s@]+@").expect("userinfo"));

/// A URL fit for messages: no `user:password@`, every query value replaced by `***`.
pub(crate) fn redact_url(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if u.query().is_some() {
        let names: Vec<String> = u.query_pairs().map(|(k, _)| k.into_owned()).collect();
        u.set_query(None);
        if !names.is_empty() {
            let mut q = u.query_pairs_mut();
            for n in names {
                q.append_pair(&n, "***");
            }
        }
    }
    u.to_string()
}

/// `text` with every occurrence of `secrets` (non-empty ones) masked, and any token that
/// looks like an API key, an auth header value or URL credentials masked too.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.len() >= 4 && out.contains(s) {
            out = out.replace(s, "***");
        }
    }
    let out = KEY_LIKE.replace_all(&out, "$1$2***");
    let out = AUTH_LIKE.replace_all(&out, "$1 ***");
    URL_CREDENTIALS.replace_all(&out, "$1***@").into_owned()
}

/// `bytes` with every occurrence of `secrets` (those of 4 bytes or more) replaced by `***`.
/// For everything a server sends back, before it is decoded, stored, shown or cut short:
/// unlike [`scrub`] it masks only the secrets themselves, so answers keep their words.
pub(crate) fn conceal(bytes: Vec<u8>, secrets: &[String]) -> Vec<u8> {
    let mut out = bytes;
    for s in secrets
        .iter()
        .map(String::as_bytes)
        .filter(|s| s.len() >= 4)
    {
        if !out.windows(s.len()).any(|w| w == s) {
            continue;
        }
        let mut masked = Vec::with_capacity(out.len());
        let mut i = 0;
        while i < out.len() {
            if out[i..].starts_with(s) {
                masked.extend_from_slice(b"***");
                i += s.len();
            } else {
                masked.push(out[i]);
                i += 1;
            }
        }
        out = masked;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conceal_masks_only_the_secrets() {
        let secrets = ["sk-proj-abcdef".to_string(), "k".to_string()];
        let body =
            br#"{"text":"sk-learn is fine; key sk-proj-abcdef and sk-proj-abcdefsk-proj-abcdef"}"#;
        assert_eq!(
            String::from_utf8(conceal(body.to_vec(), &secrets)).unwrap(),
            r#"{"text":"sk-learn is fine; key *** and ******"}"#
        );
        assert_eq!(conceal(b"plain".to_vec(), &secrets), b"plain");
    }

    #[test]
    fn urls_lose_credentials_and_query_values() {
        let u =
            reqwest::Url::parse("https://me:sk-secret@host.example/v1?api-key=abc&x=1").unwrap();
        let r = redact_url(&u);
        assert_eq!(r, "https://host.example/v1?api-key=***&x=***");
    }

    #[test]
    fn scrub_masks_known_and_key_like_tokens() {
        let t = "Incorrect API key provided: sk-canar************cdef. Authorization: Bearer abc.def \
                 at http://u:p@h/x, also my-secret-value and sk_live_12345";
        let s = scrub(t, &["my-secret-value"]);
        assert!(
            !s.contains("canar") && !s.contains("abc.def") && !s.contains("u:p@"),
            "{s}"
        );
        assert!(
            !s.contains("my-secret-value") && !s.contains("live_12345"),
            "{s}"
        );
        assert!(s.contains("Incorrect API key provided: sk-***"), "{s}");
        // Ordinary words survive.
        assert_eq!(
            scrub("the sky is blue; task-force", &[]),
            "the sky is blue; task-force"
        );
    }
}
