//! The OpenAI API's JSON, read leniently: every field optional, unknown fields ignored,
//! statuses kept as the provider's words.

use serde::Deserialize;
use serde_json::{Map, Value};

/// `POST /chat/completions` answer.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatResponse {
    pub choices: Option<Vec<Choice>>,
    pub usage: Option<WireUsage>,
    /// Some servers answer 200 with an error object.
    pub error: Option<Value>,
    /// `weirdgen serve`: how many words of the prompt the model does not know.
    pub unknown_words: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    pub index: Option<u32>,
    pub message: Option<ChoiceMessage>,
    pub finish_reason: Option<String>,
    pub logprobs: Option<ChoiceLogprobs>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChoiceMessage {
    pub content: Option<String>,
    pub refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChoiceLogprobs {
    pub content: Option<Vec<WireTokenLogprob>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireTokenLogprob {
    pub token: Option<String>,
    pub logprob: Option<f64>,
    pub top_logprobs: Option<Vec<WireTopLogprob>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireTopLogprob {
    pub token: Option<String>,
    pub logprob: Option<f64>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
}

/// A `/files` object.
#[derive(Debug, Deserialize)]
pub(crate) struct FileObject {
    pub id: String,
    pub filename: Option<String>,
    pub bytes: Option<u64>,
    pub status: Option<String>,
}

/// A page of a list endpoint.
#[derive(Debug, Deserialize)]
pub(crate) struct List<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    pub has_more: Option<bool>,
}

/// A fine-tuning job.
#[derive(Debug, Deserialize)]
pub(crate) struct Job {
    pub id: String,
    pub status: Option<String>,
    pub fine_tuned_model: Option<String>,
    pub error: Option<Value>,
    pub metadata: Option<Map<String, Value>>,
}

/// A fine-tuning job event.
#[derive(Debug, Deserialize)]
pub(crate) struct JobEvent {
    pub message: Option<String>,
    pub created_at: Option<i64>,
}

/// A batch.
#[derive(Debug, Deserialize)]
pub(crate) struct Batch {
    pub id: String,
    pub status: Option<String>,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
    pub request_counts: Option<RequestCounts>,
    pub errors: Option<Value>,
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct RequestCounts {
    pub total: Option<u64>,
    pub completed: Option<u64>,
    pub failed: Option<u64>,
}

/// One line of a batch's output or error file.
#[derive(Debug, Deserialize)]
pub(crate) struct BatchOutputLine {
    pub custom_id: Option<String>,
    pub response: Option<BatchLineResponse>,
    pub error: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BatchLineResponse {
    pub status_code: Option<u16>,
    pub body: Option<Value>,
}

/// A provider's error object as text: `message (code)`, or the JSON itself.
pub(crate) fn error_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let message = o.get("message").and_then(Value::as_str);
            let code = o.get("code").and_then(Value::as_str);
            match (message, code) {
                (Some(m), Some(c)) => format!("{m} ({c})"),
                (Some(m), None) => m.to_string(),
                _ => v.to_string(),
            }
        }
        other => other.to_string(),
    }
}
