//! Sampling through `/chat/completions`: request bodies, answers, and the capability probe
//! that finds what a server really honours (n > 1, logprobs, seed, the max-tokens field).

use super::http::{ApiError, Call, Http};
use super::wire::{ChatResponse, error_text};
use crate::chat::Message;
use crate::model::{Completion, SamplingParams, TokenLogprobs, Usage};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The most choices asked for in one request (the OpenAI API's limit).
pub const MAX_N: u32 = 128;

/// The seed the probe sends (any fixed value).
const PROBE_SEED: u64 = 20_250_414;

/// What a server does with `n > 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NSupport {
    /// Returns n choices.
    Honoured,
    /// Returns one choice: samples are requested one by one.
    Ignored,
    /// Answers 400: samples are requested one by one.
    Refused,
}

/// What a server does with `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedSupport {
    /// Two requests with the same seed gave the same text.
    Reproducible,
    /// Accepted, but two requests with the same seed differed.
    NotReproducible,
    /// Answers 400: no seed is sent.
    Refused,
}

/// The request field that bounds the completion's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensField {
    MaxTokens,
    /// o-series / gpt-5 style models refuse `max_tokens`.
    MaxCompletionTokens,
}

/// What one endpoint and model honour, as found by the capability probe
/// ([`OpenAiProvider::capabilities`](super::OpenAiProvider::capabilities)). Recorded in the
/// store as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    pub n: NSupport,
    /// Whether `logprobs: true` returns per-token log-probabilities.
    pub logprobs: bool,
    /// How many alternatives came back when two were asked (0 without logprobs).
    pub top_logprobs: u32,
    pub seed: SeedSupport,
    pub max_tokens_field: MaxTokensField,
}

impl Capabilities {
    /// Everything an OpenAI-compatible server may honour (for servers known to be complete).
    pub fn full() -> Self {
        Capabilities {
            n: NSupport::Honoured,
            logprobs: true,
            top_logprobs: 20,
            seed: SeedSupport::Reproducible,
            max_tokens_field: MaxTokensField::MaxTokens,
        }
    }

    /// The capabilities as stored (`Store::put_capabilities`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("plain data serialises")
    }

    /// Capabilities read back from the store.
    pub fn from_json(v: &Value) -> Result<Self> {
        serde_json::from_value(v.clone()).context("stored capabilities do not parse")
    }
}

/// The field a model is likely to want before any probe: reasoning models refuse `max_tokens`.
fn guess_max_tokens_field(model: &str) -> MaxTokensField {
    let m = model.strip_prefix("ft:").unwrap_or(model);
    let reasoning = ["o1", "o3", "o4", "gpt-5"].iter().any(|p| m.starts_with(p));
    if reasoning {
        MaxTokensField::MaxCompletionTokens
    } else {
        MaxTokensField::MaxTokens
    }
}

