//! `/v1/models` and `/v1/chat/completions`.

use super::error::{ApiError, parse_body};
use super::{App, lock, unix_now};
use crate::chat::{Message, Role};
use crate::model::{
    Completion, PromptTooLong, SampleRequest, SamplingParams, TokenLogprobs, UnaskablePrompt,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Completion length when a request gives neither `max_tokens` nor `max_completion_tokens`.
const DEFAULT_MAX_TOKENS: u32 = 512;
/// The most choices one request may ask for (as OpenAI).
const MAX_N: u32 = 128;
/// The most alternatives per token (as OpenAI).
const MAX_TOP_LOGPROBS: u32 = 20;
/// The most stop sequences per request (as OpenAI).
const MAX_STOP: usize = 4;
/// The response header (and top-level response field `unknown_words`) counting the words of
/// the prompt the model does not know.
const UNKNOWN_WORDS_HEADER: &str = "x-weirdgen-unknown-words";

fn model_object(id: String, created: i64) -> Value {
    json!({ "id": id, "object": "model", "created": created, "owned_by": "weirdgen" })
}

/// `GET /v1/models`.
pub(super) async fn list_models(State(app): State<Arc<App>>) -> Json<Value> {
    let data: Vec<Value> = lock(&app.models)
        .iter()
        .map(|s| model_object(s.model.to_string(), s.created))
        .collect();
    Json(json!({ "object": "list", "data": data }))
}

/// `GET /v1/models/{id}`.
pub(super) async fn get_model(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let model = app.model_or_404(&id)?;
    let models = lock(&app.models);
    let created = models
        .iter()
        .find(|s| s.model == model)
        .map_or(0, |s| s.created);
    Ok(Json(model_object(model.to_string(), created)))
}

#[derive(Deserialize)]
struct ChatRequest {
    model: String,
    messages: Vec<WireMessage>,
    n: Option<u32>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    seed: Option<i64>,
    logprobs: Option<bool>,
    top_logprobs: Option<u32>,
    stream: Option<bool>,
    stop: Option<Value>,
    /// Every other parameter, checked by [`check_unsupported`].
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
struct WireMessage {
    role: String,
    #[serde(default)]
    content: Value,
}

/// Refuses parameters the server cannot honour rather than ignoring them silently (their
/// neutral values are accepted).
fn check_unsupported(rest: &Map<String, Value>) -> Result<(), ApiError> {
    for (key, v) in rest {
        let honoured = match key.as_str() {
            "tools" | "functions" | "logit_bias" => {
                v.is_null()
                    || v.as_array().is_some_and(Vec::is_empty)
                    || v.as_object().is_some_and(Map::is_empty)
            }
            "presence_penalty" | "frequency_penalty" => v.is_null() || v.as_f64() == Some(0.0),
            "response_format" => {
                v.is_null() || v.get("type").and_then(Value::as_str) == Some("text")
            }
            _ => true,
        };
        if !honoured {
            return Err(ApiError::invalid(
                format!("`{key}` is not supported by weirdgen serve"),
                Some(key),
            )
            .with_code("unsupported_parameter"));
        }
    }
    Ok(())
}

/// The stop sequences of a request: a string or an array of at most [`MAX_STOP`] strings.
fn stop_sequences(stop: &Option<Value>) -> Result<Vec<String>, ApiError> {
    let bad = || {
        ApiError::invalid(
            format!("`stop` must be a string or an array of at most {MAX_STOP} strings"),
            Some("stop"),
        )
    };
    let seqs = match stop {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if items.len() <= MAX_STOP => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad()),
    };
    Ok(seqs.into_iter().filter(|s| !s.is_empty()).collect())
}

/// Cuts a completion before the first stop sequence in its text (which is not returned, as
/// with OpenAI), keeping the log-probabilities of the tokens wholly before the cut.
fn apply_stop(c: &mut Completion, stop: &[String]) {
    let Some(cut) = stop.iter().filter_map(|s| c.text.find(s.as_str())).min() else {
        return;
    };
    if let Some(tokens) = &mut c.logprobs {
        let mut at = 0;
        let kept = tokens
            .iter()
            .take_while(|t| match c.text[at..].find(t.token.as_str()) {
                Some(p) if at + p + t.token.len() <= cut => {
                    at += p + t.token.len();
                    true
                }
                _ => false,
            })
            .count();
        tokens.truncate(kept);
    }
    c.text.truncate(cut);
    c.finish_reason = Some("stop".into());
}

/// The text of a message's content: a string, or an array of `{"type": "text"}` parts.
fn content_text(content: &Value, i: usize) -> Result<String, ApiError> {
    let param = format!("messages[{i}].content");
    match content {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => parts
            .iter()
            .map(
                |p| match (p.get("type").and_then(Value::as_str), p.get("text")) {
                    (Some("text"), Some(Value::String(t))) => Ok(t.as_str()),
                    _ => Err(ApiError::invalid(
                        "only text content parts are supported by weirdgen serve",
                        Some(&param),
                    )),
                },
            )
            .collect::<Result<Vec<_>, _>>()
            .map(|t| t.join("\n")),
        _ => Err(ApiError::invalid(
            "a message's content must be a string or an array of text parts",
            Some(&param),
        )),
    }
}

fn to_messages(wire: &[WireMessage]) -> Result<Vec<Message>, ApiError> {
    if wire.is_empty() {
        return Err(ApiError::invalid(
            "`messages` must not be empty",
            Some("messages"),
        ));
    }
    wire.iter()
        .enumerate()
        .map(|(i, m)| {
            let role = match m.role.as_str() {
                "system" | "developer" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                other => {
                    return Err(ApiError::invalid(
                        format!(
                            "role `{other}` is not supported (system, developer, user, assistant)"
                        ),
                        Some(&format!("messages[{i}].role")),
                    ));
                }
            };
            Ok(Message::new(role, content_text(&m.content, i)?))
        })
        .collect()
}

/// The sampling parameters of a request, checked against OpenAI's ranges; the seed is the
/// request's or a fresh one.
fn to_params(req: &ChatRequest, app: &App) -> Result<(SamplingParams, u32), ApiError> {
    let bad = |msg: String, p: &str| Err(ApiError::invalid(msg, Some(p)));
    let n = req.n.unwrap_or(1);
    if !(1..=MAX_N).contains(&n) {
        return bad(format!("`n` must lie in 1..={MAX_N}, not {n}"), "n");
    }
    let temperature = req.temperature.unwrap_or(1.0);
    if !(0.0..=2.0).contains(&temperature) {
        return bad(
            format!("`temperature` must lie in [0, 2], not {temperature}"),
            "temperature",
        );
    }
    if let Some(p) = req.top_p
        && !(p > 0.0 && p <= 1.0)
    {
        return bad(format!("`top_p` must lie in (0, 1], not {p}"), "top_p");
    }
    let (max_tokens, max_param) = match (req.max_completion_tokens, req.max_tokens) {
        (Some(m), _) => (m, "max_completion_tokens"),
        (None, Some(m)) => (m, "max_tokens"),
        (None, None) => (DEFAULT_MAX_TOKENS, "max_tokens"),
    };
    if max_tokens == 0 {
        return bad(format!("`{max_param}` must be at least 1"), max_param);
    }
    let logprobs = req.logprobs.unwrap_or(false);
    let top_logprobs = match (logprobs, req.top_logprobs) {
        (false, Some(_)) => {
            return bad(
                "`top_logprobs` needs `logprobs: true`".into(),
                "top_logprobs",
            );
        }
        (true, Some(k)) if k > MAX_TOP_LOGPROBS => {
            return bad(
                format!("`top_logprobs` must lie in 0..={MAX_TOP_LOGPROBS}, not {k}"),
                "top_logprobs",
            );
        }
        (true, k) => Some(k.unwrap_or(0)),
        (false, None) => None,
    };
    let seed = match req.seed {
        Some(s) => s as u64,
        None => app.new_seed(1 << 63),
    };
    let params = SamplingParams {
        temperature,
        top_p: req.top_p,
        max_tokens,
        top_logprobs,
        seed: Some(seed),
    };
    Ok((params, n))
}

fn token_json(token: &str, logprob: f64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("token".into(), json!(token));
    m.insert("logprob".into(), json!(logprob));
    m.insert("bytes".into(), json!(token.as_bytes()));
    m
}

fn logprobs_json(tokens: &[TokenLogprobs], k: usize) -> Value {
    let content: Vec<Value> = tokens
        .iter()
        .map(|t| {
            let mut m = token_json(&t.token, t.logprob);
            let top: Vec<Value> = t
                .top
                .iter()
                .take(k)
                .map(|(tok, lp)| Value::Object(token_json(tok, *lp)))
                .collect();
            m.insert("top_logprobs".into(), Value::Array(top));
            Value::Object(m)
        })
        .collect();
    json!({ "content": content, "refusal": null })
}

fn choice_json(i: usize, c: &Completion, top_logprobs: Option<u32>) -> Value {
    let logprobs = match (top_logprobs, &c.logprobs) {
        (Some(k), Some(tokens)) => logprobs_json(tokens, k as usize),
        _ => Value::Null,
    };
    json!({
        "index": i,
        "message": { "role": "assistant", "content": c.text, "refusal": null },
        "logprobs": logprobs,
        "finish_reason": c.finish_reason.as_deref().unwrap_or("stop"),
    })
}

/// `POST /v1/chat/completions`.
pub(super) async fn completions(
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<(HeaderMap, Json<Value>), ApiError> {
    let req: ChatRequest = parse_body(&body)?;
    if req.stream == Some(true) {
        return Err(ApiError::invalid(
            "streaming is not supported by weirdgen serve",
            Some("stream"),
        )
        .with_code("unsupported_parameter"));
    }
    check_unsupported(&req.rest)?;
    let model = app.model_or_404(&req.model)?;
    let messages = to_messages(&req.messages)?;
    let (params, n) = to_params(&req, &app)?;
    let stop = stop_sequences(&req.stop)?;
    let mut completions = app
        .sampler
        .sample(SampleRequest {
            model: &model,
            messages: &messages,
            params: &params,
            indices: 0..n,
        })
        .await
        .map_err(|e| {
            if let Some(long) = e.downcast_ref::<PromptTooLong>() {
                ApiError::invalid(long.to_string(), Some("messages"))
                    .with_code("context_length_exceeded")
            } else if let Some(bad) = e.downcast_ref::<UnaskablePrompt>() {
                ApiError::invalid(bad.to_string(), Some("messages"))
            } else {
                ApiError::server(format!("the model failed: {e:#}"))
            }
        })?;
    if completions.len() != n as usize {
        return Err(ApiError::server(format!(
            "the model returned {} completions for n = {n}",
            completions.len()
        )));
    }
    for c in &mut completions {
        apply_stop(c, &stop);
    }
    let choices: Vec<Value> = completions
        .iter()
        .enumerate()
        .map(|(i, c)| choice_json(i, c, params.top_logprobs))
        .collect();
    let prompt_tokens = completions.first().map_or(0, |c| c.usage.input_tokens);
    let completion_tokens: u32 = completions.iter().map(|c| c.usage.output_tokens).sum();
    let unknown = app.sampler.unknown_words(&model, &messages);
    let mut body = json!({
        "id": app.new_id("chatcmpl"),
        "object": "chat.completion",
        "created": unix_now(),
        "model": model.to_string(),
        "system_fingerprint": concat!("weirdgen-", env!("CARGO_PKG_VERSION")),
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    });
    let mut headers = HeaderMap::new();
    let seed = params.seed.unwrap_or_default();
    headers.insert("x-weirdgen-seed", seed.into());
    if let Some(k) = unknown {
        body["unknown_words"] = json!(k);
        headers.insert(UNKNOWN_WORDS_HEADER, k.into());
    }
    Ok((headers, Json(body)))
}
