//! Chat messages: the vocabulary shared by suites, models and judges.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One chat message, as in the OpenAI chat format.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

/// A fine-tuning dataset: named conversations with a content hash over the normalised messages.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSet {
    /// The dataset's name in its suite.
    pub name: String,
    /// blake3 hex of the normalised conversations (see [`TrainingSet::new`]).
    pub hash: String,
    pub conversations: Vec<Vec<Message>>,
    /// The file's exact text, when the set is a file used byte for byte (what is uploaded).
    pub verbatim: Option<String>,
}

impl TrainingSet {
    /// Builds a training set and hashes it: one canonical JSON line per conversation
    /// (`{"messages":[{"role":..,"content":..}]}` with contents trimmed of trailing
    /// whitespace), joined by newlines.
    pub fn new(name: impl Into<String>, conversations: Vec<Vec<Message>>) -> Self {
        let conversations: Vec<Vec<Message>> = conversations
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|m| Message::new(m.role, m.content.trim_end()))
                    .collect()
            })
            .collect();
        let hash = blake3::hash(Self::jsonl_of(&conversations).as_bytes())
            .to_hex()
            .to_string();
        TrainingSet {
            name: name.into(),
            hash,
            conversations,
            verbatim: None,
        }
    }

    /// A training set that is the file `text`, uploaded byte for byte; its hash is the
    /// blake3 of those bytes. `conversations` are the file's, parsed.
    pub fn verbatim(
        name: impl Into<String>,
        text: String,
        conversations: Vec<Vec<Message>>,
    ) -> Self {
        TrainingSet {
            name: name.into(),
            hash: blake3::hash(text.as_bytes()).to_hex().to_string(),
            conversations,
            verbatim: Some(text),
        }
    }

    /// The OpenAI chat fine-tuning format: one `{"messages":[...]}` object per line.
    pub fn to_jsonl(&self) -> String {
        match &self.verbatim {
            Some(text) => text.clone(),
            None => Self::jsonl_of(&self.conversations),
        }
    }

    fn jsonl_of(conversations: &[Vec<Message>]) -> String {
        let mut out = String::new();
        for c in conversations {
            let line = serde_json::json!({ "messages": c });
            out.push_str(&line.to_string());
            out.push('\n');
        }
        out
    }
}