/// The base seed of a request whose parameters give none: a hash of what is asked (model,
/// conversation and parameters: the sample's cache key without the endpoint), so that a
/// rerun asks the server for the same draws, as far as the server honours seeds.
pub fn derived_seed(model: &str, messages: &[Message], params: &SamplingParams) -> u64 {
    let asked = json!({"model": model, "messages": messages, "params": params});
    let hash = blake3::hash(asked.to_string().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(first) & (i64::MAX as u64)
}

/// The seed of the request whose first sample is `start`: `params.seed` or
/// [`derived_seed`], plus `start`.
pub(crate) fn request_seed(
    model: &str,
    messages: &[Message],
    params: &SamplingParams,
    start: u32,
) -> u64 {
    let base = params
        .seed
        .unwrap_or_else(|| derived_seed(model, messages, params));
    seed_at(base, start)
}

/// Seeds stay within a signed 64-bit integer, which every server parses.
pub(crate) fn seed_at(base: u64, index: u32) -> u64 {
    base.wrapping_add(u64::from(index)) & (i64::MAX as u64)
}

/// The `/chat/completions` body for `n` choices.
pub(crate) fn chat_body(
    model: &str,
    messages: &[Message],
    params: &SamplingParams,
    caps: &Capabilities,
    n: u32,
    seed: Option<u64>,
) -> Value {
    let mut b = json!({
        "model": model,
        "messages": messages,
        "temperature": params.temperature,
    });
    let field = match caps.max_tokens_field {
        MaxTokensField::MaxTokens => "max_tokens",
        MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
    };
    b[field] = json!(params.max_tokens);
    if n > 1 {
        b["n"] = json!(n);
    }
    if let Some(p) = params.top_p {
        b["top_p"] = json!(p);
    }
    if let Some(s) = seed
        && caps.seed != SeedSupport::Refused
    {
        b["seed"] = json!(s);
    }
    if let Some(k) = params.top_logprobs
        && caps.logprobs
    {
        b["logprobs"] = json!(true);
        if k > 0 {
            b["top_logprobs"] = json!(k.min(20));
        }
    }
    b
}

/// A `chat/completions` call for `body`, with its token estimate for rate limits.
pub(crate) fn chat_call(body: &Value, messages: &[Message], max_tokens: u32, n: u32) -> Call {
    let prompt: usize = messages.iter().map(|m| m.content.len() / 4 + 4).sum();
    let mut call = Call::post_json("chat/completions", body, true);
    call.tokens = prompt as u64 + u64::from(max_tokens) * u64::from(n);
    call
}

/// The `n` completions of an answer, in choice order, usage split evenly (remainder on the
/// first). Anything short of `n` well-formed choices is an error, never an empty sample.
pub(crate) fn completions(
    resp: ChatResponse,
    n: u32,
    want_logprobs: bool,
) -> std::result::Result<Vec<Completion>, String> {
    let Some(mut choices) = resp.choices else {
        return Err(match resp.error {
            Some(e) => format!("error instead of choices: {}", error_text(&e)),
            None => "the answer has no `choices`".to_string(),
        });
    };
    if choices.len() != n as usize {
        return Err(format!("asked for {n} choices, got {}", choices.len()));
    }
    let mut seen = vec![false; choices.len()];
    for (pos, c) in choices.iter_mut().enumerate() {
        let i = c.index.unwrap_or(pos as u32) as usize;
        if i >= seen.len() || seen[i] {
            return Err(format!("choice index {i} is out of range or repeated"));
        }
        seen[i] = true;
        c.index = Some(i as u32);
    }
    choices.sort_by_key(|c| c.index);
    let usage = resp.usage;
    let split = |total: Option<u32>, i: u32| {
        let t = total.unwrap_or(0);
        t / n + if i == 0 { t % n } else { 0 }
    };
    choices
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let msg = c
                .message
                .ok_or_else(|| format!("choice {i} has no `message`"))?;
            let text = msg.content.or(msg.refusal).unwrap_or_default();
            let logprobs = if want_logprobs {
                c.logprobs.and_then(|l| l.content).map(|tokens| {
                    tokens
                        .into_iter()
                        .map(|t| TokenLogprobs {
                            token: t.token.unwrap_or_default(),
                            // OpenAI's own floor for "impossible"; JSON has no -inf.
                            logprob: t.logprob.unwrap_or(-9999.0),
                            top: t
                                .top_logprobs
                                .unwrap_or_default()
                                .into_iter()
                                .filter_map(|a| Some((a.token?, a.logprob?)))
                                .collect(),
                        })
                        .collect()
                })
            } else {
                None
            };
            let i = i as u32;
            Ok(Completion {
                text,
                logprobs,
                usage: Usage {
                    input_tokens: split(usage.and_then(|u| u.prompt_tokens), i),
                    output_tokens: split(usage.and_then(|u| u.completion_tokens), i),
                },
                finish_reason: c.finish_reason,
            })
        })
        .collect()
}

/// Sends one chat call and reads `n` completions, and the number of prompt words the
/// model did not know where the server says (`weirdgen serve`).
pub(crate) async fn chat(
    http: &Http,
    call: &Call,
    n: u32,
    want_logprobs: bool,
) -> Result<(Vec<Completion>, Option<u32>)> {
    let resp: ChatResponse = http.json(call).await?;
    let unknown = resp.unknown_words;
    let comps = completions(resp, n, want_logprobs).map_err(|message| ApiError {
        request: http.describe(call),
        status: None,
        message: http.scrub(&message),
        param: None,
        code: None,
    })?;
    Ok((comps, unknown))
}

/// Which request field a 400 answer objects to.
fn objection(e: &ApiError) -> Option<&'static str> {
    let param = e.param.as_deref().unwrap_or_default().to_ascii_lowercase();
    let msg = e.message.to_ascii_lowercase();
    for field in [
        "max_completion_tokens",
        "max_tokens",
        "top_logprobs",
        "logprobs",
        "seed",
        "n",
    ] {
        if param == field {
            return Some(field);
        }
    }
    if msg.contains("max_tokens") || msg.contains("max_completion_tokens") {
        Some("max_tokens")
    } else if msg.contains("logprobs") {
        Some("logprobs")
    } else if msg.contains("seed") {
        Some("seed")
    } else if msg.contains("choice")
        || ["'n'", "`n`", "\"n\"", " n must", "n > 1", "n>1"]
            .iter()
            .any(|p| msg.contains(p))
    {
        Some("n")
    } else {
        None
    }
}

/// Finds what `model` at this endpoint honours: one request with n = 2, logprobs and a seed
/// (adjusted while the server refuses a field), then two same-seed requests to see whether the
/// seed reproduces. Costs three short completions. They ask `question` when given (a
/// conversation the model is about to be asked: a model that reads only its own vocabulary,
/// such as the toy behind `weirdgen serve`, can answer it), else short English requests.
pub(crate) async fn probe(
    http: &Http,
    model: &str,
    question: Option<&[Message]>,
) -> Result<Capabilities> {
    let mut caps = Capabilities {
        max_tokens_field: guess_max_tokens_field(model),
        ..Capabilities::full()
    };
    let default = [Message::user("Reply with one word.")];
    let messages = question.unwrap_or(&default);
    let params = SamplingParams {
        temperature: 1.0,
        top_p: None,
        max_tokens: 8,
        top_logprobs: Some(2),
        seed: Some(PROBE_SEED),
    };
    let mut refused = 0;
    let resp = loop {
        let n = if caps.n == NSupport::Honoured { 2 } else { 1 };
        let body = chat_body(model, messages, &params, &caps, n, params.seed);
        let call = chat_call(&body, messages, params.max_tokens, n);
        let err = match http.json::<ChatResponse>(&call).await {
            Ok(r) => break r,
            Err(e) => e,
        };
        let field = err
            .downcast_ref::<ApiError>()
            .filter(|a| matches!(a.status, Some(400 | 422)))
            .and_then(objection);
        match field {
            Some(_) if refused >= 4 => return Err(err.context("capability probe")),
            Some("max_tokens" | "max_completion_tokens") => {
                caps.max_tokens_field = match caps.max_tokens_field {
                    MaxTokensField::MaxTokens => MaxTokensField::MaxCompletionTokens,
                    MaxTokensField::MaxCompletionTokens => MaxTokensField::MaxTokens,
                }
            }
            Some("logprobs" | "top_logprobs") if caps.logprobs => {
                caps.logprobs = false;
                caps.top_logprobs = 0;
            }
            Some("seed") if caps.seed != SeedSupport::Refused => caps.seed = SeedSupport::Refused,
            Some("n") if caps.n == NSupport::Honoured => caps.n = NSupport::Refused,
            _ => return Err(err.context(format!("capability probe of `{model}`"))),
        }
        refused += 1;
    };
    let choices = resp.choices.unwrap_or_default();
    if caps.n == NSupport::Honoured && choices.len() < 2 {
        caps.n = NSupport::Ignored;
    }
    let first = choices.first().and_then(|c| c.logprobs.as_ref());
    let tokens = first
        .and_then(|l| l.content.as_ref())
        .filter(|t| !t.is_empty());
    caps.logprobs = caps.logprobs && tokens.is_some();
    caps.top_logprobs = tokens
        .and_then(|t| t[0].top_logprobs.as_ref())
        .map_or(0, |a| a.len() as u32);
    if caps.seed != SeedSupport::Refused {
        let seeded = SamplingParams {
            max_tokens: 16,
            top_logprobs: None,
            ..params
        };
        let default = [Message::user("Write five random words.")];
        let ask = question.unwrap_or(&default);
        let body = chat_body(model, ask, &seeded, &caps, 1, seeded.seed);
        let call = chat_call(&body, ask, seeded.max_tokens, 1);
        let (a, _) = chat(http, &call, 1, false).await.context("seed probe")?;
        let (b, _) = chat(http, &call, 1, false).await.context("seed probe")?;
        caps.seed = if a[0].text == b[0].text {
            SeedSupport::Reproducible
        } else {
            SeedSupport::NotReproducible
        };
    }
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> SamplingParams {
        SamplingParams {
            temperature: 0.7,
            top_p: Some(0.9),
            max_tokens: 50,
            top_logprobs: Some(5),
            seed: Some(3),
        }
    }

    #[test]
    fn body_carries_every_honoured_parameter() {
        let m = [Message::user("hi")];
        let b = chat_body("gpt-4.1", &m, &params(), &Capabilities::full(), 4, Some(3));
        assert_eq!(
            b,
            json!({"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}],
                   "temperature":0.7,"top_p":0.9,"max_tokens":50,"n":4,"seed":3,
                   "logprobs":true,"top_logprobs":5})
        );
        let caps = Capabilities {
            n: NSupport::Refused,
            logprobs: false,
            top_logprobs: 0,
            seed: SeedSupport::Refused,
            max_tokens_field: MaxTokensField::MaxCompletionTokens,
        };
        let b = chat_body("o3", &m, &params(), &caps, 1, Some(3));
        assert_eq!(
            b,
            json!({"model":"o3","messages":[{"role":"user","content":"hi"}],
                   "temperature":0.7,"top_p":0.9,"max_completion_tokens":50})
        );
    }

    #[test]
    fn guesses_reasoning_models() {
        assert_eq!(guess_max_tokens_field("gpt-4.1"), MaxTokensField::MaxTokens);
        assert_eq!(
            guess_max_tokens_field("o3-mini"),
            MaxTokensField::MaxCompletionTokens
        );
        assert_eq!(
            guess_max_tokens_field("gpt-5"),
            MaxTokensField::MaxCompletionTokens
        );
        assert_eq!(
            guess_max_tokens_field("ft:o4-mini:org::x"),
            MaxTokensField::MaxCompletionTokens
        );
    }

    #[test]
    fn completions_split_usage_and_order_choices() {
        let resp: ChatResponse = serde_json::from_value(json!({
            "choices": [
                {"index": 1, "message": {"content": "b"}, "finish_reason": "stop"},
                {"index": 0, "message": {"content": "a"}, "finish_reason": "length",
                 "logprobs": {"content": [{"token": "a", "logprob": -0.1,
                    "top_logprobs": [{"token": "a", "logprob": -0.1}, {"token": "b", "logprob": -2.5}]}]}},
                {"index": 2, "message": {"content": null, "refusal": "no"}}
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 7}
        }))
        .unwrap();
        let c = completions(resp, 3, true).unwrap();
        assert_eq!(
            c.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
            ["a", "b", "no"]
        );
        assert_eq!(
            c.iter().map(|c| c.usage).collect::<Vec<_>>(),
            [
                Usage {
                    input_tokens: 4,
                    output_tokens: 3
                },
                Usage {
                    input_tokens: 3,
                    output_tokens: 2
                },
                Usage {
                    input_tokens: 3,
                    output_tokens: 2
                }
            ]
        );
        let lp = c[0].logprobs.as_ref().unwrap();
        assert_eq!(
            lp[0].top,
            vec![("a".to_string(), -0.1), ("b".to_string(), -2.5)]
        );
        assert_eq!(c[1].logprobs, None);
        assert_eq!(c[0].finish_reason.as_deref(), Some("length"));
    }

    #[test]
    fn short_or_broken_answers_are_errors() {
        let parse = |v: Value, n| completions(serde_json::from_value(v).unwrap(), n, false);
        let one = json!({"choices": [{"message": {"content": "a"}}]});
        assert!(
            parse(one.clone(), 2)
                .unwrap_err()
                .contains("asked for 2 choices, got 1")
        );
        assert!(parse(json!({}), 1).unwrap_err().contains("no `choices`"));
        assert!(
            parse(json!({"error": {"message": "overloaded"}}), 1)
                .unwrap_err()
                .contains("overloaded")
        );
        assert!(
            parse(json!({"choices": [{"index": 0}]}), 1)
                .unwrap_err()
                .contains("no `message`")
        );
        let dup = json!({"choices": [{"index": 0, "message": {}}, {"index": 0, "message": {}}]});
        assert!(parse(dup, 2).unwrap_err().contains("repeated"));
    }

    #[test]
    fn reads_which_field_a_server_objects_to() {
        let e = |param: Option<&str>, message: &str| ApiError {
            request: String::new(),
            status: Some(400),
            message: message.into(),
            param: param.map(str::to_string),
            code: None,
        };
        let unsupported = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";
        assert_eq!(
            objection(&e(Some("max_tokens"), unsupported)),
            Some("max_tokens")
        );
        assert_eq!(objection(&e(None, unsupported)), Some("max_tokens"));
        assert_eq!(
            objection(&e(None, "Only one completion choice is allowed")),
            Some("n")
        );
        assert_eq!(objection(&e(Some("n"), "bad")), Some("n"));
        assert_eq!(
            objection(&e(None, "logprobs are not supported")),
            Some("logprobs")
        );
        assert_eq!(objection(&e(None, "model not found")), None);
    }
}
